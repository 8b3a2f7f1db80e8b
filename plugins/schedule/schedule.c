/*
 * The schedule connector: time-driven triggers.
 *   schedule.cron   fires when the wall clock of a time zone matches a cron
 *                   expression (daylight saving handled as cron users
 *                   expect, see cron.h);
 *   schedule.every  fires at a fixed interval, optionally aligned to
 *                   multiples of it since the Unix epoch.
 *
 * Both are POLL triggers: the core calls poll on a thread of its own per
 * workflow, at the instant asked for with sb->schedule_next. Each
 * occurrence becomes one event whose id is its scheduled time in UTC
 * ("2026-03-08T07:00:00Z") under the core's default source
 * "schedule.<trigger>:<workflow>", so engines sharing a store store each
 * occurrence once and start one run for it.
 *
 * State kept in the store for each workflow (sb->kv_*):
 *   last  the scheduled time (Unix ms) of the latest occurrence emitted;
 *   next  the next fire time, ISO 8601 with the zone's offset ("never" when
 *         a cron expression cannot fire again).
 *
 * Missed occurrences are those scheduled while no engine process was
 * watching: between "last" and the first poll of this process, or, while
 * running, ones that could not be emitted for LATE_MS (store down, machine
 * suspended). catch_up says what to do with them: none skips them, last
 * emits the latest one, all emits each (the latest CATCH_UP_MAX, oldest
 * first). Their events carry "catch_up": true.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#include "cron.h"
#include "tz.h"

#define CATCH_UP_MAX 1000
/* occurrences due while running that are older than this count as missed */
#define LATE_MS (10 * 60 * 1000)
/* at most this many on-time occurrences per poll (more means the process
 * stalled: the rest are missed ones by then) */
#define DUE_MAX 1000
/* when the next occurrence is this close after a poll, wait for it here
 * rather than ask the core for a poll that might be late already */
#define NEAR_MS 250
/* recheck a schedule that will never fire again once a day */
#define NEVER_RECHECK_MS (24 * 3600 * 1000)

/* 9999-12-31T23:59:59.999Z */
#define MAX_TIME_MS INT64_C(253402300799999)

static const char *const catch_up_values[] = {"none", "last", "all", NULL};

#define CATCH_UP_PARAM                                                                             \
    {                                                                                              \
        .name = "catch_up", .type = SB_PARAM_ENUM, .def = "none", .values = catch_up_values,       \
        .help = "occurrences missed while the engine was stopped: none (skip them), last (fire "   \
                "the latest once) or all (fire each, at most 1000, oldest first)"                  \
    }

static const struct sb_param cron_params[] = {
    {.name = "cron",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED,
     .help = "when to fire: minute hour day-of-month month day-of-week (0 9 * * mon-fri), or "
             "@hourly, @daily, @weekly, @monthly, @yearly"},
    {.name = "timezone",
     .type = SB_PARAM_STRING,
     .def = "UTC",
     .help = "the IANA time zone the cron fields are read in, e.g. Europe/Berlin"},
    CATCH_UP_PARAM,
    SB_END,
};

static const struct sb_param every_params[] = {
    {.name = "every",
     .type = SB_PARAM_DURATION,
     .flags = SB_PARAM_REQUIRED,
     .min = 1000,
     .max = SB_NO_MAX,
     .help = "the interval between occurrences, e.g. 30s, 5m, 1h (at least 1s)"},
    {.name = "align",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "true: fire at multiples of the interval since the Unix epoch in UTC (every 5m at "
             ":00, :05, :10); false: count from the first start, kept across restarts"},
    CATCH_UP_PARAM,
    SB_END,
};

enum kind { KIND_CRON, KIND_EVERY };
enum catch_up { CATCH_UP_NONE, CATCH_UP_LAST, CATCH_UP_ALL };

/* Per workflow, made by setup. The fields below `lock` change in poll. */
struct schedule {
    enum kind kind;
    struct cron_spec cron;
    struct tz_zone *zone; /* NULL: UTC (every) */
    char *zone_name;
    int64_t every_ms;
    bool align;
    enum catch_up catch_up;

    pthread_mutex_t lock;
    bool started;      /* this process has polled once */
    int64_t watch_ms;  /* when this process started watching */
    int64_t anchor_ms; /* every, not aligned, before any "last": the origin */
    int64_t done_ms;   /* occurrences up to here are dealt with */
};

/* --- the series of occurrences ------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    return tz_floor_div(a, b);
}

/* The first occurrence strictly after t (Unix ms), or -1 if none. The
 * origin of an unaligned `every` is `origin`. */
static int64_t next_after(const struct schedule *s, int64_t origin, int64_t t)
{
    if (s->kind == KIND_EVERY) {
        int64_t base = s->align ? 0 : origin;
        return base + (floor_div(t - base, s->every_ms) + 1) * s->every_ms;
    }
    int64_t at;
    if (cron_next_fire(&s->cron, s->zone, floor_div(t, 1000), &at) < 0)
        return -1;
    return at * 1000;
}

static void reverse(int64_t *a, size_t i, size_t j)
{
    while (i + 1 < j) {
        int64_t t = a[i];
        a[i++] = a[--j];
        a[j] = t;
    }
}

/* Rotate a[0..n) so that a[k] comes first. */
static void rotate_left(int64_t *a, size_t n, size_t k)
{
    reverse(a, 0, k);
    reverse(a, k, n);
    reverse(a, 0, n);
}

/*
 * The latest `max` occurrences in (from, to], ascending, into out; returns
 * how many and sets *more when earlier ones were left out. Searches a
 * window before `to` that doubles until it holds enough or reaches from,
 * so a year-old "last" costs no more than a recent one.
 */
static size_t latest_in(const struct schedule *s, int64_t origin, int64_t from, int64_t to,
                        int64_t *out, size_t max, bool *more)
{
    int64_t window = 2 * 60 * 1000;
    *more = false;
    if (from >= to || max == 0)
        return 0;
    for (;;) {
        int64_t start = to - from <= window ? from : to - window;
        size_t total = 0;
        int64_t t = start;
        while ((t = next_after(s, origin, t)) >= 0 && t <= to) {
            out[total % max] = t;
            total++;
        }
        if (total >= max || start == from) {
            size_t n = total < max ? total : max;
            if (total > max) {
                /* the ring's oldest is at total % max */
                rotate_left(out, n, total % max);
                *more = true;
            } else if (start > from) {
                int64_t first = next_after(s, origin, from);
                *more = first >= 0 && first <= start;
            }
            return n;
        }
        window = window > INT64_MAX / 4 ? INT64_MAX / 2 : window * 2;
    }
}

/* --- formatting ---------------------------------------------------------- */

static void format_local(const struct schedule *s, int64_t at_ms, char out[64])
{
    struct tz_info info = {0};
    if (s->zone)
        tz_lookup(s->zone, floor_div(at_ms, 1000), &info);
    if (tz_format_iso(at_ms, info.offset, false, out, 64) < 0)
        out[0] = '\0';
}

static void format_utc(int64_t at_ms, char out[64])
{
    if (tz_format_iso(at_ms, 0, true, out, 64) < 0)
        out[0] = '\0';
}

/* A stored Unix ms time, 1970 to 9999. */
static bool parse_ms(const char *text, int64_t *out)
{
    if (!text || !*text)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < 0 || v > MAX_TIME_MS)
        return false;
    *out = v;
    return true;
}

/* --- emitting ------------------------------------------------------------ */

/*
 * Emit the occurrence at `at` and record it as "last". SB_OK, or the
 * status to return from poll (the error recorded).
 */
static enum sb_status emit_one(const struct sb_host *sb, struct sb_call *call,
                               const struct schedule *s, int64_t at, bool catch_up, int64_t *last)
{
    char local[64], utc[64], fired[64], num[32];
    format_local(s, at, local);
    format_utc(at, utc);
    format_utc(sb->now_ms(call), fired);
    struct json_object *payload = json_object_new_object();
    if (!payload)
        return sb->fail(call, "out of memory");
    json_object_object_add(payload, "scheduled_at", json_object_new_string(local));
    json_object_object_add(payload, "scheduled_at_utc", json_object_new_string(utc));
    json_object_object_add(payload, "timezone", json_object_new_string(s->zone_name));
    json_object_object_add(payload, "fired_at", json_object_new_string(fired));
    json_object_object_add(payload, "catch_up", json_object_new_boolean(catch_up));
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = utc;
    ev.type = "schedule.tick";
    ev.payload = payload;
    ev.occurred_at_ms = at;
    enum sb_status st = sb->emit(call, &ev);
    if (st == SB_RETRY)
        return sb->retry(call, -1, "the store is unavailable; the occurrence of %s waits", utc);
    if (st != SB_OK)
        return sb->fail(call, "the occurrence of %s was refused by the core", utc);
    if (at > *last) {
        snprintf(num, sizeof(num), "%lld", (long long)at);
        if (sb->kv_set(call, "last", num) < 0)
            return sb->retry(call, -1, "cannot record the occurrence of %s in the store", utc);
        *last = at;
    }
    return SB_OK;
}

/* Deal with the occurrences in (from, cutoff] that nobody saw happen. */
static enum sb_status catch_up_missed(const struct sb_host *sb, struct sb_call *call,
                                      struct schedule *s, int64_t origin, int64_t from,
                                      int64_t cutoff, int64_t *last)
{
    int64_t first = next_after(s, origin, from);
    if (first < 0 || first > cutoff)
        return SB_OK;
    char a[64], b[64];
    format_local(s, first, a);
    if (s->catch_up == CATCH_UP_NONE) {
        sb->log(call, SB_LOG_INFO, "skipping the occurrences missed since %s (catch_up = none)", a);
        return SB_OK;
    }
    size_t max = s->catch_up == CATCH_UP_LAST ? 1 : CATCH_UP_MAX;
    int64_t *ring = malloc(max * sizeof(*ring));
    if (!ring)
        return sb->fail(call, "out of memory");
    bool more;
    enum sb_status st = SB_OK;
    size_t n = latest_in(s, origin, from, cutoff, ring, max, &more);
    if (more && s->catch_up == CATCH_UP_ALL)
        sb->log(call, SB_LOG_WARN,
                "more than %d occurrences were missed since %s; only the latest %d are fired",
                CATCH_UP_MAX, a, CATCH_UP_MAX);
    for (size_t i = 0; i < n && st == SB_OK; i++)
        st = emit_one(sb, call, s, ring[i], true, last);
    if (st == SB_OK && n > 0) {
        format_local(s, ring[0], a);
        format_local(s, ring[n - 1], b);
        sb->log(call, SB_LOG_INFO, "fired %zu missed occurrence(s) late (catch_up = %s): %s%s%s", n,
                s->catch_up == CATCH_UP_LAST ? "last" : "all", a, n > 1 ? " to " : "",
                n > 1 ? b : "");
    }
    free(ring);
    return st;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* --- poll ---------------------------------------------------------------- */

static enum sb_status poll_locked(const struct sb_host *sb, struct sb_call *call,
                                  struct schedule *s)
{
    char *text = NULL;
    if (sb->kv_get(call, "last", &text) < 0)
        return sb->retry(call, -1, "cannot read the schedule's state from the store");
    int64_t last = INT64_MIN;
    bool have_last = parse_ms(text, &last);
    if (text && !have_last)
        sb->log(call, SB_LOG_WARN, "ignoring a bad stored 'last' value '%s'", text);
    sb->free(text);
    if (!have_last)
        last = INT64_MIN;

    int64_t now = sb->now_ms(call);
    if (!s->started) {
        s->started = true;
        s->watch_ms = now;
        s->anchor_ms = floor_div(now, 1000) * 1000;
        s->done_ms = have_last ? last : now;
    }
    /* an unaligned interval keeps the phase of the last occurrence, from
     * whichever engine emitted it */
    int64_t origin = have_last ? last : s->anchor_ms;
    int64_t from = s->done_ms > last ? s->done_ms : last;
    int64_t cutoff = now - LATE_MS > s->watch_ms ? now - LATE_MS : s->watch_ms;
    enum sb_status st;
    if (from < cutoff) {
        st = catch_up_missed(sb, call, s, origin, from, cutoff, &last);
        if (st != SB_OK)
            return st;
        s->done_ms = cutoff;
        from = cutoff;
    }
    int64_t next = -1;
    for (int round = 0; round < DUE_MAX; round++) {
        next = next_after(s, origin, from);
        if (next < 0)
            break;
        now = sb->now_ms(call);
        if (next > now + NEAR_MS)
            break;
        if (next > now)
            sleep_ms(next - now);
        st = emit_one(sb, call, s, next, false, &last);
        if (st != SB_OK)
            return st;
        s->done_ms = from = next;
        next = -1;
    }
    char shown[64] = "never";
    if (next >= 0)
        format_local(s, next, shown);
    if (sb->kv_set(call, "next", shown) < 0)
        sb->log(call, SB_LOG_WARN, "cannot record the next occurrence (%s) in the store", shown);
    if (next < 0) {
        const char *cron = sb->param_string(call, "cron");
        if (s->kind == KIND_CRON)
            sb->log(call, SB_LOG_WARN, "cron '%s' will not fire again", cron ? cron : "");
        next = sb->now_ms(call) + NEVER_RECHECK_MS;
    }
    sb->schedule_next(call, next);
    return SB_OK;
}

static enum sb_status schedule_poll(const struct sb_host *sb, struct sb_call *call)
{
    struct schedule *s = sb->state(call);
    if (!s)
        return sb->fail(call, "the schedule was not set up");
    pthread_mutex_lock(&s->lock);
    enum sb_status st = poll_locked(sb, call, s);
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* --- validate, setup, teardown ------------------------------------------- */

static enum sb_status cron_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool bad = false;
    char err[256];
    struct cron_spec spec;
    const char *cron = sb->param_string(call, "cron");
    if (!cron)
        return SB_OK; /* missing: the core reports it */
    if (cron_parse(cron, &spec, err, sizeof(err)) < 0) {
        sb->config_error(call, "cron", "%s", err);
        bad = true;
    }
    /* reads the zone file: a typo in a zone name is a configuration error
     * that `switchboard check` must report */
    struct tz_zone *zone = NULL;
    if (tz_zone_load(sb->param_string(call, "timezone"), &zone, err, sizeof(err)) < 0) {
        sb->config_error(call, "timezone", "%s", err);
        bad = true;
    }
    tz_zone_free(zone);
    return bad ? SB_FAIL : SB_OK;
}

static void schedule_free(struct schedule *s)
{
    if (!s)
        return;
    tz_zone_free(s->zone);
    free(s->zone_name);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static struct schedule *schedule_new(const struct sb_host *sb, struct sb_call *call, enum kind kind)
{
    struct schedule *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->kind = kind;
    const char *c = sb->param_string(call, "catch_up");
    s->catch_up = !c || strcmp(c, "none") == 0 ? CATCH_UP_NONE
                  : strcmp(c, "last") == 0     ? CATCH_UP_LAST
                                               : CATCH_UP_ALL;
    return s;
}

static enum sb_status cron_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct schedule *s = schedule_new(sb, call, KIND_CRON);
    if (!s)
        return sb->fail(call, "out of memory");
    char err[256];
    const char *zone = sb->param_string(call, "timezone");
    if (cron_parse(sb->param_string(call, "cron"), &s->cron, err, sizeof(err)) < 0 ||
        tz_zone_load(zone, &s->zone, err, sizeof(err)) < 0) {
        schedule_free(s);
        return sb->fail(call, "%s", err);
    }
    s->zone_name = strdup(zone);
    if (!s->zone_name) {
        schedule_free(s);
        return sb->fail(call, "out of memory");
    }
    sb->set_state(call, s);
    return SB_OK;
}

static enum sb_status every_setup(const struct sb_host *sb, struct sb_call *call)
{
    struct schedule *s = schedule_new(sb, call, KIND_EVERY);
    if (!s || !(s->zone_name = strdup("UTC"))) {
        schedule_free(s);
        return sb->fail(call, "out of memory");
    }
    s->every_ms = sb->param_int(call, "every", 0);
    s->align = sb->param_bool(call, "align", false);
    if (s->every_ms < 1000) {
        schedule_free(s);
        return sb->fail(call, "every must be at least 1s");
    }
    sb->set_state(call, s);
    return SB_OK;
}

static void schedule_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    schedule_free(state);
}

/* --- the plugin ---------------------------------------------------------- */

#define TICK_OUTPUT                                                                                \
    "scheduled_at (ISO 8601 in the zone, with its offset), scheduled_at_utc, timezone, "           \
    "fired_at (when it was emitted, UTC) and catch_up (true for a missed occurrence fired "        \
    "late); trigger.id is scheduled_at_utc"

static const struct sb_trigger triggers[] = {
    {
        .name = "cron",
        .summary = "Fire when the wall clock of a time zone matches a cron expression",
        .output = TICK_OUTPUT,
        .kind = SB_TRIGGER_POLL,
        .params = cron_params,
        .validate = cron_validate,
        .setup = cron_setup,
        .teardown = schedule_teardown,
        .poll = schedule_poll,
        .poll_interval_ms = 60000,
    },
    {
        .name = "every",
        .summary = "Fire at a fixed interval (30s, 5m, 1h), optionally aligned to the clock",
        .output = TICK_OUTPUT,
        .kind = SB_TRIGGER_POLL,
        .params = every_params,
        .setup = every_setup,
        .teardown = schedule_teardown,
        .poll = schedule_poll,
        .poll_interval_ms = 60000,
    },
    SB_END,
};

static const struct sb_plugin schedule_plugin = {
    .name = "schedule",
    .version = "1.0.0",
    .summary = "Time-driven triggers: cron expressions in any time zone, and fixed intervals",
    .triggers = triggers,
};

SB_PLUGIN_DEFINE(schedule_plugin)
