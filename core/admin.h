/*
 * The admin API, behind `Authorization: Bearer <[server] admin_token>`:
 *   GET  /admin/runs?status=&workflow=&limit=   runs, newest first
 *   GET  /admin/runs/<id>                       one run in full
 *   POST /admin/runs/<id>/replay                replay a dead or failed run
 *   POST /admin/replay?workflow=&since=         replay every dead or failed run
 * Off (404) when no admin_token is set.
 */
#ifndef SB_ADMIN_H
#define SB_ADMIN_H

#include <stddef.h>

struct engine;

/* Look up a query parameter of the current request; NULL when absent. */
typedef const char *(*admin_query_fn)(void *ctx, const char *name);

/* Answer an /admin/ request: *status and *body (JSON, caller frees). */
void admin_handle(struct engine *e, const char *method, const char *url, const char *auth,
                  admin_query_fn query, void *query_ctx, int *status, char **body);

#endif
