/*
 * One request to the Stripe API and the mapping of its answer to a step
 * result, shared by every stripe action. Request format (connectors.md
 * 1.5): Authorization: Bearer <api_key>, form-encoded parameters (query
 * string for GET and DELETE, body otherwise), Idempotency-Key on POST,
 * optional Stripe-Version and Stripe-Account.
 *
 * Result rules: 2xx succeeds with the response object as output;
 * Stripe-Should-Retry: false never retries and true always does; else 409,
 * 429, 5xx and network errors retry (Retry-After honoured) and other
 * statuses fail with Stripe's error message, type and code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "stripe.h"

#define MAX_HEADERS 6

static const char *member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return json_object_get_string(v);
}

/* The response body as a JSON object, or NULL. Caller owns. */
static struct json_object *parse_object(const struct sb_http_response *resp)
{
    if (!resp->body || resp->body_len == 0 || resp->body_len > INT32_MAX)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    struct json_object *v = json_tokener_parse_ex(tok, resp->body, (int)resp->body_len);
    if (v && (json_tokener_get_error(tok) != json_tokener_success ||
              (size_t)json_tokener_get_parse_end(tok) != resp->body_len ||
              !json_object_is_type(v, json_type_object))) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

/*
 * Describe a failed answer in out: "HTTP 402 card_error card_declined
 * (decline_code insufficient_funds, param amount): Your card was declined.
 * [request req_123]". Reads Stripe's {"error": {...}}, OAuth's {"error":
 * "...", "error_description": "..."}, or else quotes the start of the body.
 */
static void describe_error(const struct sb_host *sb, const struct sb_http_response *resp,
                           struct json_object *body, char *out, size_t outlen)
{
    size_t o = (size_t)snprintf(out, outlen, "HTTP %ld", resp->status);
    struct json_object *err = NULL;
    if (body)
        json_object_object_get_ex(body, "error", &err);
    if (err && json_object_is_type(err, json_type_object)) {
        const char *type = member(err, "type"), *code = member(err, "code");
        const char *decline = member(err, "decline_code"), *param = member(err, "param");
        const char *msg = member(err, "message");
        if (type && o < outlen)
            o += (size_t)snprintf(out + o, outlen - o, " %s", type);
        if (code && o < outlen)
            o += (size_t)snprintf(out + o, outlen - o, " %s", code);
        if ((decline || param) && o < outlen)
            o += (size_t)snprintf(out + o, outlen - o, " (%s%s%s%s%s)",
                                  decline ? "decline_code " : "", decline ? decline : "",
                                  decline && param ? ", " : "", param ? "param " : "",
                                  param ? param : "");
        if (o < outlen)
            o += (size_t)snprintf(out + o, outlen - o, ": %s", msg ? msg : "(no message)");
    } else if (err && json_object_is_type(err, json_type_string)) {
        const char *desc = member(body, "error_description");
        o += (size_t)snprintf(out + o, outlen - o, " %s%s%s", json_object_get_string(err),
                              desc ? ": " : "", desc ? desc : "");
    } else if (resp->body_len) {
        o += (size_t)snprintf(out + o, outlen - o, ": %.200s", resp->body);
    }
    const char *rid = sb->http_header(resp, "Request-Id");
    if (rid && o < outlen)
        snprintf(out + o, outlen - o, " [request %s]", rid);
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
}

/* Stars over every copy of the API key in an error text: an API may echo
 * the Authorization it got (stripe-mock does), and the text is stored with
 * the run. */
static void mask_key(char *text, const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n < 4)
        return;
    char *hit;
    while ((hit = strstr(text, key)) != NULL) {
        memcpy(hit, "****", 4);
        memmove(hit + 4, hit + n, strlen(hit + n) + 1);
    }
}

static enum sb_status map_response(const struct sb_host *sb, struct sb_call *call,
                                   const char *method, const char *path,
                                   struct sb_http_response *resp, struct json_object **out)
{
    long status = resp->status;
    const char *should = sb->http_header(resp, "Stripe-Should-Retry");
    bool never = should && strcasecmp(should, "false") == 0;
    bool always = should && strcasecmp(should, "true") == 0;
    struct json_object *body = parse_object(resp);
    if (status >= 200 && status < 300) {
        if (body) {
            *out = body;
            return SB_OK;
        }
        /* a 2xx that is not Stripe's JSON: a proxy in the way, most likely */
        if (never)
            return sb->fail(call, "stripe %s %s: HTTP %ld with a body that is not a JSON object",
                            method, path, status);
        return sb->retry(call, resp->retry_after_s,
                         "stripe %s %s: HTTP %ld with a body that is not a JSON object", method,
                         path, status);
    }
    char text[768];
    describe_error(sb, resp, body, text, sizeof(text));
    json_object_put(body);
    mask_key(text, sb->param_string(call, "api_key"));
    if (never)
        return sb->fail(call, "stripe %s %s: %s (Stripe-Should-Retry: false)", method, path, text);
    if (always || status == 409 || status == 429 || status >= 500)
        return sb->retry(call, resp->retry_after_s, "stripe %s %s: %s", method, path, text);
    return sb->fail(call, "stripe %s %s: %s", method, path, text);
}

enum sb_status stripe_api_call(const struct sb_host *sb, struct sb_call *call, const char *method,
                               const char *path, const char *form)
{
    struct json_object *out = NULL;
    enum sb_status st = stripe_api_request(sb, call, method, path, form, &out);
    if (st == SB_OK)
        sb->set_output(call, out);
    return st;
}

enum sb_status stripe_api_request(const struct sb_host *sb, struct sb_call *call,
                                  const char *method, const char *path, const char *form,
                                  struct json_object **out)
{
    *out = NULL;
    const char *base = sb->param_string(call, "api_base");
    if (!base || !*base)
        base = STRIPE_API_BASE;
    size_t base_len = strlen(base);
    while (base_len && base[base_len - 1] == '/')
        base_len--;
    const char *api_key = sb->param_string(call, "api_key");
    if (!api_key || !*api_key)
        return sb->fail(call, "api_key is empty");
    /* a header cannot carry these; retrying would not help */
    if (strpbrk(api_key, "\r\n"))
        return sb->fail(call, "api_key contains a line break (check the secret's source)");
    bool query = strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0;
    bool has_form = form && *form;

    size_t url_len = base_len + strlen(path) + (has_form && query ? strlen(form) + 1 : 0) + 1;
    char *url = malloc(url_len);
    size_t auth_len = strlen(api_key) + 8;
    char *auth = malloc(auth_len);
    if (!url || !auth) {
        free(url);
        free(auth);
        return sb->fail(call, "out of memory");
    }
    if (has_form && query)
        snprintf(url, url_len, "%.*s%s%c%s", (int)base_len, base, path,
                 strchr(path, '?') ? '&' : '?', form);
    else
        snprintf(url, url_len, "%.*s%s", (int)base_len, base, path);
    snprintf(auth, auth_len, "Bearer %s", api_key);

    struct sb_header headers[MAX_HEADERS];
    size_t nh = 0;
    headers[nh++] = (struct sb_header){"Authorization", auth};
    if (!query) {
        headers[nh++] = (struct sb_header){"Content-Type", "application/x-www-form-urlencoded"};
        /* the same on every attempt and replay of this step, so Stripe
         * carries out a retried POST once */
        const char *key = sb->idempotency_key(call);
        if (key && *key)
            headers[nh++] = (struct sb_header){"Idempotency-Key", key};
    }
    const char *version = sb->param_string(call, "stripe_version");
    if (version && *version)
        headers[nh++] = (struct sb_header){"Stripe-Version", version};
    const char *account = sb->param_string(call, "stripe_account");
    if (account && *account)
        headers[nh++] = (struct sb_header){"Stripe-Account", account};

    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = nh;
    if (!query) {
        req.body = has_form ? form : "";
        req.body_len = has_form ? strlen(form) : 0;
    }
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    enum sb_status st;
    if (rc == SB_HTTP_DRY_RUN) {
        *out = json_object_new_object();
        if (!*out) {
            st = sb->fail(call, "out of memory");
        } else {
            json_object_object_add(*out, "dry_run", json_object_new_boolean(1));
            st = SB_OK;
        }
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "stripe %s %s: %s", method, path, resp.error);
    } else {
        st = map_response(sb, call, method, path, &resp, out);
    }
    sb->http_release(&resp);
    free(url);
    free(auth);
    return st;
}
