/*
 * The Salesforce REST client shared by every action (connectors.md 10.3):
 * the session's Bearer token to {instance_url}/services/data/v{version},
 * JSON bodies, one renewal of the token on a 401, and the mapping of
 * answers to results: 2xx succeeds; 5xx, 429 and network errors retry;
 * REQUEST_LIMIT_EXCEEDED (the org's 24-hour API allowance is spent) fails
 * at once with a sentence saying so, since retrying only burns more of the
 * allowance; other statuses fail with Salesforce's errorCode and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "salesforce.h"

#define MAX_URL 4096
#define SNIPPET 300

static bool is_http(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* "62.0": digits, a dot, digits. */
static bool is_version(const char *s)
{
    size_t a = strspn(s, "0123456789");
    if (a == 0 || a > 3 || s[a] != '.')
        return false;
    size_t b = strspn(s + a + 1, "0123456789");
    return b > 0 && b <= 2 && s[a + 1 + b] == '\0';
}

enum sb_status salesforce_common_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = true;
    const char *login = sb->param_string(call, "login_url");
    if (login && !is_http(login)) {
        sb->config_error(call, "login_url", "'%s' is not an http(s) address", login);
        ok = false;
    }
    const char *version = sb->param_string(call, "api_version");
    if (version && !is_version(version)) {
        sb->config_error(call, "api_version", "'%s' is not an API version such as 62.0", version);
        ok = false;
    }
    bool secret = sb->param_string(call, "client_secret") != NULL;
    bool user = sb->param_string(call, "username") != NULL;
    bool key = sb->param_string(call, "private_key") != NULL;
    if (secret && (user || key)) {
        sb->config_error(call, "client_secret",
                         "give client_secret (client credentials) or username and private_key "
                         "(JWT bearer), not both");
        ok = false;
    } else if (!secret && !(user && key)) {
        sb->config_error(call,
                         user  ? "private_key"
                         : key ? "username"
                               : "client_secret",
                         "missing credentials: give client_secret (client credentials flow), or "
                         "username and private_key (JWT bearer flow)");
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

static const char *string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The answer parsed from all of it; {} when empty; NULL if not JSON. */
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

/* Salesforce's first error, [{"message","errorCode","fields"}]: its code
 * into code and "CODE: message" into text. */
static void error_text(struct json_object *answer, const struct sb_http_response *resp, char *code,
                       size_t code_size, char *text, size_t text_size)
{
    struct json_object *first = answer;
    if (answer && json_object_is_type(answer, json_type_array) &&
        json_object_array_length(answer) > 0)
        first = json_object_array_get_idx(answer, 0);
    const char *c = string_member(first, "errorCode");
    const char *m = string_member(first, "message");
    snprintf(code, code_size, "%s", c ? c : "");
    if (c || m)
        snprintf(text, text_size, "%s%s%s", c ? c : "", c && m ? ": " : "", m ? m : "");
    else
        snprintf(text, text_size, "%.*s", SNIPPET, resp->body ? resp->body : "");
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* Send one request with the session; fills resp (release it). */
static int send_request(const struct sb_host *sb, struct sb_call *call,
                        const struct salesforce_session *s, const char *method, const char *path,
                        const char *json, struct sb_http_response *resp, char *err, size_t err_size)
{
    const char *version = sb->param_string(call, "api_version");
    char url[MAX_URL];
    int n = strncmp(path, "/services/", 10) == 0
                ? snprintf(url, sizeof(url), "%s%s", s->instance_url, path)
                : snprintf(url, sizeof(url), "%s/services/data/v%s%s", s->instance_url,
                           version ? version : "62.0", path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        snprintf(err, err_size, "the URL is longer than %d bytes", MAX_URL - 1);
        return -2;
    }
    size_t alen = strlen(s->access_token) + 16;
    char *auth = malloc(alen);
    if (!auth) {
        snprintf(err, err_size, "out of memory");
        return -2;
    }
    snprintf(auth, alen, "Bearer %s", s->access_token);
    struct sb_header headers[3] = {
        {"Authorization", auth},
        {"Accept", "application/json"},
        {"Content-Type", "application/json"},
    };
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = json ? 3 : 2;
    req.body = json;
    req.body_len = json ? strlen(json) : 0;
    int rc = sb->http(call, &req, resp);
    memset(auth, 0, alen);
    free(auth);
    return rc;
}

/* Map a response that came back to a result. */
static enum sb_status answer_result(const struct sb_host *sb, struct sb_call *call,
                                    const char *what, const struct sb_http_response *resp,
                                    struct json_object **out)
{
    long s = resp->status;
    struct json_object *answer = parse_answer(resp);
    if (s >= 200 && s < 300) {
        if (!answer)
            return sb->fail(call, "%s: Salesforce answered HTTP %ld with a body that is not JSON",
                            what, s);
        *out = answer;
        return SB_OK;
    }
    char code[64], text[SNIPPET + 64];
    error_text(answer, resp, code, sizeof(code), text, sizeof(text));
    json_object_put(answer);
    if (strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0)
        return sb->fail(call,
                        "%s: the org's API request limit is spent (HTTP %ld "
                        "REQUEST_LIMIT_EXCEEDED): calls resume as the 24-hour window rolls on; "
                        "replay the run later, or raise the limit (Setup > Company "
                        "Information > API Requests)",
                        what, s);
    if (s >= 500 || s == 429)
        return sb->retry(call, resp->retry_after_s, "%s: Salesforce HTTP %ld %s", what, s, text);
    if (s == 300)
        return sb->fail(call, "%s: several records match the external id (HTTP 300)", what);
    if (s == 401)
        return sb->fail(call, "%s: Salesforce refused a fresh access token (HTTP 401 %s)", what,
                        text);
    return sb->fail(call, "%s: Salesforce HTTP %ld %s", what, s, text);
}

enum sb_status salesforce_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                               const char *method, const char *path, struct json_object *body,
                               struct json_object **out, long *status)
{
    *out = NULL;
    if (status)
        *status = 0;
    const char *json = body ? json_object_to_json_string_ext(
                                  body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                            : NULL;
    struct salesforce_session s;
    enum sb_status st = salesforce_session_get(sb, call, NULL, &s);
    if (st != SB_OK)
        return st;
    char err[128];
    for (int attempt = 0;; attempt++) {
        struct sb_http_response resp;
        int rc = send_request(sb, call, &s, method, path, json, &resp, err, sizeof(err));
        if (rc == -2) {
            salesforce_session_release(&s);
            return sb->fail(call, "%s: %s", what, err);
        }
        if (rc == SB_HTTP_SENT && resp.status == 401 && attempt == 0) {
            /* the session ended (timeout, revoked, another login policy):
             * one new token, then the same call once more */
            sb->http_release(&resp);
            struct salesforce_session stale = s;
            st = salesforce_session_get(sb, call, &stale, &s);
            salesforce_session_release(&stale);
            if (st != SB_OK)
                return st;
            sb->log(call, SB_LOG_INFO, "%s: access token expired, renewed it", what);
            continue;
        }
        if (rc == SB_HTTP_DRY_RUN)
            st = SB_OK;
        else if (rc != SB_HTTP_SENT)
            st = sb->retry(call, -1, "%s: %s", what, resp.error);
        else
            st = answer_result(sb, call, what, &resp, out);
        if (rc == SB_HTTP_SENT && status)
            *status = resp.status;
        sb->http_release(&resp);
        break;
    }
    salesforce_session_release(&s);
    return st;
}
