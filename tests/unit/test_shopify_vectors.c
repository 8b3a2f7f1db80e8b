/* The shopify.webhook trigger (plugins/shopify) driven through the core's
 * host table as the engine drives it (workflow loaded from a file, setup as
 * in engine.c, receive with a struct sb_request as ingress.c builds it).
 * The vector is that of connectors.md 5.4; its tampered twins must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "call.h"
#include "diag.h"
#include "loader.h"
#include "workflow.h"

#define PLUGIN "shopify"
#define TRIGGER "shopify.webhook"
#define SECRET_ENV "SB_TEST_SHOPIFY_SECRET"

#define SECRET "shpss_test_secret"
/* the exact bytes of the vector */
static const char order_body[] = "{\"id\":820982911946154508,\"name\":\"#9999\",\"total_price\":"
                                 "\"1575.90\",\"currency\":\"USD\","
                                 "\"customer\":{\"email\":\"john@example.com\"}}";
#define SIG "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVA="
#define DELIVERY "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"

static struct plugin_set plugins;
static char workdir[64];
static int file_counter;

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms = 1700000000000LL;

static int64_t fixed_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

static const struct call_hooks hooks = {.ctx = &clock_ms, .now_ms = fixed_now};

static int group_setup(void **state)
{
    (void)state;
    struct diag d;
    diag_init(&d);
    plugin_set_init(&plugins);
    int rc = plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/" PLUGIN ".so", &d);
    rc |= plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/log.so", &d);
    if (rc != 0)
        diag_print(&d, stderr);
    diag_release(&d);
    snprintf(workdir, sizeof(workdir), "/tmp/sb" PLUGIN "XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    plugin_set_release(&plugins);
    rmdir(workdir);
    return 0;
}

/* --- a loaded workflow with its trigger set up ------------------------------ */

struct hook {
    struct workflow_set set;
    struct workflow *wf;
    const struct loaded_trigger *t;
    struct json_object *params;
    void *state;
    bool set_up;
};

/* Write a workflow whose [trigger] is `use = TRIGGER` plus `lines` (the
 * secret, when given, is passed through the environment) and load it.
 * Returns the load result; diag gets the problems. */
static int hook_load(struct hook *h, const char *secret, const char *lines, struct diag *d)
{
    memset(h, 0, sizeof(*h));
    workflow_set_init(&h->set);
    char path[128];
    snprintf(path, sizeof(path), "%s/wf%d.ini", workdir, file_counter++);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "[trigger]\nuse = " TRIGGER "\npath = t\n%s\n", lines);
    if (secret) {
        setenv(SECRET_ENV, secret, 1);
        fprintf(fp, "secret = ${env:" SECRET_ENV "}\n");
    }
    fprintf(fp, "\n[step s]\nuse = log.write\nmessage = got one\n");
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

/* Run the trigger's setup as engine.c does; the status. */
static enum sb_status hook_setup(struct hook *h, char *err, size_t errlen)
{
    struct sb_call c;
    call_init(&c, CALL_SETUP, h->t->full_name);
    c.wf = h->wf;
    call_set_context(&c);
    c.plugin = h->t->plugin;
    c.table = &h->t->table;
    c.binding = &h->wf->trigger_params;
    c.params = h->params;
    c.state_slot = &h->state;
    enum sb_status st = h->t->desc.setup(&core_host, &c);
    if (err)
        snprintf(err, errlen, "%s", c.error.len ? strbuf_str(&c.error) : "");
    call_release(&c);
    h->set_up = st == SB_OK;
    return st;
}

/* Load and set up, failing the test on any problem. */
static void hook_open(struct hook *h, const char *secret, const char *lines)
{
    struct diag d;
    diag_init(&d);
    if (hook_load(h, secret, lines, &d) != 0) {
        diag_print(&d, stderr);
        diag_release(&d);
        fail_msg("the workflow did not load");
    }
    diag_release(&d);
    char err[512];
    if (hook_setup(h, err, sizeof(err)) != SB_OK)
        fail_msg("setup failed: %s", err);
    assert_non_null(h->state);
}

static void hook_close(struct hook *h)
{
    if (h->set_up && h->t->desc.teardown)
        h->t->desc.teardown(&core_host, h->state);
    json_object_put(h->params);
    workflow_set_release(&h->set);
    memset(h, 0, sizeof(*h));
}

/* Whether loading `lines` fails with an error on parameter `key` whose
 * message contains `what`. */
static bool load_fails_on(const char *secret, const char *lines, const char *key, const char *what)
{
    struct hook h;
    struct diag d;
    diag_init(&d);
    int rc = hook_load(&h, secret, lines, &d);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, key) == 0 &&
                 strstr(d.items[i].message, what) != NULL;
    if (!found)
        diag_print(&d, stderr);
    diag_release(&d);
    if (rc == 0)
        hook_close(&h);
    else
        workflow_set_release(&h.set);
    return rc != 0 && found;
}

/* --- requests ---------------------------------------------------------------- */

struct req {
    const char *method;
    struct sb_header headers[16];
    size_t n_headers;
    const char *body;
    size_t body_len;
    const char *content_type;
};

static void req_init(struct req *r, const char *content_type, const char *body)
{
    memset(r, 0, sizeof(*r));
    r->method = "POST";
    r->content_type = content_type;
    r->body = body;
    r->body_len = strlen(body);
    if (content_type)
        r->headers[r->n_headers++] = (struct sb_header){"Content-Type", content_type};
}

static void req_header(struct req *r, const char *name, const char *value)
{
    assert_true(r->n_headers < 16);
    r->headers[r->n_headers++] = (struct sb_header){name, value};
}

/* Call receive as ingress.c does. */
static enum sb_status receive(struct hook *h, const struct req *r, struct receive_result *rx)
{
    memset(rx, 0, sizeof(*rx));
    struct sb_request req = {
        .size = sizeof(struct sb_request),
        .method = r->method,
        .path = "/hooks/t",
        .hook = "t",
        .query = "",
        .query_params = NULL,
        .n_query_params = 0,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = (const unsigned char *)r->body,
        .body_len = r->body_len,
        .content_type = r->content_type ? r->content_type : "",
        .remote_addr = "127.0.0.1",
        .received_at_ms = clock_ms,
    };
    struct sb_call call;
    call_init(&call, CALL_RECEIVE, h->t->full_name);
    call.wf = h->wf;
    call_set_context(&call);
    call.plugin = h->t->plugin;
    call.table = &h->t->table;
    call.binding = &h->wf->trigger_params;
    call.params = h->params;
    call.state = h->state;
    call.rx = rx;
    call.hooks = &hooks;
    enum sb_status st = h->t->desc.receive(&core_host, &call, &req);
    call_release(&call);
    return st;
}

/* The request is accepted with one event; the caller releases rx. */
static void expect_event(struct hook *h, const struct req *r, struct receive_result *rx)
{
    enum sb_status st = receive(h, r, rx);
    if (st != SB_OK || rx->rejected)
        fail_msg("rejected: %d %s", rx->status, rx->body ? rx->body : "(no reason)");
    assert_int_equal(rx->n_events, 1);
    assert_non_null(rx->events[0].payload);
}

static void expect_accepted(struct hook *h, const struct req *r)
{
    struct receive_result rx;
    expect_event(h, r, &rx);
    receive_result_release(&rx);
}

/* The request is refused with `status` and a reason containing `why`. */
static void expect_rejected(struct hook *h, const struct req *r, int status, const char *why)
{
    struct receive_result rx;
    enum sb_status st = receive(h, r, &rx);
    if (st != SB_FAIL || !rx.rejected)
        fail_msg("accepted (status %d, %zu events), wanted %d %s", (int)st, rx.n_events, status,
                 why);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, status);
    if (why && (!rx.body || !strstr(rx.body, why)))
        fail_msg("reason '%s', wanted '%s'", rx.body ? rx.body : "(null)", why);
    receive_result_release(&rx);
}

/* base64(HMAC(md, key, parts...)) with OpenSSL directly, not the core. */
static void sig_b64(const EVP_MD *md, const char *key, const char *a, const char *b, char *out,
                    size_t out_size)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    unsigned char *msg = malloc(la + lb + 1);
    assert_non_null(msg);
    memcpy(msg, a, la);
    if (b)
        memcpy(msg + la, b, lb);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_non_null(HMAC(md, key, (int)strlen(key), msg, la + lb, mac, &n));
    free(msg);
    assert_true(4 * ((n + 2) / 3) + 1 <= out_size);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
}

/* --- the vector ---------------------------------------------------------------------- */

/* A delivery as Shopify sends it (the docs' header spellings). */
static void order_request(struct req *r, const char *body, const char *sig)
{
    req_init(r, "application/json", body);
    if (sig)
        req_header(r, "X-Shopify-Hmac-SHA256", sig);
    req_header(r, "X-Shopify-Topic", "orders/create");
    req_header(r, "X-Shopify-Shop-Domain", "my-store.myshopify.com");
    req_header(r, "X-Shopify-API-Version", "2025-01");
    req_header(r, "X-Shopify-Webhook-Id", DELIVERY);
    req_header(r, "X-Shopify-Triggered-At", "2024-06-26T16:33:21.123456Z");
}

static void test_vector(void **state)
{
    (void)state;
    char check[64];
    sig_b64(EVP_sha256(), SECRET, order_body, NULL, check, sizeof(check));
    assert_string_equal(check, SIG);

    struct hook h;
    hook_open(&h, SECRET, "events = orders/*");
    struct req r;
    order_request(&r, order_body, SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, DELIVERY);
    assert_string_equal(rx.events[0].type, "orders/create");
    assert_string_equal(rx.events[0].source, "shopify");
    /* the payload is the body itself, stored verbatim: the id above 2^53
     * keeps every digit (a double would make it 820982911946154500) */
    assert_non_null(rx.events[0].payload_json);
    assert_string_equal(rx.events[0].payload_json, order_body);
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "id", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_true(json_object_get_int64(v) == 820982911946154508LL);
    assert_true(json_object_object_get_ex(rx.events[0].payload, "name", &v));
    assert_string_equal(json_object_get_string(v), "#9999");
    /* headers are not in the payload: templates read trigger.headers */
    assert_false(json_object_object_get_ex(rx.events[0].payload, "shop_domain", NULL));
    assert_int_equal(json_object_object_length(rx.events[0].payload), 5);
    receive_result_release(&rx);
    assert_true(workflow_wants_type(h.wf, "orders/create"));
    assert_true(workflow_wants_type(h.wf, "orders/paid"));
    assert_false(workflow_wants_type(h.wf, "products/update"));

    /* tampered twins: one byte of the body (...508 -> ...509), a space
     * added (re-serialized), one character of the signature */
    char body[256];
    snprintf(body, sizeof(body), "%s", order_body);
    char *digit = strstr(body, "508");
    assert_non_null(digit);
    digit[2] = '9';
    order_request(&r, body, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    snprintf(body, sizeof(body), "%s ", order_body);
    order_request(&r, body, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    order_request(&r, order_body, "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dYsXOcCVA=");
    expect_rejected(&h, &r, 401, "invalid signature");
    /* the hex form of the same MAC, a truncated one, garbage */
    static const char *const bad[] = {
        "b310054475241fb15ea995a33115581a7a93127b195bb093bf7757b1739c0950",
        "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CT", "not*base64", "",
        /* only padding bits changed (A -> B): the same bytes, not the
         * canonical text; the reference library compares text */
        "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVB="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        order_request(&r, order_body, bad[i]);
        expect_rejected(&h, &r, 401, NULL);
    }
    hook_close(&h);
    /* another secret does not verify */
    hook_open(&h, "shpss_test_secreT", "events = orders/*");
    order_request(&r, order_body, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_header_names(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, "");
    static const char *const spellings[] = {"X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256",
                                            "X-SHOPIFY-HMAC-SHA256"};
    struct req r;
    for (size_t i = 0; i < 3; i++) {
        order_request(&r, order_body, NULL);
        req_header(&r, spellings[i], SIG);
        expect_accepted(&h, &r);
    }
    /* missing HMAC: 401 */
    order_request(&r, order_body, NULL);
    expect_rejected(&h, &r, 401, "missing");
    hook_close(&h);
}

static void test_unprefixed_headers(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, "");
    /* an events-style delivery: un-prefixed headers only */
    struct req r;
    req_init(&r, "application/json", order_body);
    req_header(&r, "shopify-hmac-sha256", SIG);
    req_header(&r, "shopify-topic", "orders/paid");
    req_header(&r, "shopify-shop-domain", "my-store.myshopify.com");
    req_header(&r, "X-Shopify-Webhook-Id", "d1");
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "orders/paid");
    assert_string_equal(rx.events[0].id, "d1");
    receive_result_release(&rx);
    /* both sets: the un-prefixed signature is the one checked */
    order_request(&r, order_body, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    req_header(&r, "shopify-hmac-sha256", SIG);
    expect_accepted(&h, &r);
    order_request(&r, order_body, SIG);
    req_header(&r, "shopify-hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    setenv("SB_TEST_SHOPIFY_PREVIOUS", SECRET, 1);
    struct hook h;
    hook_open(&h, "shpss_new_secret", "previous_secret = ${env:SB_TEST_SHOPIFY_PREVIOUS}");
    struct req r;
    order_request(&r, order_body, SIG);
    expect_accepted(&h, &r);
    char sig[64];
    sig_b64(EVP_sha256(), "shpss_new_secret", order_body, NULL, sig, sizeof(sig));
    order_request(&r, order_body, sig);
    expect_accepted(&h, &r);
    sig_b64(EVP_sha256(), "shpss_third", order_body, NULL, sig, sizeof(sig));
    order_request(&r, order_body, sig);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* without the previous secret, the old signature fails */
    hook_open(&h, "shpss_new_secret", "");
    order_request(&r, order_body, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_ids_topics_and_bodies(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, "");
    /* no delivery id: the core makes one */
    struct req r;
    req_init(&r, "application/json", order_body);
    req_header(&r, "X-Shopify-Hmac-Sha256", SIG);
    req_header(&r, "X-Shopify-Topic", "orders/updated");
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_null(rx.events[0].id);
    assert_string_equal(rx.events[0].type, "orders/updated");
    receive_result_release(&rx);
    /* no topic: refused (the official validator requires it) */
    req_init(&r, "application/json", order_body);
    req_header(&r, "X-Shopify-Hmac-Sha256", SIG);
    expect_rejected(&h, &r, 400, "X-Shopify-Topic");
    /* verified before parsing; a signed body that is not JSON is a 400 */
    char sig[64];
    sig_b64(EVP_sha256(), SECRET, "[1,2", NULL, sig, sizeof(sig));
    order_request(&r, "[1,2", sig);
    expect_rejected(&h, &r, 400, "not a JSON object");
    order_request(&r, "[1,2", SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    assert_true(
        load_fails_on(NULL, "events = orders/create", "secret", "missing required parameter"));
    assert_true(load_fails_on(SECRET, "shop = my-store", "shop", "unknown parameter"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_header_names),
        cmocka_unit_test(test_unprefixed_headers),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_ids_topics_and_bodies),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
