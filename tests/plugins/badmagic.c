/* Fixture: an ABI record with a wrong field (badmagic); must be refused. */
#include "fixture_abi.h"

static const struct sb_plugin plugin = {
    .name = "badmagic",
    .version = "0.0.1",
    .summary = "fixture badmagic",
    .actions = fixture_noop_actions,
};

FIXTURE_ENTRY(plugin, 0x12345678u, SB_ABI_MAJOR, SB_ABI_MINOR, (uint32_t)sizeof(struct sb_param))
