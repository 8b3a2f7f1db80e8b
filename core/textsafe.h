/*
 * Text from outside (webhook bodies and headers, provider answers, event
 * ids) made safe for a terminal or a log file: control bytes are written
 * as escapes, so a value cannot end a log line early and forge the next
 * one, or send a terminal escape sequence (ESC, CSI, BEL, OSC...).
 *
 * Escaped: C0 controls (0x00-0x1f), DEL (0x7f), C1 controls (U+0080-U+009F
 * written in UTF-8), bytes that are not UTF-8 (a lone 0x9b is CSI to some
 * terminals), and the Unicode bidirectional overrides (U+202A-U+202E,
 * U+2066-U+2069) that make text display in another order than it reads.
 */
#ifndef SB_TEXTSAFE_H
#define SB_TEXTSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "strbuf.h"

enum textsafe_mode {
    /* one line of text: every control escaped as \xNN (\x0a for a line
     * feed, \x09 for a tab) */
    TEXTSAFE_LINE,
    /* several lines: line feeds and tabs kept, every other control escaped
     * as \xNN */
    TEXTSAFE_BLOCK,
    /* JSON text (as json-c writes it, or a JSON string's contents): DEL,
     * C1 and bidi controls as \u00XX / \u20XX, any control left as \u00XX
     * except the line feeds, tabs and spaces of pretty printing, and bytes
     * that are not UTF-8 as \ufffd, so the result is valid UTF-8 JSON */
    TEXTSAFE_JSON,
};

/* Append s (len bytes) to out, escaped for `mode`. */
void textsafe_append(struct strbuf *out, const char *s, size_t len, enum textsafe_mode mode);
/* Write NUL-terminated s to f, escaped for `mode`. */
void textsafe_fputs(const char *s, enum textsafe_mode mode, FILE *f);
/* The length of the UTF-8 sequence at s (left > 0 bytes), with its code
 * point in *cp; 0 when the bytes there are not UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF are not). */
size_t textsafe_utf8_decode(const unsigned char *s, size_t left, uint32_t *cp);
/* Whether s (len bytes) is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool textsafe_is_utf8(const char *s, size_t len);

#endif
