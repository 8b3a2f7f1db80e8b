/* Fixture: an ABI record with a wrong field (badmajor); must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "badmajor",
    .version = "0.0.1",
    .summary = "fixture badmajor",
    .actions = fixture_noop_actions,
};

FIXTURE_ENTRY(plugin, SB_ABI_MAGIC, 2, 0, (uint32_t)sizeof(struct sb_param))
