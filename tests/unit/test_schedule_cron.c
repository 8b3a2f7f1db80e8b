/* The schedule plugin's cron expressions (plugins/schedule/cron.c and
 * tz.c, compiled into this test): every syntax, every error message, and
 * next fire times across month ends, leap years, the day-of-month /
 * day-of-week rule, impossible dates, and daylight saving in New York,
 * Berlin and Lord Howe, up to 2100 where only the zone's footer rule
 * applies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/schedule/cron.c"
#include "../../plugins/schedule/tz.c"

static int64_t at(int y, int mo, int d, int h, int mi)
{
    return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static struct cron_spec parse(const char *text)
{
    struct cron_spec s;
    char err[256] = "";
    if (cron_parse(text, &s, err, sizeof(err)) < 0)
        fail_msg("'%s' does not parse: %s", text, err);
    return s;
}

/* Bits as a list "0,15,30,45" for readable failures. */
static const char *bits(uint64_t b, int lo, int hi)
{
    static char out[256];
    size_t n = 0;
    out[0] = '\0';
    for (int i = lo; i <= hi; i++)
        if ((b >> i) & 1u)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%d", n ? "," : "", i);
    return out;
}

static void test_parse_syntax(void **state)
{
    (void)state;
    struct cron_spec s = parse("*/15 * * * *");
    assert_string_equal(bits(s.minute, 0, 59), "0,15,30,45");
    assert_string_equal(bits(s.hour, 0, 23), bits(0xffffffu, 0, 23));
    assert_true(s.mday_star);
    assert_true(s.wday_star);

    s = parse("1,15 1-5 10-20/5 * *");
    assert_string_equal(bits(s.minute, 0, 59), "1,15");
    assert_string_equal(bits(s.hour, 0, 23), "1,2,3,4,5");
    assert_string_equal(bits(s.mday, 1, 31), "10,15,20");
    assert_false(s.mday_star);

    s = parse("10-50/20 */6 * * *");
    assert_string_equal(bits(s.minute, 0, 59), "10,30,50");
    assert_string_equal(bits(s.hour, 0, 23), "0,6,12,18");

    /* a start with a step runs to the end of the range */
    s = parse("5/15 * * * *");
    assert_string_equal(bits(s.minute, 0, 59), "5,20,35,50");

    /* names, any case */
    s = parse("0 0 * jan,JUL-Sep MON-fri");
    assert_string_equal(bits(s.month, 1, 12), "1,7,8,9");
    assert_string_equal(bits(s.wday, 0, 6), "1,2,3,4,5");
    assert_false(s.wday_star);

    /* 7 is Sunday too; Sunday may close a range */
    s = parse("0 0 * * 7");
    assert_string_equal(bits(s.wday, 0, 6), "0");
    s = parse("0 0 * * 5-7");
    assert_string_equal(bits(s.wday, 0, 6), "0,5,6");
    s = parse("0 0 * * fri-sun");
    assert_string_equal(bits(s.wday, 0, 6), "0,5,6");
    s = parse("0 0 * * sun,sat");
    assert_string_equal(bits(s.wday, 0, 6), "0,6");

    /* spaces and tabs between fields */
    s = parse("  0\t12   1 * *  ");
    assert_string_equal(bits(s.hour, 0, 23), "12");
    assert_string_equal(bits(s.mday, 1, 31), "1");
}

static void expect_same(const char *a, const char *b)
{
    struct cron_spec x = parse(a), y = parse(b);
    if (x.minute != y.minute || x.hour != y.hour || x.mday != y.mday || x.month != y.month ||
        x.wday != y.wday || x.mday_star != y.mday_star || x.wday_star != y.wday_star)
        fail_msg("'%s' differs from '%s'", a, b);
}

static void test_macros(void **state)
{
    (void)state;
    expect_same("@hourly", "0 * * * *");
    expect_same("@daily", "0 0 * * *");
    expect_same("@midnight", "0 0 * * *");
    expect_same("@weekly", "0 0 * * 0");
    expect_same("@monthly", "0 0 1 * *");
    expect_same("@yearly", "0 0 1 1 *");
    expect_same("@annually", "0 0 1 1 *");
    expect_same("@DAILY", "0 0 * * *");
    expect_same(" @hourly ", "0 * * * *");
}

static void expect_error(const char *text, const char *message)
{
    struct cron_spec s;
    char err[256] = "";
    if (cron_parse(text, &s, err, sizeof(err)) != -1)
        fail_msg("'%s' was accepted", text);
    if (strcmp(err, message) != 0)
        fail_msg("'%s': got \"%s\", want \"%s\"", text, err, message);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("61 * * * *", "minute: '61' is out of range 0-59");
    expect_error("* 24 * * *", "hour: '24' is out of range 0-23");
    expect_error("* * 0 * *", "day-of-month: '0' is out of range 1-31");
    expect_error("* * 32 * *", "day-of-month: '32' is out of range 1-31");
    expect_error("* * * 13 *", "month: '13' is out of range 1-12");
    expect_error("* * * * 8", "day-of-week: '8' is out of range 0-7");
    expect_error("1-70 * * * *", "minute: '70' is out of range 0-59");
    expect_error("*/0 * * * *", "minute: step '0' is out of range 1-59");
    expect_error("*/60 * * * *", "minute: step '60' is out of range 1-59");
    expect_error("*/x * * * *", "minute: step 'x' is not a number");
    expect_error("1-5/ * * * *", "minute: '1-5/' has no step after '/'");
    expect_error("5-1 * * * *", "minute: range '5-1' runs backwards");
    expect_error("* * * dec-jan *", "month: range 'dec-jan' runs backwards");
    expect_error("a * * * *", "minute: 'a' is not a number");
    expect_error("1a * * * *", "minute: '1a' is not a number");
    expect_error("-5 * * * *", "minute: a value is missing");
    expect_error("* * * foo *", "month: 'foo' is not a number or a month name (jan-dec)");
    expect_error("* * * january *", "month: 'january' is not a number or a month name (jan-dec)");
    expect_error("* * * * funday", "day-of-week: 'funday' is not a number or a weekday name "
                                   "(sun-sat)");
    expect_error("* * mon * *", "day-of-month: 'mon' is not a number");
    expect_error("1,,2 * * * *", "minute: empty item in '1,,2'");
    expect_error("1, * * * *", "minute: empty item in '1,'");
    expect_error("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), "
                            "found 4");
    expect_error("* * * * * *", "expected 5 fields (minute hour day-of-month month "
                                "day-of-week), found 6");
    expect_error("", "expected 5 fields (minute hour day-of-month month day-of-week), found 0");
    expect_error("@reboot", "unknown macro '@reboot' (use @yearly, @annually, @monthly, "
                            "@weekly, @daily, @midnight or @hourly)");
    expect_error("@daily 5", "'@daily' takes nothing after it");
}

/* The next fire of `text` in zone `zone` strictly after `after`; -1 for
 * never. */
static int64_t next(const char *text, const char *zone, int64_t after)
{
    struct cron_spec s = parse(text);
    struct tz_zone *z = NULL;
    char err[256];
    if (tz_zone_load(zone, &z, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    int64_t out = -1;
    if (cron_next_fire(&s, z, after, &out) < 0)
        out = -1;
    tz_zone_free(z);
    return out;
}

static void test_next_calendar(void **state)
{
    (void)state;
    /* strictly after: a fire time itself gives the next one */
    assert_int_equal(next("0 12 * * *", "UTC", at(2026, 1, 31, 12, 0)), at(2026, 2, 1, 12, 0));
    assert_int_equal(next("0 12 * * *", "UTC", at(2026, 1, 31, 11, 59)), at(2026, 1, 31, 12, 0));
    assert_int_equal(next("* * * * *", "UTC", at(2026, 1, 31, 23, 59) + 30), at(2026, 2, 1, 0, 0));
    /* month ends: the 31st skips short months, the 30th skips February */
    assert_int_equal(next("0 0 31 * *", "UTC", at(2026, 1, 31, 0, 0)), at(2026, 3, 31, 0, 0));
    assert_int_equal(next("0 0 30 * *", "UTC", at(2026, 1, 30, 0, 0)), at(2026, 3, 30, 0, 0));
    assert_int_equal(next("59 23 31 12 *", "UTC", at(2026, 6, 1, 0, 0)), at(2026, 12, 31, 23, 59));
    /* leap years */
    assert_int_equal(next("0 0 29 2 *", "UTC", at(2027, 3, 1, 0, 0)), at(2028, 2, 29, 0, 0));
    assert_int_equal(next("0 0 29 2 *", "UTC", at(2096, 3, 1, 0, 0)), at(2104, 2, 29, 0, 0));
    /* both day fields restricted: either matches (Jan 2 2026 is a Friday) */
    int64_t t = at(2026, 1, 1, 0, 0);
    static const int fridays_or_13th[] = {2, 9, 13, 16, 23, 30};
    for (size_t i = 0; i < 6; i++) {
        t = next("0 0 13 * fri", "UTC", t);
        assert_int_equal(t, at(2026, 1, fridays_or_13th[i], 0, 0));
    }
    /* only the weekday restricted: Fridays */
    assert_int_equal(next("0 0 * * 5", "UTC", at(2026, 1, 2, 0, 0)), at(2026, 1, 9, 0, 0));
    /* a day field starting with '*' counts as unrestricted (Vixie cron):
     * odd days that are Fridays */
    assert_int_equal(next("0 0 */2 * fri", "UTC", at(2026, 1, 1, 0, 0)), at(2026, 1, 9, 0, 0));
    /* @weekly from a Wednesday: Sunday midnight */
    assert_int_equal(next("@weekly", "UTC", at(2026, 1, 7, 15, 0)), at(2026, 1, 11, 0, 0));
    assert_int_equal(next("@yearly", "UTC", at(2099, 6, 1, 0, 0)), at(2100, 1, 1, 0, 0));
    assert_int_equal(next("@monthly", "UTC", at(2026, 12, 1, 0, 0)), at(2027, 1, 1, 0, 0));
    /* step ranges: 9, 13, 17 h at :00, :20, :40 */
    t = at(2026, 5, 4, 12, 59);
    static const int hm[][2] = {{13, 0}, {13, 20}, {13, 40}, {17, 0}, {17, 20}, {17, 40}};
    for (size_t i = 0; i < 6; i++) {
        t = next("*/20 9-17/4 * * *", "UTC", t);
        assert_int_equal(t, at(2026, 5, 4, hm[i][0], hm[i][1]));
    }
    assert_int_equal(next("*/20 9-17/4 * * *", "UTC", t), at(2026, 5, 5, 9, 0));
    /* weekdays at 09:30 from a Friday evening: Monday */
    assert_int_equal(next("30 9 * * mon-fri", "UTC", at(2026, 1, 2, 18, 0)), at(2026, 1, 5, 9, 30));
}

static void test_impossible(void **state)
{
    (void)state;
    assert_int_equal(next("0 0 31 2 *", "UTC", at(2026, 1, 1, 0, 0)), -1);
    assert_int_equal(next("0 0 30 2 *", "UTC", at(2026, 1, 1, 0, 0)), -1);
    assert_int_equal(next("0 0 31 4,6,9,11 *", "America/New_York", at(2026, 1, 1, 0, 0)), -1);
    /* rare but possible: the search crosses years without giving up */
    assert_int_equal(next("0 0 29 2 *", "UTC", at(2097, 1, 1, 0, 0)), at(2104, 2, 29, 0, 0));
    /* February the 1st on a Monday: both day fields must match when one
     * starts with '*' ("*\/31" is the 1st only) */
    assert_int_equal(next("0 0 */31 2 mon", "UTC", at(2026, 1, 1, 0, 0)), at(2027, 2, 1, 0, 0));
    assert_int_equal(next("0 0 */31 2 mon", "UTC", at(2027, 2, 1, 0, 0)), at(2038, 2, 1, 0, 0));
}

static void test_dst_new_york(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    /* spring forward, 2026-03-08: 02:30 does not exist; it fires once, at
     * 03:00 EDT (07:00Z), then 02:30 EDT the next day */
    int64_t t = next("30 2 * * *", ny, at(2026, 3, 7, 12, 0));
    assert_int_equal(t, at(2026, 3, 8, 7, 0));
    t = next("30 2 * * *", ny, t);
    assert_int_equal(t, at(2026, 3, 9, 6, 30));
    assert_int_equal(next("0 2 * * *", ny, at(2026, 3, 8, 0, 0)), at(2026, 3, 8, 7, 0));
    /* a time after the gap is untouched */
    assert_int_equal(next("30 3 * * *", ny, at(2026, 3, 8, 0, 0)), at(2026, 3, 8, 7, 30));

    /* fall back, 2026-11-01: 01:30 happens twice; it fires once, at the
     * first (EDT, 05:30Z), then 01:30 EST the next day */
    t = next("30 1 * * *", ny, at(2026, 10, 31, 12, 0));
    assert_int_equal(t, at(2026, 11, 1, 5, 30));
    t = next("30 1 * * *", ny, t);
    assert_int_equal(t, at(2026, 11, 2, 6, 30));

    /* every 30 minutes through the gap: 01:00 01:30 EST, then 03:00 EDT
     * once (02:00, 02:30 and 03:00 all land on 07:00Z), 03:30 */
    t = at(2026, 3, 8, 5, 45);
    static const int gap[][2] = {{6, 0}, {6, 30}, {7, 0}, {7, 30}, {8, 0}};
    for (size_t i = 0; i < 5; i++) {
        t = next("*/30 * * * *", ny, t);
        assert_int_equal(t, at(2026, 3, 8, gap[i][0], gap[i][1]));
    }
    /* through the repeat: 00:30 01:00 01:30 EDT, then 02:00 EST; the
     * second 01:00 and 01:30 do not fire again */
    t = at(2026, 11, 1, 4, 15);
    static const int rep[][2] = {{4, 30}, {5, 0}, {5, 30}, {7, 0}, {7, 30}};
    for (size_t i = 0; i < 5; i++) {
        t = next("*/30 * * * *", ny, t);
        assert_int_equal(t, at(2026, 11, 1, rep[i][0], rep[i][1]));
    }
    /* asked during the second 01:xx: the next is 02:00 EST */
    assert_int_equal(next("*/15 * * * *", ny, at(2026, 11, 1, 6, 10)), at(2026, 11, 1, 7, 0));

    /* 2100 is past the zone file's table: the footer's rule decides
     * (DST from 2100-03-14) */
    assert_int_equal(next("30 2 * * *", ny, at(2100, 3, 13, 12, 0)), at(2100, 3, 14, 7, 0));
    assert_int_equal(next("30 2 * * *", ny, at(2100, 3, 14, 7, 0)), at(2100, 3, 15, 6, 30));
    assert_int_equal(next("0 12 1 7 *", ny, at(2100, 1, 1, 0, 0)), at(2100, 7, 1, 16, 0));
}

static void test_dst_berlin_and_lord_howe(void **state)
{
    (void)state;
    const char *berlin = "Europe/Berlin";
    /* 2026-03-29: 02:30 local does not exist: 03:00 CEST = 01:00Z */
    int64_t t = next("30 2 * * *", berlin, at(2026, 3, 28, 12, 0));
    assert_int_equal(t, at(2026, 3, 29, 1, 0));
    assert_int_equal(next("30 2 * * *", berlin, t), at(2026, 3, 30, 0, 30));
    /* 2026-10-25: 02:30 happens twice; the first is 02:30 CEST = 00:30Z */
    t = next("30 2 * * *", berlin, at(2026, 10, 24, 12, 0));
    assert_int_equal(t, at(2026, 10, 25, 0, 30));
    assert_int_equal(next("30 2 * * *", berlin, t), at(2026, 10, 26, 1, 30));
    /* an ordinary day in winter and summer */
    assert_int_equal(next("0 9 * * *", berlin, at(2026, 1, 10, 0, 0)), at(2026, 1, 10, 8, 0));
    assert_int_equal(next("0 9 * * *", berlin, at(2026, 7, 10, 0, 0)), at(2026, 7, 10, 7, 0));

    /* Lord Howe moves 30 minutes: 02:00 -> 02:30 on 2026-10-04 */
    const char *lh = "Australia/Lord_Howe";
    t = next("15 2 * * *", lh, at(2026, 10, 3, 0, 0));
    assert_int_equal(t, at(2026, 10, 3, 15, 30)); /* 02:30 +11 */
    assert_int_equal(next("15 2 * * *", lh, t), at(2026, 10, 4, 15, 15));
    /* 02:00 -> 01:30 on 2026-04-05: 01:45 fires once, at +11 */
    t = next("45 1 * * *", lh, at(2026, 4, 4, 0, 0));
    assert_int_equal(t, at(2026, 4, 4, 14, 45));
    assert_int_equal(next("45 1 * * *", lh, t), at(2026, 4, 5, 15, 15));
}

static void test_local_match(void **state)
{
    (void)state;
    struct cron_spec s = parse("0 0 * * *");
    int64_t out;
    /* local seconds are rounded up to the minute, inclusive */
    assert_int_equal(cron_next_local(&s, at(2026, 1, 1, 0, 0), &out), 0);
    assert_int_equal(out, at(2026, 1, 1, 0, 0));
    assert_int_equal(cron_next_local(&s, at(2026, 1, 1, 0, 0) + 1, &out), 0);
    assert_int_equal(out, at(2026, 1, 2, 0, 0));
    assert_true(cron_day_matches(&s, 2, 29, 4));
    s = parse("0 0 1 * mon");
    assert_true(cron_day_matches(&s, 5, 1, 5));  /* the 1st, a Friday */
    assert_true(cron_day_matches(&s, 5, 4, 1));  /* a Monday */
    assert_false(cron_day_matches(&s, 5, 5, 2)); /* neither */
    s = parse("0 0 1 jan mon");
    assert_false(cron_day_matches(&s, 5, 4, 1)); /* a Monday, but in May */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_syntax),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_next_calendar),
        cmocka_unit_test(test_impossible),
        cmocka_unit_test(test_dst_new_york),
        cmocka_unit_test(test_dst_berlin_and_lord_howe),
        cmocka_unit_test(test_local_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
