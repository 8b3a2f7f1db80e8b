/*
 * Redaction: every secret value the engine resolved (${env:...},
 * ${file:...}) is registered here, and every text that leaves the engine
 * (a step's output or error before it is stored, a log line, a CLI or
 * admin answer) is passed through redact_* so that the secret shows as
 * "****" in whatever encoding it travels in:
 *
 *   - as is;
 *   - percent-encoded (%XX, either case of hex, any mix of encoded and
 *     plain characters) and form-encoded ('+' for a space);
 *   - JSON-escaped (\", \\, \/, \n..., \u00XX for any ASCII character);
 *   - base64, standard and URL-safe alphabets, with or without padding,
 *     alone or inside a longer encoded string such as a Basic credential
 *     "user:secret": base64 of a substring depends on its offset modulo 3,
 *     so each secret registers the three offset-independent cores of its
 *     encoding, and a hit masks the whole base64 token around it.
 *
 * A text that ends with the first 8 or more bytes of a secret is masked
 * there too: it was cut in the middle of the secret before it got here.
 *
 * Not covered (documented in docs/operations.md): secrets shorter than 4
 * bytes (they would mask ordinary words), hex or double encodings, and
 * non-ASCII characters written as JSON \u escapes.
 *
 * Thread-safe: secrets are added at load and reload while workers read.
 */
#ifndef SB_REDACT_H
#define SB_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_object.h>

#include "strbuf.h"

/* The text a secret is replaced with. */
#define REDACT_MASK "****"
/* Shorter values are not registered. */
#define REDACT_MIN_LEN 4

/* Register a secret value (copied). NULL, short and repeated values are
 * ignored. */
void redact_add(const char *value, size_t len);
/* Forget every secret (tests). */
void redact_clear(void);
/* How many secrets are registered. */
size_t redact_count(void);

/* Whether `text` (len bytes) holds a registered secret in any encoding. */
bool redact_found(const char *text, size_t len);
/* Append `text` to out with every secret masked; returns how many were. */
size_t redact_append(struct strbuf *out, const char *text, size_t len);
/* Mask the secrets of NUL-terminated `text` into out (outlen bytes, always
 * NUL-terminated; cut at outlen - 1 only after masking). */
void redact_copy(const char *text, char *out, size_t outlen);
/* A message from outside (an action's error, a provider's answer) as it
 * may be stored and shown: secrets masked, control bytes escaped so that
 * it stays one line (textsafe.h), then cut to fit out (outlen bytes, always
 * NUL-terminated, never inside a UTF-8 character). */
void redact_line(const char *text, char *out, size_t outlen);
/* Mask every secret in a JSON value: string values, object keys, and
 * numbers that are a secret (they become the string "****"). Consumes
 * v (objects and arrays are changed in place and returned; a string or
 * number that held a secret is replaced) and returns the value to use;
 * *count (may be NULL) gets how many were masked. The value must not be
 * shared with another thread. */
struct json_object *redact_json(struct json_object *v, size_t *count);

#endif
