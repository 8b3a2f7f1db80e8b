/* The schedule plugin's time zones (plugins/schedule/tz.c, compiled into
 * this test): offsets, DST flags and abbreviations of known instants read
 * from the system's TZif files, local time -> UTC with gaps and repeats,
 * POSIX TZ strings parsed directly (RFC 8536 extensions included), TZif
 * files made here and found through TZDIR, and the names refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../plugins/schedule/tz.c"

/* Unix seconds of a UTC date and time. */
static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
    return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static struct tz_zone *load(const char *name)
{
    struct tz_zone *z = NULL;
    char err[256] = "";
    if (tz_zone_load(name, &z, err, sizeof(err)) < 0)
        fail_msg("cannot load %s: %s", name, err);
    return z;
}

static struct tz_zone *posix(const char *spec)
{
    struct tz_zone *z = NULL;
    char err[256] = "";
    if (tz_zone_from_posix(spec, &z, err, sizeof(err)) < 0)
        fail_msg("cannot parse %s: %s", spec, err);
    return z;
}

static void expect(const struct tz_zone *z, int64_t t, int32_t offset, bool isdst, const char *abbr)
{
    struct tz_info info;
    tz_lookup(z, t, &info);
    if (info.offset != offset || info.isdst != isdst || strcmp(info.abbr, abbr) != 0)
        fail_msg("%s at %lld: got %d %d %s, want %d %d %s", tz_zone_name(z), (long long)t,
                 info.offset, info.isdst, info.abbr, offset, isdst, abbr);
}

static void test_known_offsets(void **state)
{
    (void)state;
    struct tz_zone *z = load("UTC");
    expect(z, at(2026, 7, 1, 12, 0, 0), 0, false, "UTC");
    assert_string_equal(tz_zone_name(z), "UTC");
    tz_zone_free(z);
    z = load("Etc/UTC");
    expect(z, at(1990, 1, 1, 0, 0, 0), 0, false, "UTC");
    tz_zone_free(z);

    z = load("Europe/Berlin");
    expect(z, at(2026, 1, 15, 12, 0, 0), 3600, false, "CET");
    expect(z, at(2026, 7, 15, 12, 0, 0), 7200, true, "CEST");
    /* the transitions to the second: 2026-03-29 01:00Z and 2026-10-25 01:00Z */
    expect(z, at(2026, 3, 29, 0, 59, 59), 3600, false, "CET");
    expect(z, at(2026, 3, 29, 1, 0, 0), 7200, true, "CEST");
    expect(z, at(2026, 10, 25, 0, 59, 59), 7200, true, "CEST");
    expect(z, at(2026, 10, 25, 1, 0, 0), 3600, false, "CET");
    tz_zone_free(z);

    z = load("America/New_York");
    expect(z, at(2026, 1, 15, 12, 0, 0), -18000, false, "EST");
    expect(z, at(2026, 7, 15, 12, 0, 0), -14400, true, "EDT");
    expect(z, at(2026, 3, 8, 6, 59, 59), -18000, false, "EST");
    expect(z, at(2026, 3, 8, 7, 0, 0), -14400, true, "EDT");
    expect(z, at(2026, 11, 1, 5, 59, 59), -14400, true, "EDT");
    expect(z, at(2026, 11, 1, 6, 0, 0), -18000, false, "EST");
    /* 1883: local mean time before standard time */
    expect(z, at(1880, 1, 1, 0, 0, 0), -17762, false, "LMT");
    /* 2100 is past every table: the footer's rule (second Sunday of
     * March, 2100-03-14) */
    expect(z, at(2100, 3, 14, 6, 59, 59), -18000, false, "EST");
    expect(z, at(2100, 3, 14, 7, 0, 0), -14400, true, "EDT");
    tz_zone_free(z);

    z = load("Asia/Kolkata");
    expect(z, at(2026, 6, 1, 0, 0, 0), 19800, false, "IST");
    tz_zone_free(z);

    /* +12:45 standard, +13:45 in the southern summer */
    z = load("Pacific/Chatham");
    expect(z, at(2026, 7, 1, 0, 0, 0), 45900, false, "+1245");
    expect(z, at(2026, 1, 1, 0, 0, 0), 49500, true, "+1345");
    tz_zone_free(z);

    /* a 30-minute DST shift */
    z = load("Australia/Lord_Howe");
    expect(z, at(2026, 7, 1, 0, 0, 0), 37800, false, "+1030");
    expect(z, at(2026, 1, 1, 0, 0, 0), 39600, true, "+11");
    tz_zone_free(z);
}

static void expect_local(const struct tz_zone *z, int64_t local, int count, int64_t first,
                         int64_t second)
{
    int64_t out[TZ_LOCAL_MAX] = {0}, gap = -1;
    int n = tz_local_to_utc(z, local, out, &gap);
    if (n != count)
        fail_msg("%s local %lld: %d instants, want %d", tz_zone_name(z), (long long)local, n,
                 count);
    if (count == 0)
        assert_int_equal(gap, first); /* the end of the gap */
    if (count >= 1)
        assert_int_equal(out[0], first);
    if (count == 2)
        assert_int_equal(out[1], second);
}

static void test_local_to_utc(void **state)
{
    (void)state;
    struct tz_zone *z = load("America/New_York");
    /* an ordinary time: one instant */
    expect_local(z, at(2026, 6, 1, 9, 0, 0), 1, at(2026, 6, 1, 13, 0, 0), 0);
    /* 02:30 on 2026-03-08 does not exist: the gap ends at 07:00Z */
    expect_local(z, at(2026, 3, 8, 2, 30, 0), 0, at(2026, 3, 8, 7, 0, 0), 0);
    expect_local(z, at(2026, 3, 8, 2, 0, 0), 0, at(2026, 3, 8, 7, 0, 0), 0);
    expect_local(z, at(2026, 3, 8, 3, 0, 0), 1, at(2026, 3, 8, 7, 0, 0), 0);
    expect_local(z, at(2026, 3, 8, 1, 59, 59), 1, at(2026, 3, 8, 6, 59, 59), 0);
    /* 01:30 on 2026-11-01 happens twice: EDT then EST */
    expect_local(z, at(2026, 11, 1, 1, 30, 0), 2, at(2026, 11, 1, 5, 30, 0),
                 at(2026, 11, 1, 6, 30, 0));
    expect_local(z, at(2026, 11, 1, 2, 0, 0), 1, at(2026, 11, 1, 7, 0, 0), 0);
    tz_zone_free(z);

    z = load("Europe/Berlin");
    expect_local(z, at(2026, 3, 29, 2, 30, 0), 0, at(2026, 3, 29, 1, 0, 0), 0);
    expect_local(z, at(2026, 10, 25, 2, 30, 0), 2, at(2026, 10, 25, 0, 30, 0),
                 at(2026, 10, 25, 1, 30, 0));
    tz_zone_free(z);

    /* Lord Howe: clocks go 02:00 -> 02:30 in October, 02:00 -> 01:30 in
     * April */
    z = load("Australia/Lord_Howe");
    expect_local(z, at(2026, 10, 4, 2, 15, 0), 0, at(2026, 10, 3, 15, 30, 0), 0);
    expect_local(z, at(2026, 4, 5, 1, 45, 0), 2, at(2026, 4, 4, 14, 45, 0),
                 at(2026, 4, 4, 15, 15, 0));
    tz_zone_free(z);

    z = load("UTC");
    expect_local(z, at(2026, 3, 8, 2, 30, 0), 1, at(2026, 3, 8, 2, 30, 0), 0);
    tz_zone_free(z);
}

static void test_posix_strings(void **state)
{
    (void)state;
    struct tz_zone *z = posix("CET-1CEST,M3.5.0,M10.5.0/3");
    expect(z, at(2026, 3, 29, 0, 59, 59), 3600, false, "CET");
    expect(z, at(2026, 3, 29, 1, 0, 0), 7200, true, "CEST");
    expect(z, at(2026, 10, 25, 1, 0, 0), 3600, false, "CET");
    tz_zone_free(z);

    z = posix("EST5EDT,M3.2.0,M11.1.0");
    expect(z, at(2026, 3, 8, 7, 0, 0), -14400, true, "EDT");
    expect(z, at(2026, 11, 1, 6, 0, 0), -18000, false, "EST");
    expect_local(z, at(2026, 3, 8, 2, 30, 0), 0, at(2026, 3, 8, 7, 0, 0), 0);
    tz_zone_free(z);

    /* a quoted name, no DST */
    z = posix("<-03>3");
    expect(z, at(2026, 1, 1, 0, 0, 0), -10800, false, "-03");
    expect(z, at(2026, 7, 1, 0, 0, 0), -10800, false, "-03");
    tz_zone_free(z);
    z = posix("<+0545>-5:45");
    expect(z, at(2026, 7, 1, 0, 0, 0), 20700, false, "+0545");
    tz_zone_free(z);

    /* no rule given: the US one */
    z = posix("EST5EDT");
    expect(z, at(2026, 7, 1, 0, 0, 0), -14400, true, "EDT");
    expect(z, at(2026, 1, 1, 0, 0, 0), -18000, false, "EST");
    tz_zone_free(z);

    /* Jn never counts February 29: J60 is March 1 even in 2024; n counts
     * it: day 59 is February 29 in 2024 and March 1 in 2025 */
    z = posix("AAA3BBB,J60/0,J300/0");
    expect(z, at(2024, 2, 29, 3, 0, 0), -10800, false, "AAA");
    expect(z, at(2024, 3, 1, 2, 59, 59), -10800, false, "AAA");
    expect(z, at(2024, 3, 1, 3, 0, 0), -7200, true, "BBB");
    tz_zone_free(z);
    z = posix("AAA3BBB,59/0,299/0");
    expect(z, at(2024, 2, 29, 2, 59, 59), -10800, false, "AAA");
    expect(z, at(2024, 2, 29, 3, 0, 0), -7200, true, "BBB");
    expect(z, at(2025, 2, 28, 12, 0, 0), -10800, false, "AAA");
    expect(z, at(2025, 3, 1, 3, 0, 0), -7200, true, "BBB");
    tz_zone_free(z);

    /* negative rule times (Nuuk): -1:00 on the last Sunday of March is
     * 23:00 the day before, 01:00Z */
    z = posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    expect(z, at(2026, 3, 29, 0, 59, 59), -7200, false, "-02");
    expect(z, at(2026, 3, 29, 1, 0, 0), -3600, true, "-01");
    expect(z, at(2026, 10, 25, 0, 59, 59), -3600, true, "-01");
    expect(z, at(2026, 10, 25, 1, 0, 0), -7200, false, "-02");
    tz_zone_free(z);

    /* past 24 hours (Israel): 26:00 on the fourth Thursday of March is
     * Friday 02:00 local, 2026-03-27T00:00Z */
    z = posix("IST-2IDT,M3.4.4/26,M10.5.0");
    expect(z, at(2026, 3, 26, 23, 59, 59), 7200, false, "IST");
    expect(z, at(2026, 3, 27, 0, 0, 0), 10800, true, "IDT");
    expect(z, at(2026, 10, 24, 23, 0, 0), 7200, false, "IST");
    tz_zone_free(z);

    /* the southern hemisphere (Santiago): DST from September to April */
    z = posix("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
    expect(z, at(2026, 1, 15, 0, 0, 0), -10800, true, "-03");
    expect(z, at(2026, 4, 5, 2, 59, 59), -10800, true, "-03");
    expect(z, at(2026, 4, 5, 3, 0, 0), -14400, false, "-04");
    expect(z, at(2026, 9, 6, 3, 59, 59), -14400, false, "-04");
    expect(z, at(2026, 9, 6, 4, 0, 0), -10800, true, "-03");
    tz_zone_free(z);

    /* DST all year (RFC 8536 example): no change at New Year */
    z = posix("EST5EDT4,0/0,J365/25");
    expect(z, at(2026, 1, 1, 4, 59, 59), -14400, true, "EDT");
    expect(z, at(2026, 1, 1, 5, 0, 0), -14400, true, "EDT");
    expect(z, at(2026, 7, 1, 0, 0, 0), -14400, true, "EDT");
    expect_local(z, at(2026, 1, 1, 0, 30, 0), 1, at(2026, 1, 1, 4, 30, 0), 0);
    tz_zone_free(z);
}

static void expect_posix_error(const char *spec, const char *want)
{
    struct tz_zone *z = NULL;
    char err[256] = "";
    assert_int_equal(tz_zone_from_posix(spec, &z, err, sizeof(err)), -1);
    assert_null(z);
    if (!strstr(err, want))
        fail_msg("'%s': error '%s' does not say '%s'", spec, err, want);
}

static void test_posix_errors(void **state)
{
    (void)state;
    expect_posix_error("CET", "bad or missing UTC offset");
    expect_posix_error("AB1", "bad standard time name");
    expect_posix_error("<A>1", "bad standard time name");
    expect_posix_error("CET-25", "bad or missing UTC offset");
    expect_posix_error("CET-1CEST,M13.5.0,M10.5.0", "bad daylight saving rule");
    expect_posix_error("CET-1CEST,M3.6.0,M10.5.0", "bad daylight saving rule");
    expect_posix_error("CET-1CEST,M3.5.0", "bad daylight saving rule");
    expect_posix_error("CET-1CEST,J0,J300", "bad daylight saving rule");
    expect_posix_error("CET-1CEST,M3.5.0,M10.5.0/168", "bad daylight saving rule");
    expect_posix_error("CET-1CEST,M3.5.0,M10.5.0junk", "unexpected 'junk' at the end");
}

/* Folder for TZDIR. */
static char tzdir[64];

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static size_t put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

static size_t put_header(unsigned char *p, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif2", 5);
    /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
    put32(p + 32, timecnt);
    put32(p + 36, typecnt);
    put32(p + 40, charcnt);
    return 44;
}

/*
 * A version 2 TZif file: AAA (-3) before 2000, BBB (-2, DST) from
 * 2000-01-01 (where the footer's rule would not have it), AAA from
 * 2000-11-05 04:00Z, then the footer's rule (BBB from the second Sunday of
 * March to the first of November).
 */
static size_t make_tzif(unsigned char *buf)
{
    size_t n = 0;
    /* a minimal version 1 block: one type, "AAA" */
    n += put_header(buf + n, 0, 1, 4);
    n += put32(buf + n, (uint32_t)-10800);
    buf[n++] = 0;
    buf[n++] = 0;
    memcpy(buf + n, "AAA", 4);
    n += 4;
    n += put_header(buf + n, 2, 2, 8);
    int64_t times[2] = {at(2000, 1, 1, 0, 0, 0), at(2000, 11, 5, 4, 0, 0)};
    for (int i = 0; i < 2; i++) {
        n += put32(buf + n, (uint32_t)((uint64_t)times[i] >> 32));
        n += put32(buf + n, (uint32_t)times[i]);
    }
    buf[n++] = 1;
    buf[n++] = 0;
    n += put32(buf + n, (uint32_t)-10800);
    buf[n++] = 0;
    buf[n++] = 0;
    n += put32(buf + n, (uint32_t)-7200);
    buf[n++] = 1;
    buf[n++] = 4;
    memcpy(buf + n, "AAA\0BBB", 8);
    n += 8;
    const char footer[] = "\nAAA3BBB,M3.2.0,M11.1.0\n";
    memcpy(buf + n, footer, sizeof(footer) - 1);
    return n + sizeof(footer) - 1;
}

static int with_tzdir(void **state)
{
    (void)state;
    snprintf(tzdir, sizeof(tzdir), "/tmp/sbtzXXXXXX");
    if (!mkdtemp(tzdir))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/Test", tzdir);
    mkdir(path, 0755);
    return setenv("TZDIR", tzdir, 1);
}

static int without_tzdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tzdir);
    int rc = system(cmd);
    unsetenv("TZDIR");
    return rc == 0 ? 0 : -1;
}

static void test_tzif_from_tzdir(void **state)
{
    (void)state;
    unsigned char buf[512];
    size_t len = make_tzif(buf);
    char path[160];
    snprintf(path, sizeof(path), "%s/Test/Synthetic", tzdir);
    write_bytes(path, buf, len);

    struct tz_zone *z = load("Test/Synthetic");
    expect(z, at(1999, 7, 1, 0, 0, 0), -10800, false, "AAA"); /* type 0 before */
    expect(z, at(2000, 2, 1, 0, 0, 0), -7200, true, "BBB");   /* the table */
    expect(z, at(2000, 11, 5, 3, 59, 59), -7200, true, "BBB");
    expect(z, at(2000, 11, 5, 4, 0, 0), -10800, false, "AAA");
    /* the footer from then on: 2026-03-08 02:00 local AAA = 05:00Z */
    expect(z, at(2026, 3, 8, 4, 59, 59), -10800, false, "AAA");
    expect(z, at(2026, 3, 8, 5, 0, 0), -7200, true, "BBB");
    expect(z, at(2026, 12, 1, 0, 0, 0), -10800, false, "AAA");
    expect_local(z, at(2026, 3, 8, 2, 30, 0), 0, at(2026, 3, 8, 5, 0, 0), 0);
    tz_zone_free(z);

    /* a real file copied under TZDIR reads the same as the system's */
    FILE *in = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    assert_non_null(in);
    unsigned char *copy = malloc(MAX_TZIF_SIZE);
    size_t clen = fread(copy, 1, MAX_TZIF_SIZE, in);
    fclose(in);
    snprintf(path, sizeof(path), "%s/Test/Berlin", tzdir);
    write_bytes(path, copy, clen);
    z = load("Test/Berlin");
    expect(z, at(2026, 7, 15, 12, 0, 0), 7200, true, "CEST");
    assert_string_equal(tz_zone_name(z), "Test/Berlin");
    tz_zone_free(z);

    /* Europe/Berlin is not under this TZDIR */
    char err[256] = "";
    z = NULL;
    assert_int_equal(tz_zone_load("Europe/Berlin", &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown time zone 'Europe/Berlin'"));

    /* broken files */
    snprintf(path, sizeof(path), "%s/Test/Garbage", tzdir);
    write_bytes(path, "hello, world", 12);
    assert_int_equal(tz_zone_load("Test/Garbage", &z, err, sizeof(err)), -1);
    assert_string_equal(err, "time zone 'Test/Garbage': not a TZif file");
    assert_int_equal(tz_zone_from_tzif(buf, len - 30, "cut", &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "time zone 'cut': "));
    assert_int_equal(tz_zone_from_tzif(copy, clen / 2, "half", &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "time zone 'half': "));
    /* a transition naming a type that does not exist */
    unsigned char bad[512];
    memcpy(bad, buf, len);
    bad[44 + 10 + 44 + 16] = 7;
    assert_int_equal(tz_zone_from_tzif(bad, len, "badtype", &z, err, sizeof(err)), -1);
    assert_string_equal(err, "time zone 'badtype': transition 0 names a missing local time type");
    /* a footer that does not parse */
    memcpy(bad, buf, len);
    memcpy(bad + len - 8, "M13", 3);
    assert_int_equal(tz_zone_from_tzif(bad, len, "badfooter", &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad daylight saving rule"));
    assert_null(z);
    free(copy);
}

static void test_unknown_and_refused_names(void **state)
{
    (void)state;
    char err[256];
    struct tz_zone *z = NULL;
    assert_int_equal(tz_zone_load("Mars/Olympus_Mons", &z, err, sizeof(err)), -1);
    assert_string_equal(err, "unknown time zone 'Mars/Olympus_Mons' (no zone file "
                             "/usr/share/zoneinfo/Mars/Olympus_Mons)");
    assert_null(z);
    /* a folder is not a zone */
    assert_int_equal(tz_zone_load("Europe", &z, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown time zone 'Europe'"));
    /* not a zone file either */
    assert_int_equal(tz_zone_load("tzdata.zi", &z, err, sizeof(err)), -1);

    static const char *const refused[] = {
        "../../../etc/passwd",
        "/etc/passwd",
        "Europe/../../../etc/passwd",
        "Europe/./Berlin",
        "Europe//Berlin",
        "Europe/Berlin/",
        "",
        "Europe/Ber lin",
        "Europe\\Berlin",
        "..",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err[0] = '\0';
        if (tz_zone_load(refused[i], &z, err, sizeof(err)) != -1)
            fail_msg("'%s' was accepted", refused[i]);
        if (!strstr(err, "is not a time zone name"))
            fail_msg("'%s': unexpected error '%s'", refused[i], err);
    }
    assert_null(z);
    /* the names that exist with odd characters pass */
    z = load("Etc/GMT+5");
    expect(z, at(2026, 1, 1, 0, 0, 0), -18000, false, "-05");
    tz_zone_free(z);
    z = load("America/Port-au-Prince");
    tz_zone_free(z);
}

static void test_format(void **state)
{
    (void)state;
    char out[64];
    int64_t t = at(2026, 3, 8, 7, 0, 0) * 1000;
    assert_int_equal(tz_format_iso(t, -14400, false, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-03-08T03:00:00-04:00");
    assert_int_equal(tz_format_iso(t, 0, true, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-03-08T07:00:00Z");
    assert_int_equal(tz_format_iso(t + 250, 19800, false, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-03-08T12:30:00.250+05:30");
    assert_int_equal(tz_format_iso(t, 0, false, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-03-08T07:00:00+00:00");
    assert_int_equal(tz_format_iso(-1, 0, true, out, sizeof(out)), 0);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(tz_format_iso(t, -17762, false, out, sizeof(out)), 0);
    assert_string_equal(out, "2026-03-08T02:03:58-04:56:02");
    assert_int_equal(tz_format_iso(t, 0, true, out, 10), -1);
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(tz_weekday(0), 4);                                /* Thursday */
    assert_int_equal(tz_weekday(tz_days_from_civil(2026, 3, 8)), 0);   /* Sunday */
    assert_int_equal(tz_weekday(tz_days_from_civil(1969, 12, 31)), 3); /* Wednesday */
    for (int64_t d = -800000; d < 800000; d += 997) {
        int64_t y;
        int m, dd;
        tz_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(tz_days_from_civil(y, m, dd), d);
    }
    assert_true(tz_is_leap(2000));
    assert_false(tz_is_leap(2100));
    assert_int_equal(tz_days_in_month(2028, 2), 29);
    assert_int_equal(tz_days_in_month(2027, 2), 28);
    assert_int_equal(tz_floor_div(-1, 1000), -1);
    assert_int_equal(tz_floor_div(1999, 1000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_offsets),
        cmocka_unit_test(test_local_to_utc),
        cmocka_unit_test(test_posix_strings),
        cmocka_unit_test(test_posix_errors),
        cmocka_unit_test_setup_teardown(test_tzif_from_tzdir, with_tzdir, without_tzdir),
        cmocka_unit_test(test_unknown_and_refused_names),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
