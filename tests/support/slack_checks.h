/*
 * slack_checks: Slack's side of a stand-in (standin.h). Two ways to use it:
 *
 * 1. Checks only, with your own scripts: register a check function on a
 *    route and script the answers as usual. The check answers like Slack
 *    when a request is malformed and lets the script answer otherwise:
 *        standin_check(s, "POST", "/api/chat.postMessage", slack_check_web_api, NULL);
 *        standin_script(s, "POST", "/api/chat.postMessage", &ok_reply, 1);
 *
 * 2. A whole fake Slack (slack_api_install): checks, then scripted faults
 *    (queued per route), then Slack's success answer with an increasing ts,
 *    with every accepted message recorded. Routes, under standin_url(s):
 *        POST /api/chat.postMessage  and  /api/chat.update   (api_base = <url>/api)
 *        POST /services/...          incoming webhooks        (answers "ok")
 *        POST /commands/...          response_url             (answers {"ok":true})
 *
 * What the checks enforce (as Slack does, answering HTTP 200
 * {"ok": false, "error": ...} on the Web API):
 *   Authorization missing -> not_authed; not "Bearer xoxb-..."/"Bearer
 *   xoxp-..." -> invalid_auth; Content-Type not application/json ->
 *   invalid_form_data (without charset=utf-8: accepted with
 *   "warning": "missing_charset"); body not a JSON object -> invalid_json;
 *   a parameter the method does not take, or a flag that is not a boolean
 *   -> invalid_arguments; channel empty -> channel_not_found; chat.update
 *   without ts -> message_not_found; blocks not an array ->
 *   invalid_blocks_format; neither text nor blocks -> no_text.
 * Incoming webhooks answer plain text with an HTTP status: a body that is
 * not JSON -> 400 invalid_payload; neither text nor blocks -> 400 no_text.
 * response_url: the same, with JSON {"ok": false, "error": ...} answers.
 */
#ifndef SB_SLACK_CHECKS_H
#define SB_SLACK_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "standin.h"

/* Checks for standin_check (arg unused, may be NULL): the Web API methods
 * chat.postMessage and chat.update (by the request's path), an incoming
 * webhook, a response_url. They return true (the script answers) when the
 * request is one Slack would accept. */
bool slack_check_web_api(void *arg, const struct standin_request *req, struct standin_reply *reply,
                         char *buf, size_t buflen);
bool slack_check_incoming_webhook(void *arg, const struct standin_request *req,
                                  struct standin_reply *reply, char *buf, size_t buflen);
bool slack_check_response_url(void *arg, const struct standin_request *req,
                              struct standin_reply *reply, char *buf, size_t buflen);

/* --- the fake Slack --------------------------------------------------------- */

enum slack_route {
    SLACK_POST_MESSAGE = 0, /* POST /api/chat.postMessage */
    SLACK_UPDATE = 1,       /* POST /api/chat.update */
    SLACK_WEBHOOK = 2,      /* POST /services/... */
    SLACK_RESPONSE_URL = 3, /* POST /commands/... */
    SLACK_N_ROUTES = 4,
};

struct slack_api;

/* A message the fake accepted. */
struct slack_message {
    char *channel; /* "" for webhooks and response_url */
    char *text;    /* "" when only blocks were sent */
    char *ts;      /* the ts answered (Web API), else "" */
    char *body;    /* the request body as sent */
    char *content_type;
    char *authorization; /* "" when absent */
    int64_t at_ms;       /* when it arrived */
};

/* Install the checks and answers on the stand-in's Slack routes. Stop the
 * stand-in before slack_api_free. Aborts on out of memory (test code). */
struct slack_api *slack_api_install(struct standin *s);
void slack_api_free(struct slack_api *api);

/* Queue one fault for the next request of `route` that passes the checks.
 * Faults are answered in the order queued. */
/* Web API: HTTP 200 {"ok": false, "error": code}. response_url: HTTP 404
 * {"ok": false, "error": code}. Webhook: use slack_api_fail_http. */
void slack_api_fail_next(struct slack_api *api, enum slack_route route, const char *code);
/* Any status with a body (plain text for webhooks, e.g. 404
 * "channel_not_found"); content_type NULL means text/plain. */
void slack_api_fail_http(struct slack_api *api, enum slack_route route, int status,
                         const char *content_type, const char *body);
/* HTTP 429 with Retry-After: seconds (no header when seconds < 0). */
void slack_api_rate_limit_next(struct slack_api *api, enum slack_route route, int seconds);

/* Enforce Slack's posting limit on chat.postMessage: per channel, a bucket
 * of `burst` messages refilled one per `per_ms`; a message over it gets
 * HTTP 429 with Retry-After: 1 and is not recorded. per_ms 0 turns it off. */
void slack_api_enforce_rate(struct slack_api *api, int64_t per_ms, int burst);

/* Messages accepted on a route, and the i-th one (copy; release with
 * slack_message_release). */
size_t slack_api_accepted(struct slack_api *api, enum slack_route route);
bool slack_api_message(struct slack_api *api, enum slack_route route, size_t i,
                       struct slack_message *out);
void slack_message_release(struct slack_message *m);
/* Requests of a route answered with an error (failed checks, faults, rate
 * limit). */
size_t slack_api_refused(struct slack_api *api, enum slack_route route);
/* 429s answered by the enforced rate (not the queued ones). */
size_t slack_api_over_rate(struct slack_api *api);
/* Wait until `n` messages were accepted on the route; false on timeout. */
bool slack_api_wait(struct slack_api *api, enum slack_route route, size_t n, int64_t timeout_ms);
/* Forget messages, faults and counters (the checks stay). */
void slack_api_reset(struct slack_api *api);

#endif
