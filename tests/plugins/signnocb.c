/* Fixture: a trigger with sign options but no sign callback; must be
 * refused (the options could never be used). */
#include "fixture_abi.h"

static const struct sb_param sign_params[] = {
    {.name = "topic", .type = SB_PARAM_STRING, .help = "a topic"},
    SB_END,
};

static enum sb_status receive(const struct sb_host *sb, struct sb_call *call,
                              const struct sb_request *req)
{
    (void)req;
    return sb->respond(call, 200, "text/plain", "", 0);
}

static const struct sb_trigger triggers[] = {
    {.name = "hook",
     .summary = "a hook",
     .kind = SB_TRIGGER_HTTP,
     .receive = receive,
     .sign_params = sign_params},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "signnocb",
    .version = "0.0.1",
    .summary = "fixture signnocb",
    .triggers = triggers,
};

SB_PLUGIN_DEFINE(plugin)
