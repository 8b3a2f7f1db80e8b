/* The inih wrapper: long lines, line numbers, continuations, every syntax
 * error in one pass, repeats kept apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inifile.h"
#include "xalloc.h"

static const struct ini_entry *entry(const struct ini_doc *doc, const char *section,
                                     const char *key, size_t nth)
{
    for (size_t i = 0; i < doc->n_entries; i++) {
        const struct ini_entry *e = &doc->entries[i];
        if (strcmp(doc->sections[e->section].name, section) == 0 && strcmp(e->key, key) == 0 &&
            nth-- == 0)
            return e;
    }
    return NULL;
}

static void test_basic_lines(void **state)
{
    (void)state;
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    const char *text = "; comment\n"
                       "# another\n"
                       "[trigger]\n"
                       "use = stripe.webhook\n"
                       "path = stripe                        ; served at POST /hooks/stripe\n"
                       "\n"
                       "[step notify]\n"
                       "channel = #sales\n"
                       "text = a;b c ;d\n"
                       "secret = ${env:X}\n";
    assert_int_equal(ini_doc_load_string(&doc, "t.ini", text, &d), 0);
    assert_int_equal(d.n, 0);
    const struct ini_entry *e = entry(&doc, "trigger", "path", 0);
    assert_non_null(e);
    assert_string_equal(e->value, "stripe");
    assert_int_equal(e->line, 5);
    e = entry(&doc, "step notify", "channel", 0);
    assert_string_equal(e->value, "#sales");
    assert_int_equal(e->line, 8);
    /* ';' only starts a comment after whitespace */
    assert_string_equal(entry(&doc, "step notify", "text", 0)->value, "a;b c");
    assert_string_equal(entry(&doc, "step notify", "secret", 0)->value, "${env:X}");
    assert_int_equal(doc.sections[2].line, 7);
    ini_doc_release(&doc);
    diag_release(&d);
}

static void test_long_lines_not_cut(void **state)
{
    (void)state;
    /* Debian's inih cuts at 200 bytes and names at 50 */
    char value[5001];
    for (int i = 0; i < 5000; i++)
        value[i] = (char)('a' + i % 26);
    value[5000] = '\0';
    char key[81];
    memset(key, 'k', 80);
    key[80] = '\0';
    char section[121];
    memcpy(section, "step ", 5);
    memset(section + 5, 's', 115);
    section[120] = '\0';
    char *text = xasprintf("[%s]\n%s = %s\nshort = x ; comment\nbody = %s ; trailing comment\n",
                           section, key, value, value);
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    assert_int_equal(ini_doc_load_string(&doc, "long.ini", text, &d), 0);
    const struct ini_entry *e = entry(&doc, section, key, 0);
    assert_non_null(e);
    assert_int_equal(strlen(e->value), 5000);
    assert_string_equal(e->value, value);
    assert_int_equal(e->line, 2);
    assert_string_equal(entry(&doc, section, "short", 0)->value, "x");
    e = entry(&doc, section, "body", 0);
    assert_string_equal(e->value, value); /* the inline comment is still cut */
    assert_int_equal(e->line, 4);
    ini_doc_release(&doc);
    diag_release(&d);
    free(text);
}

static void test_continuation_lines_join(void **state)
{
    (void)state;
    char longpart[301];
    memset(longpart, 'x', 300);
    longpart[300] = '\0';
    char *text = xasprintf("[step a]\n"
                           "text = first line\n"
                           "  second line\n"
                           "\tthird %s\n"
                           "other = y\n",
                           longpart);
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    assert_int_equal(ini_doc_load_string(&doc, "m.ini", text, &d), 0);
    char *want = xasprintf("first line\nsecond line\nthird %s", longpart);
    assert_string_equal(entry(&doc, "step a", "text", 0)->value, want);
    assert_int_equal(entry(&doc, "step a", "text", 0)->line, 2);
    assert_string_equal(entry(&doc, "step a", "other", 0)->value, "y");
    assert_int_equal(entry(&doc, "step a", "other", 0)->line, 5);
    ini_doc_release(&doc);
    diag_release(&d);
    free(text);
    free(want);
}

static void test_every_syntax_error_reported(void **state)
{
    (void)state;
    const char *text = "[trigger\n"           /* 1: no ] */
                       "use = http.webhook\n" /* 2 */
                       "just some words\n"    /* 3: no = */
                       "[step a]\n"           /* 4 */
                       "a = 1\n"              /* 5 */
                       "another bad line\n"   /* 6 */
                       "a = 2\n";             /* 7: repeated: kept for the caller */
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    assert_int_equal(ini_doc_load_string(&doc, "bad.ini", text, &d), -1);
    assert_int_equal(d.errors, 3);
    char *s0 = diag_format(&d.items[0]);
    char *s1 = diag_format(&d.items[1]);
    char *s2 = diag_format(&d.items[2]);
    assert_string_equal(s0, "bad.ini:1: section header '[trigger' has no closing ']'");
    assert_string_equal(s1, "bad.ini:3: expected 'key = value', found 'just some words'");
    assert_string_equal(s2, "bad.ini:6: [step a] expected 'key = value', found 'another bad "
                            "line'");
    assert_non_null(entry(&doc, "step a", "a", 0));
    assert_int_equal(entry(&doc, "step a", "a", 1)->line, 7);
    free(s0);
    free(s1);
    free(s2);
    ini_doc_release(&doc);
    diag_release(&d);
}

static void test_bom_crlf_and_colon(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF[server]\r\nlisten: 127.0.0.1:9\r\n";
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    assert_int_equal(ini_doc_load_string(&doc, "bom.ini", text, &d), 0);
    assert_string_equal(entry(&doc, "server", "listen", 0)->value, "127.0.0.1:9");
    ini_doc_release(&doc);
    diag_release(&d);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    assert_int_equal(ini_doc_load(&doc, "/nonexistent/x.ini", &d), -1);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].message, "cannot open"));
    ini_doc_release(&doc);
    diag_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_lines),
        cmocka_unit_test(test_long_lines_not_cut),
        cmocka_unit_test(test_continuation_lines_join),
        cmocka_unit_test(test_every_syntax_error_reported),
        cmocka_unit_test(test_bom_crlf_and_colon),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
