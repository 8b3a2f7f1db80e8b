/* The salesforce plugin's descriptor tables. */
#include "salesforce.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "outbound_message",
        .summary = "Receive Salesforce Outbound Messages (SOAP, from a flow or workflow rule), "
                   "checked against organization_id and acknowledged once stored",
        .output = "one event per Notification: event.type (the sObject type, e.g. Lead), "
                  "event.sobject.<Field> (Id, Email, ... as text), event.organization_id, "
                  "event.action_id, event.notification_id, event.enterprise_url, "
                  "event.partner_url; trigger.id is the Notification Id. The SessionId is not "
                  "kept",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = salesforce_outbound_params,
        .validate = salesforce_outbound_validate,
        .setup = salesforce_outbound_setup,
        .teardown = salesforce_outbound_teardown,
        .receive = salesforce_outbound_receive,
    },
    SB_END,
};

static const struct sb_action actions[] = {
    {
        .name = "create_record",
        .summary = "Create a record (POST /services/data/v<api_version>/sobjects/<object>)",
        .output = "id (the new record's id), success, errors and object",
        .params = salesforce_create_record_params,
        .validate = salesforce_record_validate,
        .run = salesforce_create_record_run,
    },
    {
        .name = "upsert",
        .summary = "Create or update a record by an external id (PATCH "
                   ".../sobjects/<object>/<external_id_field>/<external_id>): safe to retry",
        .output = "id, created (true when the record was made), success, errors and object",
        .params = salesforce_upsert_params,
        .validate = salesforce_record_validate,
        .run = salesforce_upsert_run,
    },
    {
        .name = "request",
        .summary = "Call any Salesforce REST endpoint (/query, /sobjects/..., /services/apexrest/"
                   "...) with the same token and retries",
        .output = "status (int) and body (the parsed JSON answer)",
        .params = salesforce_request_params,
        .validate = salesforce_request_validate,
        .run = salesforce_request_run,
    },
    SB_END,
};

static const struct sb_plugin salesforce_plugin = {
    .name = "salesforce",
    .version = "1.0.0",
    .summary = "Salesforce: Outbound Messages in, REST records out (OAuth client credentials or "
               "JWT bearer)",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(salesforce_plugin)
