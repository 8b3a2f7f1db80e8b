#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "crypto.h"
#include "dispatcher.h"
#include "engine.h"
#include "params.h"
#include "redact.h"
#include "store.h"
#include "textsafe.h"
#include "xalloc.h"

static char *error_body(const char *msg)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(msg));
    char *s = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* The answer's text (o is consumed): secrets masked (a second line of
 * defence: outputs were masked before they were stored) and control bytes
 * escaped, so the answer is valid UTF-8 JSON a dashboard can show as is. */
static char *json_body(struct json_object *o)
{
    o = redact_json(o, NULL);
    struct strbuf sb = STRBUF_INIT;
    const char *text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    textsafe_append(&sb, text, strlen(text), TEXTSAFE_JSON);
    strbuf_addch(&sb, '\n');
    json_object_put(o);
    return strbuf_detach(&sb, NULL);
}

/* Compare the bearer token with the configured one in constant time (over
 * digests, so the length does not leak either). */
static bool authorized(const char *want, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    unsigned char a[SB_HASH_MAX_SIZE], b[SB_HASH_MAX_SIZE];
    struct sb_bytes pa = {auth + 7, strlen(auth + 7)}, pb = {want, strlen(want)};
    crypto_digest(SB_HASH_SHA256, &pa, 1, a);
    crypto_digest(SB_HASH_SHA256, &pb, 1, b);
    return crypto_ct_equal(a, b, 32);
}

static struct json_object *summary_json(const struct run_summary *r)
{
    char updated[40];
    engine_iso8601(r->updated_at_ms, updated, sizeof(updated));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(r->id));
    json_object_object_add(o, "workflow", json_object_new_string(r->workflow));
    json_object_object_add(o, "status", json_object_new_string(r->status));
    json_object_object_add(o, "attempts", json_object_new_int(r->attempts));
    json_object_object_add(o, "event", json_object_new_string(r->event_id));
    json_object_object_add(o, "type", json_object_new_string(r->type));
    json_object_object_add(o, "updated_at", json_object_new_string(updated));
    json_object_object_add(o, "error", r->error ? json_object_new_string(r->error) : NULL);
    return o;
}

void admin_handle(struct engine *e, const char *method, const char *url, const char *auth,
                  admin_query_fn query, void *query_ctx, int *status, char **body)
{
    const char *token = e->app->cfg.admin_token;
    if (!token) {
        *status = 404;
        *body = error_body("the admin API is off; set [server] admin_token to turn it on");
        return;
    }
    if (!authorized(token, auth)) {
        *status = 401;
        *body = error_body("missing or wrong bearer token");
        return;
    }
    const char *rest = url + strlen("/admin/");
    struct run_filter f = {0};
    f.status = query(query_ctx, "status");
    f.workflow = query(query_ctx, "workflow");
    const char *limit = query(query_ctx, "limit");
    int64_t n;
    if (limit && parse_int64(limit, &n) == 0 && n > 0)
        f.limit = (size_t)n;
    const char *since = query(query_ctx, "since");
    if (since && parse_int64(since, &n) == 0)
        f.since_ms = n;

    if (strcmp(rest, "runs") == 0 && strcmp(method, "GET") == 0) {
        struct run_summary *runs = NULL;
        size_t count = 0;
        if (store_list_runs(e->store, &f, &runs, &count) < 0) {
            *status = 503;
            *body = error_body("store unavailable");
            return;
        }
        struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < count; i++)
            json_object_array_add(arr, summary_json(&runs[i]));
        store_runs_free(runs, count);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "runs", arr);
        *status = 200;
        *body = json_body(o);
        return;
    }
    if (strcmp(rest, "replay") == 0 && strcmp(method, "POST") == 0) {
        size_t count = 0;
        if (store_replay(e->store, 0, &f, engine_now_ms(), &count) < 0) {
            *status = 503;
            *body = error_body("store unavailable");
            return;
        }
        if (count)
            dispatcher_notify(e->dispatcher);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "replayed", json_object_new_int64((int64_t)count));
        *status = 200;
        *body = json_body(o);
        return;
    }
    if (strncmp(rest, "runs/", 5) == 0) {
        char *end;
        long long id = strtoll(rest + 5, &end, 10);
        if (end != rest + 5 && *end == '\0' && strcmp(method, "GET") == 0) {
            struct json_object *o = store_show_run(e->store, id);
            *status = o ? 200 : 404;
            *body = o ? json_body(o) : error_body("no such run");
            return;
        }
        if (end != rest + 5 && strcmp(end, "/replay") == 0 && strcmp(method, "POST") == 0) {
            size_t count = 0;
            if (store_replay(e->store, id, NULL, engine_now_ms(), &count) < 0) {
                *status = 503;
                *body = error_body("store unavailable");
                return;
            }
            if (count)
                dispatcher_notify(e->dispatcher);
            *status = count ? 200 : 409;
            *body = count ? xstrdup("{\"replayed\": 1}\n")
                          : error_body("no dead or failed run with that id");
            return;
        }
    }
    *status = 404;
    *body = error_body("no such admin route");
}
