#include "conn_deadline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

/* at most this long between sweeps */
#define SWEEP_MAX_MS 250
/* at most one log line about late connections this often */
#define REPORT_EVERY_MS 10000

/* One open connection: made when it opens, freed when it closes. */
struct watched {
    struct watched *prev, *next;
    int fd;
    atomic_llong deadline_ms; /* 0: none (its headers are in) */
    bool cut;                 /* shut down by the sweeper */
    char remote[64];
};

struct conn_deadlines {
    int64_t timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct watched *head;
    bool stopping;
    pthread_t sweeper;
    atomic_llong closed;
    int64_t unreported, last_report_ms;
    char last_remote[64];
};

/* A clock that does not jump when the wall clock is set. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sweep_interval(const struct conn_deadlines *d)
{
    int64_t ms = d->timeout_ms / 10;
    return ms < 10 ? 10 : ms > SWEEP_MAX_MS ? SWEEP_MAX_MS : ms;
}

/* Shut down every connection past its deadline (under the lock: a
 * connection is unlinked under it before libmicrohttpd closes its socket,
 * so the descriptor is still the connection's). */
static void sweep(struct conn_deadlines *d, int64_t now)
{
    for (struct watched *w = d->head; w; w = w->next) {
        int64_t deadline = atomic_load(&w->deadline_ms);
        if (w->cut || deadline == 0 || now < deadline)
            continue;
        shutdown(w->fd, SHUT_RDWR);
        w->cut = true;
        atomic_fetch_add(&d->closed, 1);
        d->unreported++;
        snprintf(d->last_remote, sizeof(d->last_remote), "%s", w->remote);
    }
    if (d->unreported && now - d->last_report_ms >= REPORT_EVERY_MS) {
        log_write(SB_LOG_INFO, "http",
                  "closed %lld connection(s) whose request headers were not complete within "
                  "%lld ms of opening (header_timeout), the last from %s",
                  (long long)d->unreported, (long long)d->timeout_ms, d->last_remote);
        d->unreported = 0;
        d->last_report_ms = now;
    }
}

static void *sweeper_main(void *arg)
{
    struct conn_deadlines *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        sweep(d, mono_ms());
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + sweep_interval(d) * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&d->wake, &d->lock, &until);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct conn_deadlines *conn_deadlines_new(int64_t timeout_ms)
{
    struct conn_deadlines *d = xcalloc(1, sizeof(*d));
    d->timeout_ms = timeout_ms;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    atomic_init(&d->closed, 0);
    if (pthread_create(&d->sweeper, NULL, sweeper_main, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->lock);
        free(d);
        return NULL;
    }
    return d;
}

void conn_deadlines_free(struct conn_deadlines *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->sweeper, NULL);
    while (d->head) {
        struct watched *next = d->head->next;
        free(d->head);
        d->head = next;
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void conn_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode code)
{
    struct conn_deadlines *d = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct watched *w = xcalloc(1, sizeof(*w));
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = fd ? fd->connect_fd : -1;
        atomic_init(&w->deadline_ms, w->fd >= 0 ? mono_ms() + d->timeout_ms : 0);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        if (sa && sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, w->remote,
                      sizeof(w->remote));
        else if (sa && sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      w->remote, sizeof(w->remote));
        pthread_mutex_lock(&d->lock);
        w->next = d->head;
        if (d->head)
            d->head->prev = w;
        d->head = w;
        pthread_mutex_unlock(&d->lock);
        *socket_context = w;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct watched *w = *socket_context;
        if (!w)
            return;
        pthread_mutex_lock(&d->lock);
        if (w->prev)
            w->prev->next = w->next;
        else
            d->head = w->next;
        if (w->next)
            w->next->prev = w->prev;
        pthread_mutex_unlock(&d->lock);
        free(w);
        *socket_context = NULL;
    }
}

static struct watched *watched_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void conn_deadlines_headers_done(struct MHD_Connection *conn)
{
    struct watched *w = watched_of(conn);
    if (w)
        atomic_store(&w->deadline_ms, 0);
}

void conn_deadlines_request_done(struct conn_deadlines *d, struct MHD_Connection *conn)
{
    struct watched *w = watched_of(conn);
    if (w && d)
        atomic_store(&w->deadline_ms, mono_ms() + d->timeout_ms);
}

int64_t conn_deadlines_closed(const struct conn_deadlines *d)
{
    return d ? atomic_load(&d->closed) : 0;
}
