/* A plugin built against a frozen copy of an SDK header (the include path
 * decides which): tests/sdk/frozen-1.0 must keep loading and running in
 * every 1.x core; the same header with major 2 (made by tests/plugins/CMakeLists.txt)
 * must be refused. It has two triggers, so that the core must step through
 * its trigger table with the 1.0 element size (1.1 appended to struct
 * sb_trigger), and it reports what SB_HOST_HAS says of the last host
 * function of the header it was built with. */
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#ifndef COMPAT_NAME
#error "define COMPAT_NAME"
#endif

#if SB_ABI_MAJOR == 1 && SB_ABI_MINOR == 0 && defined(__x86_64__) && defined(__LP64__)
/* the frozen header has the sizes the core pins for SDK 1.0 (core/loader.c) */
_Static_assert(sizeof(struct sb_trigger) == 104, "SDK 1.0 struct sb_trigger");
_Static_assert(sizeof(struct sb_host) == 320, "SDK 1.0 struct sb_host");
_Static_assert(sizeof(struct sb_param) == 64, "SDK 1.0 struct sb_param");
_Static_assert(sizeof(struct sb_action) == 72, "SDK 1.0 struct sb_action");
_Static_assert(sizeof(struct sb_plugin) == 56, "SDK 1.0 struct sb_plugin");
#endif

#if SB_ABI_MINOR >= 1
#define LAST_HOST_FUNCTION token_invalidate
#else
#define LAST_HOST_FUNCTION free
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
    json_object_object_add(out, "host_has_last",
                           json_object_new_boolean(SB_HOST_HAS(sb, LAST_HOST_FUNCTION)));
    sb->set_output(call, out);
    return SB_OK;
}

static const struct sb_param hook_params[] = {
    {.name = "token", .type = SB_PARAM_STRING, .def = "t0k", .help = "the expected X-Token"},
    SB_END,
};

/* Emits the body when X-Token matches `token`, else 401. */
static enum sb_status hook_receive(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_request *req)
{
    const char *want = sb->param_string(call, "token");
    const char *got = sb->header(req, "X-Token");
    if (!got || !want || strcmp(got, want) != 0)
        return sb->reject(call, 401, "bad token");
    struct sb_event ev = SB_EVENT_INIT;
    ev.type = "compat";
    ev.payload = json_object_new_string_len((const char *)req->body, (int)req->body_len);
    return sb->emit(call, &ev);
}

static const struct sb_trigger triggers[] = {
    {.name = "first",
     .summary = "the first of two",
     .output = "the body as a string",
     .kind = SB_TRIGGER_HTTP,
     .params = hook_params,
     .receive = hook_receive},
    {.name = "second",
     .summary = "the second of two",
     .output = "the body as a string",
     .kind = SB_TRIGGER_HTTP,
     .methods = SB_METHOD_POST | SB_METHOD_PUT,
     .params = hook_params,
     .receive = hook_receive},
    SB_END,
};

static const struct sb_action actions[] = {
    {.name = "echo",
     .summary = "echoes",
     .output = "text, times, sdk, host_has_last",
     .params = echo_params,
     .run = echo_run},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = COMPAT_NAME,
    .version = "1.0.0",
    .summary = "built against a frozen SDK header",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
