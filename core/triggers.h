/*
 * Emitting triggers: POLL triggers polled on a thread of their own each,
 * at their interval or the time they ask for; THREAD triggers started and
 * stopped. Also the reload of workflows (SIGHUP, or a change in the
 * workflow folder), which restarts the emitting triggers of the new set.
 */
#ifndef SB_TRIGGERS_H
#define SB_TRIGGERS_H

struct engine;
struct triggers;

int triggers_start(struct engine *e, struct triggers **out);
void triggers_stop(struct triggers *t);
/* Called about once a second from the main loop. */
void triggers_tick(struct engine *e);
/* Reload the workflows; the old set keeps running if the new one has an
 * error. `why` is for the log. */
void triggers_reload(struct engine *e, const char *why);

#endif
