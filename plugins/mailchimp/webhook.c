/*
 * mailchimp.webhook: audience webhooks.
 *
 * Mailchimp does not sign its webhooks (connectors.md 3.1). The callback
 * URL carries an unguessable secret instead (https://host/hooks/<path>?
 * secret=...), compared in constant time. Deliveries are form-encoded with
 * PHP-style keys, literal or percent-encoded (data[merges][FNAME],
 * data%5Bmerges%5D%5BFNAME%5D), decoded into nested JSON after the secret
 * is checked. When the webhook is saved, Mailchimp checks the URL with a
 * GET (some sources say an empty POST): both, and HEAD, are answered 200
 * without the secret and make no event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mailchimp.h"

const struct sb_param mailchimp_webhook_params[] = {
    {.name = "secret",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = "the secret in the callback URL you give Mailchimp: "
             "https://<host>/hooks/<path>?secret=<it>"},
    {.name = "previous_secret",
     .type = SB_PARAM_SECRET,
     .help = "while rotating: the old secret, accepted as well until you remove it"},
    {.name = "secret_param",
     .type = SB_PARAM_STRING,
     .def = "secret",
     .help = "the query parameter of the callback URL that holds the secret"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these types start this workflow: subscribe unsubscribe profile upemail "
             "cleaned campaign (globs)"},
    SB_END,
};

#define MAX_SECRETS 2

struct webhook {
    char *secrets[MAX_SECRETS];
    size_t n_secrets;
    char *secret_param;
};

static void webhook_free(struct webhook *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_secrets; i++) {
        memset(w->secrets[i], 0, strlen(w->secrets[i]));
        free(w->secrets[i]);
    }
    free(w->secret_param);
    free(w);
}

enum sb_status mailchimp_webhook_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = true;
    const char *secret = sb->param_string(call, "secret");
    if (secret && !*secret) {
        sb->config_error(call, "secret",
                         "the secret is empty: anyone could post events; set the variable to a "
                         "long random value");
        ok = false;
    }
    const char *name = sb->param_string(call, "secret_param");
    if (name && !*name) {
        sb->config_error(call, "secret_param", "name the query parameter, e.g. secret");
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

enum sb_status mailchimp_webhook_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return sb->fail(call, "out of memory");
    static const char *const names[MAX_SECRETS] = {"secret", "previous_secret"};
    for (size_t i = 0; i < MAX_SECRETS; i++) {
        const char *v = sb->param_string(call, names[i]);
        if (!v || !*v)
            continue;
        if (!(w->secrets[w->n_secrets] = strdup(v))) {
            webhook_free(w);
            return sb->fail(call, "out of memory");
        }
        w->n_secrets++;
    }
    const char *name = sb->param_string(call, "secret_param");
    w->secret_param = strdup(name && *name ? name : "secret");
    if (!w->secret_param || w->n_secrets == 0) {
        webhook_free(w);
        return sb->fail(call, w->secret_param ? "the secret is empty" : "out of memory");
    }
    sb->set_state(call, w);
    return SB_OK;
}

void mailchimp_webhook_teardown(const struct sb_host *sb, void *state)
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

static bool content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* A string field of an object, or NULL (also when empty). */
static const char *field(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    return *s ? s : NULL;
}

/*
 * The dedupe id "<type>:<fired_at>:<member>", where member is data[id] (the
 * member id, which is the subscriber hash; the campaign id for campaign
 * events), else data[new_id] (upemail), else data[email]. Mailchimp repeats
 * a delivery with the same fired_at, and one member cannot have two events
 * of one type in the same second. NULL (no dedupe) without fired_at or a
 * member, so that distinct events are never merged.
 */
static const char *dedupe_id(struct json_object *payload, const char *type, char *buf, size_t len)
{
    const char *fired_at = field(payload, "fired_at");
    struct json_object *data = NULL;
    json_object_object_get_ex(payload, "data", &data);
    const char *member = field(data, "id");
    if (!member)
        member = field(data, "new_id");
    if (!member)
        member = field(data, "email");
    if (!fired_at || !member)
        return NULL;
    int n = snprintf(buf, len, "%s:%s:%s", type, fired_at, member);
    return n > 0 && (size_t)n < len ? buf : NULL;
}

/* 200 without an event: the URL check Mailchimp makes when a webhook is
 * saved. */
static enum sb_status answer_check(const struct sb_host *sb, struct sb_call *call)
{
    static const char ok[] = "{\"status\": \"ok\"}\n";
    return sb->respond(call, 200, "application/json", ok, sizeof(ok) - 1);
}

static bool blank(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

enum sb_status mailchimp_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                         const struct sb_request *req)
{
    const struct webhook *w = sb->state(call);
    if (!w)
        return sb->reject(call, 500, "trigger not set up");
    if (strcmp(req->method, "POST") != 0 || blank(req->body, req->body_len))
        return answer_check(sb, call);
    const char *got = sb->query_param(req, w->secret_param);
    if (!got)
        return sb->reject(call, 401, "missing secret in the callback URL");
    bool ok = false;
    for (size_t i = 0; i < w->n_secrets; i++)
        ok |= ct_str_equal(sb, got, w->secrets[i]);
    if (!ok)
        return sb->reject(call, 401, "invalid secret");
    const char *ct = req->content_type ? req->content_type : "";
    if (*ct && !content_type_is(ct, "application/x-www-form-urlencoded"))
        return sb->reject(call, 415, "Mailchimp webhooks are application/x-www-form-urlencoded");
    struct json_object *payload = sb->form_decode((const char *)req->body, req->body_len);
    if (!payload)
        return sb->reject(call, 400, "form body nests too deep or is too large");
    const char *type = field(payload, "type");
    if (!type) {
        json_object_put(payload);
        return sb->reject(call, 400, "no 'type' field: not a Mailchimp webhook");
    }
    char typebuf[128], idbuf[512];
    snprintf(typebuf, sizeof(typebuf), "%s", type);
    struct sb_event ev = SB_EVENT_INIT;
    ev.type = typebuf;
    ev.id = dedupe_id(payload, typebuf, idbuf, sizeof(idbuf));
    ev.payload = payload;
    return sb->emit(call, &ev);
}
