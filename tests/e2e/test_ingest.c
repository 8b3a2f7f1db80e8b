/*
 * Durable ingest, end to end: the real switchboard binary on a loopback port
 * with a temporary store. One engine serves every test in order (the last
 * ones stop and restart it): statuses and JSON error bodies, what reached
 * the store, each verification mode with signatures computed here with
 * OpenSSL, and a clean SIGTERM and restart on the same store.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "testkit.h"

#define TOKEN "tok-8f3a1c9e2b7d44e0"
#define GITHUB_SECRET "gh-hmac-key-5e1d0c7a9b"
#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define WHSEC "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static const char *const engine_env[] = {
    "SB_TEST_TOKEN=" TOKEN,
    "SB_TEST_GITHUB_SECRET=" GITHUB_SECRET,
    "SB_TEST_SLACK_SECRET=" SLACK_SECRET,
    "SB_TEST_WHSEC=" WHSEC,
    NULL,
};
static const char *const secrets[] = {
    TOKEN, GITHUB_SECRET, SLACK_SECRET, WHSEC, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL};

#define STEP "\n[step log]\nuse = log.write\nmessage = {{ workflow.name }} got {{ trigger.id }}\n"

static const struct {
    const char *name;
    const char *ini;
} workflows[] = {
    {"demo", "[trigger]\nuse = http.webhook\npath = demo\nverify = none\nid_path = id\n" STEP},
    {"token", "[trigger]\nuse = http.webhook\npath = token\nverify = token\n"
              "token_header = X-Token\nsecret = ${env:SB_TEST_TOKEN}\nid_path = id\n" STEP},
    {"github", "[trigger]\nuse = http.webhook\npath = github\nverify = hmac\n"
               "secret = ${env:SB_TEST_GITHUB_SECRET}\nsignature_header = X-Hub-Signature-256\n"
               "signature_prefix = sha256=\nalgorithm = sha256\nencoding = hex\n"
               "id_header = X-GitHub-Delivery\ntype_header = X-GitHub-Event\n" STEP},
    {"slack", "[trigger]\nuse = http.webhook\npath = slack\nverify = hmac\n"
              "secret = ${env:SB_TEST_SLACK_SECRET}\nsignature_header = X-Slack-Signature\n"
              "signature_prefix = v0=\nsigned = v0:{timestamp}:{body}\n"
              "timestamp_header = X-Slack-Request-Timestamp\nid_path = id\n" STEP},
    {"standard", "[trigger]\nuse = http.webhook\npath = standard\nverify = standard\n"
                 "secret = ${env:SB_TEST_WHSEC}\n" STEP},
    {"form", "[trigger]\nuse = http.webhook\npath = form\nverify = none\nid_path = id\n" STEP},
    {"multi_a", "[trigger]\nuse = http.webhook\npath = shared\nverify = none\nid_path = id\n"
                "type_path = type\nevents = a.*\n" STEP},
    {"multi_b", "[trigger]\nuse = http.webhook\npath = shared\nverify = none\nid_path = id\n"
                "type_path = type\nevents = b.*\n" STEP},
};

static struct sb_proc proc;

static int start_engine(void **state)
{
    (void)state;
    if (sbp_init(&proc, "[server]\nmax_body = 1K\n\n[log]\nlevel = debug\n") < 0)
        return -1;
    for (size_t i = 0; i < sizeof(workflows) / sizeof(workflows[0]); i++)
        if (sbp_write_workflow(&proc, workflows[i].name, workflows[i].ini) < 0)
            return -1;
    return sbp_start(&proc, engine_env);
}

static int stop_engine(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    return 0;
}

/* --- helpers -------------------------------------------------------------- */

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected '%s' in '%s'", needle, haystack ? haystack : "(null)");
}

static int64_t sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t sql(const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    return sbp_sql_int(&proc, q);
}

static int64_t events_with_id(const char *id)
{
    return sql("SELECT count(*) FROM events WHERE event_id = '%s'", id);
}

static int64_t runs_of(const char *id)
{
    return sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id "
               "WHERE e.event_id = '%s'",
               id);
}

/* POST /hooks/<hook>; the status. */
static long post(const char *hook, const char *const *headers, const char *body,
                 struct http_reply *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/%s", proc.base_url, hook);
    http_do("POST", url, headers, body, strlen(body), 5000, r);
    return r->status;
}

static long get(const char *path, struct http_reply *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", proc.base_url, path);
    http_do("GET", url, NULL, NULL, 0, 5000, r);
    return r->status;
}

/* A string member of a JSON object body, copied into out. */
static void json_member(const char *body, const char *key, char *out, size_t outlen)
{
    struct json_object *o = json_tokener_parse(body);
    struct json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v))
        fail_msg("no '%s' in '%s'", key, body);
    snprintf(out, outlen, "%s", json_object_get_string(v));
    json_object_put(o);
}

/* The answer to an accepted or duplicate delivery. */
static void assert_status_body(const struct http_reply *r, const char *status)
{
    char got[64];
    json_member(r->body, "status", got, sizeof(got));
    assert_string_equal(got, status);
}

/* An error answer: {"error": "..."} as JSON, with no secret in it. */
static void assert_error_body(const struct http_reply *r)
{
    struct json_object *o = json_tokener_parse(r->body);
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "error", &v) || !json_object_is_type(v, json_type_string))
        fail_msg("not a JSON error body: '%s'", r->body);
    json_object_put(o);
    char ctype[128] = "";
    http_reply_header(r, "Content-Type", ctype, sizeof(ctype));
    assert_contains(ctype, "application/json");
    for (size_t i = 0; secrets[i]; i++)
        if (strstr(r->body, secrets[i]) || strstr(r->headers, secrets[i]))
            fail_msg("a secret is in the answer: '%s'", r->body);
}

static void hmac_sha256(const void *key, size_t key_len, const char *msg, size_t len,
                        unsigned char out[32])
{
    unsigned int n = 0;
    assert_non_null(
        HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, len, out, &n));
    assert_int_equal(n, 32);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A raw connection to the engine, for what libcurl will not send. */
static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proc.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const char *data)
{
    size_t len = strlen(data);
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

/* Wait (at most timeout_ms) until an answer can be read. */
static bool raw_readable(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, timeout_ms) == 1;
}

/* Read the answer until the server closes (requests say Connection: close)
 * or timeout_ms passes; its status, or 0. */
static long raw_answer(int fd, char *out, size_t outlen, int timeout_ms)
{
    size_t len = 0;
    int64_t until = testkit_now_ms() + timeout_ms;
    while (len + 1 < outlen) {
        int64_t left = until - testkit_now_ms();
        if (left <= 0 || !raw_readable(fd, (int)left))
            break;
        ssize_t n = recv(fd, out + len, outlen - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    out[len] = '\0';
    if (strncmp(out, "HTTP/1.", 7) != 0 || len < 12)
        return 0;
    return strtol(out + 9, NULL, 10);
}

/* --- tests --------------------------------------------------------------- */

static void accepted_once_then_duplicate(void **state)
{
    (void)state;
    /* the event is in the store as soon as the answer can be read */
    const char body[] = "{\"id\": \"evt_1\", \"message\": \"hello\"}";
    char req[512];
    snprintf(req, sizeof(req),
             "POST /hooks/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    int fd = raw_connect();
    raw_send(fd, req);
    assert_true(raw_readable(fd, 5000));
    assert_int_equal(events_with_id("evt_1"), 1);
    assert_int_equal(runs_of("evt_1"), 1);
    char answer[2048];
    assert_int_equal(raw_answer(fd, answer, sizeof(answer), 5000), 200);
    close(fd);
    const char *json = strstr(answer, "\r\n\r\n");
    assert_non_null(json);
    assert_contains(json, "\"status\": \"accepted\"");
    assert_contains(json, "\"id\": \"evt_1\"");
    assert_contains(json, "\"runs\": 1");

    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    assert_int_equal(post("demo", headers, body, &r), 200);
    assert_status_body(&r, "duplicate");
    http_reply_free(&r);
    assert_int_equal(events_with_id("evt_1"), 1);
    assert_int_equal(runs_of("evt_1"), 1);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id = 'evt_1' AND "
                         "json_extract(payload, '$.message') = 'hello'"),
                     1);
    /* the run goes through its step */
    assert_true(sbp_wait_sql(&proc,
                             "SELECT count(*) FROM runs r JOIN events e ON r.event = e.id "
                             "WHERE e.event_id = 'evt_1' AND r.status = 'succeeded'",
                             1, 10000));
    assert_true(sbp_log_contains(&proc, "demo got evt_1"));
}

static void unknown_path_and_wrong_method(void **state)
{
    (void)state;
    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    assert_int_equal(post("nope", headers, "{\"id\": \"x\"}", &r), 404);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(get("/not-a-hook", &r), 404);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(events_with_id("x"), 0);

    assert_int_equal(get("/hooks/demo", &r), 405);
    assert_error_body(&r);
    char allow[64] = "";
    assert_true(http_reply_header(&r, "Allow", allow, sizeof(allow)));
    assert_contains(allow, "POST");
    http_reply_free(&r);
}

static void body_over_max_body(void **state)
{
    (void)state;
    /* with a Content-Length: refused by curl's request too */
    char big[2048];
    memset(big, 'a', sizeof(big));
    const char start[] = "{\"id\": \"big1\", \"pad\": \"";
    memcpy(big, start, strlen(start));
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    assert_int_equal(post("demo", headers, big, &r), 413);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(events_with_id("big1"), 0);

    /* answered from the headers alone: the body is never sent */
    char answer[2048];
    const char head[] = "POST /hooks/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                        "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n";
    int fd = raw_connect();
    raw_send(fd, head);
    assert_int_equal(raw_answer(fd, answer, sizeof(answer), 5000), 413);
    assert_contains(answer, "\"error\"");
    close(fd);

    /* chunked: no length up front, refused once the body passes 1K */
    const char chunked[] = "POST /hooks/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    fd = raw_connect();
    raw_send(fd, chunked);
    raw_send(fd, "17\r\n{\"id\": \"big2\", \"pad\": \"\r\n");
    char chunk[512 + 16];
    memcpy(chunk, "200\r\n", 5);
    memset(chunk + 5, 'b', 512);
    memcpy(chunk + 517, "\r\n", 3);
    for (int i = 0; i < 4; i++)
        raw_send(fd, chunk);
    raw_send(fd, "2\r\n\"}\r\n0\r\n\r\n");
    assert_int_equal(raw_answer(fd, answer, sizeof(answer), 5000), 413);
    assert_contains(answer, "\"error\"");
    close(fd);
    assert_int_equal(events_with_id("big2"), 0);

    /* a small chunked body is taken */
    fd = raw_connect();
    raw_send(fd, chunked);
    raw_send(fd, "10\r\n{\"id\": \"chunk1\"\r\n1\r\n}\r\n0\r\n\r\n");
    assert_int_equal(raw_answer(fd, answer, sizeof(answer), 5000), 200);
    close(fd);
    assert_int_equal(events_with_id("chunk1"), 1);
}

static void invalid_json(void **state)
{
    (void)state;
    int64_t before = sql("SELECT count(*) FROM events");
    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    assert_int_equal(post("demo", headers, "{\"id\": \"bad1\", ", &r), 400);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(post("demo", headers, "{\"id\": \"bad2\"} trailing", &r), 400);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM events"), before);
}

static void token(void **state)
{
    (void)state;
    struct http_reply r;
    const char *const good[] = {"Content-Type: application/json", "X-Token: " TOKEN, NULL};
    const char *const missing[] = {"Content-Type: application/json", NULL};
    const char *const wrong[] = {"Content-Type: application/json", "X-Token: " TOKEN "x", NULL};
    const char *const prefix[] = {"Content-Type: application/json", "X-Token: tok-8f3a", NULL};
    assert_int_equal(post("token", good, "{\"id\": \"tok1\"}", &r), 200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);
    assert_int_equal(post("token", missing, "{\"id\": \"tok2\"}", &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(post("token", wrong, "{\"id\": \"tok3\"}", &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(post("token", prefix, "{\"id\": \"tok4\"}", &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(events_with_id("tok1"), 1);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id IN ('tok2', 'tok3', 'tok4')"),
                     0);
    /* the envelope keeps the other headers, not the token */
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id = 'tok1' AND "
                         "json_extract(envelope, '$.headers.content-type') = 'application/json'"),
                     1);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE instr(envelope, '%s') > 0", TOKEN), 0);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE instr(envelope, 'x-token') > 0"), 0);
}

static void hmac_github(void **state)
{
    (void)state;
    const char body[] = "{\"action\": \"opened\", \"issue\": {\"number\": 7}}";
    unsigned char mac[32];
    char sig[80], sig_header[128];
    hmac_sha256(GITHUB_SECRET, strlen(GITHUB_SECRET), body, strlen(body), mac);
    hex(mac, 32, sig);
    snprintf(sig_header, sizeof(sig_header), "X-Hub-Signature-256: sha256=%s", sig);
    const char *const headers[] = {"Content-Type: application/json", sig_header,
                                   "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958",
                                   "X-GitHub-Event: issues", NULL};
    struct http_reply r;
    assert_int_equal(post("github", headers, body, &r), 200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE "
                         "event_id = '72d3162e-cc78-11e3-81ab-4c9367dc0958' AND type = 'issues'"),
                     1);

    /* the same signature over a body changed by one byte */
    const char tampered[] = "{\"action\": \"opened\", \"issue\": {\"number\": 8}}";
    const char *const again[] = {"Content-Type: application/json", sig_header,
                                 "X-GitHub-Delivery: 0000-tampered", "X-GitHub-Event: issues",
                                 NULL};
    assert_int_equal(post("github", again, tampered, &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    const char *const unsigned_headers[] = {"Content-Type: application/json",
                                            "X-GitHub-Delivery: 0000-unsigned", NULL};
    assert_int_equal(post("github", unsigned_headers, body, &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(events_with_id("0000-tampered") + events_with_id("0000-unsigned"), 0);
}

/* POST a Slack-signed body with the given request timestamp. */
static long post_slack(const char *body, long long ts, struct http_reply *r)
{
    char base[512], ts_header[64], sig_header[128], sig[80];
    snprintf(base, sizeof(base), "v0:%lld:%s", ts, body);
    unsigned char mac[32];
    hmac_sha256(SLACK_SECRET, strlen(SLACK_SECRET), base, strlen(base), mac);
    hex(mac, 32, sig);
    snprintf(ts_header, sizeof(ts_header), "X-Slack-Request-Timestamp: %lld", ts);
    snprintf(sig_header, sizeof(sig_header), "X-Slack-Signature: v0=%s", sig);
    const char *const headers[] = {"Content-Type: application/json", ts_header, sig_header, NULL};
    return post("slack", headers, body, r);
}

static void hmac_slack_timestamp(void **state)
{
    (void)state;
    long long now = (long long)(testkit_now_ms() / 1000);
    struct http_reply r;
    assert_int_equal(post_slack("{\"id\": \"slack1\", \"text\": \"hi\"}", now, &r), 200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);
    assert_int_equal(post_slack("{\"id\": \"slack2\", \"text\": \"replayed\"}", now - 600, &r),
                     401);
    assert_error_body(&r);
    http_reply_free(&r);
    assert_int_equal(events_with_id("slack1"), 1);
    assert_int_equal(events_with_id("slack2"), 0);
}

/* "v1,<base64>" over id.timestamp.body with the whsec_ key, into out. */
static void standard_sign(const char *id, const char *ts, const char *body, char *out,
                          size_t outlen)
{
    const char *b64 = WHSEC + 6;
    unsigned char key[64];
    int klen = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)strlen(b64));
    assert_int_equal(klen, 24); /* 32 base64 digits, no padding */
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s.%s.%s", id, ts, body);
    unsigned char mac[32];
    hmac_sha256(key, (size_t)klen, msg, strlen(msg), mac);
    unsigned char enc[64];
    EVP_EncodeBlock(enc, mac, 32);
    snprintf(out, outlen, "v1,%s", (const char *)enc);
}

static long post_standard(const char *id, const char *ts, const char *sig, const char *body,
                          struct http_reply *r)
{
    char h_id[128], h_ts[64], h_sig[256];
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %s", ts);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
    const char *const headers[] = {"Content-Type: application/json", h_id, h_ts, h_sig, NULL};
    return post("standard", headers, body, r);
}

static void standard_webhooks(void **state)
{
    (void)state;
    /* the official vector: this signer agrees with it... */
    const char *vec_id = "msg_p5jXN8AQM9LWM0D4loKWxJek", *vec_ts = "1614265330";
    const char *vec_body = "{\"test\": 2432232314}";
    char sig[128];
    standard_sign(vec_id, vec_ts, vec_body, sig, sizeof(sig));
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* ...and the engine refuses it: its timestamp is years old */
    struct http_reply r;
    assert_int_equal(post_standard(vec_id, vec_ts, sig, vec_body, &r), 401);
    assert_error_body(&r);
    assert_contains(r.body, "timestamp");
    http_reply_free(&r);

    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)(testkit_now_ms() / 1000));
    const char *body = "{\"type\": \"invoice.paid\", \"amount\": 4200}";
    standard_sign("msg_fresh_1", ts, body, sig, sizeof(sig));
    assert_int_equal(post_standard("msg_fresh_1", ts, sig, body, &r), 200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);

    /* one character of the signature changed */
    char altered[128];
    standard_sign("msg_fresh_2", ts, body, altered, sizeof(altered));
    size_t n = strlen(altered);
    altered[n - 2] = altered[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(post_standard("msg_fresh_2", ts, altered, body, &r), 401);
    assert_error_body(&r);
    http_reply_free(&r);
    /* the negative vector of the reference libraries */
    snprintf(ts, sizeof(ts), "%lld", (long long)(testkit_now_ms() / 1000));
    assert_int_equal(post_standard("msg_fresh_3", ts,
                                   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", body, &r),
                     401);
    assert_error_body(&r);
    http_reply_free(&r);

    /* a retry of the same message (new timestamp, new signature) */
    snprintf(ts, sizeof(ts), "%lld", (long long)(testkit_now_ms() / 1000));
    standard_sign("msg_fresh_1", ts, body, sig, sizeof(sig));
    assert_int_equal(post_standard("msg_fresh_1", ts, sig, body, &r), 200);
    assert_status_body(&r, "duplicate");
    http_reply_free(&r);
    assert_int_equal(events_with_id("msg_fresh_1"), 1);
    assert_int_equal(runs_of("msg_fresh_1"), 1);
    assert_int_equal(
        events_with_id("msg_fresh_2") + events_with_id("msg_fresh_3") + events_with_id(vec_id), 0);
}

static void form_body_nested(void **state)
{
    (void)state;
    const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_reply r;
    assert_int_equal(post("form", headers,
                          "id=form1&data[merges][FNAME]=Ann&data%5Bmerges%5D%5BLNAME%5D=Lee+Smith"
                          "&data[email]=ann%40example.com",
                          &r),
                     200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id = 'form1' AND "
                         "json_extract(payload, '$.data.merges.FNAME') = 'Ann' AND "
                         "json_extract(payload, '$.data.merges.LNAME') = 'Lee Smith' AND "
                         "json_extract(payload, '$.data.email') = 'ann@example.com'"),
                     1);
}

static void several_workflows_on_one_path(void **state)
{
    (void)state;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    struct http_reply r;
    assert_int_equal(post("shared", headers, "{\"id\": \"m1\", \"type\": \"a.x\"}", &r), 200);
    assert_status_body(&r, "accepted");
    assert_contains(r.body, "\"runs\": 1");
    http_reply_free(&r);
    assert_int_equal(runs_of("m1"), 1);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id "
                         "WHERE e.event_id = 'm1' AND r.workflow = 'multi_a'"),
                     1);

    assert_int_equal(post("shared", headers, "{\"id\": \"m2\", \"type\": \"b.y\"}", &r), 200);
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM runs r JOIN events e ON r.event = e.id "
                         "WHERE e.event_id = 'm2' AND r.workflow = 'multi_b'"),
                     1);
    assert_int_equal(runs_of("m2"), 1);

    assert_int_equal(post("shared", headers, "{\"id\": \"m3\", \"type\": \"c.z\"}", &r), 200);
    assert_status_body(&r, "accepted");
    assert_contains(r.body, "\"runs\": 0");
    http_reply_free(&r);
    assert_int_equal(sql("SELECT count(*) FROM events WHERE event_id = 'm3' AND type = 'c.z'"), 1);
    assert_int_equal(runs_of("m3"), 0);
}

static void health_ready_metrics(void **state)
{
    (void)state;
    struct http_reply r;
    assert_int_equal(get("/healthz", &r), 200);
    http_reply_free(&r);
    assert_int_equal(get("/readyz", &r), 200);
    assert_status_body(&r, "ready");
    http_reply_free(&r);
    assert_int_equal(get("/metrics", &r), 200);
    assert_contains(r.body, "switchboard_events_total");
    assert_contains(r.body, "switchboard_events_total{result=\"duplicate\"}");
    http_reply_free(&r);
}

static void sigterm_then_restart(void **state)
{
    (void)state;
    /* idle: every run finished */
    assert_true(sbp_wait_sql(
        &proc, "SELECT count(*) FROM runs WHERE status IN ('pending', 'running')", 0, 10000));
    int64_t events = sql("SELECT count(*) FROM events");
    int64_t runs = sql("SELECT count(*) FROM runs");
    assert_true(events >= 10);
    int port = proc.port;
    assert_int_equal(sbp_stop(&proc, SIGTERM), 0);
    assert_true(sbp_log_contains(&proc, "[engine] stopped"));
    for (size_t i = 0; secrets[i]; i++)
        if (sbp_log_contains(&proc, secrets[i]))
            fail_msg("the log holds a secret (%zu)", i);

    assert_int_equal(sbp_start(&proc, engine_env), 0);
    assert_int_equal(proc.port, port);
    assert_int_equal(sql("SELECT count(*) FROM events"), events);
    assert_int_equal(sql("SELECT count(*) FROM runs"), runs);
    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    assert_int_equal(post("demo", headers, "{\"id\": \"evt_1\", \"message\": \"again\"}", &r), 200);
    assert_status_body(&r, "duplicate");
    http_reply_free(&r);
    assert_int_equal(events_with_id("evt_1"), 1);
    assert_int_equal(sql("SELECT count(*) FROM events"), events);
    assert_int_equal(post("demo", headers, "{\"id\": \"evt_after\"}", &r), 200);
    assert_status_body(&r, "accepted");
    http_reply_free(&r);
    assert_int_equal(sbp_stop(&proc, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_once_then_duplicate),
        cmocka_unit_test(unknown_path_and_wrong_method),
        cmocka_unit_test(body_over_max_body),
        cmocka_unit_test(invalid_json),
        cmocka_unit_test(token),
        cmocka_unit_test(hmac_github),
        cmocka_unit_test(hmac_slack_timestamp),
        cmocka_unit_test(standard_webhooks),
        cmocka_unit_test(form_body_nested),
        cmocka_unit_test(several_workflows_on_one_path),
        cmocka_unit_test(health_ready_metrics),
        cmocka_unit_test(sigterm_then_restart),
    };
    return cmocka_run_group_tests_name("e2e.ingest", tests, start_engine, stop_engine);
}
