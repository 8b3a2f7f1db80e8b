/*
 * stripe.events: the catch-up path for webhooks that never arrived. Every
 * interval it lists GET /v1/events newer than the last event it has seen
 * (paging with ending_before), oldest first, and emits each one with the
 * same dedupe key as stripe.webhook (source "stripe", the event id): an
 * event that arrived by webhook is a duplicate here and runs once. The first
 * poll only records where the list stands, unless emit_existing = true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stripe.h"

#define PAGE_LIMIT "100"
#define MAX_PAGES 20

const struct sb_param stripe_events_params[] = {
    {.name = "api_key",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "a secret or restricted key that may read events (rk_... with events:read)"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = STRIPE_API_BASE,
     .help = "Stripe's API (a stand-in in tests)"},
    {.name = "stripe_version", .type = SB_PARAM_STRING, .help = "sent as Stripe-Version"},
    {.name = "interval",
     .type = SB_PARAM_DURATION,
     .def = "5m",
     .min = 1000,
     .max = 86400000,
     .help = "time between polls of /v1/events (Stripe lists the last 30 days)"},
    {.name = "emit_existing",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "fire for the events listed by the very first poll (default: start from now)"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these event types start this workflow (globs such as invoice.*)"},
    SB_END,
};

/* GET api_base/v1/events?limit=100[&ending_before=cursor]; the parsed
 * answer (caller puts it) or NULL with the step result in *st. */
static struct json_object *list_page(const struct sb_host *sb, struct sb_call *call,
                                     const char *cursor, enum sb_status *st)
{
    const char *base = sb->param_string(call, "api_base");
    const char *key = sb->param_string(call, "api_key");
    char url[1024], auth[512], enc[256];
    if (cursor) {
        sb->url_encode(cursor, strlen(cursor), enc, sizeof(enc));
        snprintf(url, sizeof(url), "%s/v1/events?limit=" PAGE_LIMIT "&ending_before=%s", base, enc);
    } else {
        snprintf(url, sizeof(url), "%s/v1/events?limit=" PAGE_LIMIT, base);
    }
    snprintf(auth, sizeof(auth), "Bearer %s", key ? key : "");
    struct sb_header headers[2] = {{"Authorization", auth}, {NULL, NULL}};
    size_t nh = 1;
    const char *version = sb->param_string(call, "stripe_version");
    if (version)
        headers[nh++] = (struct sb_header){"Stripe-Version", version};
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.n_headers = nh;
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    struct json_object *doc = NULL;
    if (rc == SB_HTTP_DRY_RUN) {
        *st = SB_OK;
    } else if (rc != SB_HTTP_SENT) {
        *st = sb->retry(call, -1, "GET /v1/events: %s", resp.error);
    } else if (resp.status != 200) {
        struct json_object *err = json_tokener_parse(resp.body), *e, *m;
        const char *msg = err && json_object_object_get_ex(err, "error", &e) &&
                                  json_object_object_get_ex(e, "message", &m)
                              ? json_object_get_string(m)
                              : "";
        *st = sb->retry(call, resp.retry_after_s, "GET /v1/events: HTTP %ld %s", resp.status, msg);
        json_object_put(err);
    } else {
        doc = json_tokener_parse(resp.body);
        *st = doc ? SB_OK : sb->retry(call, -1, "GET /v1/events: the answer is not JSON");
    }
    sb->http_release(&resp);
    return doc;
}

enum sb_status stripe_events_poll(const struct sb_host *sb, struct sb_call *call)
{
    char *cursor = NULL;
    if (sb->kv_get(call, "cursor", &cursor) < 0)
        return sb->retry(call, -1, "the store is unavailable");
    bool first = cursor == NULL;
    bool fire_existing = sb->param_bool(call, "emit_existing", false);
    enum sb_status st = SB_OK;
    char newest[256] = "";
    size_t emitted = 0;
    /* pages newer than the cursor; each page is newest first */
    for (int page = 0; page < MAX_PAGES && st == SB_OK; page++) {
        struct json_object *doc = list_page(sb, call, cursor, &st);
        if (!doc)
            break;
        struct json_object *data = NULL, *more = NULL;
        json_object_object_get_ex(doc, "data", &data);
        json_object_object_get_ex(doc, "has_more", &more);
        size_t n =
            data && json_object_is_type(data, json_type_array) ? json_object_array_length(data) : 0;
        if (n) {
            /* each page is newer than the one before: its top is the newest */
            struct json_object *top = json_object_array_get_idx(data, 0), *id;
            if (json_object_object_get_ex(top, "id", &id))
                snprintf(newest, sizeof(newest), "%s", json_object_get_string(id));
        }
        /* oldest first, so runs start in the order things happened */
        for (size_t i = n; i-- > 0 && st == SB_OK;) {
            struct json_object *ev = json_object_array_get_idx(data, i), *id, *type, *created;
            if (!json_object_object_get_ex(ev, "id", &id))
                continue;
            struct sb_event e = SB_EVENT_INIT;
            e.id = json_object_get_string(id);
            e.type =
                json_object_object_get_ex(ev, "type", &type) ? json_object_get_string(type) : "";
            e.source = "stripe"; /* the webhook's key: an event comes once */
            if (json_object_object_get_ex(ev, "created", &created))
                e.occurred_at_ms = json_object_get_int64(created) * 1000;
            e.payload = json_object_get(ev);
            e.record_only = first && !fire_existing;
            st = sb->emit(call, &e);
            emitted++;
        }
        /* with a cursor, page towards the newest; without one, only the
         * first page matters (it holds the newest events) */
        bool again = cursor && more && json_object_get_boolean(more) && n;
        char next[256] = "";
        if (again) {
            struct json_object *top = json_object_array_get_idx(data, 0), *id;
            if (json_object_object_get_ex(top, "id", &id))
                snprintf(next, sizeof(next), "%s", json_object_get_string(id));
        }
        json_object_put(doc);
        if (!again || !next[0])
            break;
        sb->free(cursor);
        cursor = strdup(next);
        if (!cursor)
            return sb->fail(call, "out of memory");
    }
    sb->free(cursor);
    if (st == SB_OK && newest[0] && sb->kv_set(call, "cursor", newest) < 0)
        st = sb->retry(call, -1, "the store is unavailable");
    if (st == SB_OK && first)
        sb->log(call, SB_LOG_INFO, "first poll: %zu event(s) recorded%s; following from %s",
                emitted, fire_existing ? " and fired" : " without firing",
                newest[0] ? newest : "the next one");
    return st;
}
