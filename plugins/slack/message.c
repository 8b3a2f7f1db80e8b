/*
 * What the slack actions share: the message content (text, blocks), the
 * JSON POST, validation, and small helpers for reading answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

struct json_object *slack_parse_object(const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    struct json_object *v = len ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    bool ok = v && json_tokener_get_error(tok) == json_tokener_success &&
              (size_t)json_tokener_get_parse_end(tok) == len &&
              json_object_is_type(v, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

const char *slack_json_string(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

void slack_snippet(const char *text, size_t len, char *out, size_t out_size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < out_size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' && n > 0)
            break;
        out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

bool slack_error_is_transient(const char *code)
{
    static const char *const transient[] = {
        "ratelimited", "rate_limited",        "internal_error",
        "fatal_error", "service_unavailable", "request_timeout",
    };
    for (size_t i = 0; code && i < sizeof(transient) / sizeof(transient[0]); i++)
        if (strcmp(code, transient[i]) == 0)
            return true;
    return false;
}

void slack_dry_run_output(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *out = json_object_new_object();
    if (out)
        json_object_object_add(out, "dry_run", json_object_new_boolean(1));
    sb->set_output(call, out);
}

int64_t slack_retry_after_429(const struct sb_http_response *resp)
{
    return resp->retry_after_s >= 0 ? resp->retry_after_s : 1;
}

/* Parse a JSON text that must be an array (Block Kit blocks). Caller owns;
 * NULL when it is not one. */
static struct json_object *parse_blocks(const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    size_t len = strlen(text);
    struct json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    /* trailing whitespace after the array is fine */
    size_t end = (size_t)json_tokener_get_parse_end(tok);
    while (end < len &&
           (text[end] == ' ' || text[end] == '\n' || text[end] == '\t' || text[end] == '\r'))
        end++;
    bool ok = v && json_tokener_get_error(tok) == json_tokener_success && end == len &&
              json_object_is_type(v, json_type_array);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

enum sb_status slack_add_content(const struct sb_host *sb, struct sb_call *call,
                                 struct json_object *body)
{
    const char *text = sb->param_string(call, "text");
    const char *blocks = sb->param_string(call, "blocks");
    if (!text && !blocks)
        return sb->fail(call, "give text or blocks");
    if (text)
        json_object_object_add(body, "text", json_object_new_string(text));
    if (blocks) {
        struct json_object *b = parse_blocks(blocks);
        if (!b)
            return sb->fail(call, "blocks: not a JSON array of Block Kit blocks");
        json_object_object_add(body, "blocks", b);
    }
    return SB_OK;
}

int slack_post_json(const struct sb_host *sb, struct sb_call *call, const char *url,
                    const char *token, struct json_object *body, struct sb_http_response *resp)
{
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    char *auth = NULL;
    struct sb_header headers[2];
    size_t nh = 0;
    headers[nh++] = (struct sb_header){"Content-Type", "application/json; charset=utf-8"};
    if (token) {
        size_t n = strlen(token) + sizeof("Bearer ");
        auth = malloc(n);
        if (auth) {
            snprintf(auth, n, "Bearer %s", token);
            headers[nh++] = (struct sb_header){"Authorization", auth};
        }
    }
    if (!text || (token && !auth)) {
        memset(resp, 0, sizeof(*resp));
        resp->size = sizeof(*resp);
        resp->retry_after_s = -1;
        snprintf(resp->error, sizeof(resp->error), "out of memory");
        free(auth);
        return SB_HTTP_ERROR;
    }
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.n_headers = nh;
    req.body = text;
    req.body_len = strlen(text);
    int rc = sb->http(call, &req, resp);
    free(auth);
    return rc;
}

/* An http(s) URL, as api_base must be. */
static bool is_http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

enum sb_status slack_message_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool bad = false;
    const char *text = sb->param_string(call, "text");
    const char *blocks = sb->param_string(call, "blocks");
    if (!text && !blocks) {
        sb->config_error(call, "text",
                         "give text or blocks (or both: text is the notification "
                         "fallback of blocks)");
        bad = true;
    }
    /* a static value is known now: it must be an array */
    if (blocks && !strstr(blocks, "{{")) {
        struct json_object *b = parse_blocks(blocks);
        if (!b) {
            sb->config_error(call, "blocks",
                             "not a JSON array; write the Block Kit blocks as [{\"type\": ...}]");
            bad = true;
        }
        json_object_put(b);
    }
    const char *api_base = sb->param_string(call, "api_base");
    if (api_base && !is_http_url(api_base)) {
        sb->config_error(call, "api_base", "'%s' is not an http:// or https:// URL", api_base);
        bad = true;
    }
    return bad ? SB_FAIL : SB_OK;
}
