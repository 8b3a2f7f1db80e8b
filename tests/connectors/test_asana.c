/* The asana connector end to end: the real engine runs workflows whose
 * Asana steps call a stand-in of the Asana API (tests/support/
 * asana_checks.c) that checks what Asana checks (the Bearer token, the
 * {"data": ...} body, known projects and fields, at most 15 writes at
 * once) and makes webhooks with Asana's handshake. Covered: create_task ->
 * add_comment fed by the task's gid; a 429 waits for its Retry-After; a
 * refused task is dead after one attempt; a burst on 20 workers never has
 * more than 15 writes in flight; the webhook handshake answered and the
 * secret kept across a restart; signed deliveries run, the heartbeat does
 * not, a second handshake is refused; `switchboard hooks register|list|
 * unregister` makes the webhook once (its handshake may replace a stored
 * secret, nobody else's may), finds it and deletes it; dry runs mask the
 * token. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "asana_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define TOKEN "2/1200000000000001/1209876543210987:0a1b2c3d4e5f60718293a4b5c6d7e8f9"

static struct sb_proc proc;
static struct standin *api;
static struct asana_api *asana;

static const char *const env[] = {"SB_TEST_ASANA_TOKEN=" TOKEN, NULL};

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 30000);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    asana = asana_api_install(api, TOKEN);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(
        &proc, "tickets",
        "[workflow]\nretry_backoff = 200ms\n\n"
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step task]\nuse = asana.create_task\ntoken = ${env:SB_TEST_ASANA_TOKEN}\n"
        "api_base = %s/api/1.0\nworkspace = " ASANA_WORKSPACE "\n"
        "projects = {{ event.project }}\nname = {{ event.subject }}\n"
        "notes = From {{ event.email }}\ndue_on = {{ event.due | default: \"\" }}\n\n"
        "[step note]\nuse = asana.add_comment\ntoken = ${env:SB_TEST_ASANA_TOKEN}\n"
        "api_base = %s/api/1.0/\ntask = {{ steps.task.gid }}\n"
        "text = Opened from ticket {{ trigger.id }}\n",
        base, base);
    sbp_write_workflow(&proc, "inbox",
                       "[trigger]\nuse = asana.webhook\npath = asana-in\n"
                       "events = task.added\n\n"
                       "[step log]\nuse = log.write\n"
                       "message = task {{ event.resource.gid }} added to "
                       "{{ event.parent.gid }}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    asana_api_free(asana);
    return 0;
}

static void post_ticket(const char *id, const char *project, const char *due)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\": \"%s\", \"project\": \"%s\", \"subject\": \"Printer on fire\", "
             "\"email\": \"ann@example.com\", \"due\": \"%s\"}",
             id, project, due);
    scenario_post_event(&proc, "tickets", body);
}

static void test_task_then_comment(void **state)
{
    (void)state;
    standin_clear(api);
    post_ticket("t-1", ASANA_PROJECT, "2025-03-01");
    assert_true(wait_status("tickets", "succeeded", 1));
    assert_int_equal(asana_api_refused(asana), 0);
    assert_int_equal(asana_api_tasks(asana), 1);
    assert_int_equal(asana_api_comments(asana), 1);
    struct standin_request req;
    assert_true(standin_get(api, "/api/1.0/tasks", 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    assert_non_null(strstr(standin_header(&req, "Content-Type"), "application/json"));
    struct json_object *body = json_tokener_parse(req.body), *data, *projects;
    assert_true(json_object_object_get_ex(body, "data", &data));
    assert_string_equal(scenario_json_get(data, "name"), "Printer on fire");
    assert_string_equal(scenario_json_get(data, "notes"), "From ann@example.com");
    assert_string_equal(scenario_json_get(data, "workspace"), ASANA_WORKSPACE);
    assert_string_equal(scenario_json_get(data, "due_on"), "2025-03-01");
    assert_true(json_object_object_get_ex(data, "projects", &projects));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(projects, 0)),
                        ASANA_PROJECT);
    json_object_put(body);
    standin_request_free(&req);
    /* the comment goes to the task the first step made */
    assert_int_equal(standin_count(api, "/api/1.0/tasks/1300000000000001/stories"), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'task' AND "
                                        "output LIKE '%\"permalink_url\":\"https://app.asana.com/"
                                        "0/" ASANA_PROJECT "/1300000000000001\"%'"),
                     1);
    assert_false(sbp_log_contains(&proc, TOKEN));
}

static void test_rate_limit_and_refusal(void **state)
{
    (void)state;
    standin_clear(api);
    asana_api_fail_next(asana, 429,
                        "{\"errors\":[{\"message\":\"You have made too many requests recently. "
                        "Please, be chill.\"}]}",
                        "Retry-After: 2\n");
    post_ticket("t-2", ASANA_PROJECT, "");
    assert_true(wait_status("tickets", "succeeded", 2));
    assert_int_equal(standin_count(api, "/api/1.0/tasks"), 2);
    struct standin_request a, b;
    assert_true(standin_get(api, "/api/1.0/tasks", 0, &a));
    assert_true(standin_get(api, "/api/1.0/tasks", 1, &b));
    printf("retry after Asana's 429 came %lld ms later (Retry-After: 2)\n",
           (long long)(b.at_ms - a.at_ms));
    assert_true(b.at_ms - a.at_ms >= 2000);
    /* an empty due date is left out, not sent as "" */
    assert_null(strstr(b.body, "due_on"));
    standin_request_free(&a);
    standin_request_free(&b);

    /* a project Asana does not know: dead, Asana's words kept */
    post_ticket("t-3", "1209999999999999", "");
    assert_true(wait_status("tickets", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'tickets' AND "
                                        "status = 'dead' AND attempts = 1 AND error LIKE "
                                        "'%HTTP 400 projects: [0]: Not a recognized ID%'"),
                     1);
}

/* A burst on many workers: the declared limit keeps writes at 15. */
static void test_write_concurrency_limit(void **state)
{
    (void)state;
    struct sb_proc wide;
    assert_int_equal(sbp_init(&wide, "[engine]\nworkers = 24\n"), 0);
    sbp_write_workflowf(&wide, "burst",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step task]\nuse = asana.create_task\ntoken = ${env:SB_TEST_ASANA_TOKEN}\n"
                        "api_base = %s/api/1.0\nprojects = " ASANA_PROJECT "\n"
                        "name = Burst {{ event.id }}\n",
                        standin_url(api));
    assert_int_equal(sbp_start(&wide, env), 0);
    size_t refused = asana_api_refused(asana);
    asana_api_write_delay(asana, 1000);
    for (int i = 0; i < 24; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"id\": \"b-%d\"}", i);
        scenario_post_event(&wide, "burst", body);
    }
    assert_true(sbp_wait_runs(&wide, "burst", "succeeded", 24, 60000));
    asana_api_write_delay(asana, 0);
    size_t max = asana_api_max_writes(asana);
    printf("at most %zu Asana writes were in flight at once (24 workers)\n", max);
    assert_true(max <= 15);
    assert_true(max >= 2);
    /* none was refused for concurrency: the engine waited instead */
    assert_int_equal(asana_api_refused(asana), refused);
    sbp_cleanup(&wide);
}

/* POST /webhooks at the stand-in, as `switchboard hooks register` does;
 * the stand-in makes the handshake with the engine. The HTTP status. */
static long create_webhook(void)
{
    char url[300], auth[200], body[400];
    snprintf(url, sizeof(url), "%s/api/1.0/webhooks", standin_url(api));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", TOKEN);
    snprintf(body, sizeof(body),
             "{\"data\": {\"resource\": \"" ASANA_PROJECT "\", \"target\": \"%s/hooks/asana-in\"}}",
             proc.base_url);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    struct http_reply r;
    if (http_do("POST", url, headers, body, strlen(body), 20000, &r) < 0)
        return 0;
    long status = r.status;
    http_reply_free(&r);
    return status;
}

#define TASK_ADDED(GID)                                                                            \
    "{\"events\":[{\"user\":{\"gid\":\"1200000000000001\",\"resource_type\":\"user\"},"            \
    "\"created_at\":\"2025-01-15T10:00:00.000Z\",\"action\":\"added\",\"resource\":{\"gid\":"      \
    "\"" GID "\",\"resource_type\":\"task\"},\"parent\":{\"gid\":\"" ASANA_PROJECT                 \
    "\",\"resource_type\":"                                                                        \
    "\"project\"}},{\"user\":{\"gid\":\"1200000000000001\",\"resource_type\":\"user\"},"           \
    "\"created_at\":\"2025-01-15T10:00:01.000Z\",\"action\":\"changed\",\"resource\":{\"gid\":"    \
    "\"" GID                                                                                       \
    "\",\"resource_type\":\"task\"},\"change\":{\"field\":\"name\",\"action\":\"changed\"}}]}"

static void test_webhook_handshake_and_deliveries(void **state)
{
    (void)state;
    /* a delivery before any handshake: refused */
    const char *h[] = {"Content-Type: application/json", "X-Hook-Signature: 00", NULL};
    assert_int_equal(sbp_hook_request(&proc, "POST", "asana-in", h, "{\"events\":[]}", NULL), 401);
    /* the handshake, made by the stand-in while its POST /webhooks is open */
    assert_int_equal(create_webhook(), 201);
    assert_int_equal(asana_api_webhooks(asana), 1);
    assert_true(sbp_log_contains(&proc, "Asana handshake: stored the webhook secret"));
    char secret[80];
    assert_true(asana_api_last_secret(asana, secret, sizeof(secret)));
    assert_false(sbp_log_contains(&proc, secret));

    /* deliveries: one run per task.added, the change stored without one */
    assert_int_equal(asana_api_deliver(asana, TASK_ADDED("1300000000000077")), 200);
    assert_true(wait_status("inbox", "succeeded", 1));
    assert_true(sbp_log_contains(&proc, "task 1300000000000077 added to " ASANA_PROJECT));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE "
                                        "'asana.webhook:%'"),
                     2);
    /* the same delivery again: the composite id drops it */
    assert_int_equal(asana_api_deliver(asana, TASK_ADDED("1300000000000077")), 200);
    /* the heartbeat: 200, nothing stored */
    assert_int_equal(asana_api_deliver(asana, "{\"events\":[]}"), 200);
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE "
                                        "'asana.webhook:%'"),
                     2);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbox'"), 1);

    /* a second webhook (a new secret) outside a registration: the engine
     * refuses the handshake, so Asana refuses to make it */
    assert_int_equal(create_webhook(), 400);
    assert_int_equal(asana_api_webhooks(asana), 1);

    /* the secret is in the store: a restart still verifies */
    assert_int_equal(sbp_stop(&proc, SIGTERM), 0);
    assert_int_equal(sbp_start(&proc, env), 0);
    assert_int_equal(asana_api_deliver(asana, TASK_ADDED("1300000000000078")), 200);
    assert_true(wait_status("inbox", "succeeded", 2));
}

/* `switchboard hooks ACTION registered`: must exit 0; its stdout (caller
 * frees). */
static char *hooks_ok(const char *action)
{
    char *out = NULL, *err = NULL;
    int rc = sbp_cli(&proc, env, &out, &err, "hooks", action, "registered", NULL);
    if (rc != 0)
        fail_msg("switchboard hooks %s exited %d: %s", action, rc, err);
    free(err);
    return out;
}

/* The webhook id in a hooks line "<verb> <id> <url> ..." into gid. */
static void line_gid(const char *out, const char *verb, char *gid, size_t len)
{
    const char *p = strstr(out, verb);
    assert_non_null(p);
    p += strlen(verb) + 1;
    snprintf(gid, len, "%.*s", (int)strcspn(p, " \n"), p);
}

static void test_hooks_register_list_unregister(void **state)
{
    (void)state;
    /* a workflow that knows what to register: its URL is the engine's */
    sbp_write_workflowf(&proc, "registered",
                        "[trigger]\nuse = asana.webhook\npath = asana-reg\n"
                        "public_url = %s/hooks/asana-reg\ntoken = ${env:SB_TEST_ASANA_TOKEN}\n"
                        "resource = " ASANA_PROJECT "\nworkspace = " ASANA_WORKSPACE "\n"
                        "api_base = %s/api/1.0\nevents = task.added\n\n"
                        "[step log]\nuse = log.write\nmessage = registered task "
                        "{{ event.resource.gid }}\n",
                        proc.base_url, standin_url(api));
    /* the engine reloads it: wait until the path is served */
    const char *h[] = {"Content-Type: application/json", NULL};
    long status = 0;
    for (int i = 0; i < 100 && status != 401; i++) {
        status = sbp_hook_request(&proc, "POST", "asana-reg", h, "{}", NULL);
        if (status != 401)
            testkit_sleep_ms(100);
    }
    assert_int_equal(status, 401);
    size_t hooks_before = asana_api_webhooks(asana);

    char *out = hooks_ok("list");
    assert_non_null(strstr(out, "no webhook at the provider calls"));
    free(out);
    /* register: Asana's handshake reaches the engine while the call is open */
    out = hooks_ok("register");
    char gid[64], url[300];
    snprintf(url, sizeof(url), "%s/hooks/asana-reg", proc.base_url);
    assert_non_null(strstr(out, url));
    assert_non_null(strstr(out, "resource=" ASANA_PROJECT));
    line_gid(out, "registered", gid, sizeof(gid));
    free(out);
    assert_int_equal(asana_api_webhooks(asana), hooks_before + 1);
    assert_int_equal(asana_api_deliver(asana, TASK_ADDED("1300000000000091")), 200);
    assert_true(wait_status("registered", "succeeded", 1));
    assert_true(sbp_log_contains(&proc, "registered task 1300000000000091"));
    /* twice makes one */
    out = hooks_ok("register");
    assert_non_null(strstr(out, "already registered"));
    free(out);
    assert_int_equal(asana_api_webhooks(asana), hooks_before + 1);
    /* someone else's handshake on this path: refused */
    char body[400], api_url[300], auth[200];
    snprintf(api_url, sizeof(api_url), "%s/api/1.0/webhooks", standin_url(api));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", TOKEN);
    snprintf(body, sizeof(body),
             "{\"data\": {\"resource\": \"" ASANA_PROJECT "\", \"target\": \"%s\"}}", url);
    const char *ah[] = {auth, "Content-Type: application/json", NULL};
    struct http_reply r;
    assert_int_equal(http_do("POST", api_url, ah, body, strlen(body), 20000, &r), 0);
    assert_int_equal(r.status, 400);
    http_reply_free(&r);

    /* the webhook vanished at Asana (deleted in its UI): register makes a
     * new one, and its handshake may replace the stored secret */
    char del[400];
    snprintf(del, sizeof(del), "%s/%s", api_url, gid);
    assert_int_equal(http_do("DELETE", del, ah, NULL, 0, 10000, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    out = hooks_ok("register");
    char gid2[64];
    line_gid(out, "registered", gid2, sizeof(gid2));
    assert_string_not_equal(gid, gid2);
    free(out);
    assert_true(sbp_log_contains(&proc, "Asana handshake: replaced the webhook secret"));
    /* deliveries signed with the new secret verify */
    assert_int_equal(asana_api_deliver(asana, TASK_ADDED("1300000000000092")), 200);
    assert_true(wait_status("registered", "succeeded", 2));

    /* list (by workspace) shows it; unregister deletes it */
    out = hooks_ok("list");
    assert_non_null(strstr(out, gid2));
    free(out);
    out = hooks_ok("unregister");
    assert_non_null(strstr(out, "deleted"));
    assert_non_null(strstr(out, gid2));
    free(out);
    assert_int_equal(asana_api_webhooks(asana), hooks_before);
    out = hooks_ok("list");
    assert_non_null(strstr(out, "no webhook at the provider calls"));
    free(out);
    /* the token and the secrets never reach the output or the log */
    char secret[80];
    assert_true(asana_api_last_secret(asana, secret, sizeof(secret)));
    assert_false(sbp_log_contains(&proc, secret));
    assert_false(sbp_log_contains(&proc, TOKEN));
}

static void test_dry_run_masks_token(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json",
                                    "{\"id\": \"dry-1\", \"project\": \"" ASANA_PROJECT
                                    "\", \"subject\": \"Dry\", \"email\": \"d@example.com\"}",
                                    evfile, sizeof(evfile)),
                     0);
    standin_clear(api);
    char *out = NULL, *err = NULL;
    assert_int_equal(
        sbp_cli(&proc, env, &out, &err, "fire", "tickets", "--event", evfile, "--dry-run", NULL),
        0);
    assert_non_null(strstr(out, "/api/1.0/tasks\n"));
    assert_non_null(strstr(out, "/api/1.0/tasks/dry-run/stories"));
    assert_non_null(strstr(out, "Authorization: Bearer ****"));
    assert_null(strstr(out, TOKEN));
    assert_null(strstr(err, TOKEN));
    assert_int_equal(standin_count(api, NULL), 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_then_comment),
        cmocka_unit_test(test_rate_limit_and_refusal),
        cmocka_unit_test(test_write_concurrency_limit),
        cmocka_unit_test(test_webhook_handshake_and_deliveries),
        cmocka_unit_test(test_hooks_register_list_unregister),
        cmocka_unit_test(test_dry_run_masks_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
