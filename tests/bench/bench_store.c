/* Store micro-benchmark: appends per second through the group-committing
 * writer, from N threads, 1 KiB payloads, no HTTP.
 * usage: bench_store [THREADS] [SECONDS] [DB_PATH] */
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static struct store *st;
static atomic_long done_count;
static atomic_bool stop;
static char payload[1100];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Async mode (BENCH_ASYNC=1): one thread keeps `window` appends in flight,
 * like the HTTP ingress does, so no thread waits on a commit. */
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static int outstanding;

static void on_done(struct store_append *a, void *arg)
{
    (void)arg;
    if (a->result == STORE_OK)
        atomic_fetch_add(&done_count, 1);
    free((void *)(uintptr_t)a->event_id);
    free(a);
    pthread_mutex_lock(&wlock);
    outstanding--;
    pthread_cond_signal(&wcond);
    pthread_mutex_unlock(&wlock);
}

static void run_async(int window)
{
    static const char *wf[] = {"bench"};
    static const char *hash[] = {"0000"};
    for (long i = 0; !atomic_load(&stop); i++) {
        pthread_mutex_lock(&wlock);
        while (outstanding >= window)
            pthread_cond_wait(&wcond, &wlock);
        outstanding++;
        pthread_mutex_unlock(&wlock);
        struct store_append *a = calloc(1, sizeof(*a));
        char *eid = malloc(32);
        snprintf(eid, 32, "evt_%ld", i);
        a->source = "bench";
        a->event_id = eid;
        a->type = "order.created";
        a->received_at_ms = 1;
        a->payload = payload;
        a->envelope = "{\"headers\":{\"content-type\":\"application/json\"}}";
        a->workflows = wf;
        a->workflow_hashes = hash;
        a->n_runs = getenv("BENCH_RUNS") ? 1 : 0;
        a->done = on_done;
        store_append_async(st, a);
    }
    pthread_mutex_lock(&wlock);
    while (outstanding > 0)
        pthread_cond_wait(&wcond, &wlock);
    pthread_mutex_unlock(&wlock);
}

static void *async_main(void *arg)
{
    run_async((int)(long)arg);
    return NULL;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char eid[64];
    const char *wf[] = {"bench"};
    const char *hash[] = {"0000"};
    for (long i = 0; !atomic_load(&stop); i++) {
        snprintf(eid, sizeof(eid), "evt_%ld_%ld", id, i);
        struct store_append a = {
            .source = "bench",
            .event_id = eid,
            .type = "order.created",
            .received_at_ms = 1,
            .payload = payload,
            .envelope = "{\"headers\":{\"content-type\":\"application/json\"}}",
            .workflows = wf,
            .workflow_hashes = hash,
            .n_runs = getenv("BENCH_RUNS") ? 1 : 0,
        };
        if (store_append(st, &a) == STORE_OK)
            atomic_fetch_add(&done_count, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 64;
    int secs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    const char *path = argc > 3 ? argv[3] : "/tmp/bench_store.db";
    char url[512], err[256];
    snprintf(url, sizeof(url), "sqlite:%s", path);
    unlink(path);
    memset(payload, 'x', sizeof(payload) - 1);
    memcpy(payload, "{\"note\":\"", 9);
    memcpy(payload + sizeof(payload) - 3, "\"}", 3);
    if (store_open(url, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pthread_t *t = calloc((size_t)threads, sizeof(*t));
    double t0 = now_s();
    bool async = getenv("BENCH_ASYNC") != NULL;
    if (async) {
        pthread_create(&t[0], NULL, async_main, (void *)(long)threads);
        threads = 1;
    } else {
        for (long i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
    }
    sleep((unsigned)secs);
    atomic_store(&stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now_s() - t0;
    struct store_stats s;
    store_get_stats(st, &s);
    printf("appends %ld in %.2f s: %.0f/s, %lld commits (%.1f writes per commit)\n",
           atomic_load(&done_count), el, (double)atomic_load(&done_count) / el,
           (long long)s.commits, (double)s.batched_writes / (double)(s.commits ? s.commits : 1));
    store_close(st);
    free(t);
    return 0;
}
