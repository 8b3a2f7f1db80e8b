/*
 * Never acknowledge what cannot be replayed intact, end to end: a table of
 * tricky bodies (nesting at the limit and over it, big numbers, unicode
 * escapes, lone surrogates, NUL in strings and keys, duplicate keys, a huge
 * string, invalid UTF-8, form bodies with bracket nesting) is posted to the
 * real engine. Each is either refused with 400 and a JSON reason, and
 * nothing is stored; or acknowledged, and then the payload the dispatcher
 * hands to the workflow (written out by a step as {{ event | json }}) is the
 * payload that was stored, which for a JSON body is the body byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "testkit.h"

static struct sb_proc proc;

enum kind { JSON, FORM, TEXT };

struct body {
    const char *name;
    enum kind kind;
    char *text; /* owned */
    size_t len;
    bool accept;
    const char *expect; /* FORM/TEXT: the payload as JSON; NULL for JSON */
};

static struct body bodies[64];
static size_t n_bodies;

static void add(const char *name, enum kind kind, const char *text, size_t len, bool accept,
                const char *expect)
{
    struct body *b = &bodies[n_bodies++];
    b->name = name;
    b->kind = kind;
    b->len = len ? len : strlen(text);
    b->text = malloc(b->len + 1);
    memcpy(b->text, text, b->len);
    b->text[b->len] = '\0';
    b->accept = accept;
    b->expect = expect;
}

/* Append text at *at in s (sized by the caller). */
static void put(char *s, size_t *at, const char *text)
{
    size_t n = strlen(text);
    memcpy(s + *at, text, n + 1);
    *at += n;
}

/* n objects {"a": ...} around inner, as a JSON text */
static char *nested_json(int n, const char *inner)
{
    char *s = calloc(1, (size_t)n * 8 + strlen(inner) + 1);
    size_t at = 0;
    for (int i = 0; i < n; i++)
        put(s, &at, "{\"a\":");
    put(s, &at, inner);
    for (int i = 0; i < n; i++)
        put(s, &at, "}");
    return s;
}

/* k[x]...[x]=v with n bracket pairs */
static char *nested_form(int n)
{
    char *s = calloc(1, (size_t)n * 3 + 8);
    size_t at = 0;
    put(s, &at, "k");
    for (int i = 0; i < n; i++)
        put(s, &at, "[x]");
    put(s, &at, "=v");
    return s;
}

static void make_table(void)
{
    char *s;
    /* nesting: the value of 31 objects is at level 32, the limit */
    s = nested_json(31, "1");
    add("objects at the limit", JSON, s, 0, true, NULL);
    free(s);
    s = nested_json(32, "1");
    add("objects over the limit", JSON, s, 0, false, NULL);
    free(s);
    s = nested_form(30);
    add("form at the limit", FORM, s, 0, true, NULL);
    free(s);
    s = nested_form(31);
    add("form over the limit", FORM, s, 0, false, NULL);
    free(s);
    s = nested_form(32); /* the 33 levels of the report */
    add("form 33 levels", FORM, s, 0, false, NULL);
    free(s);
    /* numbers */
    add("int64 and uint64 ends", JSON,
        "{\"max\": 9223372036854775807, \"min\": -9223372036854775808, "
        "\"umax\": 18446744073709551615, \"d\": 1.5e300, \"tiny\": 0.000001, \"z\": -0}",
        0, true, NULL);
    add("integer past uint64", JSON, "{\"n\": 18446744073709551616}", 0, false, NULL);
    add("integer past int64", JSON, "{\"n\": -9223372036854775809}", 0, false, NULL);
    add("huge integer", JSON, "{\"n\": 123456789012345678901234567890}", 0, false, NULL);
    add("double overflow", JSON, "{\"n\": 1e400}", 0, false, NULL);
    /* strings */
    add("unicode escapes", JSON, "{\"s\": \"\\u00e9\\u20ac\\ud83d\\ude00 \\\"q\\\" \\/ \\t\"}", 0,
        true, NULL);
    add("raw UTF-8", JSON, "{\"s\": \"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0, true,
        NULL);
    add("lone high surrogate", JSON, "{\"s\": \"\\ud800\"}", 0, false, NULL);
    add("lone low surrogate", JSON, "{\"s\": \"x\\udc00\"}", 0, false, NULL);
    add("NUL in a string", JSON, "{\"s\": \"a\\u0000b\"}", 0, true, NULL);
    add("NUL in a key", JSON, "{\"a\\u0000b\": 1, \"a\\u0000c\": 2}", 0, false, NULL);
    add("raw NUL byte", JSON, "{\"s\": \"a\0b\"}", sizeof("{\"s\": \"a\0b\"}") - 1, false, NULL);
    add("invalid UTF-8", JSON, "{\"s\": \"\xff\xfe\"}", 0, false, NULL);
    add("overlong UTF-8", JSON, "{\"s\": \"\xc0\xaf\"}", 0, false, NULL);
    add("raw control character", JSON, "{\"s\": \"a\x01z\"}", 0, false, NULL);
    /* keys */
    add("duplicate keys", JSON, "{\"a\": 1, \"a\": 2}", 0, false, NULL);
    add("duplicate keys by escape", JSON, "{\"a\": 1, \"\\u0061\": 2}", 0, false, NULL);
    add("same key in two objects", JSON, "{\"x\": {\"a\": 1}, \"y\": {\"a\": 2}}", 0, true, NULL);
    /* what json-c's lenient reader takes and SQLite's json functions do not */
    add("trailing comma", JSON, "{\"a\": [1, 2,]}", 0, false, NULL);
    add("single quotes", JSON, "{'a': 1}", 0, false, NULL);
    add("NaN", JSON, "{\"a\": NaN}", 0, false, NULL);
    /* a huge string, near max_body */
    size_t big = 900 * 1024;
    s = malloc(big + 32);
    memcpy(s, "{\"big\": \"", 9);
    for (size_t i = 0; i < big; i++)
        s[9 + i] = (char)('a' + i % 26);
    memcpy(s + 9 + big, "\"}", 3);
    add("huge string", JSON, s, 0, true, NULL);
    free(s);
    /* forms and text */
    add("form arrays and escapes", FORM, "a[]=1&a[]=2&n=%C3%A9+x&z=%00&q[w][e]=r", 0, true,
        "{\"a\": [\"1\", \"2\"], \"n\": \"\\u00e9 x\", \"z\": \"\\u0000\", "
        "\"q\": {\"w\": {\"e\": \"r\"}}}");
    add("form invalid UTF-8", FORM, "a=%FF%FE", 0, false, NULL);
    add("text", TEXT, "h\xc3\xa9llo\r\nworld", 0, true, "{\"text\": \"h\\u00e9llo\\r\\nworld\"}");
    add("text invalid UTF-8", TEXT, "h\xe9llo", 0, false, NULL);
}

static int setup(void **state)
{
    (void)state;
    make_table();
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    /* no id_path: each delivery gets its own id, which names its file */
    sbp_write_workflowf(&proc, "intact",
                        "[trigger]\nuse = http.webhook\nverify = none\n\n"
                        "[step keep]\nuse = log.append\nfile = %s/seen-{{ trigger.id }}.json\n"
                        "json = {{ event | json }}\n",
                        proc.dir);
    return sbp_start(&proc, NULL);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    for (size_t i = 0; i < n_bodies; i++)
        free(bodies[i].text);
    return 0;
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
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

/* The stored payload of an event, as bytes (caller frees). */
static char *stored_payload(const char *event_id, size_t *len)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(proc.store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT payload FROM events WHERE event_id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, event_id, -1, SQLITE_TRANSIENT);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        out = malloc(*len + 1);
        memcpy(out, sqlite3_column_blob(st, 0), *len);
        out[*len] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static struct json_object *parse_whole(const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    if (v && (json_tokener_get_error(tok) != json_tokener_success ||
              (size_t)json_tokener_get_parse_end(tok) != len)) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

static const char *content_type(enum kind k)
{
    return k == JSON   ? "Content-Type: application/json"
           : k == FORM ? "Content-Type: application/x-www-form-urlencoded"
                       : "Content-Type: text/plain; charset=utf-8";
}

/* POST the body; its status and (when accepted) its event id. */
static long post(const struct body *b, char *id, size_t idlen, char *answer, size_t alen)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/hooks/intact", proc.base_url);
    const char *const headers[] = {content_type(b->kind), NULL};
    struct http_reply r;
    assert_int_equal(http_do("POST", url, headers, b->text, b->len, 10000, &r), 0);
    snprintf(answer, alen, "%s", r.body);
    id[0] = '\0';
    struct json_object *o = json_tokener_parse(r.body), *v;
    if (o && json_object_object_get_ex(o, "id", &v))
        snprintf(id, idlen, "%s", json_object_get_string(v));
    json_object_put(o);
    long status = r.status;
    http_reply_free(&r);
    return status;
}

static void test_every_accepted_body_is_read_back_whole(void **state)
{
    (void)state;
    size_t accepted = 0;
    for (size_t i = 0; i < n_bodies; i++) {
        const struct body *b = &bodies[i];
        int64_t before = sbp_sql_int(&proc, "SELECT count(*) FROM events");
        char id[128], answer[512];
        long status = post(b, id, sizeof(id), answer, sizeof(answer));
        if (!b->accept) {
            if (status != 400)
                fail_msg("'%s' was answered %ld, want 400: %s", b->name, status, answer);
            struct json_object *o = json_tokener_parse(answer), *why;
            if (!o || !json_object_object_get_ex(o, "error", &why))
                fail_msg("'%s': not a JSON error: %s", b->name, answer);
            json_object_put(o);
            assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events"), before);
            continue;
        }
        if (status != 200 || !id[0])
            fail_msg("'%s' was answered %ld, want 200: %s", b->name, status, answer);
        accepted++;
        /* what was stored */
        size_t slen = 0;
        char *stored = stored_payload(id, &slen);
        if (!stored)
            fail_msg("'%s': no event %s in the store", b->name, id);
        if (b->kind == JSON && (slen != b->len || memcmp(stored, b->text, slen) != 0))
            fail_msg("'%s': the stored payload is not the body byte for byte", b->name);
        struct json_object *want = parse_whole(stored, slen);
        if (!want)
            fail_msg("'%s': the stored payload is not one JSON document", b->name);
        if (b->expect) {
            struct json_object *exp = json_tokener_parse(b->expect);
            if (!json_object_equal(exp, want))
                fail_msg("'%s': stored %s, want %s", b->name, stored, b->expect);
            json_object_put(exp);
        }
        /* what the dispatcher handed to the workflow */
        char path[400];
        snprintf(path, sizeof(path), "%s/seen-%s.json", proc.dir, id);
        int64_t until = testkit_now_ms() + 15000;
        size_t glen = 0;
        char *got = NULL;
        while (!(got = read_whole(path, &glen)) && testkit_now_ms() < until)
            testkit_sleep_ms(20);
        if (!got)
            fail_msg("'%s': the run did not write %s", b->name, path);
        /* one line, as log.append writes it */
        assert_true(glen > 0 && got[glen - 1] == '\n');
        struct json_object *seen = parse_whole(got, glen - 1);
        if (!seen || !json_object_equal(seen, want))
            fail_msg("'%s': the dispatcher read\n%.300s\nbut the store holds\n%.300s", b->name, got,
                     stored);
        /* numbers keep their digits (json_object_equal compares values) */
        if (strstr(b->name, "uint64"))
            assert_non_null(strstr(got, "18446744073709551615"));
        json_object_put(seen);
        json_object_put(want);
        free(got);
        free(stored);
    }
    /* the table has both kinds */
    assert_true(accepted >= 10);
    assert_true(accepted < n_bodies - 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_accepted_body_is_read_back_whole),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
