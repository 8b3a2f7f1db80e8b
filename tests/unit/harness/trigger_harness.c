/*
 * trigger_harness: the workflow files, setup, receive and signature helpers
 * the unit vector tests share (see trigger_harness.h).
 */
#include "trigger_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/hmac.h>

#include "strbuf.h"

#define DEFAULT_STEP "[step s]\nuse = log.write\nmessage = got one"

static const struct trigger_harness *config;
static struct plugin_set plugins;
static char workdir[64];
static int file_counter;
static struct call_hooks clock_hooks;

static int64_t fixed_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* The trigger's durable kv, in memory: scope and key to value. */
#define KV_MAX 64
static struct kv_entry {
    char *scope, *key, *value;
} kv[KV_MAX];
static size_t kv_n;
static bool kv_broken;

static struct kv_entry *kv_find(const char *scope, const char *key)
{
    for (size_t i = 0; i < kv_n; i++)
        if (strcmp(kv[i].scope, scope) == 0 && strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

static int kv_put(const char *scope, const char *key, const char *value)
{
    struct kv_entry *e = kv_find(scope, key);
    if (!e) {
        if (kv_n == KV_MAX)
            return -1;
        e = &kv[kv_n++];
        e->scope = strdup(scope);
        e->key = strdup(key);
        e->value = NULL;
    }
    free(e->value);
    e->value = strdup(value);
    return 0;
}

static int harness_kv_get_hook(void *ctx, struct sb_call *call, const char *key, char **value)
{
    (void)ctx;
    *value = NULL;
    if (kv_broken)
        return -1;
    char scope[300];
    call_kv_scope(call->wf, call->what, scope, sizeof(scope));
    struct kv_entry *e = kv_find(scope, key);
    if (e)
        *value = strdup(e->value);
    return 0;
}

static int harness_kv_set_hook(void *ctx, struct sb_call *call, const char *key, const char *value)
{
    (void)ctx;
    if (kv_broken)
        return -1;
    char scope[300];
    call_kv_scope(call->wf, call->what, scope, sizeof(scope));
    return kv_put(scope, key, value);
}

void harness_kv_clear(void)
{
    for (size_t i = 0; i < kv_n; i++) {
        free(kv[i].scope);
        free(kv[i].key);
        free(kv[i].value);
    }
    kv_n = 0;
    kv_broken = false;
}

void harness_kv_set(const char *scope, const char *key, const char *value)
{
    assert_int_equal(kv_put(scope, key, value), 0);
}

const char *harness_kv_value(const char *scope, const char *key)
{
    struct kv_entry *e = kv_find(scope, key);
    return e ? e->value : NULL;
}

void harness_kv_break(bool broken)
{
    kv_broken = broken;
}

int trigger_harness_setup(const struct trigger_harness *cfg)
{
    config = cfg;
    clock_hooks = (struct call_hooks){.ctx = cfg->clock_ms,
                                      .now_ms = fixed_now,
                                      .kv_get = harness_kv_get_hook,
                                      .kv_set = harness_kv_set_hook};
    struct diag d;
    diag_init(&d);
    plugin_set_init(&plugins);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.so", SB_PLUGIN_DIR, cfg->plugin);
    int rc = plugin_set_load_file(&plugins, path, &d);
    rc |= plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/log.so", &d);
    if (rc != 0)
        diag_print(&d, stderr);
    diag_release(&d);
    snprintf(workdir, sizeof(workdir), "/tmp/sb%sXXXXXX", cfg->plugin);
    if (!mkdtemp(workdir))
        return -1;
    return rc;
}

int trigger_harness_teardown(void **state)
{
    (void)state;
    plugin_set_release(&plugins);
    harness_kv_clear();
    rmdir(workdir);
    return 0;
}

/* --- workflows ------------------------------------------------------------------ */

int hook_load_text(struct hook *h, const char *text, struct diag *d)
{
    memset(h, 0, sizeof(*h));
    workflow_set_init(&h->set);
    char path[128];
    snprintf(path, sizeof(path), "%s/wf%d.ini", workdir, file_counter++);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    int rc = workflow_set_load_file(&h->set, path, &plugins, d);
    unlink(path);
    if (rc == 0) {
        h->wf = h->set.items[0];
        h->t = h->wf->trigger;
        h->params = call_params_static(&h->t->table, &h->wf->trigger_params);
    }
    return rc;
}

/* The text of a workflow: the trigger keys start on line 4 (tests check
 * the lines of problems), the secret goes through the environment. Caller
 * releases sb. */
static void workflow_text(struct strbuf *sb, const char *trigger, const char *secret,
                          const char *lines, const char *step)
{
    strbuf_init(sb);
    strbuf_addf(sb, "[trigger]\nuse = %s\npath = t\n%s\n", trigger ? trigger : config->trigger,
                lines ? lines : "");
    if (secret) {
        setenv(config->secret_env, secret, 1);
        strbuf_addf(sb, "secret = ${env:%s}\n", config->secret_env);
    }
    if (!step)
        step = config->step ? config->step : DEFAULT_STEP;
    strbuf_addf(sb, "\n%s\n", step);
}

int hook_load(struct hook *h, const char *secret, const char *lines, struct diag *d)
{
    struct strbuf text;
    workflow_text(&text, NULL, secret, lines, NULL);
    int rc = hook_load_text(h, strbuf_str(&text), d);
    strbuf_release(&text);
    return rc;
}

/* Load `text`, failing the test on an error (on a warning too when
 * `quiet`). */
static void load_or_fail(struct hook *h, const char *text, bool quiet)
{
    struct diag d;
    diag_init(&d);
    if (hook_load_text(h, text, &d) != 0 || (quiet && d.n != 0)) {
        diag_print(&d, stderr);
        diag_release(&d);
        fail_msg("the workflow did not load%s:\n%s", quiet ? " without a word" : "", text);
    }
    diag_release(&d);
}

/* A call of `kind` to h's trigger, its context as engine.c and ingress.c
 * set it; the caller adds the rest and releases it with call_release. */
static void trigger_call_init(struct sb_call *c, enum call_kind kind, const struct hook *h)
{
    call_init(c, kind, h->t->full_name);
    c->wf = h->wf;
    call_set_context(c);
    c->plugin = h->t->plugin;
    c->table = &h->t->table;
    c->binding = &h->wf->trigger_params;
}

/* Run the trigger's setup as engine.c does, failing the test when it
 * refuses. */
static void setup_or_fail(struct hook *h)
{
    assert_non_null(h->t->desc.setup);
    struct sb_call c;
    trigger_call_init(&c, CALL_SETUP, h);
    c.params = h->params;
    c.state_slot = &h->state;
    enum sb_status st = h->t->desc.setup(&core_host, &c);
    char err[512];
    snprintf(err, sizeof(err), "%s", c.error.len ? strbuf_str(&c.error) : "");
    call_release(&c);
    h->set_up = st == SB_OK;
    if (st != SB_OK)
        fail_msg("setup failed: %s", err);
    assert_non_null(h->state);
}

void hook_open(struct hook *h, const char *secret, const char *lines)
{
    struct strbuf text;
    workflow_text(&text, NULL, secret, lines, NULL);
    load_or_fail(h, strbuf_str(&text), false);
    strbuf_release(&text);
    setup_or_fail(h);
}

void hook_close(struct hook *h)
{
    if (h->set_up && h->t->desc.teardown)
        h->t->desc.teardown(&core_host, h->state);
    json_object_put(h->params);
    workflow_set_release(&h->set);
    memset(h, 0, sizeof(*h));
}

void expect_loads(struct hook *h, const char *text)
{
    load_or_fail(h, text, false);
}

void expect_clean_load(struct hook *h, const char *trigger, const char *secret, const char *lines,
                       const char *step)
{
    struct strbuf text;
    workflow_text(&text, trigger, secret, lines, step);
    load_or_fail(h, strbuf_str(&text), true);
    strbuf_release(&text);
}

void expect_text_load_error(const char *text, const char *key, const char *want)
{
    struct hook h;
    struct diag d;
    diag_init(&d);
    int rc = hook_load_text(&h, text, &d);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, key) == 0 &&
                 strstr(d.items[i].message, want) != NULL;
    if (rc != -1 || !found) {
        diag_print(&d, stderr);
        fail_msg("no error for '%s' containing '%s' in:\n%s", key, want, text);
    }
    diag_release(&d);
    hook_close(&h);
}

void expect_load_error(const char *trigger, const char *secret, const char *lines, const char *step,
                       const char *key, const char *want)
{
    struct strbuf text;
    workflow_text(&text, trigger, secret, lines, step);
    expect_text_load_error(strbuf_str(&text), key, want);
    strbuf_release(&text);
}

/* --- requests ---------------------------------------------------------------------- */

void req_init(struct req *r, const char *content_type, const char *body)
{
    memset(r, 0, sizeof(*r));
    r->method = "POST";
    r->content_type = content_type;
    r->body = body ? body : "";
    r->body_len = strlen(r->body);
    if (content_type)
        r->headers[r->n_headers++] = (struct sb_header){"Content-Type", content_type};
}

void req_header(struct req *r, const char *name, const char *value)
{
    assert_true(r->n_headers < REQ_MAX_HEADERS);
    r->headers[r->n_headers++] = (struct sb_header){name, value};
}

void req_query(struct req *r, const char *name, const char *value)
{
    assert_true(r->n_query < REQ_MAX_QUERY);
    r->query[r->n_query++] = (struct sb_header){name, value};
}

enum sb_status hook_receive(struct hook *h, const struct req *r, struct receive_result *rx)
{
    memset(rx, 0, sizeof(*rx));
    char path[512];
    snprintf(path, sizeof(path), "/hooks/%s", h->wf->hook);
    struct sb_request req = {
        .size = sizeof(struct sb_request),
        .method = r->method,
        .path = path,
        .hook = h->wf->hook,
        .query = r->raw_query ? r->raw_query : "",
        .query_params = r->query,
        .n_query_params = r->n_query,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = (const unsigned char *)r->body,
        .body_len = r->body_len,
        .content_type = r->content_type ? r->content_type : "",
        .remote_addr = "127.0.0.1",
        .received_at_ms = *config->clock_ms,
    };
    struct sb_call call;
    trigger_call_init(&call, CALL_RECEIVE, h);
    /* a private copy for the call, as ingress.c gives it */
    call.params = call_params_copy(h->params);
    call.state = h->state;
    call.rx = rx;
    call.hooks = &clock_hooks;
    enum sb_status st = h->t->desc.receive(&core_host, &call, &req);
    json_object_put(call.params);
    call_release(&call);
    return st;
}

void expect_event(struct hook *h, const struct req *r, struct receive_result *rx)
{
    enum sb_status st = hook_receive(h, r, rx);
    if (st != SB_OK || rx->rejected)
        fail_msg("rejected: %d %s", rx->status, rx->body ? rx->body : "(no reason)");
    assert_int_equal(rx->n_events, 1);
    assert_non_null(rx->events[0].payload);
}

void expect_accepted(struct hook *h, const struct req *r)
{
    struct receive_result rx;
    expect_event(h, r, &rx);
    receive_result_release(&rx);
}

void expect_rejected(struct hook *h, const struct req *r, int status, const char *why)
{
    struct receive_result rx;
    enum sb_status st = hook_receive(h, r, &rx);
    if (st != SB_FAIL || !rx.rejected)
        fail_msg("accepted (status %d, %zu events), wanted %d %s", (int)st, rx.n_events, status,
                 why ? why : "");
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, status);
    if (why && (!rx.body || !strstr(rx.body, why)))
        fail_msg("reason '%s', wanted '%s'", rx.body ? rx.body : "(null)", why);
    receive_result_release(&rx);
}

/* --- signatures ----------------------------------------------------------------------- */

/* `prefix` then HMAC(md, key, a || b), in hex or base64, into out. */
static void sig_text(const EVP_MD *md, const void *key, size_t key_len, const char *a,
                     const char *b, const char *prefix, bool base64, char *out, size_t out_size)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    unsigned char *msg = malloc(la + lb + 1);
    assert_non_null(msg);
    memcpy(msg, a, la);
    if (b)
        memcpy(msg + la, b, lb);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_non_null(HMAC(md, key, (int)key_len, msg, la + lb, mac, &n));
    free(msg);
    size_t o = strlen(prefix);
    size_t need = o + (base64 ? 4 * ((n + 2) / 3) : 2 * (size_t)n) + 1;
    if (need > out_size)
        fail_msg("a signature of %zu bytes does not fit in %zu", need, out_size);
    memcpy(out, prefix, o);
    if (base64) {
        EVP_EncodeBlock((unsigned char *)out + o, mac, (int)n);
        return;
    }
    for (unsigned int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, out_size - o, "%02x", mac[i]);
    out[o] = '\0';
}

void sig_hex(const EVP_MD *md, const char *key, const char *a, const char *b, const char *prefix,
             char *out, size_t out_size)
{
    sig_text(md, key, strlen(key), a, b, prefix, false, out, out_size);
}

void sig_b64(const EVP_MD *md, const char *key, const char *a, const char *b, const char *prefix,
             char *out, size_t out_size)
{
    sig_text(md, key, strlen(key), a, b, prefix, true, out, out_size);
}

void sig_b64_key(const EVP_MD *md, const unsigned char *key, size_t key_len, const char *a,
                 const char *b, const char *prefix, char *out, size_t out_size)
{
    sig_text(md, key, key_len, a, b, prefix, true, out, out_size);
}
