/* The host helpers added in SDK 1.1 (plugin.h): hex_decode, hmac_verify,
 * json_path, public_url and the per-plugin token cache, each through the
 * host table as plugins call them, with the providers' own vectors where
 * there are some (connectors.md). */
#include <pthread.h>
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
#include "tokens.h"
#include "workflow.h"

static const struct sb_host *sb = &core_host;

/* --- hex_decode ------------------------------------------------------------- */

static void test_hex_decode(void **state)
{
    (void)state;
    unsigned char out[8];
    assert_int_equal(sb->hex_decode("00ff10AbCd", 10, out, sizeof(out)), 5);
    static const unsigned char want[] = {0x00, 0xff, 0x10, 0xab, 0xcd};
    assert_memory_equal(out, want, 5);
    assert_int_equal(sb->hex_decode("", 0, out, sizeof(out)), 0);
    /* odd length, a non-hex digit, a sign strtol would take, too small */
    assert_int_equal(sb->hex_decode("abc", 3, out, sizeof(out)), -1);
    assert_int_equal(sb->hex_decode("0g", 2, out, sizeof(out)), -1);
    assert_int_equal(sb->hex_decode("+1", 2, out, sizeof(out)), -1);
    assert_int_equal(sb->hex_decode(" 1", 2, out, sizeof(out)), -1);
    assert_int_equal(sb->hex_decode("00112233445566778899", 20, out, sizeof(out)), -1);
    /* only `len` bytes are read */
    assert_int_equal(sb->hex_decode("01zz", 2, out, sizeof(out)), 1);
    assert_int_equal(out[0], 1);
}

/* --- hmac_verify ------------------------------------------------------------ */

/* stripe-node test/crypto/helpers.ts: HMAC-SHA256, secret test_secret */
#define STRIPE_BODY "{\"obj1\":\"hello\",\"obj2\":\"world\"}"
#define STRIPE_HEX "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363"

static void test_hmac_verify_rotated_keys(void **state)
{
    (void)state;
    unsigned char sig[32];
    assert_int_equal(sb->hex_decode(STRIPE_HEX, 64, sig, sizeof(sig)), 32);
    struct sb_bytes body = {STRIPE_BODY, strlen(STRIPE_BODY)};
    struct sb_bytes right = {"test_secret", 11}, wrong = {"old_secret", 10};
    struct sb_bytes both[] = {wrong, right}, reversed[] = {right, wrong};
    assert_true(sb->hmac_verify(SB_HASH_SHA256, both, 2, &body, 1, sig, 32));
    assert_true(sb->hmac_verify(SB_HASH_SHA256, reversed, 2, &body, 1, sig, 32));
    assert_false(sb->hmac_verify(SB_HASH_SHA256, &wrong, 1, &body, 1, sig, 32));
    assert_false(sb->hmac_verify(SB_HASH_SHA256, both, 0, &body, 1, sig, 32));
    /* a prefix of the right MAC, another algorithm, a changed byte */
    assert_false(sb->hmac_verify(SB_HASH_SHA256, both, 2, &body, 1, sig, 31));
    assert_false(sb->hmac_verify(SB_HASH_SHA512, both, 2, &body, 1, sig, 32));
    sig[31] ^= 1;
    assert_false(sb->hmac_verify(SB_HASH_SHA256, both, 2, &body, 1, sig, 32));
}

/* connectors.md 4.2: HMAC-SHA1 over body + callback URL, in two parts */
static void test_hmac_verify_parts(void **state)
{
    (void)state;
    unsigned char sig[32];
    const char *b64 = "FwPAcuGe9EP/+SbXFWjnEVTa0zw=";
    assert_int_equal(sb->base64_decode(b64, strlen(b64), sig, sizeof(sig)), 20);
    struct sb_bytes parts[] = {{"{\"hello\":\"world\"}", 17}, {"https://example.com/webhooks", 28}};
    struct sb_bytes key = {"secret", 6};
    assert_true(sb->hmac_verify(SB_HASH_SHA1, &key, 1, parts, 2, sig, 20));
    parts[1].len--; /* a different URL */
    assert_false(sb->hmac_verify(SB_HASH_SHA1, &key, 1, parts, 2, sig, 20));
}

/* --- json_path ---------------------------------------------------------------- */

static void test_json_path(void **state)
{
    (void)state;
    struct json_object *doc = json_tokener_parse(
        "{\"data\": {\"items\": [{\"sku\": \"A\"}, {\"sku\": \"B\"}], \"a.b\": 7, \"n\": null,"
        " \"0\": \"zero\", \"with-dash\": true}}");
    assert_non_null(doc);
    struct json_object *v = (struct json_object *)1;
    assert_int_equal(sb->json_path(doc, "data.items[1].sku", &v), 0);
    assert_string_equal(json_object_get_string(v), "B");
    assert_int_equal(sb->json_path(doc, "data.items.0.sku", &v), 0);
    assert_string_equal(json_object_get_string(v), "A");
    assert_int_equal(sb->json_path(doc, "data[\"a.b\"]", &v), 0);
    assert_int_equal(json_object_get_int(v), 7);
    assert_int_equal(sb->json_path(doc, "data.0", &v), 0); /* a key that is a number */
    assert_string_equal(json_object_get_string(v), "zero");
    assert_int_equal(sb->json_path(doc, "data.with-dash", &v), 0);
    assert_true(json_object_get_boolean(v));
    /* JSON null exists; a missing key or index does not */
    assert_int_equal(sb->json_path(doc, "data.n", &v), 0);
    assert_null(v);
    v = (struct json_object *)1;
    assert_int_equal(sb->json_path(doc, "data.nope", &v), -1);
    assert_int_equal(sb->json_path(doc, "data.items[2]", &v), -1);
    assert_int_equal(sb->json_path(doc, "data.items.sku", &v), -1);
    assert_int_equal(sb->json_path(doc, "data.a.b", &v), -1);
    assert_ptr_equal(v, (struct json_object *)1); /* untouched on failure */
    /* NULL and "" are the root */
    assert_int_equal(sb->json_path(doc, "", &v), 0);
    assert_ptr_equal(v, doc);
    assert_int_equal(sb->json_path(doc, NULL, &v), 0);
    assert_ptr_equal(v, doc);
    /* not paths */
    assert_int_equal(sb->json_path(doc, "data..items", &v), -2);
    assert_int_equal(sb->json_path(doc, "data.items[", &v), -2);
    assert_int_equal(sb->json_path(doc, "data items", &v), -2);
    assert_int_equal(sb->json_path(doc, ".data", &v), -2);
    assert_int_equal(sb->json_path(doc, "data | upper", &v), -2);
    /* validate's use: the syntax alone, with no document */
    assert_int_equal(sb->json_path(NULL, "data.items[0]", &v), -1);
    assert_int_equal(sb->json_path(NULL, "data.items[0", &v), -2);
    json_object_put(doc);
    /* a root that is an array */
    struct json_object *arr = json_tokener_parse("[{\"id\": \"x1\"}, {\"id\": \"x2\"}]");
    assert_int_equal(sb->json_path(arr, "[1].id", &v), 0);
    assert_string_equal(json_object_get_string(v), "x2");
    assert_int_equal(sb->json_path(arr, "[2].id", &v), -1);
    json_object_put(arr);
}

/* --- public_url and the kv scope --------------------------------------------- */

struct fake_wf {
    struct loaded_trigger trigger;
    struct workflow wf;
};

static void fake_wf_init(struct fake_wf *f, const char *name, const char *hook)
{
    memset(f, 0, sizeof(*f));
    f->trigger.full_name = (char *)(uintptr_t) "stripe.webhook";
    f->wf.name = (char *)(uintptr_t)name;
    f->wf.hook = (char *)(uintptr_t)hook;
    f->wf.trigger = &f->trigger;
}

static void test_public_url(void **state)
{
    (void)state;
    struct fake_wf f;
    fake_wf_init(&f, "orders", "stripe");
    struct sb_call c;
    call_init(&c, CALL_SETUP, "stripe.webhook");
    c.wf = &f.wf;
    c.table = &f.trigger.table;
    c.params = json_object_new_object();
    /* neither the server's nor the trigger's */
    call_set_public_base(NULL);
    assert_null(sb->public_url(&c));
    /* the server's base, a trailing slash dropped, + /hooks/<path> */
    call_set_public_base("https://hooks.example.com/sb/");
    assert_string_equal(sb->public_url(&c), "https://hooks.example.com/sb/hooks/stripe");
    /* the trigger's own wins */
    json_object_object_add(c.params, "public_url",
                           json_object_new_string("https://proxy.example.com/in/stripe"));
    assert_string_equal(sb->public_url(&c), "https://proxy.example.com/in/stripe");
    json_object_object_del(c.params, "public_url");
    /* not for an action of the same workflow, nor a trigger without a path */
    struct param_table action_table = {0};
    c.table = &action_table;
    assert_null(sb->public_url(&c));
    c.table = &f.trigger.table;
    f.wf.hook = NULL;
    assert_null(sb->public_url(&c));
    call_set_public_base(NULL);
    json_object_put(c.params);
    call_release(&c);
}

static void test_kv_scope(void **state)
{
    (void)state;
    struct fake_wf a, b, poll;
    fake_wf_init(&a, "orders", "stripe");
    fake_wf_init(&b, "refunds", "stripe");
    fake_wf_init(&poll, "catchup", NULL);
    char sa[100], sb_[100], sp[100];
    call_kv_scope(&a.wf, "stripe.webhook", sa, sizeof(sa));
    call_kv_scope(&b.wf, "stripe.webhook", sb_, sizeof(sb_));
    call_kv_scope(&poll.wf, "stripe.events", sp, sizeof(sp));
    /* workflows sharing a hook path share its state, whichever is first */
    assert_string_equal(sa, "/hooks/stripe");
    assert_string_equal(sb_, sa);
    assert_string_equal(sp, "catchup:stripe.events");
}

/* --- the token cache --------------------------------------------------------------- */

struct plugin_fixture {
    struct plugin pl;
    struct sb_call call;
};

static int64_t fixed_now = 1700000000000;

static int64_t now_hook(void *ctx)
{
    (void)ctx;
    return fixed_now;
}

static const struct call_hooks clock_hooks = {.now_ms = now_hook};

static void fixture_open(struct plugin_fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->pl.name = (char *)(uintptr_t) "salesforce";
    f->pl.tokens = token_cache_new();
    call_init(&f->call, CALL_RUN, "salesforce.create_record");
    f->call.plugin = &f->pl;
    f->call.hooks = &clock_hooks;
}

static void fixture_close(struct plugin_fixture *f)
{
    call_release(&f->call);
    token_cache_free(f->pl.tokens);
}

static void test_token_cache(void **state)
{
    (void)state;
    struct plugin_fixture f;
    fixture_open(&f);
    struct sb_call *c = &f.call;
    char *v = (char *)1;
    int64_t exp = -1;
    assert_int_equal(sb->token_get(c, "k", &v, &exp), 0);
    assert_null(v);
    assert_int_equal(exp, 0);
    assert_int_equal(sb->token_set(c, "k", "tok1", fixed_now + 1000), 0);
    assert_int_equal(sb->token_get(c, "k", &v, &exp), 0);
    assert_string_equal(v, "tok1");
    assert_int_equal(exp, fixed_now + 1000);
    sb->free(v);
    /* expiry: gone at expires_at */
    fixed_now += 1000;
    assert_int_equal(sb->token_get(c, "k", &v, NULL), 0);
    assert_null(v);
    /* 0: no expiry */
    assert_int_equal(sb->token_set(c, "k", "tok2", 0), 0);
    fixed_now += 86400000;
    assert_int_equal(sb->token_get(c, "k", &v, &exp), 0);
    assert_string_equal(v, "tok2");
    assert_int_equal(exp, 0);
    sb->free(v);
    /* invalidate only while it holds the stale value */
    sb->token_invalidate(c, "k", "tok1");
    assert_int_equal(sb->token_get(c, "k", &v, NULL), 0);
    assert_string_equal(v, "tok2");
    sb->free(v);
    sb->token_invalidate(c, "k", "tok2");
    assert_int_equal(sb->token_get(c, "k", &v, NULL), 0);
    assert_null(v);
    assert_int_equal(sb->token_set(c, "k", "tok3", 0), 0);
    sb->token_invalidate(c, "k", NULL);
    assert_int_equal(sb->token_get(c, "k", &v, NULL), 0);
    assert_null(v);
    /* a call without a plugin has no cache */
    struct sb_call none;
    call_init(&none, CALL_VALIDATE, "x");
    assert_int_equal(sb->token_set(&none, "k", "v", 0), -1);
    assert_int_equal(sb->token_get(&none, "k", &v, NULL), -1);
    call_release(&none);
    fixture_close(&f);
}

static void test_token_cache_is_per_plugin_and_bounded(void **state)
{
    (void)state;
    struct plugin_fixture a, b;
    fixture_open(&a);
    fixture_open(&b);
    char *v;
    assert_int_equal(sb->token_set(&a.call, "k", "a's", 0), 0);
    assert_int_equal(sb->token_get(&b.call, "k", &v, NULL), 0);
    assert_null(v);
    /* the oldest goes once TOKENS_MAX keys are held */
    for (int i = 0; i < TOKENS_MAX; i++) {
        char key[32];
        snprintf(key, sizeof(key), "key%d", i);
        assert_int_equal(sb->token_set(&b.call, key, "x", 0), 0);
    }
    assert_int_equal(token_cache_count(b.pl.tokens), TOKENS_MAX);
    assert_int_equal(sb->token_set(&b.call, "one more", "y", 0), 0);
    assert_int_equal(token_cache_count(b.pl.tokens), TOKENS_MAX);
    assert_int_equal(sb->token_get(&b.call, "key0", &v, NULL), 0);
    assert_null(v);
    assert_int_equal(sb->token_get(&b.call, "key1", &v, NULL), 0);
    assert_string_equal(v, "x");
    sb->free(v);
    /* values have a size limit */
    char *big = calloc(1, TOKENS_MAX_VALUE + 2);
    memset(big, 'a', TOKENS_MAX_VALUE + 1);
    assert_int_equal(sb->token_set(&b.call, "big", big, 0), -1);
    free(big);
    fixture_close(&a);
    fixture_close(&b);
}

/* Many threads refreshing and invalidating one key (a Salesforce token
 * under load): every read sees a whole value that some thread stored. Run
 * under TSan by `make tsan`. */
struct race {
    struct plugin *pl;
    int id;
    int bad;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    struct sb_call c;
    call_init(&c, CALL_RUN, "salesforce.create_record");
    c.plugin = r->pl;
    c.hooks = &clock_hooks;
    char mine[32];
    snprintf(mine, sizeof(mine), "token-of-thread-%d", r->id);
    for (int i = 0; i < 2000; i++) {
        char *v = NULL;
        if (sb->token_get(&c, "creds", &v, NULL) < 0)
            r->bad++;
        if (!v)
            sb->token_set(&c, "creds", mine, 0);
        else if (strncmp(v, "token-of-thread-", 16) != 0)
            r->bad++;
        else if (i % 7 == 0)
            sb->token_invalidate(&c, "creds", v);
        sb->free(v);
    }
    call_release(&c);
    return NULL;
}

static void test_token_cache_threads(void **state)
{
    (void)state;
    struct plugin pl;
    memset(&pl, 0, sizeof(pl));
    pl.tokens = token_cache_new();
    pthread_t th[4];
    struct race r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){.pl = &pl, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    assert_true(token_cache_count(pl.tokens) <= 1);
    token_cache_free(pl.tokens);
}

/* respond_header: what receive may add to its answer, and what it may not */
static void test_respond_header(void **state)
{
    (void)state;
    struct receive_result rx;
    memset(&rx, 0, sizeof(rx));
    struct sb_call c;
    call_init(&c, CALL_RECEIVE, "asana.webhook");
    c.rx = &rx;
    assert_int_equal(core_host.respond_header(&c, "X-Hook-Secret", "b537207f20cbfa02"), SB_OK);
    assert_int_equal(rx.n_headers, 1);
    assert_string_equal(rx.headers[0].name, "X-Hook-Secret");
    assert_string_equal(rx.headers[0].value, "b537207f20cbfa02");
    /* the core's own headers, and header injection, are refused */
    static const char *const names[] = {
        "Content-Type", "content-length", "Cache-Control", "X-A:b", "X A", "", "X-\r\nEvil"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(core_host.respond_header(&c, names[i], "v"), SB_FAIL);
    assert_int_equal(core_host.respond_header(&c, "X-Ok", "a\r\nSet-Cookie: x=1"), SB_FAIL);
    assert_int_equal(core_host.respond_header(&c, "X-Ok", "tab\tin"), SB_FAIL);
    assert_int_equal(rx.n_headers, 1);
    for (int i = 1; i < RECEIVE_MAX_HEADERS; i++)
        assert_int_equal(core_host.respond_header(&c, "X-More", "1"), SB_OK);
    assert_int_equal(core_host.respond_header(&c, "X-More", "1"), SB_FAIL);
    call_release(&c);
    receive_result_release(&rx);
    /* not from another callback */
    call_init(&c, CALL_RUN, "asana.create_task");
    assert_int_equal(core_host.respond_header(&c, "X-Hook-Secret", "x"), SB_FAIL);
    call_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_decode),
        cmocka_unit_test(test_hmac_verify_rotated_keys),
        cmocka_unit_test(test_hmac_verify_parts),
        cmocka_unit_test(test_json_path),
        cmocka_unit_test(test_public_url),
        cmocka_unit_test(test_kv_scope),
        cmocka_unit_test(test_token_cache),
        cmocka_unit_test(test_token_cache_is_per_plugin_and_bounded),
        cmocka_unit_test(test_token_cache_threads),
        cmocka_unit_test(test_respond_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
