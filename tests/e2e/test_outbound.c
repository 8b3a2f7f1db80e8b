/* End to end: event data does not choose where a step's request, and its
 * credentials, go. A value of ".." stays inside its path segment and the
 * path is sent as built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "standin.h"
#include "testkit.h"

static struct sb_proc proc;
static struct standin *api;

static const char *const env[] = {"SB_TEST_API_TOKEN=tok_outbound_secret", NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(&proc, "dots",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step get]\nuse = http.request\nretry = 0\n"
                        "url = %s/v1/users/{{ event.user }}/orders\n"
                        "header.Authorization = Bearer ${env:SB_TEST_API_TOKEN}\n",
                        base);
    sbp_write_workflowf(&proc, "as_written",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step get]\nuse = http.request\nretry = 0\n"
                        "url = %s/v2/a/../b?id={{ event.id }}\n",
                        base);
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "*", "/*", &ok, 1);
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    return 0;
}

/* The stand-in records the request target as it came on the request line. */
static char *only_path(void)
{
    struct standin_request req;
    assert_int_equal(standin_count(api, NULL), 1);
    assert_true(standin_get(api, NULL, 0, &req));
    char *path = strdup(req.path);
    standin_request_free(&req);
    standin_clear(api);
    return path;
}

static void test_dot_values_stay_in_their_segment(void **state)
{
    (void)state;
    static const struct {
        const char *user, *path;
    } cases[] = {
        {"..", "/v1/users/%2E%2E/orders"},
        {".", "/v1/users/%2E/orders"},
        {"%2e%2e", "/v1/users/%252e%252e/orders"},
        {"../../admin", "/v1/users/..%2F..%2Fadmin/orders"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        standin_clear(api);
        char *body = testkit_fmt("{\"id\": \"evt_dot_%zu\", \"user\": \"%s\"}", i, cases[i].user);
        scenario_post_event(&proc, "dots", body);
        free(body);
        assert_true(sbp_wait_runs(&proc, "dots", "succeeded", (int64_t)i + 1, 15000));
        char *path = only_path();
        if (strcmp(path, cases[i].path) != 0)
            fail_msg("user '%s' was sent to '%s', expected '%s'", cases[i].user, path,
                     cases[i].path);
        free(path);
    }
}

static void test_path_is_sent_as_built(void **state)
{
    (void)state;
    standin_clear(api);
    scenario_post_event(&proc, "as_written", "{\"id\": \"evt_as_written\"}");
    assert_true(sbp_wait_runs(&proc, "as_written", "succeeded", 1, 15000));
    char *path = only_path();
    /* libcurl would have made it /v2/b */
    assert_string_equal(path, "/v2/a/../b");
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_values_stay_in_their_segment),
        cmocka_unit_test(test_path_is_sent_as_built),
    };
    return cmocka_run_group_tests_name("e2e.outbound", tests, setup, teardown);
}
