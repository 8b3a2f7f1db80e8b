/* application/x-www-form-urlencoded decoding (core/form.h): PHP/Rack
 * nesting with literal and percent-encoded brackets, arrays, escapes and
 * the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "form.h"
#include "payload_check.h"
#include "strbuf.h"

/* Mailchimp's subscribe sample (connectors.md 3.1), literal brackets. */
static const char mailchimp_literal[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data[id]=8a25ff1d98&data[list_id]=a6b5da1054"
    "&data[email]=api%40mailchimp.com&data[email_type]=html&data[merges][EMAIL]=api%40mailchimp.com"
    "&data[merges][FNAME]=Mailchimp&data[merges][LNAME]=API&data[merges][INTERESTS]=Group1%2CGroup2"
    "&data[ip_opt]=10.20.10.30&data[ip_signup]=10.20.10.30";

/* The same body as real deliveries send it: brackets percent-encoded. */
static const char mailchimp_encoded[] =
    "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98"
    "&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%40mailchimp.com"
    "&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=api%40mailchimp.com"
    "&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%5BLNAME%5D=API"
    "&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2&data%5Bip_opt%5D=10.20.10.30"
    "&data%5Bip_signup%5D=10.20.10.30";

static struct json_object *decode(const char *text)
{
    return form_decode(text, strlen(text));
}

/* The string at a dotted path ("data.merges.FNAME"), or NULL. */
static const char *str_at(struct json_object *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    struct json_object *cur = root;
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save)) {
        struct json_object *next = NULL;
        if (json_object_is_type(cur, json_type_array)) {
            char *end;
            long i = strtol(k, &end, 10);
            next = *end ? NULL : json_object_array_get_idx(cur, (size_t)i);
        } else if (!json_object_object_get_ex(cur, k, &next)) {
            next = NULL;
        }
        cur = next;
    }
    return cur && json_object_is_type(cur, json_type_string) ? json_object_get_string(cur) : NULL;
}

static void assert_json(struct json_object *got, const char *want_text)
{
    struct json_object *want = json_tokener_parse(want_text);
    assert_non_null(want);
    if (!json_object_equal(got, want))
        fail_msg("got %s, want %s", got ? json_object_to_json_string(got) : "NULL", want_text);
    json_object_put(want);
}

static void test_mailchimp_sample(void **state)
{
    (void)state;
    struct json_object *lit = decode(mailchimp_literal);
    assert_non_null(lit);
    assert_string_equal(str_at(lit, "type"), "subscribe");
    assert_string_equal(str_at(lit, "fired_at"), "2009-03-26 21:35:57");
    assert_string_equal(str_at(lit, "data.id"), "8a25ff1d98");
    assert_string_equal(str_at(lit, "data.list_id"), "a6b5da1054");
    assert_string_equal(str_at(lit, "data.email"), "api@mailchimp.com");
    assert_string_equal(str_at(lit, "data.email_type"), "html");
    assert_string_equal(str_at(lit, "data.merges.EMAIL"), "api@mailchimp.com");
    assert_string_equal(str_at(lit, "data.merges.FNAME"), "Mailchimp");
    assert_string_equal(str_at(lit, "data.merges.LNAME"), "API");
    assert_string_equal(str_at(lit, "data.merges.INTERESTS"), "Group1,Group2");
    assert_string_equal(str_at(lit, "data.ip_opt"), "10.20.10.30");
    assert_string_equal(str_at(lit, "data.ip_signup"), "10.20.10.30");
    /* nothing else at the top or in data */
    assert_int_equal(json_object_object_length(lit), 3);
    struct json_object *data;
    assert_true(json_object_object_get_ex(lit, "data", &data));
    assert_int_equal(json_object_object_length(data), 7);

    struct json_object *enc = decode(mailchimp_encoded);
    assert_non_null(enc);
    if (!json_object_equal(lit, enc))
        fail_msg("literal %s\nencoded %s", json_object_to_json_string(lit),
                 json_object_to_json_string(enc));
    json_object_put(lit);
    json_object_put(enc);
}

static void test_escapes(void **state)
{
    (void)state;
    struct json_object *o = decode("a=one+two&b=%41%62%2b&c=caf%C3%A9&d=100%25&e=%7e");
    assert_json(o, "{\"a\": \"one two\", \"b\": \"Ab+\", \"c\": \"caf\\u00e9\","
                   " \"d\": \"100%\", \"e\": \"~\"}");
    json_object_put(o);
    /* + and %XX in keys too */
    o = decode("first+name=x&last%20name=y&%61=z");
    assert_json(o, "{\"first name\": \"x\", \"last name\": \"y\", \"a\": \"z\"}");
    json_object_put(o);
    /* a key without '=' has an empty value; an empty value stays empty */
    o = decode("flag&empty=&x=1");
    assert_json(o, "{\"flag\": \"\", \"empty\": \"\", \"x\": \"1\"}");
    json_object_put(o);
    /* '=' inside a value is kept */
    o = decode("q=a=b=c");
    assert_json(o, "{\"q\": \"a=b=c\"}");
    json_object_put(o);
}

static void test_invalid_escapes_kept(void **state)
{
    (void)state;
    struct json_object *o = decode("a=%zz&b=%4&c=%&d=50%+off&e=%%41&f=%4G");
    assert_json(o, "{\"a\": \"%zz\", \"b\": \"%4\", \"c\": \"%\", \"d\": \"50% off\","
                   " \"e\": \"%A\", \"f\": \"%4G\"}");
    json_object_put(o);
    /* %00 decodes to a NUL byte inside the string, not a cut */
    o = decode("n=a%00b");
    struct json_object *n;
    assert_true(json_object_object_get_ex(o, "n", &n));
    assert_int_equal(json_object_get_string_len(n), 3);
    assert_memory_equal(json_object_get_string(n), "a\0b", 3);
    json_object_put(o);
}

static void test_form_unescape(void **state)
{
    (void)state;
    size_t len = 99;
    char *s = form_unescape("a+b%20c%zz", 10, 1, &len);
    assert_string_equal(s, "a b c%zz");
    assert_int_equal(len, 8);
    free(s);
    s = form_unescape("a+b%2B", 6, 0, &len);
    assert_string_equal(s, "a+b+");
    assert_int_equal(len, 4);
    free(s);
    /* only `len` bytes are read: the escape cut by the length stays literal */
    s = form_unescape("%41%42", 5, 1, &len);
    assert_string_equal(s, "A%4");
    assert_int_equal(len, 3);
    free(s);
    s = form_unescape("", 0, 1, NULL);
    assert_string_equal(s, "");
    free(s);
}

static void test_arrays(void **state)
{
    (void)state;
    struct json_object *o = decode("a[]=1&a[]=2&a[]=3");
    assert_json(o, "{\"a\": [\"1\", \"2\", \"3\"]}");
    json_object_put(o);
    o = decode("a[0]=x&a[1]=y");
    assert_json(o, "{\"a\": [\"x\", \"y\"]}");
    json_object_put(o);
    /* indexes out of order still make the array in index order */
    o = decode("a[1]=y&a[0]=x");
    assert_json(o, "{\"a\": [\"x\", \"y\"]}");
    json_object_put(o);
    /* percent-encoded brackets, Stripe style nested arrays */
    o = decode("items%5B0%5D%5Bprice%5D=p1&items%5B1%5D%5Bprice%5D=p2&expand%5B%5D=tax");
    assert_json(o,
                "{\"items\": [{\"price\": \"p1\"}, {\"price\": \"p2\"}], \"expand\": [\"tax\"]}");
    json_object_put(o);
    /* a gap in the indexes keeps an object */
    o = decode("a[0]=x&a[2]=z");
    assert_json(o, "{\"a\": {\"0\": \"x\", \"2\": \"z\"}}");
    json_object_put(o);
    /* more than ten items stay in numeric order */
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 12; i++)
        strbuf_addf(&sb, "%sl[]=%d", i ? "&" : "", i);
    o = form_decode(strbuf_str(&sb), sb.len);
    struct json_object *l;
    assert_true(json_object_object_get_ex(o, "l", &l));
    assert_true(json_object_is_type(l, json_type_array));
    assert_int_equal(json_object_array_length(l), 12);
    for (int i = 0; i < 12; i++) {
        char want[8];
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(l, (size_t)i)), want);
    }
    json_object_put(o);
    strbuf_release(&sb);
}

static void test_plain_keys(void **state)
{
    (void)state;
    /* a repeated plain key keeps the last value */
    struct json_object *o = decode("a=1&b=2&a=3");
    assert_json(o, "{\"a\": \"3\", \"b\": \"2\"}");
    json_object_put(o);
    /* empty keys and empty fields are skipped */
    o = decode("=v&&x=1&=&");
    assert_json(o, "{\"x\": \"1\"}");
    json_object_put(o);
    o = decode("");
    assert_json(o, "{}");
    json_object_put(o);
    o = form_decode("a=1&b=2", 3); /* only the first 3 bytes */
    assert_json(o, "{\"a\": \"1\"}");
    json_object_put(o);
    /* malformed brackets are taken literally */
    o = decode("a[b=1&[c]=2&d]=3");
    assert_json(o, "{\"a[b\": \"1\", \"[c]\": \"2\", \"d]\": \"3\"}");
    json_object_put(o);
}

static void test_nesting(void **state)
{
    (void)state;
    struct json_object *o = decode("a[b][c][d]=deep&a[b][e]=near&a[f]=top");
    assert_json(o, "{\"a\": {\"b\": {\"c\": {\"d\": \"deep\"}, \"e\": \"near\"}, \"f\": \"top\"}}");
    json_object_put(o);
    /* a nested key replaces an earlier plain value of the same name */
    o = decode("a=plain&a[x]=1");
    assert_json(o, "{\"a\": {\"x\": \"1\"}}");
    json_object_put(o);
    o = decode("data[merges][ADDRESS][city]=Atlanta&data[merges][ADDRESS][zip]=30308");
    assert_json(o, "{\"data\": {\"merges\": {\"ADDRESS\": {\"city\": \"Atlanta\", \"zip\": "
                   "\"30308\"}}}}");
    json_object_put(o);
}

/* key followed by `levels` bracket pairs, then =v */
static char *nested_key(int levels, const char *open, const char *close)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "k");
    for (int i = 0; i < levels; i++)
        strbuf_addf(&sb, "%sx%s", open, close);
    strbuf_addstr(&sb, "=v");
    return strbuf_detach(&sb, NULL);
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* 30 levels of brackets are fine, 31 are refused: the value of
     * k[x]...[x] (30 pairs) is at JSON level 32, the most the store gives
     * back whole (json-c's reader stops there) */
    char *ok = nested_key(30, "[", "]");
    struct json_object *o = decode(ok);
    assert_non_null(o);
    struct json_object *cur = o;
    int depth = 0;
    while (json_object_is_type(cur, json_type_object)) {
        struct json_object *next = NULL;
        json_object_object_get_ex(cur, depth == 0 ? "k" : "x", &next);
        cur = next;
        depth++;
    }
    assert_non_null(cur);
    assert_string_equal(json_object_get_string(cur), "v");
    assert_int_equal(depth, 31); /* the root object, then k and 29 x objects */
    /* what ingress would store: accepted, and read back equal */
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char why[160];
    assert_int_equal(payload_check(text, strlen(text), why, sizeof(why)), 0);
    struct json_object *back = json_tokener_parse(text);
    assert_non_null(back);
    assert_true(json_object_equal(o, back));
    json_object_put(back);
    json_object_put(o);
    free(ok);

    char *deep = nested_key(31, "[", "]");
    assert_null(decode(deep));
    free(deep);
    /* the limit holds for percent-encoded brackets too */
    deep = nested_key(31, "%5B", "%5D");
    assert_null(decode(deep));
    free(deep);
    ok = nested_key(30, "%5B", "%5D");
    o = decode(ok);
    assert_non_null(o);
    json_object_put(o);
    free(ok);
    /* a refused field after good ones refuses the whole body */
    char *body_deep = nested_key(40, "[", "]");
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "a=1&%s&b=2", body_deep);
    assert_null(form_decode(strbuf_str(&sb), sb.len));
    strbuf_release(&sb);
    free(body_deep);
}

static void test_field_limit(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 10000; i++)
        strbuf_addf(&sb, "%sf%d=1", i ? "&" : "", i);
    struct json_object *o = form_decode(strbuf_str(&sb), sb.len);
    assert_non_null(o);
    assert_int_equal(json_object_object_length(o), 10000);
    json_object_put(o);
    strbuf_addstr(&sb, "&one=more");
    assert_null(form_decode(strbuf_str(&sb), sb.len));
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailchimp_sample),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_invalid_escapes_kept),
        cmocka_unit_test(test_form_unescape),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_plain_keys),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_field_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
