/* The store (core/store.h) on its SQLite backend: schema and migrations,
 * appends and duplicates, group commit, claims and leases, checkpoints,
 * retries, replays, trigger state, purge, and durability across reopen.
 * Every test has a fresh database in a folder of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "xalloc.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

struct fixture {
    char dir[64];
    char path[128];
    char url[160];
    struct store *s;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remove_db_files(const struct fixture *f)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[200];
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
}

/* A temporary folder and the URL of a database in it; the store is not
 * opened (tests that need it open call open_store). */
static int fixture_setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sbstoreXXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/sub/store.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    remove_db_files(f);
    char sub[100];
    snprintf(sub, sizeof(sub), "%s/sub", f->dir);
    rmdir(sub);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct store *open_store(struct fixture *f)
{
    char err[512] = "";
    struct store *s = NULL;
    if (store_open(f->url, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    assert_non_null(s);
    f->s = s;
    return s;
}

static void reopen_store(struct fixture *f)
{
    store_close(f->s);
    f->s = NULL;
    open_store(f);
}

/* Append one event with runs for the NULL-terminated workflow names. */
static enum store_result append_at(struct store *s, const char *source, const char *id,
                                   const char *type, int64_t received_at_ms,
                                   const char *const *workflows, int64_t *event_row)
{
    size_t n = 0;
    while (workflows && workflows[n])
        n++;
    char payload[256];
    snprintf(payload, sizeof(payload), "{\"id\": \"%s\", \"n\": 42, \"nested\": {\"x\": [1, 2]}}",
             id ? id : "");
    struct store_append a = {
        .source = source,
        .event_id = id,
        .type = type,
        .received_at_ms = received_at_ms,
        .payload = payload,
        .envelope = "{\"method\": \"POST\", \"path\": \"/hooks/t\"}",
        .workflows = workflows,
        .n_runs = n,
    };
    enum store_result r = store_append(s, &a);
    assert_int_equal(a.result, r);
    if (event_row)
        *event_row = a.event_row;
    return r;
}

static enum store_result append(struct store *s, const char *source, const char *id,
                                const char *const *workflows)
{
    return append_at(s, source, id, "order.created", wall_ms(), workflows, NULL);
}

static int64_t count_events(struct store *s)
{
    struct store_stats st;
    store_get_stats(s, &st);
    return st.events;
}

/* Claim exactly one run as `worker` at `now` with a lease of lease_ms
 * (the test fails otherwise); its id. */
static int64_t claim_one(struct store *s, const char *worker, int64_t now, int64_t lease_ms)
{
    struct claimed_run *runs;
    size_t n;
    assert_int_equal(store_claim(s, worker, now, lease_ms, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    int64_t id = runs[0].id;
    store_claimed_free(runs, n);
    return id;
}

/* The runs matching filter (workflow / status), newest first. */
static size_t list(struct store *s, const char *workflow, const char *status,
                   struct run_summary **out)
{
    struct run_filter f = {.workflow = workflow, .status = status, .limit = 10000};
    size_t n = 0;
    assert_int_equal(store_list_runs(s, &f, out, &n), 0);
    return n;
}

static int64_t only_run_id(struct store *s)
{
    struct run_summary *runs;
    size_t n = list(s, NULL, NULL, &runs);
    assert_int_equal(n, 1);
    int64_t id = runs[0].id;
    store_runs_free(runs, n);
    return id;
}

static const char *run_status(struct store *s, int64_t id, int *attempts)
{
    static char status[32];
    struct json_object *o = store_show_run(s, id);
    assert_non_null(o);
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, "status", &v));
    snprintf(status, sizeof(status), "%s", json_object_get_string(v));
    if (attempts) {
        assert_true(json_object_object_get_ex(o, "attempts", &v));
        *attempts = json_object_get_int(v);
    }
    json_object_put(o);
    return status;
}

/* One SQL value of the database file, read through a connection of our own. */
static char *query_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *out = xstrdup(t ? (const char *)t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Run fn with the log sent to a temporary file; returns what was logged. */
static char *capture_log(void (*fn)(struct fixture *), struct fixture *f)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    log_set_stream(tmp);
    fn(f);
    log_set_stream(NULL);
    fflush(tmp);
    long size = ftell(tmp);
    rewind(tmp);
    char *text = xcalloc(1, (size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, tmp);
    text[got] = '\0';
    fclose(tmp);
    return text;
}

static void do_open(struct fixture *f)
{
    open_store(f);
}

static void do_reopen(struct fixture *f)
{
    reopen_store(f);
}

/* --- schema ------------------------------------------------------------- */

static void test_open_creates_schema(void **state)
{
    struct fixture *f = *state;
    char *log = capture_log(do_open, f);
    /* the folder was created, the schema migrated once to version 1 */
    assert_non_null(strstr(log, "migrated"));
    assert_non_null(strstr(log, "schema version 1"));
    free(log);
    assert_int_equal(access(f->path, F_OK), 0);
    char *v = query_text(f->path, "PRAGMA user_version");
    assert_string_equal(v, "1");
    free(v);
    v = query_text(f->path, "PRAGMA journal_mode");
    assert_string_equal(v, "wal");
    free(v);
    v = query_text(f->path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
                            " WHERE type = 'table' ORDER BY name)");
    assert_string_equal(v, "attempts,events,kv,runs,steps");
    free(v);
    assert_int_equal(store_ping(f->s), 0);
    assert_int_equal(count_events(f->s), 0);
    assert_int_equal(store_next_due(f->s), INT64_MAX);
}

static void test_reopen_does_not_migrate(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"orders", NULL};
    assert_int_equal(append(f->s, "src", "evt_1", wf), STORE_OK);
    char *log = capture_log(do_reopen, f);
    assert_null(strstr(log, "migrated"));
    free(log);
    char *v = query_text(f->path, "PRAGMA user_version");
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(count_events(f->s), 1);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct store *s = (struct store *)(uintptr_t)0x1;
    char err[512] = "";
    assert_int_equal(store_open(f->url, &s, err, sizeof(err)), -1);
    assert_ptr_equal(s, (struct store *)(uintptr_t)0x1); /* not written on failure */
    assert_non_null(strstr(err, "99"));
    assert_non_null(strstr(err, "schema version 99"));
    assert_non_null(strstr(err, "switchboard's 1"));
    assert_non_null(strstr(err, f->path));
    /* and the file was left alone */
    char *v = query_text(f->path, "PRAGMA user_version");
    assert_string_equal(v, "99");
    free(v);
}

static void test_bad_urls(void **state)
{
    (void)state;
    struct store *s = NULL;
    char err[512] = "";
    assert_int_equal(store_open("postgres://localhost/sb", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unsupported store 'postgres://localhost/sb'"));
    assert_null(s);
    err[0] = '\0';
    assert_int_equal(store_open("sqlite:", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no path"));
    assert_null(s);
    /* a file that is not a database */
    char dir[] = "/tmp/sbstorebadXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[100], url[120];
    snprintf(path, sizeof(path), "%s/not.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database, just text. ", fp);
    fclose(fp);
    err[0] = '\0';
    assert_int_equal(store_open(url, &s, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, path));
    unlink(path);
    rmdir(dir);
}

/* --- appends ------------------------------------------------------------ */

static void test_append_stores_event_and_runs(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wfs[] = {"orders", "audit", NULL};
    int64_t row = 0;
    int64_t t0 = wall_ms();
    assert_int_equal(
        append_at(f->s, "stripe.webhook:stripe", "evt_1", "charge.succeeded", t0, wfs, &row),
        STORE_OK);
    assert_true(row > 0);
    int64_t n_runs = -1;
    assert_int_equal(store_event_runs(f->s, "stripe.webhook:stripe", "evt_1", &n_runs), 1);
    assert_int_equal(n_runs, 2);
    /* an unknown event: 0 and n_runs untouched */
    n_runs = -1;
    assert_int_equal(store_event_runs(f->s, "stripe.webhook:stripe", "evt_2", &n_runs), 0);
    assert_int_equal(n_runs, -1);

    struct run_summary *runs;
    size_t n = list(f->s, NULL, NULL, &runs);
    assert_int_equal(n, 2);
    /* newest first: audit was inserted after orders */
    assert_true(runs[0].id > runs[1].id);
    assert_string_equal(runs[0].workflow, "audit");
    assert_string_equal(runs[1].workflow, "orders");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(runs[i].status, RUN_PENDING);
        assert_string_equal(runs[i].event_id, "evt_1");
        assert_string_equal(runs[i].type, "charge.succeeded");
        assert_int_equal(runs[i].attempts, 0);
        assert_null(runs[i].error);
        assert_true(runs[i].created_at_ms >= t0 - 1000 && runs[i].created_at_ms <= wall_ms());
        assert_true(runs[i].next_attempt_at_ms <= wall_ms());
    }
    store_runs_free(runs, n);
    n = list(f->s, "orders", NULL, &runs);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].workflow, "orders");
    store_runs_free(runs, n);
    n = list(f->s, "nothing", NULL, &runs);
    assert_int_equal(n, 0);
    store_runs_free(runs, n);

    /* an event that starts no workflow is still stored */
    assert_int_equal(append(f->s, "stripe.webhook:stripe", "evt_norun", NULL), STORE_OK);
    assert_int_equal(store_event_runs(f->s, "stripe.webhook:stripe", "evt_norun", &n_runs), 1);
    assert_int_equal(n_runs, 0);
    struct store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.runs_by_status[0], 2); /* pending */
}

static void test_list_limit_and_since(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    char id[32];
    for (int i = 0; i < 150; i++) {
        snprintf(id, sizeof(id), "evt_%d", i);
        assert_int_equal(append(f->s, "src", id, wf), STORE_OK);
    }
    struct run_summary *runs;
    size_t n = 0;
    /* limit 0 means 100 */
    assert_int_equal(store_list_runs(f->s, NULL, &runs, &n), 0);
    assert_int_equal(n, 100);
    assert_string_equal(runs[0].event_id, "evt_149");
    store_runs_free(runs, n);
    struct run_filter lim = {.limit = 7};
    assert_int_equal(store_list_runs(f->s, &lim, &runs, &n), 0);
    assert_int_equal(n, 7);
    store_runs_free(runs, n);
    struct run_filter future = {.since_ms = wall_ms() + HOUR_MS};
    assert_int_equal(store_list_runs(f->s, &future, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_runs_free(runs, n);
}

static void test_duplicates(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wfs[] = {"orders", "audit", NULL};
    assert_int_equal(append(f->s, "shopify", "wh_1", wfs), STORE_OK);
    int64_t row = 99;
    assert_int_equal(append_at(f->s, "shopify", "wh_1", "other.type", wall_ms(), wfs, &row),
                     STORE_DUPLICATE);
    assert_int_equal(row, 0);
    /* nothing new: one event, two runs */
    struct store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.runs_by_status[0], 2);
    struct run_summary *runs;
    size_t n = list(f->s, NULL, NULL, &runs);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].type, "order.created"); /* the first one's */
    store_runs_free(runs, n);
    /* the same id from another source is another event */
    assert_int_equal(append(f->s, "stripe", "wh_1", wfs), STORE_OK);
    store_get_stats(f->s, &st);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.runs_by_status[0], 4);
    int64_t n_runs = 0;
    assert_int_equal(store_event_runs(f->s, "stripe", "wh_1", &n_runs), 1);
    assert_int_equal(n_runs, 2);
    assert_int_equal(store_event_runs(f->s, "other", "wh_1", &n_runs), 0);
    /* and ids are compared exactly */
    assert_int_equal(append(f->s, "shopify", "WH_1", wfs), STORE_OK);
    assert_int_equal(append(f->s, "shopify", "wh_1 ", wfs), STORE_OK);
    assert_int_equal(count_events(f->s), 4);
}

struct writer_arg {
    struct store *s;
    int thread;
    int ok;
};

#define N_THREADS 16
#define PER_THREAD 200

static void *writer_thread(void *p)
{
    struct writer_arg *w = p;
    static const char *const wf[] = {"load", NULL};
    for (int i = 0; i < PER_THREAD; i++) {
        char id[48];
        snprintf(id, sizeof(id), "t%d-e%d", w->thread, i);
        struct store_append a = {
            .source = "load",
            .event_id = id,
            .type = "t",
            .received_at_ms = wall_ms(),
            .payload = "{}",
            .envelope = "{}",
            .workflows = wf,
            .n_runs = 1,
        };
        if (store_append(w->s, &a) == STORE_OK && a.event_row > 0)
            w->ok++;
    }
    return NULL;
}

static void test_group_commit(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct store_stats before;
    store_get_stats(f->s, &before);
    pthread_t th[N_THREADS];
    struct writer_arg args[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (struct writer_arg){.s = f->s, .thread = i};
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    assert_int_equal(ok, N_THREADS * PER_THREAD);
    struct store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.events, N_THREADS * PER_THREAD);
    assert_int_equal(st.runs_by_status[0], N_THREADS * PER_THREAD);
    int64_t commits = st.commits - before.commits;
    int64_t writes = st.batched_writes - before.batched_writes;
    print_message("group commit: %lld writes in %lld commits (%.1f writes per commit)\n",
                  (long long)writes, (long long)commits, commits ? (double)writes / commits : 0.0);
    assert_int_equal(writes, N_THREADS * PER_THREAD);
    assert_true(commits > 0);
    assert_true(commits < writes); /* several writes shared a commit */
    assert_int_equal(st.commit_failures, 0);
}

struct async_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
};

static void async_done(struct async_state *as)
{
    pthread_mutex_lock(&as->lock);
    as->done++;
    pthread_cond_broadcast(&as->cond);
    pthread_mutex_unlock(&as->lock);
}

struct async_slot {
    struct store_append a;
    char id[32];
    struct async_state *as;
    atomic_int calls;
    bool wrong_append; /* done got another append than this slot's */
};

/* Runs on the writer thread: no cmocka assertions here. */
static void slot_done(struct store_append *a, void *arg)
{
    struct async_slot *slot = arg;
    if (a != &slot->a)
        slot->wrong_append = true;
    atomic_fetch_add(&slot->calls, 1);
    async_done(slot->as);
}

static void test_append_async(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    struct async_state as = {.done = 0};
    pthread_mutex_init(&as.lock, NULL);
    pthread_cond_init(&as.cond, NULL);
    enum { N = 40 };
    struct async_slot slots[N];
    memset(slots, 0, sizeof(slots));
    for (int i = 0; i < N; i++) {
        struct async_slot *sl = &slots[i];
        /* slot 7 repeats slot 3's id; slot 11 has no id (a failing write) */
        snprintf(sl->id, sizeof(sl->id), "async_%d", i == 7 ? 3 : i);
        sl->as = &as;
        sl->a = (struct store_append){
            .source = "async",
            .event_id = i == 11 ? NULL : sl->id,
            .type = "t",
            .received_at_ms = wall_ms(),
            .payload = "{\"k\": 1}",
            .envelope = "{}",
            .workflows = wf,
            .n_runs = 1,
            .result = (enum store_result)42,
            .done = slot_done,
            .arg = sl,
        };
        assert_int_equal(store_append_async(f->s, &sl->a), 0);
    }
    pthread_mutex_lock(&as.lock);
    while (as.done < N)
        pthread_cond_wait(&as.cond, &as.lock);
    pthread_mutex_unlock(&as.lock);
    /* a moment for a stray second call to show */
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&slots[i].calls), 1);
        assert_false(slots[i].wrong_append);
        if (i == 7)
            assert_int_equal(slots[i].a.result, STORE_DUPLICATE);
        else if (i == 11)
            assert_int_equal(slots[i].a.result, STORE_UNAVAILABLE);
        else
            assert_int_equal(slots[i].a.result, STORE_OK);
    }
    /* the failing write did not undo the others in its batch */
    assert_int_equal(count_events(f->s), N - 2);
    pthread_cond_destroy(&as.cond);
    pthread_mutex_destroy(&as.lock);
}

static void test_close_finishes_queued_writes(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    struct async_state as = {.done = 0};
    pthread_mutex_init(&as.lock, NULL);
    pthread_cond_init(&as.cond, NULL);
    enum { N = 64 };
    struct async_slot *slots = xcalloc(N, sizeof(*slots));
    for (int i = 0; i < N; i++) {
        struct async_slot *sl = &slots[i];
        snprintf(sl->id, sizeof(sl->id), "queued_%d", i);
        sl->as = &as;
        sl->a = (struct store_append){
            .source = "q",
            .event_id = sl->id,
            .type = "t",
            .received_at_ms = wall_ms(),
            .payload = "{}",
            .envelope = "{}",
            .workflows = wf,
            .n_runs = 1,
            .done = slot_done,
            .arg = sl,
        };
        assert_int_equal(store_append_async(f->s, &sl->a), 0);
    }
    store_close(f->s);
    f->s = NULL;
    /* every callback ran before close returned */
    assert_int_equal(as.done, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&slots[i].calls), 1);
        assert_false(slots[i].wrong_append);
        assert_int_equal(slots[i].a.result, STORE_OK);
    }
    open_store(f);
    assert_int_equal(count_events(f->s), N);
    free(slots);
    pthread_cond_destroy(&as.cond);
    pthread_mutex_destroy(&as.lock);
}

/* --- claims and leases ---------------------------------------------------- */

static void test_claim_due_and_leases(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    assert_int_equal(append(f->s, "src", "e1", wf), STORE_OK);
    assert_int_equal(append(f->s, "src", "e2", wf), STORE_OK);
    assert_int_equal(append(f->s, "src", "e3", wf), STORE_OK);
    struct claimed_run *runs = NULL;
    size_t n = 99;
    /* nothing is due before the runs were made */
    assert_int_equal(store_claim(f->s, "w1", wall_ms() - HOUR_MS, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);

    int64_t now = wall_ms() + 1000;
    /* max is respected, oldest first */
    assert_int_equal(store_claim(f->s, "w1", now, 60000, 2, &runs, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].event_id, "e1");
    assert_string_equal(runs[1].event_id, "e2");
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(runs[i].attempts, 1);
        assert_int_equal(runs[i].budget_base, 0);
        assert_int_equal(runs[i].next_step, 0);
        assert_int_equal(runs[i].n_steps, 0);
        assert_string_equal(runs[i].workflow, "w");
        assert_string_equal(runs[i].source, "src");
        assert_string_equal(runs[i].type, "order.created");
        assert_true(runs[i].event_row > 0);
        /* the payload and envelope come back parsed */
        struct json_object *v;
        assert_true(json_object_object_get_ex(runs[i].payload, "n", &v));
        assert_int_equal(json_object_get_int(v), 42);
        assert_true(json_object_object_get_ex(runs[i].envelope, "method", &v));
        assert_string_equal(json_object_get_string(v), "POST");
    }
    int64_t first_id = runs[0].id;
    store_claimed_free(runs, n);
    /* the third, then nothing: leased runs are not claimed again */
    assert_int_equal(store_claim(f->s, "w2", now, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].event_id, "e3");
    store_claimed_free(runs, n);
    assert_int_equal(store_claim(f->s, "w2", now + 59999, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);
    assert_string_equal(run_status(f->s, first_id, NULL), RUN_RUNNING);
    /* the earliest lease ends at now + 60000 */
    assert_int_equal(store_next_due(f->s), now + 60000);
    /* past the lease: claimable again, one more attempt */
    assert_int_equal(store_claim(f->s, "w3", now + 60000, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(runs[i].attempts, 2);
    store_claimed_free(runs, n);
    /* max 0 claims nothing */
    assert_int_equal(store_claim(f->s, "w3", now + 10 * HOUR_MS, 60000, 0, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);
}

static void test_extend_and_release_leases(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    assert_int_equal(append(f->s, "src", "e1", wf), STORE_OK);
    assert_int_equal(append(f->s, "src", "e2", wf), STORE_OK);
    int64_t now = wall_ms() + 1000;
    struct claimed_run *runs;
    size_t n;
    int64_t id1 = claim_one(f->s, "w1", now, 1000);
    int64_t id2 = claim_one(f->s, "w2", now, 1000);
    /* w1 extends its lease; w2 cannot extend w1's */
    int64_t ids[] = {id1, id2};
    assert_int_equal(store_extend_leases(f->s, "w1", ids, 2, now + HOUR_MS), 0);
    assert_int_equal(store_claim(f->s, "w3", now + 5000, 1000, 10, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].id, id2); /* only the one not extended expired */
    store_claimed_free(runs, n);
    /* now w3 holds id2 until now + 6000, w1 holds id1 for an hour */
    assert_int_equal(store_release_leases(f->s, "nobody"), 0);
    assert_int_equal(store_claim(f->s, "w4", now + 5000, 1000, 10, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);
    /* releasing w1 makes its run claimable at once */
    assert_int_equal(store_release_leases(f->s, "w1"), 0);
    assert_int_equal(store_claim(f->s, "w4", now + 5000, 1000, 10, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].id, id1);
    assert_int_equal(runs[0].attempts, 2);
    store_claimed_free(runs, n);
}

static void test_steps_move_resume_point(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    assert_int_equal(append(f->s, "src", "e1", wf), STORE_OK);
    int64_t now = wall_ms() + 1000;
    struct claimed_run *runs;
    size_t n;
    int64_t id = claim_one(f->s, "w1", now, 1000);
    struct step_record r0 = {
        .run_id = id,
        .idx = 0,
        .name = "first",
        .status = "succeeded",
        .attempt = 1,
        .output = "{\"ts\": \"1503435956.000247\", \"n\": 7}",
        .started_at_ms = now,
        .finished_at_ms = now + 10,
        .next_step = 1,
    };
    assert_int_equal(store_step(f->s, &r0), 0);
    struct step_record r1 = {
        .run_id = id,
        .idx = 1,
        .name = "second",
        .status = "failed",
        .attempt = 1,
        .output = "[1, 2, 3]",
        .error = "HTTP 404",
        .started_at_ms = now + 20,
        .finished_at_ms = now + 30,
        .next_step = 2, /* continued past a failure */
    };
    assert_int_equal(store_step(f->s, &r1), 0);
    /* a retryable failure of the third step: checkpointed, resume point kept */
    struct step_record r2 = {
        .run_id = id,
        .idx = 2,
        .name = "third",
        .status = "retry",
        .attempt = 1,
        .error = "HTTP 503",
        .started_at_ms = now + 40,
        .finished_at_ms = now + 50,
        .next_step = -1,
    };
    assert_int_equal(store_step(f->s, &r2), 0);
    /* the lease expires (the worker died): the next claim resumes at step 2 */
    assert_int_equal(store_claim(f->s, "w2", now + 1000, 1000, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].next_step, 2);
    assert_int_equal(runs[0].attempts, 2);
    assert_int_equal(runs[0].n_steps, 2); /* only the steps before the resume point */
    assert_int_equal(runs[0].steps[0].idx, 0);
    assert_string_equal(runs[0].steps[0].name, "first");
    assert_string_equal(runs[0].steps[0].status, "succeeded");
    struct json_object *v;
    assert_true(json_object_object_get_ex(runs[0].steps[0].output, "ts", &v));
    assert_string_equal(json_object_get_string(v), "1503435956.000247");
    assert_true(json_object_object_get_ex(runs[0].steps[0].output, "n", &v));
    assert_int_equal(json_object_get_int(v), 7);
    assert_int_equal(runs[0].steps[1].idx, 1);
    assert_string_equal(runs[0].steps[1].name, "second");
    assert_string_equal(runs[0].steps[1].status, "failed");
    assert_true(json_object_is_type(runs[0].steps[1].output, json_type_array));
    assert_int_equal(json_object_array_length(runs[0].steps[1].output), 3);
    store_claimed_free(runs, n);

    /* the retried third step succeeds: the step row is updated, attempts grow */
    struct step_record r2b = r2;
    r2b.status = "succeeded";
    r2b.attempt = 2;
    r2b.error = NULL;
    r2b.output = NULL;
    r2b.next_step = 3;
    assert_int_equal(store_step(f->s, &r2b), 0);
    struct json_object *show = store_show_run(f->s, id);
    assert_non_null(show);
    struct json_object *steps, *log;
    assert_true(json_object_object_get_ex(show, "steps", &steps));
    assert_int_equal(json_object_array_length(steps), 3);
    struct json_object *third = json_object_array_get_idx(steps, 2);
    assert_true(json_object_object_get_ex(third, "status", &v));
    assert_string_equal(json_object_get_string(v), "succeeded");
    assert_true(json_object_object_get_ex(third, "attempts", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(third, "output", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(show, "next_step", &v));
    assert_int_equal(json_object_get_int(v), 3);
    /* every attempt is in the log, in order */
    assert_true(json_object_object_get_ex(show, "attempts_log", &log));
    assert_int_equal(json_object_array_length(log), 4);
    struct json_object *a2 = json_object_array_get_idx(log, 2);
    assert_true(json_object_object_get_ex(a2, "status", &v));
    assert_string_equal(json_object_get_string(v), "retry");
    assert_true(json_object_object_get_ex(a2, "error", &v));
    assert_string_equal(json_object_get_string(v), "HTTP 503");
    assert_true(json_object_object_get_ex(a2, "step", &v));
    assert_string_equal(json_object_get_string(v), "third");
    json_object_put(show);
}

static void test_update_run_and_next_due(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    assert_int_equal(append(f->s, "src", "e1", wf), STORE_OK);
    int64_t id = only_run_id(f->s);
    int64_t now = wall_ms() + 1000;
    assert_true(store_next_due(f->s) <= wall_ms());
    struct claimed_run *runs;
    size_t n;
    assert_int_equal(store_claim(f->s, "w1", now, 60000, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    store_claimed_free(runs, n);
    /* failed, next attempt in an hour */
    struct run_update u = {
        .run_id = id,
        .status = RUN_FAILED,
        .next_step = 1,
        .next_attempt_at_ms = now + HOUR_MS,
        .error = "HTTP 503 from api.example.com",
    };
    assert_int_equal(store_update_run(f->s, &u), 0);
    int attempts = 0;
    assert_string_equal(run_status(f->s, id, &attempts), RUN_FAILED);
    assert_int_equal(attempts, 1);
    assert_int_equal(store_next_due(f->s), now + HOUR_MS);
    struct run_summary *list_out;
    n = list(f->s, NULL, RUN_FAILED, &list_out);
    assert_int_equal(n, 1);
    assert_string_equal(list_out[0].error, "HTTP 503 from api.example.com");
    assert_int_equal(list_out[0].next_attempt_at_ms, now + HOUR_MS);
    store_runs_free(list_out, n);
    /* not claimable before its time (the lease was cleared too) */
    assert_int_equal(store_claim(f->s, "w1", now + HOUR_MS - 1, 60000, 1, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);
    assert_int_equal(store_claim(f->s, "w1", now + HOUR_MS, 60000, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].attempts, 2);
    assert_int_equal(runs[0].next_step, 1);
    store_claimed_free(runs, n);

    /* deferred by a limit: the attempt is given back */
    struct run_update defer = {
        .run_id = id,
        .status = RUN_PENDING,
        .next_step = 1,
        .next_attempt_at_ms = now + HOUR_MS + 500,
        .undo_attempt = true,
    };
    assert_int_equal(store_update_run(f->s, &defer), 0);
    assert_string_equal(run_status(f->s, id, &attempts), RUN_PENDING);
    assert_int_equal(attempts, 1);
    assert_int_equal(store_next_due(f->s), now + HOUR_MS + 500);
    assert_int_equal(store_claim(f->s, "w1", now + HOUR_MS + 500, 60000, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].attempts, 2);
    store_claimed_free(runs, n);

    /* succeeded: finished, never claimed again, nothing due */
    struct run_update done = {
        .run_id = id,
        .status = RUN_SUCCEEDED,
        .next_step = 3,
        .finished_at_ms = now + HOUR_MS + 600,
    };
    assert_int_equal(store_update_run(f->s, &done), 0);
    assert_string_equal(run_status(f->s, id, &attempts), RUN_SUCCEEDED);
    assert_int_equal(attempts, 2);
    assert_int_equal(store_next_due(f->s), INT64_MAX);
    assert_int_equal(store_claim(f->s, "w1", now + 100 * DAY_MS, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 0);
    store_claimed_free(runs, n);
    struct json_object *show = store_show_run(f->s, id);
    struct json_object *v;
    assert_true(json_object_object_get_ex(show, "finished_at", &v));
    assert_int_equal(json_object_get_int64(v), now + HOUR_MS + 600);
    assert_true(json_object_object_get_ex(show, "error", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(show, "lease_owner", &v));
    assert_null(v);
    json_object_put(show);

    /* skipped, with the filter's reason */
    assert_int_equal(append(f->s, "src", "e2", wf), STORE_OK);
    n = list(f->s, NULL, RUN_PENDING, &list_out);
    assert_int_equal(n, 1);
    int64_t id2 = list_out[0].id;
    store_runs_free(list_out, n);
    struct run_update skip = {
        .run_id = id2,
        .status = RUN_SKIPPED,
        .reason = "filter: amount > 100 is false",
        .finished_at_ms = wall_ms(),
    };
    assert_int_equal(store_update_run(f->s, &skip), 0);
    show = store_show_run(f->s, id2);
    assert_true(json_object_object_get_ex(show, "reason", &v));
    assert_string_equal(json_object_get_string(v), "filter: amount > 100 is false");
    json_object_put(show);
    struct store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.runs_by_status[2], 1); /* succeeded */
    assert_int_equal(st.runs_by_status[5], 1); /* skipped */
    assert_int_equal(st.runs_by_status[0], 0);
}

/* Claim every due run and mark it dead (after `attempts` attempts each). */
static size_t kill_all(struct store *s, int attempts)
{
    size_t total = 0;
    for (int k = 0; k < attempts; k++) {
        struct claimed_run *runs;
        size_t n;
        assert_int_equal(store_claim(s, "w", wall_ms() + 1000, 1, 1000, &runs, &n), 0);
        for (size_t i = 0; i < n; i++) {
            struct run_update u = {
                .run_id = runs[i].id,
                .status = k == attempts - 1 ? RUN_DEAD : RUN_FAILED,
                .next_step = 0,
                .next_attempt_at_ms = wall_ms(),
                .error = "gave up",
                .finished_at_ms = k == attempts - 1 ? wall_ms() : 0,
            };
            assert_int_equal(store_update_run(s, &u), 0);
        }
        store_claimed_free(runs, n);
        total = n;
    }
    return total;
}

static void test_replay_one(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    assert_int_equal(append(f->s, "src", "e1", wf), STORE_OK);
    int64_t id = only_run_id(f->s);
    assert_int_equal(kill_all(f->s, 3), 1);
    int attempts = 0;
    assert_string_equal(run_status(f->s, id, &attempts), RUN_DEAD);
    assert_int_equal(attempts, 3);
    struct claimed_run *runs;
    size_t n;
    assert_int_equal(store_claim(f->s, "w", wall_ms() + DAY_MS, 1000, 10, &runs, &n), 0);
    assert_int_equal(n, 0); /* dead runs are not claimed */
    store_claimed_free(runs, n);
    assert_int_equal(store_next_due(f->s), INT64_MAX);

    size_t count = 99;
    int64_t now = wall_ms();
    assert_int_equal(store_replay(f->s, id, NULL, now, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(run_status(f->s, id, NULL), RUN_PENDING);
    assert_int_equal(store_next_due(f->s), now);
    struct json_object *show = store_show_run(f->s, id);
    struct json_object *v;
    assert_true(json_object_object_get_ex(show, "error", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(show, "finished_at", &v));
    assert_null(v);
    json_object_put(show);
    assert_int_equal(store_claim(f->s, "w", now, 1000, 10, &runs, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].budget_base, 3); /* the attempts before the replay */
    assert_int_equal(runs[0].attempts, 4);
    store_claimed_free(runs, n);
    /* a running (or pending, or succeeded) run is not replayed */
    assert_int_equal(store_replay(f->s, id, NULL, now, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_replay(f->s, id + 1000, NULL, now, &count), 0);
    assert_int_equal(count, 0);
}

static void test_replay_many_filtered(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const a[] = {"alpha", NULL}, *const b[] = {"beta", NULL};
    char id[32];
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "a%d", i);
        assert_int_equal(append(f->s, "src", id, a), STORE_OK);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(id, sizeof(id), "b%d", i);
        assert_int_equal(append(f->s, "src", id, b), STORE_OK);
    }
    assert_int_equal(kill_all(f->s, 1), 5);
    struct run_summary *runs;
    size_t n = list(f->s, NULL, RUN_DEAD, &runs);
    assert_int_equal(n, 5);
    store_runs_free(runs, n);

    struct run_filter only_alpha = {.workflow = "alpha"};
    size_t count = 0;
    assert_int_equal(store_replay(f->s, 0, &only_alpha, wall_ms(), &count), 0);
    assert_int_equal(count, 3);
    n = list(f->s, "alpha", RUN_PENDING, &runs);
    assert_int_equal(n, 3);
    store_runs_free(runs, n);
    n = list(f->s, "beta", RUN_DEAD, &runs);
    assert_int_equal(n, 2);
    store_runs_free(runs, n);
    /* a filter on status "failed" leaves dead runs alone */
    struct run_filter only_failed = {.status = RUN_FAILED};
    assert_int_equal(store_replay(f->s, 0, &only_failed, wall_ms(), &count), 0);
    assert_int_equal(count, 0);
    /* a since later than every update matches nothing */
    struct run_filter later = {.since_ms = wall_ms() + HOUR_MS};
    assert_int_equal(store_replay(f->s, 0, &later, wall_ms(), &count), 0);
    assert_int_equal(count, 0);
    /* no filter: the rest */
    assert_int_equal(store_replay(f->s, 0, NULL, wall_ms(), &count), 0);
    assert_int_equal(count, 2);
    n = list(f->s, NULL, RUN_PENDING, &runs);
    assert_int_equal(n, 5);
    store_runs_free(runs, n);
}

/* --- trigger state ---------------------------------------------------------- */

static void test_kv(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    char *value = (char *)(uintptr_t)0x1;
    assert_int_equal(store_kv_get(f->s, "poll:wf", "cursor", &value), 0);
    assert_null(value);
    assert_int_equal(store_kv_set(f->s, "poll:wf", "cursor", "page-1"), 0);
    assert_int_equal(store_kv_get(f->s, "poll:wf", "cursor", &value), 0);
    assert_string_equal(value, "page-1");
    free(value);
    assert_int_equal(store_kv_set(f->s, "poll:wf", "cursor", "page-2"), 0);
    assert_int_equal(store_kv_get(f->s, "poll:wf", "cursor", &value), 0);
    assert_string_equal(value, "page-2");
    free(value);
    /* scopes are separate */
    assert_int_equal(store_kv_get(f->s, "poll:other", "cursor", &value), 0);
    assert_null(value);
    assert_int_equal(store_kv_set(f->s, "poll:other", "cursor", "x"), 0);
    assert_int_equal(store_kv_get(f->s, "poll:wf", "cursor", &value), 0);
    assert_string_equal(value, "page-2");
    free(value);
    /* an empty value is a value */
    assert_int_equal(store_kv_set(f->s, "poll:wf", "empty", ""), 0);
    assert_int_equal(store_kv_get(f->s, "poll:wf", "empty", &value), 0);
    assert_non_null(value);
    assert_string_equal(value, "");
    free(value);
}

/* --- purge ------------------------------------------------------------------ */

static int64_t run_of(struct store *s, const char *event_id)
{
    struct run_summary *runs;
    size_t n = list(s, NULL, NULL, &runs);
    int64_t id = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(runs[i].event_id, event_id) == 0)
            id = runs[i].id;
    store_runs_free(runs, n);
    assert_true(id > 0);
    return id;
}

static void finish(struct store *s, int64_t id, const char *status, int64_t at)
{
    struct run_update u = {.run_id = id, .status = status, .finished_at_ms = at};
    assert_int_equal(store_update_run(s, &u), 0);
}

static void test_purge(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    int64_t now = wall_ms();
    int64_t old = now - 30 * DAY_MS;
    int64_t cutoff = now - 7 * DAY_MS;
    assert_int_equal(append_at(f->s, "s", "old_done", "t", old, wf, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "old_dead", "t", old, wf, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "old_skipped", "t", old, wf, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "old_pending", "t", old, wf, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "old_failed", "t", old, wf, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "old_norun", "t", old, NULL, NULL), STORE_OK);
    assert_int_equal(append_at(f->s, "s", "recent_done", "t", now, wf, NULL), STORE_OK);
    /* an old event replayed lately: its run finished after the cutoff */
    assert_int_equal(append_at(f->s, "s", "old_replayed", "t", old, wf, NULL), STORE_OK);
    /* an old event with two runs: one finished long ago, one still pending */
    static const char *const two[] = {"w", "slow", NULL};
    assert_int_equal(append_at(f->s, "s", "old_mixed", "t", old, two, NULL), STORE_OK);
    finish(f->s, run_of(f->s, "old_replayed"), RUN_SUCCEEDED, now);
    struct run_summary *mixed;
    size_t n_mixed = list(f->s, "w", NULL, &mixed);
    for (size_t i = 0; i < n_mixed; i++)
        if (strcmp(mixed[i].event_id, "old_mixed") == 0)
            finish(f->s, mixed[i].id, RUN_SUCCEEDED, old + 1000);
    store_runs_free(mixed, n_mixed);
    finish(f->s, run_of(f->s, "old_done"), RUN_SUCCEEDED, old + 1000);
    finish(f->s, run_of(f->s, "old_dead"), RUN_DEAD, old + 1000);
    finish(f->s, run_of(f->s, "old_skipped"), RUN_SKIPPED, old + 1000);
    finish(f->s, run_of(f->s, "recent_done"), RUN_SUCCEEDED, now);
    int64_t failed_id = run_of(f->s, "old_failed");
    struct run_update fu = {
        .run_id = failed_id, .status = RUN_FAILED, .next_attempt_at_ms = now + HOUR_MS};
    assert_int_equal(store_update_run(f->s, &fu), 0);
    int64_t done_id = run_of(f->s, "old_done");
    struct step_record r = {.run_id = done_id,
                            .idx = 0,
                            .name = "s",
                            .status = "succeeded",
                            .attempt = 1,
                            .output = "{}",
                            .next_step = 1};
    assert_int_equal(store_step(f->s, &r), 0);

    size_t purged = 99;
    assert_int_equal(store_purge(f->s, cutoff, &purged), 0);
    assert_int_equal(purged, 4); /* done, dead, skipped, and the one without runs */
    int64_t n_runs;
    assert_int_equal(store_event_runs(f->s, "s", "old_done", &n_runs), 0);
    assert_int_equal(store_event_runs(f->s, "s", "old_dead", &n_runs), 0);
    assert_int_equal(store_event_runs(f->s, "s", "old_skipped", &n_runs), 0);
    assert_int_equal(store_event_runs(f->s, "s", "old_norun", &n_runs), 0);
    assert_null(store_show_run(f->s, done_id)); /* the run and its steps */
    /* pending and failed runs keep their old events; recent ones stay */
    assert_int_equal(store_event_runs(f->s, "s", "old_pending", &n_runs), 1);
    assert_int_equal(n_runs, 1);
    assert_int_equal(store_event_runs(f->s, "s", "old_failed", &n_runs), 1);
    assert_int_equal(n_runs, 1);
    assert_int_equal(store_event_runs(f->s, "s", "recent_done", &n_runs), 1);
    assert_int_equal(n_runs, 1);
    assert_int_equal(store_event_runs(f->s, "s", "old_replayed", &n_runs), 1);
    assert_int_equal(n_runs, 1);
    /* the finished run of the mixed event went, the pending one and the event stay */
    assert_int_equal(store_event_runs(f->s, "s", "old_mixed", &n_runs), 1);
    assert_int_equal(n_runs, 1);
    struct run_summary *left;
    size_t n_left = list(f->s, NULL, NULL, &left);
    bool slow_left = false;
    for (size_t i = 0; i < n_left; i++)
        slow_left |= strcmp(left[i].event_id, "old_mixed") == 0 &&
                     strcmp(left[i].workflow, "slow") == 0 &&
                     strcmp(left[i].status, RUN_PENDING) == 0;
    store_runs_free(left, n_left);
    assert_true(slow_left);
    assert_int_equal(count_events(f->s), 5);
    /* nothing more to purge: 0 */
    assert_int_equal(store_purge(f->s, cutoff, &purged), 0);
    assert_int_equal(purged, 0);
    /* the step rows of the purged run went with it */
    char *v = NULL;
    store_close(f->s);
    f->s = NULL;
    v = query_text(f->path, "SELECT count(*) FROM steps");
    assert_string_equal(v, "0");
    free(v);
    v = query_text(f->path, "SELECT count(*) FROM attempts");
    assert_string_equal(v, "0");
    free(v);
}

/* More finished runs than one purge statement deletes at a time. */
static void test_purge_many(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"w", NULL};
    int64_t old = wall_ms() - 30 * DAY_MS;
    enum { N = 1500 };
    /* static, so that the failing assertion below leaks nothing */
    static struct store_append as[N];
    static char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p%d", i);
        as[i] = (struct store_append){.source = "s",
                                      .event_id = ids[i],
                                      .type = "t",
                                      .received_at_ms = old,
                                      .payload = "{}",
                                      .envelope = "{}",
                                      .workflows = wf,
                                      .n_runs = 1};
        assert_int_equal(store_append(f->s, &as[i]), STORE_OK);
    }
    struct claimed_run *runs;
    size_t n;
    size_t finished = 0;
    while (finished < N) {
        assert_int_equal(store_claim(f->s, "w", wall_ms() + 1000, HOUR_MS, 256, &runs, &n), 0);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++)
            finish(f->s, runs[i].id, RUN_SUCCEEDED, old + 1000);
        finished += n;
        store_claimed_free(runs, n);
    }
    /* Regression: one purge used to stop after 1000 runs and 1000 events
     * (the LIMIT of each chunk), so retention fell behind past ~1.7 finished
     * runs a second; store_purge now repeats until a chunk is not full. */
    size_t purged = 0;
    assert_int_equal(store_purge(f->s, old + DAY_MS, &purged), 0);
    print_message("one store_purge removed %zu of %d old events\n", purged, N);
    assert_int_equal(purged, N);
    assert_int_equal(count_events(f->s), 0);
}

/* --- show, ping, stats, durability ------------------------------------------ */

static void test_show_run(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wf[] = {"orders", NULL};
    int64_t t = wall_ms();
    assert_int_equal(append_at(f->s, "stripe", "evt_show", "charge.succeeded", t, wf, NULL),
                     STORE_OK);
    int64_t id = only_run_id(f->s);
    struct claimed_run *runs;
    size_t n;
    assert_int_equal(store_claim(f->s, "worker-1", t + 1000, 60000, 1, &runs, &n), 0);
    assert_int_equal(n, 1);
    store_claimed_free(runs, n);
    struct step_record r = {.run_id = id,
                            .idx = 0,
                            .name = "post",
                            .status = "succeeded",
                            .attempt = 1,
                            .output = "{\"ok\": true}",
                            .started_at_ms = t + 1001,
                            .finished_at_ms = t + 1002,
                            .next_step = 1};
    assert_int_equal(store_step(f->s, &r), 0);

    struct json_object *o = store_show_run(f->s, id);
    assert_non_null(o);
    struct json_object *v, *ev, *steps, *log;
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_int_equal(json_object_get_int64(v), id);
    assert_true(json_object_object_get_ex(o, "workflow", &v));
    assert_string_equal(json_object_get_string(v), "orders");
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_string_equal(json_object_get_string(v), RUN_RUNNING);
    assert_true(json_object_object_get_ex(o, "lease_owner", &v));
    assert_string_equal(json_object_get_string(v), "worker-1");
    assert_true(json_object_object_get_ex(o, "lease_until", &v));
    assert_int_equal(json_object_get_int64(v), t + 61000);
    assert_true(json_object_object_get_ex(o, "attempts", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(json_object_object_get_ex(o, "next_step", &v));
    assert_int_equal(json_object_get_int(v), 1);

    assert_true(json_object_object_get_ex(o, "event", &ev));
    assert_true(json_object_object_get_ex(ev, "source", &v));
    assert_string_equal(json_object_get_string(v), "stripe");
    assert_true(json_object_object_get_ex(ev, "id", &v));
    assert_string_equal(json_object_get_string(v), "evt_show");
    assert_true(json_object_object_get_ex(ev, "type", &v));
    assert_string_equal(json_object_get_string(v), "charge.succeeded");
    assert_true(json_object_object_get_ex(ev, "received_at", &v));
    assert_int_equal(json_object_get_int64(v), t);
    assert_true(json_object_object_get_ex(ev, "payload", &v));
    assert_true(json_object_is_type(v, json_type_object));
    assert_true(json_object_object_get_ex(v, "nested", &v));
    assert_true(json_object_object_get_ex(v, "x", &v));
    assert_int_equal(json_object_array_length(v), 2);
    assert_true(json_object_object_get_ex(ev, "envelope", &v));
    assert_true(json_object_object_get_ex(v, "path", &v));
    assert_string_equal(json_object_get_string(v), "/hooks/t");

    assert_true(json_object_object_get_ex(o, "steps", &steps));
    assert_int_equal(json_object_array_length(steps), 1);
    struct json_object *s0 = json_object_array_get_idx(steps, 0);
    assert_true(json_object_object_get_ex(s0, "name", &v));
    assert_string_equal(json_object_get_string(v), "post");
    assert_true(json_object_object_get_ex(s0, "output", &v));
    assert_true(json_object_object_get_ex(v, "ok", &v));
    assert_true(json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(s0, "started_at", &v));
    assert_int_equal(json_object_get_int64(v), t + 1001);

    assert_true(json_object_object_get_ex(o, "attempts_log", &log));
    assert_int_equal(json_object_array_length(log), 1);
    struct json_object *a0 = json_object_array_get_idx(log, 0);
    assert_true(json_object_object_get_ex(a0, "attempt", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(json_object_object_get_ex(a0, "finished_at", &v));
    assert_int_equal(json_object_get_int64(v), t + 1002);
    json_object_put(o);

    assert_null(store_show_run(f->s, id + 12345));
}

static void test_ping(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct store_stats before, after;
    store_get_stats(f->s, &before);
    assert_int_equal(store_ping(f->s), 0);
    assert_int_equal(store_ping(f->s), 0);
    store_get_stats(f->s, &after);
    /* a ping is a real write: it went through a commit */
    assert_true(after.commits > before.commits);
    assert_int_equal(after.batched_writes, before.batched_writes + 2);
    assert_int_equal(after.events, 0);
}

static void test_data_survives_reopen(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const wfs[] = {"a", "b", NULL};
    assert_int_equal(append(f->s, "src", "keep_1", wfs), STORE_OK);
    assert_int_equal(append(f->s, "src", "keep_2", wfs), STORE_OK);
    assert_int_equal(store_kv_set(f->s, "scope", "k", "v1"), 0);
    struct claimed_run *runs;
    size_t n;
    int64_t now = wall_ms() + 1000;
    int64_t id = claim_one(f->s, "w", now, 60000);
    struct step_record r = {.run_id = id,
                            .idx = 0,
                            .name = "one",
                            .status = "succeeded",
                            .attempt = 1,
                            .output = "{\"x\": 1}",
                            .next_step = 1};
    assert_int_equal(store_step(f->s, &r), 0);
    struct run_update u = {.run_id = id,
                           .status = RUN_FAILED,
                           .next_step = 1,
                           .next_attempt_at_ms = now + 5000,
                           .error = "boom"};
    assert_int_equal(store_update_run(f->s, &u), 0);

    reopen_store(f);
    int64_t n_runs;
    assert_int_equal(store_event_runs(f->s, "src", "keep_1", &n_runs), 1);
    assert_int_equal(n_runs, 2);
    assert_int_equal(store_event_runs(f->s, "src", "keep_2", &n_runs), 1);
    assert_int_equal(n_runs, 2);
    char *value = NULL;
    assert_int_equal(store_kv_get(f->s, "scope", "k", &value), 0);
    assert_string_equal(value, "v1");
    free(value);
    /* the duplicate check survives too */
    assert_int_equal(append(f->s, "src", "keep_1", wfs), STORE_DUPLICATE);
    assert_string_equal(run_status(f->s, id, NULL), RUN_FAILED);
    assert_int_equal(store_next_due(f->s) <= wall_ms(), 1); /* the 3 pending runs */
    /* the failed run resumes where it was, with its checkpoint */
    assert_int_equal(store_claim(f->s, "w", now + 5000, 60000, 10, &runs, &n), 0);
    assert_int_equal(n, 4);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].id != id)
            continue;
        found = true;
        assert_int_equal(runs[i].next_step, 1);
        assert_int_equal(runs[i].attempts, 2);
        assert_int_equal(runs[i].n_steps, 1);
        struct json_object *v;
        assert_true(json_object_object_get_ex(runs[i].steps[0].output, "x", &v));
        assert_int_equal(json_object_get_int(v), 1);
    }
    assert_true(found);
    store_claimed_free(runs, n);
    store_close(NULL); /* accepts NULL */
    /* a clean close leaves no WAL content behind */
    store_close(f->s);
    f->s = NULL;
    char wal[200];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    struct stat stw;
    if (stat(wal, &stw) == 0)
        assert_int_equal(stw.st_size, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_creates_schema),
        T(test_reopen_does_not_migrate),
        T(test_newer_schema_refused),
        cmocka_unit_test(test_bad_urls),
        T(test_append_stores_event_and_runs),
        T(test_list_limit_and_since),
        T(test_duplicates),
        T(test_group_commit),
        T(test_append_async),
        T(test_close_finishes_queued_writes),
        T(test_claim_due_and_leases),
        T(test_extend_and_release_leases),
        T(test_steps_move_resume_point),
        T(test_update_run_and_next_due),
        T(test_replay_one),
        T(test_replay_many_filtered),
        T(test_kv),
        T(test_purge),
        T(test_purge_many),
        T(test_show_run),
        T(test_ping),
        T(test_data_survives_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
