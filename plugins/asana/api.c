/*
 * The Asana API client shared by the actions and `switchboard hooks`: the
 * Bearer token, JSON bodies, and the mapping of answers to results
 * (connectors.md 9.2): 2xx succeeds; a 429 retries no earlier than its
 * Retry-After; 5xx and network errors retry; any other status fails with
 * Asana's own message ({"errors":[{"message","help"}]}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "asana.h"

#define MAX_URL 4096
#define SNIPPET 300

enum sb_status asana_common_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *base = sb->param_string(call, "api_base");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        return SB_FAIL;
    }
    return SB_OK;
}

struct json_object *asana_data(struct json_object *answer)
{
    struct json_object *data;
    if (!answer || !json_object_object_get_ex(answer, "data", &data))
        return NULL;
    return data;
}

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

/* Asana's first error message, else the start of the body, on one line. */
static void error_text(const struct sb_http_response *resp, char *out, size_t out_size)
{
    struct json_object *answer = parse_answer(resp), *errors, *msg;
    if (answer && json_object_object_get_ex(answer, "errors", &errors) &&
        json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0 &&
        json_object_object_get_ex(json_object_array_get_idx(errors, 0), "message", &msg))
        snprintf(out, out_size, "%s", json_object_get_string(msg));
    else
        snprintf(out, out_size, "%.*s", SNIPPET, resp->body ? resp->body : "");
    json_object_put(answer);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return *s != '\0';
}

enum sb_status asana_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                          const char *method, const char *path, struct json_object *body,
                          struct json_object **out, long *status)
{
    return asana_call_ex(sb, call, what, method, path, body, false, out, status);
}

enum sb_status asana_call_ex(const struct sb_host *sb, struct sb_call *call, const char *what,
                             const char *method, const char *path, struct json_object *body,
                             bool missing_ok, struct json_object **out, long *status)
{
    *out = NULL;
    if (status)
        *status = 0;
    const char *token = sb->param_string(call, "token");
    const char *base = sb->param_string(call, "api_base");
    if (!token || !header_safe(token))
        return sb->fail(call, "%s: the token is empty or holds control characters", what);
    if (!base)
        base = ASANA_API_BASE;
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    char url[MAX_URL];
    int n =
        snprintf(url, sizeof(url), "%.*s%s%s", (int)blen, base, path[0] == '/' ? "" : "/", path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return sb->fail(call, "%s: the URL is longer than %d bytes", what, MAX_URL - 1);
    size_t alen = strlen(token) + 16;
    char *auth = malloc(alen);
    if (!auth)
        return sb->fail(call, "out of memory");
    snprintf(auth, alen, "Bearer %s", token);
    struct sb_header headers[3] = {
        {"Authorization", auth},
        {"Accept", "application/json"},
        {"Content-Type", "application/json; charset=UTF-8"},
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
                      : sb->fail(call, "%s: Asana answered HTTP %ld with a body that is not JSON",
                                 what, s);
        } else if (s == 404 && missing_ok) {
            st = SB_OK; /* *out stays NULL: the caller reads *status */
        } else if (s == 429) {
            error_text(&resp, text, sizeof(text));
            /* Asana always says how long: wait that (the schedule otherwise) */
            st = sb->retry(call, resp.retry_after_s, "%s: Asana rate limit (HTTP 429) %s", what,
                           text);
        } else if (s >= 500) {
            error_text(&resp, text, sizeof(text));
            st = sb->retry(call, resp.retry_after_s, "%s: Asana HTTP %ld %s", what, s, text);
        } else {
            error_text(&resp, text, sizeof(text));
            st = sb->fail(call, "%s: Asana HTTP %ld %s", what, s, text);
        }
    }
    sb->http_release(&resp);
    return st;
}
