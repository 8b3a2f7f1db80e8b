/* The stripe connector end to end: the real engine, workflows pointing
 * api_base at a stand-in that checks what stripe-mock checks
 * (tests/support/stripe_checks.c), and webhooks signed by
 * `switchboard sign stripe`. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "standin.h"
#include "stripe_checks.h"
#include "testkit.h"

#define WEBHOOK_SECRET "whsec_test_secret"
#define TEST_KEY "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
#define LIVE_KEY "sk_live_51H8xAbCdEf"
#define FORM_CT "application/x-www-form-urlencoded"

static struct sb_proc proc;
static struct standin *api;
static struct stripe_mock *mock;

static const char *const env[] = {"SB_STRIPE_KEY=" TEST_KEY, "SB_STRIPE_LIVE_KEY=" LIVE_KEY,
                                  "SB_STRIPE_WEBHOOK_SECRET=" WEBHOOK_SECRET, NULL};

/* POST a body to /hooks/<hook> with extra header lines; the status. */
static long post_hook(const char *hook, const char *body, const char *const *extra,
                      char *reply_body, size_t reply_len)
{
    const char *h[8] = {"Content-Type: application/json; charset=utf-8"};
    size_t n = 1;
    for (size_t i = 0; extra && extra[i] && n < 7; i++)
        h[n++] = extra[i];
    h[n] = NULL;
    struct http_reply r;
    long status = sbp_hook_request(&proc, "POST", hook, h, body, &r);
    if (reply_body)
        snprintf(reply_body, reply_len, "%s", r.body);
    http_reply_free(&r);
    return status;
}

static void post_event(const char *hook, const char *body)
{
    char reply[512];
    long status = post_hook(hook, body, NULL, reply, sizeof(reply));
    if (status != 200)
        fail_msg("POST /hooks/%s: %ld %s", hook, status, reply);
}

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 15000);
}

static int64_t attempts_of(const char *workflow)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT max(attempts) FROM runs WHERE workflow = '%s'", workflow);
    return sbp_sql_int(&proc, sql);
}

/* `switchboard runs --status dead` output (caller frees). */
static char *dead_runs(void)
{
    char *out = NULL, *err = NULL;
    assert_int_equal(sbp_cli(&proc, NULL, &out, &err, "runs", "--status", "dead", NULL), 0);
    free(err);
    return out;
}

/* The headers `switchboard sign stripe` prints for body, at `ts` (0: now):
 * the Stripe-Signature line, into out. */
static void cli_sign(const char *body, long long ts, char *out, size_t outlen)
{
    char tsarg[32];
    snprintf(tsarg, sizeof(tsarg), "%lld", ts);
    char **lines = sbp_sign(&proc, "stripe", WEBHOOK_SECRET, NULL, ts ? tsarg : NULL, body, NULL);
    assert_non_null(lines);
    assert_non_null(lines[0]);
    assert_non_null(strstr(lines[0], "Stripe-Signature: t="));
    snprintf(out, outlen, "%s", lines[0]);
    testkit_strv_free(lines);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    mock = stripe_checks_install(api);
    if (!mock || sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    const char *head = "[workflow]\nretry_backoff = 200ms\n\n"
                       "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n";
    /* create a customer, then update it through the generic request with
     * the first step's output */
    sbp_write_workflowf(
        &proc, "customer",
        "%s[step customer]\nuse = stripe.create_customer\n"
        "api_key = ${env:SB_STRIPE_KEY}\napi_base = %s\n"
        "email = {{ event.email }}\nname = {{ event.name }}\n"
        "metadata.order_id = {{ event.order_id }}\nmetadata.source = switchboard\n\n"
        "[step tag]\nuse = stripe.request\napi_key = ${env:SB_STRIPE_KEY}\n"
        "api_base = %s/\nstripe_version = 2024-06-20\n"
        "path = /v1/customers/{{ steps.customer.id }}\n"
        "param.metadata[tagged_by] = {{ steps.customer.metadata.source }}\n",
        head, base, base);
    sbp_write_workflowf(
        &proc, "refund",
        "%s[step refund]\nuse = stripe.create_refund\napi_key = ${env:SB_STRIPE_KEY}\n"
        "api_base = %s\npayment_intent = {{ event.pi }}\namount = {{ event.amount }}\n"
        "reason = requested_by_customer\nmetadata.ticket = {{ event.ticket }}\n",
        head, base);
    sbp_write_workflowf(
        &proc, "lookup",
        "%s[step session]\nuse = stripe.retrieve\napi_key = ${env:SB_STRIPE_KEY}\n"
        "api_base = %s\nobject = checkout/sessions\nid = {{ event.session }}\n"
        "expand = line_items customer\n\n"
        "[step note]\nuse = stripe.request\napi_key = ${env:SB_STRIPE_KEY}\n"
        "api_base = %s\npath = /v1/customers/{{ steps.session.customer }}\n"
        "param.metadata[first_item] = {{ steps.session.line_items.data.0.description }}\n",
        head, base, base);
    sbp_write_workflowf(&proc, "search",
                        "%s[step search]\nuse = stripe.request\napi_key = ${env:SB_STRIPE_KEY}\n"
                        "api_base = %s\nmethod = GET\npath = /v1/customers/search\n"
                        "param.query = email:'{{ event.email }}'\nparam.limit = 1\n",
                        head, base);
    sbp_write_workflowf(
        &proc, "livekey",
        "%s[step customer]\nuse = stripe.create_customer\n"
        "api_key = ${env:SB_STRIPE_LIVE_KEY}\napi_base = %s\nemail = {{ event.email }}\n",
        head, base);
    sbp_write_workflowf(&proc, "unknown",
                        "%s[step refund]\nuse = stripe.request\napi_key = ${env:SB_STRIPE_KEY}\n"
                        "api_base = %s\npath = /v1/refunds\nparam.payment_intent = {{ event.pi }}\n"
                        "param.refund_everything = yes\n",
                        head, base);
    /* Stripe events in */
    sbp_write_workflow(&proc, "paid",
                       "[trigger]\nuse = stripe.webhook\npath = stripe\n"
                       "secret = ${env:SB_STRIPE_WEBHOOK_SECRET}\n"
                       "events = payment_intent.succeeded\n\n"
                       "[step log]\nuse = log.write\n"
                       "message = paid {{ event.data.object.id }} "
                       "{{ event.data.object.amount | money: event.data.object.currency }}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    stripe_checks_free(mock);
    return 0;
}

/* --- actions ---------------------------------------------------------------- */

static void test_create_customer(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("customer", "{\"id\": \"evt_c1\", \"email\": \"jenny.rosen@example.com\", "
                           "\"name\": \"Jenny Rosen\", \"order_id\": \"6735\"}");
    assert_true(wait_status("customer", "succeeded", 1));
    assert_int_equal(standin_count(api, "/v1/customers"), 1);
    struct standin_request req;
    assert_true(standin_get(api, "/v1/customers", 0, &req));
    assert_string_equal(req.method, "POST");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TEST_KEY);
    assert_string_equal(standin_header(&req, "Content-Type"), FORM_CT);
    /* stripe-node's encoding: literal brackets, %40, %20 */
    assert_string_equal(req.body, "email=jenny.rosen%40example.com&name=Jenny%20Rosen&"
                                  "metadata[order_id]=6735&metadata[source]=switchboard");
    const char *key = standin_header(&req, "Idempotency-Key");
    assert_non_null(key);
    assert_true(strlen(key) >= 16 && strlen(key) <= 255);
    assert_null(standin_header(&req, "Stripe-Version"));
    char key1[256];
    snprintf(key1, sizeof(key1), "%s", key);
    standin_request_free(&req);

    /* the second step used the first one's output (the stand-in's cus_ id
     * and the reflected metadata), its own key, and the pinned version */
    assert_true(standin_get(api, "/v1/customers/cus_NffrFeUfNV2Hib", 0, &req));
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.body, "metadata[tagged_by]=switchboard");
    assert_string_equal(standin_header(&req, "Stripe-Version"), "2024-06-20");
    assert_non_null(standin_header(&req, "Idempotency-Key"));
    assert_string_not_equal(standin_header(&req, "Idempotency-Key"), key1);
    standin_request_free(&req);
}

static void test_retry_keeps_idempotency_key(void **state)
{
    (void)state;
    standin_clear(api);
    struct standin_reply flaky[] = {
        {500, NULL,
         "{\"error\": {\"type\": \"api_error\", \"message\": \"An unknown error occurred\"}}", NULL,
         0},
        {0, NULL, NULL, NULL, 0},
    };
    stripe_checks_script(mock, "POST", "/v1/customers", flaky, 2);
    post_event("customer", "{\"id\": \"evt_c2\", \"email\": \"ann@example.com\", "
                           "\"name\": \"Ann\", \"order_id\": \"7\"}");
    assert_true(wait_status("customer", "succeeded", 2));
    stripe_checks_script(mock, "POST", "/v1/customers", NULL, 0);
    /* exactly two attempts, the same key on both */
    assert_int_equal(standin_count(api, "/v1/customers"), 2);
    struct standin_request a, b;
    assert_true(standin_get(api, "/v1/customers", 0, &a));
    assert_true(standin_get(api, "/v1/customers", 1, &b));
    assert_non_null(standin_header(&a, "Idempotency-Key"));
    assert_string_equal(standin_header(&a, "Idempotency-Key"),
                        standin_header(&b, "Idempotency-Key"));
    assert_string_equal(a.body, b.body);
    standin_request_free(&a);
    standin_request_free(&b);
    assert_int_equal(sbp_sql_int(&proc, "SELECT r.attempts FROM runs r JOIN events e ON "
                                        "e.id = r.event WHERE e.event_id = 'evt_c2'"),
                     2);
}

static void test_card_error_is_dead(void **state)
{
    (void)state;
    struct standin_reply declined = {
        402, NULL,
        "{\"error\": {\"type\": \"card_error\", \"code\": \"card_declined\", \"decline_code\": "
        "\"insufficient_funds\", \"message\": \"Your card was declined.\", \"doc_url\": "
        "\"https://stripe.com/docs/error-codes/card-declined\"}}",
        NULL, 0};
    stripe_checks_script(mock, "POST", "/v1/refunds", &declined, 1);
    post_event("refund", "{\"id\": \"evt_r1\", \"pi\": \"pi_3MtwBwLkdIwHu7ix28a3tqPa\", "
                         "\"amount\": 500, \"ticket\": \"T-1\"}");
    assert_true(wait_status("refund", "dead", 1));
    stripe_checks_script(mock, "POST", "/v1/refunds", NULL, 0);
    /* permanent: one attempt */
    assert_int_equal(attempts_of("refund"), 1);
    struct standin_request req;
    assert_true(standin_get(api, "/v1/refunds", 0, &req));
    assert_string_equal(req.body, "payment_intent=pi_3MtwBwLkdIwHu7ix28a3tqPa&amount=500&"
                                  "reason=requested_by_customer&metadata[ticket]=T-1");
    standin_request_free(&req);
    char *out = dead_runs();
    assert_non_null(strstr(out, "refund"));
    assert_non_null(strstr(out, "Your card was declined."));
    assert_non_null(strstr(out, "card_declined"));
    assert_non_null(strstr(out, "insufficient_funds"));
    assert_non_null(strstr(out, "req_123"));
    free(out);
}

static void test_should_retry_header(void **state)
{
    (void)state;
    standin_clear(api);
    /* false on a 500: never retried */
    struct standin_reply no[] = {
        {500, NULL, "{\"error\": {\"type\": \"api_error\", \"message\": \"Do not retry this\"}}",
         "Stripe-Should-Retry: false\n", 0},
    };
    stripe_checks_script(mock, "POST", "/v1/refunds", no, 1);
    post_event("refund", "{\"id\": \"evt_r2\", \"pi\": \"pi_2\", \"amount\": 100, "
                         "\"ticket\": \"T-2\"}");
    assert_true(wait_status("refund", "dead", 2));
    assert_int_equal(standin_count(api, "/v1/refunds"), 1);
    char *out = dead_runs();
    assert_non_null(strstr(out, "Do not retry this"));
    assert_non_null(strstr(out, "Stripe-Should-Retry: false"));
    free(out);
    /* true on a 400: retried (then the real answer) */
    struct standin_reply yes[] = {
        {400, NULL, "{\"error\": {\"type\": \"invalid_request_error\", \"message\": \"lock\"}}",
         "Stripe-Should-Retry: true\n", 0},
        {0, NULL, NULL, NULL, 0},
    };
    stripe_checks_script(mock, "POST", "/v1/refunds", yes, 2);
    post_event("refund", "{\"id\": \"evt_r3\", \"pi\": \"pi_3\", \"amount\": 100, "
                         "\"ticket\": \"T-3\"}");
    assert_true(wait_status("refund", "succeeded", 1));
    stripe_checks_script(mock, "POST", "/v1/refunds", NULL, 0);
    assert_int_equal(standin_count(api, "/v1/refunds"), 3);
    /* 429 with Retry-After: retried no earlier than asked */
    standin_clear(api);
    struct standin_reply slow[] = {
        {429, NULL,
         "{\"error\": {\"type\": \"rate_limit_error\", \"message\": \"Too many requests\"}}",
         "Retry-After: 1\n", 0},
        {0, NULL, NULL, NULL, 0},
    };
    stripe_checks_script(mock, "POST", "/v1/refunds", slow, 2);
    post_event("refund", "{\"id\": \"evt_r4\", \"pi\": \"pi_4\", \"amount\": 100, "
                         "\"ticket\": \"T-4\"}");
    assert_true(wait_status("refund", "succeeded", 2));
    stripe_checks_script(mock, "POST", "/v1/refunds", NULL, 0);
    struct standin_request a, b;
    assert_true(standin_get(api, "/v1/refunds", 0, &a));
    assert_true(standin_get(api, "/v1/refunds", 1, &b));
    assert_true(b.at_ms - a.at_ms >= 1000);
    assert_string_equal(standin_header(&a, "Idempotency-Key"),
                        standin_header(&b, "Idempotency-Key"));
    standin_request_free(&a);
    standin_request_free(&b);
}

static void test_retrieve_with_expand(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("lookup", "{\"id\": \"evt_l1\", \"session\": \"cs_test_a1B2\"}");
    assert_true(wait_status("lookup", "succeeded", 1));
    struct standin_request req;
    assert_true(standin_get(api, "/v1/checkout/sessions/cs_test_a1B2", 0, &req));
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.query, "expand[0]=line_items&expand[1]=customer");
    assert_string_equal(req.body, "");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TEST_KEY);
    /* a GET carries no idempotency key and no body type */
    assert_null(standin_header(&req, "Idempotency-Key"));
    assert_null(standin_header(&req, "Content-Type"));
    standin_request_free(&req);
    /* the expanded line items reached the next step */
    assert_true(standin_get(api, "/v1/customers/cus_NffrFeUfNV2Hib", 0, &req));
    assert_string_equal(req.body, "metadata[first_item]=T-shirt");
    standin_request_free(&req);
}

static void test_search_query_string(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("search", "{\"id\": \"evt_s1\", \"email\": \"jenny+vip@example.com\"}");
    assert_true(wait_status("search", "succeeded", 1));
    struct standin_request req;
    assert_true(standin_get(api, "/v1/customers/search", 0, &req));
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.query, "query=email%3A%27jenny%2Bvip%40example.com%27&limit=1");
    standin_request_free(&req);
}

static void test_bad_key_is_dead(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("livekey", "{\"id\": \"evt_k1\", \"email\": \"x@example.com\"}");
    assert_true(wait_status("livekey", "dead", 1));
    assert_int_equal(standin_count(api, "/v1/customers"), 1);
    struct standin_request req;
    assert_true(standin_get(api, "/v1/customers", 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " LIVE_KEY);
    standin_request_free(&req);
    char *out = dead_runs();
    assert_non_null(strstr(out, "livekey"));
    assert_non_null(strstr(out, "HTTP 401"));
    assert_non_null(strstr(out, "Please authenticate by specifying an `Authorization` header"));
    /* the key the stand-in echoed is a secret of this engine: masked */
    assert_null(strstr(out, LIVE_KEY));
    free(out);
}

static void test_unknown_parameter_is_dead(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("unknown", "{\"id\": \"evt_u1\", \"pi\": \"pi_9\"}");
    assert_true(wait_status("unknown", "dead", 1));
    assert_int_equal(attempts_of("unknown"), 1);
    char *out = dead_runs();
    assert_non_null(
        strstr(out, "Request validation error: Received unknown parameter: refund_everything"));
    free(out);
}

/* --- the webhook ------------------------------------------------------------- */

#define PAID_EVENT                                                                                 \
    "{\n  \"id\": \"evt_3PaidXYZ\",\n  \"object\": \"event\",\n  \"api_version\": "                \
    "\"2024-06-20\",\n"                                                                            \
    "  \"created\": 1700000000,\n  \"type\": \"payment_intent.succeeded\",\n  \"data\": {\n"       \
    "    \"object\": {\n      \"id\": \"pi_3PaidXYZ\",\n      \"object\": \"payment_intent\",\n"   \
    "      \"amount\": 2000,\n      \"currency\": \"usd\"\n    }\n  }\n}"

static void test_webhook(void **state)
{
    (void)state;
    char sig[256];
    cli_sign(PAID_EVENT, 0, sig, sizeof(sig));
    const char *headers[] = {sig, NULL};
    char reply[512];
    assert_int_equal(post_hook("stripe", PAID_EVENT, headers, reply, sizeof(reply)), 200);
    assert_true(wait_status("paid", "succeeded", 1));
    /* the same event again: 200, and still one run */
    assert_int_equal(post_hook("stripe", PAID_EVENT, headers, reply, sizeof(reply)), 200);
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'paid'"), 1);
    assert_true(sbp_log_contains(&proc, "paid pi_3PaidXYZ $20.00"));

    /* tampered: one byte of the amount */
    char *tampered = strdup(PAID_EVENT);
    *strstr(tampered, "2000") = '9';
    assert_int_equal(post_hook("stripe", tampered, headers, reply, sizeof(reply)), 401);
    assert_non_null(strstr(reply, "No signatures found matching the expected signature"));
    free(tampered);
    /* no signature at all */
    assert_int_equal(post_hook("stripe", PAID_EVENT, NULL, reply, sizeof(reply)), 401);
    assert_non_null(strstr(reply, "Unable to extract timestamp and signatures"));
    /* stale: signed 10 minutes ago (the tolerance is 5) */
    cli_sign(PAID_EVENT, testkit_now_ms() / 1000 - 600, sig, sizeof(sig));
    assert_int_equal(post_hook("stripe", PAID_EVENT, headers, reply, sizeof(reply)), 401);
    assert_non_null(strstr(reply, "Timestamp outside the tolerance zone"));

    /* another event type, verified: stored, but no workflow wants it */
    const char *refunded = "{\"id\": \"evt_refunded1\", \"object\": \"event\", \"type\": "
                           "\"charge.refunded\", \"data\": {\"object\": {\"id\": \"ch_1\"}}}";
    cli_sign(refunded, 0, sig, sizeof(sig));
    assert_int_equal(post_hook("stripe", refunded, headers, reply, sizeof(reply)), 200);
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'paid'"), 1);
    /* a thin event, verified: refused */
    const char *thin = "{\"id\": \"evt_thin1\", \"object\": \"v2.core.event\", \"type\": "
                       "\"v1.billing.meter.error_report_triggered\"}";
    cli_sign(thin, 0, sig, sizeof(sig));
    assert_int_equal(post_hook("stripe", thin, headers, reply, sizeof(reply)), 400);
    assert_non_null(strstr(reply, "thin events"));
    /* only POST */
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/stripe", proc.base_url);
    struct http_reply r;
    assert_int_equal(http_do("GET", url, NULL, NULL, 0, 0, &r), 0);
    assert_true(r.status == 405 || r.status == 404);
    http_reply_free(&r);
}

/* --- dry run of the example --------------------------------------------------------- */

static void test_fire_dry_run_example(void **state)
{
    (void)state;
    char dir[400], evfile[400];
    snprintf(dir, sizeof(dir), "%s/examples", proc.dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    /* this file is tests/connectors/test_stripe.c of the source tree */
    const char *here = __FILE__;
    const char *tail = strstr(here, "tests/connectors/test_stripe.c");
    assert_non_null(tail);
    char *cmd = testkit_fmt("cp '%.*sconf/examples/stripe-signup-to-customer.ini' '%s/'",
                            (int)(tail - here), here, dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(
        sbp_write_file(&proc, "signup.json",
                       "{\"id\": \"signup_42\", \"email\": \"jenny.rosen@example.com\", "
                       "\"name\": \"Jenny Rosen\", \"plan\": \"pro\"}",
                       evfile, sizeof(evfile)),
        0);
    const char *fire_env[] = {"STRIPE_API_KEY=" TEST_KEY, "SIGNUP_TOKEN=signup-token", NULL};
    size_t before = standin_count(api, NULL);
    char *out = NULL, *err = NULL;
    int rc = sbp_cli(&proc, fire_env, &out, &err, "fire", "--workflows", dir,
                     "stripe-signup-to-customer", "--event", evfile, "--dry-run", NULL);
    if (rc != 0)
        fail_msg("fire failed (%d):\n%s\n%s", rc, out, err);
    const char *want = "POST https://api.stripe.com/v1/customers\n"
                       "Authorization: Bearer ****\n"
                       "Content-Type: application/x-www-form-urlencoded\n"
                       "Idempotency-Key: ";
    if (!strstr(out, want))
        fail_msg("no request in:\n%s", out);
    assert_non_null(strstr(out, "\n\nemail=jenny.rosen%40example.com&name=Jenny%20Rosen&"
                                "metadata[signup_id]=signup_42&metadata[plan]=pro\n"));
    assert_null(strstr(out, TEST_KEY));
    assert_null(strstr(err, TEST_KEY));
    assert_int_equal(standin_count(api, NULL), before);
    free(out);
    free(err);
}

/* --- the stand-in checks what stripe-mock checks ------------------------------------ */

static long api_call(const char *method, const char *path, const char *auth, const char *ctype,
                     const char *body, struct http_reply *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", standin_url(api), path);
    char a[256], c[256];
    const char *h[4] = {NULL};
    size_t n = 0;
    if (auth) {
        snprintf(a, sizeof(a), "Authorization: %s", auth);
        h[n++] = a;
    }
    if (ctype) {
        snprintf(c, sizeof(c), "Content-Type: %s", ctype);
        h[n++] = c;
    }
    h[n++] = "Idempotency-Key: key-123";
    assert_int_equal(http_do(method, url, h, body, body ? strlen(body) : 0, 0, r), 0);
    return r->status;
}

static void test_standin_checks(void **state)
{
    (void)state;
    struct http_reply r;
    char v[128];
    /* no key, a live key, a key of four parts: 401 with stripe-mock's text
     * and no Request-Id */
    const char *bad[] = {NULL,
                         "Bearer sk_live_123",
                         "Bearer sk_test_a_b",
                         "Bearer sk_test_",
                         "Token sk_test_123",
                         "Bearer  sk_test_123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(api_call("POST", "/v1/customers", bad[i], FORM_CT, "email=a", &r), 401);
        assert_non_null(strstr(r.body, "{\"error\":{\"message\":\"Please authenticate by "
                                       "specifying an `Authorization` header with any valid "
                                       "looking testmode secret API key. For example, "
                                       "`Authorization: Bearer sk_test_123`. Authorization was '"));
        assert_non_null(strstr(r.body, "\"type\":\"invalid_request_error\"}}"));
        assert_false(http_reply_header(&r, "Request-Id", v, sizeof(v)));
        http_reply_free(&r);
    }
    assert_int_equal(api_call("GET", "/v1/customers/cus_1", NULL, NULL, NULL, &r), 401);
    assert_non_null(strstr(r.body, "Authorization was ''."));
    http_reply_free(&r);
    /* Basic base64("sk_test_123:") passes, with Request-Id and the key echoed */
    assert_int_equal(api_call("POST", "/v1/customers", "Basic c2tfdGVzdF8xMjM6", FORM_CT,
                              "email=a%40b.c&metadata%5Border_id%5D=6735", &r),
                     200);
    assert_true(http_reply_header(&r, "Request-Id", v, sizeof(v)));
    assert_string_equal(v, "req_123");
    assert_true(http_reply_header(&r, "Idempotency-Key", v, sizeof(v)));
    assert_string_equal(v, "key-123");
    struct json_object *o = json_tokener_parse(r.body), *x, *y;
    assert_true(json_object_object_get_ex(o, "email", &x));
    assert_string_equal(json_object_get_string(x), "a@b.c");
    assert_true(json_object_object_get_ex(o, "metadata", &x));
    assert_true(json_object_object_get_ex(x, "order_id", &y));
    assert_string_equal(json_object_get_string(y), "6735");
    json_object_put(o);
    http_reply_free(&r);
    /* content type: missing or other is 400 (not on GET) */
    assert_int_equal(api_call("POST", "/v1/customers", "Bearer sk_test_123", "application/json",
                              "{\"email\": \"a\"}", &r),
                     400);
    assert_non_null(strstr(r.body, "Request's `Content-Type` didn't match the path's expected "
                                   "media type. Expected: `application/x-www-form-urlencoded`. "
                                   "Was: `application/json`."));
    assert_true(http_reply_header(&r, "Request-Id", v, sizeof(v)));
    http_reply_free(&r);
    assert_int_equal(api_call("POST", "/v1/customers", "Bearer sk_test_123",
                              FORM_CT "; charset=utf-8", "name=A+B", &r),
                     200);
    assert_non_null(strstr(r.body, "\"name\":\"A B\""));
    http_reply_free(&r);
    /* unknown routes, parameters, types; bad escapes */
    assert_int_equal(api_call("POST", "/v1/foo", "Bearer sk_test_123", FORM_CT, "", &r), 404);
    assert_non_null(strstr(r.body, "\"Unrecognized request URL (POST: /v1/foo).\""));
    http_reply_free(&r);
    assert_int_equal(
        api_call("POST", "/v1/customers", "Bearer rk_test_9", FORM_CT, "email=a&colour=red", &r),
        400);
    assert_non_null(strstr(r.body, "Request validation error: Received unknown parameter: colour"));
    http_reply_free(&r);
    assert_int_equal(api_call("POST", "/v1/refunds", "Bearer sk_test_1", FORM_CT,
                              "payment_intent=pi_1&amount=5.00", &r),
                     400);
    assert_non_null(strstr(r.body, "Invalid integer: 5.00"));
    http_reply_free(&r);
    assert_int_equal(
        api_call("POST", "/v1/refunds", "Bearer sk_test_1", FORM_CT, "reason=because", &r), 400);
    http_reply_free(&r);
    assert_int_equal(api_call("POST", "/v1/refunds", "Bearer sk_test_1", FORM_CT, "amount=5", &r),
                     400);
    assert_non_null(strstr(r.body, "One of `charge` or `payment_intent` is required."));
    http_reply_free(&r);
    assert_int_equal(
        api_call("POST", "/v1/customers", "Bearer sk_test_1", FORM_CT, "email=%zz", &r), 400);
    assert_non_null(strstr(r.body, "Couldn't parse query/body: invalid URL escape \\\"%zz\\\""));
    http_reply_free(&r);
    assert_int_equal(api_call("GET", "/v1/customers/search", "Bearer sk_test_1", NULL, NULL, &r),
                     400);
    assert_non_null(strstr(r.body, "Missing required param: query."));
    http_reply_free(&r);
    /* a session without expand has no line_items, with it it has them */
    assert_int_equal(
        api_call("GET", "/v1/checkout/sessions/cs_1", "Bearer sk_test_1", NULL, NULL, &r), 200);
    assert_null(strstr(r.body, "line_items"));
    http_reply_free(&r);
    assert_int_equal(api_call("GET", "/v1/checkout/sessions/cs_1?expand%5B%5D=line_items",
                              "Bearer sk_test_1", NULL, NULL, &r),
                     200);
    assert_non_null(strstr(r.body, "\"line_items\":{\"object\":\"list\""));
    http_reply_free(&r);
}

/* Last: the engine stops cleanly, and (under ASan/UBSan or TSan) reported
 * nothing about what the stripe plugin did. */
static void test_engine_stops_cleanly(void **state)
{
    (void)state;
    int status = sbp_stop(&proc, SIGTERM);
    assert_false(sbp_log_contains(&proc, "AddressSanitizer"));
    assert_false(sbp_log_contains(&proc, "runtime error:"));
    assert_false(sbp_log_contains(&proc, "LeakSanitizer"));
    assert_false(sbp_log_contains(&proc, "ThreadSanitizer"));
    assert_int_equal(status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standin_checks),
        cmocka_unit_test(test_create_customer),
        cmocka_unit_test(test_retry_keeps_idempotency_key),
        cmocka_unit_test(test_card_error_is_dead),
        cmocka_unit_test(test_should_retry_header),
        cmocka_unit_test(test_retrieve_with_expand),
        cmocka_unit_test(test_search_query_string),
        cmocka_unit_test(test_bad_key_is_dead),
        cmocka_unit_test(test_unknown_parameter_is_dead),
        cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_fire_dry_run_example),
        cmocka_unit_test(test_engine_stops_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
