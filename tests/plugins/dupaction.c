/* Fixture: declares one action name twice; must be refused. */
#include "fixture_abi.h"

static const struct sb_action actions[] = {
    {.name = "send", .summary = "first", .run = fixture_noop},
    {.name = "send", .summary = "second", .run = fixture_noop},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "dupaction",
    .version = "0.0.1",
    .summary = "fixture dupaction",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
