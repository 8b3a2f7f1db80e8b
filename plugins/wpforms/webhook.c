/*
 * wpforms.webhook: the WPForms Webhooks addon's deliveries (connectors.md
 * section 11; read from the addon's PHP source, there is no reference page).
 *
 * With a secret set, WPForms sends X-WPForms-Webhook-Signature:
 * t=<Unix seconds>,v=<hex HMAC-SHA256(secret, "<t>.<body>")>. The addon
 * defines no replay window; 5 minutes either way is ours. In its "form"
 * request format the signed string is t + "." + the JSON encoding of the
 * fields, not the url-encoded bytes it sends, so such a request cannot be
 * verified over its raw body: only the JSON format is accepted, and a form
 * body is refused with a 415 that says which setting to change.
 *
 * WPForms sends no entry id and never retries; the dedupe id joins the
 * webhook's id (X-WPForms-Webhook-Id), t and v, which drops a replayed
 * request inside the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "wpforms.h"

#define SHA256_LEN 32
#define WINDOW_S 300

const struct sb_param wpforms_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the webhook's secret (WPForms > form > Settings > Webhooks > Secret); set Request "
             "Format to JSON there: WPForms signs form-format bodies in a way that cannot be "
             "verified"},
    SB_END,
};

struct wpforms_hook {
    char *secret;
};

enum sb_status wpforms_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    const char *secret = sb->param_string(call, "secret");
    if (!secret || !*secret)
        return sb->fail(call, "the secret is empty");
    struct wpforms_hook *h = calloc(1, sizeof(*h));
    if (!h || !(h->secret = strdup(secret))) {
        free(h);
        return sb->fail(call, "out of memory");
    }
    sb->set_state(call, h);
    return SB_OK;
}

void wpforms_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    struct wpforms_hook *h = state;
    if (h)
        free(h->secret);
    free(h);
}

/* The parts WPForms signs: t, ".", the raw body. */
static void signed_parts(const char *t, const void *body, size_t body_len, struct sb_bytes parts[3])
{
    parts[0] = (struct sb_bytes){t, strlen(t)};
    parts[1] = (struct sb_bytes){".", 1};
    parts[2] = (struct sb_bytes){body, body_len};
}

/* The header's t and v (the first of each) into t and v; false when either
 * is missing, empty or too long. */
static bool parse_signature(const char *header, char *t, size_t t_size, char *v, size_t v_size)
{
    t[0] = v[0] = '\0';
    for (const char *p = header; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        char *dst = NULL;
        size_t cap = 0;
        if (n > 2 && p[0] == 't' && p[1] == '=' && !t[0]) {
            dst = t;
            cap = t_size;
        } else if (n > 2 && p[0] == 'v' && p[1] == '=' && !v[0]) {
            dst = v;
            cap = v_size;
        }
        if (dst) {
            if (n - 2 >= cap)
                return false;
            memcpy(dst, p + 2, n - 2);
            dst[n - 2] = '\0';
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return t[0] && v[0];
}

/* Unix seconds from decimal digits only; false otherwise. */
static bool parse_seconds(const char *text, int64_t *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 12 || strspn(text, "0123456789") != n)
        return false;
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 10 + (text[i] - '0');
    *out = s;
    return true;
}

static bool is_form(const char *content_type)
{
    return strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0 ||
           strncasecmp(content_type, "multipart/form-data", 19) == 0;
}

/* Verify X-WPForms-Webhook-Signature over the raw JSON body, then emit the
 * body as one event. */
enum sb_status wpforms_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req)
{
    const struct wpforms_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    if (is_form(req->content_type))
        return sb->reject(call, 415,
                          "form-format bodies cannot be verified (WPForms signs their JSON "
                          "encoding, not the bytes sent): set the webhook's Request Format to "
                          "JSON");
    const char *header = sb->header(req, "X-WPForms-Webhook-Signature");
    if (!header || !*header)
        return sb->reject(call, 401, "missing X-WPForms-Webhook-Signature");
    char t[16], v[2 * SHA256_LEN + 2];
    int64_t ts;
    if (!parse_signature(header, t, sizeof(t), v, sizeof(v)) || !parse_seconds(t, &ts))
        return sb->reject(call, 401, "malformed X-WPForms-Webhook-Signature");
    int64_t age = sb->now_ms(call) / 1000 - ts;
    if (age > WINDOW_S || age < -WINDOW_S)
        return sb->reject(call, 401, "the signature's timestamp is more than 5 minutes from now");
    unsigned char sent[SB_HASH_MAX_SIZE];
    int n = sb->hex_decode(v, strlen(v), sent, sizeof(sent));
    struct sb_bytes parts[3];
    signed_parts(t, req->body, req->body_len, parts);
    struct sb_bytes key = {h->secret, strlen(h->secret)};
    if (n != SHA256_LEN || !sb->hmac_verify(SB_HASH_SHA256, &key, 1, parts, 3, sent, (size_t)n))
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
    /* v in lower case whichever case was sent: one delivery, one id */
    char hex[2 * SHA256_LEN + 1];
    sb->hex_encode(sent, SHA256_LEN, hex, sizeof(hex));
    const char *webhook = sb->header(req, "X-WPForms-Webhook-Id");
    char id[160];
    snprintf(id, sizeof(id), "%.40s:%s:%s", webhook ? webhook : "", t, hex);
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id;
    ev.type = "submission";
    ev.occurred_at_ms = ts * 1000;
    ev.payload = body;
    ev.payload_json = (const char *)req->body;
    ev.payload_json_len = req->body_len;
    return sb->emit(call, &ev);
}

/* --- switchboard sign wpforms ------------------------------------------------------ */

const struct sb_param wpforms_sign_params[] = {
    {.name = "id",
     .type = SB_PARAM_STRING,
     .help = "the webhook's id, sent as X-WPForms-Webhook-Id (default: none sent)"},
    SB_END,
};

/* X-WPForms-Webhook-Signature: t=<timestamp>,v=<hex HMAC-SHA256(secret,
 * t + "." + body)>, and X-WPForms-Webhook-Id when --id is given. */
enum sb_status wpforms_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req)
{
    char t[32];
    snprintf(t, sizeof(t), "%lld", (long long)req->timestamp_s);
    struct sb_bytes parts[3];
    signed_parts(t, req->body, req->body_len, parts);
    unsigned char mac[SB_HASH_MAX_SIZE];
    char hex[2 * SHA256_LEN + 1], header[sizeof(hex) + 48];
    int n = sb->hmac(SB_HASH_SHA256, req->secret, strlen(req->secret), parts, 3, mac);
    if (n != SHA256_LEN || sb->hex_encode(mac, (size_t)n, hex, sizeof(hex)) < 0)
        return sb->fail(call, "cannot compute the signature");
    snprintf(header, sizeof(header), "t=%s,v=%s", t, hex);
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, "X-WPForms-Webhook-Signature", json_object_new_string(header));
    const char *id = sb->param_string(call, "id");
    if (id && *id)
        json_object_object_add(out, "X-WPForms-Webhook-Id", json_object_new_string(id));
    sb->set_output(call, out);
    return SB_OK;
}
