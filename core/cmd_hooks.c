/*
 * switchboard hooks register|list|unregister WORKFLOW [--json]: create,
 * show or delete the webhook at the provider that calls this workflow's
 * trigger, through the trigger's hooks callbacks (SDK 1.1) with the
 * workflow's credentials and public URL. What a callback keeps (a signing
 * secret the provider hands out) goes to the store's trigger state, where
 * the engine's receive finds it. This file knows no provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call.h"
#include "commands.h"
#include "engine.h"
#include "store.h"
#include "xalloc.h"

static const char usage[] = "usage: switchboard hooks register|list|unregister WORKFLOW [--json]\n";

/* sb->kv_get / kv_set of the callbacks: the same scope as the engine's. */
static int hooks_kv_get(void *ctx, struct sb_call *call, const char *key, char **value)
{
    char scope[600];
    call_kv_scope(call->wf, call->what, scope, sizeof(scope));
    return store_kv_get(ctx, scope, key, value);
}

static int hooks_kv_set(void *ctx, struct sb_call *call, const char *key, const char *value)
{
    char scope[600];
    call_kv_scope(call->wf, call->what, scope, sizeof(scope));
    return store_kv_set(ctx, scope, key, value);
}

static int64_t hooks_now(void *ctx)
{
    (void)ctx;
    return engine_now_ms();
}

/* One webhook as a line: "id url key=value ..." (lists of strings joined
 * with ','; members named secret... are never shown). */
static void print_hook(const char *verb, struct json_object *hook)
{
    struct json_object *id = NULL, *url = NULL;
    json_object_object_get_ex(hook, "id", &id);
    json_object_object_get_ex(hook, "url", &url);
    printf("%s%s%s %s", verb, *verb ? " " : "", id ? json_object_get_string(id) : "?",
           url ? json_object_get_string(url) : "?");
    json_object_object_foreach(hook, key, val)
    {
        if (strcmp(key, "id") == 0 || strcmp(key, "url") == 0 || strcmp(key, "created") == 0 ||
            strncmp(key, "secret", 6) == 0 || !val)
            continue;
        if (json_object_is_type(val, json_type_array)) {
            printf(" %s=", key);
            for (size_t i = 0; i < json_object_array_length(val); i++)
                printf("%s%s", i ? "," : "",
                       json_object_get_string(json_object_array_get_idx(val, i)));
        } else if (!json_object_is_type(val, json_type_object)) {
            printf(" %s=%s", key, json_object_get_string(val));
        }
    }
    printf("\n");
}

/* Print the callback's output (an array of webhook objects); -1 when it
 * is not one (a plugin's bug). */
static int print_output(const char *what, const char *action, struct json_object *out, bool json,
                        const char *url)
{
    if (!json_object_is_type(out, json_type_array)) {
        fprintf(stderr, "switchboard hooks: %s did not say which webhooks (a bug in the plugin)\n",
                what);
        return -1;
    }
    size_t n = json_object_array_length(out);
    for (size_t i = 0; i < n; i++) {
        struct json_object *hook = json_object_array_get_idx(out, i);
        if (!json_object_is_type(hook, json_type_object))
            continue;
        /* a secret is never printed, whatever the plugin put there */
        json_object_object_foreach(hook, key, val)
        {
            (void)val;
            if (strncmp(key, "secret", 6) == 0)
                json_object_object_add(hook, key, json_object_new_string("****"));
        }
        if (json) {
            printf("%s\n", json_object_to_json_string_ext(
                               hook, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
            continue;
        }
        struct json_object *created = NULL;
        json_object_object_get_ex(hook, "created", &created);
        const char *verb =
            strcmp(action, "register") == 0
                ? (json_object_get_boolean(created) ? "registered" : "already registered")
            : strcmp(action, "unregister") == 0 ? "deleted"
                                                : "";
        print_hook(verb, hook);
    }
    if (n == 0 && !json)
        printf("%sno webhook at the provider calls %s\n",
               strcmp(action, "unregister") == 0 ? "nothing to delete: " : "", url);
    return 0;
}

int cmd_hooks(struct cli *cli)
{
    if (cli->n_positional != 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *action = cli->positional[0], *name = cli->positional[1];
    if (strcmp(action, "register") != 0 && strcmp(action, "list") != 0 &&
        strcmp(action, "unregister") != 0) {
        fprintf(stderr, "switchboard hooks: unknown action '%s'\n%s", action, usage);
        return 2;
    }
    struct app app;
    app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    int rc = 1;
    struct store *store = NULL;
    bool inited = false;
    const struct workflow *wf = workflow_set_find(&app.workflows, name);
    if (!wf) {
        fprintf(stderr, "switchboard hooks: no valid workflow '%s' in %s\n", name,
                app.cfg.workflow_dir);
        goto out;
    }
    const struct loaded_trigger *t = wf->trigger;
    enum sb_status (*fn)(const struct sb_host *, struct sb_call *, const struct sb_hook_target *) =
        strcmp(action, "register") == 0 ? t->desc.register_hook
        : strcmp(action, "list") == 0   ? t->desc.list_hooks
                                        : t->desc.unregister_hook;
    if (!fn) {
        fprintf(stderr,
                "switchboard hooks: %s cannot %s its webhook at the provider; create it there by "
                "hand (see switchboard describe %s)\n",
                t->full_name, action, t->full_name);
        goto out;
    }
    char err[512];
    if (store_open(app.cfg.store, &store, err, sizeof(err)) < 0) {
        fprintf(stderr, "switchboard hooks: store: %s\n", err);
        goto out;
    }
    if (engine_init_plugins(&app.plugins) < 0)
        goto out;
    inited = true;
    struct call_hooks hooks = {
        .ctx = store, .kv_get = hooks_kv_get, .kv_set = hooks_kv_set, .now_ms = hooks_now};
    struct sb_call c;
    call_init(&c, CALL_HOOKS, t->full_name);
    c.wf = wf;
    call_set_context(&c);
    c.plugin = t->plugin;
    c.table = &t->table;
    c.binding = &wf->trigger_params;
    c.params = call_params_static(&t->table, &wf->trigger_params);
    c.hooks = &hooks;
    c.timeout_ms = 30000;
    /* copied: the callback may ask sb->public_url again. NULL when not
     * configured: a plugin with a URL of its own (Trello's callback_url)
     * does not need it */
    const char *url = core_host.public_url(&c);
    char *target_url = url ? xstrdup(url) : NULL;
    struct sb_hook_target target = {
        .size = sizeof(target), .url = target_url, .workflow = wf->name};
    enum sb_status st = fn(&core_host, &c, &target);
    if (st != SB_OK) {
        fprintf(stderr, "switchboard hooks %s %s: %s\n", action, name,
                c.error.len ? strbuf_str(&c.error) : "the plugin failed");
        if (!target_url)
            fprintf(stderr,
                    "hint: set [server] public_url in %s (the address providers reach this "
                    "engine at), or public_url in the workflow's [trigger]\n",
                    app.cfg.path ? app.cfg.path : "switchboard.ini");
    } else if (print_output(t->full_name, action, c.output, cli->json,
                            target_url ? target_url : "this workflow") == 0) {
        rc = 0;
    }
    free(target_url);
    json_object_put(c.params);
    c.params = NULL;
    call_release(&c);
out:
    if (inited)
        engine_fini_plugins(&app.plugins);
    if (store)
        store_close(store);
    app_release(&app);
    return rc;
}
