#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

void diag_init(struct diag *d)
{
    memset(d, 0, sizeof(*d));
}

void diag_release(struct diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].section);
        free(d->items[i].key);
        free(d->items[i].message);
    }
    free(d->items);
    diag_init(d);
}

static void diag_vadd(struct diag *d, int warning, const char *file, int line, const char *section,
                      const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static void diag_vadd(struct diag *d, int warning, const char *file, int line, const char *section,
                      const char *key, const char *fmt, va_list ap)
{
    XGROW(d->items, d->cap, d->n + 1);
    struct diag_item *it = &d->items[d->n++];
    it->file = file ? xstrdup(file) : NULL;
    it->line = line;
    it->section = section ? xstrdup(section) : NULL;
    it->key = key ? xstrdup(key) : NULL;
    it->message = xvasprintf(fmt, ap);
    it->warning = warning;
    if (!warning)
        d->errors++;
}

void diag_error(struct diag *d, const char *file, int line, const char *section, const char *key,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, 0, file, line, section, key, fmt, ap);
    va_end(ap);
}

void diag_warning(struct diag *d, const char *file, int line, const char *section, const char *key,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, 1, file, line, section, key, fmt, ap);
    va_end(ap);
}

void diag_take(struct diag *dst, struct diag *src)
{
    XGROW(dst->items, dst->cap, dst->n + src->n);
    if (src->n)
        memcpy(dst->items + dst->n, src->items, src->n * sizeof(*src->items));
    dst->n += src->n;
    dst->errors += src->errors;
    free(src->items);
    diag_init(src);
}

/* Order by file, then line; equal positions compare equal. */
static int item_cmp(const struct diag_item *x, const struct diag_item *y)
{
    int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
    if (c)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

char *diag_format(const struct diag_item *it)
{
    struct strbuf sb = STRBUF_INIT;
    if (it->file) {
        strbuf_addstr(&sb, it->file);
        if (it->line > 0)
            strbuf_addf(&sb, ":%d", it->line);
        strbuf_addstr(&sb, ": ");
    }
    if (it->warning)
        strbuf_addstr(&sb, "warning: ");
    if (it->section)
        strbuf_addf(&sb, "[%s] ", it->section);
    if (it->key)
        strbuf_addf(&sb, "%s: ", it->key);
    strbuf_addstr(&sb, it->message);
    /* a message may quote a value that came from a secret reference */
    size_t cap = sb.len * 2 + 16;
    char *out = xmalloc(cap);
    log_redact(strbuf_str(&sb), out, cap);
    strbuf_release(&sb);
    return out;
}

void diag_print(struct diag *d, FILE *out)
{
    /* a stable insertion sort of pointers: lists are short, and items found
     * at one position keep the order they were found in */
    const struct diag_item **order = xcalloc(d->n, sizeof(*order));
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_item *v = &d->items[i];
        size_t j = i;
        while (j > 0 && item_cmp(order[j - 1], v) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    for (size_t i = 0; i < d->n; i++) {
        char *s = diag_format(order[i]);
        fprintf(out, "%s\n", s);
        free(s);
    }
    free(order);
}
