/* Fixture: an action parameter named like a core step key; must be
 * refused. */
#include "fixture_abi.h"

static const struct sb_param params[] = {
    {.name = "retry", .type = SB_PARAM_INT, .help = "clashes with the core's retry"},
    SB_END,
};

static const struct sb_action actions[] = {
    {.name = "go", .summary = "goes", .params = params, .run = fixture_noop},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "reserved",
    .version = "0.0.1",
    .summary = "fixture reserved",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
