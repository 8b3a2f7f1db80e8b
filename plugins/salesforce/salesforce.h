/* The salesforce connector: Outbound Messages in (SOAP, checked against
 * the organization id, acknowledged only once stored), REST sObject calls
 * out (create, upsert by external id, any endpoint) with an OAuth 2.0
 * access token from the client credentials or JWT bearer flow, cached per
 * credentials and shared by every worker. */
#ifndef SB_PLUGIN_SALESFORCE_H
#define SB_PLUGIN_SALESFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>

/* --- salesforce.outbound_message (outbound.c) --- */
extern const struct sb_param salesforce_outbound_params[];
enum sb_status salesforce_outbound_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status salesforce_outbound_setup(const struct sb_host *sb, struct sb_call *call);
void salesforce_outbound_teardown(const struct sb_host *sb, void *state);
enum sb_status salesforce_outbound_receive(const struct sb_host *sb, struct sb_call *call,
                                           const struct sb_request *req);

/* --- organization ids (orgid.c) --- */

/*
 * The 18-character form of a Salesforce id: an 18-character id as given
 * (its 3-character suffix checked against the first 15), or a
 * 15-character one with the suffix that encodes the case of its letters.
 * Writes 18 characters + NUL into out. 0, or -1 when `id` is not 15 or 18
 * letters and digits, or its suffix does not match.
 */
int salesforce_id18(const char *id, char out[19]);

/* --- OAuth and the token cache (auth.c) --- */

/* An access token and the instance it is for. Both owned (free with
 * salesforce_session_release). */
struct salesforce_session {
    char *access_token;
    char *instance_url; /* without a trailing '/' */
};
void salesforce_session_release(struct salesforce_session *s);

/*
 * The session for the call's credentials (login_url, client_id and the
 * secret or username + private key): from the host's token cache when it
 * holds one, else from the token endpoint (client credentials, or a JWT
 * bearer assertion), then cached for every worker. When `stale` is not
 * NULL (it drew a 401), it is dropped from the cache first, unless another
 * worker already replaced it, so a fresh one is fetched or used. Tokens
 * are never logged or stored. In a dry run the token request is printed
 * and a placeholder session returned, nothing cached. Returns SB_OK with
 * *out filled (release it), or the result of sb->fail/sb->retry.
 */
enum sb_status salesforce_session_get(const struct sb_host *sb, struct sb_call *call,
                                      const struct salesforce_session *stale,
                                      struct salesforce_session *out);

/*
 * The JWT bearer assertion: base64url({"alg":"RS256"}) "." base64url(
 * {"iss":client_id,"sub":username,"aud":audience,"exp":exp_s}) "."
 * base64url(RS256 signature of the first two parts) with the RSA key in
 * `pem` (PKCS#8 or PKCS#1 PEM). *out: caller frees. 0, or -1 with the
 * reason in err (which never holds key material).
 */
int salesforce_jwt_assertion(const struct sb_host *sb, const char *client_id, const char *username,
                             const char *audience, int64_t exp_s, const char *pem, char **out,
                             char *err, size_t err_size);

/* The JWT audience for a login URL, as the Salesforce CLI picks it:
 * https://test.salesforce.com for sandboxes (test.salesforce.com, a
 * *.sandbox.my.salesforce.com domain), else https://login.salesforce.com. */
const char *salesforce_jwt_audience(const char *login_url);

/* --- the REST client (rest.c) --- */

/* The parameters every action takes, spliced into each action's table. */
#define SALESFORCE_COMMON_PARAMS                                                                   \
    {.name = "client_id",                                                                          \
     .type = SB_PARAM_STRING,                                                                      \
     .flags = SB_PARAM_REQUIRED,                                                                   \
     .help = "the connected app's consumer key (App Manager > the app > View > Consumer Key)"},    \
        {.name = "client_secret",                                                                  \
         .type = SB_PARAM_SECRET,                                                                  \
         .help = "the consumer secret: the client credentials flow (the app's run-as user "        \
                 "acts); or give username and private_key"},                                       \
        {.name = "username",                                                                       \
         .type = SB_PARAM_STRING,                                                                  \
         .help = "the JWT bearer flow: the user to act as (pre-authorized for the app)"},          \
        {.name = "private_key",                                                                    \
         .type = SB_PARAM_SECRET,                                                                  \
         .help = "the JWT bearer flow: the RSA private key (PEM) whose certificate the app "       \
                 "holds, e.g. ${file:/run/secrets/salesforce.key}"},                               \
        {.name = "login_url",                                                                      \
         .type = SB_PARAM_STRING,                                                                  \
         .def = "https://login.salesforce.com",                                                    \
         .help = "where tokens come from: https://login.salesforce.com, "                          \
                 "https://test.salesforce.com (sandboxes) or the org's My Domain URL"},            \
        {.name = "audience",                                                                       \
         .type = SB_PARAM_STRING,                                                                  \
         .help = "the JWT's aud (default: https://test.salesforce.com for a sandbox login_url, "   \
                 "else https://login.salesforce.com)"},                                            \
    {                                                                                              \
        .name = "api_version", .type = SB_PARAM_STRING, .def = "62.0",                             \
        .help = "the REST API version, e.g. 62.0 (calls go to /services/data/v62.0/...)"           \
    }

/* validate for the common parameters: one flow's credentials, login_url
 * an http(s) address, api_version like 62.0. */
enum sb_status salesforce_common_validate(const struct sb_host *sb, struct sb_call *call);

/*
 * One REST call: METHOD {instance_url}/services/data/v{api_version}{path}
 * (or {instance_url}{path} when path starts with /services/) with the
 * session's Bearer token and, when `body` is given, that JSON (borrowed).
 * A 401 renews the token once and repeats the call. On 2xx returns SB_OK
 * with *out the parsed answer (caller owns; {} when empty) and *status;
 * *out NULL on a dry run. Otherwise the result of sb->retry (network, 5xx,
 * 429) or sb->fail (REQUEST_LIMIT_EXCEEDED, other 4xx, a 300 of several
 * matches), with Salesforce's errorCode and message, naming `what`.
 */
enum sb_status salesforce_call(const struct sb_host *sb, struct sb_call *call, const char *what,
                               const char *method, const char *path, struct json_object *body,
                               struct json_object **out, long *status);

/* --- actions (records.c) --- */
extern const struct sb_param salesforce_create_record_params[];
extern const struct sb_param salesforce_upsert_params[];
extern const struct sb_param salesforce_request_params[];
enum sb_status salesforce_record_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status salesforce_request_validate(const struct sb_host *sb, struct sb_call *call);
enum sb_status salesforce_create_record_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status salesforce_upsert_run(const struct sb_host *sb, struct sb_call *call);
enum sb_status salesforce_request_run(const struct sb_host *sb, struct sb_call *call);

#endif
