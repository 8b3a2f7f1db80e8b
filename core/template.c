/*
 * Template parser: "text {{ path | filter: arg }} text" becomes a list of
 * literal and expression segments (struct template, template_internal.h),
 * parsed once at load time. Rendering is in template_render.c, filters in
 * template_filters.c.
 *
 * Escape contexts (enum sb_escape) are fixed at parse time. For JSON the
 * literal text is scanned to know, for every expression, whether it sits
 * inside a JSON string; the document with each expression replaced by ""
 * (in strings) or null (outside) must parse, so that rendering any values
 * keeps it valid JSON.
 */
#include "template.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#include "strlit.h"
#include "template_internal.h"
#include "xalloc.h"

struct parser {
    const char *text; /* the whole text, for columns */
    size_t pos;
    size_t open; /* where the current "{{" starts */
    char *err;
    size_t errlen;
};

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ident_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void template_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void template_describe_pos(const char *text, size_t off, char *buf, size_t buflen)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            col++;
        }
    }
    if (line > 1)
        snprintf(buf, buflen, "line %zu, column %zu", line, col);
    else
        snprintf(buf, buflen, "column %zu", col);
}

/* Write "<message> at column N" into the parser's err; returns -1. */
static int parse_error(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, size_t off, const char *fmt, ...)
{
    char msg[256], where[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    template_describe_pos(p->text, off, where, sizeof(where));
    template_error(p->err, p->errlen, "%s at %s", msg, where);
    return -1;
}

static int unclosed(struct parser *p)
{
    return parse_error(p, p->open, "unclosed '{{'");
}

size_t template_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    enum { MAXLEN = 64 };
    size_t row[MAXLEN + 1], prev[MAXLEN + 1];
    if (alen > MAXLEN || blen > MAXLEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
        }
        memcpy(prev, row, (blen + 1) * sizeof(row[0]));
    }
    return prev[blen];
}

/* ------------------------------------------------------------------------- */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------- */

static void path_free(struct template_path *path)
{
    if (!path)
        return;
    for (size_t i = 0; i < path->nsegs; i++)
        free(path->segs[i].key);
    free(path->segs);
    free(path->text);
    free(path);
}

static void arg_release(struct template_arg *a)
{
    free(a->text);
    json_object_put(a->value);
    path_free(a->path);
    memset(a, 0, sizeof(*a));
}

static void expr_free(struct template_expr *e)
{
    if (!e)
        return;
    arg_release(&e->subject);
    for (size_t i = 0; i < e->ncalls; i++)
        for (size_t j = 0; j < e->calls[i].nargs; j++)
            arg_release(&e->calls[i].args[j]);
    free(e->calls);
    free(e);
}

static void skip_space(struct parser *p)
{
    while (is_space(p->text[p->pos]))
        p->pos++;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * A string literal (strlit.h) in double or single quotes at p->pos, with the escapes
 * \n \t \r \\ \" \' \/ and \uXXXX (not surrogates). *out: caller owns.
 */
static int parse_string(struct parser *p, char **out, size_t *outlen)
{
    struct strbuf sb = STRBUF_INIT;
    char why[64];
    size_t at;
    if (strlit_scan(p->text, &p->pos, &sb, why, sizeof(why), &at) != 0) {
        strbuf_release(&sb);
        return parse_error(p, at, "%s", why);
    }
    *outlen = sb.len;
    *out = strbuf_detach(&sb, NULL);
    return 0;
}

/* A number literal at p->pos: [+-]digits[.digits][e[+-]digits]. */
static int parse_number(struct parser *p, struct template_arg *a)
{
    const char *s = p->text;
    size_t start = p->pos, i = p->pos;
    bool is_double = false;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (is_digit(s[i]))
        i++;
    if (s[i] == '.' && is_digit(s[i + 1])) {
        is_double = true;
        i++;
        while (is_digit(s[i]))
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (is_digit(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && is_digit(s[i + 2])))) {
        is_double = true;
        i += 2;
        while (is_digit(s[i]))
            i++;
    }
    if (is_ident_char(s[i]) || s[i] == '.')
        return parse_error(p, start, "invalid number");
    char *text = xstrndup(s + start, i - start);
    errno = 0;
    if (is_double) {
        double d = strtod(text, NULL);
        if (errno == ERANGE || !isfinite(d)) {
            free(text);
            return parse_error(p, start, "number out of range");
        }
        a->kind = TEMPLATE_ARG_DOUBLE;
        a->value = json_object_new_double(d);
    } else {
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE) {
            free(text);
            return parse_error(p, start, "number out of range");
        }
        a->kind = TEMPLATE_ARG_INT;
        a->i = (int64_t)v;
        a->value = json_object_new_int64(a->i);
    }
    a->text = text;
    a->len = i - start;
    p->pos = i;
    return 0;
}

static void path_add_seg(struct template_path *path, size_t *cap, struct strbuf *text, char *key,
                         size_t keylen, bool may_index)
{
    XGROW(path->segs, *cap, path->nsegs + 1);
    struct template_path_seg *seg = &path->segs[path->nsegs++];
    seg->key = key;
    seg->is_index = may_index && keylen > 0 && keylen <= 9;
    seg->idx = 0;
    for (size_t i = 0; i < keylen && seg->is_index; i++) {
        if (!is_digit(key[i]))
            seg->is_index = false;
        else
            seg->idx = seg->idx * 10 + (size_t)(key[i] - '0');
    }
    if (text->len)
        strbuf_addch(text, '.');
    strbuf_add(text, key, keylen);
    seg->text_end = text->len;
}

/*
 * A path at p->pos: name ("." name | "." digits | "[" digits "]" |
 * "[" quoted key "]")*. Names are letters, digits, '_' and '-'.
 */
static int parse_path(struct parser *p, struct template_arg *a)
{
    struct template_path *path = xcalloc(1, sizeof(*path));
    struct strbuf text = STRBUF_INIT;
    size_t cap = 0;
    size_t start = p->pos;
    while (is_ident_char(p->text[p->pos]))
        p->pos++;
    path_add_seg(path, &cap, &text, xstrndup(p->text + start, p->pos - start), p->pos - start,
                 true);
    for (;;) {
        char c = p->text[p->pos];
        if (c == '.') {
            start = ++p->pos;
            while (is_ident_char(p->text[p->pos]))
                p->pos++;
            if (p->pos == start) {
                parse_error(p, start, "expected a name after '.'");
                goto fail;
            }
            path_add_seg(path, &cap, &text, xstrndup(p->text + start, p->pos - start),
                         p->pos - start, true);
        } else if (c == '[') {
            start = ++p->pos;
            char *key = NULL;
            size_t keylen = 0;
            bool quoted = false;
            if (is_digit(p->text[p->pos])) {
                while (is_digit(p->text[p->pos]))
                    p->pos++;
                keylen = p->pos - start;
                key = xstrndup(p->text + start, keylen);
            } else if (p->text[p->pos] == '"' || p->text[p->pos] == '\'') {
                if (parse_string(p, &key, &keylen) < 0)
                    goto fail;
                quoted = true;
                if (strlen(key) != keylen) {
                    free(key);
                    parse_error(p, start, "key contains a NUL character");
                    goto fail;
                }
            } else if (p->text[p->pos] == '\0') {
                unclosed(p);
                goto fail;
            } else {
                parse_error(p, start, "expected an index or a quoted key after '['");
                goto fail;
            }
            if (p->text[p->pos] != ']') {
                free(key);
                parse_error(p, p->pos, "expected ']'");
                goto fail;
            }
            p->pos++;
            path_add_seg(path, &cap, &text, key, keylen, !quoted);
        } else {
            break;
        }
    }
    path->text = strbuf_detach(&text, NULL);
    a->kind = TEMPLATE_ARG_PATH;
    a->text = xstrdup(path->text);
    a->len = strlen(a->text);
    a->path = path;
    return 0;
fail:
    strbuf_release(&text);
    path_free(path);
    return -1;
}

/*
 * An expression subject or filter argument at p->pos: a quoted string, a
 * number, true/false, or a path. `what` names it for the error message.
 */
static int parse_operand(struct parser *p, struct template_arg *a, const char *what)
{
    const char *s = p->text + p->pos;
    memset(a, 0, sizeof(*a));
    if (s[0] == '"' || s[0] == '\'') {
        if (parse_string(p, &a->text, &a->len) < 0)
            return -1;
        a->kind = TEMPLATE_ARG_STRING;
        a->value = json_object_new_string_len(a->text, (int)a->len);
        return 0;
    }
    if (is_digit(s[0]) || ((s[0] == '-' || s[0] == '+') && is_digit(s[1])))
        return parse_number(p, a);
    if (is_alpha(s[0]) || s[0] == '_') {
        size_t n = 0;
        while (is_ident_char(s[n]))
            n++;
        bool ends = s[n] != '.' && s[n] != '[';
        if (ends && ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)))) {
            a->kind = TEMPLATE_ARG_BOOL;
            a->text = xstrndup(s, n);
            a->len = n;
            a->value = json_object_new_boolean(n == 4);
            p->pos += n;
            return 0;
        }
        return parse_path(p, a);
    }
    if (s[0] == '\0')
        return unclosed(p);
    return parse_error(p, p->pos, "expected %s", what);
}

/* "unknown filter 'x'", with the closest known name when one is close. */
static int unknown_filter(struct parser *p, size_t off, const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_dist = 3;
    for (size_t i = 0; template_filter_names[i]; i++) {
        const char *cand = template_filter_names[i];
        size_t d = template_edit_distance(name, len, cand, strlen(cand));
        if (d < best_dist) {
            best_dist = d;
            best = cand;
        }
    }
    if (best)
        return parse_error(p, off, "unknown filter '%.*s' (did you mean '%s'?)", (int)len, name,
                           best);
    return parse_error(p, off, "unknown filter '%.*s'", (int)len, name);
}

static int bad_arg_count(struct parser *p, size_t off, const struct template_filter *f, size_t got)
{
    if (f->max_args == 0)
        return parse_error(p, off, "filter '%s' takes no arguments", f->name);
    if (f->min_args == f->max_args)
        return parse_error(p, off, "filter '%s' takes %u argument%s, got %zu", f->name, f->min_args,
                           f->min_args == 1 ? "" : "s", got);
    if (f->min_args == 0)
        return parse_error(p, off, "filter '%s' takes at most %u argument%s, got %zu", f->name,
                           f->max_args, f->max_args == 1 ? "" : "s", got);
    return parse_error(p, off, "filter '%s' takes %u to %u arguments, got %zu", f->name,
                       f->min_args, f->max_args, got);
}

/* A filter call after '|': name [":" arg ("," arg)*]. */
static int parse_filter(struct parser *p, struct template_expr *e, size_t *cap)
{
    size_t start = p->pos;
    while (is_ident_char(p->text[p->pos]))
        p->pos++;
    size_t len = p->pos - start;
    if (len == 0) {
        if (p->text[p->pos] == '\0')
            return unclosed(p);
        return parse_error(p, start, "expected a filter name after '|'");
    }
    const struct template_filter *f = template_filter_find(p->text + start, len);
    if (!f)
        return unknown_filter(p, start, p->text + start, len);

    XGROW(e->calls, *cap, e->ncalls + 1);
    struct template_call *call = &e->calls[e->ncalls++];
    memset(call, 0, sizeof(*call));
    call->filter = f;
    skip_space(p);
    if (p->text[p->pos] == ':') {
        p->pos++;
        for (;;) {
            skip_space(p);
            if (call->nargs == f->max_args)
                return bad_arg_count(p, start, f, call->nargs + 1);
            if (parse_operand(p, &call->args[call->nargs], "an argument") < 0)
                return -1;
            call->nargs++;
            skip_space(p);
            if (p->text[p->pos] != ',')
                break;
            p->pos++;
        }
    }
    if (call->nargs < f->min_args)
        return bad_arg_count(p, start, f, call->nargs);
    if (f->check) {
        char msg[200];
        if (f->check(call->args, call->nargs, msg, sizeof(msg)) < 0)
            return parse_error(p, start, "%s: %s", f->name, msg);
    }
    if (f->flags & TEMPLATE_FILTER_TAKES_MISSING)
        e->has_default = true;
    if (f->flags & TEMPLATE_FILTER_RAW)
        e->raw = true;
    return 0;
}

/* The expression "{{ ... }}" at p->pos; *out: caller owns. */
static int parse_expr(struct parser *p, struct template_expr **out)
{
    struct template_expr *e = xcalloc(1, sizeof(*e));
    size_t cap = 0;
    p->open = p->pos;
    p->pos += 2;
    skip_space(p);
    if (p->text[p->pos] == '}' && p->text[p->pos + 1] == '}') {
        parse_error(p, p->open, "empty expression");
        goto fail;
    }
    if (parse_operand(p, &e->subject, "a path or a value") < 0)
        goto fail;
    for (;;) {
        skip_space(p);
        char c = p->text[p->pos];
        if (c == '}' && p->text[p->pos + 1] == '}') {
            p->pos += 2;
            break;
        }
        if (c == '\0') {
            unclosed(p);
            goto fail;
        }
        if (c != '|') {
            if (!strstr(p->text + p->pos, "}}"))
                unclosed(p);
            else
                parse_error(p, p->pos, "expected '|' or '}}'");
            goto fail;
        }
        p->pos++;
        skip_space(p);
        if (parse_filter(p, e, &cap) < 0)
            goto fail;
    }
    *out = e;
    return 0;
fail:
    expr_free(e);
    return -1;
}

static void add_segment(struct template *t, size_t off, size_t len, struct template_expr *e)
{
    if (!e && len == 0)
        return;
    XGROW(t->segs, t->cap, t->nsegs + 1);
    t->segs[t->nsegs++] = (struct template_segment){.off = off, .len = len, .expr = e};
    if (e)
        t->nexprs++;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

/* ------------------------------------------------------------------------- */
/* JSON context: where expressions sit, and is the skeleton valid JSON?      */
/* ------------------------------------------------------------------------- */

enum json_scan_state { JS_OUT, JS_STRING, JS_ESCAPE, JS_UNICODE };

struct json_scan {
    enum json_scan_state state;
    int hex_left; /* JS_UNICODE: hex digits still expected */
};

/*
 * Outside strings a run of letters, digits and + - . must be a JSON number
 * or true/false/null (json-c alone would also take NaN, Infinity and "1.").
 * Runs touching an expression are left to the skeleton check.
 */
static int json_check_word(struct parser *p, size_t start, size_t end, bool touches_expr)
{
    const char *w = p->text + start;
    size_t n = end - start;
    if (touches_expr || template_is_json_number(w, n) || (n == 4 && !memcmp(w, "true", 4)) ||
        (n == 5 && !memcmp(w, "false", 5)) || (n == 4 && !memcmp(w, "null", 4)))
        return 0;
    return parse_error(p, start, "not valid JSON: unexpected '%.*s'", (int)(n > 40 ? 40 : n), w);
}

static bool json_word_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}

/* Advance the scanner over one literal segment [off, off + len). */
static int json_scan_literal(struct parser *p, struct json_scan *js, size_t off, size_t len,
                             bool expr_before, bool expr_after)
{
    const char *s = p->text;
    size_t end = off + len;
    for (size_t i = off; i < end; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (js->state) {
        case JS_OUT:
            if (c == '"') {
                js->state = JS_STRING;
            } else if (c == '\'') {
                return parse_error(p, i, "not valid JSON: single-quoted string");
            } else if (json_word_char((char)c)) {
                size_t start = i;
                while (i < end && json_word_char(s[i]))
                    i++;
                bool touches = (start == off && expr_before) || (i == end && expr_after);
                if (json_check_word(p, start, i, touches) < 0)
                    return -1;
                i--;
            }
            break;
        case JS_STRING:
            if (c == '"')
                js->state = JS_OUT;
            else if (c == '\\')
                js->state = JS_ESCAPE;
            else if (c < 0x20)
                return parse_error(p, i, "not valid JSON: control character in a string");
            break;
        case JS_ESCAPE:
            if (c == 'u') {
                js->state = JS_UNICODE;
                js->hex_left = 4;
            } else {
                js->state = JS_STRING;
            }
            break;
        case JS_UNICODE:
            if (--js->hex_left == 0 || hex_value((char)c) < 0)
                js->state = JS_STRING;
            break;
        }
    }
    return 0;
}

/* Where byte `doc_off` of the skeleton came from in the template. */
struct skeleton_piece {
    size_t doc_off;
    size_t tmpl_off;
    size_t len;
    bool placeholder;
};

/*
 * Mark every expression as inside or outside a JSON string, then check that
 * the skeleton (in-string expressions removed, others replaced by null)
 * parses as one JSON document. Errors name the template column.
 */
static int json_check(struct template *t, struct parser *p)
{
    struct json_scan js = {.state = JS_OUT};
    struct strbuf doc = STRBUF_INIT;
    struct skeleton_piece *pieces = xcalloc(t->nsegs + 1, sizeof(*pieces));
    struct json_tokener *tok = NULL;
    struct json_object *parsed = NULL;
    int rc = -1;

    for (size_t i = 0; i < t->nsegs; i++) {
        struct template_segment *seg = &t->segs[i];
        pieces[i].doc_off = doc.len;
        pieces[i].tmpl_off = seg->off;
        if (!seg->expr) {
            bool before = i > 0 && t->segs[i - 1].expr;
            bool after = i + 1 < t->nsegs && t->segs[i + 1].expr;
            if (json_scan_literal(p, &js, seg->off, seg->len, before, after) < 0)
                goto out;
            strbuf_add(&doc, t->text + seg->off, seg->len);
            pieces[i].len = seg->len;
            continue;
        }
        if (js.state == JS_ESCAPE || js.state == JS_UNICODE) {
            parse_error(p, seg->off, "not valid JSON: expression inside an escape sequence");
            goto out;
        }
        seg->expr->in_json_string = js.state == JS_STRING;
        pieces[i].placeholder = true;
        if (!seg->expr->in_json_string)
            strbuf_add(&doc, "null", 4);
        pieces[i].len = doc.len - pieces[i].doc_off;
    }

    tok = json_tokener_new();
    if (!tok) {
        template_error(p->err, p->errlen, "out of memory");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* the terminating NUL is passed so a top-level number can end */
    parsed = json_tokener_parse_ex(tok, strbuf_str(&doc), (int)doc.len + 1);
    size_t end = json_tokener_get_parse_end(tok);
    const char *why = NULL;
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success) {
        /* (parsed is also NULL for a document that is just null) */
        why = json_tokener_error_desc(jerr);
    } else {
        while (end < doc.len && is_space(doc.buf[end]))
            end++;
        if (end < doc.len)
            why = "unexpected text after the document";
    }
    if (why) {
        size_t off = strlen(t->text);
        for (size_t i = 0; i < t->nsegs; i++) {
            const struct skeleton_piece *pc = &pieces[i];
            if (end >= pc->doc_off && end < pc->doc_off + pc->len) {
                off = pc->placeholder ? pc->tmpl_off : pc->tmpl_off + (end - pc->doc_off);
                break;
            }
        }
        parse_error(p, off, "not valid JSON: %s", why);
        goto out;
    }
    rc = 0;
out:
    json_object_put(parsed);
    if (tok)
        json_tokener_free(tok);
    free(pieces);
    strbuf_release(&doc);
    return rc;
}

int template_parse(const char *text, unsigned escape, struct template **out, char *err,
                   size_t errlen)
{
    if (escape > SB_ESCAPE_SLACK_JSON) {
        template_error(err, errlen, "unknown escape context %u", escape);
        return -1;
    }
    struct template *t = xcalloc(1, sizeof(*t));
    struct parser p = {.text = text, .err = err, .errlen = errlen};
    t->text = xstrdup(text);
    t->escape = escape;

    size_t lit = 0;
    while (text[p.pos]) {
        if (text[p.pos] != '{' || text[p.pos + 1] != '{') {
            p.pos++;
            continue;
        }
        add_segment(t, lit, p.pos - lit, NULL);
        size_t start = p.pos;
        struct template_expr *e;
        if (parse_expr(&p, &e) < 0)
            goto fail;
        add_segment(t, start, p.pos - start, e);
        lit = p.pos;
    }
    add_segment(t, lit, p.pos - lit, NULL);

    if ((escape == SB_ESCAPE_JSON || escape == SB_ESCAPE_SLACK_JSON) && json_check(t, &p) < 0)
        goto fail;

    if (t->nexprs == 1) {
        t->single = true;
        for (size_t i = 0; i < t->nsegs; i++)
            if (!t->segs[i].expr && !is_blank(t->text + t->segs[i].off, t->segs[i].len))
                t->single = false;
    }
    *out = t;
    return 0;
fail:
    template_free(t);
    return -1;
}

int template_parse_expr_at(const char *text, size_t *pos, struct template **out, char *err,
                           size_t errlen)
{
    struct parser p = {.text = text, .pos = *pos, .err = err, .errlen = errlen};
    struct template_expr *e;
    if (text[p.pos] != '{' || text[p.pos + 1] != '{')
        return parse_error(&p, p.pos, "expected '{{'");
    if (parse_expr(&p, &e) < 0)
        return -1;
    struct template *t = xcalloc(1, sizeof(*t));
    t->text = xstrndup(text + *pos, p.pos - *pos);
    t->escape = SB_ESCAPE_NONE;
    add_segment(t, 0, p.pos - *pos, e);
    t->single = true;
    *pos = p.pos;
    *out = t;
    return 0;
}

void template_free(struct template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nsegs; i++)
        expr_free(t->segs[i].expr);
    free(t->segs);
    free(t->text);
    free(t);
}

bool template_has_expressions(const struct template *t)
{
    return t->nexprs > 0;
}

const char *template_text(const struct template *t)
{
    return t->text;
}

void template_foreach_path(const struct template *t, void (*fn)(void *ctx, const char *path),
                           void *ctx)
{
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct template_expr *e = t->segs[i].expr;
        if (!e)
            continue;
        if (e->subject.kind == TEMPLATE_ARG_PATH)
            fn(ctx, e->subject.path->text);
        for (size_t j = 0; j < e->ncalls; j++)
            for (size_t k = 0; k < e->calls[j].nargs; k++)
                if (e->calls[j].args[k].kind == TEMPLATE_ARG_PATH)
                    fn(ctx, e->calls[j].args[k].path->text);
    }
}

int template_path_lookup(struct json_object *root, const char *text, struct json_object **out)
{
    if (!text || !*text) {
        *out = root;
        return 0;
    }
    if (text[0] == '.')
        return -2;
    char err[256];
    struct parser p = {.text = text, .err = err, .errlen = sizeof(err)};
    struct template_arg a;
    memset(&a, 0, sizeof(a));
    if (parse_path(&p, &a) < 0)
        return -2;
    int rc = -2;
    struct template_path *path = a.path;
    if (text[p.pos] != '\0')
        goto out;
    /* "[0].id": the path starts at an index of root itself, so the empty
     * name parse_path put first is not a step */
    size_t first = text[0] == '[' ? 1 : 0;
    struct template_path rest = {path->segs + first, path->nsegs - first, path->text};
    rc = template_path_resolve(root, &rest, out) < 0 ? -1 : 0;
out:
    arg_release(&a);
    return rc;
}
