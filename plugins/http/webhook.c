/*
 * http.webhook: a generic webhook receiver. Verification modes:
 *   none      accepted as is (must be written explicitly);
 *   token     a shared token in a header or query parameter;
 *   hmac      an HMAC of a configurable message ({timestamp}.{body}, ...)
 *             in a header, hex or base64, with an optional prefix and an
 *             optional timestamp window: enough for GitHub, Shopify, Slack
 *             and most providers;
 *   standard  Standard Webhooks v1 (webhook-id, webhook-timestamp,
 *             webhook-signature, whsec_ secrets, +-5 minutes); Svix sends
 *             the same scheme as svix-id, svix-timestamp, svix-signature,
 *             read when the webhook-* set is absent (as the svix library).
 * All comparisons are constant-time over the raw body's signature.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http.h"

#define MAX_SECRETS 4
#define MAX_PARTS 32

static const char *const verify_modes[] = {"none", "token", "hmac", "standard", NULL};
static const char *const algorithms[] = {"sha1", "sha256", "sha512", NULL};
static const char *const encodings[] = {"hex", "base64", NULL};

const struct sb_param http_webhook_params[] = {
    {.name = "verify",
     .type = SB_PARAM_ENUM,
     .flags = SB_PARAM_REQUIRED,
     .values = verify_modes,
     .help = "how requests are checked: none (explicitly unverified), token, hmac, or standard "
             "(Standard Webhooks: webhook-* headers, or svix-* as Svix sends them)"},
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .help = "the token, HMAC key or whsec_ secret (used as written, spaces included)"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rotating: the old secret, accepted as well until you remove it"},
    {.name = "token_header",
     .type = SB_PARAM_STRING,
     .help = "token: the header holding the token (Authorization also takes 'Bearer <token>')"},
    {.name = "token_query",
     .type = SB_PARAM_STRING,
     .help = "token: the query parameter holding the token"},
    {.name = "algorithm",
     .type = SB_PARAM_ENUM,
     .def = "sha256",
     .values = algorithms,
     .help = "hmac: the hash"},
    {.name = "signature_header",
     .type = SB_PARAM_STRING,
     .help = "hmac: the header holding the signature, e.g. X-Hub-Signature-256"},
    {.name = "encoding",
     .type = SB_PARAM_ENUM,
     .def = "hex",
     .values = encodings,
     .help = "hmac: how the signature is written"},
    {.name = "signature_prefix",
     .type = SB_PARAM_STRING,
     .help = "hmac: text before the signature in the header, e.g. sha256= or v0="},
    {.name = "signed",
     .type = SB_PARAM_STRING,
     .def = "{body}",
     .help = "hmac: the signed message, from {body}, {timestamp}, {id}, {header:Name} and "
             "literal text, e.g. v0:{timestamp}:{body}"},
    {.name = "timestamp_header",
     .type = SB_PARAM_STRING,
     .help = "hmac: the header with the request's Unix time, checked against tolerance"},
    {.name = "tolerance",
     .type = SB_PARAM_DURATION,
     .def = "5m",
     .min = 1000,
     .max = 86400000,
     .help = "largest difference between a request's timestamp and now, either way"},
    {.name = "id_header",
     .type = SB_PARAM_STRING,
     .help = "header holding the event id that duplicates are dropped by (standard: webhook-id, or "
             "svix-id)"},
    {.name = "id_path",
     .type = SB_PARAM_STRING,
     .help = "dotted path of the event id in a JSON body, e.g. data.id"},
    {.name = "type_header",
     .type = SB_PARAM_STRING,
     .help = "header holding the event type, e.g. X-GitHub-Event"},
    {.name = "type_path",
     .type = SB_PARAM_STRING,
     .help = "dotted path of the event type in a JSON body, e.g. type"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these event types start this workflow (globs such as order.*)"},
    SB_END,
};

enum mode { MODE_NONE, MODE_TOKEN, MODE_HMAC, MODE_STANDARD };
enum part_kind { PART_TEXT, PART_BODY, PART_TIMESTAMP, PART_ID, PART_HEADER };

struct part {
    enum part_kind kind;
    char *text; /* PART_TEXT: the literal; PART_HEADER: the header name */
};

struct webhook {
    enum mode mode;
    char *secrets[MAX_SECRETS];
    unsigned char *keys[MAX_SECRETS]; /* standard: decoded whsec_ keys */
    size_t key_lens[MAX_SECRETS];
    size_t n_secrets;
    char *token_header, *token_query;
    enum sb_hash alg;
    char *signature_header, *signature_prefix, *timestamp_header;
    bool base64;
    struct part parts[MAX_PARTS];
    size_t n_parts;
    int64_t tolerance_s;
    char *id_header, *id_path, *type_header, *type_path;
    bool svix_id; /* standard with the default id header: svix-id too */
};

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Split "{body}.{timestamp}" into parts; -1 on an unknown placeholder. */
static int parse_signed(struct webhook *w, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    while (*p) {
        if (w->n_parts >= MAX_PARTS) {
            snprintf(err, errlen, "too many parts (at most %d)", MAX_PARTS);
            return -1;
        }
        struct part *part = &w->parts[w->n_parts];
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end) {
                snprintf(err, errlen, "unclosed '{' in '%s'", text);
                return -1;
            }
            size_t n = (size_t)(end - p - 1);
            if (n == 4 && strncmp(p + 1, "body", 4) == 0) {
                part->kind = PART_BODY;
            } else if (n == 9 && strncmp(p + 1, "timestamp", 9) == 0) {
                part->kind = PART_TIMESTAMP;
            } else if (n == 2 && strncmp(p + 1, "id", 2) == 0) {
                part->kind = PART_ID;
            } else if (n > 7 && strncmp(p + 1, "header:", 7) == 0) {
                part->kind = PART_HEADER;
                part->text = strndup(p + 8, n - 7);
            } else {
                snprintf(err, errlen,
                         "unknown placeholder '%.*s'; use {body}, {timestamp}, {id} or "
                         "{header:Name}",
                         (int)(n + 2), p);
                return -1;
            }
            p = end + 1;
        } else {
            const char *end = strchr(p, '{');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            part->kind = PART_TEXT;
            part->text = strndup(p, n);
            p += n;
        }
        w->n_parts++;
    }
    return 0;
}

/* The secrets that verify: the current one and, while rotating, the
 * previous one. Each is used exactly as written. */
static void collect_secrets(struct webhook *w, const struct sb_host *sb, struct sb_call *call)
{
    static const char *const names[] = {"secret", "previous_secret"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = sb->param_string(call, names[i]);
        if (v && *v && w->n_secrets < MAX_SECRETS)
            w->secrets[w->n_secrets++] = strdup(v);
    }
}

enum sb_status http_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *mode = sb->param_string(call, "verify");
    const char *secret = sb->param_string(call, "secret");
    bool bad = false;
    if (strcmp(mode, "none") != 0 && (!secret || !*secret)) {
        sb->config_error(call, "secret", "verify = %s needs a secret (secret = ${env:NAME})", mode);
        bad = true;
    }
    if (strcmp(mode, "token") == 0 && !sb->param_string(call, "token_header") &&
        !sb->param_string(call, "token_query")) {
        sb->config_error(call, "verify",
                         "verify = token needs token_header or token_query to say where the "
                         "token is");
        bad = true;
    }
    if (strcmp(mode, "hmac") == 0) {
        if (!sb->param_string(call, "signature_header")) {
            sb->config_error(call, "verify",
                             "verify = hmac needs signature_header (e.g. X-Hub-Signature-256)");
            bad = true;
        }
        struct webhook tmp = {0};
        char err[256];
        if (parse_signed(&tmp, sb->param_string(call, "signed"), err, sizeof(err)) < 0) {
            sb->config_error(call, "signed", "%s", err);
            bad = true;
        }
        bool uses_ts = false;
        for (size_t i = 0; i < tmp.n_parts; i++) {
            uses_ts |= tmp.parts[i].kind == PART_TIMESTAMP;
            free(tmp.parts[i].text);
        }
        if (uses_ts && !sb->param_string(call, "timestamp_header")) {
            sb->config_error(call, "signed",
                             "the signed message uses {timestamp}: set timestamp_header");
            bad = true;
        }
    }
    bad |= http_check_path(sb, call, "id_path") != SB_OK;
    bad |= http_check_path(sb, call, "type_path") != SB_OK;
    if (strcmp(mode, "standard") == 0 && secret && *secret) {
        struct webhook tmp = {0};
        collect_secrets(&tmp, sb, call);
        for (size_t i = 0; i < tmp.n_secrets; i++) {
            const char *s = tmp.secrets[i];
            const char *b64 = strncmp(s, "whsec_", 6) == 0 ? s + 6 : s;
            unsigned char key[256];
            if (sb->base64_decode(b64, strlen(b64), key, sizeof(key)) <= 0) {
                sb->config_error(call, "secret",
                                 "a Standard Webhooks secret is whsec_ followed by base64; this "
                                 "one does not decode");
                bad = true;
            }
            free(tmp.secrets[i]);
        }
    }
    return bad ? SB_FAIL : SB_OK;
}

static void webhook_free(struct webhook *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_secrets; i++) {
        free(w->secrets[i]);
        free(w->keys[i]);
    }
    for (size_t i = 0; i < w->n_parts; i++)
        free(w->parts[i].text);
    free(w->token_header);
    free(w->token_query);
    free(w->signature_header);
    free(w->signature_prefix);
    free(w->timestamp_header);
    free(w->id_header);
    free(w->id_path);
    free(w->type_header);
    free(w->type_path);
    free(w);
}

enum sb_status http_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return sb->fail(call, "out of memory");
    const char *mode = sb->param_string(call, "verify");
    w->mode = strcmp(mode, "token") == 0      ? MODE_TOKEN
              : strcmp(mode, "hmac") == 0     ? MODE_HMAC
              : strcmp(mode, "standard") == 0 ? MODE_STANDARD
                                              : MODE_NONE;
    collect_secrets(w, sb, call);
    if (w->mode == MODE_STANDARD) {
        for (size_t i = 0; i < w->n_secrets; i++) {
            const char *s = w->secrets[i];
            const char *b64 = strncmp(s, "whsec_", 6) == 0 ? s + 6 : s;
            w->keys[i] = malloc(strlen(b64) + 4);
            int n =
                w->keys[i] ? sb->base64_decode(b64, strlen(b64), w->keys[i], strlen(b64) + 4) : -1;
            if (n <= 0) {
                webhook_free(w);
                return sb->fail(call, "the Standard Webhooks secret does not decode as base64");
            }
            w->key_lens[i] = (size_t)n;
        }
    }
    w->token_header = dup_or_null(sb->param_string(call, "token_header"));
    w->token_query = dup_or_null(sb->param_string(call, "token_query"));
    const char *alg = sb->param_string(call, "algorithm");
    w->alg = strcmp(alg, "sha1") == 0     ? SB_HASH_SHA1
             : strcmp(alg, "sha512") == 0 ? SB_HASH_SHA512
                                          : SB_HASH_SHA256;
    w->signature_header = dup_or_null(sb->param_string(call, "signature_header"));
    w->signature_prefix = dup_or_null(sb->param_string(call, "signature_prefix"));
    w->timestamp_header = dup_or_null(sb->param_string(call, "timestamp_header"));
    w->base64 = strcmp(sb->param_string(call, "encoding"), "base64") == 0;
    char err[256];
    if (w->mode == MODE_HMAC &&
        parse_signed(w, sb->param_string(call, "signed"), err, sizeof(err)) < 0) {
        webhook_free(w);
        return sb->fail(call, "signed: %s", err);
    }
    w->tolerance_s = sb->param_int(call, "tolerance", 300000) / 1000;
    w->id_header = dup_or_null(sb->param_string(call, "id_header"));
    if (!w->id_header && w->mode == MODE_STANDARD) {
        w->id_header = strdup("webhook-id");
        w->svix_id = true;
    }
    w->id_path = dup_or_null(sb->param_string(call, "id_path"));
    w->type_header = dup_or_null(sb->param_string(call, "type_header"));
    w->type_path = dup_or_null(sb->param_string(call, "type_path"));
    sb->set_state(call, w);
    return SB_OK;
}

void http_webhook_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    webhook_free(state);
}

/* Constant-time equality of two strings of any length: compares their
 * SHA-256 digests, so neither the contents nor the length of the secret
 * leak through timing. */
static bool ct_str_equal(const struct sb_host *sb, const char *a, const char *b)
{
    unsigned char da[SB_HASH_MAX_SIZE], db[SB_HASH_MAX_SIZE];
    struct sb_bytes pa = {a, strlen(a)}, pb = {b, strlen(b)};
    if (sb->digest(SB_HASH_SHA256, &pa, 1, da) != 32 ||
        sb->digest(SB_HASH_SHA256, &pb, 1, db) != 32)
        return false;
    return sb->ct_equal(da, db, 32);
}

static enum sb_status verify_token(const struct sb_host *sb, struct sb_call *call,
                                   const struct webhook *w, const struct sb_request *req)
{
    const char *got = NULL;
    if (w->token_header) {
        got = sb->header(req, w->token_header);
        if (got && strcasecmp(w->token_header, "authorization") == 0 &&
            strncasecmp(got, "Bearer ", 7) == 0)
            got += 7;
    }
    if (!got && w->token_query)
        got = sb->query_param(req, w->token_query);
    if (!got)
        return sb->reject(call, 401, "missing token");
    bool ok = false;
    for (size_t i = 0; i < w->n_secrets; i++)
        ok |= ct_str_equal(sb, got, w->secrets[i]);
    return ok ? SB_OK : sb->reject(call, 401, "invalid token");
}

/* Check a Unix timestamp header against the tolerance, both ways. */
static enum sb_status check_timestamp(const struct sb_host *sb, struct sb_call *call,
                                      const char *ts, int64_t tolerance_s)
{
    char *end;
    long long t = ts ? strtoll(ts, &end, 10) : 0;
    if (!ts || !*ts || *end)
        return sb->reject(call, 401, "missing or malformed timestamp");
    long long now = (long long)(sb->now_ms(call) / 1000);
    /* compare without subtracting: t comes from the request, any value */
    if (t < now - tolerance_s)
        return sb->reject(call, 401, "timestamp too old");
    if (t > now + tolerance_s)
        return sb->reject(call, 401, "timestamp too new");
    return SB_OK;
}

static enum sb_status verify_hmac(const struct sb_host *sb, struct sb_call *call,
                                  const struct webhook *w, const struct sb_request *req)
{
    const char *ts = w->timestamp_header ? sb->header(req, w->timestamp_header) : NULL;
    if (w->timestamp_header) {
        enum sb_status st = check_timestamp(sb, call, ts, w->tolerance_s);
        if (st != SB_OK)
            return st;
    }
    const char *sig = sb->header(req, w->signature_header);
    if (!sig || !*sig)
        return sb->reject(call, 401, "missing signature");
    if (w->signature_prefix) {
        size_t n = strlen(w->signature_prefix);
        if (strncmp(sig, w->signature_prefix, n) != 0)
            return sb->reject(call, 401, "invalid signature");
        sig += n;
    }
    /* decode what was sent, then compare bytes */
    unsigned char sent[SB_HASH_MAX_SIZE + 4];
    int sent_len = -1;
    size_t slen = strlen(sig);
    if (w->base64) {
        sent_len = sb->base64_decode(sig, slen, sent, sizeof(sent));
        /* only canonical text counts: padding bits cannot be varied */
        char canon[SB_HASH_MAX_SIZE * 2];
        if (sent_len > 0 && (sb->base64_encode(sent, (size_t)sent_len, canon, sizeof(canon)) < 0 ||
                             strcmp(canon, sig) != 0))
            sent_len = -1;
    } else {
        sent_len = sb->hex_decode(sig, slen, sent, sizeof(sent));
    }
    if (sent_len <= 0)
        return sb->reject(call, 401, "invalid signature");
    struct sb_bytes parts[MAX_PARTS];
    const char *id = w->id_header ? sb->header(req, w->id_header) : NULL;
    for (size_t i = 0; i < w->n_parts; i++) {
        const struct part *p = &w->parts[i];
        const char *s = "";
        switch (p->kind) {
        case PART_BODY:
            parts[i].data = req->body;
            parts[i].len = req->body_len;
            continue;
        case PART_TEXT:
            s = p->text;
            break;
        case PART_TIMESTAMP:
            s = ts ? ts : "";
            break;
        case PART_ID:
            s = id ? id : "";
            break;
        case PART_HEADER:
            s = sb->header(req, p->text);
            s = s ? s : "";
            break;
        }
        parts[i].data = s;
        parts[i].len = strlen(s);
    }
    struct sb_bytes keys[MAX_SECRETS];
    for (size_t k = 0; k < w->n_secrets; k++)
        keys[k] = (struct sb_bytes){w->secrets[k], strlen(w->secrets[k])};
    if (!sb->hmac_verify(w->alg, keys, w->n_secrets, parts, w->n_parts, sent, (size_t)sent_len))
        return sb->reject(call, 401, "invalid signature");
    return SB_OK;
}

/* What Standard Webhooks signs: "<id>.<timestamp>.<raw body>", as five
 * parts; shared by verify_standard and http_standard_sign. */
static void standard_parts(const char *id, const char *ts, const void *body, size_t len,
                           struct sb_bytes parts[5])
{
    parts[0] = (struct sb_bytes){id, strlen(id)};
    parts[1] = (struct sb_bytes){".", 1};
    parts[2] = (struct sb_bytes){ts, strlen(ts)};
    parts[3] = (struct sb_bytes){".", 1};
    parts[4] = (struct sb_bytes){body, len};
}

int http_standard_sign(const struct sb_host *sb, const char *secret, const char *id,
                       const char *timestamp, const void *body, size_t len, char *out,
                       size_t out_size)
{
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    unsigned char key[256];
    int klen = sb->base64_decode(b64, strlen(b64), key, sizeof(key));
    if (klen <= 0)
        return -1;
    struct sb_bytes parts[5];
    standard_parts(id, timestamp, body, len, parts);
    unsigned char mac[SB_HASH_MAX_SIZE];
    int n = sb->hmac(SB_HASH_SHA256, key, (size_t)klen, parts, 5, mac);
    if (n != 32 || out_size < 4)
        return -1;
    memcpy(out, "v1,", 3);
    return sb->base64_encode(mac, 32, out + 3, out_size - 3) < 0 ? -1 : 0;
}

static enum sb_status verify_standard(const struct sb_host *sb, struct sb_call *call,
                                      const struct webhook *w, const struct sb_request *req)
{
    const char *id = sb->header(req, "webhook-id");
    const char *ts = sb->header(req, "webhook-timestamp");
    const char *sigs = sb->header(req, "webhook-signature");
    if (!id && !ts && !sigs) {
        /* Svix's names for the same three */
        id = sb->header(req, "svix-id");
        ts = sb->header(req, "svix-timestamp");
        sigs = sb->header(req, "svix-signature");
    }
    if (!id || !ts || !sigs)
        return sb->reject(call, 401, "missing webhook-id, webhook-timestamp or webhook-signature");
    enum sb_status st = check_timestamp(sb, call, ts, w->tolerance_s);
    if (st != SB_OK)
        return st;
    struct sb_bytes parts[5], keys[MAX_SECRETS];
    standard_parts(id, ts, req->body, req->body_len, parts);
    for (size_t k = 0; k < w->n_secrets; k++)
        keys[k] = (struct sb_bytes){w->keys[k], w->key_lens[k]};
    /* space-separated "version,signature" entries; only v1 counts */
    const char *p = sigs;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 3 && strncmp(p, "v1,", 3) == 0) {
            unsigned char sent[SB_HASH_MAX_SIZE + 4];
            int len = sb->base64_decode(p + 3, n - 3, sent, sizeof(sent));
            /* only canonical text counts: padding bits cannot be varied */
            char canon[SB_HASH_MAX_SIZE * 2];
            if (len == 32 && (sb->base64_encode(sent, 32, canon, sizeof(canon)) < 0 ||
                              strlen(canon) != n - 3 || memcmp(canon, p + 3, n - 3) != 0))
                len = -1;
            if (len == 32 &&
                sb->hmac_verify(SB_HASH_SHA256, keys, w->n_secrets, parts, 5, sent, 32))
                return SB_OK;
        }
        p += n;
    }
    return sb->reject(call, 401, "invalid signature");
}

static bool content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* One JSON tokener per server thread, reset for each body: receive runs
 * for every request, and a tokener costs a few allocations to make. Freed
 * when the thread ends (the server's threads end before plugins unload). */
static pthread_key_t tokener_key;
static pthread_once_t tokener_once = PTHREAD_ONCE_INIT;

static void tokener_free(void *tok)
{
    json_tokener_free(tok);
}

static void tokener_key_make(void)
{
    pthread_key_create(&tokener_key, tokener_free);
}

static struct json_tokener *thread_tokener(void)
{
    pthread_once(&tokener_once, tokener_key_make);
    struct json_tokener *tok = pthread_getspecific(tokener_key);
    if (!tok) {
        tok = json_tokener_new();
        if (!tok || pthread_setspecific(tokener_key, tok) != 0) {
            json_tokener_free(tok);
            return NULL;
        }
    }
    json_tokener_reset(tok);
    return tok;
}

/* The whole body as one JSON document, or NULL. */
static struct json_object *parse_json(const struct sb_request *req)
{
    struct json_tokener *tok = thread_tokener();
    if (!tok)
        return NULL;
    struct json_object *v = json_tokener_parse_ex(tok, (const char *)req->body, (int)req->body_len);
    if (v && json_tokener_get_error(tok) == json_tokener_success &&
        (size_t)json_tokener_get_parse_end(tok) == req->body_len)
        return v;
    json_object_put(v);
    return NULL;
}

/* The body as the event payload: JSON, form fields, or text. *verbatim is
 * set when the payload is the body parsed as JSON (so its text can be
 * stored as it came). */
static enum sb_status parse_body(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_request *req, struct json_object **out,
                                 bool *verbatim)
{
    *verbatim = false;
    const char *ct = req->content_type ? req->content_type : "";
    if (req->body_len == 0) {
        *out = json_object_new_object();
        return SB_OK;
    }
    if (content_type_is(ct, "application/x-www-form-urlencoded")) {
        /* `curl -d '{...}'` labels JSON as a form: a body that is one whole
         * JSON object or array is read as JSON (as a form it would be a
         * single key without a value) */
        char first = ((const char *)req->body)[0];
        if (first == '{' || first == '[') {
            *out = parse_json(req);
            if (*out) {
                *verbatim = true;
                return SB_OK;
            }
        }
        *out = sb->form_decode((const char *)req->body, req->body_len);
        return *out ? SB_OK : sb->reject(call, 400, "form body nests too deep or is too large");
    }
    bool jsonish = !*ct || content_type_is(ct, "application/json") || strstr(ct, "+json");
    if (jsonish) {
        if (!thread_tokener())
            return sb->reject(call, 503, "out of memory");
        *out = parse_json(req);
        if (!*out)
            return sb->reject(call, 400, "body is not valid JSON");
        *verbatim = true;
        return SB_OK;
    }
    if (strncasecmp(ct, "text/", 5) == 0) {
        *out = json_object_new_object();
        json_object_object_add(
            *out, "text", json_object_new_string_len((const char *)req->body, (int)req->body_len));
        return SB_OK;
    }
    return sb->reject(call, 415, "unsupported content type; send JSON, form data or text");
}

enum sb_status http_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req)
{
    const struct webhook *w = sb->state(call);
    if (!w)
        return sb->reject(call, 500, "trigger not set up");
    enum sb_status st = SB_OK;
    switch (w->mode) {
    case MODE_TOKEN:
        st = verify_token(sb, call, w, req);
        break;
    case MODE_HMAC:
        st = verify_hmac(sb, call, w, req);
        break;
    case MODE_STANDARD:
        st = verify_standard(sb, call, w, req);
        break;
    case MODE_NONE:
        break;
    }
    if (st != SB_OK)
        return st;
    struct json_object *payload = NULL;
    bool verbatim = false;
    st = parse_body(sb, call, req, &payload, &verbatim);
    if (st != SB_OK)
        return st;
    struct sb_event ev = SB_EVENT_INIT;
    char idbuf[512], typebuf[256];
    if (w->id_header)
        ev.id = sb->header(req, w->id_header);
    if (!ev.id && w->svix_id)
        ev.id = sb->header(req, "svix-id");
    if (!ev.id && w->id_path) {
        struct json_object *v = http_json_path(sb, payload, w->id_path);
        if (v && !json_object_is_type(v, json_type_null) &&
            !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array)) {
            snprintf(idbuf, sizeof(idbuf), "%s", json_object_get_string(v));
            ev.id = idbuf;
        }
    }
    ev.type = "webhook";
    if (w->type_header && sb->header(req, w->type_header))
        ev.type = sb->header(req, w->type_header);
    else if (w->type_path) {
        struct json_object *v = http_json_path(sb, payload, w->type_path);
        if (v && json_object_is_type(v, json_type_string)) {
            snprintf(typebuf, sizeof(typebuf), "%s", json_object_get_string(v));
            ev.type = typebuf;
        }
    }
    ev.payload = payload;
    if (verbatim) {
        ev.payload_json = (const char *)req->body;
        ev.payload_json_len = req->body_len;
    }
    return sb->emit(call, &ev);
}

/* --- switchboard sign standard ----------------------------------------------------- */

const struct sb_param http_webhook_sign_params[] = {
    {.name = "id",
     .type = SB_PARAM_STRING,
     .help = "webhook-id, the message id duplicates are dropped by (also --id); default: "
             "msg_<random>"},
    SB_END,
};

const char *const http_webhook_sign_aliases[] = {"standard", NULL};

/* Standard Webhooks headers (webhook-id, webhook-timestamp,
 * webhook-signature v1) for the body, signed as verify = standard checks;
 * the secret is whsec_ + base64. */
enum sb_status http_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_sign_request *req)
{
    char id[128], ts[32], sig[128];
    const char *given = sb->param_string(call, "id");
    if (given && *given) {
        snprintf(id, sizeof(id), "%s", given);
    } else {
        unsigned char rnd[12];
        char hex[25];
        if (sb->random_bytes(rnd, sizeof(rnd)) < 0)
            return sb->fail(call, "cannot make a message id");
        sb->hex_encode(rnd, sizeof(rnd), hex, sizeof(hex));
        snprintf(id, sizeof(id), "msg_%s", hex);
    }
    snprintf(ts, sizeof(ts), "%lld", (long long)req->timestamp_s);
    if (http_standard_sign(sb, req->secret, id, ts, req->body, req->body_len, sig, sizeof(sig)) < 0)
        return sb->fail(call, "the secret must be whsec_ followed by base64");
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, "webhook-id", json_object_new_string(id));
    json_object_object_add(out, "webhook-timestamp", json_object_new_string(ts));
    json_object_object_add(out, "webhook-signature", json_object_new_string(sig));
    sb->set_output(call, out);
    return SB_OK;
}
