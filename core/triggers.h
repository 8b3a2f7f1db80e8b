/*
 * Emitting triggers: POLL triggers polled on a thread of their own each,
 * at their interval or the time they ask for; THREAD triggers started and
 * stopped. A reload (reload.c) stops them and starts those of the new set.
 */
#ifndef SB_TRIGGERS_H
#define SB_TRIGGERS_H

struct engine;
struct triggers;

int triggers_start(struct engine *e, struct triggers **out);
void triggers_stop(struct triggers *t);

#endif
