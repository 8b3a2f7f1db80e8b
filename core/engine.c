/*
 * `switchboard run`: assembles the engine, serves until SIGTERM or SIGINT,
 * then shuts down in order: stop accepting, finish acknowledging what was
 * received, let steps in progress finish, release leases, close the store.
 */
#include "engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"
#include "dispatcher.h"
#include "ingress.h"
#include "log.h"
#include "reload.h"
#include "triggers.h"
#include "xalloc.h"

/* how often finished runs past their retention are purged */
#define PURGE_EVERY_MS (10 * 60 * 1000)

int64_t engine_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void engine_iso8601(int64_t ms, char *out, size_t outlen)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outlen - n, ".%03dZ", (int)(ms % 1000));
}

struct json_object *engine_template_root(const struct workflow *wf, const char *source,
                                         const char *event_id, const char *type,
                                         int64_t received_at_ms, struct json_object *payload,
                                         struct json_object *envelope)
{
    struct json_object *root = json_object_new_object();
    json_object_object_add(root, "event",
                           payload ? json_object_get(payload) : json_object_new_object());
    struct json_object *t = json_object_new_object();
    json_object_object_add(t, "id", json_object_new_string(event_id));
    json_object_object_add(t, "type", json_object_new_string(type ? type : ""));
    json_object_object_add(t, "source", json_object_new_string(source));
    char iso[40];
    engine_iso8601(received_at_ms, iso, sizeof(iso));
    json_object_object_add(t, "received_at", json_object_new_string(iso));
    static const char *const copied[] = {"headers", "query",  "path",       "method",
                                         "hook",    "remote", "occurred_at"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        struct json_object *v;
        if (envelope && json_object_object_get_ex(envelope, copied[i], &v))
            json_object_object_add(t, copied[i], json_object_get(v));
    }
    if (!json_object_object_get_ex(t, "headers", NULL))
        json_object_object_add(t, "headers", json_object_new_object());
    if (!json_object_object_get_ex(t, "query", NULL))
        json_object_object_add(t, "query", json_object_new_object());
    json_object_object_add(root, "trigger", t);
    struct json_object *w = json_object_new_object();
    json_object_object_add(w, "name", json_object_new_string(wf->name));
    json_object_object_add(w, "description",
                           json_object_new_string(wf->description ? wf->description : ""));
    json_object_object_add(w, "hash", json_object_new_string(wf->hash));
    json_object_object_add(root, "workflow", w);
    return root;
}

/* --- workflow snapshots ----------------------------------------------- */

struct wf_snapshot *engine_acquire(struct engine *e)
{
    pthread_mutex_lock(&e->lock);
    struct wf_snapshot *s = e->current;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&e->lock);
    return s;
}

static void snapshot_teardown(struct wf_snapshot *snap)
{
    for (size_t i = 0; i < snap->set.n; i++) {
        struct workflow *wf = snap->set.items[i];
        if (wf->trigger && wf->trigger->desc.teardown && wf->trigger_state)
            wf->trigger->desc.teardown(&core_host, wf->trigger_state);
        wf->trigger_state = NULL;
        for (size_t j = 0; j < wf->n_steps + wf->n_on_failure; j++) {
            struct step *s = j < wf->n_steps ? &wf->steps[j] : &wf->on_failure[j - wf->n_steps];
            if (s->action->desc.teardown && s->state)
                s->action->desc.teardown(&core_host, s->state);
            s->state = NULL;
        }
    }
    workflow_set_release(&snap->set);
    free(snap);
}

void engine_release(struct wf_snapshot *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
        snapshot_teardown(snap);
}

struct wf_snapshot *engine_acquire_version(struct engine *e, const char *name, const char *hash,
                                           struct workflow **wf)
{
    *wf = NULL;
    pthread_mutex_lock(&e->lock);
    struct wf_snapshot *found = NULL;
    for (size_t i = 0; i <= e->n_retired && !found; i++) {
        struct wf_snapshot *s = i == 0 ? e->current : e->retired[i - 1];
        struct workflow *w = s ? workflow_set_find(&s->set, name) : NULL;
        if (w && strcmp(w->hash, hash) == 0) {
            found = s;
            *wf = w;
        }
    }
    if (found)
        atomic_fetch_add(&found->refs, 1);
    pthread_mutex_unlock(&e->lock);
    return found;
}

struct workflow *snapshot_find(struct wf_snapshot *snap, const char *name)
{
    return workflow_set_find(&snap->set, name);
}

/* Call one setup callback; -1 (logged) when it refuses. */
static int run_setup(enum sb_status (*fn)(const struct sb_host *, struct sb_call *),
                     const char *what, const struct workflow *wf, const char *step,
                     struct plugin *plugin, const struct param_table *table,
                     const struct param_binding *binding, struct json_object *params, void **state)
{
    *state = NULL;
    if (!fn)
        return 0;
    struct sb_call c;
    call_init(&c, CALL_SETUP, what);
    c.wf = wf;
    c.step = step;
    call_set_context(&c);
    c.plugin = plugin;
    c.table = table;
    c.binding = binding;
    c.params = params;
    c.state_slot = state;
    enum sb_status st = fn(&core_host, &c);
    int rc = 0;
    if (st != SB_OK) {
        log_write(SB_LOG_ERROR, c.context, "setup failed: %s",
                  c.error.len ? strbuf_str(&c.error) : "(no reason given)");
        rc = -1;
    }
    call_release(&c);
    return rc;
}

struct wf_snapshot *engine_snapshot_new(struct engine *e, struct workflow_set *set)
{
    struct wf_snapshot *snap = xcalloc(1, sizeof(*snap));
    snap->set = *set;
    workflow_set_init(set);
    snap->engine = e;
    atomic_init(&snap->refs, 1);
    workflow_set_version(&snap->set, snap->version);
    int rc = 0;
    for (size_t i = 0; i < snap->set.n && rc == 0; i++) {
        struct workflow *wf = snap->set.items[i];
        const struct loaded_trigger *t = wf->trigger;
        wf->trigger_static = call_params_static(&t->table, &wf->trigger_params);
        rc |= run_setup(t->desc.setup, t->full_name, wf, NULL, t->plugin, &t->table,
                        &wf->trigger_params, wf->trigger_static, &wf->trigger_state);
        for (size_t j = 0; j < wf->n_steps + wf->n_on_failure && rc == 0; j++) {
            struct step *s = j < wf->n_steps ? &wf->steps[j] : &wf->on_failure[j - wf->n_steps];
            const struct loaded_action *a = s->action;
            if (!a->desc.setup)
                continue;
            struct json_object *p = call_params_static(&a->table, &s->params);
            rc |= run_setup(a->desc.setup, a->full_name, wf, s->name, a->plugin, &a->table,
                            &s->params, p, &s->state);
            json_object_put(p);
        }
    }
    if (rc) {
        snapshot_teardown(snap);
        return NULL;
    }
    return snap;
}

/* --- hooks for plugin code: emit, trigger state -------------------------- */

static enum sb_status hook_emit(void *ctx, struct sb_call *call, const struct sb_event *ev)
{
    struct engine *e = ctx;
    const struct workflow *wf = call->wf;
    if (!wf) {
        json_object_put(ev->payload);
        return SB_FAIL;
    }
    char *id = NULL;
    if (!ev->id) {
        char gen[32];
        crypto_event_id(gen);
        id = xstrdup(gen);
    }
    char *source = ev->source ? xstrdup(ev->source) : xasprintf("%s:%s", call->what, wf->name);
    struct json_object *payload = ev->payload ? ev->payload : json_object_new_object();
    char *payload_text = xstrdup(json_object_to_json_string_ext(
        payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(payload);
    const char *names[1] = {wf->name};
    const char *hashes[1] = {wf->hash};
    bool record_only =
        ev->size >= offsetof(struct sb_event, record_only) + sizeof(bool) && ev->record_only;
    bool wanted = !record_only && workflow_wants_type(wf, ev->type ? ev->type : "");
    char envelope[256];
    if (ev->occurred_at_ms) {
        char iso[40];
        engine_iso8601(ev->occurred_at_ms, iso, sizeof(iso));
        snprintf(envelope, sizeof(envelope), "{\"trigger\": \"%s\", \"occurred_at\": \"%s\"}",
                 call->what, iso);
    } else {
        snprintf(envelope, sizeof(envelope), "{\"trigger\": \"%s\"}", call->what);
    }
    struct store_append a = {
        .source = source,
        .event_id = ev->id ? ev->id : id,
        .type = ev->type ? ev->type : "",
        .received_at_ms = engine_now_ms(),
        .payload = payload_text,
        .envelope = envelope,
        .workflows = names,
        .workflow_hashes = hashes,
        .n_runs = wanted ? 1 : 0,
    };
    enum store_result r = store_append(e->store, &a);
    if (r == STORE_OK && a.n_runs)
        dispatcher_notify(e->dispatcher);
    free(id);
    free(source);
    free(payload_text);
    return r == STORE_UNAVAILABLE ? SB_RETRY : SB_OK;
}

static void kv_scope(const struct sb_call *call, char *out, size_t len)
{
    call_kv_scope(call->wf, call->what, out, len);
}

static int hook_kv_get(void *ctx, struct sb_call *call, const char *key, char **value)
{
    struct engine *e = ctx;
    char scope[300];
    kv_scope(call, scope, sizeof(scope));
    return store_kv_get(e->store, scope, key, value);
}

static int hook_kv_set(void *ctx, struct sb_call *call, const char *key, const char *value)
{
    struct engine *e = ctx;
    char scope[300];
    kv_scope(call, scope, sizeof(scope));
    return store_kv_set(e->store, scope, key, value);
}

static int64_t hook_now(void *ctx)
{
    (void)ctx;
    return engine_now_ms();
}

/* --- plugins ------------------------------------------------------------ */

int engine_init_plugins(struct plugin_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct plugin *pl = set->plugins[i];
        if (pl->desc.init) {
            struct sb_call c;
            call_init(&c, CALL_INIT, pl->name);
            enum sb_status st = pl->desc.init(&core_host, &pl->state);
            call_release(&c);
            if (st != SB_OK)
                return error("plugin '%s' failed to initialise", pl->name);
        }
        pl->initialized = true;
    }
    return 0;
}

void engine_fini_plugins(struct plugin_set *set)
{
    for (size_t i = set->n; i-- > 0;) {
        struct plugin *pl = set->plugins[i];
        if (pl->initialized && pl->desc.fini)
            pl->desc.fini(&core_host, pl->state);
        pl->initialized = false;
    }
}

/* --- run ------------------------------------------------------------------- */

static void make_node_id(char *out, size_t len)
{
    char host[25] = "node";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    char rnd[9];
    crypto_random_id(rnd, 8);
    snprintf(out, len, "%s-%d-%s", host, (int)(getpid() % 10000000), rnd);
}

int engine_run(struct app *app)
{
    /* signals are taken by sigwait below: block them before any thread */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct engine *e = xcalloc(1, sizeof(*e));
    e->app = app;
    e->started_at_ms = engine_now_ms();
    pthread_mutex_init(&e->lock, NULL);
    make_node_id(e->node_id, sizeof(e->node_id));
    e->hooks = (struct call_hooks){.ctx = e,
                                   .emit = hook_emit,
                                   .kv_get = hook_kv_get,
                                   .kv_set = hook_kv_set,
                                   .now_ms = hook_now};
    int rc = 1;
    char err[512];
    if (store_open(app->cfg.store, &e->store, err, sizeof(err)) < 0) {
        error("store: %s", err);
        goto out;
    }
    if (engine_init_plugins(&app->plugins) < 0)
        goto out;
    e->current = engine_snapshot_new(e, &app->workflows);
    if (!e->current)
        goto out;
    if (dispatcher_start(e, app->cfg.workers, &e->dispatcher) < 0)
        goto out;
    if (triggers_start(e, &e->triggers) < 0)
        goto out;
    if (ingress_start(e, &e->ingress, &e->port) < 0)
        goto out;
    atomic_store(&e->ready, true);
    const char *host = app->cfg.listen_host;
    bool v6 = strchr(host, ':') != NULL;
    printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "", host, v6 ? "]" : "", e->port);
    fflush(stdout);
    log_write(SB_LOG_INFO, "engine",
              "started: %zu workflow(s), version %s, store %s, %d worker(s), node %s",
              e->current->set.n, e->current->version, app->cfg.store, app->cfg.workers, e->node_id);

    store_kv_set(e->store, "_engine", "version", e->current->version);
    if (app->cfg.watch)
        reload_watch_start(e);
    int64_t next_purge = engine_now_ms() + 60000;
    while (1) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            log_write(SB_LOG_INFO, "engine", "%s: shutting down",
                      sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (sig == SIGHUP)
            reload_now(e, "SIGHUP");
        reload_tick(e);
        if (engine_now_ms() >= next_purge) {
            size_t purged = 0;
            store_purge(e->store, engine_now_ms() - app->cfg.retention_ms, &purged);
            if (purged)
                log_write(SB_LOG_INFO, "engine", "purged %zu event(s) past retention", purged);
            next_purge = engine_now_ms() + PURGE_EVERY_MS;
        }
    }
    rc = 0;
out:
    reload_watch_stop();
    atomic_store(&e->stopping, true);
    atomic_store(&e->ready, false);
    /* stop accepting; what was received is still acknowledged */
    ingress_quiesce(e->ingress);
    ingress_drain(e->ingress, app->cfg.shutdown_grace_ms);
    ingress_stop(e->ingress);
    triggers_stop(e->triggers);
    if (!dispatcher_stop(e->dispatcher, app->cfg.shutdown_grace_ms)) {
        /* a step is stuck in an action: its lease is released; leave now,
         * without freeing what that thread still uses */
        fflush(NULL);
        _exit(rc);
    }
    store_close(e->store);
    if (e->current)
        engine_release(e->current);
    for (size_t i = 0; i < e->n_retired; i++)
        engine_release(e->retired[i]);
    engine_fini_plugins(&app->plugins);
    pthread_mutex_destroy(&e->lock);
    free(e);
    log_write(SB_LOG_INFO, "engine", "stopped");
    return rc;
}
