/*
 * The Asana actions: create_task, add_comment and the generic request.
 * Bodies are {"data": {...}} built with json-c from the rendered
 * parameters, so payload text cannot break their structure. Asana has no
 * idempotency key: both writes are at-least-once, like every step
 * (docs/workflows.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "asana.h"

#define MAX_PATH 1024

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", NULL};

const struct sb_param asana_create_task_params[] = {
    {.name = "workspace",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the workspace gid (needed unless projects is given)"},
    {.name = "projects",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "gids of the projects the task goes into, e.g. the support project's"},
    {.name = "name",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the task's name"},
    {.name = "notes",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the task's description (plain text)"},
    {.name = "assignee",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "who it is for: a user gid, an email address, or me; empty: nobody"},
    {.name = "due_on",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the due date, YYYY-MM-DD; empty: none"},
    ASANA_COMMON_PARAMS,
    SB_END,
};

const struct sb_param asana_add_comment_params[] = {
    {.name = "task",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the task's gid (e.g. {{ steps.task.gid }})"},
    {.name = "text",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the comment (plain text)"},
    ASANA_COMMON_PARAMS,
    SB_END,
};

const struct sb_param asana_request_params[] = {
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the endpoint under api_base, e.g. /tasks/{{ event.resource.gid }} (values are "
             "percent-encoded)"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body, {\"data\": {...}} as Asana takes it; values inserted by templates are "
             "JSON-escaped"},
    ASANA_COMMON_PARAMS,
    SB_END,
};

/* --- helpers ------------------------------------------------------------------------ */

static bool add_string(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *v = json_object_new_string(value);
    if (!v || json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

static bool has_template(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

/* YYYY-MM-DD with a month and day in range. */
static bool is_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789-") != 10)
        return false;
    int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* A gid: digits only. */
static bool is_gid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 32 && strspn(s, "0123456789") == n;
}

/* {"data": data} (consumes data); NULL when out of memory. */
static struct json_object *wrap(struct json_object *data)
{
    struct json_object *body = data ? json_object_new_object() : NULL;
    if (!body || json_object_object_add(body, "data", data) != 0) {
        json_object_put(body);
        json_object_put(data);
        return NULL;
    }
    return body;
}

static void dry_output(const struct sb_host *sb, struct sb_call *call, bool with_gid)
{
    struct json_object *out = json_object_new_object();
    if (!out)
        return;
    json_object_object_add(out, "dry_run", json_object_new_boolean(1));
    if (with_gid) {
        json_object_object_add(out, "gid", json_object_new_string("dry-run"));
        json_object_object_add(out, "permalink_url",
                               json_object_new_string("https://app.asana.com/0/0/dry-run"));
    }
    sb->set_output(call, out);
}

/* Send body (consumed), and make the answer's data the output. */
static enum sb_status send_data(const struct sb_host *sb, struct sb_call *call, const char *what,
                                const char *path, struct json_object *body)
{
    if (!body)
        return sb->fail(call, "out of memory");
    struct json_object *answer = NULL;
    enum sb_status st = asana_call(sb, call, what, "POST", path, body, &answer, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    struct json_object *data = asana_data(answer), *gid;
    if (!data || !json_object_object_get_ex(data, "gid", &gid)) {
        json_object_put(answer);
        return sb->fail(call, "%s: Asana's answer has no data.gid", what);
    }
    sb->set_output(call, json_object_get(data));
    json_object_put(answer);
    return SB_OK;
}

/* --- create_task --------------------------------------------------------------------- */

enum sb_status asana_create_task_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = asana_common_validate(sb, call) == SB_OK;
    if (!sb->param_string(call, "workspace") && !sb->param_json(call, "projects")) {
        sb->config_error(call, "workspace",
                         "give workspace or projects: Asana must know where the task goes");
        ok = false;
    }
    const char *due = sb->param_string(call, "due_on");
    if (due && *due && !has_template(due) && !is_date(due)) {
        sb->config_error(call, "due_on", "'%s' is not a date as YYYY-MM-DD", due);
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

/* POST /tasks {"data": {name, notes, workspace, projects, assignee,
 * due_on}}; the output is the task (gid, name, permalink_url, ...). */
enum sb_status asana_create_task_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "create task";
    const char *name = sb->param_string(call, "name");
    const char *notes = sb->param_string(call, "notes");
    const char *workspace = sb->param_string(call, "workspace");
    const char *assignee = sb->param_string(call, "assignee");
    const char *due = sb->param_string(call, "due_on");
    struct json_object *projects = sb->param_json(call, "projects");
    if (!name || !*name)
        return sb->fail(call, "%s: the name rendered empty", what);
    if (due && *due && !is_date(due))
        return sb->fail(call, "%s: due_on '%s' is not a date as YYYY-MM-DD", what, due);
    if (workspace && *workspace && !is_gid(workspace))
        return sb->fail(call, "%s: workspace '%s' is not a gid", what, workspace);
    struct json_object *data = json_object_new_object();
    bool ok = data && add_string(data, "name", name);
    if (ok && notes)
        ok = add_string(data, "notes", notes);
    if (ok && workspace && *workspace)
        ok = add_string(data, "workspace", workspace);
    if (ok && assignee && *assignee)
        ok = add_string(data, "assignee", assignee);
    if (ok && due && *due)
        ok = add_string(data, "due_on", due);
    size_t n_projects = 0;
    if (ok && projects && json_object_is_type(projects, json_type_array)) {
        struct json_object *list = json_object_new_array();
        ok = list != NULL;
        for (size_t i = 0; ok && i < json_object_array_length(projects); i++) {
            const char *gid = json_object_get_string(json_object_array_get_idx(projects, i));
            if (!*gid)
                continue;
            if (!is_gid(gid)) {
                json_object_put(list);
                json_object_put(data);
                return sb->fail(call, "%s: project '%s' is not a gid", what, gid);
            }
            ok = json_object_array_add(list, json_object_new_string(gid)) == 0;
            n_projects++;
        }
        if (!ok || json_object_object_add(data, "projects", list) != 0) {
            json_object_put(list);
            ok = false;
        }
    }
    if (!ok) {
        json_object_put(data);
        return sb->fail(call, "out of memory");
    }
    if (n_projects == 0 && !(workspace && *workspace)) {
        json_object_put(data);
        return sb->fail(call, "%s: workspace and projects rendered empty", what);
    }
    return send_data(sb, call, what, "/tasks", wrap(data));
}

/* --- add_comment ----------------------------------------------------------------------- */

/* POST /tasks/{task}/stories {"data": {"text": ...}}; the output is the
 * story. */
enum sb_status asana_add_comment_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "add comment";
    const char *task = sb->param_string(call, "task");
    const char *text = sb->param_string(call, "text");
    /* a dry run's task gid stands in for the one create_task would make */
    if (!task || (!is_gid(task) && !(sb->dry_run(call) && *task)))
        return sb->fail(call, "%s: task '%s' is not a task gid", what, task ? task : "");
    if (!text || !*text)
        return sb->fail(call, "%s: the text rendered empty", what);
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "/tasks/%.64s/stories", task);
    struct json_object *data = json_object_new_object();
    if (!data || !add_string(data, "text", text)) {
        json_object_put(data);
        return sb->fail(call, "out of memory");
    }
    return send_data(sb, call, what, path, wrap(data));
}

/* --- request -------------------------------------------------------------------------- */

enum sb_status asana_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = asana_common_validate(sb, call) == SB_OK;
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path", "'%s' must start with '/', e.g. /tasks/<gid>", path);
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

/* Any endpoint: METHOD {api_base}{path} with an optional JSON body; the
 * output is {status, body}. */
enum sb_status asana_request_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *path = sb->param_string(call, "path");
    const char *text = sb->param_string(call, "body");
    const char *method = sb->param_string(call, "method");
    if (!method)
        method = text ? "POST" : "GET";
    if (!path || path[0] != '/')
        return sb->fail(call, "path '%s' does not start with '/'", path ? path : "");
    struct json_object *body = NULL;
    if (text) {
        body = json_tokener_parse(text);
        if (!body)
            return sb->fail(call, "the body is not valid JSON");
    }
    char what[64];
    snprintf(what, sizeof(what), "%s request", method);
    struct json_object *answer = NULL;
    long status = 0;
    enum sb_status st = asana_call(sb, call, what, method, path, body, &answer, &status);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, false);
        return SB_OK;
    }
    struct json_object *out = json_object_new_object();
    if (!out) {
        json_object_put(answer);
        return sb->fail(call, "out of memory");
    }
    json_object_object_add(out, "status", json_object_new_int64(status));
    json_object_object_add(out, "body", answer);
    sb->set_output(call, out);
    return SB_OK;
}
