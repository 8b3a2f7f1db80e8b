/*
 * Carrying out one attempt of a run: the filter, then each step not yet
 * done, in file order: render its parameters, wait for its limit, call the
 * action, checkpoint the result before the next step starts. Retries are
 * scheduled from the failed step; a run that gives up is dead and its
 * [on_failure] steps run once.
 */
#ifndef SB_RUN_EXEC_H
#define SB_RUN_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "call.h"
#include "limiter.h"
#include "store.h"
#include "strbuf.h"
#include "workflow.h"

struct exec_env {
    struct store *store;     /* NULL: nothing is persisted (fire) */
    struct limiter *limiter; /* may be NULL: no limits */
    const struct call_hooks *hooks;
    const atomic_bool *stopping; /* may be NULL */
    bool dry_run;
    struct strbuf *dry_out; /* dry runs: requests go here (else stdout) */
    FILE *report;           /* fire: each step's result is printed here */
};

/* What the attempt came to. */
struct exec_result {
    const char *status; /* RUN_SUCCEEDED, RUN_FAILED, RUN_DEAD, RUN_SKIPPED, or
                           RUN_PENDING when deferred (limit, shutdown) */
    int64_t next_attempt_at_ms;
    char error[1300]; /* room for a step's error (1024) and its prefix */
};

/* The idempotency key of (event, workflow, step): stable across retries and
 * replays. out: at least 40 bytes. */
void exec_idempotency_key(const char *source, const char *event_id, const char *workflow,
                          const char *step, char *out, size_t outlen);

/* Carry out the run `r` (as claimed) with workflow `wf`. */
void exec_run(const struct exec_env *env, const struct workflow *wf, struct claimed_run *r,
              struct exec_result *out);

#endif
