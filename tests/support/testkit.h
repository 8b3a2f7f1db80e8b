/*
 * testkit: run the real switchboard binary in end-to-end tests. Each
 * sb_proc gets a private temporary folder with its own switchboard.ini
 * (listening on 127.0.0.1 port 0, the store in the folder, the built
 * plugins), its workflows, and its log. Loopback only.
 */
#ifndef SB_TESTKIT_H
#define SB_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sb_proc {
    char dir[256];       /* the private folder (config, workflows/, store.db, log) */
    char workflows[300]; /* dir/workflows */
    char store[300];     /* dir/store.db */
    char log_path[300];  /* dir/switchboard.log: the engine's stderr */
    char base_url[64];   /* "http://127.0.0.1:PORT" once started */
    int port;
    pid_t pid; /* 0 when not running */
};

/* Make the folder (mkdtemp under /tmp). extra_ini is appended to the
 * generated switchboard.ini (e.g. "[engine]\nworkers = 2\n"); may be NULL.
 * The [server] and [engine] sections are written first, so extra keys for
 * them must come as whole sections that override (later keys are errors:
 * use sbp_init_ini for full control). Returns 0 or -1. */
int sbp_init(struct sb_proc *p, const char *extra_ini);
/* Same with the whole ini given; "@DIR@" in it is replaced by the folder and
 * "@PLUGINS@" by the built plugin folder. */
int sbp_init_ini(struct sb_proc *p, const char *ini);
/* Write dir/workflows/<name>.ini. */
int sbp_write_workflow(struct sb_proc *p, const char *name, const char *ini_text);
/* Same with the text made by printf from `format` (e.g. a stand-in's URL
 * put in). */
int sbp_write_workflowf(struct sb_proc *p, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Start `switchboard run -c dir/switchboard.ini` with extra environment
 * ("NAME=value" strings, may be NULL) and wait (at most 10 s) for its
 * "listening on http://127.0.0.1:PORT" line. Restarting after a stop keeps
 * the same port when it is free. Returns 0 or -1 (the log is printed). */
int sbp_start(struct sb_proc *p, const char *const *env);
/* Send `sig` and wait for the process; returns its exit status (or 128+sig
 * when killed by a signal), -1 on error. */
int sbp_stop(struct sb_proc *p, int sig);
/* Stop if running (SIGKILL) and remove the folder. */
void sbp_cleanup(struct sb_proc *p);
/* Whether the log contains `text`. */
bool sbp_log_contains(const struct sb_proc *p, const char *text);
/* Write dir/<name> (an event file, a body to sign) and put its path into
 * path (pathlen bytes). Returns 0 or -1. */
int sbp_write_file(const struct sb_proc *p, const char *name, const char *text, char *path,
                   size_t pathlen);

/* One integer from a query on the process's store (read-only, works while
 * the engine runs). -1 on error. */
int64_t sbp_sql_int(const struct sb_proc *p, const char *sql);
/* Wait until sbp_sql_int(sql) == want, at most timeout_ms. true if it did. */
bool sbp_wait_sql(const struct sb_proc *p, const char *sql, int64_t want, int64_t timeout_ms);
/* How many runs of `workflow` have `status` (-1 on error), and waiting
 * (at most timeout_ms) until exactly n have. Both go into the SQL as they
 * are: plain names only. */
int64_t sbp_count_runs(const struct sb_proc *p, const char *workflow, const char *status);
bool sbp_wait_runs(const struct sb_proc *p, const char *workflow, const char *status, int64_t n,
                   int64_t timeout_ms);

/* HTTP from tests (libcurl). */
struct http_reply {
    long status; /* 0 when no response (connection failed) */
    char *body;  /* NUL-terminated, never NULL after a request */
    size_t body_len;
    char *headers; /* raw response header block */
};
/* `headers` is a NULL-terminated list of "Name: value" lines (may be NULL).
 * timeout_ms 0 means 10 s. Returns 0 when a response came back, -1 if not. */
int http_do(const char *method, const char *url, const char *const *headers, const void *body,
            size_t len, long timeout_ms, struct http_reply *out);
void http_reply_free(struct http_reply *r);
/* A response header's value (case-insensitive) into out; false if absent. */
bool http_reply_header(const struct http_reply *r, const char *name, char *out, size_t outlen);
/* METHOD base_url/hooks/<hook> of a started engine (hook may end in a
 * "?query"), with `headers` as for http_do and `body` (NULL: none). Returns
 * the HTTP status, 0 when no response came. The reply goes to *reply when
 * it is not NULL (release it with http_reply_free), else it is freed. */
long sbp_hook_request(const struct sb_proc *p, const char *method, const char *hook,
                      const char *const *headers, const char *body, struct http_reply *reply);

/* Run a command line and capture stdout (and stderr into err if given).
 * Returns the exit status. *out and *err: caller frees. */
int run_capture(const char *const *argv, const char *const *env, char **out, char **err);
/* `switchboard COMMAND -c dir/switchboard.ini ARGS...` (the arguments end
 * with NULL) through run_capture: runs, replay, fire. */
int sbp_cli(const struct sb_proc *p, const char *const *env, char **out, char **err,
            const char *command, ...) __attribute__((sentinel));
/* The header lines `switchboard sign PROVIDER --secret SECRET [--url URL]
 * [--timestamp TS]` prints for `body` (url and timestamp may be NULL),
 * after copies of the `lead` lines (NULL-terminated, may be NULL), e.g. a
 * Content-Type. A NULL-terminated list the caller frees with
 * testkit_strv_free; NULL if the command failed (its stderr is printed). */
char **sbp_sign(const struct sb_proc *p, const char *provider, const char *secret, const char *url,
                const char *timestamp, const char *body, const char *const *lead);
/* The same with any further arguments (NULL-terminated, may be NULL), e.g.
 * {"--set", "topic=orders/paid", NULL}. */
char **sbp_sign_args(const struct sb_proc *p, const char *provider, const char *secret,
                     const char *const *args, const char *body, const char *const *lead);

/* The built switchboard binary and plugin folder. */
const char *testkit_binary(void);
const char *testkit_plugins(void);

/* Unix ms now. */
int64_t testkit_now_ms(void);
void testkit_sleep_ms(int64_t ms);

/* printf into a new string the caller frees; aborts on a bad format or out
 * of memory. */
char *testkit_fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Free a NULL-terminated list of strings and the list; NULL is fine. */
void testkit_strv_free(char **v);

#endif
