/*
 * Ingress under hostile connections ([server] header_timeout, default
 * 10 s): 320 connections from 8 loopback addresses (127.0.0.2-9) trickle a
 * header one byte every 3 s, which libmicrohttpd's idle timeout never
 * ends. Meanwhile honest senders from 127.0.0.1 are all answered, each in
 * under 1 s, and every slow connection is closed within 40 s of opening
 * (the acceptance bounds; the deadline itself is 10 s, so there is room).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testkit.h"

#define SLOW_PER_ADDRESS 40
#define ADDRESSES 8
#define SLOW (SLOW_PER_ADDRESS * ADDRESSES)
#define TRICKLE_MS 3000
#define CLOSE_BOUND_MS 40000
#define ANSWER_BOUND_MS 1000

static struct sb_proc proc;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    (void)state;
    /* the default header_timeout (10 s) and connection limits */
    if (sbp_init(&proc, NULL) < 0)
        return -1;
    if (sbp_write_workflow(&proc, "hook",
                           "[trigger]\nuse = http.webhook\nverify = none\n\n"
                           "[step log]\nuse = log.write\nmessage = got {{ trigger.id }}\n") < 0)
        return -1;
    return sbp_start(&proc, NULL);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    return 0;
}

struct slow {
    int fd;
    int64_t opened_ms, closed_ms; /* closed_ms 0: still open */
};

/* A connection from 127.0.0.<host> that sends the start of a request. */
static int slow_open(int host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)host);
    assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proc.port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    const char *start = "POST /hooks/hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    assert_int_equal(send(fd, start, strlen(start), MSG_NOSIGNAL), (ssize_t)strlen(start));
    return fd;
}

struct honest {
    atomic_bool stop;
    int sent, answered;
    int64_t worst_ms;
    long bad_status;
};

static void *honest_main(void *arg)
{
    struct honest *h = arg;
    const char *const headers[] = {"Content-Type: application/json", NULL};
    while (!atomic_load(&h->stop)) {
        int64_t t0 = mono_ms();
        long status = sbp_hook_request(&proc, "POST", "hook", headers, "{\"honest\": true}", NULL);
        int64_t took = mono_ms() - t0;
        h->sent++;
        if (status == 200)
            h->answered++;
        else
            h->bad_status = status;
        if (took > h->worst_ms)
            h->worst_ms = took;
        testkit_sleep_ms(40);
    }
    return NULL;
}

static void test_slow_headers_do_not_starve_honest_senders(void **state)
{
    (void)state;
    static struct slow slow[SLOW];
    for (int i = 0; i < SLOW; i++) {
        slow[i].fd = slow_open(2 + i % ADDRESSES);
        slow[i].opened_ms = mono_ms();
        slow[i].closed_ms = 0;
    }
    int64_t all_open = mono_ms();
    struct honest h = {0};
    atomic_init(&h.stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, honest_main, &h), 0);

    int open = SLOW;
    int64_t next_trickle = all_open + TRICKLE_MS, first_close = 0;
    struct pollfd *pfd = calloc(SLOW, sizeof(*pfd));
    while (open > 0 && mono_ms() - all_open < CLOSE_BOUND_MS + 5000) {
        int64_t now = mono_ms();
        if (now >= next_trickle) {
            for (int i = 0; i < SLOW; i++)
                if (!slow[i].closed_ms)
                    send(slow[i].fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            next_trickle += TRICKLE_MS;
        }
        /* the honest senders run while every slow connection is open */
        if (!first_close && now - all_open > 8000)
            atomic_store(&h.stop, true);
        for (int i = 0; i < SLOW; i++) {
            pfd[i].fd = slow[i].closed_ms ? -1 : slow[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        int left = (int)(next_trickle - mono_ms());
        if (poll(pfd, SLOW, left < 0 ? 0 : left > 200 ? 200 : left) <= 0)
            continue;
        for (int i = 0; i < SLOW; i++) {
            if (!pfd[i].revents)
                continue;
            char buf[512];
            ssize_t n = recv(slow[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0 || (n < 0 && errno == EAGAIN))
                continue; /* an answer would do too, but keep reading to the end */
            slow[i].closed_ms = mono_ms();
            if (!first_close) {
                first_close = slow[i].closed_ms;
                atomic_store(&h.stop, true);
            }
            open--;
        }
    }
    atomic_store(&h.stop, true);
    pthread_join(th, NULL);
    free(pfd);

    int64_t worst_close = 0;
    int late = 0;
    for (int i = 0; i < SLOW; i++) {
        if (!slow[i].closed_ms) {
            late++;
            continue;
        }
        int64_t took = slow[i].closed_ms - slow[i].opened_ms;
        if (took > worst_close)
            worst_close = took;
        close(slow[i].fd);
    }
    for (int i = 0; i < SLOW; i++)
        if (!slow[i].closed_ms)
            close(slow[i].fd);
    printf("honest: %d sent, %d answered, slowest %lld ms; slow connections: %d still open, "
           "the last closed after %lld ms\n",
           h.sent, h.answered, (long long)h.worst_ms, late, (long long)worst_close);
    if (late)
        fail_msg("%d slow connection(s) still open after %d ms", late, CLOSE_BOUND_MS + 5000);
    if (worst_close > CLOSE_BOUND_MS)
        fail_msg("a slow connection was closed only after %lld ms", (long long)worst_close);
    /* closed by the deadline (10 s), not before it */
    assert_true(first_close - all_open >= 9000 - 1000);
    assert_true(h.sent >= 20);
    if (h.answered != h.sent)
        fail_msg("%d of %d honest requests were not answered 200 (last: %ld)", h.sent - h.answered,
                 h.sent, h.bad_status);
    if (h.worst_ms >= ANSWER_BOUND_MS)
        fail_msg("an honest request took %lld ms", (long long)h.worst_ms);
    assert_true(sbp_log_contains(&proc, "(header_timeout)"));
    /* and the engine counted them */
    char url[128];
    snprintf(url, sizeof(url), "%s/metrics", proc.base_url);
    struct http_reply r;
    assert_int_equal(http_do("GET", url, NULL, NULL, 0, 5000, &r), 0);
    const char *m = strstr(r.body, "\nswitchboard_http_header_timeouts_total ");
    assert_non_null(m);
    long counted = strtol(m + strlen("\nswitchboard_http_header_timeouts_total "), NULL, 10);
    if (counted < SLOW)
        fail_msg("the engine counted %ld header timeouts:\n%s", counted, r.body);
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_headers_do_not_starve_honest_senders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
