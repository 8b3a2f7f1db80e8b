/*
 * The dispatcher: a pool of worker threads that claim due runs from the
 * store with a lease and carry them out (run_exec.c). A keeper thread
 * extends the leases of runs in progress; a crashed or stopped engine's
 * runs are claimed again when their lease expires, here or on another node.
 */
#ifndef SB_DISPATCHER_H
#define SB_DISPATCHER_H

#include <stdbool.h>
#include <stdint.h>

struct engine;
struct dispatcher;
struct strbuf;

#define DISPATCHER_LEASE_MS 15000

int dispatcher_start(struct engine *e, int workers, struct dispatcher **out);
/* New runs were stored: wake an idle worker. Any thread. */
void dispatcher_notify(struct dispatcher *d);
/* Stop claiming, let steps in progress finish for up to grace_ms, then
 * release the leases of whatever is left. Returns true when every worker
 * finished (the dispatcher is freed), false when some are still inside an
 * action (the caller must then exit without freeing what they use). */
bool dispatcher_stop(struct dispatcher *d, int64_t grace_ms);
void dispatcher_metrics(struct dispatcher *d, struct strbuf *sb);

#endif
