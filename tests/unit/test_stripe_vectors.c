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

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "trigger_harness.h"

/* the encoder under test, self-contained by design */
#include "../../plugins/stripe/form.c"

#define PREVIOUS_ENV "SB_TEST_STRIPE_PREVIOUS"

/* stripe-node test/Webhook.spec.ts: SECRET and
 * JSON.stringify({id: 'evt_test_webhook', object: 'event'}, null, 2) */
#define SPEC_SECRET "whsec_test_secret"
#define SPEC_PAYLOAD "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}"
#define SPEC_TS 1700000000LL
#define SPEC_SIG "4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150"
#define SPEC_HEADER "t=1700000000,v1=" SPEC_SIG

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms;

static const struct trigger_harness harness = {
    .plugin = "stripe",
    .trigger = "stripe.webhook",
    .secret_env = "SB_TEST_STRIPE_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

/* --- deliveries ------------------------------------------------------------- */

/* A delivery as Stripe sends it: body with a Stripe-Signature header (none
 * when sig is NULL). */
static void delivery(struct req *r, const char *sig, const char *body)
{
    req_init(r, "application/json; charset=utf-8", body);
    if (sig)
        req_header(r, "Stripe-Signature", sig);
}

/* Accepted with one event; the caller releases rx. */
static void expect_delivery_event(struct hook *h, const char *sig, const char *body,
                                  struct receive_result *rx)
{
    struct req r;
    delivery(&r, sig, body);
    expect_event(h, &r, rx);
}

static void expect_delivery_accepted(struct hook *h, const char *sig, const char *body)
{
    struct req r;
    delivery(&r, sig, body);
    expect_accepted(h, &r);
}

static void expect_delivery_rejected(struct hook *h, const char *sig, const char *body, int status,
                                     const char *why)
{
    struct req r;
    delivery(&r, sig, body);
    expect_rejected(h, &r, status, why);
}

/* "t=<ts>,v1=<hex HMAC-SHA256(secret, ts.body)>", with OpenSSL directly,
 * not the core. */
static void sign(const char *secret, long long ts, const char *body, char *out, size_t outlen)
{
    char signed_ts[32], prefix[48];
    snprintf(signed_ts, sizeof(signed_ts), "%lld.", ts);
    snprintf(prefix, sizeof(prefix), "t=%lld,v1=", ts);
    sig_hex(EVP_sha256(), secret, signed_ts, body, prefix, out, outlen);
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
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = SPEC_TS * 1000;
    struct receive_result rx;
    expect_delivery_event(&h, SPEC_HEADER, SPEC_PAYLOAD, &rx);
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
    hook_open(&h, "test_secret", NULL);
    expect_delivery_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "No signatures found matching");
    hook_close(&h);
}

static void test_header_shape(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = SPEC_TS * 1000;
    /* stripe-node: "bad_header" */
    expect_delivery_rejected(&h, "bad_header", SPEC_PAYLOAD, 401,
                             "Unable to extract timestamp and signatures");
    expect_delivery_rejected(&h, NULL, SPEC_PAYLOAD, 401,
                             "Unable to extract timestamp and signatures");
    expect_delivery_rejected(&h, "", SPEC_PAYLOAD, 401,
                             "Unable to extract timestamp and signatures");
    expect_delivery_rejected(&h, "v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "Unable to extract timestamp and signatures");
    /* -1 is stripe-node's "no timestamp" */
    expect_delivery_rejected(&h, "t=-1,v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "Unable to extract timestamp and signatures");
    /* only v0 (the fake test-mode scheme): no downgrade */
    expect_delivery_rejected(&h,
                             "t=1700000000,v0="
                             "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
                             SPEC_PAYLOAD, 401, "No signatures found with expected scheme");
    /* even a v0 that carries the right value is not a v1 */
    expect_delivery_rejected(&h, "t=1700000000,v0=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "No signatures found with expected scheme");
    expect_delivery_rejected(&h, "t=1700000000", SPEC_PAYLOAD, 401,
                             "No signatures found with expected scheme");
    /* keys are exact: " v1" and "V1" are other schemes */
    expect_delivery_rejected(&h, "t=1700000000, v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "No signatures found with expected scheme");
    expect_delivery_rejected(&h, "t=1700000000,V1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "No signatures found with expected scheme");
    /* a timestamp that is not a number signs "NaN.<body>" in stripe-node */
    expect_delivery_rejected(&h, "t=abc,v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "No signatures found matching");
    hook_close(&h);
}

static void test_any_v1_matches(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = SPEC_TS * 1000;
    /* stripe-node: header + ',v1=potato' passes */
    expect_delivery_accepted(&h, SPEC_HEADER ",v1=potato", SPEC_PAYLOAD);
    expect_delivery_accepted(&h, "t=1700000000,v1=potato,v1=" SPEC_SIG, SPEC_PAYLOAD);
    expect_delivery_accepted(&h, "v0=abc,v1=" SPEC_SIG ",t=1700000000,x=y", SPEC_PAYLOAD);
    expect_delivery_accepted(
        &h, SPEC_HEADER ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb0",
        SPEC_PAYLOAD);
    /* parseInt reads leading zeros and stops at the first non-digit */
    expect_delivery_accepted(&h, "t=01700000000,v1=" SPEC_SIG, SPEC_PAYLOAD);
    /* ...but potato alone, or a signature one digit off, does not */
    expect_delivery_rejected(&h, "t=1700000000,v1=potato", SPEC_PAYLOAD, 401,
                             "No signatures found matching");
    char off[] = SPEC_HEADER;
    off[strlen(off) - 1] = off[strlen(off) - 1] == '0' ? '1' : '0';
    expect_delivery_rejected(&h, off, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* stripe-node compares the lowercase hex text: upper case does not match */
    char upper[] = SPEC_HEADER;
    for (char *p = upper + strlen("t=1700000000,v1="); *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    expect_delivery_rejected(&h, upper, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* a prefix or an extension of the signature does not match */
    expect_delivery_rejected(&h, "t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb", SPEC_PAYLOAD,
                             401, "No signatures found matching");
    expect_delivery_rejected(&h, SPEC_HEADER "00", SPEC_PAYLOAD, 401,
                             "No signatures found matching");
    /* the timestamp is part of what is signed */
    expect_delivery_rejected(&h, "t=1700000001,v1=" SPEC_SIG, SPEC_PAYLOAD, 401,
                             "No signatures found matching");
    hook_close(&h);
}

static void test_tampered_body(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = SPEC_TS * 1000;
    expect_delivery_rejected(&h, SPEC_HEADER,
                             "{\n  \"id\": \"evt_test_webhooK\",\n  \"object\": \"event\"\n}", 401,
                             "No signatures found matching");
    /* re-serialized (same JSON, other bytes) is tampered too */
    expect_delivery_rejected(&h, SPEC_HEADER, "{\"id\":\"evt_test_webhook\",\"object\":\"event\"}",
                             401, "No signatures found matching");
    expect_delivery_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD "\n", 401,
                             "No signatures found matching");
    hook_close(&h);
}

static void test_tolerance(void **state)
{
    (void)state;
    struct hook h;
    /* stripe-node: 15 s old with tolerance 10 fails */
    hook_open(&h, SPEC_SECRET, "tolerance = 10s");
    clock_ms = (SPEC_TS + 15) * 1000;
    expect_delivery_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401,
                             "Timestamp outside the tolerance zone");
    hook_close(&h);
    /* ...and the same with 20 s passes */
    hook_open(&h, SPEC_SECRET, "tolerance = 20s");
    expect_delivery_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    hook_close(&h);

    /* the default is 300 s, and only an age above it fails */
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = (SPEC_TS + 300) * 1000 + 999;
    expect_delivery_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    clock_ms = (SPEC_TS + 301) * 1000;
    expect_delivery_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401,
                             "Timestamp outside the tolerance zone");
    /* a stale delivery with a bad signature says the signature is bad
     * (stripe-node checks the signature first) */
    expect_delivery_rejected(&h, "t=1700000000,v1=potato", SPEC_PAYLOAD, 401,
                             "No signatures found matching");

    /* a future timestamp passes: stripe-node checks only the past */
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    sign(SPEC_SECRET, SPEC_TS + 3600, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_delivery_accepted(&h, sig, SPEC_PAYLOAD);
    sign(SPEC_SECRET, 99999999999LL, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_delivery_accepted(&h, sig, SPEC_PAYLOAD);
    /* a very old or negative one fails */
    sign(SPEC_SECRET, -5, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_delivery_rejected(&h, sig, SPEC_PAYLOAD, 401, "Timestamp outside the tolerance zone");
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    struct hook h;
    clock_ms = SPEC_TS * 1000;
    /* the old secret still verifies while it is previous_secret */
    setenv(PREVIOUS_ENV, SPEC_SECRET, 1);
    hook_open(&h, "whsec_the_new_one", "previous_secret = ${env:" PREVIOUS_ENV "}");
    expect_delivery_accepted(&h, SPEC_HEADER, SPEC_PAYLOAD);
    char sig[160];
    sign("whsec_the_new_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_delivery_accepted(&h, sig, SPEC_PAYLOAD);
    sign("whsec_a_third_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    expect_delivery_rejected(&h, sig, SPEC_PAYLOAD, 401, "No signatures found matching");
    hook_close(&h);
    /* without it, the old signature fails */
    hook_open(&h, "whsec_the_new_one", NULL);
    expect_delivery_rejected(&h, SPEC_HEADER, SPEC_PAYLOAD, 401, "No signatures found matching");
    /* Stripe signs with both secrets while rolling: one v1 per secret */
    sign("whsec_the_new_one", SPEC_TS, SPEC_PAYLOAD, sig, sizeof(sig));
    char both[256];
    snprintf(both, sizeof(both), "%s,v1=%s", SPEC_HEADER, sig + strlen("t=1700000000,v1="));
    expect_delivery_accepted(&h, both, SPEC_PAYLOAD);
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
    hook_open(&h, SPEC_SECRET, "events = payment_intent.* checkout.session.completed");
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    sign(SPEC_SECRET, SPEC_TS, body, sig, sizeof(sig));
    struct receive_result rx;
    expect_delivery_event(&h, sig, body, &rx);
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
    hook_open(&h, SPEC_SECRET, NULL);
    clock_ms = SPEC_TS * 1000;
    char sig[160];
    /* a thin event is refused with a clear message */
    const char *thin = "{\"id\": \"evt_test_65R8\", \"object\": \"v2.core.event\", \"type\": "
                       "\"v1.billing.meter.error_report_triggered\"}";
    sign(SPEC_SECRET, SPEC_TS, thin, sig, sizeof(sig));
    expect_delivery_rejected(
        &h, sig, thin, 400,
        "thin events (v2.core.event) are not supported: use an event destination "
        "that sends snapshot events");
    /* not JSON, or not an object: 400, but only once the signature holds */
    const char *bad[] = {"{\"id\": ", "[1, 2]", "\"evt\"", "{\"id\": \"evt_1\"} trailing"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sign(SPEC_SECRET, SPEC_TS, bad[i], sig, sizeof(sig));
        expect_delivery_rejected(&h, sig, bad[i], 400, "not a JSON object");
        expect_delivery_rejected(&h, SPEC_HEADER, bad[i], 401, "No signatures found matching");
    }
    /* an event without id or type is kept (no dedupe id, no type) */
    const char *bare = "{\"object\": \"event\"}";
    sign(SPEC_SECRET, SPEC_TS, bare, sig, sizeof(sig));
    struct receive_result rx;
    expect_delivery_event(&h, sig, bare, &rx);
    assert_null(rx.events[0].id);
    assert_string_equal(rx.events[0].type, "");
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    /* a secret, or an api_key to register the endpoint and keep its secret;
     * and it must be a reference */
    expect_load_error(NULL, NULL, NULL, NULL, "secret",
                      "set secret (the endpoint's signing secret, whsec_...), or api_key");
    expect_load_error(NULL, NULL, "secret = whsec_literal", NULL, "secret", "must be a reference");
    struct hook h;
    /* the default tolerance is 300 s */
    hook_open(&h, SPEC_SECRET, NULL);
    struct json_object *v;
    assert_true(json_object_object_get_ex(h.params, "tolerance", &v));
    assert_int_equal(json_object_get_int64(v), 300000);
    hook_close(&h);
}

/* --- action parameters ---------------------------------------------------------- */

/* A workflow with one [step s] of `lines` (and the API key unless lines
 * gives one) must load without a word when key is NULL, else fail with a
 * problem for `key` containing `want`. */
static void expect_step_config(const char *lines, const char *key, const char *want)
{
    setenv("SB_TEST_STRIPE_KEY", "sk_test_123", 1);
    char step[1024];
    snprintf(step, sizeof(step), "[step s]\n%s%s",
             strstr(lines, "api_key") ? "" : "api_key = ${env:SB_TEST_STRIPE_KEY}\n", lines);
    if (key) {
        expect_load_error(NULL, SPEC_SECRET, NULL, step, key, want);
        return;
    }
    struct hook h;
    expect_clean_load(&h, NULL, SPEC_SECRET, NULL, step);
    hook_close(&h);
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
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
