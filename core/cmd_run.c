/* switchboard run: load everything, refuse to start on any error, serve. */
#include <stdio.h>

#include "commands.h"
#include "engine.h"

int cmd_run(struct cli *cli)
{
    struct app app;
    int rc = app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    if (rc < 0) {
        fprintf(stderr,
                "switchboard run: not starting: %zu error%s (see above; "
                "'switchboard check' lists them too)\n",
                app.diag.errors, app.diag.errors == 1 ? "" : "s");
        app_release(&app);
        return 1;
    }
    rc = engine_run(&app);
    app_release(&app);
    return rc;
}
