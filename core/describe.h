/* `switchboard plugins` and `switchboard describe`: the descriptors as text
 * for people and as versioned JSON for tools. */
#ifndef SB_DESCRIBE_H
#define SB_DESCRIBE_H

#include <stdbool.h>
#include <stdio.h>

#include "loader.h"

/* The JSON schema version of `describe --json` output. */
#define DESCRIBE_SCHEMA "switchboard.describe/1"

/* Print every plugin with its triggers and actions. */
void describe_plugins(const struct plugin_set *set, bool json, FILE *out);
/* Describe "plugin.trigger", "plugin.action" or a whole "plugin". Returns 0,
 * or -1 when nothing has that name (with a message on stderr). */
int describe_name(const struct plugin_set *set, const char *name, bool json, FILE *out);

#endif
