/*
 * The plugin loader: scans the plugin folders, dlopens each .so with
 * RTLD_NOW | RTLD_LOCAL, checks its ABI record and its tables, and keeps a
 * core-owned copy of every descriptor (read with the element sizes the
 * plugin was built with, so older 1.x plugins load in newer cores). A
 * refused plugin is reported with one sentence naming the file, what was
 * expected and what was found; the others still load.
 */
#ifndef SB_LOADER_H
#define SB_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <switchboard/plugin.h>

#include "diag.h"

struct plugin;
struct token_cache;

/* A parameter table: the plugin's own entries, then the core's implicit
 * ones (use, path, retry...), each marked. */
struct param_table {
    struct sb_param *params;
    bool *core; /* core[i]: params[i] is a core key, not the plugin's */
    size_t n;
};

struct loaded_trigger {
    struct sb_trigger desc; /* copy; desc.params points into `table`,
                               desc.sign_params into `sign_table` */
    struct param_table table;
    struct param_table sign_table; /* sign's --set options (SDK 1.1) */
    char *full_name;               /* "stripe.webhook" */
    struct plugin *plugin;
};

struct loaded_action {
    struct sb_action desc;
    struct param_table table;
    struct sb_limit limit; /* valid when has_limit */
    bool has_limit;
    char *full_name;
    struct plugin *plugin;
};

struct plugin {
    char *path;
    char *name;
    void *handle;
    struct sb_plugin desc;
    uint16_t abi_minor;
    struct loaded_trigger *triggers;
    size_t n_triggers;
    struct loaded_action *actions;
    size_t n_actions;
    void *state; /* from init */
    bool initialized;
    struct token_cache *tokens; /* sb->token_get/set (SDK 1.1) */
};

struct plugin_set {
    struct plugin **plugins;
    size_t n;
    size_t cap;
};

void plugin_set_init(struct plugin_set *set);
/* Load every *.so of every folder, in folder order then name order.
 * Refusals go to diag (as errors naming the file). Returns the number of
 * plugins refused. */
size_t plugin_set_load_dirs(struct plugin_set *set, char *const *dirs, size_t n_dirs,
                            struct diag *diag);
/* Load one file; 0, or -1 with the refusal in diag. */
int plugin_set_load_file(struct plugin_set *set, const char *path, struct diag *diag);
/* Call each plugin's fini (if initialised), dlclose, free. */
void plugin_set_release(struct plugin_set *set);

const struct plugin *plugin_set_find(const struct plugin_set *set, const char *name);
/* Look up "plugin.name". NULL when absent. */
const struct loaded_trigger *plugin_set_find_trigger(const struct plugin_set *set,
                                                     const char *full_name);
const struct loaded_action *plugin_set_find_action(const struct plugin_set *set,
                                                   const char *full_name);
/* All "plugin.name" of triggers (or actions) joined with ", " (caller owns),
 * for "unknown trigger" messages. */
char *plugin_set_list_triggers(const struct plugin_set *set);
char *plugin_set_list_actions(const struct plugin_set *set);

const struct sb_param *param_table_find(const struct param_table *t, const char *name);

/* The core's keys in every action: retry, retry_backoff, timeout, on_error. */
extern const struct sb_param loader_step_params[];

#endif
