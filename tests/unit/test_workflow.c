/* Workflow loading: bindings, routes, core step keys, secrets, and the
 * "validate before any plugin code runs" rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "call.h"
#include "loader.h"
#include "log.h"
#include "workflow.h"
#include "xalloc.h"

static struct plugin_set plugins;

static int setup(void **state)
{
    (void)state;
    struct diag d;
    diag_init(&d);
    plugin_set_init(&plugins);
    int rc = plugin_set_load_file(&plugins, SB_TEST_PLUGIN_DIR "/good/fixture.so", &d);
    diag_release(&d);
    setenv("SB_TEST_SECRET_A", "aaaa-secret-value", 1);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    plugin_set_release(&plugins);
    return 0;
}

static void test_good_set(void **state)
{
    (void)state;
    struct workflow_set set;
    struct diag d;
    diag_init(&d);
    workflow_set_init(&set);
    assert_int_equal(workflow_set_load(&set, SB_SOURCE_DIR "/tests/data/good", &plugins, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(set.n, 2);
    /* both share /hooks/shared: one route, two workflows, their own event types */
    assert_int_equal(set.n_routes, 1);
    const struct hook_route *r = workflow_set_route(&set, "shared");
    assert_non_null(r);
    assert_int_equal(r->n, 2);
    struct workflow *orders = workflow_set_find(&set, "orders");
    struct workflow *refunds = workflow_set_find(&set, "refunds");
    assert_true(workflow_wants_type(orders, "a.created"));
    assert_false(workflow_wants_type(orders, "b.created"));
    assert_true(workflow_wants_type(refunds, "b.created"));
    assert_string_equal(orders->description, "every event type a.* on /hooks/shared");
    assert_int_equal(orders->retry, 3);
    assert_int_equal(orders->n_backoff, 2);
    assert_int_equal(orders->backoff_ms[1], 10000);
    assert_non_null(orders->filter);
    assert_int_equal(strlen(orders->hash), 64);
    /* steps in file order, with their core keys */
    assert_int_equal(orders->n_steps, 2);
    const struct step *first = &orders->steps[0], *second = &orders->steps[1];
    assert_string_equal(first->name, "first");
    assert_int_equal(first->retry, 2);
    assert_true(first->continue_on_error);
    assert_int_equal(second->timeout_ms, 5000);
    assert_false(second->continue_on_error);
    assert_int_equal(second->retry, -1);
    /* a continuation line joined to its value */
    const struct bound_param *text = param_binding_find(&second->params, "text");
    assert_string_equal(text->text, "{{ steps.first.text }}\ncontinued on a second line");
    assert_non_null(text->tpl);
    /* the trigger secret is resolved, marked, and the static values typed */
    const struct bound_param *secret = param_binding_find(&orders->trigger_params, "secret");
    assert_true(secret->secret);
    assert_string_equal(secret->text, "aaaa-secret-value");
    const struct bound_param *count = param_binding_find(&first->params, "count");
    assert_int_equal(json_object_get_int64(count->value), 3);
    /* static parameters with defaults applied */
    struct json_object *p = call_params_static(&first->action->table, &first->params);
    struct json_object *v;
    assert_true(json_object_object_get_ex(p, "wait", &v));
    assert_int_equal(json_object_get_int64(v), 1000); /* default 1s */
    assert_true(json_object_object_get_ex(p, "header", &v));
    assert_true(json_object_object_get_ex(v, "X-Other", &v));
    assert_string_equal(json_object_get_string(v), "literal");
    json_object_put(p);
    workflow_set_release(&set);
    diag_release(&d);
}

static void test_render_params(void **state)
{
    (void)state;
    struct workflow_set set;
    struct diag d;
    diag_init(&d);
    workflow_set_init(&set);
    assert_int_equal(workflow_set_load(&set, SB_SOURCE_DIR "/tests/data/good", &plugins, &d), 0);
    const struct step *first = &workflow_set_find(&set, "orders")->steps[0];
    struct json_object *root = json_tokener_parse(
        "{\"event\": {\"len\": 820982911946154508, \"name\": \"a \\\"quoted\\\" name\"},"
        " \"trigger\": {\"id\": \"evt_1\"}}");
    struct json_object *out = NULL;
    char err[256];
    assert_int_equal(
        call_params_render(&first->action->table, &first->params, root, &out, err, sizeof(err)), 0);
    struct json_object *v;
    json_object_object_get_ex(out, "text", &v);
    assert_string_equal(json_object_get_string(v), "hello 820982911946154508");
    json_object_object_get_ex(out, "body", &v);
    struct json_object *body = json_tokener_parse(json_object_get_string(v));
    assert_non_null(body); /* the quotes in the payload did not break the JSON */
    json_object_object_get_ex(body, "name", &v);
    assert_string_equal(json_object_get_string(v), "a \"quoted\" name");
    json_object_object_get_ex(body, "len", &v);
    assert_true(json_object_get_int64(v) == 820982911946154508LL);
    json_object_put(body);
    json_object_object_get_ex(out, "header", &v);
    json_object_object_get_ex(v, "X-Id", &v);
    assert_string_equal(json_object_get_string(v), "evt_1");
    json_object_put(out);
    /* a missing path fails the render, naming the parameter and the path */
    json_object_put(root);
    root = json_tokener_parse("{\"event\": {}, \"trigger\": {\"id\": \"x\"}}");
    assert_int_equal(
        call_params_render(&first->action->table, &first->params, root, &out, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "parameter 'text'"));
    assert_non_null(strstr(err, "event.len"));
    json_object_put(root);
    workflow_set_release(&set);
    diag_release(&d);
}

static void test_secret_never_in_messages(void **state)
{
    (void)state;
    /* a wrong-typed value holding a secret must not echo it back */
    char dir[] = "/tmp/sbwfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/leak.ini", dir);
    FILE *f = fopen(path, "w");
    fputs("[trigger]\nuse = fixture.hook\nsecret = ${env:SB_TEST_SECRET_A}\n"
          "[step s]\nuse = fixture.echo\ntext = x\ncount = ${env:SB_TEST_SECRET_A}\n",
          f);
    fclose(f);
    struct workflow_set set;
    struct diag d;
    diag_init(&d);
    workflow_set_init(&set);
    assert_int_equal(workflow_set_load_file(&set, path, &plugins, &d), -1);
    assert_int_equal(d.errors, 1);
    char *msg = diag_format(&d.items[0]);
    assert_non_null(strstr(msg, "expected an integer"));
    assert_null(strstr(msg, "aaaa-secret-value"));
    free(msg);
    workflow_set_release(&set);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_set),
        cmocka_unit_test(test_render_params),
        cmocka_unit_test(test_secret_never_in_messages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
