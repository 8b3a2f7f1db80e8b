/*
 * Conditions: a small recursive-descent parser into a tree of and/or/not
 * nodes over comparisons, evaluated per run. Operands are template
 * expressions (rendered with template_render_value), quoted strings,
 * numbers and true/false/null; any other bare word is a parse error (it
 * was meant as a template or as quoted text). Everything compares as text
 * unless both sides read as numbers; an ordering (< <= > >=) of a number
 * with something that is not one is an evaluation error, never a verdict.
 *
 *   or   := and ("or" and)*
 *   and  := not ("and" not)*
 *   not  := "not" not | primary
 *   primary := "(" or ")" | operand [op operand]
 *   op   := == != < <= > >= contains matches
 */
#include "condition.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "strbuf.h"
#include "strlit.h"
#include "template.h"
#include "template_internal.h"
#include "xalloc.h"

/* Parentheses and "not" nest at most this deep. */
#define MAX_DEPTH 64

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_CONTAINS, OP_MATCHES };

static const char *const op_names[] = {
    [OP_EQ] = "==",
    [OP_NE] = "!=",
    [OP_LT] = "<",
    [OP_LE] = "<=",
    [OP_GT] = ">",
    [OP_GE] = ">=",
    [OP_CONTAINS] = "contains",
    [OP_MATCHES] = "matches",
};

struct operand {
    struct template *tmpl; /* a {{ }} expression, or NULL for a literal */
    char *text;            /* literal text (owned) */
    size_t len;
    char *source; /* as written, for messages (owned) */
};

enum node_kind { NODE_OR, NODE_AND, NODE_NOT, NODE_CMP, NODE_TRUTH };

struct node {
    enum node_kind kind;
    struct node **kids; /* OR, AND: two or more; NOT: one */
    size_t nkids;
    size_t cap;
    enum cmp_op op;     /* NODE_CMP */
    struct operand lhs; /* NODE_CMP, NODE_TRUTH */
    struct operand rhs; /* NODE_CMP */
};

struct condition {
    char *text;
    struct node *root;
};

enum token_kind { TOK_END, TOK_LPAREN, TOK_RPAREN, TOK_OP, TOK_AND, TOK_OR, TOK_NOT, TOK_OPERAND };

struct token {
    enum token_kind kind;
    size_t off;             /* where it starts in the text */
    enum cmp_op op;         /* TOK_OP */
    struct operand operand; /* TOK_OPERAND: owned until taken */
    bool bare_word;         /* TOK_OPERAND written as an unquoted word */
};

struct cparser {
    const char *text;
    size_t pos;
    struct token tok;
    int depth;
    char *err;
    size_t errlen;
};

/* ------------------------------------------------------------------------- */
/* Tree                                                                      */
/* ------------------------------------------------------------------------- */

static void operand_release(struct operand *o)
{
    template_free(o->tmpl);
    free(o->text);
    free(o->source);
    memset(o, 0, sizeof(*o));
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    operand_release(&n->lhs);
    operand_release(&n->rhs);
    free(n);
}

static struct node *node_new(enum node_kind kind)
{
    struct node *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    return n;
}

static void node_add(struct node *n, struct node *kid)
{
    XGROW(n->kids, n->cap, n->nkids + 1);
    n->kids[n->nkids++] = kid;
}

/* ------------------------------------------------------------------------- */
/* Lexer                                                                     */
/* ------------------------------------------------------------------------- */

static int cerror(struct cparser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<message> at column N" into the parser's err; returns -1. */
static int cerror(struct cparser *p, size_t off, const char *fmt, ...)
{
    char msg[256], where[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    template_describe_pos(p->text, off, where, sizeof(where));
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s at %s", msg, where);
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_op_char(char c)
{
    return c == '=' || c == '!' || c == '<' || c == '>';
}

static bool word_is(const char *w, size_t len, const char *kw)
{
    if (strlen(kw) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != kw[i])
            return false;
    }
    return true;
}

/* A quoted string literal (strlit.h) at p->pos. */
static int lex_string(struct cparser *p, struct operand *o)
{
    size_t start = p->pos;
    struct strbuf sb = STRBUF_INIT;
    char why[64];
    size_t at;
    if (strlit_scan(p->text, &p->pos, &sb, why, sizeof(why), &at) != 0) {
        strbuf_release(&sb);
        return cerror(p, at, "%s", why);
    }
    o->len = sb.len;
    o->text = strbuf_detach(&sb, NULL);
    o->source = xstrndup(p->text + start, p->pos - start);
    return 0;
}

/* An operator made of = ! < >, with a suggestion for the usual slips. */
static int lex_op(struct cparser *p, struct token *tok)
{
    static const struct {
        const char *text;
        enum cmp_op op;
    } ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT},
               {"<=", OP_LE}, {">", OP_GT},  {">=", OP_GE}};
    static const struct {
        const char *typo;
        const char *meant;
    } slips[] = {{"=", "=="},  {"===", "=="}, {"=<", "<="},  {"=>", ">="},
                 {"<>", "!="}, {"!", "!="},   {"!==", "!="}, {"=!", "!="}};
    size_t start = p->pos;
    while (is_op_char(p->text[p->pos]))
        p->pos++;
    size_t len = p->pos - start;
    const char *s = p->text + start;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strlen(ops[i].text) == len && !memcmp(ops[i].text, s, len)) {
            tok->kind = TOK_OP;
            tok->op = ops[i].op;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof(slips) / sizeof(slips[0]); i++)
        if (strlen(slips[i].typo) == len && !memcmp(slips[i].typo, s, len))
            return cerror(p, start, "unknown operator '%.*s' (did you mean '%s'?)", (int)len, s,
                          slips[i].meant);
    return cerror(p, start, "unknown operator '%.*s'", (int)(len > 10 ? 10 : len), s);
}

static bool read_number(const char *s, size_t len, bool *is_int);

/* Read the next token into p->tok, dropping an operand not taken. */
static int lex(struct cparser *p)
{
    struct token *tok = &p->tok;
    operand_release(&tok->operand);
    memset(tok, 0, sizeof(*tok));
    while (is_space(p->text[p->pos]))
        p->pos++;
    tok->off = p->pos;
    const char *s = p->text + p->pos;
    switch (s[0]) {
    case '\0':
        tok->kind = TOK_END;
        return 0;
    case '(':
        tok->kind = TOK_LPAREN;
        p->pos++;
        return 0;
    case ')':
        tok->kind = TOK_RPAREN;
        p->pos++;
        return 0;
    case '"':
    case '\'':
        tok->kind = TOK_OPERAND;
        return lex_string(p, &tok->operand);
    default:
        break;
    }
    if (is_op_char(s[0]))
        return lex_op(p, tok);
    if (s[0] == '{' && s[1] == '{') {
        size_t pos = p->pos;
        if (template_parse_expr_at(p->text, &pos, &tok->operand.tmpl, p->err, p->errlen) < 0)
            return -1;
        tok->operand.source = xstrndup(s, pos - p->pos);
        tok->kind = TOK_OPERAND;
        p->pos = pos;
        return 0;
    }

    /* a word: keyword, literal or bare string */
    size_t n = 0;
    while (s[n] && !is_space(s[n]) && s[n] != '(' && s[n] != ')' && s[n] != '"' && s[n] != '\'' &&
           !is_op_char(s[n]) && !(s[n] == '{' && s[n + 1] == '{'))
        n++;
    p->pos += n;
    if (word_is(s, n, "and")) {
        tok->kind = TOK_AND;
    } else if (word_is(s, n, "or")) {
        tok->kind = TOK_OR;
    } else if (word_is(s, n, "not")) {
        tok->kind = TOK_NOT;
    } else if (word_is(s, n, "contains")) {
        tok->kind = TOK_OP;
        tok->op = OP_CONTAINS;
    } else if (word_is(s, n, "matches")) {
        tok->kind = TOK_OP;
        tok->op = OP_MATCHES;
    } else {
        tok->kind = TOK_OPERAND;
        tok->bare_word = true;
        tok->operand.source = xstrndup(s, n);
        /* null renders as nothing, like a JSON null value */
        if (word_is(s, n, "true") || word_is(s, n, "false") || word_is(s, n, "null")) {
            tok->bare_word = false;
            tok->operand.text = xstrdup(word_is(s, n, "true")    ? "true"
                                        : word_is(s, n, "false") ? "false"
                                                                 : "");
        } else {
            bool is_int;
            tok->operand.text = xstrndup(s, n);
            /* a number is a value; any other word is refused by the parser
             * (it first looks for a misspelt operator) */
            tok->bare_word = !read_number(tok->operand.text, n, &is_int);
        }
        tok->operand.len = strlen(tok->operand.text);
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Parser                                                                    */
/* ------------------------------------------------------------------------- */

static int parse_or(struct cparser *p, struct node **out);

/* The roots a template path starts with, for the bare-word suggestion. */
static bool starts_with_root(const char *w)
{
    static const char *const roots[] = {"event", "trigger", "steps", "workflow", "run", "failure"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(w, roots[i], n) == 0 && (w[n] == '.' || w[n] == '\0'))
            return true;
    }
    return false;
}

/*
 * A bare word as an operand: neither a number, a quoted string, true, false
 * nor null. `event.total >= 20` compared the text "event.total" with 20 and
 * was always true, so a bare word is refused with what was probably meant.
 */
static int bare_word(struct cparser *p, const struct token *tok)
{
    const char *w = tok->operand.source;
    int n = (int)strnlen(w, 60);
    if (starts_with_root(w))
        return cerror(p, tok->off,
                      "'%.*s' is a bare word, not a value: write {{ %.*s }} to read it, or "
                      "\"%.*s\" for that text",
                      n, w, n, w, n, w);
    return cerror(p, tok->off,
                  "'%.*s' is a bare word, not a value: write \"%.*s\" for that text, or "
                  "{{ event.%.*s }} to read a field",
                  n, w, n, w, n, w);
}

static int expect_operand(struct cparser *p, struct operand *o)
{
    if (p->tok.kind != TOK_OPERAND)
        return cerror(p, p->tok.off, "expected an operand");
    if (p->tok.bare_word)
        return bare_word(p, &p->tok);
    *o = p->tok.operand;
    memset(&p->tok.operand, 0, sizeof(p->tok.operand));
    return lex(p);
}

/* After an operand, a word that is neither operator nor connective. */
static int not_an_operator(struct cparser *p, const struct operand *lhs)
{
    static const char *const words[] = {"contains", "matches", "and", "or", "not"};
    const struct token *tok = &p->tok;
    if (tok->kind == TOK_OPERAND && tok->bare_word) {
        const char *w = tok->operand.source;
        size_t len = strlen(w);
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            size_t limit = strlen(words[i]) > 3 ? 2 : 1;
            if (template_edit_distance(w, len, words[i], strlen(words[i])) <= limit)
                return cerror(p, tok->off, "unknown operator '%s' (did you mean '%s'?)", w,
                              words[i]);
        }
    }
    size_t n = strlen(lhs->source);
    return cerror(p, tok->off, "expected an operator after '%.*s%s'", (int)(n > 40 ? 40 : n),
                  lhs->source, n > 40 ? "..." : "");
}

static int parse_primary(struct cparser *p, struct node **out)
{
    if (p->tok.kind == TOK_LPAREN) {
        size_t open = p->tok.off;
        struct node *n = NULL;
        if (++p->depth > MAX_DEPTH)
            return cerror(p, open, "condition nested too deeply");
        if (lex(p) < 0 || parse_or(p, &n) < 0)
            return -1;
        p->depth--;
        if (p->tok.kind != TOK_RPAREN) {
            node_free(n);
            if (p->tok.kind == TOK_END)
                return cerror(p, open, "unbalanced parenthesis: '(' is not closed");
            return cerror(p, p->tok.off, "expected ')' or 'and'/'or'");
        }
        if (lex(p) < 0) {
            node_free(n);
            return -1;
        }
        *out = n;
        return 0;
    }

    struct node *n = node_new(NODE_TRUTH);
    if (expect_operand(p, &n->lhs) < 0)
        goto fail;
    if (p->tok.kind == TOK_OP) {
        n->kind = NODE_CMP;
        n->op = p->tok.op;
        if (lex(p) < 0 || expect_operand(p, &n->rhs) < 0)
            goto fail;
    } else if (p->tok.kind != TOK_END && p->tok.kind != TOK_RPAREN && p->tok.kind != TOK_AND &&
               p->tok.kind != TOK_OR) {
        not_an_operator(p, &n->lhs);
        goto fail;
    }
    *out = n;
    return 0;
fail:
    node_free(n);
    return -1;
}

static int parse_not(struct cparser *p, struct node **out)
{
    if (p->tok.kind != TOK_NOT)
        return parse_primary(p, out);
    size_t off = p->tok.off;
    struct node *kid = NULL;
    if (++p->depth > MAX_DEPTH)
        return cerror(p, off, "condition nested too deeply");
    if (lex(p) < 0 || parse_not(p, &kid) < 0)
        return -1;
    p->depth--;
    struct node *n = node_new(NODE_NOT);
    node_add(n, kid);
    *out = n;
    return 0;
}

/* and/or: a list of `sub` joined by the keyword `kw` */
static int parse_list(struct cparser *p, struct node **out, enum token_kind kw, enum node_kind kind,
                      int (*sub)(struct cparser *, struct node **))
{
    struct node *first = NULL, *n = NULL;
    if (sub(p, &first) < 0)
        return -1;
    if (p->tok.kind != kw) {
        *out = first;
        return 0;
    }
    n = node_new(kind);
    node_add(n, first);
    while (p->tok.kind == kw) {
        struct node *kid = NULL;
        if (lex(p) < 0 || sub(p, &kid) < 0) {
            node_free(n);
            return -1;
        }
        node_add(n, kid);
    }
    *out = n;
    return 0;
}

static int parse_and(struct cparser *p, struct node **out)
{
    return parse_list(p, out, TOK_AND, NODE_AND, parse_not);
}

static int parse_or(struct cparser *p, struct node **out)
{
    return parse_list(p, out, TOK_OR, NODE_OR, parse_and);
}

int condition_parse(const char *text, struct condition **out, char *err, size_t errlen)
{
    struct cparser p = {.text = text, .err = err, .errlen = errlen};
    struct node *root = NULL;
    int rc = -1;

    if (lex(&p) < 0)
        goto out;
    if (p.tok.kind == TOK_END) {
        if (err && errlen)
            snprintf(err, errlen, "empty condition");
        goto out;
    }
    if (parse_or(&p, &root) < 0)
        goto out;
    if (p.tok.kind == TOK_RPAREN) {
        cerror(&p, p.tok.off, "unbalanced parenthesis: unexpected ')'");
        goto out;
    }
    if (p.tok.kind != TOK_END) {
        cerror(&p, p.tok.off, "expected 'and', 'or' or the end of the condition");
        goto out;
    }
    struct condition *c = xcalloc(1, sizeof(*c));
    c->text = xstrdup(text);
    c->root = root;
    root = NULL;
    *out = c;
    rc = 0;
out:
    node_free(root);
    operand_release(&p.tok.operand);
    return rc;
}

void condition_free(struct condition *c)
{
    if (!c)
        return;
    node_free(c->root);
    free(c->text);
    free(c);
}

static void node_foreach_path(const struct node *n, void (*fn)(void *ctx, const char *path),
                              void *ctx)
{
    for (size_t i = 0; i < n->nkids; i++)
        node_foreach_path(n->kids[i], fn, ctx);
    if (n->lhs.tmpl)
        template_foreach_path(n->lhs.tmpl, fn, ctx);
    if (n->rhs.tmpl)
        template_foreach_path(n->rhs.tmpl, fn, ctx);
}

void condition_foreach_path(const struct condition *c, void (*fn)(void *ctx, const char *path),
                            void *ctx)
{
    node_foreach_path(c->root, fn, ctx);
}

/* ------------------------------------------------------------------------- */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------- */

struct opval {
    struct json_object *obj; /* the rendered value of a template (owned) */
    const char *text;        /* its text (into obj, buf or the literal) */
    size_t len;
    struct strbuf buf;
};

static int operand_eval(const struct operand *o, struct json_object *root, struct opval *v,
                        char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    strbuf_init(&v->buf);
    if (!o->tmpl) {
        v->text = o->text;
        v->len = o->len;
        return 0;
    }
    if (template_render_value(o->tmpl, root, &v->obj, err, errlen) < 0)
        return -1;
    v->text = template_value_str(v->obj, &v->buf, &v->len);
    return 0;
}

static void opval_release(struct opval *v)
{
    json_object_put(v->obj);
    strbuf_release(&v->buf);
}

/*
 * Whether s (len bytes, NUL-terminated) reads completely as a number:
 * [+-] digits [. digits] [e [+-] digits], or [+-] . digits [...].
 */
static bool read_number(const char *s, size_t len, bool *is_int)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    bool dot = false, expo = false;
    if (len == 0 || strlen(s) != len)
        return false;
    if (s[i] == '+' || s[i] == '-')
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        int_digits++;
    if (i < len && s[i] == '.') {
        dot = true;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        expo = true;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i == len || s[i] < '0' || s[i] > '9')
            return false;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    *is_int = !dot && !expo;
    return i == len;
}

/* <0, 0, >0: numerically when both sides are numbers, else bytewise. */
static int compare(const struct opval *a, const struct opval *b)
{
    bool aint, bint;
    if (read_number(a->text, a->len, &aint) && read_number(b->text, b->len, &bint)) {
        if (aint && bint) {
            errno = 0;
            long long x = strtoll(a->text, NULL, 10);
            long long y = strtoll(b->text, NULL, 10);
            if (errno == 0)
                return (x > y) - (x < y);
        }
        double x = strtod(a->text, NULL), y = strtod(b->text, NULL);
        return (x > y) - (x < y);
    }
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static bool contains(const struct opval *a, const struct opval *b)
{
    if (json_object_is_type(a->obj, json_type_array)) {
        struct strbuf scratch = STRBUF_INIT;
        size_t n = json_object_array_length(a->obj);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            size_t len;
            const char *s =
                template_value_str(json_object_array_get_idx(a->obj, i), &scratch, &len);
            found = len == b->len && !memcmp(s, b->text, len);
        }
        strbuf_release(&scratch);
        return found;
    }
    if (b->len == 0)
        return true;
    for (size_t i = 0; i + b->len <= a->len; i++)
        if (!memcmp(a->text + i, b->text, b->len))
            return true;
    return false;
}

/* Append at most 60 bytes of text, control characters shown as '?'. */
static void add_excerpt(struct strbuf *sb, const char *text, size_t len)
{
    enum { SHOWN = 60 };
    size_t n = len;
    if (n > SHOWN) {
        n = SHOWN;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        strbuf_addch(sb, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
    if (n < len)
        strbuf_addstr(sb, "\xe2\x80\xa6");
}

/* Append a value for a `why` message: numbers and JSON bare, text quoted. */
static void describe(struct strbuf *sb, const struct opval *v)
{
    bool is_int;
    bool quote = !read_number(v->text, v->len, &is_int) &&
                 !json_object_is_type(v->obj, json_type_array) &&
                 !json_object_is_type(v->obj, json_type_object);
    if (quote)
        strbuf_addch(sb, '"');
    add_excerpt(sb, v->text, v->len);
    if (quote)
        strbuf_addch(sb, '"');
}

static int eval_cmp(const struct node *n, struct json_object *root, bool *res, struct strbuf *why,
                    char *err, size_t errlen)
{
    struct opval a, b;
    if (operand_eval(&n->lhs, root, &a, err, errlen) < 0)
        return -1;
    if (operand_eval(&n->rhs, root, &b, err, errlen) < 0) {
        opval_release(&a);
        return -1;
    }
    bool r = false;
    bool a_int, b_int;
    bool ordering = n->op == OP_LT || n->op == OP_LE || n->op == OP_GT || n->op == OP_GE;
    if (ordering && read_number(a.text, a.len, &a_int) != read_number(b.text, b.len, &b_int)) {
        /* "abc" >= 50, "9 " >= 50, [] >= 50: text order would decide, and
         * that answer means nothing; the run stops here instead */
        struct strbuf msg = STRBUF_INIT;
        strbuf_addstr(&msg, "cannot order ");
        describe(&msg, &a);
        strbuf_addf(&msg, " %s ", op_names[n->op]);
        describe(&msg, &b);
        strbuf_addstr(&msg, ": one side is a number and the other is not");
        if (err && errlen)
            snprintf(err, errlen, "%s", strbuf_str(&msg));
        strbuf_release(&msg);
        opval_release(&a);
        opval_release(&b);
        return -1;
    }
    switch (n->op) {
    case OP_EQ:
        r = compare(&a, &b) == 0;
        break;
    case OP_NE:
        r = compare(&a, &b) != 0;
        break;
    case OP_LT:
        r = compare(&a, &b) < 0;
        break;
    case OP_LE:
        r = compare(&a, &b) <= 0;
        break;
    case OP_GT:
        r = compare(&a, &b) > 0;
        break;
    case OP_GE:
        r = compare(&a, &b) >= 0;
        break;
    case OP_CONTAINS:
        r = contains(&a, &b);
        break;
    case OP_MATCHES:
        r = fnmatch(b.text, a.text, 0) == 0;
        break;
    }
    if (why) {
        describe(why, &a);
        strbuf_addf(why, " %s ", op_names[n->op]);
        describe(why, &b);
        strbuf_addstr(why, r ? " is true" : " is false");
    }
    opval_release(&a);
    opval_release(&b);
    *res = r;
    return 0;
}

static int eval_truth(const struct node *n, struct json_object *root, bool *res, struct strbuf *why,
                      char *err, size_t errlen)
{
    struct opval a;
    if (operand_eval(&n->lhs, root, &a, err, errlen) < 0)
        return -1;
    static const char *const falsy[] = {"", "false", "0", "null"};
    bool r = true;
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++)
        if (a.len == strlen(falsy[i]) && !memcmp(a.text, falsy[i], a.len))
            r = false;
    if (why) {
        strbuf_addf(why, "%s renders \"", n->lhs.source);
        add_excerpt(why, a.text, a.len);
        strbuf_addch(why, '"');
    }
    opval_release(&a);
    *res = r;
    return 0;
}

/*
 * Evaluate n. *res is its value; when why is not NULL it receives a short
 * explanation of that value (true or false). Short-circuits: the parts of
 * and/or after the deciding one are not evaluated.
 */
static int eval_node(const struct node *n, struct json_object *root, bool *res, struct strbuf *why,
                     char *err, size_t errlen)
{
    switch (n->kind) {
    case NODE_CMP:
        return eval_cmp(n, root, res, why, err, errlen);
    case NODE_TRUTH:
        return eval_truth(n, root, res, why, err, errlen);
    case NODE_NOT: {
        bool r;
        if (why)
            strbuf_addstr(why, "not: ");
        if (eval_node(n->kids[0], root, &r, why, err, errlen) < 0)
            return -1;
        *res = !r;
        return 0;
    }
    case NODE_AND:
    case NODE_OR: {
        /* and stops at the first false part, or at the first true one */
        bool stop_on = n->kind == NODE_OR;
        struct strbuf part = STRBUF_INIT, first = STRBUF_INIT;
        bool r = !stop_on;
        int rc = 0;
        for (size_t i = 0; i < n->nkids; i++) {
            strbuf_reset(&part);
            if (eval_node(n->kids[i], root, &r, why ? &part : NULL, err, errlen) < 0) {
                rc = -1;
                break;
            }
            if (i == 0 && why)
                strbuf_add(&first, strbuf_str(&part), part.len);
            if (r == stop_on)
                break;
        }
        if (rc == 0 && why) {
            /* the deciding part; for a false or: the first of them */
            const struct strbuf *shown = (n->kind == NODE_OR && !r) ? &first : &part;
            strbuf_add(why, strbuf_str(shown), shown->len);
        }
        strbuf_release(&part);
        strbuf_release(&first);
        if (rc == 0)
            *res = r;
        return rc;
    }
    }
    return -1;
}

int condition_eval(const struct condition *c, struct json_object *root, bool *result, char *why,
                   size_t whylen, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    bool r;
    bool want_why = why && whylen > 0;
    if (eval_node(c->root, root, &r, want_why ? &sb : NULL, err, errlen) < 0) {
        strbuf_release(&sb);
        return -1;
    }
    if (want_why) {
        size_t n = r ? 0 : sb.len;
        if (n >= whylen) {
            /* cut at a character boundary */
            n = whylen - 1;
            while (n > 0 && ((unsigned char)sb.buf[n] & 0xc0) == 0x80)
                n--;
        }
        if (n)
            memcpy(why, sb.buf, n);
        why[n] = '\0';
    }
    strbuf_release(&sb);
    *result = r;
    return 0;
}
