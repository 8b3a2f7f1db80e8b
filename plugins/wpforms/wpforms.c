/* The wpforms plugin's descriptor tables. */
#include "wpforms.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive form entries from the WPForms Webhooks addon (JSON request format), "
                   "verified by X-WPForms-Webhook-Signature",
        .output = "the body as WPForms sent it: the keys of the webhook's field mapping "
                  "(event.email, event.name, ...; several values of one field are joined with "
                  "||); trigger.type is submission, trigger.headers.x-wpforms-webhook-id the "
                  "webhook's id",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = wpforms_webhook_params,
        .setup = wpforms_webhook_setup,
        .teardown = wpforms_webhook_teardown,
        .receive = wpforms_webhook_receive,
        .sign = wpforms_webhook_sign,
        .sign_params = wpforms_sign_params,
    },
    SB_END,
};

static const struct sb_plugin wpforms_plugin = {
    .name = "wpforms",
    .version = "1.0.0",
    .summary = "WPForms: signed form entries in",
    .triggers = triggers,
};

SB_PLUGIN_DEFINE(wpforms_plugin)
