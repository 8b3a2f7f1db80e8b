/*
 * Cron expressions: parsing into bit sets, and the next fire time, found
 * by skipping whole months, days and hours on the local calendar and then
 * mapping the local time to UTC through the zone.
 */
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CRON_DAY 86400
/* Every weekday/date combination recurs within a 400-year cycle. */
#define SEARCH_YEARS 401
/* Local times that map to or before `after` are skipped one minute at a
 * time only inside a repeated (fall-back) span: a few hundred at most. */
#define MAX_SKIPS 100000

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

struct field {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is min + i */
    const char *name_help;
};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL, NULL},
    {"hour", 0, 23, NULL, NULL},
    {"day-of-month", 1, 31, NULL, NULL},
    {"month", 1, 12, month_names, "a month name (jan-dec)"},
    {"day-of-week", 0, 7, wday_names, "a weekday name (sun-sat)"},
};

static const struct {
    const char *name;
    const char *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int cron_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cron_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* One value of a field, a number or a name: [s, s+len). */
static int parse_value(const struct field *f, const char *s, size_t len, int *out, bool *by_name,
                       char *err, size_t errlen)
{
    *by_name = false;
    if (len == 0)
        return cron_fail(err, errlen, "%s: a value is missing", f->name);
    if (s[0] >= '0' && s[0] <= '9') {
        long v = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return cron_fail(err, errlen, "%s: '%.*s' is not a number", f->name, (int)len, s);
            if (v < 1000000)
                v = v * 10 + (s[i] - '0');
        }
        if (v < f->min || v > f->max)
            return cron_fail(err, errlen, "%s: '%.*s' is out of range %d-%d", f->name, (int)len, s,
                             f->min, f->max);
        *out = (int)v;
        return 0;
    }
    if (f->names && len == 3) {
        for (int i = 0; f->names[i]; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0) {
                *out = f->min + i;
                *by_name = true;
                return 0;
            }
        }
    }
    if (f->names)
        return cron_fail(err, errlen, "%s: '%.*s' is not a number or %s", f->name, (int)len, s,
                         f->name_help);
    return cron_fail(err, errlen, "%s: '%.*s' is not a number", f->name, (int)len, s);
}

/* One list item: *, *\/n, v, v/n (v to the end), a-b, a-b/n. */
static int parse_item(const struct field *f, const char *s, size_t len, uint64_t *bits, char *err,
                      size_t errlen)
{
    const char *slash = memchr(s, '/', len);
    size_t body = slash ? (size_t)(slash - s) : len;
    int lo, hi, step = 1;
    bool lo_name = false, hi_name = false;
    if (slash) {
        const char *t = slash + 1;
        size_t tlen = len - body - 1;
        long v = 0;
        if (tlen == 0)
            return cron_fail(err, errlen, "%s: '%.*s' has no step after '/'", f->name, (int)len, s);
        for (size_t i = 0; i < tlen; i++) {
            if (t[i] < '0' || t[i] > '9')
                return cron_fail(err, errlen, "%s: step '%.*s' is not a number", f->name, (int)tlen,
                                 t);
            if (v < 1000000)
                v = v * 10 + (t[i] - '0');
        }
        if (v < 1 || v > f->max)
            return cron_fail(err, errlen, "%s: step '%.*s' is out of range 1-%d", f->name,
                             (int)tlen, t, f->max);
        step = (int)v;
    }
    if (body == 1 && s[0] == '*') {
        lo = f->min;
        hi = f->max == 7 ? 6 : f->max;
    } else {
        const char *dash = memchr(s, '-', body);
        size_t first = dash ? (size_t)(dash - s) : body;
        if (parse_value(f, s, first, &lo, &lo_name, err, errlen) < 0)
            return -1;
        if (dash) {
            if (parse_value(f, dash + 1, body - first - 1, &hi, &hi_name, err, errlen) < 0)
                return -1;
            /* fri-sun: Sunday closing a weekday range is 7 */
            if (f->max == 7 && hi_name && hi == 0 && lo > 0)
                hi = 7;
            if (hi < lo)
                return cron_fail(err, errlen, "%s: range '%.*s' runs backwards", f->name, (int)body,
                                 s);
        } else {
            hi = slash ? (f->max == 7 ? 6 : f->max) : lo;
            if (slash && lo > hi)
                hi = lo;
        }
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= (uint64_t)1 << (f->max == 7 && v == 7 ? 0 : v);
    return 0;
}

/* A comma-separated list for field f. */
static int parse_field(const struct field *f, const char *s, size_t len, uint64_t *bits, char *err,
                       size_t errlen)
{
    *bits = 0;
    size_t i = 0;
    while (i <= len) {
        const char *comma = memchr(s + i, ',', len - i);
        size_t end = comma ? (size_t)(comma - s) : len;
        if (end == i)
            return cron_fail(err, errlen, "%s: empty item in '%.*s'", f->name, (int)len, s);
        if (parse_item(f, s + i, end - i, bits, err, errlen) < 0)
            return -1;
        i = end + 1;
    }
    return 0;
}

int cron_parse(const char *text, struct cron_spec *out, char *err, size_t errlen)
{
    if (!text)
        text = "";
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text == '@') {
        size_t n = strcspn(text, " \t");
        const char *rest = text + n;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
            if (strlen(macros[i].name) == n && strncasecmp(text, macros[i].name, n) == 0) {
                if (*rest)
                    return cron_fail(err, errlen, "'%.*s' takes nothing after it", (int)n, text);
                return cron_parse(macros[i].expansion, out, err, errlen);
            }
        return cron_fail(err, errlen,
                         "unknown macro '%.*s' (use @yearly, @annually, @monthly, @weekly, @daily, "
                         "@midnight or @hourly)",
                         (int)n, text);
    }
    const char *start[6];
    size_t len[6];
    size_t n = 0;
    const char *p = text;
    while (*p) {
        size_t k = strcspn(p, " \t");
        if (n < 6) {
            start[n] = p;
            len[n] = k;
        }
        n++;
        p += k;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    if (n != 5)
        return cron_fail(
            err, errlen,
            "expected 5 fields (minute hour day-of-month month day-of-week), found %zu", n);
    uint64_t bits[5];
    for (size_t i = 0; i < 5; i++)
        if (parse_field(&fields[i], start[i], len[i], &bits[i], err, errlen) < 0)
            return -1;
    struct cron_spec s = {
        .minute = bits[0],
        .hour = (uint32_t)bits[1],
        .mday = (uint32_t)bits[2],
        .month = (uint32_t)bits[3],
        .wday = (uint32_t)bits[4],
        .mday_star = start[2][0] == '*',
        .wday_star = start[4][0] == '*',
    };
    *out = s;
    return 0;
}

bool cron_day_matches(const struct cron_spec *spec, int m, int d, int wd)
{
    if (!(spec->month & (1u << m)))
        return false;
    bool dom = (spec->mday >> d) & 1u;
    bool dow = (spec->wday >> wd) & 1u;
    if (spec->mday_star || spec->wday_star)
        return dom && dow;
    return dom || dow;
}

/* The lowest set bit at or above `from`, or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
    for (int i = from; i <= max; i++)
        if ((bits >> i) & 1u)
            return i;
    return -1;
}

int cron_next_local(const struct cron_spec *spec, int64_t local, int64_t *out)
{
    int64_t t = tz_floor_div(local + 59, 60) * 60;
    int64_t days = tz_floor_div(t, CRON_DAY);
    int sod = (int)(t - days * CRON_DAY);
    int64_t y;
    int m, d;
    tz_civil_from_days(days, &y, &m, &d);
    int h = sod / 3600, mi = sod / 60 % 60;
    int64_t limit = y + SEARCH_YEARS;
    while (y <= limit) {
        if (!((spec->month >> m) & 1u)) {
            int nm = next_bit(spec->month, m + 1, 12);
            if (nm < 0) {
                y++;
                nm = next_bit(spec->month, 1, 12);
                if (nm < 0)
                    return -1;
            }
            m = nm;
            d = 1;
            h = mi = 0;
            continue;
        }
        if (!cron_day_matches(spec, m, d, tz_weekday(tz_days_from_civil(y, m, d)))) {
            if (++d > tz_days_in_month(y, m)) {
                d = 1;
                if (++m > 12) {
                    m = 1;
                    y++;
                }
            }
            h = mi = 0;
            continue;
        }
        int nh = next_bit(spec->hour, h, 23), nmi = -1;
        if (nh == h)
            nmi = next_bit(spec->minute, mi, 59);
        if (nh >= 0 && nmi < 0) {
            /* a later hour of today, from its first minute */
            nh = next_bit(spec->hour, nh == h ? h + 1 : nh, 23);
            nmi = nh >= 0 ? next_bit(spec->minute, 0, 59) : -1;
        }
        if (nh < 0 || nmi < 0) {
            /* nothing left today */
            if (++d > tz_days_in_month(y, m)) {
                d = 1;
                if (++m > 12) {
                    m = 1;
                    y++;
                }
            }
            h = mi = 0;
            continue;
        }
        *out = tz_days_from_civil(y, m, d) * CRON_DAY + nh * 3600 + nmi * 60;
        return 0;
    }
    return -1;
}

int cron_next_fire(const struct cron_spec *spec, const struct tz_zone *z, int64_t after,
                   int64_t *out)
{
    struct tz_info info;
    tz_lookup(z, after, &info);
    /* candidates start at the minute after after's wall-clock minute; the
     * mapping local -> UTC is non-decreasing, so the first candidate that
     * lands after `after` is the answer */
    int64_t local = tz_floor_div(after + info.offset, 60) * 60 + 60;
    for (int i = 0; i < MAX_SKIPS; i++) {
        int64_t cand;
        if (cron_next_local(spec, local, &cand) < 0)
            return -1;
        int64_t utc[TZ_LOCAL_MAX], gap_end = 0;
        int n = tz_local_to_utc(z, cand, utc, &gap_end);
        int64_t at = n == 0 ? gap_end : utc[0];
        if (at > after) {
            *out = at;
            return 0;
        }
        local = cand + 60;
    }
    return -1;
}
