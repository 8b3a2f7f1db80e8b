/* The shopify.webhook trigger (plugins/shopify) driven through the core's
 * host table as the engine drives it (workflow loaded from a file, setup as
 * in engine.c, receive with a struct sb_request as ingress.c builds it).
 * The vector is that of connectors.md 5.4; its tampered twins must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "trigger_harness.h"

#define SECRET "shpss_test_secret"
/* the exact bytes of the vector */
static const char order_body[] = "{\"id\":820982911946154508,\"name\":\"#9999\",\"total_price\":"
                                 "\"1575.90\",\"currency\":\"USD\","
                                 "\"customer\":{\"email\":\"john@example.com\"}}";
#define SIG "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVA="
#define DELIVERY "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "shopify",
    .trigger = "shopify.webhook",
    .secret_env = "SB_TEST_SHOPIFY_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
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
    sig_b64(EVP_sha256(), SECRET, order_body, NULL, "", check, sizeof(check));
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
    sig_b64(EVP_sha256(), "shpss_new_secret", order_body, NULL, "", sig, sizeof(sig));
    order_request(&r, order_body, sig);
    expect_accepted(&h, &r);
    sig_b64(EVP_sha256(), "shpss_third", order_body, NULL, "", sig, sizeof(sig));
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
    sig_b64(EVP_sha256(), SECRET, "[1,2", NULL, "", sig, sizeof(sig));
    order_request(&r, "[1,2", sig);
    expect_rejected(&h, &r, 400, "not a JSON object");
    order_request(&r, "[1,2", SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    expect_load_error(NULL, NULL, "events = orders/create", NULL, "secret",
                      "missing required parameter");
    expect_load_error(NULL, SECRET, "shop_domain = my-store", NULL, "shop_domain",
                      "unknown parameter");
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
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
