/* The trello.webhook trigger (plugins/trello) driven through the core's
 * host table as the engine drives it: the workflow is loaded from a file
 * (defaults and validate apply), setup runs as in engine.c, and receive
 * gets a struct sb_request as ingress.c builds it. Vectors are those of
 * connectors.md section 4.2; each has a tampered twin that must fail. */
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

/* connectors.md 4.2, vector 1 */
#define V1_SECRET "secret"
#define V1_BODY "{\"hello\":\"world\"}"
#define V1_URL "https://example.com/webhooks"
#define V1_SIG "FwPAcuGe9EP/+SbXFWjnEVTa0zw="
/* vector 2: UTF-8 in the body, a query string in the callback URL */
#define V2_SECRET "appsecret"
#define V2_BODY                                                                                    \
    "{\"action\":{\"type\":\"createCard\",\"data\":{\"card\":{\"name\":\"caf\xc3\xa9 "             \
    "\xe2\x80\x93 "                                                                                \
    "test\"}}}}"
#define V2_URL "https://example.com/trello?secret=abc"
#define V2_SIG "aqu9DlUv9BZqmlg3lBWwthbiiQ0="
#define V2_LEGACY_SIG "6KtiCZAzLbeq0YnVW+2Ob4sZkBI="

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "trello",
    .trigger = "trello.webhook",
    .secret_env = "SB_TEST_TRELLO_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

/* --- the vectors ------------------------------------------------------------------- */

static void trello_request(struct req *r, const char *body, const char *sig)
{
    req_init(r, "application/json", body);
    if (sig)
        req_header(r, "X-Trello-Webhook", sig);
}

static void test_vector_hello_world(void **state)
{
    (void)state;
    /* the vector is what OpenSSL computes, independently of the core */
    char check[64];
    sig_b64(EVP_sha1(), V1_SECRET, V1_BODY, V1_URL, "", check, sizeof(check));
    assert_string_equal(check, V1_SIG);

    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    struct req r;
    trello_request(&r, V1_BODY, V1_SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    /* no action in this body: typed "unknown", the core makes the id */
    assert_string_equal(rx.events[0].type, "unknown");
    assert_null(rx.events[0].id);
    /* deduplicated per hook path (the core's default source) */
    assert_null(rx.events[0].source);
    assert_string_equal(rx.events[0].payload_json, V1_BODY);
    receive_result_release(&rx);
    /* tampered twin: the body changed by one byte */
    trello_request(&r, "{\"hello\":\"worle\"}", V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* the signature changed by one character (not in the last one before
     * '=', whose low bits are padding that decoders ignore) */
    trello_request(&r, V1_BODY, "FwPAduGe9EP/+SbXFWjnEVTa0zw=");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);

    /* tampered twin: the callback URL registered differs by one byte */
    hook_open(&h, V1_SECRET, "callback_url = https://example.com/webhookz");
    trello_request(&r, V1_BODY, V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* a trailing slash is another URL too */
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL "/");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the API key or another secret does not verify */
    hook_open(&h, "secreT", "callback_url = " V1_URL);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_vector_utf8_and_query(void **state)
{
    (void)state;
    char check[64];
    sig_b64(EVP_sha1(), V2_SECRET, V2_BODY, V2_URL, "", check, sizeof(check));
    assert_string_equal(check, V2_SIG);

    struct hook h;
    hook_open(&h, V2_SECRET, "callback_url = " V2_URL);
    struct req r;
    trello_request(&r, V2_BODY, V2_SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "createCard");
    struct json_object *action, *data, *card, *name;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "action", &action));
    assert_true(json_object_object_get_ex(action, "data", &data));
    assert_true(json_object_object_get_ex(data, "card", &card));
    assert_true(json_object_object_get_ex(card, "name", &name));
    assert_string_equal(json_object_get_string(name), "caf\xc3\xa9 \xe2\x80\x93 test");
    receive_result_release(&rx);
    /* the legacy low-byte signature of the old docs is not accepted */
    trello_request(&r, V2_BODY, V2_LEGACY_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* tampered twin: one byte of the UTF-8 body changed (e9 -> e8) */
    trello_request(
        &r,
        "{\"action\":{\"type\":\"createCard\",\"data\":{\"card\":{\"name\":\"caf\xc3\xa8 "
        "\xe2\x80\x93 test\"}}}}",
        V2_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* tampered twin: the callback's query differs by one byte */
    hook_open(&h, V2_SECRET, "callback_url = https://example.com/trello?secret=abd");
    trello_request(&r, V2_BODY, V2_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the URL without its query string is not the registered URL */
    hook_open(&h, V2_SECRET, "callback_url = https://example.com/trello");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_head_check(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    /* the trigger says it takes HEAD, so ingress lets Trello's check in */
    assert_true(h.t->desc.methods & SB_METHOD_HEAD);
    assert_true(h.t->desc.methods & SB_METHOD_POST);
    assert_false(h.t->desc.methods & SB_METHOD_GET);
    struct req r;
    req_init(&r, NULL, "");
    r.method = "HEAD";
    struct receive_result rx;
    enum sb_status st = hook_receive(&h, &r, &rx);
    assert_int_equal(st, SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.n_events, 0);
    receive_result_release(&rx);
    /* a POST without a signature is not a check */
    req_init(&r, "application/json", "");
    expect_rejected(&h, &r, 401, "missing X-Trello-Webhook");
    hook_close(&h);
}

static void test_action_id_type_and_payload(void **state)
{
    (void)state;
    static const char body[] =
        "{\"action\":{\"id\":\"51f9424bcd6e040f3c002412\",\"idMemberCreator\":"
        "\"4fc78a59a885233f4b349bd9\",\"data\":{\"board\":{\"name\":\"Trello Development\",\"id\":"
        "\"4d5ea62fd76aa1136000000c\"},\"card\":{\"idShort\":1458,\"name\":\"Webhooks\",\"id\":"
        "\"51a79e72dbb7e23c7c003778\"},\"voted\":true},\"type\":\"voteOnCard\",\"date\":\"2013-07-"
        "31T16:58:51.949Z\"},\"model\":{\"id\":\"4d5ea62fd76aa1136000000c\",\"name\":\"Trello "
        "Development\"}}";
    const char *url = "https://hooks.example.org/hooks/trello";
    char sig[64];
    sig_b64(EVP_sha1(), "oauth-secret-1", body, url, "", sig, sizeof(sig));
    struct hook h;
    hook_open(&h, "oauth-secret-1",
              "callback_url = https://hooks.example.org/hooks/trello\nevents = voteOnCard "
              "createCard");
    struct req r;
    trello_request(&r, body, sig);
    /* header names are case-insensitive */
    r.headers[1].name = "x-trello-webhook";
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, "51f9424bcd6e040f3c002412");
    assert_string_equal(rx.events[0].type, "voteOnCard");
    /* deduplicated per hook path (the core's default source) */
    assert_null(rx.events[0].source);
    /* stored as sent */
    assert_non_null(rx.events[0].payload_json);
    assert_string_equal(rx.events[0].payload_json, body);
    receive_result_release(&rx);
    /* the workflow's events filter is over action.type */
    assert_true(workflow_wants_type(h.wf, "createCard"));
    assert_false(workflow_wants_type(h.wf, "updateCard"));
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    setenv("SB_TEST_TRELLO_PREVIOUS", V1_SECRET, 1);
    struct hook h;
    hook_open(&h, "the-new-secret",
              "callback_url = " V1_URL "\nprevious_secret = ${env:SB_TEST_TRELLO_PREVIOUS}");
    struct req r;
    trello_request(&r, V1_BODY, V1_SIG);
    expect_accepted(&h, &r);
    char sig[64];
    sig_b64(EVP_sha1(), "the-new-secret", V1_BODY, V1_URL, "", sig, sizeof(sig));
    trello_request(&r, V1_BODY, sig);
    expect_accepted(&h, &r);
    sig_b64(EVP_sha1(), "a-third-secret", V1_BODY, V1_URL, "", sig, sizeof(sig));
    trello_request(&r, V1_BODY, sig);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_malformed(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    struct req r;
    /* not base64, truncated, a SHA-256-sized value, the hex form */
    static const char *const bad[] = {
        "not*base64!", "FwPAcuGe9EP/+SbXFWjnEVTa", "",
        "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVA=", "1703c072e19ef443fff926d71568e71154dad33c",
        /* padding bits changed (w -> x): the same bytes, not the canonical
         * text */
        "FwPAcuGe9EP/+SbXFWjnEVTa0zx="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        trello_request(&r, V1_BODY, bad[i]);
        expect_rejected(&h, &r, 401, NULL);
    }
    hook_close(&h);
    /* verified before parsing: a signed body that is not JSON is a 400 */
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    char sig[64];
    sig_b64(EVP_sha1(), V1_SECRET, "{broken", V1_URL, "", sig, sizeof(sig));
    trello_request(&r, "{broken", sig);
    expect_rejected(&h, &r, 400, "not a JSON object");
    trello_request(&r, "{broken", V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    /* the callback URL must be known (callback_url, or a public URL), and a URL */
    expect_load_error(NULL, V1_SECRET, "events = createCard", NULL, "callback_url",
                      "Trello signs the callback URL, so it must be known");
    expect_load_error(NULL, V1_SECRET, "callback_url = example.com/hooks", NULL, "callback_url",
                      "not an http(s) URL");
    /* the secret is required and must be a reference */
    expect_load_error(NULL, NULL, "callback_url = " V1_URL, NULL, "secret",
                      "missing required parameter");
    expect_load_error(NULL, NULL, "callback_url = " V1_URL "\nsecret = literal", NULL, "secret",
                      "reference");
}

/* Without callback_url, Trello signs the trigger's public URL (its own
 * public_url here; [server] public_url + /hooks/<path> otherwise). */
static void test_public_url_is_the_callback(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, V1_SECRET, "public_url = " V1_URL);
    struct req r;
    trello_request(&r, V1_BODY, V1_SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    receive_result_release(&rx);
    hook_close(&h);
    /* callback_url wins over it */
    hook_open(&h, V1_SECRET, "public_url = " V1_URL "/other\ncallback_url = " V1_URL);
    expect_event(&h, &r, &rx);
    receive_result_release(&rx);
    hook_close(&h);
    hook_open(&h, V1_SECRET, "public_url = " V1_URL "/other");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_hello_world),
        cmocka_unit_test(test_vector_utf8_and_query),
        cmocka_unit_test(test_head_check),
        cmocka_unit_test(test_action_id_type_and_payload),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_public_url_is_the_callback),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
