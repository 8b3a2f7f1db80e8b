/* switchboard triggers: every workflow's trigger and its state: hook paths,
 * each schedule's next fire time, each poller's cursor, seen items and last
 * error, and the workflow version the engine runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call.h"
#include "commands.h"
#include "store.h"

static const char *kind_name(uint32_t kind)
{
    return kind == SB_TRIGGER_HTTP ? "http" : kind == SB_TRIGGER_POLL ? "poll" : "thread";
}

static const char *get(struct json_object *o, const char *key)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* Keys a plugin keeps a secret under (sb->kv_set "secret..."): shown as
 * **** (an empty value stays empty: nothing is stored). */
static void mask_secrets(struct json_object *kv)
{
    if (!kv)
        return;
    json_object_object_foreach(kv, key, val)
    {
        if (strncmp(key, "secret", 6) == 0 && *json_object_get_string(val))
            json_object_object_add(kv, key, json_object_new_string("****"));
    }
}

int cmd_triggers(struct cli *cli)
{
    struct app app;
    int rc = app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    struct store *s = NULL;
    char err[512];
    if (store_open(app.cfg.store, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "switchboard triggers: store: %s\n", err);
        app_release(&app);
        return 1;
    }
    char on_disk[17];
    workflow_set_version(&app.workflows, on_disk);
    char *running = NULL;
    store_kv_get(s, "_engine", "version", &running);
    struct json_object *all = json_object_new_array();
    if (!cli->json)
        printf("workflows on disk: version %s%s; engine last loaded: %s\n\n", on_disk,
               rc < 0 ? " (with errors: see above)" : "", running ? running : "(never run)");
    for (size_t i = 0; i < app.workflows.n; i++) {
        const struct workflow *wf = app.workflows.items[i];
        const struct loaded_trigger *t = wf->trigger;
        char scope[600], source[300];
        call_kv_scope(wf, t->full_name, scope, sizeof(scope));
        snprintf(source, sizeof(source), "%s:%s", t->full_name, wf->name);
        struct json_object *kv = store_kv_list(s, scope);
        mask_secrets(kv);
        struct json_object *status = NULL;
        const char *st_text = get(kv, "_status");
        if (st_text)
            status = json_tokener_parse(st_text);
        int64_t seen = 0, unfinished = 0;
        store_source_events(s, source, &seen);
        store_unfinished_runs(s, wf->name, NULL, &unfinished);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "workflow", json_object_new_string(wf->name));
        json_object_object_add(o, "enabled", json_object_new_boolean(wf->enabled));
        json_object_object_add(o, "trigger", json_object_new_string(t->full_name));
        json_object_object_add(o, "kind", json_object_new_string(kind_name(t->desc.kind)));
        if (wf->hook) {
            char path[512];
            snprintf(path, sizeof(path), "/hooks/%s", wf->hook);
            json_object_object_add(o, "path", json_object_new_string(path));
        }
        json_object_object_add(o, "hash", json_object_new_string(wf->hash));
        json_object_object_add(o, "unfinished_runs", json_object_new_int64(unfinished));
        if (t->desc.kind != SB_TRIGGER_HTTP)
            json_object_object_add(o, "seen_events", json_object_new_int64(seen));
        json_object_object_add(o, "state", kv ? kv : json_object_new_object());
        json_object_object_add(o, "status", status);
        if (cli->json) {
            printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
            printf("%-24s %-20s %-6s", wf->name, t->full_name, kind_name(t->desc.kind));
            if (wf->hook)
                printf(" POST /hooks/%s", wf->hook);
            if (!wf->enabled)
                printf("  (disabled)");
            printf("\n");
            const char *next = get(kv, "next");
            if (next)
                printf("    next fire  %s\n", next);
            if (status) {
                if (get(status, "next_poll") && !next)
                    printf("    next poll  %s\n", get(status, "next_poll"));
                if (get(status, "last_poll"))
                    printf("    last poll  %s\n", get(status, "last_poll"));
                if (get(status, "last_error"))
                    printf("    last error %s\n", get(status, "last_error"));
            }
            if (get(kv, "cursor"))
                printf("    cursor     %s\n", get(kv, "cursor"));
            if (t->desc.kind != SB_TRIGGER_HTTP)
                printf("    seen       %lld event(s)\n", (long long)seen);
            if (unfinished)
                printf("    unfinished %lld run(s)\n", (long long)unfinished);
        }
        json_object_array_add(all, o);
    }
    json_object_put(all);
    free(running);
    store_close(s);
    app_release(&app);
    return rc < 0 ? 1 : 0;
}
