#include "payload_check.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "textsafe.h"
#include "xalloc.h"

struct parser {
    const unsigned char *start, *p, *end;
    char *why;
    size_t whylen;
};

static int fail(struct parser *ps, const char *reason)
{
    snprintf(ps->why, ps->whylen, "%s at byte %zu", reason, (size_t)(ps->p - ps->start));
    return -1;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

static void add_utf8(struct strbuf *sb, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    strbuf_add(sb, b, n);
}

/* A string at ps->p (at its quote); its decoded bytes go to out when out
 * is not NULL. */
static int parse_string(struct parser *ps, struct strbuf *out)
{
    ps->p++; /* the opening quote */
    while (1) {
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c < 0x20)
            return fail(ps, "control character in a string (escape it)");
        if (c != '\\') {
            uint32_t cp;
            size_t n = textsafe_utf8_decode(ps->p, (size_t)(ps->end - ps->p), &cp);
            if (!n)
                return fail(ps, "invalid UTF-8");
            if (out)
                strbuf_add(out, ps->p, n);
            ps->p += n;
            continue;
        }
        if (ps->end - ps->p < 2)
            return fail(ps, "unterminated string");
        unsigned char e = ps->p[1];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? memchr(from, e, sizeof(from) - 1) : NULL;
        if (hit) {
            if (out)
                strbuf_addch(out, to[hit - from]);
            ps->p += 2;
            continue;
        }
        if (e != 'u')
            return fail(ps, "invalid escape in a string");
        uint32_t cp;
        if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp) < 0)
            return fail(ps, "invalid \\u escape");
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return fail(ps, "lone UTF-16 surrogate (\\udc00-\\udfff without a high one before it)");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (ps->end - ps->p < 12 || ps->p[6] != '\\' || ps->p[7] != 'u' ||
                hex4(ps->p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return fail(ps,
                            "lone UTF-16 surrogate (\\ud800-\\udbff without a low one after it)");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            ps->p += 6;
        }
        if (out)
            add_utf8(out, cp);
        ps->p += 6;
    }
}

static int parse_number(struct parser *ps)
{
    const unsigned char *s = ps->p;
    bool negative = false, integer = true;
    if (ps->p < ps->end && *ps->p == '-') {
        negative = true;
        ps->p++;
    }
    if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
        return fail(ps, "invalid number");
    if (*ps->p == '0') {
        ps->p++;
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        integer = false;
        ps->p++;
        if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
            return fail(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integer = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
            return fail(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    char *text = xstrndup((const char *)s, (size_t)(ps->p - s));
    int rc = 0;
    errno = 0;
    if (integer && negative) {
        (void)strtoimax(text, NULL, 10);
        if (errno == ERANGE)
            rc = -1;
    } else if (integer) {
        (void)strtoumax(text, NULL, 10);
        if (errno == ERANGE)
            rc = -1;
    } else if (!isfinite(strtod(text, NULL))) {
        rc = -1;
    }
    free(text);
    if (rc < 0) {
        ps->p = s;
        return fail(ps, integer ? "integer out of range (-2^63 to 2^64-1)"
                                : "number too large for a double");
    }
    return 0;
}

static int parse_literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "not JSON");
    ps->p += n;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_value(struct parser *ps, int depth);

/* An object's members; its keys are compared once it is closed. */
static int parse_object(struct parser *ps, int depth)
{
    char **keys = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }
    while (1) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') {
            fail(ps, "expected a key in quotes");
            goto out;
        }
        struct strbuf key = STRBUF_INIT;
        const unsigned char *at = ps->p;
        if (parse_string(ps, &key) < 0) {
            strbuf_release(&key);
            goto out;
        }
        if (memchr(strbuf_str(&key), '\0', key.len)) {
            strbuf_release(&key);
            ps->p = at;
            fail(ps, "NUL character in a key");
            goto out;
        }
        XGROW(keys, cap, n + 1);
        keys[n++] = strbuf_detach(&key, NULL);
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            fail(ps, "expected ':'");
            goto out;
        }
        ps->p++;
        if (parse_value(ps, depth + 1) < 0)
            goto out;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        fail(ps, "expected ',' or '}'");
        goto out;
    }
    qsort(keys, n, sizeof(*keys), cmp_key);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            snprintf(ps->why, ps->whylen, "key \"%.60s\" appears twice in one object", keys[i]);
            goto out;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

static int parse_array(struct parser *ps, int depth)
{
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 0;
    }
    while (1) {
        if (parse_value(ps, depth + 1) < 0)
            return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return 0;
        }
        return fail(ps, "expected ',' or ']'");
    }
}

static int parse_value(struct parser *ps, int depth)
{
    skip_ws(ps);
    if (depth > PAYLOAD_MAX_DEPTH) {
        char reason[80];
        snprintf(reason, sizeof(reason), "nested deeper than %d levels", PAYLOAD_MAX_DEPTH);
        return fail(ps, reason);
    }
    if (ps->p >= ps->end)
        return fail(ps, "expected a value");
    switch (*ps->p) {
    case '{':
        return parse_object(ps, depth);
    case '[':
        return parse_array(ps, depth);
    case '"':
        return parse_string(ps, NULL);
    case 't':
        return parse_literal(ps, "true");
    case 'f':
        return parse_literal(ps, "false");
    case 'n':
        return parse_literal(ps, "null");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        return fail(ps, "not JSON");
    }
}

int payload_check(const char *text, size_t len, char *why, size_t whylen)
{
    struct parser ps = {
        .start = (const unsigned char *)text,
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .why = why,
        .whylen = whylen,
    };
    if (parse_value(&ps, 1) < 0)
        return -1;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, "text after the JSON document");
    return 0;
}
