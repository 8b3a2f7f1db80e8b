/* The wpforms.webhook trigger (plugins/wpforms) driven through the core's
 * host table as the engine drives it (tests/unit/harness). Vectors are
 * those of connectors.md section 11 (computed from the addon's PHP
 * source), recomputed here with OpenSSL, each with a tampered twin. Also
 * pinned: the 5-minute window, the refusal of form-format bodies, and the
 * dedupe id from the webhook id, t and v. */
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

#define SECRET "Xq7#pL2!vR9@kM4$wN8%tB3^yH6&zC1*dF5(gJ0)sA2-eU7_iO4+rT9=lK3~mW6b"
#define BODY                                                                                       \
    "{\"email\":\"ada@example.com\",\"first_name\":\"Ada\",\"interests\":\"CRM||Automation\","     \
    "\"page\":\"https:\\/\\/example.com\\/contact\\/\"}"
#define BODY_EVE                                                                                   \
    "{\"email\":\"ada@example.com\",\"first_name\":\"Eve\",\"interests\":\"CRM||Automation\","     \
    "\"page\":\"https:\\/\\/example.com\\/contact\\/\"}"
#define SIG "a7e6e6dae4a3aa7ee9d4060d9d8bc0139fdd6c181d5f9137f84bdb739ea5df23"
#define SIG_EVE "035b03549d6ef5ea079b0f60411e3ea0255eec4b3010aa5a6f6ad36dd1433cf3"
#define SIG_T1 "4f44a4208f3fdbece22d5d227cdac9106fb9047837edb43b57f42ed8c411b468"

static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "wpforms",
    .trigger = "wpforms.webhook",
    .secret_env = "SB_TEST_WPFORMS_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

static void wp_request(struct req *r, const char *body, const char *header)
{
    req_init(r, "application/json; charset=utf-8", body);
    if (header)
        req_header(r, "X-WPForms-Webhook-Signature", header);
    req_header(r, "X-WPForms-Webhook-Id", "3");
    req_header(r, "User-Agent", "wpforms-webhooks/1.4.0");
}

static void test_vectors(void **state)
{
    (void)state;
    char check[80];
    sig_hex(EVP_sha256(), SECRET, "1700000000.", BODY, "", check, sizeof(check));
    assert_string_equal(check, SIG);
    sig_hex(EVP_sha256(), SECRET, "1700000000.", BODY_EVE, "", check, sizeof(check));
    assert_string_equal(check, SIG_EVE);
    sig_hex(EVP_sha256(), SECRET, "1700000001.", BODY, "", check, sizeof(check));
    assert_string_equal(check, SIG_T1);

    clock_ms = 1700000000000LL;
    struct hook h;
    hook_open(&h, SECRET, NULL);
    struct req r;
    wp_request(&r, BODY, "t=1700000000,v=" SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "submission");
    assert_string_equal(rx.events[0].id, "3:1700000000:" SIG);
    assert_int_equal(rx.events[0].occurred_at_ms, 1700000000000LL);
    /* stored as sent, \/ and all */
    assert_string_equal(rx.events[0].payload_json, BODY);
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "page", &v));
    assert_string_equal(json_object_get_string(v), "https://example.com/contact/");
    assert_true(json_object_object_get_ex(rx.events[0].payload, "interests", &v));
    assert_string_equal(json_object_get_string(v), "CRM||Automation");
    receive_result_release(&rx);

    /* tampered twins: Eve for Ada, and t + 1, under the original v */
    wp_request(&r, BODY_EVE, "t=1700000000,v=" SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    wp_request(&r, BODY_EVE, "t=1700000000,v=" SIG_EVE);
    expect_accepted(&h, &r);
    wp_request(&r, BODY, "t=1700000001,v=" SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    wp_request(&r, BODY, "t=1700000001,v=" SIG_T1);
    expect_accepted(&h, &r);
    /* the body with / instead of \/ is other bytes */
    wp_request(&r,
               "{\"email\":\"ada@example.com\",\"first_name\":\"Ada\",\"interests\":\"CRM||"
               "Automation\",\"page\":\"https://example.com/contact/\"}",
               "t=1700000000,v=" SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* the order of t and v does not matter, nor spaces after commas */
    wp_request(&r, BODY, "v=" SIG ", t=1700000000");
    expect_accepted(&h, &r);
    hook_close(&h);
    /* another secret */
    hook_open(&h, "Xq7#pL2!vR9@kM4$wN8%tB3^yH6&zC1*dF5(gJ0)sA2-eU7_iO4+rT9=lK3~mW6c", NULL);
    wp_request(&r, BODY, "t=1700000000,v=" SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_window(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, NULL);
    struct req r;
    wp_request(&r, BODY, "t=1700000000,v=" SIG);
    clock_ms = 1700000300999LL; /* 300 s later, by whole seconds */
    expect_accepted(&h, &r);
    clock_ms = 1700000301000LL;
    expect_rejected(&h, &r, 401, "5 minutes");
    clock_ms = 1699999700000LL;
    expect_accepted(&h, &r);
    clock_ms = 1699999699000LL;
    expect_rejected(&h, &r, 401, "5 minutes");
    clock_ms = 1700000000000LL;
    hook_close(&h);
}

static void test_malformed_and_form_format(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, NULL);
    struct req r;
    static const char *const bad[] = {"",
                                      "t=1700000000",
                                      "v=" SIG,
                                      "t=,v=" SIG,
                                      "t=17e8,v=" SIG,
                                      "t=1700000000,v=",
                                      "garbage",
                                      "t=1700000000,v=" SIG "00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wp_request(&r, BODY, bad[i]);
        expect_rejected(&h, &r, 401, NULL);
    }
    wp_request(&r, BODY, NULL);
    expect_rejected(&h, &r, 401, "missing");
    /* form format: WPForms signed the JSON of the fields, not these bytes */
    req_init(&r, "application/x-www-form-urlencoded", "email=ada%40example.com&first_name=Ada");
    req_header(&r, "X-WPForms-Webhook-Signature", "t=1700000000,v=" SIG);
    expect_rejected(&h, &r, 415, "Request Format to JSON");
    /* signed, but not an object */
    char sig[80], header[120];
    sig_hex(EVP_sha256(), SECRET, "1700000000.", "[1,2]", "", sig, sizeof(sig));
    snprintf(header, sizeof(header), "t=1700000000,v=%s", sig);
    wp_request(&r, "[1,2]", header);
    expect_rejected(&h, &r, 400, "not a JSON object");
    hook_close(&h);
}

/* upper-case hex is the same signature, and the same delivery */
static void test_hex_case(void **state)
{
    (void)state;
    clock_ms = 1700000000000LL;
    struct hook h;
    hook_open(&h, SECRET, NULL);
    char upper[65];
    for (size_t i = 0; i <= 64; i++)
        upper[i] = (char)(SIG[i] >= 'a' && SIG[i] <= 'f' ? SIG[i] - 'a' + 'A' : SIG[i]);
    char header[100];
    snprintf(header, sizeof(header), "t=1700000000,v=%s", upper);
    struct req r;
    wp_request(&r, BODY, header);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, "3:1700000000:" SIG);
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_sign_callback(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, NULL);
    assert_non_null(h.t->desc.sign);
    struct sb_call c;
    call_init(&c, CALL_VALIDATE, "wpforms.webhook");
    c.plugin = h.t->plugin;
    struct json_object *params = json_object_new_object();
    json_object_object_add(params, "id", json_object_new_string("3"));
    c.params = params;
    struct sb_sign_request sreq = {sizeof(sreq), (const unsigned char *)BODY, strlen(BODY), SECRET,
                                   1700000000};
    assert_int_equal(h.t->desc.sign(&core_host, &c, &sreq), SB_OK);
    struct json_object *v;
    assert_true(json_object_object_get_ex(c.output, "X-WPForms-Webhook-Signature", &v));
    assert_string_equal(json_object_get_string(v), "t=1700000000,v=" SIG);
    assert_true(json_object_object_get_ex(c.output, "X-WPForms-Webhook-Id", &v));
    assert_string_equal(json_object_get_string(v), "3");
    call_release(&c);
    json_object_put(params);
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    expect_load_error(NULL, NULL, NULL, NULL, "secret", "missing required");
    expect_load_error(NULL, NULL, "secret = literal", NULL, "secret", "reference");
    struct hook h;
    expect_clean_load(&h, NULL, SECRET, NULL, NULL);
    hook_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_malformed_and_form_format),
        cmocka_unit_test(test_hex_case),
        cmocka_unit_test(test_sign_callback),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
