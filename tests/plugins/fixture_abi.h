/* For fixtures that must hand the loader a wrong ABI record on purpose:
 * the same record SB_PLUGIN_DEFINE makes, with one field changed. */
#ifndef FIXTURE_ABI_H
#define FIXTURE_ABI_H

#include <switchboard/plugin.h>

#define FIXTURE_ENTRY(desc, magic, major, minor, param_size)                                       \
    SB_EXPORT const struct sb_abi *sb_plugin_entry(void);                                          \
    SB_EXPORT const struct sb_abi *sb_plugin_entry(void)                                           \
    {                                                                                              \
        static const struct sb_abi abi = {                                                         \
            magic,                                                                                 \
            major,                                                                                 \
            minor,                                                                                 \
            (uint32_t)sizeof(struct sb_abi),                                                       \
            (uint32_t)sizeof(struct sb_plugin),                                                    \
            (uint32_t)sizeof(struct sb_trigger),                                                   \
            (uint32_t)sizeof(struct sb_action),                                                    \
            param_size,                                                                            \
            (uint32_t)sizeof(struct sb_limit),                                                     \
            (uint32_t)JSON_C_VERSION_NUM,                                                          \
            &(desc),                                                                               \
        };                                                                                         \
        return &abi;                                                                               \
    }

/* A minimal action for fixtures that only need to exist. */
static enum sb_status fixture_noop(const struct sb_host *sb, struct sb_call *call)
{
    (void)sb;
    (void)call;
    return SB_OK;
}

static const struct sb_action fixture_noop_actions[] = {
    {.name = "noop", .summary = "does nothing", .run = fixture_noop},
    SB_END,
};

#endif
