/* The hubspot plugin's descriptor tables. */
#include "hubspot.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive a HubSpot app's webhook events (contact.creation, "
                   "deal.propertyChange, ...), verified by X-HubSpot-Signature-v3 (or v1/v2)",
        .output = "one event per element of the delivered array: event.subscriptionType, "
                  "event.objectId, event.portalId, event.occurredAt, event.propertyName, "
                  "event.propertyValue, ...; trigger.type is subscriptionType, trigger.id joins "
                  "subscriptionId, eventId, objectId and occurredAt",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = hubspot_webhook_params,
        .validate = hubspot_webhook_validate,
        .setup = hubspot_webhook_setup,
        .teardown = hubspot_webhook_teardown,
        .receive = hubspot_webhook_receive,
        .sign = hubspot_webhook_sign,
        .sign_params = hubspot_sign_params,
    },
    SB_END,
};

/* Private apps may make 100 requests per 10 s (190 on Professional and
 * Enterprise); the lower figure is safe everywhere. */
static const struct sb_limit per_token = {
    .key = "hubspot:{{ token }}",
    .rate = 100,
    .per_ms = 10000,
};

static const struct sb_action actions[] = {
    {
        .name = "upsert_contact",
        .summary = "Create or update a contact by email (POST "
                   "/crm/v3/objects/contacts/batch/upsert, idProperty email): safe to retry",
        .output = "the contact: id, properties, createdAt, updatedAt, new (true when it was "
                  "created); steps.<name>.id feeds create_deal's contact_id",
        .params = hubspot_upsert_contact_params,
        .limit = &per_token,
        .validate = hubspot_common_validate,
        .run = hubspot_upsert_contact_run,
    },
    {
        .name = "create_deal",
        .summary = "Create a deal (POST /crm/v3/objects/deals), associated with a contact when "
                   "contact_id is given",
        .output = "the deal: id, properties (dealname, amount, pipeline, dealstage, ...), "
                  "createdAt",
        .params = hubspot_create_deal_params,
        .limit = &per_token,
        .validate = hubspot_create_deal_validate,
        .run = hubspot_create_deal_run,
    },
    {
        .name = "get_contact",
        .summary = "Read a contact by id (GET /crm/v3/objects/contacts/{id}), e.g. the one a "
                   "webhook event names",
        .output = "the contact: id, properties.<name> (those asked for), createdAt, updatedAt",
        .params = hubspot_get_contact_params,
        .limit = &per_token,
        .validate = hubspot_common_validate,
        .run = hubspot_get_contact_run,
    },
    {
        .name = "request",
        .summary = "Call any HubSpot API endpoint (GET /crm/v3/objects/companies, ...) with the "
                   "same token, limits and retries",
        .output = "status (int) and body (the parsed JSON answer)",
        .params = hubspot_request_params,
        .limit = &per_token,
        .validate = hubspot_request_validate,
        .run = hubspot_request_run,
    },
    SB_END,
};

static const struct sb_plugin hubspot_plugin = {
    .name = "hubspot",
    .version = "1.0.0",
    .summary = "HubSpot: app webhooks in, CRM contacts, deals and any API call out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(hubspot_plugin)
