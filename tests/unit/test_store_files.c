/* The store's files and folder are the engine user's alone: 0600 files
 * (the database, its -wal and -shm) and 0700 folders, whatever the umask,
 * and a store left open to others by an older version is closed up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

static unsigned mode_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        fail_msg("'%s' does not exist", path);
    return (unsigned)(st.st_mode & 07777);
}

static void assert_mode(const char *path, unsigned want)
{
    unsigned got = mode_of(path);
    if (got != want)
        fail_msg("'%s' has mode %04o, want %04o", path, got, want);
}

static void remove_store(const char *base)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

/* Open a store at dir/a/b/s.db and write to it, under `mask`. */
static void open_under_umask(const char *dir, mode_t mask)
{
    char url[512], err[512];
    snprintf(url, sizeof(url), "sqlite:%s/a/b/s.db", dir);
    mode_t old = umask(mask);
    struct store *s = NULL;
    if (store_open(url, &s, err, sizeof(err)) < 0)
        fail_msg("store_open: %s", err);
    umask(old);
    /* a write goes through the WAL */
    assert_int_equal(store_kv_set(s, "test", "k", "v"), 0);
    store_close(s);
}

static void check_private(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/a", dir);
    assert_mode(path, 0700);
    snprintf(path, sizeof(path), "%s/a/b", dir);
    assert_mode(path, 0700);
    snprintf(path, sizeof(path), "%s/a/b/s.db", dir);
    assert_mode(path, 0600);
    const char *suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/a/b/s.db%s", dir, suffixes[i]);
        if (access(path, F_OK) == 0)
            assert_mode(path, 0600);
    }
}

static void test_private_whatever_the_umask(void **state)
{
    (void)state;
    const mode_t masks[] = {0, 022, 002, 0277};
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        char dir[] = "/tmp/sbstoreXXXXXX";
        assert_non_null(mkdtemp(dir));
        open_under_umask(dir, masks[i]);
        check_private(dir);
        remove_store(dir);
    }
}

static void test_wal_while_open_is_private(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbstoreXXXXXX", url[512], err[512], wal[512], shm[512];
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/s.db", dir);
    snprintf(wal, sizeof(wal), "%s/s.db-wal", dir);
    snprintf(shm, sizeof(shm), "%s/s.db-shm", dir);
    mode_t old = umask(0);
    struct store *s = NULL;
    assert_int_equal(store_open(url, &s, err, sizeof(err)), 0);
    assert_int_equal(store_kv_set(s, "test", "k", "v"), 0);
    /* while the engine runs, the WAL and the shared memory exist */
    assert_mode(wal, 0600);
    assert_mode(shm, 0600);
    store_close(s);
    umask(old);
    remove_store(dir);
}

static void test_older_store_closed_up(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbstoreXXXXXX";
    assert_non_null(mkdtemp(dir));
    open_under_umask(dir, 022);
    char db[512], wal[512];
    snprintf(db, sizeof(db), "%s/a/b/s.db", dir);
    snprintf(wal, sizeof(wal), "%s/a/b/s.db-wal", dir);
    /* as an older version left it */
    assert_int_equal(chmod(db, 0644), 0);
    FILE *f = fopen(wal, "ab");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(wal, 0666), 0);
    open_under_umask(dir, 022);
    assert_mode(db, 0600);
    if (access(wal, F_OK) == 0)
        assert_mode(wal, 0600);
    remove_store(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_whatever_the_umask),
        cmocka_unit_test(test_wal_while_open_is_private),
        cmocka_unit_test(test_older_store_closed_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
