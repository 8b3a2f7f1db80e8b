/* Fixture: declares a name that is not its file name; must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "othername",
    .version = "0.0.1",
    .summary = "fixture wrongname",
    .actions = fixture_noop_actions,
};

SB_PLUGIN_DEFINE(plugin)
