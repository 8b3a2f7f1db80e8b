/* `describe --json` is a versioned schema tools can rely on; `plugins` lists
 * every connector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "describe.h"
#include "loader.h"

static struct plugin_set set;

static int setup(void **state)
{
    (void)state;
    struct diag d;
    diag_init(&d);
    plugin_set_init(&set);
    char dir[] = SB_PLUGIN_DIR;
    char *dirs[] = {dir};
    plugin_set_load_dirs(&set, dirs, 1, &d);
    int errors = (int)d.errors;
    diag_release(&d);
    return errors;
}

static int teardown(void **state)
{
    (void)state;
    plugin_set_release(&set);
    return 0;
}

static struct json_object *describe_json(const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(describe_name(&set, name, true, f), 0);
    fclose(f);
    struct json_object *o = json_tokener_parse(buf);
    free(buf);
    assert_non_null(o);
    return o;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no key '%s'", key);
    return v;
}

static struct json_object *param(struct json_object *params, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(params); i++) {
        struct json_object *p = json_object_array_get_idx(params, i);
        if (strcmp(json_object_get_string(get(p, "name")), name) == 0)
            return p;
    }
    fail_msg("no parameter '%s'", name);
    return NULL;
}

static void test_http_request_schema(void **state)
{
    (void)state;
    struct json_object *o = describe_json("http.request");
    assert_string_equal(json_object_get_string(get(o, "schema")), "switchboard.describe/1");
    assert_string_equal(json_object_get_string(get(o, "name")), "http.request");
    assert_string_equal(json_object_get_string(get(o, "kind")), "action");
    struct json_object *params = get(o, "params");
    struct json_object *url = param(params, "url");
    assert_true(json_object_get_boolean(get(url, "required")));
    assert_true(json_object_get_boolean(get(url, "template")));
    assert_string_equal(json_object_get_string(get(url, "escape")), "url");
    struct json_object *header = param(params, "header");
    assert_true(json_object_get_boolean(get(header, "multi")));
    struct json_object *method = param(params, "method");
    assert_string_equal(json_object_get_string(get(method, "type")), "enum");
    assert_int_equal(json_object_array_length(get(method, "values")), 6);
    struct json_object *timeout = param(params, "timeout");
    assert_true(json_object_get_boolean(get(timeout, "core")));
    assert_string_equal(json_object_get_string(get(timeout, "type")), "duration");
    assert_string_equal(json_object_get_string(get(timeout, "default")), "30s");
    json_object_put(o);
}

static void test_webhook_schema_and_secret(void **state)
{
    (void)state;
    struct json_object *o = describe_json("http.webhook");
    assert_string_equal(json_object_get_string(get(o, "kind")), "trigger");
    assert_string_equal(json_object_get_string(get(o, "trigger_kind")), "http");
    struct json_object *secret = param(get(o, "params"), "secret");
    assert_true(json_object_get_boolean(get(secret, "sensitive")));
    struct json_object *verify = param(get(o, "params"), "verify");
    assert_true(json_object_get_boolean(get(verify, "required")));
    json_object_put(o);
}

/* SDK 1.1: a trigger's sign names and options, and its hooks commands. */
static void test_sign_and_hooks(void **state)
{
    (void)state;
    struct json_object *o = describe_json("http.webhook");
    struct json_object *sign = get(o, "sign"), *names = get(sign, "names");
    assert_int_equal(json_object_array_length(names), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(names, 0)),
                        "http.webhook");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(names, 1)), "standard");
    param(get(sign, "options"), "id");
    assert_int_equal(json_object_array_length(get(o, "hooks")), 0);
    /* the core's public_url is a key of every HTTP trigger */
    assert_true(json_object_get_boolean(get(param(get(o, "params"), "public_url"), "core")));
    json_object_put(o);
    o = describe_json("stripe.webhook");
    struct json_object *hooks = get(o, "hooks");
    assert_int_equal(json_object_array_length(hooks), 3);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(hooks, 0)), "register");
    json_object_put(o);
    /* a trigger that does not sign has no "sign" */
    o = describe_json("stripe.events");
    assert_false(json_object_object_get_ex(o, "sign", NULL));
    json_object_put(o);
    /* and the text form says how to call both */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(describe_name(&set, "shopify.webhook", false, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "sign: switchboard sign shopify.webhook --secret S"));
    assert_non_null(strstr(buf, "sign options:"));
    assert_non_null(strstr(buf, "hooks: switchboard hooks register|list|unregister WORKFLOW"));
    free(buf);
}

static void test_unknown_name(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/null", "w");
    assert_int_equal(describe_name(&set, "http.requst", false, f), -1);
    fclose(f);
}

static void test_plugins_list(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    describe_plugins(&set, false, f);
    fclose(f);
    assert_non_null(strstr(buf, "trigger  http.webhook"));
    assert_non_null(strstr(buf, "action   http.request"));
    assert_non_null(strstr(buf, "action   http.send_webhook"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_request_schema),
        cmocka_unit_test(test_webhook_schema_and_secret),
        cmocka_unit_test(test_sign_and_hooks),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_plugins_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
