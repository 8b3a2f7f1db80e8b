/* The hubspot connector: app webhooks in (X-HubSpot-Signature-v3, and the
 * older v1 and v2 schemes), CRM v3 calls out (contacts upserted by email,
 * deals with a contact association, any other endpoint) with a private
 * app's token. */
#ifndef SB_PLUGIN_HUBSPOT_H
#define SB_PLUGIN_HUBSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>

/* --- hubspot.webhook (webhook.c) --- */
extern const struct sb_param hubspot_webhook_params[];
enum sb_status hubspot_webhook_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void hubspot_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status hubspot_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req);

/* switchboard sign hubspot: the headers of v3 (default), v2 or v1 for a
 * body, made with the code receive verifies with. */
extern const struct sb_param hubspot_sign_params[];
enum sb_status hubspot_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req);

/* --- actions (crm.c) --- */
extern const struct sb_param hubspot_upsert_contact_params[];
extern const struct sb_param hubspot_create_deal_params[];
extern const struct sb_param hubspot_get_contact_params[];
extern const struct sb_param hubspot_request_params[];
enum sb_status hubspot_common_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_create_deal_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_upsert_contact_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_create_deal_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_get_contact_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status hubspot_request_run(const struct sb_host *sb, struct sb_call *call);

/* --- the CRM client every action shares (api.c) --- */

/* The parameters every action takes: token, api_base, rate_limit_wait.
 * Spliced into each action's table. */
#define HUBSPOT_COMMON_PARAMS                                                                      \
    {.name = "token",                                                                              \
     .type = SB_PARAM_SECRET,                                                                      \
     .flags = SB_PARAM_REQUIRED,                                                                   \
     .help = "a private app's access token (pat-...; Settings > Integrations > Private Apps), "    \
             "sent as Authorization: Bearer"},                                                     \
        {.name = "api_base",                                                                       \
         .type = SB_PARAM_STRING,                                                                  \
         .def = "https://api.hubapi.com",                                                          \
         .help = "the HubSpot API address (change it only to point at a test server)"},            \
    {                                                                                              \
        .name = "rate_limit_wait", .type = SB_PARAM_DURATION, .def = "10s", .min = 1000,           \
        .max = 3600000,                                                                            \
        .help = "how long to wait before retrying after HubSpot's ten-second rate limit (HTTP "    \
                "429 TEN_SECONDLY_ROLLING) when it sends no Retry-After"                           \
    }

/*
 * One HubSpot API call: METHOD {api_base}{path} with the Bearer token and,
 * when `body` is given, that JSON (borrowed) as application/json. On 2xx
 * returns SB_OK with *out the parsed answer (caller owns; {} when empty),
 * or *out NULL on a dry run. Otherwise the result of sb->retry (network,
 * 5xx, 429 of the ten-second limit) or sb->fail (the daily limit, other
 * 4xx, with HubSpot's message and category), naming `what`. *status gets
 * the HTTP status when not NULL.
 */
enum sb_status hubspot_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                            const char *method, const char *path, struct json_object *body,
                            struct json_object **out, long *status);

#endif
