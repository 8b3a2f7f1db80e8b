/*
 * http.request and http.send_webhook: outgoing HTTP through the core's
 * client. Result mapping: 2xx (or a status listed in `expect`) succeeds;
 * 408, 425, 429, 5xx and network errors retry (honouring Retry-After);
 * other statuses fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http.h"

#define MAX_HEADERS 64

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};

const struct sb_param http_request_params[] = {
    {.name = "url",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "where to send it; values in the path and query are "
             "percent-encoded"},
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "header",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_HEADER,
     .help = "request headers, one line each: header.X-Name = value"},
    {.name = "query",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "query parameters added to the URL, percent-encoded: query.page = 2"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body; values inserted by templates are JSON-escaped (sent as "
             "application/json)"},
    {.name = "form",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "a form body, one field per line: form.email = ... (sent as "
             "application/x-www-form-urlencoded)"},
    {.name = "raw_body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE | SB_PARAM_UNESCAPED,
     .help = "a body sent as written (values unescaped: check warns), with content_type"},
    {.name = "content_type",
     .type = SB_PARAM_STRING,
     .def = "text/plain",
     .help = "the Content-Type of raw_body"},
    {.name = "expect",
     .type = SB_PARAM_LIST,
     .help = "statuses that count as success besides 2xx handling, e.g. '200 404' or '2xx 409'; "
             "when set, only these succeed"},
    {.name = "follow_redirects",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "follow 3xx redirects (at most 5)"},
    SB_END,
};

const struct sb_param http_send_webhook_params[] = {
    {.name = "url",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the receiver's endpoint"},
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the whsec_ signing secret shared with the receiver"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "the JSON payload, e.g. {\"type\": \"order.paid\", \"data\": {{ event | json }}}"},
    {.name = "header",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_HEADER,
     .help = "extra request headers: header.X-Name = value"},
    {.name = "id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the webhook-id; default msg_<idempotency key>, the same on every retry"},
    SB_END,
};

/* --- shared ----------------------------------------------------------------- */

/* Does `status` match a list item ("200", "2xx")? */
static bool status_listed(struct json_object *list, long status)
{
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(list, i));
        if (strlen(s) == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
            if (status / 100 == s[0] - '0')
                return true;
        } else if (strtol(s, NULL, 10) == status) {
            return true;
        }
    }
    return false;
}

/* The step output: status, headers (lower-case names), body (JSON if it
 * parses as JSON, else text). */
static struct json_object *response_output(const struct sb_http_response *resp)
{
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "status", json_object_new_int64(resp->status));
    struct json_object *h = json_object_new_object();
    for (size_t i = 0; i < resp->n_headers; i++) {
        char name[128];
        snprintf(name, sizeof(name), "%s", resp->headers[i].name);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        json_object_object_add(h, name, json_object_new_string(resp->headers[i].value));
    }
    json_object_object_add(out, "headers", h);
    struct json_object *body = NULL;
    if (resp->body_len) {
        struct json_tokener *tok = json_tokener_new();
        body = json_tokener_parse_ex(tok, resp->body, (int)resp->body_len);
        if (body && (json_tokener_get_error(tok) != json_tokener_success ||
                     (size_t)json_tokener_get_parse_end(tok) != resp->body_len)) {
            json_object_put(body);
            body = NULL;
        }
        json_tokener_free(tok);
    }
    if (!body)
        body = json_object_new_string_len(resp->body, (int)resp->body_len);
    json_object_object_add(out, "body", body);
    return out;
}

/* Map a response to the step result. */
static enum sb_status finish(const struct sb_host *sb, struct sb_call *call, int rc,
                             struct sb_http_response *resp, struct json_object *expect,
                             const char *what, const char *webhook_id)
{
    enum sb_status st;
    if (rc == SB_HTTP_DRY_RUN) {
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "dry_run", json_object_new_boolean(1));
        sb->set_output(call, out);
        st = SB_OK;
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "%s: %s", what, resp->error);
    } else {
        long s = resp->status;
        struct json_object *out = response_output(resp);
        if (webhook_id)
            json_object_object_add(out, "id", json_object_new_string(webhook_id));
        sb->set_output(call, out);
        char snippet[201];
        snprintf(snippet, sizeof(snippet), "%s", resp->body ? resp->body : "");
        for (char *p = snippet; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        bool ok = expect && json_object_array_length(expect) ? status_listed(expect, s)
                                                             : (s >= 200 && s < 300);
        if (ok)
            st = SB_OK;
        else if (s == 408 || s == 425 || s == 429 || s >= 500)
            st = sb->retry(call, resp->retry_after_s, "%s: HTTP %ld %s", what, s, snippet);
        else if (s == 410)
            st = sb->fail(call, "%s: HTTP 410 Gone: the receiver asked not to be sent more", what);
        else
            st = sb->fail(call, "%s: HTTP %ld %s", what, s, snippet);
    }
    sb->http_release(resp);
    return st;
}

/* Collect the header map into sb_header entries (borrowed strings). */
static size_t collect_headers(struct json_object *map, struct sb_header *out, size_t max)
{
    size_t n = 0;
    if (!map || !json_object_is_type(map, json_type_object))
        return 0;
    json_object_object_foreach(map, key, val)
    {
        if (n < max) {
            out[n].name = key;
            out[n].value = json_object_get_string(val);
            n++;
        }
    }
    return n;
}

static bool has_header(const struct sb_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return true;
    return false;
}

/* Append "k=v&..." of a map, percent-encoded, to a growing buffer. */
static char *encode_map(const struct sb_host *sb, struct json_object *map, const char *prefix)
{
    size_t cap = strlen(prefix) + 1, len = 0;
    json_object_object_foreach(map, k, v)
    {
        cap += 3 * strlen(k) + 3 * strlen(json_object_get_string(v)) + 2;
    }
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len = (size_t)snprintf(out, cap, "%s", prefix);
    bool first = true;
    json_object_object_foreach(map, key, val)
    {
        const char *s = json_object_get_string(val);
        if (!first)
            out[len++] = '&';
        first = false;
        int n = sb->url_encode(key, strlen(key), out + len, cap - len);
        len += n > 0 ? (size_t)n : 0;
        out[len++] = '=';
        n = sb->url_encode(s, strlen(s), out + len, cap - len);
        len += n > 0 ? (size_t)n : 0;
        out[len] = '\0';
    }
    return out;
}

/* --- http.request ------------------------------------------------------- */

enum sb_status http_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    int bodies = (sb->param_string(call, "body") != NULL) + (sb->param_json(call, "form") != NULL) +
                 (sb->param_string(call, "raw_body") != NULL);
    if (bodies > 1) {
        sb->config_error(call, "body", "give only one of body (JSON), form.<field> and raw_body");
        return SB_FAIL;
    }
    struct json_object *expect = sb->param_json(call, "expect");
    size_t n = expect ? json_object_array_length(expect) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(expect, i));
        char *end;
        long v = strtol(s, &end, 10);
        bool pattern = strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
                       (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X');
        if (!pattern && (*end || v < 100 || v > 599)) {
            sb->config_error(call, "expect",
                             "'%s' is not an HTTP status (100-599) or a class like 2xx", s);
            return SB_FAIL;
        }
    }
    return SB_OK;
}

enum sb_status http_request_run(const struct sb_host *sb, struct sb_call *call)
{
    struct sb_header headers[MAX_HEADERS + 1];
    size_t nh = collect_headers(sb->param_json(call, "header"), headers, MAX_HEADERS);
    const char *url = sb->param_string(call, "url");
    const char *body = sb->param_string(call, "body");
    const char *raw = sb->param_string(call, "raw_body");
    struct json_object *form = sb->param_json(call, "form");
    struct json_object *query = sb->param_json(call, "query");
    char *form_body = NULL, *full_url = NULL;
    const void *data = NULL;
    size_t len = 0;
    const char *ctype = NULL;
    if (body) {
        data = body;
        len = strlen(body);
        ctype = "application/json";
    } else if (form) {
        form_body = encode_map(sb, form, "");
        if (!form_body)
            return sb->fail(call, "out of memory");
        data = form_body;
        len = strlen(form_body);
        ctype = "application/x-www-form-urlencoded";
    } else if (raw) {
        data = raw;
        len = strlen(raw);
        ctype = sb->param_string(call, "content_type");
    }
    if (ctype && !has_header(headers, nh, "Content-Type") && nh < MAX_HEADERS) {
        headers[nh].name = "Content-Type";
        headers[nh].value = ctype;
        nh++;
    }
    if (query && json_object_object_length(query) > 0) {
        full_url = encode_map(sb, query, strchr(url, '?') ? "&" : "?");
        char *joined = full_url ? malloc(strlen(url) + strlen(full_url) + 1) : NULL;
        if (!joined) {
            free(full_url);
            free(form_body);
            return sb->fail(call, "out of memory");
        }
        snprintf(joined, strlen(url) + strlen(full_url) + 1, "%s%s", url, full_url);
        free(full_url);
        full_url = joined;
        url = full_url;
    }
    const char *method = sb->param_string(call, "method");
    if (!method)
        method = data ? "POST" : "GET";
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = nh;
    req.body = data;
    req.body_len = len;
    if (sb->param_bool(call, "follow_redirects", false))
        req.flags |= SB_HTTP_FOLLOW_REDIRECTS;
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    char what[64];
    snprintf(what, sizeof(what), "%s request", method);
    enum sb_status st = finish(sb, call, rc, &resp, sb->param_json(call, "expect"), what, NULL);
    free(form_body);
    free(full_url);
    return st;
}

/* --- http.send_webhook ------------------------------------------------------ */

enum sb_status http_send_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *secret = sb->param_string(call, "secret");
    if (!secret)
        return SB_OK;
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    unsigned char key[256];
    if (sb->base64_decode(b64, strlen(b64), key, sizeof(key)) <= 0) {
        sb->config_error(call, "secret",
                         "a Standard Webhooks secret is whsec_ followed by base64; this one does "
                         "not decode");
        return SB_FAIL;
    }
    return SB_OK;
}

enum sb_status http_send_webhook_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *body = sb->param_string(call, "body");
    const char *secret = sb->param_string(call, "secret");
    char id[128];
    const char *given = sb->param_string(call, "id");
    if (given && *given)
        snprintf(id, sizeof(id), "%s", given);
    else
        snprintf(id, sizeof(id), "msg_%s", sb->idempotency_key(call));
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)(sb->now_ms(call) / 1000));
    char sig[128];
    if (http_standard_sign(sb, secret, id, ts, body, strlen(body), sig, sizeof(sig)) < 0)
        return sb->fail(call, "cannot sign: the secret is not whsec_ base64");
    struct sb_header headers[MAX_HEADERS + 4];
    size_t nh = collect_headers(sb->param_json(call, "header"), headers, MAX_HEADERS);
    headers[nh++] = (struct sb_header){"Content-Type", "application/json"};
    headers[nh++] = (struct sb_header){"webhook-id", id};
    headers[nh++] = (struct sb_header){"webhook-timestamp", ts};
    headers[nh++] = (struct sb_header){"webhook-signature", sig};
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = sb->param_string(call, "url");
    req.headers = headers;
    req.n_headers = nh;
    req.body = body;
    req.body_len = strlen(body);
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    return finish(sb, call, rc, &resp, NULL, "webhook", id);
}
