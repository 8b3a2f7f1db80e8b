/* Seed scenario (issue 15): a Salesforce Outbound Message about a new Lead
 * becomes a Slack message. The shipped conf/examples/salesforce-lead-to-
 * slack.ini runs as it is against a fake Slack (tests/support/
 * slack_checks.c); the test posts SOAP messages as Salesforce does.
 * Covered: the Ack comes back and #sales hears of the Lead; a message
 * Salesforce resends (it had not seen the Ack) is acknowledged and makes
 * no second message; several Leads in one message make one message each;
 * another org is refused without an Ack; payload text cannot make Slack
 * markup; a Slack outage retries the Slack step after the Ack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"
#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define WF "salesforce-lead-to-slack"
#define ORG "00D5e000000AbCdEAK" /* the example's organization_id */
#define BOT_TOKEN "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"

static struct sb_proc proc;
static struct standin *slack_standin;
static struct slack_api *slack;

static const char *const env[] = {"SLACK_BOT_TOKEN=" BOT_TOKEN, NULL};

static int setup(void **state)
{
    (void)state;
    const struct example_edit more[] = {{"[workflow]", "retry_backoff = 200ms"}, {NULL, NULL}};
    return scenario_start_with_slack(&proc, &slack_standin, &slack, WF, more, env);
}

static int teardown(void **state)
{
    (void)state;
    scenario_stop_with_slack(&proc, slack_standin, slack);
    return 0;
}

#define SOAP(ORGID, NOTES)                                                                         \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope "                               \
    "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "                                 \
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                                              \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n <soapenv:Body>\n  <notifications " \
    "xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n   <OrganizationId>" ORGID                \
    "</OrganizationId>\n   <ActionId>04k5e000000AbCdAAK</ActionId>\n   <SessionId "                \
    "xsi:nil=\"true\"/>\n   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/"   \
    "00D5e000000AbCd</EnterpriseUrl>\n   <PartnerUrl>https://acme.my.salesforce.com/services/"     \
    "Soap/u/62.0/00D5e000000AbCd</PartnerUrl>\n" NOTES "  </notifications>\n </soapenv:Body>\n"    \
    "</soapenv:Envelope>\n"
#define LEAD(NID, FIRST, LAST, COMPANY, EMAIL)                                                     \
    "   <Notification>\n    <Id>" NID "</Id>\n    <sObject xsi:type=\"sf:Lead\" "                  \
    "xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\">\n     <sf:Id>00Q5e00000AbCdEEAV</sf:Id>" \
    "\n     <sf:Company>" COMPANY "</sf:Company>\n     <sf:Email>" EMAIL "</sf:Email>\n"           \
    "     <sf:FirstName>" FIRST "</sf:FirstName>\n     <sf:LastName>" LAST "</sf:LastName>\n"      \
    "     <sf:LeadSource>Web</sf:LeadSource>\n    </sObject>\n   </Notification>\n"

/* POST a SOAP message to /hooks/salesforce-leads as Salesforce does; the
 * status, and whether the answer held the Ack. */
static long post_soap(const char *body, bool *acked)
{
    const char *h[] = {"Content-Type: text/xml; charset=utf-8", "SOAPAction: \"\"", NULL};
    struct http_reply r;
    long status = sbp_hook_request(&proc, "POST", "salesforce-leads", h, body, &r);
    *acked = strstr(r.body, "<Ack>true</Ack>") != NULL;
    http_reply_free(&r);
    return status;
}

static void test_example_checks(void **state)
{
    (void)state;
    scenario_assert_example_passes(WF, env, NULL);
    assert_int_not_equal(scenario_check_example(WF, NULL, NULL, NULL), 0);
}

static void test_lead_to_slack(void **state)
{
    (void)state;
    const char *msg = SOAP(ORG, LEAD("04l5e00000AbCdEAAV", "Ada", "Lovelace",
                                     "Analytical Engines Ltd", "ada@example.com"));
    bool acked = false;
    assert_int_equal(post_soap(msg, &acked), 200);
    assert_true(acked);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 1, 20000));
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.channel, "#sales");
    assert_string_equal(m.text, "New lead: Ada Lovelace (Analytical Engines Ltd), "
                                "ada@example.com, from Web");
    slack_message_release(&m);
    /* Salesforce resends it: acknowledged again, no second message */
    assert_int_equal(post_soap(msg, &acked), 200);
    assert_true(acked);
    testkit_sleep_ms(500);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), 1);

    /* two Leads in one message: two messages */
    const char *two =
        SOAP(ORG, LEAD("04l5e00000AbCdFAAV", "Grace", "Hopper", "Navy", "grace@example.com") LEAD(
                      "04l5e00000AbCdGAAV", "Alan", "Turing", "Bletchley", "alan@example.com"));
    assert_int_equal(post_soap(two, &acked), 200);
    assert_true(acked);
    assert_true(slack_api_wait(slack, SLACK_POST_MESSAGE, 3, 20000));
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 3, 20000));
}

static void test_other_org_refused(void **state)
{
    (void)state;
    size_t before = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    bool acked = true;
    assert_int_equal(post_soap(SOAP("00D5e000000XyZwEAK", LEAD("04l5e00000AbCdHAAV", "Eve", "X",
                                                               "Evil Corp", "eve@example.com")),
                               &acked),
                     403);
    assert_false(acked);
    testkit_sleep_ms(300);
    assert_int_equal(slack_api_accepted(slack, SLACK_POST_MESSAGE), before);
}

static void test_markup_and_slack_outage(void **state)
{
    (void)state;
    slack_api_rate_limit_next(slack, SLACK_POST_MESSAGE, 1);
    /* XML escapes in the message, Slack markup in the values */
    const char *msg = SOAP(
        ORG, LEAD("04l5e00000AbCdJAAV", "&lt;!channel&gt;", "Smith", "A &amp; B", "s@example.com"));
    bool acked = false;
    assert_int_equal(post_soap(msg, &acked), 200);
    assert_true(acked);
    assert_true(sbp_wait_runs(&proc, WF, "succeeded", 4, 30000));
    assert_int_equal(slack_api_refused(slack, SLACK_POST_MESSAGE), 1);
    size_t n = slack_api_accepted(slack, SLACK_POST_MESSAGE);
    struct slack_message m;
    assert_true(slack_api_message(slack, SLACK_POST_MESSAGE, n - 1, &m));
    assert_string_equal(m.text, "New lead: &lt;!channel&gt; Smith (A &amp; B), s@example.com, "
                                "from Web");
    slack_message_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_checks),
        cmocka_unit_test(test_lead_to_slack),
        cmocka_unit_test(test_other_org_refused),
        cmocka_unit_test(test_markup_and_slack_outage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
