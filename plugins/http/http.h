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
/* switchboard sign http (or standard): Standard Webhooks headers. */
extern const struct sb_param http_webhook_sign_params[];
extern const char *const http_webhook_sign_aliases[];
enum sb_status http_webhook_sign(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_sign_request *req);

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

/* The value at a path in the template dialect ("data.items[0].id",
 * "data.items.0.id"; sb->json_path) of a JSON document; NULL or "" is the
 * root. NULL when the path does not exist or is JSON null. Borrowed from
 * root. */
struct json_object *http_json_path(const struct sb_host *sb, struct json_object *root,
                                   const char *path);
/* validate: the parameter `param`, when set, is such a path; else a config
 * error naming it and SB_FAIL. */
enum sb_status http_check_path(const struct sb_host *sb, struct sb_call *call, const char *param);

#endif
