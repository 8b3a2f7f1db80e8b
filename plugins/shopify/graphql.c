/*
 * shopify.graphql: one Admin GraphQL API request,
 *   POST {api_base}/admin/api/{api_version}/graphql.json
 *   X-Shopify-Access-Token: <access_token>
 *   {"query": "...", "variables": {...}}
 * Result mapping: network errors, 429 and 5xx retry (Retry-After
 * honoured); other statuses fail with Shopify's "errors" text. A 200 can
 * still carry failures: top-level `errors` fail the step, except THROTTLED
 * ones (the cost bucket is empty), which retry once the bucket has refilled
 * enough; `userErrors` (and `customerUserErrors`...) anywhere inside `data`
 * fail it with their messages, because the mutation did not happen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "shopify.h"

#define MAX_URL 2048
#define MAX_TEXT 600
/* Default API base: {shop} is the shop's name (my-store). */
#define DEFAULT_BASE "https://{shop}.myshopify.com"

const struct sb_param shopify_graphql_params[] = {
    {.name = "shop",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the shop: my-store or my-store.myshopify.com"},
    {.name = "access_token",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the Admin API access token (shpat_...), sent as X-Shopify-Access-Token"},
    {.name = "api_version",
     .type = SB_PARAM_STRING,
     .def = "2025-01",
     .help = "the Admin API version, YYYY-MM (or unstable)"},
    {.name = "query",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_NONE,
     .help = "the GraphQL document; pass event data through variables, not into the text"},
    {.name = "variables",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON object of the query's variables, e.g. {\"id\": \"{{ "
             "event.admin_graphql_api_id }}\"}"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = DEFAULT_BASE,
     .help = "the shop's address; {shop} stands for the shop name (change it only to point at "
             "a test server)"},
    SB_END,
};

/* --- parameters ------------------------------------------------------------------ */

static bool has_template(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

bool valid_version(const char *v)
{
    if (strcmp(v, "unstable") == 0)
        return true;
    if (strlen(v) != 7 || v[4] != '-')
        return false;
    for (size_t i = 0; i < 7; i++)
        if (i != 4 && (v[i] < '0' || v[i] > '9'))
            return false;
    int month = (v[5] - '0') * 10 + (v[6] - '0');
    return month >= 1 && month <= 12;
}

/* The shop name from "my-store", "my-store.myshopify.com" or
 * "https://my-store.myshopify.com/" into out; 0, or -1 if it is none. */
int shop_name(const char *shop, char *out, size_t out_size)
{
    const char *p = shop;
    if (strncmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "http://", 7) == 0)
        p += 7;
    size_t len = strcspn(p, "/");
    static const char suffix[] = ".myshopify.com";
    size_t sl = sizeof(suffix) - 1;
    if (len > sl && strncmp(p + len - sl, suffix, sl) == 0)
        len -= sl;
    if (len == 0 || len > 63 || len >= out_size)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return -1;
        out[i] = c;
    }
    out[len] = '\0';
    return 0;
}

enum sb_status shopify_graphql_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = true;
    const char *v = sb->param_string(call, "api_version");
    if (v && !valid_version(v)) {
        sb->config_error(call, "api_version", "'%s' is not an API version like 2025-01", v);
        ok = false;
    }
    const char *base = sb->param_string(call, "api_base");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        ok = false;
    }
    const char *shop = sb->param_string(call, "shop");
    char name[64];
    if (shop && !has_template(shop) && shop_name(shop, name, sizeof(name)) < 0) {
        sb->config_error(call, "shop",
                         "'%s' is not a shop name like my-store or "
                         "my-store.myshopify.com",
                         shop);
        ok = false;
    }
    const char *vars = sb->param_string(call, "variables");
    if (vars && !has_template(vars)) {
        struct json_object *j = json_tokener_parse(vars);
        if (!j || !json_object_is_type(j, json_type_object)) {
            sb->config_error(call, "variables", "not a JSON object");
            ok = false;
        }
        json_object_put(j);
    }
    return ok ? SB_OK : SB_FAIL;
}

/* {api_base}/admin/api/{version}/graphql.json with {shop} replaced. */
int build_url(const char *base, const char *shop, const char *version, char *out, size_t out_size)
{
    size_t o = 0;
    for (const char *p = base; *p;) {
        if (strncmp(p, "{shop}", 6) == 0) {
            size_t n = strlen(shop);
            if (o + n >= out_size)
                return -1;
            memcpy(out + o, shop, n);
            o += n;
            p += 6;
        } else {
            if (o + 1 >= out_size)
                return -1;
            out[o++] = *p++;
        }
    }
    while (o && out[o - 1] == '/')
        o--;
    int n = snprintf(out + o, out_size - o, "/admin/api/%s/graphql.json", version);
    return n < 0 || (size_t)n >= out_size - o ? -1 : 0;
}

/* --- answers ------------------------------------------------------------------------ */

/* Append text to a bounded message. */
static void append(char *out, size_t out_size, const char *sep, const char *text)
{
    size_t len = strlen(out);
    if (len + 1 >= out_size)
        return;
    snprintf(out + len, out_size - len, "%s%s", len ? sep : "", text);
}

/* The messages of an `errors` value (a string, an object or an array of
 * {message, extensions.code}) into out; *throttled when one is THROTTLED. */
void errors_text(struct json_object *errors, char *out, size_t out_size, bool *throttled)
{
    out[0] = '\0';
    if (throttled)
        *throttled = false;
    if (json_object_is_type(errors, json_type_string)) {
        append(out, out_size, "; ", json_object_get_string(errors));
        return;
    }
    if (!json_object_is_type(errors, json_type_array)) {
        append(out, out_size, "; ", json_object_to_json_string_ext(errors, JSON_C_TO_STRING_PLAIN));
        return;
    }
    size_t n = json_object_array_length(errors);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(errors, i), *msg = NULL, *ext = NULL,
                           *code = NULL;
        json_object_object_get_ex(e, "message", &msg);
        if (json_object_object_get_ex(e, "extensions", &ext))
            json_object_object_get_ex(ext, "code", &code);
        if (throttled && code && strcmp(json_object_get_string(code), "THROTTLED") == 0)
            *throttled = true;
        append(out, out_size, "; ",
               msg ? json_object_get_string(msg)
                   : json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
    }
}

/* Whether a key holds user errors: userErrors, customerUserErrors, ... */
static bool is_user_errors_key(const char *key)
{
    size_t n = strlen(key);
    return strcmp(key, "userErrors") == 0 || (n > 10 && strcmp(key + n - 10, "UserErrors") == 0);
}

/* Collect "field.path: message" of every non-empty user error array below
 * v into out. */
void user_errors(struct json_object *v, char *out, size_t out_size, int depth)
{
    if (depth > 32)
        return;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            user_errors(json_object_array_get_idx(v, i), out, out_size, depth + 1);
        return;
    }
    if (!json_object_is_type(v, json_type_object))
        return;
    json_object_object_foreach(v, key, val)
    {
        if (!is_user_errors_key(key) || !json_object_is_type(val, json_type_array)) {
            user_errors(val, out, out_size, depth + 1);
            continue;
        }
        size_t n = json_object_array_length(val);
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(val, i), *msg = NULL, *field = NULL;
            json_object_object_get_ex(e, "message", &msg);
            json_object_object_get_ex(e, "field", &field);
            char item[300] = "";
            if (field && json_object_is_type(field, json_type_array)) {
                size_t nf = json_object_array_length(field);
                for (size_t f = 0; f < nf; f++)
                    append(item, sizeof(item), ".",
                           json_object_get_string(json_object_array_get_idx(field, f)));
            }
            if (item[0])
                append(item, sizeof(item), "", ": ");
            append(item, sizeof(item), "",
                   msg ? json_object_get_string(msg)
                       : json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
            append(out, out_size, "; ", item);
        }
    }
}

/* Seconds until the cost bucket holds what the query asked for. */
static int64_t throttle_wait_s(struct json_object *answer)
{
    struct json_object *ext, *cost, *ts, *requested, *available, *rate;
    if (!json_object_object_get_ex(answer, "extensions", &ext) ||
        !json_object_object_get_ex(ext, "cost", &cost) ||
        !json_object_object_get_ex(cost, "requestedQueryCost", &requested) ||
        !json_object_object_get_ex(cost, "throttleStatus", &ts) ||
        !json_object_object_get_ex(ts, "currentlyAvailable", &available) ||
        !json_object_object_get_ex(ts, "restoreRate", &rate))
        return 2;
    double need = json_object_get_double(requested) - json_object_get_double(available);
    double per_s = json_object_get_double(rate);
    if (!(per_s > 0))
        return 2;
    double exact = need / per_s;
    if (!(exact < 60))
        return 60;
    int64_t s = exact > 0 ? (int64_t)exact : 0;
    if ((double)s < exact)
        s++; /* round up, without libm */
    return s < 1 ? 1 : s;
}

/* Map a 200 answer: errors, userErrors, or the data as the output. */
static enum sb_status handle_answer(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_http_response *resp)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return sb->fail(call, "out of memory");
    struct json_object *answer = json_tokener_parse_ex(tok, resp->body, (int)resp->body_len);
    bool whole = answer && json_tokener_get_error(tok) == json_tokener_success &&
                 (size_t)json_tokener_get_parse_end(tok) == resp->body_len;
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(answer, json_type_object)) {
        json_object_put(answer);
        return sb->fail(call, "Shopify answered HTTP %ld with a body that is not a JSON object",
                        resp->status);
    }
    char text[MAX_TEXT];
    enum sb_status st = SB_OK;
    struct json_object *errors = NULL, *data = NULL, *ext = NULL, *cost = NULL;
    json_object_object_get_ex(answer, "data", &data);
    if (json_object_object_get_ex(answer, "errors", &errors) &&
        !json_object_is_type(errors, json_type_null) &&
        !(json_object_is_type(errors, json_type_array) && json_object_array_length(errors) == 0)) {
        bool throttled = false;
        errors_text(errors, text, sizeof(text), &throttled);
        if (throttled)
            st = sb->retry(call, throttle_wait_s(answer), "Shopify GraphQL throttled: %s", text);
        else
            st = sb->fail(call, "Shopify GraphQL errors: %s", text);
        goto out;
    }
    text[0] = '\0';
    user_errors(data, text, sizeof(text), 0);
    if (text[0]) {
        st = sb->fail(call, "Shopify userErrors: %s", text);
        goto out;
    }
    struct json_object *output = NULL;
    if (data && json_object_is_type(data, json_type_object))
        output = json_object_get(data);
    else
        output = json_object_new_object();
    if (!output) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    if (json_object_object_get_ex(answer, "extensions", &ext) &&
        json_object_object_get_ex(ext, "cost", &cost) &&
        !json_object_object_get_ex(output, "extensions", NULL)) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "cost", json_object_get(cost));
        json_object_object_add(output, "extensions", e);
    }
    sb->set_output(call, output);
out:
    json_object_put(answer);
    return st;
}

/* Shopify's error text of a non-2xx answer: its "errors" member, else the
 * start of the body, on one line. */
void status_text(const struct sb_http_response *resp, char *out, size_t out_size)
{
    struct json_object *j = resp->body_len ? json_tokener_parse(resp->body) : NULL, *errors;
    if (j && json_object_object_get_ex(j, "errors", &errors))
        errors_text(errors, out, out_size, NULL);
    else
        snprintf(out, out_size, "%.300s", resp->body ? resp->body : "");
    json_object_put(j);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* --- run ------------------------------------------------------------------------------ */

/* One GraphQL request; see the file comment for the result mapping. */
enum sb_status shopify_graphql_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *shop = sb->param_string(call, "shop");
    const char *token = sb->param_string(call, "access_token");
    const char *version = sb->param_string(call, "api_version");
    const char *query = sb->param_string(call, "query");
    const char *vars = sb->param_string(call, "variables");
    const char *base = sb->param_string(call, "api_base");
    char name[64], url[MAX_URL];
    if (!shop || shop_name(shop, name, sizeof(name)) < 0)
        return sb->fail(call,
                        "shop '%s' is not a shop name like my-store or "
                        "my-store.myshopify.com",
                        shop ? shop : "");
    if (!version || !valid_version(version))
        return sb->fail(call, "api_version '%s' is not like 2025-01", version ? version : "");
    if (!token || !*token || strpbrk(token, "\r\n"))
        return sb->fail(call, "the access token is empty or holds a line break");
    if (!query || !*query)
        return sb->fail(call, "the query rendered empty");
    if (build_url(base ? base : DEFAULT_BASE, name, version, url, sizeof(url)) < 0)
        return sb->fail(call, "the API address is longer than %d bytes", MAX_URL - 1);

    struct json_object *body = json_object_new_object();
    if (!body)
        return sb->fail(call, "out of memory");
    json_object_object_add(body, "query", json_object_new_string(query));
    if (vars && *vars) {
        struct json_object *v = json_tokener_parse(vars);
        if (!v || !json_object_is_type(v, json_type_object)) {
            json_object_put(v);
            json_object_put(body);
            return sb->fail(call, "variables did not render to a JSON object");
        }
        json_object_object_add(body, "variables", v);
    }
    const char *json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    struct sb_header headers[] = {
        {"X-Shopify-Access-Token", token},
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.n_headers = sizeof(headers) / sizeof(headers[0]);
    req.body = json;
    req.body_len = strlen(json);
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    json_object_put(body);

    enum sb_status st;
    char text[MAX_TEXT];
    if (rc == SB_HTTP_DRY_RUN) {
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "dry_run", json_object_new_boolean(1));
        sb->set_output(call, out);
        st = SB_OK;
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "Shopify: %s", resp.error);
    } else if (resp.status >= 200 && resp.status < 300) {
        st = handle_answer(sb, call, &resp);
    } else if (resp.status == 429 || resp.status >= 500) {
        status_text(&resp, text, sizeof(text));
        st = sb->retry(call, resp.retry_after_s, "Shopify HTTP %ld %s", resp.status, text);
    } else {
        status_text(&resp, text, sizeof(text));
        st = sb->fail(call, "Shopify HTTP %ld %s", resp.status, text);
    }
    sb->http_release(&resp);
    return st;
}
