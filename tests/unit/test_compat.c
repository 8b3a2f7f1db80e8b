/* The SDK promise: a plugin built for SDK 1.0 (a frozen copy of the 1.0
 * header) loads and runs in this core, its tables read with the 1.0 sizes
 * and without the 1.1 callbacks; one built for another major is refused
 * with the loader's sentence; and SB_HOST_HAS means what plugin.h says:
 * every host function of the header a plugin was built with is there. */
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

/* Run compat<tag>.echo through the host table; its output (caller puts). */
static struct json_object *run_echo(const struct plugin_set *set, const char *action)
{
    const struct loaded_action *a = plugin_set_find_action(set, action);
    assert_non_null(a);
    struct sb_call c;
    call_init(&c, CALL_RUN, a->full_name);
    c.plugin = a->plugin;
    c.table = &a->table;
    c.params = json_tokener_parse("{\"text\": \"hello\", \"times\": 3}");
    assert_int_equal(a->desc.run(&core_host, &c), SB_OK);
    struct json_object *out = json_object_get(c.output);
    json_object_put(c.params);
    call_release(&c);
    return out;
}

static int64_t member_int(struct json_object *o, const char *key)
{
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_int64(v);
}

static void test_sdk_1_0_plugin_loads_and_runs(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, DIR "/compat10.so", &d), 0);
    assert_int_equal(set.plugins[0]->abi_minor, 0);
    const struct loaded_action *a = plugin_set_find_action(&set, "compat10.echo");
    assert_non_null(a);
    /* its table, read with the 1.0 element sizes, keeps defaults and help */
    const struct sb_param *times = param_table_find(&a->table, "times");
    assert_string_equal(times->def, "2");
    assert_string_equal(times->help, "repeats");
    struct json_object *out = run_echo(&set, "compat10.echo");
    struct json_object *v;
    assert_true(json_object_object_get_ex(out, "text", &v));
    assert_string_equal(json_object_get_string(v), "hello");
    assert_int_equal(member_int(out, "times"), 3);
    assert_int_equal(member_int(out, "sdk"), 100); /* built as SDK 1.0 */
    /* SB_HOST_HAS of the last function of the 1.0 header: true */
    assert_true(json_object_object_get_ex(out, "host_has_last", &v));
    assert_true(json_object_get_boolean(v));
    json_object_put(out);
    diag_release(&d);
    plugin_set_release(&set);
}

/* SDK 1.1 appended to struct sb_trigger: a 1.0 trigger table has the 1.0
 * stride, so the second trigger is only found where a 1.0 core would look,
 * and the 1.1 fields read as absent. */
static void test_sdk_1_0_triggers_read_with_1_0_stride(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, DIR "/compat10.so", &d), 0);
    const struct plugin *pl = set.plugins[0];
    assert_int_equal(pl->n_triggers, 2);
    const struct loaded_trigger *t = plugin_set_find_trigger(&set, "compat10.second");
    assert_non_null(t);
    assert_string_equal(t->desc.summary, "the second of two");
    assert_int_equal(t->desc.methods, SB_METHOD_POST | SB_METHOD_PUT);
    assert_string_equal(param_table_find(&t->table, "token")->def, "t0k");
    /* the core's keys of every HTTP trigger are added to 1.0 plugins too */
    assert_non_null(param_table_find(&t->table, "path"));
    assert_non_null(param_table_find(&t->table, "public_url"));
    for (size_t i = 0; i < pl->n_triggers; i++) {
        const struct loaded_trigger *x = &pl->triggers[i];
        assert_null(x->desc.sign);
        assert_null(x->desc.sign_aliases);
        assert_int_equal(x->sign_table.n, 0);
        assert_null(x->desc.register_hook);
        assert_null(x->desc.unregister_hook);
        assert_null(x->desc.list_hooks);
    }
    /* and its receive works through the 1.1 host table */
    struct receive_result rx = {0};
    struct sb_header headers[] = {{"X-Token", "t0k"}};
    struct sb_request req = {.size = sizeof(req),
                             .method = "PUT",
                             .path = "/hooks/x",
                             .hook = "x",
                             .query = "",
                             .headers = headers,
                             .n_headers = 1,
                             .body = (const unsigned char *)"hi",
                             .body_len = 2,
                             .content_type = "text/plain",
                             .remote_addr = "127.0.0.1"};
    struct sb_call c;
    call_init(&c, CALL_RECEIVE, t->full_name);
    c.plugin = t->plugin;
    c.table = &t->table;
    c.params = json_tokener_parse("{\"token\": \"t0k\"}");
    c.rx = &rx;
    c.rx_body = &req;
    assert_int_equal(t->desc.receive(&core_host, &c, &req), SB_OK);
    assert_int_equal(rx.n_events, 1);
    assert_string_equal(rx.events[0].type, "compat");
    assert_string_equal(json_object_get_string(rx.events[0].payload), "hi");
    json_object_put(c.params);
    call_release(&c);
    receive_result_release(&rx);
    diag_release(&d);
    plugin_set_release(&set);
}

static void test_sdk_1_1_plugin_loads_and_runs(void **state)
{
    (void)state;
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, DIR "/compat11.so", &d), 0);
    assert_int_equal(set.plugins[0]->abi_minor, 1);
    assert_int_equal(set.plugins[0]->n_triggers, 2);
    struct json_object *out = run_echo(&set, "compat11.echo");
    assert_int_equal(member_int(out, "sdk"), 101);
    struct json_object *v;
    assert_true(json_object_object_get_ex(out, "host_has_last", &v));
    assert_true(json_object_get_boolean(v));
    json_object_put(out);
    diag_release(&d);
    plugin_set_release(&set);
}

/* plugin.h: "every host function declared in the header a plugin was built
 * with is present, and non-NULL, in every core that loads the plugin". */
static void test_host_table_is_complete(void **state)
{
    (void)state;
    assert_int_equal(core_host.size, sizeof(struct sb_host));
    assert_int_equal(core_host.abi_major, SB_ABI_MAJOR);
    assert_int_equal(core_host.abi_minor, SB_ABI_MINOR);
    /* every slot from log to the end is a function pointer */
    typedef void (*fn)(void);
    size_t first = offsetof(struct sb_host, log);
    assert_int_equal((sizeof(struct sb_host) - first) % sizeof(fn), 0);
    for (size_t off = first; off < sizeof(struct sb_host); off += sizeof(fn)) {
        fn f;
        memcpy(&f, (const char *)&core_host + off, sizeof(f));
        if (!f)
            fail_msg("the host table has no function at offset %zu", off);
    }
    assert_true(SB_HOST_HAS(&core_host, token_invalidate));
    assert_true(SB_HOST_HAS(&core_host, hex_decode));
    /* a table as a 1.0 core made it lacks the 1.1 functions */
    struct sb_host old = core_host;
    old.size = offsetof(struct sb_host, hex_decode);
    assert_true(SB_HOST_HAS(&old, free));
    assert_false(SB_HOST_HAS(&old, hex_decode));
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
        cmocka_unit_test(test_sdk_1_0_triggers_read_with_1_0_stride),
        cmocka_unit_test(test_sdk_1_1_plugin_loads_and_runs),
        cmocka_unit_test(test_host_table_is_complete),
        cmocka_unit_test(test_other_major_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
