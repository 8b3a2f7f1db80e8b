/* Seed scenario: a website form (WPForms-style form-encoded fields, a
 * token in the query) adds the person to a Mailchimp audience with their
 * first name. Runs the shipped conf/examples/form-to-mailchimp.ini as it
 * is, with only api_base added to point the step at the Marketing API
 * stand-in; the example also passes `switchboard check`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "mailchimp_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define WF "form-to-mailchimp"
#define KEY "feedfacefeedfacefeedfacefeedface-us21"
#define TOKEN "form-token-81d6e1"

static struct sb_proc proc;
static struct standin *api;
static struct mailchimp_standin *mc;

static const char *const env[] = {"MAILCHIMP_API_KEY=" KEY, "FORM_WEBHOOK_TOKEN=" TOKEN, NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    static const char *const lists[] = {"a6b5da1054", NULL};
    mc = mailchimp_standin_new(api, KEY, lists);
    if (!mc)
        return -1;
    char line[256];
    snprintf(line, sizeof(line), "api_base = %s/3.0", standin_url(api));
    const struct example_edit edits[] = {{"use = mailchimp.upsert_member", line}, {NULL, NULL}};
    return scenario_start_example(&proc, WF, edits, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    mailchimp_standin_free(mc);
    standin_stop(api);
    return 0;
}

static void test_example_passes_check(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    scenario_assert_example_passes(WF, env, &out);
    assert_non_null(strstr(out, "1 workflow"));
    free(out);
    /* without the variables it does not pass */
    const char *no_env[] = {"MAILCHIMP_API_KEY=" KEY, NULL};
    assert_int_not_equal(scenario_check_example(WF, no_env, NULL, &err), 0);
    assert_non_null(strstr(err, "FORM_WEBHOOK_TOKEN"));
    free(err);
}

static long post_form(const char *query, const char *body)
{
    char hook[300];
    snprintf(hook, sizeof(hook), "website-form%s", query);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    return sbp_hook_request(&proc, "POST", hook, h, body, NULL);
}

static void test_form_post_subscribes_with_first_name(void **state)
{
    (void)state;
    /* what WPForms sends: brackets percent-encoded, + for spaces */
    const char *body = "wpforms%5Bid%5D=42&wpforms%5Bfields%5D%5B1%5D=Ann+Marie&wpforms%5Bfields"
                       "%5D%5B2%5D=Ann.Marie%40Example.com&wpforms%5Bfields%5D%5B3%5D=Hi+there";
    /* a wrong or missing token: refused, nothing runs */
    assert_int_equal(post_form("?token=wrong", body), 401);
    assert_int_equal(post_form("", body), 401);
    assert_int_equal(post_form("?token=" TOKEN, body), 200);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 1, 15000));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs"), 1);
    char hash[33], path[128], tags[160];
    mailchimp_subscriber_hash_ref("ann.marie@example.com", hash);
    snprintf(path, sizeof(path), "/3.0/lists/a6b5da1054/members/%s", hash);
    snprintf(tags, sizeof(tags), "%s/tags", path);
    assert_int_equal(standin_count(api, path), 1);
    struct standin_request put;
    assert_true(standin_get(api, path, 0, &put));
    assert_string_equal(put.method, "PUT");
    struct json_object *doc = json_tokener_parse(put.body);
    standin_request_free(&put);
    struct json_object *v, *merge;
    assert_true(json_object_object_get_ex(doc, "email_address", &v));
    assert_string_equal(json_object_get_string(v), "Ann.Marie@Example.com");
    assert_true(json_object_object_get_ex(doc, "merge_fields", &merge));
    assert_true(json_object_object_get_ex(merge, "FNAME", &v));
    assert_string_equal(json_object_get_string(v), "Ann Marie");
    assert_true(json_object_object_get_ex(doc, "status_if_new", &v));
    assert_string_equal(json_object_get_string(v), "subscribed");
    json_object_put(doc);
    /* tagged with the source */
    assert_int_equal(standin_count(api, tags), 1);
    assert_true(mailchimp_standin_member_has_tag(mc, "a6b5da1054", hash, "website-form"));
    char status[32];
    assert_true(mailchimp_standin_member_status(mc, "a6b5da1054", hash, status, sizeof(status)));
    assert_string_equal(status, "subscribed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_passes_check),
        cmocka_unit_test(test_form_post_subscribes_with_first_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
