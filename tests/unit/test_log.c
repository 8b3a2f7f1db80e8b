/* Log lines (core/log.h): secrets masked before a long line is cut, one
 * event per line whatever the values hold, and JSON lines that parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "log.h"

#define SECRET "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

/* Everything written to the log while `fn` ran. */
static char *capture(void (*fn)(void))
{
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_stream(f);
    fn();
    log_set_stream(NULL);
    long n = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

static int setup(void **state)
{
    (void)state;
    log_clear_secrets();
    log_add_secret(SECRET);
    log_setup(SB_LOG_DEBUG, LOG_TEXT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_clear_secrets();
    log_setup(SB_LOG_INFO, LOG_TEXT);
    return 0;
}

/* Whether any 8 consecutive characters of the secret are in text. */
static bool holds_part_of_secret(const char *text)
{
    const size_t n = strlen(SECRET);
    for (size_t i = 0; i + 8 <= n; i++) {
        char part[9];
        memcpy(part, SECRET + i, 8);
        part[8] = '\0';
        if (strstr(text, part))
            return true;
    }
    return false;
}

static void log_long_lines(void)
{
    /* the secret straddles every place a line could be cut */
    char pad[6000];
    for (size_t at = 3980; at < 4110; at += 7) {
        memset(pad, 'a', at);
        pad[at] = '\0';
        log_write(SB_LOG_INFO, "test", "%s%s tail", pad, SECRET);
    }
}

static void test_masked_before_cut(void **state)
{
    (void)state;
    char *text = capture(log_long_lines);
    if (holds_part_of_secret(text))
        fail_msg("part of the secret reached the log");
    assert_non_null(strstr(text, "more bytes cut]"));
    /* every line stayed one line */
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, (4110 - 3980 + 6) / 7);
    free(text);
}

static void log_hostile_values(void)
{
    /* a header value from a webhook, a provider's error text */
    log_write(SB_LOG_INFO, "ingress", "rejected event %s",
              "evt_1\n2026-01-01T00:00:00.000Z error forged line\x1b[2J\x1b]0;title\x07");
    log_write(SB_LOG_WARN, "wf\r\x1b[31m", "step failed: %s", "bad\x9b\xc2\x9b\x7f end");
}

static void test_text_escapes_controls(void **state)
{
    (void)state;
    char *text = capture(log_hostile_values);
    /* two events, two lines, and no control byte but their ends */
    size_t lines = 0;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n')
            lines++;
        else if (c < 0x20 || c == 0x7f)
            fail_msg("control byte 0x%02x in the log: %s", c, text);
    }
    assert_int_equal(lines, 2);
    assert_non_null(strstr(text, "evt_1\\x0a2026-01-01T00:00:00.000Z error forged line\\x1b[2J"
                                 "\\x1b]0;title\\x07\n"));
    assert_non_null(strstr(text, "[wf\\x0d\\x1b[31m] step failed: bad\\x9b\\xc2\\x9b\\x7f end\n"));
    assert_null(strstr(text, "\xc2\x9b"));
    free(text);
}

static void log_json_lines(void)
{
    log_write(SB_LOG_INFO, "ingress", "value %s and %s", "a\nb\x1b\xc2\x9b\xff", SECRET);
}

static void test_json_lines_parse(void **state)
{
    (void)state;
    log_setup(SB_LOG_DEBUG, LOG_JSON);
    char *text = capture(log_json_lines);
    struct json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    struct json_object *msg;
    assert_true(json_object_object_get_ex(o, "msg", &msg));
    assert_string_equal(json_object_get_string(msg), "value a\nb\x1b\xc2\x9b\xef\xbf\xbd and ****");
    /* and no raw C1 byte in the line itself */
    assert_null(strstr(text, "\xc2\x9b"));
    json_object_put(o);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_masked_before_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_escapes_controls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_lines_parse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
