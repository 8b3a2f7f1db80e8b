/* Seed scenario (issue 15): a support ticket from a website form becomes a
 * task. The shipped conf/examples/wpforms-ticket-to-asana.ini runs with
 * api_base pointed at an Asana stand-in (tests/support/asana_checks.c) and
 * a fake Slack (tests/support/slack_checks.c); form entries are signed as
 * WPForms signs them, with `switchboard sign wpforms`. Covered: the entry
 * becomes a task in the support project and #support gets its link; a
 * form-format delivery is refused (WPForms signs it in a way that cannot
 * be verified); a forged one makes nothing; a Slack rate limit retries
 * the Slack step only (one task); payload text cannot make Slack markup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "asana_checks.h"
#include "scenario.h"
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define WF "wpforms-ticket-to-asana"
#define FORM_SECRET "wpf-9c2e7a1b5d3f4e6a8b0c1d2e3f4a5b6c"
#define ASANA_TOKEN "2/1200000000000001/1209876543210988:1b2c3d4e5f60718293a4b5c6d7e8f90a"
#define BOT_TOKEN "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"

static struct sb_proc proc;
static struct standin *slack_standin, *asana_standin;
static struct slack_api *slack;
static struct asana_api *asana;

static const char *const env[] = {"WPFORMS_WEBHOOK_SECRET=" FORM_SECRET, "ASANA_TOKEN=" ASANA_TOKEN,
                                  "SLACK_BOT_TOKEN=" BOT_TOKEN, NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&asana_standin) < 0)
        return -1;
    asana = asana_api_install(asana_standin, ASANA_TOKEN);
    char base[300];
    snprintf(base, sizeof(base), "api_base = %s/api/1.0", standin_url(asana_standin));
    const struct example_edit more[] = {
        {"use = asana.", base}, {"[workflow]", "retry_backoff = 200ms"}, {NULL, NULL}};
    return scenario_start_with_slack(&proc, &slack_standin, &slack, WF, more, env);
}

static int teardown(void **state)
{
    (void)state;
    scenario_stop_with_slack(&proc, slack_standin, slack);
    standin_stop(asana_standin);
    asana_api_free(asana);
    return 0;
}

/* POST an entry as WPForms does (JSON format, signed with `secret` by
 * `switchboard sign wpforms`). The HTTP status. */
static long post_entry(const char *body, const char *secret)
{
    static const char *const lead[] = {"Content-Type: application/json; charset=utf-8",
                                       "User-Agent: wpforms-webhooks/1.4.0", NULL};
    char **headers = sbp_sign(&proc, "wpforms", secret, NULL, NULL, body, lead);
    assert_non_null(headers);
    long status =
        sbp_hook_request(&proc, "POST", "support-form", (const char *const *)headers, body, NULL);
    testkit_strv_free(headers);
    return status;
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_entry_becomes_task_and_message(void **state)
{
    (void)state;
    /* wp_json_encode writes / as \/ */
    const char *entry = "{\"name\":\"Ann Example\",\"email\":\"ann@example.com\",\"subject\":"
                        "\"Printer on fire\",\"message\":\"Smoke from tray 2, see "
                        "https:\\/\\/example.com\\/photo\"}";
    assert_int_equal(post_entry(entry, FORM_SECRET), 200);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 1, 30000));
    assert_int_equal(asana_api_refused(asana), 0);
    assert_int_equal(asana_api_tasks(asana), 1);
    struct standin_request req;
    assert_true(standin_get(asana_standin, "/api/1.0/tasks", 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " ASANA_TOKEN);
    struct json_object *body = json_tokener_parse(req.body), *data;
    assert_true(json_object_object_get_ex(body, "data", &data));
    assert_string_equal(scenario_json_get(data, "name"), "Printer on fire");
    assert_string_equal(scenario_json_get(data, "notes"),
                        "From Ann Example <ann@example.com>: Smoke from tray 2, see "
                        "https://example.com/photo");
    struct json_object *projects = json_object_object_get(data, "projects");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(projects, 0)),
                        ASANA_PROJECT);
    json_object_put(body);
    standin_request_free(&req);
    /* #support gets the task's link */
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 1, 10000));
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.channel, "#support");
    assert_string_equal(m.text,
                        "New support request from Ann Example: Printer on fire - "
                        "<https://app.asana.com/0/" ASANA_PROJECT "/1300000000000001|Asana task>");
    slack_message_release(&m);
}

static void test_form_format_and_forgery_make_nothing(void **state)
{
    (void)state;
    size_t tasks = asana_api_tasks(asana);
    /* form format: what WPForms signed is not these bytes */
    const char *form = "name=Eve&email=eve%40example.com&subject=x&message=y";
    static const char *const lead[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char **headers = sbp_sign(&proc, "wpforms", FORM_SECRET, NULL, NULL, form, lead);
    assert_non_null(headers);
    struct http_reply r;
    assert_int_equal(
        sbp_hook_request(&proc, "POST", "support-form", (const char *const *)headers, form, &r),
        415);
    assert_non_null(strstr(r.body, "Request Format to JSON"));
    http_reply_free(&r);
    testkit_strv_free(headers);
    /* signed with another secret */
    assert_int_equal(post_entry("{\"name\":\"Mallory\",\"email\":\"m@example.com\",\"subject\":"
                                "\"x\",\"message\":\"y\"}",
                                "not-the-secret"),
                     401);
    testkit_sleep_ms(300);
    assert_int_equal(asana_api_tasks(asana), tasks);
}

static void test_slack_retry_and_escaping(void **state)
{
    (void)state;
    size_t tasks = asana_api_tasks(asana);
    slack_api_rate_limit_next(slack, SLACK_POST_MESSAGE, 1);
    const char *entry = "{\"name\":\"Bob <!channel>\",\"email\":\"bob@example.com\",\"subject\":"
                        "\"Help & <b>now</b>\",\"message\":\"\"}";
    assert_int_equal(post_entry(entry, FORM_SECRET), 200);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 2, 30000));
    /* one task: the retry resumed at the Slack step */
    assert_int_equal(asana_api_tasks(asana), tasks + 1);
    assert_int_equal(slack_api_refused(slack, SLACK_POST_MESSAGE), 1);
    size_t n = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, n - 1, &m));
    assert_string_equal(m.text, "New support request from Bob &lt;!channel&gt;: Help &amp; "
                                "&lt;b&gt;now&lt;/b&gt; - <https://app.asana.com/0/" ASANA_PROJECT
                                "/1300000000000002|Asana task>");
    slack_message_release(&m);
    assert_false(sbp_log_contains(&proc, FORM_SECRET));
    assert_false(sbp_log_contains(&proc, ASANA_TOKEN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_entry_becomes_task_and_message),
        cmocka_unit_test(test_form_format_and_forgery_make_nothing),
        cmocka_unit_test(test_slack_retry_and_escaping),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
