/*
 * Typed parameter values, as written in configuration and workflow files:
 * the parsers for each enum sb_param_type.
 */
#ifndef SB_PARAMS_H
#define SB_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>
#include <switchboard/plugin.h>

/* "string", "int", ... for messages and describe. */
const char *param_type_name(uint32_t type);

/* Each returns 0 and sets *out, or -1 (out untouched). */
int parse_int64(const char *text, int64_t *out);
/* "250ms", "30s", "5m", "1h", "2d", or a bare number of seconds; in ms. */
int parse_duration_ms(const char *text, int64_t *out);
/* "512", "64K", "1M", "2G" (also KiB/MiB/GiB, KB/MB/GB as powers of 1024). */
int parse_size(const char *text, int64_t *out);
/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int parse_bool(const char *text, bool *out);
/* Split a LIST value on spaces and commas; returns an array of strings
 * (caller owns). */
struct json_object *parse_list(const char *text);

/*
 * Parse `text` as a value of parameter p (type, enum values, min/max).
 * *out (caller owns): int for INT/DURATION/SIZE, boolean for BOOL, array
 * for LIST, string otherwise. On error returns -1 with a message that says
 * what was expected, e.g. "expected a duration such as 30s, 5m or 1h, found
 * 'soon'".
 */
int param_parse_value(const struct sb_param *p, const char *text, struct json_object **out,
                      char *err, size_t errlen);

/* The text of a typed value as param_string gives it (borrowed from v). */
const char *param_value_text(struct json_object *v);

#endif
