#include "limiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "xalloc.h"

#define BUCKETS 256
/* how long to wait for a concurrency slot before looking again */
#define SLOT_POLL_MS 50

struct entry {
    char hash[65];
    double tokens;
    int64_t refilled_at;
    uint32_t in_use;
    struct entry *next;
};

struct limiter {
    pthread_mutex_t lock;
    struct entry *buckets[BUCKETS];
};

struct limiter *limiter_new(void)
{
    struct limiter *l = xcalloc(1, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void limiter_free(struct limiter *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct entry *e = l->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The entry of a key (created full); call with the lock held. */
static struct entry *find(struct limiter *l, const char *key, const struct sb_limit *lim,
                          int64_t now)
{
    char hash[65];
    crypto_sha256_hex(key, strlen(key), hash);
    unsigned idx = (unsigned)strtoul((char[3]){hash[0], hash[1], 0}, NULL, 16) % BUCKETS;
    for (struct entry *e = l->buckets[idx]; e; e = e->next)
        if (strcmp(e->hash, hash) == 0)
            return e;
    struct entry *e = xcalloc(1, sizeof(*e));
    memcpy(e->hash, hash, sizeof(hash));
    e->tokens = lim->burst ? lim->burst : lim->rate;
    e->refilled_at = now;
    e->next = l->buckets[idx];
    l->buckets[idx] = e;
    return e;
}

int64_t limiter_acquire(struct limiter *l, const char *key, const struct sb_limit *lim,
                        int64_t now_ms)
{
    pthread_mutex_lock(&l->lock);
    struct entry *e = find(l, key, lim, now_ms);
    int64_t wait = 0;
    if (lim->concurrency && e->in_use >= lim->concurrency) {
        wait = SLOT_POLL_MS;
        goto out;
    }
    if (lim->rate && lim->per_ms) {
        double cap = lim->burst ? lim->burst : lim->rate;
        double per_token = (double)lim->per_ms / lim->rate;
        if (now_ms > e->refilled_at) {
            e->tokens += (double)(now_ms - e->refilled_at) / per_token;
            if (e->tokens > cap)
                e->tokens = cap;
            e->refilled_at = now_ms;
        }
        if (e->tokens < 1.0) {
            wait = (int64_t)((1.0 - e->tokens) * per_token) + 1;
            goto out;
        }
        e->tokens -= 1.0;
    }
    e->in_use++;
out:
    pthread_mutex_unlock(&l->lock);
    return wait;
}

void limiter_release(struct limiter *l, const char *key, const struct sb_limit *lim)
{
    pthread_mutex_lock(&l->lock);
    struct entry *e = find(l, key, lim, 0);
    if (e->in_use)
        e->in_use--;
    pthread_mutex_unlock(&l->lock);
}
