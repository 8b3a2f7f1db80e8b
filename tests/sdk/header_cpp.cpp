// Proves <switchboard/plugin.h> compiles as C++ (C++11, no designated
// initializers) and that SB_PLUGIN_DEFINE gives a C-linkage entry symbol.
#include <switchboard/plugin.h>

static enum sb_status run(const struct sb_host *sb, struct sb_call *call)
{
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    struct sb_event ev = SB_EVENT_INIT;
    (void)req;
    (void)ev;
    return SB_HOST_HAS(sb, free) ? SB_OK : sb->fail(call, "no free");
}

static struct sb_action make_action()
{
    struct sb_action a = sb_action();
    a.name = "go";
    a.summary = "goes";
    a.run = run;
    return a;
}

static const struct sb_action actions[] = {make_action(), SB_END};

static const struct sb_plugin plugin = {"header_cpp", SB_SDK_VERSION, "header test", nullptr,
                                        actions, nullptr, nullptr};

SB_PLUGIN_DEFINE(plugin)
