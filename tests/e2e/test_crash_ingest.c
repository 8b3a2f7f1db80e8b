/*
 * Crash safety of ingest: while client threads post webhooks with unique
 * ids, the engine is killed with SIGKILL several times and restarted on the
 * same store and port. Every id that was answered 2xx must be in the store
 * exactly once, with its run; no id may be stored twice. A request whose
 * connection failed or got no answer is retried after a short pause, as a
 * provider would.
 *
 * SB_CRASH_SEED=N replays the kill timings of an earlier run (the seed is
 * printed).
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testkit.h"

#define N_EVENTS 2000
#define N_CLIENTS 8
#define N_KILLS 5
#define KILL_MIN_MS 100
#define KILL_MAX_MS 400
#define CLIENT_DEADLINE_MS 60000
#define RETRY_PAUSE_MS 30
/* while the kills go on, each client posts at most one event per PACE_MS,
 * so that the load outlasts them (unpaced, 2,000 events take well under a
 * second on loopback); after the last kill the rest goes at full speed */
#define PACE_MS 10

/*
 * Regression: `level = debug` is a plain (non-template) step parameter. The
 * engine used to hand every run the workflow's own json_object for it
 * (json_object_get/put from concurrent workers), and json-c's reference
 * count is not atomic in Debian's build, so the value was freed while in use
 * and the engine died with SIGSEGV in log.write in about one run of three
 * (or leaked it, under ASan). Each call now gets its own copies
 * (call_params_copy in core/call.c). The parameter stays here so that this
 * test keeps the engine honest under concurrent load.
 */
static const char workflow[] = "[trigger]\n"
                               "use = http.webhook\n"
                               "path = crash\n"
                               "verify = none\n"
                               "id_path = id\n"
                               "\n"
                               "[step log]\n"
                               "use = log.write\n"
                               "level = debug\n"
                               "message = got {{ trigger.id }}\n";

struct load {
    char url[128];   /* fixed: restarts keep the port */
    atomic_int next; /* the next event number to post */
    atomic_bool acked[N_EVENTS];
    atomic_long requests;   /* every attempt */
    atomic_long retries;    /* attempts repeated after no answer or a 503 */
    atomic_long unexpected; /* answers that are neither 2xx nor retried */
    atomic_long duplicates; /* stored before a kill, answered after it */
    atomic_bool pacing;
    _Atomic int64_t deadline_ms; /* clients give up then */
    atomic_int clients_done;
};

static struct sb_proc p;

static int cleanup(void **state)
{
    (void)state;
    sbp_cleanup(&p);
    return 0;
}

/* The end of the engine's log, for a failure that needs it. */
static void print_log_tail(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static char text[8192];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof(text) - 1 ? size - (long)sizeof(text) + 1 : 0, SEEK_SET);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- end of %s ----\n%s---- end of log ----\n", path, text);
}

static void event_id(int i, char *out, size_t len)
{
    snprintf(out, len, "crash-%05d", i);
}

/* A client: takes the next event number until all are posted; retries
 * one event until it is answered. */
static void *client(void *arg)
{
    struct load *l = arg;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    int i;
    while ((i = atomic_fetch_add(&l->next, 1)) < N_EVENTS) {
        char id[32], body[128];
        event_id(i, id, sizeof(id));
        snprintf(body, sizeof(body), "{\"id\": \"%s\", \"n\": %d}", id, i);
        while (testkit_now_ms() < atomic_load(&l->deadline_ms)) {
            struct http_reply r;
            http_do("POST", l->url, headers, body, strlen(body), 5000, &r);
            atomic_fetch_add(&l->requests, 1);
            long status = r.status;
            if (status >= 200 && status < 300) {
                atomic_store(&l->acked[i], true);
                if (strstr(r.body, "\"duplicate\""))
                    atomic_fetch_add(&l->duplicates, 1);
            } else if (status != 0 && status != 503) {
                fprintf(stderr, "crash_ingest: %s answered %ld: %s\n", id, status, r.body);
                atomic_fetch_add(&l->unexpected, 1);
            }
            http_reply_free(&r);
            if (status != 0 && status != 503)
                break;
            atomic_fetch_add(&l->retries, 1);
            testkit_sleep_ms(RETRY_PAUSE_MS);
        }
        if (atomic_load(&l->pacing))
            testkit_sleep_ms(PACE_MS);
    }
    atomic_fetch_add(&l->clients_done, 1);
    return NULL;
}

/* Whether the engine died by itself (its status in *status). The test reaps
 * it here, so the sb_proc is marked stopped. */
static bool engine_died(int *status)
{
    if (!p.pid || waitpid(p.pid, status, WNOHANG) != p.pid)
        return false;
    p.pid = 0;
    return true;
}

static void acknowledged_events_survive_sigkill(void **state)
{
    (void)state;
    assert_int_equal(sbp_init(&p, NULL), 0);
    assert_int_equal(sbp_write_workflow(&p, "crash", workflow), 0);
    assert_int_equal(sbp_start(&p, NULL), 0);
    int port = p.port;

    const char *seed_env = getenv("SB_CRASH_SEED");
    unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10)
                             : (unsigned)(testkit_now_ms() ^ (int64_t)getpid());
    printf("crash_ingest: seed %u (SB_CRASH_SEED=%u repeats the kill timings)\n", seed, seed);
    fflush(stdout);

    static struct load l; /* large: not on the stack */
    memset(&l, 0, sizeof(l));
    snprintf(l.url, sizeof(l.url), "%s/hooks/crash", p.base_url);
    atomic_init(&l.next, 0);
    for (int i = 0; i < N_EVENTS; i++)
        atomic_init(&l.acked[i], false);
    atomic_init(&l.requests, 0);
    atomic_init(&l.retries, 0);
    atomic_init(&l.unexpected, 0);
    atomic_init(&l.duplicates, 0);
    atomic_init(&l.pacing, true);
    int64_t t0 = testkit_now_ms();
    atomic_init(&l.deadline_ms, t0 + CLIENT_DEADLINE_MS);
    atomic_init(&l.clients_done, 0);

    pthread_t threads[N_CLIENTS];
    for (int t = 0; t < N_CLIENTS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, client, &l), 0);

    int kills = 0, kills_under_load = 0;
    for (int k = 0; k < N_KILLS; k++) {
        testkit_sleep_ms(KILL_MIN_MS + rand_r(&seed) % (KILL_MAX_MS - KILL_MIN_MS + 1));
        kills_under_load += atomic_load(&l.next) < N_EVENTS;
        int status = sbp_stop(&p, SIGKILL);
        if (status != 128 + SIGKILL) {
            /* it had exited before the kill: see the report in the log */
            print_log_tail(p.log_path);
            fail_msg("the engine exited by itself (status %d) before kill %d", status, k + 1);
        }
        kills++;
        assert_int_equal(sbp_start(&p, NULL), 0);
        assert_int_equal(p.port, port);
    }
    atomic_store(&l.pacing, false);
    /* the clients finish; the engine must stay up meanwhile */
    int died = 0;
    while (atomic_load(&l.clients_done) < N_CLIENTS) {
        if (engine_died(&died)) {
            atomic_store(&l.deadline_ms, 0); /* let the clients go */
            break;
        }
        testkit_sleep_ms(20);
    }
    for (int t = 0; t < N_CLIENTS; t++)
        pthread_join(threads[t], NULL);
    if (!p.pid) {
        print_log_tail(p.log_path);
        fail_msg("the engine exited by itself (status %d) after the last restart",
                 WIFEXITED(died) ? WEXITSTATUS(died) : 128 + WTERMSIG(died));
    }
    int64_t posted_ms = testkit_now_ms() - t0;

    int acked = 0;
    for (int i = 0; i < N_EVENTS; i++)
        acked += atomic_load(&l.acked[i]);
    printf("crash_ingest: %d of %d events acknowledged in %lld ms; %d kills (%d while posting), "
           "%ld requests, %ld retried, %ld of them answered as duplicates (stored before a kill)\n",
           acked, N_EVENTS, (long long)posted_ms, kills, kills_under_load, atomic_load(&l.requests),
           atomic_load(&l.retries), atomic_load(&l.duplicates));
    fflush(stdout);

    /* every acknowledged id exactly once */
    int missing = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        if (!atomic_load(&l.acked[i]))
            continue;
        char id[32], q[128];
        event_id(i, id, sizeof(id));
        snprintf(q, sizeof(q), "SELECT count(*) FROM events WHERE event_id = '%s'", id);
        int64_t n = sbp_sql_int(&p, q);
        if (n != 1) {
            fprintf(stderr, "crash_ingest: acknowledged %s is stored %lld time(s)\n", id,
                    (long long)n);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_int_equal(sbp_sql_int(&p, "SELECT count(*) FROM (SELECT event_id FROM events "
                                     "GROUP BY source, event_id HAVING count(*) > 1)"),
                     0);
    /* the event and its run were committed together */
    assert_int_equal(sbp_sql_int(&p, "SELECT count(*) FROM events e "
                                     "WHERE (SELECT count(*) FROM runs WHERE event = e.id) != 1"),
                     0);
    /* nothing else was stored, and every client got through in the end */
    int64_t stored = sbp_sql_int(&p, "SELECT count(*) FROM events");
    assert_true(stored >= acked && stored <= N_EVENTS);
    assert_int_equal(atomic_load(&l.unexpected), 0);
    assert_int_equal(acked, N_EVENTS);
    if (kills_under_load < kills)
        printf("crash_ingest: note: the clients finished before %d of the kills\n",
               kills - kills_under_load);

    /* after all that, a clean stop */
    int status = sbp_stop(&p, SIGTERM);
    if (status != 0) {
        print_log_tail(p.log_path);
        fail_msg("SIGTERM after the test: exit status %d, expected 0", status);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(acknowledged_events_survive_sigkill, cleanup),
    };
    return cmocka_run_group_tests_name("e2e.crash_ingest", tests, NULL, NULL);
}
