/* The shopify plugin's descriptor tables. */
#include "shopify.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive Shopify webhooks (orders/create, products/update, ...), verified by "
                   "X-Shopify-Hmac-Sha256",
        .output = "the body exactly as Shopify sent it (an order: event.id, event.name, "
                  "event.total_price, event.currency, event.customer...; ids above 2^53 stay "
                  "exact). The headers are in trigger.headers: x-shopify-shop-domain, "
                  "x-shopify-api-version, x-shopify-triggered-at, x-shopify-topic, "
                  "x-shopify-event-id; trigger.id is X-Shopify-Webhook-Id, trigger.type the topic",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = shopify_webhook_params,
        .setup = shopify_webhook_setup,
        .teardown = shopify_webhook_teardown,
        .receive = shopify_webhook_receive,
        .sign = shopify_webhook_sign,
        .sign_params = shopify_sign_params,
        .register_hook = shopify_hooks_register,
        .unregister_hook = shopify_hooks_unregister,
        .list_hooks = shopify_hooks_list,
    },
    SB_END,
};

static const struct sb_action actions[] = {
    {
        .name = "graphql",
        .summary = "Run an Admin GraphQL API query or mutation "
                   "(POST /admin/api/<version>/graphql.json); errors and userErrors fail the step",
        .output = "the data object of the answer (steps.<name>.<field>...), with extensions.cost "
                  "when Shopify reports it",
        .params = shopify_graphql_params,
        .validate = shopify_graphql_validate,
        .run = shopify_graphql_run,
    },
    SB_END,
};

static const struct sb_plugin shopify_plugin = {
    .name = "shopify",
    .version = "1.0.0",
    .summary = "Shopify: webhooks in, Admin GraphQL API out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(shopify_plugin)
