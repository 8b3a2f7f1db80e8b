/*
 * The log connector: actions that need no credentials, for trying
 * switchboard out and for keeping a local trail: log.write puts a line in the
 * engine's log, log.append appends a line to a file (JSON Lines, say).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};

static const struct sb_param write_params[] = {
    {.name = "message",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the text to log"},
    {.name = "level",
     .type = SB_PARAM_ENUM,
     .def = "info",
     .values = levels,
     .help = "the log level"},
    SB_END,
};

static const struct sb_param append_params[] = {
    {.name = "file",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the file to append to (created if missing), relative to the engine's working "
             "directory; what a template fills in is one file name, never a folder: a value "
             "holding '/' or naming '.' or '..' fails the run"},
    {.name = "line",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the text to append; a newline is added, line breaks inside become spaces"},
    {.name = "json",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON document to append as one line (JSON Lines); values inserted by templates "
             "are JSON-escaped"},
    SB_END,
};

static enum sb_status write_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *msg = sb->param_string(call, "message");
    const char *lvl = sb->param_string(call, "level");
    enum sb_log_level level = SB_LOG_INFO;
    for (int i = 0; levels[i]; i++)
        if (strcmp(levels[i], lvl) == 0)
            level = (enum sb_log_level)i;
    if (sb->dry_run(call))
        printf("log (%s): %s\n", lvl, msg);
    else
        sb->log(call, level, "%s", msg);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "message", json_object_new_string(msg));
    sb->set_output(call, out);
    return SB_OK;
}

/* One lock for all appends, so concurrent runs never interleave a line. */
static pthread_mutex_t append_lock = PTHREAD_MUTEX_INITIALIZER;

static enum sb_status append_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool line = sb->param_string(call, "line") != NULL;
    bool json = sb->param_string(call, "json") != NULL;
    if (line == json) {
        sb->config_error(call, line ? "json" : "line", "give exactly one of line and json");
        return SB_FAIL;
    }
    return SB_OK;
}

/* The text of `file` around its templates, kept by setup: what a template
 * fills in must stay between these, within one path component. */
struct append_state {
    char *prefix; /* up to the first "{{" */
    char *suffix; /* after the last "}}" */
};

static enum sb_status append_setup(const struct sb_host *sb, struct sb_call *call)
{
    /* in setup, a parameter reads as written: a template's source text */
    const char *file = sb->param_string(call, "file");
    const char *open = file ? strstr(file, "{{") : NULL;
    if (!open)
        return SB_OK;
    const char *close = file + strlen(file);
    for (const char *p = open; (p = strstr(p, "}}")) != NULL; p += 2)
        close = p + 2;
    struct append_state *st = calloc(1, sizeof(*st));
    if (!st)
        return sb->fail(call, "out of memory");
    st->prefix = strndup(file, (size_t)(open - file));
    st->suffix = strdup(close);
    if (!st->prefix || !st->suffix) {
        free(st->prefix);
        free(st->suffix);
        free(st);
        return sb->fail(call, "out of memory");
    }
    sb->set_state(call, st);
    return SB_OK;
}

static void append_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    struct append_state *st = state;
    if (!st)
        return;
    free(st->prefix);
    free(st->suffix);
    free(st);
}

/* Whether the rendered `file` keeps what the templates filled in to one
 * file name: event data never chooses a folder (../../etc/...). */
static bool file_is_contained(const struct append_state *st, const char *file)
{
    size_t len = strlen(file), pl = strlen(st->prefix), sl = strlen(st->suffix);
    if (len < pl + sl || strncmp(file, st->prefix, pl) != 0 ||
        strcmp(file + len - sl, st->suffix) != 0)
        return false;
    const char *mid = file + pl;
    size_t ml = len - pl - sl;
    if (memchr(mid, '/', ml))
        return false;
    /* the whole component the templates are in must not be . or .. */
    const char *start = file + pl, *end = file + len - sl;
    while (start > file && start[-1] != '/')
        start--;
    while (*end && *end != '/')
        end++;
    size_t cl = (size_t)(end - start);
    return !((cl == 1 && start[0] == '.') || (cl == 2 && start[0] == '.' && start[1] == '.') ||
             cl == 0);
}

static enum sb_status append_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *file = sb->param_string(call, "file");
    const struct append_state *st = sb->state(call);
    if (st && !file_is_contained(st, file))
        return sb->fail(call,
                        "file: '%s' is not a file name in '%s': a template fills in one file "
                        "name, never a folder",
                        file, st->prefix[0] ? st->prefix : ".");
    const char *line = sb->param_string(call, "line");
    if (!line)
        line = sb->param_string(call, "json");
    if (sb->dry_run(call)) {
        printf("append to %s:\n%s\n", file, line);
        return SB_OK;
    }
    size_t len = strlen(line);
    char *buf = malloc(len + 2);
    if (!buf)
        return sb->fail(call, "out of memory");
    for (size_t i = 0; i < len; i++)
        buf[i] = (line[i] == '\n' || line[i] == '\r') ? ' ' : line[i];
    buf[len] = '\n';
    pthread_mutex_lock(&append_lock);
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err = fd < 0 ? errno : 0;
    ssize_t n = fd < 0 ? -1 : write(fd, buf, len + 1);
    if (fd >= 0 && n < 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&append_lock);
    free(buf);
    if (fd < 0 || n != (ssize_t)(len + 1)) {
        char msg[128];
        strerror_r(err ? err : EIO, msg, sizeof(msg));
        /* a full disk or a missing folder may be fixed by an operator */
        return sb->retry(call, -1, "cannot append to '%s': %s", file, msg);
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "file", json_object_new_string(file));
    json_object_object_add(out, "bytes", json_object_new_int64((int64_t)len + 1));
    sb->set_output(call, out);
    return SB_OK;
}

static const struct sb_action actions[] = {
    {.name = "write",
     .summary = "Write a message to the engine's log",
     .output = "message: the text logged",
     .params = write_params,
     .run = write_run},
    {.name = "append",
     .summary = "Append a line to a local file (for example JSON Lines)",
     .output = "file and bytes written",
     .params = append_params,
     .validate = append_validate,
     .setup = append_setup,
     .teardown = append_teardown,
     .run = append_run},
    SB_END,
};

static const struct sb_plugin log_plugin = {
    .name = "log",
    .version = "1.0.0",
    .summary = "Local output without credentials: the engine log and append-only files",
    .actions = actions,
};

SB_PLUGIN_DEFINE(log_plugin)
