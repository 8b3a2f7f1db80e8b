/*
 * Stripe's request encoding: application/x-www-form-urlencoded with
 * "Rack-style" nested keys, byte for byte as stripe-node writes it
 * (src/utils.ts stringifyRequestData: qs.stringify with its default array
 * indices, then %5B and %5D replaced by literal brackets everywhere).
 *
 * Self-contained on purpose (this header, libc, json-c and the host's
 * url_encode): tests/unit/test_stripe_vectors.c compiles this file in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stripe.h"

#define MAX_DEPTH 32

void stripe_buf_release(struct stripe_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int stripe_buf_add(struct stripe_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Percent-encode s (qs's RFC 3986 set, which is also the host's) and append
 * it with %5B and %5D written back as brackets, as stripe-node does. */
static int add_encoded(const struct sb_host *sb, struct stripe_buf *b, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 1) / 3)
        return -1;
    char *enc = malloc(3 * n + 1);
    if (!enc)
        return -1;
    int len = sb->url_encode(s, n, enc, 3 * n + 1);
    int rc = len < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < len; i++) {
        if (enc[i] == '%' && i + 2 < len && enc[i + 1] == '5' &&
            (enc[i + 2] == 'B' || enc[i + 2] == 'D')) {
            rc = stripe_buf_add(b, enc[i + 2] == 'B' ? "[" : "]", 1);
            i += 2;
        } else {
            rc = stripe_buf_add(b, &enc[i], 1);
        }
    }
    free(enc);
    return rc;
}

static int add_pair(const struct sb_host *sb, struct stripe_buf *b, const char *key,
                    const char *value, size_t value_len)
{
    if (b->len && stripe_buf_add(b, "&", 1) < 0)
        return -1;
    if (add_encoded(sb, b, key, strlen(key)) < 0 || stripe_buf_add(b, "=", 1) < 0)
        return -1;
    return add_encoded(sb, b, value, value_len);
}

/* key[sub], freshly allocated; NULL when out of memory. */
static char *subkey(const char *key, const char *sub)
{
    size_t n = strlen(key) + strlen(sub) + 3;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s[%s]", key, sub);
    return k;
}

static int add_value(const struct sb_host *sb, struct stripe_buf *b, const char *key,
                     struct json_object *value, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    switch (json_object_get_type(value)) {
    case json_type_null:
        return add_pair(sb, b, key, "", 0);
    case json_type_boolean:
        return add_pair(sb, b, key, json_object_get_boolean(value) ? "true" : "false",
                        json_object_get_boolean(value) ? 4 : 5);
    case json_type_int:
    case json_type_double:
    case json_type_string: {
        /* numbers as their JSON text (1999, 1.5); strings as they are */
        const char *s = json_object_get_string(value);
        size_t n = json_object_is_type(value, json_type_string)
                       ? (size_t)json_object_get_string_len(value)
                       : strlen(s);
        return add_pair(sb, b, key, s, n);
    }
    case json_type_object: {
        json_object_object_foreach(value, k, v)
        {
            char *sub = subkey(key, k);
            int rc = sub ? add_value(sb, b, sub, v, depth + 1) : -1;
            free(sub);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    case json_type_array: {
        size_t n = json_object_array_length(value);
        for (size_t i = 0; i < n; i++) {
            char idx[32];
            snprintf(idx, sizeof(idx), "%zu", i);
            char *sub = subkey(key, idx);
            int rc =
                sub ? add_value(sb, b, sub, json_object_array_get_idx(value, i), depth + 1) : -1;
            free(sub);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    }
    return -1;
}

int stripe_form_add(const struct sb_host *sb, struct stripe_buf *b, const char *key,
                    struct json_object *value)
{
    return add_value(sb, b, key, value, 0);
}

int stripe_form_encode(const struct sb_host *sb, struct json_object *params, char **out)
{
    struct stripe_buf b = {0};
    if (stripe_buf_add(&b, "", 0) < 0)
        return -1;
    if (params && json_object_is_type(params, json_type_object)) {
        json_object_object_foreach(params, k, v)
        {
            if (stripe_form_add(sb, &b, k, v) < 0) {
                stripe_buf_release(&b);
                return -1;
            }
        }
    }
    *out = b.data;
    return 0;
}
