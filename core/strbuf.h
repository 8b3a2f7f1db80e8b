/*
 * A growable NUL-terminated byte string. strbuf_init fills caller storage;
 * strbuf_release frees the contents; strbuf_detach hands the string over.
 */
#ifndef SB_STRBUF_H
#define SB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
    char *buf; /* always NUL-terminated once initialised */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* The string; the caller owns it and sb is empty again. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append s as the contents of a JSON string (without the quotes). */
void strbuf_add_json_escaped(struct strbuf *sb, const char *s, size_t len);
/* Always returns a valid C string ("" before anything was added). */
const char *strbuf_str(const struct strbuf *sb);

#endif
