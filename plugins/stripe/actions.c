/*
 * The stripe actions: a generic request (stripe.request) and three common
 * calls with typed parameters (create_customer, create_refund, retrieve).
 * Each builds its parameters as JSON, encodes them with form.c and sends
 * them with stripe_api_call (api.c), which also maps the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stripe.h"

/* Credentials and endpoint, the same for every action (one table entry
 * each; clang-format would misalign a multi-entry macro). */
// clang-format off
#define STRIPE_COMMON_PARAMS                                                                       \
    {.name = "api_key",                                                                            \
     .type = SB_PARAM_SECRET,                                                                      \
     .flags = SB_PARAM_REQUIRED,                                                                   \
     .help = "the secret or restricted API key, sk_... or rk_... (sent as Authorization: "         \
             "Bearer)"},                                                                           \
    {.name = "api_base",                                                                           \
     .type = SB_PARAM_STRING,                                                                      \
     .def = STRIPE_API_BASE,                                                                       \
     .help = "the API's base URL (tests point it at a stand-in)"},                                 \
    {.name = "stripe_version",                                                                     \
     .type = SB_PARAM_STRING,                                                                      \
     .help = "pin an API version (Stripe-Version header), e.g. 2024-06-20; default: the "          \
             "account's"},                                                                         \
    {.name = "stripe_account",                                                                     \
     .type = SB_PARAM_STRING,                                                                      \
     .flags = SB_PARAM_TEMPLATE,                                                                   \
     .escape = SB_ESCAPE_HEADER,                                                                   \
     .help = "Connect: act on this connected account (Stripe-Account header), acct_..."}
// clang-format on

static const char *const request_methods[] = {"GET", "POST", "DELETE", NULL};
static const char *const refund_reasons[] = {"duplicate", "fraudulent", "requested_by_customer",
                                             NULL};

const struct sb_param stripe_request_params[] = {
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .def = "POST",
     .values = request_methods,
     .help = "the HTTP method"},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the API path, e.g. /v1/customers/{{ event.data.object.customer }} (inserted "
             "values are percent-encoded)"},
    {.name = "param",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "request parameters, one line each: param.email = ...; nested keys in brackets, "
             "param.metadata[order_id] = ...; GET and DELETE send them in the query string"},
    STRIPE_COMMON_PARAMS,
    SB_END,
};

const struct sb_param stripe_create_customer_params[] = {
    {.name = "email",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the customer's email address"},
    {.name = "name",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the customer's full name or business name"},
    {.name = "phone",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the customer's phone number"},
    {.name = "description",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "an arbitrary note shown in the Dashboard"},
    {.name = "metadata",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "key-value pairs stored on the customer: metadata.order_id = ..."},
    STRIPE_COMMON_PARAMS,
    SB_END,
};

const struct sb_param stripe_create_refund_params[] = {
    {.name = "payment_intent",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the PaymentIntent to refund, pi_... (give this or charge)"},
    {.name = "charge",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the charge to refund, ch_... (give this or payment_intent)"},
    {.name = "amount",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "how much to refund in minor units (500 is $5.00); default: all that is left"},
    {.name = "reason",
     .type = SB_PARAM_ENUM,
     .values = refund_reasons,
     .help = "why the refund is made (shown in the Dashboard and to the card network)"},
    {.name = "metadata",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "key-value pairs stored on the refund: metadata.ticket = ..."},
    STRIPE_COMMON_PARAMS,
    SB_END,
};

const struct sb_param stripe_retrieve_params[] = {
    {.name = "object",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED,
     .help = "what to fetch: the path after /v1/, e.g. customers, payment_intents, "
             "checkout/sessions"},
    {.name = "id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the object's id, e.g. {{ event.data.object.id }}"},
    {.name = "expand",
     .type = SB_PARAM_LIST,
     .help = "related objects to include, e.g. line_items customer (sent as expand[0]=...)"},
    STRIPE_COMMON_PARAMS,
    SB_END,
};

/* --- helpers ---------------------------------------------------------------- */

/* Add a string member when the parameter is set and not empty; -1 when out
 * of memory. */
static int put_param(const struct sb_host *sb, struct sb_call *call, struct json_object *obj,
                     const char *name)
{
    const char *v = sb->param_string(call, name);
    if (!v || !*v)
        return 0;
    struct json_object *s = json_object_new_string(v);
    if (!s)
        return -1;
    return json_object_object_add(obj, name, s) == 0 ? 0 : -1;
}

/* Add a MULTI parameter (an object of strings) as a nested object. */
static int put_map(const struct sb_host *sb, struct sb_call *call, struct json_object *obj,
                   const char *name)
{
    struct json_object *map = sb->param_json(call, name);
    if (!map || !json_object_is_type(map, json_type_object) || json_object_object_length(map) == 0)
        return 0;
    struct json_object *copy = NULL;
    if (json_object_deep_copy(map, &copy, NULL) != 0)
        return -1;
    return json_object_object_add(obj, name, copy) == 0 ? 0 : -1;
}

/* Encode `params` (consumed) and POST/GET it. */
static enum sb_status send_params(const struct sb_host *sb, struct sb_call *call,
                                  const char *method, const char *path, struct json_object *params)
{
    char *form = NULL;
    int rc = stripe_form_encode(sb, params, &form);
    json_object_put(params);
    if (rc < 0)
        return sb->fail(call, "out of memory (or parameters nested too deep)");
    enum sb_status st = stripe_api_call(sb, call, method, path, form);
    free(form);
    return st;
}

/* A positive whole number in decimal digits. */
static bool is_amount(const char *s)
{
    if (!s || !*s || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return strspn(s, "0") != strlen(s);
}

static bool has_template(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

/* --- stripe.request ------------------------------------------------------- */

enum sb_status stripe_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path",
                         "the path starts with '/', e.g. /v1/customers (api_base gives the host)");
        return SB_FAIL;
    }
    return SB_OK;
}

enum sb_status stripe_request_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *method = sb->param_string(call, "method");
    const char *path = sb->param_string(call, "path");
    if (!method)
        method = "POST";
    if (!path || path[0] != '/')
        return sb->fail(call, "path '%s' does not start with '/'", path ? path : "");
    /* param.<key> lines go out exactly as keyed: metadata[order_id] stays */
    char *form = NULL;
    if (stripe_form_encode(sb, sb->param_json(call, "param"), &form) < 0)
        return sb->fail(call, "out of memory");
    enum sb_status st = stripe_api_call(sb, call, method, path, form);
    free(form);
    return st;
}

/* --- stripe.create_customer -------------------------------------------------- */

enum sb_status stripe_create_customer_run(const struct sb_host *sb, struct sb_call *call)
{
    static const char *const fields[] = {"email", "name", "phone", "description"};
    struct json_object *params = json_object_new_object();
    if (!params)
        return sb->fail(call, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        rc |= put_param(sb, call, params, fields[i]);
    rc |= put_map(sb, call, params, "metadata");
    if (rc < 0) {
        json_object_put(params);
        return sb->fail(call, "out of memory");
    }
    return send_params(sb, call, "POST", "/v1/customers", params);
}

/* --- stripe.create_refund ---------------------------------------------------- */

enum sb_status stripe_create_refund_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool pi = sb->param_string(call, "payment_intent") != NULL;
    bool ch = sb->param_string(call, "charge") != NULL;
    bool bad = false;
    if (pi == ch) {
        sb->config_error(call, pi ? "charge" : "payment_intent",
                         "give exactly one of payment_intent and charge");
        bad = true;
    }
    const char *amount = sb->param_string(call, "amount");
    if (amount && !has_template(amount) && !is_amount(amount)) {
        sb->config_error(call, "amount",
                         "'%s' is not a positive whole number of minor units (500 is $5.00)",
                         amount);
        bad = true;
    }
    return bad ? SB_FAIL : SB_OK;
}

enum sb_status stripe_create_refund_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *pi = sb->param_string(call, "payment_intent");
    const char *ch = sb->param_string(call, "charge");
    if ((!pi || !*pi) == (!ch || !*ch))
        return sb->fail(call,
                        "give exactly one of payment_intent and charge (rendered: "
                        "payment_intent '%s', charge '%s')",
                        pi ? pi : "", ch ? ch : "");
    const char *amount = sb->param_string(call, "amount");
    if (amount && *amount && !is_amount(amount))
        return sb->fail(call, "amount '%s' is not a positive whole number of minor units", amount);
    struct json_object *params = json_object_new_object();
    if (!params)
        return sb->fail(call, "out of memory");
    int rc = put_param(sb, call, params, pi && *pi ? "payment_intent" : "charge");
    if (rc == 0 && amount && *amount) {
        struct json_object *n = json_object_new_int64(strtoll(amount, NULL, 10));
        rc = n && json_object_object_add(params, "amount", n) == 0 ? 0 : -1;
    }
    rc |= put_param(sb, call, params, "reason");
    rc |= put_map(sb, call, params, "metadata");
    if (rc < 0) {
        json_object_put(params);
        return sb->fail(call, "out of memory");
    }
    return send_params(sb, call, "POST", "/v1/refunds", params);
}

/* --- stripe.retrieve --------------------------------------------------------- */

/* customers, checkout/sessions, payment_intents: lower-case words and
 * single slashes, no leading or trailing slash. */
static bool valid_object(const char *s)
{
    if (!s || !*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '/'))
            return false;
    return true;
}

enum sb_status stripe_retrieve_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *object = sb->param_string(call, "object");
    if (object && !valid_object(object)) {
        sb->config_error(call, "object",
                         "'%s' is not an object path: write what follows /v1/, e.g. customers "
                         "or checkout/sessions",
                         object);
        return SB_FAIL;
    }
    return SB_OK;
}

enum sb_status stripe_retrieve_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *object = sb->param_string(call, "object");
    const char *id = sb->param_string(call, "id");
    if (!valid_object(object))
        return sb->fail(call, "object '%s' is not an object path", object ? object : "");
    if (!id || !*id)
        return sb->fail(call, "id rendered empty: nothing to retrieve");
    size_t id_len = strlen(id);
    size_t path_len = strlen(object) + 3 * id_len + 8;
    char *path = malloc(path_len);
    if (!path)
        return sb->fail(call, "out of memory");
    int n = snprintf(path, path_len, "/v1/%s/", object);
    if (n < 0 || sb->url_encode(id, id_len, path + n, path_len - (size_t)n) < 0) {
        free(path);
        return sb->fail(call, "cannot encode id '%s'", id);
    }
    struct json_object *params = json_object_new_object();
    struct json_object *expand = sb->param_json(call, "expand");
    struct json_object *copy = NULL;
    if (!params || (expand && json_object_array_length(expand) > 0 &&
                    (json_object_deep_copy(expand, &copy, NULL) != 0 ||
                     json_object_object_add(params, "expand", copy) != 0))) {
        json_object_put(params);
        free(path);
        return sb->fail(call, "out of memory");
    }
    enum sb_status st = send_params(sb, call, "GET", path, params);
    free(path);
    return st;
}
