/*
 * slack.events: the Events API request URL. Every request is verified
 * (v0 signature) before its body is read. url_verification is answered
 * here with the challenge (text/plain) and creates nothing; event_callback
 * becomes one event (id = event_id, so Slack's retries with
 * X-Slack-Retry-Num are stored once; type = the inner event's type);
 * other envelopes (app_rate_limited) are acknowledged and dropped. Nothing
 * here touches the network: Slack wants its answer within 3 seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

const struct sb_param slack_events_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the app's signing secret (Basic Information > App Credentials), used as written"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rotating: the old signing secret, accepted as well until you remove it"},
    {.name = "tolerance",
     .type = SB_PARAM_DURATION,
     .def = "5m",
     .min = 1000,
     .max = 3600000,
     .help = "largest difference between X-Slack-Request-Timestamp and now, either way"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these event types start this workflow (globs: app_mention message "
             "reaction_*)"},
    SB_END,
};

#define MAX_TYPE 128
#define MAX_ID 256

/* Answer the URL check: 200 text/plain with the challenge, no event. */
static enum sb_status answer_challenge(const struct sb_host *sb, struct sb_call *call,
                                       struct json_object *body)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(body, "challenge", &v) ||
        !json_object_is_type(v, json_type_string))
        return sb->reject(call, 400, "url_verification without a challenge");
    const char *challenge = json_object_get_string(v);
    sb->log(call, SB_LOG_INFO, "answered Slack's url_verification");
    return sb->respond(call, 200, "text/plain", challenge, strlen(challenge));
}

/* One event for an event_callback envelope; `body` is consumed. */
static enum sb_status emit_callback(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req, struct json_object *body)
{
    char id[MAX_ID] = "", type[MAX_TYPE] = "event_callback";
    const char *event_id = slack_json_string(body, "event_id");
    if (event_id && *event_id)
        snprintf(id, sizeof(id), "%s", event_id);
    struct json_object *inner = NULL;
    if (json_object_object_get_ex(body, "event", &inner)) {
        const char *t = slack_json_string(inner, "type");
        if (t && *t)
            snprintf(type, sizeof(type), "%s", t);
    }
    const char *retry = sb->header(req, "X-Slack-Retry-Num");
    if (retry) {
        const char *reason = sb->header(req, "X-Slack-Retry-Reason");
        sb->log(call, SB_LOG_DEBUG, "Slack retry %s (%s) of %s", retry, reason ? reason : "?",
                id[0] ? id : "an event without event_id");
    }
    struct sb_event ev = SB_EVENT_INIT;
    /* without an event_id (Slack always sends one) the core makes an id */
    ev.id = id[0] ? id : NULL;
    ev.type = type;
    /* event ids are unique across a Slack app, whatever the hook path */
    ev.source = "slack";
    ev.payload = body;
    ev.payload_json = (const char *)req->body;
    ev.payload_json_len = req->body_len;
    return sb->emit(call, &ev);
}

enum sb_status slack_events_receive(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req)
{
    enum sb_status st = slack_verify_request(sb, call, req);
    if (st != SB_OK)
        return st;
    struct json_object *body = slack_parse_object((const char *)req->body, req->body_len);
    if (!body)
        return sb->reject(call, 400, "body is not a JSON object");
    const char *type = slack_json_string(body, "type");
    if (!type) {
        st = sb->reject(call, 400, "body has no type");
    } else if (strcmp(type, "url_verification") == 0) {
        st = answer_challenge(sb, call, body);
    } else if (strcmp(type, "event_callback") == 0) {
        return emit_callback(sb, call, req, body);
    } else if (strcmp(type, "app_rate_limited") == 0) {
        struct json_object *minute = NULL;
        json_object_object_get_ex(body, "minute_rate_limited", &minute);
        sb->log(call, SB_LOG_WARN,
                "Slack is dropping this app's events (more than 30,000 an hour; minute %s)",
                minute ? json_object_get_string(minute) : "?");
        st = SB_OK;
    } else {
        sb->log(call, SB_LOG_INFO, "ignored a Slack envelope of type '%.64s'", type);
        st = SB_OK;
    }
    json_object_put(body);
    return st;
}
