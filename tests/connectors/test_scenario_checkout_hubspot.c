/* Seed scenario (issue 15): a new sale becomes a HubSpot deal. The shipped
 * conf/examples/stripe-checkout-to-hubspot.ini runs as it is, with only
 * api_base (and a short rate-limit wait and backoff) added, against a
 * HubSpot CRM stand-in (tests/support/hubspot_checks.c); Stripe deliveries
 * are signed with `switchboard sign stripe`. Covered: the buyer upserted by
 * email and a won deal for the amount in major units, associated with that
 * contact; a repeated delivery makes nothing; an unpaid session is
 * filtered out; a HubSpot rate limit on the deal retries the deal only;
 * a zero-decimal currency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "hubspot_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define WF "stripe-checkout-to-hubspot"
#define STRIPE_SECRET "whsec_5f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99"
#define TOKEN "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

static struct sb_proc proc;
static struct standin *api;
static struct hubspot_api *hubspot;

static const char *const env[] = {"STRIPE_WEBHOOK_SECRET=" STRIPE_SECRET, "HUBSPOT_TOKEN=" TOKEN,
                                  NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    hubspot = hubspot_api_install(api, TOKEN);
    char base[300];
    snprintf(base, sizeof(base), "api_base = %s", standin_url(api));
    const struct example_edit edits[] = {{"use = hubspot.", base},
                                         {"token = ${env:HUBSPOT_TOKEN}", "rate_limit_wait = 1s"},
                                         {"[workflow]", "retry_backoff = 200ms"},
                                         {NULL, NULL}};
    return scenario_start_example(&proc, WF, edits, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    hubspot_api_free(hubspot);
    return 0;
}

/* A checkout.session.completed event as Stripe sends it. Caller frees. */
static char *checkout(const char *evt, const char *session, long amount, const char *currency,
                      const char *status, const char *email)
{
    return testkit_fmt(
        "{\n  \"id\": \"%s\",\n  \"object\": \"event\",\n  \"api_version\": \"2024-06-20\",\n"
        "  \"created\": 1736935200,\n  \"type\": \"checkout.session.completed\",\n"
        "  \"livemode\": false,\n  \"data\": {\n    \"object\": {\n      \"id\": \"%s\",\n"
        "      \"object\": \"checkout.session\",\n      \"amount_total\": %ld,\n"
        "      \"currency\": \"%s\",\n      \"payment_status\": \"%s\",\n"
        "      \"customer_details\": {\"email\": \"%s\", \"name\": \"Ada Lovelace\"}\n    }\n  "
        "}\n}",
        evt, session, amount, currency, status, email);
}

/* POST body to /hooks/stripe-sales, signed by `switchboard sign stripe`. */
static long post_stripe(const char *body)
{
    static const char *const json[] = {"Content-Type: application/json; charset=utf-8", NULL};
    char **headers = sbp_sign(&proc, "stripe", STRIPE_SECRET, NULL, NULL, body, json);
    assert_non_null(headers);
    long status =
        sbp_hook_request(&proc, "POST", "stripe-sales", (const char *const *)headers, body, NULL);
    testkit_strv_free(headers);
    return status;
}

static bool wait_succeeded(int64_t n)
{
    return sbp_wait_runs(&proc, WF, "succeeded", n, 30000);
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_sale_becomes_contact_and_deal(void **state)
{
    (void)state;
    char *ev = checkout("evt_1QxA01", "cs_test_a1", 12950, "usd", "paid", "ada@example.com");
    assert_int_equal(post_stripe(ev), 200);
    assert_true(wait_succeeded(1));
    assert_int_equal(hubspot_api_refused(hubspot), 0);
    char contact[32];
    assert_true(hubspot_api_contact_id(hubspot, "ada@example.com", contact, sizeof(contact)));

    struct standin_request req;
    assert_true(standin_get(api, HUBSPOT_UPSERT_PATH, 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    struct json_object *body = json_tokener_parse(req.body), *inputs;
    assert_true(json_object_object_get_ex(body, "inputs", &inputs));
    struct json_object *in = json_object_array_get_idx(inputs, 0);
    assert_string_equal(scenario_json_get(in, "id"), "ada@example.com");
    assert_string_equal(scenario_json_get(in, "properties.firstname"), "Ada Lovelace");
    assert_string_equal(scenario_json_get(in, "properties.lifecyclestage"), "customer");
    json_object_put(body);
    standin_request_free(&req);

    assert_true(standin_get(api, HUBSPOT_DEALS_PATH, 0, &req));
    body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "properties.dealname"),
                        "Stripe checkout cs_test_a1");
    /* 12950 cents is 129.50 */
    assert_string_equal(scenario_json_get(body, "properties.amount"), "129.50");
    assert_string_equal(scenario_json_get(body, "properties.dealstage"), "closedwon");
    struct json_object *assoc = json_object_object_get(body, "associations");
    assert_string_equal(scenario_json_get(json_object_array_get_idx(assoc, 0), "to.id"), contact);
    json_object_put(body);
    standin_request_free(&req);

    /* Stripe delivers the same event again: no second deal */
    assert_int_equal(post_stripe(ev), 200);
    testkit_sleep_ms(500);
    assert_int_equal(hubspot_api_deals(hubspot), 1);
    free(ev);

    /* an unpaid session (a delayed payment method) is filtered out */
    size_t before = standin_count(api, NULL);
    ev = checkout("evt_1QxA02", "cs_test_a2", 4000, "usd", "unpaid", "bob@example.com");
    assert_int_equal(post_stripe(ev), 200);
    free(ev);
    assert_true(sbp_wait_runs(&proc, WF, "skipped", 1, 20000));
    assert_int_equal(standin_count(api, NULL), before);
}

static void test_rate_limit_retries_the_deal_only(void **state)
{
    (void)state;
    standin_clear(api);
    /* the contact goes through; the deal meets the ten-second limit */
    hubspot_api_fail_next(
        hubspot, 200, "{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"1501\",\"properties\":{}}]}",
        NULL);
    hubspot_api_fail_next(hubspot, 429, HUBSPOT_429_TEN_SECONDLY, "Retry-After: 1\n");
    char *ev = checkout("evt_1QxA03", "cs_test_a3", 500, "jpy", "paid", "cy@example.com");
    assert_int_equal(post_stripe(ev), 200);
    free(ev);
    assert_true(wait_succeeded(2));
    assert_int_equal(standin_count(api, HUBSPOT_UPSERT_PATH), 1);
    assert_int_equal(standin_count(api, HUBSPOT_DEALS_PATH), 2);
    struct standin_request req;
    assert_true(standin_get(api, HUBSPOT_DEALS_PATH, 1, &req));
    struct json_object *body = json_tokener_parse(req.body);
    /* yen have no minor units */
    assert_string_equal(scenario_json_get(body, "properties.amount"), "500");
    json_object_put(body);
    standin_request_free(&req);
    assert_false(sbp_log_contains(&proc, TOKEN));
    assert_false(sbp_log_contains(&proc, STRIPE_SECRET));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_sale_becomes_contact_and_deal),
        cmocka_unit_test(test_rate_limit_retries_the_deal_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
