/* The mailchimp plugin's descriptor tables. */
#include "mailchimp.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive audience webhooks (subscribe, unsubscribe, profile, upemail, cleaned, "
                   "campaign), checked by a secret in the callback URL",
        .output = "the form fields as nested JSON: type, fired_at, data.email, data.merges.FNAME, "
                  "...; trigger.id is <type>:<fired_at>:<member id>",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST | SB_METHOD_GET | SB_METHOD_HEAD,
        .params = mailchimp_webhook_params,
        .validate = mailchimp_webhook_validate,
        .setup = mailchimp_webhook_setup,
        .teardown = mailchimp_webhook_teardown,
        .receive = mailchimp_webhook_receive,
    },
    SB_END,
};

static const struct sb_action actions[] = {
    {
        .name = "upsert_member",
        .summary = "Add or update an audience member (PUT /lists/{list_id}/members/{hash}), then "
                   "apply tags",
        .output = "the member as Mailchimp returns it (id, email_address, status, merge_fields, "
                  "...) plus subscriber_hash",
        .params = mailchimp_upsert_member_params,
        .limit = &mailchimp_account_limit,
        .validate = mailchimp_upsert_member_validate,
        .run = mailchimp_upsert_member_run,
    },
    {
        .name = "tag_member",
        .summary = "Add and remove tags of an audience member (POST "
                   "/lists/{list_id}/members/{hash}/tags)",
        .output = "subscriber_hash, email_address, added (tag names) and removed (tag names)",
        .params = mailchimp_tag_member_params,
        .limit = &mailchimp_account_limit,
        .validate = mailchimp_tag_member_validate,
        .run = mailchimp_tag_member_run,
    },
    {
        .name = "request",
        .summary = "Call any Marketing API endpoint with a JSON body",
        .output = "status (int) and body (parsed JSON when the answer is JSON, else the text)",
        .params = mailchimp_request_params,
        .limit = &mailchimp_account_limit,
        .validate = mailchimp_request_validate,
        .run = mailchimp_request_run,
    },
    SB_END,
};

static const struct sb_plugin mailchimp_plugin = {
    .name = "mailchimp",
    .version = "1.0.0",
    .summary = "Mailchimp Marketing API: audience webhooks in, members and tags out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(mailchimp_plugin)
