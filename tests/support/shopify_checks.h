/*
 * A Shopify Admin GraphQL API stand-in check for tests (connectors.md 5),
 * for standin_check on every path under /admin/api/:
 *   - X-Shopify-Access-Token missing or not the expected token -> 401
 *     {"errors":"[API] Invalid API key or access token (unrecognized login
 *     or wrong password)"};
 *   - the path is /admin/api/<YYYY-MM|unstable>/graphql.json -> else 404
 *     {"errors":"Not Found"}; the method is POST -> else 405;
 *   - Content-Type application/json and a JSON object body with a non-empty
 *     "query" string -> else 400
 *     {"errors":{"query":"Required parameter missing or invalid"}};
 *     "variables", when sent, is an object -> else 200 with a GraphQL error,
 *     as Shopify answers it.
 * Valid requests are answered by the stand-in's script for the route: the
 * bodies below are Shopify's answers to script.
 */
#ifndef SB_SHOPIFY_CHECKS_H
#define SB_SHOPIFY_CHECKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct standin;
struct standin_request;
struct standin_reply;
struct json_object;

/* What the check expects (borrowed by the stand-in while installed). */
struct shopify_api {
    const char *access_token; /* NULL: any non-empty token */
    atomic_size_t refused;    /* requests the check answered itself */
    /* webhook subscriptions made so far (the check's; release with
     * shopify_api_release) */
    struct json_object *subscriptions;
    unsigned seq;
};

/* The check (arg: a struct shopify_api). */
bool shopify_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                   char *buf, size_t buflen);

/* Install the check on every method and path under /admin/api/. */
void shopify_api_install(struct standin *s, struct shopify_api *api);

/*
 * Webhook subscriptions are kept and answered by the check itself (valid
 * requests whose query names webhookSubscription...):
 *   webhookSubscriptions: nodes {id topic endpoint{__typename callbackUrl}},
 *   plus uri from API version 2025-10 (before it, a query naming `uri` is
 *   a GraphQL error: the field does not exist);
 *   webhookSubscriptionCreate($topic, $sub): topic a known enum value (else
 *   a GraphQL error); $sub.callbackUrl (before 2025-10) or $sub.uri an
 *   https address (else userErrors "Address protocol http:// is not
 *   supported"); the same topic and address twice: "Address for this
 *   topic has already been taken";
 *   webhookSubscriptionDelete($id): userErrors when there is none.
 * How many it holds, and releasing them: */
size_t shopify_api_subscriptions(struct shopify_api *api);
void shopify_api_release(struct shopify_api *api);

/* A productCreate mutation refused by validation (HTTP 200). */
#define SHOPIFY_USER_ERRORS_BODY                                                                   \
    "{\"data\":{\"productCreate\":{\"product\":null,\"userErrors\":[{\"field\":[\"title\"],"       \
    "\"message\":\"Title can't be blank\"}]}},\"extensions\":{\"cost\":{\"requestedQueryCost\":"   \
    "10,\"actualQueryCost\":10,\"throttleStatus\":{\"maximumAvailable\":2000.0,"                   \
    "\"currentlyAvailable\":1990,\"restoreRate\":100.0}}}}"

/* The cost bucket is empty (HTTP 200): ask again in a second. */
#define SHOPIFY_THROTTLED_BODY                                                                     \
    "{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":\"THROTTLED\","              \
    "\"documentation\":\"https://shopify.dev/api/usage/rate-limits\"}}],\"extensions\":{"          \
    "\"cost\":{\"requestedQueryCost\":102,\"actualQueryCost\":null,\"throttleStatus\":{"           \
    "\"maximumAvailable\":2000.0,\"currentlyAvailable\":2,\"restoreRate\":100.0}}}}"

/* A query on a field that does not exist (HTTP 200). */
#define SHOPIFY_QUERY_ERROR_BODY                                                                   \
    "{\"errors\":[{\"message\":\"Field 'nope' doesn't exist on type 'QueryRoot'\",\"locations\":"  \
    "[{\"line\":1,\"column\":3}],\"path\":[\"query\",\"nope\"],\"extensions\":{\"code\":"          \
    "\"undefinedField\",\"typeName\":\"QueryRoot\",\"fieldName\":\"nope\"}}]}"

#endif
