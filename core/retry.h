/* When to try a failed step again. */
#ifndef SB_RETRY_H
#define SB_RETRY_H

#include <stddef.h>
#include <stdint.h>

/* The default schedule: immediately, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h,
 * 3 h, 6 h, 12 h (so 10 retries). */
extern const int64_t retry_default_ms[10];
#define RETRY_DEFAULT_COUNT 10
/* A Retry-After is honoured up to this long. */
#define RETRY_AFTER_MAX_MS (24LL * 3600 * 1000)

/*
 * The delay before retry number `n` (1 for the first retry): the n-th entry
 * of `backoff` (the last one repeats), or of the default schedule when
 * backoff is NULL; then jitter of +-20% (`jitter` in [0, 1) picks where in
 * that range, 0.5 is none); never earlier than retry_after_s when that is
 * >= 0 (capped at RETRY_AFTER_MAX_MS).
 */
int64_t retry_delay_ms(const int64_t *backoff, size_t n_backoff, int n, int64_t retry_after_s,
                       double jitter);

#endif
