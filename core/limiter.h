/*
 * Rate and concurrency limits declared by actions (struct sb_limit), kept
 * per rendered key: a token bucket for the rate, a counter for the calls in
 * progress. Keys are stored hashed, since they may hold a credential.
 * Thread-safe.
 */
#ifndef SB_LIMITER_H
#define SB_LIMITER_H

#include <stdint.h>

#include <switchboard/plugin.h>

struct limiter;

struct limiter *limiter_new(void);
void limiter_free(struct limiter *l);

/* Take a slot for `key` under `lim`. Returns 0 when taken (release it with
 * limiter_release after the call), else how many ms to wait before trying
 * again. */
int64_t limiter_acquire(struct limiter *l, const char *key, const struct sb_limit *lim,
                        int64_t now_ms);
void limiter_release(struct limiter *l, const char *key, const struct sb_limit *lim);

#endif
