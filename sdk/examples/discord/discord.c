/*
 * discord: an example connector written only against the installed SDK.
 * One action, discord.post_message, posts to a Discord channel through an
 * incoming webhook (the webhook URL is the credential, so it is a secret).
 *
 * Build: make (pkg-config) or cmake (find_package(switchboard-sdk)); see
 * README.md. Discord's rules it follows: JSON body with content (at most
 * 2000 characters) and/or embeds; ?wait=true returns the message; 429
 * carries retry_after (seconds) in the body; 4xx bodies are
 * {"message": "...", "code": N}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#define MAX_CONTENT 2000

static const struct sb_param post_params[] = {
    {.name = "webhook_url",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the channel's webhook URL (Server Settings > Integrations > Webhooks)"},
    {.name = "content",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the message text, at most 2000 characters"},
    {.name = "embeds",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON array of embed objects"},
    {.name = "username",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "overrides the webhook's name"},
    {.name = "wait",
     .type = SB_PARAM_BOOL,
     .def = "true",
     .help = "ask Discord to return the message (its id becomes the step output)"},
    SB_END,
};

static enum sb_status post_validate(const struct sb_host *sb, struct sb_call *call)
{
    if (!sb->param_string(call, "content") && !sb->param_string(call, "embeds")) {
        sb->config_error(call, "content", "give content, embeds, or both");
        return SB_FAIL;
    }
    return SB_OK;
}

/* Count UTF-8 characters (Discord's limit is in characters). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static enum sb_status post_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *content = sb->param_string(call, "content");
    const char *embeds = sb->param_string(call, "embeds");
    if (content && utf8_chars(content) > MAX_CONTENT)
        return sb->fail(call, "content is %zu characters; Discord takes at most %d",
                        utf8_chars(content), MAX_CONTENT);
    struct json_object *body = json_object_new_object();
    if (content)
        json_object_object_add(body, "content", json_object_new_string(content));
    if (embeds) {
        struct json_object *e = json_tokener_parse(embeds);
        if (!e || !json_object_is_type(e, json_type_array)) {
            json_object_put(e);
            json_object_put(body);
            return sb->fail(call, "embeds is not a JSON array");
        }
        json_object_object_add(body, "embeds", e);
    }
    const char *username = sb->param_string(call, "username");
    if (username)
        json_object_object_add(body, "username", json_object_new_string(username));
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
    const char *base = sb->param_string(call, "webhook_url");
    bool wait = sb->param_bool(call, "wait", true);
    size_t len = strlen(base) + 16;
    char *url = malloc(len);
    if (!url) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    snprintf(url, len, "%s%s", base, wait ? (strchr(base, '?') ? "&wait=true" : "?wait=true") : "");
    struct sb_header headers[] = {{"Content-Type", "application/json"}};
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.n_headers = 1;
    req.body = text;
    req.body_len = strlen(text);
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    free(url);
    json_object_put(body);
    enum sb_status st = SB_OK;
    struct json_object *answer = resp.body_len ? json_tokener_parse(resp.body) : NULL;
    struct json_object *v;
    if (rc == SB_HTTP_DRY_RUN) {
        sb->set_output(call, json_object_new_object());
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "discord: %s", resp.error);
    } else if (resp.status >= 200 && resp.status < 300) {
        sb->set_output(call, answer ? json_object_get(answer) : json_object_new_object());
    } else if (resp.status == 429) {
        /* Discord says when, in seconds, in the body */
        int64_t after = resp.retry_after_s;
        if (answer && json_object_object_get_ex(answer, "retry_after", &v))
            after = (int64_t)json_object_get_double(v) + 1;
        st = sb->retry(call, after, "discord: rate limited");
    } else if (resp.status >= 500) {
        st = sb->retry(call, resp.retry_after_s, "discord: HTTP %ld", resp.status);
    } else {
        const char *msg = answer && json_object_object_get_ex(answer, "message", &v)
                              ? json_object_get_string(v)
                              : resp.body;
        st = sb->fail(call, "discord: HTTP %ld: %s", resp.status, msg);
    }
    json_object_put(answer);
    sb->http_release(&resp);
    return st;
}

static const struct sb_action actions[] = {
    {.name = "post_message",
     .summary = "Post a message to a Discord channel through its webhook",
     .output = "the message Discord created (id, channel_id, content...) when wait is true",
     .params = post_params,
     .validate = post_validate,
     .run = post_run},
    SB_END,
};

static const struct sb_plugin discord = {
    .name = "discord",
    .version = "1.0.0",
    .summary = "Discord channel messages through incoming webhooks (an SDK example)",
    .actions = actions,
};

SB_PLUGIN_DEFINE(discord)
