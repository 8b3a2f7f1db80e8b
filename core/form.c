#include "form.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "payload_check.h"
#include "xalloc.h"

/* a[b1]...[bN]=v puts v at JSON level N + 2 (the form is level 1, a
 * level 2): keep it within what the store gives back whole */
#define FORM_MAX_DEPTH (PAYLOAD_MAX_DEPTH - 2)
#define FORM_MAX_FIELDS 10000

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *form_unescape(const char *s, size_t len, int plus_space, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+' && plus_space) {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

/* Objects whose keys are exactly 0..n-1 become arrays, recursively. */
static struct json_object *arrays_from_objects(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return v;
    size_t n = (size_t)json_object_object_length(v);
    bool sequential = n > 0;
    json_object_object_foreach(v, key, child)
    {
        json_object_object_add(v, key, arrays_from_objects(json_object_get(child)));
    }
    for (size_t i = 0; i < n && sequential; i++) {
        char k[24];
        snprintf(k, sizeof(k), "%zu", i);
        sequential = json_object_object_get_ex(v, k, NULL);
    }
    if (!sequential)
        return v;
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        char k[24];
        struct json_object *item;
        snprintf(k, sizeof(k), "%zu", i);
        json_object_object_get_ex(v, k, &item);
        json_object_array_add(arr, json_object_get(item));
    }
    json_object_put(v);
    return arr;
}

/* Store value under key (already decoded), creating nested objects. */
static int put(struct json_object *root, const char *key, struct json_object *value)
{
    const char *open = strchr(key, '[');
    if (!open || open == key || !strchr(open, ']')) {
        /* a plain key (or a malformed bracket: taken literally) */
        json_object_object_add(root, key, value);
        return 0;
    }
    struct json_object *cur = root;
    char *name = xstrndup(key, (size_t)(open - key));
    const char *p = open;
    int depth = 0;
    while (1) {
        const char *next_open = (*p == '[') ? p : NULL;
        const char *close = next_open ? strchr(next_open, ']') : NULL;
        if (!close) {
            /* the last name: set the value */
            json_object_object_add(cur, name, value);
            free(name);
            return 0;
        }
        if (++depth > FORM_MAX_DEPTH) {
            free(name);
            json_object_put(value);
            return -1;
        }
        struct json_object *child = NULL;
        if (!json_object_object_get_ex(cur, name, &child) ||
            !json_object_is_type(child, json_type_object)) {
            child = json_object_new_object();
            json_object_object_add(cur, name, child);
        }
        free(name);
        name = xstrndup(next_open + 1, (size_t)(close - next_open - 1));
        if (name[0] == '\0') {
            /* a[]: the next free index */
            free(name);
            name = xasprintf("%d", json_object_object_length(child));
        }
        cur = child;
        p = close + 1;
    }
}

struct json_object *form_decode(const char *body, size_t len)
{
    struct json_object *root = json_object_new_object();
    size_t fields = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end > i) {
            if (++fields > FORM_MAX_FIELDS) {
                json_object_put(root);
                return NULL;
            }
            const char *eq = memchr(body + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (body + i)) : end - i;
            size_t vlen = 0;
            char *key = form_unescape(body + i, klen, 1, NULL);
            char *val =
                eq ? form_unescape(eq + 1, (size_t)(body + end - eq - 1), 1, &vlen) : xstrdup("");
            if (key[0] && put(root, key, json_object_new_string_len(val, (int)vlen)) < 0) {
                free(key);
                free(val);
                json_object_put(root);
                return NULL;
            }
            free(key);
            free(val);
        }
        i = end + 1;
    }
    return arrays_from_objects(root);
}
