#include "suggest.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

size_t suggest_distance(const char *a, const char *b)
{
    /* optimal string alignment: insertions, deletions, substitutions and
     * swaps of neighbours each cost 1 ("txet" is one edit from "text") */
    size_t la = strlen(a), lb = strlen(b);
    size_t w = lb + 1;
    size_t *d = xcalloc((la + 1) * w, sizeof(*d));
    for (size_t i = 0; i <= la; i++)
        d[i * w] = i;
    for (size_t j = 0; j <= lb; j++)
        d[j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[(i - 1) * w + j - 1] + cost;
            if (d[(i - 1) * w + j] + 1 < best)
                best = d[(i - 1) * w + j] + 1;
            if (d[i * w + j - 1] + 1 < best)
                best = d[i * w + j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[(i - 2) * w + j - 2] + 1 < best)
                best = d[(i - 2) * w + j - 2] + 1;
            d[i * w + j] = best;
        }
    }
    size_t result = d[la * w + lb];
    free(d);
    return result;
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) <= 4 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = suggest_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best && best_d <= limit)
        return best;
    /* a unique candidate that starts with what was typed */
    const char *prefix = NULL;
    size_t wl = strlen(word);
    if (wl < 3)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(candidates[i], word, wl) == 0) {
            if (prefix)
                return NULL;
            prefix = candidates[i];
        }
    }
    return prefix;
}
