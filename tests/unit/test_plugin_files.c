/* The file side of the loader (core/plugin_file.h): a plugin folder
 * writable by group or others, a .so owned by someone other than root and
 * the engine's user, and a symbolic link out of the folder are refused,
 * each with a sentence that says the fix; and the file checked is the file
 * loaded, through its descriptor. */
#define _GNU_SOURCE /* dlinfo */
#include <dlfcn.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <switchboard/plugin.h>

#include "diag.h"
#include "loader.h"
#include "plugin_file.h"
#include "xalloc.h"

#define SET SB_TEST_PLUGIN_DIR "/set"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected '%s' in '%s'", needle, haystack ? haystack : "(null)");
}

static void copy(const char *from, const char *to)
{
    char *cmd = xasprintf("cp '%s' '%s' && chmod 0644 '%s'", from, to, to);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void remove_tree(const char *dir)
{
    char *cmd = xasprintf("chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* A fresh folder (0755) holding a copy of the fixture plugin. */
static char *folder_with_fixture(void)
{
    char *dir = xstrdup("/tmp/sbplugfXXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    char *so = xasprintf("%s/fixture.so", dir);
    copy(SET "/fixture.so", so);
    free(so);
    return dir;
}

/* Load every plugin of `dir`: how many were refused; the first message in
 * msg (caller frees) when msg is not NULL. */
static size_t load_folder(const char *dir, size_t *loaded, char **msg)
{
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    char *dirs[] = {(char *)(uintptr_t)dir};
    size_t refused = plugin_set_load_dirs(&set, dirs, 1, &d);
    if (loaded)
        *loaded = set.n;
    if (msg)
        *msg = d.n ? diag_format(&d.items[0]) : NULL;
    diag_release(&d);
    plugin_set_release(&set);
    return refused;
}

static void test_writable_folder_refused(void **state)
{
    (void)state;
    char *dir = folder_with_fixture(), *msg = NULL;
    size_t loaded = 0;
    assert_int_equal(chmod(dir, 0775), 0);
    assert_int_equal(load_folder(dir, &loaded, &msg), 1);
    assert_int_equal(loaded, 0);
    assert_contains(msg, "plugin folder refused: the plugin folder");
    assert_contains(msg, "is writable by its group (mode 0775)");
    assert_contains(msg, "fix it with: chmod go-w");
    free(msg);
    assert_int_equal(chmod(dir, 01777), 0); /* sticky does not help: anyone can add a file */
    assert_int_equal(load_folder(dir, &loaded, &msg), 1);
    assert_contains(msg, "is writable by others (mode 1777)");
    free(msg);
    /* the same when one file is loaded on its own */
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    char *so = xasprintf("%s/fixture.so", dir);
    assert_int_equal(plugin_set_load_file(&set, so, &d), -1);
    assert_contains(d.items[0].message, "is writable by others");
    diag_release(&d);
    plugin_set_release(&set);
    free(so);
    /* fixed as the message says: it loads */
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(load_folder(dir, &loaded, NULL), 0);
    assert_int_equal(loaded, 1);
    remove_tree(dir);
    free(dir);
}

/* In a child that runs as `uid` (0: stay root), load dir/fixture.so:
 * 0 when it loaded, 1 when refused with `want` in the message, else 2. */
static int load_as(uid_t uid, const char *dir, const char *want)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (uid && (setgid(uid) != 0 || setuid(uid) != 0))
            _exit(3);
        struct plugin_set set;
        struct diag d;
        plugin_set_init(&set);
        diag_init(&d);
        char *so = xasprintf("%s/fixture.so", dir);
        int rc = plugin_set_load_file(&set, so, &d);
        int code = rc == 0 ? 0 : 2;
        if (rc < 0 && want && strstr(d.items[0].message, want))
            code = 1;
        if (code == 2)
            fprintf(stderr, "refusal: %s\n", d.n ? d.items[0].message : "(none)");
        _exit(code);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}

static void test_foreign_owner_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* only root can give a file to another user */
    char *dir = folder_with_fixture();
    char *so = xasprintf("%s/fixture.so", dir);
    /* root's engine: a file of uid 12345 is refused, root's loads */
    assert_int_equal(chown(so, 12345, 12345), 0);
    assert_int_equal(load_as(0, dir,
                             "it belongs to uid 12345, who is neither root nor the user the engine "
                             "runs as (uid 0"),
                     1);
    assert_int_equal(chown(so, 0, 0), 0);
    assert_int_equal(load_as(0, dir, NULL), 0);
    /* an engine running as uid 65534: its own file and root's load, another
     * user's does not */
    assert_int_equal(chown(so, 65534, 65534), 0);
    assert_int_equal(load_as(65534, dir, NULL), 0);
    assert_int_equal(chown(so, 12345, 12345), 0);
    assert_int_equal(load_as(65534, dir, "the user the engine runs as (uid 65534"), 1);
    /* the message says how to fix it */
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    assert_int_equal(plugin_set_load_file(&set, so, &d), -1);
    assert_contains(d.items[0].message, "fix it with: chown root");
    diag_release(&d);
    plugin_set_release(&set);
    free(so);
    remove_tree(dir);
    free(dir);
}

static void test_symlink_out_of_folder_refused(void **state)
{
    (void)state;
    char *outside = folder_with_fixture();
    char dir[] = "/tmp/sbplugsXXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    char *link = xasprintf("%s/fixture.so", dir), *target = xasprintf("%s/fixture.so", outside);
    assert_int_equal(symlink(target, link), 0);
    char *msg = NULL;
    size_t loaded = 0;
    assert_int_equal(load_folder(dir, &loaded, &msg), 1);
    assert_int_equal(loaded, 0);
    assert_contains(msg, "it is a symbolic link to");
    assert_contains(msg, "outside the plugin folder");
    assert_contains(msg, "copy the file into the folder instead of linking to it");
    free(msg);
    /* a link inside the folder (a versioned file) is fine... */
    unlink(link);
    char *sub = xasprintf("%s/versions", dir), *real = xasprintf("%s/versions/fixture-1.2.so", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chmod(sub, 0755), 0);
    copy(SET "/fixture.so", real);
    assert_int_equal(symlink("versions/fixture-1.2.so", link), 0);
    assert_int_equal(load_folder(dir, &loaded, NULL), 0);
    assert_int_equal(loaded, 1);
    /* ...unless the folder it leads to is open to others */
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(load_folder(dir, &loaded, &msg), 1);
    assert_contains(msg, "versions' is writable by others");
    free(msg);
    /* a link through a folder link that leaves too */
    assert_int_equal(chmod(sub, 0755), 0);
    unlink(link);
    char *dirlink = xasprintf("%s/elsewhere", dir),
         *via = xasprintf("%s/elsewhere/fixture.so", dir);
    assert_int_equal(symlink(outside, dirlink), 0);
    assert_int_equal(symlink(via, link), 0);
    assert_int_equal(load_folder(dir, &loaded, &msg), 1);
    assert_contains(msg, "outside the plugin folder");
    free(msg);
    remove_tree(dir);
    remove_tree(outside);
    free(outside);
    free(link);
    free(target);
    free(sub);
    free(real);
    free(dirlink);
    free(via);
}

/* The name the plugin's code reports, through its entry symbol. */
static const char *plugin_name(void *handle)
{
    void *sym = dlsym(handle, SB_ENTRY_SYMBOL);
    assert_non_null(sym);
    sb_entry_fn entry;
    memcpy(&entry, &sym, sizeof(entry));
    return entry()->plugin->name;
}

static void test_checked_file_is_loaded_file(void **state)
{
    (void)state;
    char *dir = folder_with_fixture();
    char *so = xasprintf("%s/fixture.so", dir), *other = xasprintf("%s/other.tmp", dir);
    copy(SET "/dupaction.so", other);
    struct plugin_file f;
    char why[1024];
    assert_int_equal(plugin_file_open(so, &f, why, sizeof(why)), 0);
    /* swapped after the check, before the load */
    assert_int_equal(rename(other, so), 0);
    void *h = dlopen(f.dl_path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    assert_string_equal(plugin_name(h), "fixture"); /* what was checked */
    dlclose(h);
    plugin_file_close(&f);
    /* the loader goes through the descriptor too */
    struct plugin_set set;
    struct diag d;
    plugin_set_init(&set);
    diag_init(&d);
    copy(SET "/fixture.so", so);
    assert_int_equal(plugin_set_load_file(&set, so, &d), 0);
    struct link_map *lm = NULL;
    assert_int_equal(dlinfo(set.plugins[0]->handle, RTLD_DI_LINKMAP, &lm), 0);
    char want[64];
    snprintf(want, sizeof(want), "/proc/self/fd/%d", set.plugins[0]->file_fd);
    assert_string_equal(lm->l_name, want);
    diag_release(&d);
    plugin_set_release(&set);
    remove_tree(dir);
    free(dir);
    free(so);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writable_folder_refused),
        cmocka_unit_test(test_foreign_owner_refused),
        cmocka_unit_test(test_symlink_out_of_folder_refused),
        cmocka_unit_test(test_checked_file_is_loaded_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
