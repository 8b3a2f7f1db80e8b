/* End to end: the dispatcher carries out runs against a stand-in API:
 * step outputs feed later steps, retries resume at the failed step,
 * Retry-After is honoured, permanent failures are dead and replayable, the
 * on_failure steps run once, and http.send_webhook is accepted by a
 * Standard Webhooks receiver. */
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
#include <openssl/hmac.h>

#include "scenario.h"
#include "standin.h"
#include "testkit.h"

static struct sb_proc proc;
static struct standin *api;

static const char *const env[] = {"SB_TEST_HOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                  NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    /* step 2 reads step 1's output */
    sbp_write_workflowf(&proc, "chain",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step create]\nuse = http.request\nmethod = POST\nurl = %s/create\n"
                        "body = {\"name\": \"{{ event.name }}\"}\n"
                        "header.Idempotency-Key = {{ run.idempotency_key }}\n\n"
                        "[step notify]\nuse = http.request\nurl = %s/notify\n"
                        "body = {\"card\": \"{{ steps.create.body.id }}\", \"n\": {{ event.n }}}\n"
                        "header.Idempotency-Key = {{ run.idempotency_key }}\n",
                        base, base);
    /* a step that fails for good, with an on_failure step */
    sbp_write_workflowf(
        &proc, "fragile",
        "[workflow]\nretry_backoff = 200ms\n\n"
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step first]\nuse = http.request\nmethod = POST\nurl = %s/first\nbody = {}\n\n"
        "[step second]\nuse = http.request\nmethod = POST\nurl = %s/second\nbody = {}\n\n"
        "[on_failure alert]\nuse = http.request\nmethod = POST\nurl = %s/alert\n"
        "body = {\"step\": \"{{ failure.step }}\", \"error\": \"{{ failure.error }}\"}\n",
        base, base, base);
    /* Retry-After */
    sbp_write_workflowf(
        &proc, "patient",
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/limited\nbody = {}\n",
        base);
    /* Standard Webhooks out */
    sbp_write_workflowf(&proc, "outbound",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step send]\nuse = http.send_webhook\nurl = %s/receiver\n"
                        "secret = ${env:SB_TEST_HOOK_SECRET}\n"
                        "body = {\"type\": \"order.paid\", \"data\": {{ event | json }}}\n",
                        base);
    /* a filter */
    sbp_write_workflowf(&proc, "big",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[filter]\nwhen = {{ event.amount }} >= 5000\n\n"
                        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/big\nbody = {}\n",
                        base);
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    return 0;
}

static void test_outputs_feed_later_steps_and_retries_resume(void **state)
{
    (void)state;
    struct standin_reply created = {200, NULL, "{\"id\": \"card_42\", \"url\": \"https://x/c\"}",
                                    NULL, 0};
    standin_script(api, "POST", "/create", &created, 1);
    struct standin_reply flaky[] = {
        {500, NULL, "{\"error\": \"boom\"}", NULL, 0},
        {500, NULL, "{\"error\": \"boom\"}", NULL, 0},
        {200, NULL, "{\"ok\": true}", NULL, 0},
    };
    standin_script(api, "POST", "/notify", flaky, 3);
    scenario_post_event(&proc, "chain",
                        "{\"id\": \"evt_chain\", \"name\": \"Ann \\\"A\\\"\", \"n\": 7}");
    assert_true(sbp_wait_runs(&proc, "chain", "succeeded", 1, 15000));
    /* step 1 once, step 2 three times (500, 500, 200) */
    assert_int_equal(standin_count(api, "/create"), 1);
    assert_int_equal(standin_count(api, "/notify"), 3);
    struct standin_request req;
    assert_true(standin_get(api, "/create", 0, &req));
    struct json_object *body = json_tokener_parse(req.body);
    assert_non_null(body); /* quotes in the payload kept the JSON valid */
    assert_string_equal(scenario_json_get(body, "name"), "Ann \"A\"");
    json_object_put(body);
    standin_request_free(&req);
    char key0[128] = "";
    for (size_t i = 0; i < 3; i++) {
        assert_true(standin_get(api, "/notify", i, &req));
        body = json_tokener_parse(req.body);
        assert_string_equal(scenario_json_get(body, "card"), "card_42");
        assert_string_equal(scenario_json_get(body, "n"), "7");
        json_object_put(body);
        /* the idempotency key is the same on every attempt */
        const char *key = standin_header(&req, "Idempotency-Key");
        assert_non_null(key);
        if (i == 0)
            snprintf(key0, sizeof(key0), "%s", key);
        else
            assert_string_equal(key, key0);
        standin_request_free(&req);
    }
    assert_int_equal(sbp_sql_int(&proc, "SELECT attempts FROM runs WHERE workflow = 'chain'"), 3);
}

static void test_retry_after_is_honoured(void **state)
{
    (void)state;
    struct standin_reply replies[] = {
        {429, NULL, "{\"error\": \"slow down\"}", "Retry-After: 2\n", 0},
        {200, NULL, "{}", NULL, 0},
    };
    standin_script(api, "POST", "/limited", replies, 2);
    scenario_post_event(&proc, "patient", "{\"id\": \"evt_patient\"}");
    assert_true(sbp_wait_runs(&proc, "patient", "succeeded", 1, 15000));
    struct standin_request a, b;
    assert_true(standin_get(api, "/limited", 0, &a));
    assert_true(standin_get(api, "/limited", 1, &b));
    int64_t gap = b.at_ms - a.at_ms;
    printf("retry after 429 Retry-After: 2 came %lld ms later\n", (long long)gap);
    assert_true(gap >= 2000);
    standin_request_free(&a);
    standin_request_free(&b);
}

static void test_dead_visible_replay_and_on_failure(void **state)
{
    (void)state;
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    struct standin_reply bad = {400, NULL, "{\"error\": \"invalid field\"}", NULL, 0};
    standin_script(api, "POST", "/first", &ok, 1);
    standin_script(api, "POST", "/second", &bad, 1);
    standin_script(api, "POST", "/alert", &ok, 1);
    scenario_post_event(&proc, "fragile", "{\"id\": \"evt_fragile\"}");
    assert_true(sbp_wait_runs(&proc, "fragile", "dead", 1, 15000));
    /* a 400 is permanent: one attempt */
    assert_int_equal(standin_count(api, "/second"), 1);
    assert_true(standin_wait(api, "/alert", 1, 5000));
    struct standin_request req;
    assert_true(standin_get(api, "/alert", 0, &req));
    struct json_object *body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "step"), "second");
    assert_non_null(strstr(scenario_json_get(body, "error"), "400"));
    json_object_put(body);
    standin_request_free(&req);
    /* visible in `switchboard runs --status dead` */
    char *out = NULL, *err = NULL;
    assert_int_equal(sbp_cli(&proc, NULL, &out, &err, "runs", "--status", "dead", NULL), 0);
    assert_non_null(strstr(out, "fragile"));
    assert_non_null(strstr(out, "dead"));
    assert_non_null(strstr(out, "HTTP 400"));
    free(out);
    free(err);
    /* fix the stand-in, replay: step 1 is not repeated */
    standin_script(api, "POST", "/second", &ok, 1);
    int64_t id = sbp_sql_int(&proc, "SELECT id FROM runs WHERE workflow = 'fragile'");
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
    assert_int_equal(sbp_cli(&proc, NULL, &out, &err, "replay", idtext, NULL), 0);
    assert_non_null(strstr(out, "replayed 1 run"));
    free(out);
    free(err);
    assert_true(sbp_wait_runs(&proc, "fragile", "succeeded", 1, 15000));
    assert_int_equal(standin_count(api, "/first"), 1);
    assert_int_equal(standin_count(api, "/second"), 2);
    assert_int_equal(standin_count(api, "/alert"), 1);
}

/* A Standard Webhooks receiver: verifies webhook-signature over
 * id.timestamp.body with the whsec_ key, as the reference libraries do. */
static bool verify_standard(void *arg, const struct standin_request *req,
                            struct standin_reply *reply, char *buf, size_t buflen)
{
    (void)arg;
    static const unsigned char key_b64[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    unsigned char key[64];
    int klen = EVP_DecodeBlock(key, key_b64, (int)strlen((const char *)key_b64));
    const char *id = standin_header(req, "webhook-id");
    const char *ts = standin_header(req, "webhook-timestamp");
    const char *sig = standin_header(req, "webhook-signature");
    if (!id || !ts || !sig || klen != 24) {
        *reply = (struct standin_reply){400, NULL, "{\"error\": \"missing headers\"}", NULL, 0};
        return false;
    }
    char *msg = testkit_fmt("%s.%s.%s", id, ts, req->body ? req->body : "");
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, 24, (const unsigned char *)msg, strlen(msg), mac, &maclen);
    free(msg);
    char expect[64] = "v1,";
    EVP_EncodeBlock((unsigned char *)expect + 3, mac, 32);
    if (strcmp(sig, expect) != 0) {
        snprintf(buf, buflen, "{\"error\": \"bad signature %s\"}", sig);
        *reply = (struct standin_reply){401, NULL, buf, NULL, 0};
        return false;
    }
    long age = labs((long)(testkit_now_ms() / 1000) - strtol(ts, NULL, 10));
    if (age > 300) {
        *reply = (struct standin_reply){401, NULL, "{\"error\": \"stale\"}", NULL, 0};
        return false;
    }
    return true;
}

static void test_send_webhook_verified_by_receiver(void **state)
{
    (void)state;
    standin_check(api, "POST", "/receiver", verify_standard, NULL);
    struct standin_reply replies[] = {
        {503, NULL, "busy", NULL, 0},
        {200, NULL, "{\"received\": true}", NULL, 0},
    };
    standin_script(api, "POST", "/receiver", replies, 2);
    scenario_post_event(&proc, "outbound", "{\"id\": \"evt_out\", \"total\": 12}");
    assert_true(sbp_wait_runs(&proc, "outbound", "succeeded", 1, 15000));
    assert_int_equal(standin_count(api, "/receiver"), 2);
    struct standin_request a, b;
    assert_true(standin_get(api, "/receiver", 0, &a));
    assert_true(standin_get(api, "/receiver", 1, &b));
    /* the webhook-id is stable across retries */
    assert_string_equal(standin_header(&a, "webhook-id"), standin_header(&b, "webhook-id"));
    struct json_object *body = json_tokener_parse(b.body);
    struct json_object *data;
    assert_true(json_object_object_get_ex(body, "data", &data));
    assert_string_equal(scenario_json_get(data, "total"), "12");
    json_object_put(body);
    standin_request_free(&a);
    standin_request_free(&b);
}

static void test_filter_skips_with_reason(void **state)
{
    (void)state;
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "POST", "/big", &ok, 1);
    scenario_post_event(&proc, "big", "{\"id\": \"evt_small\", \"amount\": 4200}");
    scenario_post_event(&proc, "big", "{\"id\": \"evt_large\", \"amount\": 9000}");
    assert_true(sbp_wait_sql(&proc,
                             "SELECT count(*) FROM runs WHERE workflow = 'big' AND "
                             "status IN ('skipped', 'succeeded')",
                             2, 15000));
    assert_int_equal(sbp_count_runs(&proc, "big", "skipped"), 1);
    assert_int_equal(standin_count(api, "/big"), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE reason LIKE "
                                        "'filter: 4200 >= 5000 is false'"),
                     1);
}

static void test_fire_dry_run_masks_secrets(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json", "{\"id\": \"evt_dry\", \"total\": 5}",
                                    evfile, sizeof(evfile)),
                     0);
    char *out = NULL, *err = NULL;
    size_t before = standin_count(api, "/receiver");
    assert_int_equal(
        sbp_cli(&proc, env, &out, &err, "fire", "outbound", "--event", evfile, "--dry-run", NULL),
        0);
    assert_non_null(strstr(out, "POST "));
    assert_non_null(strstr(out, "/receiver"));
    assert_non_null(strstr(out, "webhook-signature: v1,"));
    assert_non_null(strstr(out, "\"total\":5"));
    /* the secret itself is never printed, and nothing was sent */
    assert_null(strstr(out, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_null(strstr(err, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_int_equal(standin_count(api, "/receiver"), before);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_feed_later_steps_and_retries_resume),
        cmocka_unit_test(test_retry_after_is_honoured),
        cmocka_unit_test(test_dead_visible_replay_and_on_failure),
        cmocka_unit_test(test_send_webhook_verified_by_receiver),
        cmocka_unit_test(test_filter_skips_with_reason),
        cmocka_unit_test(test_fire_dry_run_masks_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
