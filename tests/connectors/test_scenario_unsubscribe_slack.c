/* Seed scenario: a Mailchimp unsubscribe webhook becomes a Slack notice
 * ("<email> unsubscribed (<reason>)"). Runs the shipped
 * conf/examples/mailchimp-unsubscribe-to-slack.ini as it is, with only
 * api_base added to point slack.post_message at the Slack stand-in
 * (tests/support/slack_checks.c); the example also passes
 * `switchboard check`. Needs the slack plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "slack_checks.h"
#include "standin.h"
#include "testkit.h"

#define EXAMPLE "conf/examples/mailchimp-unsubscribe-to-slack.ini"
#define SECRET "mc-url-secret-5be0a7"
#define SLACK_TOKEN "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

static struct sb_proc proc;
static struct standin *slack;
static struct slack_api *fake;

static const char *const env[] = {"MAILCHIMP_WEBHOOK_SECRET=" SECRET,
                                  "SLACK_BOT_TOKEN=" SLACK_TOKEN, NULL};

/* The source tree, from this file's path (CMake compiles it by its
 * absolute path). */
static void source_path(const char *rel, char *out, size_t len)
{
    const char *me = __FILE__;
    const char *at = strstr(me, "tests/connectors/");
    assert_non_null(at);
    snprintf(out, len, "%.*s%s", (int)(at - me), me, rel);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    return text;
}

/* The example with `line` inserted after its line `after`. Caller frees. */
static char *example_with(const char *after, const char *line)
{
    char path[1024];
    source_path(EXAMPLE, path, sizeof(path));
    char *text = read_file(path);
    if (!text)
        return NULL;
    char *at = strstr(text, after);
    if (!at) {
        free(text);
        return NULL;
    }
    at = strchr(at, '\n');
    size_t head = at ? (size_t)(at - text) + 1 : strlen(text);
    size_t n = strlen(text) + strlen(line) + 3;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s\n%s", (int)head, text, at ? "" : "\n", line, text + head);
    free(text);
    return out;
}

static bool slack_plugin_built(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/slack.so", testkit_plugins());
    struct stat st;
    return stat(path, &st) == 0;
}

static int setup(void **state)
{
    (void)state;
    if (!slack_plugin_built()) {
        fprintf(stderr, "slack.so is not built: this scenario needs plugins/slack\n");
        return -1;
    }
    if (standin_start(&slack) < 0)
        return -1;
    fake = slack_api_install(slack);
    if (sbp_init(&proc, "[engine]\nworkers = 2\n") < 0)
        return -1;
    char line[256];
    snprintf(line, sizeof(line), "api_base = %s/api", standin_url(slack));
    char *wf = example_with("use = slack.post_message", line);
    if (!wf || sbp_write_workflow(&proc, "mailchimp-unsubscribe-to-slack", wf) < 0)
        return -1;
    free(wf);
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(slack);
    slack_api_free(fake);
    return 0;
}

static void test_example_passes_check(void **state)
{
    (void)state;
    char src[1024], dir[] = "/tmp/sbunsubexXXXXXX", dst[1100];
    source_path(EXAMPLE, src, sizeof(src));
    assert_non_null(mkdtemp(dir));
    snprintf(dst, sizeof(dst), "%s/mailchimp-unsubscribe-to-slack.ini", dir);
    char *text = read_file(src);
    assert_non_null(text);
    FILE *f = fopen(dst, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    const char *argv[] = {testkit_binary(),  "check",       "-c", "/dev/null", "--plugins",
                          testkit_plugins(), "--workflows", dir,  NULL};
    char *out = NULL, *err = NULL;
    int rc = run_capture(argv, env, &out, &err);
    if (rc != 0)
        fail_msg("switchboard check: %d\n%s%s", rc, out, err);
    assert_non_null(strstr(out, "1 workflow"));
    free(out);
    free(err);
    unlink(dst);
    rmdir(dir);
}

static long post_hook(const char *method, const char *query, const char *body)
{
    char url[300];
    snprintf(url, sizeof(url), "%s/hooks/mailchimp%s", proc.base_url, query);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct http_reply r;
    assert_int_equal(http_do(method, url, body ? h : NULL, body, body ? strlen(body) : 0, 0, &r),
                     0);
    long status = r.status;
    http_reply_free(&r);
    return status;
}

static void test_unsubscribe_posts_a_notice(void **state)
{
    (void)state;
    /* Mailchimp's URL check when the webhook is saved */
    assert_int_equal(post_hook("GET", "", NULL), 200);
    /* a subscribe is not for this workflow; an unsubscribe is */
    const char *subscribe = "type=subscribe&fired_at=2024-05-02+09%3A14%3A03&data%5Bid%5D="
                            "8a25ff1d98&data%5Bemail%5D=ann%40example.com";
    const char *unsubscribe =
        "type=unsubscribe&fired_at=2024-05-02+09%3A15%3A41&data%5Baction%5D=unsub&data%5Breason"
        "%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Bemail%5D=ann%40example.com&data%5Bemail_type"
        "%5D=html&data%5Bmerges%5D%5BFNAME%5D=Ann&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_"
        "id%5D=cb398d21d2";
    assert_int_equal(post_hook("POST", "?secret=wrong", unsubscribe), 401);
    assert_int_equal(post_hook("POST", "?secret=" SECRET, subscribe), 200);
    assert_int_equal(post_hook("POST", "?secret=" SECRET, unsubscribe), 200);
    assert_true(slack_api_wait(fake, SLACK_POST_MESSAGE, 1, 15000));
    assert_true(sbp_wait_sql(&proc,
                             "SELECT count(*) FROM runs WHERE workflow = "
                             "'mailchimp-unsubscribe-to-slack' AND status = 'succeeded'",
                             1, 15000));
    struct slack_message m;
    assert_true(slack_api_message(fake, SLACK_POST_MESSAGE, 0, &m));
    assert_string_equal(m.text, "ann@example.com unsubscribed (manual)");
    assert_string_equal(m.channel, "#marketing");
    assert_string_equal(m.authorization, "Bearer " SLACK_TOKEN);
    slack_message_release(&m);
    /* the subscribe made no run; the repeated delivery makes none either */
    assert_int_equal(post_hook("POST", "?secret=" SECRET, unsubscribe), 200);
    testkit_sleep_ms(300);
    assert_int_equal(sbp_sql_int(&proc, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(slack_api_accepted(fake, SLACK_POST_MESSAGE), 1);

    /* an unsubscribe without a reason still makes a notice */
    assert_int_equal(post_hook("POST", "?secret=" SECRET,
                               "type=unsubscribe&fired_at=2024-05-02+09%3A20%3A00&data%5Bid%5D="
                               "11aa22bb33&data%5Bemail%5D=bo%40example.com&data%5Baction%5D="
                               "delete"),
                     200);
    assert_true(slack_api_wait(fake, SLACK_POST_MESSAGE, 2, 15000));
    assert_true(slack_api_message(fake, SLACK_POST_MESSAGE, 1, &m));
    assert_string_equal(m.text, "bo@example.com unsubscribed (no reason given)");
    slack_message_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_passes_check),
        cmocka_unit_test(test_unsubscribe_posts_a_notice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
