/* What each write does inside the writer's transaction (writer thread). */
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "store_sqlite.h"
#include "xalloc.h"

static const char SQL_INSERT_EVENT[] =
    "INSERT INTO events (source, event_id, type, received_at, payload, envelope) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, event_id) DO NOTHING";
static const char SQL_INSERT_RUN[] =
    "INSERT INTO runs (event, workflow, workflow_hash, status, next_attempt_at, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4)";
static const char SQL_DUE[] = "SELECT id FROM (SELECT id, next_attempt_at AS due FROM runs"
                              "  WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?1"
                              " UNION ALL SELECT id, lease_until AS due FROM runs"
                              "  WHERE status = 'running' AND lease_until <= ?1)"
                              " ORDER BY due, id LIMIT ?2";
static const char SQL_LEASE[] =
    "UPDATE runs SET status = 'running', lease_owner = ?2, lease_until = ?3,"
    " attempts = attempts + 1, updated_at = ?4 WHERE id = ?1";
static const char SQL_LOAD_RUN[] =
    "SELECT r.event, r.workflow, r.workflow_hash, r.attempts, r.budget_base, r.next_step,"
    " e.source, e.event_id, e.type, e.received_at, e.payload, e.envelope, r.created_at"
    " FROM runs r JOIN events e ON e.id = r.event WHERE r.id = ?1";
static const char SQL_LOAD_STEPS[] =
    "SELECT idx, name, status, output FROM steps WHERE run = ?1 AND idx < ?2 ORDER BY idx";
static const char SQL_UPSERT_STEP[] =
    "INSERT INTO steps (run, idx, name, status, attempts, output, error, started_at,"
    " finished_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (run, idx) DO UPDATE SET name = excluded.name, status = excluded.status,"
    " attempts = steps.attempts + 1, output = excluded.output, error = excluded.error,"
    " started_at = excluded.started_at, finished_at = excluded.finished_at";
static const char SQL_INSERT_ATTEMPT[] =
    "INSERT INTO attempts (run, idx, step, attempt, status, error, started_at, finished_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_UPDATE_RUN[] =
    "UPDATE runs SET status = ?2, next_step = ?3, next_attempt_at = ?4, error = ?5,"
    " reason = ?6, finished_at = ?7, lease_owner = NULL, lease_until = NULL,"
    " updated_at = ?8, attempts = max(attempts - ?9, 0),"
    " workflow_hash = coalesce(?10, workflow_hash) WHERE id = ?1";
static const char SQL_STEP_PROGRESS[] =
    "UPDATE runs SET next_step = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_EXTEND[] =
    "UPDATE runs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'";
static const char SQL_RELEASE_LEASES[] =
    "UPDATE runs SET lease_until = 0 WHERE lease_owner = ?1 AND status = 'running'";
static const char SQL_REPLAY_ONE[] =
    "UPDATE runs SET status = 'pending', next_attempt_at = ?2, budget_base = attempts,"
    " error = NULL, finished_at = NULL, updated_at = ?2"
    " WHERE id = ?1 AND status IN ('dead', 'failed')";
static const char SQL_REPLAY_MANY[] =
    "UPDATE runs SET status = 'pending', next_attempt_at = ?1, budget_base = attempts,"
    " error = NULL, finished_at = NULL, updated_at = ?1"
    " WHERE status IN ('dead', 'failed') AND (?2 IS NULL OR workflow = ?2)"
    " AND updated_at >= ?3 AND (?4 IS NULL OR status = ?4)";
static const char SQL_KV_SET[] =
    "INSERT INTO kv (scope, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value,"
    " updated_at = excluded.updated_at";
static const char SQL_PURGE_RUNS[] =
    "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status IN"
    " ('succeeded', 'dead', 'skipped') AND finished_at < ?1 LIMIT 1000)";
/* rows one purge write deletes at most (the LIMITs above) */
#define PURGE_CHUNK 1000
static const char SQL_PURGE_EVENTS[] =
    "DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.received_at < ?1"
    " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event = e.id) LIMIT 1000)";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int step_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_write(SB_LOG_ERROR, "store", "sqlite: %s", sqlite3_errmsg(s->wdb));
        return -1;
    }
    return 0;
}

static int do_append(struct store *s, struct store_append *a)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_INSERT_EVENT);
    if (!st)
        return -1;
    sqlite_bind_text(st, 1, a->source);
    sqlite_bind_text(st, 2, a->event_id);
    sqlite_bind_text(st, 3, a->type ? a->type : "");
    sqlite3_bind_int64(st, 4, a->received_at_ms);
    /* the big values are bound in place: they live until the write is
     * done, and the bindings are cleared right after the step */
    sqlite_bind_static(st, 5, a->payload ? a->payload : "{}");
    sqlite_bind_static(st, 6, a->envelope ? a->envelope : "{}");
    int rc = step_done(s, st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        return -1;
    if (sqlite3_changes(s->wdb) == 0) {
        a->result = STORE_DUPLICATE;
        a->event_row = 0;
        return 0;
    }
    a->event_row = sqlite3_last_insert_rowid(s->wdb);
    int64_t now = now_ms();
    for (size_t i = 0; i < a->n_runs; i++) {
        st = sqlite_wstmt(s, SQL_INSERT_RUN);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, a->event_row);
        sqlite_bind_text(st, 2, a->workflows[i]);
        sqlite_bind_text(st, 3, a->workflow_hashes ? a->workflow_hashes[i] : "");
        sqlite3_bind_int64(st, 4, now);
        if (step_done(s, st) < 0)
            return -1;
    }
    a->result = STORE_OK;
    return 0;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return xstrdup(t ? (const char *)t : "");
}

static struct json_object *column_json(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    struct json_object *v = t ? json_tokener_parse((const char *)t) : NULL;
    return v ? v : json_object_new_object();
}

/* Load everything a worker needs about a freshly leased run. */
static int load_run(struct store *s, struct claimed_run *r)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_LOAD_RUN);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return -1;
    r->event_row = sqlite3_column_int64(st, 0);
    r->workflow = column_dup(st, 1);
    r->workflow_hash = column_dup(st, 2);
    r->attempts = sqlite3_column_int(st, 3);
    r->budget_base = sqlite3_column_int(st, 4);
    r->next_step = sqlite3_column_int(st, 5);
    r->source = column_dup(st, 6);
    r->event_id = column_dup(st, 7);
    r->type = column_dup(st, 8);
    r->received_at_ms = sqlite3_column_int64(st, 9);
    r->payload = column_json(st, 10);
    r->envelope = column_json(st, 11);
    r->created_at_ms = sqlite3_column_int64(st, 12);
    sqlite3_reset(st);
    st = sqlite_wstmt(s, SQL_LOAD_STEPS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, r->next_step);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        XGROW(r->steps, cap, r->n_steps + 1);
        struct claimed_step *cs = &r->steps[r->n_steps++];
        cs->idx = sqlite3_column_int(st, 0);
        cs->name = column_dup(st, 1);
        cs->status = column_dup(st, 2);
        cs->output = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : column_json(st, 3);
    }
    sqlite3_reset(st);
    return 0;
}

static void claimed_release(struct claimed_run *r)
{
    free(r->workflow);
    free(r->workflow_hash);
    free(r->source);
    free(r->event_id);
    free(r->type);
    json_object_put(r->payload);
    json_object_put(r->envelope);
    for (size_t j = 0; j < r->n_steps; j++) {
        free(r->steps[j].name);
        free(r->steps[j].status);
        json_object_put(r->steps[j].output);
    }
    free(r->steps);
    memset(r, 0, sizeof(*r));
}

void store_claimed_free(struct claimed_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        claimed_release(&runs[i]);
    free(runs);
}

static int do_claim(struct store *s, struct op *op)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_DUE);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, op->u.claim.now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->u.claim.max);
    int64_t ids[256];
    size_t n = 0;
    while (n < op->u.claim.max && n < 256 && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    struct claimed_run *runs = xcalloc(n ? n : 1, sizeof(*runs));
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        st = sqlite_wstmt(s, SQL_LEASE);
        if (!st)
            break;
        sqlite3_bind_int64(st, 1, ids[i]);
        sqlite_bind_text(st, 2, op->u.claim.owner);
        sqlite3_bind_int64(st, 3, op->u.claim.now_ms + op->u.claim.lease_ms);
        sqlite3_bind_int64(st, 4, op->u.claim.now_ms);
        if (step_done(s, st) < 0)
            break;
        runs[got].id = ids[i];
        if (load_run(s, &runs[got]) < 0) {
            claimed_release(&runs[got]);
            break;
        }
        got++;
    }
    if (got < n) {
        /* undo the leases: the savepoint rolls back the whole claim */
        store_claimed_free(runs, got);
        return -1;
    }
    op->u.claim.runs = runs;
    op->u.claim.n = got;
    return 0;
}

static int do_update(struct store *s, const struct run_update *u);

static int do_step(struct store *s, const struct step_record *r)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_UPSERT_STEP);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    sqlite3_bind_int(st, 2, r->idx);
    sqlite_bind_text(st, 3, r->name);
    sqlite_bind_text(st, 4, r->status);
    sqlite_bind_text(st, 5, r->output);
    sqlite_bind_text(st, 6, r->error);
    sqlite3_bind_int64(st, 7, r->started_at_ms);
    sqlite3_bind_int64(st, 8, r->finished_at_ms);
    if (step_done(s, st) < 0)
        return -1;
    st = sqlite_wstmt(s, SQL_INSERT_ATTEMPT);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    sqlite3_bind_int(st, 2, r->idx);
    sqlite_bind_text(st, 3, r->name);
    sqlite3_bind_int(st, 4, r->attempt);
    sqlite_bind_text(st, 5, r->status);
    sqlite_bind_text(st, 6, r->error);
    sqlite3_bind_int64(st, 7, r->started_at_ms);
    sqlite3_bind_int64(st, 8, r->finished_at_ms);
    if (step_done(s, st) < 0)
        return -1;
    if (r->then)
        return do_update(s, r->then);
    if (r->next_step < 0)
        return 0;
    /* the checkpoint and the resume point move together */
    st = sqlite_wstmt(s, SQL_STEP_PROGRESS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run_id);
    sqlite3_bind_int(st, 2, r->next_step);
    sqlite3_bind_int64(st, 3, now_ms());
    return step_done(s, st);
}

static int do_update(struct store *s, const struct run_update *u)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_UPDATE_RUN);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, u->run_id);
    sqlite_bind_text(st, 2, u->status);
    sqlite3_bind_int(st, 3, u->next_step);
    sqlite3_bind_int64(st, 4, u->next_attempt_at_ms);
    sqlite_bind_text(st, 5, u->error);
    sqlite_bind_text(st, 6, u->reason);
    if (u->finished_at_ms)
        sqlite3_bind_int64(st, 7, u->finished_at_ms);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, now_ms());
    sqlite3_bind_int(st, 9, u->undo_attempt ? 1 : 0);
    sqlite_bind_text(st, 10, u->workflow_hash);
    return step_done(s, st);
}

static int do_extend(struct store *s, struct op *op)
{
    for (size_t i = 0; i < op->u.extend.n; i++) {
        sqlite3_stmt *st = sqlite_wstmt(s, SQL_EXTEND);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, op->u.extend.ids[i]);
        sqlite_bind_text(st, 2, op->u.extend.owner);
        sqlite3_bind_int64(st, 3, op->u.extend.until_ms);
        if (step_done(s, st) < 0)
            return -1;
    }
    return 0;
}

static int do_replay(struct store *s, struct op *op)
{
    sqlite3_stmt *st;
    if (op->u.replay.run_id) {
        st = sqlite_wstmt(s, SQL_REPLAY_ONE);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, op->u.replay.run_id);
        sqlite3_bind_int64(st, 2, op->u.replay.now_ms);
    } else {
        const struct run_filter *f = op->u.replay.filter;
        st = sqlite_wstmt(s, SQL_REPLAY_MANY);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, op->u.replay.now_ms);
        sqlite_bind_text(st, 2, f ? f->workflow : NULL);
        sqlite3_bind_int64(st, 3, f ? f->since_ms : 0);
        sqlite_bind_text(st, 4, f ? f->status : NULL);
    }
    if (step_done(s, st) < 0)
        return -1;
    op->u.replay.count = (size_t)sqlite3_changes(s->wdb);
    return 0;
}

static int do_kv_set(struct store *s, struct op *op)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_KV_SET);
    if (!st)
        return -1;
    sqlite_bind_text(st, 1, op->u.kv.scope);
    sqlite_bind_text(st, 2, op->u.kv.key);
    sqlite_bind_text(st, 3, op->u.kv.value);
    sqlite3_bind_int64(st, 4, now_ms());
    return step_done(s, st);
}

static int do_purge(struct store *s, struct op *op)
{
    sqlite3_stmt *st = sqlite_wstmt(s, SQL_PURGE_RUNS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, op->u.purge.older_than_ms);
    if (step_done(s, st) < 0)
        return -1;
    op->u.purge.more = sqlite3_changes(s->wdb) >= PURGE_CHUNK;
    st = sqlite_wstmt(s, SQL_PURGE_EVENTS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, op->u.purge.older_than_ms);
    if (step_done(s, st) < 0)
        return -1;
    int events = sqlite3_changes(s->wdb);
    op->u.purge.purged = (size_t)events;
    op->u.purge.more |= events >= PURGE_CHUNK;
    return 0;
}

int sqlite_op_execute(struct store *s, struct op *op)
{
    int rc;
    switch (op->kind) {
    case OP_APPEND:
        rc = do_append(s, op->u.append);
        if (rc < 0)
            op->u.append->result = STORE_UNAVAILABLE;
        return rc;
    case OP_CLAIM:
        return do_claim(s, op);
    case OP_STEP:
        return do_step(s, op->u.step);
    case OP_UPDATE:
        return do_update(s, op->u.update);
    case OP_EXTEND:
        return do_extend(s, op);
    case OP_RELEASE: {
        sqlite3_stmt *st = sqlite_wstmt(s, SQL_RELEASE_LEASES);
        if (!st)
            return -1;
        sqlite_bind_text(st, 1, op->u.owner);
        return step_done(s, st);
    }
    case OP_REPLAY:
        return do_replay(s, op);
    case OP_KV_SET:
        return do_kv_set(s, op);
    case OP_PURGE:
        return do_purge(s, op);
    case OP_PING:
        return 0;
    }
    return -1;
}

void sqlite_op_discard(struct op *op)
{
    if (op->kind == OP_CLAIM) {
        store_claimed_free(op->u.claim.runs, op->u.claim.n);
        op->u.claim.runs = NULL;
        op->u.claim.n = 0;
    }
}
