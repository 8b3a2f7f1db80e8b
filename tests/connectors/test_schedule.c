/* End to end: the schedule plugin's triggers in the real engine, each
 * occurrence posted to a stand-in by http.request.
 *   - schedule.every = 1s fires about once a second, on whole seconds, with
 *     increasing scheduled times and distinct ids, and keeps "last" and
 *     "next" in the store;
 *   - two engines on ONE SQLite store run each occurrence exactly once;
 *   - catch_up = none | last | all after the engine was stopped ~3 s;
 *   - `switchboard check` reports a bad cron field and an unknown time
 *     zone with file:line. */
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "standin.h"
#include "testkit.h"

static struct standin *api;

/* A workflow firing every second and posting the occurrence to `path`. */
static char *tick_workflow(const char *path, const char *catch_up)
{
    return testkit_fmt("[trigger]\nuse = schedule.every\nevery = 1s\ncatch_up = %s\n\n"
                       "[step post]\nuse = http.request\nmethod = POST\nurl = %s%s\n"
                       "body = {\"at\": \"{{ event.scheduled_at }}\", \"utc\": \"{{ "
                       "event.scheduled_at_utc }}\", \"id\": \"{{ trigger.id }}\", \"tz\": \"{{ "
                       "event.timezone }}\", \"fired\": \"{{ event.fired_at }}\", \"catch_up\": {{ "
                       "event.catch_up }}}\n",
                       catch_up, standin_url(api), path);
}

/* --- what reached the stand-in ------------------------------------------- */

struct tick {
    int64_t utc_ms; /* scheduled_at_utc */
    int64_t fired_ms;
    bool catch_up;
    char at[64], utc[64], id[64], tz[32];
};

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "2026-03-08T07:00:00Z" or "...:00.123Z" as Unix ms; -1 if malformed. */
static int64_t iso_utc_ms(const char *s)
{
    size_t len = strlen(s);
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[len - 1] != 'Z')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2), ms = 0;
    if (len == 24 && s[19] == '.')
        ms = digits(s + 20, 3);
    else if (len != 20)
        return -1;
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || ms < 0)
        return -1;
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

static void copy_field(struct json_object *o, const char *key, char *out, size_t len)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        fail_msg("the posted body has no string '%s'", key);
    snprintf(out, len, "%s", json_object_get_string(v));
}

static int by_time(const void *a, const void *b)
{
    const struct tick *x = a, *y = b;
    return x->utc_ms < y->utc_ms ? -1 : x->utc_ms > y->utc_ms;
}

/* Every request to `path`, sorted by scheduled time; *n is the count. */
static struct tick *ticks(const char *path, size_t *n)
{
    *n = standin_count(api, path);
    struct tick *t = calloc(*n ? *n : 1, sizeof(*t));
    for (size_t i = 0; i < *n; i++) {
        struct standin_request r;
        assert_true(standin_get(api, path, i, &r));
        struct json_object *body = json_tokener_parse(r.body);
        if (!body)
            fail_msg("not JSON: %s", r.body);
        copy_field(body, "at", t[i].at, sizeof(t[i].at));
        copy_field(body, "utc", t[i].utc, sizeof(t[i].utc));
        copy_field(body, "id", t[i].id, sizeof(t[i].id));
        copy_field(body, "tz", t[i].tz, sizeof(t[i].tz));
        char fired[64];
        copy_field(body, "fired", fired, sizeof(fired));
        struct json_object *v;
        assert_true(json_object_object_get_ex(body, "catch_up", &v));
        assert_true(json_object_is_type(v, json_type_boolean));
        t[i].catch_up = json_object_get_boolean(v);
        t[i].utc_ms = iso_utc_ms(t[i].utc);
        t[i].fired_ms = iso_utc_ms(fired);
        if (t[i].utc_ms < 0 || t[i].fired_ms < 0)
            fail_msg("bad times: %s / %s", t[i].utc, fired);
        json_object_put(body);
        standin_request_free(&r);
    }
    qsort(t, *n, sizeof(*t), by_time);
    return t;
}

/* No scheduled time twice. */
static void assert_distinct(const struct tick *t, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (t[i].utc_ms == t[i - 1].utc_ms)
            fail_msg("the occurrence of %s reached the stand-in twice", t[i].utc);
}

/* t[from..to) are one second apart. */
static void assert_contiguous(const struct tick *t, size_t from, size_t to)
{
    for (size_t i = from + 1; i < to; i++)
        if (t[i].utc_ms - t[i - 1].utc_ms != 1000)
            fail_msg("a gap or overlap between %s and %s", t[i - 1].utc, t[i].utc);
}

static int64_t kv_last(const struct sb_proc *p)
{
    return sbp_sql_int(p, "SELECT CAST(value AS INTEGER) FROM kv WHERE key = 'last'");
}

static int group_setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(api, "POST", "/*", &ok, 1);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    standin_stop(api);
    return 0;
}

/* --- tests --------------------------------------------------------------- */

static void test_every_second(void **state)
{
    (void)state;
    struct sb_proc p;
    assert_int_equal(sbp_init(&p, NULL), 0);
    char *wf = tick_workflow("/tick", "none");
    sbp_write_workflow(&p, "tick", wf);
    free(wf);
    assert_int_equal(sbp_start(&p, NULL), 0);
    testkit_sleep_ms(3000);
    size_t n = standin_count(api, "/tick");
    printf("schedule.every = 1s: %zu occurrences in 3 s\n", n);
    assert_true(n >= 2 && n <= 4);
    sbp_stop(&p, SIGTERM);

    struct tick *t = ticks("/tick", &n);
    assert_true(n >= 2);
    assert_distinct(t, n);
    assert_contiguous(t, 0, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].utc_ms % 1000, 0); /* whole seconds */
        assert_string_equal(t[i].id, t[i].utc);  /* trigger.id is the UTC time */
        assert_string_equal(t[i].tz, "UTC");
        /* the same instant shown with the zone's offset */
        char local[64];
        snprintf(local, sizeof(local), "%.19s+00:00", t[i].utc);
        assert_string_equal(t[i].at, local);
        assert_false(t[i].catch_up);
        /* fired on time: after the scheduled instant, well within the second */
        assert_true(t[i].fired_ms >= t[i].utc_ms);
        assert_true(t[i].fired_ms - t[i].utc_ms < 1000);
    }
    /* the store keeps the last occurrence and the next one */
    assert_true(kv_last(&p) >= t[n - 1].utc_ms);
    assert_int_equal(sbp_sql_int(&p, "SELECT count(*) FROM kv WHERE key = 'next' AND value "
                                     "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:"
                                     "[0-9][0-9]:[0-9][0-9]+00:00'"),
                     1);
    /* one event and one run per occurrence, under the workflow's source */
    assert_int_equal(sbp_sql_int(&p, "SELECT count(*) FROM events WHERE source = "
                                     "'schedule.every:tick' AND type = 'schedule.tick'"),
                     sbp_sql_int(&p, "SELECT count(*) FROM runs WHERE workflow = 'tick'"));
    free(t);
    sbp_cleanup(&p);
}

static void test_two_engines_one_store(void **state)
{
    (void)state;
    struct sb_proc a, b;
    assert_int_equal(sbp_init(&a, NULL), 0);
    char *ini = testkit_fmt("[server]\nlisten = 127.0.0.1:0\n\n[engine]\nplugin_dir = @PLUGINS@\n"
                            "workflow_dir = @DIR@/workflows\nstore = sqlite:%s\n",
                            a.store);
    assert_int_equal(sbp_init_ini(&b, ini), 0);
    free(ini);
    char *wf = tick_workflow("/shared", "none");
    sbp_write_workflow(&a, "shared", wf);
    sbp_write_workflow(&b, "shared", wf);
    free(wf);
    assert_int_equal(sbp_start(&a, NULL), 0);
    assert_int_equal(sbp_start(&b, NULL), 0);
    assert_true(a.port != b.port);
    testkit_sleep_ms(8000);
    /* let the dispatchers finish what was stored, then stop both */
    sbp_wait_sql(&a, "SELECT count(*) FROM runs WHERE status NOT IN ('succeeded')", 0, 3000);
    assert_int_equal(sbp_stop(&b, SIGTERM), 0);
    assert_int_equal(sbp_stop(&a, SIGTERM), 0);

    size_t n;
    struct tick *t = ticks("/shared", &n);
    printf("two engines, one store: %zu occurrences in 8 s\n", n);
    assert_true(n >= 6);
    assert_distinct(t, n);
    assert_contiguous(t, 0, n);
    /* one event per occurrence, one run per event; each run that reached
     * the stand-in is one of them (an occurrence stored in the last moment
     * before the stop may still be pending) */
    int64_t events = sbp_sql_int(&a, "SELECT count(*) FROM events");
    assert_int_equal(sbp_sql_int(&a, "SELECT count(DISTINCT event_id) FROM events"), events);
    assert_int_equal(sbp_sql_int(&a, "SELECT count(*) FROM runs"), events);
    assert_int_equal(sbp_sql_int(&a, "SELECT count(*) FROM runs WHERE status = 'succeeded'"),
                     (int64_t)n);
    assert_true(events >= (int64_t)n && events <= (int64_t)n + 2);
    for (size_t i = 0; i < n; i++) {
        char *sql = testkit_fmt("SELECT count(*) FROM events WHERE event_id = '%s' AND source = "
                                "'schedule.every:shared'",
                                t[i].utc);
        assert_int_equal(sbp_sql_int(&a, sql), 1);
        free(sql);
    }
    /* both engines really ran the schedule */
    assert_true(sbp_log_contains(&a, "started: 1 workflow(s)"));
    assert_true(sbp_log_contains(&b, "started: 1 workflow(s)"));
    free(t);
    sbp_cleanup(&b);
    sbp_cleanup(&a);
}

/* Three engines (own stores), catch_up none, last and all, stopped ~3 s. */
static void test_catch_up(void **state)
{
    (void)state;
    static const char *const modes[3] = {"none", "last", "all"};
    struct sb_proc p[3];
    char path[3][32];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sbp_init(&p[i], NULL), 0);
        snprintf(path[i], sizeof(path[i]), "/late-%s", modes[i]);
        char *wf = tick_workflow(path[i], modes[i]);
        sbp_write_workflow(&p[i], "late", wf);
        free(wf);
        assert_int_equal(sbp_start(&p[i], NULL), 0);
    }
    for (int i = 0; i < 3; i++)
        assert_true(standin_wait(api, path[i], 2, 10000));
    int64_t last[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sbp_stop(&p[i], SIGTERM), 0);
        last[i] = kv_last(&p[i]);
        assert_true(last[i] > 0);
    }
    testkit_sleep_ms(3000);
    int64_t restart = testkit_now_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(sbp_start(&p[i], NULL), 0);
    testkit_sleep_ms(2000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sbp_stop(&p[i], SIGTERM), 0);

    for (int i = 0; i < 3; i++) {
        size_t n;
        struct tick *t = ticks(path[i], &n);
        assert_distinct(t, n);
        /* before the stop: every second up to "last", none caught up */
        size_t k = 0;
        while (k < n && t[k].utc_ms <= last[i]) {
            assert_false(t[k].catch_up);
            k++;
        }
        assert_true(k >= 2);
        assert_int_equal(t[k - 1].utc_ms, last[i]);
        assert_contiguous(t, 0, k);
        /* after the restart: the caught-up ones first, then on time */
        size_t c = k;
        while (c < n && t[c].catch_up)
            c++;
        for (size_t j = c; j < n; j++)
            assert_false(t[j].catch_up);
        assert_true(n - c >= 1); /* fired on time again after the restart */
        assert_contiguous(t, c, n);
        size_t caught = c - k;
        printf("catch_up = %s: last %s, %zu caught up, then %zu on time from %s\n", modes[i],
               t[k - 1].utc, caught, n - c, t[c].utc);
        if (i == 0) {
            /* none: nothing caught up; the stopped seconds stay missing */
            assert_int_equal(caught, 0);
            assert_true(t[c].utc_ms > restart);
            assert_true(t[c].utc_ms - last[i] >= 3000);
        } else if (i == 1) {
            /* last: exactly one, the latest missed, the seconds before it
             * skipped */
            assert_int_equal(caught, 1);
            assert_true(t[k].utc_ms >= restart - 1000);
            assert_true(t[k].utc_ms - last[i] >= 2000);
            assert_int_equal(t[c].utc_ms - t[k].utc_ms, 1000);
        } else {
            /* all: each missed second, oldest first, then on time */
            assert_true(caught >= 2);
            assert_int_equal(t[k].utc_ms, last[i] + 1000);
            assert_contiguous(t, k, n);
            assert_true(t[c - 1].utc_ms >= restart - 1000);
        }
        free(t);
        sbp_cleanup(&p[i]);
    }
}

static void test_check_reports_bad_cron(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/sbschedXXXXXX");
    assert_non_null(mkdtemp(dir));
    char *file = testkit_fmt("%s/nightly.ini", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("[trigger]\nuse = schedule.cron\ncron = 61 * * * *\ntimezone = Europe/Berln\n\n"
          "[step log]\nuse = log.write\nmessage = tick\n",
          f);
    fclose(f);
    const char *argv[] = {testkit_binary(),  "check",       "-c", "/dev/null", "--plugins",
                          testkit_plugins(), "--workflows", dir,  NULL};
    char *out = NULL, *err = NULL;
    int rc = run_capture(argv, NULL, &out, &err);
    printf("%s", err);
    assert_int_equal(rc, 1);
    char *want = testkit_fmt("%s:3: [trigger] cron: minute: '61' is out of range 0-59", file);
    assert_non_null(strstr(err, want));
    free(want);
    want = testkit_fmt("%s:4: [trigger] timezone: unknown time zone 'Europe/Berln'", file);
    assert_non_null(strstr(err, want));
    free(want);
    free(out);
    free(err);

    /* fixed, it passes */
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("[trigger]\nuse = schedule.cron\ncron = 30 2 * * mon-fri\ntimezone = America/New_York\n"
          "catch_up = last\n\n[step log]\nuse = log.write\nmessage = tick\n",
          f);
    fclose(f);
    rc = run_capture(argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("check failed: %s", err);
    free(out);
    free(err);
    unlink(file);
    free(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_second),
        cmocka_unit_test(test_two_engines_one_store),
        cmocka_unit_test(test_catch_up),
        cmocka_unit_test(test_check_reports_bad_cron),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
