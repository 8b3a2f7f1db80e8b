/*
 * trello.webhook: Trello's webhook deliveries (connectors.md section 4).
 *
 * Trello signs each delivery with X-Trello-Webhook: base64 of HMAC-SHA1,
 * keyed with the application's OAuth secret, over the raw body followed by
 * the callback URL exactly as it was registered (query string included).
 * The URL is a parameter, never rebuilt from the request: behind a proxy
 * the request line differs from what Trello signed. Before it creates a
 * webhook Trello sends a HEAD request to the URL and wants a 200.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trello.h"

#define SHA1_LEN 20

const struct sb_param trello_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the application's OAuth secret (Power-Up admin, API key tab; not the API key, not "
             "a token)"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rotating: the old OAuth secret, accepted as well until you remove it"},
    {.name = "callback_url",
     .type = SB_PARAM_STRING,
     .help = "the callbackURL exactly as registered with Trello (POST /1/webhooks), query "
             "string included; Trello signs it. Default: the trigger's public URL ([server] "
             "public_url + /hooks/<path>)"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these action types start this workflow (createCard updateCard "
             "commentCard ...; globs allowed)"},
    {.name = "key",
     .type = SB_PARAM_SECRET,
     .help = "switchboard hooks: the Trello API key that registers the webhook"},
    {.name = "token",
     .type = SB_PARAM_SECRET,
     .help = "switchboard hooks: a user token for that key; the webhook belongs to it"},
    {.name = "id_model",
     .type = SB_PARAM_STRING,
     .help = "switchboard hooks: the id of the board, list, card or member to watch"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = "https://api.trello.com",
     .help = "the Trello API address, for switchboard hooks (change it only to point at a test "
             "server)"},
    SB_END,
};

const char *trello_callback_url(const struct sb_host *sb, struct sb_call *call)
{
    const char *url = sb->param_string(call, "callback_url");
    return url && *url ? url : sb->public_url(call);
}

struct trello_hook {
    char *secrets[2]; /* the secret and, while rotating, the previous one */
    size_t n_secrets;
    char *callback_url;
};

static bool is_http_url(const char *s)
{
    return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) &&
           !strpbrk(s, " \t\r\n");
}

enum sb_status trello_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *url = sb->param_string(call, "callback_url");
    if (url && !is_http_url(url)) {
        sb->config_error(call, "callback_url",
                         "'%s' is not an http(s) URL; give the callbackURL exactly as registered "
                         "with Trello",
                         url);
        return SB_FAIL;
    }
    if (!trello_callback_url(sb, call)) {
        sb->config_error(call, "callback_url",
                         "Trello signs the callback URL, so it must be known: set callback_url, "
                         "or [server] public_url in switchboard.ini");
        return SB_FAIL;
    }
    const char *base = sb->param_string(call, "api_base");
    if (base && !is_http_url(base)) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        return SB_FAIL;
    }
    return SB_OK;
}

static void hook_free(struct trello_hook *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_secrets; i++)
        free(h->secrets[i]);
    free(h->callback_url);
    free(h);
}

enum sb_status trello_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct trello_hook *h = calloc(1, sizeof(*h));
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
    const char *url = trello_callback_url(sb, call);
    h->callback_url = strdup(url ? url : "");
    if (!h->callback_url) {
        hook_free(h);
        return sb->fail(call, "out of memory");
    }
    if (h->n_secrets == 0) {
        hook_free(h);
        return sb->fail(call, "the secret is empty");
    }
    sb->set_state(call, h);
    return SB_OK;
}

void trello_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    hook_free(state);
}

/* What Trello signs: the raw body, then the callback URL exactly as
 * registered; shared by verify and sign. */
static void signed_parts(const void *body, size_t len, const char *url, struct sb_bytes parts[2])
{
    parts[0] = (struct sb_bytes){body, len};
    parts[1] = (struct sb_bytes){url, strlen(url)};
}

/* Whether X-Trello-Webhook matches body + callback URL under any secret. */
static bool signature_ok(const struct sb_host *sb, const struct trello_hook *h,
                         const struct sb_request *req, const char *sig)
{
    unsigned char sent[SB_HASH_MAX_SIZE + 4];
    int n = sb->base64_decode(sig, strlen(sig), sent, sizeof(sent));
    if (n != SHA1_LEN)
        return false;
    /* only the canonical text of those bytes counts (as the reference
     * libraries compare text): padding bits cannot be varied */
    char canon[SB_HASH_MAX_SIZE * 2];
    if (sb->base64_encode(sent, (size_t)n, canon, sizeof(canon)) < 0 || strcmp(canon, sig) != 0)
        return false;
    struct sb_bytes parts[2], keys[2];
    signed_parts(req->body, req->body_len, h->callback_url, parts);
    for (size_t i = 0; i < h->n_secrets; i++)
        keys[i] = (struct sb_bytes){h->secrets[i], strlen(h->secrets[i])};
    return sb->hmac_verify(SB_HASH_SHA1, keys, h->n_secrets, parts, 2, sent, SHA1_LEN);
}

/* A string member of an object, or NULL. Borrowed from obj. */
static const char *string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* HEAD: 200 without an event (Trello's creation check). POST: verify
 * X-Trello-Webhook over the raw body + callback_url, then emit the body as
 * the event: id action.id, type action.type; the source is the core's
 * default (per hook path): Trello sends the same action to every webhook
 * watching a model, and each hook path must see it. */
enum sb_status trello_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_request *req)
{
    const struct trello_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    /* Trello's check before it creates the webhook: 200, no event */
    if (strcmp(req->method, "HEAD") == 0)
        return sb->respond(call, 200, "text/plain", "", 0);
    const char *sig = sb->header(req, "X-Trello-Webhook");
    if (!sig || !*sig)
        return sb->reject(call, 401, "missing X-Trello-Webhook signature");
    if (!signature_ok(sb, h, req, sig))
        return sb->reject(call, 401, "invalid signature");

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
    /* every delivery is {"action": {...}, "model": {...}}; a verified body
     * without them still comes from Trello, so it is kept, typed "unknown" */
    struct json_object *action = NULL;
    json_object_object_get_ex(body, "action", &action);
    const char *id = string_member(action, "id");
    const char *type = string_member(action, "type");
    /* emit copies id and type before the payload (which holds them) goes */
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id && *id ? id : NULL; /* NULL: the core makes one (no dedupe) */
    ev.type = type && *type ? type : "unknown";
    ev.payload = body;
    ev.payload_json = (const char *)req->body;
    ev.payload_json_len = req->body_len;
    return sb->emit(call, &ev);
}

/* --- switchboard sign trello ------------------------------------------------- */

const struct sb_param trello_sign_params[] = {
    {.name = "url",
     .type = SB_PARAM_STRING,
     .help = "the callbackURL exactly as registered with Trello (also --url); Trello signs it"},
    SB_END,
};

/* X-Trello-Webhook: base64 HMAC-SHA1 of the body + the callback URL. */
enum sb_status trello_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_sign_request *req)
{
    const char *url = sb->param_string(call, "url");
    if (!url || !*url)
        return sb->fail(call, "give --url, the callback URL exactly as registered with Trello");
    struct sb_bytes parts[2];
    signed_parts(req->body, req->body_len, url, parts);
    unsigned char mac[SB_HASH_MAX_SIZE];
    char sig[SB_HASH_MAX_SIZE * 2];
    if (sb->hmac(SB_HASH_SHA1, req->secret, strlen(req->secret), parts, 2, mac) != SHA1_LEN ||
        sb->base64_encode(mac, SHA1_LEN, sig, sizeof(sig)) < 0)
        return sb->fail(call, "cannot compute the signature");
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, "X-Trello-Webhook", json_object_new_string(sig));
    sb->set_output(call, out);
    return SB_OK;
}
