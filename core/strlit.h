/* Quoted string literals, as template expressions and `when` conditions
 * write them: 'text' or "text" with the escapes \n \t \r \\ \" \' \/ and
 * \uXXXX (a code point outside the surrogates, written as UTF-8). */
#ifndef SB_STRLIT_H
#define SB_STRLIT_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Read the literal whose opening quote is text[*pos]. On success returns 0,
 * appends the unescaped bytes to out and leaves *pos after the closing
 * quote. On error returns -1 with the message in why ("unterminated string",
 * "unknown escape '\\q'", ...) and *at the offset it refers to; *pos and
 * out are then unspecified.
 */
int strlit_scan(const char *text, size_t *pos, struct strbuf *out, char *why, size_t whylen,
                size_t *at);

#endif
