/*
 * scenario: what the end-to-end cmocka programs share on top of testkit:
 * posting events that must be accepted, reading JSON bodies, and running
 * the shipped conf/examples/ workflows against stand-ins. Unlike testkit,
 * these helpers fail the current test (cmocka) where they say so.
 */
#ifndef SB_SCENARIO_H
#define SB_SCENARIO_H

#include "testkit.h"

struct json_object;
struct slack_api;
struct standin;

/* POST a JSON body to /hooks/<hook> of a started engine; fails the test
 * (with the answer) unless it is 200. */
void scenario_post_event(const struct sb_proc *p, const char *hook, const char *body);

/* The value at a dotted path ("merge_fields.FNAME") of a JSON object as a
 * string, or NULL when absent (or o is NULL). Borrowed from o. */
const char *scenario_json_get(struct json_object *o, const char *path);

/* An edit of an example: `line` is added after every line that starts
 * with `after` (the first edit that matches a line wins). */
struct example_edit {
    const char *after;
    const char *line; /* without its newline */
};

/* conf/examples/<name>.ini of the source tree with the edits applied
 * (a list ended by {NULL, NULL}; may be NULL). The caller frees the
 * result; NULL if the example cannot be read (said on stderr). */
char *scenario_example(const char *name, const struct example_edit *edits);

/* scenario_example, and then every line that starts with a
 * `replacements[i].after` is replaced by its `line` (a list ended by
 * {NULL, NULL}; may be NULL): a value the example sets that a test must
 * change, such as a provider's login URL. */
char *scenario_example_replacing(const char *name, const struct example_edit *edits,
                                 const struct example_edit *replacements);

/* For a group setup: sbp_init `p` with two workers, write the edited
 * example `name` as the workflow of that name, and sbp_start it with
 * `env`. Returns 0 or -1; asserts nothing. */
int scenario_start_example(struct sb_proc *p, const char *name, const struct example_edit *edits,
                           const char *const *env);
/* The same with replacements too (scenario_example_replacing). */
int scenario_start_example_replacing(struct sb_proc *p, const char *name,
                                     const struct example_edit *edits,
                                     const struct example_edit *replacements,
                                     const char *const *env);

/* For a group setup: start a fake Slack (slack_checks.h) into
 * *slack_standin and *slack, then scenario_start_example with
 * `api_base = <fake>/api` added to every Slack step and the `more` edits
 * after it (may be NULL). Returns 0 or -1. */
int scenario_start_with_slack(struct sb_proc *p, struct standin **slack_standin,
                              struct slack_api **slack, const char *name,
                              const struct example_edit *more, const char *const *env);
/* For the group teardown: sbp_cleanup, then stop and free the fake Slack. */
void scenario_stop_with_slack(struct sb_proc *p, struct standin *slack_standin,
                              struct slack_api *slack);

/* `switchboard check` on a temporary folder holding only the example
 * `name` as shipped, with `env` added to the environment (may be NULL).
 * Returns its exit status; its stdout and stderr go to *out and *err when
 * those are not NULL (the caller frees them). Fails the test when the
 * example cannot be copied to that folder. */
int scenario_check_example(const char *name, const char *const *env, char **out, char **err);

/* Fails the test, with the output, unless scenario_check_example passes;
 * the stdout goes to *out when out is not NULL (the caller frees it). */
void scenario_assert_example_passes(const char *name, const char *const *env, char **out);

#endif
