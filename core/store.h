/*
 * The store: events, runs, step checkpoints and trigger state, behind one
 * interface so ingress and the dispatcher do not know the backend. The
 * SQLite backend (store_sqlite.c) is the embedded default; a PostgreSQL
 * backend fits the same struct store_backend.
 *
 * Durability: every write completes (its callback runs, or the blocking call
 * returns) only after the transaction holding it is on disk. Writes are
 * group-committed: one writer batches all queued writes into one
 * transaction and one fsync.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

struct store;

enum store_result {
    STORE_OK = 0,
    STORE_DUPLICATE = 1,   /* append: same source and event id already stored */
    STORE_UNAVAILABLE = -1 /* the write did not reach the disk */
};

/* Run statuses, as stored and printed. */
#define RUN_PENDING "pending" /* waiting for its first attempt */
#define RUN_RUNNING "running" /* leased by a worker */
#define RUN_SUCCEEDED "succeeded"
#define RUN_FAILED "failed"   /* an attempt failed; another is scheduled */
#define RUN_DEAD "dead"       /* gave up; replayable */
#define RUN_SKIPPED "skipped" /* the filter said no */

/* One event and the runs it starts, appended in one transaction. */
struct store_append {
    /* in (borrowed until done runs) */
    const char *source;
    const char *event_id;
    const char *type;
    int64_t received_at_ms;
    const char *payload;          /* JSON text */
    const char *envelope;         /* JSON text: method, path, headers, query, remote */
    const char *const *workflows; /* one run per name */
    const char *const *workflow_hashes;
    size_t n_runs;
    /* out */
    enum store_result result;
    int64_t event_row;
    /* completion, called on the writer thread after the commit (or the
     * failure); must not block */
    void (*done)(struct store_append *a, void *arg);
    void *arg;
    struct store_append *next_; /* the writer's queue */
};

/* A run handed to a worker by store_claim. */
struct claimed_step {
    int idx;
    char *name;
    char *status; /* "succeeded" or "failed" (continued past) */
    struct json_object *output;
};

struct claimed_run {
    int64_t id;
    int64_t event_row;
    char *workflow;
    char *workflow_hash;
    int attempts;    /* including this one */
    int budget_base; /* attempts before the last replay */
    int next_step;   /* index of the first step not yet done */
    char *source;
    char *event_id;
    char *type;
    int64_t received_at_ms;
    int64_t created_at_ms;
    struct json_object *payload;
    struct json_object *envelope;
    struct claimed_step *steps;
    size_t n_steps;
};

struct run_update;

/* A step result to checkpoint. */
struct step_record {
    int64_t run_id;
    int idx;
    const char *name;
    const char *status; /* "succeeded", "failed", "retry" */
    int attempt;
    const char *output; /* JSON text or NULL */
    const char *error;  /* NULL when none */
    int64_t started_at_ms;
    int64_t finished_at_ms;
    int next_step;                 /* >= 0: the run resumes here from now on (set in
                                      the same transaction as the checkpoint) */
    const struct run_update *then; /* when set, applied in the same write: the
                                      checkpoint and the run's new state land
                                      together (one commit, not two) */
};

/* The new state of a run after an attempt. */
struct run_update {
    int64_t run_id;
    const char *status; /* RUN_* */
    int next_step;
    int64_t next_attempt_at_ms; /* for pending/failed */
    const char *error;          /* may be NULL */
    const char *reason;         /* skipped: why; may be NULL */
    int64_t finished_at_ms;     /* 0 when not finished */
    bool undo_attempt;          /* the attempt did not happen (deferred by a
                                   limit or a shutdown): give it back */
    const char *workflow_hash;  /* the workflow version the run follows from
                                   now on; NULL leaves it as it is */
};

/* A row of `switchboard runs`. */
struct run_summary {
    int64_t id;
    char *workflow;
    char *status;
    int attempts;
    char *event_id;
    char *type;
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t next_attempt_at_ms;
    char *error;
};

struct run_filter {
    const char *status;   /* NULL: any */
    const char *workflow; /* NULL: any */
    int64_t since_ms;     /* 0: any */
    size_t limit;         /* 0: 100 */
};

struct store_stats {
    int64_t events;
    int64_t runs_by_status[6]; /* pending running succeeded failed dead skipped */
    int64_t commits;           /* transactions committed by this process */
    int64_t batched_writes;    /* writes in them */
    int64_t commit_failures;
};

/*
 * Open the store named by `url` ("sqlite:/path/to.db"), creating and
 * migrating the schema as needed, and start its writer. Returns 0 with
 * *out, or -1 with a message in err.
 */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
/* Finish every queued write, stop the writer, close. Accepts NULL. */
void store_close(struct store *s);

/* Whether the store named by `url` exists already (for SQLite: the file).
 * Commands that only read history check it, rather than create an empty
 * store where a mistyped --store points. */
bool store_exists(const char *url);

/* Queue an append; a->done runs after the commit. Returns 0, or -1 when the
 * store is closed (done is not called). */
int store_append_async(struct store *s, struct store_append *a);
/* Append and wait; returns a->result. */
enum store_result store_append(struct store *s, struct store_append *a);

/*
 * Claim up to `max` runs that are due (pending/failed with next attempt
 * reached, or running with an expired lease), leasing them to `owner` for
 * lease_ms. *out: caller owns, release with store_claimed_free.
 */
int store_claim(struct store *s, const char *owner, int64_t now_ms, int64_t lease_ms, size_t max,
                struct claimed_run **out, size_t *n);
void store_claimed_free(struct claimed_run *runs, size_t n);
/* Checkpoint a step result. 0 or -1. */
int store_step(struct store *s, const struct step_record *r);
/* Record the outcome of an attempt (clears the lease). 0 or -1. */
int store_update_run(struct store *s, const struct run_update *u);
/* Extend the leases of `owner` on these runs. */
int store_extend_leases(struct store *s, const char *owner, const int64_t *ids, size_t n,
                        int64_t until_ms);
/* Make every run leased by `owner` claimable again at once. */
int store_release_leases(struct store *s, const char *owner);
/* Due time of the earliest claimable run (INT64_MAX when none). */
int64_t store_next_due(struct store *s);

/* Make a dead or failed run (or every one matching filter, when run_id is
 * 0) pending again from the step that failed. *count gets how many. */
int store_replay(struct store *s, int64_t run_id, const struct run_filter *filter, int64_t now_ms,
                 size_t *count);

/* Runs, newest first. *out: caller owns, release with store_runs_free. */
int store_list_runs(struct store *s, const struct run_filter *f, struct run_summary **out,
                    size_t *n);
void store_runs_free(struct run_summary *runs, size_t n);
/* Everything about one run as JSON (event, steps, attempts). Caller owns;
 * NULL when there is no such run. */
struct json_object *store_show_run(struct store *s, int64_t run_id);
/* How many runs of `workflow` are not finished (pending, running, failed);
 * only those created under version `hash` when hash is not NULL. */
int store_unfinished_runs(struct store *s, const char *workflow, const char *hash, int64_t *n);
/* How many events a source has stored (a poller's seen items). */
int store_source_events(struct store *s, const char *source, int64_t *n);
/* Whether an event exists, and how many runs it has (tests, tools). */
int store_event_runs(struct store *s, const char *source, const char *event_id, int64_t *n_runs);

/* Trigger state. *value: caller owns (free), NULL when unset. */
int store_kv_get(struct store *s, const char *scope, const char *key, char **value);
int store_kv_set(struct store *s, const char *scope, const char *key, const char *value);
/* Every key of a scope as a JSON object of strings (caller owns), or NULL. */
struct json_object *store_kv_list(struct store *s, const char *scope);

/* Purge finished runs, and events left without runs, older than
 * older_than_ms. *purged gets the number of events removed. */
int store_purge(struct store *s, int64_t older_than_ms, size_t *purged);

/* A write that touches nothing, to prove the store is writable. 0 or -1. */
int store_ping(struct store *s);
void store_get_stats(struct store *s, struct store_stats *st);

#endif
