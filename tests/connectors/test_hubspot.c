/* The hubspot connector end to end: the real engine runs workflows whose
 * HubSpot steps call a stand-in of the CRM API (tests/support/
 * hubspot_checks.c) that checks what HubSpot checks: the Bearer token,
 * JSON bodies, the batch upsert's shape, known properties, the deal's
 * stage and its association type. Covered: upsert_contact -> create_deal
 * associated through the first step's id; a second upsert of the same
 * address updates the same contact; a deal HubSpot refuses is dead after
 * one attempt; the ten-second 429 waits and retries, the daily 429 fails
 * at once with a clear error; a 5xx retries; hubspot.request; signed
 * hubspot.webhook deliveries (v3 over public_url, v1), one run per array
 * element, duplicates dropped; dry runs mask the token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "hubspot_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define TOKEN "pat-na1-2f1c3a2b-1d00-4c5e-9f4b-c6a5c8a42b8e"
#define APP_SECRET "6c1f7b2e-93a4-4d0b-8e55-0a1b2c3d4e5f"
#define PUBLIC_URL "https://automation.example.com/hooks/hubspot-in"

static struct sb_proc proc;
static struct standin *api;
static struct hubspot_api *hubspot;

static const char *const env[] = {"SB_TEST_HUBSPOT_TOKEN=" TOKEN,
                                  "SB_TEST_HUBSPOT_SECRET=" APP_SECRET, NULL};

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 30000);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    hubspot = hubspot_api_install(api, TOKEN);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(&proc, "sale",
                        "[workflow]\nretry_backoff = 200ms\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step contact]\nuse = hubspot.upsert_contact\n"
                        "token = ${env:SB_TEST_HUBSPOT_TOKEN}\napi_base = %s\n"
                        "rate_limit_wait = 1s\n"
                        "email = {{ event.email }}\nproperties.firstname = {{ event.first }}\n"
                        "properties.lifecyclestage = customer\n\n"
                        "[step deal]\nuse = hubspot.create_deal\n"
                        "token = ${env:SB_TEST_HUBSPOT_TOKEN}\napi_base = %s/\n"
                        "dealname = Order {{ event.id }}\namount = {{ event.amount }}\n"
                        "dealstage = {{ event.stage }}\ncontact_id = {{ steps.contact.id }}\n",
                        base, base);
    sbp_write_workflowf(&proc, "raw",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step get]\nuse = hubspot.request\n"
                        "path = /crm/v3/objects/companies/{{ event.company }}\n"
                        "token = ${env:SB_TEST_HUBSPOT_TOKEN}\napi_base = %s\n",
                        base);
    sbp_write_workflowf(&proc, "lookup",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step who]\nuse = hubspot.get_contact\ncontact_id = {{ event.contact }}\n"
                        "properties = email firstname\n"
                        "token = ${env:SB_TEST_HUBSPOT_TOKEN}\napi_base = %s\n",
                        base);
    sbp_write_workflow(&proc, "inbox",
                       "[trigger]\nuse = hubspot.webhook\npath = hubspot-in\n"
                       "secret = ${env:SB_TEST_HUBSPOT_SECRET}\npublic_url = " PUBLIC_URL "\n"
                       "events = contact.creation\n\n"
                       "[step log]\nuse = log.write\n"
                       "message = contact {{ event.objectId }} in portal {{ event.portalId }}\n");
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    hubspot_api_free(hubspot);
    return 0;
}

static void post_sale(const char *id, const char *email, const char *stage)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\": \"%s\", \"email\": \"%s\", \"first\": \"Ada\", \"amount\": \"129.50\", "
             "\"stage\": \"%s\"}",
             id, email, stage);
    scenario_post_event(&proc, "sale", body);
}

static void test_upsert_then_deal(void **state)
{
    (void)state;
    standin_clear(api);
    post_sale("o-1", "ada@example.com", "closedwon");
    assert_true(wait_status("sale", "succeeded", 1));
    assert_int_equal(hubspot_api_refused(hubspot), 0);
    assert_int_equal(standin_count(api, HUBSPOT_UPSERT_PATH), 1);
    assert_int_equal(standin_count(api, HUBSPOT_DEALS_PATH), 1);

    struct standin_request req;
    assert_true(standin_get(api, HUBSPOT_UPSERT_PATH, 0, &req));
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    assert_string_equal(standin_header(&req, "Content-Type"), "application/json");
    struct json_object *body = json_tokener_parse(req.body), *inputs, *in;
    assert_true(json_object_object_get_ex(body, "inputs", &inputs));
    assert_int_equal(json_object_array_length(inputs), 1);
    in = json_object_array_get_idx(inputs, 0);
    assert_string_equal(scenario_json_get(in, "idProperty"), "email");
    assert_string_equal(scenario_json_get(in, "id"), "ada@example.com");
    assert_string_equal(scenario_json_get(in, "properties.firstname"), "Ada");
    assert_string_equal(scenario_json_get(in, "properties.lifecyclestage"), "customer");
    json_object_put(body);
    standin_request_free(&req);

    char contact[32];
    assert_true(hubspot_api_contact_id(hubspot, "ada@example.com", contact, sizeof(contact)));
    assert_true(standin_get(api, HUBSPOT_DEALS_PATH, 0, &req));
    body = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(body, "properties.dealname"), "Order o-1");
    assert_string_equal(scenario_json_get(body, "properties.amount"), "129.50");
    assert_string_equal(scenario_json_get(body, "properties.dealstage"), "closedwon");
    assert_string_equal(scenario_json_get(body, "properties.pipeline"), "default");
    struct json_object *assoc, *a;
    assert_true(json_object_object_get_ex(body, "associations", &assoc));
    a = json_object_array_get_idx(assoc, 0);
    assert_string_equal(scenario_json_get(a, "to.id"), contact);
    struct json_object *types = json_object_object_get(a, "types");
    assert_string_equal(scenario_json_get(json_object_array_get_idx(types, 0), "associationTypeId"),
                        "3");
    json_object_put(body);
    standin_request_free(&req);
    /* the deal step's output holds the deal id */
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'deal' AND "
                                        "output LIKE '%\"id\":\"9001\"%'"),
                     1);

    /* the same address again: the same contact, updated */
    post_sale("o-2", "ADA@example.com", "contractsent");
    assert_true(wait_status("sale", "succeeded", 2));
    assert_int_equal(hubspot_api_contacts(hubspot), 1);
    assert_int_equal(hubspot_api_deals(hubspot), 2);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'contact' AND "
                                        "output LIKE '%\"new\":false%'"),
                     1);
    assert_false(sbp_log_contains(&proc, TOKEN));
}

static void test_refused_deal_is_dead(void **state)
{
    (void)state;
    standin_clear(api);
    size_t refused = hubspot_api_refused(hubspot);
    post_sale("o-3", "bob@example.com", "not-a-stage");
    assert_true(wait_status("sale", "dead", 1));
    assert_int_equal(standin_count(api, HUBSPOT_DEALS_PATH), 1);
    assert_int_equal(hubspot_api_refused(hubspot), refused + 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'sale' AND "
                                        "status = 'dead' AND attempts = 1 AND error LIKE "
                                        "'%HTTP 400 Property values were not valid: dealstage%"
                                        "(VALIDATION_ERROR)%'"),
                     1);
}

static void test_rate_limits(void **state)
{
    (void)state;
    standin_clear(api);
    /* the ten-second limit: retried after Retry-After (2 s > rate_limit_wait) */
    hubspot_api_fail_next(hubspot, 429, HUBSPOT_429_TEN_SECONDLY, "Retry-After: 2\n");
    post_sale("o-4", "cy@example.com", "closedwon");
    assert_true(wait_status("sale", "succeeded", 3));
    assert_int_equal(standin_count(api, HUBSPOT_UPSERT_PATH), 2);
    struct standin_request a, b;
    assert_true(standin_get(api, HUBSPOT_UPSERT_PATH, 0, &a));
    assert_true(standin_get(api, HUBSPOT_UPSERT_PATH, 1, &b));
    int64_t gap = b.at_ms - a.at_ms;
    printf("retry after HubSpot's ten-second 429 came %lld ms later (Retry-After: 2)\n",
           (long long)gap);
    assert_true(gap >= 2000);
    standin_request_free(&a);
    standin_request_free(&b);

    /* the daily limit: no retry, a clear error */
    standin_clear(api);
    hubspot_api_fail_next(hubspot, 429, HUBSPOT_429_DAILY, NULL);
    post_sale("o-5", "di@example.com", "closedwon");
    assert_true(wait_status("sale", "dead", 2));
    assert_int_equal(standin_count(api, HUBSPOT_UPSERT_PATH), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'sale' AND "
                                        "status = 'dead' AND attempts = 1 AND error LIKE "
                                        "'%daily API limit is spent%'"),
                     1);

    /* a 502 on the deal: retried at the deal step only */
    standin_clear(api);
    post_sale("o-6", "ed@example.com", "closedwon");
    assert_true(wait_status("sale", "succeeded", 4));
    standin_clear(api);
    hubspot_api_fail_next(hubspot, 200, "{\"status\":\"COMPLETE\",\"results\":[{\"id\":\"1501\"}]}",
                          NULL);
    hubspot_api_fail_next(hubspot, 502, "{\"status\":\"error\",\"message\":\"Bad Gateway\"}", NULL);
    post_sale("o-7", "ed@example.com", "closedwon");
    assert_true(wait_status("sale", "succeeded", 5));
    assert_int_equal(standin_count(api, HUBSPOT_UPSERT_PATH), 1);
    assert_int_equal(standin_count(api, HUBSPOT_DEALS_PATH), 2);
}

static void test_generic_request(void **state)
{
    (void)state;
    standin_clear(api);
    const struct standin_reply ok = {200, NULL,
                                     "{\"id\":\"77\",\"properties\":{\"name\":\"ACME\"}}", NULL, 0};
    standin_script(api, "GET", "/crm/v3/objects/companies/*", &ok, 1);
    scenario_post_event(&proc, "raw", "{\"id\": \"r-1\", \"company\": \"77/../x\"}");
    assert_true(wait_status("raw", "succeeded", 1));
    struct standin_request req;
    assert_true(standin_get(api, NULL, 0, &req));
    /* the value is one path segment, percent-encoded */
    assert_string_equal(req.path, "/crm/v3/objects/companies/77%2F..%2Fx");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    standin_request_free(&req);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'get' AND "
                                        "output LIKE '%\"status\":200%' AND output LIKE "
                                        "'%\"name\":\"ACME\"%'"),
                     1);
}

static void test_get_contact(void **state)
{
    (void)state;
    char id[32];
    assert_true(hubspot_api_add_contact(hubspot, "grace@example.com", "Grace", id, sizeof(id)));
    standin_clear(api);
    char body[128];
    snprintf(body, sizeof(body), "{\"id\": \"g-1\", \"contact\": \"%s\"}", id);
    scenario_post_event(&proc, "lookup", body);
    assert_true(wait_status("lookup", "succeeded", 1));
    struct standin_request req;
    assert_true(standin_get(api, NULL, 0, &req));
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.query, "properties=email,firstname");
    standin_request_free(&req);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps WHERE name = 'who' AND "
                                        "output LIKE '%\"email\":\"grace@example.com\"%' AND "
                                        "output LIKE '%\"firstname\":\"Grace\"%'"),
                     1);
    /* a contact HubSpot does not have (deleted, merged): dead, said so */
    scenario_post_event(&proc, "lookup", "{\"id\": \"g-2\", \"contact\": \"999999\"}");
    assert_true(wait_status("lookup", "dead", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'lookup' AND "
                                        "error LIKE '%HTTP 404 resource not found "
                                        "(OBJECT_NOT_FOUND)%'"),
                     1);
}

/* POST body to /hooks/hubspot-in with the v3 headers `switchboard sign
 * hubspot` makes for `url`, signed with secret now. The HTTP status. */
static long post_signed(const char *secret, const char *url, const char *body)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "hubspot", secret, url, NULL, body, json);
    assert_non_null(headers);
    long status =
        sbp_hook_request(&proc, "POST", "hubspot-in", (const char *const *)headers, body, NULL);
    testkit_strv_free(headers);
    return status;
}

static void test_webhook(void **state)
{
    (void)state;
    const char *body =
        "[{\"eventId\":3001,\"subscriptionId\":42,\"portalId\":62515,\"occurredAt\":"
        "1736935200000,\"subscriptionType\":\"contact.creation\",\"attemptNumber\":0,"
        "\"objectId\":901,\"changeSource\":\"CRM\",\"changeFlag\":\"NEW\",\"appId\":54321},"
        "{\"eventId\":3002,\"subscriptionId\":42,\"portalId\":62515,\"occurredAt\":"
        "1736935200001,\"subscriptionType\":\"contact.creation\",\"attemptNumber\":0,"
        "\"objectId\":902,\"changeSource\":\"CRM\",\"changeFlag\":\"NEW\",\"appId\":54321},"
        "{\"eventId\":3003,\"subscriptionId\":43,\"portalId\":62515,\"occurredAt\":"
        "1736935200002,\"subscriptionType\":\"contact.deletion\",\"attemptNumber\":0,"
        "\"objectId\":903,\"appId\":54321}]";
    assert_int_equal(post_signed(APP_SECRET, PUBLIC_URL, body), 200);
    /* HubSpot retries the same delivery: nothing new */
    assert_int_equal(post_signed(APP_SECRET, PUBLIC_URL, body), 200);
    assert_true(wait_status("inbox", "succeeded", 2));
    assert_true(sbp_log_contains(&proc, "contact 901 in portal 62515"));
    assert_true(sbp_log_contains(&proc, "contact 902 in portal 62515"));
    /* three events stored, the deletion without a run */
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source LIKE "
                                        "'hubspot.webhook:%'"),
                     3);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE event_id = "
                                        "'42:3001:901:1736935200000'"),
                     1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'inbox'"), 2);

    /* signed with another secret, or over the request's own URL: refused */
    assert_int_equal(post_signed("not-the-secret", PUBLIC_URL, body), 401);
    char *own = testkit_fmt("%s/hooks/hubspot-in", proc.base_url);
    assert_int_equal(post_signed(APP_SECRET, own, body), 401);
    free(own);

    /* v1 (SHA-256 of secret + body) from an older app */
    const char *v1_body = "[{\"eventId\":4001,\"subscriptionId\":42,\"portalId\":62515,"
                          "\"occurredAt\":1736935300000,\"subscriptionType\":"
                          "\"contact.creation\",\"objectId\":904}]";
    char *pre = testkit_fmt("%s%s", APP_SECRET, v1_body);
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(pre, strlen(pre), md, &n, EVP_sha256(), NULL);
    free(pre);
    char v1[128] = "X-HubSpot-Signature: ";
    for (unsigned int i = 0; i < n; i++)
        snprintf(v1 + strlen(v1), sizeof(v1) - strlen(v1), "%02x", md[i]);
    const char *v1_headers[] = {"Content-Type: application/json", v1,
                                "X-HubSpot-Signature-Version: v1", NULL};
    assert_int_equal(sbp_hook_request(&proc, "POST", "hubspot-in", v1_headers, v1_body, NULL), 200);
    assert_true(wait_status("inbox", "succeeded", 3));
    assert_true(sbp_log_contains(&proc, "contact 904 in portal 62515"));
    assert_false(sbp_log_contains(&proc, APP_SECRET));
}

static void test_dry_run_masks_token(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(sbp_write_file(&proc, "event.json",
                                    "{\"id\": \"dry-1\", \"email\": \"dry@example.com\", "
                                    "\"first\": \"Dee\", \"amount\": \"10\", \"stage\": "
                                    "\"closedwon\"}",
                                    evfile, sizeof(evfile)),
                     0);
    standin_clear(api);
    char *out = NULL, *err = NULL;
    assert_int_equal(
        sbp_cli(&proc, env, &out, &err, "fire", "sale", "--event", evfile, "--dry-run", NULL), 0);
    assert_non_null(strstr(out, HUBSPOT_UPSERT_PATH));
    assert_non_null(strstr(out, HUBSPOT_DEALS_PATH));
    assert_non_null(strstr(out, "Authorization: Bearer ****"));
    /* a dry run's contact id stands in for the real one */
    assert_non_null(strstr(out, "\"to\":{\"id\":\"dry-run\"}"));
    assert_null(strstr(out, TOKEN));
    assert_null(strstr(err, TOKEN));
    assert_int_equal(standin_count(api, NULL), 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsert_then_deal),    cmocka_unit_test(test_refused_deal_is_dead),
        cmocka_unit_test(test_rate_limits),         cmocka_unit_test(test_generic_request),
        cmocka_unit_test(test_get_contact),         cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_dry_run_masks_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
