/*
 * The Trello REST client shared by every action: the OAuth Authorization
 * header (so the key and token never appear in a URL or a log), JSON
 * bodies, and the mapping of answers to results (connectors.md 4.4):
 * 2xx succeeds; 429 retries after rate_limit_wait, because Trello sends no
 * Retry-After; 5xx and network errors retry; any other status fails with
 * Trello's own message ("invalid value for idList").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "trello.h"

#define MAX_URL 4096
#define SNIPPET 300

enum sb_status trello_common_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *base = sb->param_string(call, "api_base");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        return SB_FAIL;
    }
    return SB_OK;
}

/* Characters that could end the quoted value or the header line. */
static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            return false;
    return *s != '\0';
}

/* Trello's error text for a message: the "message" (and "error" code) of a
 * JSON answer, else the text itself, on one line, at most SNIPPET bytes. */
static void error_text(const struct sb_http_response *resp, char *out, size_t out_size)
{
    const char *text = resp->body ? resp->body : "";
    struct json_object *j = resp->body_len ? json_tokener_parse(text) : NULL;
    struct json_object *msg = NULL, *code = NULL;
    if (j && json_object_is_type(j, json_type_object)) {
        json_object_object_get_ex(j, "message", &msg);
        json_object_object_get_ex(j, "error", &code);
    }
    if (msg && json_object_is_type(msg, json_type_string) && code &&
        json_object_is_type(code, json_type_string))
        snprintf(out, out_size, "%s (%s)", json_object_get_string(msg),
                 json_object_get_string(code));
    else if (msg && json_object_is_type(msg, json_type_string))
        snprintf(out, out_size, "%s", json_object_get_string(msg));
    else
        snprintf(out, out_size, "%.*s", SNIPPET, text);
    json_object_put(j);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* The answer of a 2xx as JSON; an empty answer is {}. NULL if not JSON. */
static struct json_object *parse_answer(const struct sb_http_response *resp)
{
    if (resp->body_len == 0)
        return json_object_new_object();
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    struct json_object *v = json_tokener_parse_ex(tok, resp->body, (int)resp->body_len);
    if (v && (json_tokener_get_error(tok) != json_tokener_success ||
              (size_t)json_tokener_get_parse_end(tok) != resp->body_len)) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

enum sb_status trello_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                           const char *method, const char *path, struct json_object *body,
                           struct json_object **out, long *status)
{
    *out = NULL;
    if (status)
        *status = 0;
    const char *key = sb->param_string(call, "key");
    const char *token = sb->param_string(call, "token");
    const char *base = sb->param_string(call, "api_base");
    if (!key || !token || !header_safe(key) || !header_safe(token))
        return sb->fail(call,
                        "%s: the key or token is empty or holds quotes or control "
                        "characters",
                        what);
    if (!base)
        base = "https://api.trello.com";
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    char url[MAX_URL];
    int n =
        snprintf(url, sizeof(url), "%.*s%s%s", (int)blen, base, path[0] == '/' ? "" : "/", path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return sb->fail(call, "%s: the URL is longer than %d bytes", what, MAX_URL - 1);
    size_t alen = strlen(key) + strlen(token) + 64;
    char *auth = malloc(alen);
    if (!auth)
        return sb->fail(call, "out of memory");
    snprintf(auth, alen, "OAuth oauth_consumer_key=\"%s\", oauth_token=\"%s\"", key, token);
    struct sb_header headers[3] = {
        {"Authorization", auth},
        {"Accept", "application/json"},
        {"Content-Type", "application/json"},
    };
    const char *json = body ? json_object_to_json_string_ext(
                                  body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                            : NULL;
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = json ? 3 : 2;
    req.body = json;
    req.body_len = json ? strlen(json) : 0;
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    free(auth);

    enum sb_status st;
    char text[SNIPPET + 64];
    if (rc == SB_HTTP_DRY_RUN) {
        st = SB_OK;
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "%s: %s", what, resp.error);
    } else {
        long s = resp.status;
        if (status)
            *status = s;
        if (s >= 200 && s < 300) {
            *out = parse_answer(&resp);
            st = *out ? SB_OK
                      : sb->fail(call, "%s: Trello answered HTTP %ld with a body that is not JSON",
                                 what, s);
        } else if (s == 429) {
            int64_t wait_s = (sb->param_int(call, "rate_limit_wait", 10000) + 999) / 1000;
            if (resp.retry_after_s > wait_s)
                wait_s = resp.retry_after_s;
            error_text(&resp, text, sizeof(text));
            st = sb->retry(call, wait_s, "%s: Trello rate limit (HTTP 429) %s", what, text);
        } else if (s >= 500) {
            error_text(&resp, text, sizeof(text));
            st = sb->retry(call, resp.retry_after_s, "%s: Trello HTTP %ld %s", what, s, text);
        } else {
            error_text(&resp, text, sizeof(text));
            st = sb->fail(call, "%s: Trello HTTP %ld %s", what, s, text);
        }
    }
    sb->http_release(&resp);
    return st;
}

int trello_card_segment(const struct sb_host *sb, const char *card, char *out, size_t out_size)
{
    static const char *const prefixes[] = {"https://trello.com/c/", "http://trello.com/c/"};
    const char *p = card;
    size_t len = strlen(card);
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(card, prefixes[i], n) == 0) {
            p = card + n;
            len = strcspn(p, "/?#");
            break;
        }
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    if (len == 0 || len > 128 || out_size < 3 * len + 1)
        return -1;
    return sb->url_encode(p, len, out, out_size) < 0 ? -1 : 0;
}
