/* Fixture: a record that claims SDK 1.0 with the 1.1 struct sizes (a
 * plugin built with a mixed-up header); must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "oldminor",
    .version = "0.0.1",
    .summary = "fixture oldminor",
    .actions = fixture_noop_actions,
};

FIXTURE_ENTRY(plugin, SB_ABI_MAGIC, SB_ABI_MAJOR, 0, (uint32_t)sizeof(struct sb_param))
