/*
 * The Salesforce actions: create_record, upsert and the generic request.
 * Bodies are built with json-c from the rendered parameters, so payload
 * text cannot break their structure.
 *
 * upsert is the idempotent write: PATCH .../sobjects/{object}/{field}/
 * {value} creates the record the first time and updates it after, so a
 * retried step never makes a second Contact. create_record has no such key
 * in Salesforce's API: it is at-least-once, like every step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "salesforce.h"

#define MAX_PATH 1024

static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE", NULL};

const struct sb_param salesforce_create_record_params[] = {
    {.name = "object",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the sObject's API name: Lead, Contact, Opportunity, Invoice__c, ..."},
    {.name = "fields",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "field values by API name, one line each: fields.LastName = {{ event.last_name }} "
             "(numbers, dates and booleans as text: 129.50, 2025-03-01, true)"},
    SALESFORCE_COMMON_PARAMS,
    SB_END,
};

const struct sb_param salesforce_upsert_params[] = {
    {.name = "object",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the sObject's API name: Contact, Account, ..."},
    {.name = "external_id_field",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "a field marked External ID (or Id) that identifies the record: "
             "Shopify_Customer_Id__c"},
    {.name = "external_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "its value for this record (e.g. {{ event.customer.id }}): the record with it is "
             "updated, or made"},
    {.name = "fields",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "the other field values by API name: fields.Email = {{ event.email }}"},
    SALESFORCE_COMMON_PARAMS,
    SB_END,
};

const struct sb_param salesforce_request_params[] = {
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the endpoint under /services/data/v<api_version>, e.g. "
             "/sobjects/Account/{{ event.account }} or /query?q=SELECT+Id+FROM+Lead (values "
             "are percent-encoded); a path starting with /services/ is taken as it is "
             "(/services/apexrest/...)"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body; values inserted by templates are JSON-escaped"},
    SALESFORCE_COMMON_PARAMS,
    SB_END,
};

/* --- helpers ------------------------------------------------------------------------ */

/* An API name: letters, digits and underscores (Invoice__c). */
static bool is_api_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 80 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static bool has_template(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

/* A literal API name in validate (a template is checked when rendered). */
static bool check_name(const struct sb_host *sb, struct sb_call *call, const char *param)
{
    const char *v = sb->param_string(call, param);
    if (!v || has_template(v) || is_api_name(v))
        return true;
    sb->config_error(call, param,
                     "'%s' is not an API name (letters, digits, _: Contact, "
                     "Invoice__c)",
                     v);
    return false;
}

/* The fields MULTI parameter as a new JSON object of strings, leaving out
 * `skip` (may be NULL). Caller owns; NULL when out of memory. */
static struct json_object *fields_body(const struct sb_host *sb, struct sb_call *call,
                                       const char *skip)
{
    struct json_object *body = json_object_new_object();
    struct json_object *fields = sb->param_json(call, "fields");
    if (!body || !fields || !json_object_is_type(fields, json_type_object))
        return body;
    json_object_object_foreach(fields, key, val)
    {
        if (skip && strcmp(key, skip) == 0)
            continue;
        struct json_object *v = json_object_new_string(json_object_get_string(val));
        if (!v || json_object_object_add(body, key, v) != 0) {
            json_object_put(v);
            json_object_put(body);
            return NULL;
        }
    }
    return body;
}

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

/* The rendered object name, checked. NULL after sb->fail (in *st). */
static const char *object_name(const struct sb_host *sb, struct sb_call *call, const char *what,
                               enum sb_status *st)
{
    const char *object = sb->param_string(call, "object");
    if (!object || !is_api_name(object)) {
        *st = sb->fail(call, "%s: object '%s' is not an API name", what, object ? object : "");
        return NULL;
    }
    return object;
}

/* --- create_record and upsert ----------------------------------------------------------- */

enum sb_status salesforce_record_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = salesforce_common_validate(sb, call) == SB_OK;
    ok &= check_name(sb, call, "object");
    ok &= check_name(sb, call, "external_id_field");
    return ok ? SB_OK : SB_FAIL;
}

/* POST /sobjects/{object} with the fields; the output is Salesforce's
 * answer (id, success, errors) and the object name. */
enum sb_status salesforce_create_record_run(const struct sb_host *sb, struct sb_call *call)
{
    char what[128] = "create record";
    enum sb_status st = SB_OK;
    const char *object = object_name(sb, call, what, &st);
    if (!object)
        return st;
    snprintf(what, sizeof(what), "create %s", object);
    struct json_object *body = fields_body(sb, call, NULL);
    if (!body)
        return sb->fail(call, "out of memory");
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "/sobjects/%s", object);
    struct json_object *answer = NULL;
    st = salesforce_call(sb, call, what, "POST", path, body, &answer, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    struct json_object *id;
    if (!json_object_is_type(answer, json_type_object) ||
        !json_object_object_get_ex(answer, "id", &id)) {
        json_object_put(answer);
        return sb->fail(call, "%s: Salesforce's answer has no record id", what);
    }
    json_object_object_add(answer, "object", json_object_new_string(object));
    sb->set_output(call, answer);
    return SB_OK;
}

/* PATCH /sobjects/{object}/{external_id_field}/{external_id} with the
 * other fields; the output is {id, created, success, errors, object}. */
enum sb_status salesforce_upsert_run(const struct sb_host *sb, struct sb_call *call)
{
    char what[128] = "upsert";
    enum sb_status st = SB_OK;
    const char *object = object_name(sb, call, what, &st);
    if (!object)
        return st;
    snprintf(what, sizeof(what), "upsert %s", object);
    const char *field = sb->param_string(call, "external_id_field");
    const char *value = sb->param_string(call, "external_id");
    if (!field || !is_api_name(field))
        return sb->fail(call, "%s: external_id_field '%s' is not an API name", what,
                        field ? field : "");
    if (!value || !*value)
        return sb->fail(call, "%s: external_id rendered empty", what);
    size_t vlen = strlen(value);
    char encoded[3 * 255 + 1];
    if (vlen > 255 || sb->url_encode(value, vlen, encoded, sizeof(encoded)) < 0)
        return sb->fail(call, "%s: external_id is longer than 255 characters", what);
    /* the external id travels in the URL; the body holds the other fields
     * (connectors.md 10.3) */
    struct json_object *body = fields_body(sb, call, field);
    if (!body)
        return sb->fail(call, "out of memory");
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "/sobjects/%s/%s/%s", object, field, encoded);
    struct json_object *answer = NULL;
    long status = 0;
    st = salesforce_call(sb, call, what, "PATCH", path, body, &answer, &status);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    if (!json_object_is_type(answer, json_type_object)) {
        json_object_put(answer);
        return sb->fail(call, "%s: Salesforce's answer is not an object", what);
    }
    /* 201 made it, 200/204 updated it (204 answers with no body) */
    json_object_object_add(answer, "created", json_object_new_boolean(status == 201));
    json_object_object_add(answer, "object", json_object_new_string(object));
    sb->set_output(call, answer);
    return SB_OK;
}

/* --- request -------------------------------------------------------------------------------- */

enum sb_status salesforce_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = salesforce_common_validate(sb, call) == SB_OK;
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path", "'%s' must start with '/', e.g. /sobjects/Account/<id>",
                         path);
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

/* Any endpoint: METHOD with an optional JSON body; the output is
 * {status, body}. */
enum sb_status salesforce_request_run(const struct sb_host *sb, struct sb_call *call)
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
    enum sb_status st = salesforce_call(sb, call, what, method, path, body, &answer, &status);
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
