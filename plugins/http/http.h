/* The http connector: generic webhooks in, HTTP requests and signed
 * webhooks out. */
#ifndef SB_PLUGIN_HTTP_H
#define SB_PLUGIN_HTTP_H

#include <switchboard/plugin.h>

struct json_object;

extern const struct sb_param http_webhook_params[];
enum sb_status http_webhook_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status http_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void http_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status http_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req);

extern const struct sb_param http_poll_params[];
enum sb_status http_poll_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status http_poll_poll(const struct sb_host *sb, struct sb_call *call);

extern const struct sb_param http_request_params[];
extern const struct sb_param http_send_webhook_params[];
enum sb_status http_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status http_request_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status http_send_webhook_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status http_send_webhook_run(const struct sb_host *sb, struct sb_call *call);

/* Standard Webhooks v1 signature of "id.timestamp.body" with the key of a
 * whsec_ secret, as "v1,<base64>" into out (at least 96 bytes). 0 or -1. */
int http_standard_sign(const struct sb_host *sb, const char *secret, const char *id,
                       const char *timestamp, const void *body, size_t len, char *out,
                       size_t out_size);

/* The value at a dotted path ("data.items.0": object keys, and array
 * indexes in decimal) of a JSON document; NULL or "" is the root. NULL when
 * the path does not exist. Borrowed from root. */
struct json_object *http_json_path(struct json_object *root, const char *path);

#endif
