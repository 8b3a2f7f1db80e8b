/*
 * The token cache: a small array of entries under one mutex. Lookups are
 * linear: a plugin caches a handful of tokens (one per set of credentials),
 * and TOKENS_MAX bounds the worst case.
 */
#include "tokens.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct token_entry {
    char *key;
    char *value;
    int64_t expires_at_ms; /* 0: none */
    uint64_t seq;          /* when it was set: the smallest goes first */
};

struct token_cache {
    pthread_mutex_t lock;
    struct token_entry items[TOKENS_MAX];
    size_t n;
    uint64_t seq;
};

struct token_cache *token_cache_new(void)
{
    struct token_cache *tc = xcalloc(1, sizeof(*tc));
    pthread_mutex_init(&tc->lock, NULL);
    return tc;
}

/* Wipe a value before freeing it: it is a credential. */
static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

static void entry_release(struct token_entry *e)
{
    free(e->key);
    wipe_free(e->value);
    memset(e, 0, sizeof(*e));
}

/* Remove entry i (the last one takes its place). */
static void remove_at(struct token_cache *tc, size_t i)
{
    entry_release(&tc->items[i]);
    if (i != tc->n - 1)
        tc->items[i] = tc->items[tc->n - 1];
    memset(&tc->items[tc->n - 1], 0, sizeof(tc->items[0]));
    tc->n--;
}

void token_cache_free(struct token_cache *tc)
{
    if (!tc)
        return;
    for (size_t i = 0; i < tc->n; i++)
        entry_release(&tc->items[i]);
    pthread_mutex_destroy(&tc->lock);
    free(tc);
}

static bool expired(const struct token_entry *e, int64_t now_ms)
{
    return e->expires_at_ms != 0 && e->expires_at_ms <= now_ms;
}

static struct token_entry *find(struct token_cache *tc, const char *key, size_t *at)
{
    for (size_t i = 0; i < tc->n; i++) {
        if (strcmp(tc->items[i].key, key) == 0) {
            if (at)
                *at = i;
            return &tc->items[i];
        }
    }
    return NULL;
}

int token_cache_get(struct token_cache *tc, const char *key, int64_t now_ms, char **value,
                    int64_t *expires_at_ms)
{
    *value = NULL;
    if (expires_at_ms)
        *expires_at_ms = 0;
    if (!tc || !key)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&tc->lock);
    size_t at;
    struct token_entry *e = find(tc, key, &at);
    if (e && expired(e, now_ms)) {
        remove_at(tc, at);
    } else if (e) {
        /* plugins must not kill the daemon: out of memory is their -1 */
        *value = strdup(e->value);
        if (!*value)
            rc = -1;
        else if (expires_at_ms)
            *expires_at_ms = e->expires_at_ms;
    }
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

int token_cache_set(struct token_cache *tc, const char *key, const char *value,
                    int64_t expires_at_ms, int64_t now_ms)
{
    if (!tc || !key || !value || strlen(key) > TOKENS_MAX_KEY || strlen(value) > TOKENS_MAX_VALUE ||
        expires_at_ms < 0)
        return -1;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        wipe_free(v);
        return -1;
    }
    pthread_mutex_lock(&tc->lock);
    struct token_entry *e = find(tc, key, NULL);
    if (!e) {
        for (size_t i = tc->n; i-- > 0;)
            if (expired(&tc->items[i], now_ms))
                remove_at(tc, i);
        if (tc->n == TOKENS_MAX) {
            size_t oldest = 0;
            for (size_t i = 1; i < tc->n; i++)
                if (tc->items[i].seq < tc->items[oldest].seq)
                    oldest = i;
            remove_at(tc, oldest);
        }
        e = &tc->items[tc->n++];
    }
    entry_release(e);
    e->key = k;
    e->value = v;
    e->expires_at_ms = expires_at_ms;
    e->seq = ++tc->seq;
    pthread_mutex_unlock(&tc->lock);
    return 0;
}

void token_cache_invalidate(struct token_cache *tc, const char *key, const char *value)
{
    if (!tc || !key)
        return;
    pthread_mutex_lock(&tc->lock);
    size_t at;
    struct token_entry *e = find(tc, key, &at);
    if (e && (!value || strcmp(e->value, value) == 0))
        remove_at(tc, at);
    pthread_mutex_unlock(&tc->lock);
}

size_t token_cache_count(struct token_cache *tc)
{
    pthread_mutex_lock(&tc->lock);
    size_t n = tc->n;
    pthread_mutex_unlock(&tc->lock);
    return n;
}
