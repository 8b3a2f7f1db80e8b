/* Seed scenario (issue 15): a new HubSpot contact joins the Mailchimp
 * audience with a tag. The shipped conf/examples/hubspot-contact-to-
 * mailchimp.ini runs with api_base pointed at a HubSpot CRM stand-in
 * (tests/support/hubspot_checks.c) and the Marketing API stand-in
 * (tests/support/mailchimp_checks.c); HubSpot's deliveries are signed over
 * the example's public_url with `switchboard sign hubspot`. Covered: the
 * contact named by the event is read, then upserted into the audience with
 * its first name and the tag hubspot; two contacts in one delivery make
 * two members; other subscription types and a repeated delivery make
 * nothing; a signature over another URL is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "hubspot_checks.h"
#include "mailchimp_checks.h"
#include "scenario.h"
#include "standin.h"
#include "testkit.h"

#define WF "hubspot-contact-to-mailchimp"
#define PUBLIC_URL "https://automation.example.com/hooks/hubspot-contacts"
#define APP_SECRET "7d3c1a2b-5e4f-4a6b-9c8d-0e1f2a3b4c5d"
#define TOKEN "pat-na1-7d3c1a2b-5e4f-4a6b-9c8d-0e1f2a3b4c5e"
#define MC_KEY "feedfacefeedfacefeedfacefeedface-us21"
#define LIST "a6b5da1054"

static struct sb_proc proc;
static struct standin *hs_standin, *mc_standin;
static struct hubspot_api *hubspot;
static struct mailchimp_standin *mc;

static const char *const env[] = {"HUBSPOT_CLIENT_SECRET=" APP_SECRET, "HUBSPOT_TOKEN=" TOKEN,
                                  "MAILCHIMP_API_KEY=" MC_KEY, NULL};

static int setup(void **state)
{
    (void)state;
    if (standin_start(&hs_standin) < 0 || standin_start(&mc_standin) < 0)
        return -1;
    hubspot = hubspot_api_install(hs_standin, TOKEN);
    static const char *const lists[] = {LIST, NULL};
    mc = mailchimp_standin_new(mc_standin, MC_KEY, lists);
    if (!mc)
        return -1;
    char hs_base[300], mc_base[300];
    snprintf(hs_base, sizeof(hs_base), "api_base = %s", standin_url(hs_standin));
    snprintf(mc_base, sizeof(mc_base), "api_base = %s/3.0", standin_url(mc_standin));
    const struct example_edit edits[] = {{"use = hubspot.get_contact", hs_base},
                                         {"use = mailchimp.", mc_base},
                                         {"[workflow]", "retry_backoff = 200ms"},
                                         {NULL, NULL}};
    return scenario_start_example(&proc, WF, edits, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    mailchimp_standin_free(mc);
    standin_stop(mc_standin);
    standin_stop(hs_standin);
    hubspot_api_free(hubspot);
    return 0;
}

/* POST body to /hooks/hubspot-contacts signed over `url`. */
static long post_signed(const char *url, const char *body)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "hubspot", APP_SECRET, url, NULL, body, json);
    assert_non_null(headers);
    long status = sbp_hook_request(&proc, "POST", "hubspot-contacts", (const char *const *)headers,
                                   body, NULL);
    testkit_strv_free(headers);
    return status;
}

/* A contact.creation (or `type`) element for contact `id`. Caller frees. */
static char *element(int event_id, const char *type, const char *id)
{
    return testkit_fmt("{\"eventId\":%d,\"subscriptionId\":42,\"portalId\":62515,\"occurredAt\":"
                       "17369352%05d,\"subscriptionType\":\"%s\",\"attemptNumber\":0,"
                       "\"objectId\":%s,\"changeSource\":\"CRM\",\"changeFlag\":\"NEW\","
                       "\"appId\":54321}",
                       event_id, event_id, type, id);
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_new_contacts_join_the_audience(void **state)
{
    (void)state;
    char ada[32], bob[32];
    assert_true(hubspot_api_add_contact(hubspot, "Ada@Example.com", "Ada", ada, sizeof(ada)));
    assert_true(hubspot_api_add_contact(hubspot, "bob@example.com", "Bob", bob, sizeof(bob)));
    char *e1 = element(1, "contact.creation", ada), *e2 = element(2, "contact.creation", bob);
    char *e3 = element(3, "contact.propertyChange", ada);
    char *body = testkit_fmt("[%s,%s,%s]", e1, e2, e3);
    assert_int_equal(post_signed(PUBLIC_URL, body), 200);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 2, 30000));
    /* the contacts were read by id, with the properties the example asks */
    assert_int_equal(standin_count(hs_standin, NULL), 2);
    struct standin_request req;
    assert_true(standin_get(hs_standin, NULL, 0, &req));
    assert_string_equal(req.query, "properties=email,firstname,lastname");
    assert_string_equal(standin_header(&req, "Authorization"), "Bearer " TOKEN);
    standin_request_free(&req);
    /* both are members, tagged hubspot, Ada with her first name */
    char hash[33];
    mailchimp_subscriber_hash_ref("ada@example.com", hash);
    assert_true(mailchimp_standin_member_has_tag(mc, LIST, hash, "hubspot"));
    char status[32];
    assert_true(mailchimp_standin_member_status(mc, LIST, hash, status, sizeof(status)));
    assert_string_equal(status, "subscribed");
    char path[128];
    snprintf(path, sizeof(path), "/3.0/lists/" LIST "/members/%s", hash);
    assert_true(standin_get(mc_standin, path, 0, &req));
    struct json_object *doc = json_tokener_parse(req.body);
    assert_string_equal(scenario_json_get(doc, "merge_fields.FNAME"), "Ada");
    json_object_put(doc);
    standin_request_free(&req);
    mailchimp_subscriber_hash_ref("bob@example.com", hash);
    assert_true(mailchimp_standin_member_has_tag(mc, LIST, hash, "hubspot"));

    /* HubSpot retries the delivery: nothing runs again */
    assert_int_equal(post_signed(PUBLIC_URL, body), 200);
    testkit_sleep_ms(500);
    assert_int_equal(sbp_count_runs(&proc, WF, "succeeded"), 2);
    assert_int_equal(standin_count(hs_standin, NULL), 2);
    free(body);
    free(e1);
    free(e2);
    free(e3);
}

static void test_wrong_url_or_secret_refused(void **state)
{
    (void)state;
    char *e = element(9, "contact.creation", "1501");
    char *body = testkit_fmt("[%s]", e);
    /* signed for the engine's own address, not the URL HubSpot calls */
    char *own = testkit_fmt("%s/hooks/hubspot-contacts", proc.base_url);
    assert_int_equal(post_signed(own, body), 401);
    free(own);
    static const char *const json[] = {"Content-Type: application/json", NULL};
    char **headers = sbp_sign(&proc, "hubspot", "not-the-secret", PUBLIC_URL, NULL, body, json);
    assert_int_equal(sbp_hook_request(&proc, "POST", "hubspot-contacts",
                                      (const char *const *)headers, body, NULL),
                     401);
    testkit_strv_free(headers);
    free(body);
    free(e);
    assert_false(sbp_log_contains(&proc, APP_SECRET));
    assert_false(sbp_log_contains(&proc, TOKEN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_new_contacts_join_the_audience),
        cmocka_unit_test(test_wrong_url_or_secret_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
