/* The slack plugin's descriptor tables. */
#include "slack.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "events",
        .summary = "Receive Slack Events API deliveries (signed v0); answers url_verification "
                   "itself",
        .output = "the whole event_callback envelope as Slack sent it: event.event.type, "
                  "event.event.text, event.event.user, event.event.channel, event.team_id, "
                  "event.event_id; trigger.type is the inner event's type (app_mention, message)",
        .kind = SB_TRIGGER_HTTP,
        .params = slack_events_params,
        .receive = slack_events_receive,
        .sign = slack_sign,
    },
    {
        .name = "command",
        .summary = "Receive a slash command (signed v0, form-encoded) and acknowledge it at once, "
                   "optionally with a reply",
        .output = "the command's form fields: event.command, event.text, event.user_id, "
                  "event.user_name, event.channel_id, event.team_id, event.response_url, "
                  "event.trigger_id; trigger.type is the command (/lookup)",
        .kind = SB_TRIGGER_HTTP,
        .params = slack_command_params,
        .receive = slack_command_receive,
        .sign = slack_sign,
    },
    SB_END,
};

/* chat.postMessage: "1 per second per channel, short bursts >1 allowed" */
static const struct sb_limit post_limit = {
    .key = "slack:{{ channel }}",
    .rate = 1,
    .per_ms = 1000,
    .burst = 3,
};

/* incoming webhooks post to one channel each, under the same limit */
static const struct sb_limit webhook_limit = {
    .key = "slack-webhook:{{ url }}",
    .rate = 1,
    .per_ms = 1000,
    .burst = 3,
};

static const struct sb_action actions[] = {
    {
        .name = "post_message",
        .summary = "Post a message with chat.postMessage (bot token); ok:false errors fail, "
                   "rate limits and Slack outages retry",
        .output = "ok, channel (the channel ID), ts (the message's timestamp, for thread_ts or "
                  "update_message), message (as Slack stored it), link (a permalink-style URL)",
        .params = slack_post_message_params,
        .limit = &post_limit,
        .validate = slack_message_validate,
        .run = slack_post_message_run,
    },
    {
        .name = "update_message",
        .summary = "Edit a message posted earlier with chat.update",
        .output = "ok, channel, ts, message (if Slack returned it), link",
        .params = slack_update_message_params,
        .validate = slack_message_validate,
        .run = slack_update_message_run,
    },
    {
        .name = "incoming_webhook",
        .summary = "Post a message to an incoming webhook URL; 200 'ok' succeeds, Slack's "
                   "plain-text errors fail (5xx and 429 retry)",
        .output = "ok (true), status (the HTTP status)",
        .params = slack_incoming_webhook_params,
        .limit = &webhook_limit,
        .validate = slack_message_validate,
        .run = slack_incoming_webhook_run,
    },
    {
        .name = "respond",
        .summary = "Reply to a slash command or interaction through its response_url (up to 5 "
                   "times within 30 minutes)",
        .output = "ok (true), status (the HTTP status)",
        .params = slack_respond_params,
        .validate = slack_message_validate,
        .run = slack_respond_run,
    },
    SB_END,
};

static const struct sb_plugin slack_plugin = {
    .name = "slack",
    .version = "1.0.0",
    .summary = "Slack: Events API and slash commands in; messages, updates, incoming webhooks "
               "and response_url replies out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(slack_plugin)
