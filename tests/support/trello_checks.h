/*
 * A Trello REST API stand-in for tests (connectors.md 4.4), installed on a
 * struct standin for every route under /1/.
 *
 * What it checks, answering as Trello does (text/plain messages):
 *   - authentication: the key and token in the header
 *     Authorization: OAuth oauth_consumer_key="<key>", oauth_token="<token>"
 *     (both quoted) -> else 401 "invalid key" / "invalid token"; a key or
 *     token in the query string is refused with 400 (Trello would take it,
 *     but then the credentials sit in URLs and logs: the connector must
 *     never send them there);
 *   - a body is JSON (Content-Type application/json, an object) -> else
 *     400 "invalid JSON";
 *   - POST /1/cards: idList present and a 24-hex id -> else 400 "invalid
 *     value for idList"; pos top|bottom|positive number, idLabels and
 *     idMembers comma-separated ids, due a string, name and desc strings ->
 *     else 400 "invalid value for <field>"; a field Trello does not know ->
 *     400 "unknown field" (stricter than Trello, which ignores it, so a
 *     misspelt field cannot pass unnoticed);
 *   - PUT /1/cards/{card}: the card is a 24-hex id or an 8-character short
 *     link -> else 400 "invalid id"; idList and pos as above;
 *   - POST /1/cards/{card}/actions/comments: text of 1-16384 characters ->
 *     else 400 "invalid value for text".
 * Valid requests get the queued faults first (trello_api_fail_next), then
 * a realistic answer built from the request: the card
 * {"id":"5abbe4b7ddc1b351ef961414","name":...,"idList":...,
 *  "url":"https://trello.com/c/AbCd1234/1-<name>","shortUrl":"https://trello.com/c/AbCd1234",...}
 * or the commentCard action. Other routes under /1/ are left to the
 * stand-in's scripts.
 */
#ifndef SB_TRELLO_CHECKS_H
#define SB_TRELLO_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

struct standin;
struct trello_api;

#define TRELLO_CARD_ID "5abbe4b7ddc1b351ef961414"
#define TRELLO_CARD_SHORT_URL "https://trello.com/c/AbCd1234"

/* Install on `s` (every method, every path under /1/), accepting exactly
 * this key and token. Free with trello_api_free after standin_stop(s).
 * Aborts on out of memory (test code). */
struct trello_api *trello_api_install(struct standin *s, const char *key, const char *token);
void trello_api_free(struct trello_api *t);

/* Answer the next valid request with this status and body (queued in
 * order; content_type NULL means application/json). A 429 as Trello sends
 * it: status 429, body
 * {"error":"API_TOKEN_LIMIT_EXCEEDED","message":"Rate limit exceeded"}. */
void trello_api_fail_next(struct trello_api *t, int status, const char *content_type,
                          const char *body);

/* Webhooks (connectors.md 4.1), kept per stand-in for the one token:
 *   POST /1/webhooks {callbackURL, idModel (24-hex), description}: first a
 *   HEAD to callbackURL, which must answer 200 (else 400 "URL (...) did not
 *   return 200 status code, got N"); the same callback and model twice is
 *   400 "A webhook with that callback, model, and token already exists";
 *   GET /1/tokens/{token}/webhooks (the token in the path must be the
 *   one of the Authorization header); DELETE /1/webhooks/{id} (404 when
 *   unknown). How many it holds: */
size_t trello_api_webhooks(struct trello_api *t);

/* Requests answered with a card or comment (created), and requests refused
 * by a check (faults not counted). */
size_t trello_api_created(struct trello_api *t);
size_t trello_api_refused(struct trello_api *t);

#endif
