/* The trello connector: board/card webhooks in (X-Trello-Webhook,
 * HMAC-SHA1 over body + callback URL), REST calls out (cards, comments,
 * moves, any other endpoint) with the key and token in an OAuth header. */
#ifndef SB_PLUGIN_TRELLO_H
#define SB_PLUGIN_TRELLO_H

#include <switchboard/plugin.h>

/* --- trello.webhook (webhook.c) --- */
extern const struct sb_param trello_webhook_params[];
enum sb_status trello_webhook_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void trello_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status trello_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_request *req);
/* The callback URL Trello calls and signs: callback_url, else the
 * trigger's public URL; NULL when neither is set. Borrowed. */
const char *trello_callback_url(const struct sb_host *sb, struct sb_call *call);
/* switchboard hooks register|unregister|list (hooks.c). */
enum sb_status trello_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target);
enum sb_status trello_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_hook_target *target);
enum sb_status trello_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target);
/* switchboard sign trello --url U: X-Trello-Webhook for the body. */
extern const struct sb_param trello_sign_params[];
enum sb_status trello_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_sign_request *req);

/* --- actions (cards.c) --- */
extern const struct sb_param trello_create_card_params[];
extern const struct sb_param trello_add_comment_params[];
extern const struct sb_param trello_move_card_params[];
extern const struct sb_param trello_request_params[];
enum sb_status trello_create_card_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_create_card_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_add_comment_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_move_card_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status trello_request_run(const struct sb_host *sb, struct sb_call *call);

/* --- the REST client every action shares (api.c) --- */

/* The parameters every action takes: key, token, api_base, rate_limit_wait.
 * Spliced into each action's table by TRELLO_COMMON_PARAMS. */
#define TRELLO_COMMON_PARAMS                                                                       \
    {.name = "key",                                                                                \
     .type = SB_PARAM_SECRET,                                                                      \
     .flags = SB_PARAM_REQUIRED,                                                                   \
     .help = "the Trello API key (Power-Up admin, API key tab); sent in the Authorization "        \
             "header, never in the URL"},                                                          \
        {.name = "token",                                                                          \
         .type = SB_PARAM_SECRET,                                                                  \
         .flags = SB_PARAM_REQUIRED,                                                               \
         .help = "a Trello user token authorised for that key; sent in the Authorization "         \
                 "header"},                                                                        \
        {.name = "api_base",                                                                       \
         .type = SB_PARAM_STRING,                                                                  \
         .def = "https://api.trello.com",                                                          \
         .help = "the Trello API address (change it only to point at a test server)"},             \
    {                                                                                              \
        .name = "rate_limit_wait", .type = SB_PARAM_DURATION, .def = "10s", .min = 1000,           \
        .max = 3600000,                                                                            \
        .help = "how long to wait before retrying after a 429 (Trello sends no Retry-After)"       \
    }

/* validate for the common parameters (api_base is an http(s) address);
 * add_comment and move_card need nothing more. */
enum sb_status trello_common_validate(const struct sb_host *sb, struct sb_call *call);

/*
 * One Trello API call: METHOD {api_base}{path} with the OAuth header and,
 * when `body` is given, that JSON object as an application/json body
 * (borrowed). On 2xx returns SB_OK with *out the parsed JSON answer
 * (caller owns; an empty object when the answer is empty), or *out NULL on
 * a dry run (the core printed the request). Otherwise returns the result
 * of sb->retry (network, 429 after rate_limit_wait, 5xx) or sb->fail (other
 * statuses, with Trello's message), naming `what`.
 */
enum sb_status trello_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                           const char *method, const char *path, struct json_object *body,
                           struct json_object **out, long *status);

/* A card reference as a URL path segment: an id, a short link, or a card
 * URL (https://trello.com/c/<shortLink>/...) reduced to its short link,
 * percent-encoded into out. 0, or -1 if empty or too long. */
int trello_card_segment(const struct sb_host *sb, const char *card, char *out, size_t out_size);

#endif
