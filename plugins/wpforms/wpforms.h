/* The wpforms connector: the WPForms Webhooks addon's signed deliveries in
 * (X-WPForms-Webhook-Signature, HMAC-SHA256 over "<t>.<body>"). */
#ifndef SB_PLUGIN_WPFORMS_H
#define SB_PLUGIN_WPFORMS_H

#include <stddef.h>

#include <switchboard/plugin.h>

/* --- wpforms.webhook (webhook.c) --- */
extern const struct sb_param wpforms_webhook_params[];
enum sb_status wpforms_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void wpforms_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status wpforms_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_request *req);

/* switchboard sign wpforms: the signature header for a body. */
extern const struct sb_param wpforms_sign_params[];
enum sb_status wpforms_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_sign_request *req);

#endif
