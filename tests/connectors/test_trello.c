/* The trello connector end to end: the real engine runs workflows whose
 * Trello steps call a stand-in of the Trello API (tests/support/
 * trello_checks.c) that checks what Trello checks: the OAuth Authorization
 * header (and no key or token in the URL), JSON bodies, a valid idList.
 * Covered: create_card -> add_comment -> move_card fed by step outputs;
 * a card refused for its idList is dead after one attempt; a 429 waits
 * rate_limit_wait before the retry; a 5xx retries; trello.webhook answers
 * Trello's HEAD check without a run and verifies signed deliveries made
 * with `switchboard sign trello`; dry runs mask the credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "scenario.h"
#include "standin.h"
#include "testkit.h"
#include "trello_checks.h"

#define KEY "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TOKEN "ATTAe1f2d3c4b5a6978877665544332211aabbccddeeff00112233445566778899"
#define APP_SECRET "trello-oauth-app-secret-42"
#define CALLBACK "https://automation.example.com/hooks/trello-in?team=ops"
#define LIST_A "5abbe4b7ddc1b351ef961401"
#define LIST_B "5abbe4b7ddc1b351ef961402"
#define LABEL "5abbe4b7ddc1b351ef961403"

static struct sb_proc proc;
static struct standin *api;
static struct trello_api *trello;

static const char *const env[] = {"SB_TEST_TRELLO_KEY=" KEY, "SB_TEST_TRELLO_TOKEN=" TOKEN,
                                  "SB_TEST_TRELLO_SECRET=" APP_SECRET, NULL};

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 20000);
}

/* The headers `switchboard sign trello` prints for `body` signed with
 * `secret` over body + `url`, led by Content-Type (release with
 * testkit_strv_free). */
static char **cli_sign(const char *secret, const char *url, const char *body)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "trello", secret, url, NULL, body, json);
    assert_non_null(headers);
    return headers;
}

static long post_signed(const char *hook, char **headers, const char *body)
{
    return sbp_hook_request(&proc, "POST", hook, (const char *const *)headers, body, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    trello = trello_api_install(api, KEY, TOKEN);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    /* create, comment with the card's URL, move by its short URL */
    sbp_write_workflowf(&proc, "cards",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step card]\nuse = trello.create_card\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "api_base = %s\nrate_limit_wait = 1s\n"
                        "id_list = {{ event.list }}\nname = {{ event.title }}\n"
                        "desc = Reported by {{ event.email }}\npos = top\n"
                        "id_labels = {{ event.label }}\n\n"
                        "[step note]\nuse = trello.add_comment\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "api_base = %s\ncard = {{ steps.card.id }}\n"
                        "text = Opened from {{ trigger.id }}: {{ steps.card.url }}\n\n"
                        "[step move]\nuse = trello.move_card\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "api_base = %s/\ncard = {{ steps.card.shortUrl }}\nid_list = " LIST_B "\n",
                        base, base, base);
    /* a generic request whose body lacks idList */
    sbp_write_workflowf(&proc, "raw",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step raw]\nuse = trello.request\nmethod = POST\npath = /1/cards\n"
                        "body = {\"name\": \"{{ event.title }}\"}\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "api_base = %s\n",
                        base);
    /* Trello webhooks in */
    sbp_write_workflow(&proc, "inbox",
                       "[trigger]\nuse = trello.webhook\npath = trello-in\n"
                       "secret = ${env:SB_TEST_TRELLO_SECRET}\ncallback_url = " CALLBACK "\n"
                       "events = createCard commentCard\n\n"
                       "[step log]\nuse = log.write\n"
                       "message = card {{ event.action.data.card.name }} on "
                       "{{ event.action.data.board.name }}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    trello_api_free(trello);
    return 0;
}

static void test_create_comment_move(void **state)
{
    (void)state;
    standin_clear(api);
    scenario_post_event(&proc, "cards",
                        "{\"id\": \"ticket-1\", \"list\": \"" LIST_A "\", \"title\": \"Printer on "
                        "fire\", \"email\": \"ann@example.com\", \"label\": \"" LABEL "\"}");
    assert_true(wait_status("cards", "succeeded", 1));
    assert_int_equal(standin_count(api, "/1/cards"), 1);
    assert_int_equal(standin_count(api, "/1/cards/" TRELLO_CARD_ID "/actions/comments"), 1);
    assert_int_equal(standin_count(api, "/1/cards/AbCd1234"), 1);
    assert_int_equal(trello_api_refused(trello), 0);

    struct standin_request req;
    assert_true(standin_get(api, "/1/cards", 0, &req));
    assert_string_equal(req.method, "POST");
    /* the credentials travel in the header only */
    assert_string_equal(standin_header(&req, "Authorization"),
                        "OAuth oauth_consumer_key=\"" KEY "\", oauth_token=\"" TOKEN "\"");
    assert_string_equal(req.query, "");
    assert_null(strstr(req.path, KEY));
    assert_string_equal(standin_header(&req, "Content-Type"), "application/json");
    struct json_object *body = json_tokener_parse(req.body);
    assert_non_null(body);
    assert_string_equal(scenario_json_get(body, "idList"), LIST_A);
    assert_string_equal(scenario_json_get(body, "name"), "Printer on fire");
    assert_string_equal(scenario_json_get(body, "desc"), "Reported by ann@example.com");
    assert_string_equal(scenario_json_get(body, "pos"), "top");
    assert_string_equal(scenario_json_get(body, "idLabels"), LABEL);
    assert_int_equal(json_object_object_length(body), 5);
    json_object_put(body);
    standin_request_free(&req);

    /* the comment carries the card's URL from the first step's output */
    assert_true(standin_get(api, "/1/cards/" TRELLO_CARD_ID "/actions/comments", 0, &req));
    body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "text"),
                        "Opened from ticket-1: https://trello.com/c/AbCd1234/1-printer-on-fire");
    json_object_put(body);
    standin_request_free(&req);

    /* the move went to the card's short link, taken from its short URL */
    assert_true(standin_get(api, "/1/cards/AbCd1234", 0, &req));
    assert_string_equal(req.method, "PUT");
    body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "idList"), LIST_B);
    json_object_put(body);
    standin_request_free(&req);

    /* the card step's output holds id, url and shortUrl */
    assert_int_equal(sbp_sql_int(&proc,
                                 "SELECT count(*) FROM steps WHERE name = 'card' AND "
                                 "output LIKE '%\"shortUrl\":\"https://trello.com/c/"
                                 "AbCd1234\"%' AND output LIKE '%\"id\":\"" TRELLO_CARD_ID "\"%'"),
                     1);
    /* neither credential reached the log */
    assert_false(sbp_log_contains(&proc, KEY));
    assert_false(sbp_log_contains(&proc, TOKEN));
}

static void test_bad_list_is_dead(void **state)
{
    (void)state;
    standin_clear(api);
    size_t refused = trello_api_refused(trello);
    /* an idList Trello refuses: permanent, one attempt */
    scenario_post_event(&proc, "cards",
                        "{\"id\": \"ticket-2\", \"list\": \"inbox\", \"title\": \"x\", \"email\": "
                        "\"b@example.com\", \"label\": \"" LABEL "\"}");
    assert_true(wait_status("cards", "dead", 1));
    assert_int_equal(standin_count(api, "/1/cards"), 1);
    assert_int_equal(trello_api_refused(trello), refused + 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'cards' AND "
                                        "status = 'dead' AND error LIKE '%HTTP 400 invalid value "
                                        "for idList%'"),
                     1);
    assert_int_equal(
        sbp_sql_int(&proc,
                    "SELECT attempts FROM runs WHERE workflow = 'cards' AND status = 'dead'"),
        1);
    /* no idList at all, through the generic request */
    scenario_post_event(&proc, "raw", "{\"id\": \"raw-1\", \"title\": \"no list\"}");
    assert_true(wait_status("raw", "dead", 1));
    assert_int_equal(standin_count(api, "/1/cards"), 2);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'raw' AND "
                                        "error LIKE '%invalid value for idList%'"),
                     1);
}

static void test_rate_limit_and_outage_retry(void **state)
{
    (void)state;
    standin_clear(api);
    /* Trello's 429 carries no Retry-After: the step waits rate_limit_wait */
    trello_api_fail_next(trello, 429, NULL,
                         "{\"error\":\"API_TOKEN_LIMIT_EXCEEDED\",\"message\":\"Rate limit "
                         "exceeded\"}");
    scenario_post_event(&proc, "cards",
                        "{\"id\": \"ticket-3\", \"list\": \"" LIST_A "\", \"title\": \"Slow\", "
                        "\"email\": \"c@example.com\", \"label\": \"" LABEL "\"}");
    assert_true(wait_status("cards", "succeeded", 2));
    assert_int_equal(standin_count(api, "/1/cards"), 2);
    struct standin_request a, b;
    assert_true(standin_get(api, "/1/cards", 0, &a));
    assert_true(standin_get(api, "/1/cards", 1, &b));
    int64_t gap = b.at_ms - a.at_ms;
    printf("retry after Trello's 429 came %lld ms later (rate_limit_wait = 1s, backoff 200ms)\n",
           (long long)gap);
    assert_true(gap >= 1000);
    standin_request_free(&a);
    standin_request_free(&b);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'cards' AND "
                                        "status = 'succeeded' AND attempts = 2"),
                     1);

    /* a 503 retries too; the comment step is the one that failed */
    standin_clear(api);
    trello_api_fail_next(trello, 200, NULL,
                         "{\"id\": \"" TRELLO_CARD_ID "\", \"shortLink\": "
                         "\"AbCd1234\"}");
    trello_api_fail_next(trello, 503, "text/plain", "Service Unavailable");
    scenario_post_event(&proc, "cards",
                        "{\"id\": \"ticket-4\", \"list\": \"" LIST_A "\", \"title\": \"Flaky\", "
                        "\"email\": \"d@example.com\", \"label\": \"" LABEL "\"}");
    assert_true(wait_status("cards", "succeeded", 3));
    /* the card was created once; the comment was sent twice */
    assert_int_equal(standin_count(api, "/1/cards"), 1);
    assert_int_equal(standin_count(api, "/1/cards/" TRELLO_CARD_ID "/actions/comments"), 2);
    /* an answer without url: the short link made both URLs */
    struct standin_request c;
    assert_true(standin_get(api, "/1/cards/" TRELLO_CARD_ID "/actions/comments", 1, &c));
    assert_non_null(strstr(c.body, "ticket-4: https://trello.com/c/AbCd1234\""));
    standin_request_free(&c);
}

static void test_webhook_head_and_signatures(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/trello-in", proc.base_url);
    int64_t events_before = sbp_sql_int(&proc, "SELECT count(*) FROM events");
    /* Trello's HEAD check before it creates the webhook: 200, nothing stored */
    struct http_reply r;
    assert_int_equal(http_do("HEAD", url, NULL, NULL, 0, 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events"), events_before);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbox'"), 0);
    /* GET is not a method Trello uses */
    assert_int_equal(http_do("GET", url, NULL, NULL, 0, 0, &r), 0);
    assert_int_equal(r.status, 405);
    http_reply_free(&r);

    /* a delivery signed over body + callback URL by `switchboard sign trello` */
    const char *body =
        "{\"action\":{\"id\":\"6790e2b1c9a4f1a2b3c4d5e6\",\"type\":\"createCard\",\"date\":"
        "\"2025-01-22T12:00:00.000Z\",\"data\":{\"card\":{\"id\":\"6790e2b1c9a4f1a2b3c4d5e7\","
        "\"name\":\"Caf\xc3\xa9 order\",\"idShort\":7,\"shortLink\":\"Zx9Yw8Vu\"},\"list\":{\"id\":"
        "\"" LIST_A "\",\"name\":\"Inbox\"},\"board\":{\"id\":\"5abbe4b7ddc1b351ef961400\","
        "\"name\":\"Ops\"}}},\"model\":{\"id\":\"5abbe4b7ddc1b351ef961400\",\"name\":\"Ops\"}}";
    char **headers = cli_sign(APP_SECRET, CALLBACK, body);
    assert_int_equal(post_signed("trello-in", headers, body), 200);
    /* the same delivery again: a duplicate, no second run */
    assert_int_equal(post_signed("trello-in", headers, body), 200);
    testkit_strv_free(headers);
    assert_true(wait_status("inbox", "succeeded", 1));
    assert_true(sbp_log_contains(&proc, "card Caf\xc3\xa9 order on Ops"));
    assert_int_equal(
        sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE 'trello.webhook:%' AND "
                           "event_id = '6790e2b1c9a4f1a2b3c4d5e6' AND type = "
                           "'createCard'"),
        1);

    /* signed for another callback URL (the request's own, say): refused */
    headers = cli_sign(APP_SECRET, url, body);
    assert_int_equal(post_signed("trello-in", headers, body), 401);
    testkit_strv_free(headers);
    /* signed with the API key instead of the OAuth secret: refused */
    headers = cli_sign(KEY, CALLBACK, body);
    assert_int_equal(post_signed("trello-in", headers, body), 401);
    testkit_strv_free(headers);

    /* an action type the workflow does not listen to: stored, no run */
    const char *moved = "{\"action\":{\"id\":\"6790e2b1c9a4f1a2b3c4d5e8\",\"type\":\"updateCard\","
                        "\"data\":{\"card\":{\"name\":\"x\"}}},\"model\":{}}";
    headers = cli_sign(APP_SECRET, CALLBACK, moved);
    assert_int_equal(post_signed("trello-in", headers, moved), 200);
    testkit_strv_free(headers);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE event_id = "
                                        "'6790e2b1c9a4f1a2b3c4d5e8'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbox'"), 1);
}

static void test_dry_run_masks_credentials(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json",
                                    "{\"id\": \"dry-1\", \"list\": \"" LIST_A "\", \"title\": "
                                    "\"Dry\", \"email\": \"e@example.com\", \"label\": \"" LABEL
                                    "\"}",
                                    evfile, sizeof(evfile)),
                     0);
    standin_clear(api);
    char *out = NULL, *err = NULL;
    assert_int_equal(
        sbp_cli(&proc, env, &out, &err, "fire", "cards", "--event", evfile, "--dry-run", NULL), 0);
    /* all three requests are printed, the credentials masked */
    assert_non_null(strstr(out, "/1/cards\n"));
    assert_non_null(strstr(out, "/actions/comments"));
    assert_non_null(strstr(out, "PUT "));
    assert_non_null(strstr(out, "Authorization: OAuth ****"));
    assert_null(strstr(out, KEY));
    assert_null(strstr(out, TOKEN));
    assert_null(strstr(err, KEY));
    assert_null(strstr(err, TOKEN));
    assert_int_equal(standin_count(api, NULL), 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_comment_move),
        cmocka_unit_test(test_bad_list_is_dead),
        cmocka_unit_test(test_rate_limit_and_outage_retry),
        cmocka_unit_test(test_webhook_head_and_signatures),
        cmocka_unit_test(test_dry_run_masks_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
