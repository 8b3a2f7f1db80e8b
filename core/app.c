#include "app.h"

#include <stdio.h>
#include <string.h>

#include "call.h"
#include "log.h"

int app_load(struct app *app, const struct config_overrides *ov, unsigned what)
{
    memset(app, 0, sizeof(*app));
    diag_init(&app->diag);
    plugin_set_init(&app->plugins);
    workflow_set_init(&app->workflows);
    int rc = config_load(&app->cfg, ov, &app->diag);
    log_setup(app->cfg.log_level, app->cfg.log_format);
    call_set_public_base(app->cfg.public_url);
    if (what & (APP_PLUGINS | APP_WORKFLOWS)) {
        if (plugin_set_load_dirs(&app->plugins, app->cfg.plugin_dirs, app->cfg.n_plugin_dirs,
                                 &app->diag) > 0)
            rc = -1;
    }
    if (what & APP_WORKFLOWS) {
        if (workflow_set_load(&app->workflows, app->cfg.workflow_dir, &app->plugins, &app->diag) <
            0)
            rc = -1;
    }
    return app->diag.errors ? -1 : rc;
}

void app_release(struct app *app)
{
    workflow_set_release(&app->workflows);
    plugin_set_release(&app->plugins);
    config_release(&app->cfg);
    diag_release(&app->diag);
}

/* An option's value: "--opt=value" or the next argument. */
static const char *take_value(int argc, char **argv, int *i, const char *arg, size_t optlen)
{
    if (arg[optlen] == '=')
        return arg + optlen + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int cli_parse(struct cli *cli, int argc, char **argv, const char *command)
{
    memset(cli, 0, sizeof(*cli));
    static const struct {
        const char *name;
        size_t offset;
    } valued[] = {
        {"--config", offsetof(struct cli, ov.config)},
        {"--listen", offsetof(struct cli, ov.listen)},
        {"--store", offsetof(struct cli, ov.store)},
        {"--workflows", offsetof(struct cli, ov.workflows)},
        {"--plugins", offsetof(struct cli, ov.plugins)},
        {"--event", offsetof(struct cli, opt_event)},
        {"--status", offsetof(struct cli, opt_status)},
        {"--workflow", offsetof(struct cli, opt_workflow)},
        {"--limit", offsetof(struct cli, opt_limit)},
        {"--since", offsetof(struct cli, opt_since)},
        {"--secret", offsetof(struct cli, opt_secret)},
        {"--timestamp", offsetof(struct cli, opt_timestamp)},
        {"--url", offsetof(struct cli, opt_url)},
        {"--dir", offsetof(struct cli, opt_dir)},
        {"--id", offsetof(struct cli, opt_id)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli->help = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            cli->json = true;
            continue;
        }
        if (strcmp(a, "--dry-run") == 0) {
            cli->dry_run = true;
            continue;
        }
        if (strcmp(a, "--failed") == 0) {
            cli->failed = true;
            continue;
        }
        if (strncmp(a, "--set", 5) == 0 && (a[5] == '\0' || a[5] == '=')) {
            const char *v = take_value(argc, argv, &i, a, 5);
            if (!v || !strchr(v, '=')) {
                fprintf(stderr, "switchboard %s: --set needs NAME=VALUE\n", command);
                return -1;
            }
            if (cli->n_set >= (int)(sizeof(cli->opt_set) / sizeof(cli->opt_set[0]))) {
                fprintf(stderr, "switchboard %s: too many --set options\n", command);
                return -1;
            }
            cli->opt_set[cli->n_set++] = v;
            continue;
        }
        if (strcmp(a, "-c") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "switchboard %s: -c needs a file\n", command);
                return -1;
            }
            cli->ov.config = argv[++i];
            continue;
        }
        bool matched = false;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
            size_t n = strlen(valued[k].name);
            if (strncmp(a, valued[k].name, n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                const char *v = take_value(argc, argv, &i, a, n);
                if (!v) {
                    fprintf(stderr, "switchboard %s: %s needs a value\n", command, valued[k].name);
                    return -1;
                }
                memcpy((char *)cli + valued[k].offset, &v, sizeof(v));
                matched = true;
                break;
            }
        }
        if (matched)
            continue;
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "switchboard %s: unknown option '%s' (see switchboard %s --help)\n",
                    command, a, command);
            return -1;
        }
        if (cli->n_positional >= 8) {
            fprintf(stderr, "switchboard %s: too many arguments\n", command);
            return -1;
        }
        cli->positional[cli->n_positional++] = a;
    }
    return 0;
}
