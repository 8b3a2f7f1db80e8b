/*
 * switchboard hooks for shopify.webhook: the shop's webhook subscriptions
 * through the Admin GraphQL API, one per topic of `events`.
 *   list        webhookSubscriptions(first: 100), those calling our URL;
 *   register    the same, then webhookSubscriptionCreate(topic,
 *               {callbackUrl | uri, format: JSON}) for each topic not
 *               subscribed yet;
 *   unregister  webhookSubscriptionDelete(id) for each one calling our URL.
 * API versions before 2025-10 give the URL as endpoint.callbackUrl (a
 * WebhookHttpEndpoint) and take callbackUrl; from 2025-10 (and unstable)
 * it is `uri` both ways. Topics are written as in `events` (orders/create)
 * and sent as GraphQL enum values (ORDERS_CREATE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "shopify.h"

#define MAX_URL 2048
#define MAX_TEXT 600
#define MAX_TOPICS 64

static const char list_old[] =
    "query switchboardWebhooks { webhookSubscriptions(first: 100) { nodes { id topic endpoint "
    "{ __typename ... on WebhookHttpEndpoint { callbackUrl } } } } }";
static const char list_new[] =
    "query switchboardWebhooks { webhookSubscriptions(first: 100) { nodes { id topic uri } } }";
static const char create_old[] =
    "mutation switchboardSubscribe($topic: WebhookSubscriptionTopic!, $sub: "
    "WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: "
    "$sub) { webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { "
    "callbackUrl } } } userErrors { field message } } }";
static const char create_new[] =
    "mutation switchboardSubscribe($topic: WebhookSubscriptionTopic!, $sub: "
    "WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: "
    "$sub) { webhookSubscription { id topic uri } userErrors { field message } } }";
static const char delete_query[] =
    "mutation switchboardUnsubscribe($id: ID!) { webhookSubscriptionDelete(id: $id) { "
    "deletedWebhookSubscriptionId userErrors { field message } } }";

/* Where and how to call: the GraphQL URL, the token, the URL field. */
struct api {
    char url[MAX_URL];
    const char *token;
    bool uri; /* 2025-10 and later: `uri` instead of callbackUrl */
};

static enum sb_status api_init(const struct sb_host *sb, struct sb_call *call, struct api *a,
                               const struct sb_hook_target *target)
{
    const char *shop = sb->param_string(call, "shop");
    const char *version = sb->param_string(call, "api_version");
    const char *base = sb->param_string(call, "api_base");
    a->token = sb->param_string(call, "access_token");
    char name[64];
    if (!shop || !*shop || !a->token || !*a->token)
        return sb->fail(call, "switchboard hooks needs shop and access_token in [trigger] (the "
                              "shop, and an Admin API token with access to its webhooks)");
    if (shop_name(shop, name, sizeof(name)) < 0)
        return sb->fail(call,
                        "shop '%s' is not a shop name like my-store or "
                        "my-store.myshopify.com",
                        shop);
    if (!version || !valid_version(version))
        return sb->fail(call, "api_version '%s' is not like 2025-01", version ? version : "");
    if (strpbrk(a->token, "\r\n"))
        return sb->fail(call, "the access token holds a line break");
    if (!target->url)
        return sb->fail(call, "the subscription's URL is unknown");
    if (build_url(base ? base : SHOPIFY_DEFAULT_BASE, name, version, a->url, sizeof(a->url)) < 0)
        return sb->fail(call, "the API address is longer than %d bytes", MAX_URL - 1);
    a->uri = strcmp(version, "2025-10") >= 0; /* "unstable" sorts after every date */
    return SB_OK;
}

/*
 * POST one GraphQL document with `variables` (consumed; may be NULL) and
 * put its `data` into *data (caller owns). Transport errors, non-2xx
 * answers, `errors` and userErrors all fail, with Shopify's words.
 */
static enum sb_status graphql(const struct sb_host *sb, struct sb_call *call, const struct api *a,
                              const char *what, const char *query, struct json_object *variables,
                              struct json_object **data)
{
    *data = NULL;
    struct json_object *body = json_object_new_object();
    if (!body) {
        json_object_put(variables);
        return sb->fail(call, "out of memory");
    }
    json_object_object_add(body, "query", json_object_new_string(query));
    if (variables)
        json_object_object_add(body, "variables", variables);
    const char *json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    struct sb_header headers[] = {
        {"X-Shopify-Access-Token", a->token},
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = a->url;
    req.headers = headers;
    req.n_headers = sizeof(headers) / sizeof(headers[0]);
    req.body = json;
    req.body_len = strlen(json);
    struct sb_http_response resp;
    int rc = sb->http(call, &req, &resp);
    json_object_put(body);
    char text[MAX_TEXT];
    enum sb_status st = SB_OK;
    struct json_object *answer = NULL, *v;
    if (rc != SB_HTTP_SENT) {
        st = sb->fail(call, "%s: %s", what, rc == SB_HTTP_DRY_RUN ? "dry run" : resp.error);
    } else if (resp.status < 200 || resp.status >= 300) {
        status_text(&resp, text, sizeof(text));
        st = sb->fail(call, "%s: Shopify HTTP %ld %s", what, resp.status, text);
    } else if (!(answer = json_tokener_parse(resp.body)) ||
               !json_object_is_type(answer, json_type_object)) {
        st = sb->fail(call, "%s: Shopify's answer is not a JSON object", what);
    } else if (json_object_object_get_ex(answer, "errors", &v) && v &&
               !(json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0)) {
        errors_text(v, text, sizeof(text), NULL);
        st = sb->fail(call, "%s: Shopify GraphQL errors: %s", what, text);
    } else if (!json_object_object_get_ex(answer, "data", &v) ||
               !json_object_is_type(v, json_type_object)) {
        st = sb->fail(call, "%s: Shopify's answer has no data", what);
    } else {
        text[0] = '\0';
        user_errors(v, text, sizeof(text), 0);
        if (text[0])
            st = sb->fail(call, "%s: Shopify userErrors: %s", what, text);
        else
            *data = json_object_get(v);
    }
    json_object_put(answer);
    sb->http_release(&resp);
    return st;
}

/* The URL a subscription node calls (uri, or endpoint.callbackUrl). */
static const char *node_url(struct json_object *node)
{
    struct json_object *v, *ep;
    if (json_object_object_get_ex(node, "uri", &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    if (json_object_object_get_ex(node, "endpoint", &ep) &&
        json_object_object_get_ex(ep, "callbackUrl", &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static const char *node_string(struct json_object *node, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(node, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* What we show of a subscription. Caller owns. */
static struct json_object *hook_json(struct json_object *node, bool created)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    const char *id = node_string(node, "id"), *topic = node_string(node, "topic");
    const char *url = node_url(node);
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "url", json_object_new_string(url ? url : ""));
    json_object_object_add(o, "topic", json_object_new_string(topic ? topic : ""));
    json_object_object_add(o, "created", json_object_new_boolean(created));
    return o;
}

/* The shop's subscriptions that call `url`, as hook_json objects. */
static enum sb_status matching(const struct sb_host *sb, struct sb_call *call, const struct api *a,
                               const char *url, struct json_object **out)
{
    *out = NULL;
    struct json_object *data, *subs, *nodes;
    enum sb_status st = graphql(sb, call, a, "list webhook subscriptions",
                                a->uri ? list_new : list_old, NULL, &data);
    if (st != SB_OK)
        return st;
    if (!json_object_object_get_ex(data, "webhookSubscriptions", &subs) ||
        !json_object_object_get_ex(subs, "nodes", &nodes) ||
        !json_object_is_type(nodes, json_type_array)) {
        json_object_put(data);
        return sb->fail(call, "list webhook subscriptions: the answer has no nodes");
    }
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < json_object_array_length(nodes); i++) {
        struct json_object *node = json_object_array_get_idx(nodes, i);
        const char *u = node_url(node);
        if (u && strcmp(u, url) == 0)
            json_object_array_add(list, hook_json(node, false));
    }
    json_object_put(data);
    if (!list)
        return sb->fail(call, "out of memory");
    *out = list;
    return SB_OK;
}

/* "orders/create" as the enum value ORDERS_CREATE into out; -1 if the
 * topic is not one (a pattern, or odd characters). */
static int topic_enum(const char *topic, char *out, size_t out_size)
{
    size_t n = strlen(topic);
    if (n == 0 || n >= out_size)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (c >= 'a' && c <= 'z')
            out[i] = (char)(c - 'a' + 'A');
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            out[i] = c;
        else if (c == '/')
            out[i] = '_';
        else
            return -1;
    }
    out[n] = '\0';
    return 0;
}

enum sb_status shopify_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                  const struct sb_hook_target *target)
{
    struct api a;
    struct json_object *list;
    enum sb_status st = api_init(sb, call, &a, target);
    if (st == SB_OK)
        st = matching(sb, call, &a, target->url, &list);
    if (st == SB_OK)
        sb->set_output(call, list);
    return st;
}

/* Whether `list` (hook_json objects) has a subscription to topic `e`. */
static bool has_topic(struct json_object *list, const char *e)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *t = node_string(json_object_array_get_idx(list, i), "topic");
        if (t && strcmp(t, e) == 0)
            return true;
    }
    return false;
}

enum sb_status shopify_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_hook_target *target)
{
    struct api a;
    enum sb_status st = api_init(sb, call, &a, target);
    if (st != SB_OK)
        return st;
    struct json_object *events = sb->param_json(call, "events");
    size_t n = events ? json_object_array_length(events) : 0;
    if (n == 0)
        return sb->fail(call, "switchboard hooks register subscribes to the topics in `events`; "
                              "list them, e.g. events = orders/create orders/paid");
    if (n > MAX_TOPICS)
        return sb->fail(call, "events: at most %d topics", MAX_TOPICS);
    char topics[MAX_TOPICS][128];
    for (size_t i = 0; i < n; i++) {
        const char *t = json_object_get_string(json_object_array_get_idx(events, i));
        if (topic_enum(t, topics[i], sizeof(topics[i])) < 0)
            return sb->fail(call,
                            "events: '%s' is not a topic Shopify can subscribe to (write exact "
                            "topics such as orders/create, not patterns)",
                            t);
    }
    struct json_object *list;
    st = matching(sb, call, &a, target->url, &list);
    if (st != SB_OK)
        return st;
    for (size_t i = 0; i < n && st == SB_OK; i++) {
        if (has_topic(list, topics[i]))
            continue;
        struct json_object *vars = json_object_new_object(), *sub = json_object_new_object();
        struct json_object *data = NULL, *created, *node;
        json_object_object_add(sub, a.uri ? "uri" : "callbackUrl",
                               json_object_new_string(target->url));
        json_object_object_add(sub, "format", json_object_new_string("JSON"));
        json_object_object_add(vars, "topic", json_object_new_string(topics[i]));
        json_object_object_add(vars, "sub", sub);
        st = graphql(sb, call, &a, "create webhook subscription", a.uri ? create_new : create_old,
                     vars, &data);
        if (st == SB_OK) {
            if (json_object_object_get_ex(data, "webhookSubscriptionCreate", &created) &&
                json_object_object_get_ex(created, "webhookSubscription", &node) && node)
                json_object_array_add(list, hook_json(node, true));
            else
                st = sb->fail(call, "create webhook subscription: no subscription came back");
        }
        json_object_put(data);
    }
    if (st == SB_OK)
        sb->set_output(call, list);
    else
        json_object_put(list);
    return st;
}

enum sb_status shopify_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                        const struct sb_hook_target *target)
{
    struct api a;
    struct json_object *list = NULL;
    enum sb_status st = api_init(sb, call, &a, target);
    if (st == SB_OK)
        st = matching(sb, call, &a, target->url, &list);
    if (st != SB_OK)
        return st;
    for (size_t i = 0; i < json_object_array_length(list) && st == SB_OK; i++) {
        const char *id = node_string(json_object_array_get_idx(list, i), "id");
        struct json_object *vars = json_object_new_object(), *data = NULL;
        json_object_object_add(vars, "id", json_object_new_string(id ? id : ""));
        st = graphql(sb, call, &a, "delete webhook subscription", delete_query, vars, &data);
        json_object_put(data);
    }
    if (st == SB_OK)
        sb->set_output(call, list);
    else
        json_object_put(list);
    return st;
}
