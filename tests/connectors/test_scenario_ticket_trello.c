/* Seed scenario (issue 6): a signed support ticket (http.webhook, verify =
 * hmac) becomes a Trello card, and Slack is told where the card is, with
 * the shipped conf/examples/ticket-to-trello.ini itself. The example passes
 * `switchboard check` with its environment set; the engine runs it against
 * a Trello stand-in (tests/support/trello_checks.c) and a fake Slack
 * (tests/support/slack_checks.c). Covered: the card's URL from the Trello
 * step's output reaches Slack; payload text cannot make Slack markup; a
 * Slack rate limit retries the Slack step only (one card); a bad signature
 * makes nothing; a ticket posted twice makes one card. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "scenario.h"
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"
#include "trello_checks.h"

#define HOOK_SECRET "helpdesk-signing-secret-7f3a9c"
#define TRELLO_KEY "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TRELLO_TOKEN "ATTA9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100"
#define LIST_ID "5abbe4b7ddc1b351ef961401"
#define BOT_TOKEN "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
#define WF "ticket-to-trello"

static struct sb_proc proc;
static struct standin *slack_standin, *trello_standin;
static struct slack_api *slack;
static struct trello_api *trello;

static const char *const env[] = {
    "HELPDESK_WEBHOOK_SECRET=" HOOK_SECRET, "TRELLO_API_KEY=" TRELLO_KEY,
    "TRELLO_TOKEN=" TRELLO_TOKEN,           "TRELLO_SUPPORT_LIST_ID=" LIST_ID,
    "SLACK_BOT_TOKEN=" BOT_TOKEN,           NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&trello_standin) < 0)
        return -1;
    trello = trello_api_install(trello_standin, TRELLO_KEY, TRELLO_TOKEN);
    /* the Trello steps talk to its stand-in, and a short retry backoff
     * spares the test minutes of waiting */
    char trello_base[300];
    snprintf(trello_base, sizeof(trello_base), "api_base = %s", standin_url(trello_standin));
    const struct example_edit more[] = {
        {"use = trello.", trello_base}, {"[workflow]", "retry_backoff = 200ms"}, {NULL, NULL}};
    return scenario_start_with_slack(&proc, &slack_standin, &slack, WF, more, env);
}

static int teardown(void **state)
{
    (void)state;
    scenario_stop_with_slack(&proc, slack_standin, slack);
    standin_stop(trello_standin);
    trello_api_free(trello);
    return 0;
}

/* POST a ticket to /hooks/support-tickets as the help desk does:
 * X-Signature-256: sha256=<hex HMAC-SHA256 of the body>, made with `key`.
 * The HTTP status. */
static long post_ticket(const char *body, const char *key)
{
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body), mac, &n);
    char sig[128] = "X-Signature-256: sha256=";
    size_t o = strlen(sig);
    for (unsigned int i = 0; i < n; i++)
        o += (size_t)snprintf(sig + o, sizeof(sig) - o, "%02x", mac[i]);
    const char *headers[] = {"Content-Type: application/json", sig, NULL};
    return sbp_hook_request(&proc, "POST", "support-tickets", headers, body, NULL);
}

static bool wait_succeeded(int64_t n)
{
    return sbp_wait_runs(&proc, WF, "succeeded", n, 20000);
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_ticket_to_card_to_slack(void **state)
{
    (void)state;
    const char *ticket = "{\"event\": \"ticket.created\", \"ticket\": {\"id\": \"T-1042\", "
                         "\"subject\": \"Printer on fire\", \"priority\": \"urgent\", "
                         "\"requester\": {\"name\": \"Ann\", \"email\": \"ann@example.com\"}, "
                         "\"description\": \"Smoke coming out of tray 2.\"}}";
    assert_int_equal(post_ticket(ticket, HOOK_SECRET), 200);
    assert_true(wait_succeeded(1));
    /* the card, as Trello received it */
    assert_int_equal(standin_count(trello_standin, "/1/cards"), 1);
    assert_int_equal(trello_api_refused(trello), 0);
    struct standin_request req;
    assert_true(standin_get(trello_standin, "/1/cards", 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"),
                        "OAuth oauth_consumer_key=\"" TRELLO_KEY "\", oauth_token=\"" TRELLO_TOKEN
                        "\"");
    assert_string_equal(req.query, "");
    struct json_object *body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "idList"), LIST_ID);
    assert_string_equal(scenario_json_get(body, "name"), "[urgent] Printer on fire");
    assert_string_equal(scenario_json_get(body, "desc"),
                        "Ticket T-1042 from Ann (ann@example.com): Smoke coming out of tray 2.");
    assert_string_equal(scenario_json_get(body, "pos"), "top");
    json_object_put(body);
    standin_request_free(&req);
    /* Slack links the card's URL from the create_card output */
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 1, 10000));
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.channel, "#support");
    assert_string_equal(m.text, "New ticket T-1042: Printer on fire - "
                                "<https://trello.com/c/AbCd1234/1-urgent-printer-on-fire|Trello "
                                "card>");
    slack_message_release(&m);

    /* the same ticket posted again: one card */
    assert_int_equal(post_ticket(ticket, HOOK_SECRET), 200);
    testkit_sleep_ms(500);
    assert_int_equal(standin_count(trello_standin, "/1/cards"), 1);
    /* signed with another secret: refused, nothing made */
    const char *forged = "{\"event\": \"ticket.created\", \"ticket\": {\"id\": \"T-666\", "
                         "\"subject\": \"x\", \"priority\": \"low\", \"requester\": {\"name\": "
                         "\"M\", \"email\": \"m@example.com\"}}}";
    assert_int_equal(post_ticket(forged, "not-the-secret"), 401);
    testkit_sleep_ms(300);
    assert_int_equal(standin_count(trello_standin, "/1/cards"), 1);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
}

static void test_markup_stays_text_and_slack_retry(void **state)
{
    (void)state;
    size_t cards = standin_count(trello_standin, "/1/cards");
    size_t created = trello_api_created(trello);
    slack_api_rate_limit_next(slack, SLACK_POST_MESSAGE, 1);
    const char *ticket = "{\"event\": \"ticket.created\", \"ticket\": {\"id\": \"T-1043\", "
                         "\"subject\": \"<!channel> help & \\\"now\\\"\", \"priority\": \"high\", "
                         "\"requester\": {\"name\": \"Bob\", \"email\": \"bob@example.com\"}}}";
    assert_int_equal(post_ticket(ticket, HOOK_SECRET), 200);
    assert_true(wait_succeeded(2));
    /* one card, made once: the retry resumed at the Slack step */
    assert_int_equal(standin_count(trello_standin, "/1/cards"), cards + 1);
    assert_int_equal(trello_api_created(trello), created + 1);
    assert_int_equal(slack_api_refused(slack, SLACK_POST_MESSAGE), 1);
    struct standin_request req;
    assert_true(standin_get(trello_standin, "/1/cards", cards, &req));
    struct json_object *body = json_tokener_parse(req.body);
    assert_non_null(body);
    /* Trello gets the subject as text; description absent -> empty */
    assert_string_equal(scenario_json_get(body, "name"), "[high] <!channel> help & \"now\"");
    assert_string_equal(scenario_json_get(body, "desc"),
                        "Ticket T-1043 from Bob (bob@example.com): ");
    json_object_put(body);
    standin_request_free(&req);
    /* Slack gets it escaped: no @channel, the link intact */
    size_t n = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, n - 1, &m));
    assert_string_equal(m.text, "New ticket T-1043: &lt;!channel&gt; help &amp; \"now\" - "
                                "<https://trello.com/c/AbCd1234/1-high-channel-help-now|Trello "
                                "card>");
    slack_message_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_ticket_to_card_to_slack),
        cmocka_unit_test(test_markup_stays_text_and_slack_retry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
