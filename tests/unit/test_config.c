/* switchboard.ini: defaults, relative paths, overrides, and errors with
 * file:line and did-you-mean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "xalloc.h"

static char *write_config(const char *dir, const char *text)
{
    char *path = xasprintf("%s/switchboard.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_relative_paths_and_values(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbconfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_config(dir, "[server]\nlisten = 127.0.0.1:0\nmax_body = 64K\n"
                                   "[engine]\nplugin_dir = ../p /abs/q\nstore = sqlite:db/x.db\n"
                                   "workers = 8\n[log]\nlevel = debug\nformat = json\n");
    struct config cfg;
    struct diag d;
    diag_init(&d);
    struct config_overrides ov = {.config = path};
    assert_int_equal(config_load(&cfg, &ov, &d), 0);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 0);
    assert_int_equal(cfg.max_body, 65536);
    assert_int_equal(cfg.n_plugin_dirs, 2);
    char *want = xasprintf("%s/../p", dir);
    assert_string_equal(cfg.plugin_dirs[0], want);
    free(want);
    assert_string_equal(cfg.plugin_dirs[1], "/abs/q");
    want = xasprintf("sqlite:%s/db/x.db", dir);
    assert_string_equal(cfg.store, want);
    free(want);
    want = xasprintf("%s/workflows", dir);
    assert_string_equal(cfg.workflow_dir, want);
    free(want);
    assert_int_equal(cfg.workers, 8);
    assert_int_equal(cfg.log_level, SB_LOG_DEBUG);
    assert_int_equal(cfg.log_format, LOG_JSON);
    assert_int_equal(cfg.retention_ms, 7 * 86400000LL); /* default */
    config_release(&cfg);
    /* command-line overrides win and stay relative to the working dir */
    struct config_overrides ov2 = {
        .config = path, .listen = "[::1]:9090", .store = "sqlite:a.db", .plugins = "x y"};
    assert_int_equal(config_load(&cfg, &ov2, &d), 0);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.listen_port, 9090);
    assert_string_equal(cfg.store, "sqlite:a.db");
    assert_string_equal(cfg.plugin_dirs[1], "y");
    config_release(&cfg);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbconfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_config(dir, "[server]\n"
                                   "listen = localhost\n"                  /* 2 */
                                   "max_bdy = 1M\n"                        /* 3 */
                                   "[engin]\n"                             /* 4 */
                                   "workers = 2\n"                         /* 5 */
                                   "[engine]\n"                            /* 6 */
                                   "workers = lots\n"                      /* 7 */
                                   "workers = 3\n"                         /* 8 */
                                   "[log]\nlevel = loud\n"                 /* 9, 10 */
                                   "[server]\nadmin_token = plaintext\n"); /* 11, 12 */
    struct config cfg;
    struct diag d;
    diag_init(&d);
    struct config_overrides ov = {.config = path};
    assert_int_equal(config_load(&cfg, &ov, &d), -1);
    const char *want[] = {
        ":2: [server] listen: 'localhost' is not host:port (for example 127.0.0.1:8080)",
        ":3: [server] max_bdy: unknown key (did you mean 'max_body'?)",
        ":4: [engin] unknown section; expected [server], [engine] or [log] (did you mean "
        "[engine]?)",
        ":7: [engine] workers: expected an integer, found 'lots'",
        ":8: [engine] workers: repeated key (first set on line 7); keep one",
        ":10: [log] level: 'loud' is not one of: debug info warn error",
        ":12: [server] admin_token: secrets must be references: write ${env:NAME} or "
        "${file:/path}",
    };
    size_t nwant = sizeof(want) / sizeof(want[0]);
    for (size_t i = 0; i < nwant; i++) {
        bool found = false;
        for (size_t j = 0; j < d.n; j++) {
            char *s = diag_format(&d.items[j]);
            char *full = xasprintf("%s%s", path, want[i]);
            found |= strcmp(s, full) == 0;
            free(s);
            free(full);
        }
        if (!found) {
            for (size_t j = 0; j < d.n; j++) {
                char *s = diag_format(&d.items[j]);
                fprintf(stderr, "got: %s\n", s);
                free(s);
            }
            fail_msg("missing: %s", want[i]);
        }
    }
    config_release(&cfg);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

static void test_secret_reference(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbconfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_config(dir, "[server]\nadmin_token = ${env:SB_TEST_ADMIN}\n");
    struct config cfg;
    struct diag d;
    diag_init(&d);
    struct config_overrides ov = {.config = path};
    unsetenv("SB_TEST_ADMIN");
    assert_int_equal(config_load(&cfg, &ov, &d), -1);
    char *s = diag_format(&d.items[0]);
    assert_non_null(strstr(s, ":2: [server] admin_token: environment variable 'SB_TEST_ADMIN' "
                              "is not set"));
    free(s);
    config_release(&cfg);
    diag_release(&d);
    diag_init(&d);
    setenv("SB_TEST_ADMIN", "t0ken-value", 1);
    assert_int_equal(config_load(&cfg, &ov, &d), 0);
    assert_string_equal(cfg.admin_token, "t0ken-value");
    config_release(&cfg);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

/* [server] public_url: kept as written when it is a base URL, refused
 * with file:line when it is not. */
static void test_public_url(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbconfXXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_config(dir, "[server]\npublic_url = https://hooks.example.com/sb\n");
    struct config cfg;
    struct diag d;
    diag_init(&d);
    struct config_overrides ov = {.config = path};
    assert_int_equal(config_load(&cfg, &ov, &d), 0);
    assert_string_equal(cfg.public_url, "https://hooks.example.com/sb");
    config_release(&cfg);
    diag_release(&d);
    free(path);
    path = write_config(dir, "[server]\nlisten = 127.0.0.1:0\npublic_url = hooks.example.com\n");
    ov.config = path;
    diag_init(&d);
    assert_int_equal(config_load(&cfg, &ov, &d), -1);
    assert_null(cfg.public_url);
    char *s = diag_format(&d.items[0]);
    assert_non_null(strstr(s, ":3: [server] public_url: 'hooks.example.com' is not a base URL"));
    free(s);
    config_release(&cfg);
    diag_release(&d);
    /* unset: none */
    free(path);
    path = write_config(dir, "[server]\nlisten = 127.0.0.1:0\n");
    ov.config = path;
    diag_init(&d);
    assert_int_equal(config_load(&cfg, &ov, &d), 0);
    assert_null(cfg.public_url);
    config_release(&cfg);
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_paths_and_values),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_secret_reference),
        cmocka_unit_test(test_public_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
