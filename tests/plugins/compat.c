/* A plugin built against a frozen copy of an SDK header (the include path
 * decides which): tests/sdk/frozen-1.0 must keep loading and running in
 * every 1.x core; the same header with major 2 (made by tests/plugins/CMakeLists.txt)
 * must be refused. */
#include <json-c/json.h>
#include <switchboard/plugin.h>

#ifndef COMPAT_NAME
#error "define COMPAT_NAME"
#endif

static const struct sb_param echo_params[] = {
    {.name = "text",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "text to echo"},
    {.name = "times", .type = SB_PARAM_INT, .def = "2", .min = 1, .max = 5, .help = "repeats"},
    SB_END,
};

static enum sb_status echo_run(const struct sb_host *sb, struct sb_call *call)
{
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "text", json_object_new_string(sb->param_string(call, "text")));
    json_object_object_add(out, "times", json_object_new_int64(sb->param_int(call, "times", 0)));
    json_object_object_add(out, "sdk", json_object_new_int(SB_ABI_MAJOR * 100 + SB_ABI_MINOR));
    sb->set_output(call, out);
    return SB_OK;
}

static const struct sb_action actions[] = {
    {.name = "echo",
     .summary = "echoes",
     .output = "text, times, sdk",
     .params = echo_params,
     .run = echo_run},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = COMPAT_NAME,
    .version = "1.0.0",
    .summary = "built against a frozen SDK header",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
