/* Stripe catch-up (issue 7): an event delivered by webhook and later listed
 * by /v1/events runs once; an event the webhook never delivered is caught
 * up by stripe.events; the first poll only records what exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "standin.h"
#include "testkit.h"

#define WEBHOOK_SECRET "whsec_catchup_test_secret"

/* An event as Stripe lists it, into out (the stand-in's thread and the
 * test's each use their own buffers). */
static const char *evt(char *out, size_t outlen, const char *id, const char *type)
{
    snprintf(out, outlen,
             "{\"id\": \"%s\", \"object\": \"event\", \"type\": \"%s\", \"created\": 1700000000, "
             "\"data\": {\"object\": {\"id\": \"pi_%s\", \"amount\": 5000}}}",
             id, type, id + 4);
    return out;
}

/* /v1/events: before the webhook test, only evt_old exists; after, two
 * newer events are listed (one the webhook delivered, one it missed). */
static bool events_route(void *arg, const struct standin_request *req, struct standin_reply *reply,
                         char *buf, size_t buflen)
{
    (void)arg;
    const char *auth = standin_header(req, "Authorization");
    if (!auth || strcmp(auth, "Bearer sk_test_catchup") != 0) {
        *reply =
            (struct standin_reply){401, NULL, "{\"error\": {\"message\": \"bad key\"}}", NULL, 0};
        return false;
    }
    char a[256], b[256];
    if (strstr(req->query, "ending_before=evt_old"))
        snprintf(buf, buflen, "{\"object\": \"list\", \"has_more\": false, \"data\": [%s, %s]}",
                 evt(a, sizeof(a), "evt_missed", "payment_intent.succeeded"),
                 evt(b, sizeof(b), "evt_hooked", "payment_intent.succeeded"));
    else if (strstr(req->query, "ending_before=evt_missed"))
        snprintf(buf, buflen, "{\"object\": \"list\", \"has_more\": false, \"data\": []}");
    else
        snprintf(buf, buflen, "{\"object\": \"list\", \"has_more\": true, \"data\": [%s]}",
                 evt(a, sizeof(a), "evt_old", "payment_intent.succeeded"));
    *reply = (struct standin_reply){200, NULL, buf, NULL, 0};
    return false;
}

static void test_catch_up_runs_once(void **state)
{
    (void)state;
    struct standin *api;
    assert_int_equal(standin_start(&api), 0);
    standin_check(api, "GET", "/v1/events", events_route, NULL);
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "POST", "/sink", &ok, 1);
    struct sb_proc p;
    assert_int_equal(sbp_init(&p, NULL), 0);
    char wf[1024];
    snprintf(wf, sizeof(wf),
             "[trigger]\nuse = stripe.webhook\npath = stripe\nsecret = ${env:WH_SECRET}\n\n"
             "[step sink]\nuse = http.request\nmethod = POST\nurl = %s/sink\n"
             "body = {\"id\": \"{{ event.id }}\", \"via\": \"webhook\"}\n",
             standin_url(api));
    sbp_write_workflow(&p, "paid", wf);
    snprintf(wf, sizeof(wf),
             "[trigger]\nuse = stripe.events\napi_key = ${env:STRIPE_KEY}\napi_base = %s\n"
             "interval = 1s\n\n"
             "[step sink]\nuse = http.request\nmethod = POST\nurl = %s/sink\n"
             "body = {\"id\": \"{{ event.id }}\", \"via\": \"poll\"}\n",
             standin_url(api), standin_url(api));
    sbp_write_workflow(&p, "paid-catchup", wf);
    const char *env[] = {"WH_SECRET=" WEBHOOK_SECRET, "STRIPE_KEY=sk_test_catchup", NULL};
    assert_int_equal(sbp_start(&p, env), 0);
    /* the first poll records evt_old without firing */
    assert_true(standin_wait(api, "/v1/events", 1, 10000));
    testkit_sleep_ms(300);
    /* evt_hooked arrives by webhook, signed as Stripe signs */
    char hooked_body[256];
    const char *body =
        evt(hooked_body, sizeof(hooked_body), "evt_hooked", "payment_intent.succeeded");
    const char *const lead[] = {"Content-Type: application/json", NULL};
    char **h = sbp_sign(&p, "stripe", WEBHOOK_SECRET, NULL, NULL, body, lead);
    assert_non_null(h);
    char url[128];
    snprintf(url, sizeof(url), "%s/hooks/stripe", p.base_url);
    struct http_reply r;
    assert_int_equal(http_do("POST", url, (const char *const *)h, body, strlen(body), 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    testkit_strv_free(h);
    /* the poller then lists evt_hooked (a duplicate) and evt_missed */
    assert_true(standin_wait(api, "/sink", 2, 15000));
    testkit_sleep_ms(2500);
    size_t n = standin_count(api, "/sink");
    int hooked = 0, missed = 0, old = 0;
    for (size_t i = 0; i < n; i++) {
        struct standin_request q;
        assert_true(standin_get(api, "/sink", i, &q));
        hooked += strstr(q.body, "evt_hooked") != NULL;
        missed += strstr(q.body, "evt_missed") != NULL;
        old += strstr(q.body, "evt_old") != NULL;
        if (strstr(q.body, "evt_missed"))
            assert_non_null(strstr(q.body, "\"via\": \"poll\""));
        standin_request_free(&q);
    }
    printf("sink: evt_hooked %d, evt_missed %d, evt_old %d\n", hooked, missed, old);
    assert_int_equal(hooked, 1);
    assert_int_equal(missed, 1);
    assert_int_equal(old, 0);
    /* one event row per Stripe event, all under the shared source */
    assert_int_equal(sbp_sql_int(&p, "SELECT count(*) FROM events WHERE source = 'stripe'"), 3);
    assert_int_equal(sbp_stop(&p, 15), 0);
    sbp_cleanup(&p);
    standin_stop(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_up_runs_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
