/*
 * hubspot.webhook: a HubSpot app's webhook deliveries (connectors.md
 * section 8).
 *
 * HubSpot signs every delivery with X-HubSpot-Signature-v3: base64 of
 * HMAC-SHA256, keyed with the app's client secret, over method + URI +
 * raw body + X-HubSpot-Request-Timestamp (Unix milliseconds), and wants
 * requests older than 5 minutes refused. The URI is the full URL HubSpot
 * called, after decoding a fixed set of escapes; behind a proxy the
 * request line differs from it, so it is never read from the request: it
 * is the trigger's public_url (a core key), else [server] public_url +
 * /hooks/<path>, with the request's query string added. Older apps send
 * X-HubSpot-Signature with X-HubSpot-Signature-Version v1 (SHA-256 of
 * secret + body) or v2 (SHA-256 of secret + method + URI + body); both are
 * verified too. `switchboard sign hubspot` makes all three with the same
 * code.
 *
 * The body is a JSON array of up to 100 events; each becomes its own event.
 * HubSpot does not promise eventId is unique, so the dedupe id joins
 * subscriptionId, eventId, objectId and occurredAt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hubspot.h"

#define SHA256_LEN 32
#define WINDOW_MS (5 * 60 * 1000)
#define MAX_URI 4096
#define MAX_EVENTS 100

const struct sb_param hubspot_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the app's client secret (developer account > Apps > Auth), which HubSpot signs "
             "deliveries with"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these subscription types start this workflow (contact.creation "
             "deal.propertyChange contact.* ...)"},
    SB_END,
};

struct hubspot_hook {
    char *secret;
    char *public_url; /* the URL HubSpot calls, NULL when unknown */
};

enum sb_status hubspot_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *url = sb->public_url(call);
    if (url && ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
                strpbrk(url, " \t\r\n"))) {
        sb->config_error(call, "public_url",
                         "'%s' is not an http(s) URL; give the target URL exactly as set in the "
                         "app's webhook settings",
                         url);
        return SB_FAIL;
    }
    if (!url) {
        sb->config_error(call, "public_url",
                         "hubspot.webhook needs the URL HubSpot calls, which it signs: set "
                         "[server] public_url in switchboard.ini, or public_url here (the target "
                         "URL of the app's webhook settings)");
        return SB_FAIL;
    }
    return SB_OK;
}

static void hook_free(struct hubspot_hook *h)
{
    if (!h)
        return;
    free(h->secret);
    free(h->public_url);
    free(h);
}

enum sb_status hubspot_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    const char *secret = sb->param_string(call, "secret");
    const char *url = sb->public_url(call);
    if (!secret || !*secret)
        return sb->fail(call, "the secret is empty");
    if (!url || !*url)
        return sb->fail(call, "hubspot.webhook needs public_url or [server] public_url");
    struct hubspot_hook *h = calloc(1, sizeof(*h));
    if (!h || !(h->secret = strdup(secret)) || !(h->public_url = strdup(url))) {
        hook_free(h);
        return sb->fail(call, "out of memory");
    }
    sb->set_state(call, h);
    return SB_OK;
}

void hubspot_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    hook_free(state);
}

/* --- signatures ------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The URI HubSpot signs in v2 and v3: `url` with only %3A %2F %3F %40 %21
 * %24 %27 %28 %29 %2A %2C %3B decoded (either case of hex digits), as
 * HubSpot's request-validation page requires (the SDKs skip this); every
 * other escape stays as sent. 0, or -1 when out_size is too small.
 */
static int v3_uri(const char *url, char *out, size_t out_size)
{
    /* the reserved characters HubSpot's page lists: : / ? @ ! $ ' ( ) * , ; */
    static const char decoded[] = ":/?@!$'()*,;";
    size_t o = 0;
    for (const char *p = url; *p; p++) {
        char c = *p;
        if (c == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
            char d = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            if (d && strchr(decoded, d)) {
                c = d;
                p += 2;
            }
        }
        if (o + 1 >= out_size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* The parts v3 signs, in order: method, URI (decoded), body, timestamp. */
static void v3_parts(const char *method, const char *uri, const void *body, size_t body_len,
                     const char *timestamp, struct sb_bytes parts[4])
{
    parts[0] = (struct sb_bytes){method, strlen(method)};
    parts[1] = (struct sb_bytes){uri, strlen(uri)};
    parts[2] = (struct sb_bytes){body, body_len};
    parts[3] = (struct sb_bytes){timestamp, strlen(timestamp)};
}

/* The v1 (`uri` NULL: SHA-256 of secret + body) or v2 (SHA-256 of secret +
 * method + uri + body, the URI exactly as called) digest into out[32].
 * 0 or -1. */
static int v1v2_digest(const struct sb_host *sb, const char *secret, const char *method,
                       const char *uri, const void *body, size_t body_len, unsigned char *out)
{
    struct sb_bytes v1[] = {{secret, strlen(secret)}, {body, body_len}};
    struct sb_bytes v2[] = {
        {secret, strlen(secret)},
        {method, strlen(method)},
        {uri ? uri : "", uri ? strlen(uri) : 0},
        {body, body_len},
    };
    int n = uri ? sb->digest(SB_HASH_SHA256, v2, 4, out) : sb->digest(SB_HASH_SHA256, v1, 2, out);
    return n == SHA256_LEN ? 0 : -1;
}

/* The URL HubSpot called: public_url, plus the request's query string when
 * public_url has none. 0, or -1 when it does not fit. */
static int called_url(const struct hubspot_hook *h, const struct sb_request *req, char *out,
                      size_t out_size)
{
    bool add_query = !strchr(h->public_url, '?') && req->query && *req->query;
    int n = snprintf(out, out_size, "%s%s%s", h->public_url, add_query ? "?" : "",
                     add_query ? req->query : "");
    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

/* Whether `text` is exactly `len` decimal digits long and parses; *out. */
static bool parse_ms(const char *text, int64_t *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 18 || strspn(text, "0123456789") != n)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (text[i] - '0');
    *out = v;
    return true;
}

/* X-HubSpot-Signature-v3: the timestamp window, then the MAC. SB_OK or the
 * rejection. */
static enum sb_status verify_v3(const struct sb_host *sb, struct sb_call *call,
                                const struct hubspot_hook *h, const struct sb_request *req,
                                const char *sig)
{
    const char *ts = sb->header(req, "X-HubSpot-Request-Timestamp");
    int64_t ts_ms;
    if (!ts || !parse_ms(ts, &ts_ms))
        return sb->reject(call, 401, "missing or malformed X-HubSpot-Request-Timestamp");
    int64_t age = sb->now_ms(call) - ts_ms;
    if (age > WINDOW_MS || age < -WINDOW_MS)
        return sb->reject(call, 401, "X-HubSpot-Request-Timestamp is more than 5 minutes from now");
    char url[MAX_URI], uri[MAX_URI];
    if (called_url(h, req, url, sizeof(url)) < 0 || v3_uri(url, uri, sizeof(uri)) < 0)
        return sb->reject(call, 414, "the request URL is too long");
    unsigned char sent[SB_HASH_MAX_SIZE];
    int n = sb->base64_decode(sig, strlen(sig), sent, sizeof(sent));
    struct sb_bytes parts[4];
    v3_parts(req->method, uri, req->body, req->body_len, ts, parts);
    struct sb_bytes key = {h->secret, strlen(h->secret)};
    if (n != SHA256_LEN || !sb->hmac_verify(SB_HASH_SHA256, &key, 1, parts, 4, sent, (size_t)n))
        return sb->reject(call, 401, "invalid signature");
    return SB_OK;
}

/* X-HubSpot-Signature with version v1 (the default) or v2. */
static enum sb_status verify_v1v2(const struct sb_host *sb, struct sb_call *call,
                                  const struct hubspot_hook *h, const struct sb_request *req,
                                  const char *sig)
{
    const char *version = sb->header(req, "X-HubSpot-Signature-Version");
    bool v2 = false;
    if (version && strcmp(version, "v2") == 0)
        v2 = true;
    else if (version && *version && strcmp(version, "v1") != 0)
        return sb->reject(call, 401, "unknown X-HubSpot-Signature-Version");
    char url[MAX_URI];
    if (v2 && called_url(h, req, url, sizeof(url)) < 0)
        return sb->reject(call, 414, "the request URL is too long");
    unsigned char want[SB_HASH_MAX_SIZE], sent[SB_HASH_MAX_SIZE];
    if (v1v2_digest(sb, h->secret, req->method, v2 ? url : NULL, req->body, req->body_len, want) <
        0)
        return sb->fail(call, "cannot compute the signature");
    /* hex digits in either case */
    int n = sb->hex_decode(sig, strlen(sig), sent, sizeof(sent));
    if (n != SHA256_LEN || !sb->ct_equal(sent, want, SHA256_LEN))
        return sb->reject(call, 401, "invalid signature");
    return SB_OK;
}

/* --- events ---------------------------------------------------------------------- */

/* A member as text: a string as it is, a number in decimal; "" when absent
 * or of another type. Borrowed from obj. */
static const char *member_text(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return "";
    if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))
        return json_object_get_string(v);
    return "";
}

/* One element of the array as an event. Consumes nothing; SB_OK or the
 * result of emit. */
static enum sb_status emit_element(const struct sb_host *sb, struct sb_call *call,
                                   struct json_object *elem)
{
    const char *sub = member_text(elem, "subscriptionId");
    const char *eid = member_text(elem, "eventId");
    const char *obj = member_text(elem, "objectId");
    const char *at = member_text(elem, "occurredAt");
    char id[256];
    bool has_id = *eid || *obj;
    if (has_id)
        snprintf(id, sizeof(id), "%s:%s:%s:%s", sub, eid, obj, at);
    const char *type = member_text(elem, "subscriptionType");
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = has_id ? id : NULL; /* NULL: the core makes one (no dedupe) */
    ev.type = *type ? type : "unknown";
    int64_t occurred;
    if (*at && parse_ms(at, &occurred))
        ev.occurred_at_ms = occurred;
    ev.payload = json_object_get(elem);
    return sb->emit(call, &ev);
}

/* Verify (v3 when sent, else v1/v2), then emit each element of the array. */
enum sb_status hubspot_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req)
{
    const struct hubspot_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    const char *v3 = sb->header(req, "X-HubSpot-Signature-v3");
    const char *v1 = sb->header(req, "X-HubSpot-Signature");
    enum sb_status st;
    if (v3)
        st = verify_v3(sb, call, h, req, v3);
    else if (v1)
        st = verify_v1v2(sb, call, h, req, v1);
    else
        return sb->reject(call, 401, "missing X-HubSpot-Signature-v3 signature");
    if (st != SB_OK)
        return st;

    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return sb->fail(call, "out of memory");
    struct json_object *body =
        json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len);
    bool whole = body && json_tokener_get_error(tok) == json_tokener_success &&
                 (size_t)json_tokener_get_parse_end(tok) == req->body_len;
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(body, json_type_array)) {
        json_object_put(body);
        return sb->reject(call, 400, "body is not a JSON array of events");
    }
    size_t n = json_object_array_length(body);
    if (n > MAX_EVENTS) {
        json_object_put(body);
        return sb->reject(call, 413, "more than %d events in one request", MAX_EVENTS);
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_object_is_type(json_object_array_get_idx(body, i), json_type_object)) {
            json_object_put(body);
            return sb->reject(call, 400, "event %zu of the array is not an object", i);
        }
    }
    st = SB_OK;
    for (size_t i = 0; i < n && st == SB_OK; i++)
        st = emit_element(sb, call, json_object_array_get_idx(body, i));
    json_object_put(body);
    return st;
}

/* --- switchboard sign hubspot ---------------------------------------------------------- */

static const char *const versions[] = {"v3", "v2", "v1", NULL};
static const char *const sign_methods[] = {"POST", "GET", "PUT", NULL};

const struct sb_param hubspot_sign_params[] = {
    {.name = "url",
     .type = SB_PARAM_STRING,
     .help = "the URL HubSpot calls (the trigger's public_url), query string included; needed "
             "for v3 and v2"},
    {.name = "version",
     .type = SB_PARAM_ENUM,
     .def = "v3",
     .values = versions,
     .help = "the signature scheme: v3 (current), or v2 / v1 of older apps"},
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .def = "POST",
     .values = sign_methods,
     .help = "the request method that is signed"},
    SB_END,
};

/* The headers HubSpot sends with req->body: v3 with
 * X-HubSpot-Request-Timestamp (milliseconds), or v1/v2 with
 * X-HubSpot-Signature-Version. */
enum sb_status hubspot_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req)
{
    const char *version = sb->param_string(call, "version");
    const char *method = sb->param_string(call, "method");
    const char *url = sb->param_string(call, "url");
    if (!version)
        version = "v3";
    if (!method)
        method = "POST";
    bool v1 = strcmp(version, "v1") == 0;
    if (!v1 && (!url || !*url))
        return sb->fail(call,
                        "hubspot %s signs the URL HubSpot calls: give --url (the "
                        "trigger's public_url, query string included)",
                        version);
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    unsigned char mac[SB_HASH_MAX_SIZE];
    char text[2 * SB_HASH_MAX_SIZE + 1];
    if (strcmp(version, "v3") == 0) {
        char ts[32], uri[MAX_URI];
        snprintf(ts, sizeof(ts), "%lld", (long long)req->timestamp_s * 1000);
        if (v3_uri(url, uri, sizeof(uri)) < 0) {
            json_object_put(out);
            return sb->fail(call, "the URL is longer than %d bytes", MAX_URI - 1);
        }
        struct sb_bytes parts[4];
        v3_parts(method, uri, req->body, req->body_len, ts, parts);
        int n = sb->hmac(SB_HASH_SHA256, req->secret, strlen(req->secret), parts, 4, mac);
        if (n != SHA256_LEN || sb->base64_encode(mac, (size_t)n, text, sizeof(text)) < 0) {
            json_object_put(out);
            return sb->fail(call, "cannot compute the signature");
        }
        json_object_object_add(out, "X-HubSpot-Signature-v3", json_object_new_string(text));
        json_object_object_add(out, "X-HubSpot-Request-Timestamp", json_object_new_string(ts));
    } else {
        if (v1v2_digest(sb, req->secret, method, v1 ? NULL : url, req->body, req->body_len, mac) <
                0 ||
            sb->hex_encode(mac, SHA256_LEN, text, sizeof(text)) < 0) {
            json_object_put(out);
            return sb->fail(call, "cannot compute the signature");
        }
        json_object_object_add(out, "X-HubSpot-Signature", json_object_new_string(text));
        json_object_object_add(out, "X-HubSpot-Signature-Version", json_object_new_string(version));
    }
    sb->set_output(call, out);
    return SB_OK;
}
