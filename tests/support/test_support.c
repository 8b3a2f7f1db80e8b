/*
 * The test support library itself: the stand-in answers from its scripts
 * and checks, records what it got (raw query included), serves a slow
 * route without holding up the others; run_capture reads both streams of a
 * chatty command without deadlock; http_do and its header lookup.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "standin.h"
#include "testkit.h"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected '%s' in '%s'", needle, haystack ? haystack : "(null)");
}

static int standin_setup(void **state)
{
    struct standin *s = NULL;
    if (standin_start(&s) < 0)
        return -1;
    *state = s;
    return 0;
}

static int standin_teardown(void **state)
{
    standin_stop(*state);
    return 0;
}

static long request(struct standin *s, const char *method, const char *path,
                    const char *const *headers, const char *body, struct http_reply *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", standin_url(s), path);
    http_do(method, url, headers, body, body ? strlen(body) : 0, 5000, r);
    return r->status;
}

static void script_in_order_then_repeat(void **state)
{
    struct standin *s = *state;
    const struct standin_reply replies[] = {
        {.status = 500, .body = "{\"error\": \"boom\"}"},
        {.status = 429, .headers = "Retry-After: 2\nX-Extra: yes\n"},
        {.status = 200, .body = "{\"ok\": true}", .content_type = "application/vnd.test+json"},
    };
    standin_script(s, "POST", "/v1/items", replies, 3);
    struct http_reply r;
    const char *const headers[] = {"Content-Type: application/json", "Authorization: Bearer abc",
                                   NULL};
    assert_int_equal(request(s, "POST", "/v1/items?a=1&b=x%20y", headers, "{\"n\": 1}", &r), 500);
    assert_string_equal(r.body, "{\"error\": \"boom\"}");
    http_reply_free(&r);
    assert_int_equal(request(s, "POST", "/v1/items", headers, "{\"n\": 2}", &r), 429);
    char v[64];
    assert_true(http_reply_header(&r, "retry-after", v, sizeof(v)));
    assert_string_equal(v, "2");
    assert_true(http_reply_header(&r, "X-EXTRA", v, sizeof(v)));
    assert_string_equal(v, "yes");
    assert_false(http_reply_header(&r, "X-Missing", v, sizeof(v)));
    http_reply_free(&r);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(request(s, "POST", "/v1/items", headers, "{}", &r), 200);
        assert_true(http_reply_header(&r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "application/vnd.test+json");
        http_reply_free(&r);
    }
    /* another method on the same path is not scripted */
    assert_int_equal(request(s, "GET", "/v1/items", NULL, NULL, &r), 404);
    assert_string_equal(r.body, "{\"error\": \"no route\"}");
    http_reply_free(&r);

    assert_int_equal(standin_count(s, "/v1/items"), 5);
    assert_int_equal(standin_count(s, "/v1/*"), 5);
    assert_int_equal(standin_count(s, "/other"), 0);
    struct standin_request got;
    assert_true(standin_get(s, "/v1/items", 0, &got));
    assert_string_equal(got.method, "POST");
    assert_string_equal(got.path, "/v1/items");
    assert_string_equal(got.query, "a=1&b=x%20y");
    assert_string_equal(got.body, "{\"n\": 1}");
    assert_int_equal(got.body_len, 8);
    assert_string_equal(standin_header(&got, "authorization"), "Bearer abc");
    assert_null(standin_header(&got, "X-None"));
    assert_true(got.at_ms > 0);
    standin_request_free(&got);
    assert_true(standin_get(s, NULL, 4, &got));
    assert_string_equal(got.method, "GET");
    assert_string_equal(got.query, "");
    standin_request_free(&got);
    assert_false(standin_get(s, NULL, 5, &got));
    standin_clear(s);
    assert_int_equal(standin_count(s, NULL), 0);
}

static void prefix_routes_and_replacement(void **state)
{
    struct standin *s = *state;
    const struct standin_reply any = {.status = 201, .body = "{\"any\": true}"};
    const struct standin_reply exact = {.status = 202, .body = "{\"exact\": true}"};
    standin_script(s, "*", "/things/*", &any, 1);
    standin_script(s, "PUT", "/things/special", &exact, 1);
    struct http_reply r;
    assert_int_equal(request(s, "DELETE", "/things/1", NULL, NULL, &r), 201);
    http_reply_free(&r);
    assert_int_equal(request(s, "PUT", "/things/special", NULL, "{}", &r), 202);
    http_reply_free(&r);
    const struct standin_reply again = {.status = 204};
    standin_script(s, "*", "/things/*", &again, 1);
    assert_int_equal(request(s, "GET", "/things/2", NULL, NULL, &r), 204);
    http_reply_free(&r);
    standin_script(s, "*", "/things/*", NULL, 0);
    assert_int_equal(request(s, "GET", "/things/2", NULL, NULL, &r), 404);
    http_reply_free(&r);
}

/* A check as a provider would make it: a bearer token is required. */
static bool require_bearer(void *arg, const struct standin_request *req,
                           struct standin_reply *reply, char *buf, size_t buflen)
{
    int *calls = arg;
    (*calls)++;
    const char *auth = standin_header(req, "Authorization");
    if (auth && strcmp(auth, "Bearer good") == 0)
        return true;
    snprintf(buf, buflen, "{\"error\": \"bad auth '%s'\"}", auth ? auth : "");
    reply->status = 401;
    reply->body = buf;
    return false;
}

static void check_answers_instead_of_script(void **state)
{
    struct standin *s = *state;
    int calls = 0;
    const struct standin_reply ok = {.status = 200, .body = "{}"};
    standin_script(s, "POST", "/auth", &ok, 1);
    standin_check(s, "POST", "/auth", require_bearer, &calls);
    struct http_reply r;
    const char *const bad[] = {"Authorization: Basic xyz", NULL};
    const char *const good[] = {"Authorization: Bearer good", NULL};
    assert_int_equal(request(s, "POST", "/auth", bad, "{}", &r), 401);
    assert_string_equal(r.body, "{\"error\": \"bad auth 'Basic xyz'\"}");
    http_reply_free(&r);
    assert_int_equal(request(s, "POST", "/auth", good, "{}", &r), 200);
    http_reply_free(&r);
    assert_int_equal(calls, 2);
    assert_int_equal(standin_count(s, "/auth"), 2); /* refused ones are recorded too */
    standin_check(s, "POST", "/auth", NULL, NULL);
    assert_int_equal(request(s, "POST", "/auth", bad, "{}", &r), 200);
    http_reply_free(&r);
}

struct slow_call {
    struct standin *s;
    long status;
};

static void *call_slow(void *arg)
{
    struct slow_call *c = arg;
    struct http_reply r;
    c->status = request(c->s, "GET", "/slow", NULL, NULL, &r);
    http_reply_free(&r);
    return NULL;
}

static void delay_holds_only_its_connection(void **state)
{
    struct standin *s = *state;
    const struct standin_reply slow = {.status = 200, .body = "{}", .delay_ms = 1500};
    const struct standin_reply fast = {.status = 200, .body = "{}"};
    standin_script(s, "GET", "/slow", &slow, 1);
    standin_script(s, "GET", "/fast", &fast, 1);
    standin_clear(s);
    struct slow_call c = {.s = s};
    pthread_t th;
    int64_t t0 = testkit_now_ms();
    assert_int_equal(pthread_create(&th, NULL, call_slow, &c), 0);
    assert_true(standin_wait(s, "/slow", 1, 2000));
    struct http_reply r;
    assert_int_equal(request(s, "GET", "/fast", NULL, NULL, &r), 200);
    http_reply_free(&r);
    assert_true(testkit_now_ms() - t0 < 1000);
    pthread_join(th, NULL);
    assert_int_equal(c.status, 200);
    assert_true(testkit_now_ms() - t0 >= 1500);
    /* a wait that cannot be met times out */
    t0 = testkit_now_ms();
    assert_false(standin_wait(s, "/never", 1, 200));
    assert_true(testkit_now_ms() - t0 >= 190);
}

static void run_capture_reads_both_streams(void **state)
{
    (void)state;
    const char *const argv[] = {"sh", "-c",
                                "echo out; echo err >&2; echo \"$SB_SUPPORT_X\"; exit 3", NULL};
    const char *const env[] = {"SB_SUPPORT_X=hello", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(run_capture(argv, env, &out, &err), 3);
    assert_string_equal(out, "out\nhello\n");
    assert_string_equal(err, "err\n");
    free(out);
    free(err);
    /* more than a pipe holds on both streams at once */
    const char *const chatty[] = {
        "sh", "-c",
        "i=0; while [ $i -lt 3000 ]; do echo 0123456789012345678901234567890123456789; "
        "echo abcdefghijabcdefghijabcdefghijabcdefghij >&2; i=$((i+1)); done",
        NULL};
    assert_int_equal(run_capture(chatty, NULL, &out, &err), 0);
    assert_int_equal(strlen(out), 3000 * 41);
    assert_int_equal(strlen(err), 3000 * 41);
    free(out);
    free(err);
    const char *const version[] = {testkit_binary(), "version", NULL};
    assert_int_equal(run_capture(version, NULL, &out, NULL), 0);
    assert_contains(out, "switchboard");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(script_in_order_then_repeat),
        cmocka_unit_test(prefix_routes_and_replacement),
        cmocka_unit_test(check_answers_instead_of_script),
        cmocka_unit_test(delay_holds_only_its_connection),
        cmocka_unit_test(run_capture_reads_both_streams),
    };
    return cmocka_run_group_tests_name("support", tests, standin_setup, standin_teardown);
}
