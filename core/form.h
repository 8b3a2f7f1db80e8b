/* application/x-www-form-urlencoded bodies and query strings. */
#ifndef SB_FORM_H
#define SB_FORM_H

#include <stddef.h>

#include <json-c/json_object.h>

/*
 * Decode `len` bytes of form data into nested JSON: "+" is a space, %XX a
 * byte; keys with brackets nest (PHP/Rack style, literal or percent-encoded):
 * data[merges][FNAME]=x gives {"data":{"merges":{"FNAME":"x"}}}; a[]=1&a[]=2
 * and a[0]=1&a[1]=2 give arrays. A repeated plain key keeps the last value.
 * Caller owns the result; NULL when a key nests more than 30 brackets deep
 * (its value would be deeper than the 32 levels the store gives back
 * whole, payload_check.h) or there are more than 10000 fields.
 */
struct json_object *form_decode(const char *body, size_t len);

/* Percent-decode (with "+" as space when plus_space) into a new string;
 * *out_len gets its length. Invalid escapes are kept as they are. */
char *form_unescape(const char *s, size_t len, int plus_space, size_t *out_len);

#endif
