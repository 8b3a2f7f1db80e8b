/* The stripe plugin against Stripe's own vectors (connectors.md 1.2):
 * stripe.webhook's receive driven through the core's host table as the
 * engine drives it (workflow loaded from a file, setup as in engine.c, the
 * clock fixed by a call hook), the raw HMAC vectors of stripe-node's
 * test/crypto/helpers.ts through the host's hmac, the negatives of
 * test/Webhook.spec.ts, and the form encoder (plugins/stripe/form.c,
 * compiled in) against stripe-node's encoding. */
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

/* the encoder under test, self-contained by design */
#include "../../plugins/stripe/form.c"

#define SECRET_ENV "SB_TEST_STRIPE_SECRET"
#define PREVIOUS_ENV "SB_TEST_STRIPE_PREVIOUS"

/* stripe-node test/Webhook.spec.ts: SECRET and
 * JSON.stringify({id: 'evt_test_webhook', object: 'event'}, null, 2) */
#define SPEC_SECRET "whsec_test_secret"
#define SPEC_PAYLOAD "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}"
#define SPEC_TS 1700000000LL
#define SPEC_SIG "4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150"
#define SPEC_HEADER "t=1700000000,v1=" SPEC_SIG

static struct plugin_set plugins;
static char workdir[64];
static int file_counter;

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms;

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
    int rc = plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/stripe.so", &d);
    rc |= plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/log.so", &d);
    if (rc != 0)
        diag_print(&d, stderr);
    diag_release(&d);
    snprintf(workdir, sizeof(workdir), "/tmp/sbstripeXXXXXX");
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

/* Write a workflow whose [trigger] is stripe.webhook with `lines`; the
 * secrets (when given) come through the environment. Returns the load
 * result; diag gets the problems. */
static int hook_load(struct hook *h, const char *secret, const char *previous, const char *lines,
                     struct diag *d)
{
    memset(h, 0, sizeof(*h));
    workflow_set_init(&h->set);
    char path[128];
    snprintf(path, sizeof(path), "%s/wf%d.ini", workdir, file_counter++);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "[trigger]\nuse = stripe.webhook\npath = t\n%s\n", lines ? lines : "");
    if (secret) {
        setenv(SECRET_ENV, secret, 1);
        fprintf(fp, "secret = ${env:" SECRET_ENV "}\n");
    }
    if (previous) {
        setenv(PREVIOUS_ENV, previous, 1);
        fprintf(fp, "previous_secret = ${env:" PREVIOUS_ENV "}\n");
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

/* Load and run setup as engine.c does, failing the test on any problem. */
static void hook_open(struct hook *h, const char *secret, const char *previous, const char *lines)
{
    struct diag d;
    diag_init(&d);
    if (hook_load(h, secret, previous, lines, &d) != 0) {
        diag_print(&d, stderr);
        diag_release(&d);
        fail_msg("the workflow did not load");
    }
    diag_release(&d);
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
    if (st != SB_OK)
        fail_msg("setup failed: %s", c.error.len ? strbuf_str(&c.error) : "");
    call_release(&c);
    h->set_up = true;
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

/* Call receive as ingress.c does, with a Stripe-Signature header (none
 * when sig is NULL). */
static enum sb_status receive(struct hook *h, const char *sig, const char *body,
                              struct receive_result *rx)
{
    memset(rx, 0, sizeof(*rx));
    struct sb_header headers[2] = {{"Content-Type", "application/json; charset=utf-8"},
                                   {"Stripe-Signature", sig}};
    struct sb_request req = {
        .size = sizeof(struct sb_request),
        .method = "POST",
        .path = "/hooks/t",
        .hook = "t",
        .query = "",
        .headers = headers,
        .n_headers = sig ? 2 : 1,
        .body = (const unsigned char *)body,
        .body_len = strlen(body),
        .content_type = "application/json; charset=utf-8",
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

/* Accepted with one event; the caller releases rx. */
static void expect_event(struct hook *h, const char *sig, const char *body,
                         struct receive_result *rx)
{
    enum sb_status st = receive(h, sig, body, rx);
    if (st != SB_OK || rx->rejected)
        fail_msg("rejected: %d %s", rx->status, rx->body ? rx->body : "(no reason)");
    assert_int_equal(rx->n_events, 1);
    assert_non_null(rx->events[0].payload);
}

static void expect_accepted(struct hook *h, const char *sig, const char *body)
{
    struct receive_result rx;
    expect_event(h, sig, body, &rx);
    receive_result_release(&rx);
}

static void expect_rejected(struct hook *h, const char *sig, const char *body, int status,
                            const char *why)
{
    struct receive_result rx;
    enum sb_status st = receive(h, sig, body, &rx);
    if (st != SB_FAIL || !rx.rejected)
        fail_msg("accepted (%zu events), wanted %d %s", rx.n_events, status, why);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, status);
    if (why && (!rx.body || !strstr(rx.body, why)))
        fail_msg("reason '%s', wanted '%s'", rx.body ? rx.body : "(null)", why);
    receive_result_release(&rx);
}

/* "t=<ts>,v1=<hex HMAC-SHA256(secret, ts.body)>", with OpenSSL directly,
 * not the core. */
static void sign(const char *secret, long long ts, const char *body, char *out, size_t outlen)
{
    char msg[4096];
    snprintf(msg, sizeof(msg), "%lld.%s", ts, body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg,
                         strlen(msg), mac, &n));
    size_t o = (size_t)snprintf(out, outlen, "t=%lld,v1=", ts);
    for (unsigned int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%02x", mac[i]);
}

/* --- the vectors ------------------------------------------------------------ */

static void test_raw_hmac_vectors(void **state)
{
    (void)state;
    /* stripe-node test/crypto/helpers.ts, through the host's hmac */
    static const struct {
        const char *payload;
        const char *hex;
    } vectors[] = {
        {"", "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd"},
        {"{\"obj1\":\"hello\",\"obj2\":\"world\"}",
         "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363"},
        {"\xf0\x9f\x98\x80", "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43"},
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct sb_bytes part = {vectors[i].payload, strlen(vectors[i].payload)};
        unsigned char mac[SB_HASH_MAX_SIZE];
        assert_int_equal(core_host.hmac(SB_HASH_SHA256, "test_secret", 11, &part, 1, mac), 32);
        char hex[65];
        assert_int_equal(core_host.hex_encode(mac, 32, hex, sizeof(hex)), 64);
        assert_string_equal(hex, vectors[i].hex);
        /* the tampered twin: one more byte, another digest */
        char twin[64];
        snprintf(twin, sizeof(twin), "%s ", vectors[i].payload);
        struct sb_bytes tpart = {twin, strlen(twin)};
        assert_int_equal(core_host.hmac(SB_HASH_SHA256, "test_secret", 11, &tpart, 1, mac), 32);
        core_host.hex_encode(mac, 32, hex, sizeof(hex));
        assert_string_not_equal(hex, vectors[i].hex);
    }
}

static void test_full_header_vector(void **state)
{
    (void)state;
    /* the vector is what the algorithm gives (checked with OpenSSL) */
    char sig[160];
    sign(SPEC_SECRET, SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    assert_string_equal(sig, SPEC_HEADER);

    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = SPEC_TS * 1000;
    struct receive_result rx;
    expect_event(&h, SPEC_HEADER, SPEC_PAYLOAD, &rx);
    assert_string_equal(rx.events[0].id, "evt_test_webhook");
    assert_string_equal(rx.events[0].source, "stripe");
    /* the body is stored exactly as sent */
    assert_non_null(rx.events[0].payload_json);
    assert_string_equal(rx.events[0].payload_json, SPEC_PAYLOAD);
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "object", &v));
    assert_string_equal(json_object_get_string(v), "event");
    receive_result_release(&rx);

    /* the secret is the whole whsec_ string: without the prefix, or
     * base64-decoded, it is another key */
    hook_close(&h);
    hook_open(&h, "test_secret", NULL, NULL);
    expect_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "No signatures found matching");
    hook_close(&h);
}

static void test_header_shape(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = SPEC_TS * 1000;
    /* stripe-node: "bad_header" */
    expect_rejected(&h, "bad_header", SPEC_PAYLOAD, 401,
                    "Unable to extract timestamp and signatures");
    expect_rejected(&h, NULL, SPEC_PAYLOAD, 401, "Unable to extract timestamp and signatures");
    expect_rejected(&h, "", SPEC_PAYLOAD, 401, "Unable to extract timestamp and signatures");
    expect_rejected(&h, "v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "Unable to extract timestamp and signatures");
    /* -1 is stripe-node's "no timestamp" */
    expect_rejected(&h, "t=-1,v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "Unable to extract timestamp and signatures");
    /* only v0 (the fake test-mode scheme): no downgrade */
    expect_rejected(&h,
                    "t=1700000000,v0="
                    "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
                    SPEC_PAYLOAD, 401, "No signatures found with expected scheme");
    /* even a v0 that carries the right value is not a v1 */
    expect_rejected(&h, "t=1700000000,v0=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "No signatures found with expected scheme");
    expect_rejected(&h, "t=1700000000", SPEC_PAYLOAD, 401,
                    "No signatures found with expected scheme");
    /* keys are exact: " v1" and "V1" are other schemes */
    expect_rejected(&h, "t=1700000000, v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "No signatures found with expected scheme");
    expect_rejected(&h, "t=1700000000,V1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "No signatures found with expected scheme");
    /* a timestamp that is not a number signs "NaN.<body>" in stripe-node */
    expect_rejected(&h, "t=abc,v1=" SPEC_SIG, SPEC_PAYLOAD, 401, "No signatures found matching");
    hook_close(&h);
}

static void test_any_v1_matches(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = SPEC_TS * 1000;
    /* stripe-node: header + ',v1=potato' passes */
    expect_accepted(&h, SPEC_HEADER ",v1=potato", SPEC_PAYLOAD);
    expect_accepted(&h, "t=1700000000,v1=potato,v1=" SPEC_SIG, SPEC_PAYLOAD);
    expect_accepted(&h, "v0=abc,v1=" SPEC_SIG ",t=1700000000,x=y", SPEC_PAYLOAD);
    expect_accepted(&h, SPEC_HEADER ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb0",
                    SPEC_PAYLOAD);
    /* parseInt reads leading zeros and stops at the first non-digit */
    expect_accepted(&h, "t=01700000000,v1=" SPEC_SIG, SPEC_PAYLOAD);
    /* ...but potato alone, or a signature one digit off, does not */
    expect_rejected(&h, "t=1700000000,v1=potato", SPEC_PAYLOAD, 401,
                    "No signatures found matching");
    char off[] = SPEC_HEADER;
    off[strlen(off) - 1] = off[strlen(off) - 1] == '0' ? '1' : '0';
    expect_rejected(&h, off, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* stripe-node compares the lowercase hex text: upper case does not match */
    char upper[] = SPEC_HEADER;
    for (char *p = upper + strlen("t=1700000000,v1="); *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    expect_rejected(&h, upper, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* a prefix or an extension of the signature does not match */
    expect_rejected(&h, "t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb", SPEC_PAYLOAD, 401,
                    "No signatures found matching");
    expect_rejected(&h, SPEC_HEADER "00", SPEC_PAYLOAD, 401, "No signatures found matching");
    /* the timestamp is part of what is signed */
    expect_rejected(&h, "t=1700000001,v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                    "No signatures found matching");
    hook_close(&h);
}

static void test_tampered_body(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = SPEC_TS * 1000;
    expect_rejected(&h, SPEC_HEADER,
                    "{\n  \"id\": \"evt_test_webhooK\",\n  \"object\": \"event\"\n}", 401,
                    "No signatures found matching");
    /* re-serialized (same JSON, other bytes) is tampered too */
    expect_rejected(&h, SPEC_HEADER, "{\"id\":\"evt_test_webhook\",\"object\":\"event\"}", 401,
                    "No signatures found matching");
    expect_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD "\n", 401, "No signatures found matching");
    hook_close(&h);
}

static void test_tolerance(void **state)
{
    (void)state;
    struct hook h;
    /* stripe-node: 15 s old with tolerance 10 fails */
    hook_open(&h, SPEC_SECRET, NULL, "tolerance = 10s");
    clock_ms = (SPEC_TS + 15) * 1000;
    expect_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "Timestamp outside the tolerance zone");
    hook_close(&h);
    /* ...and the same with 20 s passes */
    hook_open(&h, SPEC_SECRET, NULL, "tolerance = 20s");
    expect_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    hook_close(&h);

    /* the default is 300 s, and only an age above it fails */
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = (SPEC_TS + 300) * 1000 + 999;
    expect_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    clock_ms = (SPEC_TS + 301) * 1000;
    expect_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "Timestamp outside the tolerance zone");
    /* a stale delivery with a bad signature says the signature is bad
     * (stripe-node checks the signature first) */
    expect_rejected(&h, "t=1700000000,v1=potato", SPEC_PAYLOAD, 401,
                    "No signatures found matching");

    /* a future timestamp passes: stripe-node checks only the past */
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    sign(SPEC_SECRET, SPEC_TS + 3600, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_accepted(&h, sig, SPEC_PAYLOAD);
    sign(SPEC_SECRET, 99999999999LL, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_accepted(&h, sig, SPEC_PAYLOAD);
    /* a very old or negative one fails */
    sign(SPEC_SECRET, -5, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_rejected(&h, sig, SPEC_PAYLOAD, 401, "Timestamp outside the tolerance zone");
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    struct hook h;
    clock_ms = SPEC_TS * 1000;
    /* the old secret still verifies while it is previous_secret */
    hook_open(&h, "whsec_the_new_one", SPEC_SECRET, NULL);
    expect_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    char sig[160];
    sign("whsec_the_new_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_accepted(&h, sig, SPEC_PAYLOAD);
    sign("whsec_a_third_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_rejected(&h, sig, SPEC_PAYLOAD, 401, "No signatures found matching");
    hook_close(&h);
    /* without it, the old signature fails */
    hook_open(&h, "whsec_the_new_one", NULL, NULL);
    expect_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* Stripe signs with both secrets while rolling: one v1 per secret */
    sign("whsec_the_new_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    char both[256];
    snprintf(both, sizeof(both), "%s,v1=%s", SPEC_HEADER, sig + strlen("t=1700000000,v1="));
    expect_accepted(&h, both, SPEC_PAYLOAD);
    hook_close(&h);
}

static void test_event_fields(void **state)
{
    (void)state;
    const char *body = "{\"id\": \"evt_1Pgc76B7WZ01zgkWwyRHS12y\", \"object\": \"event\", "
                       "\"api_version\": null, \"created\": 1234567890, \"livemode\": false, "
                       "\"type\": \"payment_intent.succeeded\", \"data\": {\"object\": {\"id\": "
                       "\"pi_1\", \"object\": \"payment_intent\", \"amount\": 2000}}}";
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, "events = payment_intent.* checkout.session.completed");
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    sign(SPEC_SECRET, SPEC_TS, body, sig, sizeof(sig));
    struct receive_result rx;
    expect_event(&h, sig, body, &rx);
    assert_string_equal(rx.events[0].id, "evt_1Pgc76B7WZ01zgkWwyRHS12y");
    assert_string_equal(rx.events[0].type, "payment_intent.succeeded");
    assert_string_equal(rx.events[0].source, "stripe");
    assert_int_equal(rx.events[0].occurred_at_ms, 1234567890000LL);
    assert_string_equal(rx.events[0].payload_json, body);
    struct json_object *data, *obj, *amount;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "data", &data));
    assert_true(json_object_object_get_ex(data, "object", &obj));
    assert_true(json_object_object_get_ex(obj, "amount", &amount));
    assert_int_equal(json_object_get_int64(amount), 2000);
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_bodies_after_verification(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    /* a thin event is refused with a clear message */
    const char *thin = "{\"id\": \"evt_test_65R8\", \"object\": \"v2.core.event\", \"type\": "
                       "\"v1.billing.meter.error_report_triggered\"}";
    sign(SPEC_SECRET, SPEC_TS, thin, sig, sizeof(sig));
    expect_rejected(&h, sig, thin, 400,
                    "thin events (v2.core.event) are not supported: use an event destination "
                    "that sends snapshot events");
    /* not JSON, or not an object: 400, but only once the signature holds */
    const char *bad[] = {"{\"id\": ", "[1, 2]", "\"evt\"", "{\"id\": \"evt_1\"} trailing"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sign(SPEC_SECRET, SPEC_TS, bad[i], sig, sizeof(sig));
        expect_rejected(&h, sig, bad[i], 400, "not a JSON object");
        expect_rejected(&h, SPEC_HEADER, bad[i], 401, "No signatures found matching");
    }
    /* an event without id or type is kept (no dedupe id, no type) */
    const char *bare = "{\"object\": \"event\"}";
    sign(SPEC_SECRET, SPEC_TS, bare, sig, sizeof(sig));
    struct receive_result rx;
    expect_event(&h, sig, bare, &rx);
    assert_null(rx.events[0].id);
    assert_string_equal(rx.events[0].type, "");
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    struct hook h;
    struct diag d;
    /* the secret is required, and must be a reference */
    diag_init(&d);
    assert_int_equal(hook_load(&h, NULL, NULL, NULL, &d), -1);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, "secret") == 0 &&
                 strstr(d.items[i].message, "missing required parameter");
    assert_true(found);
    diag_release(&d);
    hook_close(&h);
    diag_init(&d);
    assert_int_equal(hook_load(&h, NULL, NULL, "secret = whsec_literal", &d), -1);
    found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, "secret") == 0 &&
                 strstr(d.items[i].message, "must be a reference");
    assert_true(found);
    diag_release(&d);
    hook_close(&h);
    /* the default tolerance is 300 s */
    hook_open(&h, SPEC_SECRET, NULL, NULL);
    struct json_object *v;
    assert_true(json_object_object_get_ex(h.params, "tolerance", &v));
    assert_int_equal(json_object_get_int64(v), 300000);
    hook_close(&h);
}

/* --- action parameters ---------------------------------------------------------- */

/* Load a workflow with one [step s] of `lines`; the number of errors, with
 * one for `key` containing `want` when want is given. */
static void expect_step_config(const char *lines, const char *key, const char *want)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/step%d.ini", workdir, file_counter++);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    setenv(SECRET_ENV, SPEC_SECRET, 1);
    setenv("SB_TEST_STRIPE_KEY", "sk_test_123", 1);
    fprintf(fp,
            "[trigger]\nuse = stripe.webhook\npath = t\nsecret = ${env:" SECRET_ENV "}\n\n"
            "[step s]\n%s%s\n",
            strstr(lines, "api_key") ? "" : "api_key = ${env:SB_TEST_STRIPE_KEY}\n", lines);
    fclose(fp);
    struct workflow_set set;
    workflow_set_init(&set);
    struct diag d;
    diag_init(&d);
    int rc = workflow_set_load_file(&set, path, &plugins, &d);
    unlink(path);
    bool found = false;
    for (size_t i = 0; key && i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, key) == 0 &&
                 strstr(d.items[i].message, want) != NULL;
    if (key && (rc == 0 || !found)) {
        diag_print(&d, stderr);
        fail_msg("no error for '%s' containing '%s' in:\n%s", key, want, lines);
    }
    if (!key && (rc != 0 || d.n)) {
        diag_print(&d, stderr);
        fail_msg("refused:\n%s", lines);
    }
    diag_release(&d);
    workflow_set_release(&set);
}

static void test_action_config(void **state)
{
    (void)state;
    /* good ones load without a word */
    expect_step_config("use = stripe.create_refund\npayment_intent = {{ event.data.object.id }}\n"
                       "amount = 500\nreason = requested_by_customer\nmetadata.ticket = T-1",
                       NULL, NULL);
    expect_step_config("use = stripe.create_refund\ncharge = ch_1\n"
                       "amount = {{ event.data.object.amount }}",
                       NULL, NULL);
    expect_step_config("use = stripe.request\nmethod = DELETE\npath = /v1/customers/cus_1", NULL,
                       NULL);
    expect_step_config("use = stripe.request\npath = /v1/customers\n"
                       "param.metadata[order_id] = 6735\nparam.expand[0] = tax",
                       NULL, NULL);
    expect_step_config("use = stripe.retrieve\nobject = checkout/sessions\n"
                       "id = {{ event.data.object.id }}\nexpand = line_items customer",
                       NULL, NULL);
    expect_step_config("use = stripe.create_customer\nemail = a@example.com\nmetadata.k = v", NULL,
                       NULL);
    /* refunds name exactly one payment */
    expect_step_config("use = stripe.create_refund\namount = 500", "payment_intent",
                       "exactly one of payment_intent and charge");
    expect_step_config("use = stripe.create_refund\npayment_intent = pi_1\ncharge = ch_1", "charge",
                       "exactly one of payment_intent and charge");
    /* amounts are whole minor units */
    const char *amounts[] = {"5.00", "-5", "0", "five", "1e3"};
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        char lines[128];
        snprintf(lines, sizeof(lines), "use = stripe.create_refund\ncharge = ch_1\namount = %s",
                 amounts[i]);
        expect_step_config(lines, "amount", "not a positive whole number");
    }
    expect_step_config("use = stripe.create_refund\ncharge = ch_1\nreason = because", "reason", "");
    /* paths and objects */
    expect_step_config("use = stripe.request\npath = v1/customers", "path", "starts with '/'");
    expect_step_config("use = stripe.request\npath = /v1/x\nmethod = PATCH", "method", "");
    const char *objects[] = {"/customers", "customers/", "Customers", "checkout//sessions",
                             "customers?x=1"};
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        char lines[128];
        snprintf(lines, sizeof(lines), "use = stripe.retrieve\nobject = %s\nid = x", objects[i]);
        expect_step_config(lines, "object", "not an object path");
    }
    /* the key is a secret: a literal is refused */
    expect_step_config("use = stripe.create_customer\napi_key = sk_test_literal", "api_key",
                       "must be a reference");
}

/* --- the form encoder ---------------------------------------------------------- */

static char *encode(const char *json)
{
    struct json_object *obj = json_tokener_parse(json);
    assert_non_null(obj);
    char *out = NULL;
    assert_int_equal(stripe_form_encode(&core_host, obj, &out), 0);
    json_object_put(obj);
    return out;
}

static void expect_form(const char *json, const char *want)
{
    char *got = encode(json);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  encoded as %s\n  wanted     %s", json, got, want);
    free(got);
}

static void test_form_encoding(void **state)
{
    (void)state;
    /* connectors.md 1.5's example request body */
    expect_form("{\"email\": \"jenny.rosen@example.com\", \"metadata\": {\"order_id\": \"6735\"}, "
                "\"expand\": [\"tax\"]}",
                "email=jenny.rosen%40example.com&metadata[order_id]=6735&expand[0]=tax");
    /* arrays of objects: qs indices */
    expect_form("{\"line_items\": [{\"price\": \"price_1\", \"quantity\": 2}, "
                "{\"price\": \"price_2\", \"quantity\": 1}]}",
                "line_items[0][price]=price_1&line_items[0][quantity]=2&"
                "line_items[1][price]=price_2&line_items[1][quantity]=1");
    /* deeper nesting */
    expect_form("{\"payment_method_options\": {\"card\": {\"installments\": {\"enabled\": true}}}}",
                "payment_method_options[card][installments][enabled]=true");
    /* percent-encoding: RFC 3986 unreserved kept, space as %20 (qs), UTF-8 */
    expect_form("{\"name\": \"Jenny Rosen\", \"description\": \"a+b&c=d/e?f~g_h.i-j\"}",
                "name=Jenny%20Rosen&description=a%2Bb%26c%3Dd%2Fe%3Ff~g_h.i-j");
    expect_form("{\"name\": \"Ren\\u00e9e \\ud83d\\ude00\"}", "name=Ren%C3%A9e%20%F0%9F%98%80");
    /* brackets are literal everywhere, as after stripe-node's replace */
    expect_form("{\"metadata\": {\"note\": \"[x]\"}}", "metadata[note]=[x]");
    expect_form("{\"metadata\": {\"order id\": \"6735\"}}", "metadata[order%20id]=6735");
    /* numbers, booleans, null (an empty value unsets), empty containers */
    expect_form("{\"amount\": 1999, \"livemode\": false, \"description\": null, "
                "\"metadata\": {}, \"expand\": []}",
                "amount=1999&livemode=false&description=");
    expect_form("{}", "");
    /* a key that already holds brackets is sent as is (param.<key> lines) */
    struct stripe_buf b = {0};
    struct json_object *v = json_object_new_string("6735");
    assert_int_equal(stripe_form_add(&core_host, &b, "metadata[order_id]", v), 0);
    json_object_put(v);
    v = json_object_new_string("line_items");
    assert_int_equal(stripe_form_add(&core_host, &b, "expand[0]", v), 0);
    json_object_put(v);
    assert_string_equal(b.data, "metadata[order_id]=6735&expand[0]=line_items");
    stripe_buf_release(&b);
    /* the decoder Stripe's side uses gives the structure back */
    char *form = encode("{\"metadata\": {\"order_id\": \"6735\", \"note\": \"a b+c\"}, "
                        "\"items\": [{\"price\": \"p1\"}]}");
    struct json_object *back = core_host.form_decode(form, strlen(form));
    assert_non_null(back);
    struct json_object *meta, *note, *items;
    assert_true(json_object_object_get_ex(back, "metadata", &meta));
    assert_true(json_object_object_get_ex(meta, "note", &note));
    assert_string_equal(json_object_get_string(note), "a b+c");
    assert_true(json_object_object_get_ex(back, "items", &items));
    json_object_put(back);
    free(form);
    /* nesting beyond 32 levels is refused, not overflowed */
    struct json_object *deep = json_object_new_string("x");
    for (int i = 0; i < 40; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "k", deep);
        deep = o;
    }
    char *out = NULL;
    assert_int_equal(stripe_form_encode(&core_host, deep, &out), -1);
    assert_null(out);
    json_object_put(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_hmac_vectors),
        cmocka_unit_test(test_full_header_vector),
        cmocka_unit_test(test_header_shape),
        cmocka_unit_test(test_any_v1_matches),
        cmocka_unit_test(test_tampered_body),
        cmocka_unit_test(test_tolerance),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_bodies_after_verification),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_action_config),
        cmocka_unit_test(test_form_encoding),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
