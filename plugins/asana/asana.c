/* The asana plugin's descriptor tables. */
#include "asana.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive Asana webhook events (task.added, story.added, task.changed, ...): "
                   "answers the X-Hook-Secret handshake, keeps the secret in the store, verifies "
                   "X-Hook-Signature",
        .output = "one event per element of events[]: event.action, event.resource.gid, "
                  "event.resource.resource_type, event.parent.gid, event.user.gid, "
                  "event.created_at, event.change.field; trigger.type is "
                  "<resource_type>.<action>. Asana sends ids, not names: read the task with "
                  "asana.request",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST,
        .params = asana_webhook_params,
        .setup = asana_webhook_setup,
        .teardown = asana_webhook_teardown,
        .receive = asana_webhook_receive,
        .sign = asana_webhook_sign,
        .register_hook = asana_register_hook,
        .unregister_hook = asana_unregister_hook,
        .list_hooks = asana_list_hooks,
    },
    SB_END,
};

/* Asana allows at most 15 concurrent write requests per token (and 50
 * reads); 429s beyond the per-minute quota carry Retry-After. */
static const struct sb_limit writes_per_token = {
    .key = "asana:{{ token }}",
    .concurrency = 15,
};

static const struct sb_action actions[] = {
    {
        .name = "create_task",
        .summary = "Create a task in a workspace or projects (POST /tasks)",
        .output = "the task: gid, name, notes, permalink_url, assignee, due_on, projects, ... "
                  "(steps.<name>.permalink_url links to it)",
        .params = asana_create_task_params,
        .limit = &writes_per_token,
        .validate = asana_create_task_validate,
        .run = asana_create_task_run,
    },
    {
        .name = "add_comment",
        .summary = "Comment on a task (POST /tasks/{task}/stories)",
        .output = "the story: gid, text, created_at, created_by",
        .params = asana_add_comment_params,
        .limit = &writes_per_token,
        .validate = asana_common_validate,
        .run = asana_add_comment_run,
    },
    {
        .name = "request",
        .summary = "Call any Asana API endpoint (GET /tasks/{gid}, PUT /tasks/{gid}, ...) with "
                   "the same token, limits and retries",
        .output = "status (int) and body (the parsed JSON answer, {\"data\": ...})",
        .params = asana_request_params,
        .limit = &writes_per_token,
        .validate = asana_request_validate,
        .run = asana_request_run,
    },
    SB_END,
};

static const struct sb_plugin asana_plugin = {
    .name = "asana",
    .version = "1.0.0",
    .summary = "Asana: webhook events in, tasks and comments out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(asana_plugin)
