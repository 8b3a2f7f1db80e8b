#include "ingress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "admin.h"
#include "conn_deadline.h"
#include "crypto.h"
#include "dispatcher.h"
#include "engine.h"
#include "listen_owner.h"
#include "log.h"
#include "payload_check.h"
#include "strbuf.h"
#include "textsafe.h"
#include "workflow.h"
#include "xalloc.h"

#define MAX_QUERY_PARAMS 64
#define MAX_HEADERS 128

struct ingress {
    struct MHD_Daemon *daemon;
    struct conn_deadlines *deadlines; /* [server] header_timeout */
    struct engine *engine;
    atomic_int in_flight;
    /* counters for /metrics */
    atomic_llong requests;
    atomic_llong by_class[6]; /* 1xx..5xx by status/100 */
    atomic_llong events_accepted;
    atomic_llong events_duplicate;
    atomic_llong rejected;
};

enum req_state { REQ_READING, REQ_WAITING, REQ_DONE };

/* One request: made by the URI callback, freed by the completion callback. */
struct request {
    struct ingress *in;
    char *uri; /* as sent, with the query */
    int64_t started_ms;
    struct strbuf body;
    bool too_large;
    bool counted; /* in in_flight */
    enum req_state state;
    struct MHD_Connection *conn;
    struct wf_snapshot *snap;
    const struct hook_route *route;
    /* the answer */
    int status;
    char *content_type;
    char *answer;
    size_t answer_len;
    /* store writes in flight, one per event */
    struct receive_result rx;
    struct pending_event {
        struct store_append append;
        char *payload;
        const char *payload_ref; /* the request body, when the payload is it */
        char *source;
        const char **wf_names;
        const char **wf_hashes;
    } * events;
    char *envelope;
    atomic_int pending;
};

/* --- answers ---------------------------------------------------------- */

static enum MHD_Result send_answer(struct MHD_Connection *conn, struct ingress *in, int status,
                                   const char *ctype, const char *body, size_t len,
                                   const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (allow)
        MHD_add_response_header(resp, "Allow", allow);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    atomic_fetch_add(&in->requests, 1);
    if (status >= 100 && status < 600)
        atomic_fetch_add(&in->by_class[status / 100], 1);
    return rc;
}

/* Append text as a JSON string's contents with every control escaped
 * (C1 too), so that an answer shown in a terminal cannot drive it. */
static void add_json_text(struct strbuf *sb, const char *text)
{
    struct strbuf esc = STRBUF_INIT;
    strbuf_add_json_escaped(&esc, text, strlen(text));
    textsafe_append(sb, strbuf_str(&esc), esc.len, TEXTSAFE_JSON);
    strbuf_release(&esc);
}

/* The answer a trigger gave: respond's status and body, or `body` (the
 * core's own) when it gave none, with the headers of respond_header. */
static enum MHD_Result send_trigger_answer(struct request *r, int status, const char *ctype,
                                           const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (size_t i = 0; i < r->rx.n_headers; i++)
        MHD_add_response_header(resp, r->rx.headers[i].name, r->rx.headers[i].value);
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    atomic_fetch_add(&r->in->requests, 1);
    if (status >= 100 && status < 600)
        atomic_fetch_add(&r->in->by_class[status / 100], 1);
    return rc;
}

/* {"error": "..."}: short, and never holds a secret (redacted anyway). */
static enum MHD_Result send_error(struct MHD_Connection *conn, struct ingress *in, int status,
                                  const char *msg, const char *allow)
{
    char red[512];
    log_redact(msg, red, sizeof(red));
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "{\"error\": \"");
    add_json_text(&sb, red);
    strbuf_addstr(&sb, "\"}\n");
    enum MHD_Result rc = send_answer(conn, in, status, "application/json", sb.buf, sb.len, allow);
    strbuf_release(&sb);
    return rc;
}

/* --- request bookkeeping ---------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct ingress *in = cls;
    struct request *r = xcalloc(1, sizeof(*r));
    r->in = in;
    r->uri = xstrdup(uri ? uri : "/");
    r->conn = conn;
    r->started_ms = engine_now_ms();
    strbuf_init(&r->body);
    atomic_init(&r->pending, 0);
    atomic_fetch_add(&in->in_flight, 1);
    r->counted = true;
    return r;
}

static void request_free(struct request *r)
{
    if (!r)
        return;
    strbuf_release(&r->body);
    for (size_t i = 0; r->events && i < r->rx.n_events; i++) {
        free(r->events[i].payload);
        free(r->events[i].source);
        free(r->events[i].wf_names);
        free(r->events[i].wf_hashes);
    }
    free(r->events);
    receive_result_release(&r->rx);
    free(r->envelope);
    free(r->content_type);
    free(r->answer);
    if (r->snap)
        engine_release(r->snap);
    if (r->counted)
        atomic_fetch_sub(&r->in->in_flight, 1);
    free(r->uri);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ingress *in = cls;
    (void)toe;
    /* a kept-alive connection has header_timeout for its next request */
    conn_deadlines_request_done(in->deadlines, conn);
    request_free(*con_cls);
    *con_cls = NULL;
}

/* --- /hooks/<path> -------------------------------------------------------- */

struct kv_collect {
    struct sb_header *items;
    size_t n;
    size_t max;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct kv_collect *c = cls;
    if (c->n < c->max) {
        c->items[c->n].name = key;
        c->items[c->n].value = value ? value : "";
        c->n++;
    }
    return MHD_YES;
}

/* Headers that carry a credential or a signature: never stored, never in
 * trigger.headers. A signature is not the secret, but with the body it is
 * what an attacker needs to replay a request, and it proves nothing to a
 * template. */
static const char *const credential_headers[] = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-auth-token",
    "x-access-token",
    "x-gitlab-token",
    "stripe-signature",
    "x-slack-signature",
    "x-shopify-hmac-sha256",
    "shopify-hmac-sha256",
    "x-hub-signature",
    "x-hub-signature-256",
    "webhook-signature",
    "svix-signature",
    "x-trello-webhook",
    "x-twilio-signature",
    "x-hubspot-signature",
    "x-hubspot-signature-v3",
    "x-hook-signature",
    "x-hook-secret",
    "x-wpforms-webhook-signature",
    "x-signature",
    "x-webhook-signature",
    "x-mailgun-signature",
    "x-square-signature",
    "x-square-hmacsha256-signature",
    "x-zm-signature",
    "paypal-transmission-sig",
    NULL,
};

/* Whether the trigger of a route was told to read a credential from this
 * header or query parameter (http.webhook's signature_header, token_header,
 * token_query, or a plugin's parameter of that kind). */
static bool configured_credential(const struct hook_route *route, const char *name, bool query)
{
    static const char *const header_params[] = {"signature_header", "token_header", NULL};
    static const char *const query_params[] = {"token_query", "signature_query", NULL};
    const char *const *params = query ? query_params : header_params;
    for (size_t w = 0; route && w < route->n; w++) {
        struct json_object *st = route->workflows[w]->trigger_static, *v;
        for (size_t i = 0; st && params[i]; i++)
            if (json_object_object_get_ex(st, params[i], &v) &&
                json_object_is_type(v, json_type_string) &&
                strcasecmp(json_object_get_string(v), name) == 0)
                return true;
    }
    return false;
}

static bool sensitive_header(const struct hook_route *route, const char *name, const char *value)
{
    for (size_t i = 0; credential_headers[i]; i++)
        if (strcasecmp(name, credential_headers[i]) == 0)
            return true;
    return configured_credential(route, name, false) || log_has_secret(value);
}

/* Append "key": "value" with JSON escaping. */
static void add_pair(struct strbuf *sb, const char *key, size_t klen, const char *value,
                     bool lower_key)
{
    strbuf_addch(sb, '"');
    if (lower_key) {
        char buf[128];
        size_t n = klen < sizeof(buf) ? klen : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
        strbuf_add_json_escaped(sb, buf, n);
    } else {
        strbuf_add_json_escaped(sb, key, klen);
    }
    strbuf_addstr(sb, "\":\"");
    strbuf_add_json_escaped(sb, value, strlen(value));
    strbuf_addch(sb, '"');
}

/* The envelope of an event: what trigger.* reads, minus credentials.
 * Written directly as JSON text: it is built for every request. */
static char *make_envelope(const struct hook_route *route, const char *method, const char *path,
                           const char *hook, const struct sb_header *q, size_t nq,
                           const struct sb_header *h, size_t nh, const char *remote)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_grow(&sb, 512);
    strbuf_addch(&sb, '{');
    add_pair(&sb, "method", 6, method, false);
    strbuf_addch(&sb, ',');
    add_pair(&sb, "path", 4, path, false);
    strbuf_addch(&sb, ',');
    add_pair(&sb, "hook", 4, hook, false);
    strbuf_addch(&sb, ',');
    add_pair(&sb, "remote", 6, remote, false);
    strbuf_addstr(&sb, ",\"headers\":{");
    bool first = true;
    for (size_t i = 0; i < nh; i++) {
        if (sensitive_header(route, h[i].name, h[i].value))
            continue;
        /* a repeated header keeps its first value */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcasecmp(h[j].name, h[i].name) == 0;
        if (seen)
            continue;
        if (!first)
            strbuf_addch(&sb, ',');
        first = false;
        add_pair(&sb, h[i].name, strlen(h[i].name), h[i].value, true);
    }
    strbuf_addstr(&sb, "},\"query\":{");
    first = true;
    for (size_t i = 0; i < nq; i++) {
        if (configured_credential(route, q[i].name, true) || log_has_secret(q[i].value))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(q[j].name, q[i].name) == 0;
        if (seen)
            continue;
        if (!first)
            strbuf_addch(&sb, ',');
        first = false;
        add_pair(&sb, q[i].name, strlen(q[i].name), q[i].value, false);
    }
    strbuf_addstr(&sb, "}}");
    return strbuf_detach(&sb, NULL);
}

static void append_done(struct store_append *a, void *arg)
{
    struct request *r = arg;
    if (a->result == STORE_OK && a->n_runs)
        dispatcher_notify(r->in->engine->dispatcher);
    if (atomic_fetch_sub(&r->pending, 1) == 1) {
        r->state = REQ_DONE;
        MHD_resume_connection(r->conn);
    }
}

/* After every append committed: the answer. */
static enum MHD_Result answer_stored(struct request *r)
{
    struct ingress *in = r->in;
    size_t stored = 0, dup = 0, failed = 0, runs = 0;
    for (size_t i = 0; i < r->rx.n_events; i++) {
        switch (r->events[i].append.result) {
        case STORE_OK:
            stored++;
            runs += r->events[i].append.n_runs;
            break;
        case STORE_DUPLICATE:
            dup++;
            break;
        default:
            failed++;
        }
    }
    atomic_fetch_add(&in->events_accepted, (long long)stored);
    atomic_fetch_add(&in->events_duplicate, (long long)dup);
    if (failed) {
        log_write(SB_LOG_ERROR, "ingress", "/hooks/%s: store unavailable, answered 503",
                  r->route->path);
        return send_error(r->conn, in, 503, "store unavailable; retry later", NULL);
    }
    if (r->rx.status && !r->rx.rejected)
        return send_trigger_answer(r, r->rx.status, r->rx.content_type, r->rx.body, r->rx.body_len);
    struct strbuf sb = STRBUF_INIT;
    const char *id = r->events[0].append.event_id;
    strbuf_addf(&sb, "{\"status\": \"%s\", \"id\": \"", stored ? "accepted" : "duplicate");
    add_json_text(&sb, id);
    strbuf_addf(&sb, "\", \"runs\": %zu", runs);
    if (r->rx.n_events > 1)
        strbuf_addf(&sb, ", \"events\": %zu, \"duplicates\": %zu", r->rx.n_events, dup);
    strbuf_addstr(&sb, "}\n");
    log_write(SB_LOG_DEBUG, "ingress", "/hooks/%s: event %s %s, %zu run(s)", r->route->path, id,
              stored ? "stored" : "duplicate", runs);
    enum MHD_Result rc = send_trigger_answer(r, 200, "application/json", sb.buf, sb.len);
    strbuf_release(&sb);
    return rc;
}

/*
 * The text each event will be stored as, checked to come back whole when
 * the dispatcher reads it (payload_check.h): nothing is acknowledged that
 * would run with less than was sent. -1 with the reason in r->answer (a
 * 400 for the sender) when one cannot.
 */
static int prepare_payloads(struct request *r)
{
    for (size_t i = 0; i < r->rx.n_events; i++) {
        struct sb_event_rec *ev = &r->rx.events[i];
        struct pending_event *pe = &r->events[i];
        if (ev->payload_json_borrowed) {
            pe->payload_ref = ev->payload_json_borrowed; /* the body itself */
        } else if (ev->payload_json) {
            pe->payload = ev->payload_json;
            ev->payload_json = NULL;
        } else {
            pe->payload = xstrdup(json_object_to_json_string_ext(
                ev->payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        }
        const char *text = pe->payload ? pe->payload : pe->payload_ref;
        /* the body's own length: a NUL byte in it must not hide the rest */
        size_t len = text == r->body.buf ? r->body.len : strlen(text);
        char why[160];
        if (payload_check(text, len, why, sizeof(why)) < 0) {
            free(r->answer);
            r->answer = xasprintf("the body cannot be stored and read back whole: %s", why);
            log_write(SB_LOG_INFO, "ingress", "rejected /hooks/%s: %s", r->route->path, r->answer);
            atomic_fetch_add(&r->in->rejected, 1);
            return -1;
        }
    }
    return 0;
}

/* The body is in: verify through the trigger, store, and suspend until the
 * commit. */
static enum MHD_Result handle_hook(struct request *r, const char *method, const char *hook)
{
    struct ingress *in = r->in;
    const struct hook_route *route = r->route;
    struct workflow *first = route->workflows[0];
    const struct loaded_trigger *t = route->trigger;

    struct sb_header headers[MAX_HEADERS], query[MAX_QUERY_PARAMS];
    struct kv_collect hc = {headers, 0, MAX_HEADERS}, qc = {query, 0, MAX_QUERY_PARAMS};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_kv, &hc);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_kv, &qc);
    const char *qmark = strchr(r->uri, '?');
    const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    char remote[64] = "";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, remote,
                      sizeof(remote));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, remote,
                      sizeof(remote));
    }
    char path[512];
    snprintf(path, sizeof(path), "/hooks/%s", hook);
    strbuf_grow(&r->body, 0); /* a NUL after the body, as the SDK promises */
    struct sb_request req = {
        .size = sizeof(struct sb_request),
        .method = method,
        .path = path,
        .hook = hook,
        .query = qmark ? qmark + 1 : "",
        .query_params = query,
        .n_query_params = qc.n,
        .headers = headers,
        .n_headers = hc.n,
        .body = (const unsigned char *)r->body.buf,
        .body_len = r->body.len,
        .content_type = ctype ? ctype : "",
        .remote_addr = remote,
        .received_at_ms = r->started_ms,
    };
    struct sb_call call;
    call_init(&call, CALL_RECEIVE, t->full_name);
    call.wf = first;
    call_set_context(&call);
    call.plugin = t->plugin;
    call.table = &t->table;
    call.binding = &first->trigger_params;
    call.params = call_params_copy(first->trigger_static);
    call.state = first->trigger_state;
    call.rx = &r->rx;
    call.rx_body = &req;
    call.hooks = &in->engine->hooks;
    enum sb_status st = t->desc.receive(&core_host, &call, &req);
    json_object_put(call.params);
    call.params = NULL;
    if (st != SB_OK || r->rx.rejected) {
        int status = r->rx.rejected ? r->rx.status : 500;
        const char *why = r->rx.rejected   ? r->rx.body
                          : call.error.len ? strbuf_str(&call.error)
                                           : "the trigger failed";
        if (!r->rx.rejected)
            log_write(SB_LOG_ERROR, call.context, "receive failed: %s", why);
        else
            log_write(SB_LOG_INFO, call.context, "rejected %s from %s: %d %s", path, remote, status,
                      why);
        atomic_fetch_add(&in->rejected, 1);
        enum MHD_Result rc = send_error(r->conn, in, status, why, NULL);
        call_release(&call);
        return rc;
    }
    call_release(&call);
    if (r->rx.n_events == 0) {
        /* a handshake (respond without an event), or nothing to do */
        if (r->rx.status)
            return send_trigger_answer(r, r->rx.status, r->rx.content_type, r->rx.body,
                                       r->rx.body_len);
        return send_trigger_answer(r, 200, "application/json", "{\"status\": \"ignored\"}\n", 22);
    }
    r->events = xcalloc(r->rx.n_events, sizeof(*r->events));
    if (prepare_payloads(r) < 0)
        return send_error(r->conn, in, 400, r->answer, NULL);
    r->envelope = make_envelope(route, method, path, hook, query, qc.n, headers, hc.n, remote);
    atomic_store(&r->pending, (int)r->rx.n_events);
    r->state = REQ_WAITING;
    MHD_suspend_connection(r->conn);
    for (size_t i = 0; i < r->rx.n_events; i++) {
        struct sb_event_rec *ev = &r->rx.events[i];
        struct pending_event *pe = &r->events[i];
        struct store_append *a = &pe->append;
        if (!ev->id) {
            char gen[32];
            crypto_event_id(gen);
            ev->id = xstrdup(gen);
        }
        pe->source = ev->source ? xstrdup(ev->source) : xasprintf("%s:%s", t->full_name, hook);
        pe->wf_names = xcalloc(route->n, sizeof(char *));
        pe->wf_hashes = xcalloc(route->n, sizeof(char *));
        size_t n = 0;
        for (size_t k = 0; k < route->n && !ev->record_only; k++) {
            if (workflow_wants_type(route->workflows[k], ev->type)) {
                pe->wf_names[n] = route->workflows[k]->name;
                pe->wf_hashes[n] = route->workflows[k]->hash;
                n++;
            }
        }
        a->source = pe->source;
        a->event_id = ev->id;
        a->type = ev->type;
        /* when it arrived: purges and dedupe windows count from there, not
         * from a time the provider claims */
        a->received_at_ms = r->started_ms;
        a->payload = pe->payload ? pe->payload : pe->payload_ref;
        a->envelope = r->envelope;
        a->workflows = pe->wf_names;
        a->workflow_hashes = pe->wf_hashes;
        a->n_runs = n;
        a->done = append_done;
        a->arg = r;
        if (store_append_async(in->engine->store, a) < 0) {
            a->result = STORE_UNAVAILABLE;
            append_done(a, r);
        }
    }
    return MHD_YES;
}

/* --- health and metrics --------------------------------------------------- */

static enum MHD_Result handle_health(struct request *r, const char *url)
{
    struct ingress *in = r->in;
    struct engine *e = in->engine;
    if (strcmp(url, "/healthz") == 0)
        return send_answer(r->conn, in, 200, "application/json", "{\"status\": \"ok\"}\n", 17,
                           NULL);
    if (strcmp(url, "/readyz") == 0) {
        bool store_ok = store_ping(e->store) == 0;
        struct wf_snapshot *snap = engine_acquire(e);
        bool ready = store_ok && atomic_load(&e->ready) && !atomic_load(&e->stopping);
        char buf[256];
        int n = snprintf(buf, sizeof(buf),
                         "{\"status\": \"%s\", \"store\": \"%s\", \"workflows\": %zu, "
                         "\"version\": \"%s\"}\n",
                         ready ? "ready" : "not ready", store_ok ? "writable" : "unavailable",
                         snap ? snap->set.n : 0, snap ? snap->version : "");
        if (snap)
            engine_release(snap);
        return send_answer(r->conn, in, ready ? 200 : 503, "application/json", buf, (size_t)n,
                           NULL);
    }
    struct strbuf sb = STRBUF_INIT;
    ingress_metrics(in, &sb);
    dispatcher_metrics(e->dispatcher, &sb);
    struct store_stats st;
    store_get_stats(e->store, &st);
    static const char *const names[] = {"pending", "running", "succeeded",
                                        "failed",  "dead",    "skipped"};
    strbuf_addstr(&sb, "# TYPE switchboard_store_events gauge\n");
    strbuf_addf(&sb, "switchboard_store_events %lld\n", (long long)st.events);
    strbuf_addstr(&sb, "# TYPE switchboard_runs gauge\n");
    for (size_t i = 0; i < 6; i++)
        strbuf_addf(&sb, "switchboard_runs{status=\"%s\"} %lld\n", names[i],
                    (long long)st.runs_by_status[i]);
    strbuf_addstr(&sb, "# TYPE switchboard_store_commits_total counter\n");
    strbuf_addf(&sb, "switchboard_store_commits_total %lld\n", (long long)st.commits);
    strbuf_addstr(&sb, "# TYPE switchboard_store_writes_total counter\n");
    strbuf_addf(&sb, "switchboard_store_writes_total %lld\n", (long long)st.batched_writes);
    strbuf_addstr(&sb, "# TYPE switchboard_store_commit_failures_total counter\n");
    strbuf_addf(&sb, "switchboard_store_commit_failures_total %lld\n",
                (long long)st.commit_failures);
    enum MHD_Result rc =
        send_answer(r->conn, in, 200, "text/plain; version=0.0.4", sb.buf, sb.len, NULL);
    strbuf_release(&sb);
    return rc;
}

void ingress_metrics(struct ingress *in, struct strbuf *sb)
{
    strbuf_addstr(sb, "# TYPE switchboard_http_requests_total counter\n");
    for (int c = 1; c <= 5; c++)
        strbuf_addf(sb, "switchboard_http_requests_total{code=\"%dxx\"} %lld\n", c,
                    (long long)atomic_load(&in->by_class[c]));
    strbuf_addstr(sb, "# TYPE switchboard_events_total counter\n");
    strbuf_addf(sb, "switchboard_events_total{result=\"accepted\"} %lld\n",
                (long long)atomic_load(&in->events_accepted));
    strbuf_addf(sb, "switchboard_events_total{result=\"duplicate\"} %lld\n",
                (long long)atomic_load(&in->events_duplicate));
    strbuf_addf(sb, "switchboard_events_total{result=\"rejected\"} %lld\n",
                (long long)atomic_load(&in->rejected));
    strbuf_addstr(sb, "# TYPE switchboard_http_header_timeouts_total counter\n");
    strbuf_addf(sb, "switchboard_http_header_timeouts_total %lld\n",
                (long long)conn_deadlines_closed(in->deadlines));
}

/* --- the access handler ------------------------------------------------- */

static const char *admin_query(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static uint32_t method_bit(const char *method)
{
    if (strcmp(method, "POST") == 0)
        return SB_METHOD_POST;
    if (strcmp(method, "GET") == 0)
        return SB_METHOD_GET;
    if (strcmp(method, "HEAD") == 0)
        return SB_METHOD_HEAD;
    if (strcmp(method, "PUT") == 0)
        return SB_METHOD_PUT;
    return 0;
}

static void allow_header(uint32_t methods, char *out, size_t len)
{
    static const char *const names[] = {"POST", "GET", "HEAD", "PUT"};
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (methods & (1u << i))
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", names[i]);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct ingress *in = cls;
    struct request *r = *con_cls;
    struct engine *e = in->engine;
    if (!r) /* no URI callback ran: cannot happen with MHD_OPTION_URI_LOG_CALLBACK */
        return MHD_NO;
    /* the headers are in: header_timeout no longer applies to this request
     * (the body has its own limit, [server] timeout) */
    conn_deadlines_headers_done(conn);
    if (r->state == REQ_DONE)
        return answer_stored(r);
    if (r->state == REQ_WAITING)
        return MHD_YES;

    bool first_call = r->route == NULL && r->body.len == 0 && !r->too_large && !r->snap;
    if (first_call && strncmp(url, "/admin/", 7) == 0) {
        int status = 500;
        char *body = NULL;
        admin_handle(e, method, url,
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                     admin_query, conn, &status, &body);
        enum MHD_Result rc =
            send_answer(conn, in, status, "application/json", body, strlen(body), NULL);
        free(body);
        return rc;
    }
    if (first_call && strncmp(url, "/hooks/", 7) != 0) {
        if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
            strcmp(url, "/metrics") == 0) {
            if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return send_error(conn, in, 405, "method not allowed", "GET, HEAD");
            if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
            }
            return handle_health(r, url);
        }
        return send_error(conn, in, 404, "not found", NULL);
    }
    const char *hook = url + 7;
    if (first_call) {
        r->snap = engine_acquire(e);
        r->route = r->snap ? workflow_set_route(&r->snap->set, hook) : NULL;
        if (!r->route)
            return send_error(conn, in, 404, "no workflow is bound to this path", NULL);
        uint32_t allowed = r->route->trigger->desc.methods;
        if (!allowed)
            allowed = SB_METHOD_POST;
        if (!(method_bit(method) & allowed)) {
            char allow[64];
            allow_header(allowed, allow, sizeof(allow));
            return send_error(conn, in, 405, "method not allowed", allow);
        }
        if (atomic_load(&e->stopping))
            return send_error(conn, in, 503, "shutting down; retry later", NULL);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end || n > (unsigned long long)e->app->cfg.max_body) {
                /* answered before reading the body */
                return send_error(conn, in, 413, "request body too large", NULL);
            }
            strbuf_grow(&r->body, (size_t)n); /* one allocation for the body */
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (r->body.len + *upload_data_size > (size_t)e->app->cfg.max_body)
            r->too_large = true;
        else if (!r->too_large)
            strbuf_add(&r->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* a client trickling a body beyond the time limit is cut off */
        if (engine_now_ms() - r->started_ms > e->app->cfg.conn_timeout_ms)
            return MHD_NO;
        return MHD_YES;
    }
    if (r->too_large)
        return send_error(conn, in, 413, "request body too large", NULL);
    return handle_hook(r, method, hook);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_write(SB_LOG_DEBUG, "http", "%s", buf);
}

/*
 * Why the server could not listen. The address is bound without
 * SO_REUSEPORT, so a second engine on an address in use fails here instead
 * of splitting the webhooks between two stores; the message names the
 * process that holds the port when it can be found. Returns -1.
 */
static int listen_error(const struct config *cfg, const struct addrinfo *ai)
{
    int err = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
            err = errno;
        close(fd);
    }
    if (err == EADDRINUSE) {
        char owner[300];
        listen_owner_describe(cfg->listen_port, owner, sizeof(owner));
        return error("cannot listen on %s:%d: the address is in use%s%s; two engines on one "
                     "address would split the webhooks between their stores: stop the other "
                     "one, or set another [server] listen address",
                     cfg->listen_host, cfg->listen_port, owner[0] ? " by " : "", owner);
    }
    if (err) {
        char msg[128];
        strerror_r(err, msg, sizeof(msg));
        return error("cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port, msg);
    }
    return error("cannot listen on %s:%d (see the messages above)", cfg->listen_host,
                 cfg->listen_port);
}

int ingress_start(struct engine *e, struct ingress **out, int *port_out)
{
    const struct config *cfg = &e->app->cfg;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &ai);
    if (gai != 0)
        return error("cannot resolve listen address '%s': %s", cfg->listen_host, gai_strerror(gai));
    struct ingress *in = xcalloc(1, sizeof(*in));
    in->engine = e;
    in->deadlines = conn_deadlines_new(cfg->header_timeout_ms);
    if (!in->deadlines) {
        freeaddrinfo(ai);
        free(in);
        return error("cannot start the thread that enforces [server] header_timeout");
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned threads = (unsigned)(cfg->server_threads > 0 ? cfg->server_threads : 2);
    in->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, in, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_URI_LOG_CALLBACK, on_uri, in,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, in, MHD_OPTION_NOTIFY_CONNECTION,
        conn_deadlines_notify, in->deadlines, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((cfg->conn_timeout_ms + 999) / 1000),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header + 8192, MHD_OPTION_END);
    if (!in->daemon) {
        conn_deadlines_free(in->deadlines);
        free(in);
        int rc = listen_error(cfg, ai);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(in->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? (int)info->port : cfg->listen_port;
    *out = in;
    return 0;
}

void ingress_quiesce(struct ingress *in)
{
    if (in && in->daemon)
        MHD_quiesce_daemon(in->daemon);
}

void ingress_drain(struct ingress *in, int64_t timeout_ms)
{
    if (!in)
        return;
    int64_t until = engine_now_ms() + timeout_ms;
    while (atomic_load(&in->in_flight) > 0 && engine_now_ms() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void ingress_stop(struct ingress *in)
{
    if (!in)
        return;
    if (in->daemon)
        MHD_stop_daemon(in->daemon);
    conn_deadlines_free(in->deadlines);
    free(in);
}
