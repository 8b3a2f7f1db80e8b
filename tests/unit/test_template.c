/*
 * Unit tests of the template engine (core/template.c, template_filters.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <switchboard/plugin.h>

#include "strbuf.h"
#include "template.h"

static const char root_json[] =
    "{"
    "\"event\": {"
    "  \"id\": \"evt_1\","
    "  \"data\": {\"object\": {"
    "    \"amount\": 5000, \"amount_total\": 4200, \"currency\": \"eur\","
    "    \"price\": \"1575.90\", \"ratio\": 50.5, \"tiny\": 0.1, \"cents\": 50.50,"
    "    \"note\": null, \"empty\": \"\", \"livemode\": false, \"zero\": 0,"
    "    \"refund\": -5000, \"customer\": {\"email\": \"a@b.c\"}}},"
    "  \"big_id\": 820982911946154508,"
    "  \"huge\": 18446744073709551615,"
    "  \"items\": [{\"sku\": \"A-1\", \"qty\": 2}, {\"sku\": \"B-2\", \"qty\": 1}],"
    "  \"tags\": [\"red\", \"green\", \"blue\"],"
    "  \"nested\": [[1, 2], [3]],"
    "  \"text\": \"  Hello, World \\t\","
    "  \"unicode\": \"h\\u00e9llo w\\u00f6rld \\u2603\","
    "  \"weird key\": \"w\","
    "  \"created\": 1719419601,"
    "  \"created_str\": \"1719419601\","
    "  \"iso\": \"2024-06-26T12:33:21-04:00\","
    "  \"shopify_date\": \"2009-03-26 21:35:57\","
    "  \"html\": \"<b>Tom & Jerry</b>\","
    "  \"multiline\": \"line1\\nline2\","
    "  \"cr\": \"a\\rb\","
    "  \"path\": \"a b/c?d&e=f\","
    "  \"url\": \"https://example.com/x?y=1\","
    "  \"quote\": \"say \\\"hi\\\" \\\\ bye\","
    "  \"fmt\": \"%d.%m.%Y\", \"bad_fmt\": \"%Q\","
    "  \"n\": 3"
    "},"
    "\"trigger\": {\"headers\": {\"x-shopify-topic\": \"orders/create\"}},"
    "\"steps\": {\"card\": {\"url\": \"https://trello.com/c/1\"}}"
    "}";

static struct json_object *root;

static int setup(void **state)
{
    (void)state;
    root = json_tokener_parse(root_json);
    if (!root)
        return -1;
    struct json_object *event;
    json_object_object_get_ex(root, "event", &event);
    /* doubles computed rather than parsed carry no source text */
    json_object_object_add(event, "computed", json_object_new_double(0.1));
    json_object_object_add(event, "whole", json_object_new_double(2.0));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(root);
    return 0;
}

static char errbuf[512];

/* Render text against root; fails the test on any error. Caller frees. */
static char *render_with(const char *text, unsigned escape, struct json_object *r)
{
    struct template *t;
    struct strbuf sb = STRBUF_INIT;
    if (template_parse(text, escape, &t, errbuf, sizeof(errbuf)) < 0)
        fail_msg("parse of '%s' failed: %s", text, errbuf);
    if (template_render(t, r, &sb, errbuf, sizeof(errbuf)) < 0)
        fail_msg("render of '%s' failed: %s", text, errbuf);
    template_free(t);
    return strbuf_detach(&sb, NULL);
}

static char *render(const char *text, unsigned escape)
{
    return render_with(text, escape, root);
}

#define assert_render(text, escape, expected)                                                      \
    do {                                                                                           \
        char *got_ = render(text, escape);                                                         \
        assert_string_equal(got_, expected);                                                       \
        free(got_);                                                                                \
    } while (0)

#define assert_text(text, expected) assert_render(text, SB_ESCAPE_NONE, expected)

/* Parse must succeed and render fail; returns the message. */
static const char *render_error(const char *text, unsigned escape)
{
    struct template *t;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "kept");
    if (template_parse(text, escape, &t, errbuf, sizeof(errbuf)) < 0)
        fail_msg("parse of '%s' failed: %s", text, errbuf);
    if (template_render(t, root, &sb, errbuf, sizeof(errbuf)) == 0)
        fail_msg("render of '%s' succeeded: '%s'", text, sb.buf);
    /* the output buffer is left as it was */
    assert_string_equal(strbuf_str(&sb), "kept");
    strbuf_release(&sb);
    template_free(t);
    return errbuf;
}

static const char *parse_error(const char *text, unsigned escape)
{
    struct template *t = NULL;
    if (template_parse(text, escape, &t, errbuf, sizeof(errbuf)) == 0)
        fail_msg("parse of '%s' succeeded", text);
    assert_null(t);
    return errbuf;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *hay_ = (hay);                                                                  \
        if (!strstr(hay_, needle))                                                                 \
            fail_msg("'%s' does not contain '%s'", hay_, needle);                                  \
    } while (0)

/* ------------------------------------------------------------------------- */
/* Paths and values                                                          */
/* ------------------------------------------------------------------------- */

static void test_literal_text(void **state)
{
    (void)state;
    struct template *t;
    assert_int_equal(template_parse("plain } text {", SB_ESCAPE_NONE, &t, errbuf, 64), 0);
    assert_false(template_has_expressions(t));
    assert_string_equal(template_text(t), "plain } text {");
    template_free(t);
    assert_text("", "");
    assert_text("a }} b", "a }} b");
}

static void test_paths(void **state)
{
    (void)state;
    assert_text("id={{event.id}}!", "id=evt_1!");
    assert_text("{{   event.id   }}", "evt_1");
    assert_text("{{ event.data.object.customer.email }}", "a@b.c");
    assert_text("{{ event.items.0.sku }} {{ event.items[1].sku }}", "A-1 B-2");
    assert_text("{{ event.nested[0][1] }}{{ event.nested.1.0 }}", "23");
    assert_text("{{ event[\"weird key\"] }}{{ event['weird key'] }}", "ww");
    assert_text("{{ trigger.headers.x-shopify-topic }}", "orders/create");
    struct template *t;
    assert_int_equal(template_parse("{{ event.id }}", SB_ESCAPE_NONE, &t, errbuf, 64), 0);
    assert_true(template_has_expressions(t));
    template_free(t);
}

static void test_value_text(void **state)
{
    (void)state;
    assert_text("{{ event.big_id }}", "820982911946154508");
    assert_text("{{ event.huge }}", "18446744073709551615");
    assert_text("{{ event.data.object.ratio }}|{{ event.data.object.tiny }}", "50.5|0.1");
    assert_text("{{ event.computed }}|{{ event.whole }}", "0.1|2.0");
    assert_text("{{ event.data.object.cents }}", "50.50");
    assert_text("{{ event.data.object.livemode }}", "false");
    assert_text("[{{ event.data.object.note }}]", "[]");
    assert_text("{{ event.data.object.refund }}", "-5000");
    assert_text("{{ event.items.0 }}", "{\"sku\":\"A-1\",\"qty\":2}");
    assert_text("{{ event.tags }}", "[\"red\",\"green\",\"blue\"]");
}

static void test_literal_subjects(void **state)
{
    (void)state;
    assert_text("{{ \"{{\" }} x }}", "{{ x }}");
    assert_text("{{ 'it\\'s' }}", "it's");
    assert_text("{{ \"text\" | upper }}", "TEXT");
    assert_text("{{ \"a\\\"b\\\\c\\u00e9\" }}", "a\"b\\c\xc3\xa9");
    assert_text("{{ 42 }} {{ -7 }} {{ 2.5 }} {{ true }}", "42 -7 2.5 true");
}

static void test_missing_path(void **state)
{
    (void)state;
    assert_string_equal(render_error("{{ event.data.object.amont }}", SB_ESCAPE_NONE),
                        "'event.data.object.amont' does not exist (did you mean 'amount'?)");
    /* the first missing segment is named */
    assert_string_equal(render_error("{{ event.dta.object.amount }}", SB_ESCAPE_NONE),
                        "'event.dta' does not exist (did you mean 'data'?)");
    assert_string_equal(render_error("{{ evnt.id }}", SB_ESCAPE_NONE),
                        "'evnt' does not exist (did you mean 'event'?)");
    assert_string_equal(render_error("{{ event.zzzzzz }}", SB_ESCAPE_NONE),
                        "'event.zzzzzz' does not exist");
    assert_string_equal(render_error("{{ event.items.5.sku }}", SB_ESCAPE_NONE),
                        "'event.items.5' does not exist ('event.items' has 2 elements)");
    assert_string_equal(render_error("{{ event.id.x }}", SB_ESCAPE_NONE),
                        "'event.id.x' does not exist ('event.id' is a string)");
    assert_string_equal(render_error("{{ event.data.object.note.x }}", SB_ESCAPE_NONE),
                        "'event.data.object.note.x' does not exist "
                        "('event.data.object.note' is null)");
    /* an error in the second expression discards the first one's output */
    assert_contains(render_error("{{ event.id }} {{ event.nope }}", SB_ESCAPE_NONE),
                    "'event.nope' does not exist");
}

static void test_default(void **state)
{
    (void)state;
    assert_text("{{ event.nope | default: \"n/a\" }}", "n/a");
    assert_text("{{ event.data.object.note | default: 'none' }}", "none");
    assert_text("{{ event.data.object.empty | default: 'blank' }}", "blank");
    assert_text("{{ event.data.object.zero | default: 5 }}", "0");
    assert_text("{{ event.data.object.livemode | default: true }}", "false");
    assert_text("{{ event.id | default: 'x' }}", "evt_1");
    assert_text("{{ event.nope | default: event.id }}", "evt_1");
    /* filters before default skip the absent value */
    assert_text("{{ event.nope.deeper | upper | default: 'x' | upper }}", "X");
    /* a path argument must exist */
    assert_contains(render_error("{{ event.nope | default: event.nope2 }}", SB_ESCAPE_NONE),
                    "'event.nope2' does not exist");
}

/* ------------------------------------------------------------------------- */
/* Filters                                                                   */
/* ------------------------------------------------------------------------- */

static void test_filter_names(void **state)
{
    (void)state;
    size_t n = 0;
    for (; template_filter_names[n]; n++) {
        char text[64];
        snprintf(text, sizeof(text), "{{ 'x' | %s%s }}", template_filter_names[n],
                 !strcmp(template_filter_names[n], "replace")    ? ": 'a', 'b'"
                 : !strcmp(template_filter_names[n], "default")  ? ": 1"
                 : !strcmp(template_filter_names[n], "truncate") ? ": 3"
                                                                 : "");
        struct template *t;
        if (template_parse(text, SB_ESCAPE_NONE, &t, errbuf, sizeof(errbuf)) < 0)
            fail_msg("%s: %s", text, errbuf);
        template_free(t);
    }
    assert_int_equal(n, 19);
}

static void test_case_and_trim(void **state)
{
    (void)state;
    assert_text("{{ event.id | upper }}", "EVT_1");
    assert_text("{{ 'MiXeD \xc3\x89' | lower }}", "mixed \xc3\x89");
    assert_text("[{{ event.text | trim }}]", "[Hello, World]");
    assert_text("{{ event.big_id | upper }}", "820982911946154508");
}

static void test_json_and_urlencode(void **state)
{
    (void)state;
    assert_text("{{ event.id | json }}", "\"evt_1\"");
    assert_text("{{ event.items | json }}",
                "[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-2\",\"qty\":1}]");
    assert_text("{{ event.data.object.note | json }}", "null");
    assert_text("{{ event.path | urlencode }}", "a%20b%2Fc%3Fd%26e%3Df");
    assert_text("{{ '-._~\xc3\xa9' | urlencode }}", "-._~%C3%A9");
}

static void test_money(void **state)
{
    (void)state;
    assert_text("{{ event.data.object.amount | money }}", "$50.00");
    assert_text("{{ 123456789 | money }}", "$1,234,567.89");
    assert_text("{{ 5 | money }}", "$0.05");
    assert_text("{{ event.data.object.amount | money: 'EUR' }}", "\xe2\x82\xac"
                                                                 "50.00");
    assert_text("{{ event.data.object.amount | money: 'gbp' }}", "\xc2\xa3"
                                                                 "50.00");
    assert_text("{{ event.data.object.amount | money: 'JPY' }}", "\xc2\xa5"
                                                                 "5,000");
    assert_text("{{ event.data.object.amount | money: 'KRW' }}", "5,000 KRW");
    assert_text("{{ event.data.object.amount | money: 'chf' }}", "50.00 CHF");
    assert_text("{{ event.data.object.amount | money: event.data.object.currency }}", "\xe2\x82\xac"
                                                                                      "50.00");
    assert_text("{{ event.data.object.price | money }}", "$1,575.90");
    assert_text("{{ '1575.9' | money: 'JPY' }}", "\xc2\xa5"
                                                 "1,576");
    assert_text("{{ event.data.object.ratio | money }}", "$50.50");
    assert_text("{{ '1.005' | money }}", "$1.01");
    assert_text("{{ '-0.001' | money }}", "$0.00");
    assert_text("{{ '1e3' | money }}", "$1,000.00");
    assert_text("{{ event.data.object.refund | money }}", "-$50.00");
    assert_text("{{ '-12.5' | money: 'CHF' }}", "-12.50 CHF");
    assert_text("{{ event.big_id | money }}", "$8,209,829,119,461,545.08");
    assert_contains(render_error("{{ 'abc' | money }}", SB_ESCAPE_NONE),
                    "money: 'abc' is not an amount");
    assert_contains(render_error("{{ event.tags | money }}", SB_ESCAPE_NONE), "money:");
    assert_contains(render_error("{{ 5 | money: event.id }}", SB_ESCAPE_NONE),
                    "money: invalid currency 'evt_1'");
    assert_contains(parse_error("{{ 5 | money: 'dollars' }}", SB_ESCAPE_NONE),
                    "money: invalid currency 'dollars'");
    assert_contains(parse_error("{{ 5 | money: 12 }}", SB_ESCAPE_NONE), "invalid currency");
}

static void test_date(void **state)
{
    (void)state;
    assert_text("{{ event.created | date }}", "2024-06-26 16:33:21 UTC");
    assert_text("{{ event.created_str | date }}", "2024-06-26 16:33:21 UTC");
    assert_text("{{ event.iso | date }}", "2024-06-26 16:33:21 UTC");
    assert_text("{{ event.shopify_date | date }}", "2009-03-26 21:35:57 UTC");
    assert_text("{{ event.created | date: '%d/%m/%Y %H:%M' }}", "26/06/2024 16:33");
    assert_text("{{ event.created | date: event.fmt }}", "26.06.2024");
    assert_text("{{ '2024-02-29' | date }}", "2024-02-29 00:00:00 UTC");
    assert_text("{{ '2024-06-26T12:33:21.123456Z' | date }}", "2024-06-26 12:33:21 UTC");
    assert_text("{{ '2024-06-26T23:30:00+0530' | date }}", "2024-06-26 18:00:00 UTC");
    assert_text("{{ '2024-12-31T23:00:00-02:00' | date }}", "2025-01-01 01:00:00 UTC");
    assert_text("{{ -31536000 | date }}", "1969-01-01 00:00:00 UTC");
    assert_text("{{ '1900-03-01 00:00:00' | date: '%A %j' }}", "Thursday 060");
    assert_text("{{ 1719419601.9 | date }}", "2024-06-26 16:33:21 UTC");
    assert_contains(render_error("{{ '2023-02-29' | date }}", SB_ESCAPE_NONE),
                    "date: '2023-02-29' is not a date");
    assert_contains(render_error("{{ 'yesterday' | date }}", SB_ESCAPE_NONE), "is not a date");
    assert_contains(render_error("{{ 99999999999999 | date }}", SB_ESCAPE_NONE), "out of range");
    assert_contains(render_error("{{ 5 | date: event.bad_fmt }}", SB_ESCAPE_NONE),
                    "date: unsupported conversion '%Q' in format");
    assert_contains(parse_error("{{ 5 | date: '%Q' }}", SB_ESCAPE_NONE),
                    "unsupported conversion '%Q'");
    assert_contains(parse_error("{{ 5 | date: 'x%' }}", SB_ESCAPE_NONE), "ends with '%'");
}

static void test_truncate(void **state)
{
    (void)state;
    /* "héllo wörld ☃" is 13 characters, 17 bytes */
    assert_text("{{ event.unicode | truncate: 5 }}", "h\xc3\xa9ll\xe2\x80\xa6");
    assert_text("{{ event.unicode | truncate: 13 }}", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83");
    assert_text("{{ event.unicode | truncate: 12 }}", "h\xc3\xa9llo w\xc3\xb6rld\xe2\x80\xa6");
    assert_text("{{ event.unicode | truncate: 6, '...' }}", "h\xc3\xa9l...");
    assert_text("{{ event.unicode | truncate: 2, '...' }}", "h\xc3\xa9");
    assert_text("{{ event.unicode | truncate: 4, '' }}", "h\xc3\xa9ll");
    assert_text("[{{ event.unicode | truncate: 0 }}]", "[]");
    assert_text("{{ event.unicode | truncate: event.n }}", "h\xc3\xa9\xe2\x80\xa6");
    assert_contains(parse_error("{{ event.id | truncate: 'x' }}", SB_ESCAPE_NONE),
                    "truncate: expected a character count");
    assert_contains(parse_error("{{ event.id | truncate: -1 }}", SB_ESCAPE_NONE),
                    "expected a character count");
    assert_contains(render_error("{{ event.id | truncate: event.id }}", SB_ESCAPE_NONE),
                    "truncate: expected a character count");
}

static void test_join_length_first_last(void **state)
{
    (void)state;
    assert_text("{{ event.tags | join }}", "red, green, blue");
    assert_text("{{ event.tags | join: ' | ' }}", "red | green | blue");
    assert_text("{{ event.nested | join: ';' }}", "[1,2];[3]");
    assert_text("{{ event.id | join }}", "evt_1");
    assert_text("{{ event.unicode | length }}", "13");
    assert_text("{{ event.tags | length }}", "3");
    assert_text("{{ event.items.0 | length }}", "2");
    assert_text("{{ event.data.object.note | length }}", "0");
    assert_text("{{ event.tags | first }}-{{ event.tags | last }}", "red-blue");
    assert_text("{{ event.items | last | json }}", "{\"sku\":\"B-2\",\"qty\":1}");
    assert_text("{{ event.items | first }}", "{\"sku\":\"A-1\",\"qty\":2}");
    assert_text("{{ event.unicode | first }}{{ event.unicode | last }}", "h\xe2\x98\x83");
    assert_text("{{ event.tags | first | upper | length }}", "3");
    assert_text("{{ event.nested | first | last }}", "2");
}

static void test_replace_slack_digest(void **state)
{
    (void)state;
    assert_text("{{ event.html | replace: '&', 'and' }}", "<b>Tom and Jerry</b>");
    assert_text("{{ 'aaa' | replace: 'a', 'bb' }}", "bbbbbb");
    assert_text("{{ 'abc' | replace: '', 'x' }}", "abc");
    assert_text("{{ event.html | slack_escape }}", "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;");
    assert_text("{{ 'hello' | md5 }}", "5d41402abc4b2a76b9719d911017c592");
    assert_text("{{ 'hello' | sha256 }}",
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_text("{{ 'hello' | base64 }}|{{ 'hell' | base64 }}|{{ 'hel' | base64 }}",
                "aGVsbG8=|aGVsbA==|aGVs");
    assert_text("[{{ '' | base64 }}]", "[]");
    assert_text("{{ event.unicode | base64 }}", "aMOpbGxvIHfDtnJsZCDimIM=");
}

static void test_null_passes_through_filters(void **state)
{
    (void)state;
    assert_text("[{{ event.data.object.note | upper | money | date }}]", "[]");
    assert_text("{{ event.data.object.note | upper | default: 'x' }}", "x");
}

/* ------------------------------------------------------------------------- */
/* Parse errors                                                              */
/* ------------------------------------------------------------------------- */

static void test_parse_errors(void **state)
{
    (void)state;
    assert_string_equal(parse_error("Hello {{ event.id", SB_ESCAPE_NONE),
                        "unclosed '{{' at column 7");
    assert_string_equal(parse_error("Hello {{ event.id }", SB_ESCAPE_NONE),
                        "unclosed '{{' at column 7");
    assert_string_equal(parse_error("ab {{ event.id | uper }}", SB_ESCAPE_NONE),
                        "unknown filter 'uper' (did you mean 'upper'?) at column 18");
    assert_string_equal(parse_error("{{ event.id | frobnicate }}", SB_ESCAPE_NONE),
                        "unknown filter 'frobnicate' at column 15");
    assert_string_equal(parse_error("{{ event.id | upper: 1 }}", SB_ESCAPE_NONE),
                        "filter 'upper' takes no arguments at column 15");
    assert_string_equal(parse_error("{{ event.id | default }}", SB_ESCAPE_NONE),
                        "filter 'default' takes 1 argument, got 0 at column 15");
    assert_string_equal(parse_error("{{ event.id | replace: 'a' }}", SB_ESCAPE_NONE),
                        "filter 'replace' takes 2 arguments, got 1 at column 15");
    assert_string_equal(parse_error("{{ event.id | truncate: 1, 'a', 'b' }}", SB_ESCAPE_NONE),
                        "filter 'truncate' takes 1 to 2 arguments, got 3 at column 15");
    assert_string_equal(parse_error("{{ event.id | money: 'USD', 'x' }}", SB_ESCAPE_NONE),
                        "filter 'money' takes at most 1 argument, got 2 at column 15");
    assert_string_equal(parse_error("{{ }}", SB_ESCAPE_NONE), "empty expression at column 1");
    assert_string_equal(parse_error("{{ event.id extra }}", SB_ESCAPE_NONE),
                        "expected '|' or '}}' at column 13");
    assert_string_equal(parse_error("{{ 'abc }}", SB_ESCAPE_NONE),
                        "unterminated string at column 4");
    assert_string_equal(parse_error("{{ event. }}", SB_ESCAPE_NONE),
                        "expected a name after '.' at column 10");
    assert_string_equal(parse_error("{{ event[x] }}", SB_ESCAPE_NONE),
                        "expected an index or a quoted key after '[' at column 10");
    assert_string_equal(parse_error("{{ | upper }}", SB_ESCAPE_NONE),
                        "expected a path or a value at column 4");
    assert_string_equal(parse_error("{{ event.id | }}", SB_ESCAPE_NONE),
                        "expected a filter name after '|' at column 15");
    assert_string_equal(parse_error("{{ 'a\\q' }}", SB_ESCAPE_NONE),
                        "unknown escape '\\q' at column 6");
    assert_string_equal(parse_error("{{ 12ab }}", SB_ESCAPE_NONE), "invalid number at column 4");
    /* columns count characters and lines */
    assert_string_equal(parse_error("\xc3\xa9t\xc3\xa9 {{ x | uper }}", SB_ESCAPE_NONE),
                        "unknown filter 'uper' (did you mean 'upper'?) at column 12");
    assert_string_equal(parse_error("line one\nline {{ two", SB_ESCAPE_NONE),
                        "unclosed '{{' at line 2, column 6");
    assert_string_equal(parse_error("x", 9), "unknown escape context 9");
}

/* ------------------------------------------------------------------------- */
/* Escape contexts                                                           */
/* ------------------------------------------------------------------------- */

static void assert_valid_json(const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
    if (!o || json_tokener_get_parse_end(tok) < len)
        fail_msg("not valid JSON (%s): %s", json_tokener_error_desc(json_tokener_get_error(tok)),
                 text);
    json_object_put(o);
    json_tokener_free(tok);
}

static void test_json_context(void **state)
{
    (void)state;
    assert_render("{\"a\": \"{{ event.quote }}\", \"b\": {{ event.quote }}}", SB_ESCAPE_JSON,
                  "{\"a\": \"say \\\"hi\\\" \\\\ bye\", \"b\": \"say \\\"hi\\\" \\\\ bye\"}");
    assert_render("{\"n\": {{ event.big_id }}, \"d\": {{ event.data.object.ratio }}, "
                  "\"b\": {{ event.data.object.livemode }}, \"z\": {{ event.data.object.note }}}",
                  SB_ESCAPE_JSON,
                  "{\"n\": 820982911946154508, \"d\": 50.5, \"b\": false, \"z\": null}");
    assert_render("{\"items\": {{ event.items | json }}, \"s\": \"n={{ event.big_id }}\"}",
                  SB_ESCAPE_JSON,
                  "{\"items\": [{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-2\",\"qty\":1}], "
                  "\"s\": \"n=820982911946154508\"}");
    /* json filter: a value outside strings, embedded JSON text inside them */
    assert_render("[{{ event.items.0 | json }}, \"{{ event.items.0 | json }}\"]", SB_ESCAPE_JSON,
                  "[{\"sku\":\"A-1\",\"qty\":2}, \"{\\\"sku\\\":\\\"A-1\\\",\\\"qty\\\":2}\"]");
    /* raw: the text as it is */
    assert_render("{\"a\": {{ 'true' | raw }}, \"b\": {{ 'true' }}}", SB_ESCAPE_JSON,
                  "{\"a\": true, \"b\": \"true\"}");
    assert_render("\"\\\\{{ event.id }}\\u00e9{{ event.id }}\"", SB_ESCAPE_JSON,
                  "\"\\\\evt_1\\u00e9evt_1\"");
    assert_render(" {{ event.multiline }} ", SB_ESCAPE_JSON, " \"line1\\nline2\" ");
    assert_render("{\"k\": {{ event.nope | default: 'x' }}}", SB_ESCAPE_JSON, "{\"k\": \"x\"}");
    assert_render("{\"k\": {{ event.nope | default: 7 }}}", SB_ESCAPE_JSON, "{\"k\": 7}");
    assert_render("{\"k\": {{ event.computed }}}", SB_ESCAPE_JSON, "{\"k\": 0.1}");
}

/* A slot outside quotes in a JSON document took whatever the event held:
 * an object or array went in as structure. Only scalars go in now (text is
 * quoted), structure only through '| json', and '| raw' must keep the
 * document's shape. */
static void test_json_raw_slots(void **state)
{
    (void)state;
    assert_string_equal(render_error("{\"n\": {{ event.items }}}", SB_ESCAPE_JSON),
                        "'event.items' is an array: outside quotes in a JSON document only a "
                        "number, true, false, null or text goes in; write {{ event.items | json }} "
                        "to insert it as JSON");
    assert_non_null(strstr(render_error("[{{ event.data.object.customer }}]", SB_ESCAPE_JSON),
                           "'event.data.object.customer' is an object"));
    assert_non_null(strstr(render_error("{\"b\": [{{ event.tags }}]}", SB_ESCAPE_SLACK_JSON),
                           "write {{ event.tags | json }}"));
    /* scalars as they are; text quoted, so it cannot add members */
    assert_render("{\"n\": {{ event.n }}, \"t\": {{ event.data.object.livemode }}, \"x\": "
                  "{{ event.data.object.note }}, \"s\": {{ event.quote }}}",
                  SB_ESCAPE_JSON,
                  "{\"n\": 3, \"t\": false, \"x\": null, \"s\": \"say \\\"hi\\\" \\\\ bye\"}");
    assert_render("{\"n\": {{ '1, \"admin\": true' }}}", SB_ESCAPE_JSON,
                  "{\"n\": \"1, \\\"admin\\\": true\"}");
    /* | json: the structure, asked for */
    assert_render("{\"t\": {{ event.tags | json }}}", SB_ESCAPE_JSON,
                  "{\"t\": [\"red\",\"green\",\"blue\"]}");
    /* | raw outside quotes: exactly one JSON value */
    assert_render("{\"a\": {{ '[1, {\"b\": 2}]' | raw }}}", SB_ESCAPE_JSON,
                  "{\"a\": [1, {\"b\": 2}]}");
    assert_render("{\"a\": {{ '-2.5e3' | raw }}}", SB_ESCAPE_JSON, "{\"a\": -2.5e3}");
    assert_string_equal(render_error("{\"n\": {{ '1, \"admin\": true' | raw }}}", SB_ESCAPE_JSON),
                        "'1, \"admin\": true' | raw is not exactly one JSON value; use '| json' "
                        "to insert a value as JSON");
    assert_non_null(strstr(render_error("{\"n\": {{ 'abc' | raw }}}", SB_ESCAPE_JSON),
                           "is not exactly one JSON value"));
    /* | raw inside quotes: it must stay inside them */
    assert_render("{\"a\": \"{{ 'x\\\\ny' | raw }}\"}", SB_ESCAPE_JSON, "{\"a\": \"x\\ny\"}");
    assert_non_null(
        strstr(render_error("{\"a\": \"{{ 'x\", \"admin\": \"y' | raw }}\"}", SB_ESCAPE_JSON),
               "would end the JSON string it is in"));
    /* a whole-value template says the same */
    struct template *t;
    struct json_object *v = NULL;
    assert_int_equal(template_parse("{{ event.items }}", SB_ESCAPE_JSON, &t, errbuf, 99), 0);
    assert_int_equal(template_render_value(t, root, &v, errbuf, sizeof(errbuf)), -1);
    assert_null(v);
    assert_non_null(strstr(errbuf, "'event.items' is an array"));
    template_free(t);
}

static void test_json_context_validation(void **state)
{
    (void)state;
    assert_string_equal(parse_error("{\"a\": {{ event.id }}", SB_ESCAPE_JSON),
                        "not valid JSON: unexpected end of data at column 21");
    assert_string_equal(parse_error("{\"a\": 1} x", SB_ESCAPE_JSON),
                        "not valid JSON: unexpected 'x' at column 10");
    assert_string_equal(parse_error("{\"a\": 1}, 2", SB_ESCAPE_JSON),
                        "not valid JSON: unexpected character at column 9");
    assert_string_equal(parse_error("{'a': 1}", SB_ESCAPE_JSON),
                        "not valid JSON: single-quoted string at column 2");
    assert_string_equal(parse_error("{\"a\": \"x\\{{ event.id }}\"}", SB_ESCAPE_JSON),
                        "not valid JSON: expression inside an escape sequence at column 10");
    assert_string_equal(parse_error("{\"a\": \"\\u00{{ event.id }}\"}", SB_ESCAPE_JSON),
                        "not valid JSON: expression inside an escape sequence at column 12");
    assert_string_equal(parse_error("[NaN]", SB_ESCAPE_JSON),
                        "not valid JSON: unexpected 'NaN' at column 2");
    assert_string_equal(parse_error("[1.]", SB_ESCAPE_JSON),
                        "not valid JSON: unexpected '1.' at column 2");
    assert_string_equal(parse_error("[\"a\tb\"]", SB_ESCAPE_JSON),
                        "not valid JSON: control character in a string at column 4");
    assert_contains(parse_error("[\"\xff\"]", SB_ESCAPE_JSON), "not valid JSON:");
    assert_contains(parse_error("", SB_ESCAPE_JSON), "not valid JSON:");
    /* two values side by side, or an expression as a key */
    assert_contains(parse_error("[{{ event.id }}{{ event.id }}]", SB_ESCAPE_JSON),
                    "not valid JSON:");
    assert_contains(parse_error("[{{ event.id }}1]", SB_ESCAPE_JSON), "not valid JSON:");
    assert_contains(parse_error("{ {{ event.id }}: 1 }", SB_ESCAPE_JSON), "not valid JSON:");
    /* fine: expressions in keys' strings, top-level expression, nesting */
    struct template *t;
    assert_int_equal(template_parse("{\"{{ event.id }}\": [1, -2.5e3, true, null, {}]}",
                                    SB_ESCAPE_JSON, &t, errbuf, sizeof(errbuf)),
                     0);
    template_free(t);
    assert_int_equal(template_parse("  {{ event.id }}  ", SB_ESCAPE_JSON, &t, errbuf, 99), 0);
    template_free(t);
}

/* xorshift64*: a fixed sequence on every platform */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/* A nasty payload string: quotes, backslashes, control bytes, braces,
 * valid and invalid UTF-8. ascii_only limits it to bytes below 0x80. */
static size_t random_payload(char *buf, size_t cap, bool ascii_only)
{
    static const char *const pieces[] = {"\"",
                                         "\\",
                                         "\\\"",
                                         "\\u0000",
                                         "{{",
                                         "}}",
                                         "'",
                                         "<",
                                         "&",
                                         "\n",
                                         "\r\n",
                                         "\t",
                                         "/",
                                         "\xc3\xa9",
                                         "\xe2\x98\x83",
                                         "\xf0\x9f\x92\xa9",
                                         "\xed\xa0\x80",
                                         "\xc0\xaf",
                                         "\xff",
                                         "\xe2\x82",
                                         "\x80",
                                         "null",
                                         "]}",
                                         "\"}"};
    size_t n = rng() % 40, len = 0;
    for (size_t i = 0; i < n && len + 8 < cap; i++) {
        uint32_t r = rng() % 4;
        if (r == 0) {
            const char *p = pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
            if (ascii_only && ((unsigned char)p[0] & 0x80))
                continue;
            size_t plen = strlen(p);
            memcpy(buf + len, p, plen);
            len += plen;
        } else if (r == 1) {
            buf[len++] = (char)(rng() % 0x20); /* control, NUL included */
        } else {
            buf[len++] = (char)(ascii_only ? 0x20 + rng() % 0x60 : 1 + rng() % 255);
        }
    }
    buf[len] = '\0';
    return len;
}

static void test_json_property(void **state)
{
    (void)state;
    static const char text[] =
        "{\"a\": \"{{ event.s }}\", \"b\": {{ event.s }}, \"c\": \"x{{ event.s | upper }}y\","
        " \"d\": {{ event.arr | json }}, \"e\": {{ event.obj | json }}, \"f\": {{ event.s | json "
        "}},"
        " \"g\": \"{{ event.s | json }}\", \"h\": {{ event.s | truncate: 5 }},"
        " \"i\": \"{{ event.arr | join: '\\\"' }}\", \"j\": {{ event.nope | default: event.s }},"
        " \"k\": [{{ event.s | length }}, {{ event.s | first }}, {{ event.s | last }}],"
        " \"l\": \"{{ event.s | base64 }}\\n{{ event.s | slack_escape }}\\\\\","
        " \"m\": {{ event.s | replace: 'a', '\\\"' }}, \"n\": \"{{ event.s | urlencode }}\"}";
    struct template *t;
    if (template_parse(text, SB_ESCAPE_JSON, &t, errbuf, sizeof(errbuf)) < 0)
        fail_msg("%s", errbuf);
    char payload[512];
    for (int i = 0; i < 4000; i++) {
        bool ascii = i % 2 == 0;
        size_t len = random_payload(payload, sizeof(payload), ascii);
        struct json_object *r = json_object_new_object();
        struct json_object *event = json_object_new_object();
        struct json_object *arr = json_object_new_array();
        struct json_object *obj = json_object_new_object();
        json_object_array_add(arr, json_object_new_string_len(payload, (int)len));
        json_object_array_add(arr, json_object_new_int(1));
        json_object_object_add(obj, payload, json_object_new_string_len(payload, (int)len));
        json_object_object_add(event, "s", json_object_new_string_len(payload, (int)len));
        json_object_object_add(event, "arr", arr);
        json_object_object_add(event, "obj", obj);
        json_object_object_add(r, "event", event);

        struct strbuf sb = STRBUF_INIT;
        if (template_render(t, r, &sb, errbuf, sizeof(errbuf)) < 0)
            fail_msg("render failed: %s", errbuf);
        assert_valid_json(sb.buf, sb.len);
        if (ascii) {
            /* bytes below 0x80 survive exactly, NUL included */
            struct json_object *doc = json_tokener_parse(sb.buf), *b;
            assert_non_null(doc);
            assert_true(json_object_object_get_ex(doc, "b", &b));
            assert_int_equal(json_object_get_string_len(b), len);
            assert_memory_equal(json_object_get_string(b), payload, len);
            json_object_put(doc);
        }
        strbuf_release(&sb);
        json_object_put(r);
    }
    template_free(t);
}

static void test_header_context(void **state)
{
    (void)state;
    assert_render("Bearer {{ event.id }}", SB_ESCAPE_HEADER, "Bearer evt_1");
    assert_render("{{ event.html }}", SB_ESCAPE_HEADER, "<b>Tom & Jerry</b>");
    assert_string_equal(render_error("x {{ event.multiline }}", SB_ESCAPE_HEADER),
                        "header value contains a line break ('event.multiline')");
    assert_contains(render_error("{{ event.cr }}", SB_ESCAPE_HEADER), "line break");
    /* raw does not lift the check */
    assert_contains(render_error("{{ event.multiline | raw }}", SB_ESCAPE_HEADER), "line break");
    assert_contains(render_error("{{ 'a\\u0000b' }}", SB_ESCAPE_HEADER), "NUL");
}

static void test_url_context(void **state)
{
    (void)state;
    assert_render("https://api.example.com/items/{{ event.path }}?q={{ event.path }}",
                  SB_ESCAPE_URL,
                  "https://api.example.com/items/a%20b%2Fc%3Fd%26e%3Df?q=a%20b%2Fc%3Fd%26e%3Df");
    /* a leading whole-URL variable is inserted as is, later values encoded */
    assert_render("{{ event.url }}&id={{ event.html }}", SB_ESCAPE_URL,
                  "https://example.com/x?y=1&id=%3Cb%3ETom%20%26%20Jerry%3C%2Fb%3E");
    assert_render("{{ steps.card.url }}/attachments", SB_ESCAPE_URL,
                  "https://trello.com/c/1/attachments");
    /* host part: as is */
    assert_render("https://{{ event.id }}.myshopify.com/admin", SB_ESCAPE_URL,
                  "https://evt_1.myshopify.com/admin");
    /* a path-absolute reference is past the authority */
    assert_render("/v1/{{ event.path }}", SB_ESCAPE_URL, "/v1/a%20b%2Fc%3Fd%26e%3Df");
    assert_render("https://x.test/?a={{ event.path | urlencode }}", SB_ESCAPE_URL,
                  "https://x.test/?a=a%20b%2Fc%3Fd%26e%3Df");
    assert_render("https://x.test/?a={{ 'b&c=d' | raw }}", SB_ESCAPE_URL,
                  "https://x.test/?a=b&c=d");
    assert_contains(render_error("{{ event.path }}", SB_ESCAPE_URL),
                    "url value contains whitespace or a control character ('event.path')");
    assert_contains(render_error("https://x.test/?a={{ 'a b' | raw }}", SB_ESCAPE_URL),
                    "whitespace");
}

/* A value of "." or ".." in a path segment moved the request ("/v1/users/
 * {{ event.id }}/orders" with "..": GET /v1/orders, same credentials).
 * Such a value is encoded whole; dots inside other text are left alone. */
static void test_url_dot_segments(void **state)
{
    (void)state;
    struct json_object *r = json_tokener_parse(
        "{\"event\": {\"up\": \"..\", \"here\": \".\", \"three\": \"...\", \"file\": "
        "\"a.txt\", \"enc\": \"%2e%2e\", \"mixed\": \"../x\"}}");
    assert_non_null(r);
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"https://x.test/v1/users/{{ event.up }}/orders", "https://x.test/v1/users/%2E%2E/orders"},
        {"https://x.test/v1/{{ event.here }}/a", "https://x.test/v1/%2E/a"},
        {"https://x.test/v1/{{ event.three }}", "https://x.test/v1/%2E%2E%2E"},
        {"https://x.test/v1/{{ event.up | urlencode }}", "https://x.test/v1/%2E%2E"},
        {"https://x.test/v1/{{ event.file }}", "https://x.test/v1/a.txt"},
        {"https://x.test/v1/{{ event.enc }}", "https://x.test/v1/%252e%252e"},
        {"https://x.test/v1/{{ event.mixed }}", "https://x.test/v1/..%2Fx"},
        {"https://x.test/v1?q={{ event.up }}", "https://x.test/v1?q=%2E%2E"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = render_with(cases[i].text, SB_ESCAPE_URL, r);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s' rendered '%s', expected '%s'", cases[i].text, got, cases[i].want);
        free(got);
    }
    json_object_put(r);
}

static void test_slack_context(void **state)
{
    (void)state;
    assert_render("<{{ steps.card.url }}|card> {{ event.html }} & more", SB_ESCAPE_SLACK,
                  "<https://trello.com/c/1|card> &lt;b&gt;Tom &amp; Jerry&lt;/b&gt; & more");
    assert_render("{{ event.html | raw }}", SB_ESCAPE_SLACK, "<b>Tom & Jerry</b>");
    /* slack_escape in the slack context does not escape twice */
    assert_render("{{ event.html | slack_escape }}", SB_ESCAPE_SLACK,
                  "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;");
    assert_render("{{ event.html }}", SB_ESCAPE_NONE, "<b>Tom & Jerry</b>");
}

/* ------------------------------------------------------------------------- */
/* render_value and foreach_path                                             */
/* ------------------------------------------------------------------------- */

static struct json_object *render_value(const char *text, unsigned escape)
{
    struct template *t;
    struct json_object *v = NULL;
    if (template_parse(text, escape, &t, errbuf, sizeof(errbuf)) < 0)
        fail_msg("parse of '%s' failed: %s", text, errbuf);
    if (template_render_value(t, root, &v, errbuf, sizeof(errbuf)) < 0)
        fail_msg("render_value of '%s' failed: %s", text, errbuf);
    template_free(t);
    return v;
}

static void test_render_value(void **state)
{
    (void)state;
    struct json_object *v = render_value(" {{ event.big_id }} ", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), 820982911946154508LL);
    json_object_put(v);

    v = render_value("{{ event.tags }}", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_array));
    assert_int_equal(json_object_array_length(v), 3);
    json_object_put(v);

    v = render_value("{{ event.data.object.livemode }}", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_boolean));
    json_object_put(v);

    v = render_value("{{ event.data.object.note }}", SB_ESCAPE_NONE);
    assert_null(v);

    v = render_value("{{ event.nope | default: 25 }}", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), 25);
    json_object_put(v);

    v = render_value("{{ 1.25 }}", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_double));
    assert_string_equal(json_object_to_json_string(v), "1.25");
    json_object_put(v);

    v = render_value("{{ event.tags | length }}", SB_ESCAPE_NONE);
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), 3);
    json_object_put(v);

    v = render_value("n={{ event.big_id }}", SB_ESCAPE_NONE);
    assert_string_equal(json_object_get_string(v), "n=820982911946154508");
    json_object_put(v);

    v = render_value("{{ event.html }}", SB_ESCAPE_SLACK);
    assert_string_equal(json_object_get_string(v), "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;");
    json_object_put(v);

    v = render_value("{{ event.items.0 | json }}", SB_ESCAPE_JSON);
    assert_true(json_object_is_type(v, json_type_object));
    json_object_put(v);

    /* the returned value outlives the root it came from */
    struct json_object *r = json_tokener_parse("{\"event\": {\"o\": {\"k\": [1, 2]}}}");
    struct template *t;
    assert_int_equal(template_parse("{{ event.o }}", SB_ESCAPE_NONE, &t, errbuf, 99), 0);
    assert_int_equal(template_render_value(t, r, &v, errbuf, sizeof(errbuf)), 0);
    json_object_put(r);
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), "{\"k\":[1,2]}");
    json_object_put(v);
    template_free(t);

    /* errors leave *out alone */
    assert_int_equal(template_parse("{{ event.nope }}", SB_ESCAPE_NONE, &t, errbuf, 99), 0);
    v = (struct json_object *)&errbuf; /* sentinel */
    assert_int_equal(template_render_value(t, root, &v, errbuf, sizeof(errbuf)), -1);
    assert_ptr_equal(v, (struct json_object *)&errbuf);
    assert_string_equal(errbuf, "'event.nope' does not exist");
    template_free(t);

    assert_int_equal(template_parse("{{ event.multiline }}", SB_ESCAPE_HEADER, &t, errbuf, 99), 0);
    assert_int_equal(template_render_value(t, root, &v, errbuf, sizeof(errbuf)), -1);
    template_free(t);
}

static void collect_path(void *ctx, const char *path)
{
    struct strbuf *sb = ctx;
    strbuf_addstr(sb, path);
    strbuf_addch(sb, ';');
}

static void test_foreach_path(void **state)
{
    (void)state;
    struct template *t;
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(template_parse("{{ event.items[0].sku }} {{ 'lit' | upper }} "
                                    "{{ steps.card.url | default: workflow.name }} "
                                    "{{ x | money: event.currency | truncate: run.n, 'a' }} "
                                    "{{ trigger.headers.x-a }}{{ event['a b'] }}",
                                    SB_ESCAPE_NONE, &t, errbuf, sizeof(errbuf)),
                     0);
    template_foreach_path(t, collect_path, &sb);
    assert_string_equal(sb.buf, "event.items.0.sku;steps.card.url;workflow.name;x;"
                                "event.currency;run.n;trigger.headers.x-a;event.a b;");
    strbuf_release(&sb);
    template_free(t);
}

/* Slack Block Kit (SB_ESCAPE_SLACK_JSON): the document stays valid JSON and
 * every inserted text is Slack-escaped, inside strings and out; template
 * text itself and `| raw` are left alone. */
static void test_slack_json_context(void **state)
{
    (void)state;
    struct json_object *sroot = json_tokener_parse(
        "{\"event\": {\"who\": \"<@U1> & <!here>\", \"n\": 7, \"tag\": \"<b>\"}}");
    struct template *t = NULL;
    char err[256];
    assert_int_equal(template_parse("[{\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", "
                                    "\"text\": \"*<https://x|order>* by {{ event.who }}\"}, "
                                    "\"n\": {{ event.n }}, \"who\": {{ event.who }}, "
                                    "\"raw\": \"{{ event.tag | raw }}\"}]",
                                    SB_ESCAPE_SLACK_JSON, &t, err, sizeof(err)),
                     0);
    struct strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(t, sroot, &out, err, sizeof(err)), 0);
    struct json_object *doc = json_tokener_parse(strbuf_str(&out));
    assert_non_null(doc);
    struct json_object *block = json_object_array_get_idx(doc, 0), *v, *text;
    json_object_object_get_ex(block, "text", &text);
    json_object_object_get_ex(text, "text", &v);
    /* the template's own link stays a link; the payload's mention does not */
    assert_string_equal(json_object_get_string(v),
                        "*<https://x|order>* by &lt;@U1&gt; &amp; &lt;!here&gt;");
    json_object_object_get_ex(block, "who", &v);
    assert_string_equal(json_object_get_string(v), "&lt;@U1&gt; &amp; &lt;!here&gt;");
    json_object_object_get_ex(block, "n", &v);
    assert_true(json_object_is_type(v, json_type_int));
    json_object_object_get_ex(block, "raw", &v);
    assert_string_equal(json_object_get_string(v), "<b>");
    json_object_put(doc);
    strbuf_release(&out);
    template_free(t);
    /* a Block Kit template that is not JSON is refused at load */
    assert_int_equal(
        template_parse("[{\"text\": {{ event.who }}", SB_ESCAPE_SLACK_JSON, &t, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "not valid JSON"));
    json_object_put(sroot);
}

/* Regression: `default`'s path argument used to be resolved (and fail)
 * even when the value it stands in for was there, so one template could not
 * serve two object kinds (Stripe's amount_total and amount). */
static void test_default_path_argument_lazy(void **state)
{
    (void)state;
    struct template *t = NULL;
    char err[256];
    assert_int_equal(template_parse("{{ event.total | default: event.amount | default: 'none' }}",
                                    SB_ESCAPE_NONE, &t, err, sizeof(err)),
                     0);
    const char *cases[][2] = {
        {"{\"event\": {\"total\": 5000}}", "5000"},
        {"{\"event\": {\"amount\": 700}}", "700"},
        {"{\"event\": {}}", "none"},
        {"{\"event\": {\"total\": null, \"amount\": 3}}", "3"},
    };
    for (size_t i = 0; i < 4; i++) {
        struct json_object *r = json_tokener_parse(cases[i][0]);
        struct strbuf out = STRBUF_INIT;
        assert_int_equal(template_render(t, r, &out, err, sizeof(err)), 0);
        assert_string_equal(strbuf_str(&out), cases[i][1]);
        strbuf_release(&out);
        json_object_put(r);
    }
    template_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_text),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_value_text),
        cmocka_unit_test(test_literal_subjects),
        cmocka_unit_test(test_missing_path),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_filter_names),
        cmocka_unit_test(test_case_and_trim),
        cmocka_unit_test(test_json_and_urlencode),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_join_length_first_last),
        cmocka_unit_test(test_replace_slack_digest),
        cmocka_unit_test(test_null_passes_through_filters),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_json_context),
        cmocka_unit_test(test_json_raw_slots),
        cmocka_unit_test(test_json_context_validation),
        cmocka_unit_test(test_json_property),
        cmocka_unit_test(test_slack_json_context),
        cmocka_unit_test(test_default_path_argument_lazy),
        cmocka_unit_test(test_header_context),
        cmocka_unit_test(test_url_context),
        cmocka_unit_test(test_url_dot_segments),
        cmocka_unit_test(test_slack_context),
        cmocka_unit_test(test_render_value),
        cmocka_unit_test(test_foreach_path),
    };
    return cmocka_run_group_tests_name("template", tests, setup, teardown);
}
