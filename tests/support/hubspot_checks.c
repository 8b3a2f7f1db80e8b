/*
 * hubspot_checks: what the HubSpot CRM API checks on the routes the
 * hubspot connector calls, and realistic answers (see hubspot_checks.h).
 */
#include "hubspot_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "standin.h"

#define MAX_FAULTS 16
#define MAX_CONTACTS 256
#define FIRST_CONTACT_ID 1501
#define FIRST_DEAL_ID 9001
#define NOW_ISO "2025-01-15T10:00:00.000Z"

struct hubspot_fault {
    int status;
    char *body, *headers;
};

struct hubspot_api {
    char *token;
    pthread_mutex_t lock;
    struct hubspot_fault faults[MAX_FAULTS];
    size_t n_faults;
    char *emails[MAX_CONTACTS]; /* contact i has id FIRST_CONTACT_ID + i */
    struct json_object *props[MAX_CONTACTS];
    size_t n_contacts, n_deals, refused;
};

static char *hc_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("hubspot_checks: out of memory\n", stderr);
        abort();
    }
    return d;
}

/* --- answers ------------------------------------------------------------------------ */

/* A HubSpot error answer, written into buf. */
static bool refuse(struct hubspot_api *h, struct standin_reply *reply, int status,
                   const char *category, const char *message, char *buf, size_t buflen)
{
    pthread_mutex_lock(&h->lock);
    h->refused++;
    pthread_mutex_unlock(&h->lock);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "status", json_object_new_string("error"));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_object_add(e, "correlationId",
                           json_object_new_string("3d5a2e4b-8c1f-4f0e-9a7b-6c5d4e3f2a10"));
    json_object_object_add(e, "category", json_object_new_string(category));
    snprintf(buf, buflen, "%s", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
    json_object_put(e);
    *reply = (struct standin_reply){status, "application/json;charset=utf-8", buf, NULL, 0};
    return false;
}

static bool answer_json(struct standin_reply *reply, int status, struct json_object *obj, char *buf,
                        size_t buflen)
{
    snprintf(buf, buflen, "%s",
             json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    *reply = (struct standin_reply){status, "application/json;charset=utf-8", buf, NULL, 0};
    return false;
}

/* The next queued fault into reply (strings copied into buf). */
static bool take_fault(struct hubspot_api *h, struct standin_reply *reply, char *buf, size_t buflen)
{
    pthread_mutex_lock(&h->lock);
    if (h->n_faults == 0) {
        pthread_mutex_unlock(&h->lock);
        return false;
    }
    struct hubspot_fault f = h->faults[0];
    memmove(&h->faults[0], &h->faults[1], (h->n_faults - 1) * sizeof(h->faults[0]));
    h->n_faults--;
    pthread_mutex_unlock(&h->lock);
    size_t half = buflen / 2;
    snprintf(buf, half, "%s", f.body);
    snprintf(buf + half, buflen - half, "%s", f.headers);
    *reply = (struct standin_reply){f.status, "application/json;charset=utf-8", buf, buf + half, 0};
    free(f.body);
    free(f.headers);
    return true;
}

/* --- checks ------------------------------------------------------------------------- */

static bool only_keys(struct json_object *obj, const char *const *allowed, const char **bad)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        bool found = false;
        for (size_t i = 0; allowed[i] && !found; i++)
            found = strcmp(key, allowed[i]) == 0;
        if (!found) {
            *bad = key;
            return false;
        }
    }
    return true;
}

static bool looks_like_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') && !strpbrk(s, " \t<>");
}

static bool is_decimal(const char *s)
{
    char *end;
    if (!*s)
        return false;
    strtod(s, &end);
    return *end == '\0' && strspn(s, "0123456789.-") == strlen(s);
}

/* The first problem with a contact input ("Property ... does not exist"),
 * written into msg; NULL when the input is good. */
static const char *bad_input(struct json_object *in, char *msg, size_t len)
{
    static const char *const keys[] = {"idProperty", "id", "properties", "objectWriteTraceId",
                                       NULL};
    static const char *const props[] = {"firstname", "lastname",       "email",   "phone",
                                        "company",   "lifecyclestage", "website", NULL};
    const char *bad = NULL;
    struct json_object *v;
    if (!json_object_is_type(in, json_type_object))
        return "inputs must be objects";
    if (!only_keys(in, keys, &bad)) {
        snprintf(msg, len, "Unrecognized field \"%s\"", bad);
        return msg;
    }
    if (!json_object_object_get_ex(in, "idProperty", &v) ||
        strcmp(json_object_get_string(v), "email") != 0)
        return "idProperty must be a unique property: email";
    if (!json_object_object_get_ex(in, "id", &v) || !json_object_is_type(v, json_type_string) ||
        !looks_like_email(json_object_get_string(v)))
        return "Property values were not valid: id is not a valid email address";
    if (!json_object_object_get_ex(in, "properties", &v) ||
        !json_object_is_type(v, json_type_object))
        return "properties must be an object";
    if (!only_keys(v, props, &bad)) {
        snprintf(msg, len, "Property \"%s\" does not exist", bad);
        return msg;
    }
    json_object_object_foreach(v, key, val)
    {
        if (!json_object_is_type(val, json_type_string)) {
            snprintf(msg, len, "Property values were not valid: %s must be a string", key);
            return msg;
        }
    }
    return NULL;
}

/* The contact index for email, adding it when new; -1 when full. */
static long contact_index(struct hubspot_api *h, const char *email, bool *created)
{
    *created = false;
    for (size_t i = 0; i < h->n_contacts; i++)
        if (strcasecmp(h->emails[i], email) == 0)
            return (long)i;
    if (h->n_contacts == MAX_CONTACTS)
        return -1;
    h->emails[h->n_contacts] = hc_strdup(email);
    *created = true;
    return (long)h->n_contacts++;
}

static bool upsert(struct hubspot_api *h, struct json_object *body, struct standin_reply *reply,
                   char *buf, size_t buflen)
{
    static const char *const keys[] = {"inputs", NULL};
    char msg[256];
    const char *bad = NULL, *why = NULL;
    struct json_object *inputs;
    if (!only_keys(body, keys, &bad)) {
        snprintf(msg, sizeof(msg), "Unrecognized field \"%s\"", bad);
        why = msg;
    } else if (!json_object_object_get_ex(body, "inputs", &inputs) ||
               !json_object_is_type(inputs, json_type_array) ||
               json_object_array_length(inputs) == 0 || json_object_array_length(inputs) > 100) {
        why = "inputs must hold 1 to 100 objects";
    } else {
        for (size_t i = 0; i < json_object_array_length(inputs) && !why; i++)
            why = bad_input(json_object_array_get_idx(inputs, i), msg, sizeof(msg));
    }
    if (why)
        return refuse(h, reply, 400, "VALIDATION_ERROR", why, buf, buflen);
    if (take_fault(h, reply, buf, buflen))
        return false;
    struct json_object *answer = json_object_new_object(), *results = json_object_new_array();
    json_object_object_add(answer, "status", json_object_new_string("COMPLETE"));
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        struct json_object *in = json_object_array_get_idx(inputs, i);
        const char *email = json_object_get_string(json_object_object_get(in, "id"));
        pthread_mutex_lock(&h->lock);
        bool created;
        long idx = contact_index(h, email, &created);
        pthread_mutex_unlock(&h->lock);
        struct json_object *in_props = json_object_object_get(in, "properties");
        pthread_mutex_lock(&h->lock);
        if (!h->props[idx])
            h->props[idx] = json_object_new_object();
        json_object_object_foreach(in_props, pk, pv)
        {
            json_object_object_add(h->props[idx], pk,
                                   json_object_new_string(json_object_get_string(pv)));
        }
        pthread_mutex_unlock(&h->lock);
        struct json_object *c = json_object_new_object();
        char id[32];
        snprintf(id, sizeof(id), "%ld", FIRST_CONTACT_ID + idx);
        json_object_object_add(c, "id", json_object_new_string(id));
        json_object_object_add(c, "properties",
                               json_object_get(json_object_object_get(in, "properties")));
        json_object_object_add(c, "createdAt", json_object_new_string(NOW_ISO));
        json_object_object_add(c, "updatedAt", json_object_new_string(NOW_ISO));
        json_object_object_add(c, "archived", json_object_new_boolean(0));
        json_object_object_add(c, "new", json_object_new_boolean(created));
        json_object_array_add(results, c);
    }
    json_object_object_add(answer, "results", results);
    json_object_object_add(answer, "startedAt", json_object_new_string(NOW_ISO));
    json_object_object_add(answer, "completedAt", json_object_new_string(NOW_ISO));
    return answer_json(reply, 200, answer, buf, buflen);
}

/* The first problem with a deal association, or NULL. */
static const char *bad_association(struct hubspot_api *h, struct json_object *a)
{
    struct json_object *to, *id, *types, *t, *v;
    if (!json_object_is_type(a, json_type_object) || !json_object_object_get_ex(a, "to", &to) ||
        !json_object_object_get_ex(to, "id", &id))
        return "associations need to.id";
    long idx = strtol(json_object_get_string(id), NULL, 10) - FIRST_CONTACT_ID;
    pthread_mutex_lock(&h->lock);
    bool known = idx >= 0 && (size_t)idx < h->n_contacts;
    pthread_mutex_unlock(&h->lock);
    if (!known)
        return "One or more associations are invalid: the contact does not exist";
    if (!json_object_object_get_ex(a, "types", &types) ||
        !json_object_is_type(types, json_type_array) || json_object_array_length(types) != 1)
        return "associations need one type";
    t = json_object_array_get_idx(types, 0);
    if (!json_object_object_get_ex(t, "associationCategory", &v) ||
        strcmp(json_object_get_string(v), "HUBSPOT_DEFINED") != 0)
        return "associationCategory must be HUBSPOT_DEFINED";
    if (!json_object_object_get_ex(t, "associationTypeId", &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int(v) != 3)
        return "invalid association type from deal to contact";
    return NULL;
}

static bool create_deal(struct hubspot_api *h, struct json_object *body,
                        struct standin_reply *reply, char *buf, size_t buflen)
{
    static const char *const keys[] = {"properties", "associations", NULL};
    static const char *const stages[] = {"appointmentscheduled",
                                         "qualifiedtobuy",
                                         "presentationscheduled",
                                         "decisionmakerboughtin",
                                         "contractsent",
                                         "closedwon",
                                         "closedlost",
                                         NULL};
    char msg[256];
    const char *bad = NULL, *why = NULL;
    struct json_object *props = NULL, *assoc = NULL, *v;
    if (!only_keys(body, keys, &bad)) {
        snprintf(msg, sizeof(msg), "Unrecognized field \"%s\"", bad);
        why = msg;
    } else if (!json_object_object_get_ex(body, "properties", &props) ||
               !json_object_is_type(props, json_type_object)) {
        why = "properties must be an object";
    } else if (!json_object_object_get_ex(props, "dealname", &v) || !*json_object_get_string(v)) {
        why = "Property values were not valid: dealname is required";
    } else if (json_object_object_get_ex(props, "pipeline", &v) &&
               strcmp(json_object_get_string(v), "default") != 0) {
        why = "Property values were not valid: pipeline is not a valid pipeline";
    } else if (json_object_object_get_ex(props, "amount", &v) &&
               !is_decimal(json_object_get_string(v))) {
        why = "Property values were not valid: amount must be a number";
    } else {
        bool stage_ok = false;
        if (json_object_object_get_ex(props, "dealstage", &v))
            for (size_t i = 0; stages[i] && !stage_ok; i++)
                stage_ok = strcmp(json_object_get_string(v), stages[i]) == 0;
        if (!stage_ok)
            why = "Property values were not valid: dealstage is not a stage of the pipeline";
    }
    if (!why && json_object_object_get_ex(body, "associations", &assoc)) {
        if (!json_object_is_type(assoc, json_type_array))
            why = "associations must be an array";
        for (size_t i = 0; !why && i < json_object_array_length(assoc); i++)
            why = bad_association(h, json_object_array_get_idx(assoc, i));
    }
    if (why)
        return refuse(h, reply, 400, "VALIDATION_ERROR", why, buf, buflen);
    if (take_fault(h, reply, buf, buflen))
        return false;
    pthread_mutex_lock(&h->lock);
    size_t n = h->n_deals++;
    pthread_mutex_unlock(&h->lock);
    struct json_object *deal = json_object_new_object();
    char id[32];
    snprintf(id, sizeof(id), "%zu", FIRST_DEAL_ID + n);
    json_object_object_add(deal, "id", json_object_new_string(id));
    json_object_object_add(deal, "properties", json_object_get(props));
    json_object_object_add(deal, "createdAt", json_object_new_string(NOW_ISO));
    json_object_object_add(deal, "updatedAt", json_object_new_string(NOW_ISO));
    json_object_object_add(deal, "archived", json_object_new_boolean(0));
    return answer_json(reply, 201, deal, buf, buflen);
}

/* GET /crm/v3/objects/contacts/{id}[?properties=a,b]: the properties
 * asked for (all when none), or 404. */
static bool get_contact(struct hubspot_api *h, const char *id, const char *query,
                        struct standin_reply *reply, char *buf, size_t buflen)
{
    char *end;
    long idx = strtol(id, &end, 10) - FIRST_CONTACT_ID;
    pthread_mutex_lock(&h->lock);
    bool known = *id && !*end && idx >= 0 && (size_t)idx < h->n_contacts;
    struct json_object *props = json_object_new_object();
    if (known) {
        const char *want = strstr(query, "properties=");
        json_object_object_foreach(h->props[idx], key, val)
        {
            bool asked = !want;
            if (want) {
                const char *list = want + 11;
                size_t kn = strlen(key);
                for (const char *p = list; *p && *p != '&' && !asked;) {
                    size_t n = strcspn(p, ",&");
                    asked = n == kn && strncmp(p, key, n) == 0;
                    p += n + (p[n] == ',');
                }
            }
            if (asked)
                json_object_object_add(props, key, json_object_get(val));
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (!known) {
        json_object_put(props);
        return refuse(h, reply, 404, "OBJECT_NOT_FOUND", "resource not found", buf, buflen);
    }
    if (take_fault(h, reply, buf, buflen)) {
        json_object_put(props);
        return false;
    }
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "id", json_object_new_string(id));
    json_object_object_add(c, "properties", props);
    json_object_object_add(c, "createdAt", json_object_new_string(NOW_ISO));
    json_object_object_add(c, "updatedAt", json_object_new_string(NOW_ISO));
    json_object_object_add(c, "archived", json_object_new_boolean(0));
    return answer_json(reply, 200, c, buf, buflen);
}

/* The check on every /crm/ route (arg: the struct hubspot_api). */
static bool hubspot_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                          char *buf, size_t buflen)
{
    struct hubspot_api *h = arg;
    const char *auth = standin_header(req, "Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, h->token) != 0)
        return refuse(h, reply, 401, "INVALID_AUTHENTICATION",
                      "Authentication credentials not found. This API supports OAuth 2.0 "
                      "authentication and you can find more details at "
                      "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                      buf, buflen);
    struct json_object *body = NULL;
    if (req->body_len) {
        const char *ct = standin_header(req, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return refuse(h, reply, 415, "VALIDATION_ERROR", "Unsupported Media Type", buf, buflen);
        body = json_tokener_parse(req->body);
        if (!body || !json_object_is_type(body, json_type_object)) {
            json_object_put(body);
            return refuse(h, reply, 400, "VALIDATION_ERROR", "Invalid input JSON", buf, buflen);
        }
    }
    bool posted = strcmp(req->method, "POST") == 0;
    bool answered;
    if (!body)
        body = json_object_new_object();
    if (posted && strcmp(req->path, HUBSPOT_UPSERT_PATH) == 0)
        answered = !upsert(h, body, reply, buf, buflen);
    else if (posted && strcmp(req->path, HUBSPOT_DEALS_PATH) == 0)
        answered = !create_deal(h, body, reply, buf, buflen);
    else if (strcmp(req->method, "GET") == 0 &&
             strncmp(req->path, HUBSPOT_CONTACTS_PATH "/", sizeof(HUBSPOT_CONTACTS_PATH)) == 0)
        answered = !get_contact(h, req->path + sizeof(HUBSPOT_CONTACTS_PATH), req->query, reply,
                                buf, buflen);
    else
        answered = take_fault(h, reply, buf, buflen);
    json_object_put(body);
    return !answered;
}

/* --- the API -------------------------------------------------------------------------------- */

struct hubspot_api *hubspot_api_install(struct standin *s, const char *token)
{
    struct hubspot_api *h = calloc(1, sizeof(*h));
    if (!h) {
        fputs("hubspot_checks: out of memory\n", stderr);
        abort();
    }
    h->token = hc_strdup(token);
    pthread_mutex_init(&h->lock, NULL);
    standin_check(s, "*", "/crm/*", hubspot_check, h);
    return h;
}

void hubspot_api_free(struct hubspot_api *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_faults; i++) {
        free(h->faults[i].body);
        free(h->faults[i].headers);
    }
    for (size_t i = 0; i < h->n_contacts; i++) {
        free(h->emails[i]);
        json_object_put(h->props[i]);
    }
    pthread_mutex_destroy(&h->lock);
    free(h->token);
    free(h);
}

void hubspot_api_fail_next(struct hubspot_api *h, int status, const char *body, const char *headers)
{
    pthread_mutex_lock(&h->lock);
    if (h->n_faults < MAX_FAULTS) {
        struct hubspot_fault *f = &h->faults[h->n_faults++];
        f->status = status;
        f->body = hc_strdup(body);
        f->headers = hc_strdup(headers);
    }
    pthread_mutex_unlock(&h->lock);
}

size_t hubspot_api_refused(struct hubspot_api *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->refused;
    pthread_mutex_unlock(&h->lock);
    return n;
}

size_t hubspot_api_contacts(struct hubspot_api *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n_contacts;
    pthread_mutex_unlock(&h->lock);
    return n;
}

size_t hubspot_api_deals(struct hubspot_api *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n_deals;
    pthread_mutex_unlock(&h->lock);
    return n;
}

bool hubspot_api_contact_id(struct hubspot_api *h, const char *email, char *out, size_t len)
{
    bool found = false;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_contacts && !found; i++) {
        if (strcasecmp(h->emails[i], email) == 0) {
            snprintf(out, len, "%zu", FIRST_CONTACT_ID + i);
            found = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

bool hubspot_api_add_contact(struct hubspot_api *h, const char *email, const char *firstname,
                             char *id, size_t len)
{
    bool created;
    pthread_mutex_lock(&h->lock);
    long idx = contact_index(h, email, &created);
    if (idx >= 0) {
        if (!h->props[idx])
            h->props[idx] = json_object_new_object();
        json_object_object_add(h->props[idx], "email", json_object_new_string(email));
        if (firstname)
            json_object_object_add(h->props[idx], "firstname", json_object_new_string(firstname));
        snprintf(id, len, "%ld", FIRST_CONTACT_ID + idx);
    }
    pthread_mutex_unlock(&h->lock);
    return idx >= 0;
}
