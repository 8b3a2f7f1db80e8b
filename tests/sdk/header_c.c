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
    if (SB_HOST_HAS(sb, form_decode) && SB_HOST_HAS(sb, token_invalidate))
        return SB_OK;
    return sb->fail(call, "no form_decode in this core (%d)", SB_ABI_MINOR);
}

static enum sb_status receive(const struct sb_host *sb, struct sb_call *call,
                              const struct sb_request *req)
{
    (void)req;
    return sb->respond(call, 200, "text/plain", "", 0);
}

static enum sb_status sign(const struct sb_host *sb, struct sb_call *call,
                           const struct sb_sign_request *req)
{
    struct sb_bytes part = {req->body, req->body_len};
    struct sb_bytes key = {req->secret, 0};
    unsigned char mac[SB_HASH_MAX_SIZE];
    (void)sb->hmac_verify(SB_HASH_SHA256, &key, 1, &part, 1, mac, 32);
    return sb->fail(call, "at %lld", (long long)req->timestamp_s);
}

static enum sb_status register_hook(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_hook_target *target)
{
    return sb->fail(call, "cannot register %s for %s", target->url, target->workflow);
}

static const char *const aliases[] = {"hc", NULL};

static const struct sb_trigger triggers[] = {
    {.name = "hook",
     .summary = "a hook",
     .kind = SB_TRIGGER_HTTP,
     .receive = receive,
     .sign = sign,
     .sign_params = params,
     .sign_aliases = aliases,
     .register_hook = register_hook},
    SB_END,
};

static const struct sb_action actions[] = {
    {.name = "go", .summary = "goes", .params = params, .run = run},
    SB_END,
};

static const struct sb_plugin plugin = {
    .name = "header_c",
    .version = SB_SDK_VERSION,
    .summary = "header test",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(plugin)
