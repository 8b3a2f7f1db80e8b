/* The asana connector: webhook events in (the X-Hook-Secret handshake,
 * then X-Hook-Signature on every delivery), tasks and comments out with a
 * personal access token, and the webhook itself made, listed and deleted
 * at Asana by `switchboard hooks`. */
#ifndef SB_PLUGIN_ASANA_H
#define SB_PLUGIN_ASANA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>

#define ASANA_API_BASE "https://app.asana.com/api/1.0"

/* The trigger's keys in its durable kv (scoped to the hook path, shared
 * with `switchboard hooks`): the handshake secret; until when (Unix ms, as
 * text) `switchboard hooks register` has a registration open, so that its
 * handshake may replace the secret; the gid of the webhook it made. */
#define ASANA_KV_SECRET "secret"
#define ASANA_KV_REGISTERING "registering_until"
#define ASANA_KV_WEBHOOK "webhook_gid"

/* --- asana.webhook (webhook.c) --- */
extern const struct sb_param asana_webhook_params[];
extern const struct sb_param asana_sign_params[];
enum sb_status asana_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void asana_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status asana_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_request *req);
enum sb_status asana_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                  const struct sb_sign_request *req);

/* --- switchboard hooks register|unregister|list (hooks.c) --- */
enum sb_status asana_register_hook(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_hook_target *target);
enum sb_status asana_unregister_hook(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target);
enum sb_status asana_list_hooks(const struct sb_host *sb, struct sb_call *call,
                                const struct sb_hook_target *target);

/* --- actions (tasks.c) --- */
extern const struct sb_param asana_create_task_params[];
extern const struct sb_param asana_add_comment_params[];
extern const struct sb_param asana_request_params[];
enum sb_status asana_create_task_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status asana_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status asana_create_task_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status asana_add_comment_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status asana_request_run(const struct sb_host *sb, struct sb_call *call);

/* --- the REST client (api.c) --- */

/* The parameters every action takes: token and api_base. */
#define ASANA_COMMON_PARAMS                                                                        \
    {.name = "token",                                                                              \
     .type = SB_PARAM_SECRET,                                                                      \
     .flags = SB_PARAM_REQUIRED,                                                                   \
     .help = "a personal access token (My Settings > Apps > Developer apps), or a service "        \
             "account's; sent as Authorization: Bearer"},                                          \
    {                                                                                              \
        .name = "api_base", .type = SB_PARAM_STRING, .def = ASANA_API_BASE,                        \
        .help = "the Asana API address (change it only to point at a test server)"                 \
    }

/* validate for the common parameters (api_base is an http(s) address). */
enum sb_status asana_common_validate(const struct sb_host *sb, struct sb_call *call);

/*
 * One Asana API call: METHOD {api_base}{path} with the Bearer token (the
 * call's `token` parameter) and, when `body` is given, that JSON (borrowed)
 * as application/json. On 2xx returns SB_OK with *out the parsed answer
 * (caller owns; {} when empty), or *out NULL on a dry run; *status the
 * HTTP status when not NULL. Otherwise the result of sb->retry (network,
 * 5xx, 429 after its Retry-After) or sb->fail (other statuses, with
 * Asana's message), naming `what`.
 */
enum sb_status asana_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                          const char *method, const char *path, struct json_object *body,
                          struct json_object **out, long *status);

/* asana_call, except that with `missing_ok` a 404 returns SB_OK with *out
 * NULL and *status 404 (for `switchboard hooks`, where a webhook that is
 * gone is an answer, not an error). */
enum sb_status asana_call_ex(const struct sb_host *sb, struct sb_call *call, const char *what,
                             const char *method, const char *path, struct json_object *body,
                             bool missing_ok, struct json_object **out, long *status);

/* The "data" member of an Asana answer (borrowed from answer), or NULL. */
struct json_object *asana_data(struct json_object *answer);

#endif
