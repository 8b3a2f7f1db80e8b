/* Proves <switchboard/plugin.h> is self-contained C11: this file includes
 * nothing else and uses every macro. Compiled by the test sdk.header_c11. */
#include <switchboard/plugin.h>

static const char *const kinds[] = {"a", "b", NULL};

static const struct sb_param params[] = {
    {.name = "kind", .type = SB_PARAM_ENUM, .def = "a", .values = kinds, .help = "a kind"},
    {.name = "limit", .type = SB_PARAM_INT, .min = 1, .max = SB_NO_MAX, .help = "a limit"},
    SB_END,
};

static enum sb_status run(const struct sb_host *sb, struct sb_call *call)
{
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    struct sb_event ev = SB_EVENT_INIT;
    (void)req;
    (void)ev;
    if (SB_HOST_HAS(sb, form_decode))
        return SB_OK;
    return sb->fail(call, "no form_decode in this core (%d)", SB_ABI_MINOR);
}

static const struct sb_action actions[] = {
    {.name = "go", .summary = "goes", .params = params, .run = run},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "header_c",
    .version = SB_SDK_VERSION,
    .summary = "header test",
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
