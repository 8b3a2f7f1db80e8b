/*
 * The inih wrapper. inih drives the parse: our reader hands it one
 * physical line per call and keeps that line's number and its full text.
 * Lines that Debian's inih would cut (200 bytes, or names past 49 bytes)
 * reach inih as a short stand-in line, and the handler takes the real
 * section, key or value from the reader's copy, split by the same rules
 * inih uses. Lines that inih would reject are reported by the reader (so
 * every error of a file is found, not only the first) and handed to inih
 * as blank lines.
 */
#include "inifile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Debian's inih limits (INI_MAX_LINE, MAX_SECTION, MAX_NAME). */
#define INIH_MAX_LINE 200
#define INIH_MAX_NAME 50

/* Stand-in marker for text too long for inih. */
#define LONG_MARK "\x01"

struct reader {
    struct ini_doc *doc;
    struct diag *diag;
    const char *text; /* whole file */
    size_t pos;
    size_t len;
    int lineno;
    char *full;        /* the current physical line, without newline */
    int continuation;  /* current line is a continuation of prev key */
    int have_prev_key; /* a key was seen since the last section header */
    size_t prev_entry; /* entry that continuation lines extend */
    size_t cur_section;
    int errors;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cut an inline comment: ';' preceded by whitespace (inih's rule). */
static void cut_inline_comment(char *s)
{
    int was_space = 0;
    for (char *p = s; *p; p++) {
        if (was_space && *p == ';') {
            *p = '\0';
            return;
        }
        was_space = is_space(*p);
    }
}

/* First '=' or ':' not inside an inline comment, or NULL (inih's rule). */
static char *find_delimiter(char *s)
{
    int was_space = 0;
    for (char *p = s; *p; p++) {
        if (*p == '=' || *p == ':')
            return p;
        if (was_space && *p == ';')
            return NULL;
        was_space = is_space(*p);
    }
    return NULL;
}

static size_t add_section(struct ini_doc *doc, const char *name, int line)
{
    XGROW(doc->sections, doc->cap_sections, doc->n_sections + 1);
    doc->sections[doc->n_sections].name = xstrdup(name);
    doc->sections[doc->n_sections].line = line;
    return doc->n_sections++;
}

static void add_entry(struct reader *r, const char *key, const char *value)
{
    struct ini_doc *doc = r->doc;
    XGROW(doc->entries, doc->cap_entries, doc->n_entries + 1);
    struct ini_entry *e = &doc->entries[doc->n_entries];
    e->section = r->cur_section;
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    e->line = r->lineno;
    r->prev_entry = doc->n_entries++;
    r->have_prev_key = 1;
}

/*
 * Classify the physical line in r->full, record sections and syntax errors,
 * and write into buf what inih should see (at most size-1 bytes).
 */
static void prepare_line(struct reader *r, char *buf, size_t size)
{
    char *copy = xstrdup(r->full);
    char *start = copy;
    if (r->lineno == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
        (unsigned char)start[2] == 0xBF)
        start += 3;
    int indented = is_space(*start);
    char *s = trim(start);
    r->continuation = 0;
    buf[0] = '\0';

    if (*s == '\0' || *s == ';' || *s == '#') {
        /* blank or comment: inih ignores it too */
    } else if (r->have_prev_key && indented) {
        r->continuation = 1;
    } else if (*s == '[') {
        char *end = strchr(s + 1, ']');
        if (!end) {
            diag_error(r->diag, r->doc->path, r->lineno, NULL, NULL,
                       "section header '%s' has no closing ']'", s);
            r->errors++;
            free(copy);
            return;
        }
        *end = '\0';
        char *name = trim(s + 1);
        char *rest = trim(end + 1);
        if (*rest && *rest != ';' && *rest != '#') {
            diag_error(r->diag, r->doc->path, r->lineno, NULL, NULL,
                       "unexpected text '%s' after section header [%s]", rest, name);
            r->errors++;
        }
        r->cur_section = add_section(r->doc, name, r->lineno);
        r->have_prev_key = 0;
    } else if (!find_delimiter(s)) {
        diag_error(r->diag, r->doc->path, r->lineno,
                   r->doc->sections[r->cur_section].name[0] ? r->doc->sections[r->cur_section].name
                                                            : NULL,
                   NULL, "expected 'key = value', found '%s'", s);
        r->errors++;
        r->have_prev_key = 0;
        free(copy);
        return;
    }

    /* Hand inih the line as it is when it fits its buffers; a stand-in
     * otherwise (the handler reads the real text from r->full). */
    size_t len = strlen(r->full);
    int fits = len + 2 < size && len + 2 < INIH_MAX_LINE;
    if (fits && *s == '[') {
        fits = strlen(r->doc->sections[r->cur_section].name) < INIH_MAX_NAME;
    } else if (fits && *s && *s != ';' && *s != '#' && !r->continuation) {
        char *d = find_delimiter(s);
        fits = d && (size_t)(d - s) < INIH_MAX_NAME - 1;
    }
    if (fits) {
        snprintf(buf, size, "%s\n", r->full);
    } else if (*s == '[') {
        snprintf(buf, size, "[" LONG_MARK "]\n");
    } else if (r->continuation) {
        snprintf(buf, size, "  " LONG_MARK "\n");
    } else if (*s && *s != ';' && *s != '#') {
        snprintf(buf, size, LONG_MARK " = " LONG_MARK "\n");
    } else {
        snprintf(buf, size, "\n");
    }
    free(copy);
}

/* inih's reader: one physical line per call, like fgets. */
static char *reader_next(char *buf, int num, void *stream)
{
    struct reader *r = stream;
    if (r->pos >= r->len || num < 8)
        return NULL;
    const char *line = r->text + r->pos;
    const char *nl = memchr(line, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - line) : r->len - r->pos;
    r->pos += n + (nl ? 1 : 0);
    free(r->full);
    r->full = xstrndup(line, n);
    if (n > 0 && r->full[n - 1] == '\r')
        r->full[n - 1] = '\0';
    r->lineno++;
    prepare_line(r, buf, (size_t)num);
    return buf;
}

/* inih's handler: takes section, key and value from the reader's copy of the
 * current line, which is never cut. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    (void)section;
    (void)name;
    (void)value;
    char *copy = xstrdup(r->full);
    char *s = trim(copy);
    if (r->lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3;
    if (r->continuation) {
        cut_inline_comment(s);
        s = trim(s);
        struct ini_entry *e = &r->doc->entries[r->prev_entry];
        char *joined = xasprintf("%s%s%s", e->value, e->value[0] ? "\n" : "", s);
        free(e->value);
        e->value = joined;
    } else {
        char *d = find_delimiter(s);
        if (!d) { /* cannot happen: prepare_line reported such lines */
            free(copy);
            return 0;
        }
        *d = '\0';
        char *val = d + 1;
        cut_inline_comment(val);
        add_entry(r, trim(s), trim(val));
    }
    free(copy);
    return 1;
}

static int parse(struct ini_doc *doc, const char *name, const char *text, size_t len,
                 struct diag *diag)
{
    memset(doc, 0, sizeof(*doc));
    doc->path = xstrdup(name);
    add_section(doc, "", 0);
    struct reader r = {
        .doc = doc,
        .diag = diag,
        .text = text,
        .len = len,
        .cur_section = 0,
    };
    int rc = ini_parse_stream(reader_next, &r, handler, &r);
    free(r.full);
    if (rc > 0 && r.errors == 0) {
        diag_error(diag, doc->path, rc, NULL, NULL, "cannot parse this line");
        r.errors++;
    } else if (rc < 0) {
        diag_error(diag, doc->path, 0, NULL, NULL, "cannot parse the file (error %d)", rc);
        r.errors++;
    }
    return r.errors ? -1 : 0;
}

int ini_doc_load_string(struct ini_doc *doc, const char *name, const char *text, struct diag *diag)
{
    return parse(doc, name, text, strlen(text), diag);
}

int ini_doc_load(struct ini_doc *doc, const char *path, struct diag *diag)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        memset(doc, 0, sizeof(*doc));
        doc->path = xstrdup(path);
        diag_error(diag, path, 0, NULL, NULL, "cannot open: %s", msg);
        return -1;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        XGROW(text, cap, len + n + 1);
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!text)
        text = xstrdup("");
    text[len] = '\0';
    if (memchr(text, '\0', len)) {
        memset(doc, 0, sizeof(*doc));
        doc->path = xstrdup(path);
        diag_error(diag, path, 0, NULL, NULL, "not a text file (contains a NUL byte)");
        free(text);
        return -1;
    }
    int rc = parse(doc, path, text, len, diag);
    free(text);
    return rc;
}

void ini_doc_release(struct ini_doc *doc)
{
    for (size_t i = 0; i < doc->n_sections; i++)
        free(doc->sections[i].name);
    for (size_t i = 0; i < doc->n_entries; i++) {
        free(doc->entries[i].key);
        free(doc->entries[i].value);
    }
    free(doc->sections);
    free(doc->entries);
    free(doc->path);
    memset(doc, 0, sizeof(*doc));
}
