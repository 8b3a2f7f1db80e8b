/* Queries of the SQLite store, on the reader connection (any thread). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "store_sqlite.h"
#include "xalloc.h"

static const char SQL_LIST[] =
    "SELECT r.id, r.workflow, r.status, r.attempts, e.event_id, e.type, r.created_at,"
    " r.updated_at, r.next_attempt_at, r.error FROM runs r JOIN events e ON e.id = r.event"
    " WHERE (?1 IS NULL OR r.status = ?1) AND (?2 IS NULL OR r.workflow = ?2)"
    " AND r.created_at >= ?3 ORDER BY r.id DESC LIMIT ?4";
static const char SQL_SHOW_RUN[] =
    "SELECT r.id, r.workflow, r.workflow_hash, r.status, r.attempts, r.next_step,"
    " r.next_attempt_at, r.created_at, r.updated_at, r.finished_at, r.error, r.reason,"
    " e.source, e.event_id, e.type, e.received_at, e.payload, e.envelope, r.lease_owner,"
    " r.lease_until FROM runs r JOIN events e ON e.id = r.event WHERE r.id = ?1";
static const char SQL_SHOW_STEPS[] =
    "SELECT idx, name, status, attempts, output, error, started_at, finished_at FROM steps"
    " WHERE run = ?1 ORDER BY idx";
static const char SQL_SHOW_ATTEMPTS[] =
    "SELECT idx, step, attempt, status, error, started_at, finished_at FROM attempts"
    " WHERE run = ?1 ORDER BY rowid";
static const char SQL_KV_LIST[] = "SELECT key, value FROM kv WHERE scope = ?1 ORDER BY key";
static const char SQL_KV_GET[] = "SELECT value FROM kv WHERE scope = ?1 AND key = ?2";
static const char SQL_EVENT_RUNS[] =
    "SELECT (SELECT count(*) FROM runs r WHERE r.event = e.id) FROM events e"
    " WHERE e.source = ?1 AND e.event_id = ?2";
static const char SQL_UNFINISHED[] =
    "SELECT count(*) FROM runs WHERE workflow = ?1 AND status IN ('pending', 'running', 'failed')"
    " AND (?2 IS NULL OR workflow_hash = ?2)";
static const char SQL_SOURCE_EVENTS[] = "SELECT count(*) FROM events WHERE source = ?1";
static const char SQL_NEXT_DUE[] =
    "SELECT min(t) FROM (SELECT min(next_attempt_at) AS t FROM runs WHERE status IN"
    " ('pending', 'failed') UNION ALL SELECT min(lease_until) FROM runs WHERE status ="
    " 'running')";
static const char SQL_COUNT_EVENTS[] = "SELECT count(*) FROM events";
static const char SQL_COUNT_RUNS[] = "SELECT status, count(*) FROM runs GROUP BY status";

static const char *text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = text(st, i);
    return t ? xstrdup(t) : NULL;
}

int store_list_runs(struct store *s, const struct run_filter *f, struct run_summary **out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_LIST);
    if (!st) {
        pthread_mutex_unlock(&s->rlock);
        return -1;
    }
    sqlite_bind_text(st, 1, f ? f->status : NULL);
    sqlite_bind_text(st, 2, f ? f->workflow : NULL);
    sqlite3_bind_int64(st, 3, f ? f->since_ms : 0);
    sqlite3_bind_int64(st, 4, f && f->limit ? (sqlite3_int64)f->limit : 100);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        XGROW(*out, cap, *n + 1);
        struct run_summary *r = &(*out)[(*n)++];
        r->id = sqlite3_column_int64(st, 0);
        r->workflow = dup_col(st, 1);
        r->status = dup_col(st, 2);
        r->attempts = sqlite3_column_int(st, 3);
        r->event_id = dup_col(st, 4);
        r->type = dup_col(st, 5);
        r->created_at_ms = sqlite3_column_int64(st, 6);
        r->updated_at_ms = sqlite3_column_int64(st, 7);
        r->next_attempt_at_ms = sqlite3_column_int64(st, 8);
        r->error = dup_col(st, 9);
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->rlock);
    if (rc != SQLITE_DONE) {
        store_runs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void store_runs_free(struct run_summary *runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(runs[i].workflow);
        free(runs[i].status);
        free(runs[i].event_id);
        free(runs[i].type);
        free(runs[i].error);
    }
    free(runs);
}

static struct json_object *json_text(sqlite3_stmt *st, int i)
{
    const char *t = text(st, i);
    return t ? json_object_new_string(t) : NULL;
}

static struct json_object *json_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? NULL
               : json_object_new_int64(sqlite3_column_int64(st, i));
}

static struct json_object *json_parsed(sqlite3_stmt *st, int i)
{
    const char *t = text(st, i);
    return t ? json_tokener_parse(t) : NULL;
}

struct json_object *store_show_run(struct store *s, int64_t run_id)
{
    struct json_object *o = NULL;
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_SHOW_RUN);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        goto out;
    }
    o = json_object_new_object();
    json_object_object_add(o, "id", json_int(st, 0));
    json_object_object_add(o, "workflow", json_text(st, 1));
    json_object_object_add(o, "workflow_hash", json_text(st, 2));
    json_object_object_add(o, "status", json_text(st, 3));
    json_object_object_add(o, "attempts", json_int(st, 4));
    json_object_object_add(o, "next_step", json_int(st, 5));
    json_object_object_add(o, "next_attempt_at", json_int(st, 6));
    json_object_object_add(o, "created_at", json_int(st, 7));
    json_object_object_add(o, "updated_at", json_int(st, 8));
    json_object_object_add(o, "finished_at", json_int(st, 9));
    json_object_object_add(o, "error", json_text(st, 10));
    json_object_object_add(o, "reason", json_text(st, 11));
    json_object_object_add(o, "lease_owner", json_text(st, 18));
    json_object_object_add(o, "lease_until", json_int(st, 19));
    struct json_object *ev = json_object_new_object();
    json_object_object_add(ev, "source", json_text(st, 12));
    json_object_object_add(ev, "id", json_text(st, 13));
    json_object_object_add(ev, "type", json_text(st, 14));
    json_object_object_add(ev, "received_at", json_int(st, 15));
    json_object_object_add(ev, "payload", json_parsed(st, 16));
    json_object_object_add(ev, "envelope", json_parsed(st, 17));
    json_object_object_add(o, "event", ev);
    sqlite3_reset(st);

    struct json_object *steps = json_object_new_array();
    st = sqlite_rstmt(s, SQL_SHOW_STEPS);
    if (st) {
        sqlite3_bind_int64(st, 1, run_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct json_object *x = json_object_new_object();
            json_object_object_add(x, "idx", json_int(st, 0));
            json_object_object_add(x, "name", json_text(st, 1));
            json_object_object_add(x, "status", json_text(st, 2));
            json_object_object_add(x, "attempts", json_int(st, 3));
            json_object_object_add(x, "output", json_parsed(st, 4));
            json_object_object_add(x, "error", json_text(st, 5));
            json_object_object_add(x, "started_at", json_int(st, 6));
            json_object_object_add(x, "finished_at", json_int(st, 7));
            json_object_array_add(steps, x);
        }
        sqlite3_reset(st);
    }
    json_object_object_add(o, "steps", steps);
    struct json_object *attempts = json_object_new_array();
    st = sqlite_rstmt(s, SQL_SHOW_ATTEMPTS);
    if (st) {
        sqlite3_bind_int64(st, 1, run_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct json_object *x = json_object_new_object();
            json_object_object_add(x, "idx", json_int(st, 0));
            json_object_object_add(x, "step", json_text(st, 1));
            json_object_object_add(x, "attempt", json_int(st, 2));
            json_object_object_add(x, "status", json_text(st, 3));
            json_object_object_add(x, "error", json_text(st, 4));
            json_object_object_add(x, "started_at", json_int(st, 5));
            json_object_object_add(x, "finished_at", json_int(st, 6));
            json_object_array_add(attempts, x);
        }
        sqlite3_reset(st);
    }
    json_object_object_add(o, "attempts_log", attempts);
out:
    pthread_mutex_unlock(&s->rlock);
    return o;
}

int store_kv_get(struct store *s, const char *scope, const char *key, char **value)
{
    *value = NULL;
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_KV_GET);
    int rc = -1;
    if (st) {
        sqlite_bind_text(st, 1, scope);
        sqlite_bind_text(st, 2, key);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            *value = dup_col(st, 0);
        rc = (r == SQLITE_ROW || r == SQLITE_DONE) ? 0 : -1;
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

int store_event_runs(struct store *s, const char *source, const char *event_id, int64_t *n_runs)
{
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_EVENT_RUNS);
    int rc = -1;
    if (st) {
        sqlite_bind_text(st, 1, source);
        sqlite_bind_text(st, 2, event_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *n_runs = sqlite3_column_int64(st, 0);
            rc = 1;
        } else {
            rc = 0;
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

int64_t store_next_due(struct store *s)
{
    int64_t due = INT64_MAX;
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_NEXT_DUE);
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            due = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return due;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    static const char *const names[] = {"pending", "running", "succeeded",
                                        "failed",  "dead",    "skipped"};
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
    memset(out->runs_by_status, 0, sizeof(out->runs_by_status));
    out->events = 0;
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_COUNT_EVENTS);
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW)
            out->events = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    st = sqlite_rstmt(s, SQL_COUNT_RUNS);
    if (st) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *status = text(st, 0);
            for (size_t i = 0; status && i < 6; i++)
                if (strcmp(status, names[i]) == 0)
                    out->runs_by_status[i] = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
}

/* One count from a statement bound with up to two strings. */
static int count_query(struct store *s, const char *sql, const char *a, const char *b, int64_t *n)
{
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, sql);
    int rc = -1;
    if (st) {
        sqlite_bind_text(st, 1, a);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite_bind_text(st, 2, b);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *n = sqlite3_column_int64(st, 0);
            rc = 0;
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

int store_unfinished_runs(struct store *s, const char *workflow, const char *hash, int64_t *n)
{
    return count_query(s, SQL_UNFINISHED, workflow, hash, n);
}

int store_source_events(struct store *s, const char *source, int64_t *n)
{
    return count_query(s, SQL_SOURCE_EVENTS, source, NULL, n);
}

struct json_object *store_kv_list(struct store *s, const char *scope)
{
    pthread_mutex_lock(&s->rlock);
    sqlite3_stmt *st = sqlite_rstmt(s, SQL_KV_LIST);
    struct json_object *o = NULL;
    if (st) {
        o = json_object_new_object();
        sqlite_bind_text(st, 1, scope);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_object_object_add(o, text(st, 0), json_object_new_string(text(st, 1)));
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->rlock);
    return o;
}
