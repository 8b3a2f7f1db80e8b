#include "dispatcher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "limiter.h"
#include "log.h"
#include "run_exec.h"
#include "strbuf.h"
#include "xalloc.h"

/* an idle worker looks for due runs at least this often */
#define IDLE_POLL_MS 1000

struct dispatcher {
    struct engine *e;
    int n;
    pthread_t *threads;
    pthread_t keeper;
    bool keeper_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* idle workers: new runs were stored */
    pthread_cond_t keeper_wake; /* the keeper: only at stop (a worker's
                                   signal must never be spent on it) */
    pthread_cond_t exited;
    uint64_t notify_seq;
    int running; /* workers not yet exited */
    atomic_bool stopping;
    _Atomic int64_t *inflight; /* per worker: the run id in progress, 0 */
    struct limiter *limiter;
    atomic_llong finished[5]; /* succeeded failed dead skipped deferred */
};

struct worker_arg {
    struct dispatcher *d;
    int index;
};

static void timed_wait(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(cond, lock, &ts);
}

static void count(struct dispatcher *d, const char *status)
{
    static const char *const names[] = {RUN_SUCCEEDED, RUN_FAILED, RUN_DEAD, RUN_SKIPPED,
                                        RUN_PENDING};
    for (int i = 0; i < 5; i++)
        if (strcmp(status, names[i]) == 0)
            atomic_fetch_add(&d->finished[i], 1);
}

static void handle(struct dispatcher *d, struct claimed_run *r)
{
    struct engine *e = d->e;
    /* a run that has begun finishes with the workflow version it began with
     * (kept loaded after a reload); one that has not begun takes the current */
    bool begun = r->next_step > 0 || r->attempts - r->budget_base > 1;
    struct workflow *wf = NULL;
    struct wf_snapshot *snap =
        begun ? engine_acquire_version(e, r->workflow, r->workflow_hash, &wf) : NULL;
    if (!snap) {
        snap = engine_acquire(e);
        wf = snap ? snapshot_find(snap, r->workflow) : NULL;
    }
    if (!wf || !wf->enabled) {
        /* kept and reported, never dropped: it runs when the workflow is back */
        char msg[256];
        snprintf(msg, sizeof(msg), "workflow '%s' is not loaded; the run waits for it",
                 r->workflow);
        struct run_update u = {
            .run_id = r->id,
            .status = r->attempts - r->budget_base > 1 ? RUN_FAILED : RUN_PENDING,
            .next_step = r->next_step,
            .next_attempt_at_ms = engine_now_ms() + 60000,
            .error = msg,
            .undo_attempt = true,
        };
        store_update_run(e->store, &u);
        log_write(SB_LOG_WARN, "dispatcher", "run %lld: %s", (long long)r->id, msg);
    } else {
        struct exec_env env = {
            .store = e->store,
            .limiter = d->limiter,
            .hooks = &e->hooks,
            .stopping = &d->stopping,
        };
        struct exec_result res;
        exec_run(&env, wf, r, &res);
        count(d, res.status);
    }
    if (snap)
        engine_release(snap);
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct dispatcher *d = wa->d;
    int index = wa->index;
    free(wa);
    struct engine *e = d->e;
    while (!atomic_load(&d->stopping)) {
        pthread_mutex_lock(&d->lock);
        uint64_t seq = d->notify_seq;
        pthread_mutex_unlock(&d->lock);
        struct claimed_run *runs = NULL;
        size_t n = 0;
        int64_t now = engine_now_ms();
        if (store_claim(e->store, e->node_id, now, DISPATCHER_LEASE_MS, 1, &runs, &n) < 0)
            n = 0;
        if (n == 0) {
            store_claimed_free(runs, n);
            int64_t due = store_next_due(e->store);
            int64_t wait = due == INT64_MAX ? IDLE_POLL_MS : due - engine_now_ms();
            if (wait > IDLE_POLL_MS)
                wait = IDLE_POLL_MS;
            if (wait <= 0)
                continue;
            pthread_mutex_lock(&d->lock);
            if (d->notify_seq == seq && !atomic_load(&d->stopping))
                timed_wait(&d->wake, &d->lock, wait);
            pthread_mutex_unlock(&d->lock);
            continue;
        }
        atomic_store(&d->inflight[index], runs[0].id);
        handle(d, &runs[0]);
        atomic_store(&d->inflight[index], 0);
        store_claimed_free(runs, n);
    }
    pthread_mutex_lock(&d->lock);
    d->running--;
    pthread_cond_broadcast(&d->exited);
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* Extends the leases of runs in progress, so a long step keeps its run. */
static void *keeper_main(void *arg)
{
    struct dispatcher *d = arg;
    int64_t *ids = xcalloc((size_t)d->n, sizeof(*ids));
    pthread_mutex_lock(&d->lock);
    while (!atomic_load(&d->stopping)) {
        timed_wait(&d->keeper_wake, &d->lock, DISPATCHER_LEASE_MS / 3);
        if (atomic_load(&d->stopping))
            break;
        pthread_mutex_unlock(&d->lock);
        size_t n = 0;
        for (int i = 0; i < d->n; i++) {
            int64_t id = atomic_load(&d->inflight[i]);
            if (id)
                ids[n++] = id;
        }
        if (n)
            store_extend_leases(d->e->store, d->e->node_id, ids, n,
                                engine_now_ms() + DISPATCHER_LEASE_MS);
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    free(ids);
    return NULL;
}

int dispatcher_start(struct engine *e, int workers, struct dispatcher **out)
{
    struct dispatcher *d = xcalloc(1, sizeof(*d));
    d->e = e;
    d->n = workers > 0 ? workers : 1;
    d->threads = xcalloc((size_t)d->n, sizeof(*d->threads));
    d->inflight = xcalloc((size_t)d->n, sizeof(*d->inflight));
    d->limiter = limiter_new();
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    pthread_cond_init(&d->keeper_wake, NULL);
    pthread_cond_init(&d->exited, NULL);
    atomic_init(&d->stopping, false);
    for (int i = 0; i < d->n; i++) {
        struct worker_arg *wa = xmalloc(sizeof(*wa));
        wa->d = d;
        wa->index = i;
        if (pthread_create(&d->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
        d->running++;
    }
    if (pthread_create(&d->keeper, NULL, keeper_main, d) == 0)
        d->keeper_started = true;
    if (d->running == 0) {
        error("cannot start dispatcher threads");
        dispatcher_stop(d, 0);
        return -1;
    }
    *out = d;
    return 0;
}

void dispatcher_notify(struct dispatcher *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->notify_seq++;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

bool dispatcher_stop(struct dispatcher *d, int64_t grace_ms)
{
    if (!d)
        return true;
    atomic_store(&d->stopping, true);
    int64_t until = engine_now_ms() + grace_ms;
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->wake);
    pthread_cond_broadcast(&d->keeper_wake);
    while (d->running > 0 && engine_now_ms() < until)
        timed_wait(&d->exited, &d->lock, 50);
    bool all = d->running == 0;
    pthread_mutex_unlock(&d->lock);
    if (d->keeper_started)
        pthread_join(d->keeper, NULL);
    /* whatever is still leased here can be claimed at once, by anyone */
    store_release_leases(d->e->store, d->e->node_id);
    if (!all) {
        log_write(SB_LOG_WARN, "dispatcher",
                  "%d step(s) still running after the %lld ms grace period; their runs will be "
                  "tried again",
                  d->running, (long long)grace_ms);
        return false;
    }
    for (int i = 0; i < d->n; i++)
        pthread_join(d->threads[i], NULL);
    limiter_free(d->limiter);
    pthread_cond_destroy(&d->wake);
    pthread_cond_destroy(&d->keeper_wake);
    pthread_cond_destroy(&d->exited);
    pthread_mutex_destroy(&d->lock);
    free(d->threads);
    free(d->inflight);
    free(d);
    return true;
}

void dispatcher_metrics(struct dispatcher *d, struct strbuf *sb)
{
    static const char *const names[] = {"succeeded", "failed", "dead", "skipped", "deferred"};
    strbuf_addstr(sb, "# TYPE switchboard_run_attempts_total counter\n");
    for (int i = 0; i < 5; i++)
        strbuf_addf(sb, "switchboard_run_attempts_total{result=\"%s\"} %lld\n", names[i],
                    (long long)atomic_load(&d->finished[i]));
}
