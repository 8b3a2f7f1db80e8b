/* End to end: the mailchimp plugin in the real engine, against the
 * Marketing API stand-in (tests/support/mailchimp_checks.c), which checks
 * Basic auth, the subscriber hash in the path, JSON bodies, statuses and
 * known lists as Mailchimp does. Covers upsert_member (hash, auth,
 * merge_fields, the tags call after the PUT, outputs feeding later steps),
 * retries on a bodiless 429 and 403, permanent failures with Mailchimp's
 * title/detail, tag_member, request, dry runs, and the webhook trigger
 * (set-up pings, the URL secret, both bracket encodings, dedupe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "mailchimp_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define KEY "0123456789abcdef0123456789abcdef-us21"
#define HOOK_SECRET "mc-hook-secret-4f9a2c"

static struct sb_proc proc;
static struct standin *api;
static struct mailchimp_standin *mc;

static const char *const env[] = {"SB_TEST_MC_KEY=" KEY, "SB_TEST_MC_WRONG_KEY=ffffffff-us21",
                                  "SB_TEST_MC_HOOK_SECRET=" HOOK_SECRET, NULL};

static void write_workflow(const char *name, char *text)
{
    assert_int_equal(sbp_write_workflow(&proc, name, text), 0);
    free(text);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    static const char *const lists[] = {"L1", "a6b5da1054", NULL};
    mc = mailchimp_standin_new(api, KEY, lists);
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "POST", "/echo", &ok, 1);
    standin_script(api, "POST", "/seen", &ok, 1);
    if (!mc || sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    /* upsert, then a step that reads its output */
    write_workflow("member",
                   testkit_fmt("[workflow]\nretry_backoff = 200ms\n\n"
                               "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                               "[step member]\nuse = mailchimp.upsert_member\n"
                               "api_key = ${env:SB_TEST_MC_KEY}\napi_base = %s/3.0\n"
                               "list_id = {{ event.list }}\nemail = {{ event.email }}\n"
                               "merge.FNAME = {{ event.first }}\ntags = {{ event.tags }}\n\n"
                               "[step echo]\nuse = http.request\nmethod = POST\nurl = %s/echo\n"
                               "body = {\"hash\": \"{{ steps.member.subscriber_hash }}\", "
                               "\"id\": \"{{ steps.member.id }}\", "
                               "\"status\": \"{{ steps.member.status }}\", "
                               "\"fname\": \"{{ steps.member.merge_fields.FNAME }}\"}\n",
                               base, base));
    write_workflow("wrongkey",
                   testkit_fmt("[workflow]\nretry_backoff = 200ms\n\n"
                               "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                               "[step member]\nuse = mailchimp.upsert_member\n"
                               "api_key = ${env:SB_TEST_MC_WRONG_KEY}\napi_base = %s/3.0\n"
                               "list_id = L1\nemail = {{ event.email }}\n",
                               base));
    write_workflow("tags",
                   testkit_fmt("[workflow]\nretry_backoff = 200ms\n\n"
                               "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                               "[step tag]\nuse = mailchimp.tag_member\n"
                               "api_key = ${env:SB_TEST_MC_KEY}\napi_base = %s/3.0\n"
                               "list_id = L1\nemail = {{ event.email }}\n"
                               "tags = {{ event.add }}\nremove_tags = {{ event.remove }}\n",
                               base));
    write_workflow(
        "lookup",
        testkit_fmt("[workflow]\nretry_backoff = 200ms\n\n"
                    "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                    "[step get]\nuse = mailchimp.request\napi_key = ${env:SB_TEST_MC_KEY}\n"
                    "api_base = %s/3.0\npath = /lists/{{ event.list }}/members/{{ event.hash }}"
                    "\n\n[step echo]\nuse = http.request\nmethod = POST\nurl = %s/echo\n"
                    "body = {\"lookup\": \"{{ steps.get.body.email_address }}\", "
                    "\"status\": {{ steps.get.status }}}\n",
                    base, base));
    write_workflow("hook",
                   testkit_fmt("[trigger]\nuse = mailchimp.webhook\npath = mc\n"
                               "secret = ${env:SB_TEST_MC_HOOK_SECRET}\n\n"
                               "[step seen]\nuse = http.request\nmethod = POST\nurl = %s/seen\n"
                               "body = {\"type\": \"{{ trigger.type }}\", \"id\": \"{{ trigger.id "
                               "}}\", \"fname\": \"{{ event.data.merges.FNAME }}\", "
                               "\"email\": \"{{ event.data.email }}\"}\n",
                               base));
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

/* --- helpers ---------------------------------------------------------------------------- */

static bool wait_runs(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 15000);
}

/* The index among all recorded requests of the i-th one to `path`. */
static size_t request_index(const char *path, const char *method)
{
    size_t n = standin_count(api, NULL);
    for (size_t i = 0; i < n; i++) {
        struct standin_request r;
        assert_true(standin_get(api, NULL, i, &r));
        bool match = strcmp(r.path, path) == 0 && strcmp(r.method, method) == 0;
        standin_request_free(&r);
        if (match)
            return i;
    }
    return (size_t)-1;
}

/* The password of a Basic Authorization header, decoded with OpenSSL. */
static void basic_password(const char *header, char *out, size_t len)
{
    assert_non_null(header);
    assert_int_equal(strncmp(header, "Basic ", 6), 0);
    const char *b64 = header + 6;
    unsigned char dec[256];
    int n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(n > 0);
    size_t blen = strlen(b64);
    n -= (b64[blen - 1] == '=') + (b64[blen - 2] == '=');
    dec[n] = '\0';
    const char *colon = strchr((const char *)dec, ':');
    assert_non_null(colon);
    assert_true(colon > (const char *)dec); /* some user name */
    snprintf(out, len, "%s", colon + 1);
}

static struct json_object *request_body(const char *path, size_t i)
{
    struct standin_request r;
    assert_true(standin_get(api, path, i, &r));
    struct json_object *body = json_tokener_parse(r.body);
    standin_request_free(&r);
    assert_non_null(body);
    return body;
}

/* --- upsert_member ------------------------------------------------------------------------ */

static void test_upsert_member_hash_auth_merge_and_tags(void **state)
{
    (void)state;
    char hash[33], path[128], tags_path[160];
    mailchimp_subscriber_hash_ref("Ann.Smith@Example.com", hash);
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    snprintf(tags_path, sizeof(tags_path), "%s/tags", path);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_ann\", \"list\": \"L1\", \"email\": \" "
                        "Ann.Smith@Example.com \", \"first\": \"Ann\", \"tags\": \"vip "
                        "newsletter\"}");
    assert_true(wait_runs("member", "succeeded", 1));
    assert_int_equal(standin_count(api, path), 1);
    struct standin_request put;
    assert_true(standin_get(api, path, 0, &put));
    assert_string_equal(put.method, "PUT");
    /* HTTP Basic, any user, the key as password */
    char password[128];
    basic_password(standin_header(&put, "Authorization"), password, sizeof(password));
    assert_string_equal(password, KEY);
    assert_non_null(strstr(standin_header(&put, "Accept"), "application/json"));
    assert_non_null(strstr(standin_header(&put, "Content-Type"), "application/json"));
    standin_request_free(&put);
    struct json_object *body = request_body(path, 0);
    assert_string_equal(scenario_json_get(body, "email_address"), "Ann.Smith@Example.com");
    assert_string_equal(scenario_json_get(body, "status_if_new"), "subscribed");
    assert_string_equal(scenario_json_get(body, "merge_fields.FNAME"), "Ann");
    json_object_put(body);
    /* the tags call follows the PUT */
    assert_int_equal(standin_count(api, tags_path), 1);
    assert_true(request_index(path, "PUT") < request_index(tags_path, "POST"));
    body = request_body(tags_path, 0);
    assert_string_equal(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
                        "{\"tags\":[{\"name\":\"vip\",\"status\":\"active\"},{\"name\":"
                        "\"newsletter\",\"status\":\"active\"}]}");
    json_object_put(body);
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "vip"));
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "newsletter"));
    char status[32];
    assert_true(mailchimp_standin_member_status(mc, "L1", hash, status, sizeof(status)));
    assert_string_equal(status, "subscribed");
    /* the outputs fed the next step */
    assert_true(standin_wait(api, "/echo", 1, 5000));
    body = request_body("/echo", standin_count(api, "/echo") - 1);
    assert_string_equal(scenario_json_get(body, "hash"), hash);
    assert_string_equal(scenario_json_get(body, "id"), hash);
    assert_string_equal(scenario_json_get(body, "status"), "subscribed");
    assert_string_equal(scenario_json_get(body, "fname"), "Ann");
    json_object_put(body);
}

static void test_429_without_body_is_retried(void **state)
{
    (void)state;
    char hash[33], path[128];
    mailchimp_subscriber_hash_ref("busy@example.com", hash);
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    struct standin_reply busy = {429, "text/html", "", NULL, 0};
    mailchimp_standin_inject(mc, "PUT", path, &busy, 1);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_busy\", \"list\": \"L1\", \"email\": "
                        "\"busy@example.com\", \"first\": \"B\", \"tags\": \"\"}");
    assert_true(wait_runs("member", "succeeded", 2));
    /* one 429, then the retry went through once */
    assert_int_equal(standin_count(api, path), 2);
    assert_int_equal(sbp_sql_int(&proc,
                                 "SELECT attempts FROM runs WHERE workflow = 'member' AND event = "
                                 "(SELECT id FROM events WHERE event_id = 'evt_busy')"),
                     2);
    char status[32];
    assert_true(mailchimp_standin_member_status(mc, "L1", hash, status, sizeof(status)));
    assert_string_equal(status, "subscribed");
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM attempts WHERE error LIKE '%HTTP "
                                        "429%'"),
                     1);
}

static void test_403_without_body_is_retried(void **state)
{
    (void)state;
    char hash[33], path[128], tags_path[160];
    mailchimp_subscriber_hash_ref("throttled@example.com", hash);
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    snprintf(tags_path, sizeof(tags_path), "%s/tags", path);
    struct standin_reply throttled = {403, "text/html", "", NULL, 0};
    mailchimp_standin_inject(mc, "POST", tags_path, &throttled, 1);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_throttled\", \"list\": \"L1\", \"email\": "
                        "\"throttled@example.com\", \"first\": \"T\", \"tags\": \"x\"}");
    assert_true(wait_runs("member", "succeeded", 3));
    /* the step is retried whole: the PUT is an idempotent upsert */
    assert_int_equal(standin_count(api, path), 2);
    assert_int_equal(standin_count(api, tags_path), 2);
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "x"));
}

/* A 403 with a problem document is a real refusal: not retried. */
static void test_403_with_problem_fails(void **state)
{
    (void)state;
    char hash[33], path[128];
    mailchimp_subscriber_hash_ref("forbidden@example.com", hash);
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    struct standin_reply forbidden = {
        403, "application/problem+json",
        "{\"type\":\"https://mailchimp.com/developer/marketing/docs/errors/\",\"title\":"
        "\"Forbidden\",\"status\":403,\"detail\":\"forbidden@example.com was permanently "
        "deleted and cannot be re-imported.\",\"instance\":\"x\"}",
        NULL, 0};
    mailchimp_standin_inject(mc, "PUT", path, &forbidden, 1);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_forbidden\", \"list\": \"L1\", \"email\": "
                        "\"forbidden@example.com\", \"first\": \"F\", \"tags\": \"\"}");
    assert_true(wait_runs("member", "dead", 1));
    assert_int_equal(standin_count(api, path), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE status = 'dead' AND "
                                        "error LIKE '%HTTP 403 Forbidden: forbidden@example.com "
                                        "was permanently deleted%'"),
                     1);
}

static void test_400_problem_is_dead_with_title_and_detail(void **state)
{
    (void)state;
    char hash[33], path[128];
    mailchimp_subscriber_hash_ref("not-an-email", hash);
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_bad\", \"list\": \"L1\", \"email\": \"not-an-email\", "
                        "\"first\": \"X\", \"tags\": \"\"}");
    assert_true(wait_runs("member", "dead", 2));
    /* permanent: one attempt */
    assert_int_equal(standin_count(api, path), 1);
    int64_t n = sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'member' AND "
                                   "status = 'dead' AND error LIKE '%HTTP 400 Invalid Resource: "
                                   "The resource submitted could not be validated.%' AND error "
                                   "LIKE '%(email_address: Please provide a valid email "
                                   "address.)%'");
    assert_int_equal(n, 1);
    /* visible in `switchboard runs` */
    char *out = NULL, *err = NULL;
    assert_int_equal(sbp_cli(&proc, NULL, &out, &err, "runs", "--status", "dead", NULL), 0);
    assert_non_null(strstr(out, "Invalid Resource"));
    free(out);
    free(err);
}

static void test_unknown_list_and_wrong_key_fail(void **state)
{
    (void)state;
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_nolist\", \"list\": \"nope\", \"email\": "
                        "\"a@example.com\", \"first\": \"A\", \"tags\": \"\"}");
    scenario_post_event(&proc, "wrongkey",
                        "{\"id\": \"evt_wrongkey\", \"email\": \"a@example.com\"}");
    assert_true(wait_runs("member", "dead", 3));
    assert_true(wait_runs("wrongkey", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'member' AND "
                                        "error LIKE '%HTTP 404 Resource Not Found: The requested "
                                        "resource could not be found.%'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'wrongkey' "
                                        "AND error LIKE '%HTTP 401 API Key Invalid%'"),
                     1);
    /* the key is never in an error */
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM attempts WHERE error LIKE "
                                        "'%0123456789abcdef%' OR error LIKE '%ffffffff%'"),
                     0);
    assert_false(sbp_log_contains(&proc, "0123456789abcdef0123456789abcdef"));
}

/* --- tag_member and request -------------------------------------------------------------- */

static void test_tag_member_and_request(void **state)
{
    (void)state;
    char hash[33];
    mailchimp_subscriber_hash_ref("tagged@example.com", hash);
    scenario_post_event(&proc, "member",
                        "{\"id\": \"evt_tagged\", \"list\": \"L1\", \"email\": "
                        "\"tagged@example.com\", \"first\": \"T\", \"tags\": \"trial old\"}");
    assert_true(wait_runs("member", "succeeded", 4));
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "trial"));
    scenario_post_event(&proc, "tags",
                        "{\"id\": \"evt_tag1\", \"email\": \"TAGGED@example.com\", \"add\": "
                        "\"customer, gold\", \"remove\": \"trial\"}");
    assert_true(wait_runs("tags", "succeeded", 1));
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "customer"));
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "gold"));
    assert_true(mailchimp_standin_member_has_tag(mc, "L1", hash, "old"));
    assert_false(mailchimp_standin_member_has_tag(mc, "L1", hash, "trial"));
    /* tagging someone who is not on the list: 404, dead */
    scenario_post_event(&proc, "tags",
                        "{\"id\": \"evt_tag2\", \"email\": \"stranger@example.com\", \"add\": "
                        "\"x\", \"remove\": \"\"}");
    assert_true(wait_runs("tags", "dead", 1));

    /* any endpoint: read the member back */
    char *ev = testkit_fmt("{\"id\": \"evt_lookup\", \"list\": \"L1\", \"hash\": \"%s\"}", hash);
    scenario_post_event(&proc, "lookup", ev);
    free(ev);
    assert_true(wait_runs("lookup", "succeeded", 1));
    char path[128];
    snprintf(path, sizeof(path), "/3.0/lists/L1/members/%s", hash);
    assert_int_equal(request_index(path, "GET") != (size_t)-1, 1);
    struct json_object *body = request_body("/echo", standin_count(api, "/echo") - 1);
    assert_string_equal(scenario_json_get(body, "lookup"), "tagged@example.com");
    assert_string_equal(scenario_json_get(body, "status"), "200");
    json_object_put(body);
}

static void test_fire_dry_run_sends_nothing(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json",
                                    "{\"id\": \"evt_dry\", \"list\": \"L1\", \"email\": "
                                    "\"dry@example.com\", \"first\": \"D\", \"tags\": \"a b\"}",
                                    evfile, sizeof(evfile)),
                     0);
    char *out = NULL, *err = NULL;
    size_t before = standin_count(api, NULL);
    int rc =
        sbp_cli(&proc, env, &out, &err, "fire", "member", "--event", evfile, "--dry-run", NULL);
    if (rc != 0)
        fail_msg("fire: %d\n%s%s", rc, out, err);
    char hash[33], line[200];
    mailchimp_subscriber_hash_ref("dry@example.com", hash);
    snprintf(line, sizeof(line), "PUT %s/3.0/lists/L1/members/%s", standin_url(api), hash);
    assert_non_null(strstr(out, line));
    snprintf(line, sizeof(line), "POST %s/3.0/lists/L1/members/%s/tags", standin_url(api), hash);
    assert_non_null(strstr(out, line));
    assert_non_null(strstr(out, "Authorization: Basic ****"));
    /* the dry output stands in for the member, so the next step renders */
    snprintf(line, sizeof(line),
             "\"hash\": \"%s\", \"id\": \"%s\", \"status\": "
             "\"subscribed\", \"fname\": \"D\"",
             hash, hash);
    assert_non_null(strstr(out, line));
    assert_null(strstr(out, KEY));
    assert_null(strstr(err, KEY));
    assert_int_equal(standin_count(api, NULL), before);
    free(out);
    free(err);
}

/* --- the webhook ------------------------------------------------------------------------ */

static const char sample_encoded[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D="
    "a6b5da1054&data%5Bemail%5D=api%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%"
    "5BEMAIL%5D=api%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%"
    "5BLNAME%5D=API&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2&data%5Bip_opt%5D=10.20.10."
    "30&data%5Bip_signup%5D=10.20.10.30";
static const char sample_literal[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data[id]=8a25ff1d98&data[list_id]="
    "a6b5da1054&data[email]=api%40mailchimp.com&data[email_type]=html&data[merges][EMAIL]=api%"
    "40mailchimp.com&data[merges][FNAME]=Mailchimp&data[merges][LNAME]=API&data[merges]["
    "INTERESTS]=Group1%2CGroup2&data[ip_opt]=10.20.10.30&data[ip_signup]=10.20.10.30";

static long hook_request(const char *method, const char *query, const char *body, char *answer,
                         size_t len)
{
    char hook[300];
    snprintf(hook, sizeof(hook), "mc%s", query);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_reply r;
    long status = sbp_hook_request(&proc, method, hook, body ? h : NULL, body, &r);
    if (answer)
        snprintf(answer, len, "%s", r.body);
    http_reply_free(&r);
    return status;
}

static void test_webhook_pings_secret_and_dedupe(void **state)
{
    (void)state;
    char answer[512];
    /* set-up checks: 200, no secret, no event, no run */
    assert_int_equal(hook_request("GET", "", NULL, NULL, 0), 200);
    assert_int_equal(hook_request("HEAD", "", NULL, NULL, 0), 200);
    assert_int_equal(hook_request("POST", "", "", NULL, 0), 200);
    assert_int_equal(hook_request("POST", "?secret=" HOOK_SECRET, "", NULL, 0), 200);
    /* deliveries need the secret */
    assert_int_equal(hook_request("POST", "", sample_encoded, answer, sizeof(answer)), 401);
    assert_int_equal(hook_request("POST", "?secret=wrong", sample_encoded, NULL, 0), 401);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE "
                                        "'mailchimp.webhook%'"),
                     0);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'hook'"), 0);
    /* a real delivery */
    assert_int_equal(
        hook_request("POST", "?secret=" HOOK_SECRET, sample_encoded, answer, sizeof(answer)), 200);
    assert_non_null(strstr(answer, "accepted"));
    assert_true(wait_runs("hook", "succeeded", 1));
    struct json_object *body = request_body("/seen", 0);
    assert_string_equal(scenario_json_get(body, "type"), "subscribe");
    assert_string_equal(scenario_json_get(body, "id"), "subscribe:2009-03-26 21:35:57:8a25ff1d98");
    assert_string_equal(scenario_json_get(body, "fname"), "Mailchimp");
    assert_string_equal(scenario_json_get(body, "email"), "api@mailchimp.com");
    json_object_put(body);
    /* Mailchimp's retry of the same delivery (literal brackets this time) */
    assert_int_equal(
        hook_request("POST", "?secret=" HOOK_SECRET, sample_literal, answer, sizeof(answer)), 200);
    assert_non_null(strstr(answer, "duplicate"));
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'hook'"), 1);
    assert_int_equal(standin_count(api, "/seen"), 1);
    /* the secret is not kept in the stored envelope (trigger.query) */
    assert_int_equal(
        sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE envelope LIKE '%" HOOK_SECRET "%'"),
        0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsert_member_hash_auth_merge_and_tags),
        cmocka_unit_test(test_429_without_body_is_retried),
        cmocka_unit_test(test_403_without_body_is_retried),
        cmocka_unit_test(test_403_with_problem_fails),
        cmocka_unit_test(test_400_problem_is_dead_with_title_and_detail),
        cmocka_unit_test(test_unknown_list_and_wrong_key_fail),
        cmocka_unit_test(test_tag_member_and_request),
        cmocka_unit_test(test_fire_dry_run_sends_nothing),
        cmocka_unit_test(test_webhook_pings_secret_and_dedupe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
