/* switchboard fire: run one workflow on a sample event, in this process,
 * each step once; --dry-run prints the requests the actions would send
 * (secrets masked) and sends nothing. Nothing is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "commands.h"
#include "crypto.h"
#include "engine.h"
#include "run_exec.h"
#include "xalloc.h"

static char *read_all(FILE *f)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&sb, buf, n);
    return strbuf_detach(&sb, NULL);
}

static int64_t fire_now(void *ctx)
{
    (void)ctx;
    return engine_now_ms();
}

int cmd_fire(struct cli *cli)
{
    if (cli->n_positional != 1) {
        fprintf(stderr, "usage: switchboard fire WORKFLOW [--event FILE|-] [--dry-run]\n");
        return 2;
    }
    const char *name = cli->positional[0];
    struct app app;
    int rc = app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    struct json_object *payload = NULL;
    struct wf_snapshot *snap = NULL;
    bool inited = false;
    if (rc < 0)
        goto out;
    rc = -1;
    if (!workflow_set_find(&app.workflows, name)) {
        fprintf(stderr, "switchboard fire: no workflow '%s' in %s\n", name, app.cfg.workflow_dir);
        goto out;
    }
    if (cli->opt_event) {
        FILE *f = strcmp(cli->opt_event, "-") == 0 ? stdin : fopen(cli->opt_event, "rb");
        if (!f) {
            fprintf(stderr, "switchboard fire: cannot read '%s'\n", cli->opt_event);
            goto out;
        }
        char *text = read_all(f);
        if (f != stdin)
            fclose(f);
        enum json_tokener_error jerr = json_tokener_success;
        payload = json_tokener_parse_verbose(text, &jerr);
        free(text);
        if (!payload) {
            fprintf(stderr, "switchboard fire: '%s' is not JSON: %s\n", cli->opt_event,
                    json_tokener_error_desc(jerr));
            goto out;
        }
    } else {
        payload = json_object_new_object();
    }
    if (engine_init_plugins(&app.plugins) < 0)
        goto out;
    inited = true;
    snap = engine_snapshot_new(NULL, &app.workflows);
    if (!snap)
        goto out;
    struct workflow *wf = snapshot_find(snap, name);
    struct claimed_run r = {0};
    char rnd[13], idbuf[64];
    crypto_random_id(rnd, 12);
    struct json_object *v;
    if (json_object_object_get_ex(payload, "id", &v) && json_object_is_type(v, json_type_string))
        snprintf(idbuf, sizeof(idbuf), "%s", json_object_get_string(v));
    else
        snprintf(idbuf, sizeof(idbuf), "fire_%s", rnd);
    char type[128] = "fire";
    if (json_object_object_get_ex(payload, "type", &v) && json_object_is_type(v, json_type_string))
        snprintf(type, sizeof(type), "%s", json_object_get_string(v));
    r.workflow = wf->name;
    r.source = (char *)(uintptr_t) "fire";
    r.event_id = idbuf;
    r.type = type;
    r.attempts = 1;
    r.received_at_ms = r.created_at_ms = engine_now_ms();
    r.payload = payload;
    r.envelope = json_object_new_object();
    json_object_object_add(r.envelope, "method", json_object_new_string("POST"));
    if (wf->hook) {
        char path[512];
        snprintf(path, sizeof(path), "/hooks/%s", wf->hook);
        json_object_object_add(r.envelope, "path", json_object_new_string(path));
        json_object_object_add(r.envelope, "hook", json_object_new_string(wf->hook));
    }
    struct call_hooks hooks = {.now_ms = fire_now};
    struct exec_env env = {.hooks = &hooks, .dry_run = cli->dry_run, .report = stdout};
    printf("firing %s%s on event %s (%s)\n\n", wf->name,
           cli->dry_run ? " (dry run: nothing is sent)" : "", idbuf, type);
    fflush(stdout);
    struct exec_result res;
    exec_run(&env, wf, &r, &res);
    json_object_put(r.envelope);
    printf("result: %s%s%s\n", res.status, res.error[0] ? ": " : "", res.error);
    rc = strcmp(res.status, "succeeded") == 0 || strcmp(res.status, "skipped") == 0 ? 0 : -1;
    if (rc < 0 && !cli->opt_event)
        printf("\nhint: no --event was given, so the event was {}; save a sample payload as "
               "JSON (the workflow's comments may show one) and pass --event FILE\n");
out:
    json_object_put(payload);
    if (snap)
        engine_release(snap);
    if (inited)
        engine_fini_plugins(&app.plugins);
    app_release(&app);
    return rc == 0 ? 0 : 1;
}
