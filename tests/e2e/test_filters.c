/* End to end: a filter that orders a number against something that is not
 * a number ({{ event.total }} >= 50 with "abc", "9 ", [] or {"a":1}) used
 * to let the run through on text order. The run now dies with both values
 * named, is listed by `switchboard runs --status dead`, and the step never
 * calls out. */
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

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    sbp_write_workflowf(&proc, "big",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[filter]\nwhen = {{ event.total }} >= 50\n\n"
                        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/big\nbody = {}\n",
                        standin_url(api));
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "POST", "/big", &ok, 1);
    return sbp_start(&proc, NULL);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    return 0;
}

static void test_ordering_a_non_number_kills_the_run(void **state)
{
    (void)state;
    static const struct {
        const char *total;
        const char *shown;
    } cases[] = {
        {"\"abc\"", "cannot order \"abc\" >= 50"},
        {"\"9 \"", "cannot order \"9 \" >= 50"},
        {"[]", "cannot order [] >= 50"},
        {"{\"a\": 1}", "cannot order {\"a\":1} >= 50"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        char *body = testkit_fmt("{\"id\": \"evt_%zu\", \"total\": %s}", i, cases[i].total);
        scenario_post_event(&proc, "big", body);
        free(body);
    }
    /* a number still decides as before */
    scenario_post_event(&proc, "big", "{\"id\": \"evt_num\", \"total\": 75}");
    scenario_post_event(&proc, "big", "{\"id\": \"evt_small\", \"total\": \"12\"}");
    assert_true(sbp_wait_runs(&proc, "big", "dead", (int64_t)n, 15000));
    assert_true(sbp_wait_runs(&proc, "big", "succeeded", 1, 15000));
    assert_true(sbp_wait_runs(&proc, "big", "skipped", 1, 15000));
    /* only the run with a real number called out */
    assert_int_equal(standin_count(api, "/big"), 1);

    char *out = NULL;
    int rc = sbp_cli(&proc, NULL, &out, NULL, "runs", "--status", "dead", NULL);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < n; i++) {
        if (!strstr(out, cases[i].shown))
            fail_msg("'runs --status dead' does not show '%s':\n%s", cases[i].shown, out);
    }
    assert_non_null(strstr(out, "one side is a number and the other is not"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering_a_non_number_kills_the_run),
    };
    return cmocka_run_group_tests_name("e2e.filters", tests, setup, teardown);
}
