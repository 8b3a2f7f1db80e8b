/* Fixture: a parameter default that does not parse as its type; must be
 * refused. */
#include "fixture_abi.h"

static const struct sb_param params[] = {
    {.name = "delay", .type = SB_PARAM_DURATION, .def = "soon", .help = "bad default"},
    SB_END,
};

static const struct sb_action actions[] = {
    {.name = "wait", .summary = "waits", .params = params, .run = fixture_noop},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "baddefault",
    .version = "0.0.1",
    .summary = "fixture baddefault",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
