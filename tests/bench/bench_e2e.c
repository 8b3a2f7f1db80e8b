/*
 * End-to-end throughput: webhooks in, http.request out to a local sink.
 * Prints events per second completed (from the first post to the last call
 * reaching the sink) and the latency from each webhook's acknowledgment to
 * its call reaching the sink (p50, p99, max).
 *   usage: bench_e2e [EVENTS] [CLIENTS] [WORKERS] [RATE]
 * RATE (events per second, all clients together) paces the posts, to see
 * latency at a steady load rather than the queue a burst builds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "standin.h"
#include "testkit.h"

static int events = 5000, clients = 16, workers = 4, rate = 0;
static int64_t start_ms;
static int64_t *acked_at;
static atomic_int next_event;
static char url[128];

static void *client(void *arg)
{
    (void)arg;
    const char *h[] = {"Content-Type: application/json", NULL};
    int i;
    while ((i = atomic_fetch_add(&next_event, 1)) < events) {
        if (rate > 0) {
            /* event i is due at start + i/rate */
            int64_t due = start_ms + (int64_t)i * 1000 / rate;
            int64_t now = testkit_now_ms();
            if (due > now)
                testkit_sleep_ms(due - now);
        }
        char body[96];
        snprintf(body, sizeof(body), "{\"id\": \"e%d\", \"amount\": %d}", i, i);
        struct http_reply r;
        if (http_do("POST", url, h, body, strlen(body), 10000, &r) == 0 && r.status == 200)
            acked_at[i] = testkit_now_ms();
        http_reply_free(&r);
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        events = (int)strtol(argv[1], NULL, 10);
    if (argc > 2)
        clients = (int)strtol(argv[2], NULL, 10);
    if (argc > 3)
        workers = (int)strtol(argv[3], NULL, 10);
    if (argc > 4)
        rate = (int)strtol(argv[4], NULL, 10);
    acked_at = calloc((size_t)events, sizeof(*acked_at));
    struct standin *sink;
    if (standin_start(&sink) < 0)
        return 1;
    struct standin_reply ok = {200, NULL, "{}", NULL, 0};
    standin_script(sink, "POST", "/sink", &ok, 1);
    struct sb_proc p;
    char extra[128];
    snprintf(extra, sizeof(extra), "[engine]\nworkers = %d\n[log]\nlevel = warn\n", workers);
    if (sbp_init(&p, extra) < 0)
        return 1;
    char wf[512];
    snprintf(wf, sizeof(wf),
             "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n\n"
             "[step deliver]\nuse = http.request\nmethod = POST\nurl = %s/sink\n"
             "body = {\"id\": \"{{ event.id }}\", \"amount\": {{ event.amount }}}\n",
             standin_url(sink));
    sbp_write_workflow(&p, "bench", wf);
    if (sbp_start(&p, NULL) < 0)
        return 1;
    snprintf(url, sizeof(url), "%s/hooks/bench", p.base_url);
    int64_t t0 = testkit_now_ms();
    start_ms = t0;
    pthread_t *t = calloc((size_t)clients, sizeof(*t));
    for (int i = 0; i < clients; i++)
        pthread_create(&t[i], NULL, client, NULL);
    for (int i = 0; i < clients; i++)
        pthread_join(t[i], NULL);
    int64_t posted = testkit_now_ms();
    standin_wait(sink, "/sink", (size_t)events, 300000);
    size_t n = standin_count(sink, "/sink");
    int64_t *lat = calloc(n ? n : 1, sizeof(*lat));
    int64_t last = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct standin_request r;
        if (!standin_get(sink, "/sink", i, &r))
            continue;
        struct json_object *o = json_tokener_parse(r.body), *id;
        if (o && json_object_object_get_ex(o, "id", &id)) {
            int k = (int)strtol(json_object_get_string(id) + 1, NULL, 10);
            if (k >= 0 && k < events && acked_at[k]) {
                int64_t d = r.at_ms - acked_at[k];
                lat[m++] = d < 0 ? 0 : d;
            }
        }
        if (r.at_ms > last)
            last = r.at_ms;
        json_object_put(o);
        standin_request_free(&r);
    }
    qsort(lat, m, sizeof(*lat), cmp64);
    double secs = (double)(last - t0) / 1000.0;
    printf("events %d, clients %d, workers %d, %s\n", events, clients, workers,
           rate ? "paced" : "as fast as the clients go");
    if (rate)
        printf("offered rate %d events/s\n", rate);
    printf("acknowledged in %.2f s (%.0f/s); completed (reached the sink) in %.2f s: %.0f "
           "events/s\n",
           (double)(posted - t0) / 1000.0, events / ((double)(posted - t0) / 1000.0), secs,
           (double)n / secs);
    if (m)
        printf("ack -> sink latency: p50 %lld ms, p99 %lld ms, max %lld ms (%zu events)\n",
               (long long)lat[m / 2], (long long)lat[m * 99 / 100], (long long)lat[m - 1], m);
    sbp_stop(&p, 15);
    sbp_cleanup(&p);
    standin_stop(sink);
    free(lat);
    free(t);
    free(acked_at);
    return n == (size_t)events ? 0 : 1;
}
