/* End to end: event data does not choose where a step's request, and its
 * credentials, go. A value of ".." stays inside its path segment and the
 * path is sent as built. A step that takes its host from data
 * (dynamic_host = true) cannot reach a loopback or private address, found
 * by name or by number, on a new connection or a kept-alive one, unless
 * [engine] allow_private_networks = true: the stand-in never sees the
 * request. http.poll follows next pages only on the origin it started
 * from, so its headers (credentials) go nowhere else. */
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
static struct sb_proc open_proc; /* allow_private_networks = true */
static struct standin *api;
static struct standin *pages;     /* where the polls start */
static struct standin *elsewhere; /* another origin the pages point to */

/* the example: a tenant name that carries its own host */
static const char dynamic_steps[] =
    "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
    "[step get]\nuse = http.request\nretry = 0\ndynamic_host = true\n"
    "url = http://{{ event.tenant }}.api.example.invalid/v1/orders\n"
    "header.Authorization = Bearer ${env:SB_TEST_API_TOKEN}\n";

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
    sbp_write_workflow(&proc, "tenant", dynamic_steps);
    /* a kept-alive connection from a checked-by-nobody step, then a
     * dynamic one to the same address */
    sbp_write_workflowf(&proc, "reuse",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step first]\nuse = http.request\nretry = 0\nurl = %s/first\n\n"
                        "[step second]\nuse = http.request\nretry = 0\ndynamic_host = true\n"
                        "url = http://{{ event.host }}/second\n",
                        base);
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "*", "/*", &ok, 1);
    if (standin_start(&pages) < 0 || standin_start(&elsewhere) < 0)
        return -1;
    const char *p = standin_url(pages), *e = standin_url(elsewhere);
    char *body;
#define SCRIPT(standin, path, text, extra)                                                         \
    do {                                                                                           \
        struct standin_reply r_ = {200, NULL, text, extra, 0};                                     \
        standin_script(standin, "GET", path, &r_, 1);                                              \
    } while (0)
    body = testkit_fmt("{\"data\": [{\"id\": \"a\"}], \"next\": \"%s/p2\"}", p);
    SCRIPT(pages, "/p1", body, NULL);
    free(body);
    body = testkit_fmt("{\"data\": [{\"id\": \"b\"}], \"next\": \"%s/p3\"}", e);
    SCRIPT(pages, "/p2", body, NULL);
    free(body);
    /* userinfo that names the first origin, a host that is the other */
    body = testkit_fmt("{\"data\": [], \"next\": \"http://127.0.0.1:%d@127.0.0.1:%d/t2\"}",
                       standin_port(pages), standin_port(elsewhere));
    SCRIPT(pages, "/t1", body, NULL);
    free(body);
    SCRIPT(pages, "/l1", "{\"data\": []}", "Link: </l2?page=2>; rel=\"next\"\n");
    char *link = testkit_fmt("Link: <%s/l3>; rel=\"next\"\n", e);
    SCRIPT(pages, "/l2", "{\"data\": []}", link);
    free(link);
    SCRIPT(elsewhere, "*", "{\"data\": [{\"id\": \"stolen\"}]}", NULL);
    SCRIPT(pages, "/sink", "{}", NULL);
#undef SCRIPT
    static const char poll_wf[] =
        "[trigger]\nuse = http.poll\nurl = %s/%s\ninterval = 1h\nitems = data\nid = id\n"
        "emit_existing = true\n%s\nheader.Authorization = Bearer ${env:SB_TEST_API_TOKEN}\n\n"
        "[step note]\nuse = http.request\nretry = 0\nurl = %s/sink\n";
    sbp_write_workflowf(&proc, "pager", poll_wf, p, "p1", "next = next", p);
    sbp_write_workflowf(&proc, "trick", poll_wf, p, "t1", "next = next", p);
    sbp_write_workflowf(&proc, "linker", poll_wf, p, "l1", "link_header = true", p);
    if (sbp_start(&proc, env) < 0)
        return -1;
    if (sbp_init(&open_proc, "[engine]\nworkers = 1\nallow_private_networks = true\n") < 0)
        return -1;
    sbp_write_workflow(&open_proc, "tenant", dynamic_steps);
    return sbp_start(&open_proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    sbp_cleanup(&open_proc);
    standin_stop(api);
    standin_stop(pages);
    standin_stop(elsewhere);
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

/* The error of the only run of `workflow` in p's store. */
static char *run_error(const struct sb_proc *p, const char *workflow)
{
    char *out = NULL;
    assert_int_equal(sbp_cli(p, NULL, &out, NULL, "runs", "--workflow", workflow, "--json", NULL),
                     0);
    return out;
}

static void test_dynamic_host_cannot_reach_private_addresses(void **state)
{
    (void)state;
    standin_clear(api);
    int port = standin_port(api);
    const char *hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < 3; i++) {
        /* "x@127.0.0.1:PORT/steal?" makes the URL
         * http://x@127.0.0.1:PORT/steal?.api.example.invalid/v1/orders */
        char *body = testkit_fmt("{\"id\": \"evt_tenant_%zu\", \"tenant\": \"x@%s:%d/steal?\"}", i,
                                 hosts[i], port);
        scenario_post_event(&proc, "tenant", body);
        free(body);
    }
    assert_true(sbp_wait_runs(&proc, "tenant", "dead", 3, 15000));
    /* nothing reached the stand-in: not the request, not the token */
    assert_int_equal(standin_count(api, NULL), 0);
    char *out = run_error(&proc, "tenant");
    assert_non_null(strstr(out, "refused to connect to 127.0.0.1 (loopback address)"));
    assert_non_null(strstr(out, "refused to connect to ::1 (loopback address)"));
    assert_non_null(strstr(out, "allow_private_networks"));
    assert_null(strstr(out, "tok_outbound_secret"));
    free(out);
}

static void test_kept_alive_connection_is_checked_too(void **state)
{
    (void)state;
    standin_clear(api);
    char *body =
        testkit_fmt("{\"id\": \"evt_reuse\", \"host\": \"127.0.0.1:%d\"}", standin_port(api));
    scenario_post_event(&proc, "reuse", body);
    free(body);
    assert_true(sbp_wait_runs(&proc, "reuse", "dead", 1, 15000));
    assert_int_equal(standin_count(api, "/first"), 1);
    assert_int_equal(standin_count(api, "/second"), 0);
    char *out = run_error(&proc, "reuse");
    assert_non_null(strstr(out, "refused to connect to 127.0.0.1 (loopback address)"));
    free(out);
}

static void test_allow_private_networks_lets_it_through(void **state)
{
    (void)state;
    standin_clear(api);
    char *body = testkit_fmt("{\"id\": \"evt_open\", \"tenant\": \"x@127.0.0.1:%d/open?\"}",
                             standin_port(api));
    scenario_post_event(&open_proc, "tenant", body);
    free(body);
    assert_true(sbp_wait_runs(&open_proc, "tenant", "succeeded", 1, 15000));
    struct standin_request req;
    assert_int_equal(standin_count(api, NULL), 1);
    assert_true(standin_get(api, NULL, 0, &req));
    assert_string_equal(req.path, "/open");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer tok_outbound_secret");
    standin_request_free(&req);
}

static void test_poll_pages_stay_on_their_origin(void **state)
{
    (void)state;
    /* each poll ran once at start and says where it stopped paging,
     * instead of going there */
    char *other = testkit_fmt("it points to http://127.0.0.1:%d", standin_port(elsewhere));
    static const char *const polls[] = {"wf=pager", "wf=trick", "wf=linker"};
    for (size_t i = 0; i < 3; i++) {
        char *want =
            testkit_fmt("%s] not following a next page outside http://127.0.0.1:%d (%s", polls[i],
                        standin_port(pages), i == 1 ? "it points to an unusable address" : other);
        bool seen = false;
        for (int t = 0; t < 150 && !seen; t++) {
            seen = sbp_log_contains(&proc, want);
            if (!seen)
                testkit_sleep_ms(100);
        }
        if (!seen)
            fail_msg("the log does not say '%s'; requests to the other origin: %zu", want,
                     standin_count(elsewhere, NULL));
        free(want);
    }
    free(other);
    assert_int_equal(standin_count(elsewhere, NULL), 0);
    /* same-origin pages were followed, with the poll's headers */
    assert_int_equal(standin_count(pages, "/p2"), 1);
    assert_true(sbp_wait_runs(&proc, "pager", "succeeded", 2, 15000));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'pager'"), 2);
    /* a relative Link is resolved on the same origin, query kept */
    struct standin_request req;
    assert_true(standin_get(pages, "/l2", 0, &req));
    assert_string_equal(req.query, "page=2");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer tok_outbound_secret");
    standin_request_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_values_stay_in_their_segment),
        cmocka_unit_test(test_path_is_sent_as_built),
        cmocka_unit_test(test_dynamic_host_cannot_reach_private_addresses),
        cmocka_unit_test(test_kept_alive_connection_is_checked_too),
        cmocka_unit_test(test_allow_private_networks_lets_it_through),
        cmocka_unit_test(test_poll_pages_stay_on_their_origin),
    };
    return cmocka_run_group_tests_name("e2e.outbound", tests, setup, teardown);
}
