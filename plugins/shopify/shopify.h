/* The shopify connector: webhooks in (X-Shopify-Hmac-Sha256), Admin
 * GraphQL API calls out. */
#ifndef SB_PLUGIN_SHOPIFY_H
#define SB_PLUGIN_SHOPIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <switchboard/plugin.h>

struct json_object;

/* --- shopify.webhook (webhook.c) --- */
extern const struct sb_param shopify_webhook_params[];
enum sb_status shopify_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void shopify_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status shopify_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req);
/* switchboard sign shopify: the HMAC and the headers Shopify sends with it
 * (topic, shop domain, API version, ids, time: options). */
extern const struct sb_param shopify_sign_params[];
enum sb_status shopify_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req);

/* --- shopify.graphql (graphql.c) --- */
extern const struct sb_param shopify_graphql_params[];
enum sb_status shopify_graphql_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status shopify_graphql_run(const struct sb_host *sb, struct sb_call *call);

/* --- graphql.c helpers that hooks.c shares --- */
/* The Admin API's default address; {shop} is the shop's name. */
#define SHOPIFY_DEFAULT_BASE "https://{shop}.myshopify.com"
/* An API version like 2025-01, or unstable. */
bool valid_version(const char *v);
/* The shop name from "my-store", "my-store.myshopify.com" or its URL, into
 * out; 0 or -1. */
int shop_name(const char *shop, char *out, size_t out_size);
/* {base}/admin/api/{version}/graphql.json with {shop} replaced; 0 or -1. */
int build_url(const char *base, const char *shop, const char *version, char *out, size_t out_size);
/* The messages of a GraphQL `errors` value; *throttled (may be NULL) when
 * one is THROTTLED. */
void errors_text(struct json_object *errors, char *out, size_t out_size, bool *throttled);
/* "field.path: message" of every userErrors (or ...UserErrors) below v. */
void user_errors(struct json_object *v, char *out, size_t out_size, int depth);
/* Shopify's error text of a non-2xx answer, on one line. */
void status_text(const struct sb_http_response *resp, char *out, size_t out_size);

/* --- switchboard hooks (hooks.c): webhook subscriptions over GraphQL --- */
enum sb_status shopify_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_hook_target *target);
enum sb_status shopify_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                        const struct sb_hook_target *target);
enum sb_status shopify_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                  const struct sb_hook_target *target);

#endif
