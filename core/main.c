/* switchboard: the command-line entry point. */
#include <stdio.h>
#include <string.h>

#include <switchboard/plugin.h>

#include "build_config.h"
#include "commands.h"
#include "httpclient.h"

struct command {
    const char *name;
    int (*fn)(struct cli *cli);
    const char *usage;
    const char *help;
};

static int cmd_version(struct cli *cli);

static const struct command commands[] = {
    {"run", cmd_run, "run [-c FILE] [--listen ADDR]",
     "Start the engine: serve webhooks at /hooks/<path>, store every event, run the "
     "workflows. Prints 'listening on http://HOST:PORT' when ready."},
    {"check", cmd_check, "check [-c FILE]",
     "Validate the configuration, plugins and workflows; print every error as file:line and "
     "exit 1 if there is one."},
    {"plugins", cmd_plugins, "plugins [--json]",
     "List the loaded connectors with their triggers and actions."},
    {"describe", cmd_describe, "describe NAME [--json]",
     "Print the parameters of a trigger, an action or a whole plugin; --json gives the "
     "versioned schema."},
    {"fire", cmd_fire, "fire WORKFLOW [--event FILE|-] [--dry-run]",
     "Run one workflow on a sample event, each step once, in this process; --dry-run prints "
     "the requests instead of sending them. Nothing is stored."},
    {"runs", cmd_runs, "runs [--status S] [--workflow W] [--limit N] [--json]",
     "Execution history, newest first: id, workflow, status, attempts, event, time, error."},
    {"show", cmd_show, "show RUN [--json]",
     "One run in full: its event, each step with attempts, output, error and timings."},
    {"replay", cmd_replay, "replay RUN | --failed [--since T] [--workflow W]",
     "Run dead or failed runs again from the step that failed (steps that succeeded are not "
     "repeated)."},
    {"triggers", cmd_triggers, "triggers [--json]",
     "Every workflow's trigger and its state: hook paths, next fire times, poll cursors, seen "
     "events, last errors, and the workflow version the engine runs."},
    {"sign", cmd_sign, "sign PROVIDER --secret S [--timestamp T] [--set OPT=V] < body",
     "Print the headers a provider would send with this body, signed by its plugin (a plugin, "
     "plugin.trigger or alias: stripe, slack, shopify, trello, standard, ...), one 'Name: "
     "value' line each; --set gives the trigger's sign options (see describe), --url U and "
     "--id I stand for --set url=U and --set id=I."},
    {"hooks", cmd_hooks, "hooks register|list|unregister WORKFLOW [--json]",
     "Create, show or delete the webhook at the provider (Stripe, Trello, Shopify, ...) that "
     "calls this workflow, with the credentials of its [trigger], at [server] public_url + "
     "/hooks/<path> (or the trigger's public_url)."},
    {"new-plugin", cmd_new_plugin, "new-plugin NAME [--dir D]",
     "Write a starter connector (one trigger, one action, CMakeLists.txt, Makefile, a test) "
     "into ./NAME/ or D."},
    {"version", cmd_version, "version", "Print the version of switchboard and of its SDK."},
};

static const char common_options[] =
    "options:\n"
    "  -c, --config FILE   configuration file (default: conf/switchboard.ini, then\n"
    "                      " SB_DEFAULT_SYSCONF ")\n"
    "  --listen HOST:PORT  override [server] listen\n"
    "  --store URL         override [engine] store (sqlite:PATH)\n"
    "  --workflows DIR     override [engine] workflow_dir\n"
    "  --plugins DIR       override [engine] plugin_dir\n"
    "  -h, --help          this help\n";

static int cmd_version(struct cli *cli)
{
    (void)cli;
    printf("switchboard %s (SDK %d.%d)\n", SB_VERSION, SB_ABI_MAJOR, SB_ABI_MINOR);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-34s %s\n", commands[i].usage, commands[i].help);
    fprintf(out, "\n%s\nRun 'switchboard COMMAND --help' for one command.\n", common_options);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(NULL);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct command *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        struct cli cli;
        if (cli_parse(&cli, argc - 2, argv + 2, c->name) < 0)
            return 2;
        if (cli.help) {
            printf("usage: switchboard %s\n\n%s\n\n%s", c->usage, c->help, common_options);
            return 0;
        }
        if (httpclient_global_init() < 0)
            return 1;
        int rc = c->fn(&cli);
        httpclient_global_cleanup();
        return rc;
    }
    fprintf(stderr, "switchboard: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
