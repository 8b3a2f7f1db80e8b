/*
 * stripe-mock's checks and answers for the standin (see stripe_checks.h).
 * One check function answers every /v1/ request: it validates, then
 * answers from a script or with a default object built with json-c. The
 * answer strings are kept by the mock until stripe_checks_free, because
 * the stand-in copies them only after the check returns.
 */
#include "stripe_checks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "standin.h"
#include "testkit.h"

#define FORM_CT "application/x-www-form-urlencoded"

struct script_reply {
    int status;
    char *content_type, *body, *headers;
    int delay_ms;
};

struct mock_script {
    char *method, *path;
    struct script_reply *replies;
    size_t n, used;
    struct mock_script *next;
};

/* Strings handed to the stand-in, kept until the mock is freed. */
struct kept {
    char *text;
    struct kept *next;
};

struct stripe_mock {
    pthread_mutex_t lock;
    struct mock_script *scripts;
    struct kept *kept;
    struct json_object *endpoints; /* webhook endpoints, with their secrets */
    unsigned endpoint_seq;
};

/* --- small helpers ------------------------------------------------------------ */

static void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fputs("stripe_checks: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *dupstr(const char *s)
{
    if (!s)
        return NULL;
    char *d = xalloc(strlen(s) + 1);
    memcpy(d, s, strlen(s) + 1);
    return d;
}

/* Keep `s` (consumed) until the mock is freed; returns it. */
static const char *keep(struct stripe_mock *m, char *s)
{
    struct kept *k = xalloc(sizeof(*k));
    k->text = s;
    pthread_mutex_lock(&m->lock);
    k->next = m->kept;
    m->kept = k;
    pthread_mutex_unlock(&m->lock);
    return s;
}

/* A JSON string the way Go's encoding/json writes it (HTML-safe: < > &
 * as \u003c \u003e \u0026), appended to a malloc'd buffer. */
static char *go_json_string(const char *s)
{
    size_t cap = strlen(s) * 6 + 3, o = 0;
    char *out = xalloc(cap);
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p == '\n') {
            memcpy(out + o, "\\n", 2);
            o += 2;
        } else if (*p == '\r') {
            memcpy(out + o, "\\r", 2);
            o += 2;
        } else if (*p == '\t') {
            memcpy(out + o, "\\t", 2);
            o += 2;
        } else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* {"error":{"message":"...","type":"invalid_request_error"}} */
static char *stripe_error(const char *message)
{
    char *m = go_json_string(message);
    char *s = testkit_fmt("{\"error\":{\"message\":%s,\"type\":\"invalid_request_error\"}}", m);
    free(m);
    return s;
}

/* --- auth ---------------------------------------------------------------------- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Go's base64.StdEncoding.DecodeString: padded, strict. NULL if invalid. */
static char *b64_decode_std(const char *s)
{
    size_t n = strlen(s);
    if (n % 4 != 0)
        return NULL;
    char *out = xalloc(n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_value(s[i + k])) < 0) {
                free(out);
                return NULL;
            }
        }
        unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                          ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        out[o++] = (char)(w >> 16);
        if (pad < 2)
            out[o++] = (char)((w >> 8) & 0xff);
        if (pad < 1)
            out[o++] = (char)(w & 0xff);
    }
    out[o] = '\0';
    return out;
}

int stripe_checks_auth_ok(const char *auth)
{
    if (!auth || !*auth)
        return 0;
    /* strings.Split(auth, " ") must give exactly two parts */
    const char *sp = strchr(auth, ' ');
    if (!sp || strchr(sp + 1, ' ') || !sp[1])
        return 0;
    size_t scheme_len = (size_t)(sp - auth);
    char *key = NULL;
    if (scheme_len == 5 && strncmp(auth, "Basic", 5) == 0)
        key = b64_decode_std(sp + 1);
    else if (scheme_len == 6 && strncmp(auth, "Bearer", 6) == 0)
        key = dupstr(sp + 1);
    if (!key)
        return 0;
    /* strings.Split(key, "_") must be exactly [sk|rk, test, non-empty] */
    int ok = 0;
    char *u1 = strchr(key, '_');
    char *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    if (u1 && u2 && !strchr(u2 + 1, '_')) {
        *u1 = *u2 = '\0';
        ok = (strcmp(key, "sk") == 0 || strcmp(key, "rk") == 0) && strcmp(u1 + 1, "test") == 0 &&
             u2[1] != '\0';
    }
    free(key);
    return ok;
}

/* --- form decoding (stripe-mock's param/parser, Go's url.QueryUnescape) ----------- */

struct pair {
    char *key, *value;
};

struct pairs {
    struct pair *items;
    size_t n, cap;
};

static void pairs_release(struct pairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    memset(p, 0, sizeof(*p));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* url.QueryUnescape of s[0..n): '+' is a space; a bad escape fills err
 * with Go's text and returns NULL. */
static char *query_unescape(const char *s, size_t n, char *err, size_t errlen)
{
    char *out = xalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                size_t len = n - i < 3 ? n - i : 3;
                snprintf(err, errlen, "invalid URL escape \"%.*s\"", (int)len, s + i);
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Split "a=1&b[c]=2" into decoded pairs appended to *out; -1 with err. */
static int parse_form(const char *s, struct pairs *out, char *err, size_t errlen)
{
    if (*s == '?')
        s++;
    if (!*s)
        return 0;
    const char *p = s;
    for (;;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        char *key = query_unescape(p, kn, err, errlen);
        char *value = key && eq ? query_unescape(eq + 1, n - kn - 1, err, errlen) : dupstr("");
        if (!key || !value) {
            free(key);
            free(value);
            return -1;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            struct pair *items = realloc(out->items, out->cap * sizeof(*items));
            if (!items)
                abort();
            out->items = items;
        }
        out->items[out->n++] = (struct pair){key, value};
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}

/* --- parameter specs per route ---------------------------------------------------- */

enum pkind { P_STRING, P_INT, P_BOOL, P_ENUM, P_MAP, P_LIST, P_OBJECT };

struct pspec {
    const char *name;
    enum pkind kind;
    bool required;
    size_t max_len;            /* P_STRING: 0 for none */
    const char *const *values; /* P_ENUM */
};

static const char *const refund_reasons[] = {"duplicate", "fraudulent", "requested_by_customer",
                                             NULL};
static const char *const tax_exempt_values[] = {"", "exempt", "none", "reverse", NULL};

/* From Stripe's API reference for POST /v1/customers. */
static const struct pspec customer_write[] = {
    {"address", P_OBJECT, false, 0, NULL},
    {"balance", P_INT, false, 0, NULL},
    {"cash_balance", P_OBJECT, false, 0, NULL},
    {"coupon", P_STRING, false, 5000, NULL},
    {"default_source", P_STRING, false, 5000, NULL},
    {"description", P_STRING, false, 350, NULL},
    {"email", P_STRING, false, 512, NULL},
    {"expand", P_LIST, false, 0, NULL},
    {"invoice_prefix", P_STRING, false, 5000, NULL},
    {"invoice_settings", P_OBJECT, false, 0, NULL},
    {"metadata", P_MAP, false, 0, NULL},
    {"name", P_STRING, false, 256, NULL},
    {"next_invoice_sequence", P_INT, false, 0, NULL},
    {"payment_method", P_STRING, false, 5000, NULL},
    {"phone", P_STRING, false, 20, NULL},
    {"preferred_locales", P_LIST, false, 0, NULL},
    {"promotion_code", P_STRING, false, 5000, NULL},
    {"shipping", P_OBJECT, false, 0, NULL},
    {"source", P_STRING, false, 5000, NULL},
    {"tax", P_OBJECT, false, 0, NULL},
    {"tax_exempt", P_ENUM, false, 0, tax_exempt_values},
    {"tax_id_data", P_OBJECT, false, 0, NULL},
    {"test_clock", P_STRING, false, 5000, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec customer_list[] = {
    {"created", P_OBJECT, false, 0, NULL},
    {"email", P_STRING, false, 512, NULL},
    {"ending_before", P_STRING, false, 0, NULL},
    {"expand", P_LIST, false, 0, NULL},
    {"limit", P_INT, false, 0, NULL},
    {"starting_after", P_STRING, false, 0, NULL},
    {"test_clock", P_STRING, false, 0, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec customer_search[] = {
    {"expand", P_LIST, false, 0, NULL},    {"limit", P_INT, false, 0, NULL},
    {"page", P_STRING, false, 5000, NULL}, {"query", P_STRING, true, 5000, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

/* POST /v1/refunds: the fields the connector sends (and expand). */
static const struct pspec refund_create[] = {
    {"amount", P_INT, false, 0, NULL},
    {"charge", P_STRING, false, 5000, NULL},
    {"expand", P_LIST, false, 0, NULL},
    {"metadata", P_MAP, false, 0, NULL},
    {"payment_intent", P_STRING, false, 5000, NULL},
    {"reason", P_ENUM, false, 0, refund_reasons},
    {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec expand_only[] = {
    {"expand", P_LIST, false, 0, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec payment_intent_get[] = {
    {"client_secret", P_STRING, false, 5000, NULL},
    {"expand", P_LIST, false, 0, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec nothing[] = {
    {NULL, P_STRING, false, 0, NULL},
};

/* POST /v1/webhook_endpoints */
static const struct pspec endpoint_create[] = {
    {"api_version", P_STRING, false, 5000, NULL}, {"connect", P_BOOL, false, 0, NULL},
    {"description", P_STRING, false, 5000, NULL}, {"enabled_events", P_LIST, true, 0, NULL},
    {"expand", P_LIST, false, 0, NULL},           {"metadata", P_MAP, false, 0, NULL},
    {"url", P_STRING, true, 5000, NULL},          {NULL, P_STRING, false, 0, NULL},
};

static const struct pspec endpoint_list[] = {
    {"ending_before", P_STRING, false, 0, NULL},
    {"expand", P_LIST, false, 0, NULL},
    {"limit", P_INT, false, 0, NULL},
    {"starting_after", P_STRING, false, 0, NULL},
    {NULL, P_STRING, false, 0, NULL},
};

/* --- answers ----------------------------------------------------------------------- */

struct answer_ctx {
    const char *id;             /* the {id} of the path, or NULL */
    struct json_object *params; /* assembled parameters */
    struct stripe_mock *m;
    int status;  /* an error answer instead: its status ... */
    char *error; /* ... and message (owned) */
};

static struct json_object *param(const struct answer_ctx *c, const char *name)
{
    struct json_object *v;
    return json_object_object_get_ex(c->params, name, &v) ? v : NULL;
}

/* The parameter when sent, else `def` (a string, or JSON null when NULL). */
static struct json_object *reflect(const struct answer_ctx *c, const char *name, const char *def)
{
    struct json_object *v = param(c, name);
    if (v)
        return json_object_get(v);
    return def ? json_object_new_string(def) : NULL;
}

static struct json_object *reflect_map(const struct answer_ctx *c, const char *name)
{
    struct json_object *v = param(c, name);
    return v && json_object_is_type(v, json_type_object) ? json_object_get(v)
                                                         : json_object_new_object();
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
    json_object_object_add(o, k, v);
}

static struct json_object *customer(const struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id ? c->id : "cus_NffrFeUfNV2Hib"));
    add(o, "object", json_object_new_string("customer"));
    add(o, "address", NULL);
    add(o, "balance", json_object_new_int(0));
    add(o, "created", json_object_new_int64(1680893993));
    add(o, "currency", NULL);
    add(o, "default_source", NULL);
    add(o, "delinquent", json_object_new_boolean(0));
    add(o, "description", reflect(c, "description", NULL));
    add(o, "discount", NULL);
    add(o, "email", reflect(c, "email", c->id ? "jennyrosen@example.com" : NULL));
    add(o, "invoice_prefix", json_object_new_string("0759376C"));
    add(o, "livemode", json_object_new_boolean(0));
    add(o, "metadata", reflect_map(c, "metadata"));
    add(o, "name", reflect(c, "name", c->id ? "Jenny Rosen" : NULL));
    add(o, "next_invoice_sequence", json_object_new_int(1));
    add(o, "phone", reflect(c, "phone", NULL));
    add(o, "preferred_locales", json_object_new_array());
    add(o, "shipping", NULL);
    add(o, "tax_exempt", json_object_new_string("none"));
    add(o, "test_clock", NULL);
    return o;
}

static struct json_object *list_of(const char *object, const char *url, struct json_object *item)
{
    struct json_object *o = json_object_new_object();
    add(o, "object", json_object_new_string(object));
    struct json_object *data = json_object_new_array();
    json_object_array_add(data, item);
    add(o, "data", data);
    add(o, "has_more", json_object_new_boolean(0));
    if (strcmp(object, "search_result") == 0)
        add(o, "next_page", NULL);
    add(o, "url", json_object_new_string(url));
    return o;
}

static struct json_object *answer_customer(struct answer_ctx *c)
{
    return customer(c);
}

static struct json_object *answer_customer_list(struct answer_ctx *c)
{
    struct answer_ctx one = {.id = "cus_NffrFeUfNV2Hib", .params = c->params, .m = c->m};
    return list_of("list", "/v1/customers", customer(&one));
}

static struct json_object *answer_customer_search(struct answer_ctx *c)
{
    struct answer_ctx one = {.id = "cus_NffrFeUfNV2Hib", .params = c->params, .m = c->m};
    return list_of("search_result", "/v1/customers/search", customer(&one));
}

static struct json_object *answer_customer_deleted(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id));
    add(o, "object", json_object_new_string("customer"));
    add(o, "deleted", json_object_new_boolean(1));
    return o;
}

static struct json_object *answer_refund(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id ? c->id : "re_1Nispe2eZvKYlo2Cd31jOCgZ"));
    add(o, "object", json_object_new_string("refund"));
    struct json_object *amount = param(c, "amount");
    add(o, "amount",
        json_object_new_int64(amount ? strtoll(json_object_get_string(amount), NULL, 10) : 1099));
    add(o, "balance_transaction", json_object_new_string("txn_1Nispe2eZvKYlo2CYezqFhEx"));
    add(o, "charge", reflect(c, "charge", "ch_1NirD82eZvKYlo2CIvbtLWuY"));
    add(o, "created", json_object_new_int64(1692942318));
    add(o, "currency", json_object_new_string("usd"));
    add(o, "metadata", reflect_map(c, "metadata"));
    add(o, "payment_intent", reflect(c, "payment_intent", "pi_3MtwBwLkdIwHu7ix28a3tqPa"));
    add(o, "reason", reflect(c, "reason", NULL));
    add(o, "receipt_number", NULL);
    add(o, "source_transfer_reversal", NULL);
    add(o, "status", json_object_new_string("succeeded"));
    add(o, "transfer_reversal", NULL);
    return o;
}

static bool expanded(const struct answer_ctx *c, const char *what)
{
    struct json_object *e = param(c, "expand");
    size_t n = e && json_object_is_type(e, json_type_array) ? json_object_array_length(e) : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(e, i)), what) == 0)
            return true;
    return false;
}

static struct json_object *answer_session(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id));
    add(o, "object", json_object_new_string("checkout.session"));
    add(o, "amount_subtotal", json_object_new_int(2000));
    add(o, "amount_total", json_object_new_int(2000));
    add(o, "created", json_object_new_int64(1679600215));
    add(o, "currency", json_object_new_string("usd"));
    add(o, "customer", json_object_new_string("cus_NffrFeUfNV2Hib"));
    struct json_object *details = json_object_new_object();
    add(details, "email", json_object_new_string("jennyrosen@example.com"));
    add(details, "name", json_object_new_string("Jenny Rosen"));
    add(o, "customer_details", details);
    add(o, "livemode", json_object_new_boolean(0));
    add(o, "metadata", json_object_new_object());
    add(o, "mode", json_object_new_string("payment"));
    add(o, "payment_intent", json_object_new_string("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
    add(o, "payment_status", json_object_new_string("paid"));
    add(o, "status", json_object_new_string("complete"));
    add(o, "url", NULL);
    if (expanded(c, "line_items")) {
        struct json_object *price = json_object_new_object();
        add(price, "id", json_object_new_string("price_1MotwRLkdIwHu7ixYcPLm5uZ"));
        add(price, "object", json_object_new_string("price"));
        add(price, "currency", json_object_new_string("usd"));
        add(price, "product", json_object_new_string("prod_NZKdYqrwEYx6iK"));
        add(price, "unit_amount", json_object_new_int(2000));
        struct json_object *item = json_object_new_object();
        add(item, "id", json_object_new_string("li_1MvT4hLkdIwHu7ixyRDYOgmb"));
        add(item, "object", json_object_new_string("item"));
        add(item, "amount_discount", json_object_new_int(0));
        add(item, "amount_subtotal", json_object_new_int(2000));
        add(item, "amount_tax", json_object_new_int(0));
        add(item, "amount_total", json_object_new_int(2000));
        add(item, "currency", json_object_new_string("usd"));
        add(item, "description", json_object_new_string("T-shirt"));
        add(item, "price", price);
        add(item, "quantity", json_object_new_int(1));
        char url[256];
        snprintf(url, sizeof(url), "/v1/checkout/sessions/%s/line_items", c->id);
        add(o, "line_items", list_of("list", url, item));
    }
    return o;
}

static struct json_object *answer_payment_intent(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id));
    add(o, "object", json_object_new_string("payment_intent"));
    add(o, "amount", json_object_new_int(2000));
    add(o, "amount_received", json_object_new_int(2000));
    add(o, "created", json_object_new_int64(1680800504));
    add(o, "currency", json_object_new_string("usd"));
    add(o, "customer", json_object_new_string("cus_NffrFeUfNV2Hib"));
    add(o, "latest_charge", json_object_new_string("ch_1NirD82eZvKYlo2CIvbtLWuY"));
    add(o, "livemode", json_object_new_boolean(0));
    add(o, "metadata", json_object_new_object());
    add(o, "status", json_object_new_string("succeeded"));
    return o;
}

static struct json_object *answer_charge(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id));
    add(o, "object", json_object_new_string("charge"));
    add(o, "amount", json_object_new_int(2000));
    add(o, "amount_refunded", json_object_new_int(0));
    add(o, "captured", json_object_new_boolean(1));
    add(o, "currency", json_object_new_string("usd"));
    add(o, "paid", json_object_new_boolean(1));
    add(o, "payment_intent", json_object_new_string("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
    add(o, "status", json_object_new_string("succeeded"));
    return o;
}

/* --- webhook endpoints: kept by the mock, the secret shown only once ------------- */

/* "*" or an event type such as charge.succeeded (lower case, dots). */
static bool valid_event_type(const char *s)
{
    if (strcmp(s, "*") == 0)
        return true;
    bool dot = false;
    for (const char *p = s; *p; p++) {
        if (*p == '.')
            dot = p != s && p[1] && p[-1] != '.';
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    }
    return dot;
}

static struct json_object *answer_endpoint_create(struct answer_ctx *c)
{
    const char *url = json_object_get_string(param(c, "url"));
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        c->status = 400;
        c->error = testkit_fmt("Invalid URL: %s", url);
        return NULL;
    }
    struct json_object *events = param(c, "enabled_events");
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(events, i));
        if (!valid_event_type(e)) {
            c->status = 400;
            c->error = testkit_fmt("Invalid enabled_events[%zu]: must be one of the allowed "
                                   "values, not '%s'",
                                   i, e);
            return NULL;
        }
    }
    struct json_object *o = json_object_new_object();
    pthread_mutex_lock(&c->m->lock);
    unsigned seq = ++c->m->endpoint_seq;
    char id[40], secret[48];
    snprintf(id, sizeof(id), "we_1Mr5jULkdIwHu7ix%06u", seq);
    snprintf(secret, sizeof(secret), "whsec_wRNftLajMZNeslQOP6vEPm4iVx%06u", seq);
    add(o, "id", json_object_new_string(id));
    add(o, "object", json_object_new_string("webhook_endpoint"));
    add(o, "api_version", reflect(c, "api_version", NULL));
    add(o, "application", NULL);
    add(o, "created", json_object_new_int64(1680122196));
    add(o, "description", reflect(c, "description", NULL));
    add(o, "enabled_events", json_object_get(events));
    add(o, "livemode", json_object_new_boolean(0));
    add(o, "metadata", reflect_map(c, "metadata"));
    add(o, "secret", json_object_new_string(secret));
    add(o, "status", json_object_new_string("enabled"));
    add(o, "url", json_object_new_string(url));
    json_object_array_add(c->m->endpoints, json_object_get(o));
    pthread_mutex_unlock(&c->m->lock);
    return o;
}

/* An endpoint as listed: everything but the secret. */
static struct json_object *endpoint_listed(struct json_object *e)
{
    struct json_object *copy = NULL;
    json_object_deep_copy(e, &copy, NULL);
    json_object_object_del(copy, "secret");
    return copy;
}

static struct json_object *answer_endpoint_list(struct answer_ctx *c)
{
    struct json_object *o = json_object_new_object(), *data = json_object_new_array();
    pthread_mutex_lock(&c->m->lock);
    for (size_t i = 0; i < json_object_array_length(c->m->endpoints); i++)
        json_object_array_add(data, endpoint_listed(json_object_array_get_idx(c->m->endpoints, i)));
    pthread_mutex_unlock(&c->m->lock);
    add(o, "object", json_object_new_string("list"));
    add(o, "data", data);
    add(o, "has_more", json_object_new_boolean(0));
    add(o, "url", json_object_new_string("/v1/webhook_endpoints"));
    return o;
}

static struct json_object *answer_endpoint_delete(struct answer_ctx *c)
{
    bool found = false;
    pthread_mutex_lock(&c->m->lock);
    struct json_object *kept = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(c->m->endpoints); i++) {
        struct json_object *e = json_object_array_get_idx(c->m->endpoints, i), *id;
        json_object_object_get_ex(e, "id", &id);
        if (strcmp(json_object_get_string(id), c->id) == 0)
            found = true;
        else
            json_object_array_add(kept, json_object_get(e));
    }
    json_object_put(c->m->endpoints);
    c->m->endpoints = kept;
    pthread_mutex_unlock(&c->m->lock);
    if (!found) {
        c->status = 404;
        c->error = testkit_fmt("No such webhook endpoint: '%s'", c->id);
        return NULL;
    }
    struct json_object *o = json_object_new_object();
    add(o, "id", json_object_new_string(c->id));
    add(o, "object", json_object_new_string("webhook_endpoint"));
    add(o, "deleted", json_object_new_boolean(1));
    return o;
}

size_t stripe_checks_endpoints(struct stripe_mock *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = json_object_array_length(m->endpoints);
    pthread_mutex_unlock(&m->lock);
    return n;
}

struct route {
    const char *method;
    const char *pattern; /* "{id}" matches one path segment */
    const struct pspec *params;
    struct json_object *(*answer)(struct answer_ctx *c);
};

/* Static paths first, as stripe-mock prefers them (/v1/customers/search
 * over /v1/customers/{id}). */
static const struct route routes[] = {
    {"POST", "/v1/customers", customer_write, answer_customer},
    {"GET", "/v1/customers", customer_list, answer_customer_list},
    {"GET", "/v1/customers/search", customer_search, answer_customer_search},
    {"POST", "/v1/refunds", refund_create, answer_refund},
    {"GET", "/v1/customers/{id}", expand_only, answer_customer},
    {"POST", "/v1/customers/{id}", customer_write, answer_customer},
    {"DELETE", "/v1/customers/{id}", nothing, answer_customer_deleted},
    {"GET", "/v1/refunds/{id}", expand_only, answer_refund},
    {"GET", "/v1/checkout/sessions/{id}", expand_only, answer_session},
    {"GET", "/v1/payment_intents/{id}", payment_intent_get, answer_payment_intent},
    {"GET", "/v1/charges/{id}", expand_only, answer_charge},
    {"POST", "/v1/webhook_endpoints", endpoint_create, answer_endpoint_create},
    {"GET", "/v1/webhook_endpoints", endpoint_list, answer_endpoint_list},
    {"DELETE", "/v1/webhook_endpoints/{id}", nothing, answer_endpoint_delete},
};

/* Match a path against a pattern; *id gets the {id} segment (decoded,
 * caller frees) when there is one. */
static bool route_matches(const char *pattern, const char *path, char **id)
{
    const char *brace = strstr(pattern, "{id}");
    if (!brace)
        return strcmp(pattern, path) == 0;
    size_t pre = (size_t)(brace - pattern);
    if (strncmp(pattern, path, pre) != 0)
        return false;
    const char *seg = path + pre;
    size_t n = strcspn(seg, "/");
    if (n == 0 || strcmp(seg + n, brace + 4) != 0)
        return false;
    char err[64];
    *id = query_unescape(seg, n, err, sizeof(err));
    return *id != NULL;
}

/* --- validation -------------------------------------------------------------------- */

/* "metadata[order_id]" -> name "metadata" and subs "order_id" (n_subs 1).
 * Keys without a well-formed bracket suffix are all name. */
struct key_parts {
    char name[256];
    char subs[4][256];
    size_t n_subs;
    bool malformed;
};

static void split_key(const char *key, struct key_parts *kp)
{
    memset(kp, 0, sizeof(*kp));
    size_t n = strcspn(key, "[");
    snprintf(kp->name, sizeof(kp->name), "%.*s", (int)n, key);
    const char *p = key + n;
    while (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || kp->n_subs == 4) {
            kp->malformed = true;
            return;
        }
        snprintf(kp->subs[kp->n_subs++], sizeof(kp->subs[0]), "%.*s", (int)(close - p - 1), p + 1);
        p = close + 1;
    }
    if (*p)
        kp->malformed = true;
}

static const struct pspec *find_spec(const struct pspec *specs, const char *name)
{
    for (const struct pspec *s = specs; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static bool is_integer(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Check one pair against the route and put it into `params`; NULL when it
 * is fine, else the validation message (caller frees). */
static char *check_pair(const struct pspec *specs, const struct pair *pr,
                        struct json_object *params)
{
    struct key_parts kp;
    split_key(pr->key, &kp);
    const struct pspec *s = kp.malformed ? NULL : find_spec(specs, kp.name);
    if (!s)
        return testkit_fmt("Received unknown parameter: %s", pr->key);
    struct json_object *cur;
    switch (s->kind) {
    case P_STRING:
    case P_INT:
    case P_BOOL:
    case P_ENUM:
        if (kp.n_subs)
            return testkit_fmt("Invalid %s for %s: a hash or an array was given",
                               s->kind == P_INT ? "integer" : "string", s->name);
        if (s->kind == P_INT && !is_integer(pr->value))
            return testkit_fmt("Invalid integer: %s", pr->value);
        if (s->kind == P_BOOL && strcmp(pr->value, "true") && strcmp(pr->value, "false"))
            return testkit_fmt("Invalid boolean: %s", pr->value);
        if (s->kind == P_ENUM) {
            bool ok = false;
            for (size_t i = 0; s->values[i]; i++)
                ok |= strcmp(s->values[i], pr->value) == 0;
            if (!ok)
                return testkit_fmt("Invalid %s: must be one of the allowed values, not '%s'",
                                   s->name, pr->value);
        }
        if (s->max_len && strlen(pr->value) > s->max_len)
            return testkit_fmt("Invalid string: %.20s...; must be at most %zu characters",
                               pr->value, s->max_len);
        json_object_object_add(params, s->name, json_object_new_string(pr->value));
        return NULL;
    case P_MAP:
        /* metadata= (empty) unsets all; else exactly metadata[key]=value */
        if (kp.n_subs == 0 && pr->value[0] == '\0')
            return NULL;
        if (kp.n_subs != 1 || !kp.subs[0][0])
            return testkit_fmt("Invalid object for %s: write %s[key]=value", s->name, s->name);
        if (strlen(kp.subs[0]) > 40)
            return testkit_fmt("Metadata keys can have a maximum length of 40 characters (%s)",
                               kp.subs[0]);
        if (strlen(pr->value) > 500)
            return testkit_fmt("Metadata values can have up to 500 characters, but you passed in a "
                               "value that is %zu characters long",
                               strlen(pr->value));
        if (!json_object_object_get_ex(params, s->name, &cur)) {
            cur = json_object_new_object();
            json_object_object_add(params, s->name, cur);
        }
        json_object_object_add(cur, kp.subs[0], json_object_new_string(pr->value));
        return NULL;
    case P_LIST:
        if (kp.n_subs != 1 || (kp.subs[0][0] && !is_integer(kp.subs[0])))
            return testkit_fmt("Invalid array for %s: write %s[0]=value", s->name, s->name);
        if (!json_object_object_get_ex(params, s->name, &cur)) {
            cur = json_object_new_array();
            json_object_object_add(params, s->name, cur);
        }
        json_object_array_add(cur, json_object_new_string(pr->value));
        return NULL;
    case P_OBJECT:
        if (kp.n_subs == 0 && pr->value[0] != '\0')
            return testkit_fmt("Invalid object for %s", s->name);
        return NULL;
    }
    return NULL;
}

/* --- the check ---------------------------------------------------------------------- */

/* Fill *reply with a Stripe error (status, message) and the headers. */
static bool answer_error(struct stripe_mock *m, struct standin_reply *reply, int status,
                         const char *headers, const char *message)
{
    *reply = (struct standin_reply){status, "application/json", keep(m, stripe_error(message)),
                                    headers, 0};
    return false;
}

/* Answer from a script when one matches; true if it did. */
static bool answer_scripted(struct stripe_mock *m, const struct standin_request *req,
                            const char *headers, struct standin_reply *reply)
{
    bool found = false;
    pthread_mutex_lock(&m->lock);
    struct mock_script *best = NULL;
    size_t best_len = 0;
    for (struct mock_script *sc = m->scripts; sc; sc = sc->next) {
        if (strcmp(sc->method, "*") != 0 && strcmp(sc->method, req->method) != 0)
            continue;
        size_t n = strlen(sc->path);
        bool prefix = n && sc->path[n - 1] == '*';
        bool match =
            prefix ? strncmp(sc->path, req->path, n - 1) == 0 : strcmp(sc->path, req->path) == 0;
        size_t score = prefix ? n : (size_t)-1;
        if (match && (!best || score > best_len)) {
            best = sc;
            best_len = score;
        }
    }
    struct script_reply r = {0};
    if (best) {
        size_t i = best->used < best->n ? best->used : best->n - 1;
        best->used++;
        r = best->replies[i];
        r.content_type = dupstr(r.content_type);
        r.body = dupstr(r.body);
        r.headers = testkit_fmt("%s%s", headers, r.headers ? r.headers : "");
        found = true;
    }
    pthread_mutex_unlock(&m->lock);
    if (found && r.status == 0) {
        /* status 0: this turn is the default answer */
        free(r.content_type);
        free(r.body);
        free(r.headers);
        return false;
    }
    if (found) {
        *reply =
            (struct standin_reply){r.status, r.content_type ? keep(m, r.content_type) : NULL,
                                   r.body ? keep(m, r.body) : NULL, keep(m, r.headers), r.delay_ms};
    }
    return found;
}

static bool stripe_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                         char *buf, size_t buflen)
{
    (void)buf;
    (void)buflen;
    struct stripe_mock *m = arg;
    const char *auth = standin_header(req, "Authorization");
    if (!stripe_checks_auth_ok(auth)) {
        char *msg =
            testkit_fmt("Please authenticate by specifying an `Authorization` header with any "
                        "valid looking testmode secret API key. For example, `Authorization: "
                        "Bearer sk_test_123`. Authorization was '%s'.",
                        auth ? auth : "");
        answer_error(m, reply, 401, NULL, msg);
        free(msg);
        return false;
    }
    const char *idem = standin_header(req, "Idempotency-Key");
    const char *headers =
        keep(m, idem && *idem ? testkit_fmt("Request-Id: req_123\nIdempotency-Key: %s\n", idem)
                              : dupstr("Request-Id: req_123\n"));

    const struct route *route = NULL;
    char *id = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !route; i++) {
        if (strcmp(routes[i].method, req->method) == 0 &&
            route_matches(routes[i].pattern, req->path, &id))
            route = &routes[i];
    }
    if (!route) {
        char *msg = testkit_fmt("Unrecognized request URL (%s: %s).", req->method, req->path);
        answer_error(m, reply, 404, headers, msg);
        free(msg);
        return false;
    }

    /* the query always, the body too unless GET: Rack's one bucket */
    struct pairs pairs = {0};
    char err[128] = "";
    int rc = parse_form(req->query, &pairs, err, sizeof(err));
    if (rc == 0 && strcmp(req->method, "GET") != 0)
        rc = parse_form(req->body ? req->body : "", &pairs, err, sizeof(err));
    char *msg = NULL;
    int status = 400;
    if (rc < 0)
        msg = testkit_fmt("Couldn't parse query/body: %s", err);
    if (!msg && strcmp(req->method, "GET") != 0 && strcmp(req->method, "DELETE") != 0) {
        const char *ct = standin_header(req, "Content-Type");
        size_t n = ct ? strcspn(ct, ";") : 0;
        if (!ct || !*ct)
            msg =
                testkit_fmt("Request's `Content-Type` header was empty. Expected: `%s`.", FORM_CT);
        else if (n != strlen(FORM_CT) || strncmp(ct, FORM_CT, n) != 0)
            msg =
                testkit_fmt("Request's `Content-Type` didn't match the path's expected media type. "
                            "Expected: `%s`. Was: `%.*s`.",
                            FORM_CT, (int)n, ct);
    }
    struct json_object *params = json_object_new_object();
    for (size_t i = 0; !msg && i < pairs.n; i++) {
        char *why = check_pair(route->params, &pairs.items[i], params);
        if (why) {
            msg = testkit_fmt("Request validation error: %s", why);
            free(why);
        }
    }
    for (const struct pspec *s = route->params; !msg && s->name; s++) {
        struct json_object *v;
        if (s->required && !json_object_object_get_ex(params, s->name, &v))
            msg = testkit_fmt("Request validation error: Missing required param: %s.", s->name);
    }
    if (!msg && strcmp(route->pattern, "/v1/refunds") == 0 &&
        !json_object_object_get_ex(params, "charge", NULL) &&
        !json_object_object_get_ex(params, "payment_intent", NULL))
        msg = testkit_fmt(
            "Request validation error: One of `charge` or `payment_intent` is required.");
    pairs_release(&pairs);

    bool answered = false;
    if (msg) {
        answer_error(m, reply, status, headers, msg);
        answered = true;
    } else if (answer_scripted(m, req, headers, reply)) {
        answered = true;
    }
    if (!answered) {
        struct answer_ctx ctx = {.id = id, .params = params, .m = m};
        struct json_object *obj = route->answer(&ctx);
        if (ctx.error) {
            answer_error(m, reply, ctx.status, headers, ctx.error);
            free(ctx.error);
        } else {
            const char *text = json_object_to_json_string_ext(
                obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
            *reply =
                (struct standin_reply){200, "application/json", keep(m, dupstr(text)), headers, 0};
        }
        json_object_put(obj);
    }
    free(msg);
    free(id);
    json_object_put(params);
    return false;
}

/* --- life cycle and scripts ------------------------------------------------------- */

struct stripe_mock *stripe_checks_install(struct standin *s)
{
    struct stripe_mock *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->endpoints = json_object_new_array();
    standin_check(s, "*", "/v1/*", stripe_check, m);
    return m;
}

static void script_free(struct mock_script *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        free(sc->replies[i].content_type);
        free(sc->replies[i].body);
        free(sc->replies[i].headers);
    }
    free(sc->replies);
    free(sc->method);
    free(sc->path);
    free(sc);
}

void stripe_checks_free(struct stripe_mock *m)
{
    if (!m)
        return;
    while (m->scripts) {
        struct mock_script *next = m->scripts->next;
        script_free(m->scripts);
        m->scripts = next;
    }
    while (m->kept) {
        struct kept *next = m->kept->next;
        free(m->kept->text);
        free(m->kept);
        m->kept = next;
    }
    json_object_put(m->endpoints);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void stripe_checks_script(struct stripe_mock *m, const char *method, const char *path,
                          const struct standin_reply *replies, size_t n)
{
    struct mock_script *sc = NULL;
    if (n) {
        sc = xalloc(sizeof(*sc));
        sc->method = dupstr(method);
        sc->path = dupstr(path);
        sc->replies = xalloc(n * sizeof(*sc->replies));
        sc->n = n;
        for (size_t i = 0; i < n; i++) {
            sc->replies[i].status = replies[i].status;
            sc->replies[i].content_type = dupstr(replies[i].content_type);
            sc->replies[i].body = dupstr(replies[i].body);
            sc->replies[i].headers = dupstr(replies[i].headers);
            sc->replies[i].delay_ms = replies[i].delay_ms;
        }
    }
    pthread_mutex_lock(&m->lock);
    struct mock_script **link = &m->scripts;
    while (*link && !(strcmp((*link)->method, method) == 0 && strcmp((*link)->path, path) == 0))
        link = &(*link)->next;
    struct mock_script *old = *link;
    if (old)
        *link = old->next;
    if (sc) {
        sc->next = m->scripts;
        m->scripts = sc;
    }
    pthread_mutex_unlock(&m->lock);
    if (old)
        script_free(old);
}
