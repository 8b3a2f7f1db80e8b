/*
 * Ingress: the HTTP server (libmicrohttpd, internal epoll thread pool).
 * POST /hooks/<path> goes to the bound trigger's receive; the events it
 * returns are appended to the store, and the request is answered only after
 * the commit is on disk (the connection is suspended meanwhile, so waiting
 * costs no thread). Also serves /healthz, /readyz and /metrics.
 */
#ifndef SB_INGRESS_H
#define SB_INGRESS_H

#include <stdint.h>

struct engine;
struct ingress;

/* Start serving on the engine's configured address. *port_out: the port
 * bound (the real one when 0 was asked). 0 or -1 (logged). */
int ingress_start(struct engine *e, struct ingress **out, int *port_out);
/* Stop accepting new connections; requests in progress go on. */
void ingress_quiesce(struct ingress *in);
/* Wait until no request is in progress, at most timeout_ms. */
void ingress_drain(struct ingress *in, int64_t timeout_ms);
/* Stop the server and free it. Accepts NULL. */
void ingress_stop(struct ingress *in);
/* Append Prometheus lines about requests to buf (a struct strbuf *). */
struct strbuf;
void ingress_metrics(struct ingress *in, struct strbuf *buf);

#endif
