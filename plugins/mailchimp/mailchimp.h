/* The mailchimp connector: audience webhooks in (a secret in the callback
 * URL, form-encoded bodies), Marketing API 3.0 calls out (HTTP Basic with
 * the API key, the data centre taken from the key's suffix). */
#ifndef SB_PLUGIN_MAILCHIMP_H
#define SB_PLUGIN_MAILCHIMP_H

#include <switchboard/plugin.h>

/* --- webhook.c: mailchimp.webhook -------------------------------------------- */

extern const struct sb_param mailchimp_webhook_params[];
enum sb_status mailchimp_webhook_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_webhook_setup(const struct sb_host *sb, struct sb_call *call);
void mailchimp_webhook_teardown(const struct sb_host *sb, void *state);
enum sb_status mailchimp_webhook_receive(const struct sb_host *sb, struct sb_call *call,
                                         const struct sb_request *req);

/* --- members.c and request.c: the actions -------------------------------------- */

extern const struct sb_param mailchimp_upsert_member_params[];
extern const struct sb_param mailchimp_tag_member_params[];
extern const struct sb_param mailchimp_request_params[];
enum sb_status mailchimp_upsert_member_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_upsert_member_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_tag_member_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_tag_member_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status mailchimp_request_run(const struct sb_host *sb, struct sb_call *call);

/* --- api.c: what every action shares --------------------------------------------- */

/* At most 10 simultaneous connections per account (Mailchimp's limit). */
extern const struct sb_limit mailchimp_account_limit;

/* Help texts of the parameters every action has. */
#define MAILCHIMP_HELP_API_KEY                                                                     \
    "the Marketing API key, ending in its data centre (...-us21), as ${env:NAME}"
#define MAILCHIMP_HELP_API_BASE                                                                    \
    "the API root; default https://<dc>.api.mailchimp.com/3.0, <dc> from the key's suffix"

/* The longest data centre name accepted ("us21" is 4). */
#define MAILCHIMP_DC_MAX 16

/*
 * The data centre of an API key: the text after its last '-', which must be
 * 1 to MAILCHIMP_DC_MAX letters or digits, after a non-empty key. Writes it
 * to dc (at least MAILCHIMP_DC_MAX + 1 bytes) and returns 0, or -1 when the
 * key has no such suffix (dc untouched).
 */
int mailchimp_data_center(const char *api_key, char *dc);

/* Validate-time check of api_key: reports a config error naming the
 * parameter (never the key) and returns false when it has no data centre. */
bool mailchimp_check_api_key(const struct sb_host *sb, struct sb_call *call);

/*
 * The subscriber hash of an email address: MD5 of the address with
 * surrounding whitespace removed and ASCII letters lower-cased, as 32 hex
 * digits into out. `trimmed` (may be NULL) gets the address without the
 * surrounding whitespace, letters as written (what is sent as
 * email_address): caller frees. Returns 0, or -1 when the address is empty
 * after trimming or memory ran out.
 */
int mailchimp_subscriber_hash(const struct sb_host *sb, const char *email, char out[33],
                              char **trimmed);

/* A connection to the API for one call, from the api_key and api_base
 * parameters. */
struct mailchimp_api {
    char *base; /* "https://us21.api.mailchimp.com/3.0", no trailing '/' */
    char *auth; /* "Basic base64(anystring:<key>)" */
};

/* Fill *api from the call's parameters; SB_OK, or the result of sb->fail
 * with a message that says what is wrong with the key (never the key). */
enum sb_status mailchimp_api_open(const struct sb_host *sb, struct sb_call *call,
                                  struct mailchimp_api *api);
void mailchimp_api_close(struct mailchimp_api *api);

/* Percent-encode one path segment; caller frees; NULL when out of memory. */
char *mailchimp_path_segment(const struct sb_host *sb, const char *text);

/*
 * Send METHOD base+path (path starts with '/', may hold a query) with the
 * JSON `body` (may be NULL). Returns what sb->http returns; *resp is filled
 * in every case and must be released with sb->http_release.
 */
int mailchimp_send(const struct sb_host *sb, struct sb_call *call, const struct mailchimp_api *api,
                   const char *method, const char *path, const char *body,
                   struct sb_http_response *resp);

/*
 * Map a response that is not a success to the step result: network errors,
 * 429, 403 without a JSON body, 408 and 5xx retry; other statuses fail. The
 * message names `what` ("PUT /lists/x/members/y") and Mailchimp's problem
 * document (title, detail, errors[].field/message). Returns SB_OK for 2xx
 * (and a dry run) without recording anything.
 */
enum sb_status mailchimp_result(const struct sb_host *sb, struct sb_call *call, int rc,
                                const struct sb_http_response *resp, const char *what);

/* The response body parsed as JSON when it is exactly one JSON value, else
 * NULL. Caller owns. */
struct json_object *mailchimp_parse_json(const char *body, size_t len);

/* The step output for a dry run: {"dry_run": true} plus subscriber_hash when
 * given (may be NULL). Caller owns. */
struct json_object *mailchimp_dry_output(const char *subscriber_hash);

#endif
