/* The http plugin's descriptor tables, and what its triggers share. */
#include "http.h"

/* Shared by the webhook and poll triggers (http.h): the host's lookup
 * (the template dialect), NULL when the path is missing or JSON null. */
struct json_object *http_json_path(const struct sb_host *sb, struct json_object *root,
                                   const char *path)
{
    struct json_object *v = NULL;
    return sb->json_path(root, path, &v) == 0 ? v : NULL;
}

enum sb_status http_check_path(const struct sb_host *sb, struct sb_call *call, const char *param)
{
    const char *path = sb->param_string(call, param);
    struct json_object *v;
    if (!path || sb->json_path(NULL, path, &v) != -2)
        return SB_OK;
    sb->config_error(call, param,
                     "'%s' is not a path: write names joined by dots and indexes as [0] "
                     "(data.items[0].id); quote other keys: data[\"a key\"]",
                     path);
    return SB_FAIL;
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
        .sign = http_webhook_sign,
        .sign_params = http_webhook_sign_params,
        .sign_aliases = http_webhook_sign_aliases,
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
