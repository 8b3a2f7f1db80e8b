/* The trello.webhook trigger (plugins/trello) driven through the core's
 * host table as the engine drives it: the workflow is loaded from a file
 * (defaults and validate apply), setup runs as in engine.c, and receive
 * gets a struct sb_request as ingress.c builds it. Vectors are those of
 * connectors.md section 4.2; each has a tampered twin that must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "call.h"
#include "diag.h"
#include "loader.h"
#include "workflow.h"

#define PLUGIN "trello"
#define TRIGGER "trello.webhook"
#define SECRET_ENV "SB_TEST_TRELLO_SECRET"

/* connectors.md 4.2, vector 1 */
#define V1_SECRET "secret"
#define V1_BODY "{\"hello\":\"world\"}"
#define V1_URL "https://example.com/webhooks"
#define V1_SIG "FwPAcuGe9EP/+SbXFWjnEVTa0zw="
/* vector 2: UTF-8 in the body, a query string in the callback URL */
#define V2_SECRET "appsecret"
#define V2_BODY                                                                                    \
    "{\"action\":{\"type\":\"createCard\",\"data\":{\"card\":{\"name\":\"caf\xc3\xa9 "             \
    "\xe2\x80\x93 "                                                                                \
    "test\"}}}}"
#define V2_URL "https://example.com/trello?secret=abc"
#define V2_SIG "aqu9DlUv9BZqmlg3lBWwthbiiQ0="
#define V2_LEGACY_SIG "6KtiCZAzLbeq0YnVW+2Ob4sZkBI="

static struct plugin_set plugins;
static char workdir[64];
static int file_counter;

/* The clock every call sees, in Unix ms. */
static int64_t clock_ms = 1700000000000LL;

static int64_t fixed_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

static const struct call_hooks hooks = {.ctx = &clock_ms, .now_ms = fixed_now};

static int group_setup(void **state)
{
    (void)state;
    struct diag d;
    diag_init(&d);
    plugin_set_init(&plugins);
    int rc = plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/" PLUGIN ".so", &d);
    rc |= plugin_set_load_file(&plugins, SB_PLUGIN_DIR "/log.so", &d);
    if (rc != 0)
        diag_print(&d, stderr);
    diag_release(&d);
    snprintf(workdir, sizeof(workdir), "/tmp/sb" PLUGIN "XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    plugin_set_release(&plugins);
    rmdir(workdir);
    return 0;
}

/* --- a loaded workflow with its trigger set up ------------------------------ */

struct hook {
    struct workflow_set set;
    struct workflow *wf;
    const struct loaded_trigger *t;
    struct json_object *params;
    void *state;
    bool set_up;
};

/* Write a workflow whose [trigger] is `use = TRIGGER` plus `lines` (the
 * secret, when given, is passed through the environment) and load it.
 * Returns the load result; diag gets the problems. */
static int hook_load(struct hook *h, const char *secret, const char *lines, struct diag *d)
{
    memset(h, 0, sizeof(*h));
    workflow_set_init(&h->set);
    char path[128];
    snprintf(path, sizeof(path), "%s/wf%d.ini", workdir, file_counter++);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "[trigger]\nuse = " TRIGGER "\npath = t\n%s\n", lines);
    if (secret) {
        setenv(SECRET_ENV, secret, 1);
        fprintf(fp, "secret = ${env:" SECRET_ENV "}\n");
    }
    fprintf(fp, "\n[step s]\nuse = log.write\nmessage = got one\n");
    fclose(fp);
    int rc = workflow_set_load_file(&h->set, path, &plugins, d);
    unlink(path);
    if (rc == 0) {
        h->wf = h->set.items[0];
        h->t = h->wf->trigger;
        h->params = call_params_static(&h->t->table, &h->wf->trigger_params);
    }
    return rc;
}

/* Run the trigger's setup as engine.c does; the status. */
static enum sb_status hook_setup(struct hook *h, char *err, size_t errlen)
{
    struct sb_call c;
    call_init(&c, CALL_SETUP, h->t->full_name);
    c.wf = h->wf;
    call_set_context(&c);
    c.plugin = h->t->plugin;
    c.table = &h->t->table;
    c.binding = &h->wf->trigger_params;
    c.params = h->params;
    c.state_slot = &h->state;
    enum sb_status st = h->t->desc.setup(&core_host, &c);
    if (err)
        snprintf(err, errlen, "%s", c.error.len ? strbuf_str(&c.error) : "");
    call_release(&c);
    h->set_up = st == SB_OK;
    return st;
}

/* Load and set up, failing the test on any problem. */
static void hook_open(struct hook *h, const char *secret, const char *lines)
{
    struct diag d;
    diag_init(&d);
    if (hook_load(h, secret, lines, &d) != 0) {
        diag_print(&d, stderr);
        diag_release(&d);
        fail_msg("the workflow did not load");
    }
    diag_release(&d);
    char err[512];
    if (hook_setup(h, err, sizeof(err)) != SB_OK)
        fail_msg("setup failed: %s", err);
    assert_non_null(h->state);
}

static void hook_close(struct hook *h)
{
    if (h->set_up && h->t->desc.teardown)
        h->t->desc.teardown(&core_host, h->state);
    json_object_put(h->params);
    workflow_set_release(&h->set);
    memset(h, 0, sizeof(*h));
}

/* Whether loading `lines` fails with an error on parameter `key` whose
 * message contains `what`. */
static bool load_fails_on(const char *secret, const char *lines, const char *key, const char *what)
{
    struct hook h;
    struct diag d;
    diag_init(&d);
    int rc = hook_load(&h, secret, lines, &d);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= d.items[i].key && strcmp(d.items[i].key, key) == 0 &&
                 strstr(d.items[i].message, what) != NULL;
    if (!found)
        diag_print(&d, stderr);
    diag_release(&d);
    if (rc == 0)
        hook_close(&h);
    else
        workflow_set_release(&h.set);
    return rc != 0 && found;
}

/* --- requests ---------------------------------------------------------------- */

struct req {
    const char *method;
    struct sb_header headers[16];
    size_t n_headers;
    const char *body;
    size_t body_len;
    const char *content_type;
};

static void req_init(struct req *r, const char *content_type, const char *body)
{
    memset(r, 0, sizeof(*r));
    r->method = "POST";
    r->content_type = content_type;
    r->body = body;
    r->body_len = strlen(body);
    if (content_type)
        r->headers[r->n_headers++] = (struct sb_header){"Content-Type", content_type};
}

static void req_header(struct req *r, const char *name, const char *value)
{
    assert_true(r->n_headers < 16);
    r->headers[r->n_headers++] = (struct sb_header){name, value};
}

/* Call receive as ingress.c does. */
static enum sb_status receive(struct hook *h, const struct req *r, struct receive_result *rx)
{
    memset(rx, 0, sizeof(*rx));
    struct sb_request req = {
        .size = sizeof(struct sb_request),
        .method = r->method,
        .path = "/hooks/t",
        .hook = "t",
        .query = "",
        .query_params = NULL,
        .n_query_params = 0,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = (const unsigned char *)r->body,
        .body_len = r->body_len,
        .content_type = r->content_type ? r->content_type : "",
        .remote_addr = "127.0.0.1",
        .received_at_ms = clock_ms,
    };
    struct sb_call call;
    call_init(&call, CALL_RECEIVE, h->t->full_name);
    call.wf = h->wf;
    call_set_context(&call);
    call.plugin = h->t->plugin;
    call.table = &h->t->table;
    call.binding = &h->wf->trigger_params;
    call.params = h->params;
    call.state = h->state;
    call.rx = rx;
    call.hooks = &hooks;
    enum sb_status st = h->t->desc.receive(&core_host, &call, &req);
    call_release(&call);
    return st;
}

/* The request is accepted with one event; the caller releases rx. */
static void expect_event(struct hook *h, const struct req *r, struct receive_result *rx)
{
    enum sb_status st = receive(h, r, rx);
    if (st != SB_OK || rx->rejected)
        fail_msg("rejected: %d %s", rx->status, rx->body ? rx->body : "(no reason)");
    assert_int_equal(rx->n_events, 1);
    assert_non_null(rx->events[0].payload);
}

static void expect_accepted(struct hook *h, const struct req *r)
{
    struct receive_result rx;
    expect_event(h, r, &rx);
    receive_result_release(&rx);
}

/* The request is refused with `status` and a reason containing `why`. */
static void expect_rejected(struct hook *h, const struct req *r, int status, const char *why)
{
    struct receive_result rx;
    enum sb_status st = receive(h, r, &rx);
    if (st != SB_FAIL || !rx.rejected)
        fail_msg("accepted (status %d, %zu events), wanted %d %s", (int)st, rx.n_events, status,
                 why);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, status);
    if (why && (!rx.body || !strstr(rx.body, why)))
        fail_msg("reason '%s', wanted '%s'", rx.body ? rx.body : "(null)", why);
    receive_result_release(&rx);
}

/* base64(HMAC(md, key, parts...)) with OpenSSL directly, not the core. */
static void sig_b64(const EVP_MD *md, const char *key, const char *a, const char *b, char *out,
                    size_t out_size)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    unsigned char *msg = malloc(la + lb + 1);
    assert_non_null(msg);
    memcpy(msg, a, la);
    if (b)
        memcpy(msg + la, b, lb);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_non_null(HMAC(md, key, (int)strlen(key), msg, la + lb, mac, &n));
    free(msg);
    assert_true(4 * ((n + 2) / 3) + 1 <= out_size);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
}

/* --- the vectors ------------------------------------------------------------------- */

static void trello_request(struct req *r, const char *body, const char *sig)
{
    req_init(r, "application/json", body);
    if (sig)
        req_header(r, "X-Trello-Webhook", sig);
}

static void test_vector_hello_world(void **state)
{
    (void)state;
    /* the vector is what OpenSSL computes, independently of the core */
    char check[64];
    sig_b64(EVP_sha1(), V1_SECRET, V1_BODY, V1_URL, check, sizeof(check));
    assert_string_equal(check, V1_SIG);

    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    struct req r;
    trello_request(&r, V1_BODY, V1_SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    /* no action in this body: typed "unknown", the core makes the id */
    assert_string_equal(rx.events[0].type, "unknown");
    assert_null(rx.events[0].id);
    /* deduplicated per hook path (the core's default source) */
    assert_null(rx.events[0].source);
    assert_string_equal(rx.events[0].payload_json, V1_BODY);
    receive_result_release(&rx);
    /* tampered twin: the body changed by one byte */
    trello_request(&r, "{\"hello\":\"worle\"}", V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* the signature changed by one character (not in the last one before
     * '=', whose low bits are padding that decoders ignore) */
    trello_request(&r, V1_BODY, "FwPAduGe9EP/+SbXFWjnEVTa0zw=");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);

    /* tampered twin: the callback URL registered differs by one byte */
    hook_open(&h, V1_SECRET, "callback_url = https://example.com/webhookz");
    trello_request(&r, V1_BODY, V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* a trailing slash is another URL too */
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL "/");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the API key or another secret does not verify */
    hook_open(&h, "secreT", "callback_url = " V1_URL);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_vector_utf8_and_query(void **state)
{
    (void)state;
    char check[64];
    sig_b64(EVP_sha1(), V2_SECRET, V2_BODY, V2_URL, check, sizeof(check));
    assert_string_equal(check, V2_SIG);

    struct hook h;
    hook_open(&h, V2_SECRET, "callback_url = " V2_URL);
    struct req r;
    trello_request(&r, V2_BODY, V2_SIG);
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].type, "createCard");
    struct json_object *action, *data, *card, *name;
    assert_true(json_object_object_get_ex(rx.events[0].payload, "action", &action));
    assert_true(json_object_object_get_ex(action, "data", &data));
    assert_true(json_object_object_get_ex(data, "card", &card));
    assert_true(json_object_object_get_ex(card, "name", &name));
    assert_string_equal(json_object_get_string(name), "caf\xc3\xa9 \xe2\x80\x93 test");
    receive_result_release(&rx);
    /* the legacy low-byte signature of the old docs is not accepted */
    trello_request(&r, V2_BODY, V2_LEGACY_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    /* tampered twin: one byte of the UTF-8 body changed (e9 -> e8) */
    trello_request(
        &r,
        "{\"action\":{\"type\":\"createCard\",\"data\":{\"card\":{\"name\":\"caf\xc3\xa8 "
        "\xe2\x80\x93 test\"}}}}",
        V2_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* tampered twin: the callback's query differs by one byte */
    hook_open(&h, V2_SECRET, "callback_url = https://example.com/trello?secret=abd");
    trello_request(&r, V2_BODY, V2_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
    /* the URL without its query string is not the registered URL */
    hook_open(&h, V2_SECRET, "callback_url = https://example.com/trello");
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_head_check(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    /* the trigger says it takes HEAD, so ingress lets Trello's check in */
    assert_true(h.t->desc.methods & SB_METHOD_HEAD);
    assert_true(h.t->desc.methods & SB_METHOD_POST);
    assert_false(h.t->desc.methods & SB_METHOD_GET);
    struct req r;
    req_init(&r, NULL, "");
    r.method = "HEAD";
    struct receive_result rx;
    enum sb_status st = receive(&h, &r, &rx);
    assert_int_equal(st, SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.status, 200);
    assert_int_equal(rx.n_events, 0);
    receive_result_release(&rx);
    /* a POST without a signature is not a check */
    req_init(&r, "application/json", "");
    expect_rejected(&h, &r, 401, "missing X-Trello-Webhook");
    hook_close(&h);
}

static void test_action_id_type_and_payload(void **state)
{
    (void)state;
    static const char body[] =
        "{\"action\":{\"id\":\"51f9424bcd6e040f3c002412\",\"idMemberCreator\":"
        "\"4fc78a59a885233f4b349bd9\",\"data\":{\"board\":{\"name\":\"Trello Development\",\"id\":"
        "\"4d5ea62fd76aa1136000000c\"},\"card\":{\"idShort\":1458,\"name\":\"Webhooks\",\"id\":"
        "\"51a79e72dbb7e23c7c003778\"},\"voted\":true},\"type\":\"voteOnCard\",\"date\":\"2013-07-"
        "31T16:58:51.949Z\"},\"model\":{\"id\":\"4d5ea62fd76aa1136000000c\",\"name\":\"Trello "
        "Development\"}}";
    const char *url = "https://hooks.example.org/hooks/trello";
    char sig[64];
    sig_b64(EVP_sha1(), "oauth-secret-1", body, url, sig, sizeof(sig));
    struct hook h;
    hook_open(&h, "oauth-secret-1",
              "callback_url = https://hooks.example.org/hooks/trello\nevents = voteOnCard "
              "createCard");
    struct req r;
    trello_request(&r, body, sig);
    /* header names are case-insensitive */
    r.headers[1].name = "x-trello-webhook";
    struct receive_result rx;
    expect_event(&h, &r, &rx);
    assert_string_equal(rx.events[0].id, "51f9424bcd6e040f3c002412");
    assert_string_equal(rx.events[0].type, "voteOnCard");
    /* deduplicated per hook path (the core's default source) */
    assert_null(rx.events[0].source);
    /* stored as sent */
    assert_non_null(rx.events[0].payload_json);
    assert_string_equal(rx.events[0].payload_json, body);
    receive_result_release(&rx);
    /* the workflow's events filter is over action.type */
    assert_true(workflow_wants_type(h.wf, "createCard"));
    assert_false(workflow_wants_type(h.wf, "updateCard"));
    hook_close(&h);
}

static void test_rotation(void **state)
{
    (void)state;
    setenv("SB_TEST_TRELLO_PREVIOUS", V1_SECRET, 1);
    struct hook h;
    hook_open(&h, "the-new-secret",
              "callback_url = " V1_URL "\nprevious_secret = ${env:SB_TEST_TRELLO_PREVIOUS}");
    struct req r;
    trello_request(&r, V1_BODY, V1_SIG);
    expect_accepted(&h, &r);
    char sig[64];
    sig_b64(EVP_sha1(), "the-new-secret", V1_BODY, V1_URL, sig, sizeof(sig));
    trello_request(&r, V1_BODY, sig);
    expect_accepted(&h, &r);
    sig_b64(EVP_sha1(), "a-third-secret", V1_BODY, V1_URL, sig, sizeof(sig));
    trello_request(&r, V1_BODY, sig);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_malformed(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    struct req r;
    /* not base64, truncated, a SHA-256-sized value, the hex form */
    static const char *const bad[] = {
        "not*base64!", "FwPAcuGe9EP/+SbXFWjnEVTa", "",
        "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVA=", "1703c072e19ef443fff926d71568e71154dad33c",
        /* padding bits changed (w -> x): the same bytes, not the canonical
         * text */
        "FwPAcuGe9EP/+SbXFWjnEVTa0zx="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        trello_request(&r, V1_BODY, bad[i]);
        expect_rejected(&h, &r, 401, NULL);
    }
    hook_close(&h);
    /* verified before parsing: a signed body that is not JSON is a 400 */
    hook_open(&h, V1_SECRET, "callback_url = " V1_URL);
    char sig[64];
    sig_b64(EVP_sha1(), V1_SECRET, "{broken", V1_URL, sig, sizeof(sig));
    trello_request(&r, "{broken", sig);
    expect_rejected(&h, &r, 400, "not a JSON object");
    trello_request(&r, "{broken", V1_SIG);
    expect_rejected(&h, &r, 401, "invalid signature");
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    /* callback_url is required, and must be a URL */
    assert_true(load_fails_on(V1_SECRET, "events = createCard", "callback_url",
                              "missing required parameter"));
    assert_true(load_fails_on(V1_SECRET, "callback_url = example.com/hooks", "callback_url",
                              "not an http(s) URL"));
    /* the secret is required and must be a reference */
    assert_true(
        load_fails_on(NULL, "callback_url = " V1_URL, "secret", "missing required parameter"));
    assert_true(
        load_fails_on(NULL, "callback_url = " V1_URL "\nsecret = literal", "secret", "reference"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_hello_world),
        cmocka_unit_test(test_vector_utf8_and_query),
        cmocka_unit_test(test_head_check),
        cmocka_unit_test(test_action_id_type_and_payload),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
