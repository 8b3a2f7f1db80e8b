/* Fixture: an ABI record with a wrong field (newminor); must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "newminor",
    .version = "0.0.1",
    .summary = "fixture newminor",
    .actions = fixture_noop_actions,
};

FIXTURE_ENTRY(plugin, SB_ABI_MAGIC, SB_ABI_MAJOR, SB_ABI_MINOR + 1,
              (uint32_t)sizeof(struct sb_param))
