/*
 * Workflows: one INI file each, validated as a whole against the loaded
 * plugins' descriptors before any plugin code runs. Every problem of every
 * file is reported in one pass as "file:line: [section] key: message".
 */
#ifndef SB_WORKFLOW_H
#define SB_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

#include "condition.h"
#include "diag.h"
#include "loader.h"
#include "template.h"

/* One parameter as written in a workflow, checked and parsed. */
struct bound_param {
    const struct sb_param *desc; /* in the loaded descriptor table */
    char *name;                  /* the descriptor's name ("header") */
    char *map_key;               /* MULTI: "X-Request-Id"; else NULL */
    char *text;                  /* the value, secrets resolved */
    bool secret;                 /* holds a secret (reference or SECRET type) */
    bool core;                   /* a core key (retry, timeout, path...) */
    struct template *tpl;        /* TEMPLATE with expressions; else NULL */
    struct json_object *value;   /* typed value when static (tpl NULL) */
    int line;
};

struct param_binding {
    struct bound_param *items;
    size_t n;
    size_t cap;
};

struct step {
    char *name;
    int line;
    const struct loaded_action *action;
    struct param_binding params;
    int retry;           /* -1: the workflow's, else the schedule's */
    int64_t *backoff_ms; /* NULL: the workflow's or the default */
    size_t n_backoff;
    int64_t timeout_ms;
    bool continue_on_error;
    bool dynamic_host;          /* templates may choose the host of its URLs */
    struct template *limit_key; /* the action's limit key, parsed */
    void *state;                /* from the action's setup */
};

struct workflow {
    char *name; /* file name without .ini */
    char *file; /* path as found */
    char *description;
    bool enabled;
    char hash[65]; /* sha256 hex of the file's bytes */
    int trigger_line;
    const struct loaded_trigger *trigger;
    struct param_binding trigger_params;
    char *hook;                      /* HTTP triggers: the path under /hooks/ */
    struct json_object *event_types; /* EVENT_TYPES patterns or NULL */
    struct condition *filter;
    char *filter_text;
    int filter_line;
    struct step *steps;
    size_t n_steps;
    struct step *on_failure;
    size_t n_on_failure;
    int retry; /* -1: default schedule */
    int64_t *backoff_ms;
    size_t n_backoff;
    void *trigger_state;                /* from the trigger's setup */
    struct json_object *trigger_static; /* trigger parameters, defaults applied */
};

/* All workflows bound to one hook path (same trigger and settings). */
struct hook_route {
    char *path;
    const struct loaded_trigger *trigger;
    struct workflow **workflows;
    size_t n;
    size_t cap;
};

struct workflow_set {
    struct workflow **items;
    size_t n;
    size_t cap;
    struct hook_route *routes;
    size_t n_routes;
    size_t cap_routes;
};

void workflow_set_init(struct workflow_set *set);
/*
 * Load and check every *.ini of `dir` (sorted by name). Problems go to diag.
 * Returns 0 when every file is valid, -1 otherwise; valid workflows are in
 * set either way.
 */
int workflow_set_load(struct workflow_set *set, const char *dir, const struct plugin_set *plugins,
                      struct diag *diag);
/* Load one file into set (also used by tests). */
int workflow_set_load_file(struct workflow_set *set, const char *path,
                           const struct plugin_set *plugins, struct diag *diag);
/* After loading: route hook paths and check conflicts between workflows. */
int workflow_set_link(struct workflow_set *set, struct diag *diag);
void workflow_set_release(struct workflow_set *set);

struct workflow *workflow_set_find(const struct workflow_set *set, const char *name);
const struct hook_route *workflow_set_route(const struct workflow_set *set, const char *path);

const struct bound_param *param_binding_find(const struct param_binding *b, const char *name);

/* The version of a whole set: 16 hex digits of a hash over every
 * workflow's name and content hash, into out[17]. */
void workflow_set_version(const struct workflow_set *set, char out[17]);

/* Does an event type match a workflow's event-type patterns (globs)? */
bool workflow_wants_type(const struct workflow *wf, const char *type);

#endif
