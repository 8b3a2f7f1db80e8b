/* What ingress may acknowledge (core/payload_check.h): exactly the JSON
 * texts that the store's reader (json-c) gives back as they were sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "payload_check.h"
#include "strbuf.h"

static const struct {
    const char *text;
    size_t len; /* 0: strlen */
    const char *refused;
} cases[] = {
    {"{}", 0, NULL},
    {"  [1, 2.5, -3, true, false, null, \"x\"]\n", 0, NULL},
    {"\"a bare string\"", 0, NULL},
    {"{\"n\": 9223372036854775807, \"m\": -9223372036854775808}", 0, NULL},
    {"{\"u\": 18446744073709551615}", 0, NULL},
    {"{\"u\": 18446744073709551616}", 0, "integer out of range"},
    {"{\"n\": -9223372036854775809}", 0, "integer out of range"},
    {"{\"n\": 123456789012345678901234567890}", 0, "integer out of range"},
    {"{\"d\": 1.5e300, \"e\": 1E-400, \"f\": 0.1}", 0, NULL},
    {"{\"d\": 1e400}", 0, "number too large"},
    {"{\"d\": -1e400}", 0, "number too large"},
    {"{\"d\": NaN}", 0, "not JSON"},
    {"{\"d\": 01}", 0, "expected ',' or '}'"},
    {"{\"d\": 1.}", 0, "invalid number"},
    {"{\"s\": \"\\u00e9\\u20ac\\ud83d\\ude00\"}", 0, NULL},
    {"{\"s\": \"\\ud800\"}", 0, "lone UTF-16 surrogate"},
    {"{\"s\": \"\\udc00x\"}", 0, "lone UTF-16 surrogate"},
    {"{\"s\": \"\\ud800\\u0041\"}", 0, "lone UTF-16 surrogate"},
    {"{\"s\": \"a\\u0000b\"}", 0, NULL},
    {"{\"a\\u0000b\": 1}", 0, "NUL character in a key"},
    {"{\"s\": \"a\tb\"}", 0, "control character in a string"},
    {"{\"s\": \"\xff\"}", 0, "invalid UTF-8"},
    {"{\"s\": \"\xc0\xaf\"}", 0, "invalid UTF-8"},
    {"{\"s\": \"\xed\xa0\x80\"}", 0, "invalid UTF-8"},
    {"{\"s\": \"\xc3\xa9\"}", 0, NULL},
    {"{\"a\": 1, \"a\": 2}", 0, "key \"a\" appears twice"},
    {"{\"a\": 1, \"\\u0061\": 2}", 0, "key \"a\" appears twice"},
    {"{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}", 0, NULL},
    {"{'a': 1}", 0, "expected a key in quotes"},
    {"[1, 2,]", 0, "not JSON"},
    {"/* c */ {}", 0, "not JSON"},
    {"{\"a\": True}", 0, "not JSON"},
    {"{\"a\": 1} x", 0, "text after the JSON document"},
    {"{\"a\": 1}\0{}", 11, "text after the JSON document"},
    {"", 0, "expected a value"},
    {"{\"a\": \"unterminated}", 0, "unterminated string"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text = cases[i].text;
        size_t len = cases[i].len ? cases[i].len : strlen(text);
        char why[160] = "";
        int rc = payload_check(text, len, why, sizeof(why));
        if (cases[i].refused) {
            if (rc == 0)
                fail_msg("case %zu accepted, want '%s': %s", i, cases[i].refused, text);
            if (!strstr(why, cases[i].refused))
                fail_msg("case %zu: '%s', want '%s'", i, why, cases[i].refused);
        } else {
            if (rc != 0)
                fail_msg("case %zu refused: %s: %s", i, why, text);
            /* and the store's reader gives it back */
            struct json_object *v = json_tokener_parse(text);
            if (!v)
                fail_msg("case %zu accepted but json-c cannot read it: %s", i, text);
            json_object_put(v);
        }
    }
}

/* n nested arrays (or objects with key "a"), with `inner` in the middle */
static char *nested(int n, bool objects, const char *inner)
{
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < n; i++)
        strbuf_addstr(&sb, objects ? "{\"a\":" : "[");
    strbuf_addstr(&sb, inner);
    for (int i = 0; i < n; i++)
        strbuf_addstr(&sb, objects ? "}" : "]");
    return strbuf_detach(&sb, NULL);
}

/* The limit is the reader's: every depth it reads is accepted, and none
 * that it does not. */
static void test_depth_is_the_readers(void **state)
{
    (void)state;
    const char *inners[] = {"", "1", "{}", "[]", "\"s\""};
    for (int n = 1; n <= 40; n++) {
        for (int objects = 0; objects <= 1; objects++) {
            for (size_t k = 0; k < sizeof(inners) / sizeof(inners[0]); k++) {
                if (objects && !*inners[k])
                    continue; /* {"a":} is not JSON */
                char *doc = nested(n, objects, inners[k]);
                char why[160];
                bool ours = payload_check(doc, strlen(doc), why, sizeof(why)) == 0;
                struct json_object *v = json_tokener_parse(doc);
                bool readers = v != NULL;
                json_object_put(v);
                if (ours != readers)
                    fail_msg("depth %d (%s around '%s'): we %s it, the reader %s", n,
                             objects ? "objects" : "arrays", inners[k], ours ? "accept" : "refuse",
                             readers ? "reads it" : "does not");
                if (!ours && !strstr(why, "nested deeper than 32 levels"))
                    fail_msg("depth %d: '%s'", n, why);
                free(doc);
            }
        }
    }
    /* and at the documented limit exactly */
    char *at = nested(31, true, "1"), *over = nested(32, true, "1"), why[160];
    assert_int_equal(payload_check(at, strlen(at), why, sizeof(why)), 0);
    assert_int_equal(payload_check(over, strlen(over), why, sizeof(why)), -1);
    free(at);
    free(over);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_depth_is_the_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
