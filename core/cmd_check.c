/* switchboard check, plugins, describe: read-only commands over the loaded
 * configuration. None of them runs plugin code beyond validate. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "describe.h"

int cmd_check(struct cli *cli)
{
    struct app app;
    int rc = app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    if (rc == 0) {
        size_t enabled = 0;
        for (size_t i = 0; i < app.workflows.n; i++)
            enabled += app.workflows.items[i]->enabled;
        printf("ok: %s, %zu plugin%s, %zu workflow%s (%zu enabled), %zu hook path%s\n",
               app.cfg.path ? app.cfg.path : "built-in defaults", app.plugins.n,
               app.plugins.n == 1 ? "" : "s", app.workflows.n, app.workflows.n == 1 ? "" : "s",
               enabled, app.workflows.n_routes, app.workflows.n_routes == 1 ? "" : "s");
    } else {
        fprintf(stderr, "%zu error%s\n", app.diag.errors, app.diag.errors == 1 ? "" : "s");
    }
    app_release(&app);
    return rc == 0 ? 0 : 1;
}

int cmd_plugins(struct cli *cli)
{
    struct app app;
    app_load(&app, &cli->ov, APP_PLUGINS);
    /* refused plugins are worth a word, but the list is still useful */
    diag_print(&app.diag, stderr);
    describe_plugins(&app.plugins, cli->json, stdout);
    int rc = app.diag.errors ? 1 : 0;
    app_release(&app);
    return rc;
}

int cmd_describe(struct cli *cli)
{
    if (cli->n_positional != 1) {
        fprintf(stderr,
                "usage: switchboard describe NAME [--json]\n"
                "  NAME is a plugin (slack), a trigger or an action (slack.post_message)\n");
        return 2;
    }
    struct app app;
    app_load(&app, &cli->ov, APP_PLUGINS);
    int rc = describe_name(&app.plugins, cli->positional[0], cli->json, stdout) == 0 ? 0 : 1;
    app_release(&app);
    return rc;
}
