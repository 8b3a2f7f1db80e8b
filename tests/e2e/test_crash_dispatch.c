/* Crash safety of execution: while 2,000 events flow through a workflow to
 * a stand-in sink, the engine is killed with SIGKILL several times and
 * restarted on the same store. Every acknowledged event must reach the sink
 * at least once, and each kill may repeat at most one call (the one step in
 * progress: one worker here, so at most one step is in flight). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "standin.h"
#include "testkit.h"

#define EVENTS 2000
#define CLIENTS 8
#define KILLS 5

static struct sb_proc proc;
static struct standin *sink;
static atomic_bool acked[EVENTS];
static char hook_url[128]; /* set before the clients start: restarts keep the port */
static atomic_int next_event;
static atomic_int retried;

static void *client_main(void *arg)
{
    (void)arg;
    const char *url = hook_url;
    const char *h[] = {"Content-Type: application/json", NULL};
    int i;
    while ((i = atomic_fetch_add(&next_event, 1)) < EVENTS) {
        char body[64];
        snprintf(body, sizeof(body), "{\"id\": \"evt_%04d\"}", i);
        while (1) {
            struct http_reply r;
            int rc = http_do("POST", url, h, body, strlen(body), 2000, &r);
            long status = r.status;
            http_reply_free(&r);
            if (rc == 0 && status == 200) {
                atomic_store(&acked[i], true);
                break;
            }
            /* the engine is down or went down mid-request: send it again */
            atomic_fetch_add(&retried, 1);
            testkit_sleep_ms(50);
        }
    }
    return NULL;
}

static void test_kill_while_running(void **state)
{
    (void)state;
    assert_int_equal(standin_start(&sink), 0);
    struct standin_reply ok = {200, NULL, "{\"ok\": true}", NULL, 0};
    standin_script(sink, "POST", "/sink", &ok, 1);
    assert_int_equal(sbp_init(&proc, "[engine]\nworkers = 1\n"), 0);
    char wf[512];
    snprintf(wf, sizeof(wf),
             "[workflow]\nretry_backoff = 100ms\n\n"
             "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
             "[step deliver]\nuse = http.request\nmethod = POST\nurl = %s/sink\n"
             "body = {\"id\": \"{{ event.id }}\"}\n",
             standin_url(sink));
    sbp_write_workflow(&proc, "flow", wf);
    assert_int_equal(sbp_start(&proc, NULL), 0);

    snprintf(hook_url, sizeof(hook_url), "%s/hooks/flow", proc.base_url);
    pthread_t clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&clients[i], NULL, client_main, NULL);
    srand(7);
    for (int k = 0; k < KILLS; k++) {
        testkit_sleep_ms(300 + rand() % 500);
        assert_int_equal(sbp_stop(&proc, SIGKILL), 128 + SIGKILL);
        testkit_sleep_ms(50);
        assert_int_equal(sbp_start(&proc, NULL), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(clients[i], NULL);
    int n_acked = 0;
    for (int i = 0; i < EVENTS; i++)
        n_acked += atomic_load(&acked[i]);
    assert_int_equal(n_acked, EVENTS);
    /* every run finishes (after a kill, its lease expires and it is claimed
     * again) */
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM runs WHERE status = 'succeeded'");
    bool all = sbp_wait_sql(&proc, sql, EVENTS, 120000);
    if (!all)
        fprintf(stderr, "succeeded runs: %lld of %d\n", (long long)sbp_sql_int(&proc, sql), EVENTS);
    assert_true(all);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs"), EVENTS);

    /* what reached the sink */
    static int seen[EVENTS];
    size_t calls = standin_count(sink, "/sink");
    for (size_t i = 0; i < calls; i++) {
        struct standin_request req;
        assert_true(standin_get(sink, "/sink", i, &req));
        struct json_object *o = json_tokener_parse(req.body);
        struct json_object *id;
        assert_true(json_object_object_get_ex(o, "id", &id));
        int n = (int)strtol(json_object_get_string(id) + 4, NULL, 10);
        assert_true(n >= 0 && n < EVENTS);
        seen[n]++;
        json_object_put(o);
        standin_request_free(&req);
    }
    int missing = 0, duplicates = 0;
    for (int i = 0; i < EVENTS; i++) {
        if (seen[i] == 0)
            missing++;
        if (seen[i] > 1)
            duplicates += seen[i] - 1;
    }
    printf("acknowledged %d events, %d kills, %d client retries; sink calls %zu, missing %d, "
           "duplicates %d\n",
           n_acked, KILLS, atomic_load(&retried), calls, missing, duplicates);
    assert_int_equal(missing, 0);
    assert_true(duplicates <= KILLS);
    /* a clean stop, and nothing reported by a sanitizer on the way */
    assert_int_equal(sbp_stop(&proc, SIGTERM), 0);
    assert_false(sbp_log_contains(&proc, "WARNING: ThreadSanitizer"));
    assert_false(sbp_log_contains(&proc, "ERROR: AddressSanitizer"));
    sbp_cleanup(&proc);
    standin_stop(sink);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
