/*
 * log.append: event data fills in a file name, never a folder. Before the
 * fix, `file = DIR/out/{{ event.name }}.jsonl` with name "../escaped"
 * wrote DIR/escaped.jsonl, outside the folder the
 * workflow's author chose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testkit.h"

static struct sb_proc proc;

static int setup(void **state)
{
    (void)state;
    if (sbp_init(&proc, NULL) < 0)
        return -1;
    char out[400];
    snprintf(out, sizeof(out), "%s/out", proc.dir);
    if (mkdir(out, 0700) < 0)
        return -1;
    return sbp_write_workflowf(&proc, "keep",
                               "[trigger]\nuse = http.webhook\nverify = none\n\n"
                               "[step keep]\nuse = log.append\n"
                               "file = %s/out/{{ event.name }}.jsonl\n"
                               "json = {{ event | json }}\n",
                               proc.dir);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    return 0;
}

/* fire the workflow on {"name": NAME}; returns the exit status */
static int fire_with(const char *name, char **out, char **err)
{
    char event[256], path[400];
    snprintf(event, sizeof(event), "{\"name\": \"%s\"}", name);
    if (sbp_write_file(&proc, "event.json", event, path, sizeof(path)) < 0)
        return -1;
    return sbp_cli(&proc, NULL, out, err, "fire", "keep", "--event", path, NULL);
}

static bool exists(const char *rel)
{
    char path[400];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", proc.dir, rel);
    return stat(path, &st) == 0;
}

static void test_file_name_is_filled_in(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(fire_with("ok", &out, &err), 0);
    assert_true(exists("out/ok.jsonl"));
    free(out);
    free(err);
}

static void test_folders_are_refused(void **state)
{
    (void)state;
    static const char *const hostile[] = {"../escaped", "sub/../../escaped", "a/b", "/etc/passwd"};
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char *out = NULL, *err = NULL;
        int rc = fire_with(hostile[i], &out, &err);
        assert_int_not_equal(rc, 0);
        char both[8192];
        snprintf(both, sizeof(both), "%s%s", out ? out : "", err ? err : "");
        if (!strstr(both, "never a folder"))
            fail_msg("'%s': no refusal in:\n%s", hostile[i], both);
        free(out);
        free(err);
    }
    assert_false(exists("escaped.jsonl"));
    assert_false(exists("out/escaped.jsonl"));
    assert_false(exists("out/a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_name_is_filled_in),
        cmocka_unit_test(test_folders_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
