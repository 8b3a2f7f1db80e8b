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

/* One integer from a query on the process's store (read-only, works while
 * the engine runs). -1 on error. */
int64_t sbp_sql_int(const struct sb_proc *p, const char *sql);
/* Wait until sbp_sql_int(sql) == want, at most timeout_ms. true if it did. */
bool sbp_wait_sql(const struct sb_proc *p, const char *sql, int64_t want, int64_t timeout_ms);

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

/* Run a command line and capture stdout (and stderr into err if given).
 * Returns the exit status. *out and *err: caller frees. */
int run_capture(const char *const *argv, const char *const *env, char **out, char **err);

/* The built switchboard binary and plugin folder. */
const char *testkit_binary(void);
const char *testkit_plugins(void);

/* Unix ms now. */
int64_t testkit_now_ms(void);
void testkit_sleep_ms(int64_t ms);

#endif
