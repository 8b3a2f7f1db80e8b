/* The slack triggers (plugins/slack) driven through the core's host table
 * as ingress.c drives them: the workflow is loaded from a file (defaults
 * and validation apply) and receive gets a struct sb_request with the
 * clock fixed by a call hook. The official signing vector of connectors.md
 * §2.1 (python-slack-sdk's test) must pass and its tampered twins fail;
 * Events API envelopes and slash-command forms become the events and
 * answers Slack expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "trigger_harness.h"

/* The official slash-command body: exactly 362 bytes. */
static const char vector_body[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
#define VECTOR_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define VECTOR_TS 1531420618LL
#define VECTOR_TS_TEXT "1531420618"
#define VECTOR_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

/* The url_verification example of api.slack.com/events/url_verification. */
static const char challenge_body[] =
    "{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":"
    "\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}";

static const char callback_body[] =
    "{\"token\":\"XXYYZZ\",\"team_id\":\"T1DC2JH3J\",\"api_app_id\":\"A0PNCHHK2\","
    "\"event\":{\"type\":\"app_mention\",\"user\":\"U2CERLKJA\",\"text\":\"<@U0BOT> deploy "
    "& <rollback>\",\"ts\":\"1515449522.000016\",\"channel\":\"C0LAN2Q65\","
    "\"event_ts\":\"1515449522000016\"},\"type\":\"event_callback\","
    "\"event_id\":\"Ev0PV52K25\",\"event_time\":1515449522000016,"
    "\"authed_users\":[\"U0BOT\"]}";

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms;

/* slack has two triggers, slack.events and slack.command: every test
 * names the one it loads */
static const struct trigger_harness harness = {
    .plugin = "slack",
    .trigger = "slack.events",
    .secret_env = "SB_TEST_SLACK_SECRET",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

/* --- requests ------------------------------------------------------------------------ */

/* The official vector's request (body, timestamp, signature). */
static void vector_request(struct req *r, const char *body)
{
    req_init(r, "application/x-www-form-urlencoded", body);
    req_header(r, "X-Slack-Request-Timestamp", VECTOR_TS_TEXT);
    req_header(r, "X-Slack-Signature", VECTOR_SIG);
}

/* v0=hex(HMAC-SHA256(secret, "v0:" ts ":" body)) with OpenSSL, not the core. */
static void sign(const char *secret, const char *ts, const char *body, char *out, size_t outlen)
{
    char base[48];
    snprintf(base, sizeof(base), "v0:%s:", ts);
    sig_hex(EVP_sha256(), secret, base, body, "v0=", out, outlen);
    assert_int_equal(strlen(out), 3 + 64);
}

/* A request signed now (the fixed clock) with `secret`; sig must outlive r. */
static void signed_request(struct req *r, const char *content_type, const char *body,
                           const char *secret, char *ts, size_t ts_size, char *sig, size_t sig_size)
{
    snprintf(ts, ts_size, "%lld", (long long)(clock_ms / 1000));
    sign(secret, ts, body, sig, sig_size);
    req_init(r, content_type, body);
    req_header(r, "X-Slack-Request-Timestamp", ts);
    req_header(r, "X-Slack-Signature", sig);
}

static const char *member(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

/* --- the official vector -------------------------------------------------------------- */

static void test_official_vector(void **state)
{
    (void)state;
    assert_int_equal(strlen(vector_body), 362);
    struct hook h;
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, NULL, NULL);
    clock_ms = VECTOR_TS * 1000;
    struct req r;
    vector_request(&r, vector_body);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "/webhook-collect");
    assert_string_equal(rx.events[0].id,
                        "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
    /* without `response`: an empty 200 */
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.body_len, 0);
    assert_false(rx.rejected);
    receive_result_release(&rx);

    /* the tampered twin of the official test: body + "------" */
    char tampered[400];
    snprintf(tampered, sizeof(tampered), "%s------", vector_body);
    vector_request(&r, tampered);
    expect_rejected(&h, &r, 401, "invalid signature");

    /* the real clock: the timestamp expired long ago */
    clock_ms = (int64_t)time(NULL) * 1000;
    vector_request(&r, vector_body);
    expect_rejected(&h, &r, 401, "timestamp too old");
    hook_close(&h);

    /* slack.events verifies the same way: the vector passes the signature
     * check and is then refused for its body (a form, not JSON) */
    expect_clean_load(&h, "slack.events", VECTOR_SECRET, NULL, NULL);
    clock_ms = VECTOR_TS * 1000;
    vector_request(&r, vector_body);
    expect_rejected(&h, &r, 400, "not a JSON object");
    vector_request(&r, tampered);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_window_both_ways(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, NULL, NULL);
    struct req r;
    struct receive_result rx;
    /* 300 s either way is accepted (abs(now - ts) > 300 is refused) */
    const int64_t inside[] = {-300, -1, 0, 1, 300};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        clock_ms = (VECTOR_TS + inside[i]) * 1000;
        vector_request(&r, vector_body);
        expect_event(&h, &r, &rx);
        receive_result_release(&rx);
    }
    /* the request is 301 s old */
    clock_ms = (VECTOR_TS + 301) * 1000;
    vector_request(&r, vector_body);
    expect_rejected(&h, &r, 401, "timestamp too old");
    /* the request is 301 s in the future */
    clock_ms = (VECTOR_TS - 301) * 1000;
    vector_request(&r, vector_body);
    expect_rejected(&h, &r, 401, "timestamp too new");
    /* the milliseconds of the clock do not widen the window */
    clock_ms = (VECTOR_TS + 301) * 1000 + 999;
    expect_rejected(&h, &r, 401, "timestamp too old");
    hook_close(&h);

    /* tolerance narrows it */
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, "tolerance = 10s", NULL);
    clock_ms = (VECTOR_TS + 10) * 1000;
    vector_request(&r, vector_body);
    expect_event(&h, &r, &rx);
    receive_result_release(&rx);
    clock_ms = (VECTOR_TS + 11) * 1000;
    expect_rejected(&h, &r, 401, "timestamp too old");
    clock_ms = (VECTOR_TS - 11) * 1000;
    expect_rejected(&h, &r, 401, "timestamp too new");
    hook_close(&h);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.events", VECTOR_SECRET, NULL, NULL);
    clock_ms = VECTOR_TS * 1000;
    struct req r;
    /* no headers, or one of the two */
    req_init(&r, "application/x-www-form-urlencoded", vector_body);
    expect_rejected(&h, &r, 401, "missing");
    req_init(&r, "application/x-www-form-urlencoded", vector_body);
    req_header(&r, "X-Slack-Signature", VECTOR_SIG);
    expect_rejected(&h, &r, 401, "missing");
    req_init(&r, "application/x-www-form-urlencoded", vector_body);
    req_header(&r, "X-Slack-Request-Timestamp", VECTOR_TS_TEXT);
    expect_rejected(&h, &r, 401, "missing");
    /* timestamps that are not plain digits */
    const char *bad_ts[] = {"",
                            "15314206l8",
                            "-1531420618",
                            "+1531420618",
                            " 1531420618",
                            "1531420618.5",
                            "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
        req_init(&r, "application/x-www-form-urlencoded", vector_body);
        req_header(&r, "X-Slack-Request-Timestamp", bad_ts[i]);
        req_header(&r, "X-Slack-Signature", VECTOR_SIG);
        expect_rejected(&h, &r, 401, "X-Slack-Request-Timestamp");
    }
    /* a version other than v0 */
    const char *versions[] = {"v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                              "V0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                              "v00=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50",
                              "=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        req_init(&r, "application/x-www-form-urlencoded", vector_body);
        req_header(&r, "X-Slack-Request-Timestamp", VECTOR_TS_TEXT);
        req_header(&r, "X-Slack-Signature", versions[i]);
        expect_rejected(&h, &r, 401, "unsupported signature version");
    }
    /* no '=', truncated, too long, not hex, empty */
    const char *bad_sig[] = {
        "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50300",
        "v0=g2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504",
    };
    for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++) {
        req_init(&r, "application/x-www-form-urlencoded", vector_body);
        req_header(&r, "X-Slack-Request-Timestamp", VECTOR_TS_TEXT);
        req_header(&r, "X-Slack-Signature", bad_sig[i]);
        expect_rejected(&h, &r, 401, NULL);
    }
    /* header names are case-insensitive */
    req_init(&r, "application/json", challenge_body);
    char ts[32], sig[80];
    signed_request(&r, "application/json", challenge_body, VECTOR_SECRET, ts, sizeof(ts), sig,
                   sizeof(sig));
    r.headers[1].name = "x-slack-request-timestamp";
    r.headers[2].name = "X-SLACK-SIGNATURE";
    struct receive_result rx;
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_int_equal(rx.status, 200);
    receive_result_release(&rx);
    /* the timestamp is part of what is signed */
    vector_request(&r, vector_body);
    r.headers[1].value = "1531420619";
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    struct hook h;
    setenv("SB_TEST_SLACK_PREVIOUS", VECTOR_SECRET, 1);
    expect_clean_load(&h, "slack.command", "a-new-signing-secret",
                      "previous_secret = ${env:SB_TEST_SLACK_PREVIOUS}", NULL);
    clock_ms = VECTOR_TS * 1000;
    struct req r;
    struct receive_result rx;
    vector_request(&r, vector_body);
    expect_event(&h, &r, &rx);
    receive_result_release(&rx);
    /* the new secret works too */
    char ts[32], sig[80];
    signed_request(&r, "application/x-www-form-urlencoded", vector_body, "a-new-signing-secret", ts,
                   sizeof(ts), sig, sizeof(sig));
    expect_event(&h, &r, &rx);
    receive_result_release(&rx);
    hook_close(&h);
    /* without previous_secret the official signature fails */
    expect_clean_load(&h, "slack.command", "a-new-signing-secret", NULL, NULL);
    vector_request(&r, vector_body);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

/* --- Events API --------------------------------------------------------------------------- */

static void test_url_verification(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.events", VECTOR_SECRET, "events = app_mention", NULL);
    clock_ms = 1700000000LL * 1000;
    struct req r;
    char ts[32], sig[80];
    signed_request(&r, "application/json", challenge_body, VECTOR_SECRET, ts, sizeof(ts), sig,
                   sizeof(sig));
    struct receive_result rx;
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, 200);
    assert_string_equal(rx.content_type, "text/plain");
    assert_string_equal(rx.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    assert_int_equal(rx.body_len, 52);
    receive_result_release(&rx);
    /* verified first: unsigned or badly signed, no challenge is answered */
    req_init(&r, "application/json", challenge_body);
    expect_rejected(&h, &r, 401, "missing");
    signed_request(&r, "application/json", challenge_body, "another secret", ts, sizeof(ts), sig,
                   sizeof(sig));
    expect_rejected(&h, &r, 401, "invalid signature");
    /* a url_verification without a challenge */
    const char *no_challenge = "{\"type\":\"url_verification\",\"token\":\"x\"}";
    signed_request(&r, "application/json", no_challenge, VECTOR_SECRET, ts, sizeof(ts), sig,
                   sizeof(sig));
    expect_rejected(&h, &r, 400, "challenge");
    hook_close(&h);
}

static void test_event_callback(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.events", VECTOR_SECRET, NULL, NULL);
    clock_ms = 1515449522LL * 1000;
    struct req r;
    char ts[32], sig[80];
    signed_request(&r, "application/json", callback_body, VECTOR_SECRET, ts, sizeof(ts), sig,
                   sizeof(sig));
    req_header(&r, "X-Slack-Retry-Num", "1");
    req_header(&r, "X-Slack-Retry-Reason", "http_timeout");
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    const struct sb_event_rec *ev = &rx.events[0];
    assert_string_equal(ev->id, "Ev0PV52K25");
    assert_string_equal(ev->type, "app_mention");
    assert_string_equal(ev->source, "slack");
    /* the envelope is stored exactly as sent (event_time keeps its digits) */
    assert_non_null(ev->payload_json);
    assert_string_equal(ev->payload_json, callback_body);
    struct json_object *inner;
    assert_true(json_object_object_get_ex(ev->payload, "event", &inner));
    assert_string_equal(member(inner, "text"), "<@U0BOT> deploy & <rollback>");
    assert_string_equal(member(inner, "channel"), "C0LAN2Q65");
    assert_string_equal(member(ev->payload, "team_id"), "T1DC2JH3J");
    /* no answer of its own: the core answers 200 once it is stored */
    assert_int_equal(rx.status, 0);
    receive_result_release(&rx);

    /* an event_callback without an inner type keeps the envelope's type */
    const char *bare = "{\"type\":\"event_callback\",\"event_id\":\"Ev1\",\"event\":{}}";
    signed_request(&r, "application/json", bare, VECTOR_SECRET, ts, sizeof(ts), sig, sizeof(sig));
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, "Ev1");
    assert_string_equal(rx.events[0].type, "event_callback");
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_other_envelopes(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.events", VECTOR_SECRET, NULL, NULL);
    clock_ms = 1700000000LL * 1000;
    struct req r;
    char ts[32], sig[80];
    struct receive_result rx;
    /* acknowledged (the core answers 200) without an event */
    const char *dropped[] = {
        "{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"team_id\":\"T123456\","
        "\"minute_rate_limited\":1518467820,\"api_app_id\":\"A123456\","
        "\"type\":\"app_rate_limited\"}",
        "{\"type\":\"something_new\"}",
    };
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        signed_request(&r, "application/json", dropped[i], VECTOR_SECRET, ts, sizeof(ts), sig,
                       sizeof(sig));
        assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
        assert_false(rx.rejected);
        assert_int_equal(rx.n_events, 0);
        receive_result_release(&rx);
    }
    /* signed but not an envelope: 400 */
    const char *broken[] = {"{\"type\": ", "[1,2]", "{\"no_type\":1}", "{\"a\":1} trailing", ""};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        signed_request(&r, "application/json", broken[i], VECTOR_SECRET, ts, sizeof(ts), sig,
                       sizeof(sig));
        expect_rejected(&h, &r, 400, NULL);
    }
    hook_close(&h);
}

/* --- slash commands ------------------------------------------------------------------------ */

static void test_command_form_decoding(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, NULL, NULL);
    clock_ms = VECTOR_TS * 1000;
    struct req r;
    struct receive_result rx;
    /* the official vector's fields */
    vector_request(&r, vector_body);
    expect_event(&h, &r, &rx);
    struct json_object *p = rx.events[0].payload;
    assert_string_equal(member(p, "command"), "/webhook-collect");
    assert_string_equal(member(p, "text"), "");
    assert_string_equal(member(p, "user_name"), "roadrunner");
    assert_string_equal(member(p, "channel_id"), "G8PSS9T3V");
    assert_string_equal(member(p, "response_url"),
                        "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/"
                        "96rGlfmibIGlgcZRskXaIFfN");
    /* a form payload is not stored verbatim: it is stored as this JSON */
    assert_null(rx.events[0].payload_json);
    receive_result_release(&rx);

    /* + is a space, %XX a byte; verified over the encoded bytes */
    const char *body = "command=%2Flookup&text=order+42+%26+more%21&user_id=U1&"
                       "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2F3";
    char ts[32], sig[80];
    signed_request(&r, "application/x-www-form-urlencoded", body, VECTOR_SECRET, ts, sizeof(ts),
                   sig, sizeof(sig));
    expect_event(&h, &r, &rx);
    p = rx.events[0].payload;
    assert_string_equal(rx.events[0].type, "/lookup");
    assert_string_equal(member(p, "text"), "order 42 & more!");
    assert_string_equal(member(p, "response_url"), "https://hooks.slack.com/commands/T1/2/3");
    /* no trigger_id: the core makes an id */
    assert_null(rx.events[0].id);
    receive_result_release(&rx);

    /* no command: 400; Slack's ssl_check: an empty 200 without an event */
    signed_request(&r, "application/x-www-form-urlencoded", "text=hi", VECTOR_SECRET, ts,
                   sizeof(ts), sig, sizeof(sig));
    expect_rejected(&h, &r, 400, "no command");
    signed_request(&r, "application/x-www-form-urlencoded", "ssl_check=1&token=x", VECTOR_SECRET,
                   ts, sizeof(ts), sig, sizeof(sig));
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.body_len, 0);
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_command_response(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, "slack.command", VECTOR_SECRET,
                      "response = Looking up *{{ event.text }}* for {{ event.user_name }}...\n"
                      "response_type = in_channel",
                      NULL);
    clock_ms = VECTOR_TS * 1000;
    const char *body = "command=%2Flookup&text=%3C%40U1%3E+%26+co&user_name=roadrunner&"
                       "trigger_id=13345224609.738474920.8088930838d88f008e0";
    struct req r;
    char ts[32], sig[80];
    signed_request(&r, "application/x-www-form-urlencoded", body, VECTOR_SECRET, ts, sizeof(ts),
                   sig, sizeof(sig));
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    /* the event is stored and the answer goes back at once */
    assert_string_equal(rx.events[0].id, "13345224609.738474920.8088930838d88f008e0");
    assert_string_equal(member(rx.events[0].payload, "text"), "<@U1> & co");
    assert_int_equal(rx.status, 200);
    assert_string_equal(rx.content_type, "application/json");
    struct json_object *answer = json_tokener_parse(rx.body);
    assert_non_null(answer);
    assert_string_equal(member(answer, "response_type"), "in_channel");
    /* inserted values are Slack-escaped; the literal text is not */
    assert_string_equal(member(answer, "text"),
                        "Looking up *&lt;@U1&gt; &amp; co* for roadrunner...");
    assert_int_equal(json_object_object_length(answer), 2);
    json_object_put(answer);
    receive_result_release(&rx);
    hook_close(&h);

    /* the default response_type is ephemeral */
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, "response = On it.", NULL);
    signed_request(&r, "application/x-www-form-urlencoded", body, VECTOR_SECRET, ts, sizeof(ts),
                   sig, sizeof(sig));
    expect_event(&h, &r, &rx);
    answer = json_tokener_parse(rx.body);
    assert_string_equal(member(answer, "response_type"), "ephemeral");
    assert_string_equal(member(answer, "text"), "On it.");
    json_object_put(answer);
    receive_result_release(&rx);
    hook_close(&h);

    /* a path that is not in the command: acknowledged empty, still stored */
    expect_clean_load(&h, "slack.command", VECTOR_SECRET, "response = {{ event.nope }}", NULL);
    signed_request(&r, "application/x-www-form-urlencoded", body, VECTOR_SECRET, ts, sizeof(ts),
                   sig, sizeof(sig));
    expect_event(&h, &r, &rx);
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.body_len, 0);
    receive_result_release(&rx);
    hook_close(&h);
}

/* --- configuration ---------------------------------------------------------------------------- */

static void test_configuration(void **state)
{
    (void)state;
    setenv("SB_TEST_SLACK_TOKEN", "xoxb-1-2-3", 1);
    /* the signing secret is required, and must be a reference */
    expect_load_error("slack.events", NULL, NULL, NULL, "secret", "missing required");
    expect_load_error("slack.command", NULL, "secret = literal", NULL, "secret",
                      "must be a reference");
    expect_load_error("slack.command", "s", "response_type = loud", NULL, "response_type", "");
#define STEP "[step post]\nuse = slack.post_message\ntoken = ${env:SB_TEST_SLACK_TOKEN}\n"
    expect_load_error("slack.events", "s", NULL, STEP "channel = C1", "text", "text or blocks");
    expect_load_error("slack.events", "s", NULL, STEP "channel = C1\nblocks = {\"type\": 1}",
                      "blocks", "not a JSON array");
    expect_load_error("slack.events", "s", NULL, STEP "channel = C1\ntext = x\napi_base = ftp://x",
                      "api_base", "not an http");
    expect_load_error("slack.events", "s", NULL,
                      "[step w]\nuse = slack.incoming_webhook\n"
                      "url = https://hooks.slack.com/services/x\n"
                      "text = hi",
                      "url", "must be a reference");
    expect_load_error("slack.events", "s", NULL,
                      "[step u]\nuse = slack.update_message\ntoken = ${env:SB_TEST_SLACK_TOKEN}\n"
                      "channel = C1\ntext = x",
                      "ts", "missing required");
    /* good ones load without a word */
    const char *good[] = {
        STEP "channel = {{ event.event.channel }}\ntext = {{ event.event.text }}",
        STEP "channel = #ops\nblocks = [{\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", "
             "\"text\": \"{{ event.event.text | slack_escape }}\"}}]",
        "[step r]\nuse = slack.respond\nresponse_url = {{ event.response_url }}\ntext = done\n"
        "dynamic_host = true",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hook h;
        expect_clean_load(&h, "slack.events", "s", NULL, good[i]);
        hook_close(&h);
    }
#undef STEP
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vector),   cmocka_unit_test(test_window_both_ways),
        cmocka_unit_test(test_malformed_headers), cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_url_verification),  cmocka_unit_test(test_event_callback),
        cmocka_unit_test(test_other_envelopes),   cmocka_unit_test(test_command_form_decoding),
        cmocka_unit_test(test_command_response),  cmocka_unit_test(test_configuration),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
