/* The hubspot.webhook trigger (plugins/hubspot) driven through the core's
 * host table as the engine drives it (tests/unit/harness). Vectors are
 * those of connectors.md section 8.2, computed with HubSpot's own SDK;
 * each is recomputed here with OpenSSL and has a tampered twin that must
 * fail. Also pinned: the 5-minute window on the millisecond timestamp,
 * the URI decoding rule, one event per array element with the composite
 * dedupe id, and the configuration rules. */
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

#include "strbuf.h"
#include "trigger_harness.h"

#define SECRET "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
#define URL "https://www.example.com/webhook_uri"
#define V1_BODY                                                                                    \
    "[{\"eventId\":1,\"subscriptionId\":12345,\"portalId\":62515,\"occurredAt\":1564113600000,"    \
    "\"subscriptionType\":\"contact.creation\",\"attemptNumber\":0,\"objectId\":123,"              \
    "\"changeSource\":\"CRM\",\"changeFlag\":\"NEW\",\"appId\":54321}]"
#define V1_SIG "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
#define V1_TAMPERED_SIG "e41cabe2567bc14c9e5892fe321f2b7c313afe6e9de7a03f2056ff3a344099fa"
#define V2_GET_SIG "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
#define EXAMPLE_BODY "{\"example_field\":\"example_value\"}"
#define V2_POST_SIG "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
#define TS "1700000000000"
#define V3_SIG "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o="
#define V3_TAMPERED_BODY_SIG "lkBeANCkcJA4wNHuUB5qTupPcvPn5j+CXjiNwdxXA+M="
#define V3_TAMPERED_TIME_SIG "1q9JbdLo49tZCqmAg8xX21egZN3P8KXOMxKW5BF6Ayk="
#define V3_QUERY_SIG "Cgc/mIGjqw94bLNLLdMxWJf9LQyyEU4MdEdTq9Qfs84="
#define V3_QUERY_UNDECODED_SIG "ZuoG21zFQlGt4PhleGoxuDcVuKekFGzNaMOqWApwUfE="

static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "hubspot",
    .trigger = "hubspot.webhook",
    .secret_env = "SB_TEST_HUBSPOT_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

/* hex SHA-256 of a || b || c || d, computed with OpenSSL. */
static void sha256_hex(const char *a, const char *b, const char *c, const char *d, char out[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    const char *parts[] = {a, b, c, d};
    for (size_t i = 0; i < 4; i++)
        if (parts[i])
            EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* base64 HMAC-SHA256(SECRET, method + uri + body + ts) with OpenSSL. */
static void v3_ref(const char *method, const char *uri, const char *body, const char *ts, char *out,
                   size_t out_size)
{
    char a[2048];
    snprintf(a, sizeof(a), "%s%s%s", method, uri, body);
    sig_b64(EVP_sha256(), SECRET, a, ts, "", out, out_size);
}

static void v1_request(struct req *r, const char *body, const char *sig, const char *version)
{
    req_init(r, "application/json", body);
    req_header(r, "X-HubSpot-Signature", sig);
    if (version)
        req_header(r, "X-HubSpot-Signature-Version", version);
}

static void v3_request(struct req *r, const char *body, const char *sig, const char *ts)
{
    req_init(r, "application/json", body);
    req_header(r, "X-HubSpot-Signature-v3", sig);
    req_header(r, "X-HubSpot-Request-Timestamp", ts);
}

/* --- v1 ------------------------------------------------------------------------------ */

static void test_v1_vector(void **state)
{
    (void)state;
    char check[65];
    sha256_hex(SECRET, V1_BODY, NULL, NULL, check);
    assert_string_equal(check, V1_SIG);

    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL);
    struct req r;
    v1_request(&r, V1_BODY, V1_SIG, "v1");
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "contact.creation");
    /* subscriptionId:eventId:objectId:occurredAt */
    assert_string_equal(rx.events[0].id, "12345:1:123:1564113600000");
    assert_int_equal(rx.events[0].occurred_at_ms, 1564113600000LL);
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "portalId", &v));
    assert_int_equal(json_object_get_int64(v), 62515);
    receive_result_release(&rx);
    /* no version header means v1, as HubSpot's first scheme */
    v1_request(&r, V1_BODY, V1_SIG, NULL);
    expect_accepted(&h, &r);
    /* upper-case hex digits are the same signature */
    char upper[65];
    for (size_t i = 0; i <= 64; i++)
        upper[i] = (char)(V1_SIG[i] >= 'a' && V1_SIG[i] <= 'f' ? V1_SIG[i] - 'a' + 'A' : V1_SIG[i]);
    v1_request(&r, V1_BODY, upper, "v1");
    expect_accepted(&h, &r);

    /* tampered twin: objectId 124 under the original signature */
    char *tampered = strdup(V1_BODY);
    assert_non_null(tampered);
    char *at = strstr(tampered, "\"objectId\":123");
    at[strlen("\"objectId\":12")] = '4';
    v1_request(&r, tampered, V1_SIG, "v1");
    expect_rejected(&h, &r, 401, "invalid signature");
    /* and its own signature from the reference passes */
    sha256_hex(SECRET, tampered, NULL, NULL, check);
    assert_string_equal(check, V1_TAMPERED_SIG);
    v1_request(&r, tampered, V1_TAMPERED_SIG, "v1");
    expect_accepted(&h, &r);
    free(tampered);
    /* the v1 signature labelled v2 is not a v2 signature */
    v1_request(&r, V1_BODY, V1_SIG, "v2");
    expect_rejected(&h, &r, 401, "invalid signature");
    v1_request(&r, V1_BODY, V1_SIG, "v9");
    expect_rejected(&h, &r, 401, "Signature-Version");
    hook_close(&h);
    /* another secret does not verify */
    hook_open(&h, "zzzzzzzz-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "public_url = " URL);
    v1_request(&r, V1_BODY, V1_SIG, "v1");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

/* --- v2 ------------------------------------------------------------------------------ */

static void test_v2_vectors(void **state)
{
    (void)state;
    char check[65];
    sha256_hex(SECRET, "GET", URL, "", check);
    assert_string_equal(check, V2_GET_SIG);
    sha256_hex(SECRET, "POST", URL, EXAMPLE_BODY, check);
    assert_string_equal(check, V2_POST_SIG);

    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL);
    struct req r;
    /* the signature verifies, then the body is not HubSpot's array: 400
     * (a bad signature would be 401) */
    v1_request(&r, "", V2_GET_SIG, "v2");
    r.method = "GET";
    expect_rejected(&h, &r, 400, "JSON array");
    v1_request(&r, EXAMPLE_BODY, V2_POST_SIG, "v2");
    expect_rejected(&h, &r, 400, "JSON array");
    /* tampered twins: the method, the body */
    v1_request(&r, "", V2_GET_SIG, "v2");
    expect_rejected(&h, &r, 401, "invalid signature");
    v1_request(&r, "{\"example_field\":\"example_valuE\"}", V2_POST_SIG, "v2");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* and the URL: a trailing slash is another URI */
    hook_open(&h, SECRET, "public_url = " URL "/");
    v1_request(&r, EXAMPLE_BODY, V2_POST_SIG, "v2");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

/* --- v3 ------------------------------------------------------------------------------ */

static void test_v3_vectors(void **state)
{
    (void)state;
    char check[64];
    v3_ref("POST", URL, EXAMPLE_BODY, TS, check, sizeof(check));
    assert_string_equal(check, V3_SIG);
    v3_ref("POST", URL, "{\"example_field\":\"example_valuE\"}", TS, check, sizeof(check));
    assert_string_equal(check, V3_TAMPERED_BODY_SIG);
    v3_ref("POST", URL, EXAMPLE_BODY, "1700000000001", check, sizeof(check));
    assert_string_equal(check, V3_TAMPERED_TIME_SIG);

    clock_ms = 1700000000000LL;
    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL);
    struct req r;
    v3_request(&r, EXAMPLE_BODY, V3_SIG, TS);
    expect_rejected(&h, &r, 400, "JSON array"); /* verified, then not an array */
    /* tampered twins */
    v3_request(&r, "{\"example_field\":\"example_valuE\"}", V3_SIG, TS);
    expect_rejected(&h, &r, 401, "invalid signature");
    v3_request(&r, "{\"example_field\":\"example_valuE\"}", V3_TAMPERED_BODY_SIG, TS);
    expect_rejected(&h, &r, 400, "JSON array");
    v3_request(&r, EXAMPLE_BODY, V3_SIG, "1700000000001");
    expect_rejected(&h, &r, 401, "invalid signature");
    v3_request(&r, EXAMPLE_BODY, V3_TAMPERED_TIME_SIG, "1700000000001");
    expect_rejected(&h, &r, 400, "JSON array");
    /* a v3 header that fails is not rescued by a valid v1 one */
    v3_request(&r, V1_BODY, V3_SIG, TS);
    req_header(&r, "X-HubSpot-Signature", V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* the timestamp is required and in milliseconds */
    req_init(&r, "application/json", EXAMPLE_BODY);
    req_header(&r, "X-HubSpot-Signature-v3", V3_SIG);
    expect_rejected(&h, &r, 401, "Timestamp");
    v3_request(&r, EXAMPLE_BODY, V3_SIG, "1700000000");
    expect_rejected(&h, &r, 401, "5 minutes");
    v3_request(&r, EXAMPLE_BODY, V3_SIG, "17e11");
    expect_rejected(&h, &r, 401, "Timestamp");
    /* nothing signed at all */
    req_init(&r, "application/json", V1_BODY);
    expect_rejected(&h, &r, 401, "missing");
    hook_close(&h);
}

static void test_v3_window(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL);
    struct req r;
    v3_request(&r, EXAMPLE_BODY, V3_SIG, TS);
    /* exactly 5 minutes either way is in, a millisecond more is out */
    clock_ms = 1700000000000LL + 300000;
    expect_rejected(&h, &r, 400, "JSON array");
    clock_ms = 1700000000000LL + 300001;
    expect_rejected(&h, &r, 401, "5 minutes");
    clock_ms = 1700000000000LL - 300000;
    expect_rejected(&h, &r, 400, "JSON array");
    clock_ms = 1700000000000LL - 300001;
    expect_rejected(&h, &r, 401, "5 minutes");
    clock_ms = 1700000000000LL;
    hook_close(&h);
}

static void test_v3_uri_decoding(void **state)
{
    (void)state;
    const char *decoded = URL "?portal=62515&email=a@b.com";
    const char *body = "[{\"eventId\":1}]";
    char check[64];
    v3_ref("POST", decoded, body, TS, check, sizeof(check));
    assert_string_equal(check, V3_QUERY_SIG);
    v3_ref("POST", URL "?portal=62515&email=a%40b.com", body, TS, check, sizeof(check));
    assert_string_equal(check, V3_QUERY_UNDECODED_SIG);

    clock_ms = 1700000000000LL;
    struct hook h;
    /* the query string comes from the request, %40 decoded before signing */
    hook_open(&h, SECRET, "public_url = " URL);
    struct req r;
    v3_request(&r, body, V3_QUERY_SIG, TS);
    r.raw_query = "portal=62515&email=a%40b.com";
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, ":1::");
    assert_string_equal(rx.events[0].type, "unknown");
    receive_result_release(&rx);
    /* the signature over the undecoded URI is wrong */
    v3_request(&r, body, V3_QUERY_UNDECODED_SIG, TS);
    r.raw_query = "portal=62515&email=a%40b.com";
    expect_rejected(&h, &r, 401, "invalid signature");
    /* tampered twin: the query differs by one byte */
    v3_request(&r, body, V3_QUERY_SIG, TS);
    r.raw_query = "portal=62516&email=a%40b.com";
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the same URL written in public_url (then the request's query is not
     * added again) */
    hook_open(&h, SECRET, "public_url = " URL "?portal=62515&email=a%40b.com");
    v3_request(&r, body, V3_QUERY_SIG, TS);
    expect_accepted(&h, &r);
    hook_close(&h);

    /* only the listed escapes are decoded: %20 and %2B stay as sent */
    const char *kept = URL "?q=a%20b%2Bc%3a";
    v3_ref("POST", URL "?q=a%20b%2Bc:", body, TS, check, sizeof(check));
    hook_open(&h, SECRET, "public_url = " URL);
    v3_request(&r, body, check, TS);
    r.raw_query = kept + strlen(URL "?");
    expect_accepted(&h, &r);
    hook_close(&h);
}

/* --- events ----------------------------------------------------------------------------- */

static void test_one_event_per_element(void **state)
{
    (void)state;
    clock_ms = 1700000000000LL;
    const char *body =
        "[{\"eventId\":100,\"subscriptionId\":7,\"portalId\":62515,\"occurredAt\":1700000000000,"
        "\"subscriptionType\":\"contact.creation\",\"attemptNumber\":0,\"objectId\":501},"
        "{\"eventId\":100,\"subscriptionId\":8,\"portalId\":62515,\"occurredAt\":1700000000001,"
        "\"subscriptionType\":\"contact.propertyChange\",\"attemptNumber\":0,\"objectId\":501,"
        "\"propertyName\":\"email\",\"propertyValue\":\"ann@example.com\"}]";
    char sig[64];
    v3_ref("POST", URL, body, TS, sig, sizeof(sig));
    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL "\nevents = contact.creation");
    struct req r;
    v3_request(&r, body, sig, TS);
    /* header names in any case */
    r.headers[1].name = "x-hubspot-signature-V3";
    struct receive_result rx;
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.n_events, 2);
    /* the same eventId twice: the composite keeps them apart */
    assert_string_equal(rx.events[0].id, "7:100:501:1700000000000");
    assert_string_equal(rx.events[1].id, "8:100:501:1700000000001");
    assert_string_equal(rx.events[0].type, "contact.creation");
    assert_string_equal(rx.events[1].type, "contact.propertyChange");
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[1].payload, "propertyValue", &v));
    assert_string_equal(json_object_get_string(v), "ann@example.com");
    /* each event is its element, not the array */
    assert_true(json_object_is_type(rx.events[0].payload, json_type_object));
    receive_result_release(&rx);
    assert_true(workflow_wants_type(h.wf, "contact.creation"));
    assert_false(workflow_wants_type(h.wf, "contact.propertyChange"));

    /* an empty array: nothing to store */
    v3_ref("POST", URL, "[]", TS, sig, sizeof(sig));
    v3_request(&r, "[]", sig, TS);
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.n_events, 0);
    receive_result_release(&rx);
    /* an element that is not an object: 400, nothing stored */
    v3_ref("POST", URL, "[{\"eventId\":1},2]", TS, sig, sizeof(sig));
    v3_request(&r, "[{\"eventId\":1},2]", sig, TS);
    expect_rejected(&h, &r, 400, "not an object");
    /* more than 100 events: refused whole */
    char big[4096] = "[";
    for (int i = 0; i < 101; i++)
        strncat(big, i ? ",{}" : "{}", sizeof(big) - strlen(big) - 1);
    strncat(big, "]", sizeof(big) - strlen(big) - 1);
    v3_ref("POST", URL, big, TS, sig, sizeof(sig));
    v3_request(&r, big, sig, TS);
    expect_rejected(&h, &r, 413, "more than 100");
    hook_close(&h);
}

/* public_url: the trigger's own, else [server] public_url + /hooks/<path> */
static void test_public_url(void **state)
{
    (void)state;
    clock_ms = 1700000000000LL;
    /* neither: refused at load, saying what to set */
    expect_load_error(NULL, SECRET, NULL, NULL, "public_url", "[server] public_url");
    /* the server's base: the harness's hook path is "t" */
    call_set_public_base("https://www.example.com/");
    struct hook h;
    hook_open(&h, SECRET, NULL);
    char sig[64];
    v3_ref("POST", "https://www.example.com/hooks/t", "[]", TS, sig, sizeof(sig));
    struct req r;
    v3_request(&r, "[]", sig, TS);
    struct receive_result rx;
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_false(rx.rejected);
    receive_result_release(&rx);
    /* tampered twin: signed for another path */
    v3_ref("POST", "https://www.example.com/hooks/u", "[]", TS, sig, sizeof(sig));
    v3_request(&r, "[]", sig, TS);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the trigger's own public_url wins over the server's */
    hook_open(&h, SECRET, "public_url = " URL);
    v3_request(&r, EXAMPLE_BODY, V3_SIG, TS);
    expect_rejected(&h, &r, 400, "JSON array");
    hook_close(&h);
    call_set_public_base(NULL);
}

/* `switchboard sign hubspot`: the sign callback makes what receive takes */
static enum sb_status sign_with(struct hook *h, const char *body, const char *url,
                                const char *version, struct json_object **out)
{
    struct sb_call c;
    call_init(&c, CALL_VALIDATE, "hubspot.webhook");
    c.plugin = h->t->plugin;
    struct json_object *params = json_object_new_object();
    if (url)
        json_object_object_add(params, "url", json_object_new_string(url));
    if (version)
        json_object_object_add(params, "version", json_object_new_string(version));
    c.params = params;
    struct sb_sign_request req = {sizeof(req), (const unsigned char *)body, strlen(body), SECRET,
                                  1700000000};
    enum sb_status st = h->t->desc.sign(&core_host, &c, &req);
    *out = c.output ? json_object_get(c.output) : NULL;
    if (st != SB_OK)
        fprintf(stderr, "sign: %s\n", c.error.len ? strbuf_str(&c.error) : "");
    call_release(&c);
    json_object_put(params);
    return st;
}

static void test_sign_callback(void **state)
{
    (void)state;
    clock_ms = 1700000000000LL;
    struct hook h;
    hook_open(&h, SECRET, "public_url = " URL);
    assert_non_null(h.t->desc.sign);
    struct json_object *out = NULL, *v;
    /* v3 by default, the timestamp in milliseconds: the reference vector */
    assert_int_equal(sign_with(&h, EXAMPLE_BODY, URL, NULL, &out), SB_OK);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Signature-v3", &v));
    assert_string_equal(json_object_get_string(v), V3_SIG);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Request-Timestamp", &v));
    assert_string_equal(json_object_get_string(v), TS);
    json_object_put(out);
    /* over the decoded URI, as receive checks it */
    assert_int_equal(
        sign_with(&h, "[{\"eventId\":1}]", URL "?portal=62515&email=a%40b.com", "v3", &out), SB_OK);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Signature-v3", &v));
    assert_string_equal(json_object_get_string(v), V3_QUERY_SIG);
    json_object_put(out);
    assert_int_equal(sign_with(&h, V1_BODY, NULL, "v1", &out), SB_OK);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Signature", &v));
    assert_string_equal(json_object_get_string(v), V1_SIG);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Signature-Version", &v));
    assert_string_equal(json_object_get_string(v), "v1");
    json_object_put(out);
    assert_int_equal(sign_with(&h, EXAMPLE_BODY, URL, "v2", &out), SB_OK);
    assert_true(json_object_object_get_ex(out, "X-HubSpot-Signature", &v));
    assert_string_equal(json_object_get_string(v), V2_POST_SIG);
    json_object_put(out);
    /* v3 without the URL cannot be made */
    assert_int_equal(sign_with(&h, EXAMPLE_BODY, NULL, "v3", &out), SB_FAIL);
    json_object_put(out);
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    expect_load_error(NULL, NULL, "public_url = " URL, NULL, "secret", "missing required");
    expect_load_error(NULL, NULL, "public_url = " URL "\nsecret = literal", NULL, "secret",
                      "reference");
    expect_load_error(NULL, SECRET, "public_url = www.example.com/hook", NULL, "public_url",
                      "not an http(s) URL");
    struct hook h;
    expect_clean_load(&h, NULL, SECRET, "public_url = " URL "\nevents = contact.*", NULL);
    hook_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_vector),       cmocka_unit_test(test_v2_vectors),
        cmocka_unit_test(test_v3_vectors),      cmocka_unit_test(test_v3_window),
        cmocka_unit_test(test_v3_uri_decoding), cmocka_unit_test(test_one_event_per_element),
        cmocka_unit_test(test_public_url),      cmocka_unit_test(test_sign_callback),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
