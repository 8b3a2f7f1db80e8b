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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "mailchimp_checks.h"
#include "standin.h"
#include "testkit.h"

#define EXAMPLE "conf/examples/form-to-mailchimp.ini"
#define KEY "feedfacefeedfacefeedfacefeedface-us21"
#define TOKEN "form-token-81d6e1"

static struct sb_proc proc;
static struct standin *api;
static struct mailchimp_standin *mc;

static const char *const env[] = {"MAILCHIMP_API_KEY=" KEY, "FORM_WEBHOOK_TOKEN=" TOKEN, NULL};

/* The source tree, from this file's path (CMake compiles it by its
 * absolute path). */
static void source_path(const char *rel, char *out, size_t len)
{
    const char *me = __FILE__;
    const char *at = strstr(me, "tests/connectors/");
    assert_non_null(at);
    snprintf(out, len, "%.*s%s", (int)(at - me), me, rel);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    return text;
}

/* The example with `line` inserted after its line `after`. Caller frees. */
static char *example_with(const char *after, const char *line)
{
    char path[1024];
    source_path(EXAMPLE, path, sizeof(path));
    char *text = read_file(path);
    if (!text)
        return NULL;
    char *at = strstr(text, after);
    if (!at) {
        free(text);
        return NULL;
    }
    at = strchr(at, '\n');
    size_t head = at ? (size_t)(at - text) + 1 : strlen(text);
    size_t n = strlen(text) + strlen(line) + 3;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s\n%s", (int)head, text, at ? "" : "\n", line, text + head);
    free(text);
    return out;
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    static const char *const lists[] = {"a6b5da1054", NULL};
    mc = mailchimp_standin_new(api, KEY, lists);
    if (!mc || sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    char line[256];
    snprintf(line, sizeof(line), "api_base = %s/3.0", standin_url(api));
    char *wf = example_with("use = mailchimp.upsert_member", line);
    if (!wf || sbp_write_workflow(&proc, "form-to-mailchimp", wf) < 0)
        return -1;
    free(wf);
    return sbp_start(&proc, env);
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
    char src[1024], dir[] = "/tmp/sbformexXXXXXX", dst[1100];
    source_path(EXAMPLE, src, sizeof(src));
    assert_non_null(mkdtemp(dir));
    snprintf(dst, sizeof(dst), "%s/form-to-mailchimp.ini", dir);
    char *text = read_file(src);
    assert_non_null(text);
    FILE *f = fopen(dst, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    const char *argv[] = {testkit_binary(),  "check",       "-c", "/dev/null", "--plugins",
                          testkit_plugins(), "--workflows", dir,  NULL};
    char *out = NULL, *err = NULL;
    int rc = run_capture(argv, env, &out, &err);
    if (rc != 0)
        fail_msg("switchboard check: %d\n%s%s", rc, out, err);
    assert_non_null(strstr(out, "1 workflow"));
    /* without the variables it does not pass */
    const char *no_env[] = {"MAILCHIMP_API_KEY=" KEY, NULL};
    free(out);
    free(err);
    assert_int_not_equal(run_capture(argv, no_env, &out, &err), 0);
    assert_non_null(strstr(err, "FORM_WEBHOOK_TOKEN"));
    free(out);
    free(err);
    unlink(dst);
    rmdir(dir);
}

static long post_form(const char *query, const char *body)
{
    char url[300];
    snprintf(url, sizeof(url), "%s/hooks/website-form%s", proc.base_url, query);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_reply r;
    assert_int_equal(http_do("POST", url, h, body, strlen(body), 0, &r), 0);
    long status = r.status;
    http_reply_free(&r);
    return status;
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
    assert_true(sbp_wait_sql(&proc,
                             "SELECT count(*) FROM runs WHERE workflow = 'form-to-mailchimp' AND "
                             "status = 'succeeded'",
                             1, 15000));
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
