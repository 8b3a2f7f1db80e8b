#include "loader.h"

#include <assert.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "params.h"
#include "plugin_file.h"
#include "strbuf.h"
#include "tokens.h"
#include "xalloc.h"

/* Tables longer than this are taken as a missing SB_END. */
#define MAX_TABLE 256

/*
 * The size a released minor gave a struct that a later minor appended to:
 * the offset of the first appended field, rounded up to the struct's
 * alignment (appended fields are pointers, so they do not change it).
 */
#define SIZE_BEFORE(type, first_new)                                                               \
    ((offsetof(type, first_new) + _Alignof(type) - 1) / _Alignof(type) * _Alignof(type))

/* Element sizes of each descriptor struct, per minor version of SDK 1.x:
 * a plugin built for minor m must report exactly these sizes. SDK 1.1
 * appended to struct sb_trigger (sign, hooks) only. */
struct abi_sizes {
    uint32_t abi, plugin, trigger, action, param, limit;
};
static const struct abi_sizes sizes_by_minor[SB_ABI_MINOR + 1] = {
    [0] = {sizeof(struct sb_abi), sizeof(struct sb_plugin), SIZE_BEFORE(struct sb_trigger, sign),
           sizeof(struct sb_action), sizeof(struct sb_param), sizeof(struct sb_limit)},
    [1] = {sizeof(struct sb_abi), sizeof(struct sb_plugin), sizeof(struct sb_trigger),
           sizeof(struct sb_action), sizeof(struct sb_param), sizeof(struct sb_limit)},
};

#if defined(__x86_64__) && defined(__LP64__)
/*
 * The ABI of each released minor, as numbers (x86_64): an edit to plugin.h
 * that changes a released layout must fail here, not in a user's plugin.
 * SDK 1.0: */
static_assert(sizeof(struct sb_abi) == 48, "struct sb_abi is frozen");
static_assert(sizeof(struct sb_plugin) == 56, "SDK 1.0 struct sb_plugin");
static_assert(SIZE_BEFORE(struct sb_trigger, sign) == 104, "SDK 1.0 struct sb_trigger");
static_assert(sizeof(struct sb_action) == 72, "SDK 1.0 struct sb_action");
static_assert(sizeof(struct sb_param) == 64, "SDK 1.0 struct sb_param");
static_assert(sizeof(struct sb_limit) == 24, "SDK 1.0 struct sb_limit");
static_assert(SIZE_BEFORE(struct sb_host, hex_decode) == 320, "SDK 1.0 struct sb_host");
static_assert(sizeof(struct sb_request) == 112, "SDK 1.0 struct sb_request");
static_assert(sizeof(struct sb_event) == 72, "SDK 1.0 struct sb_event");
static_assert(sizeof(struct sb_http_request) == 72, "SDK 1.0 struct sb_http_request");
static_assert(sizeof(struct sb_http_response) == 320, "SDK 1.0 struct sb_http_response");
static_assert(sizeof(struct sb_header) == 16 && sizeof(struct sb_bytes) == 16, "SDK 1.0");
/* SDK 1.1: */
static_assert(SB_ABI_MINOR == 1, "a new minor: pin its sizes here, keep the ones above");
static_assert(sizeof(struct sb_trigger) == 152, "SDK 1.1 struct sb_trigger");
static_assert(sizeof(struct sb_host) == 384, "SDK 1.1 struct sb_host");
static_assert(sizeof(struct sb_sign_request) == 40, "SDK 1.1 struct sb_sign_request");
static_assert(sizeof(struct sb_hook_target) == 24, "SDK 1.1 struct sb_hook_target");
#endif

static const char *const on_error_values[] = {"stop", "continue", NULL};

const struct sb_param loader_step_params[] = {
    {.name = "retry",
     .type = SB_PARAM_INT,
     .min = 0,
     .max = 100,
     .help = "retries after the first attempt (default: the workflow's, else 10)"},
    {.name = "retry_backoff",
     .type = SB_PARAM_LIST,
     .help = "delays between attempts, e.g. '1s 10s 1m' (the last repeats); "
             "default 0 5s 30s 2m 10m 30m 1h 3h 6h 12h"},
    {.name = "timeout",
     .type = SB_PARAM_DURATION,
     .def = "30s",
     .min = 1,
     .max = 3600000,
     .help = "time limit of each HTTP request the step makes"},
    {.name = "on_error",
     .type = SB_PARAM_ENUM,
     .def = "stop",
     .values = on_error_values,
     .help = "stop: a failed step kills the run; continue: go on to the next step"},
    {.name = "dynamic_host",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "let templates choose the host of this step's URLs; each address is then checked "
             "when connecting (no loopback, private or link-local targets unless [engine] "
             "allow_private_networks = true)"},
    SB_END,
};

static const struct sb_param http_trigger_params[] = {
    {.name = "path",
     .type = SB_PARAM_STRING,
     .help = "served at /hooks/<path>; default: the workflow's name"},
    {.name = "public_url",
     .type = SB_PARAM_STRING,
     .help = "the URL the provider calls for this trigger; default: [server] public_url + "
             "/hooks/<path> (used by switchboard hooks register and signatures over the URL)"},
    SB_END,
};

static const char *const reserved_step[] = {
    "use", "retry", "retry_backoff", "timeout", "on_error", "dynamic_host", NULL};
static const char *const reserved_trigger[] = {"use", "path", "public_url", NULL};

void plugin_set_init(struct plugin_set *set)
{
    memset(set, 0, sizeof(*set));
}

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Copy `size` bytes of a plugin struct into a zeroed core struct of
 * `core_size` (fields the plugin's older header lacks stay zero). */
static void copy_desc(void *dst, size_t core_size, const void *src, size_t size)
{
    memset(dst, 0, core_size);
    memcpy(dst, src, size < core_size ? size : core_size);
}

struct load_ctx {
    const char *path;
    const char *plugin;
    struct diag *diag;
    int failed;
};

static void refuse(struct load_ctx *lc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct load_ctx *lc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    diag_error(lc->diag, lc->path, 0, NULL, NULL, "plugin refused: %s", msg);
    free(msg);
    lc->failed = 1;
}

/*
 * Read a SB_END-terminated parameter table of the plugin (element size
 * `stride`), check each entry, and append the core's implicit keys.
 */
static void read_params(struct load_ctx *lc, const char *owner, const void *table, size_t stride,
                        const struct sb_param *implicit, const char *const *reserved,
                        struct param_table *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = 0;
    const unsigned char *p = table;
    while (p) {
        struct sb_param cur;
        copy_desc(&cur, sizeof(cur), p + n * stride, stride);
        if (!cur.name)
            break;
        if (++n > MAX_TABLE) {
            refuse(lc, "the parameter table of '%s' has no end; terminate it with SB_END", owner);
            return;
        }
    }
    size_t n_imp = 0;
    while (implicit && implicit[n_imp].name)
        n_imp++;
    out->params = xcalloc(n + n_imp + 1, sizeof(struct sb_param));
    out->core = xcalloc(n + n_imp + 1, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        struct sb_param *prm = &out->params[i];
        copy_desc(prm, sizeof(*prm), p + i * stride, stride);
        char err[256];
        if (!valid_name(prm->name)) {
            refuse(lc, "parameter '%s' of '%s' is not a valid name (use a-z, 0-9 and _)", prm->name,
                   owner);
            continue;
        }
        if (reserved && in_list(prm->name, reserved)) {
            refuse(lc,
                   "parameter '%s' of '%s' is a name the core reserves; rename it (the core "
                   "already provides '%s')",
                   prm->name, owner, prm->name);
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (out->params[j].name && strcmp(out->params[j].name, prm->name) == 0)
                refuse(lc, "parameter '%s' of '%s' is declared twice", prm->name, owner);
        }
        if (!param_type_name(prm->type)) {
            refuse(lc, "parameter '%s' of '%s' has unknown type %u; expected a SB_PARAM_ type",
                   prm->name, owner, (unsigned)prm->type);
            continue;
        }
        if (prm->type == SB_PARAM_ENUM && (!prm->values || !prm->values[0])) {
            refuse(lc, "enum parameter '%s' of '%s' lists no values", prm->name, owner);
            continue;
        }
        if ((prm->flags & SB_PARAM_REQUIRED) && prm->def) {
            refuse(lc, "parameter '%s' of '%s' is required and also has a default '%s'; drop one",
                   prm->name, owner, prm->def);
            continue;
        }
        if ((prm->flags & SB_PARAM_EVENT_TYPES) && prm->type != SB_PARAM_LIST) {
            refuse(lc, "parameter '%s' of '%s' is marked SB_PARAM_EVENT_TYPES but is not a list",
                   prm->name, owner);
            continue;
        }
        if (prm->def && prm->type != SB_PARAM_SECRET) {
            struct json_object *v = NULL;
            if (param_parse_value(prm, prm->def, &v, err, sizeof(err)) < 0)
                refuse(lc, "parameter '%s' of '%s' has default '%s', which is not a valid %s: %s",
                       prm->name, owner, prm->def, param_type_name(prm->type), err);
            json_object_put(v);
        } else if (prm->def) {
            refuse(lc, "secret parameter '%s' of '%s' has a default; secrets cannot have one",
                   prm->name, owner);
        }
    }
    for (size_t i = 0; i < n_imp; i++) {
        out->params[n + i] = implicit[i];
        out->core[n + i] = true;
    }
    out->n = n + n_imp;
}

static void param_table_release(struct param_table *t)
{
    free(t->params);
    free(t->core);
    memset(t, 0, sizeof(*t));
}

const struct sb_param *param_table_find(const struct param_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->params[i].name, name) == 0)
            return &t->params[i];
    return NULL;
}

static size_t count_entries(const void *table, size_t stride)
{
    if (!table)
        return 0;
    const unsigned char *p = table;
    size_t n = 0;
    /* every descriptor starts with its name pointer */
    while (n <= MAX_TABLE) {
        const char *name;
        memcpy(&name, p + n * stride, sizeof(name));
        if (!name)
            break;
        n++;
    }
    return n;
}

/* The SDK 1.1 part of a trigger: sign's option table and aliases. A
 * plugin built for 1.0 has neither (its copy ends before them). */
static void read_sign(struct load_ctx *lc, struct loaded_trigger *t, const struct sb_abi *abi)
{
    char owner[300];
    snprintf(owner, sizeof(owner), "the sign options of '%s'", t->full_name);
    read_params(lc, owner, t->desc.sign_params, abi->size_param, NULL, NULL, &t->sign_table);
    t->desc.sign_params = t->sign_table.params;
    if ((t->sign_table.n || t->desc.sign_aliases) && !t->desc.sign)
        refuse(lc, "trigger '%s' declares sign options or aliases but no sign callback",
               t->full_name);
    for (size_t i = 0; t->desc.sign_aliases && t->desc.sign_aliases[i]; i++) {
        if (i >= MAX_TABLE) {
            refuse(lc, "the sign aliases of '%s' have no end; terminate them with NULL",
                   t->full_name);
            break;
        }
        if (!valid_name(t->desc.sign_aliases[i]))
            refuse(lc, "sign alias '%s' of '%s' is not a valid name (use a-z, 0-9 and _)",
                   t->desc.sign_aliases[i], t->full_name);
    }
    if (t->desc.kind != SB_TRIGGER_HTTP &&
        (t->desc.register_hook || t->desc.unregister_hook || t->desc.list_hooks))
        refuse(lc, "trigger '%s' has hooks callbacks but is not an HTTP trigger", t->full_name);
}

static void read_triggers(struct load_ctx *lc, struct plugin *pl, const struct sb_abi *abi)
{
    size_t n = count_entries(pl->desc.triggers, abi->size_trigger);
    if (n > MAX_TABLE) {
        refuse(lc, "the trigger table has no end; terminate it with SB_END");
        return;
    }
    pl->triggers = xcalloc(n ? n : 1, sizeof(*pl->triggers));
    const unsigned char *base = (const unsigned char *)pl->desc.triggers;
    for (size_t i = 0; i < n; i++) {
        struct loaded_trigger *t = &pl->triggers[i];
        copy_desc(&t->desc, sizeof(t->desc), base + i * abi->size_trigger, abi->size_trigger);
        t->plugin = pl;
        t->full_name = xasprintf("%s.%s", pl->name, t->desc.name);
        pl->n_triggers++;
        if (!valid_name(t->desc.name)) {
            refuse(lc, "trigger name '%s' is not valid (use a-z, 0-9 and _)", t->desc.name);
            continue;
        }
        switch (t->desc.kind) {
        case SB_TRIGGER_HTTP:
            if (!t->desc.receive)
                refuse(lc, "HTTP trigger '%s' has no receive callback", t->full_name);
            break;
        case SB_TRIGGER_POLL:
            if (!t->desc.poll)
                refuse(lc, "poll trigger '%s' has no poll callback", t->full_name);
            break;
        case SB_TRIGGER_THREAD:
            if (!t->desc.start || !t->desc.stop)
                refuse(lc, "thread trigger '%s' needs both start and stop callbacks", t->full_name);
            break;
        default:
            refuse(lc,
                   "trigger '%s' has unknown kind %u; expected SB_TRIGGER_HTTP, _POLL or "
                   "_THREAD",
                   t->full_name, (unsigned)t->desc.kind);
        }
        read_params(lc, t->full_name, t->desc.params, abi->size_param,
                    t->desc.kind == SB_TRIGGER_HTTP ? http_trigger_params : NULL, reserved_trigger,
                    &t->table);
        t->desc.params = t->table.params;
        read_sign(lc, t, abi);
    }
}

static void read_actions(struct load_ctx *lc, struct plugin *pl, const struct sb_abi *abi)
{
    size_t n = count_entries(pl->desc.actions, abi->size_action);
    if (n > MAX_TABLE) {
        refuse(lc, "the action table has no end; terminate it with SB_END");
        return;
    }
    pl->actions = xcalloc(n ? n : 1, sizeof(*pl->actions));
    const unsigned char *base = (const unsigned char *)pl->desc.actions;
    for (size_t i = 0; i < n; i++) {
        struct loaded_action *a = &pl->actions[i];
        copy_desc(&a->desc, sizeof(a->desc), base + i * abi->size_action, abi->size_action);
        a->plugin = pl;
        a->full_name = xasprintf("%s.%s", pl->name, a->desc.name);
        pl->n_actions++;
        if (!valid_name(a->desc.name)) {
            refuse(lc, "action name '%s' is not valid (use a-z, 0-9 and _)", a->desc.name);
            continue;
        }
        if (!a->desc.run)
            refuse(lc, "action '%s' has no run callback", a->full_name);
        if (a->desc.limit) {
            copy_desc(&a->limit, sizeof(a->limit), a->desc.limit, abi->size_limit);
            a->has_limit = true;
            if (!a->limit.key || !*a->limit.key)
                refuse(lc, "the limit of action '%s' has no key", a->full_name);
            if (a->limit.rate && !a->limit.per_ms)
                refuse(lc, "the limit of action '%s' has a rate but no period (per_ms)",
                       a->full_name);
        }
        read_params(lc, a->full_name, a->desc.params, abi->size_param, loader_step_params,
                    reserved_step, &a->table);
        a->desc.params = a->table.params;
    }
    /* names are unique across triggers and actions: `use` names either */
    for (size_t i = 0; i < pl->n_actions; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(pl->actions[i].desc.name, pl->actions[j].desc.name) == 0)
                refuse(lc, "declares action '%s' twice; names must be unique",
                       pl->actions[i].full_name);
        for (size_t j = 0; j < pl->n_triggers; j++)
            if (strcmp(pl->actions[i].desc.name, pl->triggers[j].desc.name) == 0)
                refuse(lc, "declares '%s' as both a trigger and an action; names must be unique",
                       pl->actions[i].full_name);
    }
    for (size_t i = 0; i < pl->n_triggers; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(pl->triggers[i].desc.name, pl->triggers[j].desc.name) == 0)
                refuse(lc, "declares trigger '%s' twice; names must be unique",
                       pl->triggers[i].full_name);
}

static void plugin_free(struct plugin *pl)
{
    if (!pl)
        return;
    for (size_t i = 0; i < pl->n_triggers; i++) {
        param_table_release(&pl->triggers[i].table);
        param_table_release(&pl->triggers[i].sign_table);
        free(pl->triggers[i].full_name);
    }
    for (size_t i = 0; i < pl->n_actions; i++) {
        param_table_release(&pl->actions[i].table);
        free(pl->actions[i].full_name);
    }
    free(pl->triggers);
    free(pl->actions);
    token_cache_free(pl->tokens);
    if (pl->handle)
        dlclose(pl->handle);
    if (pl->file_fd >= 0)
        close(pl->file_fd);
    free(pl->path);
    free(pl->name);
    free(pl);
}

/* "dir/slack.so" -> "slack". Caller owns. */
static char *file_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0)
        n -= 3;
    return xstrndup(base, n);
}

static int check_abi(struct load_ctx *lc, const struct sb_abi *abi)
{
    if (abi->magic != SB_ABI_MAGIC) {
        refuse(lc,
               "its entry symbol does not return a switchboard ABI record (magic 0x%08x, "
               "expected 0x%08x); build it with SB_PLUGIN_DEFINE",
               (unsigned)abi->magic, (unsigned)SB_ABI_MAGIC);
        return -1;
    }
    if (abi->major != SB_ABI_MAJOR) {
        refuse(lc,
               "it was built for SDK %u.%u but this switchboard speaks SDK %d.x; rebuild the "
               "plugin against SDK %d.%d",
               (unsigned)abi->major, (unsigned)abi->minor, SB_ABI_MAJOR, SB_ABI_MAJOR,
               SB_ABI_MINOR);
        return -1;
    }
    if (abi->minor > SB_ABI_MINOR) {
        refuse(lc,
               "it was built for SDK %u.%u, newer than this switchboard's SDK %d.%d; upgrade "
               "switchboard or rebuild the plugin against SDK %d.%d",
               (unsigned)abi->major, (unsigned)abi->minor, SB_ABI_MAJOR, SB_ABI_MINOR, SB_ABI_MAJOR,
               SB_ABI_MINOR);
        return -1;
    }
    const struct abi_sizes *want = &sizes_by_minor[abi->minor];
    struct {
        const char *name;
        uint32_t got, want;
    } checks[] = {
        {"sb_abi", abi->size_abi, want->abi},
        {"sb_plugin", abi->size_plugin, want->plugin},
        {"sb_trigger", abi->size_trigger, want->trigger},
        {"sb_action", abi->size_action, want->action},
        {"sb_param", abi->size_param, want->param},
        {"sb_limit", abi->size_limit, want->limit},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i].got != checks[i].want) {
            refuse(lc,
                   "struct %s is %u bytes in the plugin but %u bytes in SDK %u.%u; it was "
                   "built with a different plugin.h, rebuild it against the installed SDK",
                   checks[i].name, (unsigned)checks[i].got, (unsigned)checks[i].want,
                   (unsigned)abi->major, (unsigned)abi->minor);
            return -1;
        }
    }
    unsigned runtime = (unsigned)json_c_version_num();
    if ((abi->jsonc_version >> 8) > (runtime >> 8)) {
        refuse(lc,
               "it was built with json-c %u.%u, newer than the json-c %u.%u this switchboard "
               "runs with; rebuild it on this system",
               (unsigned)(abi->jsonc_version >> 16), (unsigned)((abi->jsonc_version >> 8) & 0xff),
               runtime >> 16, (runtime >> 8) & 0xff);
        return -1;
    }
    return 0;
}

int plugin_set_load_file(struct plugin_set *set, const char *path, struct diag *diag)
{
    struct load_ctx lc = {.path = path, .diag = diag};
    struct plugin *pl = NULL;
    char *stem = file_stem(path);
    struct plugin_file file = {.fd = -1};
    char why[1024];
    if (plugin_file_open(path, &file, why, sizeof(why)) < 0) {
        refuse(&lc, "%s", why);
        goto out;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->plugins[i]->name, stem) == 0) {
            refuse(&lc, "a plugin named '%s' was already loaded from %s; keep only one of them",
                   stem, set->plugins[i]->path);
            goto out;
        }
    }
    pl = xcalloc(1, sizeof(*pl));
    pl->path = xstrdup(path);
    /* the file that was checked, through its descriptor, which stays open
     * while the plugin is loaded: glibc knows a library by the name it was
     * opened with, and a reused descriptor number would name another */
    pl->handle = dlopen(file.dl_path, RTLD_NOW | RTLD_LOCAL);
    pl->file_fd = file.fd;
    file.fd = -1;
    if (!pl->handle) {
        refuse(&lc, "dlopen failed: %s", dlerror());
        goto out;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (set->plugins[i]->handle == pl->handle) {
            refuse(&lc, "dlopen gave back the library already loaded from %s",
                   set->plugins[i]->path);
            goto out;
        }
    }
    sb_entry_fn entry;
    void *sym = dlsym(pl->handle, SB_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof(entry)); /* object to function pointer, POSIX-blessed */
    if (!sym) {
        refuse(&lc,
               "it has no entry symbol '%s'; a switchboard plugin defines it with "
               "SB_PLUGIN_DEFINE() from <switchboard/plugin.h>",
               SB_ENTRY_SYMBOL);
        goto out;
    }
    const struct sb_abi *abi = entry();
    if (!abi) {
        refuse(&lc, "its entry symbol returned no ABI record");
        goto out;
    }
    if (check_abi(&lc, abi) < 0)
        goto out;
    if (!abi->plugin) {
        refuse(&lc, "its ABI record points to no plugin descriptor");
        goto out;
    }
    copy_desc(&pl->desc, sizeof(pl->desc), abi->plugin, abi->size_plugin);
    pl->abi_minor = abi->minor;
    if (!pl->desc.name || strcmp(pl->desc.name, stem) != 0) {
        refuse(&lc,
               "it declares the name '%s' but the file is named '%s.so'; rename the file to "
               "%s.so or change .name",
               pl->desc.name ? pl->desc.name : "(none)", stem,
               pl->desc.name ? pl->desc.name : "<name>");
        goto out;
    }
    if (!valid_name(pl->desc.name)) {
        refuse(&lc, "plugin name '%s' is not valid (use a-z, 0-9 and _)", pl->desc.name);
        goto out;
    }
    pl->name = xstrdup(pl->desc.name);
    pl->tokens = token_cache_new();
    read_triggers(&lc, pl, abi);
    read_actions(&lc, pl, abi);
    if (lc.failed)
        goto out;
    XGROW(set->plugins, set->cap, set->n + 1);
    set->plugins[set->n++] = pl;
    pl = NULL;
out:
    plugin_file_close(&file);
    plugin_free(pl);
    free(stem);
    return lc.failed ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t plugin_set_load_dirs(struct plugin_set *set, char *const *dirs, size_t n_dirs,
                            struct diag *diag)
{
    size_t refused = 0;
    for (size_t d = 0; d < n_dirs; d++) {
        char why[1024];
        if (plugin_dir_check(dirs[d], why, sizeof(why)) < 0) {
            diag_error(diag, dirs[d], 0, NULL, NULL, "plugin folder refused: %s", why);
            refused++;
            continue;
        }
        DIR *dir = opendir(dirs[d]);
        if (!dir) {
            char msg[128];
            strerror_r(errno, msg, sizeof(msg));
            diag_error(diag, dirs[d], 0, NULL, NULL, "cannot read the plugin folder: %s", msg);
            refused++;
            continue;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t len = strlen(de->d_name);
            if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0) {
                XGROW(names, cap, n + 1);
                names[n++] = xasprintf("%s/%s", dirs[d], de->d_name);
            }
        }
        closedir(dir);
        if (n)
            qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (plugin_set_load_file(set, names[i], diag) < 0)
                refused++;
            free(names[i]);
        }
        free(names);
    }
    return refused;
}

void plugin_set_release(struct plugin_set *set)
{
    for (size_t i = set->n; i-- > 0;)
        plugin_free(set->plugins[i]);
    free(set->plugins);
    plugin_set_init(set);
}

const struct plugin *plugin_set_find(const struct plugin_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->plugins[i]->name, name) == 0)
            return set->plugins[i];
    return NULL;
}

/* Split "plugin.name" and find the plugin. */
static const struct plugin *find_owner(const struct plugin_set *set, const char *full,
                                       const char **member)
{
    const char *dot = strchr(full, '.');
    if (!dot)
        return NULL;
    char *pname = xstrndup(full, (size_t)(dot - full));
    const struct plugin *pl = plugin_set_find(set, pname);
    free(pname);
    *member = dot + 1;
    return pl;
}

const struct loaded_trigger *plugin_set_find_trigger(const struct plugin_set *set,
                                                     const char *full_name)
{
    const char *member;
    const struct plugin *pl = find_owner(set, full_name, &member);
    for (size_t i = 0; pl && i < pl->n_triggers; i++)
        if (strcmp(pl->triggers[i].desc.name, member) == 0)
            return &pl->triggers[i];
    return NULL;
}

const struct loaded_action *plugin_set_find_action(const struct plugin_set *set,
                                                   const char *full_name)
{
    const char *member;
    const struct plugin *pl = find_owner(set, full_name, &member);
    for (size_t i = 0; pl && i < pl->n_actions; i++)
        if (strcmp(pl->actions[i].desc.name, member) == 0)
            return &pl->actions[i];
    return NULL;
}

char *plugin_set_list_triggers(const struct plugin_set *set)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = 0; j < set->plugins[i]->n_triggers; j++)
            strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", set->plugins[i]->triggers[j].full_name);
    if (!sb.len)
        strbuf_addstr(&sb, "(none loaded)");
    return strbuf_detach(&sb, NULL);
}

char *plugin_set_list_actions(const struct plugin_set *set)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = 0; j < set->plugins[i]->n_actions; j++)
            strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", set->plugins[i]->actions[j].full_name);
    if (!sb.len)
        strbuf_addstr(&sb, "(none loaded)");
    return strbuf_detach(&sb, NULL);
}
