/*
 * The running engine: what `switchboard run` assembles (configuration,
 * plugins, workflows, store, ingress, dispatcher) and its lifecycle.
 */
#ifndef SB_ENGINE_H
#define SB_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "call.h"
#include "store.h"

struct ingress;
struct dispatcher;
struct triggers;

/* A loaded set of workflows, shared by requests and runs while in use: a
 * reload swaps in a new one and the old one lives until its last user lets
 * go. */
struct wf_snapshot {
    struct workflow_set set;
    atomic_int refs;
    char version[17]; /* short hash of all workflow hashes */
    struct engine *engine;
};

struct engine {
    struct app *app;
    struct store *store;
    struct ingress *ingress;
    struct dispatcher *dispatcher;
    struct triggers *triggers;
    char node_id[40];
    int port;
    pthread_mutex_t lock;
    struct wf_snapshot *current; /* under lock */
    /* snapshots replaced by a reload, kept while runs begun under them are
     * unfinished (under lock) */
    struct wf_snapshot *retired[32];
    size_t n_retired;
    atomic_bool ready;
    atomic_bool stopping;
    struct call_hooks hooks;
    int64_t started_at_ms;
};

/* Now in Unix milliseconds. */
int64_t engine_now_ms(void);

/* The current workflow snapshot, with a reference (release it). */
struct wf_snapshot *engine_acquire(struct engine *e);
void engine_release(struct wf_snapshot *snap);
/* The loaded snapshot (current, or kept after a reload) holding version
 * `hash` of workflow `name`, with a reference; *wf gets the workflow. NULL
 * when that version is not loaded. */
struct wf_snapshot *engine_acquire_version(struct engine *e, const char *name, const char *hash,
                                           struct workflow **wf);
/* Find a workflow by name in a snapshot. */
struct workflow *snapshot_find(struct wf_snapshot *snap, const char *name);

/* Prepare (setup callbacks) and wrap a loaded workflow set; takes the set's
 * contents. NULL on a setup failure (logged). */
struct wf_snapshot *engine_snapshot_new(struct engine *e, struct workflow_set *set);

/* Call every plugin's init (main thread), or fini. */
int engine_init_plugins(struct plugin_set *set);
void engine_fini_plugins(struct plugin_set *set);

/* `switchboard run`: returns the exit code. */
int engine_run(struct app *app);

/* Build the template root {event, trigger, workflow, run, steps} for a
 * stored event (caller owns). */
struct json_object *engine_template_root(const struct workflow *wf, const char *source,
                                         const char *event_id, const char *type,
                                         int64_t received_at_ms, struct json_object *payload,
                                         struct json_object *envelope);

/* Format Unix ms as ISO 8601 UTC ("2026-11-26T18:42:46.123Z"). */
void engine_iso8601(int64_t ms, char *out, size_t outlen);

#endif
