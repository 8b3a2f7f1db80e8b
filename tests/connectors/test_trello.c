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

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static void post_event(const char *hook, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/%s", proc.base_url, hook);
    const char *h[] = {"Content-Type: application/json", NULL};
    struct http_reply r;
    assert_int_equal(http_do("POST", url, h, body, strlen(body), 0, &r), 0);
    if (r.status != 200)
        fail_msg("POST %s: %ld %s", url, r.status, r.body);
    http_reply_free(&r);
}

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM runs WHERE workflow = '%s' AND status = '%s'",
             workflow, status);
    return sbp_wait_sql(&proc, sql, n, 20000);
}

/* The headers `switchboard sign PROVIDER` prints for `body`, as "Name:
 * value" strings in a NULL-terminated array led by Content-Type (caller
 * frees each and the array). */
static char **cli_sign(const char *provider, const char *secret, const char *url, const char *body)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/body-to-sign", proc.dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(body, 1, strlen(body), f);
    fclose(f);
    char *vars[6];
    vars[0] = fmt("SIGN_BIN=%s", testkit_binary());
    vars[1] = fmt("SIGN_PROVIDER=%s", provider);
    vars[2] = fmt("SIGN_SECRET=%s", secret);
    vars[3] = fmt("SIGN_URL=%s", url ? url : "");
    vars[4] = fmt("SIGN_FILE=%s", path);
    vars[5] = NULL;
    const char *argv[] = {"/bin/sh", "-c",
                          "exec \"$SIGN_BIN\" sign \"$SIGN_PROVIDER\" --secret \"$SIGN_SECRET\" "
                          "${SIGN_URL:+--url \"$SIGN_URL\"} < \"$SIGN_FILE\"",
                          NULL};
    char *out = NULL, *err = NULL;
    int rc = run_capture(argv, (const char *const *)vars, &out, &err);
    if (rc != 0)
        fail_msg("switchboard sign failed (%d): %s", rc, err ? err : "");
    for (size_t i = 0; i < 5; i++)
        free(vars[i]);
    char **headers = calloc(8, sizeof(char *));
    size_t n = 0;
    headers[n++] = strdup("Content-Type: application/json");
    for (char *line = out; line && *line && n < 7;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len)
            headers[n++] = strndup(line, len);
        line = nl ? nl + 1 : NULL;
    }
    free(out);
    free(err);
    return headers;
}

static void free_headers(char **headers)
{
    for (size_t i = 0; headers[i]; i++)
        free(headers[i]);
    free(headers);
}

static long post_signed(const char *hook, char **headers, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/%s", proc.base_url, hook);
    struct http_reply r;
    assert_int_equal(http_do("POST", url, (const char *const *)headers, body, strlen(body), 0, &r),
                     0);
    long status = r.status;
    http_reply_free(&r);
    return status;
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
    char *wf = fmt("[workflow]\nretry_backoff = 200ms\n\n"
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
    sbp_write_workflow(&proc, "cards", wf);
    free(wf);
    /* a generic request whose body lacks idList */
    wf = fmt("[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
             "[step raw]\nuse = trello.request\nmethod = POST\npath = /1/cards\n"
             "body = {\"name\": \"{{ event.title }}\"}\n"
             "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
             "api_base = %s\n",
             base);
    sbp_write_workflow(&proc, "raw", wf);
    free(wf);
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

static const char *json_get(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void test_create_comment_move(void **state)
{
    (void)state;
    standin_clear(api);
    post_event("cards", "{\"id\": \"ticket-1\", \"list\": \"" LIST_A "\", \"title\": \"Printer on "
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
    assert_string_equal(json_get(body, "idList"), LIST_A);
    assert_string_equal(json_get(body, "name"), "Printer on fire");
    assert_string_equal(json_get(body, "desc"), "Reported by ann@example.com");
    assert_string_equal(json_get(body, "pos"), "top");
    assert_string_equal(json_get(body, "idLabels"), LABEL);
    assert_int_equal(json_object_object_length(body), 5);
    json_object_put(body);
    standin_request_free(&req);

    /* the comment carries the card's URL from the first step's output */
    assert_true(standin_get(api, "/1/cards/" TRELLO_CARD_ID "/actions/comments", 0, &req));
    body = json_tokener_parse(req.body);
    assert_string_equal(json_get(body, "text"),
                        "Opened from ticket-1: https://trello.com/c/AbCd1234/1-printer-on-fire");
    json_object_put(body);
    standin_request_free(&req);

    /* the move went to the card's short link, taken from its short URL */
    assert_true(standin_get(api, "/1/cards/AbCd1234", 0, &req));
    assert_string_equal(req.method, "PUT");
    body = json_tokener_parse(req.body);
    assert_string_equal(json_get(body, "idList"), LIST_B);
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
    post_event("cards", "{\"id\": \"ticket-2\", \"list\": \"inbox\", \"title\": \"x\", \"email\": "
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
    post_event("raw", "{\"id\": \"raw-1\", \"title\": \"no list\"}");
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
    post_event("cards", "{\"id\": \"ticket-3\", \"list\": \"" LIST_A "\", \"title\": \"Slow\", "
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
    post_event("cards", "{\"id\": \"ticket-4\", \"list\": \"" LIST_A "\", \"title\": \"Flaky\", "
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
    char **headers = cli_sign("trello", APP_SECRET, CALLBACK, body);
    assert_int_equal(post_signed("trello-in", headers, body), 200);
    /* the same delivery again: a duplicate, no second run */
    assert_int_equal(post_signed("trello-in", headers, body), 200);
    free_headers(headers);
    assert_true(wait_status("inbox", "succeeded", 1));
    assert_true(sbp_log_contains(&proc, "card Caf\xc3\xa9 order on Ops"));
    assert_int_equal(
        sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE 'trello.webhook:%' AND "
                           "event_id = '6790e2b1c9a4f1a2b3c4d5e6' AND type = "
                           "'createCard'"),
        1);

    /* signed for another callback URL (the request's own, say): refused */
    headers = cli_sign("trello", APP_SECRET, url, body);
    assert_int_equal(post_signed("trello-in", headers, body), 401);
    free_headers(headers);
    /* signed with the API key instead of the OAuth secret: refused */
    headers = cli_sign("trello", KEY, CALLBACK, body);
    assert_int_equal(post_signed("trello-in", headers, body), 401);
    free_headers(headers);

    /* an action type the workflow does not listen to: stored, no run */
    const char *moved = "{\"action\":{\"id\":\"6790e2b1c9a4f1a2b3c4d5e8\",\"type\":\"updateCard\","
                        "\"data\":{\"card\":{\"name\":\"x\"}}},\"model\":{}}";
    headers = cli_sign("trello", APP_SECRET, CALLBACK, moved);
    assert_int_equal(post_signed("trello-in", headers, moved), 200);
    free_headers(headers);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE event_id = "
                                        "'6790e2b1c9a4f1a2b3c4d5e8'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbox'"), 1);
}

static void test_dry_run_masks_credentials(void **state)
{
    (void)state;
    char cfg[400], evfile[400];
    snprintf(cfg, sizeof(cfg), "%s/switchboard.ini", proc.dir);
    snprintf(evfile, sizeof(evfile), "%s/event.json", proc.dir);
    FILE *f = fopen(evfile, "w");
    assert_non_null(f);
    fputs("{\"id\": \"dry-1\", \"list\": \"" LIST_A "\", \"title\": \"Dry\", \"email\": "
          "\"e@example.com\", \"label\": \"" LABEL "\"}",
          f);
    fclose(f);
    standin_clear(api);
    const char *argv[] = {testkit_binary(), "fire", "-c",        cfg, "cards",
                          "--event",        evfile, "--dry-run", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(run_capture(argv, env, &out, &err), 0);
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
