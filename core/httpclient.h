/*
 * The core's HTTP client (libcurl), behind sb->http: one easy handle per
 * thread so connections are reused per worker, timeouts on every request,
 * response size cap, secrets redacted from logs, and dry runs that print the
 * request instead of sending it.
 */
#ifndef SB_HTTPCLIENT_H
#define SB_HTTPCLIENT_H

#include <stdbool.h>

#include <switchboard/plugin.h>

/* Process-wide set-up and tear-down (main thread). */
int httpclient_global_init(void);
void httpclient_global_cleanup(void);

/* Whether steps with dynamic_host = true may connect to loopback, private,
 * link-local and metadata addresses ([engine] allow_private_networks);
 * refused by default. Any thread; read at each request. */
void httpclient_set_allow_private_networks(bool allow);

/* sb->http: see plugin.h. */
int httpclient_host_request(struct sb_call *call, const struct sb_http_request *req,
                            struct sb_http_response *resp);
/* sb->http_release. */
void httpclient_response_release(struct sb_http_response *resp);

/* Parse a Retry-After value (seconds, or an HTTP date) relative to now (Unix
 * seconds); -1 when it is neither. */
int64_t httpclient_parse_retry_after(const char *value, int64_t now);

#endif
