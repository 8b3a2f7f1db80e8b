/*
 * What every command loads: the configuration, the plugins and the
 * workflows, with every problem collected in one diag.
 */
#ifndef SB_APP_H
#define SB_APP_H

#include <stdbool.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "workflow.h"

struct app {
    struct config cfg;
    struct plugin_set plugins;
    struct workflow_set workflows;
    struct diag diag;
};

#define APP_PLUGINS (1u << 0)
#define APP_WORKFLOWS (1u << 1)

/* Load what `what` asks for (workflows imply plugins). Returns 0 when
 * nothing had an error, -1 otherwise; app must be released either way. */
int app_load(struct app *app, const struct config_overrides *ov, unsigned what);
void app_release(struct app *app);

/* Command-line options shared by the commands. */
struct cli {
    struct config_overrides ov;
    bool json;
    bool help;
    bool dry_run;
    const char *positional[8];
    int n_positional;
    /* command-specific options, as given */
    const char *opt_event;
    const char *opt_status;
    const char *opt_workflow;
    const char *opt_limit;
    const char *opt_since;
    const char *opt_secret;
    const char *opt_timestamp;
    const char *opt_url;
    const char *opt_dir;
    const char *opt_id;
    const char *opt_set[16]; /* --set NAME=VALUE, in order */
    int n_set;
    bool failed;
};

/* Parse argv (after the command name). Returns 0, or -1 with a message on
 * stderr. */
int cli_parse(struct cli *cli, int argc, char **argv, const char *command);

#endif
