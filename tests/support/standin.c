/*
 * standin: a scripted HTTP server for tests (see standin.h). libmicrohttpd
 * runs one thread per connection, so a scripted delay holds only its own
 * connection. Recorded requests, scripts and checks live under one mutex;
 * a condition variable wakes standin_wait on every request.
 */
#include "standin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

/* A reply with its own copies of the strings. */
struct owned_reply {
    int status;
    char *content_type;
    char *body;
    char *headers;
    int delay_ms;
};

struct script {
    char *method, *path;
    struct owned_reply *replies;
    size_t n;
    size_t used; /* requests answered so far */
    struct script *next;
};

struct check {
    char *method, *path;
    standin_check_fn fn;
    void *arg;
    struct check *next;
};

struct standin {
    struct MHD_Daemon *daemon;
    int port;
    char url[64];
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    struct standin_request *reqs;
    size_t n_reqs, cap_reqs;
    struct script *scripts;
    struct check *checks;
};

/* One request being read: made by the URI callback, freed on completion. */
struct pending {
    char *uri; /* as sent, with the query */
    int64_t at_ms;
    bool started;
    char *body;
    size_t body_len, body_cap;
};

/* --- helpers ------------------------------------------------------------------ */

static void *si_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("standin: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *si_strndup(const char *s, size_t n)
{
    char *d = si_alloc(NULL, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *si_strdup(const char *s)
{
    return s ? si_strndup(s, strlen(s)) : NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* "/v1/items*" matches by prefix, anything else exactly. */
static bool path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, path, n - 1) == 0;
    return strcmp(pattern, path) == 0;
}

/* How well METHOD PATH patterns fit a request: -1 not at all; an exact path
 * beats any prefix, a longer prefix a shorter one, an exact method "*". */
static long match_score(const char *pmethod, const char *ppath, const char *method,
                        const char *path)
{
    bool any_method = strcmp(pmethod, "*") == 0;
    if (!any_method && strcmp(pmethod, method) != 0)
        return -1;
    if (!path_matches(ppath, path))
        return -1;
    size_t n = strlen(ppath);
    bool prefix = n && ppath[n - 1] == '*';
    long score = prefix ? (long)n * 2 : 1000000L;
    return score + (any_method ? 0 : 1);
}

static void reply_copy(struct owned_reply *to, const struct standin_reply *from)
{
    to->status = from->status;
    to->content_type = si_strdup(from->content_type);
    to->body = si_strdup(from->body);
    to->headers = si_strdup(from->headers);
    to->delay_ms = from->delay_ms;
}

static void reply_release(struct owned_reply *r)
{
    free(r->content_type);
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

static void request_copy(struct standin_request *to, const struct standin_request *from)
{
    to->method = si_strdup(from->method);
    to->path = si_strdup(from->path);
    to->query = si_strdup(from->query);
    to->n_headers = from->n_headers;
    to->headers = si_alloc(NULL, (from->n_headers ? from->n_headers : 1) * sizeof(*to->headers));
    for (size_t i = 0; i < from->n_headers; i++) {
        to->headers[i].name = si_strdup(from->headers[i].name);
        to->headers[i].value = si_strdup(from->headers[i].value);
    }
    to->body = si_strndup(from->body, from->body_len);
    to->body_len = from->body_len;
    to->at_ms = from->at_ms;
}

void standin_request_free(struct standin_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

const char *standin_header(const struct standin_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* --- serving ---------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct pending *pd = si_alloc(NULL, sizeof(*pd));
    memset(pd, 0, sizeof(*pd));
    pd->uri = si_strdup(uri ? uri : "/");
    pd->at_ms = now_ms();
    return pd;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct pending *pd = *con_cls;
    if (pd) {
        free(pd->uri);
        free(pd->body);
        free(pd);
    }
    *con_cls = NULL;
}

struct header_list {
    struct standin_header *items;
    size_t n, cap;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct header_list *l = cls;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = si_alloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n].name = si_strdup(key);
    l->items[l->n].value = si_strdup(value ? value : "");
    l->n++;
    return MHD_YES;
}

/* The reply for a request: the route's check may answer, else its script,
 * else 404. Fills *out with owned copies. */
static void choose_reply(struct standin *s, const struct standin_request *req,
                         struct owned_reply *out)
{
    standin_check_fn fn = NULL;
    void *arg = NULL;
    pthread_mutex_lock(&s->lock);
    long best = -1;
    for (struct check *c = s->checks; c; c = c->next) {
        long score = match_score(c->method, c->path, req->method, req->path);
        if (score > best) {
            best = score;
            fn = c->fn;
            arg = c->arg;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (fn) {
        /* called unlocked: a check may take its time, or look at the stand-in */
        char text[4096] = "";
        struct standin_reply r = {.status = 400};
        if (!fn(arg, req, &r, text, sizeof(text))) {
            reply_copy(out, &r);
            return;
        }
    }
    pthread_mutex_lock(&s->lock);
    struct script *found = NULL;
    best = -1;
    for (struct script *sc = s->scripts; sc; sc = sc->next) {
        long score = match_score(sc->method, sc->path, req->method, req->path);
        if (score > best) {
            best = score;
            found = sc;
        }
    }
    if (found) {
        size_t i = found->used < found->n ? found->used : found->n - 1;
        found->used++;
        const struct owned_reply *r = &found->replies[i];
        struct standin_reply view = {.status = r->status,
                                     .content_type = r->content_type,
                                     .body = r->body,
                                     .headers = r->headers,
                                     .delay_ms = r->delay_ms};
        reply_copy(out, &view);
    }
    pthread_mutex_unlock(&s->lock);
    if (!found) {
        struct standin_reply none = {.status = 404, .body = "{\"error\": \"no route\"}"};
        reply_copy(out, &none);
    }
}

/* "Name: value\n" lines onto the response. */
static void add_headers(struct MHD_Response *resp, const char *lines)
{
    const char *p = lines;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char *line = si_strndup(p, n);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            MHD_add_response_header(resp, line, v);
        }
        free(line);
        p += n + (eol ? 1 : 0);
    }
}

static enum MHD_Result respond(struct MHD_Connection *conn, const struct owned_reply *r)
{
    const char *body = r->body ? r->body : "";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    add_headers(resp, r->headers);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    struct standin *s = cls;
    struct pending *pd = *con_cls;
    if (!pd)
        return MHD_NO;
    if (!pd->started) {
        pd->started = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (pd->body_len + n + 1 > pd->body_cap) {
            pd->body_cap = (pd->body_len + n + 1) * 2;
            pd->body = si_alloc(pd->body, pd->body_cap);
        }
        memcpy(pd->body + pd->body_len, upload_data, n);
        pd->body_len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }

    /* the whole request is in: record it, then answer */
    struct header_list hl = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
    const char *qmark = strchr(pd->uri, '?');
    char *path = qmark ? si_strndup(pd->uri, (size_t)(qmark - pd->uri)) : si_strdup(pd->uri);
    char *query = si_strdup(qmark ? qmark + 1 : "");
    char *body = si_strndup(pd->body ? pd->body : "", pd->body_len);
    char *method_copy = si_strdup(method);
    struct standin_request req = {
        .method = method_copy,
        .path = path,
        .query = query,
        .headers = hl.items,
        .n_headers = hl.n,
        .body = body,
        .body_len = pd->body_len,
        .at_ms = pd->at_ms,
    };
    pthread_mutex_lock(&s->lock);
    if (s->n_reqs == s->cap_reqs) {
        s->cap_reqs = s->cap_reqs ? s->cap_reqs * 2 : 32;
        s->reqs = si_alloc(s->reqs, s->cap_reqs * sizeof(*s->reqs));
    }
    request_copy(&s->reqs[s->n_reqs++], &req);
    pthread_cond_broadcast(&s->arrived);
    pthread_mutex_unlock(&s->lock);

    struct owned_reply reply = {0};
    choose_reply(s, &req, &reply);
    for (size_t i = 0; i < hl.n; i++) {
        free(hl.items[i].name);
        free(hl.items[i].value);
    }
    free(hl.items);
    free(method_copy);
    free(path);
    free(query);
    free(body);
    if (reply.delay_ms > 0)
        sleep_ms(reply.delay_ms);
    enum MHD_Result rc = respond(conn, &reply);
    reply_release(&reply);
    return rc;
}

/* --- life cycle ----------------------------------------------------------------- */

int standin_start(struct standin **out)
{
    struct standin *s = si_alloc(NULL, sizeof(*s));
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->arrived, &ca);
    pthread_condattr_destroy(&ca);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->daemon =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL | MHD_USE_ERROR_LOG,
                         0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->daemon) {
        fputs("standin: cannot start the HTTP server on 127.0.0.1\n", stderr);
        standin_stop(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : 0;
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    *out = s;
    return 0;
}

int standin_port(const struct standin *s)
{
    return s->port;
}

const char *standin_url(const struct standin *s)
{
    return s->url;
}

void standin_stop(struct standin *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    for (size_t i = 0; i < s->n_reqs; i++)
        standin_request_free(&s->reqs[i]);
    free(s->reqs);
    while (s->scripts) {
        struct script *next = s->scripts->next;
        for (size_t i = 0; i < s->scripts->n; i++)
            reply_release(&s->scripts->replies[i]);
        free(s->scripts->replies);
        free(s->scripts->method);
        free(s->scripts->path);
        free(s->scripts);
        s->scripts = next;
    }
    while (s->checks) {
        struct check *next = s->checks->next;
        free(s->checks->method);
        free(s->checks->path);
        free(s->checks);
        s->checks = next;
    }
    pthread_cond_destroy(&s->arrived);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* --- scripts and checks -------------------------------------------------------- */

void standin_script(struct standin *s, const char *method, const char *path,
                    const struct standin_reply *replies, size_t n)
{
    struct owned_reply *copies = NULL;
    if (n) {
        copies = si_alloc(NULL, n * sizeof(*copies));
        for (size_t i = 0; i < n; i++)
            reply_copy(&copies[i], &replies[i]);
    }
    pthread_mutex_lock(&s->lock);
    struct script **link = &s->scripts;
    while (*link && !(strcmp((*link)->method, method) == 0 && strcmp((*link)->path, path) == 0))
        link = &(*link)->next;
    struct script *sc = *link;
    if (sc) {
        for (size_t i = 0; i < sc->n; i++)
            reply_release(&sc->replies[i]);
        free(sc->replies);
        sc->replies = NULL;
        sc->n = 0;
        sc->used = 0;
    }
    if (n == 0) {
        /* no replies: the route is unscripted again */
        if (sc) {
            *link = sc->next;
            free(sc->method);
            free(sc->path);
            free(sc);
        }
    } else {
        if (!sc) {
            sc = si_alloc(NULL, sizeof(*sc));
            memset(sc, 0, sizeof(*sc));
            sc->method = si_strdup(method);
            sc->path = si_strdup(path);
            *link = sc;
        }
        sc->replies = copies;
        sc->n = n;
    }
    pthread_mutex_unlock(&s->lock);
}

void standin_check(struct standin *s, const char *method, const char *path, standin_check_fn fn,
                   void *arg)
{
    pthread_mutex_lock(&s->lock);
    struct check **link = &s->checks;
    while (*link && !(strcmp((*link)->method, method) == 0 && strcmp((*link)->path, path) == 0))
        link = &(*link)->next;
    struct check *c = *link;
    if (!fn) {
        if (c) {
            *link = c->next;
            free(c->method);
            free(c->path);
            free(c);
        }
    } else {
        if (!c) {
            c = si_alloc(NULL, sizeof(*c));
            memset(c, 0, sizeof(*c));
            c->method = si_strdup(method);
            c->path = si_strdup(path);
            *link = c;
        }
        c->fn = fn;
        c->arg = arg;
    }
    pthread_mutex_unlock(&s->lock);
}

/* --- recorded requests ------------------------------------------------------------ */

static size_t count_locked(const struct standin *s, const char *path)
{
    if (!path)
        return s->n_reqs;
    size_t n = 0;
    for (size_t i = 0; i < s->n_reqs; i++)
        n += path_matches(path, s->reqs[i].path);
    return n;
}

size_t standin_count(struct standin *s, const char *path)
{
    pthread_mutex_lock(&s->lock);
    size_t n = count_locked(s, path);
    pthread_mutex_unlock(&s->lock);
    return n;
}

bool standin_get(struct standin *s, const char *path, size_t i, struct standin_request *out)
{
    bool found = false;
    pthread_mutex_lock(&s->lock);
    size_t seen = 0;
    for (size_t k = 0; k < s->n_reqs && !found; k++) {
        if (path && !path_matches(path, s->reqs[k].path))
            continue;
        if (seen++ == i) {
            request_copy(out, &s->reqs[k]);
            found = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

bool standin_wait(struct standin *s, const char *path, size_t n, int64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = (int64_t)until.tv_nsec + (timeout_ms % 1000) * 1000000;
    until.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&s->lock);
    bool ok = true;
    while (count_locked(s, path) < n) {
        if (pthread_cond_timedwait(&s->arrived, &s->lock, &until) == ETIMEDOUT) {
            ok = count_locked(s, path) >= n;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void standin_clear(struct standin *s)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_reqs; i++)
        standin_request_free(&s->reqs[i]);
    s->n_reqs = 0;
    pthread_mutex_unlock(&s->lock);
}
