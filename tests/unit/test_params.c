/* Typed values: durations, sizes, booleans, integers, enums, lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "params.h"

static void test_durations(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_duration_ms("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(parse_duration_ms("30s", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(parse_duration_ms("5m", &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(parse_duration_ms("1h", &v), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(parse_duration_ms("7d", &v), 0);
    assert_int_equal(v, 7 * 86400000LL);
    assert_int_equal(parse_duration_ms("12", &v), 0); /* bare number: seconds */
    assert_int_equal(v, 12000);
    assert_int_equal(parse_duration_ms("soon", &v), -1);
    assert_int_equal(parse_duration_ms("-5s", &v), -1);
    assert_int_equal(parse_duration_ms("5 parsecs", &v), -1);
    assert_int_equal(parse_duration_ms("", &v), -1);
    assert_int_equal(parse_duration_ms("99999999999999999999s", &v), -1);
}

static void test_sizes(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_size("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(parse_size("64K", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(parse_size("1M", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(parse_size("1MiB", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(parse_size("2g", &v), 0);
    assert_int_equal(v, 2147483648LL);
    assert_int_equal(parse_size("1T", &v), -1);
    assert_int_equal(parse_size("M", &v), -1);
}

static void test_bools_and_ints(void **state)
{
    (void)state;
    bool b;
    assert_int_equal(parse_bool("Yes", &b), 0);
    assert_true(b);
    assert_int_equal(parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(parse_bool("maybe", &b), -1);
    int64_t i;
    assert_int_equal(parse_int64("-42", &i), 0);
    assert_int_equal(i, -42);
    assert_int_equal(parse_int64("820982911946154508", &i), 0);
    assert_true(i == 820982911946154508LL);
    assert_int_equal(parse_int64("12abc", &i), -1);
    assert_int_equal(parse_int64(" 1", &i), -1);
    assert_int_equal(parse_int64("", &i), -1);
}

static void test_param_values(void **state)
{
    (void)state;
    static const char *const colors[] = {"red", "green", NULL};
    struct sb_param count = {.name = "count", .type = SB_PARAM_INT, .min = 1, .max = 10};
    struct sb_param color = {.name = "color", .type = SB_PARAM_ENUM, .values = colors};
    struct sb_param tags = {.name = "tags", .type = SB_PARAM_LIST};
    struct sb_param wait = {
        .name = "wait", .type = SB_PARAM_DURATION, .min = 1000, .max = SB_NO_MAX};
    struct json_object *v = NULL;
    char err[256];
    assert_int_equal(param_parse_value(&count, "7", &v, err, sizeof(err)), 0);
    assert_int_equal(json_object_get_int64(v), 7);
    json_object_put(v);
    assert_int_equal(param_parse_value(&count, "11", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "'11' is out of range (1 to 10)");
    assert_int_equal(param_parse_value(&count, "many", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "expected an integer, found 'many'");
    assert_int_equal(param_parse_value(&color, "blue", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "'blue' is not one of: red green");
    assert_int_equal(param_parse_value(&wait, "500ms", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "'500ms' is below the minimum of 1000 milliseconds");
    assert_int_equal(param_parse_value(&tags, "a, b  c,,d", &v, err, sizeof(err)), 0);
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                        "[\"a\",\"b\",\"c\",\"d\"]");
    json_object_put(v);
    /* quoted items keep their spaces and commas */
    assert_int_equal(
        param_parse_value(&tags, "vip \"Black Friday\", \"a,b\" last", &v, err, sizeof(err)), 0);
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                        "[\"vip\",\"Black Friday\",\"a,b\",\"last\"]");
    json_object_put(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bools_and_ints),
        cmocka_unit_test(test_param_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
