/* Internals of the SQLite store, shared by its three files:
 * store_sqlite.c (connections, schema, the writer thread), store_sqlite_ops.c
 * (what each write does inside a batch) and store_sqlite_read.c (queries). */
#ifndef SB_STORE_SQLITE_H
#define SB_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

enum op_kind {
    OP_APPEND,
    OP_CLAIM,
    OP_STEP,
    OP_UPDATE,
    OP_EXTEND,
    OP_RELEASE,
    OP_REPLAY,
    OP_KV_SET,
    OP_PURGE,
    OP_PING,
};

/* One queued write. Sync writes live on the caller's stack and are waited
 * for; async appends are allocated and freed by the writer. */
struct op {
    enum op_kind kind;
    int rc;
    bool done;
    bool async;
    union {
        struct store_append *append;
        struct {
            const char *owner;
            int64_t now_ms, lease_ms;
            size_t max;
            struct claimed_run *runs;
            size_t n;
        } claim;
        const struct step_record *step;
        const struct run_update *update;
        struct {
            const char *owner;
            const int64_t *ids;
            size_t n;
            int64_t until_ms;
        } extend;
        struct {
            int64_t run_id;
            const struct run_filter *filter;
            int64_t now_ms;
            size_t count;
        } replay;
        struct {
            const char *scope, *key, *value;
        } kv;
        struct {
            int64_t older_than_ms;
            size_t purged;
            bool more; /* a chunk was full: there may be more to purge */
        } purge;
        const char *owner;
    } u;
    struct op *next;
};

struct store {
    char *path;
    sqlite3 *wdb; /* the writer's connection, used only by the writer */
    sqlite3 *rdb; /* reads, under rlock */
    pthread_mutex_t rlock;
    pthread_t writer;
    pthread_t checkpointer;
    bool writer_started, checkpointer_started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* queue not empty, or closing */
    pthread_cond_t done; /* a batch finished */
    pthread_cond_t ckpt_wake;
    struct op *head, *tail;
    size_t queued;
    bool closing;
    struct store_stats stats; /* commits etc., under lock */
    int64_t wal_frames;       /* since the last checkpoint request */
    /* prepared statements of the writer connection, by SQL text address */
    struct stmt_cache {
        const char *sql;
        sqlite3_stmt *stmt;
    } wcache[48], rcache[48];
};

/* Execute one write inside the current transaction (writer thread). */
int sqlite_op_execute(struct store *s, struct op *op);
/* Release what an op allocated when its batch failed. */
void sqlite_op_discard(struct op *op);

/* Run `sql` on db; 0 or -1 (logged). */
int sqlite_exec(sqlite3 *db, const char *sql);
/* The prepared statement for `sql` (a string constant: cached by its
 * address) on the writer (writer thread only) or the reader connection
 * (under rlock), reset and with bindings cleared. NULL on error (logged). */
sqlite3_stmt *sqlite_wstmt(struct store *s, const char *sql);
sqlite3_stmt *sqlite_rstmt(struct store *s, const char *sql);
/* Bind a string or NULL (copied). */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *text);
/* Bind a string or NULL without copying: text must stay valid until the
 * statement is stepped and its bindings cleared. */
void sqlite_bind_static(sqlite3_stmt *st, int i, const char *text);

#endif
