/*
 * salesforce_checks: what Salesforce's token endpoint and REST API check
 * on the routes the salesforce connector calls (see salesforce_checks.h).
 */
#include "salesforce_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "standin.h"

#define MAX_FAULTS 16
#define MAX_TOKENS 64
#define MAX_RECORDS 128
#define JWT_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"

struct record {
    char object[32], key[128], id[19];
};

struct salesforce_api {
    char *client_id, *client_secret, *username, *audience, *instance;
    EVP_PKEY *key;
    pthread_mutex_t lock;
    struct {
        int status;
        char *body;
    } faults[MAX_FAULTS];
    size_t n_faults;
    char *tokens[MAX_TOKENS];
    size_t n_tokens, first_valid; /* tokens before first_valid expired */
    struct record records[MAX_RECORDS];
    size_t n_records, refused;
};

static char *sc_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("salesforce_checks: out of memory\n", stderr);
        abort();
    }
    return d;
}

/* --- answers ----------------------------------------------------------------------- */

static bool refuse_raw(struct salesforce_api *a, struct standin_reply *reply, int status,
                       const char *body, char *buf, size_t buflen)
{
    pthread_mutex_lock(&a->lock);
    a->refused++;
    pthread_mutex_unlock(&a->lock);
    snprintf(buf, buflen, "%s", body);
    *reply = (struct standin_reply){status, "application/json;charset=UTF-8", buf, NULL, 0};
    return false;
}

/* REST's error shape: [{"message","errorCode"(,"fields")}]. */
static bool refuse(struct salesforce_api *a, struct standin_reply *reply, int status,
                   const char *code, const char *message, char *buf, size_t buflen)
{
    struct json_object *list = json_object_new_array(), *e = json_object_new_object();
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_object_add(e, "errorCode", json_object_new_string(code));
    json_object_array_add(list, e);
    char text[1024];
    snprintf(text, sizeof(text), "%s",
             json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
    json_object_put(list);
    return refuse_raw(a, reply, status, text, buf, buflen);
}

/* OAuth's error shape: {"error","error_description"}. */
static bool refuse_oauth(struct salesforce_api *a, struct standin_reply *reply, const char *error,
                         const char *description, char *buf, size_t buflen)
{
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "error", json_object_new_string(error));
    json_object_object_add(e, "error_description", json_object_new_string(description));
    char text[1024];
    snprintf(text, sizeof(text), "%s", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
    json_object_put(e);
    return refuse_raw(a, reply, 400, text, buf, buflen);
}

static bool answer_json(struct standin_reply *reply, int status, struct json_object *obj, char *buf,
                        size_t buflen)
{
    snprintf(buf, buflen, "%s",
             json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    *reply = (struct standin_reply){status, "application/json;charset=UTF-8", buf, NULL, 0};
    return false;
}

static bool take_fault(struct salesforce_api *a, struct standin_reply *reply, char *buf,
                       size_t buflen)
{
    pthread_mutex_lock(&a->lock);
    if (a->n_faults == 0) {
        pthread_mutex_unlock(&a->lock);
        return false;
    }
    int status = a->faults[0].status;
    char *body = a->faults[0].body;
    memmove(&a->faults[0], &a->faults[1], (a->n_faults - 1) * sizeof(a->faults[0]));
    a->n_faults--;
    pthread_mutex_unlock(&a->lock);
    snprintf(buf, buflen, "%s", body);
    free(body);
    *reply = (struct standin_reply){status, "application/json;charset=UTF-8", buf, NULL, 0};
    return true;
}

/* --- the token endpoint ------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The decoded value of form field `name` into out; false when absent. */
static bool form_value(const char *body, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = body; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t o = 0;
            for (; *v && *v != '&' && o + 1 < len; v++) {
                if (*v == '+') {
                    out[o++] = ' ';
                } else if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                    out[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                    v += 2;
                } else {
                    out[o++] = *v;
                }
            }
            out[o] = '\0';
            return true;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return false;
}

/* base64url (no padding) to bytes; the length, or -1. */
static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    char b64[4096];
    if (n + 4 >= sizeof(b64) || (n * 3) / 4 + 3 > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '+' || c == '/' || c == '=')
            return -1; /* base64url has none of these */
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    size_t m = n;
    while (m % 4)
        b64[m++] = '=';
    b64[m] = '\0';
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)m);
    if (len < 0)
        return -1;
    return len - (int)(m - n);
}

/* The first problem with a JWT bearer assertion, or NULL. */
static const char *bad_assertion(struct salesforce_api *a, const char *jwt)
{
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return "the assertion is not three base64url parts";
    unsigned char head[256], claims[1024], sig[1024];
    int hl = b64url_decode(jwt, (size_t)(d1 - jwt), head, sizeof(head) - 1);
    int cl = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), claims, sizeof(claims) - 1);
    int sl = b64url_decode(d2 + 1, strlen(d2 + 1), sig, sizeof(sig));
    if (hl < 0 || cl < 0 || sl <= 0)
        return "the assertion is not base64url";
    head[hl] = claims[cl] = '\0';
    struct json_object *h = json_tokener_parse((const char *)head), *v;
    bool alg_ok = h && json_object_object_get_ex(h, "alg", &v) &&
                  strcmp(json_object_get_string(v), "RS256") == 0;
    json_object_put(h);
    if (!alg_ok)
        return "the header is not {\"alg\":\"RS256\"}";
    struct json_object *c = json_tokener_parse((const char *)claims);
    const char *why = NULL;
    int64_t now = (int64_t)time(NULL);
    if (!c)
        why = "the claims are not JSON";
    else if (!json_object_object_get_ex(c, "iss", &v) ||
             strcmp(json_object_get_string(v), a->client_id) != 0)
        why = "client identifier invalid";
    else if (!json_object_object_get_ex(c, "sub", &v) ||
             strcmp(json_object_get_string(v), a->username) != 0)
        why = "user hasn't approved this consumer";
    else if (!json_object_object_get_ex(c, "aud", &v) ||
             strcmp(json_object_get_string(v), a->audience) != 0)
        why = "audience is invalid";
    else if (!json_object_object_get_ex(c, "exp", &v) || !json_object_is_type(v, json_type_int))
        why = "expiration time is missing";
    else if (json_object_get_int64(v) <= now)
        why = "expired authorization code";
    else if (json_object_get_int64(v) > now + 180)
        why = "expiration time is more than 3 minutes away";
    json_object_put(c);
    if (why)
        return why;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok =
        md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, a->key) == 1 &&
        EVP_DigestVerify(md, sig, (size_t)sl, (const unsigned char *)jwt, (size_t)(d2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    return ok ? NULL : "invalid assertion signature";
}

static bool token_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                        char *buf, size_t buflen)
{
    struct salesforce_api *a = arg;
    const char *ct = standin_header(req, "Content-Type");
    if (strcmp(req->method, "POST") != 0 || !ct ||
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return refuse_oauth(a, reply, "unsupported_grant_type", "grant type not supported", buf,
                            buflen);
    char grant[128] = "", id[256] = "", secret[256] = "", assertion[4096] = "";
    form_value(req->body, "grant_type", grant, sizeof(grant));
    if (strcmp(grant, "client_credentials") == 0) {
        form_value(req->body, "client_id", id, sizeof(id));
        form_value(req->body, "client_secret", secret, sizeof(secret));
        if (!a->client_secret || strcmp(id, a->client_id) != 0 ||
            strcmp(secret, a->client_secret) != 0)
            return refuse_oauth(a, reply, "invalid_client", "invalid client credentials", buf,
                                buflen);
    } else if (strcmp(grant, JWT_GRANT) == 0) {
        if (!a->key || !form_value(req->body, "assertion", assertion, sizeof(assertion)))
            return refuse_oauth(a, reply, "invalid_grant", "invalid assertion", buf, buflen);
        const char *why = bad_assertion(a, assertion);
        if (why)
            return refuse_oauth(a, reply, "invalid_grant", why, buf, buflen);
    } else {
        return refuse_oauth(a, reply, "unsupported_grant_type", "grant type not supported", buf,
                            buflen);
    }
    pthread_mutex_lock(&a->lock);
    size_t n = a->n_tokens;
    char token[128];
    snprintf(token, sizeof(token), "00D5e000000AbCd!AQ4AQF%04zu.sessiontoken.x9kLmN0pQ", n);
    if (n < MAX_TOKENS)
        a->tokens[a->n_tokens++] = sc_strdup(token);
    pthread_mutex_unlock(&a->lock);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(token));
    json_object_object_add(o, "instance_url", json_object_new_string(a->instance));
    json_object_object_add(o, "id",
                           json_object_new_string("https://login.salesforce.com/id/"
                                                  "00D5e000000AbCdEAK/0055e000001AbCdAAK"));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "issued_at", json_object_new_string("1736935200000"));
    json_object_object_add(o, "signature",
                           json_object_new_string("3vbG2xN8o6YcPq0nQ6GmF2sUu4cH7nq9cS5zv1kXq0Q="));
    return answer_json(reply, 200, o, buf, buflen);
}

/* --- the REST routes ------------------------------------------------------------------ */

struct sobject_kind {
    const char *name, *prefix;
    const char *const *fields;
    const char *const *required;
    const char *external; /* the external id field, or NULL */
};

static const char *const lead_fields[] = {"FirstName", "LastName", "Company",    "Email",
                                          "Phone",     "Status",   "LeadSource", NULL};
static const char *const lead_required[] = {"LastName", "Company", NULL};
static const char *const contact_fields[] = {"FirstName",   "LastName",  "Email",
                                             "Phone",       "AccountId", "Shopify_Customer_Id__c",
                                             "MailingCity", NULL};
static const char *const contact_required[] = {"LastName", NULL};
static const char *const opp_fields[] = {
    "Name",       "StageName",   "CloseDate",           "Amount", "AccountId", "ContactId",
    "LeadSource", "Description", "Shopify_Order_Id__c", NULL};
static const char *const opp_required[] = {"Name", "StageName", "CloseDate", NULL};
static const char *const account_fields[] = {"Name", "Website", "Phone", "Shopify_Customer_Id__c",
                                             NULL};
static const char *const account_required[] = {"Name", NULL};

static const struct sobject_kind kinds[] = {
    {"Lead", "00Q", lead_fields, lead_required, NULL},
    {"Contact", "003", contact_fields, contact_required, "Shopify_Customer_Id__c"},
    {"Opportunity", "006", opp_fields, opp_required, "Shopify_Order_Id__c"},
    {"Account", "001", account_fields, account_required, "Shopify_Customer_Id__c"},
};

static const struct sobject_kind *kind_of(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strlen(kinds[i].name) == n && strncmp(kinds[i].name, name, n) == 0)
            return &kinds[i];
    return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool is_date(const char *s)
{
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789-") == 10;
}

/* The first problem with the fields of body for kind k, or NULL. */
static const char *bad_fields(const struct sobject_kind *k, struct json_object *body, bool creating,
                              char *msg, size_t len)
{
    json_object_object_foreach(body, key, val)
    {
        if (!in_list(k->fields, key)) {
            snprintf(msg, len, "No such column '%s' on sobject of type %s", key, k->name);
            return msg;
        }
        if (strcmp(key, "CloseDate") == 0 && !is_date(json_object_get_string(val))) {
            snprintf(msg, len, "CloseDate: value not of required type: %s",
                     json_object_get_string(val));
            return msg;
        }
    }
    for (size_t i = 0; creating && k->required[i]; i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(body, k->required[i], &v) || !*json_object_get_string(v)) {
            snprintf(msg, len, "Required fields are missing: [%s]", k->required[i]);
            return msg;
        }
    }
    return NULL;
}

static bool token_valid(struct salesforce_api *a, const char *auth)
{
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return false;
    bool ok = false;
    pthread_mutex_lock(&a->lock);
    for (size_t i = a->first_valid; i < a->n_tokens && !ok; i++)
        ok = strcmp(a->tokens[i], auth + 7) == 0;
    pthread_mutex_unlock(&a->lock);
    return ok;
}

/* The record of (object, key), made when `create`; its index, or -1. */
static long find_record(struct salesforce_api *a, const struct sobject_kind *k, const char *key,
                        bool create, bool *made)
{
    *made = false;
    pthread_mutex_lock(&a->lock);
    long found = -1;
    for (size_t i = 0; i < a->n_records && found < 0; i++)
        if (key && strcmp(a->records[i].object, k->name) == 0 &&
            strcmp(a->records[i].key, key) == 0)
            found = (long)i;
    if (found < 0 && create && a->n_records < MAX_RECORDS) {
        struct record *r = &a->records[a->n_records];
        snprintf(r->object, sizeof(r->object), "%s", k->name);
        snprintf(r->key, sizeof(r->key), "%s", key ? key : "");
        snprintf(r->id, sizeof(r->id), "%s5e0000%06zuAAK", k->prefix, a->n_records + 1);
        found = (long)a->n_records++;
        *made = true;
    }
    pthread_mutex_unlock(&a->lock);
    return found;
}

static bool rest_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                       char *buf, size_t buflen)
{
    struct salesforce_api *a = arg;
    if (!token_valid(a, standin_header(req, "Authorization")))
        return refuse(a, reply, 401, "INVALID_SESSION_ID", "Session expired or invalid", buf,
                      buflen);
    /* /services/data/vNN.N/rest */
    const char *v = req->path + strlen("/services/data/");
    size_t vn = strcspn(v, "/");
    if (v[0] != 'v' || vn < 4 || strspn(v + 1, "0123456789.") != vn - 1)
        return refuse(a, reply, 404, "NOT_FOUND", "The requested resource does not exist", buf,
                      buflen);
    const char *rest = v + vn;
    struct json_object *body = NULL;
    if (req->body_len) {
        const char *ct = standin_header(req, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return refuse(a, reply, 415, "UNSUPPORTED_MEDIA_TYPE",
                          "Content-Type header specified in HTTP request is not supported", buf,
                          buflen);
        body = json_tokener_parse(req->body);
        if (!body || !json_object_is_type(body, json_type_object)) {
            json_object_put(body);
            return refuse(a, reply, 400, "JSON_PARSER_ERROR", "Unexpected character", buf, buflen);
        }
    }
    if (strncmp(rest, "/sobjects/", 10) != 0) {
        json_object_put(body);
        return !take_fault(a, reply, buf, buflen); /* the script answers */
    }
    const char *obj = rest + 10;
    size_t on = strcspn(obj, "/");
    const struct sobject_kind *k = kind_of(obj, on);
    if (!k) {
        json_object_put(body);
        return refuse(a, reply, 404, "NOT_FOUND", "The requested resource does not exist", buf,
                      buflen);
    }
    if (!body)
        body = json_object_new_object();
    char msg[300];
    bool answered = false;
    if (obj[on] == '\0' && strcmp(req->method, "POST") == 0) {
        const char *why = bad_fields(k, body, true, msg, sizeof(msg));
        if (why) {
            answered = true;
            refuse(a, reply, 400,
                   strncmp(why, "Required", 8) == 0 ? "REQUIRED_FIELD_MISSING" : "INVALID_FIELD",
                   why, buf, buflen);
        } else if (!(answered = take_fault(a, reply, buf, buflen))) {
            bool made;
            long i = find_record(a, k, NULL, true, &made);
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_string(a->records[i].id));
            json_object_object_add(o, "success", json_object_new_boolean(1));
            json_object_object_add(o, "errors", json_object_new_array());
            answered = true;
            answer_json(reply, 201, o, buf, buflen);
        }
    } else if (obj[on] == '/' && strcmp(req->method, "PATCH") == 0) {
        const char *field = obj + on + 1;
        size_t fn = strcspn(field, "/");
        char fname[64], value[128];
        snprintf(fname, sizeof(fname), "%.*s", (int)(fn < 60 ? fn : 60), field);
        snprintf(value, sizeof(value), "%s", field[fn] ? field + fn + 1 : "");
        if (!k->external || strcmp(fname, k->external) != 0 || !*value) {
            snprintf(msg, sizeof(msg),
                     "Provided external ID field does not exist or is not accessible: %s", fname);
            refuse(a, reply, 404, "NOT_FOUND", msg, buf, buflen);
            answered = true;
        } else if (json_object_object_get_ex(body, fname, NULL)) {
            refuse(a, reply, 400, "INVALID_FIELD", "the external id field is in the body", buf,
                   buflen);
            answered = true;
        } else {
            bool made = false;
            long i = find_record(a, k, value, false, &made);
            const char *why = bad_fields(k, body, i < 0, msg, sizeof(msg));
            if (why) {
                refuse(a, reply, 400,
                       strncmp(why, "Required", 8) == 0 ? "REQUIRED_FIELD_MISSING"
                                                        : "INVALID_FIELD",
                       why, buf, buflen);
                answered = true;
            } else if (!(answered = take_fault(a, reply, buf, buflen))) {
                i = find_record(a, k, value, true, &made);
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "id", json_object_new_string(a->records[i].id));
                json_object_object_add(o, "success", json_object_new_boolean(1));
                json_object_object_add(o, "errors", json_object_new_array());
                json_object_object_add(o, "created", json_object_new_boolean(made));
                answered = true;
                answer_json(reply, made ? 201 : 200, o, buf, buflen);
            }
        }
    } else {
        answered = take_fault(a, reply, buf, buflen);
    }
    json_object_put(body);
    return !answered;
}

/* --- the API ------------------------------------------------------------------------------ */

struct salesforce_api *salesforce_api_install(struct standin *s,
                                              const struct salesforce_config *config)
{
    struct salesforce_api *a = calloc(1, sizeof(*a));
    if (!a) {
        fputs("salesforce_checks: out of memory\n", stderr);
        abort();
    }
    a->client_id = sc_strdup(config->client_id);
    a->client_secret = config->client_secret ? sc_strdup(config->client_secret) : NULL;
    a->username = sc_strdup(config->username);
    a->audience = sc_strdup(config->audience ? config->audience : "https://login.salesforce.com");
    a->instance = sc_strdup(standin_url(s));
    if (config->public_key_pem) {
        BIO *bio = BIO_new_mem_buf(config->public_key_pem, -1);
        a->key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (!a->key) {
            BIO_free(bio);
            bio = BIO_new_mem_buf(config->public_key_pem, -1);
            a->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        }
        BIO_free(bio);
        if (!a->key) {
            fputs("salesforce_checks: the key is not a PEM key\n", stderr);
            abort();
        }
    }
    pthread_mutex_init(&a->lock, NULL);
    standin_check(s, "*", SALESFORCE_TOKEN_PATH, token_check, a);
    standin_check(s, "*", "/services/data/*", rest_check, a);
    return a;
}

void salesforce_api_free(struct salesforce_api *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_faults; i++)
        free(a->faults[i].body);
    for (size_t i = 0; i < a->n_tokens; i++)
        free(a->tokens[i]);
    EVP_PKEY_free(a->key);
    pthread_mutex_destroy(&a->lock);
    free(a->client_id);
    free(a->client_secret);
    free(a->username);
    free(a->audience);
    free(a->instance);
    free(a);
}

void salesforce_api_fail_next(struct salesforce_api *a, int status, const char *body)
{
    pthread_mutex_lock(&a->lock);
    if (a->n_faults < MAX_FAULTS) {
        a->faults[a->n_faults].status = status;
        a->faults[a->n_faults].body = sc_strdup(body);
        a->n_faults++;
    }
    pthread_mutex_unlock(&a->lock);
}

void salesforce_api_expire_tokens(struct salesforce_api *a)
{
    pthread_mutex_lock(&a->lock);
    a->first_valid = a->n_tokens;
    pthread_mutex_unlock(&a->lock);
}

size_t salesforce_api_tokens(struct salesforce_api *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = a->n_tokens;
    pthread_mutex_unlock(&a->lock);
    return n;
}

size_t salesforce_api_refused(struct salesforce_api *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = a->refused;
    pthread_mutex_unlock(&a->lock);
    return n;
}

size_t salesforce_api_records(struct salesforce_api *a, const char *object)
{
    size_t n = 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n_records; i++)
        n += strcmp(a->records[i].object, object) == 0;
    pthread_mutex_unlock(&a->lock);
    return n;
}
