/*
 * The HubSpot API client shared by every action: the Bearer token, JSON
 * bodies, and the mapping of answers to results (connectors.md 8.4):
 * 2xx succeeds; a 429 of the ten-second policy (TEN_SECONDLY_ROLLING, or
 * any policy but the daily one) retries after Retry-After or
 * rate_limit_wait, as HubSpot's SDK does; a 429 of the DAILY policy fails
 * at once, because waiting seconds cannot help and retrying would only
 * burn attempts until midnight; 5xx and network errors retry; any other
 * status fails with HubSpot's own message and category.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hubspot.h"

#define MAX_URL 4096
#define SNIPPET 300

enum sb_status hubspot_common_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *base = sb->param_string(call, "api_base");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        return SB_FAIL;
    }
    return SB_OK;
}

/* A string member of a JSON object, or NULL. Borrowed. */
static const char *string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The answer as JSON, parsed from all of it; NULL if it is not JSON. An
 * empty answer is {}. Caller owns. */
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

/* HubSpot's error text: "message (category)" of a JSON error, else the
 * start of the body, on one line. */
static void error_text(struct json_object *answer, const struct sb_http_response *resp, char *out,
                       size_t out_size)
{
    const char *msg = string_member(answer, "message");
    const char *category = string_member(answer, "category");
    if (msg && category)
        snprintf(out, out_size, "%s (%s)", msg, category);
    else if (msg)
        snprintf(out, out_size, "%s", msg);
    else
        snprintf(out, out_size, "%.*s", SNIPPET, resp->body ? resp->body : "");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* Characters that cannot go into a header value. */
static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return *s != '\0';
}

/* Map a response that came back to a result. */
static enum sb_status answer_result(const struct sb_host *sb, struct sb_call *call,
                                    const char *what, const struct sb_http_response *resp,
                                    struct json_object **out)
{
    long s = resp->status;
    struct json_object *answer = parse_answer(resp);
    char text[SNIPPET + 64];
    enum sb_status st;
    if (s >= 200 && s < 300) {
        if (!answer)
            return sb->fail(call, "%s: HubSpot answered HTTP %ld with a body that is not JSON",
                            what, s);
        *out = answer;
        return SB_OK;
    }
    error_text(answer, resp, text, sizeof(text));
    if (s == 429) {
        const char *policy = string_member(answer, "policyName");
        if (policy && strcmp(policy, "DAILY") == 0) {
            st = sb->fail(call,
                          "%s: HubSpot's daily API limit is spent (HTTP 429, policy DAILY): "
                          "calls resume after midnight in the account's time zone; replay the "
                          "run then, or raise the limit with HubSpot",
                          what);
        } else {
            int64_t wait_s = (sb->param_int(call, "rate_limit_wait", 10000) + 999) / 1000;
            if (resp->retry_after_s > wait_s)
                wait_s = resp->retry_after_s;
            st = sb->retry(call, wait_s, "%s: HubSpot rate limit (HTTP 429, policy %s) %s", what,
                           policy ? policy : "unknown", text);
        }
    } else if (s >= 500) {
        st = sb->retry(call, resp->retry_after_s, "%s: HubSpot HTTP %ld %s", what, s, text);
    } else if (s == 401) {
        st = sb->fail(call, "%s: HubSpot HTTP 401 %s (check the private app token)", what, text);
    } else {
        st = sb->fail(call, "%s: HubSpot HTTP %ld %s", what, s, text);
    }
    json_object_put(answer);
    return st;
}

enum sb_status hubspot_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                            const char *method, const char *path, struct json_object *body,
                            struct json_object **out, long *status)
{
    *out = NULL;
    if (status)
        *status = 0;
    const char *token = sb->param_string(call, "token");
    const char *base = sb->param_string(call, "api_base");
    if (!token || !header_safe(token))
        return sb->fail(call, "%s: the token is empty or holds control characters", what);
    if (!base)
        base = "https://api.hubapi.com";
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
    if (rc == SB_HTTP_DRY_RUN) {
        st = SB_OK;
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "%s: %s", what, resp.error);
    } else {
        if (status)
            *status = resp.status;
        st = answer_result(sb, call, what, &resp, out);
    }
    sb->http_release(&resp);
    return st;
}
