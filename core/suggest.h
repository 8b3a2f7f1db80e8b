/* "Did you mean ...?" for names typed by users. */
#ifndef SB_SUGGEST_H
#define SB_SUGGEST_H

#include <stddef.h>

/* Edit distance between a and b (Levenshtein, bytes). */
size_t suggest_distance(const char *a, const char *b);
/*
 * The candidate closest to `word` when it is close enough to be a likely
 * typo (distance at most 2, or 1 for short words, or `word` is a prefix of
 * exactly one candidate), else NULL. Borrowed from candidates.
 */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

#endif
