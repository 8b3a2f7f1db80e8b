/* Fixture: an ABI record with a wrong field (badsize); must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "badsize",
    .version = "0.0.1",
    .summary = "fixture badsize",
    .actions = fixture_noop_actions,
};

FIXTURE_ENTRY(plugin, SB_ABI_MAGIC, SB_ABI_MAJOR, SB_ABI_MINOR,
              (uint32_t)sizeof(struct sb_param) + 8)
