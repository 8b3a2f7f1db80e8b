/* switchboard runs, show, replay: execution history from the store, and
 * replays of what died. They open the store directly, so they work whether
 * or not the engine is running (SQLite arbitrates between processes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "commands.h"
#include "engine.h"
#include "params.h"
#include "redact.h"
#include "secret.h"
#include "store.h"
#include "textsafe.h"

/* Text from the store as one safe line: secrets masked, control bytes
 * escaped. Caller frees. */
static char *safe_line(const char *text)
{
    struct strbuf masked = STRBUF_INIT, line = STRBUF_INIT;
    redact_append(&masked, text, strlen(text));
    textsafe_append(&line, strbuf_str(&masked), masked.len, TEXTSAFE_LINE);
    strbuf_release(&masked);
    return strbuf_detach(&line, NULL);
}

/* Print a JSON value (consumed) with its secrets masked and its control
 * bytes escaped, so that it is safe for a terminal and still JSON. */
static void print_json(struct json_object *v, int flags)
{
    v = redact_json(v, NULL);
    textsafe_fputs(json_object_to_json_string_ext(v, flags | JSON_C_TO_STRING_NOSLASHESCAPE),
                   TEXTSAFE_JSON, stdout);
    json_object_put(v);
}

/* Print before, the value made a safe line, then after. */
static void print_field(const char *before, const char *value, const char *after)
{
    char *v = safe_line(value);
    fputs(before, stdout);
    fputs(v, stdout);
    fputs(after, stdout);
    free(v);
}

static int open_store(struct cli *cli, struct app *app, struct store **s)
{
    config_load(&app->cfg, &cli->ov, &app->diag);
    /* what is stored was masked before it was stored; mask again what
     * this process can resolve, in case an older engine stored it */
    secret_register_dir(app->cfg.workflow_dir);
    if (!store_exists(app->cfg.store)) {
        fprintf(stderr,
                "switchboard: no store at %s yet: nothing has run (the engine creates it on "
                "its first start; check [engine] store or --store)\n",
                app->cfg.store);
        return -1;
    }
    char err[512];
    if (store_open(app->cfg.store, s, err, sizeof(err)) < 0) {
        fprintf(stderr, "switchboard: store: %s\n", err);
        return -1;
    }
    return 0;
}

/* --since: an ISO date (2026-11-26 or 2026-11-26T10:00:00Z) or a duration
 * ago (1h, 2d). Unix ms, or -1. */
static int64_t parse_since(const char *text)
{
    int64_t ms;
    if (parse_duration_ms(text, &ms) == 0)
        return engine_now_ms() - ms;
    int y, mo, d, h = 0, mi = 0, s = 0;
    char *end;
    y = (int)strtol(text, &end, 10);
    if (*end != '-')
        return -1;
    mo = (int)strtol(end + 1, &end, 10);
    if (*end != '-')
        return -1;
    d = (int)strtol(end + 1, &end, 10);
    if (*end == 'T' || *end == ' ') {
        h = (int)strtol(end + 1, &end, 10);
        if (*end == ':')
            mi = (int)strtol(end + 1, &end, 10);
        if (*end == ':')
            s = (int)strtol(end + 1, &end, 10);
    }
    if (*end == 'Z')
        end++;
    if (*end || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    /* days from civil (Howard Hinnant), UTC */
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
}

static int fill_filter(struct cli *cli, struct run_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->status = cli->opt_status;
    f->workflow = cli->opt_workflow;
    if (cli->opt_limit) {
        int64_t n;
        if (parse_int64(cli->opt_limit, &n) < 0 || n < 1) {
            fprintf(stderr, "switchboard: --limit wants a positive number, not '%s'\n",
                    cli->opt_limit);
            return -1;
        }
        f->limit = (size_t)n;
    }
    if (cli->opt_since) {
        f->since_ms = parse_since(cli->opt_since);
        if (f->since_ms < 0) {
            fprintf(stderr,
                    "switchboard: --since wants a date (2026-11-26T10:00:00Z) or a "
                    "duration ago (1h), not '%s'\n",
                    cli->opt_since);
            return -1;
        }
    }
    static const char *const statuses[] = {RUN_PENDING, RUN_RUNNING, RUN_SUCCEEDED,
                                           RUN_FAILED,  RUN_DEAD,    RUN_SKIPPED};
    if (f->status) {
        bool ok = false;
        for (size_t i = 0; i < 6; i++)
            ok |= strcmp(f->status, statuses[i]) == 0;
        if (!ok) {
            fprintf(stderr,
                    "switchboard: --status is one of pending, running, succeeded, "
                    "failed, dead, skipped; not '%s'\n",
                    f->status);
            return -1;
        }
    }
    return 0;
}

int cmd_runs(struct cli *cli)
{
    struct app app = {0};
    diag_init(&app.diag);
    struct store *s = NULL;
    struct run_filter f;
    int rc = 1;
    if (fill_filter(cli, &f) < 0 || open_store(cli, &app, &s) < 0)
        goto out;
    struct run_summary *runs = NULL;
    size_t n = 0;
    if (store_list_runs(s, &f, &runs, &n) < 0) {
        fprintf(stderr, "switchboard runs: cannot read the store\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct run_summary *r = &runs[i];
        char updated[40], next[40] = "";
        engine_iso8601(r->updated_at_ms, updated, sizeof(updated));
        if (strcmp(r->status, RUN_FAILED) == 0 || strcmp(r->status, RUN_PENDING) == 0)
            engine_iso8601(r->next_attempt_at_ms, next, sizeof(next));
        if (cli->json) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_int64(r->id));
            json_object_object_add(o, "workflow", json_object_new_string(r->workflow));
            json_object_object_add(o, "status", json_object_new_string(r->status));
            json_object_object_add(o, "attempts", json_object_new_int(r->attempts));
            json_object_object_add(o, "event", json_object_new_string(r->event_id));
            json_object_object_add(o, "type", json_object_new_string(r->type));
            json_object_object_add(o, "updated_at", json_object_new_string(updated));
            json_object_object_add(o, "next_attempt_at",
                                   next[0] ? json_object_new_string(next) : NULL);
            json_object_object_add(o, "error", r->error ? json_object_new_string(r->error) : NULL);
            print_json(o, JSON_C_TO_STRING_PLAIN);
            printf("\n");
        } else {
            /* event ids and errors come from outside: masked and escaped */
            char *event = safe_line(r->event_id), *error = safe_line(r->error ? r->error : "");
            char *workflow = safe_line(r->workflow);
            printf("%-6lld %-24s %-9s %3d  %-28s %s%s%s%s%s\n", (long long)r->id, workflow,
                   r->status, r->attempts, event, updated, next[0] ? "  next " : "", next,
                   r->error ? "  " : "", error);
            free(event);
            free(error);
            free(workflow);
        }
    }
    store_runs_free(runs, n);
    rc = 0;
out:
    store_close(s);
    config_release(&app.cfg);
    diag_release(&app.diag);
    return rc;
}

static void print_time(const char *label, struct json_object *o, const char *key)
{
    struct json_object *v;
    if (json_object_object_get_ex(o, key, &v) && v) {
        char iso[40];
        engine_iso8601(json_object_get_int64(v), iso, sizeof(iso));
        printf("%s%s", label, iso);
    }
}

static const char *str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

int cmd_show(struct cli *cli)
{
    int64_t id;
    if (cli->n_positional != 1 || parse_int64(cli->positional[0], &id) < 0) {
        fprintf(stderr, "usage: switchboard show RUN [--json]   (RUN is a run id from "
                        "'switchboard runs')\n");
        return 2;
    }
    struct app app = {0};
    diag_init(&app.diag);
    struct store *s = NULL;
    int rc = 1;
    if (open_store(cli, &app, &s) < 0)
        goto out;
    struct json_object *o = store_show_run(s, id);
    if (!o) {
        fprintf(stderr, "switchboard show: no run %lld\n", (long long)id);
        goto out;
    }
    /* masked once for both forms: what was stored before masking existed,
     * or under a secret added since, does not reach the terminal */
    o = redact_json(o, NULL);
    if (cli->json) {
        print_json(json_object_get(o), JSON_C_TO_STRING_PRETTY);
        printf("\n");
    } else {
        struct json_object *ev = NULL, *steps = NULL, *log = NULL;
        json_object_object_get_ex(o, "event", &ev);
        json_object_object_get_ex(o, "steps", &steps);
        json_object_object_get_ex(o, "attempts_log", &log);
        printf("run %lld  workflow ", (long long)id);
        print_field("", str(o, "workflow"), "");
        printf("  status %s  attempts %s\n", str(o, "status"), str(o, "attempts"));
        print_time("created  ", o, "created_at");
        print_time("\nupdated  ", o, "updated_at");
        printf("\n");
        if (*str(o, "error"))
            print_field("error    ", str(o, "error"), "\n");
        if (*str(o, "reason"))
            print_field("reason   ", str(o, "reason"), "\n");
        print_field("\nevent ", str(ev, "id"), "");
        print_field(" (", str(ev, "type"), ")");
        print_field(" from ", str(ev, "source"), "\n");
        struct json_object *payload = NULL;
        json_object_object_get_ex(ev, "payload", &payload);
        print_json(json_object_get(payload), JSON_C_TO_STRING_PRETTY);
        printf("\n");
        for (size_t i = 0; steps && i < json_object_array_length(steps); i++) {
            struct json_object *st = json_object_array_get_idx(steps, i);
            print_field("\nstep ", str(st, "name"), ": ");
            printf("%s after %s attempt(s)", str(st, "status"), str(st, "attempts"));
            struct json_object *a, *b;
            if (json_object_object_get_ex(st, "started_at", &a) && a &&
                json_object_object_get_ex(st, "finished_at", &b) && b)
                printf(", %lld ms",
                       (long long)(json_object_get_int64(b) - json_object_get_int64(a)));
            printf("\n");
            if (*str(st, "error"))
                print_field("  error: ", str(st, "error"), "\n");
            struct json_object *out = NULL;
            if (json_object_object_get_ex(st, "output", &out) && out) {
                printf("  output: ");
                print_json(json_object_get(out), JSON_C_TO_STRING_PLAIN);
                printf("\n");
            }
        }
        if (log && json_object_array_length(log)) {
            printf("\nattempts:\n");
            for (size_t i = 0; i < json_object_array_length(log); i++) {
                struct json_object *a = json_object_array_get_idx(log, i);
                char at[40] = "";
                struct json_object *t;
                if (json_object_object_get_ex(a, "started_at", &t) && t)
                    engine_iso8601(json_object_get_int64(t), at, sizeof(at));
                printf("  %s  #%s ", at, str(a, "attempt"));
                {
                    char *step = safe_line(str(a, "step"));
                    printf("%-12s ", step);
                    free(step);
                };
                printf("%-9s ", str(a, "status"));
                print_field("", str(a, "error"), "\n");
            }
        }
    }
    json_object_put(o);
    rc = 0;
out:
    store_close(s);
    config_release(&app.cfg);
    diag_release(&app.diag);
    return rc;
}

int cmd_replay(struct cli *cli)
{
    int64_t id = 0;
    bool many = cli->failed;
    if ((!many && (cli->n_positional != 1 || parse_int64(cli->positional[0], &id) < 0)) ||
        (many && cli->n_positional != 0)) {
        fprintf(stderr, "usage: switchboard replay RUN\n"
                        "       switchboard replay --failed [--since T] [--workflow W]\n");
        return 2;
    }
    struct app app = {0};
    diag_init(&app.diag);
    struct store *s = NULL;
    struct run_filter f;
    int rc = 1;
    if (fill_filter(cli, &f) < 0 || open_store(cli, &app, &s) < 0)
        goto out;
    size_t count = 0;
    if (store_replay(s, id, many ? &f : NULL, engine_now_ms(), &count) < 0) {
        fprintf(stderr, "switchboard replay: cannot write to the store\n");
        goto out;
    }
    if (!many && count == 0) {
        struct json_object *o = store_show_run(s, id);
        if (!o)
            fprintf(stderr, "switchboard replay: no run %lld\n", (long long)id);
        else
            fprintf(stderr,
                    "switchboard replay: run %lld is %s; only dead or failed runs are "
                    "replayed\n",
                    (long long)id, str(o, "status"));
        json_object_put(o);
        goto out;
    }
    printf("replayed %zu run%s: they run again from the step that failed\n", count,
           count == 1 ? "" : "s");
    rc = 0;
out:
    store_close(s);
    config_release(&app.cfg);
    diag_release(&app.diag);
    return rc;
}
