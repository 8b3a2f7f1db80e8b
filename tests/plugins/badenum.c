/* Fixture: an enum default that is not one of its values; must be refused. */
#include "fixture_abi.h"

static const char *const values[] = {"fast", "slow", NULL};

static const struct sb_param params[] = {
    {.name = "speed", .type = SB_PARAM_ENUM, .def = "medium", .values = values, .help = "speed"},
    SB_END,
};

static const struct sb_action actions[] = {
    {.name = "go", .summary = "goes", .params = params, .run = fixture_noop},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "badenum",
    .version = "0.0.1",
    .summary = "fixture badenum",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
