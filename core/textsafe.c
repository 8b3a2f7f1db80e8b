#include "textsafe.h"

#include <stdint.h>
#include <string.h>

size_t textsafe_utf8_decode(const unsigned char *s, size_t left, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool textsafe_is_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = textsafe_utf8_decode(u + i, len - i, &cp);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

static bool is_bidi(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void add_hex_bytes(struct strbuf *out, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char e[4] = {'\\', 'x', hex[s[i] >> 4], hex[s[i] & 15]};
        strbuf_add(out, e, 4);
    }
}

void textsafe_append(struct strbuf *out, const char *s, size_t len, enum textsafe_mode mode)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, plain = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = textsafe_utf8_decode(u + i, len - i, &cp);
        bool keep;
        if (!n)
            keep = false;
        else if (cp == '\n' || cp == '\t')
            keep = mode != TEXTSAFE_LINE;
        else
            keep = !(cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || is_bidi(cp));
        if (keep) {
            i += n;
            continue;
        }
        strbuf_add(out, s + plain, i - plain);
        if (mode == TEXTSAFE_JSON) {
            if (n)
                strbuf_addf(out, "\\u%04x", (unsigned)cp);
            else
                strbuf_addstr(out, "\\ufffd");
            i += n ? n : 1;
        } else {
            size_t bytes = n ? n : 1;
            /* a bidi override is printable text to the eye but not in
             * effect: write its code point */
            if (n && is_bidi(cp))
                strbuf_addf(out, "\\u%04x", (unsigned)cp);
            else
                add_hex_bytes(out, u + i, bytes);
            i += bytes;
        }
        plain = i;
    }
    strbuf_add(out, s + plain, len - plain);
}

void textsafe_fputs(const char *s, enum textsafe_mode mode, FILE *f)
{
    struct strbuf sb = STRBUF_INIT;
    textsafe_append(&sb, s, strlen(s), mode);
    fwrite(strbuf_str(&sb), 1, sb.len, f);
    strbuf_release(&sb);
}
