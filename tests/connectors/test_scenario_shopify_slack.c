/* Seed scenario (issue 6): a Shopify order becomes a Slack message, with
 * the shipped conf/examples/shopify-order-to-slack.ini itself. The example
 * passes `switchboard check` with its environment set (and not without);
 * the engine runs it with api_base pointed at a fake Slack
 * (tests/support/slack_checks.c); signed orders go in and
 * "New Order! #1001 for $50.00" comes out, with the order id above 2^53
 * exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "scenario.h"
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define WF "shopify-order-to-slack"
#define APP_SECRET "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"
#define BOT_TOKEN "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"

static struct sb_proc proc;
static struct standin *slack_standin;
static struct slack_api *slack;

static const char *const env[] = {"SHOPIFY_WEBHOOK_SECRET=" APP_SECRET,
                                  "SLACK_BOT_TOKEN=" BOT_TOKEN, NULL};

static int setup(void **state)
{
    (void)state;
    return scenario_start_with_slack(&proc, &slack_standin, &slack, WF, NULL, env);
}

static int teardown(void **state)
{
    (void)state;
    scenario_stop_with_slack(&proc, slack_standin, slack);
    return 0;
}

/* POST `body` to /hooks/shopify-orders as Shopify does, with the app
 * secret's signature (HMAC-SHA256, base64) of `signed_body` (NULL: of the
 * body itself). The HTTP status. */
static long post_signed_as(const char *body, const char *signed_body, const char *topic,
                           const char *delivery)
{
    if (!signed_body)
        signed_body = body;
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), APP_SECRET, (int)strlen(APP_SECRET), (const unsigned char *)signed_body,
         strlen(signed_body), mac, &n);
    char sig[64], h_sig[128], h_topic[128], h_id[128];
    EVP_EncodeBlock((unsigned char *)sig, mac, 32);
    snprintf(h_sig, sizeof(h_sig), "X-Shopify-Hmac-Sha256: %s", sig);
    snprintf(h_topic, sizeof(h_topic), "X-Shopify-Topic: %s", topic);
    snprintf(h_id, sizeof(h_id), "X-Shopify-Webhook-Id: %s", delivery);
    const char *headers[] = {"Content-Type: application/json",
                             h_sig,
                             h_topic,
                             h_id,
                             "X-Shopify-Shop-Domain: my-store.myshopify.com",
                             "X-Shopify-API-Version: 2025-01",
                             NULL};
    return sbp_hook_request(&proc, "POST", "shopify-orders", headers, body, NULL);
}

static long post_order(const char *body, const char *topic, const char *delivery)
{
    return post_signed_as(body, NULL, topic, delivery);
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    /* without the secrets it does not pass */
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_order_to_slack(void **state)
{
    (void)state;
    const char *order = "{\"id\":820982911946154508,\"admin_graphql_api_id\":\"gid://shopify/Order/"
                        "820982911946154508\",\"name\":\"#1001\",\"order_number\":1001,"
                        "\"email\":\"jon@example.com\",\"currency\":\"USD\",\"total_price\":"
                        "\"50.00\",\"subtotal_price\":\"50.00\",\"financial_status\":\"paid\","
                        "\"customer\":{\"id\":115310627314723954,\"first_name\":\"John\"}}";
    assert_int_equal(post_order(order, "orders/create", "3b2e5c1a-0001"), 200);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 1, 20000));
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.channel, "#sales");
    assert_string_equal(m.text, "New Order! #1001 for $50.00 (order 820982911946154508)");
    assert_string_equal(m.authorization, "Bearer " BOT_TOKEN);
    slack_message_release(&m);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 1, 10000));
}

static void test_more_orders(void **state)
{
    (void)state;
    size_t before = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    /* connectors.md 5.4's order: thousands separator, its big id exact */
    const char *big = "{\"id\":820982911946154508,\"name\":\"#9999\",\"total_price\":\"1575.90\","
                      "\"currency\":\"USD\",\"customer\":{\"email\":\"john@example.com\"}}";
    assert_int_equal(post_order(big, "orders/create", "3b2e5c1a-0002"), 200);
    /* a shop selling in euros */
    const char *eur = "{\"id\":450789469,\"name\":\"#1002\",\"total_price\":\"19.5\","
                      "\"currency\":\"EUR\"}";
    assert_int_equal(post_order(eur, "orders/create", "3b2e5c1a-0003"), 200);
    /* another topic: stored, no message */
    assert_int_equal(post_order(eur, "orders/paid", "3b2e5c1a-0004"), 200);
    /* a retried delivery: no second message */
    assert_int_equal(post_order(eur, "orders/create", "3b2e5c1a-0003"), 200);
    /* a body changed after signing is refused */
    const char *forged = "{\"id\":450789469,\"name\":\"#1002\",\"total_price\":\"1.5\","
                         "\"currency\":\"EUR\"}";
    assert_int_equal(post_signed_as(forged, eur, "orders/create", "3b2e5c1a-0005"), 401);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, before + 2, 20000));
    testkit_sleep_ms(500);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), before + 2);
    char *texts[2];
    for (size_t i = 0; i < 2; i++) {
        struct slack_message m;
        assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, before + i, &m));
        texts[i] = strdup(m.text);
        slack_message_release(&m);
    }
    /* two workers: either order */
    bool first_big = strstr(texts[0], "#9999") != NULL;
    assert_string_equal(texts[first_big ? 0 : 1],
                        "New Order! #9999 for $1,575.90 (order 820982911946154508)");
    assert_string_equal(texts[first_big ? 1 : 0], "New Order! #1002 for \xe2\x82\xac"
                                                  "19.50 (order 450789469)");
    free(texts[0]);
    free(texts[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_order_to_slack),
        cmocka_unit_test(test_more_orders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
