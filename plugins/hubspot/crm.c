/*
 * The HubSpot actions: upsert_contact, create_deal and the generic
 * request. Bodies are built with json-c from the rendered parameters, so
 * payload text cannot break their structure.
 *
 * upsert_contact goes through the batch upsert endpoint with idProperty
 * email: the only contact write HubSpot makes idempotent (the plain create
 * answers 409 for a known address), so a retried step updates the same
 * contact. HubSpot has no idempotency key for deals: create_deal is
 * at-least-once, like every step (docs/workflows.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hubspot.h"

/* HubSpot's defined association type from a deal to a contact. */
#define DEAL_TO_CONTACT 3

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

const struct sb_param hubspot_upsert_contact_params[] = {
    {.name = "email",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the contact's email address: the contact with it is updated, or made"},
    {.name = "properties",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "contact properties by internal name, one line each: properties.firstname = "
             "{{ event.first_name }}"},
    HUBSPOT_COMMON_PARAMS,
    SB_END,
};

const struct sb_param hubspot_create_deal_params[] = {
    {.name = "dealname",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the deal's name"},
    {.name = "amount",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the deal's amount, a decimal number (129.50)"},
    {.name = "amount_minor",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "instead of amount: an integer in minor units, as payment APIs send it (Stripe's "
             "{{ event.data.object.amount_total }}), turned into a decimal with the currency's "
             "decimals (12950 USD -> 129.50, 500 JPY -> 500)"},
    {.name = "currency",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .def = "USD",
     .help = "the ISO 4217 code amount_minor is in (any case: {{ event.data.object.currency }})"},
    {.name = "pipeline",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .def = "default",
     .help = "the pipeline's internal id"},
    {.name = "dealstage",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the stage's internal id in that pipeline (appointmentscheduled, closedwon, or a "
             "number for custom stages: Settings > Objects > Deals > Pipelines)"},
    {.name = "contact_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "a contact to associate the deal with (e.g. {{ steps.contact.id }}); empty: none"},
    {.name = "properties",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "more deal properties by internal name: properties.closedate = 2025-03-01"},
    HUBSPOT_COMMON_PARAMS,
    SB_END,
};

const struct sb_param hubspot_get_contact_params[] = {
    {.name = "contact_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the contact's id, e.g. {{ event.objectId }} (HubSpot's events carry only ids)"},
    {.name = "properties",
     .type = SB_PARAM_LIST,
     .def = "email firstname lastname",
     .help = "the properties to read, by internal name"},
    HUBSPOT_COMMON_PARAMS,
    SB_END,
};

enum sb_status hubspot_create_deal_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = hubspot_common_validate(sb, call) == SB_OK;
    if (sb->param_string(call, "amount") && sb->param_string(call, "amount_minor")) {
        sb->config_error(call, "amount_minor", "give amount or amount_minor, not both");
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

const struct sb_param hubspot_request_params[] = {
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the endpoint under api_base, e.g. /crm/v3/objects/companies/{{ event.objectId }} "
             "(values are percent-encoded)"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body; values inserted by templates are JSON-escaped"},
    HUBSPOT_COMMON_PARAMS,
    SB_END,
};

/* --- helpers ---------------------------------------------------------------------- */

static bool add_string(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *v = json_object_new_string(value);
    if (!v)
        return false;
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

/* The MULTI parameter `properties` copied into obj (strings). */
static bool add_properties(const struct sb_host *sb, struct sb_call *call, struct json_object *obj)
{
    struct json_object *props = sb->param_json(call, "properties");
    if (!props || !json_object_is_type(props, json_type_object))
        return true;
    json_object_object_foreach(props, key, val)
    {
        if (!add_string(obj, key, json_object_get_string(val)))
            return false;
    }
    return true;
}

/* The output of a dry run: what later steps read most, marked. */
static void dry_output(const struct sb_host *sb, struct sb_call *call, bool with_id)
{
    struct json_object *out = json_object_new_object();
    if (!out)
        return;
    json_object_object_add(out, "dry_run", json_object_new_boolean(1));
    if (with_id)
        json_object_object_add(out, "id", json_object_new_string("dry-run"));
    sb->set_output(call, out);
}

static bool all_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* How many decimals an ISO 4217 currency has: 0 for those without minor
 * units, 3 for the dinar-style ones, else 2 (as Stripe lists them). */
static int currency_decimals(const char *code)
{
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF",
                                       "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                                       "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const three[] = {"BHD", "JOD", "KWD", "OMR", "TND", NULL};
    char up[4] = "";
    for (size_t i = 0; i < 3 && code[i]; i++)
        up[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 'a' + 'A' : code[i]);
    for (size_t i = 0; zero[i]; i++)
        if (strcmp(up, zero[i]) == 0)
            return 0;
    for (size_t i = 0; three[i]; i++)
        if (strcmp(up, three[i]) == 0)
            return 3;
    return 2;
}

/* A minor-unit integer ("-12950") as a decimal ("-129.50") with `places`
 * decimals into out. 0, or -1 when it is not an integer or too long. */
static int minor_to_decimal(const char *minor, int places, char *out, size_t out_size)
{
    bool neg = *minor == '-';
    const char *digits = minor + neg;
    size_t n = strlen(digits);
    if (!all_digits(digits) || n > 30 || out_size < n + (size_t)places + 4)
        return -1;
    /* left-pad with zeros so there is a digit before the point */
    char padded[40];
    size_t pad = n <= (size_t)places ? (size_t)places + 1 - n : 0;
    memset(padded, '0', pad);
    memcpy(padded + pad, digits, n + 1);
    size_t total = pad + n, whole = total - (size_t)places;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    memcpy(out + o, padded, whole);
    o += whole;
    if (places) {
        out[o++] = '.';
        memcpy(out + o, padded + whole, (size_t)places);
        o += (size_t)places;
    }
    out[o] = '\0';
    return 0;
}

/* --- upsert_contact ------------------------------------------------------------------- */

/* The first result of a batch answer (consumes answer): SB_OK with the
 * output set, or the failure with HubSpot's first error. */
static enum sb_status batch_output(const struct sb_host *sb, struct sb_call *call, const char *what,
                                   struct json_object *answer)
{
    struct json_object *results = NULL, *errors = NULL, *first = NULL;
    json_object_object_get_ex(answer, "results", &results);
    json_object_object_get_ex(answer, "errors", &errors);
    if (results && json_object_is_type(results, json_type_array) &&
        json_object_array_length(results) > 0)
        first = json_object_array_get_idx(results, 0);
    if (first && json_object_is_type(first, json_type_object)) {
        sb->set_output(call, json_object_get(first));
        json_object_put(answer);
        return SB_OK;
    }
    const char *msg = NULL;
    if (errors && json_object_is_type(errors, json_type_array) &&
        json_object_array_length(errors) > 0) {
        struct json_object *e = json_object_array_get_idx(errors, 0), *m;
        if (json_object_object_get_ex(e, "message", &m))
            msg = json_object_get_string(m);
    }
    enum sb_status st = sb->fail(call, "%s: HubSpot returned no contact%s%s", what, msg ? ": " : "",
                                 msg ? msg : "");
    json_object_put(answer);
    return st;
}

/* POST /crm/v3/objects/contacts/batch/upsert
 * {"inputs":[{"idProperty":"email","id":<email>,"properties":{...}}]};
 * the output is the contact. */
enum sb_status hubspot_upsert_contact_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "upsert contact";
    const char *email = sb->param_string(call, "email");
    if (!email || !*email || !strchr(email, '@'))
        return sb->fail(call, "%s: email '%s' is not an email address", what, email ? email : "");
    /* properties, then the input around them, then the body around that:
     * each object is owned by the next once added */
    struct json_object *props = json_object_new_object();
    bool ok = props && add_properties(sb, call, props) && add_string(props, "email", email);
    struct json_object *input = ok ? json_object_new_object() : NULL;
    ok = input && add_string(input, "idProperty", "email") && add_string(input, "id", email) &&
         json_object_object_add(input, "properties", props) == 0;
    if (ok)
        props = NULL;
    struct json_object *inputs = ok ? json_object_new_array() : NULL;
    ok = inputs && json_object_array_add(inputs, input) == 0;
    if (ok)
        input = NULL;
    struct json_object *body = ok ? json_object_new_object() : NULL;
    ok = body && json_object_object_add(body, "inputs", inputs) == 0;
    if (ok)
        inputs = NULL;
    json_object_put(props);
    json_object_put(input);
    json_object_put(inputs);
    if (!ok) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    struct json_object *answer = NULL;
    enum sb_status st = hubspot_call(sb, call, what, "POST",
                                     "/crm/v3/objects/contacts/batch/upsert", body, &answer, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    return batch_output(sb, call, what, answer);
}

/* --- create_deal ------------------------------------------------------------------------ */

/* [{"to":{"id":<contact>},"types":[{"associationCategory":"HUBSPOT_DEFINED",
 * "associationTypeId":3}]}]. Caller owns; NULL when out of memory. */
static struct json_object *contact_association(const char *contact_id)
{
    struct json_object *list = json_object_new_array();
    struct json_object *assoc = json_object_new_object();
    struct json_object *to = json_object_new_object();
    struct json_object *types = json_object_new_array();
    struct json_object *type = json_object_new_object();
    if (!list || !assoc || !to || !types || !type) {
        json_object_put(list);
        json_object_put(assoc);
        json_object_put(to);
        json_object_put(types);
        json_object_put(type);
        return NULL;
    }
    json_object_object_add(to, "id", json_object_new_string(contact_id));
    json_object_object_add(type, "associationCategory", json_object_new_string("HUBSPOT_DEFINED"));
    json_object_object_add(type, "associationTypeId", json_object_new_int(DEAL_TO_CONTACT));
    json_object_array_add(types, type);
    json_object_object_add(assoc, "to", to);
    json_object_object_add(assoc, "types", types);
    json_object_array_add(list, assoc);
    return list;
}

/* POST /crm/v3/objects/deals {"properties":{dealname, amount, pipeline,
 * dealstage, ...}, "associations":[...]}; the output is the deal. */
enum sb_status hubspot_create_deal_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "create deal";
    const char *name = sb->param_string(call, "dealname");
    const char *amount = sb->param_string(call, "amount");
    const char *minor = sb->param_string(call, "amount_minor");
    const char *pipeline = sb->param_string(call, "pipeline");
    const char *stage = sb->param_string(call, "dealstage");
    const char *contact = sb->param_string(call, "contact_id");
    if (!name || !*name)
        return sb->fail(call, "%s: dealname rendered empty", what);
    if (!stage || !*stage)
        return sb->fail(call, "%s: dealstage rendered empty", what);
    /* a dry run's upsert answers id "dry-run": let it through to be shown */
    if (contact && *contact && !all_digits(contact) && !sb->dry_run(call))
        return sb->fail(call, "%s: contact_id '%s' is not a HubSpot object id (digits)", what,
                        contact);
    struct json_object *body = json_object_new_object();
    struct json_object *props = json_object_new_object();
    bool ok = body && props && json_object_object_add(body, "properties", props) == 0;
    if (!ok)
        json_object_put(props);
    ok = ok && add_properties(sb, call, props) && add_string(props, "dealname", name) &&
         add_string(props, "dealstage", stage) &&
         add_string(props, "pipeline", pipeline && *pipeline ? pipeline : "default");
    char decimal[48];
    if (minor && *minor) {
        const char *currency = sb->param_string(call, "currency");
        if (minor_to_decimal(minor, currency_decimals(currency ? currency : "USD"), decimal,
                             sizeof(decimal)) < 0) {
            json_object_put(body);
            return sb->fail(call, "%s: amount_minor '%s' is not an integer", what, minor);
        }
        amount = decimal;
    }
    if (ok && amount && *amount)
        ok = add_string(props, "amount", amount);
    if (ok && contact && *contact) {
        struct json_object *assoc = contact_association(contact);
        ok = assoc && json_object_object_add(body, "associations", assoc) == 0;
    }
    if (!ok) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    struct json_object *answer = NULL;
    enum sb_status st =
        hubspot_call(sb, call, what, "POST", "/crm/v3/objects/deals", body, &answer, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    struct json_object *id;
    if (!json_object_object_get_ex(answer, "id", &id)) {
        json_object_put(answer);
        return sb->fail(call, "%s: HubSpot's answer has no deal id", what);
    }
    sb->set_output(call, answer);
    return SB_OK;
}

/* --- get_contact ------------------------------------------------------------------------- */

/* GET /crm/v3/objects/contacts/{id}?properties=a,b; the output is the
 * contact: id, properties, createdAt, updatedAt. In a dry run every
 * property reads "(dry run: <name> of contact <id>)", so the steps after
 * it can be shown. */
enum sb_status hubspot_get_contact_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "get contact";
    const char *id = sb->param_string(call, "contact_id");
    struct json_object *props = sb->param_json(call, "properties");
    if (!id || !all_digits(id) || strlen(id) > 24)
        return sb->fail(call, "%s: contact_id '%s' is not a HubSpot object id (digits)", what,
                        id ? id : "");
    char path[1024];
    size_t o = (size_t)snprintf(path, sizeof(path), "/crm/v3/objects/contacts/%s", id);
    size_t n =
        props && json_object_is_type(props, json_type_array) ? json_object_array_length(props) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = json_object_get_string(json_object_array_get_idx(props, i));
        char enc[256];
        if (sb->url_encode(p, strlen(p), enc, sizeof(enc)) < 0 ||
            o + strlen(enc) + 13 >= sizeof(path))
            return sb->fail(call, "%s: too many properties", what);
        o += (size_t)snprintf(path + o, sizeof(path) - o, "%s%s", i ? "," : "?properties=", enc);
    }
    struct json_object *answer = NULL;
    enum sb_status st = hubspot_call(sb, call, what, "GET", path, NULL, &answer, NULL);
    if (st != SB_OK)
        return st;
    if (!answer) {
        struct json_object *out = json_object_new_object(), *fake = json_object_new_object();
        if (!out || !fake) {
            json_object_put(out);
            json_object_put(fake);
            return sb->fail(call, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            const char *p = json_object_get_string(json_object_array_get_idx(props, i));
            char text[300];
            snprintf(text, sizeof(text), "(dry run: %s of contact %s)", p, id);
            json_object_object_add(fake, p, json_object_new_string(text));
        }
        json_object_object_add(out, "dry_run", json_object_new_boolean(1));
        json_object_object_add(out, "id", json_object_new_string(id));
        json_object_object_add(out, "properties", fake);
        sb->set_output(call, out);
        return SB_OK;
    }
    struct json_object *v;
    if (!json_object_object_get_ex(answer, "properties", &v)) {
        json_object_put(answer);
        return sb->fail(call, "%s: HubSpot's answer has no properties", what);
    }
    sb->set_output(call, answer);
    return SB_OK;
}

/* --- request -------------------------------------------------------------------------------- */

enum sb_status hubspot_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = hubspot_common_validate(sb, call) == SB_OK;
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path", "'%s' must start with '/', e.g. /crm/v3/objects/companies",
                         path);
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

/* Any endpoint: METHOD {api_base}{path} with an optional JSON body; the
 * output is {status, body}. */
enum sb_status hubspot_request_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *path = sb->param_string(call, "path");
    const char *text = sb->param_string(call, "body");
    const char *method = sb->param_string(call, "method");
    if (!method)
        method = text ? "POST" : "GET";
    if (!path || path[0] != '/')
        return sb->fail(call, "path '%s' does not start with '/'", path ? path : "");
    struct json_object *body = NULL;
    if (text) {
        body = json_tokener_parse(text);
        if (!body)
            return sb->fail(call, "the body is not valid JSON");
    }
    char what[64];
    snprintf(what, sizeof(what), "%s request", method);
    struct json_object *answer = NULL;
    long status = 0;
    enum sb_status st = hubspot_call(sb, call, what, method, path, body, &answer, &status);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, false);
        return SB_OK;
    }
    struct json_object *out = json_object_new_object();
    if (!out) {
        json_object_put(answer);
        return sb->fail(call, "out of memory");
    }
    json_object_object_add(out, "status", json_object_new_int64(status));
    json_object_object_add(out, "body", answer);
    sb->set_output(call, out);
    return SB_OK;
}
