/*
 * A Salesforce stand-in for tests (connectors.md 10.2 and 10.3): the OAuth
 * token endpoint and the REST sObject routes, on one struct standin that
 * is both the login host and the instance (the token answer names the
 * stand-in as instance_url).
 *
 * POST /services/oauth2/token (form-encoded, else 400 unsupported_grant_type):
 *   - grant_type=client_credentials: client_id and client_secret equal the
 *     configured ones -> else 400 {"error":"invalid_client",...};
 *   - grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer: the
 *     assertion's header is {"alg":"RS256"}; iss is the client id, sub the
 *     username, aud the audience; exp is in the future and at most 3
 *     minutes ahead; the RS256 signature verifies with the configured key
 *     -> else 400 {"error":"invalid_grant","error_description":...};
 *   - answers 200 {"access_token","instance_url","id","token_type",
 *     "issued_at","signature"} with a new token each time.
 * /services/data/v<NN.N>/... (else 404 NOT_FOUND):
 *   - Authorization: Bearer <a token issued and not expired> -> else 401
 *     [{"message":"Session expired or invalid","errorCode":
 *     "INVALID_SESSION_ID"}];
 *   - bodies are JSON objects with Content-Type application/json -> else
 *     400 JSON_PARSER_ERROR / 415;
 *   - POST /sobjects/{Lead|Contact|Opportunity|Account}: fields the object
 *     has (else 400 INVALID_FIELD "No such column '<f>' on sobject of type
 *     <o>"), required fields present (Lead: LastName, Company; Contact:
 *     LastName; Opportunity: Name, StageName, CloseDate as YYYY-MM-DD;
 *     Account: Name; else 400 REQUIRED_FIELD_MISSING); answers 201
 *     {"id","success":true,"errors":[]};
 *   - PATCH /sobjects/{object}/{field}/{value}: the field is an external id
 *     of the object (Contact and Account: Shopify_Customer_Id__c, else 404
 *     NOT_FOUND); the body does not repeat it (stricter than Salesforce,
 *     which compares them); creates (201, "created": true, required fields
 *     checked) or updates (200, "created": false) the record with that
 *     value.
 * Valid REST requests get the queued faults first (salesforce_api_fail_next).
 * Other routes under /services/ are left to the stand-in's scripts.
 */
#ifndef SB_SALESFORCE_CHECKS_H
#define SB_SALESFORCE_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

struct standin;
struct salesforce_api;

#define SALESFORCE_TOKEN_PATH "/services/oauth2/token"
#define SALESFORCE_DATA "/services/data/v62.0"

#define SALESFORCE_LIMIT_EXCEEDED                                                                  \
    "[{\"message\":\"TotalRequests Limit exceeded.\",\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]"
#define SALESFORCE_UNAVAILABLE                                                                     \
    "[{\"message\":\"Server unavailable\",\"errorCode\":\"SERVER_UNAVAILABLE\"}]"

/* What the stand-in accepts (borrowed during install only: copied). */
struct salesforce_config {
    const char *client_id;
    const char *client_secret;  /* NULL: the client credentials flow is refused */
    const char *username;       /* NULL: the JWT flow is refused */
    const char *public_key_pem; /* the JWT flow's key (a private key PEM works too) */
    const char *audience;       /* NULL: https://login.salesforce.com */
};

/* Install on `s` (the token endpoint and every path under /services/data/).
 * Free with salesforce_api_free after standin_stop(s). Aborts on out of
 * memory (test code). */
struct salesforce_api *salesforce_api_install(struct standin *s,
                                              const struct salesforce_config *config);
void salesforce_api_free(struct salesforce_api *a);

/* Answer the next valid REST request with this status and body (queued). */
void salesforce_api_fail_next(struct salesforce_api *a, int status, const char *body);
/* Every token issued so far stops working (a session timeout). */
void salesforce_api_expire_tokens(struct salesforce_api *a);

/* Tokens issued, requests refused by a check, records held. */
size_t salesforce_api_tokens(struct salesforce_api *a);
size_t salesforce_api_refused(struct salesforce_api *a);
size_t salesforce_api_records(struct salesforce_api *a, const char *object);

#endif
