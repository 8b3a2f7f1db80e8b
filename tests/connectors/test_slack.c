/* The slack connector end to end: the real engine on loopback receives
 * Events API deliveries and slash commands signed by `switchboard sign
 * slack`, and its actions talk to a fake Slack (slack_checks.h) that checks
 * what Slack checks. Covered: escaping of payload text, url_verification,
 * Slack's retries deduplicated by event_id, 429 + Retry-After, ok:false
 * errors (permanent and transient), the per-channel posting limit, the
 * immediate reply of a slash command and its response_url, incoming
 * webhooks, chat.update fed by an earlier step, and a dry run. */
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
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define SIGNING_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define BOT_TOKEN "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

static struct sb_proc proc;
static struct standin *server;
static struct slack_api *slack;
static char webhook_env[256];
static const char *env[4];

static int setup(void **state)
{
    (void)state;
    if (standin_start(&server) < 0)
        return -1;
    slack = slack_api_install(server);
    /* the response_url step takes its host from the event: reaching the
     * loopback stand-in needs the engine's permission */
    if (sbp_init(&proc, "[engine]\nworkers = 4\nallow_private_networks = true\n") < 0)
        return -1;
    const char *base = standin_url(server);
    snprintf(webhook_env, sizeof(webhook_env), "SLACK_WEBHOOK_URL=%s/services/T0001/B0001/XXXXXXXX",
             base);
    env[0] = "SLACK_SIGNING_SECRET=" SIGNING_SECRET;
    env[1] = "SLACK_BOT_TOKEN=" BOT_TOKEN;
    env[2] = webhook_env;
    env[3] = NULL;
    /* mentions and messages are echoed to their channel */
    sbp_write_workflowf(&proc, "mention",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = slack.events\npath = slack-events\n"
                        "secret = ${env:SLACK_SIGNING_SECRET}\nevents = app_mention message\n\n"
                        "[step post]\nuse = slack.post_message\ntoken = ${env:SLACK_BOT_TOKEN}\n"
                        "channel = {{ event.event.channel }}\ntext = {{ event.event.text }}\n"
                        "api_base = %s/api\n",
                        base);
    /* the same hook path, other events: post, then edit what was posted */
    sbp_write_workflowf(&proc, "edit",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = slack.events\npath = slack-events\n"
                        "secret = ${env:SLACK_SIGNING_SECRET}\nevents = reaction_*\n\n"
                        "[step post]\nuse = slack.post_message\ntoken = ${env:SLACK_BOT_TOKEN}\n"
                        "channel = {{ event.event.item.channel }}\n"
                        "text = Reaction :{{ event.event.reaction }}:\napi_base = %s/api/\n\n"
                        "[step edit]\nuse = slack.update_message\ntoken = ${env:SLACK_BOT_TOKEN}\n"
                        "channel = {{ steps.post.channel }}\nts = {{ steps.post.ts }}\n"
                        "text = Edited for {{ event.event.user }}\napi_base = %s/api\n",
                        base, base);
    /* a slash command: an immediate reply, then one through response_url */
    sbp_write_workflow(&proc, "lookup",
                       "[workflow]\nretry_backoff = 200ms\n\n"
                       "[trigger]\nuse = slack.command\npath = slack-command\n"
                       "secret = ${env:SLACK_SIGNING_SECRET}\n"
                       "response = Looking up {{ event.text }} for <@{{ event.user_id }}>\n"
                       "response_type = in_channel\n\n"
                       "[step reply]\nuse = slack.respond\ndynamic_host = true\n"
                       "response_url = {{ event.response_url }}\n"
                       "text = Found {{ event.text }}\nresponse_type = in_channel\n");
    /* any JSON event to an incoming webhook */
    sbp_write_workflow(&proc, "notify",
                       "[workflow]\nretry_backoff = 200ms\n\n"
                       "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                       "[step hook]\nuse = slack.incoming_webhook\nurl = ${env:SLACK_WEBHOOK_URL}\n"
                       "text = {{ event.text }}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(server);
    slack_api_free(slack);
    return 0;
}

/* Start each test with a clean fake. */
static int reset(void **state)
{
    (void)state;
    slack_api_reset(slack);
    standin_clear(server);
    return 0;
}

/* --- sending to the engine ----------------------------------------------------- */

/* The headers `switchboard sign slack` prints for this body, as a
 * NULL-terminated list (caller frees the list and its strings). */
static char **sign_slack(const char *body, const char *timestamp)
{
    char **lines = sbp_sign(&proc, "slack", SIGNING_SECRET, NULL, timestamp, body, NULL);
    assert_non_null(lines);
    size_t n = 0;
    while (lines[n])
        n++;
    assert_int_equal(n, 2);
    assert_non_null(strstr(lines[0], "X-Slack-Request-Timestamp: "));
    assert_non_null(strstr(lines[1], "X-Slack-Signature: v0="));
    return lines;
}

/* POST `body` to /hooks/<hook> with the signature headers and `extra`
 * (NULL-terminated, may be NULL). Returns the status; *reply filled. */
static long post_signed(const char *hook, const char *content_type, const char *body,
                        const char *signed_body, const char *const *extra, struct http_reply *reply)
{
    char **sig = sign_slack(signed_body ? signed_body : body, NULL);
    const char *headers[12];
    size_t n = 0;
    char ct[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
    headers[n++] = ct;
    headers[n++] = sig[0];
    headers[n++] = sig[1];
    for (size_t i = 0; extra && extra[i] && n < 11; i++)
        headers[n++] = extra[i];
    headers[n] = NULL;
    long status = sbp_hook_request(&proc, "POST", hook, headers, body, reply);
    testkit_strv_free(sig);
    return status;
}

/* An event_callback envelope for the Events API. */
static char *callback(const char *event_id, const char *type, const char *channel,
                      const char *text_json)
{
    return testkit_fmt(
        "{\"token\":\"XXYYZZ\",\"team_id\":\"T1DC2JH3J\",\"api_app_id\":\"A0PNCHHK2\","
        "\"event\":{\"type\":\"%s\",\"user\":\"U123\",\"text\":%s,\"ts\":"
        "\"1515449522.000016\",\"channel\":\"%s\",\"event_ts\":\"1515449522.000016\"},"
        "\"type\":\"event_callback\",\"event_id\":\"%s\",\"event_time\":1515449522}",
        type, text_json, channel, event_id);
}

static void send_event(const char *event_id, const char *channel, const char *text_json)
{
    char *body = callback(event_id, "app_mention", channel, text_json);
    struct http_reply r;
    long status = post_signed("slack-events", "application/json", body, NULL, NULL, &r);
    if (status != 200)
        fail_msg("event %s: %ld %s", event_id, status, r.body);
    http_reply_free(&r);
    free(body);
}

/* --- reading the store -------------------------------------------------------------- */

static int64_t sql(const char *f, ...) __attribute__((format(printf, 1, 2)));
static int64_t sql(const char *f, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(q, sizeof(q), f, ap);
    va_end(ap);
    return sbp_sql_int(&proc, q);
}

/* Wait until the runs of an event (by provider id) in `workflow` have
 * `status`. */
static bool wait_run(const char *event_id, const char *workflow, const char *status,
                     int64_t timeout_ms)
{
    char q[512];
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE e.event_id = "
             "'%s' AND r.workflow = '%s' AND r.status = '%s'",
             event_id, workflow, status);
    return sbp_wait_sql(&proc, q, 1, timeout_ms);
}

static int64_t run_field(const char *event_id, const char *workflow, const char *field)
{
    return sql("SELECT r.%s FROM runs r JOIN events e ON r.event = e.id WHERE e.event_id = '%s' "
               "AND r.workflow = '%s'",
               field, event_id, workflow);
}

/* --- the tests -------------------------------------------------------------------------- */

static void test_event_posts_escaped_message(void **state)
{
    (void)state;
    send_event("Ev0001", "C0AAA", "\"<@U123> & <script>\"");
    assert_true(wait_run("Ev0001", "mention", "succeeded", 10000));
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.authorization, "Bearer " BOT_TOKEN);
    assert_string_equal(m.content_type, "application/json; charset=utf-8");
    assert_string_equal(m.channel, "C0AAA");
    /* payload data cannot mention anyone or inject markup */
    assert_string_equal(m.text, "&lt;@U123&gt; &amp; &lt;script&gt;");
    /* the body is what the interface says: channel and text, nothing else */
    struct json_object *body = json_tokener_parse(m.body);
    assert_non_null(body);
    assert_int_equal(json_object_object_length(body), 2);
    json_object_put(body);
    /* the stored event: Slack's event_id, the inner type, source slack */
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id = 'Ev0001' AND type = "
                         "'app_mention' AND source = 'slack'"),
                     1);
    /* the events filter kept the other workflow on this path out */
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id = 'Ev0001'"),
                     1);
    /* the step output has the ts and a permalink-style link */
    char digits[64];
    size_t n = 0;
    for (const char *p = m.ts; *p; p++)
        if (*p != '.')
            digits[n++] = *p;
    digits[n] = '\0';
    assert_int_equal(sql("SELECT count(*) FROM steps s JOIN runs r ON s.run = r.id JOIN events e "
                         "ON r.event = e.id WHERE e.event_id = 'Ev0001' AND "
                         "json_extract(s.output, '$.ts') = '%s' AND "
                         "json_extract(s.output, '$.channel') = 'C0AAA' AND "
                         "json_extract(s.output, '$.link') = "
                         "'https://slack.com/archives/C0AAA/p%s'",
                         m.ts, digits),
                     1);
    slack_message_release(&m);
}

static void test_bad_signatures_refused(void **state)
{
    (void)state;
    int64_t before = sql("SELECT count(*) FROM events");
    char *body = callback("Ev0009", "app_mention", "C0AAA", "\"hi\"");
    char *other = callback("Ev0009", "app_mention", "C0AAA", "\"hI\"");
    struct http_reply r;
    /* signed for another body */
    assert_int_equal(post_signed("slack-events", "application/json", body, other, NULL, &r), 401);
    http_reply_free(&r);
    /* a stale signature (10 minutes old) */
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)(testkit_now_ms() / 1000 - 600));
    char **sig = sign_slack(body, ts);
    const char *headers[] = {"Content-Type: application/json", sig[0], sig[1], NULL};
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/slack-events", proc.base_url);
    assert_int_equal(http_do("POST", url, headers, body, strlen(body), 0, &r), 0);
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    testkit_strv_free(sig);
    /* unsigned */
    const char *plain[] = {"Content-Type: application/json", NULL};
    assert_int_equal(http_do("POST", url, plain, body, strlen(body), 0, &r), 0);
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    free(body);
    free(other);
    assert_int_equal(sql("SELECT count(*) FROM events"), before);
}

static void test_url_verification(void **state)
{
    (void)state;
    int64_t events = sql("SELECT count(*) FROM events");
    int64_t runs = sql("SELECT count(*) FROM runs");
    const char *body =
        "{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":"
        "\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}";
    struct http_reply r;
    assert_int_equal(post_signed("slack-events", "application/json", body, NULL, NULL, &r), 200);
    assert_string_equal(r.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    char ct[128];
    assert_true(http_reply_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "text/plain");
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM events"), events);
    assert_int_equal(sql("SELECT count(*) FROM runs"), runs);
}

static void test_slack_retry_is_one_run(void **state)
{
    (void)state;
    char *body = callback("Ev0002", "message", "C0DUP", "\"twice\"");
    struct http_reply r;
    assert_int_equal(post_signed("slack-events", "application/json", body, NULL, NULL, &r), 200);
    http_reply_free(&r);
    /* Slack thought the first delivery timed out and sends it again */
    const char *retry[] = {"X-Slack-Retry-Num: 1", "X-Slack-Retry-Reason: http_timeout", NULL};
    assert_int_equal(post_signed("slack-events", "application/json", body, NULL, retry, &r), 200);
    assert_non_null(strstr(r.body, "duplicate"));
    http_reply_free(&r);
    free(body);
    assert_true(wait_run("Ev0002", "mention", "succeeded", 10000));
    testkit_sleep_ms(300);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id = 'Ev0002'"),
                     1);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
}

static void test_429_honours_retry_after(void **state)
{
    (void)state;
    slack_api_rate_limit_next(slack, SLACK_POST_MESSAGE, 1);
    send_event("Ev0003", "C0429", "\"patience\"");
    assert_true(wait_run("Ev0003", "mention", "succeeded", 10000));
    assert_int_equal(standin_count(server, "/api/chat.postMessage"), 2);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
    struct standin_request a, b;
    assert_true(standin_get(server, "/api/chat.postMessage", 0, &a));
    assert_true(standin_get(server, "/api/chat.postMessage", 1, &b));
    int64_t gap = b.at_ms - a.at_ms;
    print_message("second attempt %lld ms after the 429\n", (long long)gap);
    assert_true(gap >= 1000);
    standin_request_free(&a);
    standin_request_free(&b);
    assert_int_equal(run_field("Ev0003", "mention", "attempts"), 2);
}

static void test_channel_not_found_is_dead(void **state)
{
    (void)state;
    slack_api_fail_next(slack, SLACK_POST_MESSAGE, "channel_not_found");
    send_event("Ev0004", "C0GONE", "\"anyone?\"");
    assert_true(wait_run("Ev0004", "mention", "dead", 10000));
    assert_int_equal(standin_count(server, "/api/chat.postMessage"), 1);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 0);
    assert_int_equal(run_field("Ev0004", "mention", "attempts"), 1);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id = 'Ev0004' AND r.error LIKE '%%slack: channel_not_found%%'"),
                     1);
}

static void test_ratelimited_is_retried(void **state)
{
    (void)state;
    slack_api_fail_next(slack, SLACK_POST_MESSAGE, "ratelimited");
    send_event("Ev0005", "C0RL", "\"again\"");
    assert_true(wait_run("Ev0005", "mention", "succeeded", 10000));
    assert_int_equal(standin_count(server, "/api/chat.postMessage"), 2);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
    assert_int_equal(run_field("Ev0005", "mention", "attempts"), 2);
}

static void test_burst_waits_for_the_limit(void **state)
{
    (void)state;
    /* the fake refuses more than Slack allows (a little laxer than the
     * plugin's 1/s, burst 3, so timing noise cannot fail the test) */
    slack_api_enforce_rate(slack, 900, 3);
    for (int i = 0; i < 5; i++) {
        char id[32], text[32];
        snprintf(id, sizeof(id), "Ev01%02d", i);
        snprintf(text, sizeof(text), "\"burst %d\"", i);
        send_event(id, "C0BURST", text);
    }
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 5, 15000));
    assert_true(sbp_wait_sql(&proc,
                             "SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                             "e.event_id LIKE 'Ev01%' AND r.status = 'succeeded'",
                             5, 10000));
    /* nothing failed or was retried: the burst waited */
    assert_int_equal(slack_api_over_rate(slack), 0);
    assert_int_equal(slack_api_refused(slack, SLACK_POST_MESSAGE), 0);
    assert_int_equal(standin_count(server, "/api/chat.postMessage"), 5);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id LIKE 'Ev01%%' AND r.attempts = 1"),
                     5);
    int64_t first = INT64_MAX, last = 0;
    for (size_t i = 0; i < 5; i++) {
        struct slack_message m;
        assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, i, &m));
        first = m.at_ms < first ? m.at_ms : first;
        last = m.at_ms > last ? m.at_ms : last;
        slack_message_release(&m);
    }
    /* 3 at once, then one a second */
    print_message("5 messages over %lld ms\n", (long long)(last - first));
    assert_true(last - first >= 1900);
    slack_api_enforce_rate(slack, 0, 0);
}

static void test_slash_command(void **state)
{
    (void)state;
    char *body =
        testkit_fmt("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
                    "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&"
                    "user_name=roadrunner&command=%%2Flookup&text=order+42&"
                    "response_url=http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fcommands%%2FT1DC2JH3J%%"
                    "2F397700885554%%2F96rGlfmibIGlgcZRskXaIFfN&"
                    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
                    standin_port(server));
    struct http_reply r;
    assert_int_equal(
        post_signed("slack-command", "application/x-www-form-urlencoded", body, NULL, NULL, &r),
        200);
    char ct[128];
    assert_true(http_reply_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    struct json_object *answer = json_tokener_parse(r.body);
    assert_non_null(answer);
    assert_string_equal(scenario_json_get(answer, "response_type"), "in_channel");
    assert_string_equal(scenario_json_get(answer, "text"), "Looking up order 42 for <@U2CERLKJA>");
    json_object_put(answer);
    http_reply_free(&r);
    free(body);
    /* the command is stored and its run replies through response_url */
    const char *id = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    assert_int_equal(
        sql("SELECT count(*) FROM events WHERE event_id = '%s' AND type = '/lookup'", id), 1);
    assert_true(wait_run(id, "lookup", "succeeded", 10000));
    assert_int_equal(slack_api_accepted(slack, SLACK_RESPONSE_URL), 1);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_RESPONSE_URL, 0, &m));
    assert_string_equal(m.text, "Found order 42");
    struct json_object *sent = json_tokener_parse(m.body);
    assert_string_equal(scenario_json_get(sent, "response_type"), "in_channel");
    json_object_put(sent);
    slack_message_release(&m);
    struct standin_request req;
    assert_true(standin_get(server, NULL, 0, &req));
    assert_string_equal(req.path, "/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN");
    standin_request_free(&req);
}

static void test_incoming_webhook(void **state)
{
    (void)state;
    scenario_post_event(&proc, "notify", "{\"id\": \"n1\", \"text\": \"Deploy <done> & dusted\"}");
    assert_true(wait_run("n1", "notify", "succeeded", 10000));
    assert_int_equal(slack_api_accepted(slack, SLACK_WEBHOOK), 1);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_WEBHOOK, 0, &m));
    assert_string_equal(m.text, "Deploy &lt;done&gt; &amp; dusted");
    assert_string_equal(m.authorization, "");
    slack_message_release(&m);

    /* a 500 rollup_error is retried */
    slack_api_fail_http(slack, SLACK_WEBHOOK, 500, NULL, "rollup_error");
    scenario_post_event(&proc, "notify", "{\"id\": \"n2\", \"text\": \"second\"}");
    assert_true(wait_run("n2", "notify", "succeeded", 10000));
    assert_int_equal(run_field("n2", "notify", "attempts"), 2);

    /* a 404 channel_not_found is permanent, with Slack's text */
    slack_api_fail_http(slack, SLACK_WEBHOOK, 404, NULL, "channel_not_found");
    scenario_post_event(&proc, "notify", "{\"id\": \"n3\", \"text\": \"third\"}");
    assert_true(wait_run("n3", "notify", "dead", 10000));
    assert_int_equal(run_field("n3", "notify", "attempts"), 1);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id = 'n3' AND r.error LIKE '%%HTTP 404 channel_not_found%%'"),
                     1);
    assert_int_equal(slack_api_accepted(slack, SLACK_WEBHOOK), 2);
    assert_int_equal(standin_count(server, "/services/*"), 4);
}

static void test_update_uses_earlier_step(void **state)
{
    (void)state;
    const char *body =
        "{\"token\":\"XXYYZZ\",\"team_id\":\"T1DC2JH3J\",\"api_app_id\":\"A0PNCHHK2\","
        "\"event\":{\"type\":\"reaction_added\",\"user\":\"U777\",\"reaction\":\"thumbsup\","
        "\"item\":{\"type\":\"message\",\"channel\":\"C0EDIT\",\"ts\":\"1360782400.498405\"},"
        "\"event_ts\":\"1360782804.083113\"},\"type\":\"event_callback\","
        "\"event_id\":\"Ev0200\",\"event_time\":1360782804}";
    struct http_reply r;
    assert_int_equal(post_signed("slack-events", "application/json", body, NULL, NULL, &r), 200);
    http_reply_free(&r);
    assert_true(wait_run("Ev0200", "edit", "succeeded", 10000));
    /* only the workflow that asked for reaction_* ran */
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id WHERE "
                         "e.event_id = 'Ev0200'"),
                     1);
    struct slack_message posted, edited;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &posted));
    assert_true(slack_api_message(slack, SLACK_UPDATE, 0, &edited));
    assert_string_equal(posted.text, "Reaction :thumbsup:");
    assert_string_equal(edited.channel, "C0EDIT");
    assert_string_equal(edited.ts, posted.ts);
    assert_string_equal(edited.text, "Edited for U777");
    assert_string_equal(edited.authorization, "Bearer " BOT_TOKEN);
    slack_message_release(&posted);
    slack_message_release(&edited);
}

static void test_dry_run_sends_nothing(void **state)
{
    (void)state;
    char path[400];
    char *body = callback("Ev0300", "app_mention", "C0DRY", "\"dry\"");
    assert_int_equal(sbp_write_file(&proc, "event.json", body, path, sizeof(path)), 0);
    free(body);
    char *out = NULL, *err = NULL;
    int rc = sbp_cli(&proc, env, &out, &err, "fire", "mention", "--event", path, "--dry-run", NULL);
    if (rc != 0)
        fail_msg("fire --dry-run: %d\n%s\n%s", rc, out, err);
    assert_non_null(strstr(out, "/api/chat.postMessage"));
    assert_non_null(strstr(out, "C0DRY"));
    /* the token is masked */
    assert_null(strstr(out, BOT_TOKEN));
    free(out);
    free(err);
    assert_int_equal(standin_count(server, NULL), 0);
}

/* POST straight to the fake; the answer's status and body. */
static long fake_post(const char *path, const char *auth, const char *content_type,
                      const char *body, char *out, size_t out_size)
{
    char url[256], a[256], ct[128];
    snprintf(url, sizeof(url), "%s%s", standin_url(server), path);
    const char *headers[3];
    size_t n = 0;
    if (auth) {
        snprintf(a, sizeof(a), "Authorization: %s", auth);
        headers[n++] = a;
    }
    snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
    headers[n++] = ct;
    headers[n] = NULL;
    struct http_reply r;
    assert_int_equal(http_do("POST", url, headers, body, strlen(body), 0, &r), 0);
    snprintf(out, out_size, "%s", r.body);
    long status = r.status;
    http_reply_free(&r);
    return status;
}

/* The fake answers malformed calls as Slack does, so the connector's
 * requests passing it means something. */
static void test_fake_slack_checks(void **state)
{
    (void)state;
    const char *json = "application/json; charset=utf-8";
    const char *ok = "{\"channel\": \"C1\", \"text\": \"hi\"}";
    static const struct {
        const char *auth, *content_type, *body, *error;
    } web[] = {
        {NULL, "application/json; charset=utf-8", "{\"channel\": \"C1\", \"text\": \"hi\"}",
         "not_authed"},
        {"Bearer xoxa-2-123", "application/json; charset=utf-8",
         "{\"channel\": \"C1\", \"text\": \"hi\"}", "invalid_auth"},
        {"xoxb-1-2", "application/json; charset=utf-8", "{\"channel\": \"C1\", \"text\": \"hi\"}",
         "invalid_auth"},
        {"Bearer xoxb-1-2", "application/x-www-form-urlencoded", "channel=C1&text=hi",
         "invalid_form_data"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8", "{\"channel\": ", "invalid_json"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8",
         "{\"channel\": \"\", \"text\": \"x\"}", "channel_not_found"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8", "{\"channel\": \"C1\"}", "no_text"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8",
         "{\"channel\": \"C1\", \"text\": \"\"}", "no_text"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8",
         "{\"channel\": \"C1\", \"blocks\": {\"type\": \"section\"}}", "invalid_blocks_format"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8",
         "{\"channel\": \"C1\", \"text\": \"x\", \"txet\": \"y\"}", "invalid_arguments"},
        {"Bearer xoxb-1-2", "application/json; charset=utf-8",
         "{\"channel\": \"C1\", \"text\": \"x\", \"mrkdwn\": \"no\"}", "invalid_arguments"},
    };
    char out[4096];
    for (size_t i = 0; i < sizeof(web) / sizeof(web[0]); i++) {
        assert_int_equal(fake_post("/api/chat.postMessage", web[i].auth, web[i].content_type,
                                   web[i].body, out, sizeof(out)),
                         200);
        struct json_object *o = json_tokener_parse(out);
        assert_non_null(o);
        if (strcmp(scenario_json_get(o, "ok"), "false") != 0 ||
            strcmp(scenario_json_get(o, "error"), web[i].error))
            fail_msg("case %zu: wanted %s, got %s", i, web[i].error, out);
        json_object_put(o);
    }
    /* chat.update needs the ts */
    assert_int_equal(fake_post("/api/chat.update", "Bearer xoxp-1-2", json, ok, out, sizeof(out)),
                     200);
    assert_non_null(strstr(out, "\"error\":\"message_not_found\""));
    /* accepted without the charset, with Slack's warning */
    assert_int_equal(fake_post("/api/chat.postMessage", "Bearer xoxb-1-2", "application/json", ok,
                               out, sizeof(out)),
                     200);
    assert_non_null(strstr(out, "\"ok\":true"));
    assert_non_null(strstr(out, "\"warning\":\"missing_charset\""));
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);
    assert_int_equal(slack_api_refused(slack, SLACK_POST_MESSAGE), 11);
    /* incoming webhooks answer plain text */
    assert_int_equal(fake_post("/services/T0/B0/X", NULL, "text/plain", "hi", out, sizeof(out)),
                     400);
    assert_string_equal(out, "invalid_payload");
    assert_int_equal(fake_post("/services/T0/B0/X", NULL, json, "{\"txt\": 1}", out, sizeof(out)),
                     400);
    assert_string_equal(out, "no_text");
    assert_int_equal(
        fake_post("/services/T0/B0/X", NULL, json, "{\"text\": \"hi\"}", out, sizeof(out)), 200);
    assert_string_equal(out, "ok");
    /* response_url checks its response_type */
    assert_int_equal(fake_post("/commands/T/1/x", NULL, json,
                               "{\"text\": \"hi\", \"response_type\": \"loud\"}", out, sizeof(out)),
                     400);
    assert_non_null(strstr(out, "invalid_response_type"));
    /* the checks alone, in front of a script of one's own */
    standin_check(server, "POST", "/alt/chat.postMessage", slack_check_web_api, NULL);
    struct standin_reply scripted = {200, NULL, "{\"ok\": true, \"scripted\": 1}", NULL, 0};
    standin_script(server, "POST", "/alt/chat.postMessage", &scripted, 1);
    fake_post("/alt/chat.postMessage", "Bearer xoxb-1-2", json, ok, out, sizeof(out));
    assert_non_null(strstr(out, "scripted"));
    fake_post("/alt/chat.postMessage", NULL, json, ok, out, sizeof(out));
    assert_non_null(strstr(out, "not_authed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_event_posts_escaped_message, reset),
        cmocka_unit_test_setup(test_bad_signatures_refused, reset),
        cmocka_unit_test_setup(test_url_verification, reset),
        cmocka_unit_test_setup(test_slack_retry_is_one_run, reset),
        cmocka_unit_test_setup(test_429_honours_retry_after, reset),
        cmocka_unit_test_setup(test_channel_not_found_is_dead, reset),
        cmocka_unit_test_setup(test_ratelimited_is_retried, reset),
        cmocka_unit_test_setup(test_burst_waits_for_the_limit, reset),
        cmocka_unit_test_setup(test_slash_command, reset),
        cmocka_unit_test_setup(test_incoming_webhook, reset),
        cmocka_unit_test_setup(test_update_uses_earlier_step, reset),
        cmocka_unit_test_setup(test_dry_run_sends_nothing, reset),
        cmocka_unit_test_setup(test_fake_slack_checks, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
