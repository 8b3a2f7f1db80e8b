/* Rate and concurrency limits (core/limiter.h) and the retry schedule
 * (core/retry.h). Time is passed in, so every case is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "limiter.h"
#include "retry.h"

#define T0 1700000000000LL

static void test_bucket_one_per_second(void **state)
{
    (void)state;
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k", .rate = 1, .per_ms = 1000, .burst = 1};
    assert_int_equal(limiter_acquire(l, "k", &lim, T0), 0);
    limiter_release(l, "k", &lim);
    /* the bucket is empty: about a second to wait */
    int64_t wait = limiter_acquire(l, "k", &lim, T0);
    assert_true(wait >= 999 && wait <= 1001);
    /* half way there: about half a second left */
    wait = limiter_acquire(l, "k", &lim, T0 + 500);
    assert_true(wait >= 499 && wait <= 501);
    /* one second after the first: a token again, and only one */
    assert_int_equal(limiter_acquire(l, "k", &lim, T0 + 1000), 0);
    limiter_release(l, "k", &lim);
    wait = limiter_acquire(l, "k", &lim, T0 + 1000);
    assert_true(wait >= 999 && wait <= 1001);
    limiter_free(l);
}

static void test_bucket_burst(void **state)
{
    (void)state;
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k", .rate = 1, .per_ms = 1000, .burst = 3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(limiter_acquire(l, "b", &lim, T0), 0);
        limiter_release(l, "b", &lim);
    }
    int64_t wait = limiter_acquire(l, "b", &lim, T0);
    assert_true(wait >= 999 && wait <= 1001);
    /* a long idle time refills up to the burst, not beyond */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(limiter_acquire(l, "b", &lim, T0 + 60000), 0);
        limiter_release(l, "b", &lim);
    }
    wait = limiter_acquire(l, "b", &lim, T0 + 60000);
    assert_true(wait >= 999 && wait <= 1001);
    /* 1.5 s later: one token and a half, so one call and ~500 ms to wait */
    assert_int_equal(limiter_acquire(l, "b", &lim, T0 + 61500), 0);
    limiter_release(l, "b", &lim);
    wait = limiter_acquire(l, "b", &lim, T0 + 61500);
    assert_true(wait >= 499 && wait <= 501);
    limiter_free(l);
}

static void test_bucket_rate_without_burst(void **state)
{
    (void)state;
    /* burst 0 means burst = rate: 5 per second, 200 ms per token */
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k", .rate = 5, .per_ms = 1000};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(limiter_acquire(l, "r", &lim, T0), 0);
        limiter_release(l, "r", &lim);
    }
    int64_t wait = limiter_acquire(l, "r", &lim, T0);
    assert_true(wait >= 199 && wait <= 201);
    assert_int_equal(limiter_acquire(l, "r", &lim, T0 + 200), 0);
    limiter_release(l, "r", &lim);
    limiter_free(l);
}

static void test_concurrency_cap(void **state)
{
    (void)state;
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k", .concurrency = 2};
    assert_int_equal(limiter_acquire(l, "c", &lim, T0), 0);
    assert_int_equal(limiter_acquire(l, "c", &lim, T0), 0);
    int64_t wait = limiter_acquire(l, "c", &lim, T0);
    assert_true(wait > 0);
    /* still full later: time does not free a slot, release does */
    assert_true(limiter_acquire(l, "c", &lim, T0 + 3600000) > 0);
    limiter_release(l, "c", &lim);
    assert_int_equal(limiter_acquire(l, "c", &lim, T0), 0);
    assert_true(limiter_acquire(l, "c", &lim, T0) > 0);
    limiter_release(l, "c", &lim);
    limiter_release(l, "c", &lim);
    /* releasing more than was taken does not make room for more than 2 */
    limiter_release(l, "c", &lim);
    assert_int_equal(limiter_acquire(l, "c", &lim, T0), 0);
    assert_int_equal(limiter_acquire(l, "c", &lim, T0), 0);
    assert_true(limiter_acquire(l, "c", &lim, T0) > 0);
    limiter_free(l);
}

static void test_concurrency_and_rate(void **state)
{
    (void)state;
    /* a refused rate does not take a slot, a refused slot does not take a token */
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k", .rate = 1, .per_ms = 1000, .concurrency = 1};
    assert_int_equal(limiter_acquire(l, "x", &lim, T0), 0);
    assert_true(limiter_acquire(l, "x", &lim, T0 + 5000) > 0); /* slot busy */
    limiter_release(l, "x", &lim);
    /* the slot refusal above left the token in the bucket */
    assert_int_equal(limiter_acquire(l, "x", &lim, T0 + 5000), 0);
    limiter_release(l, "x", &lim);
    int64_t wait = limiter_acquire(l, "x", &lim, T0 + 5000);
    assert_true(wait >= 999 && wait <= 1001); /* rate: no token */
    /* and that refusal left the slot free */
    assert_int_equal(limiter_acquire(l, "x", &lim, T0 + 6000), 0);
    limiter_release(l, "x", &lim);
    limiter_free(l);
}

static void test_keys_independent(void **state)
{
    (void)state;
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {
        .key = "k", .rate = 1, .per_ms = 1000, .burst = 1, .concurrency = 1};
    assert_int_equal(limiter_acquire(l, "slack:C1", &lim, T0), 0);
    assert_true(limiter_acquire(l, "slack:C1", &lim, T0) > 0);
    /* another key has its own bucket and its own slots */
    assert_int_equal(limiter_acquire(l, "slack:C2", &lim, T0), 0);
    assert_true(limiter_acquire(l, "slack:C2", &lim, T0) > 0);
    assert_int_equal(limiter_acquire(l, "", &lim, T0), 0);
    /* many keys (more than the hash buckets) stay apart */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(limiter_acquire(l, key, &lim, T0), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_true(limiter_acquire(l, key, &lim, T0 + 2000) > 0); /* its slot is taken */
        limiter_release(l, key, &lim);
    }
    limiter_release(l, "slack:C1", &lim);
    assert_int_equal(limiter_acquire(l, "slack:C1", &lim, T0 + 1000), 0);
    limiter_free(l);
    limiter_free(NULL);
}

static void test_no_limits(void **state)
{
    (void)state;
    struct limiter *l = limiter_new();
    const struct sb_limit lim = {.key = "k"};
    for (int i = 0; i < 10000; i++)
        assert_int_equal(limiter_acquire(l, "free", &lim, T0), 0);
    limiter_free(l);
}

static void test_default_schedule(void **state)
{
    (void)state;
    static const int64_t want[10] = {
        0, 5000, 30000, 120000, 600000, 1800000, 3600000, 10800000, 21600000, 43200000,
    };
    assert_int_equal(RETRY_DEFAULT_COUNT, 10);
    for (int n = 1; n <= 10; n++) {
        assert_int_equal(retry_default_ms[n - 1], want[n - 1]);
        assert_int_equal(retry_delay_ms(NULL, 0, n, -1, 0.5), want[n - 1]);
    }
    /* beyond the schedule the last entry repeats */
    assert_int_equal(retry_delay_ms(NULL, 0, 11, -1, 0.5), 43200000);
    assert_int_equal(retry_delay_ms(NULL, 0, 1000, -1, 0.5), 43200000);
    /* n below 1 is the first retry */
    assert_int_equal(retry_delay_ms(NULL, 0, 0, -1, 0.5), 0);
    /* an empty custom list means the default */
    static const int64_t none[1] = {99};
    assert_int_equal(retry_delay_ms(none, 0, 2, -1, 0.5), 5000);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(NULL, 0, 2, -1, 0.0), 4000);   /* 0.8 x 5 s */
    assert_int_equal(retry_delay_ms(NULL, 0, 2, -1, 1.0), 6000);   /* 1.2 x 5 s */
    assert_int_equal(retry_delay_ms(NULL, 0, 3, -1, 0.25), 27000); /* 0.9 x 30 s */
    /* out-of-range jitter is clamped to the same bounds */
    assert_int_equal(retry_delay_ms(NULL, 0, 2, -1, -3.0), 4000);
    assert_int_equal(retry_delay_ms(NULL, 0, 2, -1, 7.0), 6000);
    /* every jitter stays inside +-20% */
    for (int i = 0; i <= 100; i++) {
        double j = i / 100.0;
        int64_t d = retry_delay_ms(NULL, 0, 10, -1, j);
        assert_true(d >= 34560000 && d <= 51840000);
    }
    /* zero stays zero whatever the jitter */
    assert_int_equal(retry_delay_ms(NULL, 0, 1, -1, 1.0), 0);
}

static void test_custom_backoff(void **state)
{
    (void)state;
    static const int64_t backoff[] = {1000, 10000, 60000};
    assert_int_equal(retry_delay_ms(backoff, 3, 1, -1, 0.5), 1000);
    assert_int_equal(retry_delay_ms(backoff, 3, 2, -1, 0.5), 10000);
    assert_int_equal(retry_delay_ms(backoff, 3, 3, -1, 0.5), 60000);
    assert_int_equal(retry_delay_ms(backoff, 3, 4, -1, 0.5), 60000);
    assert_int_equal(retry_delay_ms(backoff, 3, 50, -1, 0.5), 60000);
    assert_int_equal(retry_delay_ms(backoff, 3, 2, -1, 0.0), 8000);
    assert_int_equal(retry_delay_ms(backoff, 1, 7, -1, 1.0), 1200);
}

static void test_retry_after(void **state)
{
    (void)state;
    /* longer than the schedule: honoured exactly */
    assert_int_equal(retry_delay_ms(NULL, 0, 2, 60, 0.5), 60000);
    assert_int_equal(retry_delay_ms(NULL, 0, 1, 1, 0.5), 1000);
    /* shorter than the schedule: the schedule wins (never earlier than either) */
    assert_int_equal(retry_delay_ms(NULL, 0, 3, 10, 0.5), 30000);
    assert_int_equal(retry_delay_ms(NULL, 0, 2, 5, 1.0), 6000);
    /* 0 means "now": the schedule applies */
    assert_int_equal(retry_delay_ms(NULL, 0, 2, 0, 0.5), 5000);
    /* jitter never brings it below Retry-After */
    assert_int_equal(retry_delay_ms(NULL, 0, 2, 5, 0.0), 5000);
    /* capped at RETRY_AFTER_MAX_MS (24 h) */
    assert_int_equal(RETRY_AFTER_MAX_MS, 86400000);
    assert_int_equal(retry_delay_ms(NULL, 0, 1, 86400, 0.5), RETRY_AFTER_MAX_MS);
    assert_int_equal(retry_delay_ms(NULL, 0, 1, 86401, 0.5), RETRY_AFTER_MAX_MS);
    assert_int_equal(retry_delay_ms(NULL, 0, 1, 7 * 86400, 0.5), RETRY_AFTER_MAX_MS);
    /* the cap does not shorten the schedule itself */
    static const int64_t two_days[] = {2 * 86400000LL};
    assert_int_equal(retry_delay_ms(two_days, 1, 1, 7 * 86400, 0.5), 2 * 86400000LL);
}

/* retry_delay_ms(NULL, 0, 1, after_s, 0.5) in a child process, so that a
 * sanitizer abort fails this test instead of the whole program. Returns
 * whether the child exited normally with the capped delay. */
static bool child_caps_retry_after(int64_t after_s)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int64_t d = retry_delay_ms(NULL, 0, 1, after_s, 0.5);
        _exit(d == RETRY_AFTER_MAX_MS ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        print_message("child killed by signal %d (sanitizer report above)\n", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        print_message("Retry-After %lld s did not give the %lld ms cap (exit %d)\n",
                      (long long)after_s, (long long)RETRY_AFTER_MAX_MS, WEXITSTATUS(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Regression: retry_delay_ms used to compute retry_after_s * 1000 before
 * the cap, so a huge Retry-After (a server may send any number) overflowed
 * and the retry came at once instead of after the 24 h cap. Run in a child
 * process so a sanitizer abort fails this test only. */
static void test_retry_after_huge_is_capped(void **state)
{
    (void)state;
    assert_true(child_caps_retry_after(INT64_MAX / 1000));     /* no overflow: fine */
    assert_true(child_caps_retry_after(INT64_MAX / 1000 + 1)); /* overflows */
    assert_true(child_caps_retry_after(10000000000000000LL));  /* 1e16 s */
    assert_true(child_caps_retry_after(INT64_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_one_per_second),
        cmocka_unit_test(test_bucket_burst),
        cmocka_unit_test(test_bucket_rate_without_burst),
        cmocka_unit_test(test_concurrency_cap),
        cmocka_unit_test(test_concurrency_and_rate),
        cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_no_limits),
        cmocka_unit_test(test_default_schedule),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_custom_backoff),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_retry_after_huge_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
