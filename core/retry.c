#include "retry.h"

const int64_t retry_default_ms[10] = {
    0, 5000, 30000, 120000, 600000, 1800000, 3600000, 10800000, 21600000, 43200000,
};

int64_t retry_delay_ms(const int64_t *backoff, size_t n_backoff, int n, int64_t retry_after_s,
                       double jitter)
{
    if (!backoff || n_backoff == 0) {
        backoff = retry_default_ms;
        n_backoff = RETRY_DEFAULT_COUNT;
    }
    size_t i = n < 1 ? 0 : (size_t)(n - 1);
    if (i >= n_backoff)
        i = n_backoff - 1;
    double base = (double)backoff[i];
    if (jitter < 0)
        jitter = 0;
    if (jitter > 1)
        jitter = 1;
    int64_t delay = (int64_t)(base * (0.8 + 0.4 * jitter));
    if (retry_after_s >= 0) {
        /* a server's Retry-After can be any number: cap before scaling */
        int64_t after =
            retry_after_s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : retry_after_s * 1000;
        if (after > delay)
            delay = after;
    }
    return delay;
}
