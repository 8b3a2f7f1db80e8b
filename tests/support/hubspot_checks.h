/*
 * A HubSpot CRM API stand-in for tests (connectors.md 8.4), installed on a
 * struct standin for every route under /crm/.
 *
 * What it checks, answering as HubSpot does ({"status":"error","message",
 * "category","correlationId"}):
 *   - Authorization: Bearer <the private app token> -> else 401
 *     INVALID_AUTHENTICATION;
 *   - a body is JSON with Content-Type application/json -> else 415, and
 *     an object -> else 400 VALIDATION_ERROR;
 *   - POST /crm/v3/objects/contacts/batch/upsert: {"inputs":[...]} only,
 *     1 to 100 inputs, each {"idProperty":"email","id":<an address>,
 *     "properties":{<name>: <string>}} with nothing else; a property the
 *     portal does not know (firstname, lastname, email, phone, company,
 *     lifecyclestage, website) -> 400 VALIDATION_ERROR "Property
 *     \"<name>\" does not exist". Answers 200 {"status":"COMPLETE",
 *     "results":[{"id","properties","createdAt","updatedAt","archived",
 *     "new"}]}; the contact is kept by email, so an upsert of a known
 *     address updates it (same id, "new": false);
 *   - POST /crm/v3/objects/deals: {"properties":{...},"associations":[...]}
 *     only; dealname present; pipeline "default" (or absent) and dealstage
 *     one of its stages (appointmentscheduled, qualifiedtobuy,
 *     presentationscheduled, decisionmakerboughtin, contractsent,
 *     closedwon, closedlost); amount a decimal number; each association
 *     {"to":{"id":<a known contact id>},"types":[{"associationCategory":
 *     "HUBSPOT_DEFINED","associationTypeId":3}]} (3 is deal to contact;
 *     4, contact to deal, is refused for a deal). Answers 201 with the deal.
 *   - GET /crm/v3/objects/contacts/{id}?properties=a,b: the contact's
 *     properties asked for, as upserts set them, or 404 OBJECT_NOT_FOUND.
 * Valid requests get the queued faults first (hubspot_api_fail_next).
 * Other routes under /crm/ are left to the stand-in's scripts.
 */
#ifndef SB_HUBSPOT_CHECKS_H
#define SB_HUBSPOT_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

struct standin;
struct hubspot_api;

#define HUBSPOT_CONTACTS_PATH "/crm/v3/objects/contacts"
#define HUBSPOT_UPSERT_PATH "/crm/v3/objects/contacts/batch/upsert"
#define HUBSPOT_DEALS_PATH "/crm/v3/objects/deals"

/* HubSpot's 429 bodies for the two policies. */
#define HUBSPOT_429_TEN_SECONDLY                                                                   \
    "{\"status\":\"error\",\"message\":\"You have reached your ten_secondly_rolling limit.\","     \
    "\"errorType\":\"RATE_LIMIT\",\"correlationId\":\"c6a5c8a4-2b8e-4c5e-9f4b-2f1c3a2b1d00\","     \
    "\"policyName\":\"TEN_SECONDLY_ROLLING\",\"groupName\":\"privateapp:100\"}"
#define HUBSPOT_429_DAILY                                                                          \
    "{\"status\":\"error\",\"message\":\"You have reached your daily limit.\",\"errorType\":"      \
    "\"RATE_LIMIT\",\"correlationId\":\"c6a5c8a4-2b8e-4c5e-9f4b-2f1c3a2b1d01\",\"policyName\":"    \
    "\"DAILY\",\"groupName\":\"privateapp:daily\"}"

/* Install on `s` (every method, every path under /crm/), accepting exactly
 * this token. Free with hubspot_api_free after standin_stop(s). Aborts on
 * out of memory (test code). */
struct hubspot_api *hubspot_api_install(struct standin *s, const char *token);
void hubspot_api_free(struct hubspot_api *h);

/* Answer the next valid request with this status, body and extra header
 * lines ("Retry-After: 1\n", may be NULL); queued in order. */
void hubspot_api_fail_next(struct hubspot_api *h, int status, const char *body,
                           const char *headers);

/* Requests refused by a check (faults not counted). */
size_t hubspot_api_refused(struct hubspot_api *h);
/* Contacts and deals the stand-in holds. */
size_t hubspot_api_contacts(struct hubspot_api *h);
size_t hubspot_api_deals(struct hubspot_api *h);
/* The id of the contact with this email into out (at least 32 bytes);
 * false when there is none. */
bool hubspot_api_contact_id(struct hubspot_api *h, const char *email, char *out, size_t len);

/* Add (or update) a contact as if made in HubSpot; its id into id. */
bool hubspot_api_add_contact(struct hubspot_api *h, const char *email, const char *firstname,
                             char *id, size_t len);

#endif
