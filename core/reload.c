#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "triggers.h"
#include "xalloc.h"

/* a change is acted on once the folder has been quiet this long */
#define QUIET_MS 300

static int watch_fd = -1;
static int64_t reload_due_ms; /* 0: nothing pending (main thread only) */

/* Does any unfinished run follow a workflow of `snap` in a version that is
 * no longer the current one? */
static bool still_needed(struct engine *e, struct wf_snapshot *snap)
{
    for (size_t i = 0; i < snap->set.n; i++) {
        const struct workflow *old = snap->set.items[i];
        const struct workflow *now = workflow_set_find(&e->current->set, old->name);
        if (now && strcmp(now->hash, old->hash) == 0)
            continue;
        int64_t n = 0;
        if (store_unfinished_runs(e->store, old->name, old->hash, &n) == 0 && n > 0)
            return true;
    }
    return false;
}

static void log_changes(struct engine *e, struct wf_snapshot *old, struct wf_snapshot *snap)
{
    for (size_t i = 0; i < snap->set.n; i++) {
        const struct workflow *w = snap->set.items[i];
        const struct workflow *o = workflow_set_find(&old->set, w->name);
        if (!o)
            log_write(SB_LOG_INFO, "reload", "workflow '%s' added", w->name);
        else if (strcmp(o->hash, w->hash) != 0)
            log_write(SB_LOG_INFO, "reload", "workflow '%s' changed", w->name);
    }
    for (size_t i = 0; i < old->set.n; i++) {
        const struct workflow *o = old->set.items[i];
        if (workflow_set_find(&snap->set, o->name))
            continue;
        int64_t n = 0;
        store_unfinished_runs(e->store, o->name, NULL, &n);
        if (n)
            log_write(SB_LOG_WARN, "reload",
                      "workflow '%s' was removed; its %lld unfinished run(s) are kept and wait "
                      "for it (switchboard runs --workflow %s)",
                      o->name, (long long)n, o->name);
        else
            log_write(SB_LOG_INFO, "reload", "workflow '%s' removed", o->name);
    }
}

void reload_now(struct engine *e, const char *why)
{
    struct app *app = e->app;
    struct diag d;
    diag_init(&d);
    struct workflow_set set;
    workflow_set_init(&set);
    workflow_set_load(&set, app->cfg.workflow_dir, &app->plugins, &d);
    /* a copy: the running snapshot may be released below */
    char running[sizeof(e->current->version)];
    snprintf(running, sizeof(running), "%s", e->current ? e->current->version : "none");
    if (d.errors) {
        for (size_t i = 0; i < d.n; i++) {
            char *line = diag_format(&d.items[i]);
            log_write(d.items[i].warning ? SB_LOG_WARN : SB_LOG_ERROR, "reload", "%s", line);
            free(line);
        }
        log_write(SB_LOG_ERROR, "reload",
                  "%s: not reloaded, %zu error(s) in %s; still running version %s", why, d.errors,
                  app->cfg.workflow_dir, running);
        workflow_set_release(&set);
        diag_release(&d);
        return;
    }
    diag_release(&d);
    struct wf_snapshot *snap = engine_snapshot_new(e, &set);
    if (!snap) {
        log_write(SB_LOG_ERROR, "reload",
                  "%s: not reloaded, a trigger or action refused its "
                  "setup (see above); still running version %s",
                  why, running);
        return;
    }
    if (e->current && strcmp(snap->version, e->current->version) == 0) {
        log_write(SB_LOG_DEBUG, "reload", "%s: no change (version %s)", why, running);
        engine_release(snap);
        return;
    }
    /* emitting triggers belong to a version: stop the old ones first */
    triggers_stop(e->triggers);
    e->triggers = NULL;
    pthread_mutex_lock(&e->lock);
    struct wf_snapshot *old = e->current;
    e->current = snap;
    pthread_mutex_unlock(&e->lock);
    if (old) {
        log_changes(e, old, snap);
        pthread_mutex_lock(&e->lock);
        bool keep =
            still_needed(e, old) && e->n_retired < sizeof(e->retired) / sizeof(e->retired[0]);
        if (keep)
            e->retired[e->n_retired++] = old;
        pthread_mutex_unlock(&e->lock);
        if (!keep)
            engine_release(old);
    }
    if (triggers_start(e, &e->triggers) < 0)
        log_write(SB_LOG_ERROR, "reload", "cannot start the emitting triggers");
    store_kv_set(e->store, "_engine", "version", snap->version);
    log_write(SB_LOG_INFO, "reload", "%s: reloaded, version %s -> %s (%zu workflow(s))", why,
              running, snap->version, snap->set.n);
}

int reload_watch_start(struct engine *e)
{
    watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watch_fd < 0 || inotify_add_watch(watch_fd, e->app->cfg.workflow_dir,
                                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                              IN_CREATE) < 0) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        log_write(SB_LOG_WARN, "reload",
                  "cannot watch %s (%s): reload with SIGHUP after changing workflows",
                  e->app->cfg.workflow_dir, msg);
        if (watch_fd >= 0)
            close(watch_fd);
        watch_fd = -1;
        return -1;
    }
    return 0;
}

void reload_watch_stop(void)
{
    if (watch_fd >= 0)
        close(watch_fd);
    watch_fd = -1;
}

/* Did a .ini file of the folder change? Drains the inotify queue. */
static bool ini_changed(void)
{
    bool changed = false;
    _Alignas(struct inotify_event) char buf[4096];
    ssize_t n;
    while (watch_fd >= 0 && (n = read(watch_fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            size_t len = ev->len ? strlen(ev->name) : 0;
            if (len > 4 && strcmp(ev->name + len - 4, ".ini") == 0 && ev->name[0] != '.')
                changed = true;
            p += sizeof(struct inotify_event) + ev->len;
        }
    }
    return changed;
}

void reload_tick(struct engine *e)
{
    int64_t now = engine_now_ms();
    if (ini_changed())
        reload_due_ms = now + QUIET_MS; /* editors write in several steps: wait */
    if (reload_due_ms && now >= reload_due_ms) {
        reload_due_ms = 0;
        reload_now(e, "workflows changed");
    }
    /* old versions no run needs any more */
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_retired;) {
        if (still_needed(e, e->retired[i])) {
            i++;
            continue;
        }
        struct wf_snapshot *s = e->retired[i];
        e->retired[i] = e->retired[--e->n_retired];
        pthread_mutex_unlock(&e->lock);
        engine_release(s);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
}
