/* The slack connector: signed Events API and slash-command requests in;
 * Web API messages (chat.postMessage, chat.update), incoming webhooks and
 * response_url replies out. */
#ifndef SB_PLUGIN_SLACK_H
#define SB_PLUGIN_SLACK_H

#include <stdbool.h>
#include <stddef.h>

#include <switchboard/plugin.h>

/* --- triggers ------------------------------------------------------------- */

extern const struct sb_param slack_events_params[];
extern const struct sb_param slack_command_params[];
enum sb_status slack_events_receive(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req);
enum sb_status slack_command_receive(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_request *req);

/*
 * Verify a request signed by Slack: X-Slack-Signature "v0=<hex>" is
 * HMAC-SHA256(secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body),
 * tried with `secret` and `previous_secret`; the timestamp must be within
 * the trigger's `tolerance` of now, either way (as python-slack-sdk).
 * Returns SB_OK, or the result of sb->reject (401 with a short reason).
 * `req` is borrowed; nothing is parsed before this returns SB_OK.
 */
enum sb_status slack_verify_request(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req);
/* switchboard sign slack: X-Slack-Request-Timestamp and X-Slack-Signature
 * v0=<hex> for the body, from the same signed bytes the verifier checks. */
enum sb_status slack_sign(const struct sb_host *sb, struct sb_call *call,
                          const struct sb_sign_request *req);

/* --- actions -------------------------------------------------------------- */

/* The message content every message action takes: text (Slack-escaped)
 * and blocks (JSON- and Slack-escaped), read by slack_add_content. */
#define SLACK_CONTENT_PARAMS                                                                       \
    {.name = "text",                                                                               \
     .type = SB_PARAM_STRING,                                                                      \
     .flags = SB_PARAM_TEMPLATE,                                                                   \
     .escape = SB_ESCAPE_SLACK,                                                                    \
     .help = "the message (mrkdwn); values inserted by templates are Slack-escaped (& < > "        \
             "become &amp; &lt; &gt;) so event data cannot mention or link; '| raw' opts a "       \
             "value out on purpose"},                                                              \
    {                                                                                              \
        .name = "blocks", .type = SB_PARAM_STRING, .flags = SB_PARAM_TEMPLATE,                     \
        .escape = SB_ESCAPE_SLACK_JSON,                                                            \
        .help = "Block Kit blocks as a JSON array; inserted values are JSON- and Slack-escaped "   \
                "(& < >), so payload data cannot mention or link; '| raw' opts a value out"        \
    }

extern const struct sb_param slack_post_message_params[];
extern const struct sb_param slack_update_message_params[];
extern const struct sb_param slack_incoming_webhook_params[];
extern const struct sb_param slack_respond_params[];

enum sb_status slack_message_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status slack_post_message_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status slack_update_message_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status slack_incoming_webhook_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status slack_respond_run(const struct sb_host *sb, struct sb_call *call);

/* --- shared by the actions (message.c) ------------------------------------ */

/*
 * Add the message content of the rendered parameters to `body`: "text"
 * when `text` is set, "blocks" (parsed; it must be a JSON array) when
 * `blocks` is set. Returns SB_OK, or the result of sb->fail naming the
 * problem. `body` is borrowed and must be a JSON object.
 */
enum sb_status slack_add_content(const struct sb_host *sb, struct sb_call *call,
                                 struct json_object *body);

/*
 * POST `body` (borrowed; serialized here) as JSON with
 * Content-Type "application/json; charset=utf-8" and, when `token` is not
 * NULL, "Authorization: Bearer <token>". Fills *resp (release it with
 * sb->http_release whatever the result) and returns sb->http's result, or
 * SB_HTTP_ERROR with resp->error set when memory ran out.
 */
int slack_post_json(const struct sb_host *sb, struct sb_call *call, const char *url,
                    const char *token, struct json_object *body, struct sb_http_response *resp);

/* The first line of a response body, at most out_size - 1 bytes, control
 * characters replaced with spaces, for error messages. */
void slack_snippet(const char *text, size_t len, char *out, size_t out_size);

/* A JSON object parsed from exactly `len` bytes, or NULL (caller owns). */
struct json_object *slack_parse_object(const char *text, size_t len);

/* The string member `key` of `obj`, or NULL. Borrowed from obj. */
const char *slack_json_string(struct json_object *obj, const char *key);

/* Whether a Web API error code is transient (the request may be retried):
 * ratelimited, rate_limited, internal_error, service_unavailable,
 * fatal_error, request_timeout. */
bool slack_error_is_transient(const char *code);

/* The step output of a dry run: {"dry_run": true}. */
void slack_dry_run_output(const struct sb_host *sb, struct sb_call *call);

/* The seconds to wait after a 429: Retry-After when given, else 1 (as
 * python-slack-sdk's RateLimitErrorRetryHandler). */
int64_t slack_retry_after_429(const struct sb_http_response *resp);

#endif
