// Proves <switchboard/plugin.h> compiles as C++ (C++11, no designated
// initializers) and that SB_PLUGIN_DEFINE gives a C-linkage entry symbol.
#include <switchboard/plugin.h>

static enum sb_status run(const struct sb_host *sb, struct sb_call *call)
{
    struct sb_http_request req = SB_HTTP_REQUEST_INIT;
    struct sb_event ev = SB_EVENT_INIT;
    (void)req;
    (void)ev;
    return SB_HOST_HAS(sb, free) && SB_HOST_HAS(sb, json_path) ? SB_OK : sb->fail(call, "no free");
}

static struct sb_action make_action()
{
    struct sb_action a = sb_action();
    a.name = "go";
    a.summary = "goes";
    a.run = run;
    return a;
}

static enum sb_status sign(const struct sb_host *sb, struct sb_call *call,
                           const struct sb_sign_request *req)
{
    return sb->fail(call, "at %lld", static_cast<long long>(req->timestamp_s));
}

static struct sb_trigger make_trigger()
{
    struct sb_trigger t = sb_trigger();
    t.name = "hook";
    t.summary = "a hook";
    t.kind = SB_TRIGGER_HTTP;
    t.sign = sign;
    return t;
}

static const struct sb_action actions[] = {make_action(), SB_END};
static const struct sb_trigger triggers[] = {make_trigger(), SB_END};

static const struct sb_plugin plugin = {"header_cpp", SB_SDK_VERSION, "header test", triggers,
                                        actions,      nullptr,        nullptr};

SB_PLUGIN_DEFINE(plugin)
