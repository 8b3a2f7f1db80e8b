/*
 * shopify.webhook: Shopify's HTTPS webhook deliveries (connectors.md
 * section 5).
 *
 * X-Shopify-Hmac-Sha256 is base64 of HMAC-SHA256 over the raw body, keyed
 * with the app's client secret. Deliveries in the newer "events" style also
 * carry un-prefixed headers (shopify-hmac-sha256, shopify-topic, ...); as in
 * Shopify's own library the un-prefixed signature is checked first. During
 * a secret rotation Shopify may sign with either secret for up to an hour,
 * so both `secret` and `previous_secret` verify. X-Shopify-Webhook-Id is the
 * delivery id (the same on every retry), so duplicates are dropped by it.
 * The payload is the body exactly as sent: order ids exceed 2^53 and must
 * not pass through a double, so the raw text is what the store keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "shopify.h"

#define SHA256_LEN 32

const struct sb_param shopify_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the app's client secret (API secret key) that Shopify signs deliveries with"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rotating: the old client secret, accepted as well until you remove it"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these topics start this workflow (orders/create, orders/*, "
             "products/update ...); switchboard hooks register subscribes to each (exact "
             "topics)"},
    {.name = "shop",
     .type = SB_PARAM_STRING,
     .help = "switchboard hooks: the shop whose webhook subscriptions to manage (my-store or "
             "my-store.myshopify.com)"},
    {.name = "access_token",
     .type = SB_PARAM_SECRET,
     .help = "switchboard hooks: the Admin API access token (shpat_...)"},
    {.name = "api_version",
     .type = SB_PARAM_STRING,
     .def = "2025-01",
     .help = "switchboard hooks: the Admin API version (from 2025-10 subscriptions take uri "
             "instead of callbackUrl)"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = SHOPIFY_DEFAULT_BASE,
     .help = "the shop's address for switchboard hooks; {shop} stands for the shop name "
             "(change it only to point at a test server)"},
    SB_END,
};

struct shopify_hook {
    char *secrets[2];
    size_t n_secrets;
};

static void hook_free(struct shopify_hook *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_secrets; i++)
        free(h->secrets[i]);
    free(h);
}

enum sb_status shopify_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct shopify_hook *h = calloc(1, sizeof(*h));
    if (!h)
        return sb->fail(call, "out of memory");
    static const char *const names[] = {"secret", "previous_secret"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = sb->param_string(call, names[i]);
        if (v && *v) {
            h->secrets[h->n_secrets] = strdup(v);
            if (!h->secrets[h->n_secrets]) {
                hook_free(h);
                return sb->fail(call, "out of memory");
            }
            h->n_secrets++;
        }
    }
    if (h->n_secrets == 0) {
        hook_free(h);
        return sb->fail(call, "the secret is empty");
    }
    sb->set_state(call, h);
    return SB_OK;
}

void shopify_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    hook_free(state);
}

/* Whether the base64 signature is the HMAC-SHA256 of the raw body (all
 * Shopify signs) under any secret. */
static bool signature_ok(const struct sb_host *sb, const struct shopify_hook *h,
                         const struct sb_request *req, const char *sig)
{
    unsigned char sent[SB_HASH_MAX_SIZE + 4];
    int n = sb->base64_decode(sig, strlen(sig), sent, sizeof(sent));
    if (n != SHA256_LEN)
        return false;
    /* only the canonical text of those bytes counts (as the reference
     * libraries compare text): padding bits cannot be varied */
    char canon[SB_HASH_MAX_SIZE * 2];
    if (sb->base64_encode(sent, (size_t)n, canon, sizeof(canon)) < 0 || strcmp(canon, sig) != 0)
        return false;
    struct sb_bytes body = {req->body, req->body_len};
    struct sb_bytes keys[2];
    for (size_t i = 0; i < h->n_secrets; i++)
        keys[i] = (struct sb_bytes){h->secrets[i], strlen(h->secrets[i])};
    return sb->hmac_verify(SB_HASH_SHA256, keys, h->n_secrets, &body, 1, sent, SHA256_LEN);
}

/* The first non-empty header of two names, or NULL. */
static const char *header_of(const struct sb_host *sb, const struct sb_request *req,
                             const char *first, const char *second)
{
    const char *v = sb->header(req, first);
    if (v && *v)
        return v;
    v = sb->header(req, second);
    return v && *v ? v : NULL;
}

/* Verify the HMAC (un-prefixed header first) over the raw body, then emit
 * the body verbatim: id X-Shopify-Webhook-Id, type the topic, source
 * "shopify". */
enum sb_status shopify_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req)
{
    const struct shopify_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    /* events-style deliveries send both sets: the un-prefixed one wins */
    const char *sig = sb->header(req, "shopify-hmac-sha256");
    bool unprefixed = sig && *sig;
    if (!unprefixed)
        sig = sb->header(req, "X-Shopify-Hmac-Sha256");
    if (!sig || !*sig)
        return sb->reject(call, 401, "missing X-Shopify-Hmac-Sha256 signature");
    if (!signature_ok(sb, h, req, sig))
        return sb->reject(call, 401, "invalid signature");

    const char *topic = unprefixed ? header_of(sb, req, "shopify-topic", "X-Shopify-Topic")
                                   : header_of(sb, req, "X-Shopify-Topic", "shopify-topic");
    if (!topic)
        return sb->reject(call, 400, "missing X-Shopify-Topic");
    const char *id = header_of(sb, req, "X-Shopify-Webhook-Id", "shopify-webhook-id");

    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return sb->fail(call, "out of memory");
    struct json_object *body =
        json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len);
    bool whole = body && json_tokener_get_error(tok) == json_tokener_success &&
                 (size_t)json_tokener_get_parse_end(tok) == req->body_len;
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        return sb->reject(call, 400, "body is not a JSON object");
    }
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id; /* NULL: the core makes one (no delivery id, no dedupe) */
    ev.type = topic;
    ev.source = "shopify";
    ev.payload = body;
    /* stored verbatim: big ids keep their exact digits */
    ev.payload_json = (const char *)req->body;
    ev.payload_json_len = req->body_len;
    return sb->emit(call, &ev);
}

/* --- switchboard sign shopify ------------------------------------------------- */

const struct sb_param shopify_sign_params[] = {
    {.name = "topic",
     .type = SB_PARAM_STRING,
     .def = "orders/create",
     .help = "X-Shopify-Topic: the webhook topic"},
    {.name = "shop",
     .type = SB_PARAM_STRING,
     .def = "example.myshopify.com",
     .help = "X-Shopify-Shop-Domain: my-store or my-store.myshopify.com"},
    {.name = "api_version",
     .type = SB_PARAM_STRING,
     .def = "2025-01",
     .help = "X-Shopify-API-Version"},
    {.name = "webhook_id",
     .type = SB_PARAM_STRING,
     .help = "X-Shopify-Webhook-Id, the delivery id duplicates are dropped by; default: a new "
             "UUID"},
    {.name = "event_id",
     .type = SB_PARAM_STRING,
     .help = "X-Shopify-Event-Id; default: a new UUID"},
    SB_END,
};

/* A random UUID (version 4) into out[37]. 0 or -1. */
static int new_uuid(const struct sb_host *sb, char out[37])
{
    unsigned char b[16];
    char hex[33];
    if (sb->random_bytes(b, sizeof(b)) < 0)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    sb->hex_encode(b, sizeof(b), hex, sizeof(hex));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return 0;
}

/* An option, or a new UUID in buf when it is unset. NULL on failure. */
static const char *option_or_uuid(const struct sb_host *sb, struct sb_call *call, const char *name,
                                  char buf[37])
{
    const char *v = sb->param_string(call, name);
    if (v && *v)
        return v;
    return new_uuid(sb, buf) == 0 ? buf : NULL;
}

/* The headers of an HTTPS delivery as Shopify sends them (connectors.md
 * 5.2): the HMAC of the body, as signature_ok checks it, and the others
 * the official validator requires, plus Triggered-At and Event-Id. */
enum sb_status shopify_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req)
{
    struct sb_bytes body = {req->body, req->body_len};
    unsigned char mac[SB_HASH_MAX_SIZE];
    char sig[SB_HASH_MAX_SIZE * 2], domain[300], when[64], webhook_id[37], event_id[37];
    if (sb->hmac(SB_HASH_SHA256, req->secret, strlen(req->secret), &body, 1, mac) != SHA256_LEN ||
        sb->base64_encode(mac, SHA256_LEN, sig, sizeof(sig)) < 0)
        return sb->fail(call, "cannot compute the signature");
    const char *shop = sb->param_string(call, "shop");
    snprintf(domain, sizeof(domain), "%s%s", shop, strchr(shop, '.') ? "" : ".myshopify.com");
    time_t t = (time_t)req->timestamp_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm))
        return sb->fail(call, "--timestamp %lld is out of range", (long long)req->timestamp_s);
    const char *wid = option_or_uuid(sb, call, "webhook_id", webhook_id);
    const char *eid = option_or_uuid(sb, call, "event_id", event_id);
    struct json_object *out = json_object_new_object();
    if (!wid || !eid || !out) {
        json_object_put(out);
        return sb->fail(call, "cannot make an id");
    }
    json_object_object_add(out, "X-Shopify-Hmac-Sha256", json_object_new_string(sig));
    json_object_object_add(out, "X-Shopify-Topic",
                           json_object_new_string(sb->param_string(call, "topic")));
    json_object_object_add(out, "X-Shopify-Shop-Domain", json_object_new_string(domain));
    json_object_object_add(out, "X-Shopify-API-Version",
                           json_object_new_string(sb->param_string(call, "api_version")));
    json_object_object_add(out, "X-Shopify-Webhook-Id", json_object_new_string(wid));
    json_object_object_add(out, "X-Shopify-Triggered-At", json_object_new_string(when));
    json_object_object_add(out, "X-Shopify-Event-Id", json_object_new_string(eid));
    sb->set_output(call, out);
    return SB_OK;
}
