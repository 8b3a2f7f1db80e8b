/* Seed scenario: a Mailchimp unsubscribe webhook becomes a Slack notice
 * ("<email> unsubscribed (<reason>)"). Runs the shipped
 * conf/examples/mailchimp-unsubscribe-to-slack.ini as it is, with only
 * api_base added to point slack.post_message at the Slack stand-in
 * (tests/support/slack_checks.c); the example also passes
 * `switchboard check`. Needs the slack plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "scenario.h"
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define WF "mailchimp-unsubscribe-to-slack"
#define SECRET "mc-url-secret-5be0a7"
#define SLACK_TOKEN "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

static struct sb_proc proc;
static struct standin *slack;
static struct slack_api *fake;

static const char *const env[] = {"MAILCHIMP_WEBHOOK_SECRET=" SECRET,
                                  "SLACK_BOT_TOKEN=" SLACK_TOKEN, NULL};

static bool slack_plugin_built(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/slack.so", testkit_plugins());
    struct stat st;
    return stat(path, &st) == 0;
}

static int setup(void **state)
{
    (void)state;
    if (!slack_plugin_built()) {
        fprintf(stderr, "slack.so is not built: this scenario needs plugins/slack\n");
        return -1;
    }
    return scenario_start_with_slack(&proc, &slack, &fake, WF, NULL, env);
}

static int teardown(void **state)
{
    (void)state;
    scenario_stop_with_slack(&proc, slack, fake);
    return 0;
}

static void test_example_passes_check(void **state)
{
    (void)state;
    char *out = NULL;
    scenario_assert_example_passes(WF, env, &out);
    assert_non_null(strstr(out, "1 workflow"));
    free(out);
}

static long post_hook(const char *method, const char *query, const char *body)
{
    char hook[300];
    snprintf(hook, sizeof(hook), "mailchimp%s", query);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    return sbp_hook_request(&proc, method, hook, body ? h : NULL, body, NULL);
}

static void test_unsubscribe_posts_a_notice(void **state)
{
    (void)state;
    /* Mailchimp's URL check when the webhook is saved */
    assert_int_equal(post_hook("GET", "", NULL), 200);
    /* a subscribe is not for this workflow; an unsubscribe is */
    const char *subscribe = "type=subscribe&fired_at=2024-05-02+09%3A14%3A03&data%5Bid%5D="
                            "8a25ff1d98&data%5Bemail%5D=ann%40example.com";
    const char *unsubscribe =
        "type=unsubscribe&fired_at=2024-05-02+09%3A15%3A41&data%5Baction%5D=unsub&data%5Breason"
        "%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Bemail%5D=ann%40example.com&data%5Bemail_type"
        "%5D=html&data%5Bmerges%5D%5BFNAME%5D=Ann&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_"
        "id%5D=cb398d21d2";
    assert_int_equal(post_hook("POST", "?secret=wrong", unsubscribe), 401);
    assert_int_equal(post_hook("POST", "?secret=" SECRET, subscribe), 200);
    assert_int_equal(post_hook("POST", "?secret=" SECRET, unsubscribe), 200);
    assert_true(slack_api_wait(fake, SLACK_POST_MESSAGE, 1, 15000));
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 1, 15000));
    struct slack_message m;
    assert_true(slack_api_message(fake, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.text, "ann@example.com unsubscribed (manual)");
    assert_string_equal(m.channel, "#marketing");
    assert_string_equal(m.authorization, "Bearer " SLACK_TOKEN);
    slack_message_release(&m);
    /* the subscribe made no run; the repeated delivery makes none either */
    assert_int_equal(post_hook("POST", "?secret=" SECRET, unsubscribe), 200);
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(slack_api_accepted(fake, SLACK_POST_MESSAGE), 1);

    /* an unsubscribe without a reason still makes a notice */
    assert_int_equal(post_hook("POST", "?secret=" SECRET,
                               "type=unsubscribe&fired_at=2024-05-02+09%3A20%3A00&data%5Bid%5D="
                               "11aa22bb33&data%5Bemail%5D=bo%40example.com&data%5Baction%5D="
                               "delete"),
                     200);
    assert_true(slack_api_wait(fake, SLACK_POST_MESSAGE, 2, 15000));
    assert_true(slack_api_message(fake, SLACK_POST_MESSAGE, 1, &m));
    assert_string_equal(m.text, "bo@example.com unsubscribed (no reason given)");
    slack_message_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_passes_check),
        cmocka_unit_test(test_unsubscribe_posts_a_notice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
