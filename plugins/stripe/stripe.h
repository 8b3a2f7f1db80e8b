/*
 * The stripe connector's internal interface: the webhook trigger
 * (webhook.c), the API actions (actions.c) over one request helper (api.c),
 * and the form encoder (form.c) that writes parameters the way stripe-node
 * does. form.c depends on nothing but this header, libc and json-c, so the
 * unit tests compile it in directly.
 */
#ifndef SB_PLUGIN_STRIPE_H
#define SB_PLUGIN_STRIPE_H

#include <stddef.h>

#include <switchboard/plugin.h>

/* Stripe's real API; every action takes api_base to point elsewhere. */
#define STRIPE_API_BASE "https://api.stripe.com"

/* --- form.c: application/x-www-form-urlencoded, stripe-node style ---------- */

/* A growing NUL-terminated text buffer. Start it zeroed; release with
 * stripe_buf_release. `data` is NULL until something was added. */
struct stripe_buf {
    char *data;
    size_t len, cap;
};

void stripe_buf_release(struct stripe_buf *b);
/* Append n bytes of s; 0, or -1 when out of memory. */
int stripe_buf_add(struct stripe_buf *b, const char *s, size_t n);

/*
 * Append the pairs of one parameter to the form in `b` ('&' between pairs),
 * as stripe-node writes them (qs.stringify, then %5B and %5D turned back
 * into literal brackets):
 *   - a string, number or boolean is key=value;
 *   - null is key= (an empty value: Stripe's way of unsetting a field);
 *   - an object nests: metadata {order_id: 6735} is metadata[order_id]=6735;
 *   - an array takes indices: items [{price: p}] is items[0][price]=p;
 *   - empty objects and arrays send nothing, as with qs.
 * Keys and values are percent-encoded with sb->url_encode (RFC 3986
 * unreserved characters kept, space as %20), then every %5B and %5D is
 * written as [ and ]. `key` is used as written, so a key that already holds
 * brackets ("metadata[order_id]") is sent as is.
 * `value` is borrowed. Returns 0, or -1 when out of memory or nested deeper
 * than 32 levels.
 */
int stripe_form_add(const struct sb_host *sb, struct stripe_buf *b, const char *key,
                    struct json_object *value);
/*
 * Encode every member of the object `params` (borrowed; NULL or empty gives
 * ""). *out is NUL-terminated, caller frees it with free(). 0 or -1 as
 * stripe_form_add.
 */
int stripe_form_encode(const struct sb_host *sb, struct json_object *params, char **out);

/* --- webhook.c: stripe.webhook ------------------------------------------- */

extern const struct sb_param stripe_webhook_params[];
enum sb_status stripe_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void stripe_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status stripe_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_request *req);
/* switchboard hooks register|unregister|list (hooks.c): webhook endpoints;
 * register keeps the endpoint's signing secret in the trigger state under
 * STRIPE_SECRET_KEY, which receive uses when `secret` is not set. */
#define STRIPE_SECRET_KEY "secret"
enum sb_status stripe_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target);
enum sb_status stripe_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_hook_target *target);
enum sb_status stripe_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target);
enum sb_status stripe_webhook_validate(const struct sb_host *sb, struct sb_call *call);
/* switchboard sign stripe: Stripe-Signature t=<ts>,v1=<hex> for the body. */
enum sb_status stripe_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_sign_request *req);

/* --- events.c: stripe.events, the catch-up poller -------------------------- */

extern const struct sb_param stripe_events_params[];
enum sb_status stripe_events_poll(const struct sb_host *sb, struct sb_call *call);

/* --- api.c: one request to the Stripe API -------------------------------- */

/*
 * Send METHOD api_base+path with the call's credentials (api_key as Bearer,
 * stripe_version, stripe_account) and the form `form` (may be NULL or ""):
 * for GET and DELETE in the query string, else as the body, with
 * Idempotency-Key set to sb->idempotency_key(call) on POST. Maps the answer
 * to the step result: 2xx sets the output to the response object; network
 * errors, 409, 429 and 5xx retry (Retry-After honoured); Stripe-Should-Retry
 * true retries and false fails whatever the status; other statuses fail
 * with Stripe's error message, type and code. A dry run sets
 * {"dry_run": true}. All pointers are borrowed.
 */
enum sb_status stripe_api_call(const struct sb_host *sb, struct sb_call *call, const char *method,
                               const char *path, const char *form);
/* The same, with the 2xx answer in *out (caller owns; {"dry_run": true} on
 * a dry run) instead of the step output. */
enum sb_status stripe_api_request(const struct sb_host *sb, struct sb_call *call,
                                  const char *method, const char *path, const char *form,
                                  struct json_object **out);

/* --- actions.c ----------------------------------------------------------- */

extern const struct sb_param stripe_request_params[];
extern const struct sb_param stripe_create_customer_params[];
extern const struct sb_param stripe_create_refund_params[];
extern const struct sb_param stripe_retrieve_params[];
enum sb_status stripe_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_request_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_create_customer_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_create_refund_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_create_refund_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_retrieve_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status stripe_retrieve_run(const struct sb_host *sb, struct sb_call *call);

#endif
