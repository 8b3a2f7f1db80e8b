/*
 * Reloading workflows without a restart: on SIGHUP or a change in the
 * workflow folder (inotify), the whole new set is loaded and validated; if
 * any file has an error, the old set keeps running and the errors are logged
 * with file:line. Otherwise the new set is set up and swapped in: new
 * requests and new runs use it, runs that have begun finish with the
 * version they began with (that version stays loaded until they are done),
 * and a removed workflow's unfinished runs are kept and reported.
 */
#ifndef SB_RELOAD_H
#define SB_RELOAD_H

#include <stdint.h>

struct engine;

/* Reload now; `why` is for the log ("SIGHUP", "workflows changed"). */
void reload_now(struct engine *e, const char *why);

/* Watch the workflow folder; -1 when inotify is unavailable (logged). */
int reload_watch_start(struct engine *e);
void reload_watch_stop(void);
/* Called from the main loop a few times a second: reloads after the folder
 * changed and went quiet, and lets go of old versions no run needs. */
void reload_tick(struct engine *e);

#endif
