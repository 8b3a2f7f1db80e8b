/*
 * Internals shared by the template parser (template.c), the renderer
 * (template_render.c), the filters (template_filters.c) and the condition
 * engine (condition.c). Nothing else should include this header: the public
 * interface is template.h.
 */
#ifndef SB_TEMPLATE_INTERNAL_H
#define SB_TEMPLATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

#include "strbuf.h"
#include "template.h"

/*
 * A value travelling through an expression's filters. obj NULL is JSON null
 * (unless missing is set). The reference rules:
 *   owned:  the value holds a reference it must json_object_put;
 *   shared: obj is a constant of the parsed template, read by concurrent
 *           renders: never take or drop references on it, copy instead;
 *   neither: obj is borrowed from the render root.
 * `escaped` has bit (1u << SB_ESCAPE_x) set when a filter already escaped the
 * text for that context (json, urlencode, slack_escape), so rendering does
 * not escape it twice. Any later filter clears it.
 */
struct template_value {
    struct json_object *obj;
    bool owned;
    bool shared;
    bool missing;
    unsigned escaped;
};

/* Literal or path argument of a filter, as parsed. */
enum template_arg_kind {
    TEMPLATE_ARG_STRING,
    TEMPLATE_ARG_INT,
    TEMPLATE_ARG_DOUBLE,
    TEMPLATE_ARG_BOOL,
    TEMPLATE_ARG_PATH,
};

struct template_path;

struct template_arg {
    enum template_arg_kind kind;
    char *text;                 /* string contents, number as written, or dotted path */
    size_t len;                 /* bytes in text */
    int64_t i;                  /* TEMPLATE_ARG_INT */
    struct json_object *value;  /* literals: the constant (template owns it) */
    struct template_path *path; /* TEMPLATE_ARG_PATH */
};

enum {
    TEMPLATE_FILTER_TAKES_NULL = 1u << 0,    /* called for JSON null values too */
    TEMPLATE_FILTER_TAKES_MISSING = 1u << 1, /* called for absent paths (default) */
    TEMPLATE_FILTER_RAW = 1u << 2,           /* marks the expression raw */
};

/*
 * One filter. `check` (may be NULL) validates literal arguments at parse time
 * and writes a message without the filter name; `apply` transforms v in
 * place using the evaluated arguments (borrowed) and on error writes a
 * message without the filter name and leaves v as it was.
 */
struct template_filter {
    const char *name;
    unsigned min_args;
    unsigned max_args;
    unsigned flags;
    int (*check)(const struct template_arg *args, size_t nargs, char *err, size_t errlen);
    int (*apply)(struct template_value *v, const struct template_value *args, size_t nargs,
                 char *err, size_t errlen);
};

#define TEMPLATE_MAX_ARGS 2

/* ------------------------------------------------------------------------- */
/* The parsed form (template.c builds it, template_render.c walks it)        */
/* ------------------------------------------------------------------------- */

struct template_path_seg {
    char *key;       /* NUL-terminated (owned) */
    size_t idx;      /* the key as an array index, when is_index */
    bool is_index;   /* the key is all digits */
    size_t text_end; /* length of the dotted text up to this segment */
};

struct template_path {
    struct template_path_seg *segs;
    size_t nsegs;
    char *text; /* dotted: "event.items.0.sku" (owned) */
};

struct template_call {
    const struct template_filter *filter;
    struct template_arg args[TEMPLATE_MAX_ARGS];
    size_t nargs;
};

struct template_expr {
    struct template_arg subject;
    struct template_call *calls;
    size_t ncalls;
    bool has_default;    /* a default filter: absent paths are not errors */
    bool raw;            /* no context escaping */
    bool in_json_string; /* SB_ESCAPE_JSON, _SLACK_JSON: inside a string literal */
};

struct template_segment {
    size_t off; /* in t->text: literal bytes, or where the expression starts */
    size_t len;
    struct template_expr *expr; /* NULL for literal text */
};

struct template
{
    char *text;
    unsigned escape;
    struct template_segment *segs;
    size_t nsegs;
    size_t cap;
    size_t nexprs;
    bool single; /* exactly one expression, only whitespace around it */
};

/* The filter called name (len bytes), or NULL. */
const struct template_filter *template_filter_find(const char *name, size_t len);

/* Append the text of v (strings as-is, null as nothing, containers as JSON). */
void template_value_text(struct json_object *v, struct strbuf *out);

/*
 * The text of v: for strings a pointer into v (valid while v is), otherwise
 * rendered into scratch (reset first). *len receives the length in bytes.
 */
const char *template_value_str(struct json_object *v, struct strbuf *scratch, size_t *len);

/* Append v as compact JSON that is always valid (invalid UTF-8 becomes
 * U+FFFD, non-finite numbers become null). */
void template_value_json(struct json_object *v, struct strbuf *out);

/* Replace v by a new string holding s (len bytes); clears `escaped`. */
void template_value_set_string(struct template_value *v, const char *s, size_t len);

/* Replace v by obj, a reference the value takes over (NULL is JSON null). */
void template_value_set_owned(struct template_value *v, struct json_object *obj);

/* Drop the value's reference, if any. */
void template_value_release(struct template_value *v);

/* Append s percent-encoded: RFC 3986 unreserved characters are kept. */
void template_add_percent_encoded(struct strbuf *out, const char *s, size_t len);

/* Append s with & < > escaped as Slack mrkdwn entities. */
void template_add_slack_escaped(struct strbuf *out, const char *s, size_t len);

/* Format a message into err (ignored when err is NULL or errlen is 0). */
void template_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when s (len bytes) is a number by the JSON grammar (RFC 8259). */
bool template_is_json_number(const char *s, size_t len);

/* Levenshtein distance between a and b, or SIZE_MAX when either is longer
 * than 64 bytes (too long to be a typo worth suggesting). */
size_t template_edit_distance(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Parse the single expression "{{ ... }}" starting at text[*pos] into a
 * template of its own (escape context none), so conditions can embed
 * expressions. Error columns are counted in the whole of text. On success
 * *pos is just past the closing braces. *out: caller owns.
 */
int template_parse_expr_at(const char *text, size_t *pos, struct template **out, char *err,
                           size_t errlen);

/* Walk a parsed path from root: 0 with *out borrowed from root (NULL for a
 * JSON null), -1 when a segment does not exist. */
int template_path_resolve(struct json_object *root, const struct template_path *path,
                          struct json_object **out);

/* Describe byte offset off of text as "column N" or "line L, column N"
 * (columns count UTF-8 characters, from 1). */
void template_describe_pos(const char *text, size_t off, char *buf, size_t buflen);

#endif
