/* The plugin loader: every fixture is refused with its own sentence while
 * the good plugin loads; descriptor copies and lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "loader.h"
#include "xalloc.h"

#define SET SB_TEST_PLUGIN_DIR "/set"
#define AGAIN SB_TEST_PLUGIN_DIR "/again"

/* The one diag message about `file` (basename), or NULL. */
static const char *message_for(const struct diag *d, const char *file)
{
    const char *found = NULL;
    for (size_t i = 0; i < d->n; i++) {
        const char *base = strrchr(d->items[i].file, '/');
        base = base ? base + 1 : d->items[i].file;
        if (strcmp(base, file) == 0) {
            assert_null(found); /* one sentence per refused plugin */
            found = d->items[i].message;
        }
    }
    return found;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected '%s' in '%s'", needle, haystack ? haystack : "(null)");
}

static void test_set_refusals(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    char set_dir[] = SET;
    char *dirs[] = {set_dir};
    size_t refused = plugin_set_load_dirs(&set, dirs, 1, &d);
    assert_int_equal(refused, 12);
    assert_int_equal(d.errors, 12);
    /* the good one loaded */
    assert_int_equal(set.n, 1);
    assert_string_equal(set.plugins[0]->name, "fixture");

    assert_contains(message_for(&d, "nosymbol.so"), "has no entry symbol 'sb_plugin_entry'");
    assert_contains(message_for(&d, "nosymbol.so"), "SB_PLUGIN_DEFINE");
    assert_contains(message_for(&d, "badmajor.so"),
                    "built for SDK 2.0 but this switchboard speaks SDK 1.x");
    assert_contains(message_for(&d, "newminor.so"),
                    "built for SDK 1.2, newer than this switchboard's SDK 1.1; upgrade "
                    "switchboard or rebuild the plugin against SDK 1.1");
    /* SDK 1.1 appended to struct sb_trigger: a record claiming 1.0 must
     * carry the 1.0 size (104 bytes on x86_64) */
    assert_contains(message_for(&d, "oldminor.so"), "struct sb_trigger is");
    assert_contains(message_for(&d, "oldminor.so"), "bytes in SDK 1.0");
    assert_contains(message_for(&d, "signnocb.so"),
                    "trigger 'signnocb.hook' declares sign options or aliases but no sign "
                    "callback");
    assert_contains(message_for(&d, "badsize.so"), "struct sb_param is");
    assert_contains(message_for(&d, "badsize.so"), "rebuild it against the installed SDK");
    assert_contains(message_for(&d, "badmagic.so"), "does not return a switchboard ABI record");
    assert_contains(message_for(&d, "wrongname.so"),
                    "declares the name 'othername' but the file is named 'wrongname.so'");
    assert_contains(message_for(&d, "dupaction.so"), "declares action 'dupaction.send' twice");
    assert_contains(message_for(&d, "baddefault.so"),
                    "parameter 'delay' of 'baddefault.wait' has default 'soon', which is not "
                    "a valid duration");
    assert_contains(message_for(&d, "badenum.so"), "'medium' is not one of: fast slow");
    assert_contains(message_for(&d, "reserved.so"), "parameter 'retry' of 'reserved.go' is a "
                                                    "name the core reserves");
    for (size_t i = 0; i < d.n; i++)
        assert_true(strncmp(d.items[i].message, "plugin refused: ", 16) == 0);
    diag_release(&d);
    plugin_set_release(&set);
}

static void test_duplicate_across_folders(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    char set_dir[] = SET, again_dir[] = AGAIN;
    char *dirs[] = {set_dir, again_dir};
    plugin_set_load_dirs(&set, dirs, 2, &d);
    const char *msg = NULL;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.items[i].file, "/again/fixture.so"))
            msg = d.items[i].message;
    assert_contains(msg, "a plugin named 'fixture' was already loaded from");
    assert_int_equal(set.n, 1);
    diag_release(&d);
    plugin_set_release(&set);
}

static void test_writable_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbloaderXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *dst = xasprintf("%s/fixture.so", dir);
    char *cmd = xasprintf("cp '%s/fixture.so' '%s'", SET, dst);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(dst, 0666), 0);
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, dst, &d), -1);
    assert_int_equal(set.n, 0);
    assert_contains(d.items[0].message, "writable by others (mode 0666)");
    assert_contains(d.items[0].message, "chmod go-w");
    diag_release(&d);
    /* group-writable alone is refused too, and fixing the mode fixes it */
    diag_init(&d);
    assert_int_equal(chmod(dst, 0664), 0);
    assert_int_equal(plugin_set_load_file(&set, dst, &d), -1);
    assert_contains(d.items[0].message, "writable by its group");
    diag_release(&d);
    diag_init(&d);
    assert_int_equal(chmod(dst, 0644), 0);
    assert_int_equal(plugin_set_load_file(&set, dst, &d), 0);
    assert_int_equal(set.n, 1);
    diag_release(&d);
    plugin_set_release(&set);
    unlink(dst);
    rmdir(dir);
    free(dst);
    free(cmd);
}

static void test_descriptors(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, SET "/fixture.so", &d), 0);
    const struct loaded_action *echo = plugin_set_find_action(&set, "fixture.echo");
    assert_non_null(echo);
    assert_null(plugin_set_find_action(&set, "fixture.hook")); /* a trigger */
    assert_null(plugin_set_find_action(&set, "nope.echo"));
    const struct loaded_trigger *hook = plugin_set_find_trigger(&set, "fixture.hook");
    assert_non_null(hook);
    /* the core adds `path` to HTTP triggers and step keys to actions */
    assert_non_null(param_table_find(&hook->table, "path"));
    assert_null(param_table_find(&plugin_set_find_trigger(&set, "fixture.tick")->table, "path"));
    const struct sb_param *retry = param_table_find(&echo->table, "retry");
    assert_non_null(retry);
    assert_true(echo->table.core[retry - echo->table.params]);
    const struct sb_param *text = param_table_find(&echo->table, "text");
    assert_false(echo->table.core[text - echo->table.params]);
    assert_true(echo->has_limit);
    assert_string_equal(echo->limit.key, "echo:{{ text }}");
    assert_int_equal(echo->limit.concurrency, 2);
    char *list = plugin_set_list_actions(&set);
    assert_string_equal(list, "fixture.echo");
    free(list);
    diag_release(&d);
    plugin_set_release(&set);
}

static void test_missing_folder(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    char missing[] = "/nonexistent/plugins";
    char *dirs[] = {missing};
    assert_int_equal(plugin_set_load_dirs(&set, dirs, 1, &d), 1);
    assert_contains(d.items[0].message, "cannot read the plugin folder");
    diag_release(&d);
    plugin_set_release(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_refusals),     cmocka_unit_test(test_duplicate_across_folders),
        cmocka_unit_test(test_writable_refused), cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_missing_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
