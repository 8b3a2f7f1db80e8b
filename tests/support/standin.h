/*
 * standin: a local stand-in of a provider's HTTP API for tests (built on
 * libmicrohttpd, loopback only). It records every request, answers from a
 * script per route ("500 twice then 200", "429 with Retry-After: 2", a
 * delay), and can check what the real provider checks (an auth header's
 * shape, a content type, required or unknown fields) through a check
 * callback that answers instead of the script.
 */
#ifndef SB_STANDIN_H
#define SB_STANDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct standin;

struct standin_header {
    char *name;
    char *value;
};

/* A recorded request. */
struct standin_request {
    char *method;
    char *path;  /* without the query */
    char *query; /* raw, without '?'; "" when none */
    struct standin_header *headers;
    size_t n_headers;
    char *body; /* raw bytes, NUL-terminated */
    size_t body_len;
    int64_t at_ms; /* when it arrived (Unix ms) */
};

/* One scripted answer. */
struct standin_reply {
    int status;
    const char *content_type; /* NULL: application/json */
    const char *body;         /* NULL: "" */
    const char *headers;      /* extra "Name: value\n" lines, may be NULL */
    int delay_ms;             /* wait before answering */
};

/* A check: look at the request; return true to let the script answer, or
 * fill *reply (strings must outlive the call: use static text or the
 * provided buffer) and return false to answer with it instead. */
typedef bool (*standin_check_fn)(void *arg, const struct standin_request *req,
                                 struct standin_reply *reply, char *buf, size_t buflen);

/* Start on 127.0.0.1, port 0 (any free port). */
int standin_start(struct standin **out);
int standin_port(const struct standin *s);
/* "http://127.0.0.1:PORT" */
const char *standin_url(const struct standin *s);
void standin_stop(struct standin *s);

/* Script the answers for METHOD PATH (method "*" matches any; path may end
 * in '*' to match a prefix): replies are used in order, the last one
 * repeats. Replaces an earlier script of the same route. Unscripted routes
 * answer 404 {"error": "no route"}. */
void standin_script(struct standin *s, const char *method, const char *path,
                    const struct standin_reply *replies, size_t n);
/* Run `fn` before the script for METHOD PATH (same matching). */
void standin_check(struct standin *s, const char *method, const char *path, standin_check_fn fn,
                   void *arg);

/* Requests recorded so far (all routes, or one route when path is not NULL). */
size_t standin_count(struct standin *s, const char *path);
/* A copy of the i-th recorded request (of that route when path is not NULL);
 * false if there is none. Release with standin_request_free. */
bool standin_get(struct standin *s, const char *path, size_t i, struct standin_request *out);
void standin_request_free(struct standin_request *r);
/* A header of a recorded request (case-insensitive), or NULL. */
const char *standin_header(const struct standin_request *r, const char *name);
/* Wait until at least n requests (of path, or all) arrived; false on timeout. */
bool standin_wait(struct standin *s, const char *path, size_t n, int64_t timeout_ms);
/* Forget recorded requests (scripts stay). */
void standin_clear(struct standin *s);

#endif
