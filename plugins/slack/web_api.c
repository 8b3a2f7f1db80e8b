/*
 * slack.post_message (chat.postMessage) and slack.update_message
 * (chat.update): JSON bodies with a bearer token. Slack answers HTTP 200
 * even when a call fails, so the result is read from the body:
 *   {"ok": true, ...}               success (a "warning" is logged);
 *   {"ok": false, "error": code}    transient codes (ratelimited,
 *                                   internal_error, ...) retry, others fail
 *                                   with "slack: <code>";
 *   HTTP 429                        retry after Retry-After (1 s if absent);
 *   HTTP 5xx, network errors        retry; other statuses fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

#define DEFAULT_API_BASE "https://slack.com/api"

#define TOKEN_PARAM                                                                                \
    {                                                                                              \
        .name = "token", .type = SB_PARAM_SECRET, .flags = SB_PARAM_REQUIRED,                      \
        .help = "the bot (xoxb-) or user (xoxp-) token, with the chat:write scope"                 \
    }
#define API_BASE_PARAM                                                                             \
    {                                                                                              \
        .name = "api_base", .type = SB_PARAM_STRING, .def = DEFAULT_API_BASE,                      \
        .help = "the Web API's base URL; the method name is appended (/chat.postMessage, "         \
                "/chat.update)"                                                                    \
    }

const struct sb_param slack_post_message_params[] = {
    TOKEN_PARAM,
    {.name = "channel",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "a channel ID (C0123ABCD), a #name, or a user ID for a DM"},
    SLACK_CONTENT_PARAMS,
    {.name = "thread_ts",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "reply in the thread of this message ts, e.g. {{ steps.post.ts }}"},
    {.name = "unfurl_links",
     .type = SB_PARAM_BOOL,
     .help = "unfurl links to text-based content (Slack's default when unset)"},
    {.name = "unfurl_media",
     .type = SB_PARAM_BOOL,
     .help = "unfurl links to media (Slack's default when unset)"},
    {.name = "mrkdwn",
     .type = SB_PARAM_BOOL,
     .def = "true",
     .help = "format text as mrkdwn (*bold*, _italic_, links); false sends it as plain text"},
    API_BASE_PARAM,
    SB_END,
};

const struct sb_param slack_update_message_params[] = {
    TOKEN_PARAM,
    {.name = "channel",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the channel ID of the message, e.g. {{ steps.post.channel }}"},
    {.name = "ts",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the ts of the message to edit, e.g. {{ steps.post.ts }}"},
    SLACK_CONTENT_PARAMS,
    API_BASE_PARAM,
    SB_END,
};

/* "https://slack.com/archives/<channel>/p<ts without the dot>" into out;
 * false when channel or ts is missing. */
static bool make_link(const char *channel, const char *ts, char *out, size_t out_size)
{
    if (!channel || !*channel || !ts || !*ts)
        return false;
    char digits[64];
    size_t n = 0;
    for (const char *p = ts; *p && n + 1 < sizeof(digits); p++)
        if (*p != '.')
            digits[n++] = *p;
    digits[n] = '\0';
    int w = snprintf(out, out_size, "https://slack.com/archives/%s/p%s", channel, digits);
    return w > 0 && (size_t)w < out_size;
}

/* The step output from a successful answer: ok, channel, ts, message,
 * link. */
static struct json_object *success_output(struct json_object *answer)
{
    struct json_object *out = json_object_new_object();
    if (!out)
        return NULL;
    json_object_object_add(out, "ok", json_object_new_boolean(1));
    static const char *const keep[] = {"channel", "ts", "message", "warning"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        struct json_object *v = NULL;
        if (json_object_object_get_ex(answer, keep[i], &v) && v)
            json_object_object_add(out, keep[i], json_object_get(v));
    }
    char link[512];
    if (make_link(slack_json_string(answer, "channel"), slack_json_string(answer, "ts"), link,
                  sizeof(link)))
        json_object_object_add(out, "link", json_object_new_string(link));
    return out;
}

/* A dry run's output: what is known without Slack (the channel as given,
 * the ts to edit or a placeholder), so later steps of `fire --dry-run`
 * still render. */
static void dry_run_output(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *out = json_object_new_object();
    if (out) {
        const char *channel = sb->param_string(call, "channel");
        const char *ts = sb->param_string(call, "ts");
        json_object_object_add(out, "dry_run", json_object_new_boolean(1));
        json_object_object_add(out, "ok", json_object_new_boolean(1));
        json_object_object_add(out, "channel", json_object_new_string(channel ? channel : ""));
        json_object_object_add(out, "ts", json_object_new_string(ts ? ts : "0000000000.000000"));
    }
    sb->set_output(call, out);
}

/* Map a Web API answer to the step result; releases resp. */
static enum sb_status web_api_result(const struct sb_host *sb, struct sb_call *call,
                                     const char *method, int rc, struct sb_http_response *resp)
{
    enum sb_status st;
    struct json_object *answer = NULL;
    char snippet[201];
    if (rc == SB_HTTP_DRY_RUN) {
        dry_run_output(sb, call);
        st = SB_OK;
        goto out;
    }
    if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "slack %s: %s", method, resp->error);
        goto out;
    }
    long status = resp->status;
    answer = slack_parse_object(resp->body, resp->body_len);
    const char *code = slack_json_string(answer, "error");
    slack_snippet(resp->body, resp->body_len, snippet, sizeof(snippet));
    if (status == 429) {
        st = sb->retry(call, slack_retry_after_429(resp), "slack %s: rate limited (HTTP 429)",
                       method);
        goto out;
    }
    if (status >= 500) {
        st = sb->retry(call, resp->retry_after_s, "slack %s: HTTP %ld %s", method, status,
                       code ? code : snippet);
        goto out;
    }
    if (status < 200 || status >= 300) {
        st = sb->fail(call, "slack %s: HTTP %ld %s", method, status, code ? code : snippet);
        goto out;
    }
    struct json_object *ok = NULL;
    if (!answer || !json_object_object_get_ex(answer, "ok", &ok) ||
        !json_object_is_type(ok, json_type_boolean)) {
        st = sb->fail(call, "slack %s: unexpected answer (HTTP %ld): %s", method, status, snippet);
        goto out;
    }
    if (!json_object_get_boolean(ok)) {
        if (!code)
            code = "unknown_error";
        if (slack_error_is_transient(code)) {
            bool limited = strcmp(code, "ratelimited") == 0 || strcmp(code, "rate_limited") == 0;
            st = sb->retry(call, limited ? slack_retry_after_429(resp) : resp->retry_after_s,
                           "slack: %s (%s)", code, method);
            goto out;
        }
        /* missing_scope says which scope the token lacks */
        const char *needed = slack_json_string(answer, "needed");
        if (needed)
            st = sb->fail(call, "slack: %s (%s; needed: %s)", code, method, needed);
        else
            st = sb->fail(call, "slack: %s (%s)", code, method);
        goto out;
    }
    const char *warning = slack_json_string(answer, "warning");
    if (warning)
        sb->log(call, SB_LOG_WARN, "slack %s succeeded with a warning: %s", method, warning);
    struct json_object *output = success_output(answer);
    if (!output) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    sb->set_output(call, output);
    st = SB_OK;
out:
    json_object_put(answer);
    sb->http_release(resp);
    return st;
}

/* POST the body to <api_base>/<method> with the token. Consumes body. */
static enum sb_status call_method(const struct sb_host *sb, struct sb_call *call,
                                  const char *method, struct json_object *body)
{
    const char *base = sb->param_string(call, "api_base");
    if (!base)
        base = DEFAULT_API_BASE;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    size_t n = blen + strlen(method) + 2;
    char *url = malloc(n);
    if (!url) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    snprintf(url, n, "%.*s/%s", (int)blen, base, method);
    struct sb_http_response resp;
    int rc = slack_post_json(sb, call, url, sb->param_string(call, "token"), body, &resp);
    free(url);
    json_object_put(body);
    return web_api_result(sb, call, method, rc, &resp);
}

/* A new body with "channel", or NULL (out of memory). */
static struct json_object *body_for_channel(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *body = json_object_new_object();
    if (!body)
        return NULL;
    const char *channel = sb->param_string(call, "channel");
    json_object_object_add(body, "channel", json_object_new_string(channel ? channel : ""));
    return body;
}

enum sb_status slack_post_message_run(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *body = body_for_channel(sb, call);
    if (!body)
        return sb->fail(call, "out of memory");
    enum sb_status st = slack_add_content(sb, call, body);
    if (st != SB_OK) {
        json_object_put(body);
        return st;
    }
    const char *thread_ts = sb->param_string(call, "thread_ts");
    if (thread_ts && *thread_ts)
        json_object_object_add(body, "thread_ts", json_object_new_string(thread_ts));
    /* the unfurl flags are sent only when set, so Slack's defaults hold */
    static const char *const flags[] = {"unfurl_links", "unfurl_media"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (sb->param_json(call, flags[i]))
            json_object_object_add(body, flags[i],
                                   json_object_new_boolean(sb->param_bool(call, flags[i], false)));
    if (!sb->param_bool(call, "mrkdwn", true))
        json_object_object_add(body, "mrkdwn", json_object_new_boolean(0));
    return call_method(sb, call, "chat.postMessage", body);
}

enum sb_status slack_update_message_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *ts = sb->param_string(call, "ts");
    if (!ts || !*ts)
        return sb->fail(call, "ts is empty: which message should be edited?");
    struct json_object *body = body_for_channel(sb, call);
    if (!body)
        return sb->fail(call, "out of memory");
    json_object_object_add(body, "ts", json_object_new_string(ts));
    enum sb_status st = slack_add_content(sb, call, body);
    if (st != SB_OK) {
        json_object_put(body);
        return st;
    }
    return call_method(sb, call, "chat.update", body);
}
