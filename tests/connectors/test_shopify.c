/* The shopify connector end to end: signed order webhooks (made with
 * `switchboard sign shopify`) go into the real engine, whose shopify.graphql
 * steps call a stand-in of the Admin GraphQL API (tests/support/
 * shopify_checks.c) that checks the access token header, the versioned path
 * and the JSON body. Covered: the order id above 2^53 stays exact from the
 * webhook to the stored event to the GraphQL variables; userErrors and
 * GraphQL errors are permanent (dead, with Shopify's message); THROTTLED and
 * 5xx retry; a wrong token is dead with Shopify's 401 text; unsigned or
 * tampered deliveries are refused and duplicates dropped; a dry run masks
 * the token and shows the shop's address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "scenario.h"
#include "shopify_checks.h"
#include "standin.h"
#include "testkit.h"

#define APP_SECRET "shpss_0123456789abcdef0123456789abcdef"
#define OLD_SECRET "shpss_retired_secret_of_last_week"
#define ACCESS_TOKEN "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"
#define GRAPHQL "/admin/api/2025-01/graphql.json"

static struct sb_proc proc;
static struct standin *api;
static struct shopify_api shopify = {.access_token = ACCESS_TOKEN};

static const char *const env[] = {
    "SB_TEST_SHOPIFY_SECRET=" APP_SECRET, "SB_TEST_SHOPIFY_OLD_SECRET=" OLD_SECRET,
    "SB_TEST_SHOPIFY_TOKEN=" ACCESS_TOKEN, "SB_TEST_SHOPIFY_WRONG_TOKEN=shpat_wrong", NULL};

static const char order_body[] =
    "{\"id\":820982911946154508,\"admin_graphql_api_id\":\"gid://shopify/Order/"
    "820982911946154508\",\"name\":\"#1001\",\"order_number\":1001,\"email\":\"jon@example.com\","
    "\"currency\":\"USD\",\"total_price\":\"50.00\",\"customer\":{\"id\":115310627314723954,"
    "\"first_name\":\"John\"}}";

#define TAGS_ADDED                                                                                 \
    "{\"data\":{\"tagsAdd\":{\"node\":{\"id\":\"gid://shopify/Order/820982911946154508\"},"        \
    "\"userErrors\":[]}},\"extensions\":{\"cost\":{\"requestedQueryCost\":10,"                     \
    "\"actualQueryCost\":10,\"throttleStatus\":{\"maximumAvailable\":2000.0,"                      \
    "\"currentlyAvailable\":1990,\"restoreRate\":100.0}}}}"

static bool wait_status(const char *workflow, const char *status, int64_t n)
{
    return sbp_wait_runs(&proc, workflow, status, n, 20000);
}

/* The headers `switchboard sign shopify --set topic=T --set shop=my-store`
 * prints for `body` (the HMAC and every header Shopify sends), after
 * Content-Type, as a NULL-terminated array (release with
 * testkit_strv_free). */
static char **signed_headers(const char *secret, const char *topic, const char *body)
{
    char topic_option[128];
    snprintf(topic_option, sizeof(topic_option), "topic=%s", topic);
    const char *const lead[] = {"Content-Type: application/json", NULL};
    const char *const args[] = {"--set", topic_option, "--set", "shop=my-store", NULL};
    char **headers = sbp_sign_args(&proc, "shopify", secret, args, body, lead);
    assert_non_null(headers);
    return headers;
}

/* The value of header `name` in a "Name: value" list, or NULL. */
static const char *header_value(char **headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers[i]; i++)
        if (strncmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return headers[i] + n + 2;
    return NULL;
}

static long post_signed(char **headers, const char *body)
{
    return sbp_hook_request(&proc, "POST", "shopify", (const char *const *)headers, body, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    shopify_api_install(api, &shopify);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    const char *base = standin_url(api);
    /* orders in; tag the order through GraphQL; log what came back */
    sbp_write_workflowf(
        &proc, "orders",
        "[workflow]\nretry_backoff = 200ms\n\n"
        "[trigger]\nuse = shopify.webhook\npath = shopify\n"
        "secret = ${env:SB_TEST_SHOPIFY_SECRET}\nprevious_secret = "
        "${env:SB_TEST_SHOPIFY_OLD_SECRET}\n"
        "events = orders/*\n\n"
        "[step tag]\nuse = shopify.graphql\nshop = my-store\n"
        "access_token = ${env:SB_TEST_SHOPIFY_TOKEN}\napi_base = %s\n"
        "query = mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) "
        "{ node { id } userErrors { field message } } }\n"
        "variables = {\"id\": \"{{ event.admin_graphql_api_id }}\", \"tags\": [\"web\", \"{{ "
        "event.name }}\"]}\n\n"
        "[step log]\nuse = log.write\n"
        "message = tagged {{ steps.tag.tagsAdd.node.id }} (order {{ event.id }}, cost {{ "
        "steps.tag.extensions.cost.actualQueryCost }}) from {{ "
        "trigger.headers.x-shopify-shop-domain "
        "}}\n",
        base);
    /* a mutation driven by a plain webhook, for the failure paths */
    sbp_write_workflowf(
        &proc, "products",
        "[workflow]\nretry_backoff = 200ms\n\n"
        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
        "[step create]\nuse = shopify.graphql\nshop = my-store\n"
        "access_token = ${env:SB_TEST_SHOPIFY_TOKEN}\napi_base = %s/\napi_version = 2025-01\n"
        "query = mutation($input: ProductInput!) { productCreate(input: $input) "
        "{ product { id } userErrors { field message } } }\n"
        "variables = {\"input\": {\"title\": \"{{ event.title }}\"}}\n",
        base);
    sbp_write_workflowf(&proc, "badtoken",
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
                        "[step q]\nuse = shopify.graphql\nshop = my-store.myshopify.com\n"
                        "access_token = ${env:SB_TEST_SHOPIFY_WRONG_TOKEN}\napi_base = %s\n"
                        "query = { shop { name } }\n",
                        base);
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    return 0;
}

static void test_order_to_graphql(void **state)
{
    (void)state;
    standin_clear(api);
    struct standin_reply ok = {200, NULL, TAGS_ADDED, NULL, 0};
    standin_script(api, "POST", GRAPHQL, &ok, 1);
    char **h = signed_headers(APP_SECRET, "orders/create", order_body);
    assert_non_null(header_value(h, "X-Shopify-Hmac-Sha256"));
    assert_non_null(header_value(h, "X-Shopify-Webhook-Id"));
    /* every header Shopify's own validator requires, and the optional two */
    assert_string_equal(header_value(h, "X-Shopify-Topic"), "orders/create");
    assert_string_equal(header_value(h, "X-Shopify-Shop-Domain"), "my-store.myshopify.com");
    assert_string_equal(header_value(h, "X-Shopify-API-Version"), "2025-01");
    assert_non_null(header_value(h, "X-Shopify-Triggered-At"));
    assert_int_equal(strlen(header_value(h, "X-Shopify-Event-Id")), 36);
    assert_int_equal(post_signed(h, order_body), 200);
    /* Shopify retries the same delivery: dropped by X-Shopify-Webhook-Id */
    assert_int_equal(post_signed(h, order_body), 200);
    testkit_strv_free(h);
    assert_true(wait_status("orders", "succeeded", 1));
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'orders'"), 1);
    /* the stored event is the body as sent: every digit of the id */
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events WHERE source = 'shopify' AND "
                                        "type = 'orders/create' AND payload LIKE "
                                        "'{\"id\":820982911946154508,%'"),
                     1);

    assert_int_equal(standin_count(api, GRAPHQL), 1);
    struct standin_request req;
    assert_true(standin_get(api, GRAPHQL, 0, &req));
    assert_string_equal(req.method, "POST");
    assert_string_equal(standin_header(&req, "X-Shopify-Access-Token"), ACCESS_TOKEN);
    assert_string_equal(standin_header(&req, "Content-Type"), "application/json");
    struct json_object *body = json_tokener_parse(req.body), *v, *vars;
    assert_non_null(body);
    assert_true(json_object_object_get_ex(body, "query", &v));
    assert_non_null(strstr(json_object_get_string(v), "tagsAdd(id: $id, tags: $tags)"));
    assert_true(json_object_object_get_ex(body, "variables", &vars));
    assert_true(json_object_object_get_ex(vars, "id", &v));
    assert_string_equal(json_object_get_string(v), "gid://shopify/Order/820982911946154508");
    assert_true(json_object_object_get_ex(vars, "tags", &v));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "#1001");
    json_object_put(body);
    standin_request_free(&req);
    /* the output is the data (plus the cost), read by the next step */
    assert_true(sbp_log_contains(&proc,
                                 "tagged gid://shopify/Order/820982911946154508 (order "
                                 "820982911946154508, cost 10) from my-store.myshopify.com"));
    assert_false(sbp_log_contains(&proc, ACCESS_TOKEN));
}

static void test_webhook_verification(void **state)
{
    (void)state;
    const char *body = "{\"id\":820982911946154999,\"name\":\"#1002\",\"total_price\":\"5.00\","
                       "\"currency\":\"USD\",\"admin_graphql_api_id\":\"gid://shopify/Order/1\"}";
    int64_t events = sbp_sql_int(&proc, "SELECT count(*) FROM events");
    /* signed with another secret */
    char **h = signed_headers("shpss_someone_else", "orders/create", body);
    assert_int_equal(post_signed(h, body), 401);
    testkit_strv_free(h);
    /* no signature at all */
    h = signed_headers(APP_SECRET, "orders/create", body);
    char **unsigned_h = calloc(12, sizeof(char *));
    for (size_t i = 0, k = 0; h[i]; i++)
        if (strncmp(h[i], "X-Shopify-Hmac-Sha256", 21) != 0)
            unsigned_h[k++] = strdup(h[i]);
    assert_int_equal(post_signed(unsigned_h, body), 401);
    testkit_strv_free(unsigned_h);
    /* the body changed after signing (a digit of the id) */
    char tampered[512];
    snprintf(tampered, sizeof(tampered), "%s", body);
    char *p = strstr(tampered, "999");
    assert_non_null(p);
    p[2] = '8';
    assert_int_equal(post_signed(h, tampered), 401);
    testkit_strv_free(h);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events"), events);
    /* the retired secret still verifies while it is previous_secret; a topic
     * the events filter leaves out is stored without a run */
    struct standin_reply ok = {200, NULL, TAGS_ADDED, NULL, 0};
    standin_script(api, "POST", GRAPHQL, &ok, 1);
    h = signed_headers(OLD_SECRET, "products/update", body);
    assert_int_equal(post_signed(h, body), 200);
    testkit_strv_free(h);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM events"), events + 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs r JOIN events e ON r.event = "
                                        "e.id WHERE e.type = 'products/update'"),
                     0);
}

static void test_user_errors_are_dead(void **state)
{
    (void)state;
    standin_clear(api);
    struct standin_reply refused = {200, NULL, SHOPIFY_USER_ERRORS_BODY, NULL, 0};
    standin_script(api, "POST", GRAPHQL, &refused, 1);
    scenario_post_event(&proc, "products", "{\"id\": \"p-1\", \"title\": \"\"}");
    assert_true(wait_status("products", "dead", 1));
    assert_int_equal(standin_count(api, GRAPHQL), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'products' AND "
                                        "error LIKE '%userErrors: title: Title can''t be blank%'"),
                     1);
    struct standin_request req;
    assert_true(standin_get(api, GRAPHQL, 0, &req));
    assert_non_null(strstr(req.body, "\"variables\":{\"input\":{\"title\":\"\"}}"));
    standin_request_free(&req);

    /* top-level GraphQL errors are permanent too */
    standin_clear(api);
    struct standin_reply bad_query = {200, NULL, SHOPIFY_QUERY_ERROR_BODY, NULL, 0};
    standin_script(api, "POST", GRAPHQL, &bad_query, 1);
    scenario_post_event(&proc, "products", "{\"id\": \"p-2\", \"title\": \"Hat\"}");
    assert_true(wait_status("products", "dead", 2));
    assert_int_equal(standin_count(api, GRAPHQL), 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'products' AND "
                                        "error LIKE '%Field ''nope'' doesn''t exist on type%'"),
                     1);

    /* a wrong token: Shopify's 401 text, no retry */
    size_t refused_before = atomic_load(&shopify.refused);
    scenario_post_event(&proc, "badtoken", "{\"id\": \"b-1\"}");
    assert_true(wait_status("badtoken", "dead", 1));
    assert_int_equal(atomic_load(&shopify.refused), refused_before + 1);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs WHERE workflow = 'badtoken' AND "
                                        "attempts = 1 AND error LIKE '%HTTP 401 [API] Invalid API "
                                        "key or access token%'"),
                     1);
}

static void test_throttled_and_outage_retry(void **state)
{
    (void)state;
    standin_clear(api);
    struct standin_reply replies[] = {
        {200, NULL, SHOPIFY_THROTTLED_BODY, NULL, 0},
        {503, "text/html", "<html>Service Unavailable</html>", "Retry-After: 1\n", 0},
        {200, NULL,
         "{\"data\":{\"productCreate\":{\"product\":{\"id\":\"gid://shopify/Product/1\"},"
         "\"userErrors\":[]}}}",
         NULL, 0},
    };
    standin_script(api, "POST", GRAPHQL, replies, 3);
    scenario_post_event(&proc, "products", "{\"id\": \"p-3\", \"title\": \"Scarf\"}");
    assert_true(wait_status("products", "succeeded", 1));
    assert_int_equal(standin_count(api, GRAPHQL), 3);
    struct standin_request a, b, c;
    assert_true(standin_get(api, GRAPHQL, 0, &a));
    assert_true(standin_get(api, GRAPHQL, 1, &b));
    assert_true(standin_get(api, GRAPHQL, 2, &c));
    /* THROTTLED: 100 points missing at 100 per second -> 1 s; the 503's
     * Retry-After: 1 -> 1 s (the backoff alone is 200 ms) */
    printf("THROTTLED retry after %lld ms, 503 retry after %lld ms\n",
           (long long)(b.at_ms - a.at_ms), (long long)(c.at_ms - b.at_ms));
    assert_true(b.at_ms - a.at_ms >= 1000);
    assert_true(c.at_ms - b.at_ms >= 1000);
    standin_request_free(&a);
    standin_request_free(&b);
    standin_request_free(&c);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM steps s JOIN runs r ON s.run = r.id "
                                        "WHERE r.workflow = 'products' AND r.status = 'succeeded' "
                                        "AND s.output LIKE '%gid://shopify/Product/1%'"),
                     1);
}

static void test_dry_run(void **state)
{
    (void)state;
    char evfile[400];
    assert_int_equal(
        sbp_write_file(&proc, "event.json", "{\"id\": \"dry\"}", evfile, sizeof(evfile)), 0);
    /* the default API base is the shop's own address */
    sbp_write_workflow(&proc, "realshop",
                       "[trigger]\nuse = http.webhook\nverify = none\n\n"
                       "[step q]\nuse = shopify.graphql\nshop = My-Store.myshopify.com\n"
                       "access_token = ${env:SB_TEST_SHOPIFY_TOKEN}\napi_version = 2024-10\n"
                       "query = { shop { name } }\n");
    size_t before = standin_count(api, NULL);
    char *out = NULL, *err = NULL;
    int rc =
        sbp_cli(&proc, env, &out, &err, "fire", "realshop", "--event", evfile, "--dry-run", NULL);
    if (rc != 0)
        fail_msg("fire failed: %s %s", out, err);
    assert_non_null(
        strstr(out, "POST https://my-store.myshopify.com/admin/api/2024-10/graphql.json"));
    assert_non_null(strstr(out, "X-Shopify-Access-Token: ****"));
    assert_non_null(strstr(out, "{\"query\":\"{ shop { name } }\"}"));
    assert_null(strstr(out, ACCESS_TOKEN));
    assert_null(strstr(err, ACCESS_TOKEN));
    assert_int_equal(standin_count(api, NULL), before);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_to_graphql),
        cmocka_unit_test(test_webhook_verification),
        cmocka_unit_test(test_user_errors_are_dead),
        cmocka_unit_test(test_throttled_and_outage_retry),
        cmocka_unit_test(test_dry_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
