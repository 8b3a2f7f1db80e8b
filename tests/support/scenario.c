/*
 * scenario: helpers the end-to-end cmocka programs share (scenario.h).
 * The shipped examples are found from this file's own path: CMake compiles
 * it by its absolute path, <tree>/tests/support/scenario.c.
 */
#include "scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "slack_checks.h"
#include "standin.h"

void scenario_post_event(const struct sb_proc *p, const char *hook, const char *body)
{
    const char *h[] = {"Content-Type: application/json", NULL};
    struct http_reply r;
    long status = sbp_hook_request(p, "POST", hook, h, body, &r);
    char answer[512];
    snprintf(answer, sizeof(answer), "%s", r.body);
    http_reply_free(&r);
    if (status != 200)
        fail_msg("POST /hooks/%s: %ld %s", hook, status, answer);
}

const char *scenario_json_get(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    struct json_object *cur = o;
    for (char *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(cur, k, &cur))
            return NULL;
    return cur ? json_object_get_string(cur) : NULL;
}

/* conf/examples/<name>.ini of the source tree into path. */
static int example_path(const char *name, char *path, size_t len)
{
    const char *me = __FILE__;
    const char *at = strstr(me, "tests/support/");
    if (!at) {
        fprintf(stderr, "scenario: cannot find the source tree from '%s'\n", me);
        return -1;
    }
    snprintf(path, len, "%.*sconf/examples/%s.ini", (int)(at - me), me, name);
    return 0;
}

/* The whole file as a string the caller frees; NULL if unreadable. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "scenario: cannot open '%s'\n", path);
        return NULL;
    }
    char *text = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        text = malloc((size_t)n + 1);
        if (text)
            text[fread(text, 1, (size_t)n, f)] = '\0';
    }
    fclose(f);
    if (!text)
        fprintf(stderr, "scenario: cannot read '%s'\n", path);
    return text;
}

/* The edit whose `after` starts `line`, or NULL. */
static const struct example_edit *edit_for(const struct example_edit *edits, const char *line)
{
    for (size_t i = 0; edits && edits[i].after; i++)
        if (strncmp(line, edits[i].after, strlen(edits[i].after)) == 0)
            return &edits[i];
    return NULL;
}

char *scenario_example(const char *name, const struct example_edit *edits)
{
    return scenario_example_replacing(name, edits, NULL);
}

char *scenario_example_replacing(const char *name, const struct example_edit *edits,
                                 const struct example_edit *replacements)
{
    char path[1024];
    if (example_path(name, path, sizeof(path)) < 0)
        return NULL;
    char *text = read_text(path);
    if (!text)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) {
        free(text);
        return NULL;
    }
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        const struct example_edit *r = edit_for(replacements, line);
        if (r)
            fprintf(f, "%s\n", r->line);
        else
            fwrite(line, 1, n, f);
        const struct example_edit *e = edit_for(edits, line);
        if (e)
            fprintf(f, "%s%s\n", nl ? "" : "\n", e->line);
        line += n;
    }
    free(text);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int scenario_start_example(struct sb_proc *p, const char *name, const struct example_edit *edits,
                           const char *const *env)
{
    return scenario_start_example_replacing(p, name, edits, NULL, env);
}

int scenario_start_example_replacing(struct sb_proc *p, const char *name,
                                     const struct example_edit *edits,
                                     const struct example_edit *replacements,
                                     const char *const *env)
{
    if (sbp_init(p, "[engine]\nworkers = 2\n") < 0)
        return -1;
    char *text = scenario_example_replacing(name, edits, replacements);
    int rc = text && sbp_write_workflow(p, name, text) == 0 ? sbp_start(p, env) : -1;
    free(text);
    return rc;
}

int scenario_start_with_slack(struct sb_proc *p, struct standin **slack_standin,
                              struct slack_api **slack, const char *name,
                              const struct example_edit *more, const char *const *env)
{
    if (standin_start(slack_standin) < 0)
        return -1;
    *slack = slack_api_install(*slack_standin);
    char api_base[300];
    snprintf(api_base, sizeof(api_base), "api_base = %s/api", standin_url(*slack_standin));
    /* the Slack edit first: it wins on a line another edit also matches */
    struct example_edit edits[8] = {{"use = slack.", api_base}};
    size_t n = 1;
    for (size_t i = 0; more && more[i].after; i++) {
        if (n + 1 >= sizeof(edits) / sizeof(edits[0])) {
            fprintf(stderr, "scenario: too many edits of '%s'\n", name);
            return -1;
        }
        edits[n++] = more[i];
    }
    edits[n] = (struct example_edit){NULL, NULL};
    return scenario_start_example(p, name, edits, env);
}

void scenario_stop_with_slack(struct sb_proc *p, struct standin *slack_standin,
                              struct slack_api *slack)
{
    sbp_cleanup(p);
    standin_stop(slack_standin);
    slack_api_free(slack);
}

int scenario_check_example(const char *name, const char *const *env, char **out, char **err)
{
    char src[1024], dir[] = "/tmp/sbexample-XXXXXX", dst[1100];
    /* fail here rather than return an exit status no check gave */
    if (example_path(name, src, sizeof(src)) < 0 || !mkdtemp(dir))
        fail_msg("cannot find example '%s' or make a folder for it", name);
    snprintf(dst, sizeof(dst), "%s/%s.ini", dir, name);
    char *text = read_text(src);
    FILE *f = text ? fopen(dst, "w") : NULL;
    bool written = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        written = false;
    free(text);
    if (!written) {
        unlink(dst);
        rmdir(dir);
        fail_msg("cannot copy example '%s' to '%s'", name, dst);
    }
    const char *argv[] = {testkit_binary(),  "check",       "-c", "/dev/null", "--plugins",
                          testkit_plugins(), "--workflows", dir,  NULL};
    char *o = NULL, *e = NULL;
    int rc = run_capture(argv, env, &o, &e);
    unlink(dst);
    rmdir(dir);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

void scenario_assert_example_passes(const char *name, const char *const *env, char **out)
{
    char *o = NULL, *e = NULL;
    int rc = scenario_check_example(name, env, &o, &e);
    if (rc != 0)
        fail_msg("switchboard check %s: %d\n%s%s", name, rc, o ? o : "", e ? e : "");
    free(e);
    if (out)
        *out = o;
    else
        free(o);
}
