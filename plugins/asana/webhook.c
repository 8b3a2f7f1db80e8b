/*
 * asana.webhook: Asana's webhook deliveries (connectors.md section 9.1).
 *
 * Asana signs with a secret it hands out once: while the POST /webhooks
 * that creates a webhook is still open, it POSTs to the target with
 * X-Hook-Secret, and the target must answer 200 echoing that header. The
 * secret is kept in the store's kv for this hook path (durable, shared by
 * the workflows on the path and by `switchboard hooks`), so it survives
 * restarts. A later handshake replaces it only while `switchboard hooks
 * register` has a registration open (it sets registering_until), or when
 * none is stored: otherwise anyone who can reach the URL could swap the
 * secret and sign events of their own.
 *
 * Every delivery carries X-Hook-Signature, hex HMAC-SHA256 of the raw body
 * with that secret; no timestamp. The body is {"events":[...]}: each
 * element becomes its own event, typed <resource_type>.<action>
 * (task.added, story.added, task.changed); Asana gives no event id, so the
 * dedupe id joins resource.gid, action, created_at, parent.gid and
 * change.field. {"events":[]} is the heartbeat: 200, no run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "asana.h"

#define SHA256_LEN 32
#define MAX_EVENTS 100
#define MAX_SECRET 256

const struct sb_param asana_webhook_params[] = {
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these <resource_type>.<action> start this workflow (task.added "
             "story.added task.changed task.*)"},
    {.name = "resource",
     .type = SB_PARAM_STRING,
     .help = "for switchboard hooks register: the gid of the project (or task, portfolio, "
             "workspace) to watch"},
    {.name = "workspace",
     .type = SB_PARAM_STRING,
     .help = "for switchboard hooks list: the workspace gid (Asana lists webhooks per "
             "workspace); without it only the webhook made by register is shown"},
    {.name = "token",
     .type = SB_PARAM_SECRET,
     .help = "for switchboard hooks: a personal access token allowed to see the resource"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = ASANA_API_BASE,
     .help = "the Asana API address for switchboard hooks (change it only to point at a test "
             "server)"},
    SB_END,
};

/* The secret as last read from the kv, shared by the workers on this path. */
struct asana_hook {
    pthread_mutex_t lock;
    char *secret; /* NULL until read */
};

enum sb_status asana_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct asana_hook *h = calloc(1, sizeof(*h));
    if (!h)
        return sb->fail(call, "out of memory");
    pthread_mutex_init(&h->lock, NULL);
    sb->set_state(call, h);
    return SB_OK;
}

void asana_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    struct asana_hook *h = state;
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h->secret);
    free(h);
}

/* --- the secret ------------------------------------------------------------------- */

/* A copy of the cached secret (caller frees), or NULL when none is cached. */
static char *cached_secret(struct asana_hook *h)
{
    pthread_mutex_lock(&h->lock);
    char *s = h->secret ? strdup(h->secret) : NULL;
    pthread_mutex_unlock(&h->lock);
    return s;
}

static void cache_secret(struct asana_hook *h, const char *secret)
{
    char *copy = secret ? strdup(secret) : NULL;
    pthread_mutex_lock(&h->lock);
    free(h->secret);
    h->secret = copy;
    pthread_mutex_unlock(&h->lock);
}

/* The stored secret from the kv into *out (caller frees; NULL when none is
 * stored). 0, or -1 when the store cannot be read. */
static int stored_secret(const struct sb_host *sb, struct sb_call *call, char **out)
{
    *out = NULL;
    char *v = NULL;
    if (sb->kv_get(call, ASANA_KV_SECRET, &v) < 0)
        return -1;
    if (v && *v)
        *out = strdup(v);
    sb->free(v);
    return 0;
}

/* --- the handshake ---------------------------------------------------------------- */

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return *s != '\0';
}

/* Whether `switchboard hooks register` has a registration open now. */
static bool registering(const struct sb_host *sb, struct sb_call *call)
{
    char *until = NULL;
    if (sb->kv_get(call, ASANA_KV_REGISTERING, &until) < 0 || !until)
        return false;
    char *end;
    long long ms = strtoll(until, &end, 10);
    bool open = end != until && *end == '\0' && sb->now_ms(call) < ms;
    sb->free(until);
    return open;
}

/* X-Hook-Secret: store it (when allowed) and echo it. */
static enum sb_status handshake(const struct sb_host *sb, struct sb_call *call,
                                struct asana_hook *h, const char *secret)
{
    if (strlen(secret) > MAX_SECRET || !printable(secret))
        return sb->reject(call, 400, "malformed X-Hook-Secret");
    char *old = NULL;
    if (stored_secret(sb, call, &old) < 0)
        return sb->reject(call, 503, "the store is unavailable; retry later");
    bool replace = old && strcmp(old, secret) != 0;
    free(old);
    if (replace && !registering(sb, call))
        return sb->reject(call, 409,
                          "this hook already has a handshake secret; a new handshake replaces it "
                          "only while `switchboard hooks register` runs for its workflow");
    if (sb->kv_set(call, ASANA_KV_SECRET, secret) < 0)
        return sb->reject(call, 503, "the store is unavailable; retry later");
    /* one handshake per registration */
    sb->kv_set(call, ASANA_KV_REGISTERING, "0");
    cache_secret(h, secret);
    sb->log(call, SB_LOG_INFO, "Asana handshake: %s the webhook secret",
            replace ? "replaced" : "stored");
    if (sb->respond_header(call, "X-Hook-Secret", secret) != SB_OK)
        return SB_FAIL;
    return sb->respond(call, 200, "text/plain", "", 0);
}

/* --- deliveries ------------------------------------------------------------------- */

/* Whether X-Hook-Signature (hex) is the HMAC of the body under secret. */
static bool signature_ok(const struct sb_host *sb, const char *secret, const struct sb_request *req,
                         const char *sig)
{
    unsigned char sent[SB_HASH_MAX_SIZE];
    int n = sb->hex_decode(sig, strlen(sig), sent, sizeof(sent));
    struct sb_bytes key = {secret, strlen(secret)};
    struct sb_bytes body = {req->body, req->body_len};
    return n == SHA256_LEN && sb->hmac_verify(SB_HASH_SHA256, &key, 1, &body, 1, sent, (size_t)n);
}

/* member.sub as text ("" when absent). Borrowed. */
static const char *text_at(struct json_object *obj, const char *member, const char *sub)
{
    struct json_object *v = obj;
    if (member && !json_object_object_get_ex(v, member, &v))
        return "";
    if (sub && (!v || !json_object_object_get_ex(v, sub, &v)))
        return "";
    if (!v || !(json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
        return "";
    return json_object_get_string(v);
}

/* One element of events[] as an event. */
static enum sb_status emit_event(const struct sb_host *sb, struct sb_call *call,
                                 struct json_object *e)
{
    const char *rtype = text_at(e, "resource", "resource_type");
    const char *action = text_at(e, "action", NULL);
    char type[128], id[512];
    if (*rtype && *action)
        snprintf(type, sizeof(type), "%s.%s", rtype, action);
    else
        snprintf(type, sizeof(type), "unknown");
    /* the composite Asana documents: nothing else tells two events apart */
    snprintf(id, sizeof(id), "%s|%s|%s|%s|%s", text_at(e, "resource", "gid"), action,
             text_at(e, "created_at", NULL), text_at(e, "parent", "gid"),
             text_at(e, "change", "field"));
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id;
    ev.type = type;
    ev.payload = json_object_get(e);
    return sb->emit(call, &ev);
}

static enum sb_status deliver(const struct sb_host *sb, struct sb_call *call,
                              const struct sb_request *req)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return sb->fail(call, "out of memory");
    struct json_object *body =
        json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len);
    bool whole = body && json_tokener_get_error(tok) == json_tokener_success &&
                 (size_t)json_tokener_get_parse_end(tok) == req->body_len;
    json_tokener_free(tok);
    struct json_object *events = NULL;
    if (!whole || !json_object_object_get_ex(body, "events", &events) ||
        !json_object_is_type(events, json_type_array)) {
        json_object_put(body);
        return sb->reject(call, 400, "body is not {\"events\": [...]}");
    }
    size_t n = json_object_array_length(events);
    enum sb_status st = SB_OK;
    if (n > MAX_EVENTS)
        st = sb->reject(call, 413, "more than %d events in one request", MAX_EVENTS);
    for (size_t i = 0; st == SB_OK && i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(events, i), json_type_object))
            st = sb->reject(call, 400, "event %zu is not an object", i);
    for (size_t i = 0; st == SB_OK && i < n; i++)
        st = emit_event(sb, call, json_object_array_get_idx(events, i));
    json_object_put(body);
    if (st == SB_OK && n == 0) /* the heartbeat: Asana wants a 2xx, nothing runs */
        return sb->respond(call, 200, "application/json", "{\"status\": \"heartbeat\"}\n", 24);
    return st;
}

enum sb_status asana_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_request *req)
{
    struct asana_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    const char *offered = sb->header(req, "X-Hook-Secret");
    if (offered)
        return handshake(sb, call, h, offered);
    const char *sig = sb->header(req, "X-Hook-Signature");
    if (!sig || !*sig)
        return sb->reject(call, 401, "missing X-Hook-Signature");
    char *secret = cached_secret(h);
    bool from_cache = secret != NULL;
    if (!secret && stored_secret(sb, call, &secret) < 0)
        return sb->reject(call, 503, "the store is unavailable; retry later");
    if (!secret)
        return sb->reject(call, 401, "no handshake has been made for this hook yet");
    bool ok = signature_ok(sb, secret, req, sig);
    if (!ok && from_cache) {
        /* a handshake on another engine node may have replaced it */
        char *fresh = NULL;
        if (stored_secret(sb, call, &fresh) == 0 && fresh && strcmp(fresh, secret) != 0) {
            free(secret);
            secret = fresh;
            fresh = NULL;
            ok = signature_ok(sb, secret, req, sig);
        }
        free(fresh);
    }
    if (ok)
        cache_secret(h, secret);
    free(secret);
    if (!ok)
        return sb->reject(call, 401, "invalid signature");
    return deliver(sb, call, req);
}

/* --- switchboard sign asana --------------------------------------------------------- */

/* X-Hook-Signature: hex HMAC-SHA256 of the body with --secret (the
 * handshake secret). */
enum sb_status asana_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                  const struct sb_sign_request *req)
{
    struct sb_bytes body = {req->body, req->body_len};
    unsigned char mac[SB_HASH_MAX_SIZE];
    char hex[2 * SHA256_LEN + 1];
    int n = sb->hmac(SB_HASH_SHA256, req->secret, strlen(req->secret), &body, 1, mac);
    if (n != SHA256_LEN || sb->hex_encode(mac, (size_t)n, hex, sizeof(hex)) < 0)
        return sb->fail(call, "cannot compute the signature");
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, "X-Hook-Signature", json_object_new_string(hex));
    sb->set_output(call, out);
    return SB_OK;
}
