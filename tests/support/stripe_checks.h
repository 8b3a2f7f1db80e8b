/*
 * A Stripe API stand-in for tests: the checks stripe-mock makes
 * (connectors.md 1.6, stripe/stripe-mock server/server.go), installed on a
 * struct standin for every /v1/ route, and realistic default answers.
 *
 * In the order stripe-mock makes them:
 *   - Authorization is "Bearer <key>" or "Basic base64(<key>)" and the key
 *     split on '_' is exactly sk|rk, test, something: else 401 with
 *     stripe-mock's message (and no Request-Id);
 *   - every other answer carries Request-Id: req_123 and echoes the
 *     request's Idempotency-Key;
 *   - an unknown route is 404 "Unrecognized request URL (POST: /v1/foo).";
 *   - the query (and, except for GET, the body) must decode as a form:
 *     keys with literal or %5B%5D brackets, + as space; a bad %XX is 400;
 *   - except for GET and DELETE, Content-Type must be
 *     application/x-www-form-urlencoded (parameters after ';' ignored);
 *   - parameters are checked against the route: unknown ones, wrong types
 *     (integers, enums), missing required ones, metadata limits are 400
 *     "Request validation error: ...".
 * Errors are {"error":{"message":"...","type":"invalid_request_error"}},
 * the only two fields stripe-mock sends.
 *
 * Routes: POST /v1/customers, GET /v1/customers, GET /v1/customers/search,
 * GET|POST|DELETE /v1/customers/{id}, POST /v1/refunds, GET
 * /v1/refunds/{id}, GET /v1/checkout/sessions/{id} (expand line_items adds
 * them), GET /v1/payment_intents/{id}, GET /v1/charges/{id}. Answers
 * reflect the parameters sent (email, metadata, amount...) and the id in
 * the path, as stripe-mock does.
 */
#ifndef SB_STRIPE_CHECKS_H
#define SB_STRIPE_CHECKS_H

#include <stddef.h>

struct standin;
struct standin_reply;
struct stripe_mock;

/* Install the checks and default answers on `s` (any method, every path
 * under /v1/; other paths stay the stand-in's own). Returns the mock, or NULL
 * when out of memory. Free it with stripe_checks_free after
 * standin_stop(s). */
struct stripe_mock *stripe_checks_install(struct standin *s);
void stripe_checks_free(struct stripe_mock *m);

/* Script the answers to valid requests for METHOD PATH (method "*" any,
 * path ending in '*' a prefix): used in order, the last one repeating,
 * each sent with Request-Id and the echoed Idempotency-Key added to its
 * headers; a reply with status 0 stands for the default answer (so "500,
 * then the real object" is {500, ...}, {0}). Requests that fail a check are
 * still answered by the check.
 * n = 0 removes the script (the default answers come back). */
void stripe_checks_script(struct stripe_mock *m, const char *method, const char *path,
                          const struct standin_reply *replies, size_t n);

/* Webhook endpoints are kept (stripe-mock is stateless; switchboard hooks
 * needs list and delete to see what create made): POST
 * /v1/webhook_endpoints (url an http(s) URL, enabled_events[] of "*" or
 * event types, both required) answers with the endpoint and its `secret`
 * (whsec_wRNftLajMZNeslQOP6vEPm4iVx<6-digit sequence>), which GET
 * /v1/webhook_endpoints never shows; DELETE /v1/webhook_endpoints/{id} of
 * an unknown id is 404 "No such webhook endpoint: 'we_...'". How many
 * endpoints it holds: */
size_t stripe_checks_endpoints(struct stripe_mock *m);

/* Whether an Authorization header value passes stripe-mock's key check. */
int stripe_checks_auth_ok(const char *authorization);

#endif
