/*
 * The host function table and the core's side of struct sb_call.
 * Functions that need the engine (emit, the store, the HTTP client) reach
 * it through call->hooks, so this file does not depend on the engine.
 */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "build_config.h"
#include "crypto.h"
#include "form.h"
#include "httpclient.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "template.h"
#include "tokens.h"
#include "workflow.h"
#include "xalloc.h"

void call_init(struct sb_call *c, enum call_kind kind, const char *what)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->what = what;
    c->retry_after_s = -1;
    strbuf_init(&c->error);
    call_set_context(c);
}

void call_release(struct sb_call *c)
{
    strbuf_release(&c->error);
    json_object_put(c->output);
    c->output = NULL;
    free(c->public_url);
    c->public_url = NULL;
}

/* [server] public_url: one per process, set before plugin code runs */
static char *public_base;

void call_set_public_base(const char *base)
{
    free(public_base);
    public_base = NULL;
    if (!base || !*base)
        return;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    public_base = xstrndup(base, n);
}

void call_kv_scope(const struct workflow *wf, const char *what, char *out, size_t len)
{
    if (wf && wf->hook)
        snprintf(out, len, "/hooks/%s", wf->hook);
    else
        snprintf(out, len, "%s:%s", wf ? wf->name : "", what ? what : "");
}

void call_set_context(struct sb_call *c)
{
    int n = snprintf(c->context, sizeof(c->context), "%s", c->what ? c->what : "core");
    if (c->wf && n >= 0 && (size_t)n < sizeof(c->context))
        n += snprintf(c->context + n, sizeof(c->context) - (size_t)n, " wf=%s", c->wf->name);
    if (c->step && n >= 0 && (size_t)n < sizeof(c->context))
        n += snprintf(c->context + n, sizeof(c->context) - (size_t)n, " step=%s", c->step);
    if (c->run_id && n >= 0 && (size_t)n < sizeof(c->context))
        snprintf(c->context + n, sizeof(c->context) - (size_t)n, " run=%lld", (long long)c->run_id);
}

/* --- parameters ------------------------------------------------------------ */

static void add_default(const struct sb_param *p, struct json_object *obj)
{
    char err[256];
    struct json_object *v = NULL;
    if (p->def && !(p->flags & SB_PARAM_MULTI) &&
        param_parse_value(p, p->def, &v, err, sizeof(err)) == 0)
        json_object_object_add(obj, p->name, v);
}

/* Put one value in obj: MULTI entries go into a nested object. */
static void put_value(struct json_object *obj, const struct bound_param *bp, struct json_object *v)
{
    if (!bp->map_key) {
        json_object_object_add(obj, bp->name, v);
        return;
    }
    struct json_object *map;
    if (!json_object_object_get_ex(obj, bp->name, &map) ||
        !json_object_is_type(map, json_type_object)) {
        map = json_object_new_object();
        json_object_object_add(obj, bp->name, map);
    }
    json_object_object_add(map, bp->map_key, v);
}

/* A private copy of a shared value. json-c's reference counts are not
 * atomic (Debian builds it without threading support), and reading some
 * values writes a cache into them, so objects owned by a workflow are never
 * handed to a call that may run on another thread: each call gets copies. */
static struct json_object *copy_value(struct json_object *v)
{
    struct json_object *out = NULL;
    if (!v || json_object_deep_copy(v, &out, NULL) != 0)
        return NULL;
    return out;
}

struct json_object *call_params_copy(struct json_object *params)
{
    return copy_value(params);
}

struct json_object *call_params_static(const struct param_table *table,
                                       const struct param_binding *binding)
{
    struct json_object *obj = json_object_new_object();
    for (size_t i = 0; i < table->n; i++)
        add_default(&table->params[i], obj);
    for (size_t i = 0; binding && i < binding->n; i++) {
        const struct bound_param *bp = &binding->items[i];
        struct json_object *v =
            bp->value ? json_object_get(bp->value) : json_object_new_string(bp->text);
        put_value(obj, bp, v);
    }
    return obj;
}

int call_params_render(const struct param_table *table, const struct param_binding *binding,
                       struct json_object *root, struct json_object **out, char *err, size_t errlen)
{
    struct json_object *obj = json_object_new_object();
    for (size_t i = 0; i < table->n; i++)
        add_default(&table->params[i], obj);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < binding->n; i++) {
        const struct bound_param *bp = &binding->items[i];
        if (!bp->tpl) {
            put_value(obj, bp, copy_value(bp->value));
            continue;
        }
        char terr[512];
        strbuf_reset(&sb);
        if (template_render(bp->tpl, root, &sb, terr, sizeof(terr)) < 0) {
            snprintf(err, errlen, "parameter '%s%s%s' (line %d): %s", bp->name,
                     bp->map_key ? "." : "", bp->map_key ? bp->map_key : "", bp->line, terr);
            goto fail;
        }
        struct json_object *v = NULL;
        struct sb_param as = *bp->desc;
        if (as.flags & SB_PARAM_MULTI)
            as.type = SB_PARAM_STRING;
        if (param_parse_value(&as, strbuf_str(&sb), &v, terr, sizeof(terr)) < 0) {
            snprintf(err, errlen, "parameter '%s' (line %d) rendered to a bad value: %s", bp->name,
                     bp->line, terr);
            goto fail;
        }
        put_value(obj, bp, v);
    }
    strbuf_release(&sb);
    *out = obj;
    return 0;
fail:
    strbuf_release(&sb);
    json_object_put(obj);
    return -1;
}

/* --- validate ------------------------------------------------------------ */

static void run_validate(enum sb_status (*fn)(const struct sb_host *, struct sb_call *),
                         const char *what, struct plugin *plugin, const struct workflow *wf,
                         const char *section, const struct param_table *table,
                         const struct param_binding *binding, struct diag *diag)
{
    if (!fn)
        return;
    struct sb_call c;
    call_init(&c, CALL_VALIDATE, what);
    c.wf = wf;
    c.plugin = plugin;
    c.table = table;
    c.binding = binding;
    c.params = call_params_static(table, binding);
    c.diag = diag;
    c.file = wf->file;
    c.section = section;
    enum sb_status st = fn(&core_host, &c);
    if (st != SB_OK && c.config_errors == 0) {
        const char *msg = c.error.len ? strbuf_str(&c.error) : "the plugin refused this setup";
        diag_error(diag, wf->file, wf->trigger_line, section, NULL, "%s", msg);
    }
    json_object_put(c.params);
    call_release(&c);
}

/* The core key public_url of an HTTP trigger: an http(s) URL. */
static void check_public_url(const struct workflow *wf, struct diag *diag)
{
    const struct bound_param *bp = param_binding_find(&wf->trigger_params, "public_url");
    if (!bp || !bp->core)
        return;
    const char *v = bp->text;
    if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) || strpbrk(v, " \t\r\n"))
        diag_error(diag, wf->file, bp->line, "trigger", "public_url",
                   "'%s' is not an http(s) URL; give the whole URL the provider calls, e.g. "
                   "https://hooks.example.com/hooks/%s",
                   v, wf->hook ? wf->hook : "<path>");
}

void call_validate_trigger(const struct workflow *wf, struct diag *diag)
{
    check_public_url(wf, diag);
    run_validate(wf->trigger->desc.validate, wf->trigger->full_name, wf->trigger->plugin, wf,
                 "trigger", &wf->trigger->table, &wf->trigger_params, diag);
}

void call_validate_step(const struct workflow *wf, const struct step *step, struct diag *diag)
{
    char section[200];
    snprintf(section, sizeof(section), "step %s", step->name);
    run_validate(step->action->desc.validate, step->action->full_name, step->action->plugin, wf,
                 section, &step->action->table, &step->params, diag);
}

void receive_result_release(struct receive_result *rx)
{
    for (size_t i = 0; i < rx->n_events; i++) {
        free(rx->events[i].id);
        free(rx->events[i].type);
        free(rx->events[i].source);
        json_object_put(rx->events[i].payload);
        free(rx->events[i].payload_json);
    }
    free(rx->events);
    free(rx->content_type);
    free(rx->body);
    for (size_t i = 0; i < rx->n_headers; i++) {
        free(rx->headers[i].name);
        free(rx->headers[i].value);
    }
    memset(rx, 0, sizeof(*rx));
}

/* --- the host functions -------------------------------------------------- */

/* printf-like host functions (prototypes carry the format attributes) */
static void host_log(struct sb_call *call, enum sb_log_level level, const char *fmt, ...)
    SB_PRINTF(3, 4);
static enum sb_status host_fail(struct sb_call *call, const char *fmt, ...) SB_PRINTF(2, 3);
static enum sb_status host_retry(struct sb_call *call, int64_t after_s, const char *fmt, ...)
    SB_PRINTF(3, 4);
static void host_config_error(struct sb_call *call, const char *param, const char *fmt, ...)
    SB_PRINTF(3, 4);
static enum sb_status host_reject(struct sb_call *call, int status, const char *fmt, ...)
    SB_PRINTF(3, 4);

static void host_log(struct sb_call *call, enum sb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, call ? call->context : NULL, fmt, ap);
    va_end(ap);
}

static enum sb_status host_fail(struct sb_call *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_reset(&call->error);
    strbuf_vaddf(&call->error, fmt, ap);
    va_end(ap);
    return SB_FAIL;
}

static enum sb_status host_retry(struct sb_call *call, int64_t after_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_reset(&call->error);
    strbuf_vaddf(&call->error, fmt, ap);
    va_end(ap);
    call->retry_after_s = after_s;
    return SB_RETRY;
}

static void host_set_output(struct sb_call *call, struct json_object *output)
{
    json_object_put(call->output);
    call->output = output;
}

static void host_config_error(struct sb_call *call, const char *param, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (call->kind == CALL_VALIDATE && call->diag) {
        int line = call->wf ? call->wf->trigger_line : 0;
        const struct bound_param *bp =
            param && call->binding ? param_binding_find(call->binding, param) : NULL;
        if (bp)
            line = bp->line;
        else if (call->binding && call->binding->n)
            line = call->binding->items[0].line;
        diag_error(call->diag, call->file, line, call->section, param, "%s", msg);
        call->config_errors++;
    } else {
        log_write(SB_LOG_ERROR, call->context, "%s%s%s", param ? param : "", param ? ": " : "",
                  msg);
    }
    free(msg);
}

static struct json_object *host_param_json(struct sb_call *call, const char *name)
{
    struct json_object *v;
    if (!call->params || !json_object_object_get_ex(call->params, name, &v))
        return NULL;
    return v;
}

static const char *host_param_string(struct sb_call *call, const char *name)
{
    struct json_object *v = host_param_json(call, name);
    if (!v || json_object_is_type(v, json_type_null))
        return NULL;
    return json_object_get_string(v);
}

static int64_t host_param_int(struct sb_call *call, const char *name, int64_t fallback)
{
    struct json_object *v = host_param_json(call, name);
    if (!v)
        return fallback;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    int64_t i;
    if (json_object_is_type(v, json_type_string) && parse_int64(json_object_get_string(v), &i) == 0)
        return i;
    return fallback;
}

static bool host_param_bool(struct sb_call *call, const char *name, bool fallback)
{
    struct json_object *v = host_param_json(call, name);
    if (!v)
        return fallback;
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v);
    bool b;
    if (json_object_is_type(v, json_type_string) && parse_bool(json_object_get_string(v), &b) == 0)
        return b;
    return fallback;
}

static int host_render_param(struct sb_call *call, const char *name,
                             const struct json_object *event, char **out)
{
    if (!call->binding)
        return -1;
    const struct bound_param *bp = param_binding_find(call->binding, name);
    if (!bp) {
        const char *v = host_param_string(call, name);
        if (!v)
            return -1;
        *out = xstrdup(v);
        return 0;
    }
    if (!bp->tpl) {
        *out = xstrdup(bp->text);
        return 0;
    }
    struct json_object *root = json_object_new_object();
    /* the event is only read; a new reference keeps json-c's counts right */
    json_object_object_add(root, "event", json_object_get((struct json_object *)(uintptr_t)event));
    struct strbuf sb = STRBUF_INIT;
    char err[512];
    int rc = template_render(bp->tpl, root, &sb, err, sizeof(err));
    json_object_put(root);
    if (rc < 0) {
        log_write(SB_LOG_WARN, call->context, "cannot render '%s': %s", name, err);
        strbuf_release(&sb);
        return -1;
    }
    *out = strbuf_detach(&sb, NULL);
    return 0;
}

static void *host_plugin_state(struct sb_call *call)
{
    return call->plugin ? call->plugin->state : NULL;
}

static void *host_state(struct sb_call *call)
{
    return call->state;
}

static void host_set_state(struct sb_call *call, void *state)
{
    if (call->kind == CALL_SETUP && call->state_slot)
        *call->state_slot = state;
    call->state = state;
}

static const char *host_idempotency_key(struct sb_call *call)
{
    return call->idempotency_key ? call->idempotency_key : "";
}

static bool host_dry_run(struct sb_call *call)
{
    return call->dry_run;
}

static int64_t host_now_ms(struct sb_call *call)
{
    if (call && call->hooks && call->hooks->now_ms)
        return call->hooks->now_ms(call->hooks->ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum sb_status host_emit(struct sb_call *call, const struct sb_event *ev)
{
    if (!ev || ev->size < offsetof(struct sb_event, occurred_at_ms)) {
        if (ev && ev->size >= offsetof(struct sb_event, payload) + sizeof(ev->payload))
            json_object_put(ev->payload);
        return host_fail(call, "emit: the event was not initialised with SB_EVENT_INIT");
    }
    if (call->kind == CALL_RECEIVE && call->rx) {
        struct receive_result *rx = call->rx;
        if (rx->n_events >= RECEIVE_MAX_EVENTS) {
            json_object_put(ev->payload);
            return host_fail(call, "emit: more than %d events in one request", RECEIVE_MAX_EVENTS);
        }
        XGROW(rx->events, rx->cap_events, rx->n_events + 1);
        struct sb_event_rec *r = &rx->events[rx->n_events++];
        r->id = ev->id ? xstrdup(ev->id) : NULL;
        r->type = xstrdup(ev->type ? ev->type : "");
        r->source = ev->source ? xstrdup(ev->source) : NULL;
        r->payload = ev->payload ? ev->payload : json_object_new_object();
        r->occurred_at_ms = ev->occurred_at_ms;
        r->payload_json = NULL;
        r->payload_json_borrowed = NULL;
        r->record_only =
            ev->size >= offsetof(struct sb_event, record_only) + sizeof(bool) && ev->record_only;
        if (ev->size >= offsetof(struct sb_event, payload_json_len) + sizeof(size_t) &&
            ev->payload_json && ev->payload && ev->payload_json_len) {
            const struct sb_request *req = call->rx_body;
            /* the whole request body (NUL-terminated after it, and alive
             * until the request is answered) is used in place */
            if (req && ev->payload_json == (const char *)req->body &&
                ev->payload_json_len == req->body_len)
                r->payload_json_borrowed = ev->payload_json;
            else
                r->payload_json = xstrndup(ev->payload_json, ev->payload_json_len);
        }
        return SB_OK;
    }
    if (call->hooks && call->hooks->emit)
        return call->hooks->emit(call->hooks->ctx, call, ev);
    json_object_put(ev->payload);
    return host_fail(call, "emit is not available in this callback");
}

static enum sb_status host_respond(struct sb_call *call, int status, const char *content_type,
                                   const void *body, size_t len)
{
    if (call->kind != CALL_RECEIVE || !call->rx)
        return host_fail(call, "respond is only available in receive");
    struct receive_result *rx = call->rx;
    free(rx->content_type);
    free(rx->body);
    rx->status = status >= 100 && status <= 599 ? status : 200;
    rx->content_type = xstrdup(content_type ? content_type : "text/plain");
    rx->body = xmalloc(len + 1);
    if (len)
        memcpy(rx->body, body, len);
    rx->body[len] = '\0';
    rx->body_len = len;
    rx->rejected = false;
    return SB_OK;
}

static enum sb_status host_reject(struct sb_call *call, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    strbuf_reset(&call->error);
    strbuf_addstr(&call->error, msg);
    if (call->kind == CALL_RECEIVE && call->rx) {
        struct receive_result *rx = call->rx;
        free(rx->content_type);
        free(rx->body);
        rx->content_type = NULL;
        rx->status = status >= 400 && status <= 599 ? status : 400;
        rx->body = msg;
        rx->body_len = strlen(msg);
        rx->rejected = true;
    } else {
        free(msg);
    }
    return SB_FAIL;
}

static const char *find_header(const struct sb_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static const char *host_header(const struct sb_request *req, const char *name)
{
    return find_header(req->headers, req->n_headers, name);
}

static const char *host_query_param(const struct sb_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_query_params; i++)
        if (strcmp(req->query_params[i].name, name) == 0)
            return req->query_params[i].value;
    return NULL;
}

static void host_schedule_next(struct sb_call *call, int64_t at_ms)
{
    call->next_poll_at_ms = at_ms;
}

static int host_kv_get(struct sb_call *call, const char *key, char **value)
{
    *value = NULL;
    if (!call->hooks || !call->hooks->kv_get)
        return -1;
    return call->hooks->kv_get(call->hooks->ctx, call, key, value);
}

static int host_kv_set(struct sb_call *call, const char *key, const char *value)
{
    if (!call->hooks || !call->hooks->kv_set)
        return -1;
    return call->hooks->kv_set(call->hooks->ctx, call, key, value);
}

static const char *host_http_header(const struct sb_http_response *resp, const char *name)
{
    return find_header(resp->headers, resp->n_headers, name);
}

static struct json_object *host_form_decode(const char *body, size_t len)
{
    return form_decode(body, len);
}

static void host_free(void *ptr)
{
    free(ptr);
}

/* --- added in SDK 1.1 ------------------------------------------------------ */

static int host_json_path(struct json_object *root, const char *path, struct json_object **out)
{
    struct json_object *v = NULL;
    int rc = template_path_lookup(root, path, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

static const char *host_public_url(struct sb_call *call)
{
    const struct workflow *wf = call ? call->wf : NULL;
    /* a trigger's call: an action's call of the same workflow has no URL */
    if (!wf || !wf->hook || !wf->trigger || call->table != &wf->trigger->table)
        return NULL;
    const char *own = host_param_string(call, "public_url");
    if (own && *own)
        return own;
    if (!public_base)
        return NULL;
    free(call->public_url);
    call->public_url = xasprintf("%s/hooks/%s", public_base, wf->hook);
    return call->public_url;
}

static int host_token_get(struct sb_call *call, const char *key, char **value,
                          int64_t *expires_at_ms)
{
    *value = NULL;
    if (expires_at_ms)
        *expires_at_ms = 0;
    if (!call || !call->plugin || !call->plugin->tokens)
        return -1;
    return token_cache_get(call->plugin->tokens, key, host_now_ms(call), value, expires_at_ms);
}

static int host_token_set(struct sb_call *call, const char *key, const char *value,
                          int64_t expires_at_ms)
{
    if (!call || !call->plugin || !call->plugin->tokens)
        return -1;
    return token_cache_set(call->plugin->tokens, key, value, expires_at_ms, host_now_ms(call));
}

static void host_token_invalidate(struct sb_call *call, const char *key, const char *value)
{
    if (call && call->plugin)
        token_cache_invalidate(call->plugin->tokens, key, value);
}

/* An HTTP token (RFC 9110): what a header name may be made of. */
static bool is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p && strchr(extra, *p))))
            return false;
    return true;
}

static enum sb_status host_respond_header(struct sb_call *call, const char *name, const char *value)
{
    /* what send_answer and libmicrohttpd set: a plugin must not contradict them */
    static const char *const reserved[] = {
        "content-type", "content-length",    "cache-control", "allow", "connection",
        "date",         "transfer-encoding", "server",        NULL};
    if (call->kind != CALL_RECEIVE || !call->rx)
        return host_fail(call, "respond_header is only available in receive");
    struct receive_result *rx = call->rx;
    if (!name || !value || !is_token(name))
        return host_fail(call, "respond_header: '%s' is not a header name", name ? name : "");
    for (size_t i = 0; reserved[i]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return host_fail(call, "respond_header: the core sets %s itself", name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return host_fail(call, "respond_header: the value of %s holds a control character",
                             name);
    if (rx->n_headers >= RECEIVE_MAX_HEADERS)
        return host_fail(call, "respond_header: more than %d headers", RECEIVE_MAX_HEADERS);
    rx->headers[rx->n_headers].name = xstrdup(name);
    rx->headers[rx->n_headers].value = xstrdup(value);
    rx->n_headers++;
    return SB_OK;
}

const struct sb_host core_host = {
    .size = sizeof(struct sb_host),
    .abi_major = SB_ABI_MAJOR,
    .abi_minor = SB_ABI_MINOR,
    .core_version = SB_VERSION,
    .log = host_log,
    .fail = host_fail,
    .retry = host_retry,
    .set_output = host_set_output,
    .config_error = host_config_error,
    .param_string = host_param_string,
    .param_int = host_param_int,
    .param_bool = host_param_bool,
    .param_json = host_param_json,
    .render_param = host_render_param,
    .plugin_state = host_plugin_state,
    .state = host_state,
    .set_state = host_set_state,
    .idempotency_key = host_idempotency_key,
    .dry_run = host_dry_run,
    .now_ms = host_now_ms,
    .emit = host_emit,
    .respond = host_respond,
    .reject = host_reject,
    .header = host_header,
    .query_param = host_query_param,
    .schedule_next = host_schedule_next,
    .kv_get = host_kv_get,
    .kv_set = host_kv_set,
    .http = httpclient_host_request,
    .http_release = httpclient_response_release,
    .http_header = host_http_header,
    .hmac = crypto_hmac,
    .digest = crypto_digest,
    .ct_equal = crypto_ct_equal,
    .base64_encode = crypto_base64_encode,
    .base64_decode = crypto_base64_decode,
    .hex_encode = crypto_hex_encode,
    .md5_hex = crypto_md5_hex,
    .random_bytes = crypto_random_bytes,
    .url_encode = crypto_url_encode,
    .form_decode = host_form_decode,
    .free = host_free,
    .hex_decode = crypto_hex_decode,
    .hmac_verify = crypto_hmac_verify,
    .json_path = host_json_path,
    .public_url = host_public_url,
    .token_get = host_token_get,
    .token_set = host_token_set,
    .token_invalidate = host_token_invalidate,
    .respond_header = host_respond_header,
};
