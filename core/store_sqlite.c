/*
 * The SQLite store: one file in WAL mode with synchronous=FULL, a single
 * writer thread that group-commits every queued write in one transaction
 * (one fsync per batch), a reader connection for queries, and a checkpoint
 * thread so WAL checkpoints never stall the writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "private_file.h"
#include "store_sqlite.h"
#include "xalloc.h"

#define MAX_BATCH 2048
#define BUSY_TIMEOUT_MS 5000
/* checkpoint once the WAL holds this many frames (pages) */
#define CHECKPOINT_FRAMES 4096

/* Schema versions: migrations[v] takes user_version v to v+1. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  envelope TEXT NOT NULL,"
    "  UNIQUE (source, event_id));"
    "CREATE INDEX events_received ON events (received_at);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  event INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,"
    "  workflow TEXT NOT NULL,"
    "  workflow_hash TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  budget_base INTEGER NOT NULL DEFAULT 0,"
    "  next_step INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  lease_owner TEXT,"
    "  lease_until INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  finished_at INTEGER,"
    "  error TEXT,"
    "  reason TEXT);"
    "CREATE INDEX runs_due ON runs (status, next_attempt_at);"
    "CREATE INDEX runs_lease ON runs (status, lease_until);"
    "CREATE INDEX runs_event ON runs (event);"
    "CREATE INDEX runs_workflow ON runs (workflow, id);"
    "CREATE TABLE steps ("
    "  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  output TEXT,"
    "  error TEXT,"
    "  started_at INTEGER,"
    "  finished_at INTEGER,"
    "  PRIMARY KEY (run, idx));"
    "CREATE TABLE attempts ("
    "  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  step TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error TEXT,"
    "  started_at INTEGER,"
    "  finished_at INTEGER);"
    "CREATE INDEX attempts_run ON attempts (run);"
    "CREATE TABLE kv ("
    "  scope TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key));",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int sqlite_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_write(SB_LOG_ERROR, "store", "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static sqlite3_stmt *cached_stmt(sqlite3 *db, struct stmt_cache *cache, size_t n, const char *sql)
{
    size_t i = 0;
    for (; i < n && cache[i].sql; i++) {
        if (cache[i].sql == sql) {
            sqlite3_reset(cache[i].stmt);
            sqlite3_clear_bindings(cache[i].stmt);
            return cache[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_write(SB_LOG_ERROR, "store", "sqlite: cannot prepare: %s", sqlite3_errmsg(db));
        return NULL;
    }
    if (i < n) {
        cache[i].sql = sql;
        cache[i].stmt = st;
    } else {
        /* a full cache means a bug (statements built at run time) */
        log_write(SB_LOG_ERROR, "store", "statement cache full");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *sqlite_wstmt(struct store *s, const char *sql)
{
    return cached_stmt(s->wdb, s->wcache, sizeof(s->wcache) / sizeof(s->wcache[0]), sql);
}

sqlite3_stmt *sqlite_rstmt(struct store *s, const char *sql)
{
    return cached_stmt(s->rdb, s->rcache, sizeof(s->rcache) / sizeof(s->rcache[0]), sql);
}

void sqlite_bind_static(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void sqlite_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void finalize_cache(struct stmt_cache *cache, size_t n)
{
    for (size_t i = 0; i < n && cache[i].sql; i++)
        sqlite3_finalize(cache[i].stmt);
}

/* mkdir -p of the folder holding path. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        /* the store's folders are the engine user's alone, whatever the umask */
        if (mkdir(copy, 0700) == 0)
            chmod(copy, 0700);
        else if (errno != EEXIST) {
            char msg[128];
            strerror_r(errno, msg, sizeof(msg));
            snprintf(err, errlen, "cannot create folder '%s': %s", copy, msg);
            free(copy);
            return -1;
        }
        *p = '/';
    }
    free(copy);
    return 0;
}

static int open_connection(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open '%s': %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (sqlite_exec(db, "PRAGMA journal_mode=WAL;") < 0 ||
        sqlite_exec(db, "PRAGMA synchronous=FULL;") < 0 ||
        sqlite_exec(db, "PRAGMA foreign_keys=ON;") < 0) {
        snprintf(err, errlen, "cannot set up '%s': %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Bring the schema to SCHEMA_VERSION, one migration per transaction. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int v = user_version(db);
    if (v < 0) {
        snprintf(err, errlen, "'%s' is not a switchboard store: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (v > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "'%s' has schema version %d, newer than this switchboard's %d; upgrade "
                 "switchboard",
                 path, v, SCHEMA_VERSION);
        return -1;
    }
    for (; v < SCHEMA_VERSION; v++) {
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version=%d;", v + 1);
        if (sqlite_exec(db, "BEGIN IMMEDIATE;") < 0)
            goto fail;
        /* another process may have migrated while we waited for the lock */
        if (user_version(db) > v) {
            sqlite_exec(db, "COMMIT;");
            continue;
        }
        if (sqlite_exec(db, migrations[v]) < 0 || sqlite_exec(db, setv) < 0 ||
            sqlite_exec(db, "COMMIT;") < 0) {
            sqlite_exec(db, "ROLLBACK;");
            goto fail;
        }
        log_write(SB_LOG_INFO, "store", "migrated %s to schema version %d", path, v + 1);
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot migrate '%s' to schema version %d: %s", path, v + 1,
             sqlite3_errmsg(db));
    return -1;
}

static void complete(struct store *s, struct op *batch, int failed)
{
    for (struct op *op = batch, *next; op; op = next) {
        next = op->next;
        if (failed) {
            sqlite_op_discard(op);
            op->rc = -1;
            if (op->kind == OP_APPEND)
                op->u.append->result = STORE_UNAVAILABLE;
        }
        if (op->async) {
            struct store_append *a = op->u.append;
            free(op);
            if (a->done)
                a->done(a, a->arg);
        } else {
            pthread_mutex_lock(&s->lock);
            op->done = true;
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->lock);
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_SAVEPOINT[] = "SAVEPOINT op";
static const char SQL_RELEASE[] = "RELEASE op";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO op";

/* Step a cached statement that returns no rows. 0 or -1. */
static int wexec(struct store *s, const char *sql)
{
    sqlite3_stmt *st = sqlite_wstmt(s, sql);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_write(SB_LOG_ERROR, "store", "sqlite: %s: %s", sql, sqlite3_errmsg(s->wdb));
        return -1;
    }
    return 0;
}

/* Run one batch in one transaction. First without savepoints (the common
 * case, and the fast one); if any write fails, the transaction is rolled
 * back and the batch run again with each write in a savepoint, so that one
 * failing write does not undo the others. */
static int run_batch(struct store *s, struct op *batch, size_t n)
{
    if (wexec(s, SQL_BEGIN) < 0)
        return -1;
    bool failed = false;
    for (struct op *op = batch; op && !failed; op = op->next)
        failed = (op->rc = sqlite_op_execute(s, op)) < 0;
    if (failed) {
        for (struct op *op = batch; op; op = op->next)
            sqlite_op_discard(op);
        sqlite_exec(s->wdb, "ROLLBACK;");
        if (wexec(s, SQL_BEGIN) < 0)
            return -1;
        for (struct op *op = batch; op; op = op->next) {
            wexec(s, SQL_SAVEPOINT);
            op->rc = sqlite_op_execute(s, op);
            if (op->rc < 0) {
                sqlite_op_discard(op);
                wexec(s, SQL_ROLLBACK_TO);
            }
            wexec(s, SQL_RELEASE);
        }
    }
    if (wexec(s, SQL_COMMIT) < 0) {
        if (!sqlite3_get_autocommit(s->wdb))
            sqlite_exec(s->wdb, "ROLLBACK;");
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.commits++;
    s->stats.batched_writes += (int64_t)n;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->lock);
    while (1) {
        while (!s->head && !s->closing)
            pthread_cond_wait(&s->wake, &s->lock);
        if (!s->head && s->closing)
            break;
        /* everything queued while the previous batch was committing */
        struct op *batch = s->head, *last = batch;
        size_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        s->queued -= n;
        last->next = NULL;
        pthread_mutex_unlock(&s->lock);
        int rc = run_batch(s, batch, n);
        if (rc < 0) {
            pthread_mutex_lock(&s->lock);
            s->stats.commit_failures++;
            pthread_mutex_unlock(&s->lock);
            log_write(SB_LOG_ERROR, "store", "a batch of %zu writes failed: %s", n,
                      sqlite3_errmsg(s->wdb));
        }
        complete(s, batch, rc < 0);
        pthread_mutex_lock(&s->lock);
        if (s->wal_frames >= CHECKPOINT_FRAMES)
            pthread_cond_signal(&s->ckpt_wake);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Count WAL growth on the writer; the checkpointer acts on it. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct store *s = arg;
    pthread_mutex_lock(&s->lock);
    s->wal_frames = frames;
    pthread_mutex_unlock(&s->lock);
    return SQLITE_OK;
}

/* Checkpoints on a connection of their own, so a commit never waits for
 * one; passive, so they never block the writer either. */
static void *checkpointer_main(void *arg)
{
    struct store *s = arg;
    sqlite3 *db = NULL;
    char err[256];
    if (open_connection(s->path, &db, err, sizeof(err)) < 0) {
        log_write(SB_LOG_ERROR, "store", "checkpointer: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->closing) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&s->ckpt_wake, &s->lock, &until);
        if (s->closing)
            break;
        bool due = s->wal_frames > 0;
        pthread_mutex_unlock(&s->lock);
        int log_frames = 0, done_frames = 0;
        if (due)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                      &done_frames);
        pthread_mutex_lock(&s->lock);
        if (due && done_frames >= log_frames)
            s->wal_frames = 0;
    }
    pthread_mutex_unlock(&s->lock);
    sqlite3_close(db);
    return NULL;
}

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    if (strncmp(url, "sqlite:", 7) != 0) {
        snprintf(err, errlen, "unsupported store '%s': this build has sqlite:PATH", url);
        return -1;
    }
    const char *path = url + 7;
    if (!*path) {
        snprintf(err, errlen, "the store URL has no path: write sqlite:var/switchboard.db");
        return -1;
    }
    if (make_parent_dirs(path, err, errlen) < 0 || private_file_prepare(path, err, errlen) < 0)
        return -1;
    struct store *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->done, NULL);
    pthread_cond_init(&s->ckpt_wake, NULL);
    if (open_connection(path, &s->wdb, err, errlen) < 0 || migrate(s->wdb, path, err, errlen) < 0 ||
        open_connection(path, &s->rdb, err, errlen) < 0) {
        store_close(s);
        return -1;
    }
    /* checkpoints happen on their own thread, not in the writer's commits */
    sqlite_exec(s->wdb, "PRAGMA wal_autocheckpoint=0;");
    sqlite3_wal_hook(s->wdb, wal_hook, s);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the store writer thread");
        store_close(s);
        return -1;
    }
    s->writer_started = true;
    if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) == 0)
        s->checkpointer_started = true;
    *out = s;
    return 0;
}

bool store_exists(const char *url)
{
    struct stat st;
    if (strncmp(url, "sqlite:", 7) != 0)
        return true; /* store_open says what is wrong with it */
    return stat(url + 7, &st) == 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->ckpt_wake);
    pthread_mutex_unlock(&s->lock);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    if (s->checkpointer_started)
        pthread_join(s->checkpointer, NULL);
    finalize_cache(s->wcache, sizeof(s->wcache) / sizeof(s->wcache[0]));
    finalize_cache(s->rcache, sizeof(s->rcache) / sizeof(s->rcache[0]));
    if (s->wdb) {
        /* leave a small WAL behind: a clean close */
        sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close(s->wdb);
    }
    sqlite3_close(s->rdb);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done);
    pthread_cond_destroy(&s->ckpt_wake);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->rlock);
    free(s->path);
    free(s);
}

/* Queue op; -1 when the store is closing. */
static int enqueue(struct store *s, struct op *op)
{
    op->next = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    if (s->tail)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    s->queued++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* Queue op and wait for its batch; returns op->rc. */
static int submit(struct store *s, struct op *op)
{
    op->done = false;
    op->async = false;
    if (enqueue(s, op) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    while (!op->done)
        pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return op->rc;
}

int store_append_async(struct store *s, struct store_append *a)
{
    struct op *op = xcalloc(1, sizeof(*op));
    op->kind = OP_APPEND;
    op->async = true;
    op->u.append = a;
    if (enqueue(s, op) < 0) {
        free(op);
        return -1;
    }
    return 0;
}

enum store_result store_append(struct store *s, struct store_append *a)
{
    struct op op = {.kind = OP_APPEND, .u.append = a};
    if (submit(s, &op) < 0)
        a->result = STORE_UNAVAILABLE;
    return a->result;
}

int store_claim(struct store *s, const char *owner, int64_t now_ms, int64_t lease_ms, size_t max,
                struct claimed_run **out, size_t *n)
{
    struct op op = {.kind = OP_CLAIM};
    op.u.claim.owner = owner;
    op.u.claim.now_ms = now_ms;
    op.u.claim.lease_ms = lease_ms;
    op.u.claim.max = max;
    *out = NULL;
    *n = 0;
    if (submit(s, &op) < 0)
        return -1;
    *out = op.u.claim.runs;
    *n = op.u.claim.n;
    return 0;
}

int store_step(struct store *s, const struct step_record *r)
{
    struct op op = {.kind = OP_STEP, .u.step = r};
    return submit(s, &op);
}

int store_update_run(struct store *s, const struct run_update *u)
{
    struct op op = {.kind = OP_UPDATE, .u.update = u};
    return submit(s, &op);
}

int store_extend_leases(struct store *s, const char *owner, const int64_t *ids, size_t n,
                        int64_t until_ms)
{
    struct op op = {.kind = OP_EXTEND};
    op.u.extend.owner = owner;
    op.u.extend.ids = ids;
    op.u.extend.n = n;
    op.u.extend.until_ms = until_ms;
    return submit(s, &op);
}

int store_release_leases(struct store *s, const char *owner)
{
    struct op op = {.kind = OP_RELEASE, .u.owner = owner};
    return submit(s, &op);
}

int store_replay(struct store *s, int64_t run_id, const struct run_filter *filter, int64_t now_ms,
                 size_t *count)
{
    struct op op = {.kind = OP_REPLAY};
    op.u.replay.run_id = run_id;
    op.u.replay.filter = filter;
    op.u.replay.now_ms = now_ms;
    int rc = submit(s, &op);
    if (count)
        *count = op.u.replay.count;
    return rc;
}

int store_kv_set(struct store *s, const char *scope, const char *key, const char *value)
{
    struct op op = {.kind = OP_KV_SET};
    op.u.kv.scope = scope;
    op.u.kv.key = key;
    op.u.kv.value = value;
    return submit(s, &op);
}

int store_purge(struct store *s, int64_t older_than_ms, size_t *purged)
{
    /* in chunks, each its own write, so other writes go on in between */
    size_t total = 0;
    int rc;
    do {
        struct op op = {.kind = OP_PURGE};
        op.u.purge.older_than_ms = older_than_ms;
        rc = submit(s, &op);
        total += op.u.purge.purged;
        if (rc < 0 || !op.u.purge.more)
            break;
    } while (1);
    if (purged)
        *purged = total;
    return rc;
}

int store_ping(struct store *s)
{
    struct op op = {.kind = OP_PING};
    return submit(s, &op);
}
