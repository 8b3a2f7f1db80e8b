/*
 * slack_checks: what Slack checks on the routes the slack connector calls,
 * and a small fake Slack built on them (see slack_checks.h). Facts from
 * connectors.md §2.3-2.4: Web API answers are HTTP 200 with "ok"; JSON
 * needs a bearer token; a JSON content type without charset is accepted
 * with a missing_charset warning; incoming webhooks answer "ok" or a
 * plain-text error code with an HTTP status.
 */
#include "slack_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

/* --- small helpers (test code: out of memory aborts) ----------------------- */

static void *sc_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fputs("slack_checks: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *sc_strdup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = sc_alloc(n);
    memcpy(d, s ? s : "", n);
    return d;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Case-insensitive substring search. */
static bool contains_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; s && *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return true;
    return false;
}

/* A JSON object from the whole body, or NULL. Caller owns. */
static struct json_object *parse_body(const struct standin_request *req)
{
    if (!req->body || !req->body_len)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *v = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
    bool ok = v && json_tokener_get_error(tok) == json_tokener_success &&
              (size_t)json_tokener_get_parse_end(tok) == req->body_len &&
              json_object_is_type(v, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

static const char *get_string(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool has_key(struct json_object *o, const char *key)
{
    return o && json_object_object_get_ex(o, key, NULL);
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* The message content every route needs: text (a string) or blocks (an
 * array). NULL when fine, else Slack's error code. */
static const char *check_content(struct json_object *body)
{
    struct json_object *blocks = NULL, *text = NULL;
    bool has_blocks = json_object_object_get_ex(body, "blocks", &blocks);
    bool has_text = json_object_object_get_ex(body, "text", &text);
    if (has_blocks && !json_object_is_type(blocks, json_type_array))
        return "invalid_blocks_format";
    if (has_text && !json_object_is_type(text, json_type_string))
        return "invalid_arguments";
    bool some_text = has_text && json_object_get_string_len(text) > 0;
    bool some_blocks = has_blocks && json_object_array_length(blocks) > 0;
    return some_text || some_blocks ? NULL : "no_text";
}

/* --- the Web API ---------------------------------------------------------------- */

/* Arguments each method takes (docs.slack.dev method pages). Slack itself
 * ignores some unknown arguments; refusing them here catches misspelt
 * fields in the connector. */
static const char *const post_message_args[] = {
    "channel",      "text",         "blocks",  "attachments", "thread_ts",  "reply_broadcast",
    "unfurl_links", "unfurl_media", "mrkdwn",  "parse",       "link_names", "icon_emoji",
    "icon_url",     "username",     "as_user", "metadata",    NULL,
};
static const char *const update_args[] = {
    "channel",    "ts",      "text",     "blocks",          "attachments", "parse",
    "link_names", "as_user", "file_ids", "reply_broadcast", "metadata",    NULL,
};
static const char *const bool_args[] = {"unfurl_links", "unfurl_media", "mrkdwn", "reply_broadcast",
                                        "link_names",   "as_user",      NULL};

struct web_call {
    bool update; /* chat.update, else chat.postMessage */
    bool missing_charset;
    struct json_object *body; /* owned */
};

/* Check a Web API request. NULL when Slack would accept it (w->body is then
 * the parsed body, caller releases), else the error code. */
static const char *check_web_call(const struct standin_request *req, struct web_call *w)
{
    memset(w, 0, sizeof(*w));
    const char *slash = strrchr(req->path, '/');
    const char *method = slash ? slash + 1 : req->path;
    if (strcmp(method, "chat.update") == 0)
        w->update = true;
    else if (strcmp(method, "chat.postMessage") != 0)
        return "unknown_method";
    const char *auth = standin_header(req, "Authorization");
    if (!auth || !*auth)
        return "not_authed";
    if (!starts_with_ci(auth, "Bearer ") ||
        (strncmp(auth + 7, "xoxb-", 5) != 0 && strncmp(auth + 7, "xoxp-", 5) != 0) ||
        strlen(auth + 7) <= 5)
        return "invalid_auth";
    const char *ct = standin_header(req, "Content-Type");
    if (!starts_with_ci(ct, "application/json"))
        return "invalid_form_data";
    w->missing_charset = !contains_ci(ct, "charset=utf-8");
    w->body = parse_body(req);
    if (!w->body)
        return "invalid_json";
    const char *const *allowed = w->update ? update_args : post_message_args;
    const char *err = NULL;
    json_object_object_foreach(w->body, key, val)
    {
        if (!in_list(key, allowed))
            err = "invalid_arguments";
        else if (in_list(key, bool_args) && !json_object_is_type(val, json_type_boolean))
            err = "invalid_arguments";
    }
    const char *channel = get_string(w->body, "channel");
    if (!err && (!channel || !*channel))
        err = "channel_not_found";
    if (!err && w->update) {
        const char *ts = get_string(w->body, "ts");
        if (!ts || !*ts)
            err = "message_not_found";
    }
    if (!err && has_key(w->body, "thread_ts") && !get_string(w->body, "thread_ts"))
        err = "invalid_arguments";
    if (!err)
        err = check_content(w->body);
    if (err) {
        json_object_put(w->body);
        w->body = NULL;
    }
    return err;
}

/* HTTP 200 {"ok": false, "error": code} into reply (text in buf). */
static void web_error(struct standin_reply *reply, char *buf, size_t buflen, const char *code)
{
    snprintf(buf, buflen, "{\"ok\":false,\"error\":\"%s\"}", code);
    *reply = (struct standin_reply){200, "application/json; charset=utf-8", buf, NULL, 0};
}

bool slack_check_web_api(void *arg, const struct standin_request *req, struct standin_reply *reply,
                         char *buf, size_t buflen)
{
    (void)arg;
    struct web_call w;
    const char *err = check_web_call(req, &w);
    json_object_put(w.body);
    if (!err)
        return true;
    web_error(reply, buf, buflen, err);
    return false;
}

/* --- incoming webhooks and response_url ------------------------------------------ */

/* Check a webhook-style request. NULL when fine (with *body, caller
 * releases), else the code and *status. */
static const char *check_hook_call(const struct standin_request *req, bool response_url,
                                   int *status, struct json_object **body)
{
    static const char *const types[] = {"ephemeral", "in_channel", NULL};
    *body = NULL;
    *status = 400;
    const char *ct = standin_header(req, "Content-Type");
    /* both also take a form with payload=..., which the connector never sends */
    if (!starts_with_ci(ct, "application/json"))
        return "invalid_payload";
    struct json_object *b = parse_body(req);
    if (!b)
        return "invalid_payload";
    const char *err = check_content(b);
    if (!err && response_url && has_key(b, "response_type")) {
        const char *t = get_string(b, "response_type");
        if (!t || !in_list(t, types))
            err = "invalid_response_type";
    }
    if (!err && response_url && has_key(b, "replace_original")) {
        struct json_object *v = NULL;
        json_object_object_get_ex(b, "replace_original", &v);
        if (!json_object_is_type(v, json_type_boolean))
            err = "invalid_arguments";
    }
    if (err) {
        json_object_put(b);
        return err;
    }
    *body = b;
    return NULL;
}

bool slack_check_incoming_webhook(void *arg, const struct standin_request *req,
                                  struct standin_reply *reply, char *buf, size_t buflen)
{
    (void)arg;
    int status;
    struct json_object *body;
    const char *err = check_hook_call(req, false, &status, &body);
    json_object_put(body);
    if (!err)
        return true;
    snprintf(buf, buflen, "%s", err);
    *reply = (struct standin_reply){status, "text/plain", buf, NULL, 0};
    return false;
}

bool slack_check_response_url(void *arg, const struct standin_request *req,
                              struct standin_reply *reply, char *buf, size_t buflen)
{
    (void)arg;
    int status;
    struct json_object *body;
    const char *err = check_hook_call(req, true, &status, &body);
    json_object_put(body);
    if (!err)
        return true;
    snprintf(buf, buflen, "{\"ok\":false,\"error\":\"%s\"}", err);
    *reply = (struct standin_reply){status, "application/json", buf, NULL, 0};
    return false;
}

/* --- the fake Slack -------------------------------------------------------------- */

struct fault {
    int status;
    char *content_type;
    char *body;
    char *headers;
    struct fault *next;
};

struct route_state {
    struct slack_api *api;
    enum slack_route kind;
    struct fault *head, *tail;
    struct slack_message *msgs;
    size_t n, cap;
    size_t refused;
};

struct bucket {
    char *channel;
    double tokens;
    int64_t at_ms;
};

struct slack_api {
    struct standin *s;
    pthread_mutex_t lock;
    pthread_cond_t accepted;
    struct route_state routes[SLACK_N_ROUTES];
    long long next_ts;
    int64_t rate_per_ms;
    int rate_burst;
    struct bucket *buckets;
    size_t n_buckets;
    size_t over_rate;
};

static const char *const route_paths[SLACK_N_ROUTES] = {
    "/api/chat.postMessage",
    "/api/chat.update",
    "/services/*",
    "/commands/*",
};

static void fault_free(struct fault *f)
{
    if (!f)
        return;
    free(f->content_type);
    free(f->body);
    free(f->headers);
    free(f);
}

static void push_fault(struct slack_api *api, enum slack_route route, struct fault *f)
{
    pthread_mutex_lock(&api->lock);
    struct route_state *r = &api->routes[route];
    if (r->tail)
        r->tail->next = f;
    else
        r->head = f;
    r->tail = f;
    pthread_mutex_unlock(&api->lock);
}

void slack_api_fail_next(struct slack_api *api, enum slack_route route, const char *code)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"%s\"}", code);
    struct fault *f = sc_alloc(sizeof(*f));
    f->status = route == SLACK_RESPONSE_URL ? 404 : 200;
    f->content_type = sc_strdup("application/json; charset=utf-8");
    f->body = sc_strdup(body);
    push_fault(api, route, f);
}

void slack_api_fail_http(struct slack_api *api, enum slack_route route, int status,
                         const char *content_type, const char *body)
{
    struct fault *f = sc_alloc(sizeof(*f));
    f->status = status;
    f->content_type = sc_strdup(content_type ? content_type : "text/plain");
    f->body = sc_strdup(body);
    push_fault(api, route, f);
}

void slack_api_rate_limit_next(struct slack_api *api, enum slack_route route, int seconds)
{
    struct fault *f = sc_alloc(sizeof(*f));
    f->status = 429;
    if (route == SLACK_WEBHOOK) {
        f->content_type = sc_strdup("text/plain");
        f->body = sc_strdup("rate_limited");
    } else {
        f->content_type = sc_strdup("application/json; charset=utf-8");
        f->body = sc_strdup("{\"ok\":false,\"error\":\"ratelimited\"}");
    }
    if (seconds >= 0) {
        char h[64];
        snprintf(h, sizeof(h), "Retry-After: %d\n", seconds);
        f->headers = sc_strdup(h);
    }
    push_fault(api, route, f);
}

void slack_api_enforce_rate(struct slack_api *api, int64_t per_ms, int burst)
{
    pthread_mutex_lock(&api->lock);
    api->rate_per_ms = per_ms;
    api->rate_burst = burst > 0 ? burst : 1;
    for (size_t i = 0; i < api->n_buckets; i++)
        free(api->buckets[i].channel);
    free(api->buckets);
    api->buckets = NULL;
    api->n_buckets = 0;
    pthread_mutex_unlock(&api->lock);
}

/* Take a message from the channel's bucket; false when over the rate.
 * Called with the lock held. */
static bool take_token(struct slack_api *api, const char *channel, int64_t now)
{
    if (api->rate_per_ms <= 0)
        return true;
    struct bucket *b = NULL;
    for (size_t i = 0; i < api->n_buckets && !b; i++)
        if (strcmp(api->buckets[i].channel, channel) == 0)
            b = &api->buckets[i];
    if (!b) {
        struct bucket *grown = realloc(api->buckets, (api->n_buckets + 1) * sizeof(*grown));
        if (!grown)
            abort();
        api->buckets = grown;
        b = &api->buckets[api->n_buckets++];
        b->channel = sc_strdup(channel);
        b->tokens = api->rate_burst;
        b->at_ms = now;
    }
    if (now > b->at_ms) {
        b->tokens += (double)(now - b->at_ms) / (double)api->rate_per_ms;
        if (b->tokens > api->rate_burst)
            b->tokens = api->rate_burst;
        b->at_ms = now;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

/* Copy a fault into buf (body, then content type, then headers: the
 * reply's strings must outlive the fault, which is freed next). */
static void answer_fault(const struct fault *f, struct standin_reply *reply, char *buf,
                         size_t buflen)
{
    const char *parts[3] = {f->body ? f->body : "", f->content_type ? f->content_type : "",
                            f->headers ? f->headers : ""};
    const char *copies[3] = {"", "", ""};
    size_t used = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (used + n + 1 > buflen)
            break;
        memcpy(buf + used, parts[i], n + 1);
        copies[i] = buf + used;
        used += n + 1;
    }
    *reply = (struct standin_reply){f->status, copies[1][0] ? copies[1] : NULL, copies[0],
                                    copies[2][0] ? copies[2] : NULL, 0};
}

static void record(struct route_state *r, const struct standin_request *req, const char *channel,
                   const char *text, const char *ts)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct slack_message *grown = realloc(r->msgs, cap * sizeof(*grown));
        if (!grown)
            abort();
        r->msgs = grown;
        r->cap = cap;
    }
    const char *auth = standin_header(req, "Authorization");
    const char *ct = standin_header(req, "Content-Type");
    r->msgs[r->n++] = (struct slack_message){
        .channel = sc_strdup(channel),
        .text = sc_strdup(text),
        .ts = sc_strdup(ts),
        .body = sc_strdup(req->body),
        .content_type = sc_strdup(ct),
        .authorization = sc_strdup(auth),
        .at_ms = req->at_ms,
    };
}

/* Slack's success answer of a Web API call into buf. */
static void web_success(struct slack_api *api, const struct web_call *w, const char *channel,
                        const char *text, char *ts, size_t ts_size, struct standin_reply *reply,
                        char *buf, size_t buflen)
{
    /* a #name is answered with the channel's ID, as Slack does */
    const char *id = channel[0] == '#' ? "C123" : channel;
    if (w->update)
        snprintf(ts, ts_size, "%s", get_string(w->body, "ts"));
    else
        snprintf(ts, ts_size, "%lld.000100", api->next_ts++);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "channel", json_object_new_string(id));
    json_object_object_add(o, "ts", json_object_new_string(ts));
    if (w->update)
        json_object_object_add(o, "text", json_object_new_string(text));
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "type", json_object_new_string("message"));
    json_object_object_add(m, "user", json_object_new_string("U0STANDIN"));
    json_object_object_add(m, "bot_id", json_object_new_string("B0STANDIN"));
    json_object_object_add(m, "text", json_object_new_string(text));
    json_object_object_add(m, "ts", json_object_new_string(ts));
    json_object_object_add(o, "message", m);
    if (w->missing_charset) {
        json_object_object_add(o, "warning", json_object_new_string("missing_charset"));
        struct json_object *meta = json_object_new_object();
        struct json_object *list = json_object_new_array();
        json_object_array_add(list, json_object_new_string("missing_charset"));
        json_object_object_add(meta, "warnings", list);
        json_object_object_add(o, "response_metadata", meta);
    }
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (strlen(s) >= buflen) {
        /* too long for the reply buffer: drop the echoed message */
        json_object_object_del(o, "message");
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    }
    snprintf(buf, buflen, "%s", s);
    json_object_put(o);
    *reply = (struct standin_reply){200, "application/json; charset=utf-8", buf, NULL, 0};
}

/* The fake's check: Slack's checks, then queued faults, then success. It
 * always answers (never falls through to a script). */
static bool fake_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                       char *buf, size_t buflen)
{
    struct route_state *r = arg;
    struct slack_api *api = r->api;
    const char *err = NULL;
    int status = 200;
    struct web_call w = {0};
    struct json_object *hook_body = NULL;
    bool web = r->kind == SLACK_POST_MESSAGE || r->kind == SLACK_UPDATE;
    if (web)
        err = check_web_call(req, &w);
    else
        err = check_hook_call(req, r->kind == SLACK_RESPONSE_URL, &status, &hook_body);
    pthread_mutex_lock(&api->lock);
    if (err) {
        r->refused++;
        if (web)
            web_error(reply, buf, buflen, err);
        else if (r->kind == SLACK_WEBHOOK) {
            snprintf(buf, buflen, "%s", err);
            *reply = (struct standin_reply){status, "text/plain", buf, NULL, 0};
        } else {
            snprintf(buf, buflen, "{\"ok\":false,\"error\":\"%s\"}", err);
            *reply = (struct standin_reply){status, "application/json", buf, NULL, 0};
        }
        goto out;
    }
    struct json_object *body = web ? w.body : hook_body;
    const char *channel = web ? get_string(body, "channel") : "";
    const char *text = get_string(body, "text");
    if (!text)
        text = "";
    if (r->head) {
        struct fault *f = r->head;
        r->head = f->next;
        if (!r->head)
            r->tail = NULL;
        answer_fault(f, reply, buf, buflen);
        fault_free(f);
        r->refused++;
        goto out;
    }
    if (r->kind == SLACK_POST_MESSAGE && !take_token(api, channel, req->at_ms)) {
        api->over_rate++;
        r->refused++;
        snprintf(buf, buflen, "{\"ok\":false,\"error\":\"ratelimited\"}");
        size_t n = strlen(buf);
        snprintf(buf + n + 1, buflen - n - 1, "Retry-After: 1\n");
        *reply =
            (struct standin_reply){429, "application/json; charset=utf-8", buf, buf + n + 1, 0};
        goto out;
    }
    char ts[48] = "";
    if (web)
        web_success(api, &w, channel, text, ts, sizeof(ts), reply, buf, buflen);
    else if (r->kind == SLACK_WEBHOOK)
        *reply = (struct standin_reply){200, "text/plain", "ok", NULL, 0};
    else
        *reply = (struct standin_reply){200, "application/json", "{\"ok\":true}", NULL, 0};
    record(r, req, channel, text, ts);
    pthread_cond_broadcast(&api->accepted);
out:
    pthread_mutex_unlock(&api->lock);
    json_object_put(w.body);
    json_object_put(hook_body);
    return false;
}

struct slack_api *slack_api_install(struct standin *s)
{
    struct slack_api *api = sc_alloc(sizeof(*api));
    api->s = s;
    pthread_mutex_init(&api->lock, NULL);
    pthread_cond_init(&api->accepted, NULL);
    api->next_ts = 1503435956LL;
    for (int i = 0; i < SLACK_N_ROUTES; i++) {
        api->routes[i].api = api;
        api->routes[i].kind = (enum slack_route)i;
        standin_check(s, "POST", route_paths[i], fake_check, &api->routes[i]);
    }
    return api;
}

static void route_clear(struct route_state *r)
{
    while (r->head) {
        struct fault *next = r->head->next;
        fault_free(r->head);
        r->head = next;
    }
    r->tail = NULL;
    for (size_t i = 0; i < r->n; i++)
        slack_message_release(&r->msgs[i]);
    r->n = 0;
    r->refused = 0;
}

void slack_api_reset(struct slack_api *api)
{
    pthread_mutex_lock(&api->lock);
    for (int i = 0; i < SLACK_N_ROUTES; i++)
        route_clear(&api->routes[i]);
    for (size_t i = 0; i < api->n_buckets; i++)
        free(api->buckets[i].channel);
    free(api->buckets);
    api->buckets = NULL;
    api->n_buckets = 0;
    api->over_rate = 0;
    pthread_mutex_unlock(&api->lock);
}

void slack_api_free(struct slack_api *api)
{
    if (!api)
        return;
    slack_api_reset(api);
    for (int i = 0; i < SLACK_N_ROUTES; i++)
        free(api->routes[i].msgs);
    pthread_cond_destroy(&api->accepted);
    pthread_mutex_destroy(&api->lock);
    free(api);
}

size_t slack_api_accepted(struct slack_api *api, enum slack_route route)
{
    pthread_mutex_lock(&api->lock);
    size_t n = api->routes[route].n;
    pthread_mutex_unlock(&api->lock);
    return n;
}

size_t slack_api_refused(struct slack_api *api, enum slack_route route)
{
    pthread_mutex_lock(&api->lock);
    size_t n = api->routes[route].refused;
    pthread_mutex_unlock(&api->lock);
    return n;
}

size_t slack_api_over_rate(struct slack_api *api)
{
    pthread_mutex_lock(&api->lock);
    size_t n = api->over_rate;
    pthread_mutex_unlock(&api->lock);
    return n;
}

bool slack_api_message(struct slack_api *api, enum slack_route route, size_t i,
                       struct slack_message *out)
{
    bool found = false;
    pthread_mutex_lock(&api->lock);
    const struct route_state *r = &api->routes[route];
    if (i < r->n) {
        const struct slack_message *m = &r->msgs[i];
        *out = (struct slack_message){
            .channel = sc_strdup(m->channel),
            .text = sc_strdup(m->text),
            .ts = sc_strdup(m->ts),
            .body = sc_strdup(m->body),
            .content_type = sc_strdup(m->content_type),
            .authorization = sc_strdup(m->authorization),
            .at_ms = m->at_ms,
        };
        found = true;
    }
    pthread_mutex_unlock(&api->lock);
    return found;
}

void slack_message_release(struct slack_message *m)
{
    if (!m)
        return;
    free(m->channel);
    free(m->text);
    free(m->ts);
    free(m->body);
    free(m->content_type);
    free(m->authorization);
    memset(m, 0, sizeof(*m));
}

bool slack_api_wait(struct slack_api *api, enum slack_route route, size_t n, int64_t timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&api->lock);
    int rc = 0;
    while (api->routes[route].n < n && rc == 0)
        rc = pthread_cond_timedwait(&api->accepted, &api->lock, &deadline);
    bool ok = api->routes[route].n >= n;
    pthread_mutex_unlock(&api->lock);
    return ok;
}
