/*
 * Control bytes from outside data cannot forge a log line or drive a
 * terminal: a webhook whose event id and type hold ESC sequences, CR, LF,
 * BEL, DEL and C1 controls, and an upstream whose error answer holds them
 * too. The engine's text log, `runs`, `runs --json`, `show`, `show --json`,
 * `fire` and /admin/runs/N show them escaped, never as raw bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "standin.h"
#include "testkit.h"

#define ADMIN "adm-c0ntr0l-5e1d"

static const char *const env[] = {"SB_TEST_ADMIN=" ADMIN, NULL};
static struct sb_proc proc;
static struct standin *api;

/* ESC [2J clears a screen; OSC 0 sets a window title; 0x9b is CSI to some
 * terminals; the CR LF and the timestamp would start a forged log line */
#define HOSTILE                                                                                    \
    "\x1b[2J\x1b]0;pwned\x07\r\n2026-01-01T00:00:00.000Z error forged\x7f\xc2\x9b"                 \
    "31m"

static int setup(void **state)
{
    (void)state;
    if (standin_start(&api) < 0)
        return -1;
    const struct standin_reply bad = {
        .status = 400, .content_type = "text/plain", .body = "refused: " HOSTILE " end"};
    standin_script(api, "POST", "/bad", &bad, 1);
    if (sbp_init(&proc, "[server]\nadmin_token = ${env:SB_TEST_ADMIN}\n\n"
                        "[log]\nlevel = debug\nformat = text\n") < 0)
        return -1;
    sbp_write_workflowf(&proc, "ctl",
                        "[workflow]\nretry = 0\n\n"
                        "[trigger]\nuse = http.webhook\nverify = none\nid_path = id\n"
                        "type_path = type\n\n"
                        "[step call]\nuse = http.request\nmethod = POST\nurl = %s/bad\n"
                        "body = {\"id\": \"{{ event.id }}\"}\n",
                        standin_url(api));
    return sbp_start(&proc, env);
}

static int teardown(void **state)
{
    (void)state;
    sbp_cleanup(&proc);
    standin_stop(api);
    return 0;
}

/* No control byte in text but line feeds (and tabs when `tabs`), no DEL,
 * no C1 control in UTF-8, no forged line. */
static void assert_safe(const char *what, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bool bad = (c < 0x20 && c != '\n') || c == 0x7f ||
                   (c == 0xc2 && i + 1 < len && (unsigned char)text[i + 1] >= 0x80 &&
                    (unsigned char)text[i + 1] <= 0x9f) ||
                   c == 0x9b;
        if (bad)
            fail_msg("raw byte 0x%02x at %zu of %s:\n%.2000s", c, i, what, text);
    }
    for (const char *p = text; (p = strstr(p, "error forged")) != NULL; p++) {
        /* it may appear, escaped, inside a line; never as a line's start */
        const char *line = p;
        while (line > text && line[-1] != '\n')
            line--;
        if (strncmp(line, "2026-01-01T00:00:00.000Z", 24) == 0)
            fail_msg("a forged line in %s", what);
    }
}

static char *cli(const char *cmd, const char *a1, const char *a2)
{
    char *out = NULL, *err = NULL;
    int rc = sbp_cli(&proc, env, &out, &err, cmd, a1, a2, NULL);
    if (rc != 0)
        fail_msg("switchboard %s failed (%d): %s", cmd, rc, err);
    assert_safe("stderr", err, strlen(err));
    free(err);
    return out;
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_outside_bytes_are_escaped_everywhere(void **state)
{
    (void)state;
    const char *const json[] = {"Content-Type: application/json", NULL};
    /* the same text as JSON escapes, so the body itself is valid JSON */
    const char *body =
        "{\"id\": \"evt\\u001b[2J\\u001b]0;pwned\\u0007\\r\\n2026-01-01T00:00:00.000Z "
        "error forged\\u007f\\u009b31m\", \"type\": \"t\\u001b[5m\\u0007\"}";
    struct http_reply r;
    assert_int_equal(sbp_hook_request(&proc, "POST", "ctl", json, body, &r), 200);
    assert_safe("the webhook's answer", r.body, r.body_len);
    http_reply_free(&r);
    assert_true(sbp_wait_runs(&proc, "ctl", "dead", 1, 15000));
    int64_t run = sbp_sql_int(&proc, "SELECT id FROM runs WHERE workflow = 'ctl'");
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)run);

    char *out = cli("runs", NULL, NULL);
    assert_safe("runs", out, strlen(out));
    assert_non_null(strstr(out, "evt\\x1b[2J"));
    assert_non_null(strstr(out, "refused: \\x1b[2J"));
    free(out);
    out = cli("runs", "--json", NULL);
    assert_safe("runs --json", out, strlen(out));
    assert_non_null(strstr(out, "\\u001b[2J"));
    free(out);
    out = cli("show", id, NULL);
    assert_safe("show", out, strlen(out));
    assert_non_null(
        strstr(out, "\\x0d\\x0a2026-01-01T00:00:00.000Z error forged\\x7f\\xc2\\x9b31m"));
    free(out);
    out = cli("show", id, "--json");
    assert_safe("show --json", out, strlen(out));
    assert_non_null(strstr(out, "\\u009b31m"));
    free(out);

    char url[256];
    snprintf(url, sizeof(url), "%s/admin/runs/%s", proc.base_url, id);
    const char *const auth[] = {"Authorization: Bearer " ADMIN, NULL};
    assert_int_equal(http_do("GET", url, auth, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_safe("/admin/runs/N", r.body, r.body_len);
    http_reply_free(&r);

    char event[400];
    assert_int_equal(sbp_write_file(&proc, "event.json", body, event, sizeof(event)), 0);
    char *err = NULL;
    out = NULL;
    assert_int_equal(sbp_cli(&proc, env, &out, &err, "fire", "ctl", "--event", event, NULL), 1);
    assert_safe("fire", out, strlen(out));
    assert_safe("fire's errors", err, strlen(err));
    assert_non_null(strstr(out, "refused: \\x1b[2J"));
    free(out);
    free(err);

    size_t len;
    char *log = read_whole(proc.log_path, &len);
    assert_safe("the engine's log", log, len);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_bytes_are_escaped_everywhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
