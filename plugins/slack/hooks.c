/*
 * slack.incoming_webhook and slack.respond: messages POSTed as JSON to a
 * URL Slack gave out (an incoming webhook, or a command's response_url).
 * There is no token: the URL is the credential. Incoming webhooks answer
 * 200 "ok", or a plain-text error code with a 4xx/5xx status
 * (invalid_payload 400, action_prohibited 403, channel_not_found 404,
 * no_service 404, channel_is_archived 410, rollup_error 500): 429 and 5xx
 * retry, other statuses fail with Slack's text. response_url answers are
 * read the same way, and a JSON {"ok": false, "error": ...} fails too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

static const char *const response_types[] = {"ephemeral", "in_channel", NULL};

const struct sb_param slack_incoming_webhook_params[] = {
    {.name = "url",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the webhook URL, https://hooks.slack.com/services/T.../B.../...; it is the "
             "credential, so give it as ${env:NAME}"},
    SLACK_CONTENT_PARAMS,
    SB_END,
};

const struct sb_param slack_respond_params[] = {
    {.name = "response_url",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE | SB_PARAM_SENSITIVE,
     .escape = SB_ESCAPE_URL,
     .help = "where to reply: the command's or interaction's response_url, usually "
             "{{ event.response_url }}"},
    SLACK_CONTENT_PARAMS,
    {.name = "response_type",
     .type = SB_PARAM_ENUM,
     .def = "ephemeral",
     .values = response_types,
     .help = "who sees the reply: ephemeral (only the user who ran the command) or in_channel"},
    {.name = "replace_original",
     .type = SB_PARAM_BOOL,
     .help = "replace the message the response_url belongs to (Slack's default when unset: a "
             "new message)"},
    SB_END,
};

/* Map the answer of a webhook-style URL; releases resp. `what` names the
 * action in messages ("slack webhook"). */
static enum sb_status url_result(const struct sb_host *sb, struct sb_call *call, const char *what,
                                 int rc, struct sb_http_response *resp)
{
    enum sb_status st;
    struct json_object *answer = NULL;
    if (rc == SB_HTTP_DRY_RUN) {
        slack_dry_run_output(sb, call);
        st = SB_OK;
        goto out;
    }
    if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "%s: %s", what, resp->error);
        goto out;
    }
    long status = resp->status;
    char text[201];
    slack_snippet(resp->body, resp->body_len, text, sizeof(text));
    /* a JSON answer carries its code in "error"; a plain one is the code */
    answer = slack_parse_object(resp->body, resp->body_len);
    const char *code = slack_json_string(answer, "error");
    const char *why = code ? code : text[0] ? text : "(empty answer)";
    if (status == 429) {
        st = sb->retry(call, slack_retry_after_429(resp), "%s: rate limited (HTTP 429)", what);
    } else if (status >= 500) {
        st = sb->retry(call, resp->retry_after_s, "%s: HTTP %ld %s", what, status, why);
    } else if (status < 200 || status >= 300) {
        st = sb->fail(call, "%s: HTTP %ld %s", what, status, why);
    } else {
        struct json_object *ok = NULL;
        if (answer && json_object_object_get_ex(answer, "ok", &ok) &&
            json_object_is_type(ok, json_type_boolean) && !json_object_get_boolean(ok)) {
            st = sb->fail(call, "%s: %s", what, code ? code : "unknown_error");
            goto out;
        }
        struct json_object *out = json_object_new_object();
        if (!out) {
            st = sb->fail(call, "out of memory");
            goto out;
        }
        json_object_object_add(out, "ok", json_object_new_boolean(1));
        json_object_object_add(out, "status", json_object_new_int64(status));
        sb->set_output(call, out);
        st = SB_OK;
    }
out:
    json_object_put(answer);
    sb->http_release(resp);
    return st;
}

enum sb_status slack_incoming_webhook_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *url = sb->param_string(call, "url");
    if (!url || !*url)
        return sb->fail(call, "url is empty");
    struct json_object *body = json_object_new_object();
    if (!body)
        return sb->fail(call, "out of memory");
    enum sb_status st = slack_add_content(sb, call, body);
    if (st != SB_OK) {
        json_object_put(body);
        return st;
    }
    struct sb_http_response resp;
    int rc = slack_post_json(sb, call, url, NULL, body, &resp);
    json_object_put(body);
    return url_result(sb, call, "slack webhook", rc, &resp);
}

enum sb_status slack_respond_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *url = sb->param_string(call, "response_url");
    if (!url || !*url)
        return sb->fail(call, "response_url is empty (is this event a command or an interaction?)");
    struct json_object *body = json_object_new_object();
    if (!body)
        return sb->fail(call, "out of memory");
    enum sb_status st = slack_add_content(sb, call, body);
    if (st != SB_OK) {
        json_object_put(body);
        return st;
    }
    const char *type = sb->param_string(call, "response_type");
    json_object_object_add(body, "response_type",
                           json_object_new_string(type ? type : "ephemeral"));
    if (sb->param_json(call, "replace_original"))
        json_object_object_add(
            body, "replace_original",
            json_object_new_boolean(sb->param_bool(call, "replace_original", false)));
    struct sb_http_response resp;
    int rc = slack_post_json(sb, call, url, NULL, body, &resp);
    json_object_put(body);
    return url_result(sb, call, "slack respond", rc, &resp);
}
