#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "xalloc.h"

const char *param_type_name(uint32_t type)
{
    switch (type) {
    case SB_PARAM_STRING:
        return "string";
    case SB_PARAM_INT:
        return "int";
    case SB_PARAM_BOOL:
        return "bool";
    case SB_PARAM_DURATION:
        return "duration";
    case SB_PARAM_SIZE:
        return "size";
    case SB_PARAM_ENUM:
        return "enum";
    case SB_PARAM_LIST:
        return "list";
    case SB_PARAM_SECRET:
        return "secret";
    default:
        return NULL;
    }
}

int parse_int64(const char *text, int64_t *out)
{
    if (!text || !*text || isspace((unsigned char)*text))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Parse "<number><unit>" where unit is looked up in units[] (NULL-named
 * sentinel); a bare number uses bare_mult. */
struct unit {
    const char *name;
    int64_t mult;
};

static int parse_with_units(const char *text, const struct unit *units, int64_t bare_mult,
                            int64_t *out)
{
    if (!text || !isdigit((unsigned char)*text))
        return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno)
        return -1;
    while (*end == ' ')
        end++;
    int64_t mult = bare_mult;
    if (*end) {
        mult = 0;
        for (const struct unit *u = units; u->name; u++) {
            if (strcasecmp(end, u->name) == 0) {
                mult = u->mult;
                break;
            }
        }
        if (!mult)
            return -1;
    }
    if (n > (unsigned long long)(INT64_MAX / mult))
        return -1;
    *out = (int64_t)n * mult;
    return 0;
}

int parse_duration_ms(const char *text, int64_t *out)
{
    static const struct unit units[] = {
        {"ms", 1},      {"s", 1000},    {"sec", 1000},   {"m", 60000},
        {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {NULL, 0},
    };
    return parse_with_units(text, units, 1000, out);
}

int parse_size(const char *text, int64_t *out)
{
    static const struct unit units[] = {
        {"b", 1},           {"k", 1024},         {"kb", 1024},     {"kib", 1024},
        {"m", 1048576},     {"mb", 1048576},     {"mib", 1048576}, {"g", 1073741824},
        {"gb", 1073741824}, {"gib", 1073741824}, {NULL, 0},
    };
    return parse_with_units(text, units, 1, out);
}

int parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

struct json_object *parse_list(const char *text)
{
    /* items separated by spaces or commas; "double quotes" keep an item with
     * spaces or commas in it together ("Black Friday") */
    struct json_object *arr = json_object_new_array();
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (*p == '"') {
            const char *start = ++p;
            while (*p && *p != '"')
                p++;
            json_object_array_add(arr, json_object_new_string_len(start, (int)(p - start)));
            if (*p == '"')
                p++;
            continue;
        }
        const char *start = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t' && *p != '\n')
            p++;
        json_object_array_add(arr, json_object_new_string_len(start, (int)(p - start)));
    }
    return arr;
}

static int check_range(const struct sb_param *p, int64_t v, const char *text, char *err,
                       size_t errlen)
{
    if (p->min >= p->max)
        return 0;
    if (v >= p->min && v <= p->max)
        return 0;
    if (p->max == SB_NO_MAX)
        snprintf(err, errlen, "'%s' is below the minimum of %lld", text, (long long)p->min);
    else
        snprintf(err, errlen, "'%s' is out of range (%lld to %lld)", text, (long long)p->min,
                 (long long)p->max);
    if (p->type == SB_PARAM_DURATION)
        snprintf(err + strlen(err), errlen - strlen(err), " milliseconds");
    else if (p->type == SB_PARAM_SIZE)
        snprintf(err + strlen(err), errlen - strlen(err), " bytes");
    return -1;
}

int param_parse_value(const struct sb_param *p, const char *text, struct json_object **out,
                      char *err, size_t errlen)
{
    int64_t i;
    bool b;
    switch (p->type) {
    case SB_PARAM_INT:
        if (parse_int64(text, &i) < 0) {
            snprintf(err, errlen, "expected an integer, found '%s'", text);
            return -1;
        }
        if (check_range(p, i, text, err, errlen) < 0)
            return -1;
        *out = json_object_new_int64(i);
        return 0;
    case SB_PARAM_DURATION:
        if (parse_duration_ms(text, &i) < 0) {
            snprintf(err, errlen, "expected a duration such as 500ms, 30s, 5m or 1h, found '%s'",
                     text);
            return -1;
        }
        if (check_range(p, i, text, err, errlen) < 0)
            return -1;
        *out = json_object_new_int64(i);
        return 0;
    case SB_PARAM_SIZE:
        if (parse_size(text, &i) < 0) {
            snprintf(err, errlen, "expected a size such as 512, 64K or 1M, found '%s'", text);
            return -1;
        }
        if (check_range(p, i, text, err, errlen) < 0)
            return -1;
        *out = json_object_new_int64(i);
        return 0;
    case SB_PARAM_BOOL:
        if (parse_bool(text, &b) < 0) {
            snprintf(err, errlen, "expected true or false, found '%s'", text);
            return -1;
        }
        *out = json_object_new_boolean(b);
        return 0;
    case SB_PARAM_ENUM:
        for (size_t k = 0; p->values && p->values[k]; k++) {
            if (strcmp(text, p->values[k]) == 0) {
                *out = json_object_new_string(text);
                return 0;
            }
        }
        {
            size_t n = 0;
            n += (size_t)snprintf(err, errlen, "'%s' is not one of:", text);
            for (size_t k = 0; p->values && p->values[k] && n < errlen; k++)
                n += (size_t)snprintf(err + n, errlen - n, " %s", p->values[k]);
        }
        return -1;
    case SB_PARAM_LIST:
        *out = parse_list(text);
        return 0;
    case SB_PARAM_STRING:
    case SB_PARAM_SECRET:
        *out = json_object_new_string(text);
        return 0;
    default:
        snprintf(err, errlen, "unknown parameter type %u", (unsigned)p->type);
        return -1;
    }
}

const char *param_value_text(struct json_object *v)
{
    if (!v)
        return NULL;
    return json_object_get_string(v);
}
