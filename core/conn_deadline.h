/*
 * [server] header_timeout: a deadline from the moment a connection opens
 * (or its previous request ended) to the end of the request's headers.
 * libmicrohttpd's own timeout is an idle timeout, which a sender that
 * trickles one byte every few seconds never reaches; this one is counted
 * from the start. A sweeper thread shuts down the socket of every
 * connection past its deadline, and libmicrohttpd then closes it.
 *
 * The deadline starts at connection open, before any byte is read, so it
 * also bounds what comes before the headers (a TLS handshake, when there is
 * one).
 */
#ifndef SB_CONN_DEADLINE_H
#define SB_CONN_DEADLINE_H

#include <stdint.h>

#include <microhttpd.h>

struct conn_deadlines;

/* A registry with its sweeper thread running; NULL when the thread cannot
 * start. */
struct conn_deadlines *conn_deadlines_new(int64_t timeout_ms);
/* Stop the sweeper and free the registry; call after MHD_stop_daemon.
 * NULL is fine. */
void conn_deadlines_free(struct conn_deadlines *d);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the registry. */
void conn_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode code);
/* The current request's headers are in: no deadline until it ends.
 * Called on an MHD thread, for the connection it serves. */
void conn_deadlines_headers_done(struct MHD_Connection *conn);
/* The request ended: the next request on the connection gets the whole
 * timeout for its headers, from now. */
void conn_deadlines_request_done(struct conn_deadlines *d, struct MHD_Connection *conn);

/* Connections closed for being late, since the start (for /metrics). */
int64_t conn_deadlines_closed(const struct conn_deadlines *d);

#endif
