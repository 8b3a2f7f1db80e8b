/* The subcommands of the switchboard program; each returns the exit code. */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

#include "app.h"

int cmd_check(struct cli *cli);
int cmd_plugins(struct cli *cli);
int cmd_describe(struct cli *cli);
int cmd_run(struct cli *cli);
int cmd_runs(struct cli *cli);
int cmd_show(struct cli *cli);
int cmd_replay(struct cli *cli);
int cmd_fire(struct cli *cli);
int cmd_sign(struct cli *cli);
int cmd_hooks(struct cli *cli);
int cmd_triggers(struct cli *cli);
int cmd_new_plugin(struct cli *cli);

#endif
