/*
 * The filters of the template language ({{ value | name: arg, arg }}).
 * Each one transforms a struct template_value in place; template_render.c
 * handles absent paths and JSON nulls (only the filters flagged for them
 * see them) and prefixes error messages with the filter name.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <switchboard/plugin.h>

#include "template_internal.h"
#include "xalloc.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char to_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Trim ASCII whitespace from both ends of s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* A quoted excerpt of user text for messages (at most 40 bytes shown). */
#define EXCERPT(s, len) (int)((len) > 40 ? 40 : (len)), (s)

/* UTF-8 helpers: a character starts at every byte that is not 10xxxxxx. */
static bool utf8_start(char c)
{
    return ((unsigned char)c & 0xc0) != 0x80;
}

static size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += utf8_start(s[i]);
    return n;
}

/* Byte offset where character number `chars` (from 0) starts, or len. */
static size_t utf8_offset(const char *s, size_t len, size_t chars)
{
    size_t seen = 0;
    if (chars == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (utf8_start(s[i])) {
            if (seen == chars)
                return i;
            seen++;
        }
    }
    return len;
}

/*
 * An integer from a value: a JSON integer or a string of decimal digits
 * (optional sign). Returns -1 for anything else.
 */
static int value_int(struct json_object *o, int64_t *out)
{
    if (json_object_is_type(o, json_type_int)) {
        *out = json_object_get_int64(o);
        return 0;
    }
    if (!json_object_is_type(o, json_type_string))
        return -1;
    size_t len = (size_t)json_object_get_string_len(o);
    const char *s = trim(json_object_get_string(o), &len);
    size_t i = (len && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == len || len > 20)
        return -1;
    for (size_t j = i; j < len; j++)
        if (!is_digit(s[j]))
            return -1;
    char buf[24];
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Escapers shared with the renderer                                         */
/* ------------------------------------------------------------------------- */

void template_add_percent_encoded(struct strbuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    /* "." and ".." are path segments that move a request (/v1/users/../x
     * is /v1/x): a value made only of dots keeps them encoded */
    bool only_dots = len > 0;
    for (size_t i = 0; i < len && only_dots; i++)
        only_dots = s[i] == '.';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || (c == '.' && !only_dots) || c == '_' || c == '~') {
            strbuf_addch(out, (char)c);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_add(out, enc, 3);
        }
    }
}

void template_add_slack_escaped(struct strbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            strbuf_add(out, "&amp;", 5);
            break;
        case '<':
            strbuf_add(out, "&lt;", 4);
            break;
        case '>':
            strbuf_add(out, "&gt;", 4);
            break;
        default:
            strbuf_addch(out, s[i]);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Simple text filters                                                       */
/* ------------------------------------------------------------------------- */

static int f_default(struct template_value *v, const struct template_value *args, size_t nargs,
                     char *err, size_t errlen)
{
    (void)nargs, (void)err, (void)errlen;
    bool empty =
        v->missing || !v->obj ||
        (json_object_is_type(v->obj, json_type_string) && json_object_get_string_len(v->obj) == 0);
    if (!empty)
        return 0;
    template_value_release(v);
    *v = args[0];
    v->owned = false; /* arguments are borrowed (root) or shared (literal) */
    v->missing = false;
    v->escaped = 0;
    return 0;
}

/* Replace v by its text with every byte mapped through fn. */
static void map_text(struct template_value *v, char (*fn)(char))
{
    struct strbuf scratch = STRBUF_INIT, res = STRBUF_INIT;
    size_t len;
    const char *s = template_value_str(v->obj, &scratch, &len);
    strbuf_grow(&res, len);
    for (size_t i = 0; i < len; i++)
        strbuf_addch(&res, fn(s[i]));
    template_value_set_string(v, res.buf ? res.buf : "", res.len);
    strbuf_release(&res);
    strbuf_release(&scratch);
}

static int f_upper(struct template_value *v, const struct template_value *args, size_t nargs,
                   char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    map_text(v, to_upper);
    return 0;
}

static int f_lower(struct template_value *v, const struct template_value *args, size_t nargs,
                   char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    map_text(v, to_lower);
    return 0;
}

static int f_trim(struct template_value *v, const struct template_value *args, size_t nargs,
                  char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    struct strbuf scratch = STRBUF_INIT;
    size_t len;
    const char *s = template_value_str(v->obj, &scratch, &len);
    s = trim(s, &len);
    template_value_set_string(v, s, len);
    strbuf_release(&scratch);
    return 0;
}

static int f_json(struct template_value *v, const struct template_value *args, size_t nargs,
                  char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    struct strbuf res = STRBUF_INIT;
    template_value_json(v->obj, &res);
    template_value_set_string(v, res.buf, res.len);
    strbuf_release(&res);
    v->escaped = 1u << SB_ESCAPE_JSON;
    return 0;
}

static int f_urlencode(struct template_value *v, const struct template_value *args, size_t nargs,
                       char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    struct strbuf scratch = STRBUF_INIT, res = STRBUF_INIT;
    size_t len;
    const char *s = template_value_str(v->obj, &scratch, &len);
    template_add_percent_encoded(&res, s, len);
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&scratch);
    v->escaped = 1u << SB_ESCAPE_URL;
    return 0;
}

static int f_slack_escape(struct template_value *v, const struct template_value *args, size_t nargs,
                          char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    struct strbuf scratch = STRBUF_INIT, res = STRBUF_INIT;
    size_t len;
    const char *s = template_value_str(v->obj, &scratch, &len);
    template_add_slack_escaped(&res, s, len);
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&scratch);
    v->escaped = 1u << SB_ESCAPE_SLACK;
    return 0;
}

/* raw only marks the expression at parse time. */
static int f_raw(struct template_value *v, const struct template_value *args, size_t nargs,
                 char *err, size_t errlen)
{
    (void)v, (void)args, (void)nargs, (void)err, (void)errlen;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* money                                                                     */
/* ------------------------------------------------------------------------- */

/* ISO 4217 currencies without minor units (as Stripe lists them). */
static const char *const zero_decimal_currencies[] = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
    "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF", NULL,
};

static const struct {
    const char *code;
    const char *symbol;
} currency_symbols[] = {
    {"USD", "$"},
    {"EUR", "\xe2\x82\xac"},
    {"GBP", "\xc2\xa3"},
    {"JPY", "\xc2\xa5"},
};

static bool is_currency_code(const char *s, size_t len)
{
    if (len != 3)
        return false;
    for (size_t i = 0; i < 3; i++) {
        char c = to_upper(s[i]);
        if (c < 'A' || c > 'Z')
            return false;
    }
    return true;
}

static int check_money(const struct template_arg *args, size_t nargs, char *err, size_t errlen)
{
    if (nargs == 0 || args[0].kind == TEMPLATE_ARG_PATH)
        return 0;
    if (args[0].kind != TEMPLATE_ARG_STRING || !is_currency_code(args[0].text, args[0].len)) {
        template_error(err, errlen, "invalid currency '%.*s' (expected a code like 'USD')",
                       EXCERPT(args[0].text, args[0].len));
        return -1;
    }
    return 0;
}

/*
 * Parse decimal text (optional sign, digits, optional fraction, optional
 * exponent) into an amount in units of 10^-decimals, rounded half away from
 * zero. Exact: no floating point. Returns -1 if not a number or too large.
 */
static int parse_decimal(const char *s, size_t len, int decimals, bool *neg, uint64_t *amount)
{
    char digits[64];
    size_t ndigits = 0, i = 0;
    long scale = 0; /* digits after the decimal point */
    bool any = false, negative = false;

    s = trim(s, &len);
    if (i < len && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    for (bool frac = false; i < len; i++) {
        if (s[i] == '.' && !frac) {
            frac = true;
            continue;
        }
        if (!is_digit(s[i]))
            break;
        any = true;
        if (ndigits == 0 && s[i] == '0') {
            /* leading zeros carry no value (but fraction zeros keep scale) */
        } else if (ndigits < sizeof(digits)) {
            digits[ndigits++] = s[i];
        } else if (!frac) {
            return -1;
        } else {
            continue; /* fraction digits beyond 64 significant ones: drop */
        }
        if (frac)
            scale++;
    }
    if (!any)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        long e = 0;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        if (i == len)
            return -1;
        for (; i < len && is_digit(s[i]); i++)
            if (e < 1000)
                e = e * 10 + (s[i] - '0');
        scale += eneg ? e : -e;
    }
    if (i != len)
        return -1;

    /* value = digits * 10^-scale; we want digits * 10^(decimals - scale) */
    long shift = decimals - scale;
    uint64_t v = 0;
    long keep = shift >= 0 ? (long)ndigits : (long)ndigits + shift;
    bool round_up = false;
    for (long k = 0; k < (long)ndigits; k++) {
        unsigned d = (unsigned)(digits[k] - '0');
        if (k < keep) {
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        } else if (k == keep) {
            round_up = d >= 5;
        }
    }
    for (long k = 0; k < shift && v; k++) {
        if (v > UINT64_MAX / 10)
            return -1;
        v *= 10;
    }
    if (round_up) {
        if (v == UINT64_MAX)
            return -1;
        v++;
    }
    *neg = negative && v != 0;
    *amount = v;
    return 0;
}

/* "-$1,575.90", "¥5,000", "50.00 CHF". */
static void format_money(struct strbuf *out, bool neg, uint64_t amount, int decimals,
                         const char *code)
{
    uint64_t scale = decimals ? 100 : 1;
    char units[24];
    int n = snprintf(units, sizeof(units), "%" PRIu64, amount / scale);
    const char *symbol = NULL;
    for (size_t i = 0; i < sizeof(currency_symbols) / sizeof(currency_symbols[0]); i++)
        if (!strcmp(code, currency_symbols[i].code))
            symbol = currency_symbols[i].symbol;
    if (neg)
        strbuf_addch(out, '-');
    if (symbol)
        strbuf_addstr(out, symbol);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            strbuf_addch(out, ',');
        strbuf_addch(out, units[i]);
    }
    if (decimals)
        strbuf_addf(out, ".%02" PRIu64, amount % scale);
    if (!symbol)
        strbuf_addf(out, " %s", code);
}

static int f_money(struct template_value *v, const struct template_value *args, size_t nargs,
                   char *err, size_t errlen)
{
    struct strbuf scratch = STRBUF_INIT, res = STRBUF_INIT;
    char code[4] = "USD";
    size_t len;
    const char *s;
    int rc = -1;

    if (nargs) {
        s = template_value_str(args[0].obj, &scratch, &len);
        if (!is_currency_code(s, len)) {
            template_error(err, errlen, "invalid currency '%.*s'", EXCERPT(s, len));
            goto out;
        }
        for (size_t i = 0; i < 3; i++)
            code[i] = to_upper(s[i]);
    }
    int decimals = 2;
    for (size_t i = 0; zero_decimal_currencies[i]; i++)
        if (!strcmp(code, zero_decimal_currencies[i]))
            decimals = 0;

    bool neg = false;
    uint64_t amount;
    switch (json_object_get_type(v->obj)) {
    case json_type_int: {
        /* minor units, as payment APIs send them */
        int64_t i = json_object_get_int64(v->obj);
        if (i == INT64_MAX) {
            amount = json_object_get_uint64(v->obj);
        } else {
            neg = i < 0;
            amount = neg ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
        }
        break;
    }
    case json_type_double:
    case json_type_string:
        /* major units: "1575.90" */
        s = template_value_str(v->obj, &scratch, &len);
        if (parse_decimal(s, len, decimals, &neg, &amount) < 0) {
            template_error(err, errlen, "'%.*s' is not an amount", EXCERPT(s, len));
            goto out;
        }
        break;
    default:
        template_error(err, errlen, "expected an amount, got %s",
                       json_object_is_type(v->obj, json_type_boolean) ? "a boolean"
                                                                      : "a container");
        goto out;
    }
    format_money(&res, neg, amount, decimals, code);
    template_value_set_string(v, res.buf, res.len);
    rc = 0;
out:
    strbuf_release(&res);
    strbuf_release(&scratch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* date                                                                      */
/* ------------------------------------------------------------------------- */

#define DATE_DEFAULT_FORMAT "%Y-%m-%d %H:%M:%S UTC"
#define DATE_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define DATE_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

/* Only the C11 conversions: anything else is undefined for strftime. */
static int check_date_format(const char *fmt, size_t len, char *err, size_t errlen)
{
    static const char conversions[] = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%";
    if (strlen(fmt) != len) {
        template_error(err, errlen, "format contains a NUL character");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (fmt[i] != '%')
            continue;
        if (i + 1 == len) {
            template_error(err, errlen, "format ends with '%%'");
            return -1;
        }
        if (!strchr(conversions, fmt[i + 1]) || fmt[i + 1] == '\0') {
            template_error(err, errlen, "unsupported conversion '%%%c' in format", fmt[i + 1]);
            return -1;
        }
        i++;
    }
    return 0;
}

static int check_date(const struct template_arg *args, size_t nargs, char *err, size_t errlen)
{
    if (nargs == 0 || args[0].kind == TEMPLATE_ARG_PATH)
        return 0;
    if (args[0].kind != TEMPLATE_ARG_STRING) {
        template_error(err, errlen, "expected a format string");
        return -1;
    }
    return check_date_format(args[0].text, args[0].len, err, errlen);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s[*i]; false if not all digits. */
static bool read_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return false;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return true;
}

/*
 * ISO 8601 / RFC 3339 text: YYYY-MM-DD, optionally followed by 'T' or ' '
 * and HH:MM[:SS[.fraction]], optionally by Z or an offset +HH[:MM]. No zone
 * means UTC. Fractions of a second are dropped.
 */
static int parse_iso8601(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    if (!read_digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &d))
        return -1;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!read_digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
            !read_digits(s, len, &i, 2, &mi))
            return -1;
        if (i < len && s[i] == ':') {
            i++;
            if (!read_digits(s, len, &i, 2, &sec))
                return -1;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (i >= len || !is_digit(s[i]))
                    return -1;
                while (i < len && is_digit(s[i]))
                    i++;
            }
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            sign = s[i++] == '-' ? -1 : 1;
            if (!read_digits(s, len, &i, 2, &oh))
                return -1;
            if (i < len && s[i] == ':')
                i++;
            if (i < len && !read_digits(s, len, &i, 2, &om))
                return -1;
        }
    }
    if (i != len)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 ||
        mi > 59 || sec > 60 || oh > 23 || om > 59)
        return -1;
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
}

/* Unix seconds from an int, a double, a numeric string or ISO 8601 text. */
static int date_seconds(struct json_object *o, int64_t *out, char *err, size_t errlen)
{
    int64_t t;
    switch (json_object_get_type(o)) {
    case json_type_int:
        t = json_object_get_int64(o);
        break;
    case json_type_double: {
        double d = floor(json_object_get_double(o));
        if (!(d >= (double)DATE_MIN && d <= (double)DATE_MAX)) {
            template_error(err, errlen, "timestamp out of range");
            return -1;
        }
        t = (int64_t)d;
        break;
    }
    case json_type_string: {
        size_t len = (size_t)json_object_get_string_len(o);
        const char *s = trim(json_object_get_string(o), &len);
        bool neg = false;
        uint64_t secs;
        if (value_int(o, &t) == 0)
            break;
        if (parse_iso8601(s, len, &t) == 0)
            break;
        /* fractional seconds "1719419601.5": floor */
        if (len && (is_digit(s[0]) || s[0] == '-' || s[0] == '+') &&
            parse_decimal(s, len, 0, &neg, &secs) == 0 && secs <= (uint64_t)DATE_MAX + 1) {
            double d = floor(strtod(s, NULL));
            t = (int64_t)d;
            break;
        }
        template_error(err, errlen, "'%.*s' is not a date", EXCERPT(s, len));
        return -1;
    }
    default:
        template_error(err, errlen, "expected a timestamp or a date, got %s",
                       json_object_is_type(o, json_type_boolean) ? "a boolean" : "a container");
        return -1;
    }
    if (t < DATE_MIN || t > DATE_MAX) {
        template_error(err, errlen, "timestamp out of range");
        return -1;
    }
    *out = t;
    return 0;
}

static int f_date(struct template_value *v, const struct template_value *args, size_t nargs,
                  char *err, size_t errlen)
{
    struct strbuf scratch = STRBUF_INIT, fmt = STRBUF_INIT;
    char *buf = NULL;
    int64_t t;
    int rc = -1;

    if (nargs) {
        size_t len;
        const char *s = template_value_str(args[0].obj, &scratch, &len);
        if (check_date_format(s, len, err, errlen) < 0)
            goto out;
        strbuf_add(&fmt, s, len);
    } else {
        strbuf_addstr(&fmt, DATE_DEFAULT_FORMAT);
    }
    if (date_seconds(v->obj, &t, err, errlen) < 0)
        goto out;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        template_error(err, errlen, "timestamp out of range");
        goto out;
    }
    size_t n = 0;
    if (fmt.len) {
        /* every C11 conversion expands to less than 32 bytes */
        size_t size = fmt.len * 32 + 64;
        buf = xmalloc(size);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        n = strftime(buf, size, fmt.buf, &tm);
#pragma GCC diagnostic pop
    }
    template_value_set_string(v, buf ? buf : "", n);
    rc = 0;
out:
    free(buf);
    strbuf_release(&fmt);
    strbuf_release(&scratch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* truncate, join, length, first, last, replace                              */
/* ------------------------------------------------------------------------- */

#define DEFAULT_ELLIPSIS "\xe2\x80\xa6" /* U+2026 … */

static int check_truncate(const struct template_arg *args, size_t nargs, char *err, size_t errlen)
{
    if (args[0].kind != TEMPLATE_ARG_PATH && (args[0].kind != TEMPLATE_ARG_INT || args[0].i < 0)) {
        template_error(err, errlen, "expected a character count, got '%.*s'",
                       EXCERPT(args[0].text, args[0].len));
        return -1;
    }
    if (nargs == 2 && args[1].kind != TEMPLATE_ARG_PATH && args[1].kind != TEMPLATE_ARG_STRING) {
        template_error(err, errlen, "expected an ellipsis string");
        return -1;
    }
    return 0;
}

/* At most N characters: the first N - len(ellipsis), then the ellipsis. */
static int f_truncate(struct template_value *v, const struct template_value *args, size_t nargs,
                      char *err, size_t errlen)
{
    struct strbuf scratch = STRBUF_INIT, escratch = STRBUF_INIT, res = STRBUF_INIT;
    int64_t max;
    size_t len, elen = sizeof(DEFAULT_ELLIPSIS) - 1;
    const char *ellipsis = DEFAULT_ELLIPSIS;

    if (value_int(args[0].obj, &max) < 0 || max < 0) {
        template_error(err, errlen, "expected a character count");
        return -1;
    }
    if (nargs == 2)
        ellipsis = template_value_str(args[1].obj, &escratch, &elen);
    const char *s = template_value_str(v->obj, &scratch, &len);
    size_t chars = utf8_count(s, len);
    if (chars <= (uint64_t)max) {
        strbuf_add(&res, s, len);
    } else {
        size_t echars = utf8_count(ellipsis, elen);
        if ((uint64_t)max >= echars) {
            strbuf_add(&res, s, utf8_offset(s, len, (size_t)max - echars));
            strbuf_add(&res, ellipsis, elen);
        } else {
            strbuf_add(&res, s, utf8_offset(s, len, (size_t)max));
        }
    }
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&escratch);
    strbuf_release(&scratch);
    return 0;
}

static int f_join(struct template_value *v, const struct template_value *args, size_t nargs,
                  char *err, size_t errlen)
{
    (void)err, (void)errlen;
    if (!json_object_is_type(v->obj, json_type_array))
        return 0;
    struct strbuf sscratch = STRBUF_INIT, res = STRBUF_INIT;
    const char *sep = ", ";
    size_t seplen = 2;
    if (nargs)
        sep = template_value_str(args[0].obj, &sscratch, &seplen);
    size_t n = json_object_array_length(v->obj);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_add(&res, sep, seplen);
        template_value_text(json_object_array_get_idx(v->obj, i), &res);
    }
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&sscratch);
    return 0;
}

static int f_length(struct template_value *v, const struct template_value *args, size_t nargs,
                    char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    size_t n;
    switch (json_object_get_type(v->obj)) {
    case json_type_null:
        n = 0;
        break;
    case json_type_array:
        n = json_object_array_length(v->obj);
        break;
    case json_type_object:
        n = (size_t)json_object_object_length(v->obj);
        break;
    default: {
        struct strbuf scratch = STRBUF_INIT;
        size_t len;
        const char *s = template_value_str(v->obj, &scratch, &len);
        n = utf8_count(s, len);
        strbuf_release(&scratch);
    }
    }
    template_value_set_owned(v, json_object_new_int64((int64_t)n));
    return 0;
}

/* first/last element of an array, or first/last character of the text. */
static void first_or_last(struct template_value *v, bool last)
{
    if (json_object_is_type(v->obj, json_type_array)) {
        size_t n = json_object_array_length(v->obj);
        struct json_object *elem = n ? json_object_array_get_idx(v->obj, last ? n - 1 : 0) : NULL;
        if (v->owned) {
            template_value_set_owned(v, json_object_get(elem));
        } else {
            v->obj = elem; /* still borrowed from the same place */
            v->escaped = 0;
        }
        return;
    }
    struct strbuf scratch = STRBUF_INIT;
    size_t len, from = 0, to;
    const char *s = template_value_str(v->obj, &scratch, &len);
    if (last) {
        from = len;
        while (from > 0 && !utf8_start(s[--from]))
            ;
        to = len;
    } else {
        to = utf8_offset(s, len, 1);
    }
    template_value_set_string(v, s + from, to - from);
    strbuf_release(&scratch);
}

static int f_first(struct template_value *v, const struct template_value *args, size_t nargs,
                   char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    first_or_last(v, false);
    return 0;
}

static int f_last(struct template_value *v, const struct template_value *args, size_t nargs,
                  char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    first_or_last(v, true);
    return 0;
}

static int f_replace(struct template_value *v, const struct template_value *args, size_t nargs,
                     char *err, size_t errlen)
{
    (void)nargs, (void)err, (void)errlen;
    struct strbuf scratch = STRBUF_INIT, nscratch = STRBUF_INIT, rscratch = STRBUF_INIT;
    struct strbuf res = STRBUF_INIT;
    size_t len, nlen, rlen;
    const char *s = template_value_str(v->obj, &scratch, &len);
    const char *needle = template_value_str(args[0].obj, &nscratch, &nlen);
    const char *repl = template_value_str(args[1].obj, &rscratch, &rlen);
    size_t i = 0;
    while (i < len) {
        if (nlen && len - i >= nlen && !memcmp(s + i, needle, nlen)) {
            strbuf_add(&res, repl, rlen);
            i += nlen;
        } else {
            strbuf_addch(&res, s[i++]);
        }
    }
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&rscratch);
    strbuf_release(&nscratch);
    strbuf_release(&scratch);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* md5, sha256, base64                                                       */
/* ------------------------------------------------------------------------- */

static int digest_hex(struct template_value *v, const EVP_MD *md, char *err, size_t errlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char out[EVP_MAX_MD_SIZE * 2];
    struct strbuf scratch = STRBUF_INIT;
    size_t len;
    const char *s = template_value_str(v->obj, &scratch, &len);
    int ok = md && EVP_Digest(s, len, sum, &n, md, NULL) == 1;
    strbuf_release(&scratch);
    if (!ok) {
        template_error(err, errlen, "digest not available");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[sum[i] >> 4];
        out[2 * i + 1] = hex[sum[i] & 15];
    }
    template_value_set_string(v, out, 2 * (size_t)n);
    return 0;
}

static int f_md5(struct template_value *v, const struct template_value *args, size_t nargs,
                 char *err, size_t errlen)
{
    (void)args, (void)nargs;
    return digest_hex(v, EVP_md5(), err, errlen);
}

static int f_sha256(struct template_value *v, const struct template_value *args, size_t nargs,
                    char *err, size_t errlen)
{
    (void)args, (void)nargs;
    return digest_hex(v, EVP_sha256(), err, errlen);
}

/* Standard base64 (RFC 4648) with padding and no line breaks. */
static int f_base64(struct template_value *v, const struct template_value *args, size_t nargs,
                    char *err, size_t errlen)
{
    (void)args, (void)nargs, (void)err, (void)errlen;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct strbuf scratch = STRBUF_INIT, res = STRBUF_INIT;
    size_t len;
    const unsigned char *s = (const unsigned char *)template_value_str(v->obj, &scratch, &len);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t b = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            b |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            b |= s[i + 2];
        char quad[4] = {alphabet[(b >> 18) & 63], alphabet[(b >> 12) & 63],
                        i + 1 < len ? alphabet[(b >> 6) & 63] : '=',
                        i + 2 < len ? alphabet[b & 63] : '='};
        strbuf_add(&res, quad, 4);
    }
    template_value_set_string(v, strbuf_str(&res), res.len);
    strbuf_release(&res);
    strbuf_release(&scratch);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The table                                                                 */
/* ------------------------------------------------------------------------- */

static const struct template_filter filters[] = {
    {.name = "default",
     .min_args = 1,
     .max_args = 1,
     .flags = TEMPLATE_FILTER_TAKES_NULL | TEMPLATE_FILTER_TAKES_MISSING,
     .apply = f_default},
    {.name = "upper", .apply = f_upper},
    {.name = "lower", .apply = f_lower},
    {.name = "trim", .apply = f_trim},
    {.name = "json", .flags = TEMPLATE_FILTER_TAKES_NULL, .apply = f_json},
    {.name = "urlencode", .apply = f_urlencode},
    {.name = "money", .max_args = 1, .check = check_money, .apply = f_money},
    {.name = "date", .max_args = 1, .check = check_date, .apply = f_date},
    {.name = "truncate",
     .min_args = 1,
     .max_args = 2,
     .check = check_truncate,
     .apply = f_truncate},
    {.name = "join", .max_args = 1, .apply = f_join},
    {.name = "slack_escape", .apply = f_slack_escape},
    {.name = "raw", .flags = TEMPLATE_FILTER_TAKES_NULL | TEMPLATE_FILTER_RAW, .apply = f_raw},
    {.name = "length", .flags = TEMPLATE_FILTER_TAKES_NULL, .apply = f_length},
    {.name = "first", .apply = f_first},
    {.name = "last", .apply = f_last},
    {.name = "replace", .min_args = 2, .max_args = 2, .apply = f_replace},
    {.name = "md5", .apply = f_md5},
    {.name = "sha256", .apply = f_sha256},
    {.name = "base64", .apply = f_base64},
};

/* Same order as filters[]; the unit tests check every name resolves. */
const char *const template_filter_names[] = {
    "default", "upper",    "lower", "trim",         "json",   "urlencode", "money",
    "date",    "truncate", "join",  "slack_escape", "raw",    "length",    "first",
    "last",    "replace",  "md5",   "sha256",       "base64", NULL,
};

static_assert(sizeof(template_filter_names) / sizeof(template_filter_names[0]) ==
                  sizeof(filters) / sizeof(filters[0]) + 1,
              "template_filter_names must list every filter");

const struct template_filter *template_filter_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        if (strlen(filters[i].name) == len && !memcmp(filters[i].name, name, len))
            return &filters[i];
    return NULL;
}
