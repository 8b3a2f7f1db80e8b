/*
 * Diagnostics for configuration and workflow files: every problem found in
 * one pass, printed as "file:line: [section] key: message", sorted by file
 * and line.
 */
#ifndef SB_DIAG_H
#define SB_DIAG_H

#include <stdio.h>

struct diag_item {
    char *file;    /* may be NULL */
    int line;      /* 0 when not tied to a line */
    char *section; /* may be NULL */
    char *key;     /* may be NULL */
    char *message;
    int warning; /* 1: a warning, does not fail `check` */
};

struct diag {
    struct diag_item *items;
    size_t n;
    size_t cap;
    size_t errors;
};

void diag_init(struct diag *d);
void diag_release(struct diag *d);
/* Record an error. file, section and key are copied and may be NULL. */
void diag_error(struct diag *d, const char *file, int line, const char *section, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_warning(struct diag *d, const char *file, int line, const char *section, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Move every item of src to the end of dst; src is empty afterwards. */
void diag_take(struct diag *dst, struct diag *src);
/* Print every item, sorted by file then line, one per line. */
void diag_print(struct diag *d, FILE *out);
/* Format one item as text (caller owns). */
char *diag_format(const struct diag_item *it);

#endif
