/* A well-formed plugin with every parameter type, used by loader, workflow
 * and engine tests. fixture.echo puts its parameters in its output. */
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

static const char *const modes[] = {"a", "b", NULL};
static const char *const colors[] = {"red", "green", NULL};

static const struct sb_param hook_params[] = {
    {.name = "secret", .type = SB_PARAM_SECRET, .help = "shared secret"},
    {.name = "mode", .type = SB_PARAM_ENUM, .def = "a", .values = modes, .help = "a mode"},
    {.name = "events", .type = SB_PARAM_LIST, .flags = SB_PARAM_EVENT_TYPES, .help = "event types"},
    SB_END,
};

static const struct sb_param echo_params[] = {
    {.name = "text",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "text to echo"},
    {.name = "count", .type = SB_PARAM_INT, .def = "1", .min = 1, .max = 10, .help = "a count"},
    {.name = "flag", .type = SB_PARAM_BOOL, .def = "false", .help = "a flag"},
    {.name = "wait", .type = SB_PARAM_DURATION, .def = "1s", .help = "a duration"},
    {.name = "size", .type = SB_PARAM_SIZE, .def = "1K", .help = "a size"},
    {.name = "color", .type = SB_PARAM_ENUM, .values = colors, .help = "a color"},
    {.name = "tags", .type = SB_PARAM_LIST, .help = "a list"},
    {.name = "header",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_HEADER,
     .help = "a map"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body"},
    {.name = "token", .type = SB_PARAM_SECRET, .help = "a secret"},
    SB_END,
};

static enum sb_status hook_receive(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_request *req)
{
    struct sb_event ev = SB_EVENT_INIT;
    ev.type = "fixture";
    ev.payload = json_object_new_object();
    json_object_object_add(ev.payload, "len", json_object_new_int64((int64_t)req->body_len));
    return sb->emit(call, &ev);
}

static enum sb_status tick_poll(const struct sb_host *sb, struct sb_call *call)
{
    (void)sb;
    (void)call;
    return SB_OK;
}

static enum sb_status echo_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *color = sb->param_string(call, "color");
    if (color && strcmp(color, "green") == 0 && !sb->param_bool(call, "flag", false)) {
        sb->config_error(call, "color", "green needs flag = true");
        return SB_FAIL;
    }
    return SB_OK;
}

static enum sb_status echo_run(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *out = json_object_new_object();
    static const char *const names[] = {"text",  "count", "flag",   "wait", "size",
                                        "color", "tags",  "header", "body"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct json_object *v = sb->param_json(call, names[i]);
        if (v)
            json_object_object_add(out, names[i], json_object_get(v));
    }
    json_object_object_add(out, "key", json_object_new_string(sb->idempotency_key(call)));
    sb->set_output(call, out);
    return SB_OK;
}

static const struct sb_trigger triggers[] = {
    {.name = "hook",
     .summary = "a push trigger",
     .output = "{len}",
     .kind = SB_TRIGGER_HTTP,
     .params = hook_params,
     .receive = hook_receive},
    {.name = "tick",
     .summary = "a poll trigger",
     .kind = SB_TRIGGER_POLL,
     .poll = tick_poll,
     .poll_interval_ms = 1000},
    SB_END,
};

static const struct sb_limit echo_limit = {
    .key = "echo:{{ text }}", .rate = 5, .per_ms = 1000, .concurrency = 2};

static const struct sb_action actions[] = {
    {.name = "echo",
     .summary = "echoes its parameters",
     .output = "the parameters",
     .params = echo_params,
     .limit = &echo_limit,
     .validate = echo_validate,
     .run = echo_run},
    SB_END,
};

static const struct sb_plugin fixture = {
    .name = "fixture",
    .version = "0.0.1",
    .summary = "test fixture",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(fixture)
