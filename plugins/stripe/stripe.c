/* The stripe plugin's descriptor tables. */
#include "stripe.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive Stripe events at /hooks/<path>, verified by Stripe-Signature as "
                   "stripe-node does",
        .output = "the event exactly as Stripe sent it: event.type, event.data.object (the "
                  "payment intent, session, invoice...), event.data.previous_attributes",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = stripe_webhook_params,
        .validate = stripe_webhook_validate,
        .setup = stripe_webhook_setup,
        .teardown = stripe_webhook_teardown,
        .receive = stripe_webhook_receive,
        .sign = stripe_webhook_sign,
        .register_hook = stripe_hooks_register,
        .unregister_hook = stripe_hooks_unregister,
        .list_hooks = stripe_hooks_list,
    },
    {
        .name = "events",
        .summary = "Catch up with GET /v1/events every interval: events the webhook never "
                   "delivered, deduplicated against it",
        .output = "the event as Stripe lists it (the same shape as the webhook's)",
        .kind = SB_TRIGGER_POLL,
        .params = stripe_events_params,
        .poll = stripe_events_poll,
        .poll_interval_ms = 300000,
    },
    SB_END,
};

/* Stripe allows 100 requests per second per account in live mode (25 in
 * test mode, where a 429 is retried); waiting here beats failing there. */
static const struct sb_limit api_limit = {
    .key = "stripe:{{ api_key }}",
    .rate = 100,
    .per_ms = 1000,
};

#define STRIPE_OUTPUT_NOTE                                                                         \
    "; 409, 429, 5xx and network errors retry with the same Idempotency-Key, other errors "        \
    "fail with Stripe's message"

static const struct sb_action actions[] = {
    {
        .name = "request",
        .summary = "Call any Stripe API path with form-encoded parameters" STRIPE_OUTPUT_NOTE,
        .output = "the response object, e.g. {{ steps.<name>.id }}, {{ steps.<name>.data }}",
        .params = stripe_request_params,
        .limit = &api_limit,
        .validate = stripe_request_validate,
        .run = stripe_request_run,
    },
    {
        .name = "create_customer",
        .summary = "Create a customer (POST /v1/customers)" STRIPE_OUTPUT_NOTE,
        .output = "the customer object: id (cus_...), email, name, metadata, ...",
        .params = stripe_create_customer_params,
        .limit = &api_limit,
        .run = stripe_create_customer_run,
    },
    {
        .name = "create_refund",
        .summary = "Refund a payment intent or charge (POST /v1/refunds)" STRIPE_OUTPUT_NOTE,
        .output = "the refund object: id (re_...), amount, status, ...",
        .params = stripe_create_refund_params,
        .limit = &api_limit,
        .validate = stripe_create_refund_validate,
        .run = stripe_create_refund_run,
    },
    {
        .name = "retrieve",
        .summary = "Fetch one object (GET /v1/<object>/<id>), optionally with expansions",
        .output = "the object, with expanded fields in place (steps.<name>.line_items.data)",
        .params = stripe_retrieve_params,
        .limit = &api_limit,
        .validate = stripe_retrieve_validate,
        .run = stripe_retrieve_run,
    },
    SB_END,
};

static const struct sb_plugin stripe_plugin = {
    .name = "stripe",
    .version = "1.0.0",
    .summary = "Stripe: signed webhooks in; customers, refunds, retrievals and any API call out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(stripe_plugin)
