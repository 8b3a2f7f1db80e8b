/*
 * Allocation that cannot fail: the daemon aborts with a message when memory
 * runs out (plugins must not use these; they return SB_FAIL instead).
 */
#ifndef SB_XALLOC_H
#define SB_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow *ptr (an array of *cap elements of `size` bytes) to hold `need`. */
void xgrow(void **ptr, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string formatted like printf. Caller owns. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#define XGROW(ptr, cap, need) xgrow((void **)&(ptr), &(cap), (need), sizeof(*(ptr)))

#endif
