/*
 * What every mailchimp action shares: the API key and its data centre, HTTP
 * Basic auth, the subscriber hash, sending a request, and mapping
 * Mailchimp's answers (RFC 7807 problem documents) to step results.
 *
 * Facts (connectors.md section 3.2): the API root is
 * https://<dc>.api.mailchimp.com/3.0 where <dc> is the key's suffix after
 * its last '-'; auth is Basic with any user name and the key as password;
 * errors are problem+json with title, detail and, for validation errors,
 * errors[].field/message; at high volume Mailchimp answers 429, or 403
 * without a JSON body, and documents no Retry-After.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailchimp.h"

/* The key is a credential: the core keeps the rendered limit key to itself
 * (it only hashes it), so keying by it shares the cap across every step and
 * workflow of one account. */
const struct sb_limit mailchimp_account_limit = {
    .key = "mailchimp:{{ api_key }}",
    .concurrency = 10,
};

/* The user name of HTTP Basic auth: Mailchimp ignores it ("anystring" is
 * the documentation's own example). */
#define BASIC_USER "anystring"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int mailchimp_data_center(const char *api_key, char *dc)
{
    if (!api_key)
        return -1;
    const char *dash = strrchr(api_key, '-');
    if (!dash || dash == api_key)
        return -1;
    size_t n = strlen(dash + 1);
    if (n == 0 || n > MAILCHIMP_DC_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(dash[1 + i]))
            return -1;
    /* host names are case-insensitive; Mailchimp writes them in lower case */
    for (size_t i = 0; i < n; i++) {
        char c = dash[1 + i];
        dc[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    dc[n] = '\0';
    return 0;
}

#define NO_DC_MESSAGE                                                                              \
    "a Mailchimp API key ends in its data centre after a dash (like ...-us21); this one does "     \
    "not: copy the whole key from Profile > Extras > API keys"

bool mailchimp_check_api_key(const struct sb_host *sb, struct sb_call *call)
{
    const char *key = sb->param_string(call, "api_key");
    char dc[MAILCHIMP_DC_MAX + 1];
    if (!key || mailchimp_data_center(key, dc) == 0)
        return true;
    sb->config_error(call, "api_key", NO_DC_MESSAGE);
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int mailchimp_subscriber_hash(const struct sb_host *sb, const char *email, char out[33],
                              char **trimmed)
{
    if (trimmed)
        *trimmed = NULL;
    if (!email)
        return -1;
    const char *start = email;
    while (is_space(*start))
        start++;
    size_t n = strlen(start);
    while (n && is_space(start[n - 1]))
        n--;
    if (n == 0)
        return -1;
    char *lower = malloc(n + 1);
    if (!lower)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = start[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    lower[n] = '\0';
    sb->md5_hex(lower, n, out);
    if (trimmed) {
        /* the same bytes with their case as written */
        memcpy(lower, start, n);
        *trimmed = lower;
    } else {
        free(lower);
    }
    return 0;
}

enum sb_status mailchimp_api_open(const struct sb_host *sb, struct sb_call *call,
                                  struct mailchimp_api *api)
{
    memset(api, 0, sizeof(*api));
    const char *key = sb->param_string(call, "api_key");
    char dc[MAILCHIMP_DC_MAX + 1];
    if (!key || !*key)
        return sb->fail(call, "api_key is empty");
    if (mailchimp_data_center(key, dc) < 0)
        return sb->fail(call, "api_key: " NO_DC_MESSAGE);
    const char *given = sb->param_string(call, "api_base");
    size_t base_len = given && *given ? strlen(given) : 0;
    while (base_len && given[base_len - 1] == '/')
        base_len--;
    size_t cap = base_len ? base_len + 1 : strlen(dc) + 40;
    api->base = malloc(cap);
    /* "anystring:<key>" and its base64 */
    size_t cred_len = strlen(BASIC_USER) + 1 + strlen(key);
    char *cred = malloc(cred_len + 1);
    size_t b64_cap = 4 * ((cred_len + 2) / 3) + 1;
    api->auth = malloc(6 + b64_cap);
    if (!api->base || !cred || !api->auth) {
        free(cred);
        mailchimp_api_close(api);
        return sb->fail(call, "out of memory");
    }
    if (base_len) {
        memcpy(api->base, given, base_len);
        api->base[base_len] = '\0';
    } else {
        snprintf(api->base, cap, "https://%s.api.mailchimp.com/3.0", dc);
    }
    snprintf(cred, cred_len + 1, "%s:%s", BASIC_USER, key);
    memcpy(api->auth, "Basic ", 6);
    int n = sb->base64_encode(cred, cred_len, api->auth + 6, b64_cap);
    /* the credential does not outlive this function */
    memset(cred, 0, cred_len);
    free(cred);
    if (n < 0) {
        mailchimp_api_close(api);
        return sb->fail(call, "cannot encode the API key");
    }
    return SB_OK;
}

void mailchimp_api_close(struct mailchimp_api *api)
{
    free(api->base);
    if (api->auth) {
        memset(api->auth, 0, strlen(api->auth));
        free(api->auth);
    }
    memset(api, 0, sizeof(*api));
}

char *mailchimp_path_segment(const struct sb_host *sb, const char *text)
{
    size_t len = strlen(text);
    size_t cap = 3 * len + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    if (sb->url_encode(text, len, out, cap) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

int mailchimp_send(const struct sb_host *sb, struct sb_call *call, const struct mailchimp_api *api,
                   const char *method, const char *path, const char *body,
                   struct sb_http_response *resp)
{
    size_t url_len = strlen(api->base) + strlen(path) + 1;
    char *url = malloc(url_len);
    if (!url) {
        memset(resp, 0, sizeof(*resp));
        resp->size = sizeof(*resp);
        resp->retry_after_s = -1;
        snprintf(resp->error, sizeof(resp->error), "out of memory");
        /* all pointers NULL: releasing it with sb->http_release is a no-op */
        return SB_HTTP_ERROR;
    }
    snprintf(url, url_len, "%s%s", api->base, path);
    struct sb_header headers[3] = {
        {"Authorization", api->auth},
        /* what the official SDK sends: errors come as problem+json */
        {"Accept", "application/json, application/problem+json"},
        {"Content-Type", "application/json"},
    };
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = body ? 3 : 2;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    int rc = sb->http(call, &req, resp);
    free(url);
    return rc;
}

struct json_object *mailchimp_parse_json(const char *body, size_t len)
{
    if (!body || len == 0 || len > (size_t)0x7fffffff)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    struct json_object *v = json_tokener_parse_ex(tok, body, (int)len);
    size_t end = (size_t)json_tokener_get_parse_end(tok);
    /* trailing whitespace after the value is fine */
    while (end < len && is_space(body[end]))
        end++;
    if (json_tokener_get_error(tok) != json_tokener_success || end != len) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

static const char *json_str(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Append printf-style text to out (NUL-terminated, truncated at out_size). */
static void append(char *out, size_t out_size, const char *a, const char *b)
{
    size_t n = strlen(out);
    if (n + 1 < out_size)
        snprintf(out + n, out_size - n, "%s%s", a, b ? b : "");
}

/*
 * Mailchimp's own words for an error: "title: detail (field: message; ...)"
 * from a problem document, else the start of the body on one line, else
 * "no body". `*is_problem` says whether the body was a JSON document.
 */
static void problem_text(const struct sb_http_response *resp, char *out, size_t out_size,
                         bool *is_problem)
{
    out[0] = '\0';
    struct json_object *doc = mailchimp_parse_json(resp->body, resp->body_len);
    *is_problem = doc && json_object_is_type(doc, json_type_object);
    if (*is_problem) {
        const char *title = json_str(doc, "title");
        const char *detail = json_str(doc, "detail");
        append(out, out_size, "", title ? title : "error");
        if (detail && *detail)
            append(out, out_size, ": ", detail);
        struct json_object *errors;
        if (json_object_object_get_ex(doc, "errors", &errors) &&
            json_object_is_type(errors, json_type_array)) {
            size_t n = json_object_array_length(errors);
            for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(errors, i);
                const char *field = json_str(e, "field");
                const char *message = json_str(e, "message");
                append(out, out_size, i == 0 ? " (" : "; ", field && *field ? field : "");
                append(out, out_size, field && *field ? ": " : "", message ? message : "invalid");
            }
            if (n)
                append(out, out_size, ")", NULL);
        }
    } else if (resp->body_len) {
        snprintf(out, out_size, "%.200s", resp->body);
        for (char *p = out; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
    } else {
        snprintf(out, out_size, "no body");
    }
    json_object_put(doc);
}

enum sb_status mailchimp_result(const struct sb_host *sb, struct sb_call *call, int rc,
                                const struct sb_http_response *resp, const char *what)
{
    if (rc == SB_HTTP_DRY_RUN)
        return SB_OK;
    if (rc != SB_HTTP_SENT)
        return sb->retry(call, -1, "%s: %s", what, resp->error);
    long s = resp->status;
    if (s >= 200 && s < 300)
        return SB_OK;
    char text[1024];
    bool is_problem = false;
    problem_text(resp, text, sizeof(text), &is_problem);
    if (s == 429)
        return sb->retry(call, resp->retry_after_s,
                         "%s: HTTP 429 %s (more than 10 connections at once, or too many calls)",
                         what, text);
    if (s == 403 && !is_problem)
        /* "At exceptionally high volumes, you may receive an HTTP 429 or 403
         * without a JSON body": throttling, not a permission problem */
        return sb->retry(call, resp->retry_after_s, "%s: HTTP 403 without a JSON body (throttled)",
                         what);
    if (s >= 500 || s == 408)
        return sb->retry(call, resp->retry_after_s, "%s: HTTP %ld %s", what, s, text);
    return sb->fail(call, "%s: HTTP %ld %s", what, s, text);
}

struct json_object *mailchimp_dry_output(const char *subscriber_hash)
{
    struct json_object *out = json_object_new_object();
    if (!out)
        return NULL;
    json_object_object_add(out, "dry_run", json_object_new_boolean(1));
    if (subscriber_hash)
        json_object_object_add(out, "subscriber_hash", json_object_new_string(subscriber_hash));
    return out;
}
