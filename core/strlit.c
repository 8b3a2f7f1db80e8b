/* Quoted string literals shared by the template and condition parsers. */
#include "strlit.h"

#include <stdio.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void add_utf8(struct strbuf *sb, unsigned cp)
{
    if (cp < 0x80) {
        strbuf_addch(sb, (char)cp);
    } else if (cp < 0x800) {
        strbuf_addch(sb, (char)(0xc0 | (cp >> 6)));
        strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
    } else {
        strbuf_addch(sb, (char)(0xe0 | (cp >> 12)));
        strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
        strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
    }
}

static int fail(char *why, size_t whylen, size_t *at, const char *msg, size_t off)
{
    snprintf(why, whylen, "%s", msg);
    *at = off;
    return -1;
}

int strlit_scan(const char *text, size_t *pos, struct strbuf *out, char *why, size_t whylen,
                size_t *at)
{
    size_t start = *pos, i = *pos;
    char quote = text[i++];
    for (;;) {
        char c = text[i];
        if (c == '\0')
            return fail(why, whylen, at, "unterminated string", start);
        i++;
        if (c == quote)
            break;
        if (c != '\\') {
            strbuf_addch(out, c);
            continue;
        }
        /* text[i - 1] is the backslash, text[i] the escape */
        char e = text[i];
        switch (e) {
        case 'n':
            strbuf_addch(out, '\n');
            break;
        case 't':
            strbuf_addch(out, '\t');
            break;
        case 'r':
            strbuf_addch(out, '\r');
            break;
        case '\\':
        case '"':
        case '\'':
        case '/':
            strbuf_addch(out, e);
            break;
        case 'u': {
            unsigned cp = 0;
            for (size_t k = 1; k <= 4; k++) {
                int h = hex_value(text[i + k]);
                if (h < 0)
                    return fail(why, whylen, at, "bad \\u escape", i - 1);
                cp = cp * 16 + (unsigned)h;
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                return fail(why, whylen, at, "surrogate in \\u escape", i - 1);
            add_utf8(out, cp);
            i += 4;
            break;
        }
        case '\0':
            return fail(why, whylen, at, "unterminated string", start);
        default:
            snprintf(why, whylen, "unknown escape '\\%c'", e);
            *at = i - 1;
            return -1;
        }
        i++;
    }
    *pos = i;
    return 0;
}
