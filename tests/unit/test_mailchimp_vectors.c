/* The mailchimp plugin (plugins/mailchimp) driven through the core's host
 * table, as the engine drives it: workflows are loaded from files (so
 * defaults and validate apply), the trigger's receive gets a struct
 * sb_request as ingress.c builds it, and actions run as dry runs whose
 * printed requests are checked. Vectors are those of connectors.md section
 * 3: the official subscriber hash, the legacy subscribe sample in literal
 * and percent-encoded form, and the data centre of an API key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define SECRET_ENV "SB_TEST_MC_SECRET"
#define PREVIOUS_ENV "SB_TEST_MC_PREVIOUS"
#define KEY_ENV "SB_TEST_MC_KEY"

#define URIST_HASH "62eeb292278cc15f5817cb78f7790b08"
#define API_HASH "6def22f266be37015519943ce0c3ae6b"

/* connectors.md 3.1, the legacy subscribe sample, one line. */
static const char sample_literal[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data[id]=8a25ff1d98&data[list_id]="
    "a6b5da1054&data[email]=api%40mailchimp.com&data[email_type]=html&data[merges][EMAIL]=api%"
    "40mailchimp.com&data[merges][FNAME]=Mailchimp&data[merges][LNAME]=API&data[merges]["
    "INTERESTS]=Group1%2CGroup2&data[ip_opt]=10.20.10.30&data[ip_signup]=10.20.10.30";
/* The same, brackets percent-encoded as real deliveries send them. */
static const char sample_encoded[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D="
    "a6b5da1054&data%5Bemail%5D=api%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%"
    "5BEMAIL%5D=api%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%"
    "5BLNAME%5D=API&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2&data%5Bip_opt%5D=10.20.10."
    "30&data%5Bip_signup%5D=10.20.10.30";

#define FORM "application/x-www-form-urlencoded"
#define URL_TOKEN "s3cr3t-url-token"

/* The clock receive sees, in Unix ms. */
static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "mailchimp",
    .trigger = "mailchimp.webhook",
    .secret_env = SECRET_ENV,
    .step = "[step s]\nuse = mailchimp.request\napi_key = ${env:" KEY_ENV "}\npath = /ping",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    /* the action workflows below name both through the environment */
    setenv(SECRET_ENV, URL_TOKEN, 1);
    setenv(KEY_ENV, "0123456789abcdef0123456789abcdef-us21", 1);
    return trigger_harness_setup(&harness);
}

/* --- receive ------------------------------------------------------------------------- */

/* Answered 200 by the plugin itself, with no event. */
static void expect_ping_answer(struct hook *w, const struct req *r)
{
    struct receive_result rx;
    enum sb_status st = hook_receive(w, r, &rx);
    assert_int_equal(st, SB_OK);
    assert_false(rx.rejected);
    assert_int_equal(rx.n_events, 0);
    assert_int_equal(rx.status, 200);
    receive_result_release(&rx);
}

static const char *jpath(struct json_object *root, const char *path)
{
    struct json_object *cur = root;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save)) {
        struct json_object *next = NULL;
        if (!json_object_object_get_ex(cur, k, &next))
            return NULL;
        cur = next;
    }
    return cur && json_object_is_type(cur, json_type_string) ? json_object_get_string(cur) : NULL;
}

/* --- actions as dry runs -------------------------------------------------------------- */

struct dry {
    enum sb_status status;
    char *printed;              /* every request the action would send */
    struct json_object *output; /* the step output */
    char error[512];
};

/* Run step `step` of a loaded workflow as a dry run against `event` (JSON
 * text). */
static void dry_run(struct hook *w, size_t step, const char *event, struct dry *out)
{
    memset(out, 0, sizeof(*out));
    assert_true(step < w->wf->n_steps);
    const struct step *s = &w->wf->steps[step];
    const struct loaded_action *a = s->action;
    struct json_object *root = json_object_new_object();
    json_object_object_add(root, "event", json_tokener_parse(event));
    struct json_object *params = NULL;
    char err[512];
    if (call_params_render(&a->table, &s->params, root, &params, err, sizeof(err)) < 0)
        fail_msg("render: %s", err);
    struct strbuf printed = STRBUF_INIT;
    struct sb_call call;
    call_init(&call, CALL_RUN, a->full_name);
    call.wf = w->wf;
    call.step = s->name;
    call_set_context(&call);
    call.plugin = a->plugin;
    call.table = &a->table;
    call.binding = &s->params;
    call.params = params;
    call.idempotency_key = "key";
    call.dry_run = true;
    call.dry_out = &printed;
    out->status = a->desc.run(&core_host, &call);
    snprintf(out->error, sizeof(out->error), "%s", strbuf_str(&call.error));
    out->output = call.output ? json_object_get(call.output) : NULL;
    out->printed = strbuf_detach(&printed, NULL);
    call_release(&call);
    json_object_put(params);
    json_object_put(root);
}

static void dry_release(struct dry *d)
{
    free(d->printed);
    json_object_put(d->output);
    memset(d, 0, sizeof(*d));
}

static void expect_printed(const struct dry *d, const char *text)
{
    if (!d->printed || !strstr(d->printed, text))
        fail_msg("'%s' not in the dry run:\n%s", text, d->printed ? d->printed : "(nothing)");
}

/* One upsert step with `lines`, loaded. */
static void upsert_open(struct hook *w, const char *lines)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV "}\n\n"
             "[step member]\nuse = mailchimp.upsert_member\napi_key = ${env:" KEY_ENV "}\n%s\n",
             lines);
    expect_loads(w, text);
}

/* MD5 hex with OpenSSL, independent of the plugin and the core. */
static void md5_ref(const char *text, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), md, &n, EVP_md5(), NULL), 1);
    assert_int_equal(n, 16);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* --- subscriber hash ---------------------------------------------------------------------- */

static void test_subscriber_hash_official_vector(void **state)
{
    (void)state;
    /* the vectors themselves, recomputed */
    char ref[33];
    md5_ref("urist.mcvankab@freddiesjokes.com", ref);
    assert_string_equal(ref, URIST_HASH);
    md5_ref("api@mailchimp.com", ref);
    assert_string_equal(ref, API_HASH);
    /* the case matters to MD5: the plugin must lower-case first */
    md5_ref("Urist.McVankab@freddiesjokes.com", ref);
    assert_string_not_equal(ref, URIST_HASH);

    struct hook w;
    upsert_open(&w, "list_id = L1\nemail = {{ event.email }}");
    static const struct {
        const char *email;
        const char *hash;
    } cases[] = {
        {"Urist.McVankab@freddiesjokes.com", URIST_HASH},
        {"  Urist.McVankab@freddiesjokes.com\\t ", URIST_HASH},
        {"URIST.MCVANKAB@FREDDIESJOKES.COM", URIST_HASH},
        {"api@mailchimp.com", API_HASH},
        {"\\napi@mailchimp.com  ", API_HASH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char event[256], want[128];
        snprintf(event, sizeof(event), "{\"email\": \"%s\"}", cases[i].email);
        struct dry d;
        dry_run(&w, 0, event, &d);
        if (d.status != SB_OK)
            fail_msg("%s: %s", cases[i].email, d.error);
        snprintf(want, sizeof(want), "PUT https://us21.api.mailchimp.com/3.0/lists/L1/members/%s\n",
                 cases[i].hash);
        expect_printed(&d, want);
        assert_string_equal(jpath(d.output, "subscriber_hash"), cases[i].hash);
        dry_release(&d);
    }
    /* the address is sent trimmed, with its case as written */
    struct dry d;
    dry_run(&w, 0, "{\"email\": \" Urist.McVankab@freddiesjokes.com \"}", &d);
    expect_printed(&d, "\"email_address\":\"Urist.McVankab@freddiesjokes.com\"");
    dry_release(&d);
    /* a tampered twin: one letter less */
    dry_run(&w, 0, "{\"email\": \"Urist.McVankab@freddiesjokes.co\"}", &d);
    assert_int_equal(d.status, SB_OK);
    assert_null(strstr(d.printed, URIST_HASH));
    dry_release(&d);
    /* an empty address is refused before anything is sent */
    dry_run(&w, 0, "{\"email\": \"   \"}", &d);
    assert_int_equal(d.status, SB_FAIL);
    assert_non_null(strstr(d.error, "email is empty"));
    assert_string_equal(d.printed, "");
    dry_release(&d);
    hook_close(&w);
}

/* --- data centre -------------------------------------------------------------------------- */

/* Load an upsert step with api_key = the given value; 0 or -1, and the
 * first problem's message into msg. */
static int load_with_key(const char *key, const char *extra, struct hook *w, char *msg, size_t len)
{
    setenv("SB_TEST_MC_OTHER_KEY", key, 1);
    char text[1024];
    snprintf(text, sizeof(text),
             "[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV "}\n\n"
             "[step member]\nuse = mailchimp.upsert_member\n"
             "api_key = ${env:SB_TEST_MC_OTHER_KEY}\nlist_id = L1\nemail = a@b.c\n%s\n",
             extra ? extra : "");
    struct diag d;
    diag_init(&d);
    int rc = hook_load_text(w, text, &d);
    msg[0] = '\0';
    for (size_t i = 0; i < d.n; i++)
        if (d.items[i].key && strcmp(d.items[i].key, "api_key") == 0)
            snprintf(msg, len, "%s", d.items[i].message);
    diag_release(&d);
    return rc;
}

static void test_data_centre_from_key(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *base;
    } good[] = {
        {"abc-us21", "https://us21.api.mailchimp.com/3.0/"},
        {"0123456789abcdef0123456789abcdef-us6", "https://us6.api.mailchimp.com/3.0/"},
        {"a-b-c-us19", "https://us19.api.mailchimp.com/3.0/"},
        {"abc-US21", "https://us21.api.mailchimp.com/3.0/"},
    };
    char msg[512];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hook w;
        if (load_with_key(good[i].key, NULL, &w, msg, sizeof(msg)) != 0)
            fail_msg("%s refused: %s", good[i].key, msg);
        struct dry d;
        dry_run(&w, 0, "{}", &d);
        assert_int_equal(d.status, SB_OK);
        char want[128];
        snprintf(want, sizeof(want), "PUT %s", good[i].base);
        expect_printed(&d, want);
        /* the key never shows, in any form */
        assert_null(strstr(d.printed, good[i].key));
        expect_printed(&d, "Authorization: Basic ****");
        dry_release(&d);
        hook_close(&w);
    }
    /* keys without a data centre are refused when the workflow loads, with
     * a message that does not print the key */
    static const char *const bad[] = {"nodashkey123",
                                      "trailingdash-",
                                      "-leadingdc",
                                      "keyqz-us21/evil",
                                      "keyqz-us 21",
                                      "keyqz-us21.example",
                                      "keyqz-thirtytwocharacterslongdc00",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hook w;
        int rc = load_with_key(bad[i], NULL, &w, msg, sizeof(msg));
        if (rc == 0)
            fail_msg("'%s' was accepted", bad[i]);
        if (*bad[i]) {
            if (!strstr(msg, "data centre"))
                fail_msg("'%s': message '%s'", bad[i], msg);
            assert_null(strstr(msg, bad[i]));
        }
        hook_close(&w);
    }
    /* api_base replaces the data-centre URL, but the key is still checked */
    struct hook w;
    assert_int_equal(
        load_with_key("abc-us21", "api_base = http://127.0.0.1:9/3.0/", &w, msg, sizeof(msg)), 0);
    struct dry d;
    dry_run(&w, 0, "{}", &d);
    expect_printed(&d, "PUT http://127.0.0.1:9/3.0/lists/L1/members/");
    assert_null(strstr(d.printed, "api.mailchimp.com"));
    dry_release(&d);
    hook_close(&w);
    assert_int_equal(
        load_with_key("abc", "api_base = http://127.0.0.1:9/3.0", &w, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "data centre"));
    hook_close(&w);
}

/* --- upsert_member, tag_member and request as dry runs ------------------------------------- */

static void test_upsert_member_requests(void **state)
{
    (void)state;
    struct hook w;
    upsert_open(&w, "list_id = {{ event.list }}\nemail = {{ event.email }}\n"
                    "merge.FNAME = {{ event.first }}\nmerge.LNAME = McVankab\n"
                    "status_if_new = pending\nstatus = subscribed\ntags = vip, {{ event.tag }}\n"
                    "vip = false\nlanguage = fr\nemail_type = text\nskip_merge_validation = true");
    struct dry d;
    dry_run(&w, 0,
            "{\"list\": \"a6b5 da\", \"email\": \"Urist.McVankab@freddiesjokes.com\", "
            "\"first\": \"Urist \\\"U\\\"\", \"tag\": \"spring-2024\"}",
            &d);
    if (d.status != SB_OK)
        fail_msg("%s", d.error);
    /* the list id is percent-encoded in the path; the query is added */
    expect_printed(&d, "PUT https://us21.api.mailchimp.com/3.0/lists/a6b5%20da/members/" URIST_HASH
                       "?skip_merge_validation=true\n");
    expect_printed(&d, "Accept: application/json");
    expect_printed(&d, "Content-Type: application/json");
    /* the PUT body, parsed back */
    const char *put_body = strstr(d.printed, "\n\n");
    assert_non_null(put_body);
    const char *end = strstr(put_body + 2, "\nPOST ");
    assert_non_null(end);
    char *text = strndup(put_body + 2, (size_t)(end - put_body - 2));
    struct json_object *body = json_tokener_parse(text);
    free(text);
    assert_non_null(body);
    assert_string_equal(jpath(body, "email_address"), "Urist.McVankab@freddiesjokes.com");
    assert_string_equal(jpath(body, "status_if_new"), "pending");
    assert_string_equal(jpath(body, "status"), "subscribed");
    assert_string_equal(jpath(body, "merge_fields.FNAME"), "Urist \"U\"");
    assert_string_equal(jpath(body, "merge_fields.LNAME"), "McVankab");
    assert_string_equal(jpath(body, "language"), "fr");
    assert_string_equal(jpath(body, "email_type"), "text");
    struct json_object *vip;
    assert_true(json_object_object_get_ex(body, "vip", &vip));
    assert_true(json_object_is_type(vip, json_type_boolean));
    assert_false(json_object_get_boolean(vip));
    /* no tags in the PUT: they have their own endpoint */
    assert_false(json_object_object_get_ex(body, "tags", NULL));
    json_object_put(body);
    /* then the tags call */
    expect_printed(&d, "POST https://us21.api.mailchimp.com/3.0/lists/a6b5%20da/members/" URIST_HASH
                       "/tags\n");
    expect_printed(&d, "{\"tags\":[{\"name\":\"vip\",\"status\":\"active\"},"
                       "{\"name\":\"spring-2024\",\"status\":\"active\"}]}");
    assert_true(strstr(d.printed, "PUT ") < strstr(d.printed, "POST "));
    assert_string_equal(jpath(d.output, "subscriber_hash"), URIST_HASH);
    /* the dry output stands in for the member Mailchimp would return */
    assert_string_equal(jpath(d.output, "id"), URIST_HASH);
    assert_string_equal(jpath(d.output, "status"), "subscribed");
    assert_string_equal(jpath(d.output, "email_address"), "Urist.McVankab@freddiesjokes.com");
    assert_string_equal(jpath(d.output, "merge_fields.FNAME"), "Urist \"U\"");
    struct json_object *flag;
    assert_true(json_object_object_get_ex(d.output, "dry_run", &flag));
    dry_release(&d);
    hook_close(&w);

    /* the minimum: status_if_new defaults to subscribed; no tags, no call */
    upsert_open(&w, "list_id = L1\nemail = api@mailchimp.com");
    dry_run(&w, 0, "{}", &d);
    expect_printed(&d, "\"status_if_new\":\"subscribed\"");
    assert_null(strstr(d.printed, "\"status\":"));
    assert_null(strstr(d.printed, "merge_fields"));
    assert_null(strstr(d.printed, "vip"));
    assert_null(strstr(d.printed, "POST "));
    assert_null(strstr(d.printed, "?"));
    dry_release(&d);
    hook_close(&w);

    /* an empty list id is refused before anything is sent */
    upsert_open(&w, "list_id = {{ event.list }}\nemail = api@mailchimp.com");
    dry_run(&w, 0, "{\"list\": \"\"}", &d);
    assert_int_equal(d.status, SB_FAIL);
    assert_non_null(strstr(d.error, "list_id is empty"));
    assert_string_equal(d.printed, "");
    dry_release(&d);
    hook_close(&w);

    /* a tags template that renders to nothing makes no tags call */
    upsert_open(&w, "list_id = L1\nemail = api@mailchimp.com\ntags = {{ event.tags }}");
    dry_run(&w, 0, "{\"tags\": \"\"}", &d);
    assert_int_equal(d.status, SB_OK);
    assert_null(strstr(d.printed, "POST "));
    dry_release(&d);
    hook_close(&w);
}

static void test_tag_member_requests(void **state)
{
    (void)state;
    struct hook w;
    expect_loads(&w, "[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV "}\n\n"
                     "[step t]\nuse = mailchimp.tag_member\napi_key = ${env:" KEY_ENV "}\n"
                     "list_id = L1\nemail = {{ event.email }}\ntags = customer {{ event.plan }}\n"
                     "remove_tags = trial\n");
    struct dry d;
    dry_run(&w, 0, "{\"email\": \"API@mailchimp.com\", \"plan\": \"gold\"}", &d);
    if (d.status != SB_OK)
        fail_msg("%s", d.error);
    expect_printed(&d,
                   "POST https://us21.api.mailchimp.com/3.0/lists/L1/members/" API_HASH "/tags\n");
    expect_printed(&d, "{\"tags\":[{\"name\":\"customer\",\"status\":\"active\"},{\"name\":"
                       "\"gold\",\"status\":\"active\"},{\"name\":\"trial\",\"status\":"
                       "\"inactive\"}]}");
    assert_string_equal(jpath(d.output, "subscriber_hash"), API_HASH);
    dry_release(&d);
    hook_close(&w);

    /* neither tags nor remove_tags: a configuration error */
    expect_text_load_error("[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV
                           "}\n\n[step t]\nuse = mailchimp.tag_member\napi_key = ${env:" KEY_ENV
                           "}\nlist_id = L1\nemail = a@b.c\n",
                           "tags", "");
}

static void test_request_requests(void **state)
{
    (void)state;
    struct hook w;
    expect_loads(&w, "[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV "}\n\n"
                     "[step get]\nuse = mailchimp.request\napi_key = ${env:" KEY_ENV "}\n"
                     "path = /lists/{{ event.list }}/members?count=10\n\n"
                     "[step post]\nuse = mailchimp.request\napi_key = ${env:" KEY_ENV "}\n"
                     "path = /lists/L1/merge-fields\n"
                     "body = {\"tag\": \"{{ event.tag }}\", \"type\": \"text\"}\n\n"
                     "[step patch]\nuse = mailchimp.request\napi_key = ${env:" KEY_ENV "}\n"
                     "method = PATCH\npath = /lists/L1\nbody = {\"name\": \"x\"}\n");
    struct dry d;
    dry_run(&w, 0, "{\"list\": \"a/b\", \"tag\": \"T\\\"1\"}", &d);
    assert_int_equal(d.status, SB_OK);
    /* GET without a body; the inserted value cannot add a path segment */
    expect_printed(&d, "GET https://us21.api.mailchimp.com/3.0/lists/a%2Fb/members?count=10\n");
    assert_null(strstr(d.printed, "Content-Type"));
    dry_release(&d);
    dry_run(&w, 1, "{\"list\": \"a\", \"tag\": \"T\\\"1\"}", &d);
    expect_printed(&d, "POST https://us21.api.mailchimp.com/3.0/lists/L1/merge-fields\n");
    expect_printed(&d, "{\"tag\": \"T\\\"1\", \"type\": \"text\"}");
    dry_release(&d);
    dry_run(&w, 2, "{}", &d);
    expect_printed(&d, "PATCH https://us21.api.mailchimp.com/3.0/lists/L1\n");
    dry_release(&d);
    hook_close(&w);

    /* a path must start with '/' */
    expect_text_load_error("[trigger]\nuse = mailchimp.webhook\nsecret = ${env:" SECRET_ENV
                           "}\n\n[step s]\nuse = mailchimp.request\napi_key = ${env:" KEY_ENV
                           "}\npath = https://evil.example/x\n",
                           "path", "");
}

/* --- the webhook ---------------------------------------------------------------------------- */

static void test_webhook_sample_literal_and_encoded(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "");
    struct req r;
    struct receive_result a, b;
    req_init(&r, FORM, sample_literal);
    req_query(&r, "secret", "s3cr3t-url-token");
    expect_event(&w, &r, &a);
    req_init(&r, FORM "; charset=utf-8", sample_encoded);
    req_query(&r, "secret", "s3cr3t-url-token");
    expect_event(&w, &r, &b);
    /* both forms give the same JSON */
    const char *ja = json_object_to_json_string_ext(a.events[0].payload, JSON_C_TO_STRING_PLAIN);
    const char *jb = json_object_to_json_string_ext(b.events[0].payload, JSON_C_TO_STRING_PLAIN);
    assert_string_equal(ja, jb);
    struct json_object *p = a.events[0].payload;
    assert_string_equal(jpath(p, "type"), "subscribe");
    assert_string_equal(jpath(p, "fired_at"), "2009-03-26 21:35:57");
    assert_string_equal(jpath(p, "data.id"), "8a25ff1d98");
    assert_string_equal(jpath(p, "data.list_id"), "a6b5da1054");
    assert_string_equal(jpath(p, "data.email"), "api@mailchimp.com");
    assert_string_equal(jpath(p, "data.merges.FNAME"), "Mailchimp");
    assert_string_equal(jpath(p, "data.merges.LNAME"), "API");
    assert_string_equal(jpath(p, "data.merges.EMAIL"), "api@mailchimp.com");
    assert_string_equal(jpath(p, "data.merges.INTERESTS"), "Group1,Group2");
    assert_string_equal(jpath(p, "data.ip_opt"), "10.20.10.30");
    /* the event's type and dedupe id */
    assert_string_equal(a.events[0].type, "subscribe");
    assert_string_equal(a.events[0].id, "subscribe:2009-03-26 21:35:57:8a25ff1d98");
    assert_string_equal(b.events[0].id, a.events[0].id);
    /* the payload is the decoded form, not the body: no verbatim text */
    assert_null(a.events[0].payload_json);
    receive_result_release(&a);
    receive_result_release(&b);
    hook_close(&w);
}

static void test_webhook_secret(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "");
    struct req r;
    static const char *const wrong[] = {"s3cr3t-url-tokem", "s3cr3t-url-token ", "s3cr3t",
                                        "s3cr3t-url-token-and-more", ""};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        req_init(&r, FORM, sample_literal);
        req_query(&r, "secret", wrong[i]);
        expect_rejected(&w, &r, 401, "invalid secret");
    }
    req_init(&r, FORM, sample_literal);
    expect_rejected(&w, &r, 401, "missing secret");
    /* query names are case-sensitive; another parameter does not count */
    req_init(&r, FORM, sample_literal);
    req_query(&r, "Secret", "s3cr3t-url-token");
    req_query(&r, "token", "s3cr3t-url-token");
    expect_rejected(&w, &r, 401, "missing secret");
    /* the reason never holds the secret */
    struct receive_result rx;
    req_init(&r, FORM, sample_literal);
    req_query(&r, "secret", "nope");
    assert_int_equal(hook_receive(&w, &r, &rx), SB_FAIL);
    assert_null(strstr(rx.body, "s3cr3t"));
    receive_result_release(&rx);
    hook_close(&w);

    /* rotation, and a secret in another query parameter */
    setenv(PREVIOUS_ENV, "old-url-token", 1);
    hook_open(&w, URL_TOKEN, "previous_secret = ${env:" PREVIOUS_ENV "}\nsecret_param = key");
    req_init(&r, FORM, sample_literal);
    req_query(&r, "key", "old-url-token");
    expect_event(&w, &r, &rx);
    receive_result_release(&rx);
    req_init(&r, FORM, sample_literal);
    req_query(&r, "key", "s3cr3t-url-token");
    expect_event(&w, &r, &rx);
    receive_result_release(&rx);
    req_init(&r, FORM, sample_literal);
    req_query(&r, "secret", "s3cr3t-url-token");
    expect_rejected(&w, &r, 401, "missing secret");
    hook_close(&w);
}

static void test_webhook_pings(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "");
    struct req r;
    /* the URL check when the webhook is saved: no secret needed */
    req_init(&r, NULL, NULL);
    r.method = "GET";
    expect_ping_answer(&w, &r);
    req_init(&r, NULL, NULL);
    r.method = "HEAD";
    expect_ping_answer(&w, &r);
    req_init(&r, FORM, "");
    expect_ping_answer(&w, &r);
    req_init(&r, NULL, "");
    expect_ping_answer(&w, &r);
    /* a wrong secret on a GET is still just a check */
    req_init(&r, NULL, NULL);
    r.method = "GET";
    req_query(&r, "secret", "wrong");
    expect_ping_answer(&w, &r);
    /* but a POST with a body needs the secret */
    req_init(&r, FORM, "type=subscribe");
    expect_rejected(&w, &r, 401, "missing secret");
    hook_close(&w);
}

static void test_webhook_dedupe_ids(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "");
    static const struct {
        const char *body;
        const char *type;
        const char *id; /* NULL: no dedupe id */
    } cases[] = {
        {"type=unsubscribe&fired_at=2024-05-01+10%3A00%3A00&data%5Baction%5D=unsub&data%5Breason"
         "%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Bemail%5D=ann%40example.com",
         "unsubscribe", "unsubscribe:2024-05-01 10:00:00:8a25ff1d98"},
        {"type=upemail&fired_at=2024-05-01+10%3A00%3A01&data%5Bnew_id%5D=51aa6ab9d9&data%5Bnew_"
         "email%5D=new%40example.com&data%5Bold_email%5D=old%40example.com",
         "upemail", "upemail:2024-05-01 10:00:01:51aa6ab9d9"},
        {"type=cleaned&fired_at=2024-05-01+10%3A00%3A02&data%5Breason%5D=hard&data%5Bemail%5D="
         "gone%40example.com",
         "cleaned", "cleaned:2024-05-01 10:00:02:gone@example.com"},
        {"type=campaign&fired_at=2024-05-01+10%3A00%3A03&data%5Bid%5D=5aa2102003&data%5Bsubject"
         "%5D=Hello&data%5Bstatus%5D=sent",
         "campaign", "campaign:2024-05-01 10:00:03:5aa2102003"},
        {"type=profile&data%5Bid%5D=8a25ff1d98", "profile", NULL},
        {"type=profile&fired_at=2024-05-01+10%3A00%3A04", "profile", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req r;
        req_init(&r, FORM, cases[i].body);
        req_query(&r, "secret", "s3cr3t-url-token");
        struct receive_result rx;
        expect_event(&w, &r, &rx);
        assert_string_equal(rx.events[0].type, cases[i].type);
        if (cases[i].id)
            assert_string_equal(rx.events[0].id, cases[i].id);
        else
            assert_null(rx.events[0].id);
        receive_result_release(&rx);
    }
    /* nested merges survive */
    struct req r;
    req_init(&r, FORM,
             "type=profile&fired_at=2024-05-01+10%3A00%3A05&data[id]=1&data[merges][ADDRESS]"
             "[city]=New+York&data%5Bmerges%5D%5BADDRESS%5D%5Bzip%5D=10001");
    req_query(&r, "secret", "s3cr3t-url-token");
    struct receive_result rx;
    expect_event(&w, &r, &rx);
    assert_string_equal(jpath(rx.events[0].payload, "data.merges.ADDRESS.city"), "New York");
    assert_string_equal(jpath(rx.events[0].payload, "data.merges.ADDRESS.zip"), "10001");
    receive_result_release(&rx);
    hook_close(&w);
}

static void test_webhook_refuses_other_bodies(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "");
    struct req r;
    req_init(&r, "application/json", "{\"type\": \"subscribe\"}");
    req_query(&r, "secret", "s3cr3t-url-token");
    expect_rejected(&w, &r, 415, "x-www-form-urlencoded");
    req_init(&r, FORM, "fired_at=2024-05-01&data[id]=1");
    req_query(&r, "secret", "s3cr3t-url-token");
    expect_rejected(&w, &r, 400, "type");
    hook_close(&w);
}

static void test_webhook_events_filter(void **state)
{
    (void)state;
    struct hook w;
    hook_open(&w, URL_TOKEN, "events = unsub* cleaned");
    assert_true(workflow_wants_type(w.wf, "unsubscribe"));
    assert_true(workflow_wants_type(w.wf, "cleaned"));
    assert_false(workflow_wants_type(w.wf, "subscribe"));
    assert_false(workflow_wants_type(w.wf, "profile"));
    hook_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscriber_hash_official_vector),
        cmocka_unit_test(test_data_centre_from_key),
        cmocka_unit_test(test_upsert_member_requests),
        cmocka_unit_test(test_tag_member_requests),
        cmocka_unit_test(test_request_requests),
        cmocka_unit_test(test_webhook_sample_literal_and_encoded),
        cmocka_unit_test(test_webhook_secret),
        cmocka_unit_test(test_webhook_pings),
        cmocka_unit_test(test_webhook_dedupe_ids),
        cmocka_unit_test(test_webhook_refuses_other_bodies),
        cmocka_unit_test(test_webhook_events_filter),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
