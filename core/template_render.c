/*
 * Template rendering: walk the parsed segments of a struct template against
 * a JSON root (json-c lookups only, no copies, no allocation per path
 * segment), run each expression's filters and insert the value as the
 * template's escape context requires. Also the value helpers shared with the
 * filters: text and JSON forms of a json-c value.
 */
#include "template.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#include "template_internal.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------------- */
/* Values                                                                    */
/* ------------------------------------------------------------------------- */

bool template_is_json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
    } else if (i < len && s[i] >= '1' && s[i] <= '9') {
        while (i < len && is_digit(s[i]))
            i++;
    } else {
        return false;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i == len;
}

/*
 * Text of a finite double: the text json-c's parser kept for it when there
 * is one (so 50.50 in a payload prints as 50.50), else the shortest form
 * that reads back as the same double, with ".0" when it looks integral, as
 * json-c prints doubles.
 */
static void add_double(struct strbuf *out, struct json_object *v)
{
    double d = json_object_get_double(v);
    /* json_object_new_double_s (used by json_tokener) keeps the source text
     * as the userdata of the double. */
    const char *source = json_object_get_userdata(v);
    if (source) {
        size_t n = strnlen(source, 64);
        if (n < 64 && template_is_json_number(source, n)) {
            strbuf_add(out, source, n);
            return;
        }
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    strbuf_addstr(out, buf);
    if (!strpbrk(buf, ".e"))
        strbuf_add(out, ".0", 2);
}

static void add_int(struct strbuf *out, struct json_object *v)
{
    char buf[24];
    int64_t i = json_object_get_int64(v);
    /* json-c stores integers above INT64_MAX as uint64; get_int64 clamps */
    if (i == INT64_MAX)
        snprintf(buf, sizeof(buf), "%" PRIu64, json_object_get_uint64(v));
    else
        snprintf(buf, sizeof(buf), "%" PRId64, i);
    strbuf_addstr(out, buf);
}

void template_value_json(struct json_object *v, struct strbuf *out)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        strbuf_add(out, "null", 4);
        break;
    case json_type_boolean:
        strbuf_addstr(out, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        add_int(out, v);
        break;
    case json_type_double:
        if (isfinite(json_object_get_double(v)))
            add_double(out, v);
        else
            strbuf_add(out, "null", 4);
        break;
    case json_type_string:
        strbuf_addch(out, '"');
        strbuf_add_json_escaped(out, json_object_get_string(v),
                                (size_t)json_object_get_string_len(v));
        strbuf_addch(out, '"');
        break;
    case json_type_array: {
        size_t n = json_object_array_length(v);
        strbuf_addch(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_addch(out, ',');
            template_value_json(json_object_array_get_idx(v, i), out);
        }
        strbuf_addch(out, ']');
        break;
    }
    case json_type_object: {
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        bool first = true;
        strbuf_addch(out, '{');
        while (!json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            if (!first)
                strbuf_addch(out, ',');
            first = false;
            strbuf_addch(out, '"');
            strbuf_add_json_escaped(out, key, strlen(key));
            strbuf_add(out, "\":", 2);
            template_value_json(json_object_iter_peek_value(&it), out);
            json_object_iter_next(&it);
        }
        strbuf_addch(out, '}');
        break;
    }
    }
}

void template_value_text(struct json_object *v, struct strbuf *out)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (isnan(d))
            strbuf_addstr(out, "NaN");
        else if (isinf(d))
            strbuf_addstr(out, d > 0 ? "Infinity" : "-Infinity");
        else
            add_double(out, v);
        break;
    }
    case json_type_string:
        strbuf_add(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    default:
        template_value_json(v, out);
        break;
    }
}

const char *template_value_str(struct json_object *v, struct strbuf *scratch, size_t *len)
{
    if (json_object_is_type(v, json_type_string)) {
        *len = (size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    }
    strbuf_reset(scratch);
    template_value_text(v, scratch);
    *len = scratch->len;
    return strbuf_str(scratch);
}

void template_value_release(struct template_value *v)
{
    if (v->owned)
        json_object_put(v->obj);
    v->obj = NULL;
    v->owned = false;
    v->shared = false;
}

void template_value_set_owned(struct template_value *v, struct json_object *obj)
{
    template_value_release(v);
    v->obj = obj;
    v->owned = obj != NULL;
    v->missing = false;
    v->escaped = 0;
}

void template_value_set_string(struct template_value *v, const char *s, size_t len)
{
    /* s may point into v's current string: copy before releasing it */
    struct json_object *str = json_object_new_string_len(s, (int)len);
    if (!str) {
        fputs("switchboard: out of memory\n", stderr);
        abort();
    }
    template_value_set_owned(v, str);
}

/*
 * A new reference to v's value that the caller owns. Shared constants of a
 * template are copied (their reference counts must not change under
 * concurrent renders); values of the root get one more reference.
 */
static struct json_object *value_take(struct template_value *v)
{
    struct json_object *o = v->obj;
    if (v->owned) {
        v->obj = NULL;
        v->owned = false;
        return o;
    }
    if (!v->shared)
        return json_object_get(o);
    switch (json_object_get_type(o)) {
    case json_type_string:
        return json_object_new_string_len(json_object_get_string(o), json_object_get_string_len(o));
    case json_type_int:
        return json_object_new_int64(json_object_get_int64(o));
    case json_type_boolean:
        return json_object_new_boolean(json_object_get_boolean(o));
    case json_type_double: {
        struct strbuf text = STRBUF_INIT;
        add_double(&text, o);
        struct json_object *d = json_object_new_double_s(json_object_get_double(o), text.buf);
        strbuf_release(&text);
        return d;
    }
    default:
        /* constants are scalars; containers only come from the root */
        return json_object_get(o);
    }
}

/* ------------------------------------------------------------------------- */
/* Rendering                                                                 */
/* ------------------------------------------------------------------------- */

static const char *type_name(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_int:
    case json_type_double:
        return "a number";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "a value";
}

/* "'event.data.amont' does not exist (did you mean 'amount'?)" for segment
 * i of path, whose parent (the value of segments 0..i-1) is parent. */
static void missing_error(const struct template_path *path, size_t i, struct json_object *parent,
                          char *err, size_t errlen)
{
    const struct template_path_seg *seg = &path->segs[i];
    int shown = (int)seg->text_end;
    int parent_len = i > 0 ? (int)path->segs[i - 1].text_end : 0;
    const char *pt = path->text;

    if (json_object_is_type(parent, json_type_object)) {
        const char *best = NULL;
        size_t best_dist = 3, keylen = strlen(seg->key);
        struct json_object_iterator it = json_object_iter_begin(parent);
        struct json_object_iterator end = json_object_iter_end(parent);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *k = json_object_iter_peek_name(&it);
            size_t d = template_edit_distance(seg->key, keylen, k, strlen(k));
            if (d < best_dist) {
                best_dist = d;
                best = k;
            }
        }
        if (best)
            template_error(err, errlen, "'%.*s' does not exist (did you mean '%s'?)", shown, pt,
                           best);
        else
            template_error(err, errlen, "'%.*s' does not exist", shown, pt);
    } else if (json_object_is_type(parent, json_type_array)) {
        size_t n = json_object_array_length(parent);
        template_error(err, errlen, "'%.*s' does not exist ('%.*s' has %zu element%s)", shown, pt,
                       parent_len, pt, n, n == 1 ? "" : "s");
    } else if (i > 0) {
        template_error(err, errlen, "'%.*s' does not exist ('%.*s' is %s)", shown, pt, parent_len,
                       pt, type_name(parent));
    } else {
        template_error(err, errlen, "'%.*s' does not exist", shown, pt);
    }
}

/*
 * Walk path from root. On success *out is borrowed from root (NULL for a
 * JSON null). A missing segment returns -1 and, when err is not NULL,
 * describes the first missing prefix.
 */
static int resolve(struct json_object *root, const struct template_path *path,
                   struct json_object **out, char *err, size_t errlen)
{
    struct json_object *cur = root;
    for (size_t i = 0; i < path->nsegs; i++) {
        const struct template_path_seg *seg = &path->segs[i];
        struct json_object *next = NULL;
        bool found = false;
        if (json_object_is_type(cur, json_type_object)) {
            found = json_object_object_get_ex(cur, seg->key, &next);
        } else if (json_object_is_type(cur, json_type_array) && seg->is_index &&
                   seg->idx < json_object_array_length(cur)) {
            next = json_object_array_get_idx(cur, seg->idx);
            found = true;
        }
        if (!found) {
            if (err)
                missing_error(path, i, cur, err, errlen);
            return -1;
        }
        cur = next;
    }
    *out = cur;
    return 0;
}

int template_path_resolve(struct json_object *root, const struct template_path *path,
                          struct json_object **out)
{
    return resolve(root, path, out, NULL, 0);
}

static int eval_arg(const struct template_arg *a, struct json_object *root,
                    struct template_value *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (a->kind != TEMPLATE_ARG_PATH) {
        out->obj = a->value;
        out->shared = true;
        return 0;
    }
    return resolve(root, a->path, &out->obj, err, errlen);
}

/*
 * Evaluate e's subject and filters. *v receives the result (release with
 * template_value_release); on error nothing needs releasing.
 */
static int eval_expr(const struct template_expr *e, struct json_object *root,
                     struct template_value *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    const char *missing_text = e->subject.text; /* the last path found missing */
    if (e->subject.kind == TEMPLATE_ARG_PATH) {
        if (resolve(root, e->subject.path, &v->obj, e->has_default ? NULL : err, errlen) < 0) {
            if (!e->has_default)
                return -1;
            v->missing = true;
        }
    } else {
        v->obj = e->subject.value;
        v->shared = true;
    }
    for (size_t i = 0; i < e->ncalls; i++) {
        const struct template_call *call = &e->calls[i];
        const struct template_filter *f = call->filter;
        struct template_value args[TEMPLATE_MAX_ARGS];
        char msg[256];
        if (v->missing && !(f->flags & TEMPLATE_FILTER_TAKES_MISSING))
            continue;
        if (!v->missing && !v->obj && !(f->flags & TEMPLATE_FILTER_TAKES_NULL))
            continue;
        bool fallback = (f->flags & TEMPLATE_FILTER_TAKES_MISSING) != 0;
        if (fallback && !v->missing && v->obj &&
            !(json_object_is_type(v->obj, json_type_string) &&
              json_object_get_string_len(v->obj) == 0))
            continue; /* default: the value is there, its argument is not needed */
        bool arg_missing = false;
        for (size_t j = 0; j < call->nargs; j++) {
            /* a default's path argument may be missing too: then the value
             * stays missing, for a later default (a | default: b | default: "c") */
            if (eval_arg(&call->args[j], root, &args[j], fallback ? NULL : err, errlen) < 0) {
                if (!fallback) {
                    template_value_release(v);
                    return -1;
                }
                arg_missing = true;
                missing_text = call->args[j].text;
            }
        }
        if (arg_missing) {
            if (!v->missing) {
                template_value_release(v);
                memset(v, 0, sizeof(*v));
                v->missing = true;
            }
            continue;
        }
        if (f->apply(v, args, call->nargs, msg, sizeof(msg)) < 0) {
            template_error(err, errlen, "%s: %s", f->name, msg);
            template_value_release(v);
            return -1;
        }
    }
    if (v->missing) {
        /* every default's path was missing too: name the last one */
        template_error(err, errlen, "'%s' does not exist", missing_text);
        return -1;
    }
    return 0;
}

/* Past the scheme and host: a '?' or '#', a leading '/', or "://" then '/'. */
static bool url_past_authority(const char *s, size_t len)
{
    if (len == 0)
        return false;
    if (s[0] == '/' || memchr(s, '?', len) || memchr(s, '#', len))
        return true;
    for (size_t i = 0; i + 3 <= len; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return memchr(s + i + 3, '/', len - i - 3) != NULL;
    return false;
}

/*
 * Append v to out as the escape context of t requires. `start` is where
 * this template's output begins in out (the URL context looks at it).
 */
static int insert_value(const struct template *t, const struct template_expr *e,
                        const struct template_value *v, struct strbuf *out, size_t start,
                        struct strbuf *scratch, char *err, size_t errlen)
{
    size_t len;
    const char *s;

    bool slack_json = t->escape == SB_ESCAPE_SLACK_JSON;
    if (slack_json && !e->raw && !e->in_json_string &&
        json_object_is_type(v->obj, json_type_string) &&
        !(v->escaped & ((1u << SB_ESCAPE_JSON) | (1u << SB_ESCAPE_SLACK)))) {
        /* a text value outside a string: a JSON string of Slack-escaped text */
        s = json_object_get_string(v->obj);
        struct strbuf esc = STRBUF_INIT;
        template_add_slack_escaped(&esc, s, (size_t)json_object_get_string_len(v->obj));
        strbuf_addch(out, '"');
        strbuf_add_json_escaped(out, strbuf_str(&esc), esc.len);
        strbuf_addch(out, '"');
        strbuf_release(&esc);
        return 0;
    }
    if ((t->escape == SB_ESCAPE_JSON || slack_json) && !e->raw && !e->in_json_string) {
        if (v->escaped & (1u << SB_ESCAPE_JSON))
            strbuf_add(out, json_object_get_string(v->obj),
                       (size_t)json_object_get_string_len(v->obj));
        else
            template_value_json(v->obj, out);
        return 0;
    }
    s = template_value_str(v->obj, scratch, &len);
    switch (t->escape) {
    case SB_ESCAPE_JSON:
        if (e->raw)
            strbuf_add(out, s, len);
        else
            strbuf_add_json_escaped(out, s, len);
        return 0;
    case SB_ESCAPE_SLACK_JSON:
        if (e->raw) {
            strbuf_add(out, s, len);
        } else if (v->escaped & (1u << SB_ESCAPE_SLACK)) {
            strbuf_add_json_escaped(out, s, len);
        } else {
            /* inside a JSON string: Slack entities first, then JSON */
            struct strbuf esc = STRBUF_INIT;
            template_add_slack_escaped(&esc, s, len);
            strbuf_add_json_escaped(out, strbuf_str(&esc), esc.len);
            strbuf_release(&esc);
        }
        return 0;
    case SB_ESCAPE_HEADER:
        if (memchr(s, '\r', len) || memchr(s, '\n', len)) {
            template_error(err, errlen, "header value contains a line break ('%s')",
                           e->subject.text);
            return -1;
        }
        if (memchr(s, '\0', len)) {
            template_error(err, errlen, "header value contains a NUL character ('%s')",
                           e->subject.text);
            return -1;
        }
        strbuf_add(out, s, len);
        return 0;
    case SB_ESCAPE_URL:
        if (!e->raw && !(v->escaped & (1u << SB_ESCAPE_URL)) &&
            url_past_authority(out->buf ? out->buf + start : "", out->len - start)) {
            template_add_percent_encoded(out, s, len);
            return 0;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c == 0x7f) {
                template_error(err, errlen,
                               "url value contains whitespace or a control character ('%s')",
                               e->subject.text);
                return -1;
            }
        }
        strbuf_add(out, s, len);
        return 0;
    case SB_ESCAPE_SLACK:
        if (e->raw || (v->escaped & (1u << SB_ESCAPE_SLACK)))
            strbuf_add(out, s, len);
        else
            template_add_slack_escaped(out, s, len);
        return 0;
    default:
        strbuf_add(out, s, len);
        return 0;
    }
}

int template_render(const struct template *t, struct json_object *root, struct strbuf *out,
                    char *err, size_t errlen)
{
    size_t start = out->len;
    struct strbuf scratch = STRBUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < t->nsegs && rc == 0; i++) {
        const struct template_segment *seg = &t->segs[i];
        struct template_value v;
        if (!seg->expr) {
            strbuf_add(out, t->text + seg->off, seg->len);
            continue;
        }
        if (eval_expr(seg->expr, root, &v, err, errlen) < 0) {
            rc = -1;
            break;
        }
        rc = insert_value(t, seg->expr, &v, out, start, &scratch, err, errlen);
        template_value_release(&v);
    }
    strbuf_release(&scratch);
    if (rc < 0) {
        out->len = start;
        if (out->buf)
            out->buf[start] = '\0';
    }
    return rc;
}

int template_render_value(const struct template *t, struct json_object *root,
                          struct json_object **out, char *err, size_t errlen)
{
    struct strbuf text = STRBUF_INIT;
    struct json_object *result = NULL;
    int rc = -1;

    if (!t->single) {
        if (template_render(t, root, &text, err, errlen) < 0)
            goto out;
        result = json_object_new_string_len(strbuf_str(&text), (int)text.len);
        rc = 0;
        goto out;
    }

    const struct template_expr *e = NULL;
    for (size_t i = 0; i < t->nsegs && !e; i++)
        e = t->segs[i].expr;
    struct template_value v;
    if (eval_expr(e, root, &v, err, errlen) < 0)
        goto out;
    /* the same checks and escaping as template_render */
    struct strbuf scratch = STRBUF_INIT;
    rc = insert_value(t, e, &v, &text, 0, &scratch, err, errlen);
    strbuf_release(&scratch);
    if (rc == 0) {
        bool is_string = json_object_is_type(v.obj, json_type_string);
        bool json_ctx = t->escape == SB_ESCAPE_JSON || t->escape == SB_ESCAPE_SLACK_JSON;
        if (json_ctx && e->raw) {
            result = json_object_new_string_len(strbuf_str(&text), (int)text.len);
        } else if (t->escape == SB_ESCAPE_SLACK_JSON && is_string) {
            /* the rendered text is a JSON string of escaped text */
            result = json_tokener_parse(strbuf_str(&text));
            if (!result)
                result = json_object_new_string_len(strbuf_str(&text), (int)text.len);
        } else if (json_ctx && (v.escaped & (1u << SB_ESCAPE_JSON))) {
            /* "{{ x | json }}" stands for the JSON value of x; keep the text
             * if json-c cannot read it back (nesting past its depth limit) */
            result = json_tokener_parse(strbuf_str(&text));
            if (!result && strcmp(strbuf_str(&text), "null") != 0)
                result = json_object_new_string_len(strbuf_str(&text), (int)text.len);
        } else if (t->escape == SB_ESCAPE_SLACK && is_string) {
            result = json_object_new_string_len(strbuf_str(&text), (int)text.len);
        } else {
            result = value_take(&v);
        }
    }
    template_value_release(&v);
out:
    strbuf_release(&text);
    if (rc == 0)
        *out = result;
    return rc;
}
