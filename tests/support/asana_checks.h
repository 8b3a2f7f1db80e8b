/*
 * An Asana API stand-in for tests (connectors.md 9), installed on a struct
 * standin for every route under /api/1.0/ (point api_base at
 * standin_url(s) + "/api/1.0").
 *
 * What it checks, answering as Asana does ({"errors":[{"message","help"}]}):
 *   - Authorization: Bearer <the token> -> else 401 "Not Authorized";
 *   - a body is {"data": {...}} with Content-Type application/json -> else
 *     400;
 *   - POST /tasks: data.name a string; workspace a known workspace gid, or
 *     projects known project gids (one of them needed); due_on YYYY-MM-DD;
 *     only the fields create_task sends (name, notes, workspace, projects,
 *     assignee, due_on) -> else 400 naming the field. Answers 201 with the
 *     task, permalink_url included;
 *   - POST /tasks/{gid}/stories: the task exists (else 404 "task: Unknown
 *     object"), data.text non-empty. Answers 201 with the story;
 *   - writes in flight: more than 15 at once -> 429 (Asana's concurrency
 *     limit), counted by asana_api_max_writes;
 *   - POST /webhooks {"data":{"resource","target"}}: the handshake, as
 *     Asana makes it: a POST to target with a new X-Hook-Secret, which must
 *     answer 200/204 echoing it (else 400 "The remote server did not
 *     respond with the handshake secret"); then 201 with the webhook;
 *   - GET /webhooks/{gid}, GET /webhooks?workspace=W[&resource=R] (workspace
 *     required), DELETE /webhooks/{gid}: the webhooks it holds, or 404.
 * Valid requests get the queued faults first (asana_api_fail_next).
 */
#ifndef SB_ASANA_CHECKS_H
#define SB_ASANA_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

struct standin;
struct asana_api;

#define ASANA_WORKSPACE "1200000000000000"
#define ASANA_PROJECT "1201234567890123"

/* Install on `s` for this token. Free with asana_api_free after
 * standin_stop(s). Aborts on out of memory (test code). */
struct asana_api *asana_api_install(struct standin *s, const char *token);
void asana_api_free(struct asana_api *a);

/* Hold every write this long before answering (0: none), so writes
 * overlap. */
void asana_api_write_delay(struct asana_api *a, int ms);
/* Answer the next valid request with this status, body and extra header
 * lines ("Retry-After: 1\n", may be NULL). */
void asana_api_fail_next(struct asana_api *a, int status, const char *body, const char *headers);

/* Tasks and comments made, requests refused by a check, the most writes
 * that were in flight at once. */
size_t asana_api_tasks(struct asana_api *a);
size_t asana_api_comments(struct asana_api *a);
size_t asana_api_refused(struct asana_api *a);
size_t asana_api_max_writes(struct asana_api *a);

/* Webhooks held, and the secret of the last one made (into out). */
size_t asana_api_webhooks(struct asana_api *a);
bool asana_api_last_secret(struct asana_api *a, char *out, size_t len);

/* Deliver `body` to the last webhook's target as Asana does: POST with
 * X-Hook-Signature (hex HMAC-SHA256 with its secret). The HTTP status, 0
 * when there is no webhook or no answer. */
long asana_api_deliver(struct asana_api *a, const char *body);

#endif
