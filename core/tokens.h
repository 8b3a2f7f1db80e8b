/*
 * A plugin's token cache (sb->token_get, token_set, token_invalidate):
 * short-lived values such as OAuth access tokens, kept in memory only,
 * shared by every thread of the engine and locked here. One per loaded
 * plugin, so plugins never see each other's entries.
 */
#ifndef SB_TOKENS_H
#define SB_TOKENS_H

#include <stddef.h>
#include <stdint.h>

/* Entries one cache holds at most; setting a new key beyond it drops the
 * expired entries, then the least recently set one. */
#define TOKENS_MAX 256
/* Longest key and value accepted, in bytes. */
#define TOKENS_MAX_KEY 1024
#define TOKENS_MAX_VALUE 65536

struct token_cache;

/* A new empty cache (aborts on out of memory, as the daemon does). */
struct token_cache *token_cache_new(void);
/* Free it and wipe every value; NULL is fine. */
void token_cache_free(struct token_cache *tc);

/*
 * *value: a copy of the value of `key` (caller frees), or NULL when it is
 * absent or expired at now_ms; *expires_at_ms (may be NULL) its expiry, 0
 * for none. Returns 0, or -1 when memory ran out.
 */
int token_cache_get(struct token_cache *tc, const char *key, int64_t now_ms, char **value,
                    int64_t *expires_at_ms);
/* Keep `value` for `key` until expires_at_ms (0: until invalidated),
 * replacing what it held. 0, or -1 for a key or value that is too long. */
int token_cache_set(struct token_cache *tc, const char *key, const char *value,
                    int64_t expires_at_ms, int64_t now_ms);
/* Forget `key`, only while it holds `value` (NULL: whatever it holds). */
void token_cache_invalidate(struct token_cache *tc, const char *key, const char *value);
/* How many entries it holds (tests). */
size_t token_cache_count(struct token_cache *tc);

#endif
