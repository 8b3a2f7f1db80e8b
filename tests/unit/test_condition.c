/*
 * Unit tests of the condition engine (core/condition.c).
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

#include "condition.h"
#include "strbuf.h"

static const char root_json[] =
    "{\"event\": {"
    "  \"amount\": 4200, \"status\": \"paid\", \"currency\": \"usd\","
    "  \"tags\": [\"vip\", \"new\", 10], \"name\": \"Order #1001\","
    "  \"file\": \"report.png\", \"ten\": \"10\", \"nine\": \"9\","
    "  \"livemode\": false, \"note\": null, \"empty\": \"\", \"zero\": 0, \"one\": 1,"
    "  \"big_id\": 820982911946154508, \"big_id2\": 820982911946154509,"
    "  \"word\": \"abc\", \"nine_sp\": \"9 \", \"none\": [], \"obj\": {\"a\": 1},"
    "  \"price\": \"1575.90\", \"long\": \"abcdefghijabcdefghijabcdefghijabcdefghij"
    "abcdefghijabcdefghijabcdefghijabcdefghij\""
    "}}";

static struct json_object *root;
static char errbuf[512];
static char whybuf[512];

static int setup(void **state)
{
    (void)state;
    root = json_tokener_parse(root_json);
    return root ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(root);
    return 0;
}

/* Parse and evaluate text; fails the test on error. whybuf gets `why`. */
static bool eval(const char *text)
{
    struct condition *c;
    bool result;
    if (condition_parse(text, &c, errbuf, sizeof(errbuf)) < 0)
        fail_msg("parse of '%s' failed: %s", text, errbuf);
    snprintf(whybuf, sizeof(whybuf), "untouched");
    if (condition_eval(c, root, &result, whybuf, sizeof(whybuf), errbuf, sizeof(errbuf)) < 0)
        fail_msg("eval of '%s' failed: %s", text, errbuf);
    condition_free(c);
    return result;
}

#define assert_cond(text, expected)                                                                \
    do {                                                                                           \
        bool got_ = eval(text);                                                                    \
        if (got_ != (expected))                                                                    \
            fail_msg("'%s' is %s (why: %s)", text, got_ ? "true" : "false", whybuf);               \
    } while (0)

static const char *parse_error(const char *text)
{
    struct condition *c = NULL;
    if (condition_parse(text, &c, errbuf, sizeof(errbuf)) == 0)
        fail_msg("parse of '%s' succeeded", text);
    assert_null(c);
    return errbuf;
}

static const char *eval_error(const char *text)
{
    struct condition *c;
    bool result = true;
    if (condition_parse(text, &c, errbuf, sizeof(errbuf)) < 0)
        fail_msg("parse of '%s' failed: %s", text, errbuf);
    if (condition_eval(c, root, &result, NULL, 0, errbuf, sizeof(errbuf)) == 0)
        fail_msg("eval of '%s' succeeded", text);
    assert_true(result); /* untouched on error */
    condition_free(c);
    return errbuf;
}

static void test_comparisons(void **state)
{
    (void)state;
    /* string literals take the template escapes, \\u and \\/ included */
    assert_cond("{{ event.name }} == 'Order \\u00231001'", true);
    assert_cond("'a\\/b' == \"a/b\"", true);
    assert_cond("'caf\\u00e9' == 'caf\xc3\xa9'", true);
    assert_cond("'caf\\u00e9' == 'cafe'", false);
    assert_cond("{{ event.amount }} >= 5000", false);
    assert_string_equal(whybuf, "4200 >= 5000 is false");
    assert_cond("{{ event.amount }} >= 4200", true);
    assert_string_equal(whybuf, "");
    assert_cond("{{ event.amount }} > 4200", false);
    assert_cond("{{ event.amount }} > 4199", true);
    assert_cond("{{ event.amount }} < 5000", true);
    assert_cond("{{ event.amount }} < 4200", false);
    assert_cond("{{ event.amount }} <= 4200", true);
    assert_cond("{{ event.amount }} <= 4199", false);
    assert_cond("{{ event.amount }} == 4200", true);
    assert_cond("{{ event.amount }} == 4201", false);
    assert_cond("{{ event.amount }} != 4201", true);
    assert_cond("{{ event.amount }} != 4200", false);
    assert_cond("{{ event.status }} == \"paid\"", true);
    assert_cond("{{ event.status }} == 'pending'", false);
    assert_string_equal(whybuf, "\"paid\" == \"pending\" is false");
    assert_cond("{{ event.currency | upper }} == 'USD'", true);
    assert_cond("{{ event.status }} == 'paid'", true);
}

static void test_numbers_and_strings(void **state)
{
    (void)state;
    /* numerically when both sides are numbers */
    assert_cond("\"10\" > \"9\"", true);
    assert_cond("{{ event.ten }} > {{ event.nine }}", true);
    assert_cond("5.0 == 5", true);
    assert_cond("-1.5 < -1", true);
    assert_cond("1e3 == 1000", true);
    assert_cond("{{ event.price }} > 1575.8", true);
    assert_cond("{{ event.price }} == 1575.9", true);
    /* int64 exact: these two differ only past 2^53 */
    assert_cond("{{ event.big_id }} < {{ event.big_id2 }}", true);
    assert_cond("{{ event.big_id }} == 820982911946154509", false);
    assert_cond("{{ event.big_id }} == 820982911946154508", true);
    /* else bytewise */
    assert_cond("\"abc\" < \"abd\"", true);
    assert_cond("'abc' < 'b'", true);
    assert_cond("\"abc\" < \"abcd\"", true);
    assert_cond("\"B\" < \"a\"", true);
    assert_cond("\" 5\" == 5", false);
}

static void test_contains_and_matches(void **state)
{
    (void)state;
    assert_cond("{{ event.name }} contains \"#100\"", true);
    assert_cond("{{ event.name }} contains 'xyz'", false);
    assert_string_equal(whybuf, "\"Order #1001\" contains \"xyz\" is false");
    assert_cond("{{ event.name }} contains ''", true);
    /* arrays: membership, not substring */
    assert_cond("{{ event.tags }} contains 'vip'", true);
    assert_cond("{{ event.tags }} contains 'vi'", false);
    assert_cond("{{ event.tags }} contains 10", true);
    assert_cond("{{ event.tags }} contains \"[\"", false);
    assert_string_equal(whybuf, "[\"vip\",\"new\",10] contains \"[\" is false");
    assert_cond("{{ event.file }} matches \"*.png\"", true);
    assert_cond("{{ event.file }} matches '*.jpg'", false);
    assert_cond("{{ event.file }} matches 'report.?\?\?'", true);
    assert_cond("{{ event.file }} matches 'rep[a-z]rt*'", true);
    assert_cond("{{ event.file }} MATCHES 'REPORT*'", false);
    assert_cond("{{ event.name }} Contains 'Order'", true);
}

static void test_logic(void **state)
{
    (void)state;
    /* and binds tighter than or */
    assert_cond("true or false and false", true);
    assert_cond("false and false or true", true);
    assert_cond("(true or false) and false", false);
    assert_cond("false or false or true", true);
    assert_cond("true and true and false", false);
    assert_cond("TRUE AND NOT False", true);
    assert_cond("not true", false);
    assert_cond("not not true", true);
    assert_cond("not {{ event.livemode }}", true);
    /* not applies to the whole comparison */
    assert_cond("not {{ event.amount }} >= 5000", true);
    assert_cond("not ({{ event.amount }} == 4200 or false)", false);
    assert_cond("((({{ event.one }})))", true);
    assert_cond("{{ event.amount }} >= 1000 and ({{ event.currency }} == 'usd' or "
                "{{ event.currency }} == 'eur') and not {{ event.livemode }}",
                true);
}

static void test_truthiness(void **state)
{
    (void)state;
    assert_cond("{{ event.livemode }}", false);
    assert_string_equal(whybuf, "{{ event.livemode }} renders \"false\"");
    assert_cond("{{ event.note }}", false);
    assert_cond("{{ event.empty }}", false);
    assert_cond("{{ event.zero }}", false);
    assert_string_equal(whybuf, "{{ event.zero }} renders \"0\"");
    assert_cond("null", false);
    assert_cond("'null'", false);
    assert_cond("{{ event.one }}", true);
    assert_cond("{{ event.status }}", true);
    assert_cond("{{ event.tags }}", true);
    assert_cond("'0.0'", true);
    /* null renders as nothing, like a JSON null */
    assert_cond("{{ event.note }} == null", true);
    assert_cond("{{ event.empty }} == null", true);
    assert_cond("{{ event.status }} != null", true);
}

static void test_quoting(void **state)
{
    (void)state;
    assert_cond("'it\\'s' == \"it's\"", true);
    assert_cond("\"a\\\\b\" == 'a\\\\b'", true);
    assert_cond("\"tab\\there\" contains '\\t'", true);
    assert_cond("'and' == \"and\"", true);
}

static void test_why(void **state)
{
    (void)state;
    /* and: the first false part */
    assert_cond("{{ event.amount }} > 1 and {{ event.status }} == 'pending' and 1 == 2", false);
    assert_string_equal(whybuf, "\"paid\" == \"pending\" is false");
    /* or: the first part */
    assert_cond("{{ event.amount }} > 5000 or {{ event.status }} == 'x'", false);
    assert_string_equal(whybuf, "4200 > 5000 is false");
    assert_cond("not {{ event.amount }} == 4200", false);
    assert_string_equal(whybuf, "not: 4200 == 4200 is true");
    /* long values are cut */
    assert_cond("{{ event.long }} == 'x'", false);
    assert_string_equal(whybuf, "\"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
                                "\xe2\x80\xa6\" == \"x\" is false");

    /* a small buffer is cut and terminated */
    struct condition *c;
    char small[10];
    bool r;
    assert_int_equal(condition_parse("{{ event.amount }} >= 5000", &c, errbuf, 99), 0);
    assert_int_equal(condition_eval(c, root, &r, small, sizeof(small), errbuf, 99), 0);
    assert_false(r);
    assert_string_equal(small, "4200 >= 5");
    assert_int_equal(condition_eval(c, root, &r, NULL, 0, errbuf, 99), 0);
    assert_false(r);
    condition_free(c);
}

static void test_eval_errors(void **state)
{
    (void)state;
    assert_string_equal(eval_error("{{ event.amont }} > 5"),
                        "'event.amont' does not exist (did you mean 'amount'?)");
    assert_string_equal(eval_error("true and {{ event.nope }} == 1"),
                        "'event.nope' does not exist (did you mean 'note'?)");
    /* short-circuit: the missing part is never evaluated */
    assert_cond("false and {{ event.nope }} == 1", false);
    assert_cond("true or {{ event.nope }}", true);
    assert_cond("{{ event.nope | default: 0 }} == 0", true);
}

static void test_parse_errors(void **state)
{
    (void)state;
    assert_string_equal(parse_error(""), "empty condition");
    assert_string_equal(parse_error("   "), "empty condition");
    assert_string_equal(parse_error("{{ event.amount }} >="), "expected an operand at column 22");
    assert_string_equal(parse_error("and true"), "expected an operand at column 1");
    assert_string_equal(parse_error("true and"), "expected an operand at column 9");
    assert_string_equal(parse_error("not"), "expected an operand at column 4");
    assert_string_equal(parse_error("()"), "expected an operand at column 2");
    assert_string_equal(parse_error("== 5"), "expected an operand at column 1");
    assert_string_equal(parse_error("(true"),
                        "unbalanced parenthesis: '(' is not closed at column 1");
    assert_string_equal(parse_error("true)"), "unbalanced parenthesis: unexpected ')' at column 5");
    assert_string_equal(parse_error("(true 5)"), "expected an operator after 'true' at column 7");
    assert_string_equal(parse_error("{{ event.amount }} =< 5"),
                        "unknown operator '=<' (did you mean '<='?) at column 20");
    assert_string_equal(parse_error("{{ event.amount }} = 5"),
                        "unknown operator '=' (did you mean '=='?) at column 20");
    assert_string_equal(parse_error("'a' <> 'b'"),
                        "unknown operator '<>' (did you mean '!='?) at column 5");
    assert_string_equal(parse_error("'a' >>= 'b'"), "unknown operator '>>=' at column 5");
    assert_string_equal(parse_error("{{ event.amount }} containz 5"),
                        "unknown operator 'containz' (did you mean 'contains'?) at column 20");
    assert_string_equal(parse_error("{{ event.amount }} 5000"),
                        "expected an operator after '{{ event.amount }}' at column 20");
    assert_string_equal(parse_error("true == 1 == 2"),
                        "expected 'and', 'or' or the end of the condition at column 11");
    assert_string_equal(parse_error("{{ event.amount | uper }} > 1"),
                        "unknown filter 'uper' (did you mean 'upper'?) at column 19");
    assert_string_equal(parse_error("1 == {{ event.amount"), "unclosed '{{' at column 6");
    assert_string_equal(parse_error("1 == \"abc"), "unterminated string at column 6");
    assert_string_equal(parse_error("1 == 'a\\qb'"), "unknown escape '\\q' at column 8");
    assert_string_equal(parse_error("1 == '\\u12'"), "bad \\u escape at column 7");
    assert_string_equal(parse_error("1 == '\\ud800'"), "surrogate in \\u escape at column 7");
    assert_string_equal(parse_error("1 == 2\n  or"), "expected an operand at line 2, column 5");

    char deep[300];
    memset(deep, '(', 200);
    memcpy(deep + 200, "true", 5);
    assert_string_equal(parse_error(deep), "condition nested too deeply at column 65");
    char nots[500];
    for (int i = 0; i < 100; i++)
        memcpy(nots + 4 * i, "not ", 4);
    memcpy(nots + 400, "true", 5);
    assert_non_null(strstr(parse_error(nots), "nested too deeply"));
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
    struct condition *c;
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(condition_parse("{{ event.amount }} > {{ steps.x.y | default: run.z }} and "
                                     "not ({{ trigger.id }} or 'lit')",
                                     &c, errbuf, sizeof(errbuf)),
                     0);
    condition_foreach_path(c, collect_path, &sb);
    assert_string_equal(sb.buf, "event.amount;steps.x.y;run.z;trigger.id;");
    strbuf_release(&sb);
    condition_free(c);
}

/* A bare word compared the word itself: `event.total_price >= 20` asked
 * whether the text "event.total_price" sorts after "20", always true. */
static void test_bare_words_refused(void **state)
{
    (void)state;
    assert_string_equal(parse_error("event.total_price >= 20"),
                        "'event.total_price' is a bare word, not a value: write "
                        "{{ event.total_price }} to read it, or \"event.total_price\" for that "
                        "text at column 1");
    assert_string_equal(parse_error("{{ event.status }} == paid"),
                        "'paid' is a bare word, not a value: write \"paid\" for that text, or "
                        "{{ event.paid }} to read a field at column 23");
    assert_non_null(
        strstr(parse_error("{{ event.file }} matches *.png"), "'*.png' is a bare word"));
    assert_non_null(strstr(parse_error("not steps.a.ok"), "write {{ steps.a.ok }}"));
    assert_non_null(strstr(parse_error("1 < 2 and (trigger.type == 'x')"),
                           "write {{ trigger.type }} to read it"));
    /* numbers, true, false and null are values, in any case */
    assert_cond("-1.5 < 2e3 and +3 > .5", true);
    assert_cond("TRUE and not False and not NULL", true);
}

/* `{{ event.total }} >= 50` passed for "abc", "9 ", [] and {"a":1}: text
 * order decided. Ordering a number against a non-number is an error now. */
static void test_ordering_needs_numbers(void **state)
{
    (void)state;
    assert_string_equal(eval_error("{{ event.word }} >= 50"),
                        "cannot order \"abc\" >= 50: one side is a number and the other is not");
    assert_string_equal(eval_error("{{ event.nine_sp }} >= 50"),
                        "cannot order \"9 \" >= 50: one side is a number and the other is not");
    assert_string_equal(eval_error("{{ event.none }} >= 50"),
                        "cannot order [] >= 50: one side is a number and the other is not");
    assert_string_equal(eval_error("{{ event.obj }} >= 50"),
                        "cannot order {\"a\":1} >= 50: one side is a number and the other is not");
    assert_non_null(strstr(eval_error("50 < {{ event.word }}"), "cannot order 50 < \"abc\""));
    assert_non_null(strstr(eval_error("{{ event.note }} <= 1"), "cannot order \"\" <= 1"));
    assert_non_null(strstr(eval_error("\"10\" > \"9a\""), "cannot order 10 > \"9a\""));
    /* inside and/or too, once that part is reached */
    assert_non_null(strstr(eval_error("true and {{ event.word }} > 1"), "cannot order"));
    assert_cond("false and {{ event.word }} > 1", false);
    /* equality stays a plain answer; two texts still order as text */
    assert_cond("{{ event.word }} == 50", false);
    assert_cond("{{ event.word }} != 50", true);
    assert_cond("'2024-01-31' < '2024-02-01'", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_numbers_and_strings),
        cmocka_unit_test(test_contains_and_matches),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_why),
        cmocka_unit_test(test_eval_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_bare_words_refused),
        cmocka_unit_test(test_ordering_needs_numbers),
        cmocka_unit_test(test_foreach_path),
    };
    return cmocka_run_group_tests_name("condition", tests, setup, teardown);
}
