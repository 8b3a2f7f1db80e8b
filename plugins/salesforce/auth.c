/*
 * OAuth 2.0 for the REST actions (connectors.md 10.2).
 *
 * Two server-to-server flows, chosen by the parameters given:
 *   client credentials  client_id + client_secret, form-encoded to
 *                       {login_url}/services/oauth2/token (the connected
 *                       app's run-as user acts);
 *   JWT bearer          client_id + username + private_key: an RS256
 *                       assertion (jwt.c) with exp 3 minutes ahead.
 * Salesforce answers access_token and instance_url, and no lifetime (the
 * org's session policy decides), so a token is used until a call draws a
 * 401, or for at most an hour. Tokens live in the host's token cache (in
 * memory, shared by every worker, never logged or stored), keyed by a
 * SHA-256 of the credentials, never the credentials themselves; the value
 * is "<instance_url> <access_token>" (neither holds a space).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "salesforce.h"

#define MAX_AGE_MS (60 * 60 * 1000)
#define JWT_LIFETIME_S 180
#define SNIPPET 300

static void wipe_free(char *s)
{
    if (s) {
        /* volatile, so the store is not optimised away */
        for (volatile char *p = s; *p; p++)
            *p = 0;
    }
    free(s);
}

void salesforce_session_release(struct salesforce_session *s)
{
    wipe_free(s->access_token);
    free(s->instance_url);
    s->access_token = s->instance_url = NULL;
}

/* --- the token request -------------------------------------------------------------- */

/* login_url without trailing slashes, into out. */
static void base_of(const char *url, char *out, size_t out_size)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    snprintf(out, out_size, "%.*s", (int)n, url);
}

/* "&name=<value percent-encoded>" appended to a malloc'd form body;
 * false when out of memory (the body is freed then). */
static bool form_add(const struct sb_host *sb, char **body, const char *name, const char *value)
{
    size_t vlen = strlen(value), cap = 3 * vlen + 1;
    char *enc = malloc(cap);
    if (!enc || sb->url_encode(value, vlen, enc, cap) < 0) {
        free(enc);
        wipe_free(*body);
        *body = NULL;
        return false;
    }
    size_t old = *body ? strlen(*body) : 0;
    size_t need = old + strlen(name) + strlen(enc) + 3;
    char *grown = malloc(need);
    if (grown)
        snprintf(grown, need, "%s%s%s=%s", *body ? *body : "", old ? "&" : "", name, enc);
    wipe_free(enc);
    wipe_free(*body);
    *body = grown;
    return grown != NULL;
}

/* The form body of the token request for the call's flow (caller frees
 * with wipe_free). SB_OK, or the failure. */
static enum sb_status token_form(const struct sb_host *sb, struct sb_call *call, char **out)
{
    *out = NULL;
    const char *client_id = sb->param_string(call, "client_id");
    const char *secret = sb->param_string(call, "client_secret");
    const char *username = sb->param_string(call, "username");
    const char *key = sb->param_string(call, "private_key");
    char *body = NULL;
    if (secret && *secret) {
        bool ok = form_add(sb, &body, "grant_type", "client_credentials") &&
                  form_add(sb, &body, "client_id", client_id ? client_id : "") &&
                  form_add(sb, &body, "client_secret", secret);
        if (!ok)
            return sb->fail(call, "out of memory");
        *out = body;
        return SB_OK;
    }
    if (!username || !*username || !key || !*key)
        return sb->fail(call, "give client_secret, or username and private_key");
    const char *login = sb->param_string(call, "login_url");
    const char *aud = sb->param_string(call, "audience");
    if (!aud || !*aud)
        aud = salesforce_jwt_audience(login ? login : "");
    char *assertion = NULL, err[256];
    int64_t exp = sb->now_ms(call) / 1000 + JWT_LIFETIME_S;
    if (salesforce_jwt_assertion(sb, client_id ? client_id : "", username, aud, exp, key,
                                 &assertion, err, sizeof(err)) < 0)
        return sb->fail(call, "cannot sign the JWT bearer assertion: %s", err);
    bool ok = form_add(sb, &body, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer") &&
              form_add(sb, &body, "assertion", assertion);
    free(assertion);
    if (!ok)
        return sb->fail(call, "out of memory");
    *out = body;
    return SB_OK;
}

static const char *string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Ask the token endpoint. SB_OK with *out filled (a placeholder session in
 * a dry run), or the failure. */
static enum sb_status fetch_token(const struct sb_host *sb, struct sb_call *call,
                                  struct salesforce_session *out, int64_t *lifetime_ms)
{
    const char *login = sb->param_string(call, "login_url");
    char base[1024], url[1100];
    base_of(login ? login : "https://login.salesforce.com", base, sizeof(base));
    snprintf(url, sizeof(url), "%s/services/oauth2/token", base);
    char *form = NULL;
    enum sb_status st = token_form(sb, call, &form);
    if (st != SB_OK)
        return st;
    struct sb_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
    };
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.n_headers = 2;
    req.body = form;
    req.body_len = strlen(form);
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    wipe_free(form);
    struct json_object *answer = NULL;
    if (rc == SB_HTTP_DRY_RUN) {
        /* what the API call will be printed with: the login host stands
         * for the instance Salesforce would name */
        out->access_token = strdup("dry-run-token");
        out->instance_url = strdup(base);
        st = out->access_token && out->instance_url ? SB_OK : sb->fail(call, "out of memory");
    } else if (rc != SB_HTTP_SENT) {
        st = sb->retry(call, -1, "token request: %s", resp.error);
    } else if (resp.status >= 500 || resp.status == 429) {
        st = sb->retry(call, resp.retry_after_s, "token request: Salesforce HTTP %ld", resp.status);
    } else if (!(answer = json_tokener_parse(resp.body))) {
        st = sb->fail(call, "token request: Salesforce HTTP %ld with a body that is not JSON: %.*s",
                      resp.status, SNIPPET, resp.body);
    } else if (resp.status != 200) {
        /* {"error":"invalid_grant","error_description":"..."}: wrong
         * credentials or an app not allowed to use the flow; waiting will
         * not fix it */
        const char *e = string_member(answer, "error");
        const char *d = string_member(answer, "error_description");
        st = sb->fail(call, "token request refused: Salesforce HTTP %ld %s%s%s%s", resp.status,
                      e ? e : "", d ? " (" : "", d ? d : "", d ? ")" : "");
    } else {
        const char *token = string_member(answer, "access_token");
        const char *instance = string_member(answer, "instance_url");
        if (!token || !*token || !instance ||
            (strncmp(instance, "https://", 8) != 0 && strncmp(instance, "http://", 7) != 0)) {
            st = sb->fail(call, "token request: Salesforce's answer has no access_token or "
                                "instance_url");
        } else {
            char inst[1024];
            base_of(instance, inst, sizeof(inst));
            out->access_token = strdup(token);
            out->instance_url = strdup(inst);
            struct json_object *v;
            *lifetime_ms = MAX_AGE_MS;
            if (json_object_object_get_ex(answer, "expires_in", &v) &&
                json_object_get_int64(v) > 60 && json_object_get_int64(v) * 1000 < MAX_AGE_MS)
                *lifetime_ms = (json_object_get_int64(v) - 30) * 1000;
            st = out->access_token && out->instance_url ? SB_OK : sb->fail(call, "out of memory");
        }
    }
    if (st != SB_OK)
        salesforce_session_release(out);
    json_object_put(answer);
    /* the answer held the token: wipe the response body before it goes */
    if (resp.body)
        memset(resp.body, 0, resp.body_len);
    sb->http_release(&resp);
    return st;
}

/* --- the cache ---------------------------------------------------------------------- */

/* The cache key of the call's credentials: "salesforce:" and the hex
 * SHA-256 over the flow's parameters, NUL-separated. 0 or -1. */
static int credentials_key(const struct sb_host *sb, struct sb_call *call, char out[80])
{
    static const char *const names[] = {"login_url", "client_id",   "client_secret",
                                        "username",  "private_key", "audience"};
    struct sb_bytes parts[2 * 6];
    for (size_t i = 0; i < 6; i++) {
        const char *v = sb->param_string(call, names[i]);
        size_t n = v ? strlen(v) : 0;
        /* https://x.my.salesforce.com/ is the same login as without '/' */
        while (i == 0 && n && v[n - 1] == '/')
            n--;
        parts[2 * i] = (struct sb_bytes){v ? v : "", n};
        parts[2 * i + 1] = (struct sb_bytes){"", 1}; /* the NUL after it */
    }
    unsigned char digest[SB_HASH_MAX_SIZE];
    char hex[65];
    int n = sb->digest(SB_HASH_SHA256, parts, 12, digest);
    if (n != 32 || sb->hex_encode(digest, 32, hex, sizeof(hex)) != 64)
        return -1;
    snprintf(out, 80, "salesforce:%s", hex);
    return 0;
}

/* "<instance_url> <access_token>" as the cache holds it (caller frees with
 * wipe_free); NULL when out of memory. */
static char *cache_value(const struct salesforce_session *s)
{
    size_t n = strlen(s->instance_url) + strlen(s->access_token) + 2;
    char *v = malloc(n);
    if (v)
        snprintf(v, n, "%s %s", s->instance_url, s->access_token);
    return v;
}

/* The session of a cached value; false when it is not one. */
static bool parse_cached(const char *value, struct salesforce_session *out)
{
    const char *sp = strchr(value, ' ');
    if (!sp || sp == value || !sp[1])
        return false;
    out->instance_url = strndup(value, (size_t)(sp - value));
    out->access_token = strdup(sp + 1);
    if (!out->instance_url || !out->access_token) {
        salesforce_session_release(out);
        return false;
    }
    return true;
}

enum sb_status salesforce_session_get(const struct sb_host *sb, struct sb_call *call,
                                      const struct salesforce_session *stale,
                                      struct salesforce_session *out)
{
    memset(out, 0, sizeof(*out));
    int64_t lifetime = 0;
    char key[80];
    if (sb->dry_run(call) || credentials_key(sb, call, key) < 0)
        return fetch_token(sb, call, out, &lifetime);
    if (stale) {
        /* only while the cache still holds this one: another worker may
         * have stored a fresh token since */
        char *old = cache_value(stale);
        if (!old)
            return sb->fail(call, "out of memory");
        sb->token_invalidate(call, key, old);
        wipe_free(old);
    }
    char *value = NULL;
    if (sb->token_get(call, key, &value, NULL) == 0 && value) {
        bool ok = parse_cached(value, out);
        for (volatile char *p = value; *p; p++)
            *p = 0;
        sb->free(value);
        if (ok)
            return SB_OK;
    }
    int64_t now = sb->now_ms(call);
    enum sb_status st = fetch_token(sb, call, out, &lifetime);
    if (st != SB_OK)
        return st;
    char *fresh = cache_value(out);
    /* a cache that cannot keep it costs a token request per call, no more */
    if (fresh)
        sb->token_set(call, key, fresh, now + lifetime);
    wipe_free(fresh);
    return SB_OK;
}
