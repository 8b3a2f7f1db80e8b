/* The SDK promise: a plugin built for SDK 1.0 (a frozen copy of the 1.0
 * header) loads and runs in this core; one built for another major is
 * refused with the loader's sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "call.h"
#include "loader.h"
#include "workflow.h"

#define DIR SB_TEST_PLUGIN_DIR "/compat"

static void test_sdk_1_0_plugin_loads_and_runs(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, DIR "/compat10.so", &d), 0);
    const struct loaded_action *a = plugin_set_find_action(&set, "compat10.echo");
    assert_non_null(a);
    /* its table, read with the 1.0 element sizes, keeps defaults and help */
    const struct sb_param *times = param_table_find(&a->table, "times");
    assert_string_equal(times->def, "2");
    assert_string_equal(times->help, "repeats");
    /* run it through the host table */
    struct sb_call c;
    call_init(&c, CALL_RUN, a->full_name);
    c.plugin = a->plugin;
    c.table = &a->table;
    c.params = json_tokener_parse("{\"text\": \"hello\", \"times\": 3}");
    assert_int_equal(a->desc.run(&core_host, &c), SB_OK);
    struct json_object *v;
    assert_true(json_object_object_get_ex(c.output, "text", &v));
    assert_string_equal(json_object_get_string(v), "hello");
    assert_true(json_object_object_get_ex(c.output, "times", &v));
    assert_int_equal(json_object_get_int64(v), 3);
    assert_true(json_object_object_get_ex(c.output, "sdk", &v));
    assert_int_equal(json_object_get_int(v), 100); /* built as SDK 1.0 */
    json_object_put(c.params);
    call_release(&c);
    diag_release(&d);
    plugin_set_release(&set);
}

static void test_other_major_refused(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, DIR "/compat20.so", &d), -1);
    assert_int_equal(set.n, 0);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].message,
                           "plugin refused: it was built for SDK 2.0 but this switchboard speaks "
                           "SDK 1.x; rebuild the plugin against SDK 1."));
    diag_release(&d);
    plugin_set_release(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_1_0_plugin_loads_and_runs),
        cmocka_unit_test(test_other_major_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
