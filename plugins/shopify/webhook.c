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
#include <stdlib.h>
#include <string.h>

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
             "products/update ...)"},
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

/* Whether the base64 signature matches the body under any secret. */
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
    bool ok = false;
    for (size_t i = 0; i < h->n_secrets; i++) {
        unsigned char mac[SB_HASH_MAX_SIZE];
        int len = sb->hmac(SB_HASH_SHA256, h->secrets[i], strlen(h->secrets[i]), &body, 1, mac);
        /* try every secret, so the time does not tell which one matched */
        ok |= len == SHA256_LEN && sb->ct_equal(mac, sent, SHA256_LEN);
    }
    return ok;
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
