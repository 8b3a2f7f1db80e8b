/* `switchboard hooks register|list|unregister` end to end (SDK 1.1's hooks
 * callbacks), against stand-ins of the three APIs that check what the
 * providers check (tests/support: trello_checks.c, stripe_checks.c,
 * shopify_checks.c), while the real engine runs:
 *   Stripe: an endpoint is created once, its signing secret kept in the
 *     store (masked by `triggers`) and used by stripe.webhook, which has no
 *     `secret`, to accept deliveries; an endpoint whose secret is unknown
 *     is not called registered; patterns cannot be subscribed to;
 *   Trello: the webhook is created only after Trello's HEAD check reached
 *     the engine at the trigger's own public_url, and the deliveries signed
 *     over that URL are verified;
 *   Shopify: one subscription per topic, in both API shapes (callbackUrl
 *     before 2025-10, uri after);
 * and a trigger that cannot register says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "shopify_checks.h"
#include "standin.h"
#include "stripe_checks.h"
#include "testkit.h"
#include "trello_checks.h"

#define PUBLIC "https://hooks.example.com"
#define STRIPE_KEY "sk_test_hooks"
#define TRELLO_KEY "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TRELLO_TOKEN "ATTAhooks0123456789abcdef0123456789abcdef0123456789abcdef012345"
#define TRELLO_SECRET "trello-oauth-app-secret-hooks"
#define BOARD "5abbe4b7ddc1b351ef961400"
#define SHOP_TOKEN "shpat_hooks_token"
#define SHOP_SECRET "shpss_hooks_secret"
/* the stand-in's secret for its first endpoint (stripe_checks.h) */
#define FIRST_ENDPOINT_SECRET "whsec_wRNftLajMZNeslQOP6vEPm4iVx000001"

static struct sb_proc proc;
static struct standin *api;
static struct trello_api *trello;
static struct stripe_mock *stripe;
static struct shopify_api shopify = {.access_token = SHOP_TOKEN};

static const char *const env[] = {"SB_TEST_STRIPE_KEY=" STRIPE_KEY,
                                  "SB_TEST_TRELLO_KEY=" TRELLO_KEY,
                                  "SB_TEST_TRELLO_TOKEN=" TRELLO_TOKEN,
                                  "SB_TEST_TRELLO_SECRET=" TRELLO_SECRET,
                                  "SB_TEST_SHOP_TOKEN=" SHOP_TOKEN,
                                  "SB_TEST_SHOP_SECRET=" SHOP_SECRET,
                                  NULL};

/* `switchboard hooks ACTION WORKFLOW [--json]`: the exit status, with
 * stdout in *out and stderr in *err (caller frees both). */
static int hooks(const char *action, const char *workflow, bool json, char **out, char **err)
{
    return sbp_cli(&proc, env, out, err, "hooks", action, workflow, json ? "--json" : NULL, NULL);
}

/* hooks() that must succeed; its stdout (caller frees). */
static char *hooks_ok(const char *action, const char *workflow)
{
    char *out = NULL, *err = NULL;
    int rc = hooks(action, workflow, false, &out, &err);
    if (rc != 0)
        fail_msg("switchboard hooks %s %s exited %d: %s", action, workflow, rc, err);
    free(err);
    return out;
}

static void assert_contains(const char *text, const char *want)
{
    if (!text || !strstr(text, want))
        fail_msg("expected '%s' in '%s'", want, text ? text : "(null)");
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    trello = trello_api_install(api, TRELLO_KEY, TRELLO_TOKEN);
    stripe = stripe_checks_install(api);
    shopify_api_install(api, &shopify);
    if (sbp_init_ini(&proc, "[server]\nlisten = 127.0.0.1:0\npublic_url = " PUBLIC "/\n\n"
                            "[engine]\nplugin_dir = @PLUGINS@\nworkflow_dir = @DIR@/workflows\n"
                            "store = sqlite:@DIR@/store.db\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    sbp_write_workflowf(&proc, "payments",
                        "[trigger]\nuse = stripe.webhook\npath = stripe\n"
                        "api_key = ${env:SB_TEST_STRIPE_KEY}\napi_base = %s\n"
                        "events = checkout.session.completed payment_intent.succeeded\n\n"
                        "[step note]\nuse = log.write\nmessage = paid {{ event.id }}\n",
                        base);
    sbp_write_workflowf(&proc, "patterns",
                        "[trigger]\nuse = stripe.webhook\npath = stripe-patterns\n"
                        "api_key = ${env:SB_TEST_STRIPE_KEY}\napi_base = %s\n"
                        "events = invoice.*\n\n"
                        "[step note]\nuse = log.write\nmessage = {{ event.id }}\n",
                        base);
    sbp_write_workflowf(&proc, "orders",
                        "[trigger]\nuse = shopify.webhook\npath = shopify\n"
                        "secret = ${env:SB_TEST_SHOP_SECRET}\nshop = my-store\n"
                        "access_token = ${env:SB_TEST_SHOP_TOKEN}\napi_base = %s\n"
                        "events = orders/create orders/paid\n\n"
                        "[step note]\nuse = log.write\nmessage = {{ event.name }}\n",
                        base);
    sbp_write_workflowf(&proc, "orders-new",
                        "[trigger]\nuse = shopify.webhook\npath = shopify-new\n"
                        "secret = ${env:SB_TEST_SHOP_SECRET}\nshop = my-store\n"
                        "access_token = ${env:SB_TEST_SHOP_TOKEN}\napi_base = %s\n"
                        "api_version = 2025-10\nevents = orders/create\n\n"
                        "[step note]\nuse = log.write\nmessage = {{ event.name }}\n",
                        base);
    sbp_write_workflow(&proc, "plain",
                       "[trigger]\nuse = http.webhook\nverify = none\n\n"
                       "[step note]\nuse = log.write\nmessage = plain\n");
    return sbp_start(&proc, env) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    trello_api_free(trello);
    stripe_checks_free(stripe);
    shopify_api_release(&shopify);
    return 0;
}

/* --- Stripe -------------------------------------------------------------------- */

static void test_stripe(void **state)
{
    (void)state;
    const char *body = "{\"id\":\"evt_hooks_1\",\"object\":\"event\",\"type\":"
                       "\"checkout.session.completed\",\"data\":{\"object\":{}}}";
    const char *const lead[] = {"Content-Type: application/json", NULL};
    /* before any registration there is no secret: 503, so Stripe retries */
    char **h = sbp_sign(&proc, "stripe", FIRST_ENDPOINT_SECRET, NULL, NULL, body, lead);
    struct http_reply r;
    assert_int_equal(sbp_hook_request(&proc, "POST", "stripe", (const char *const *)h, body, &r),
                     503);
    assert_contains(r.body, "no signing secret yet: run switchboard hooks register");
    http_reply_free(&r);
    testkit_strv_free(h);

    char *out = hooks_ok("list", "payments");
    assert_contains(out, "no webhook at the provider calls " PUBLIC "/hooks/stripe");
    free(out);

    out = hooks_ok("register", "payments");
    assert_contains(out, "registered we_1Mr5jULkdIwHu7ix000001 " PUBLIC "/hooks/stripe events="
                         "checkout.session.completed,payment_intent.succeeded status=enabled");
    assert_false(strstr(out, "whsec_"));
    free(out);
    assert_int_equal(stripe_checks_endpoints(stripe), 1);
    /* the signing secret, shown only by the create answer, is in the store
     * for the hook path */
    assert_int_equal(sbp_sql_int(&proc,
                                 "SELECT count(*) FROM kv WHERE scope = '/hooks/stripe' "
                                 "AND key = 'secret' AND value = '" FIRST_ENDPOINT_SECRET "'"),
                     1);
    /* twice does not make two */
    out = hooks_ok("register", "payments");
    assert_contains(out, "already registered we_1Mr5jULkdIwHu7ix000001");
    free(out);
    assert_int_equal(stripe_checks_endpoints(stripe), 1);
    /* `triggers` shows the state, never the secret */
    char *err = NULL;
    assert_int_equal(sbp_cli(&proc, env, &out, &err, "triggers", "--json", NULL), 0);
    assert_contains(out, "\"secret\":\"****\"");
    assert_false(strstr(out, FIRST_ENDPOINT_SECRET));
    free(out);
    free(err);

    /* deliveries signed with that secret are accepted by the running
     * engine, whose workflow sets no secret (it reads the stored one again
     * after the 503 above, at most once a second); others are not */
    testkit_sleep_ms(1100);
    h = sbp_sign(&proc, "stripe", FIRST_ENDPOINT_SECRET, NULL, NULL, body, lead);
    assert_non_null(h);
    assert_int_equal(sbp_hook_request(&proc, "POST", "stripe", (const char *const *)h, body, NULL),
                     200);
    testkit_strv_free(h);
    assert_true(sbp_wait_runs(&proc, "payments", "succeeded", 1, 20000));
    h = sbp_sign(&proc, "stripe", "whsec_someone_else", NULL, NULL, body, lead);
    assert_int_equal(sbp_hook_request(&proc, "POST", "stripe", (const char *const *)h, body, NULL),
                     401);
    testkit_strv_free(h);

    out = NULL;
    assert_int_equal(hooks("list", "payments", true, &out, &err), 0);
    struct json_object *line = json_tokener_parse(out), *v;
    assert_non_null(line);
    assert_true(json_object_object_get_ex(line, "id", &v));
    assert_string_equal(json_object_get_string(v), "we_1Mr5jULkdIwHu7ix000001");
    json_object_put(line);
    free(out);
    free(err);

    out = hooks_ok("unregister", "payments");
    assert_contains(out, "deleted we_1Mr5jULkdIwHu7ix000001 " PUBLIC "/hooks/stripe");
    free(out);
    assert_int_equal(stripe_checks_endpoints(stripe), 0);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM kv WHERE scope = '/hooks/stripe' "
                                        "AND key = 'secret' AND value = ''"),
                     1);
    out = hooks_ok("unregister", "payments");
    assert_contains(out, "nothing to delete: no webhook at the provider calls");
    free(out);
}

/* An endpoint made elsewhere: its secret cannot be had, so register must
 * not pretend the workflow can verify its deliveries. */
static void test_stripe_endpoint_with_unknown_secret(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/webhook_endpoints", standin_url(api));
    const char *headers[] = {"Authorization: Bearer " STRIPE_KEY,
                             "Content-Type: application/x-www-form-urlencoded", NULL};
    const char *form = "url=" PUBLIC "/hooks/stripe&enabled_events[0]=*";
    struct http_reply r;
    assert_int_equal(http_do("POST", url, headers, form, strlen(form), 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    char *out = NULL, *err = NULL;
    assert_int_equal(hooks("register", "payments", false, &out, &err), 1);
    assert_contains(err, "Stripe already has endpoint we_1Mr5jULkdIwHu7ix000002 for " PUBLIC
                         "/hooks/stripe, but its signing secret is not known here");
    free(out);
    free(err);
    out = hooks_ok("unregister", "payments");
    assert_contains(out, "deleted we_1Mr5jULkdIwHu7ix000002");
    free(out);

    /* and Stripe takes no patterns */
    assert_int_equal(hooks("register", "patterns", false, &out, &err), 1);
    assert_contains(err, "not to the pattern 'invoice.*'");
    free(out);
    free(err);
    assert_int_equal(stripe_checks_endpoints(stripe), 0);
}

/* --- Trello -------------------------------------------------------------------- */

/* Wait until the engine serves /hooks/<hook> (a reload picked the file
 * up): Trello's HEAD answered 200. */
static bool wait_served(const char *hook)
{
    for (int i = 0; i < 100; i++) {
        if (sbp_hook_request(&proc, "HEAD", hook, NULL, NULL, NULL) == 200)
            return true;
        testkit_sleep_ms(100);
    }
    return false;
}

static void test_trello(void **state)
{
    (void)state;
    /* the engine's own address is the callback: Trello checks it with a
     * HEAD before it creates the webhook */
    char callback[128];
    snprintf(callback, sizeof(callback), "%s/hooks/board", proc.base_url);
    sbp_write_workflowf(&proc, "board",
                        "[trigger]\nuse = trello.webhook\npath = board\npublic_url = %s\n"
                        "secret = ${env:SB_TEST_TRELLO_SECRET}\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "id_model = " BOARD "\napi_base = %s\n\n"
                        "[step note]\nuse = log.write\nmessage = {{ event.action.type }}\n",
                        callback, standin_url(api));
    /* a second one whose URL the engine does not serve */
    sbp_write_workflowf(&proc, "nowhere",
                        "[trigger]\nuse = trello.webhook\npath = nowhere\n"
                        "public_url = %s/hooks/not-served\n"
                        "secret = ${env:SB_TEST_TRELLO_SECRET}\n"
                        "key = ${env:SB_TEST_TRELLO_KEY}\ntoken = ${env:SB_TEST_TRELLO_TOKEN}\n"
                        "id_model = " BOARD "\napi_base = %s\n\n"
                        "[step note]\nuse = log.write\nmessage = x\n",
                        proc.base_url, standin_url(api));
    assert_true(wait_served("board"));

    char *out = hooks_ok("register", "board");
    char want[300];
    snprintf(want, sizeof(want),
             "registered 5f0c00000000000000000001 %s model=" BOARD " active=true", callback);
    assert_contains(out, want);
    free(out);
    assert_int_equal(trello_api_webhooks(trello), 1);
    out = hooks_ok("register", "board");
    assert_contains(out, "already registered 5f0c00000000000000000001");
    free(out);
    assert_int_equal(trello_api_webhooks(trello), 1);

    /* a delivery signed over that callback URL is verified */
    const char *body = "{\"action\":{\"id\":\"51f9424bcd6e040f3c00aaaa\",\"type\":\"createCard\"},"
                       "\"model\":{\"id\":\"" BOARD "\"}}";
    const char *const lead[] = {"Content-Type: application/json", NULL};
    char **h = sbp_sign(&proc, "trello", TRELLO_SECRET, callback, NULL, body, lead);
    assert_non_null(h);
    assert_int_equal(sbp_hook_request(&proc, "POST", "board", (const char *const *)h, body, NULL),
                     200);
    testkit_strv_free(h);
    assert_true(sbp_wait_runs(&proc, "board", "succeeded", 1, 20000));

    /* Trello's HEAD check fails: no webhook, and Trello's reason */
    char *err = NULL;
    assert_int_equal(hooks("register", "nowhere", false, &out, &err), 1);
    assert_contains(err, "did not return 200 status code, got 404");
    free(out);
    free(err);
    assert_int_equal(trello_api_webhooks(trello), 1);

    out = hooks_ok("list", "board");
    assert_contains(out, "5f0c00000000000000000001");
    free(out);
    out = hooks_ok("unregister", "board");
    assert_contains(out, "deleted 5f0c00000000000000000001");
    free(out);
    assert_int_equal(trello_api_webhooks(trello), 0);
}

/* --- Shopify ------------------------------------------------------------------- */

static void test_shopify(void **state)
{
    (void)state;
    char *out = hooks_ok("register", "orders");
    assert_contains(out, "registered gid://shopify/WebhookSubscription/1 " PUBLIC
                         "/hooks/shopify topic=ORDERS_CREATE");
    assert_contains(out, "registered gid://shopify/WebhookSubscription/2 " PUBLIC
                         "/hooks/shopify topic=ORDERS_PAID");
    free(out);
    assert_int_equal(shopify_api_subscriptions(&shopify), 2);
    out = hooks_ok("register", "orders");
    assert_contains(out, "already registered gid://shopify/WebhookSubscription/1");
    assert_contains(out, "already registered gid://shopify/WebhookSubscription/2");
    free(out);
    assert_int_equal(shopify_api_subscriptions(&shopify), 2);

    /* 2025-10 takes and gives `uri` (the stand-in refuses it before) */
    out = hooks_ok("register", "orders-new");
    assert_contains(out, "registered gid://shopify/WebhookSubscription/3 " PUBLIC
                         "/hooks/shopify-new topic=ORDERS_CREATE");
    free(out);
    out = hooks_ok("list", "orders-new");
    assert_contains(out, "gid://shopify/WebhookSubscription/3 " PUBLIC "/hooks/shopify-new");
    assert_false(strstr(out, "WebhookSubscription/1"));
    free(out);

    out = hooks_ok("unregister", "orders");
    assert_contains(out, "deleted gid://shopify/WebhookSubscription/1");
    assert_contains(out, "deleted gid://shopify/WebhookSubscription/2");
    free(out);
    assert_int_equal(shopify_api_subscriptions(&shopify), 1);
    out = hooks_ok("unregister", "orders-new");
    free(out);
    assert_int_equal(shopify_api_subscriptions(&shopify), 0);
    /* every request carried the token, as JSON with a query */
    assert_int_equal(shopify.refused, 0);
}

static void test_trigger_without_registration(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(hooks("register", "plain", false, &out, &err), 1);
    assert_contains(err, "http.webhook cannot register its webhook at the provider");
    free(out);
    free(err);
    assert_int_equal(hooks("register", "missing", false, &out, &err), 1);
    assert_contains(err, "no valid workflow 'missing'");
    free(out);
    free(err);
    assert_int_equal(hooks("create", "payments", false, &out, &err), 2);
    assert_contains(err, "unknown action 'create'");
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stripe),
        cmocka_unit_test(test_stripe_endpoint_with_unknown_secret),
        cmocka_unit_test(test_trello),
        cmocka_unit_test(test_shopify),
        cmocka_unit_test(test_trigger_without_registration),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
