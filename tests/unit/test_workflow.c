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
#include "strbuf.h"
#include "workflow.h"
#include "xalloc.h"

static struct plugin_set plugins;
/* the shipped connectors, for the rules about their own parameters */
static struct plugin_set shipped;

static int setup(void **state)
{
    (void)state;
    struct diag d;
    diag_init(&d);
    plugin_set_init(&plugins);
    int rc = plugin_set_load_file(&plugins, SB_TEST_PLUGIN_DIR "/good/fixture.so", &d);
    plugin_set_init(&shipped);
    static const char *const names[] = {"http", "shopify", "slack", "mailchimp", "stripe"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && rc == 0; i++) {
        char *path = xasprintf("%s/%s.so", SB_PLUGIN_DIR, names[i]);
        rc = plugin_set_load_file(&shipped, path, &d);
        free(path);
    }
    diag_release(&d);
    setenv("SB_TEST_SECRET_A", "aaaa-secret-value", 1);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    plugin_set_release(&plugins);
    plugin_set_release(&shipped);
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

/*
 * Load one workflow file with the shipped connectors; returns every
 * diagnostic, formatted, one per line ("" when none), and *errors the
 * count of errors. Caller frees.
 */
static char *check_workflow(const char *text, size_t *errors)
{
    char dir[] = "/tmp/sbwfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/wf.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct workflow_set set;
    struct diag d;
    diag_init(&d);
    workflow_set_init(&set);
    workflow_set_load_file(&set, path, &shipped, &d);
    struct strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < d.n; i++) {
        char *msg = diag_format(&d.items[i]);
        /* the temporary folder varies: keep "wf.ini:LINE: ..." */
        const char *shown = strstr(msg, "wf.ini:");
        strbuf_addf(&out, "%s\n", shown ? shown : msg);
        free(msg);
    }
    *errors = d.errors;
    workflow_set_release(&set);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
    return strbuf_detach(&out, NULL);
}

#define HOOK "[trigger]\nuse = http.webhook\nverify = none\n\n"

static const char host_error[] =
    "a template decides where this request goes (the scheme, user, host or port of its URL), "
    "so event data could send the step's credentials anywhere; write that part literally, e.g. "
    "https://api.example.com/v1/{{ event.id }}, or, if the host must come from data, set "
    "dynamic_host = true on this step (each address is then checked when connecting)";

/* url = http://{{ event.tenant }}.api.example.invalid/... sent the step's
 * Authorization header wherever the event said (x@127.0.0.1:PORT/steal?). */
static void test_templated_host_refused(void **state)
{
    (void)state;
    static const struct {
        const char *step; /* the [step s] body */
        const char *key;
        bool plugin_refuses_too; /* the plugin's own check says more */
    } bad[] = {
        {"use = http.request\nurl = http://{{ event.tenant }}.api.example.invalid/v1/orders\n"
         "header.Authorization = Bearer x\n",
         "url", false},
        {"use = http.request\nurl = {{ event.url }}\n", "url", false},
        {"use = http.request\nurl = https://api.example.com{{ event.path }}\n", "url", false},
        {"use = http.request\nurl = https://{{ event.user }}@api.example.com/v1\n", "url", false},
        {"use = http.request\nurl = https://api.example.com:{{ event.port }}/v1\n", "url", false},
        {"use = http.request\nurl = {{ event.scheme }}://api.example.com/v1\n", "url", false},
        {"use = http.request\nurl = //{{ event.host }}/v1\n", "url", false},
        {"use = http.send_webhook\nurl = https://{{ event.host }}/in\n"
         "secret = ${env:SB_TEST_WHSEC}\nbody = {}\n",
         "url", false},
        {"use = shopify.graphql\nshop = {{ trigger.headers.x-shopify-shop-domain }}\n"
         "access_token = ${env:SB_TEST_SECRET_A}\nquery = { shop { name } }\n",
         "shop", false},
        {"use = slack.respond\nresponse_url = {{ event.response_url }}\ntext = hi\n",
         "response_url", false},
        {"use = mailchimp.request\napi_key = ${env:SB_TEST_MC_KEY}\npath = {{ event.p }}\n", "path",
         true},
    };
    setenv("SB_TEST_WHSEC", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    setenv("SB_TEST_MC_KEY", "0123456789abcdef0123456789abcdef-us6", 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *wf = xasprintf(HOOK "[step s]\n%s", bad[i].step);
        size_t errors;
        char *out = check_workflow(wf, &errors);
        char *at = xasprintf("\n%s = ", bad[i].key);
        int line = 2; /* the line after the first newline before the key */
        for (const char *c = wf; c < strstr(wf, at); c++)
            line += *c == '\n';
        free(at);
        char *want = xasprintf("wf.ini:%d: [step s] %s: %s\n", line, bad[i].key, host_error);
        if (errors != 1 || strcmp(out, want) != 0)
            fail_msg("for\n%s\ngot %zu error(s):\n%s", wf, errors, out);
        free(want);
        free(out);
        if (bad[i].plugin_refuses_too) {
            free(wf);
            continue;
        }
        /* opting in on the step lets it load */
        char *opted = xasprintf("%sdynamic_host = true\n", wf);
        out = check_workflow(opted, &errors);
        if (errors != 0)
            fail_msg("with dynamic_host = true:\n%s\ngot:\n%s", opted, out);
        free(out);
        free(opted);
        free(wf);
    }
    /* api_base is never a template */
    size_t errors;
    char *out = check_workflow(HOOK "[step s]\nuse = stripe.request\napi_key = "
                                    "${env:SB_TEST_SECRET_A}\npath = /v1/customers\n"
                                    "api_base = https://{{ event.host }}\n",
                               &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "[step s] api_base: this parameter does not take templates"));
    free(out);
}

/* Templates after the host are fine, and so is a literal host. */
static void test_templated_path_allowed(void **state)
{
    (void)state;
    static const char *const good[] = {
        "use = http.request\nurl = https://api.example.com/v1/{{ event.tenant }}/orders\n",
        "use = http.request\nurl = https://api.example.com?q={{ event.q }}\n",
        "use = http.request\nurl = https://api.example.com/{{ event.a }}#{{ event.b }}\n",
        "use = http.request\nurl = https://api.example.com/v1\nquery.tenant = {{ event.t }}\n",
        "use = mailchimp.request\napi_key = ${env:SB_TEST_MC_KEY}\n"
        "path = /lists/{{ event.list }}/members\n",
        "use = shopify.graphql\nshop = my-store\naccess_token = ${env:SB_TEST_SECRET_A}\n"
        "query = { shop { name } }\nvariables = {\"id\": \"{{ event.id }}\"}\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *wf = xasprintf(HOOK "[step s]\n%s", good[i]);
        size_t errors;
        char *out = check_workflow(wf, &errors);
        if (errors != 0 || out[0])
            fail_msg("for\n%s\ngot:\n%s", wf, out);
        free(out);
        free(wf);
    }
}

/* raw_body inserts values with no escaping: allowed, with a warning. */
static void test_raw_body_warns(void **state)
{
    (void)state;
    size_t errors;
    char *out = check_workflow(HOOK "[step s]\nuse = http.request\nurl = https://x.example/in\n"
                                    "raw_body = name={{ event.name }}\n",
                               &errors);
    assert_int_equal(errors, 0);
    assert_string_equal(out, "wf.ini:8: warning: [step s] raw_body: values go into this text "
                             "unescaped, so event data can change the structure of what is "
                             "sent; prefer an escaped parameter (a JSON body, form fields) or "
                             "make sure the receiver reads it as plain text\n");
    free(out);
    /* a literal raw body is no concern */
    out = check_workflow(HOOK "[step s]\nuse = http.request\nurl = https://x.example/in\n"
                              "raw_body = ping\n",
                         &errors);
    assert_int_equal(errors, 0);
    assert_string_equal(out, "");
    free(out);
}

/* Shopify's query took templates with no escaping: a value could rewrite
 * the GraphQL document. It is literal now; data goes through variables. */
static void test_graphql_query_is_literal(void **state)
{
    (void)state;
    size_t errors;
    char *out = check_workflow(
        HOOK "[step s]\nuse = shopify.graphql\nshop = my-store\n"
             "access_token = ${env:SB_TEST_SECRET_A}\n"
             "query = { order(id: \"{{ event.admin_graphql_api_id }}\") { name } }\n",
        &errors);
    assert_int_equal(errors, 1);
    assert_string_equal(out, "wf.ini:9: [step s] query: this parameter does not take templates; "
                             "'{{' would be sent literally (the GraphQL document, literal text: "
                             "event data goes in through variables (variables = {\"id\": "
                             "\"{{ event.admin_graphql_api_id }}\"}, $id in the query))\n");
    free(out);
    out = check_workflow(HOOK "[step s]\nuse = shopify.graphql\nshop = my-store\n"
                              "access_token = ${env:SB_TEST_SECRET_A}\n"
                              "query = query($id: ID!) { order(id: $id) { name } }\n"
                              "variables = {\"id\": \"{{ event.admin_graphql_api_id }}\"}\n",
                         &errors);
    assert_int_equal(errors, 0);
    assert_string_equal(out, "");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_set),
        cmocka_unit_test(test_render_params),
        cmocka_unit_test(test_secret_never_in_messages),
        cmocka_unit_test(test_templated_host_refused),
        cmocka_unit_test(test_templated_path_allowed),
        cmocka_unit_test(test_raw_body_warns),
        cmocka_unit_test(test_graphql_query_is_literal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
