/* The http plugin's descriptor tables, and what its triggers share. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Shared by the webhook and poll triggers (http.h). */
struct json_object *http_json_path(struct json_object *root, const char *path)
{
    struct json_object *cur = root;
    const char *p = path ? path : "";
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        struct json_object *next = NULL;
        if (json_object_is_type(cur, json_type_array)) {
            char *e;
            long idx = strtol(key, &e, 10);
            next = (*e || idx < 0) ? NULL : json_object_array_get_idx(cur, (size_t)idx);
        } else if (!json_object_object_get_ex(cur, key, &next)) {
            next = NULL;
        }
        cur = next;
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive a webhook at /hooks/<path>, verified by token, HMAC or Standard "
                   "Webhooks",
        .output = "the request body: parsed JSON (also a JSON object or array sent as a form, "
                  "as curl -d does), form fields as nested JSON (a[b]=c becomes "
                  "{\"a\":{\"b\":\"c\"}}), or {\"text\": ...} for text/*; trigger.headers "
                  "and trigger.query hold the rest",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST | SB_METHOD_PUT,
        .params = http_webhook_params,
        .validate = http_webhook_validate,
        .setup = http_webhook_setup,
        .teardown = http_webhook_teardown,
        .receive = http_webhook_receive,
    },
    {
        .name = "poll",
        .summary = "Fetch a URL every interval; each new item of the response is an event "
                   "(deduplicated by id)",
        .output = "one item of the response array as it was sent",
        .kind = SB_TRIGGER_POLL,
        .params = http_poll_params,
        .validate = http_poll_validate,
        .poll = http_poll_poll,
        .poll_interval_ms = 60000,
    },
    SB_END,
};

static const struct sb_action actions[] = {
    {
        .name = "request",
        .summary = "Send an HTTP request; 2xx succeeds, 408/429/5xx and network errors retry, "
                   "other 4xx fail",
        .output = "status (int), headers (object, lower-case names), body (parsed JSON when "
                  "the response is JSON, else text)",
        .params = http_request_params,
        .validate = http_request_validate,
        .run = http_request_run,
    },
    {
        .name = "send_webhook",
        .summary = "POST a Standard Webhooks signed request (webhook-id, webhook-timestamp, "
                   "webhook-signature v1)",
        .output = "status, headers and body of the receiver's answer, and id (the webhook-id "
                  "sent)",
        .params = http_send_webhook_params,
        .validate = http_send_webhook_validate,
        .run = http_send_webhook_run,
    },
    SB_END,
};

static const struct sb_plugin http_plugin = {
    .name = "http",
    .version = "1.0.0",
    .summary = "Generic HTTP: webhooks in (token, HMAC, Standard Webhooks), requests and "
               "signed webhooks out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(http_plugin)
