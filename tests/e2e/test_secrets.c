/*
 * Secrets stay secret, end to end: an upstream that echoes the request
 * (the token as sent, percent-encoded, JSON-escaped, in base64 and inside a
 * Basic credential) and one that quotes the token in an error cut at 200
 * bytes. After the runs, no form of the token is in the store's files, in
 * `show`, `show --json`, `runs`, /admin/runs/N, the engine's log, or the
 * output of `fire` and `fire --dry-run`. What an older engine stored is
 * masked on the way out too (show and the admin API). An inbound
 * webhook's credentials and signatures are neither stored nor seen by
 * templates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "standin.h"
#include "testkit.h"

/* with the characters that encoders change: / + = & */
#define TOKEN "tok/8fQ+3xZ=Lm4&Pw7vR2qK"
#define ADMIN "adm-5c1e0b9d7f2a4e68"
#define HOOK_SECRET "hook-key-0d3f5a7c9e1b"

static const char *const env[] = {"SB_TEST_API_TOKEN=" TOKEN, "SB_TEST_ADMIN=" ADMIN,
                                  "SB_TEST_HOOK_SECRET=" HOOK_SECRET, NULL};

static struct sb_proc proc;
static struct standin *api;
/* every form of the token that must not be seen */
static char *forms[16];
static size_t n_forms;

static char *percent(const char *s, bool upper)
{
    char *out = calloc(1, strlen(s) * 3 + 1);
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        *o++ = '%';
        *o++ = hex[*p >> 4];
        *o++ = hex[*p & 15];
    }
    return out;
}

static char *base64(const char *s, bool url)
{
    char *out = calloc(1, strlen(s) * 2 + 8);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)strlen(s));
    for (char *p = out; url && *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

/* The middle of a base64 text: what any alignment of it has in common. */
static char *middle(char *b64)
{
    size_t n = strlen(b64);
    char *m = strndup(b64 + 4, n > 12 ? n - 12 : 1);
    free(b64);
    return m;
}

static void add_form(char *s)
{
    forms[n_forms++] = s;
}

/* The upstream that echoes: the Authorization header as sent, the body as
 * sent, and the token in the encodings other services put it in. */
static bool echo(void *arg, const struct standin_request *req, struct standin_reply *reply,
                 char *buf, size_t buflen)
{
    (void)arg;
    const char *auth = standin_header(req, "Authorization");
    const char *tok = auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : "";
    char basic_in[128];
    snprintf(basic_in, sizeof(basic_in), "api:%s", tok);
    char *pct = percent(tok, true), *b64 = base64(tok, false), *b64url = base64(tok, true);
    char *basic = base64(basic_in, false);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "authorization", json_object_new_string(auth ? auth : ""));
    json_object_object_add(o, "body", json_object_new_string(req->body));
    json_object_object_add(o, "form", json_object_new_string(pct));
    json_object_object_add(o, "b64", json_object_new_string(b64));
    json_object_object_add(o, "b64url", json_object_new_string(b64url));
    char header[256];
    snprintf(header, sizeof(header), "Basic %s", basic);
    json_object_object_add(o, "basic", json_object_new_string(header));
    json_object_object_add(o, "id", json_object_new_string("obj_1"));
    /* with '/' escaped as json-c does by default */
    snprintf(buf, buflen, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    free(pct);
    free(b64);
    free(b64url);
    free(basic);
    reply->status = 200;
    reply->body = buf;
    return false;
}

/* An upstream whose error quotes the token, late enough that the plugin's
 * 200-byte snippet of the answer cuts it in the middle. */
static bool deny(void *arg, const struct standin_request *req, struct standin_reply *reply,
                 char *buf, size_t buflen)
{
    (void)arg;
    const char *auth = standin_header(req, "Authorization");
    const char *tok = auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : "";
    char *pct = percent(tok, false);
    int n = snprintf(buf, buflen, "denied %s ", pct);
    free(pct);
    while (n < 188 && (size_t)n < buflen - 1)
        buf[n++] = '.';
    snprintf(buf + n, buflen - (size_t)n, "%s and the rest of the answer", tok);
    reply->status = 401;
    reply->content_type = "text/plain";
    reply->body = buf;
    return false;
}

static int setup(void **state)
{
    (void)state;
    add_form(strdup(TOKEN));
    add_form(percent(TOKEN, true));
    add_form(percent(TOKEN, false));
    add_form(strdup("tok\\/8fQ+3xZ=Lm4&Pw7vR2qK"));
    add_form(middle(base64(TOKEN, false)));
    add_form(middle(base64(TOKEN, true)));
    add_form(middle(base64("api:" TOKEN, false)));
    /* the part before the cut */
    add_form(strdup("tok/8fQ+3xZ"));
    if (standin_start(&api) < 0)
        return -1;
    standin_check(api, "POST", "/echo", echo, NULL);
    standin_check(api, "POST", "/deny", deny, NULL);
    if (sbp_init(&proc, "[server]\nadmin_token = ${env:SB_TEST_ADMIN}\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(
        &proc, "echo",
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/echo\n"
        "header.Authorization = Bearer ${env:SB_TEST_API_TOKEN}\n"
        "body = {\"event\": \"{{ event.id }}\", \"key\": \"${env:SB_TEST_API_TOKEN}\"}\n",
        base);
    sbp_write_workflowf(&proc, "deny",
                        "[workflow]\nretry = 0\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/deny\n"
                        "header.Authorization = Bearer ${env:SB_TEST_API_TOKEN}\nbody = {}\n",
                        base);
    /* inbound: a signature in a header of the workflow's choosing, and a
     * step that writes what templates see of the request */
    sbp_write_workflowf(&proc, "inbound",
                        "[trigger]\nuse = http.webhook\nverify = hmac\n"
                        "secret = ${env:SB_TEST_HOOK_SECRET}\nsignature_header = X-Custom-Sig\n"
                        "signature_prefix = sha256=\nid_path = id\n\n"
                        "[step keep]\nuse = log.append\nfile = %s/seen.jsonl\n"
                        "json = {\"headers\": {{ trigger.headers | json }}, "
                        "\"query\": {{ trigger.query | json }}}\n",
                        proc.dir);
    sbp_write_workflowf(&proc, "tokq",
                        "[trigger]\nuse = http.webhook\nverify = token\n"
                        "secret = ${env:SB_TEST_HOOK_SECRET}\ntoken_query = key\nid_path = id\n\n"
                        "[step keep]\nuse = log.append\nfile = %s/seen.jsonl\n"
                        "json = {\"headers\": {{ trigger.headers | json }}, "
                        "\"query\": {{ trigger.query | json }}}\n",
                        proc.dir);
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    for (size_t i = 0; i < n_forms; i++)
        free(forms[i]);
    return 0;
}

/* No form of the token in `len` bytes of `what`. */
static void assert_no_token(const char *what, const char *text, size_t len)
{
    for (size_t i = 0; i < n_forms; i++) {
        size_t n = strlen(forms[i]);
        for (size_t at = 0; text && at + n <= len; at++)
            if (memcmp(text + at, forms[i], n) == 0)
                fail_msg("'%s' is in %s:\n%.*s", forms[i], what, (int)(len < 4000 ? len : 4000),
                         text);
    }
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void assert_store_clean(void)
{
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[400];
        snprintf(path, sizeof(path), "%s%s", proc.store, suffixes[i]);
        size_t len;
        char *bytes = read_whole(path, &len);
        assert_no_token(path, bytes, len);
        free(bytes);
    }
}

/* `switchboard CMD ARGS... ` without the token in the environment: what is
 * shown comes from the store as it is. */
static char *cli(const char *const *with_env, const char *cmd, const char *a1, const char *a2)
{
    char *out = NULL, *err = NULL;
    int rc = sbp_cli(&proc, with_env, &out, &err, cmd, a1, a2, NULL);
    if (rc != 0)
        fail_msg("switchboard %s %s failed (%d): %s", cmd, a1 ? a1 : "", rc, err);
    assert_no_token("stderr", err, strlen(err));
    free(err);
    return out;
}

static char *admin_get(const char *path)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", proc.base_url, path);
    const char *const headers[] = {"Authorization: Bearer " ADMIN, NULL};
    struct http_reply r;
    assert_int_equal(http_do("GET", url, headers, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    char *body = strdup(r.body);
    http_reply_free(&r);
    return body;
}

static int64_t run_of(const char *event_id)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT r.id FROM runs r JOIN events e ON r.event = e.id WHERE e.event_id = '%s'",
             event_id);
    return sbp_sql_int(&proc, q);
}

static void test_outputs_and_errors_masked_everywhere(void **state)
{
    (void)state;
    const char *const json[] = {"Content-Type: application/json", NULL};
    assert_int_equal(sbp_hook_request(&proc, "POST", "echo", json, "{\"id\": \"e1\"}", NULL), 200);
    assert_int_equal(sbp_hook_request(&proc, "POST", "deny", json, "{\"id\": \"d1\"}", NULL), 200);
    assert_true(sbp_wait_runs(&proc, "echo", "succeeded", 1, 15000));
    assert_true(sbp_wait_runs(&proc, "deny", "dead", 1, 15000));
    /* the upstreams did get the token: the masking is on the way back */
    assert_int_equal(standin_count(api, "/echo"), 1);
    struct standin_request req;
    assert_true(standin_get(api, "/echo", 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    standin_request_free(&req);

    assert_store_clean();
    char id[32];
    const char *const no_env[] = {NULL};
    const char *const ids[] = {"e1", "d1"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(id, sizeof(id), "%lld", (long long)run_of(ids[i]));
        char *out = cli(no_env, "show", id, NULL);
        assert_no_token("show", out, strlen(out));
        assert_non_null(strstr(out, i == 0 ? "obj_1" : "denied"));
        free(out);
        out = cli(no_env, "show", id, "--json");
        assert_no_token("show --json", out, strlen(out));
        free(out);
        char path[64];
        snprintf(path, sizeof(path), "/admin/runs/%s", id);
        out = admin_get(path);
        assert_no_token("/admin/runs/N", out, strlen(out));
        free(out);
    }
    char *out = cli(no_env, "runs", NULL, NULL);
    assert_no_token("runs", out, strlen(out));
    assert_non_null(strstr(out, "HTTP 401 denied"));
    free(out);
    out = admin_get("/admin/runs");
    assert_no_token("/admin/runs", out, strlen(out));
    free(out);
    size_t len;
    char *log = read_whole(proc.log_path, &len);
    assert_no_token("the engine's log", log, len);
    free(log);
}

static void test_fire_masks_what_it_prints(void **state)
{
    (void)state;
    char event[400];
    assert_int_equal(sbp_write_file(&proc, "event.json", "{\"id\": \"f1\"}", event, sizeof(event)),
                     0);
    const char *const args[][2] = {{"echo", NULL}, {"echo", "--dry-run"}, {"deny", NULL}};
    for (size_t i = 0; i < 3; i++) {
        char *out = NULL, *err = NULL;
        int rc =
            sbp_cli(&proc, env, &out, &err, "fire", args[i][0], "--event", event, args[i][1], NULL);
        assert_int_equal(rc, i == 2 ? 1 : 0);
        assert_no_token("fire's output", out, strlen(out));
        assert_no_token("fire's errors", err, strlen(err));
        /* the output is there, masked */
        assert_non_null(strstr(out, i == 1 ? "Authorization: Bearer ****" : "****"));
        free(out);
        free(err);
    }
}

/* Put text into a stored step output, as an older engine would have. */
static void store_step_output(int64_t run, const char *output)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(proc.store, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE steps SET output = ?1 WHERE run = ?2", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, output, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, run);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_stored_before_masking_is_masked_when_shown(void **state)
{
    (void)state;
    int64_t run = run_of("e1");
    char *b64 = base64(TOKEN, false), output[256];
    snprintf(output, sizeof(output), "{\"leaked\": \"Bearer %s\", \"b64\": \"%s\"}", TOKEN, b64);
    free(b64);
    store_step_output(run, output);
    char id[32], path[64];
    snprintf(id, sizeof(id), "%lld", (long long)run);
    snprintf(path, sizeof(path), "/admin/runs/%s", id);
    char *out = admin_get(path);
    assert_no_token("/admin/runs/N", out, strlen(out));
    assert_non_null(strstr(out, "Bearer ****"));
    free(out);
    /* show, where this shell can resolve the workflow's references */
    out = cli(env, "show", id, NULL);
    assert_no_token("show", out, strlen(out));
    assert_non_null(strstr(out, "Bearer ****"));
    free(out);
    out = cli(env, "show", id, "--json");
    assert_no_token("show --json", out, strlen(out));
    free(out);
}

static void test_inbound_credentials_not_kept(void **state)
{
    (void)state;
    const char body[] = "{\"id\": \"in1\", \"n\": 1}";
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), HOOK_SECRET, (int)strlen(HOOK_SECRET), (const unsigned char *)body,
         strlen(body), mac, &mac_len);
    char sig[128] = "X-Custom-Sig: sha256=";
    for (unsigned int i = 0; i < mac_len; i++)
        snprintf(sig + strlen(sig), 3, "%02x", mac[i]);
    const char *const headers[] = {"Content-Type: application/json",
                                   sig,
                                   "Authorization: Basic dXNlcjpjcmVkLTExMQ==",
                                   "Proxy-Authorization: Basic cHJveHk6Y3JlZC0yMjI=",
                                   "Cookie: session=cred-333",
                                   "Stripe-Signature: t=1,v1=cred444",
                                   "X-Hub-Signature-256: sha256=cred555",
                                   "X-Slack-Signature: v0=cred666",
                                   "X-Request-Id: req-42",
                                   NULL};
    assert_int_equal(sbp_hook_request(&proc, "POST", "inbound?page=2", headers, body, NULL), 200);
    /* headers[1], the signature, is an ordinary header to tokq: not sent */
    const char *const tokq_headers[] = {"Content-Type: application/json",
                                        headers[2],
                                        headers[3],
                                        headers[4],
                                        headers[5],
                                        headers[6],
                                        headers[7],
                                        NULL};
    assert_int_equal(sbp_hook_request(&proc, "POST", "tokq?key=" HOOK_SECRET "&page=3",
                                      tokq_headers, "{\"id\": \"in2\"}", NULL),
                     200);
    assert_true(sbp_wait_runs(&proc, "inbound", "succeeded", 1, 15000));
    assert_true(sbp_wait_runs(&proc, "tokq", "succeeded", 1, 15000));
    /* what templates saw: the ordinary header and query, nothing else */
    char path[400];
    snprintf(path, sizeof(path), "%s/seen.jsonl", proc.dir);
    size_t len;
    char *seen = read_whole(path, &len);
    assert_non_null(seen);
    assert_non_null(strstr(seen, "\"x-request-id\":\"req-42\""));
    assert_non_null(strstr(seen, "\"page\":\"2\""));
    assert_non_null(strstr(seen, "\"page\":\"3\""));
    const char *const kept_out[] = {"cred-",
                                    "cred4",
                                    "cred5",
                                    "cred6",
                                    "dXNlcjpjcmVkLTExMQ",
                                    "cHJveHk6Y3JlZC0yMjI",
                                    sig + 21,
                                    HOOK_SECRET,
                                    "authorization",
                                    "cookie",
                                    "signature",
                                    "x-custom-sig",
                                    "\"key\"",
                                    NULL};
    for (size_t i = 0; kept_out[i]; i++) {
        if (strstr(seen, kept_out[i]))
            fail_msg("'%s' reached a template: %s", kept_out[i], seen);
    }
    free(seen);
    /* and the store never had them */
    const char *suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < 2; i++) {
        char file[400];
        snprintf(file, sizeof(file), "%s%s", proc.store, suffixes[i]);
        char *bytes = read_whole(file, &len);
        for (size_t k = 0; kept_out[k] && k < 8; k++)
            for (size_t at = 0; bytes && at + strlen(kept_out[k]) <= len; at++)
                if (memcmp(bytes + at, kept_out[k], strlen(kept_out[k])) == 0)
                    fail_msg("'%s' is in %s", kept_out[k], file);
        free(bytes);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_and_errors_masked_everywhere),
        cmocka_unit_test(test_fire_masks_what_it_prints),
        cmocka_unit_test(test_stored_before_masking_is_masked_when_shown),
        cmocka_unit_test(test_inbound_credentials_not_kept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
