/*
 * stripe.webhook: Stripe events pushed to /hooks/<path>, verified exactly
 * as stripe-node's Webhook.constructEvent does (src/Webhooks.ts):
 *
 *   Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]
 *
 * The header is split on ',' and each item on its first '='. `t` is read
 * like JavaScript's parseInt (the last one wins); every v1 value is a
 * candidate signature; v0 and any other scheme are ignored (no downgrade).
 * The expected signature is the lowercase hex HMAC-SHA256 of "<t>.<raw
 * body>" keyed with the whole whsec_... string (not base64-decoded). The
 * request passes when ANY v1 value equals it for the secret or, while
 * rotating, the previous secret. Only too old timestamps are refused
 * (now - t > tolerance): stripe-node does not refuse future ones.
 * Then the body is parsed; thin events (v2.core.event) are refused.
 *
 * Without `secret`, the signing secret is the one `switchboard hooks
 * register` got from Stripe when it created the endpoint, kept in the
 * trigger state (the store, scoped to the hook path). It is cached here and
 * read again, at most once a second, while none is known or when a
 * signature does not match (a registration since may have replaced it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stripe.h"

#define MAX_SECRETS 2
#define SHA256_LEN 32
/* how often the stored secret is read again at most */
#define STORED_REFRESH_MS 1000

/* stripe-node's error texts, so a user can search for them */
#define ERR_NO_HEADER "Unable to extract timestamp and signatures from header"
#define ERR_NO_SCHEME "No signatures found with expected scheme"
#define ERR_NO_MATCH "No signatures found matching the expected signature for payload"
#define ERR_TOO_OLD "Timestamp outside the tolerance zone"

const struct sb_param stripe_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .help = "the endpoint's signing secret, whsec_... (the whole string is the HMAC key); "
             "default: the one switchboard hooks register stored when it created the endpoint"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rolling the secret: the old one, accepted as well until you remove it"},
    {.name = "tolerance",
     .type = SB_PARAM_DURATION,
     .def = "300s",
     .min = 1000,
     .max = 7 * 86400000LL,
     .help = "refuse a delivery whose signed timestamp (t=) is older than this; newer is "
             "accepted, as stripe-node does"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these event types start this workflow (globs such as invoice.* or "
             "checkout.session.completed); switchboard hooks register subscribes the endpoint "
             "to them (exact types, or all when unset)"},
    {.name = "api_key",
     .type = SB_PARAM_SECRET,
     .help = "switchboard hooks: the secret key (sk_...) that creates, lists and deletes the "
             "webhook endpoint"},
    {.name = "api_version",
     .type = SB_PARAM_STRING,
     .help = "switchboard hooks register: the API version of the events sent to the new "
             "endpoint (default: the account's)"},
    {.name = "api_base",
     .type = SB_PARAM_STRING,
     .def = STRIPE_API_BASE,
     .help = "the Stripe API address, for switchboard hooks (change it only to point at a test "
             "server)"},
    SB_END,
};

struct stripe_webhook {
    char *secrets[MAX_SECRETS]; /* from the parameters */
    size_t n_secrets;
    int64_t tolerance_s;
    /* without secrets: the stored one (guarded: receive runs on many threads) */
    pthread_mutex_t lock;
    char *stored;
    int64_t stored_read_ms; /* when it was last read; 0: never */
};

static void webhook_free(struct stripe_webhook *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_secrets; i++)
        free(w->secrets[i]);
    free(w->stored);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

enum sb_status stripe_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *secret = sb->param_string(call, "secret");
    const char *key = sb->param_string(call, "api_key");
    if ((!secret || !*secret) && (!key || !*key)) {
        sb->config_error(call, "secret",
                         "set secret (the endpoint's signing secret, whsec_...), or api_key so "
                         "that `switchboard hooks register` creates the endpoint and keeps its "
                         "secret");
        return SB_FAIL;
    }
    const char *base = sb->param_string(call, "api_base");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        sb->config_error(call, "api_base", "'%s' is not an http(s) address", base);
        return SB_FAIL;
    }
    return SB_OK;
}

enum sb_status stripe_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    static const char *const names[MAX_SECRETS] = {"secret", "previous_secret"};
    struct stripe_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return sb->fail(call, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    for (size_t i = 0; i < MAX_SECRETS; i++) {
        const char *s = sb->param_string(call, names[i]);
        if (!s || !*s)
            continue;
        /* used exactly as written: Stripe keys the HMAC with the whole string */
        w->secrets[w->n_secrets] = strdup(s);
        if (!w->secrets[w->n_secrets]) {
            webhook_free(w);
            return sb->fail(call, "out of memory");
        }
        w->n_secrets++;
    }
    if (w->n_secrets == 0)
        sb->log(call, SB_LOG_INFO,
                "no secret set: deliveries are verified with the one `switchboard hooks "
                "register` stored");
    w->tolerance_s = sb->param_int(call, "tolerance", 300000) / 1000;
    sb->set_state(call, w);
    return SB_OK;
}

void stripe_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    webhook_free(state);
}

/*
 * The stored signing secret (a copy, caller frees; NULL when none is
 * stored or memory ran out). Read from the store when none is cached, or
 * when `again` asks for a fresh copy, at most once a second either way.
 */
static char *stored_secret(const struct sb_host *sb, struct sb_call *call, struct stripe_webhook *w,
                           bool again)
{
    int64_t now = sb->now_ms(call);
    pthread_mutex_lock(&w->lock);
    bool read = (!w->stored || again) &&
                (w->stored_read_ms == 0 || now - w->stored_read_ms >= STORED_REFRESH_MS);
    if (read) {
        char *fresh = NULL;
        w->stored_read_ms = now;
        if (sb->kv_get(call, STRIPE_SECRET_KEY, &fresh) == 0) {
            free(w->stored);
            w->stored = fresh && *fresh ? strdup(fresh) : NULL;
        } else {
            sb->log(call, SB_LOG_WARN, "cannot read the stored signing secret");
        }
        sb->free(fresh);
    }
    char *copy = w->stored ? strdup(w->stored) : NULL;
    pthread_mutex_unlock(&w->lock);
    return copy;
}

/* --- the Stripe-Signature header ----------------------------------------- */

/* One comma-separated item: the key before its first '=', the value after
 * it (has_value false when the item has no '='). */
struct item {
    const char *key, *value;
    size_t key_len, value_len;
    bool has_value;
};

/* The next item from *p; false at the end. Empty items count, as with
 * String.split. */
static bool next_item(const char **p, bool *done, struct item *it)
{
    if (*done)
        return false;
    const char *start = *p;
    const char *comma = strchr(start, ',');
    size_t n = comma ? (size_t)(comma - start) : strlen(start);
    const char *eq = memchr(start, '=', n);
    it->key = start;
    it->key_len = eq ? (size_t)(eq - start) : n;
    it->has_value = eq != NULL;
    it->value = eq ? eq + 1 : start + n;
    it->value_len = eq ? n - it->key_len - 1 : 0;
    if (comma)
        *p = comma + 1;
    else
        *done = true;
    return true;
}

static bool item_is(const struct item *it, const char *key)
{
    return it->key_len == strlen(key) && memcmp(it->key, key, it->key_len) == 0;
}

/* JavaScript's parseInt(text, 10) for the values that matter: leading
 * whitespace, an optional sign, then digits up to the first non-digit.
 * false for NaN (no digits) and for numbers beyond int64. */
static bool parse_int_like_js(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' ||
                     s[i] == '\f'))
        i++;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    int64_t v = 0;
    size_t digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (digits == 0)
        return false;
    *out = neg ? -v : v;
    return true;
}

/*
 * The v1 signature of a delivery signed at `t`: the lowercase hex
 * HMAC-SHA256 of "<t>.<raw body>" keyed with the whole whsec_... string, into
 * out[65]. What receive checks each v1 value against and what sign sends.
 * 0, or -1 when the HMAC cannot be computed.
 */
static int v1_signature(const struct sb_host *sb, const char *secret, int64_t t, const void *body,
                        size_t len, char out[2 * SHA256_LEN + 1])
{
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)t);
    struct sb_bytes parts[] = {{ts, strlen(ts)}, {".", 1}, {body, len}};
    unsigned char mac[SB_HASH_MAX_SIZE];
    if (sb->hmac(SB_HASH_SHA256, secret, strlen(secret), parts, 3, mac) != SHA256_LEN)
        return -1;
    return sb->hex_encode(mac, SHA256_LEN, out, 2 * SHA256_LEN + 1) < 0 ? -1 : 0;
}

/* Check the request as stripe-node's verifyHeader does: header shape,
 * then signatures, then the timestamp's age, against `secrets`. NULL when
 * it passes, else stripe-node's reason (the caller answers 401 with it). */
static const char *check_signature(const struct sb_host *sb, struct sb_call *call,
                                   const struct stripe_webhook *w, const char *const *secrets,
                                   size_t n_secrets, const struct sb_request *req)
{
    const char *header = sb->header(req, "Stripe-Signature");
    if (!header)
        return ERR_NO_HEADER;
    /* pass 1: the timestamp (timestamp = -1 until a t= item) and v1 count */
    bool have_t = false, t_is_number = false;
    int64_t t = -1;
    size_t n_v1 = 0;
    const char *p = header;
    bool done = false;
    struct item it;
    while (next_item(&p, &done, &it)) {
        if (item_is(&it, "t")) {
            have_t = true;
            t_is_number = it.has_value && parse_int_like_js(it.value, it.value_len, &t);
        } else if (item_is(&it, "v1")) {
            n_v1++;
        }
    }
    /* stripe-node's sentinel for "no t" is -1, so t=-1 is "no t" too */
    if (!have_t || (t_is_number && t == -1))
        return ERR_NO_HEADER;
    if (n_v1 == 0)
        return ERR_NO_SCHEME;
    /* t=NaN signs "NaN.<body>", which no Stripe signature covers */
    if (!t_is_number)
        return ERR_NO_MATCH;

    char expected[MAX_SECRETS][2 * SHA256_LEN + 1];
    for (size_t k = 0; k < n_secrets; k++) {
        if (v1_signature(sb, secrets[k], t, req->body, req->body_len, expected[k]) < 0)
            return ERR_NO_MATCH;
    }
    /* pass 2: any v1 value equal to any expected signature, compared as
     * text as stripe-node does (so "ABC..." does not match "abc...") */
    bool found = false;
    p = header;
    done = false;
    while (next_item(&p, &done, &it)) {
        if (!item_is(&it, "v1") || !it.has_value || it.value_len != 2 * SHA256_LEN)
            continue;
        for (size_t k = 0; k < n_secrets; k++)
            found |= sb->ct_equal(it.value, expected[k], 2 * SHA256_LEN);
    }
    if (!found)
        return ERR_NO_MATCH;
    /* now - t > tolerance, written so that no value of t can overflow */
    int64_t now_s = sb->now_ms(call) / 1000;
    if (t < now_s - w->tolerance_s)
        return ERR_TOO_OLD;
    return NULL;
}

/* Verify with the configured secrets, else with the stored one (read again
 * once when it does not match). SB_OK or the result of sb->reject. */
static enum sb_status verify(const struct sb_host *sb, struct sb_call *call,
                             struct stripe_webhook *w, const struct sb_request *req)
{
    if (w->n_secrets) {
        const char *why =
            check_signature(sb, call, w, (const char *const *)w->secrets, w->n_secrets, req);
        return why ? sb->reject(call, 401, "%s", why) : SB_OK;
    }
    char *secret = stored_secret(sb, call, w, false);
    if (!secret)
        return sb->reject(call, 503,
                          "no signing secret yet: run switchboard hooks register for this "
                          "workflow, or set secret");
    const char *why = check_signature(sb, call, w, (const char *const *)&secret, 1, req);
    if (why && strcmp(why, ERR_NO_MATCH) == 0) {
        char *fresh = stored_secret(sb, call, w, true);
        if (fresh && strcmp(fresh, secret) != 0)
            why = check_signature(sb, call, w, (const char *const *)&fresh, 1, req);
        free(fresh);
    }
    free(secret);
    return why ? sb->reject(call, 401, "%s", why) : SB_OK;
}

/* --- the event ------------------------------------------------------------- */

static const char *string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

enum sb_status stripe_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_request *req)
{
    struct stripe_webhook *w = sb->state(call);
    if (!w)
        return sb->reject(call, 500, "trigger not set up");
    enum sb_status st = verify(sb, call, w, req);
    if (st != SB_OK)
        return st;

    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return sb->reject(call, 500, "out of memory");
    struct json_object *event =
        req->body_len <= INT32_MAX
            ? json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len)
            : NULL;
    bool parsed = event && json_tokener_get_error(tok) == json_tokener_success &&
                  (size_t)json_tokener_get_parse_end(tok) == req->body_len;
    json_tokener_free(tok);
    if (!parsed || !json_object_is_type(event, json_type_object)) {
        json_object_put(event);
        return sb->reject(call, 400, "body is not a JSON object (a Stripe event)");
    }
    const char *object = string_member(event, "object");
    if (object && strcmp(object, "v2.core.event") == 0) {
        json_object_put(event);
        return sb->reject(call, 400,
                          "thin events (v2.core.event) are not supported: use an event "
                          "destination that sends snapshot events");
    }

    /* copies: the payload is consumed by emit */
    char id[256] = "", type[256] = "";
    const char *s = string_member(event, "id");
    if (s)
        snprintf(id, sizeof(id), "%s", s);
    s = string_member(event, "type");
    if (s)
        snprintf(type, sizeof(type), "%s", s);
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = *id ? id : NULL;
    ev.type = *type ? type : NULL;
    /* one namespace for every Stripe trigger, so a future stripe.events
     * poller deduplicates against the webhook */
    ev.source = "stripe";
    struct json_object *created;
    if (json_object_object_get_ex(event, "created", &created) &&
        json_object_is_type(created, json_type_int)) {
        int64_t c = json_object_get_int64(created);
        if (c > 0 && c < INT64_MAX / 1000)
            ev.occurred_at_ms = c * 1000;
    }
    ev.payload = event;
    ev.payload_json = (const char *)req->body;
    ev.payload_json_len = req->body_len;
    return sb->emit(call, &ev);
}

/* Stripe-Signature as Stripe sends it (stripe-node's generateTestHeaderString:
 * "t=<t>,v1=<hex>", no v0), from the same v1_signature receive checks. */
enum sb_status stripe_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_sign_request *req)
{
    char hex[2 * SHA256_LEN + 1], value[128];
    if (v1_signature(sb, req->secret, req->timestamp_s, req->body, req->body_len, hex) < 0)
        return sb->fail(call, "cannot compute the signature");
    snprintf(value, sizeof(value), "t=%lld,v1=%s", (long long)req->timestamp_s, hex);
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, "Stripe-Signature", json_object_new_string(value));
    sb->set_output(call, out);
    return SB_OK;
}
