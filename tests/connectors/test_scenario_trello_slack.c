/* Seed scenario (issue 6): a card created on a Trello board is announced in
 * Slack, with the shipped conf/examples/trello-card-to-slack.ini itself.
 * The example passes `switchboard check` with its environment set; the
 * engine answers Trello's HEAD check, verifies deliveries signed over the
 * body and the registered callback URL (not the URL the request came in
 * on), and posts to a fake Slack (tests/support/slack_checks.c). */
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

#define APP_SECRET "b1d2c3a4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define BOT_TOKEN "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
/* as written in the example: what Trello signs */
#define CALLBACK "https://automation.example.com/hooks/trello-cards"
#define WF "trello-card-to-slack"

static struct sb_proc proc;
static struct standin *slack_standin;
static struct slack_api *slack;

static const char *const env[] = {"TRELLO_APP_SECRET=" APP_SECRET, "SLACK_BOT_TOKEN=" BOT_TOKEN,
                                  NULL};

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

/* POST a delivery as Trello does: X-Trello-Webhook = base64(HMAC-SHA1(app
 * secret, body + callback)). The HTTP status. */
static long post_action(const char *body, const char *callback)
{
    size_t lb = strlen(body), lc = strlen(callback);
    unsigned char *msg = malloc(lb + lc);
    memcpy(msg, body, lb);
    memcpy(msg + lb, callback, lc);
    unsigned char mac[20];
    unsigned int n = 0;
    HMAC(EVP_sha1(), APP_SECRET, (int)strlen(APP_SECRET), msg, lb + lc, mac, &n);
    free(msg);
    char header[80] = "X-Trello-Webhook: ";
    EVP_EncodeBlock((unsigned char *)header + strlen(header), mac, 20);
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    return sbp_hook_request(&proc, "POST", "trello-cards", headers, body, NULL);
}

/* A createCard action as Trello sends it (connectors.md 4.3). */
static const char create_card[] =
    "{\"action\":{\"id\":\"6790f00dc9a4f1a2b3c4d5e1\",\"idMemberCreator\":"
    "\"4fc78a59a885233f4b349bd9\",\"type\":\"createCard\",\"date\":\"2025-01-22T12:00:00.000Z\","
    "\"data\":{\"card\":{\"id\":\"6790f00dc9a4f1a2b3c4d5e2\",\"name\":\"Ship the caf\xc3\xa9 "
    "menu\",\"idShort\":42,\"shortLink\":\"Qw3Er5Ty\"},\"list\":{\"id\":"
    "\"5abbe4b7ddc1b351ef961401\",\"name\":\"To do\"},\"board\":{\"id\":"
    "\"5abbe4b7ddc1b351ef961400\",\"name\":\"Launch\",\"shortLink\":\"Bo4rDxYz\"}},"
    "\"memberCreator\":{\"id\":\"4fc78a59a885233f4b349bd9\",\"fullName\":\"Doug Patti\","
    "\"initials\":\"DP\",\"username\":\"doug\"}},\"model\":{\"id\":\"5abbe4b7ddc1b351ef961400\","
    "\"name\":\"Launch\"}}";

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_head_then_card_to_slack(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/trello-cards", proc.base_url);
    /* the check Trello makes before it creates the webhook */
    struct http_reply r;
    assert_int_equal(http_do("HEAD", url, NULL, NULL, 0, 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events"), 0);

    assert_int_equal(post_action(create_card, CALLBACK), 200);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 1, 20000));
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.channel, "#board-activity");
    assert_string_equal(m.text, "Doug Patti added \"Ship the caf\xc3\xa9 menu\" to To do on "
                                "Launch: https://trello.com/c/Qw3Er5Ty");
    assert_string_equal(m.authorization, "Bearer " BOT_TOKEN);
    slack_message_release(&m);
    assert_true(
        sbp_wait_sql(&proc, "SELECT count(*) FROM runs WHERE status = 'succeeded'", 1, 10000));
}

static void test_signatures_filter_and_markup(void **state)
{
    (void)state;
    size_t before = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/trello-cards", proc.base_url);
    /* signed over the URL the request arrived on, not the registered one */
    assert_int_equal(post_action(create_card, url), 401);
    /* Trello redelivers the same action: no second message */
    assert_int_equal(post_action(create_card, CALLBACK), 200);
    /* a card moved: not in `events`, stored without a run */
    const char *moved = "{\"action\":{\"id\":\"6790f00dc9a4f1a2b3c4d5e3\",\"type\":\"updateCard\","
                        "\"data\":{\"card\":{\"name\":\"x\",\"shortLink\":\"Qw3Er5Ty\"},"
                        "\"listBefore\":{\"name\":\"To do\"},\"listAfter\":{\"name\":\"Done\"}}},"
                        "\"model\":{}}";
    assert_int_equal(post_action(moved, CALLBACK), 200);
    /* a card name with Slack markup, and no memberCreator */
    const char *sneaky =
        "{\"action\":{\"id\":\"6790f00dc9a4f1a2b3c4d5e4\",\"type\":\"createCard\",\"data\":{"
        "\"card\":{\"name\":\"<!here> <https://evil.example|click> & win\",\"shortLink\":"
        "\"Zz9Yy8Xx\"},\"list\":{\"name\":\"Inbox\"},\"board\":{\"name\":\"Launch\"}}},"
        "\"model\":{}}";
    assert_int_equal(post_action(sneaky, CALLBACK), 200);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, before + 1, 20000));
    testkit_sleep_ms(500);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), before + 1);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, before, &m));
    assert_string_equal(m.text, "Someone added \"&lt;!here&gt; &lt;https://evil.example|click&gt; "
                                "&amp; win\" to Inbox on Launch: https://trello.com/c/Zz9Yy8Xx");
    slack_message_release(&m);
    assert_int_equal(
        sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE 'trello.webhook:%'"), 3);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_head_then_card_to_slack),
        cmocka_unit_test(test_signatures_filter_and_markup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
