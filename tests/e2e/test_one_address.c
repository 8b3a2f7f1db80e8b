/*
 * One engine per address: a second engine started on the address of a
 * running one exits non-zero, naming the address and the process that
 * holds it, instead of sharing the port (the kernel would split the
 * webhooks between two stores). A restart on the same port right after a
 * stop, with connections in TIME_WAIT, still gets that port; when the port
 * is taken by something else, the testkit starts the engine on another.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testkit.h"

static struct sb_proc first, second;

static int setup(void **state)
{
    (void)state;
    if (sbp_init(&first, NULL) < 0 || sbp_init(&second, NULL) < 0)
        return -1;
    const char *wf = "[trigger]\nuse = http.webhook\nverify = none\n\n"
                     "[step log]\nuse = log.write\nmessage = got {{ trigger.id }}\n";
    if (sbp_write_workflow(&first, "hook", wf) < 0 || sbp_write_workflow(&second, "hook", wf) < 0)
        return -1;
    return sbp_start(&first, NULL);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&second);
    sbp_cleanup(&first);
    return 0;
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_second_engine_on_the_address_exits(void **state)
{
    (void)state;
    char cfg[400], listen[64], errlog[400];
    snprintf(cfg, sizeof(cfg), "%s/switchboard.ini", second.dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", first.port);
    snprintf(errlog, sizeof(errlog), "%s/second.err", second.dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDERR_FILENO);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        execl(testkit_binary(), testkit_binary(), "run", "-c", cfg, "--listen", listen,
              (char *)NULL);
        _exit(127);
    }
    /* it must give up, promptly */
    int status = 0;
    int64_t until = testkit_now_ms() + 15000;
    pid_t done = 0;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && testkit_now_ms() < until)
        testkit_sleep_ms(50);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("a second engine on %s kept running", listen);
    }
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    char *err = read_whole(errlog);
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on %s: the address is in use by pid %d", listen,
             (int)first.pid);
    if (!strstr(err, want))
        fail_msg("expected '%s' in:\n%s", want, err);
    assert_non_null(strstr(err, "switchboard"));
    free(err);
    /* and the first one still serves every request */
    for (int i = 0; i < 20; i++)
        assert_int_equal(sbp_hook_request(&first, "POST", "hook", NULL, "{}", NULL), 200);
    assert_true(sbp_wait_runs(&first, "hook", "succeeded", 20, 15000));
    assert_true(sbp_count_runs(&second, "hook", "succeeded") <= 0);
}

static void test_restart_gets_the_same_port(void **state)
{
    (void)state;
    int port = first.port;
    /* connections just closed sit in TIME_WAIT */
    assert_int_equal(sbp_hook_request(&first, "POST", "hook", NULL, "{}", NULL), 200);
    assert_int_equal(sbp_stop(&first, SIGTERM), 0);
    assert_int_equal(sbp_start(&first, NULL), 0);
    assert_int_equal(first.port, port);
    assert_false(sbp_log_contains(&first, "cannot listen"));
}

/* The testkit's fallback: when the old port is taken by something else,
 * the engine says so and the testkit starts it on another port. */
static void test_restart_when_the_port_is_taken(void **state)
{
    (void)state;
    int port = first.port;
    assert_int_equal(sbp_stop(&first, SIGTERM), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(sbp_start(&first, NULL), 0);
    assert_int_not_equal(first.port, port);
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: the address is in use by pid %d",
             port, (int)getpid());
    assert_true(sbp_log_contains(&first, want));
    close(fd);
    assert_int_equal(sbp_hook_request(&first, "POST", "hook", NULL, "{}", NULL), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_engine_on_the_address_exits),
        cmocka_unit_test(test_restart_gets_the_same_port),
        cmocka_unit_test(test_restart_when_the_port_is_taken),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
