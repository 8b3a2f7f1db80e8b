/* The salesforce connector end to end: the real engine runs workflows whose
 * Salesforce steps get tokens from, and call, a stand-in of the token
 * endpoint and the REST API (tests/support/salesforce_checks.c) that checks
 * what Salesforce checks: the client credentials, the JWT assertion's
 * claims and RS256 signature, the Bearer session, known fields, required
 * fields and external id fields. Covered: create_record and upsert (made,
 * then updated: the same record); one token for many runs, renewed once on
 * a 401; wrong credentials, REQUEST_LIMIT_EXCEEDED and a 300 fail at once
 * with clear errors; a 503 retries; the JWT bearer flow with a key from a
 * file; Outbound Messages acknowledged only when accepted, one run per
 * Notification, duplicates dropped, another org refused; tokens and
 * secrets never in the log or a dry run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "salesforce_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define CLIENT_ID "3MVG9_CONNECTED_APP_CONSUMER_KEY_0001"
#define CLIENT_SECRET "F00DFACE0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567"
#define USERNAME "integration@acme.example.com"
#define KEY_FILE SB_SOURCE_DIR "/tests/data/salesforce/jwt-test-key.pem"
#define TOKEN_PREFIX "00D5e000000AbCd!AQ4AQF"
#define ORG "00D5e000000AbCdEAK"

static struct sb_proc proc;
static struct standin *api;
static struct salesforce_api *sf;

static const char *const env[] = {"SB_TEST_SF_SECRET=" CLIENT_SECRET,
                                  "SB_TEST_SF_WRONG=not-the-secret", NULL};

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 30000);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 8192);
    if (text)
        text[fread(text, 1, 8191, f)] = '\0';
    fclose(f);
    return text;
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    char *pem = read_file(KEY_FILE);
    if (!pem)
        return -1;
    const struct salesforce_config config = {.client_id = CLIENT_ID,
                                             .client_secret = CLIENT_SECRET,
                                             .username = USERNAME,
                                             .public_key_pem = pem};
    sf = salesforce_api_install(api, &config);
    free(pem);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(&proc, "leads",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step lead]\nuse = salesforce.create_record\nobject = Lead\n"
                        "client_id = " CLIENT_ID
                        "\nclient_secret = ${env:SB_TEST_SF_SECRET}\nlogin_url = %s\n"
                        "fields.LastName = {{ event.last }}\nfields.Company = {{ event.company }}\n"
                        "fields.Email = {{ event.email }}\n",
                        base);
    sbp_write_workflowf(
        &proc, "contacts",
        "[workflow]\nretry_backoff = 200ms\n\n"
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step contact]\nuse = salesforce.upsert\nobject = Contact\n"
        "external_id_field = Shopify_Customer_Id__c\nexternal_id = {{ event.customer }}\n"
        "client_id = " CLIENT_ID "\nclient_secret = ${env:SB_TEST_SF_SECRET}\nlogin_url = %s/\n"
        "fields.LastName = {{ event.last }}\nfields.Email = {{ event.email }}\n",
        base);
    /* the JWT bearer flow, the key read from its file */
    static const char *const users[] = {"jwt", USERNAME, "jwtbad", "someone@else.example"};
    for (size_t i = 0; i < 4; i += 2)
        sbp_write_workflowf(&proc, users[i],
                            "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                            "[step q]\nuse = salesforce.request\npath = /query?q={{ event.soql }}\n"
                            "client_id = " CLIENT_ID
                            "\nusername = %s\nprivate_key = ${file:" KEY_FILE "}\nlogin_url = %s\n",
                            users[i + 1], base);
    sbp_write_workflowf(&proc, "badcreds",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step lead]\nuse = salesforce.create_record\nobject = Lead\n"
                        "client_id = " CLIENT_ID "\nclient_secret = ${env:SB_TEST_SF_WRONG}\n"
                        "login_url = %s\nfields.LastName = x\nfields.Company = y\n",
                        base);
    sbp_write_workflow(&proc, "inbound",
                       "[trigger]\nuse = salesforce.outbound_message\npath = sf-leads\n"
                       "organization_id = 00D5e000000AbCd\nevents = Lead\n\n"
                       "[step log]\nuse = log.write\n"
                       "message = lead {{ event.sobject.Email }} from {{ event.organization_id "
                       "}}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    salesforce_api_free(sf);
    return 0;
}

static void test_create_and_upsert_share_one_token(void **state)
{
    (void)state;
    standin_clear(api);
    size_t tokens = salesforce_api_tokens(sf);
    scenario_post_event(&proc, "leads",
                        "{\"id\": \"l-1\", \"last\": \"Lovelace\", \"company\": \"Analytical "
                        "Engines Ltd\", \"email\": \"ada@example.com\"}");
    assert_true(wait_status("leads", "succeeded", 1));
    assert_int_equal(salesforce_api_refused(sf), 0);
    /* the token request: form-encoded client credentials */
    struct standin_request req;
    assert_true(standin_get(api, SALESFORCE_TOKEN_PATH, 0, &req));
    assert_string_equal(standin_header(&req, "Content-Type"), "application/x-www-form-urlencoded");
    assert_non_null(strstr(req.body, "grant_type=client_credentials"));
    standin_request_free(&req);
    /* the REST call: Bearer, JSON, the fields */
    assert_true(standin_get(api, SALESFORCE_DATA "/sobjects/Lead", 0, &req));
    assert_string_equal(req.method, "POST");
    assert_non_null(strstr(standin_header(&req, "Authorization"), "Bearer " TOKEN_PREFIX));
    assert_string_equal(standin_header(&req, "Content-Type"), "application/json");
    struct json_object *body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "LastName"), "Lovelace");
    assert_string_equal(scenario_json_get(body, "Company"), "Analytical Engines Ltd");
    assert_int_equal(json_object_object_length(body), 3);
    json_object_put(body);
    standin_request_free(&req);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'lead' AND "
                                        "output LIKE '%\"id\":\"00Q5e0000%' AND output LIKE "
                                        "'%\"object\":\"Lead\"%'"),
                     1);

    /* upsert: made, then updated, always the same Contact */
    const char *c = "{\"id\": \"c-1\", \"customer\": \"820982911946154508\", \"last\": \"Hopper\", "
                    "\"email\": \"grace@example.com\"}";
    scenario_post_event(&proc, "contacts", c);
    assert_true(wait_status("contacts", "succeeded", 1));
    scenario_post_event(&proc, "contacts",
                        "{\"id\": \"c-2\", \"customer\": \"820982911946154508\", \"last\": "
                        "\"Hopper\", \"email\": \"grace.hopper@example.com\"}");
    assert_true(wait_status("contacts", "succeeded", 2));
    assert_int_equal(salesforce_api_records(sf, "Contact"), 1);
    const char *path =
        SALESFORCE_DATA "/sobjects/Contact/Shopify_Customer_Id__c/820982911946154508";
    assert_int_equal(standin_count(api, path), 2);
    assert_true(standin_get(api, path, 0, &req));
    assert_string_equal(req.method, "PATCH");
    body = json_tokener_parse(req.body);
    /* the external id travels in the URL only */
    assert_null(scenario_json_get(body, "Shopify_Customer_Id__c"));
    assert_string_equal(scenario_json_get(body, "LastName"), "Hopper");
    json_object_put(body);
    standin_request_free(&req);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'contact' AND "
                                        "output LIKE '%\"created\":true%'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'contact' AND "
                                        "output LIKE '%\"created\":false%'"),
                     1);
    /* one token for all three runs and both workflows */
    assert_int_equal(salesforce_api_tokens(sf), tokens + 1);
    assert_false(sbp_log_contains(&proc, TOKEN_PREFIX));
    assert_false(sbp_log_contains(&proc, CLIENT_SECRET));
}

static void test_expired_session_renews_once(void **state)
{
    (void)state;
    standin_clear(api);
    size_t tokens = salesforce_api_tokens(sf), refused = salesforce_api_refused(sf);
    salesforce_api_expire_tokens(sf);
    scenario_post_event(&proc, "leads",
                        "{\"id\": \"l-2\", \"last\": \"Babbage\", \"company\": \"Difference "
                        "Engines\", \"email\": \"charles@example.com\"}");
    assert_true(wait_status("leads", "succeeded", 2));
    /* one 401, one new token, the same call again, in one attempt */
    assert_int_equal(salesforce_api_tokens(sf), tokens + 1);
    assert_int_equal(salesforce_api_refused(sf), refused + 1);
    assert_int_equal(standin_count(api, SALESFORCE_DATA "/sobjects/Lead"), 2);
    assert_int_equal(sbp_sql_int(&proc, "SELECT attempts FROM runs WHERE workflow = 'leads' "
                                        "ORDER BY id DESC LIMIT 1"),
                     1);
}

static void test_errors(void **state)
{
    (void)state;
    /* wrong credentials: dead at once, Salesforce's reason kept */
    scenario_post_event(&proc, "badcreds", "{\"id\": \"b-1\"}");
    assert_true(wait_status("badcreds", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'badcreds' "
                                        "AND attempts = 1 AND error LIKE '%token request refused: "
                                        "Salesforce HTTP 400 invalid_client (invalid client "
                                        "credentials)%'"),
                     1);
    assert_false(sbp_log_contains(&proc, "not-the-secret"));

    /* the org's daily API allowance: no retry */
    salesforce_api_fail_next(sf, 403, SALESFORCE_LIMIT_EXCEEDED);
    scenario_post_event(&proc, "leads",
                        "{\"id\": \"l-3\", \"last\": \"Turing\", \"company\": \"Bletchley\", "
                        "\"email\": \"alan@example.com\"}");
    assert_true(wait_status("leads", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'leads' AND "
                                        "status = 'dead' AND attempts = 1 AND error LIKE '%API "
                                        "request limit is spent%REQUEST_LIMIT_EXCEEDED%'"),
                     1);
    /* a required field missing: Salesforce's code and message */
    scenario_post_event(&proc, "leads",
                        "{\"id\": \"l-4\", \"last\": \"\", \"company\": \"X\", \"email\": "
                        "\"x@example.com\"}");
    assert_true(wait_status("leads", "dead", 2));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'leads' AND "
                                        "error LIKE '%HTTP 400 REQUIRED_FIELD_MISSING: Required "
                                        "fields are missing: [LastName]%'"),
                     1);
    /* a 503 is retried */
    standin_clear(api);
    salesforce_api_fail_next(sf, 503, SALESFORCE_UNAVAILABLE);
    scenario_post_event(&proc, "leads",
                        "{\"id\": \"l-5\", \"last\": \"Hamilton\", \"company\": \"MIT\", "
                        "\"email\": \"margaret@example.com\"}");
    assert_true(wait_status("leads", "succeeded", 3));
    assert_int_equal(standin_count(api, SALESFORCE_DATA "/sobjects/Lead"), 2);
}

static void test_jwt_bearer_flow(void **state)
{
    (void)state;
    standin_clear(api);
    const struct standin_reply rows = {
        200, NULL, "{\"totalSize\":1,\"done\":true,\"records\":[{\"Id\":\"00Q5e0000000001AAK\"}]}",
        NULL, 0};
    standin_script(api, "GET", SALESFORCE_DATA "/query", &rows, 1);
    scenario_post_event(&proc, "jwt", "{\"id\": \"j-1\", \"soql\": \"SELECT Id FROM Lead\"}");
    assert_true(wait_status("jwt", "succeeded", 1));
    struct standin_request req;
    assert_true(standin_get(api, SALESFORCE_TOKEN_PATH, 0, &req));
    assert_non_null(strstr(req.body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-"
                                     "bearer&assertion=eyJhbGciOiJSUzI1NiJ9."));
    standin_request_free(&req);
    assert_true(standin_get(api, SALESFORCE_DATA "/query", 0, &req));
    assert_string_equal(req.query, "q=SELECT%20Id%20FROM%20Lead");
    standin_request_free(&req);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'q' AND output "
                                        "LIKE '%\"totalSize\":1%'"),
                     1);
    /* a user the app does not know: invalid_grant, dead at once */
    scenario_post_event(&proc, "jwtbad", "{\"id\": \"j-2\", \"soql\": \"SELECT Id FROM Lead\"}");
    assert_true(wait_status("jwtbad", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'jwtbad' AND "
                                        "error LIKE '%invalid_grant (user hasn''t approved this "
                                        "consumer)%'"),
                     1);
    /* the key never reaches the log */
    assert_false(sbp_log_contains(&proc, "PRIVATE KEY"));
}

#define SOAP(ORGID, NOTES)                                                                         \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "                                 \
    "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "                                 \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><notifications "        \
    "xmlns=\"http://soap.sforce.com/2005/09/outbound\"><OrganizationId>" ORGID                     \
    "</OrganizationId><ActionId>04k5e000000AbCdAAK</ActionId><SessionId xsi:nil=\"true\"/>"        \
    "<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd"           \
    "</EnterpriseUrl><PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/"             \
    "00D5e000000AbCd</PartnerUrl>" NOTES "</notifications></soapenv:Body></soapenv:Envelope>"
#define NOTE(NID, TYPE, EMAIL)                                                                     \
    "<Notification><Id>" NID "</Id><sObject xsi:type=\"sf:" TYPE "\" "                             \
    "xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\"><sf:Id>00Q5e00000AbCdEEAV</sf:Id>"        \
    "<sf:Email>" EMAIL "</sf:Email><sf:LastName>Lovelace</sf:LastName></sObject></Notification>"

static long post_soap(const char *body, struct http_reply *r)
{
    const char *h[] = {"Content-Type: text/xml; charset=utf-8", "SOAPAction: \"\"", NULL};
    return sbp_hook_request(&proc, "POST", "sf-leads", h, body, r);
}

static void test_outbound_messages(void **state)
{
    (void)state;
    const char *msg = SOAP(ORG, NOTE("04l5e00000AbCdEAAV", "Lead", "ada@example.com")
                                    NOTE("04l5e00000AbCdFAAV", "Lead", "bob@example.com")
                                        NOTE("04l5e00000AbCdGAAV", "Contact", "cy@example.com"));
    struct http_reply r;
    assert_int_equal(post_soap(msg, &r), 200);
    assert_non_null(strstr(r.body, "<Ack>true</Ack>"));
    char ct[128];
    assert_true(http_reply_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/xml"));
    http_reply_free(&r);
    /* Salesforce sends it again (it had not seen the Ack): acknowledged,
     * nothing new */
    assert_int_equal(post_soap(msg, &r), 200);
    assert_non_null(strstr(r.body, "<Ack>true</Ack>"));
    http_reply_free(&r);
    assert_true(wait_status("inbound", "succeeded", 2));
    assert_true(sbp_log_contains(&proc, "lead ada@example.com from " ORG));
    assert_true(sbp_log_contains(&proc, "lead bob@example.com from " ORG));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE "
                                        "'salesforce.outbound_message:%'"),
                     3);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE event_id = "
                                        "'04l5e00000AbCdGAAV' AND type = 'Contact'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbound'"), 2);
    /* another org: refused, no Ack, nothing stored */
    assert_int_equal(
        post_soap(SOAP("00D5e000000AbCeEAK", NOTE("04l5e00000AbCdHAAV", "Lead", "eve@example.com")),
                  &r),
        403);
    assert_null(strstr(r.body, "<Ack>"));
    http_reply_free(&r);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE event_id = "
                                        "'04l5e00000AbCdHAAV'"),
                     0);
}

static void test_dry_run_masks_credentials(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json",
                                    "{\"id\": \"dry-1\", \"last\": \"Dry\", \"company\": \"Run\", "
                                    "\"email\": \"dry@example.com\"}",
                                    evfile, sizeof(evfile)),
                     0);
    standin_clear(api);
    char *out = NULL, *err = NULL;
    assert_int_equal(
        sbp_cli(&proc, env, &out, &err, "fire", "leads", "--event", evfile, "--dry-run", NULL), 0);
    /* the token request and the call, the secret masked */
    assert_non_null(strstr(out, SALESFORCE_TOKEN_PATH));
    assert_non_null(strstr(out, "client_secret=****"));
    assert_non_null(strstr(out, "/services/data/v62.0/sobjects/Lead"));
    assert_non_null(strstr(out, "Authorization: Bearer ****"));
    assert_null(strstr(out, CLIENT_SECRET));
    assert_null(strstr(err, CLIENT_SECRET));
    assert_int_equal(standin_count(api, NULL), 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_upsert_share_one_token),
        cmocka_unit_test(test_expired_session_renews_once),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_jwt_bearer_flow),
        cmocka_unit_test(test_outbound_messages),
        cmocka_unit_test(test_dry_run_masks_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
