/*
 * A stand-in of the Mailchimp Marketing API 3.0 on top of standin.h, served
 * under /3.0 (point api_base at standin_url(s) + "/3.0"). It checks what
 * the real API checks on the routes the mailchimp plugin calls, and
 * answers as Mailchimp does, with RFC 7807 problem documents:
 *   - every route: Authorization is "Basic base64(<any user>:<key>)" with
 *     the configured key (which ends in -<dc>), else 401 "API Key Invalid";
 *   - bodies are JSON with Content-Type application/json, else 400;
 *   - PUT  /3.0/lists/{list}/members/{hash}: the list exists (else 404
 *     "Resource Not Found"); {hash} is md5(lowercase(trim(email_address)))
 *     of the body (else 400 "Invalid Resource"); only known member fields;
 *     status_if_new and status are valid statuses, status_if_new is present
 *     when the member is new; answers 200 with the member;
 *   - POST /3.0/lists/{list}/members/{hash}/tags: the member exists; the
 *     body is {"tags": [{"name": ..., "status": "active"|"inactive"}]};
 *     answers 204 without a body;
 *   - GET  /3.0/lists/{list}/members/{hash}: the member, or 404;
 *   - GET  /3.0/ping: {"health_status": "Everything's Chimpy!"}.
 * Injected replies (mailchimp_standin_inject) answer before any check, as a
 * throttled API does.
 */
#ifndef SB_MAILCHIMP_CHECKS_H
#define SB_MAILCHIMP_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "standin.h"

struct mailchimp_standin;

/* Serve the API on `s` (which must outlive it) for the key `api_key` and
 * the audiences `lists` (NULL-terminated). NULL when out of memory. */
struct mailchimp_standin *mailchimp_standin_new(struct standin *s, const char *api_key,
                                                const char *const *lists);
/* Remove the checks from the stand-in and free. Accepts NULL. */
void mailchimp_standin_free(struct mailchimp_standin *m);

/* The next n requests for METHOD PATH (method "*" any; path may end in '*'
 * for a prefix) get these replies, in order, before any check (the strings
 * are copied). Later requests are served normally again. */
void mailchimp_standin_inject(struct mailchimp_standin *m, const char *method, const char *path,
                              const struct standin_reply *replies, size_t n);

/* A member's status ("subscribed", ...) into out, or false when the list
 * has no member with that subscriber hash. */
bool mailchimp_standin_member_status(struct mailchimp_standin *m, const char *list,
                                     const char *hash, char *out, size_t len);
/* Whether the member has the tag active. */
bool mailchimp_standin_member_has_tag(struct mailchimp_standin *m, const char *list,
                                      const char *hash, const char *tag);

/* md5(lowercase(trim(email))) as 32 hex digits, computed with OpenSSL
 * (independently of the plugin). */
void mailchimp_subscriber_hash_ref(const char *email, char out[33]);

#endif
