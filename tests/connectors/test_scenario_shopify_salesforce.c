/* Seed scenario (issue 15): a Shopify order reaches Salesforce. The shipped
 * conf/examples/shopify-order-to-salesforce.ini runs with only login_url
 * pointed at a Salesforce stand-in (tests/support/salesforce_checks.c: the
 * token endpoint and REST API, checking the client credentials, the
 * session, fields and the external id field); orders are signed with
 * `switchboard sign shopify`. Covered: the customer upserted as a Contact by
 * its Shopify id (above 2^53, exact), a won Opportunity for the order
 * linked to it, with the close date from the order; a repeated delivery
 * makes nothing; the customer's next order updates the same Contact; one
 * token for all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "salesforce_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define WF "shopify-order-to-salesforce"
#define SHOP_SECRET "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"
#define CLIENT_ID "3MVG9_SHOPIFY_SYNC_CONSUMER_KEY_0002"
#define CLIENT_SECRET "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90"
#define CONTACT_PATH SALESFORCE_DATA "/sobjects/Contact/Shopify_Customer_Id__c/115310627314723954"
#define OPP_PATH SALESFORCE_DATA "/sobjects/Opportunity"

static struct sb_proc proc;
static struct standin *api;
static struct salesforce_api *sf;

static const char *const env[] = {"SHOPIFY_WEBHOOK_SECRET=" SHOP_SECRET,
                                  "SALESFORCE_CLIENT_ID=" CLIENT_ID,
                                  "SALESFORCE_CLIENT_SECRET=" CLIENT_SECRET, NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    const struct salesforce_config config = {.client_id = CLIENT_ID,
                                             .client_secret = CLIENT_SECRET};
    sf = salesforce_api_install(api, &config);
    char login[300];
    snprintf(login, sizeof(login), "login_url = %s", standin_url(api));
    const struct example_edit edits[] = {{"[workflow]", "retry_backoff = 200ms"}, {NULL, NULL}};
    const struct example_edit login_urls[] = {{"login_url = ", login}, {NULL, NULL}};
    return scenario_start_example_replacing(&proc, WF, edits, login_urls, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    salesforce_api_free(sf);
    return 0;
}

#define ORDER(ID, NAME, TOTAL)                                                                     \
    "{\"id\":" ID ",\"admin_graphql_api_id\":\"gid://shopify/Order/" ID "\",\"name\":\"" NAME      \
    "\",\"created_at\":\"2025-01-15T22:30:00-05:00\",\"currency\":\"USD\",\"total_price\":"        \
    "\"" TOTAL                                                                                     \
    "\",\"email\":\"ada@example.com\",\"customer\":{\"id\":115310627314723954,\"first_name\":"     \
    "\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\"}}"

/* The headers `switchboard sign shopify` makes for body (release them). */
static char **sign_order(const char *body)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "shopify", SHOP_SECRET, NULL, NULL, body, json);
    assert_non_null(headers);
    return headers;
}

static long post(char **headers, const char *body)
{
    return sbp_hook_request(&proc, "POST", "shopify-orders-crm", (const char *const *)headers, body,
                            NULL);
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_order_becomes_contact_and_opportunity(void **state)
{
    (void)state;
    const char *order = ORDER("820982911946154508", "#1001", "129.50");
    char **headers = sign_order(order);
    assert_int_equal(post(headers, order), 200);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 1, 30000));
    assert_int_equal(salesforce_api_refused(sf), 0);
    assert_int_equal(salesforce_api_records(sf, "Contact"), 1);
    assert_int_equal(salesforce_api_records(sf, "Opportunity"), 1);

    /* the Contact, by the customer's id exactly as Shopify sent it */
    struct standin_request req;
    assert_true(standin_get(api, CONTACT_PATH, 0, &req));
    assert_string_equal(req.method, "PATCH");
    struct json_object *body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "FirstName"), "Ada");
    assert_string_equal(scenario_json_get(body, "LastName"), "Lovelace");
    assert_string_equal(scenario_json_get(body, "Email"), "ada@example.com");
    json_object_put(body);
    standin_request_free(&req);
    /* the Opportunity, linked to that Contact */
    assert_true(standin_get(api, OPP_PATH, 0, &req));
    body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "Name"), "Shopify order #1001");
    assert_string_equal(scenario_json_get(body, "StageName"), "Closed Won");
    /* 22:30 at -05:00 is the next day in UTC */
    assert_string_equal(scenario_json_get(body, "CloseDate"), "2025-01-16");
    assert_string_equal(scenario_json_get(body, "Amount"), "129.50");
    const char *contact = scenario_json_get(body, "ContactId");
    assert_non_null(contact);
    assert_int_equal(strncmp(contact, "003", 3), 0);
    json_object_put(body);
    standin_request_free(&req);

    /* Shopify repeats the delivery (same webhook id): nothing new */
    assert_int_equal(post(headers, order), 200);
    testkit_strv_free(headers);
    testkit_sleep_ms(500);
    assert_int_equal(salesforce_api_records(sf, "Opportunity"), 1);

    /* the customer's next order: the same Contact, a second Opportunity */
    const char *next = ORDER("820982911946154509", "#1002", "20.00");
    headers = sign_order(next);
    assert_int_equal(post(headers, next), 200);
    testkit_strv_free(headers);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 2, 30000));
    assert_int_equal(salesforce_api_records(sf, "Contact"), 1);
    assert_int_equal(salesforce_api_records(sf, "Opportunity"), 2);
    assert_int_equal(standin_count(api, CONTACT_PATH), 2);
    /* both runs, four calls, one token */
    assert_int_equal(salesforce_api_tokens(sf), 1);
    assert_false(sbp_log_contains(&proc, CLIENT_SECRET));
    assert_false(sbp_log_contains(&proc, "sessiontoken"));
}

static void test_forged_order_makes_nothing(void **state)
{
    (void)state;
    const char *order = ORDER("820982911946154510", "#1003", "5.00");
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "shopify", "not-the-app-secret", NULL, NULL, order, json);
    assert_non_null(headers);
    assert_int_equal(post(headers, order), 401);
    testkit_strv_free(headers);
    testkit_sleep_ms(300);
    assert_int_equal(salesforce_api_records(sf, "Opportunity"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_order_becomes_contact_and_opportunity),
        cmocka_unit_test(test_forged_order_makes_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
