#include "triggers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "engine.h"
#include "log.h"
#include "xalloc.h"

/* after a failed poll: 1 s, doubling up to the interval or 5 min */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000

struct poller {
    struct triggers *owner;
    struct wf_snapshot *snap; /* referenced while the poller lives */
    struct workflow *wf;
    pthread_t thread;
    bool started;
    bool thread_trigger; /* THREAD kind: started, not polled */
    struct sb_call call; /* THREAD kind: the call given to start */
};

struct triggers {
    struct engine *e;
    struct poller *items;
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_bool stopping;
};

static int64_t interval_of(const struct workflow *wf)
{
    struct json_object *v;
    if (wf->trigger_static && json_object_object_get_ex(wf->trigger_static, "interval", &v) &&
        json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
        return json_object_get_int64(v);
    return wf->trigger->desc.poll_interval_ms > 0 ? wf->trigger->desc.poll_interval_ms : 60000;
}

static void prepare_call(struct triggers *t, struct poller *p, struct sb_call *c,
                         enum call_kind kind)
{
    const struct loaded_trigger *tr = p->wf->trigger;
    call_init(c, kind, tr->full_name);
    c->wf = p->wf;
    call_set_context(c);
    c->plugin = tr->plugin;
    c->table = &tr->table;
    c->binding = &p->wf->trigger_params;
    c->params = call_params_copy(p->wf->trigger_static);
    c->state = p->wf->trigger_state;
    c->hooks = &t->e->hooks;
}

/* Wait until `at` (Unix ms) or until stopping; false when stopping. */
static bool sleep_until(struct triggers *t, int64_t at)
{
    pthread_mutex_lock(&t->lock);
    while (!atomic_load(&t->stopping)) {
        int64_t now = engine_now_ms();
        if (now >= at)
            break;
        int64_t ms = at - now;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
    }
    bool go = !atomic_load(&t->stopping);
    pthread_mutex_unlock(&t->lock);
    return go;
}

/* Keep what `switchboard triggers` shows about a poller in the store: when
 * it last ran, when it runs next, and its last error (one write per poll). */
static void record_status(struct triggers *t, struct poller *p, struct sb_call *c,
                          enum sb_status st, int64_t next)
{
    char last[40], nxt[40];
    engine_iso8601(engine_now_ms(), last, sizeof(last));
    engine_iso8601(next, nxt, sizeof(nxt));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "last_poll", json_object_new_string(last));
    json_object_object_add(o, "next_poll", json_object_new_string(nxt));
    json_object_object_add(o, "last_error",
                           st == SB_OK ? NULL : json_object_new_string(strbuf_str(&c->error)));
    char scope[300];
    snprintf(scope, sizeof(scope), "%s:%s", p->wf->name, p->wf->trigger->full_name);
    store_kv_set(
        t->e->store, scope, "_status",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void *poll_main(void *arg)
{
    struct poller *p = arg;
    struct triggers *t = p->owner;
    int64_t interval = interval_of(p->wf);
    int64_t backoff = 0;
    int64_t next = engine_now_ms();
    while (sleep_until(t, next)) {
        struct sb_call c;
        prepare_call(t, p, &c, CALL_POLL);
        enum sb_status st = p->wf->trigger->desc.poll(&core_host, &c);
        json_object_put(c.params);
        int64_t now = engine_now_ms();
        if (st == SB_OK) {
            backoff = 0;
            /* the time the plugin asked for, even if it has come already */
            if (c.next_poll_at_ms)
                next = c.next_poll_at_ms > now ? c.next_poll_at_ms : now;
            else
                next = now + interval;
        } else {
            /* back off: from 1 s, doubling, up to the interval (at least 5
             * minutes), so a transient failure is retried soon but a lasting
             * one never polls more often than usual; a retry-after asked
             * for by the plugin is honoured */
            int64_t cap = interval > BACKOFF_MAX_MS ? interval : BACKOFF_MAX_MS;
            backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
            if (backoff > cap)
                backoff = cap;
            int64_t wait = backoff;
            if (c.retry_after_s > 0 && c.retry_after_s * 1000 > wait)
                wait = c.retry_after_s > cap / 1000 ? cap : c.retry_after_s * 1000;
            log_write(SB_LOG_WARN, c.context, "poll failed (next try in %lld ms): %s",
                      (long long)wait, c.error.len ? strbuf_str(&c.error) : "no reason given");
            next = now + wait;
        }
        record_status(t, p, &c, st, next);
        call_release(&c);
    }
    return NULL;
}

int triggers_start(struct engine *e, struct triggers **out)
{
    struct triggers *t = xcalloc(1, sizeof(*t));
    t->e = e;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    atomic_init(&t->stopping, false);
    struct wf_snapshot *snap = engine_acquire(e);
    size_t cap = 0;
    for (size_t i = 0; snap && i < snap->set.n; i++) {
        struct workflow *wf = snap->set.items[i];
        uint32_t kind = wf->trigger->desc.kind;
        if (!wf->enabled || (kind != SB_TRIGGER_POLL && kind != SB_TRIGGER_THREAD))
            continue;
        XGROW(t->items, cap, t->n + 1);
        struct poller *p = &t->items[t->n++];
        memset(p, 0, sizeof(*p));
        p->owner = t;
        p->wf = wf;
        atomic_fetch_add(&snap->refs, 1);
        p->snap = snap;
    }
    if (snap)
        engine_release(snap);
    for (size_t i = 0; i < t->n; i++) {
        struct poller *p = &t->items[i];
        if (p->wf->trigger->desc.kind == SB_TRIGGER_POLL) {
            p->started = pthread_create(&p->thread, NULL, poll_main, p) == 0;
        } else {
            p->thread_trigger = true;
            prepare_call(t, p, &p->call, CALL_THREAD);
            enum sb_status st = p->wf->trigger->desc.start(&core_host, &p->call);
            p->started = st == SB_OK;
            if (!p->started)
                log_write(SB_LOG_ERROR, p->call.context, "start failed: %s",
                          p->call.error.len ? strbuf_str(&p->call.error) : "no reason given");
        }
    }
    *out = t;
    return 0;
}

void triggers_stop(struct triggers *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stopping, true);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        struct poller *p = &t->items[i];
        if (p->thread_trigger) {
            if (p->started)
                p->wf->trigger->desc.stop(&core_host, &p->call);
            json_object_put(p->call.params);
            call_release(&p->call);
        } else if (p->started) {
            pthread_join(p->thread, NULL);
        }
        engine_release(p->snap);
    }
    free(t->items);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
