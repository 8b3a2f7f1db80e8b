/* The salesforce connector's own logic, outside the engine:
 * - salesforce.outbound_message driven through the core's host table as
 *   the engine drives it (tests/unit/harness): SOAP read by namespace, not
 *   prefix; the OrganizationId compared in the 18-character form; one
 *   event per Notification; the Ack handed over only with the events;
 *   DTDs and malformed messages refused whole;
 * - the 15-to-18-character id conversion, on a commonly cited example;
 * - the JWT bearer assertion (plugins/salesforce/jwt.c, compiled into this
 *   program): the signing input of connectors.md 10.2 byte for byte, and
 *   an RS256 signature pinned for a fixed test key (PKCS#1 v1.5 is
 *   deterministic), verified independently with OpenSSL, with a tampered
 *   twin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "salesforce.h"
#include "trigger_harness.h"

#define ORG15 "00D5e000000AbCd"
#define ORG18 "00D5e000000AbCdEAK"
#define KEY_FILE SB_SOURCE_DIR "/tests/data/salesforce/jwt-test-key.pem"
#define SIGNING_INPUT                                                                              \
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIzTVZHOV9DTElFTlRfSUQiLCJzdWIiOiJpbnRlZ3JhdGlvbkBleGFtcGxlLmN" \
    "vbSIsImF1ZCI6Imh0dHBzOi8vbG9naW4uc2FsZXNmb3JjZS5jb20iLCJleHAiOjE3MDAwMDAxODB9"
/* openssl dgst -sha256 -sign jwt-test-key.pem over SIGNING_INPUT, base64url */
#define PINNED_SIG                                                                                 \
    "LSn7ZgsK_TzPf9Eeh-6f-50SN9NLQGOPIsHj3G5yUNc90SE9ropL-B6epEcfE2j38F7xPl7LVOpmoP3jnVIZcbTHOGHB" \
    "7O_wqzd9CdmCqGnJpBFSFRk3wtWCjN8jcc-gbQU6EeAcWZWcpUQZYS-BaJBSXz4jphBRa41sIwyrcLrSsxPyGIoSGLKI" \
    "_KRIW_5V_o2fLpMNdhJhjg1EzLj8ckIM_RKr3aUNVdwh2hU9_m7-k27O5L7f4VOP-P7IsaglCJe33jV4vVjH6pjq4xwF" \
    "sJZZWEyZfptP97qtnYwidSa7EFIQThyPfTJK2CPPdHyE1QEQ4C_cm736PudBhaDahA"

/* One Lead Notification; P is the prefix of the outbound namespace
 * (with its colon, or empty for the default namespace). */
#define LEAD(P, NID, LID, EMAIL)                                                                   \
    "<" P "Notification><" P "Id>" NID "</" P "Id><" P "sObject xsi:type=\"sf:Lead\" "             \
    "xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\"><sf:Id>" LID "</sf:Id><sf:Company>"       \
    "Analytical Engines Ltd</sf:Company><sf:Email>" EMAIL "</sf:Email><sf:FirstName>Ada"           \
    "</sf:FirstName><sf:LastName>Lovelace</sf:LastName><sf:Phone xsi:nil=\"true\"/></" P           \
    "sObject></" P "Notification>"

/* The envelope around notifications, with the default outbound namespace. */
#define ENVELOPE(ORG, NOTES)                                                                       \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "               \
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                                              \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n <soapenv:Body>\n"                  \
    "  <notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n"                        \
    "   <OrganizationId>" ORG "</OrganizationId>\n"                                                \
    "   <ActionId>04k5e000000AbCdAAK</ActionId>\n"                                                 \
    "   <SessionId xsi:nil=\"true\"/>\n"                                                           \
    "   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd"        \
    "</EnterpriseUrl>\n"                                                                           \
    "   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd"           \
    "</PartnerUrl>\n" NOTES "  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n"

#define ONE_LEAD                                                                                   \
    ENVELOPE(ORG18, LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "ada@example.com"))

static int64_t clock_ms = 1700000000000LL;

static const struct trigger_harness harness = {
    .plugin = "salesforce",
    .trigger = "salesforce.outbound_message",
    .secret_env = "SB_TEST_SALESFORCE_UNUSED",
    .clock_ms = &clock_ms,
};

static int group_setup(void **state)
{
    (void)state;
    return trigger_harness_setup(&harness);
}

static void soap_request(struct req *r, const char *body)
{
    req_init(r, "text/xml; charset=utf-8", body);
    req_header(r, "SOAPAction", "\"\"");
    req_header(r, "User-Agent", "Jakarta Commons-HttpClient/3.1");
}

/* The message is accepted with n events and the Ack as the answer. */
static void expect_acked(struct hook *h, const char *body, size_t n, struct receive_result *rx)
{
    struct req r;
    soap_request(&r, body);
    enum sb_status st = hook_receive(h, &r, rx);
    if (st != SB_OK || rx->rejected)
        fail_msg("rejected: %d %s", rx->status, rx->body ? rx->body : "");
    assert_int_equal(rx->n_events, n);
    assert_int_equal(rx->status, 200);
    assert_non_null(strstr(rx->content_type, "text/xml"));
    assert_non_null(strstr(rx->body, "<notificationsResponse "
                                     "xmlns=\"http://soap.sforce.com/2005/09/outbound\">"));
    assert_non_null(strstr(rx->body, "<Ack>true</Ack>"));
}

static void expect_refused(struct hook *h, const char *body, int status, const char *why)
{
    struct req r;
    soap_request(&r, body);
    expect_rejected(h, &r, status, why);
}

/* --- the Outbound Message -------------------------------------------------------- */

static void test_lead_notification(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, "organization_id = " ORG18 "\nevents = Lead");
    struct receive_result rx;
    expect_acked(&h, ONE_LEAD, 1, &rx);
    assert_string_equal(rx.events[0].id, "04l5e00000AbCdEAAV");
    assert_string_equal(rx.events[0].type, "Lead");
    assert_null(rx.events[0].source);
    struct json_object *p = rx.events[0].payload, *sobject, *v;
    assert_true(json_object_object_get_ex(p, "type", &v));
    assert_string_equal(json_object_get_string(v), "Lead");
    assert_true(json_object_object_get_ex(p, "organization_id", &v));
    assert_string_equal(json_object_get_string(v), ORG18);
    assert_true(json_object_object_get_ex(p, "action_id", &v));
    assert_string_equal(json_object_get_string(v), "04k5e000000AbCdAAK");
    assert_true(json_object_object_get_ex(p, "notification_id", &v));
    assert_string_equal(json_object_get_string(v), "04l5e00000AbCdEAAV");
    /* the session id is a live login: never stored */
    assert_false(json_object_object_get_ex(p, "session_id", &v));
    assert_true(json_object_object_get_ex(p, "sobject", &sobject));
    assert_true(json_object_object_get_ex(sobject, "Id", &v));
    assert_string_equal(json_object_get_string(v), "00Q5e00000AbCdEEAV");
    assert_true(json_object_object_get_ex(sobject, "Email", &v));
    assert_string_equal(json_object_get_string(v), "ada@example.com");
    assert_true(json_object_object_get_ex(sobject, "Company", &v));
    assert_string_equal(json_object_get_string(v), "Analytical Engines Ltd");
    /* xsi:nil is null, not "" */
    assert_true(json_object_object_get_ex(sobject, "Phone", &v));
    assert_null(v);
    receive_result_release(&rx);
    assert_true(workflow_wants_type(h.wf, "Lead"));
    assert_false(workflow_wants_type(h.wf, "Contact"));
    hook_close(&h);
}

static void test_namespaces_not_prefixes(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, "organization_id = " ORG18);
    /* other prefixes for every namespace: the same message */
    static const char other[] =
        "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><S:Body>"
        "<o:notifications xmlns:o=\"http://soap.sforce.com/2005/09/outbound\">"
        "<o:OrganizationId>" ORG18 "</o:OrganizationId><o:ActionId>04k5e000000AbCdAAK"
        "</o:ActionId><o:Notification><o:Id>04l5e00000AbCdFAAV</o:Id>"
        "<o:sObject i:type=\"ent:Contact\" xmlns:ent=\"urn:sobject.enterprise.soap.sforce.com\">"
        "<ent:Id>0035e00000AbCdEAAV</ent:Id><ent:Email>ann@example.com</ent:Email>"
        "</o:sObject></o:Notification></o:notifications></S:Body></S:Envelope>";
    struct receive_result rx;
    expect_acked(&h, other, 1, &rx);
    assert_string_equal(rx.events[0].type, "Contact");
    assert_string_equal(rx.events[0].id, "04l5e00000AbCdFAAV");
    receive_result_release(&rx);
    /* the right names in the wrong namespace are not a message */
    static const char wrong_ns[] =
        "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body>"
        "<notifications xmlns=\"http://example.com/not-salesforce\"><OrganizationId>" ORG18
        "</OrganizationId></notifications></S:Body></S:Envelope>";
    expect_refused(&h, wrong_ns, 400, "no notifications element");
    static const char no_ns[] = "<Envelope><Body><notifications><OrganizationId>" ORG18
                                "</OrganizationId></notifications></Body></Envelope>";
    expect_refused(&h, no_ns, 400, "no notifications element");
    hook_close(&h);
}

static void test_organization_id(void **state)
{
    (void)state;
    struct hook h;
    struct receive_result rx;
    /* a 15-character id in the workflow matches the 18-character one sent */
    hook_open(&h, NULL, "organization_id = " ORG15);
    expect_acked(&h, ONE_LEAD, 1, &rx);
    receive_result_release(&rx);
    /* and a 15-character one sent matches too */
    expect_acked(&h,
                 ENVELOPE(ORG15, LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "a@b.co")), 1,
                 &rx);
    receive_result_release(&rx);
    /* another org: refused, no event, no Ack */
    expect_refused(&h,
                   ENVELOPE("00D5e000000AbCeEAK",
                            LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "a@b.co")),
                   403, "OrganizationId does not match");
    /* the 15 characters are case-sensitive: 00d... is another org */
    expect_refused(
        &h,
        ENVELOPE("00d5e000000AbCd", LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "a@b.co")),
        403, "OrganizationId does not match");
    /* an 18-character id whose suffix does not match its case */
    expect_refused(&h,
                   ENVELOPE("00D5e000000AbCdAAA",
                            LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "a@b.co")),
                   403, "OrganizationId does not match");
    expect_refused(&h, ENVELOPE("", LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "a@b.co")),
                   403, "OrganizationId does not match");
    hook_close(&h);
    /* the suffix itself may be written in lower case */
    hook_open(&h, NULL, "organization_id = 00D5e000000AbCdeak");
    expect_acked(&h, ONE_LEAD, 1, &rx);
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_several_notifications(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, "organization_id = " ORG18);
    struct receive_result rx;
    expect_acked(
        &h,
        ENVELOPE(ORG18,
                 LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "ada@example.com")
                     LEAD("", "04l5e00000AbCdFAAV", "00Q5e00000AbCdFEAV", "bob@example.com")),
        2, &rx);
    assert_string_equal(rx.events[0].id, "04l5e00000AbCdEAAV");
    assert_string_equal(rx.events[1].id, "04l5e00000AbCdFAAV");
    struct json_object *s, *v;
    assert_true(json_object_object_get_ex(rx.events[1].payload, "sobject", &s));
    assert_true(json_object_object_get_ex(s, "Email", &v));
    assert_string_equal(json_object_get_string(v), "bob@example.com");
    receive_result_release(&rx);
    /* one Notification without an Id: the whole message is refused */
    expect_refused(&h,
                   ENVELOPE(ORG18,
                            LEAD("", "04l5e00000AbCdEAAV", "00Q5e00000AbCdEEAV", "ada@example.com")
                                LEAD("", "", "00Q5e00000AbCdFEAV", "bob@example.com")),
                   400, "without an Id");
    /* no Notification at all: acknowledged, nothing stored */
    expect_acked(&h, ENVELOPE(ORG18, ""), 0, &rx);
    receive_result_release(&rx);
    hook_close(&h);
}

static void test_hostile_and_broken_bodies(void **state)
{
    (void)state;
    struct hook h;
    hook_open(&h, NULL, "organization_id = " ORG18);
    /* an entity defined in a DTD never reaches the parser */
    static const char xxe[] =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soapenv:Body><notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">"
        "<OrganizationId>" ORG18 "</OrganizationId><Notification><Id>&e;</Id></Notification>"
        "</notifications></soapenv:Body></soapenv:Envelope>";
    expect_refused(&h, xxe, 400, "DOCTYPE");
    static const char laughs[] = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
                                 "\"&lol;&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>";
    expect_refused(&h, laughs, 400, "DOCTYPE");
    expect_refused(&h, "", 400, "empty body");
    expect_refused(&h, "{\"not\": \"xml\"}", 400, "not well-formed");
    expect_refused(&h, "<soapenv:Envelope xmlns:soapenv=\"x\"><unclosed>", 400, "not well-formed");
    hook_close(&h);
}

static void test_config(void **state)
{
    (void)state;
    expect_load_error(NULL, NULL, "events = Lead", NULL, "organization_id", "missing required");
    expect_load_error(NULL, NULL, "organization_id = 00D5e000000AbC", NULL, "organization_id",
                      "15 or 18");
    expect_load_error(NULL, NULL, "organization_id = 00D5e000000AbCdAAA", NULL, "organization_id",
                      "not a Salesforce organization id");
    expect_load_error(NULL, NULL, "organization_id = 00D5e000000-bCd", NULL, "organization_id",
                      "not a Salesforce organization id");
    struct hook h;
    expect_clean_load(&h, NULL, NULL, "organization_id = " ORG18 "\nevents = Lead Contact", NULL);
    hook_close(&h);
}

/* --- ids ---------------------------------------------------------------------------- */

static void test_id18(void **state)
{
    (void)state;
    char out[19];
    /* the example most write-ups of the algorithm use */
    assert_int_equal(salesforce_id18("0015000000Gv7qJ", out), 0);
    assert_string_equal(out, "0015000000Gv7qJAAR");
    assert_int_equal(salesforce_id18("0015000000Gv7qJAAR", out), 0);
    assert_string_equal(out, "0015000000Gv7qJAAR");
    assert_int_equal(salesforce_id18(ORG15, out), 0);
    assert_string_equal(out, ORG18);
    /* tampered twins: one letter's case, one suffix character */
    assert_int_equal(salesforce_id18("0015000000gv7qJ", out), 0);
    assert_string_not_equal(out, "0015000000Gv7qJAAR");
    assert_int_equal(salesforce_id18("0015000000Gv7qJAAS", out), -1);
    assert_int_equal(salesforce_id18("0015000000Gv7q", out), -1);
    assert_int_equal(salesforce_id18("0015000000Gv7qJA", out), -1);
}

/* --- the JWT bearer assertion --------------------------------------------------------------- */

static char *read_key(void)
{
    FILE *f = fopen(KEY_FILE, "r");
    assert_non_null(f);
    char *pem = calloc(1, 8192);
    assert_non_null(pem);
    size_t n = fread(pem, 1, 8191, f);
    fclose(f);
    assert_true(n > 100);
    return pem;
}

/* RS256 verification of sig (base64url) over input with the test key's
 * public half, by OpenSSL alone. */
static bool verifies(const char *input, const char *sig)
{
    FILE *f = fopen(KEY_FILE, "r");
    assert_non_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    char b64[1024];
    size_t n = strlen(sig);
    assert_true(n + 4 < sizeof(b64));
    for (size_t i = 0; i < n; i++)
        b64[i] = sig[i] == '-' ? '+' : sig[i] == '_' ? '/' : sig[i];
    while (n % 4)
        b64[n++] = '=';
    b64[n] = '\0';
    unsigned char raw[1024];
    int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    assert_true(len > 0);
    while (n && b64[n - 1] == '=') {
        len--;
        n--;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok =
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(md, raw, (size_t)len, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return ok;
}

static void test_jwt_assertion(void **state)
{
    (void)state;
    char *pem = read_key();
    char *jwt = NULL, err[256] = "";
    assert_int_equal(salesforce_jwt_assertion(
                         &core_host, "3MVG9_CLIENT_ID", "integration@example.com",
                         "https://login.salesforce.com", 1700000180, pem, &jwt, err, sizeof(err)),
                     0);
    /* the signing input of the reference, then the pinned signature */
    assert_string_equal(jwt, SIGNING_INPUT "." PINNED_SIG);
    assert_true(verifies(SIGNING_INPUT, PINNED_SIG));
    free(jwt);
    /* tampered twin: exp one second later signs to something else, and the
     * pinned signature does not verify over it */
    assert_int_equal(salesforce_jwt_assertion(
                         &core_host, "3MVG9_CLIENT_ID", "integration@example.com",
                         "https://login.salesforce.com", 1700000181, pem, &jwt, err, sizeof(err)),
                     0);
    char *dot = strrchr(jwt, '.');
    assert_non_null(dot);
    *dot = '\0';
    assert_string_not_equal(jwt, SIGNING_INPUT);
    assert_string_not_equal(dot + 1, PINNED_SIG);
    assert_true(verifies(jwt, dot + 1));
    assert_false(verifies(jwt, PINNED_SIG));
    free(jwt);
    free(pem);

    /* keys that cannot sign RS256 say why, without their contents */
    jwt = NULL;
    assert_int_equal(salesforce_jwt_assertion(&core_host, "id", "u", "a", 1, "not a key", &jwt, err,
                                              sizeof(err)),
                     -1);
    assert_null(jwt);
    assert_non_null(strstr(err, "not a PEM private key"));
    static const char ec[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp0LghB3QdWDGy21w\n"
                             "Qr055c1393wzJCzefjOjKDkSJFShRANCAAQ+pp/7wPCBCCwfrEevFmZIEBofhQC5\n"
                             "hkewZDPEa8oablR7ZVHDLsCb+bClPC442spwEeK4Nh8fwlr27gm43MTU\n"
                             "-----END PRIVATE KEY-----\n";
    assert_int_equal(
        salesforce_jwt_assertion(&core_host, "id", "u", "a", 1, ec, &jwt, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not an RSA key"));
}

static void test_jwt_audience(void **state)
{
    (void)state;
    assert_string_equal(salesforce_jwt_audience("https://login.salesforce.com"),
                        "https://login.salesforce.com");
    assert_string_equal(salesforce_jwt_audience("https://acme.my.salesforce.com/"),
                        "https://login.salesforce.com");
    assert_string_equal(salesforce_jwt_audience("https://test.salesforce.com"),
                        "https://test.salesforce.com");
    assert_string_equal(salesforce_jwt_audience("https://acme--uat.sandbox.my.salesforce.com"),
                        "https://test.salesforce.com");
    /* a look-alike host is not a sandbox */
    assert_string_equal(salesforce_jwt_audience("https://test.salesforce.com.evil.example"),
                        "https://login.salesforce.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lead_notification),
        cmocka_unit_test(test_namespaces_not_prefixes),
        cmocka_unit_test(test_organization_id),
        cmocka_unit_test(test_several_notifications),
        cmocka_unit_test(test_hostile_and_broken_bodies),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_id18),
        cmocka_unit_test(test_jwt_assertion),
        cmocka_unit_test(test_jwt_audience),
    };
    return cmocka_run_group_tests(tests, group_setup, trigger_harness_teardown);
}
