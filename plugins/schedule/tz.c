/*
 * Time zones from TZif files (RFC 8536): the 64-bit (version 2+) data
 * block, or the 32-bit one of a version 1 file, plus the footer's POSIX TZ
 * string, which describes every instant after the last transition ("slim"
 * files stop their table in 2007 or so and rely on it entirely).
 *
 * Nothing here reads TZ or calls localtime: a zone is a value, loaded once
 * and then only read, so threads may share it.
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define MAX_TZIF_SIZE (1024 * 1024)
#define MAX_NAME 255
/* Largest |offset| RFC 8536 allows, and a bound on times so that no
 * arithmetic below can overflow (about 35 million years either way). */
#define MAX_OFFSET 93599
#define MIN_OFFSET (-89999)
#define TIME_LIMIT ((int64_t)1 << 50)
#define SECONDS_PER_DAY 86400

enum rule_kind {
    RULE_JULIAN1, /* Jn: 1-365, February 29 never counted */
    RULE_JULIAN0, /* n: 0-365, February 29 counted in leap years */
    RULE_MONTH,   /* Mm.w.d: day d of week w (5 = last) of month m */
};

struct tz_rule {
    enum rule_kind kind;
    int day; /* Jn / n: the day; Mm.w.d: d (0 = Sunday) */
    int week;
    int month;
    int32_t time; /* local seconds after midnight, -167h..167h */
};

struct posix_tz {
    char std_abbr[TZ_ABBR_SIZE];
    char dst_abbr[TZ_ABBR_SIZE];
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct tz_rule start; /* DST starts; time in standard time */
    struct tz_rule end;   /* DST ends; time in daylight time */
};

struct tz_type {
    int32_t offset;
    bool isdst;
    uint32_t abbr; /* index into chars */
};

struct tz_zone {
    char *name;
    size_t n_times;
    int64_t *times; /* ascending */
    uint8_t *idx;   /* the type from each transition on */
    size_t n_types;
    struct tz_type *types;
    char *chars; /* abbreviations, NUL-separated */
    size_t n_chars;
    bool has_footer;
    struct posix_tz footer;
};

/* One change of a POSIX rule. */
struct transition {
    int64_t at;
    bool to_dst;
};

static int tz_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tz_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* --- calendar ------------------------------------------------------------ */

int64_t tz_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = mm;
    *y = yoe + era * 400 + (mm <= 2);
}

int tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday */
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

bool tz_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && tz_is_leap(y))
        return 29;
    return days[(m - 1) % 12];
}

static int64_t year_of(int64_t utc)
{
    int64_t y;
    int m, d;
    tz_civil_from_days(tz_floor_div(utc, SECONDS_PER_DAY), &y, &m, &d);
    return y;
}

static int64_t clamp_time(int64_t t)
{
    return t > TIME_LIMIT ? TIME_LIMIT : t < -TIME_LIMIT ? -TIME_LIMIT : t;
}

/* --- POSIX TZ strings ---------------------------------------------------- */

/* "CET" or "<-03>" into out; advances *s. */
static int parse_abbr(const char **s, char out[TZ_ABBR_SIZE])
{
    const char *p = *s;
    size_t n = 0;
    if (*p == '<') {
        p++;
        while (*p && *p != '>') {
            bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-';
            if (!ok || n + 1 >= TZ_ABBR_SIZE)
                return -1;
            out[n++] = *p++;
        }
        if (*p != '>')
            return -1;
        p++;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
            if (n + 1 >= TZ_ABBR_SIZE)
                return -1;
            out[n++] = *p++;
        }
    }
    if (n < 3)
        return -1;
    out[n] = '\0';
    *s = p;
    return 0;
}

/* Up to `digits` decimal digits, at least one; -1 if none. */
static int parse_number(const char **s, int digits, int *out)
{
    const char *p = *s;
    int v = 0, n = 0;
    while (n < digits && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours, as signed seconds. */
static int parse_hms(const char **s, int max_hours, int32_t *out)
{
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int h, m = 0, sec = 0;
    if (parse_number(&p, 3, &h) < 0 || h > max_hours)
        return -1;
    if (*p == ':') {
        p++;
        if (parse_number(&p, 2, &m) < 0 || m > 59)
            return -1;
        if (*p == ':') {
            p++;
            if (parse_number(&p, 2, &sec) < 0 || sec > 59)
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *s = p;
    return 0;
}

/* Jn | n | Mm.w.d, then an optional /time (RFC 8536: -167..167 hours). */
static int parse_rule(const char **s, struct tz_rule *r)
{
    const char *p = *s;
    if (*p == 'J') {
        p++;
        r->kind = RULE_JULIAN1;
        if (parse_number(&p, 3, &r->day) < 0 || r->day < 1 || r->day > 365)
            return -1;
    } else if (*p == 'M') {
        p++;
        r->kind = RULE_MONTH;
        if (parse_number(&p, 2, &r->month) < 0 || r->month < 1 || r->month > 12 || *p++ != '.')
            return -1;
        if (parse_number(&p, 1, &r->week) < 0 || r->week < 1 || r->week > 5 || *p++ != '.')
            return -1;
        if (parse_number(&p, 1, &r->day) < 0 || r->day > 6)
            return -1;
    } else {
        r->kind = RULE_JULIAN0;
        if (parse_number(&p, 3, &r->day) < 0 || r->day > 365)
            return -1;
    }
    r->time = 7200;
    if (*p == '/') {
        p++;
        if (parse_hms(&p, 167, &r->time) < 0)
            return -1;
    }
    *s = p;
    return 0;
}

static int parse_posix(const char *spec, struct posix_tz *p, char *err, size_t errlen)
{
    const char *s = spec;
    int32_t v;
    memset(p, 0, sizeof(*p));
    if (parse_abbr(&s, p->std_abbr) < 0)
        return tz_fail(err, errlen, "TZ string '%s': bad standard time name", spec);
    if (parse_hms(&s, 24, &v) < 0)
        return tz_fail(err, errlen, "TZ string '%s': bad or missing UTC offset", spec);
    p->std_off = -v; /* POSIX counts hours west of Greenwich */
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s, p->dst_abbr) < 0)
        return tz_fail(err, errlen, "TZ string '%s': bad daylight time name", spec);
    p->has_dst = true;
    p->dst_off = p->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_hms(&s, 24, &v) < 0)
            return tz_fail(err, errlen, "TZ string '%s': bad daylight time offset", spec);
        p->dst_off = -v;
    }
    if (*s == '\0') {
        /* no rule given: the US rule, as glibc does */
        p->start = (struct tz_rule){RULE_MONTH, 0, 2, 3, 7200};
        p->end = (struct tz_rule){RULE_MONTH, 0, 1, 11, 7200};
        return 0;
    }
    if (*s++ != ',' || parse_rule(&s, &p->start) < 0 || *s++ != ',' || parse_rule(&s, &p->end) < 0)
        return tz_fail(err, errlen, "TZ string '%s': bad daylight saving rule", spec);
    if (*s != '\0')
        return tz_fail(err, errlen, "TZ string '%s': unexpected '%s' at the end", spec, s);
    return 0;
}

/* The local day (days since the epoch) a rule names in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case RULE_JULIAN1:
        return jan1 + r->day - 1 + (tz_is_leap(y) && r->day >= 60 ? 1 : 0);
    case RULE_JULIAN0:
        return jan1 + r->day;
    case RULE_MONTH:
    default: {
        int64_t first = tz_days_from_civil(y, r->month, 1);
        int day = (r->day - tz_weekday(first) + 7) % 7 + (r->week - 1) * 7;
        int dim = tz_days_in_month(y, r->month);
        while (day >= dim)
            day -= 7;
        return first + day;
    }
    }
}

/* The UTC instant of a rule in year y, its time read at `offset`. */
static int64_t rule_utc(const struct tz_rule *r, int64_t y, int32_t offset)
{
    return rule_day(r, y) * SECONDS_PER_DAY + r->time - offset;
}

/*
 * The changes of a DST rule in years y0..y1, sorted by time; ties keep the
 * order of the years, so the last change at an instant is the one that
 * holds (all-year DST written as "EST5EDT4,0/0,J365/25"). Returns the
 * count (at most cap).
 */
static size_t rule_transitions(const struct posix_tz *p, int64_t y0, int64_t y1,
                               struct transition *out, size_t cap)
{
    size_t n = 0;
    for (int64_t y = y0; y <= y1 && n + 2 <= cap; y++) {
        struct transition s = {rule_utc(&p->start, y, p->std_off), true};
        struct transition e = {rule_utc(&p->end, y, p->dst_off), false};
        out[n++] = s.at <= e.at ? s : e;
        out[n++] = s.at <= e.at ? e : s;
    }
    for (size_t i = 1; i < n; i++) { /* stable insertion sort */
        struct transition t = out[i];
        size_t j = i;
        while (j > 0 && out[j - 1].at > t.at) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    return n;
}

static void posix_info(const struct posix_tz *p, bool dst, struct tz_info *out)
{
    out->offset = dst ? p->dst_off : p->std_off;
    out->isdst = dst;
    snprintf(out->abbr, sizeof(out->abbr), "%s", dst ? p->dst_abbr : p->std_abbr);
}

static void posix_lookup(const struct posix_tz *p, int64_t utc, struct tz_info *out)
{
    if (!p->has_dst) {
        posix_info(p, false, out);
        return;
    }
    /* rule times reach 167 h past their day: start two years back */
    struct transition t[8];
    int64_t y = year_of(utc);
    size_t n = rule_transitions(p, y - 2, y + 1, t, 8);
    bool dst = false;
    for (size_t i = 0; i < n && t[i].at <= utc; i++)
        dst = t[i].to_dst;
    posix_info(p, dst, out);
}

/* --- the zone ------------------------------------------------------------ */

void tz_zone_free(struct tz_zone *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->times);
    free(z->idx);
    free(z->types);
    free(z->chars);
    free(z);
}

const char *tz_zone_name(const struct tz_zone *z)
{
    return z->name;
}

void tz_lookup(const struct tz_zone *z, int64_t utc, struct tz_info *out)
{
    utc = clamp_time(utc);
    size_t n = z->n_times;
    if (z->has_footer && (n == 0 || utc >= z->times[n - 1])) {
        posix_lookup(&z->footer, utc, out);
        return;
    }
    const struct tz_type *t = &z->types[0]; /* before the first transition */
    if (n > 0 && utc >= z->times[0]) {
        size_t lo = 0, hi = n; /* the last i with times[i] <= utc */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->times[mid] <= utc)
                lo = mid;
            else
                hi = mid;
        }
        t = &z->types[z->idx[lo]];
    }
    out->offset = t->offset;
    out->isdst = t->isdst;
    snprintf(out->abbr, sizeof(out->abbr), "%s", z->chars + t->abbr);
}

/* The instants in (from, to] at which the zone's rules change, ascending,
 * at most cap. */
static size_t transitions_in(const struct tz_zone *z, int64_t from, int64_t to, int64_t *out,
                             size_t cap)
{
    size_t n = 0;
    size_t lo = 0, hi = z->n_times; /* the first i with times[i] > from */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < z->n_times && z->times[i] <= to && n < cap; i++)
        out[n++] = z->times[i];
    if (z->has_footer && z->footer.has_dst) {
        int64_t after = z->n_times ? z->times[z->n_times - 1] : INT64_MIN;
        if (after < from)
            after = from;
        struct transition t[16];
        size_t k = rule_transitions(&z->footer, year_of(from) - 1, year_of(to) + 1, t, 16);
        for (size_t i = 0; i < k && n < cap; i++)
            if (t[i].at > after && t[i].at <= to && (n == 0 || t[i].at > out[n - 1]))
                out[n++] = t[i].at;
    }
    return n;
}

int tz_local_to_utc(const struct tz_zone *z, int64_t local, int64_t out[TZ_LOCAL_MAX],
                    int64_t *gap_end)
{
    local = clamp_time(local);
    /* every offset is within 26 hours: two days either way see them all */
    int64_t from = local - 2 * SECONDS_PER_DAY, to = local + 2 * SECONDS_PER_DAY;
    int64_t start[65];
    int32_t offset[65];
    start[0] = from;
    size_t n = 1 + transitions_in(z, from, to, start + 1, 64);
    for (size_t i = 0; i < n; i++) {
        struct tz_info info;
        tz_lookup(z, start[i], &info);
        offset[i] = info.offset;
    }
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t u = local - offset[i];
        bool inside = u >= start[i] && (i + 1 == n || u < start[i + 1]);
        if (inside && count < TZ_LOCAL_MAX)
            out[count++] = u;
    }
    if (count == 0 && gap_end) {
        *gap_end = local - offset[0];
        for (size_t i = 0; i + 1 < n; i++) {
            /* past the end of segment i under its offset, before the
             * start of segment i+1 under the next: skipped over there */
            if (local - offset[i] >= start[i + 1] && local - offset[i + 1] < start[i + 1]) {
                *gap_end = start[i + 1];
                break;
            }
        }
    }
    return count;
}

/* --- TZif ---------------------------------------------------------------- */

struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (int64_t)v;
}

static int read_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

/* Bytes of the data block after a header, times of time_size bytes. */
static uint64_t block_size(const struct tzif_header *h, unsigned time_size)
{
    return (uint64_t)h->timecnt * time_size + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Fill z from the data block at p (size checked by the caller). */
static int read_block(struct tz_zone *z, const struct tzif_header *h, const unsigned char *p,
                      unsigned time_size, char *err, size_t errlen)
{
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
        return tz_fail(err, errlen, "no local time types");
    if (h->leapcnt)
        return tz_fail(err, errlen, "leap-second zones ('right/...') are not supported");
    z->n_times = h->timecnt;
    z->n_types = h->typecnt;
    z->n_chars = h->charcnt;
    z->times = calloc(h->timecnt ? h->timecnt : 1, sizeof(*z->times));
    z->idx = calloc(h->timecnt ? h->timecnt : 1, 1);
    z->types = calloc(h->typecnt, sizeof(*z->types));
    z->chars = calloc(h->charcnt + 1, 1);
    if (!z->times || !z->idx || !z->types || !z->chars)
        return tz_fail(err, errlen, "out of memory");
    for (uint32_t i = 0; i < h->timecnt; i++, p += time_size) {
        z->times[i] = time_size == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i > 0 && z->times[i] <= z->times[i - 1])
            return tz_fail(err, errlen, "transition times are not ascending");
    }
    for (uint32_t i = 0; i < h->timecnt; i++, p++) {
        if (*p >= h->typecnt)
            return tz_fail(err, errlen, "transition %u names a missing local time type", i);
        z->idx[i] = *p;
    }
    for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < MIN_OFFSET || off > MAX_OFFSET || p[4] > 1 || p[5] >= h->charcnt)
            return tz_fail(err, errlen, "local time type %u is invalid", i);
        z->types[i] = (struct tz_type){off, p[4] == 1, p[5]};
    }
    memcpy(z->chars, p, h->charcnt);
    if (z->chars[h->charcnt - 1] != '\0')
        return tz_fail(err, errlen, "abbreviations are not NUL-terminated");
    return 0;
}

int tz_zone_from_tzif(const unsigned char *data, size_t len, const char *name, struct tz_zone **out,
                      char *err, size_t errlen)
{
    struct tzif_header h;
    char why[160] = "";
    struct tz_zone *z = calloc(1, sizeof(*z));
    if (!z || !(z->name = strdup(name))) {
        tz_zone_free(z);
        return tz_fail(err, errlen, "out of memory");
    }
    if (read_header(data, len, &h) < 0) {
        snprintf(why, sizeof(why), "not a TZif file");
        goto bad;
    }
    uint64_t v1 = block_size(&h, 4);
    if (v1 > len - 44) {
        snprintf(why, sizeof(why), "truncated");
        goto bad;
    }
    if (h.version == '\0') {
        if (read_block(z, &h, data + 44, 4, why, sizeof(why)) < 0)
            goto bad;
        *out = z;
        return 0;
    }
    /* version 2+: skip the 32-bit block for the 64-bit one and the footer */
    const unsigned char *p = data + 44 + v1;
    size_t left = len - 44 - (size_t)v1;
    if (read_header(p, left, &h) < 0 || block_size(&h, 8) > left - 44) {
        snprintf(why, sizeof(why), "truncated version 2 data");
        goto bad;
    }
    if (read_block(z, &h, p + 44, 8, why, sizeof(why)) < 0)
        goto bad;
    p += 44 + block_size(&h, 8);
    left -= 44 + (size_t)block_size(&h, 8);
    if (left < 2 || p[0] != '\n') {
        snprintf(why, sizeof(why), "missing footer");
        goto bad;
    }
    const unsigned char *nl = memchr(p + 1, '\n', left - 1);
    size_t flen = nl ? (size_t)(nl - p - 1) : 0;
    if (!nl || flen >= 128) {
        snprintf(why, sizeof(why), "bad footer");
        goto bad;
    }
    if (flen > 0) {
        char footer[128];
        memcpy(footer, p + 1, flen);
        footer[flen] = '\0';
        if (memchr(footer, '\0', flen) || parse_posix(footer, &z->footer, why, sizeof(why)) < 0)
            goto bad;
        z->has_footer = true;
    }
    *out = z;
    return 0;
bad:
    tz_zone_free(z);
    return tz_fail(err, errlen, "time zone '%s': %s", name, why);
}

int tz_zone_from_posix(const char *spec, struct tz_zone **out, char *err, size_t errlen)
{
    struct tz_zone *z = calloc(1, sizeof(*z));
    if (z) {
        z->name = strdup(spec);
        z->types = calloc(1, sizeof(*z->types));
        z->chars = calloc(TZ_ABBR_SIZE, 1);
    }
    if (!z || !z->name || !z->types || !z->chars) {
        tz_zone_free(z);
        return tz_fail(err, errlen, "out of memory");
    }
    if (parse_posix(spec, &z->footer, err, errlen) < 0) {
        tz_zone_free(z);
        return -1;
    }
    z->has_footer = true;
    z->n_types = 1;
    z->types[0].offset = z->footer.std_off;
    snprintf(z->chars, TZ_ABBR_SIZE, "%s", z->footer.std_abbr);
    *out = z;
    return 0;
}

/* An IANA name: non-empty components of [A-Za-z0-9_+-] (so never "." or
 * ".."), no leading or trailing '/'. */
static bool valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > MAX_NAME || name[0] == '/' || name[len - 1] == '/')
        return false;
    const char *part = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - part);
            if (n == 0)
                return false;
            if (*p == '\0')
                return true;
            part = p + 1;
            continue;
        }
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '+';
        if (!ok)
            return false;
    }
}

static int load_utc(const char *name, struct tz_zone **out, char *err, size_t errlen)
{
    if (tz_zone_from_posix("UTC0", out, err, errlen) < 0)
        return -1;
    char *copy = strdup(name);
    if (!copy) {
        tz_zone_free(*out);
        *out = NULL;
        return tz_fail(err, errlen, "out of memory");
    }
    free((*out)->name);
    (*out)->name = copy;
    return 0;
}

/* Read a whole regular file of at most MAX_TZIF_SIZE bytes. */
static int read_file(const char *path, unsigned char **data, size_t *len, int *errnum)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *errnum = errno;
        return -1;
    }
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) < 0) {
        *errnum = errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_TZIF_SIZE) {
        *errnum = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto fail;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size ? size : 1);
    if (!buf) {
        *errnum = ENOMEM;
        goto fail;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *errnum = r < 0 ? errno : EIO;
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = size;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

int tz_zone_load(const char *name, struct tz_zone **out, char *err, size_t errlen)
{
    if (!name || !valid_name(name))
        return tz_fail(
            err, errlen,
            "'%s' is not a time zone name; use an IANA name such as Europe/Berlin or UTC",
            name ? name : "");
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        return load_utc(name, out, err, errlen);
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = DEFAULT_TZDIR;
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return tz_fail(err, errlen, "time zone '%s': path too long", name);
    unsigned char *data = NULL;
    size_t len = 0;
    int errnum = 0;
    if (read_file(path, &data, &len, &errnum) < 0) {
        if (errnum == ENOENT || errnum == ENOTDIR || errnum == EISDIR)
            return tz_fail(err, errlen, "unknown time zone '%s' (no zone file %s)", name, path);
        return tz_fail(err, errlen, "time zone '%s': cannot read %s (error %d)", name, path,
                       errnum);
    }
    int rc = tz_zone_from_tzif(data, len, name, out, err, errlen);
    free(data);
    return rc;
}

/* --- formatting ---------------------------------------------------------- */

int tz_format_iso(int64_t utc_ms, int32_t offset, bool zulu, char *out, size_t len)
{
    if (utc_ms > TIME_LIMIT * 1000 || utc_ms < -TIME_LIMIT * 1000)
        utc_ms = utc_ms < 0 ? -TIME_LIMIT * 1000 : TIME_LIMIT * 1000;
    int64_t secs = tz_floor_div(utc_ms, 1000);
    int ms = (int)(utc_ms - secs * 1000);
    int64_t local = secs + (zulu ? 0 : offset);
    int64_t days = tz_floor_div(local, SECONDS_PER_DAY);
    int sod = (int)(local - days * SECONDS_PER_DAY);
    int64_t y;
    int m, d;
    tz_civil_from_days(days, &y, &m, &d);
    char frac[8] = "";
    if (ms)
        snprintf(frac, sizeof(frac), ".%03d", ms);
    char zone[16] = "Z";
    if (!zulu) {
        int32_t a = offset < 0 ? -offset : offset;
        char sign = offset < 0 ? '-' : '+';
        if (a % 60)
            snprintf(zone, sizeof(zone), "%c%02d:%02d:%02d", sign, (int)(a / 3600),
                     (int)(a / 60 % 60), (int)(a % 60));
        else
            snprintf(zone, sizeof(zone), "%c%02d:%02d", sign, (int)(a / 3600), (int)(a / 60 % 60));
    }
    int n = snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s", (long long)y, m, d,
                     sod / 3600, sod / 60 % 60, sod % 60, frac, zone);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
