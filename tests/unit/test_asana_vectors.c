/* The asana.webhook trigger (plugins/asana) driven through the core's host
 * table as the engine drives it (tests/unit/harness, whose kv stands for
 * the store). Vectors are those of connectors.md section 9.1, recomputed
 * here with OpenSSL, each with a tampered twin. Also pinned: the
 * X-Hook-Secret handshake echoed in a header and kept in the kv; who may
 * replace a stored secret (only a registration window, or nobody before);
 * the secret surviving a restart and followed when another node changed
 * it; the heartbeat; one event per element with the documented composite
 * id; a failing store answered 503. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "strbuf.h"
#include "trigger_harness.h"

#define SECRET "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"
#define BODY                                                                                       \
    "{\"events\":[{\"user\":{\"gid\":\"1200000000000001\",\"resource_type\":\"user\"},"            \
    "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"action\":\"added\",\"resource\":{\"gid\":"      \
    "\"1204\",\"resource_type\":\"task\"},\"parent\":{\"gid\":\"1201234567890123\","               \
    "\"resource_type\":\"project\"}}]}"
#define BODY_1205                                                                                  \
    "{\"events\":[{\"user\":{\"gid\":\"1200000000000001\",\"resource_type\":\"user\"},"            \
    "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"action\":\"added\",\"resource\":{\"gid\":"      \
    "\"1205\",\"resource_type\":\"task\"},\"parent\":{\"gid\":\"1201234567890123\","               \
    "\"resource_type\":\"project\"}}]}"
#define SIG "00e63765835324025c1d0a107ad3e350553ca43c1c64845763300e883ca05fc0"
#define SIG_1205 "b563014cd58202e8abb1c48d26e179a8ccdf10629b3685a34258f6855b37ebdb"
#define HEARTBEAT "{\"events\":[]}"
#define SIG_HEARTBEAT "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853"
#define SCOPE "/hooks/t"

static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "asana",
    .trigger = "asana.webhook",
    .secret_env = "SB_TEST_ASANA_UNUSED",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

/* Each test starts with an empty store. */
static int fresh_store(void **state)
{
    (void)state;
    harness_kv_clear();
    return 0;
}

static void delivery(struct req *r, const char *body, const char *sig)
{
    req_init(r, "application/json; charset=UTF-8", body);
    if (sig)
        req_header(r, "X-Hook-Signature", sig);
}

/* The handshake: accepted with the secret echoed in X-Hook-Secret. */
static void expect_handshake(struct hook *h, const char *secret)
{
    struct req r;
    req_init(&r, NULL, "");
    req_header(&r, "X-Hook-Secret", secret);
    struct receive_result rx;
    enum sb_status st = hook_receive(h, &r, &rx);
    if (st != SB_OK || rx.rejected)
        fail_msg("handshake refused: %d %s", rx.status, rx.body ? rx.body : "");
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.n_headers, 1);
    assert_string_equal(rx.headers[0].name, "X-Hook-Secret");
    assert_string_equal(rx.headers[0].value, secret);
    receive_result_release(&rx);
}

static void expect_handshake_refused(struct hook *h, const char *secret, int status)
{
    struct req r;
    req_init(&r, NULL, "");
    req_header(&r, "X-Hook-Secret", secret);
    expect_rejected(h, &r, status, NULL);
}

static void test_vectors(void **state)
{
    (void)state;
    char check[80];
    sig_hex(EVP_sha256(), SECRET, BODY, NULL, "", check, sizeof(check));
    assert_string_equal(check, SIG);
    sig_hex(EVP_sha256(), SECRET, BODY_1205, NULL, "", check, sizeof(check));
    assert_string_equal(check, SIG_1205);
    sig_hex(EVP_sha256(), SECRET, HEARTBEAT, NULL, "", check, sizeof(check));
    assert_string_equal(check, SIG_HEARTBEAT);

    struct hook h;
    hook_open(&h, NULL, "events = task.added story.added");
    struct req r;
    /* before any handshake nothing verifies */
    delivery(&r, BODY, SIG);
    expect_rejected(&h, &r, 401, "no handshake");
    expect_handshake(&h, SECRET);
    assert_string_equal(harness_kv_value(SCOPE, "secret"), SECRET);

    delivery(&r, BODY, SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "task.added");
    /* resource.gid | action | created_at | parent.gid | change.field */
    assert_string_equal(rx.events[0].id, "1204|added|2024-01-01T00:00:00.000Z|1201234567890123|");
    struct json_object *v;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "created_at", &v));
    assert_string_equal(json_object_get_string(v), "2024-01-01T00:00:00.000Z");
    receive_result_release(&rx);
    assert_true(workflow_wants_type(h.wf, "task.added"));
    assert_false(workflow_wants_type(h.wf, "task.changed"));

    /* tampered twin: 1205 under 1204's signature, then with its own */
    delivery(&r, BODY_1205, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    delivery(&r, BODY_1205, SIG_1205);
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, "1205|added|2024-01-01T00:00:00.000Z|1201234567890123|");
    receive_result_release(&rx);
    /* the heartbeat: 200, nothing stored */
    delivery(&r, HEARTBEAT, SIG_HEARTBEAT);
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, 200);
    receive_result_release(&rx);
    /* and a heartbeat signed with another secret is no heartbeat */
    delivery(&r, HEARTBEAT, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    delivery(&r, BODY, NULL);
    expect_rejected(&h, &r, 401, "missing X-Hook-Signature");
    delivery(&r, BODY, "not hex");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_secret_replacement_rules(void **state)
{
    (void)state;
    clock_ms = 1700000000000LL;
    struct hook h;
    hook_open(&h, NULL, NULL);
    expect_handshake(&h, SECRET);
    /* the same secret again (Asana retrying): fine */
    expect_handshake(&h, SECRET);
    /* another secret, nobody registering: refused, the old one kept */
    const char *other = "0000000000000000000000000000000000000000000000000000000000000001";
    expect_handshake_refused(&h, other, 409);
    assert_string_equal(harness_kv_value(SCOPE, "secret"), SECRET);
    struct req r;
    delivery(&r, BODY, SIG);
    expect_accepted(&h, &r);
    /* a window that has closed does not count */
    harness_kv_set(SCOPE, "registering_until", "1699999999999");
    expect_handshake_refused(&h, other, 409);
    /* inside `switchboard hooks register`'s window: replaced, window closed */
    harness_kv_set(SCOPE, "registering_until", "1700000060000");
    expect_handshake(&h, other);
    assert_string_equal(harness_kv_value(SCOPE, "secret"), other);
    assert_string_equal(harness_kv_value(SCOPE, "registering_until"), "0");
    /* the old secret no longer verifies, the new one does */
    expect_rejected(&h, &r, 401, "invalid signature");
    char sig[80];
    sig_hex(EVP_sha256(), other, BODY, NULL, "", sig, sizeof(sig));
    delivery(&r, BODY, sig);
    expect_accepted(&h, &r);
    /* one handshake per window */
    expect_handshake_refused(&h, SECRET, 409);
    /* malformed secrets */
    expect_handshake_refused(&h, "", 400);
    expect_handshake_refused(&h, "has space", 400);
    hook_close(&h);
}

static void test_secret_survives_restart_and_follows_store(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, NULL);
    expect_handshake(&h, SECRET);
    hook_close(&h);
    /* a restart: new state, the secret read from the store */
    hook_open(&h, NULL, NULL);
    struct req r;
    delivery(&r, BODY, SIG);
    expect_accepted(&h, &r);
    /* another engine node took a registration's handshake: this one follows */
    const char *other = "1111111111111111111111111111111111111111111111111111111111111111";
    harness_kv_set(SCOPE, "secret", other);
    char sig[80];
    sig_hex(EVP_sha256(), other, BODY, NULL, "", sig, sizeof(sig));
    delivery(&r, BODY, sig);
    expect_accepted(&h, &r);
    delivery(&r, BODY, SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);

    /* a store that cannot be read: 503, so Asana tries again */
    hook_open(&h, NULL, NULL);
    harness_kv_break(true);
    delivery(&r, BODY, SIG);
    expect_rejected(&h, &r, 503, "store");
    expect_handshake_refused(&h, SECRET, 503);
    harness_kv_break(false);
    hook_close(&h);
}

static void test_bodies(void **state)
{
    (void)state;
    harness_kv_set(SCOPE, "secret", SECRET);
    struct hook h;
    hook_open(&h, NULL, NULL);
    struct req r;
    char sig[80];
    static const char *const bad[] = {"[]", "{\"events\":{}}", "{\"data\":[]}", "{broken",
                                      "{\"events\":[1]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sig_hex(EVP_sha256(), SECRET, bad[i], NULL, "", sig, sizeof(sig));
        delivery(&r, bad[i], sig);
        expect_rejected(&h, &r, 400, NULL);
    }
    /* a change event: its field is part of the id, its type from the resource */
    const char *changed =
        "{\"events\":[{\"action\":\"changed\",\"created_at\":\"2024-01-02T10:00:00.000Z\","
        "\"resource\":{\"gid\":\"1204\",\"resource_type\":\"task\"},\"change\":{\"field\":"
        "\"due_on\",\"action\":\"changed\"}},{\"action\":\"added\",\"created_at\":"
        "\"2024-01-02T10:00:01.000Z\",\"resource\":{\"gid\":\"1300\",\"resource_type\":"
        "\"story\",\"resource_subtype\":\"comment_added\"},\"parent\":{\"gid\":\"1204\","
        "\"resource_type\":\"task\"}}]}";
    sig_hex(EVP_sha256(), SECRET, changed, NULL, "", sig, sizeof(sig));
    delivery(&r, changed, sig);
    struct receive_result rx;
    assert_int_equal(hook_receive(&h, &r, &rx), SB_OK);
    assert_int_equal(rx.n_events, 2);
    assert_string_equal(rx.events[0].type, "task.changed");
    assert_string_equal(rx.events[0].id, "1204|changed|2024-01-02T10:00:00.000Z||due_on");
    assert_string_equal(rx.events[1].type, "story.added");
    assert_string_equal(rx.events[1].id, "1300|added|2024-01-02T10:00:01.000Z|1204|");
    receive_result_release(&rx);
    /* more than 100 events: refused whole */
    struct strbuf big = STRBUF_INIT;
    strbuf_addstr(&big, "{\"events\":[");
    for (int i = 0; i < 101; i++)
        strbuf_addf(&big, "%s{\"action\":\"added\"}", i ? "," : "");
    strbuf_addstr(&big, "]}");
    sig_hex(EVP_sha256(), SECRET, strbuf_str(&big), NULL, "", sig, sizeof(sig));
    delivery(&r, strbuf_str(&big), sig);
    expect_rejected(&h, &r, 413, "more than 100");
    strbuf_release(&big);
    hook_close(&h);
}

static void test_sign_callback(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, NULL);
    assert_non_null(h.t->desc.sign);
    struct sb_call c;
    call_init(&c, CALL_VALIDATE, "asana.webhook");
    c.plugin = h.t->plugin;
    struct sb_sign_request sreq = {sizeof(sreq), (const unsigned char *)BODY, strlen(BODY), SECRET,
                                   1700000000};
    assert_int_equal(h.t->desc.sign(&core_host, &c, &sreq), SB_OK);
    struct json_object *v;
    assert_true(json_object_object_get_ex(c.output, "X-Hook-Signature", &v));
    assert_string_equal(json_object_get_string(v), SIG);
    call_release(&c);
    /* the registration callbacks are declared for switchboard hooks */
    assert_non_null(h.t->desc.register_hook);
    assert_non_null(h.t->desc.unregister_hook);
    assert_non_null(h.t->desc.list_hooks);
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    struct hook h;
    expect_clean_load(&h, NULL, NULL, "events = task.* story.added\nresource = 1201234567890123",
                      NULL);
    hook_close(&h);
    expect_load_error(NULL, NULL, "token = literal-token", NULL, "token", "reference");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_vectors, fresh_store),
        cmocka_unit_test_setup(test_secret_replacement_rules, fresh_store),
        cmocka_unit_test_setup(test_secret_survives_restart_and_follows_store, fresh_store),
        cmocka_unit_test_setup(test_bodies, fresh_store),
        cmocka_unit_test_setup(test_sign_callback, fresh_store),
        cmocka_unit_test_setup(test_config, fresh_store),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
