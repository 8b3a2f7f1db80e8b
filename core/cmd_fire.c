/* switchboard fire: run one workflow on a sample event, in this process,
 * each step once; --dry-run prints the requests the actions would send
 * (secrets masked) and sends nothing. Nothing is stored. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"
#include "crypto.h"
#include "engine.h"
#include "redact.h"
#include "run_exec.h"
#include "textsafe.h"
#include "xalloc.h"

/* a line longer than this is passed on in pieces */
#define FILTER_LINE_MAX (1024 * 1024)

/*
 * fire prints what actions answer and, with --dry-run, what they would
 * send, and plugins print to stdout themselves. All of it passes through a
 * pipe and a thread that masks secrets (in any encoding) and escapes
 * control bytes, line by line, before the terminal sees it.
 */
struct out_filter {
    int terminal; /* the real stdout */
    int pipe_rd;
    pthread_t thread;
    bool running;
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void pass_on(struct out_filter *f, const char *line, size_t len)
{
    struct strbuf masked = STRBUF_INIT, safe = STRBUF_INIT;
    redact_append(&masked, line, len);
    textsafe_append(&safe, strbuf_str(&masked), masked.len, TEXTSAFE_BLOCK);
    write_all(f->terminal, strbuf_str(&safe), safe.len);
    strbuf_release(&masked);
    strbuf_release(&safe);
}

static void *filter_main(void *arg)
{
    struct out_filter *f = arg;
    struct strbuf pending = STRBUF_INIT;
    char chunk[8192];
    while (1) {
        ssize_t n = read(f->pipe_rd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        strbuf_add(&pending, chunk, (size_t)n);
        /* up to the last line end (a secret does not span lines) */
        size_t upto = pending.len;
        while (upto > 0 && pending.buf[upto - 1] != '\n')
            upto--;
        if (upto == 0 && pending.len > FILTER_LINE_MAX)
            upto = pending.len;
        if (upto) {
            pass_on(f, pending.buf, upto);
            memmove(pending.buf, pending.buf + upto, pending.len - upto);
            pending.len -= upto;
            pending.buf[pending.len] = '\0';
        }
    }
    if (pending.len)
        pass_on(f, pending.buf, pending.len);
    strbuf_release(&pending);
    return NULL;
}

static void filter_start(struct out_filter *f)
{
    int fds[2];
    memset(f, 0, sizeof(*f));
    fflush(stdout);
    f->terminal = dup(STDOUT_FILENO);
    if (f->terminal < 0 || pipe(fds) < 0) {
        /* unfiltered output still has the masking done before printing */
        if (f->terminal >= 0)
            close(f->terminal);
        return;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(f->terminal, F_SETFD, FD_CLOEXEC);
    f->pipe_rd = fds[0];
    if (dup2(fds[1], STDOUT_FILENO) < 0 || pthread_create(&f->thread, NULL, filter_main, f) != 0) {
        dup2(f->terminal, STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        close(f->terminal);
        return;
    }
    close(fds[1]);
    f->running = true;
}

static void filter_stop(struct out_filter *f)
{
    if (!f->running)
        return;
    fflush(stdout);
    /* the pipe's last write end closes: the thread sees the end */
    dup2(f->terminal, STDOUT_FILENO);
    pthread_join(f->thread, NULL);
    close(f->pipe_rd);
    close(f->terminal);
    f->running = false;
}

static char *read_all(FILE *f)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&sb, buf, n);
    return strbuf_detach(&sb, NULL);
}

/* Text from the event as one line (control bytes escaped). Caller frees. */
static char *one_line(const char *text)
{
    struct strbuf sb = STRBUF_INIT;
    textsafe_append(&sb, text, strlen(text), TEXTSAFE_LINE);
    return strbuf_detach(&sb, NULL);
}

static int64_t fire_now(void *ctx)
{
    (void)ctx;
    return engine_now_ms();
}

int cmd_fire(struct cli *cli)
{
    if (cli->n_positional != 1) {
        fprintf(stderr, "usage: switchboard fire WORKFLOW [--event FILE|-] [--dry-run]\n");
        return 2;
    }
    const char *name = cli->positional[0];
    struct app app;
    int rc = app_load(&app, &cli->ov, APP_PLUGINS | APP_WORKFLOWS);
    diag_print(&app.diag, stderr);
    struct json_object *payload = NULL;
    struct wf_snapshot *snap = NULL;
    bool inited = false;
    if (rc < 0)
        goto out;
    rc = -1;
    if (!workflow_set_find(&app.workflows, name)) {
        fprintf(stderr, "switchboard fire: no workflow '%s' in %s\n", name, app.cfg.workflow_dir);
        goto out;
    }
    if (cli->opt_event) {
        FILE *f = strcmp(cli->opt_event, "-") == 0 ? stdin : fopen(cli->opt_event, "rb");
        if (!f) {
            fprintf(stderr, "switchboard fire: cannot read '%s'\n", cli->opt_event);
            goto out;
        }
        char *text = read_all(f);
        if (f != stdin)
            fclose(f);
        enum json_tokener_error jerr = json_tokener_success;
        payload = json_tokener_parse_verbose(text, &jerr);
        free(text);
        if (!payload) {
            fprintf(stderr, "switchboard fire: '%s' is not JSON: %s\n", cli->opt_event,
                    json_tokener_error_desc(jerr));
            goto out;
        }
    } else {
        payload = json_object_new_object();
    }
    if (engine_init_plugins(&app.plugins) < 0)
        goto out;
    inited = true;
    snap = engine_snapshot_new(NULL, &app.workflows);
    if (!snap)
        goto out;
    struct workflow *wf = snapshot_find(snap, name);
    struct claimed_run r = {0};
    char rnd[13], idbuf[64];
    crypto_random_id(rnd, 12);
    struct json_object *v;
    if (json_object_object_get_ex(payload, "id", &v) && json_object_is_type(v, json_type_string))
        snprintf(idbuf, sizeof(idbuf), "%s", json_object_get_string(v));
    else
        snprintf(idbuf, sizeof(idbuf), "fire_%s", rnd);
    char type[128] = "fire";
    if (json_object_object_get_ex(payload, "type", &v) && json_object_is_type(v, json_type_string))
        snprintf(type, sizeof(type), "%s", json_object_get_string(v));
    r.workflow = wf->name;
    r.source = (char *)(uintptr_t) "fire";
    r.event_id = idbuf;
    r.type = type;
    r.attempts = 1;
    r.received_at_ms = r.created_at_ms = engine_now_ms();
    r.payload = payload;
    r.envelope = json_object_new_object();
    json_object_object_add(r.envelope, "method", json_object_new_string("POST"));
    if (wf->hook) {
        char path[512];
        snprintf(path, sizeof(path), "/hooks/%s", wf->hook);
        json_object_object_add(r.envelope, "path", json_object_new_string(path));
        json_object_object_add(r.envelope, "hook", json_object_new_string(wf->hook));
    }
    struct call_hooks hooks = {.now_ms = fire_now};
    struct out_filter filter;
    filter_start(&filter);
    struct exec_env env = {.hooks = &hooks, .dry_run = cli->dry_run, .report = stdout};
    /* the id and type come from the event: one line each, whatever they hold */
    char *safe_id = one_line(idbuf), *safe_type = one_line(type);
    printf("firing %s%s on event %s (%s)\n\n", wf->name,
           cli->dry_run ? " (dry run: nothing is sent)" : "", safe_id, safe_type);
    free(safe_id);
    free(safe_type);
    fflush(stdout);
    struct exec_result res;
    exec_run(&env, wf, &r, &res);
    json_object_put(r.envelope);
    char *safe_error = one_line(res.error);
    printf("result: %s%s%s\n", res.status, res.error[0] ? ": " : "", safe_error);
    free(safe_error);
    rc = strcmp(res.status, "succeeded") == 0 || strcmp(res.status, "skipped") == 0 ? 0 : -1;
    if (rc < 0 && !cli->opt_event)
        printf("\nhint: no --event was given, so the event was {}; save a sample payload as "
               "JSON (the workflow's comments may show one) and pass --event FILE\n");
    filter_stop(&filter);
out:
    json_object_put(payload);
    if (snap)
        engine_release(snap);
    if (inited)
        engine_fini_plugins(&app.plugins);
    app_release(&app);
    return rc == 0 ? 0 : 1;
}
