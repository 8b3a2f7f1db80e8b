/*
 * testkit: the real switchboard binary under test. Each sb_proc owns a
 * temporary folder (config, workflows, store, log); the engine runs as a
 * child process whose stdout is read for its "listening on" line and then
 * drained into the log by a detached thread, so it never blocks on a full
 * pipe. Everything between fork and exec is async-signal-safe: tests fork
 * while other threads (libcurl clients) run.
 */
#include "testkit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#ifndef SB_BINARY
#error "build testkit with -DSB_BINARY=\"path of the switchboard binary\""
#endif
#ifndef SB_PLUGIN_DIR
#error "build testkit with -DSB_PLUGIN_DIR=\"folder of the built plugins\""
#endif

extern char **environ;

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 30000
#define LISTENING "listening on "

/* --- small helpers: test code aborts on out-of-memory -------------------- */

struct buf {
    char *data;
    size_t len, cap;
};

static void *tk_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("testkit: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *tk_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tk_realloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

static void buf_add(struct buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = tk_realloc(b->data, cap);
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void buf_addstr(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* The buffer's string, "" when empty; the caller owns it. */
static char *buf_detach(struct buf *b)
{
    if (!b->data)
        buf_add(b, "", 0);
    char *s = b->data;
    *b = (struct buf){0};
    return s;
}

static void warn_errno(const char *what, const char *subject)
{
    char msg[128];
    int e = errno;
    if (strerror_r(e, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", e);
    fprintf(stderr, "testkit: %s '%s': %s\n", what, subject, msg);
}

static int set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* A pipe whose ends are closed on exec (pipe2 is not POSIX). Only the main
 * thread forks in these tests, so nothing can inherit the ends in between. */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (set_cloexec(fds[0]) < 0 || set_cloexec(fds[1]) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* Whole file into a NUL-terminated string; NULL if unreadable. *len may be
 * NULL. The caller owns the result. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    if (len)
        *len = b.len;
    return buf_detach(&b);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        warn_errno("cannot create", path);
        return -1;
    }
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        warn_errno("cannot write", path);
    return rc;
}

/* Like memmem (a GNU extension): whether `needle` occurs in data[0..len). */
static bool contains(const char *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (size_t i = 0; i + n <= len; i++)
        if (data[i] == needle[0] && memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

/* A copy of a NULL-terminated argument list, as execve wants it. */
static char **copy_strv(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = tk_realloc(NULL, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = tk_strdup(v[i]);
    out[n] = NULL;
    return out;
}

/* This process's environment with `extra` ("NAME=value") added or
 * overriding; built before fork, since the child may not allocate. */
static char **make_env(const char *const *extra)
{
    size_t n_env = 0, n_extra = 0;
    while (environ[n_env])
        n_env++;
    while (extra && extra[n_extra])
        n_extra++;
    char **out = tk_realloc(NULL, (n_env + n_extra + 1) * sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name_len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < n_extra && !overridden; j++)
            overridden = strncmp(extra[j], environ[i], name_len) == 0 && extra[j][name_len] == '=';
        if (!overridden)
            out[k++] = tk_strdup(environ[i]);
    }
    for (size_t j = 0; j < n_extra; j++)
        out[k++] = tk_strdup(extra[j]);
    out[k] = NULL;
    return out;
}

/* In the child after fork: only async-signal-safe calls. Dies with the test
 * process (PR_SET_PDEATHSIG), so a crashed test leaves no engine behind. */
_Noreturn static void exec_child(char *const *argv, char *const *envp, pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* an ignored SIGPIPE (libcurl sets that for a moment) survives exec */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    execve(argv[0], argv, envp);
    static const char msg[] = "testkit: cannot execute the program\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(127);
}

/* Exit status of a waitpid status: the code, or 128+signal. */
static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* waitpid with a deadline; true (and *status) when the child exited. */
static bool wait_child(pid_t pid, int64_t timeout_ms, int *status)
{
    int64_t until = testkit_now_ms() + timeout_ms;
    while (1) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
        if (testkit_now_ms() >= until)
            return false;
        testkit_sleep_ms(5);
    }
}

/* --- time, paths ----------------------------------------------------------- */

int64_t testkit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void testkit_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

const char *testkit_binary(void)
{
    return SB_BINARY;
}

const char *testkit_plugins(void)
{
    return SB_PLUGIN_DIR;
}

/* --- strings ----------------------------------------------------------------- */

/* vsnprintf into a new string the caller frees; aborts on a bad format,
 * as on out of memory. */
static char *vformat(const char *format, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *format, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, format, again);
    va_end(again);
    if (n < 0) {
        fprintf(stderr, "testkit: bad format '%s'\n", format);
        abort();
    }
    char *s = tk_realloc(NULL, (size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, format, ap);
    return s;
}

char *testkit_fmt(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *s = vformat(format, ap);
    va_end(ap);
    return s;
}

void testkit_strv_free(char **v)
{
    free_strv(v);
}

/* --- the process folder ------------------------------------------------------ */

static int make_folder(struct sb_proc *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/sbtest-XXXXXX");
    if (!mkdtemp(p->dir)) {
        warn_errno("cannot create folder", p->dir);
        p->dir[0] = '\0';
        return -1;
    }
    snprintf(p->workflows, sizeof(p->workflows), "%s/workflows", p->dir);
    snprintf(p->store, sizeof(p->store), "%s/store.db", p->dir);
    snprintf(p->log_path, sizeof(p->log_path), "%s/switchboard.log", p->dir);
    if (mkdir(p->workflows, 0755) < 0) {
        warn_errno("cannot create folder", p->workflows);
        return -1;
    }
    return 0;
}

static int write_config(const struct sb_proc *p, const char *text)
{
    char path[320];
    snprintf(path, sizeof(path), "%s/switchboard.ini", p->dir);
    return write_file(path, text);
}

int sbp_init(struct sb_proc *p, const char *extra_ini)
{
    if (make_folder(p) < 0)
        return -1;
    struct buf ini = {0};
    buf_addstr(&ini, "; written by testkit\n[server]\nlisten = 127.0.0.1:0\n\n[engine]\n");
    buf_addstr(&ini, "plugin_dir = ");
    buf_addstr(&ini, testkit_plugins());
    buf_addstr(&ini, "\nworkflow_dir = ");
    buf_addstr(&ini, p->workflows);
    buf_addstr(&ini, "\nstore = sqlite:");
    buf_addstr(&ini, p->store);
    buf_addstr(&ini, "\n\n");
    if (extra_ini)
        buf_addstr(&ini, extra_ini);
    int rc = write_config(p, ini.data);
    free(ini.data);
    return rc;
}

int sbp_init_ini(struct sb_proc *p, const char *ini)
{
    if (make_folder(p) < 0)
        return -1;
    struct buf out = {0};
    const char *s = ini;
    while (*s) {
        if (strncmp(s, "@DIR@", 5) == 0) {
            buf_addstr(&out, p->dir);
            s += 5;
        } else if (strncmp(s, "@PLUGINS@", 9) == 0) {
            buf_addstr(&out, testkit_plugins());
            s += 9;
        } else {
            buf_add(&out, s++, 1);
        }
    }
    int rc = write_config(p, out.data ? out.data : "");
    free(out.data);
    return rc;
}

int sbp_write_workflow(struct sb_proc *p, const char *name, const char *ini_text)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s.ini", p->workflows, name);
    return write_file(path, ini_text);
}

int sbp_write_workflowf(struct sb_proc *p, const char *name, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *text = vformat(format, ap);
    va_end(ap);
    int rc = sbp_write_workflow(p, name, text);
    free(text);
    return rc;
}

int sbp_write_file(const struct sb_proc *p, const char *name, const char *text, char *path,
                   size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", p->dir, name);
    return write_file(path, text);
}

/* --- the engine process ------------------------------------------------------ */

struct drain {
    int fd;         /* the read end of the engine's stdout */
    char path[300]; /* the log it is copied to */
    char *pending;  /* bytes read past the "listening" line */
    size_t pending_len;
};

/* Detached thread: copy the engine's stdout into its log until EOF (the
 * engine exited). Owns *arg. */
static void *drain_stdout(void *arg)
{
    struct drain *d = arg;
    int out = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out >= 0 && d->pending_len) {
        ssize_t ignored = write(out, d->pending, d->pending_len);
        (void)ignored;
    }
    char chunk[4096];
    while (1) {
        ssize_t n = read(d->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out >= 0) {
            ssize_t ignored = write(out, chunk, (size_t)n);
            (void)ignored;
        }
    }
    if (out >= 0)
        close(out);
    close(d->fd);
    free(d->pending);
    free(d);
    return NULL;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Whether the log, from byte `from` on, contains text. */
static bool log_tail_contains(const struct sb_proc *p, int64_t from, const char *text)
{
    size_t len = 0;
    char *log = read_file(p->log_path, &len);
    bool found = log && (size_t)from <= len && contains(log + from, len - (size_t)from, text);
    free(log);
    return found;
}

static void print_log(const struct sb_proc *p)
{
    size_t len = 0;
    char *log = read_file(p->log_path, &len);
    const size_t max = 16384;
    const char *from = log ? log : "";
    if (len > max)
        from = log + len - max;
    fprintf(stderr, "---- %s%s ----\n%s---- end of log ----\n", p->log_path,
            len > max ? " (last 16 KB)" : "", from);
    free(log);
}

/* Read the child's stdout until its "listening on URL" line: 0 with the URL
 * in url, -1 on EOF or timeout. Bytes after the line go to *rest. */
static int read_listening(int fd, char *url, size_t url_len, struct buf *rest)
{
    struct buf in = {0};
    int64_t until = testkit_now_ms() + START_TIMEOUT_MS;
    int rc = -1;
    while (rc < 0) {
        int64_t left = until - testkit_now_ms();
        if (left <= 0) {
            fprintf(stderr, "testkit: no '%s' line within %d ms\n", LISTENING, START_TIMEOUT_MS);
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char chunk[1024];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the engine exited */
        buf_add(&in, chunk, (size_t)n);
        char *line = in.data;
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            char *at = strstr(line, LISTENING);
            if (at) {
                snprintf(url, url_len, "%s", at + strlen(LISTENING));
                size_t used = (size_t)(nl + 1 - in.data);
                buf_add(rest, in.data + used, in.len - used);
                rc = 0;
                break;
            }
            line = nl + 1;
        }
    }
    free(in.data);
    return rc;
}

/* One start attempt on `port` (0: the configured listen address). 0, -1, or
 * -2 when the engine could not listen there. */
static int start_once(struct sb_proc *p, const char *const *env, int port)
{
    char cfg[320], listen[40];
    snprintf(cfg, sizeof(cfg), "%s/switchboard.ini", p->dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    const char *args[] = {testkit_binary(),         "run",  "-c", cfg,
                          port ? "--listen" : NULL, listen, NULL};
    int64_t log_start = file_size(p->log_path);
    int logfd = open(p->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (logfd < 0) {
        warn_errno("cannot open", p->log_path);
        return -1;
    }
    int fds[2];
    if (cloexec_pipe(fds) < 0) {
        warn_errno("cannot make a pipe for", p->dir);
        close(logfd);
        return -1;
    }
    char **argv = copy_strv(args);
    char **envp = make_env(env);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        exec_child(argv, envp, parent);
    }
    free_strv(argv);
    free_strv(envp);
    close(fds[1]);
    close(logfd);
    if (pid < 0) {
        warn_errno("cannot fork for", testkit_binary());
        close(fds[0]);
        return -1;
    }
    char url[sizeof(p->base_url)];
    struct buf rest = {0};
    if (read_listening(fds[0], url, sizeof(url), &rest) < 0) {
        close(fds[0]);
        free(rest.data);
        int status = 0;
        if (!wait_child(pid, 2000, &status)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        fprintf(stderr, "testkit: switchboard did not start (exit status %d)\n",
                decode_status(status));
        return port && log_tail_contains(p, log_start, "cannot listen") ? -2 : -1;
    }
    const char *colon = strrchr(url, ':');
    char *end = NULL;
    long got = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || end == colon + 1 || got <= 0 || got > 65535) {
        fprintf(stderr, "testkit: cannot read the port in '%s'\n", url);
        close(fds[0]);
        free(rest.data);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    p->pid = pid;
    p->port = (int)got;
    snprintf(p->base_url, sizeof(p->base_url), "%.*s", (int)(end - url), url);

    struct drain *d = tk_realloc(NULL, sizeof(*d));
    d->fd = fds[0];
    snprintf(d->path, sizeof(d->path), "%s", p->log_path);
    d->pending = rest.data;
    d->pending_len = rest.len;
    pthread_t th;
    if (pthread_create(&th, NULL, drain_stdout, d) != 0) {
        /* the engine writes little to stdout; losing it is harmless */
        close(d->fd);
        free(d->pending);
        free(d);
    } else {
        pthread_detach(th);
    }
    return 0;
}

int sbp_start(struct sb_proc *p, const char *const *env)
{
    if (p->pid) {
        fprintf(stderr, "testkit: sbp_start: pid %d is still running\n", (int)p->pid);
        return -1;
    }
    int rc = start_once(p, env, p->port);
    if (rc == -2) {
        fprintf(stderr, "testkit: port %d is taken; starting on another\n", p->port);
        rc = start_once(p, env, 0);
    }
    if (rc < 0) {
        print_log(p);
        return -1;
    }
    return 0;
}

int sbp_stop(struct sb_proc *p, int sig)
{
    if (!p->pid)
        return -1;
    int status = 0;
    if (kill(p->pid, sig) < 0) {
        warn_errno("cannot signal", "switchboard");
        return -1;
    }
    if (!wait_child(p->pid, STOP_TIMEOUT_MS, &status)) {
        fprintf(stderr,
                "testkit: switchboard (pid %d) did not exit within %d ms of signal %d; "
                "killing it\n",
                (int)p->pid, STOP_TIMEOUT_MS, sig);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        p->pid = 0;
        return -1;
    }
    p->pid = 0;
    return decode_status(status);
}

/* rm -r of a folder of the test's own making. */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[1024];
            snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

/* A sanitizer's report in the engine's log fails the test: the engine runs
 * in its own process, so its reports would otherwise go unseen. */
static void check_sanitizers(const struct sb_proc *p)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "WARNING: ThreadSanitizer", "runtime error:"};
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        if (sbp_log_contains(p, marks[i])) {
            fprintf(stderr, "testkit: the engine's log holds a sanitizer report (%s):\n", marks[i]);
            print_log(p);
            fprintf(stderr, "testkit: failing the test; the folder %s is kept\n", p->dir);
            exit(1);
        }
    }
}

void sbp_cleanup(struct sb_proc *p)
{
    if (p->pid)
        sbp_stop(p, SIGKILL);
    if (!p->dir[0])
        return;
    check_sanitizers(p);
    const char *keep = getenv("SB_TEST_KEEP");
    if (keep && *keep && strcmp(keep, "0") != 0)
        fprintf(stderr, "testkit: kept %s (SB_TEST_KEEP)\n", p->dir);
    else
        remove_tree(p->dir);
    p->dir[0] = '\0';
}

bool sbp_log_contains(const struct sb_proc *p, const char *text)
{
    return log_tail_contains(p, 0, text);
}

/* --- the store --------------------------------------------------------------- */

int64_t sbp_sql_int(const struct sb_proc *p, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(p->store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "testkit: cannot open '%s': %s\n", p->store,
                db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "testkit: '%s': %s\n", sql, sqlite3_errmsg(db));
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "testkit: '%s': %s\n", sql,
                rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

bool sbp_wait_sql(const struct sb_proc *p, const char *sql, int64_t want, int64_t timeout_ms)
{
    int64_t until = testkit_now_ms() + timeout_ms;
    while (1) {
        if (sbp_sql_int(p, sql) == want)
            return true;
        if (testkit_now_ms() >= until)
            return false;
        testkit_sleep_ms(20);
    }
}

/* The query behind sbp_count_runs and sbp_wait_runs. */
static void runs_query(char *sql, size_t len, const char *workflow, const char *status)
{
    snprintf(sql, len, "SELECT count(*) FROM runs WHERE workflow = '%s' AND status = '%s'",
             workflow, status);
}

int64_t sbp_count_runs(const struct sb_proc *p, const char *workflow, const char *status)
{
    char sql[512];
    runs_query(sql, sizeof(sql), workflow, status);
    return sbp_sql_int(p, sql);
}

bool sbp_wait_runs(const struct sb_proc *p, const char *workflow, const char *status, int64_t n,
                   int64_t timeout_ms)
{
    char sql[512];
    runs_query(sql, sizeof(sql), workflow, status);
    return sbp_wait_sql(p, sql, n, timeout_ms);
}

/* --- HTTP ------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe: run it once, before any handle. */
static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    buf_add(arg, data, size * n);
    return size * n;
}

/* Keeps only the last header block (a 100 Continue comes before the
 * final answer). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        b->len = 0;
    buf_add(b, data, size * n);
    return size * n;
}

int http_do(const char *method, const char *url, const char *const *headers, const void *body,
            size_t len, long timeout_ms, struct http_reply *out)
{
    memset(out, 0, sizeof(*out));
    pthread_once(&curl_once, curl_setup);
    struct buf got_body = {0}, got_headers = {0};
    struct curl_slist *list = NULL;
    bool expect = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        list = curl_slist_append(list, headers[i]);
        expect |= strncasecmp(headers[i], "Expect:", 7) == 0;
    }
    /* no 100-continue round trip unless the test asks for one */
    if (!expect)
        list = curl_slist_append(list, "Expect:");
    long timeout = timeout_ms > 0 ? timeout_ms : 10000;
    CURLcode rc = CURLE_FAILED_INIT;
    CURL *c = curl_easy_init();
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &got_body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &got_headers);
        if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "GET") == 0 && !body) {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            if (strcmp(method, "POST") != 0)
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }
        rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(list);
    out->body_len = got_body.len;
    out->body = buf_detach(&got_body);
    out->headers = buf_detach(&got_headers);
    return rc == CURLE_OK ? 0 : -1;
}

void http_reply_free(struct http_reply *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

bool http_reply_header(const struct http_reply *r, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t line_len = eol ? (size_t)(eol - line) : strlen(line);
        if (line_len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            const char *end = line + line_len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if (outlen)
                snprintf(out, outlen, "%.*s", (int)(end - v), v);
            return true;
        }
        line = eol ? eol + 1 : line + line_len;
    }
    return false;
}

long sbp_hook_request(const struct sb_proc *p, const char *method, const char *hook,
                      const char *const *headers, const char *body, struct http_reply *reply)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/hooks/%s", p->base_url, hook);
    struct http_reply r;
    /* no response leaves r.status 0, which no test expects */
    http_do(method, url, headers, body, body ? strlen(body) : 0, 0, &r);
    long status = r.status;
    if (reply)
        *reply = r;
    else
        http_reply_free(&r);
    return status;
}

/* --- other commands ------------------------------------------------------------ */

/* argv[0] as a path: itself when it has a '/', else the first executable
 * of that name on PATH. The caller owns the result. */
static char *find_program(const char *name)
{
    if (strchr(name, '/'))
        return tk_strdup(name);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char full[1024];
        snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? path : ".", name);
        if (access(full, X_OK) == 0)
            return tk_strdup(full);
        path += n + (colon ? 1 : 0);
    }
    return tk_strdup(name);
}

int run_capture(const char *const *argv, const char *const *env, char **out, char **err)
{
    if (out)
        *out = NULL;
    if (err)
        *err = NULL;
    int out_fds[2] = {-1, -1}, err_fds[2] = {-1, -1};
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || cloexec_pipe(out_fds) < 0 || (err && cloexec_pipe(err_fds) < 0)) {
        warn_errno("cannot set up pipes for", argv[0]);
        if (null_fd >= 0)
            close(null_fd);
        for (int i = 0; i < 2; i++) {
            if (out_fds[i] >= 0)
                close(out_fds[i]);
            if (err_fds[i] >= 0)
                close(err_fds[i]);
        }
        return -1;
    }
    char **args = copy_strv(argv);
    char *program = find_program(argv[0]);
    free(args[0]);
    args[0] = program;
    char **envp = make_env(env);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(out_fds[1], STDOUT_FILENO);
        if (err)
            dup2(err_fds[1], STDERR_FILENO);
        exec_child(args, envp, parent);
    }
    free_strv(args);
    free_strv(envp);
    close(null_fd);
    close(out_fds[1]);
    if (err)
        close(err_fds[1]);
    if (pid < 0) {
        warn_errno("cannot fork for", argv[0]);
        close(out_fds[0]);
        if (err)
            close(err_fds[0]);
        return -1;
    }
    /* read both pipes as they fill, so neither side can block the child */
    struct buf got[2] = {{0}, {0}};
    struct pollfd pfd[2] = {{.fd = out_fds[0], .events = POLLIN},
                            {.fd = err ? err_fds[0] : -1, .events = POLLIN}};
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            char chunk[4096];
            ssize_t n = read(pfd[i].fd, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
            } else {
                buf_add(&got[i], chunk, (size_t)n);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = buf_detach(&got[0]);
    else
        free(got[0].data);
    if (err)
        *err = buf_detach(&got[1]);
    return decode_status(status);
}

int sbp_cli(const struct sb_proc *p, const char *const *env, char **out, char **err,
            const char *command, ...)
{
    if (out)
        *out = NULL;
    if (err)
        *err = NULL;
    char cfg[320];
    snprintf(cfg, sizeof(cfg), "%s/switchboard.ini", p->dir);
    const char *argv[32] = {testkit_binary(), command, "-c", cfg};
    size_t n = 4;
    va_list ap;
    va_start(ap, command);
    for (const char *arg = va_arg(ap, const char *); arg; arg = va_arg(ap, const char *)) {
        if (n + 1 >= sizeof(argv) / sizeof(argv[0])) {
            va_end(ap);
            fprintf(stderr, "testkit: too many arguments for 'switchboard %s'\n", command);
            return -1;
        }
        argv[n++] = arg;
    }
    va_end(ap);
    argv[n] = NULL;
    return run_capture(argv, env, out, err);
}

char **sbp_sign(const struct sb_proc *p, const char *provider, const char *secret, const char *url,
                const char *timestamp, const char *body, const char *const *lead)
{
    const char *args[5];
    size_t n = 0;
    if (url) {
        args[n++] = "--url";
        args[n++] = url;
    }
    if (timestamp) {
        args[n++] = "--timestamp";
        args[n++] = timestamp;
    }
    args[n] = NULL;
    return sbp_sign_args(p, provider, secret, args, body, lead);
}

char **sbp_sign_args(const struct sb_proc *p, const char *provider, const char *secret,
                     const char *const *args, const char *body, const char *const *lead)
{
    char path[320], config[300];
    if (sbp_write_file(p, "body-to-sign", body, path, sizeof(path)) < 0)
        return NULL;
    /* the signing is the plugins': the process's config says where they are */
    snprintf(config, sizeof(config), "%s/switchboard.ini", p->dir);
    /* through sh for the redirect: run_capture gives the child /dev/null */
    const char *argv[40] = {"/bin/sh",        "-c",  "b=\"$1\"; shift; exec \"$0\" \"$@\" < \"$b\"",
                            testkit_binary(), path,  "sign",
                            provider,         "-c",  config,
                            "--secret",       secret};
    size_t argc = 11;
    for (size_t i = 0; args && args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char *out = NULL, *err = NULL;
    int rc = run_capture(argv, NULL, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "testkit: switchboard sign %s failed (%d): %s\n", provider, rc,
                err ? err : "");
        free(out);
        free(err);
        return NULL;
    }
    size_t n_lead = 0, n_lines = 1;
    while (lead && lead[n_lead])
        n_lead++;
    for (const char *c = out; *c; c++)
        n_lines += *c == '\n';
    char **list = tk_realloc(NULL, (n_lead + n_lines + 1) * sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < n_lead; i++)
        list[n++] = tk_strdup(lead[i]);
    /* one header a line; blank lines are skipped */
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len) {
            list[n] = tk_realloc(NULL, len + 1);
            memcpy(list[n], line, len);
            list[n++][len] = '\0';
        }
        line += len + (nl ? 1 : 0);
    }
    list[n] = NULL;
    free(out);
    free(err);
    return list;
}
