/*
 * What ingress acknowledges must come back whole when the dispatcher reads
 * it from the store (json-c's reader, which stops at 32 levels and quietly
 * changes some values). payload_check accepts only a JSON text that reads
 * back as it was written:
 *
 *   - RFC 8259 JSON, nothing else (no comments, single quotes, trailing
 *     commas, NaN, raw control characters in strings);
 *   - valid UTF-8, and \u escapes that pair their surrogates;
 *   - nesting of at most PAYLOAD_MAX_DEPTH levels: the document is level 1,
 *     a value inside an object or array one level deeper than it;
 *   - no key twice in an object (readers disagree on which one wins), and
 *     no NUL in a key (json-c's keys are C strings);
 *   - integers within -2^63 .. 2^64-1 and numbers that are finite doubles
 *     (json-c saturates the others).
 */
#ifndef SB_PAYLOAD_CHECK_H
#define SB_PAYLOAD_CHECK_H

#include <stddef.h>

#define PAYLOAD_MAX_DEPTH 32

/* 0 when text (len bytes) is such a document; -1 with a short reason in
 * why (whylen bytes) otherwise. Thread-safe. */
int payload_check(const char *text, size_t len, char *why, size_t whylen);

#endif
