/*
 * shopify_checks: what the Shopify Admin GraphQL API checks on the route
 * the shopify connector calls (see shopify_checks.h).
 */
#include "shopify_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "standin.h"

#define INVALID_TOKEN                                                                              \
    "{\"errors\":\"[API] Invalid API key or access token (unrecognized login or wrong "            \
    "password)\"}"
#define MISSING_QUERY "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}"

static bool answer(struct shopify_api *api, struct standin_reply *reply, int status,
                   const char *body)
{
    atomic_fetch_add(&api->refused, 1);
    *reply = (struct standin_reply){status, "application/json; charset=utf-8", body, NULL, 0};
    return false;
}

/* /admin/api/<version>/graphql.json with a version like 2025-01. */
static bool valid_path(const char *path)
{
    static const char prefix[] = "/admin/api/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *v = path + sizeof(prefix) - 1;
    size_t n = strcspn(v, "/");
    if (strcmp(v + n, "/graphql.json") != 0)
        return false;
    if (n == 8 && strncmp(v, "unstable", 8) == 0)
        return true;
    if (n != 7 || v[4] != '-')
        return false;
    for (size_t i = 0; i < 7; i++)
        if (i != 4 && (v[i] < '0' || v[i] > '9'))
            return false;
    int month = (v[5] - '0') * 10 + (v[6] - '0');
    return month >= 1 && month <= 12;
}

/* --- webhook subscriptions ----------------------------------------------------------- */

static pthread_mutex_t subs_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const known_topics[] = {
    "APP_UNINSTALLED", "CUSTOMERS_CREATE", "CUSTOMERS_UPDATE", "ORDERS_CANCELLED",
    "ORDERS_CREATE",   "ORDERS_FULFILLED", "ORDERS_PAID",      "ORDERS_UPDATED",
    "PRODUCTS_CREATE", "PRODUCTS_DELETE",  "PRODUCTS_UPDATE",  NULL};

/* Whether the API version in the path is 2025-10 or later (uri era). */
static bool uri_era(const char *path)
{
    const char *v = path + strlen("/admin/api/");
    return strncmp(v, "unstable", 8) == 0 || strncmp(v, "2025-10", 7) >= 0;
}

/* Answer {"data": data} (consumed) from buf. */
static bool data_answer(struct standin_reply *reply, struct json_object *data, char *buf,
                        size_t buflen)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "data", data);
    snprintf(
        buf, buflen, "%s",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    *reply = (struct standin_reply){200, "application/json; charset=utf-8", buf, NULL, 0};
    return true;
}

/* A top-level GraphQL error (HTTP 200), as Shopify answers a bad query. */
static bool graphql_error(struct standin_reply *reply, const char *message, char *buf,
                          size_t buflen)
{
    struct json_object *o = json_object_new_object(), *errs = json_object_new_array(),
                       *e = json_object_new_object();
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_array_add(errs, e);
    json_object_object_add(o, "errors", errs);
    snprintf(buf, buflen, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    *reply = (struct standin_reply){200, "application/json; charset=utf-8", buf, NULL, 0};
    return true;
}

/* A subscription as the API shows it in this version's shape. */
static struct json_object *subscription_json(struct json_object *sub, bool uri)
{
    struct json_object *o = json_object_new_object(), *ep = json_object_new_object();
    json_object_object_add(o, "id", json_object_get(json_object_object_get(sub, "id")));
    json_object_object_add(o, "topic", json_object_get(json_object_object_get(sub, "topic")));
    json_object_object_add(ep, "__typename", json_object_new_string("WebhookHttpEndpoint"));
    json_object_object_add(ep, "callbackUrl", json_object_get(json_object_object_get(sub, "url")));
    json_object_object_add(o, "endpoint", ep);
    if (uri)
        json_object_object_add(o, "uri", json_object_get(json_object_object_get(sub, "url")));
    return o;
}

static struct json_object *payload_with_errors(const char *key, struct json_object *value,
                                               const char *field, const char *message)
{
    struct json_object *p = json_object_new_object(), *errs = json_object_new_array();
    json_object_object_add(p, key, value);
    if (message) {
        struct json_object *e = json_object_new_object(), *f = json_object_new_array();
        json_object_array_add(f, json_object_new_string("webhookSubscription"));
        if (field)
            json_object_array_add(f, json_object_new_string(field));
        json_object_object_add(e, "field", f);
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_array_add(errs, e);
    }
    json_object_object_add(p, "userErrors", errs);
    return p;
}

/* webhookSubscriptions, webhookSubscriptionCreate, webhookSubscriptionDelete. */
static bool webhook_answer(struct shopify_api *api, const struct standin_request *req,
                           struct json_object *body, struct standin_reply *reply, char *buf,
                           size_t buflen)
{
    const char *query = json_object_get_string(json_object_object_get(body, "query"));
    struct json_object *vars = json_object_object_get(body, "variables"), *v;
    bool uri = uri_era(req->path);
    if (!uri && strstr(query, "uri"))
        return graphql_error(reply, "Field 'uri' doesn't exist on type 'WebhookSubscription'", buf,
                             buflen);
    pthread_mutex_lock(&subs_lock);
    if (!api->subscriptions)
        api->subscriptions = json_object_new_array();
    struct json_object *all = api->subscriptions, *data = json_object_new_object();
    bool answered = false;
    if (strstr(query, "webhookSubscriptionCreate")) {
        const char *topic =
            json_object_object_get_ex(vars, "topic", &v) ? json_object_get_string(v) : "";
        bool known = false;
        for (size_t i = 0; known_topics[i]; i++)
            known |= strcmp(known_topics[i], topic) == 0;
        struct json_object *sub = NULL;
        json_object_object_get_ex(vars, "sub", &sub);
        const char *field = uri ? "uri" : "callbackUrl";
        const char *url =
            json_object_object_get_ex(sub, field, &v) ? json_object_get_string(v) : NULL;
        if (!known) {
            pthread_mutex_unlock(&subs_lock);
            json_object_put(data);
            return graphql_error(reply,
                                 "Variable $topic of type WebhookSubscriptionTopic! was "
                                 "provided invalid value",
                                 buf, buflen);
        }
        const char *why = NULL;
        if (!url)
            why = "Address can't be blank";
        else if (strncmp(url, "https://", 8) != 0)
            why = "Address protocol http:// is not supported";
        for (size_t i = 0; !why && i < json_object_array_length(all); i++) {
            struct json_object *s = json_object_array_get_idx(all, i);
            if (strcmp(json_object_get_string(json_object_object_get(s, "topic")), topic) == 0 &&
                strcmp(json_object_get_string(json_object_object_get(s, "url")), url) == 0)
                why = "Address for this topic has already been taken";
        }
        struct json_object *made = NULL;
        if (!why) {
            char id[80];
            snprintf(id, sizeof(id), "gid://shopify/WebhookSubscription/%u", ++api->seq);
            struct json_object *s = json_object_new_object();
            json_object_object_add(s, "id", json_object_new_string(id));
            json_object_object_add(s, "topic", json_object_new_string(topic));
            json_object_object_add(s, "url", json_object_new_string(url));
            json_object_array_add(all, s);
            made = subscription_json(s, uri);
        }
        json_object_object_add(data, "webhookSubscriptionCreate",
                               payload_with_errors("webhookSubscription", made, field, why));
        answered = true;
    } else if (strstr(query, "webhookSubscriptionDelete")) {
        const char *id = json_object_object_get_ex(vars, "id", &v) ? json_object_get_string(v) : "";
        struct json_object *kept = json_object_new_array();
        bool found = false;
        for (size_t i = 0; i < json_object_array_length(all); i++) {
            struct json_object *s = json_object_array_get_idx(all, i);
            if (strcmp(json_object_get_string(json_object_object_get(s, "id")), id) == 0)
                found = true;
            else
                json_object_array_add(kept, json_object_get(s));
        }
        json_object_put(api->subscriptions);
        api->subscriptions = kept;
        struct json_object *p = payload_with_errors(
            "deletedWebhookSubscriptionId", found ? json_object_new_string(id) : NULL, NULL,
            found ? NULL : "Webhook subscription does not exist");
        json_object_object_add(data, "webhookSubscriptionDelete", p);
        answered = true;
    } else if (strstr(query, "webhookSubscriptions")) {
        struct json_object *conn = json_object_new_object(), *nodes = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(all); i++)
            json_object_array_add(nodes, subscription_json(json_object_array_get_idx(all, i), uri));
        json_object_object_add(conn, "nodes", nodes);
        json_object_object_add(data, "webhookSubscriptions", conn);
        answered = true;
    }
    pthread_mutex_unlock(&subs_lock);
    if (!answered) {
        json_object_put(data);
        return false;
    }
    return data_answer(reply, data, buf, buflen);
}

size_t shopify_api_subscriptions(struct shopify_api *api)
{
    pthread_mutex_lock(&subs_lock);
    size_t n = api->subscriptions ? json_object_array_length(api->subscriptions) : 0;
    pthread_mutex_unlock(&subs_lock);
    return n;
}

bool shopify_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                   char *buf, size_t buflen)
{
    struct shopify_api *api = arg;
    const char *token = standin_header(req, "X-Shopify-Access-Token");
    if (!token || !*token || (api->access_token && strcmp(token, api->access_token) != 0))
        return answer(api, reply, 401, INVALID_TOKEN);
    if (!valid_path(req->path))
        return answer(api, reply, 404, "{\"errors\":\"Not Found\"}");
    if (strcmp(req->method, "POST") != 0)
        return answer(api, reply, 405, "{\"errors\":\"Method Not Allowed\"}");
    const char *ct = standin_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0)
        return answer(api, reply, 400, MISSING_QUERY);
    struct json_object *body = req->body_len ? json_tokener_parse(req->body) : NULL, *v;
    bool ok = body && json_object_is_type(body, json_type_object) &&
              json_object_object_get_ex(body, "query", &v) &&
              json_object_is_type(v, json_type_string) && *json_object_get_string(v);
    if (!ok) {
        json_object_put(body);
        return answer(api, reply, 400, MISSING_QUERY);
    }
    if (json_object_object_get_ex(body, "variables", &v) &&
        !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_null)) {
        json_object_put(body);
        return answer(api, reply, 200,
                      "{\"errors\":[{\"message\":\"Variables must be an object\",\"extensions\":{"
                      "\"code\":\"INVALID_VARIABLES\"}}]}");
    }
    struct json_object *q = json_object_object_get(body, "query");
    if (strstr(json_object_get_string(q), "webhookSubscription")) {
        bool answered = webhook_answer(api, req, body, reply, buf, buflen);
        json_object_put(body);
        return !answered;
    }
    json_object_put(body);
    return true;
}

void shopify_api_release(struct shopify_api *api)
{
    json_object_put(api->subscriptions);
    api->subscriptions = NULL;
}

void shopify_api_install(struct standin *s, struct shopify_api *api)
{
    standin_check(s, "*", "/admin/api/*", shopify_check, api);
}
