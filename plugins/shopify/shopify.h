/* The shopify connector: webhooks in (X-Shopify-Hmac-Sha256), Admin
 * GraphQL API calls out. */
#ifndef SB_PLUGIN_SHOPIFY_H
#define SB_PLUGIN_SHOPIFY_H

#include <switchboard/plugin.h>

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

#endif
