/*
 * slack.command: a slash command's request URL. The form body is verified
 * (v0 signature over the raw bytes) and only then decoded. The command is
 * stored as an event (id = trigger_id) and acknowledged at once, within
 * Slack's 3 seconds: with the rendered `response` as
 * {"response_type": ..., "text": ...}, or with an empty 200. The core sends
 * that answer once the event is on disk. Later replies go through
 * slack.respond and the command's response_url.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

static const char *const response_types[] = {"ephemeral", "in_channel", NULL};

const struct sb_param slack_command_params[] = {
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
     .help = "only these commands start this workflow (globs: /lookup /deploy-*)"},
    {.name = "response",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_SLACK,
     .help = "immediate reply shown to the user, e.g. Looking up {{ event.text }}...; inserted "
             "values are Slack-escaped (& < >); unset: an empty 200; with several workflows on "
             "one path, the first one's"},
    {.name = "response_type",
     .type = SB_PARAM_ENUM,
     .def = "ephemeral",
     .values = response_types,
     .help = "who sees the immediate reply: ephemeral (only the user) or in_channel"},
    SB_END,
};

/* {"response_type": ..., "text": ...} as text into *out (release with
 * free), or NULL when memory ran out. */
static char *reply_json(const char *response_type, const char *text)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "response_type", json_object_new_string(response_type));
    json_object_object_add(o, "text", json_object_new_string(text));
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *copy = s ? strdup(s) : NULL;
    json_object_put(o);
    return copy;
}

enum sb_status slack_command_receive(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_request *req)
{
    enum sb_status st = slack_verify_request(sb, call, req);
    if (st != SB_OK)
        return st;
    struct json_object *form = sb->form_decode((const char *)req->body, req->body_len);
    if (!form || !json_object_is_type(form, json_type_object)) {
        json_object_put(form);
        return sb->reject(call, 400, "body is not form data");
    }
    /* Slack checks the certificate of a command's URL with ssl_check=1 */
    const char *ssl_check = slack_json_string(form, "ssl_check");
    if (ssl_check && strcmp(ssl_check, "1") == 0) {
        json_object_put(form);
        return sb->respond(call, 200, "text/plain", "", 0);
    }
    const char *command = slack_json_string(form, "command");
    if (!command || !*command) {
        json_object_put(form);
        return sb->reject(call, 400, "no command in the form");
    }
    const char *trigger_id = slack_json_string(form, "trigger_id");
    char *type = strdup(command);
    char *id = trigger_id && *trigger_id ? strdup(trigger_id) : NULL;
    char *reply = NULL;
    if (!type || (trigger_id && *trigger_id && !id)) {
        st = sb->fail(call, "out of memory");
        json_object_put(form);
        goto out;
    }
    /* the reply is rendered before emit, which takes the payload */
    if (sb->param_string(call, "response")) {
        char *text = NULL;
        if (sb->render_param(call, "response", form, &text) == 0) {
            reply = reply_json(sb->param_string(call, "response_type"), text);
            sb->free(text);
            if (!reply) {
                st = sb->fail(call, "out of memory");
                json_object_put(form);
                goto out;
            }
        }
        /* else the core logged why; the command is still acknowledged */
    }
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id; /* NULL: the core makes one */
    ev.type = type;
    ev.payload = form;
    st = sb->emit(call, &ev);
    if (st != SB_OK)
        goto out;
    if (reply)
        st = sb->respond(call, 200, "application/json", reply, strlen(reply));
    else
        st = sb->respond(call, 200, "text/plain", "", 0);
out:
    free(reply);
    free(id);
    free(type);
    return st;
}
