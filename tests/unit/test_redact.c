/* Redaction (core/redact.h): a registered secret is masked in every
 * encoding it can travel in, inside text and inside JSON values; and the
 * control-byte escaping of text from outside (core/textsafe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "redact.h"
#include "textsafe.h"

#define SECRET "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
/* every printable ASCII character that an encoder treats specially */
#define ODD "p@ss w/rd+%&=\"\\:;?#é"

static int setup(void **state)
{
    (void)state;
    redact_clear();
    redact_add(SECRET, strlen(SECRET));
    redact_add(ODD, strlen(ODD));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    redact_clear();
    return 0;
}

/* text masked, as a new string */
static char *masked(const char *text)
{
    struct strbuf sb = STRBUF_INIT;
    redact_append(&sb, text, strlen(text));
    return strbuf_detach(&sb, NULL);
}

static void assert_masked(const char *text, const char *want)
{
    char *got = masked(text);
    if (strcmp(got, want) != 0)
        fail_msg("masking '%s': got '%s', want '%s'", text, got, want);
    assert_true(redact_found(text, strlen(text)));
    free(got);
}

static void assert_kept(const char *text)
{
    char *got = masked(text);
    if (strcmp(got, text) != 0)
        fail_msg("'%s' holds no secret but became '%s'", text, got);
    assert_false(redact_found(text, strlen(text)));
    free(got);
}

static char *base64(const char *data, size_t len, int url, int pad)
{
    char *out = calloc(1, len * 2 + 8);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    for (char *p = out; *p; p++) {
        if (url && *p == '+')
            *p = '-';
        else if (url && *p == '/')
            *p = '_';
    }
    if (!pad) {
        char *eq = strchr(out, '=');
        if (eq)
            *eq = '\0';
    }
    return out;
}

static void test_as_is(void **state)
{
    (void)state;
    assert_masked("token " SECRET " echoed", "token **** echoed");
    assert_masked(SECRET SECRET, "********");
    assert_masked("{\"auth\":\"Bearer " SECRET "\"}", "{\"auth\":\"Bearer ****\"}");
    assert_kept("sk_live_4eC39HqLyjWDarjtT1zdp7dX"); /* its last character differs */
    assert_kept("an ordinary sentence with no secret in it");
    /* a text cut inside the secret (a plugin's 200-byte snippet of an
     * answer) keeps none of it, from 8 bytes of the secret on */
    assert_masked("HTTP 401 denied sk_live_4eC39Hq", "HTTP 401 denied ****");
    assert_masked("HTTP 401 denied sk%5Flive%5F", "HTTP 401 denied ****");
    assert_kept("HTTP 401 denied sk_live");
    assert_kept("sk_live_4eC39Hq and more text");
    /* short values are not registered: they would mask ordinary words */
    redact_add("abc", 3);
    assert_kept("abc");
}

static void test_percent_and_form(void **state)
{
    (void)state;
    /* what curl, Python's quote() and JavaScript's encodeURIComponent make */
    assert_masked("pw=p%40ss%20w%2Frd%2B%25%26%3D%22%5C%3A%3B%3F%23%C3%A9&x=1", "pw=****&x=1");
    assert_masked("pw=p%40ss+w%2frd%2b%25%26%3d%22%5c%3a%3b%3f%23%c3%a9", "pw=****");
    /* a mix of encoded and plain characters, as lenient encoders leave it */
    assert_masked("/p@ss%20w/rd+%25&=%22%5C:;%3F%23é/", "/****/");
    /* every character of the Stripe key encoded */
    assert_masked("k=%73%6b%5f%6c%69%76%65%5f%34%65%43%33%39%48%71%4c%79%6a%57%44%61%72%6a%74%54%31"
                  "%7a%64%70%37%64%63",
                  "k=****");
}

static void test_json_escaped(void **state)
{
    (void)state;
    struct json_object *s = json_object_new_string(ODD);
    const char *slashes = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN);
    const char *plain =
        json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *a = masked(slashes), *b = masked(plain);
    assert_string_equal(a, "\"****\"");
    assert_string_equal(b, "\"****\"");
    free(a);
    free(b);
    json_object_put(s);
    /* \u escapes of ASCII characters, either case */
    assert_masked("\"\\u0073k_live_4eC39HqLyjWDarjtT1zdp7d\\u0063\"", "\"****\"");
    assert_masked("\"p@ss\\u0020w\\/rd+%&=\\\"\\\\:;?#é\"", "\"****\"");
}

static void test_base64(void **state)
{
    (void)state;
    for (int url = 0; url <= 1; url++) {
        for (int pad = 0; pad <= 1; pad++) {
            char *b = base64(SECRET, strlen(SECRET), url, pad);
            char *text = malloc(strlen(b) + 16);
            snprintf(text, strlen(b) + 16, "x=%s;", b);
            assert_masked(text, "x=****;");
            free(text);
            free(b);
        }
    }
    /* a Basic credential: the secret after a user name of every length
     * modulo 3, so each alignment of its base64 is seen */
    const char *users[] = {"u", "us", "usr", "user", "apikey", "anystring"};
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        for (int url = 0; url <= 1; url++) {
            char cred[128];
            snprintf(cred, sizeof(cred), "%s:%s", users[i], SECRET);
            char *b = base64(cred, strlen(cred), url, 1);
            char header[256];
            snprintf(header, sizeof(header), "Authorization: Basic %s", b);
            assert_masked(header, "Authorization: Basic ****");
            /* and with text after the secret */
            snprintf(cred, sizeof(cred), "%s:%s:trailing", users[i], SECRET);
            free(b);
            b = base64(cred, strlen(cred), url, 0);
            snprintf(header, sizeof(header), "[%s]", b);
            assert_masked(header, "[****]");
            free(b);
        }
    }
    /* base64 of other text is left alone */
    char *b = base64("user:not-the-secret-at-all", 26, 0, 1);
    assert_kept(b);
    free(b);
}

static void test_many_and_overlapping(void **state)
{
    (void)state;
    redact_add("overlap-secret-one", 18);
    redact_add("secret-one-and-two", 18);
    assert_masked("a overlap-secret-one-and-two b", "a **** b");
    assert_masked(SECRET " and " ODD, "**** and ****");
    /* a literal '%' in a secret: its encoded and plain readings both match */
    redact_add("50%25off", 8);
    assert_masked("code 50%25off", "code ****");
    assert_masked("code 50%2525off", "code ****");
}

static void test_json_values(void **state)
{
    (void)state;
    const char *doc = "{\"headers\": {\"authorization\": \"Bearer " SECRET "\", \"x\": \"ok\"},"
                      " \"args\": [\"a\", \"" SECRET "\", {\"" SECRET "\": 1}],"
                      " \"n\": 12345, \"b\": true}";
    struct json_object *v = json_tokener_parse(doc);
    size_t count = 0;
    v = redact_json(v, &count);
    assert_int_equal(count, 3);
    const char *text =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    assert_string_equal(text, "{\"headers\":{\"authorization\":\"Bearer ****\",\"x\":\"ok\"},"
                              "\"args\":[\"a\",\"****\",{\"****\":1}],\"n\":12345,\"b\":true}");
    json_object_put(v);
    /* a number whose digits are a secret */
    redact_add("987654321", 9);
    v = json_tokener_parse("{\"pin\": 987654321, \"list\": [987654321]}");
    v = redact_json(v, &count);
    assert_int_equal(count, 2);
    assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                        "{\"pin\":\"****\",\"list\":[\"****\"]}");
    json_object_put(v);
    /* a bare string is replaced */
    v = redact_json(json_object_new_string("x" SECRET), &count);
    assert_string_equal(json_object_get_string(v), "x****");
    json_object_put(v);
    /* nothing registered: the same value back */
    redact_clear();
    struct json_object *w = json_object_new_string(SECRET);
    assert_ptr_equal(redact_json(w, &count), w);
    assert_int_equal(count, 0);
    json_object_put(w);
}

static void test_copy_cuts_after_masking(void **state)
{
    (void)state;
    char out[16];
    redact_copy("abc " SECRET " def", out, sizeof(out));
    assert_string_equal(out, "abc **** def");
    redact_copy("0123456789 " SECRET, out, sizeof(out));
    assert_string_equal(out, "0123456789 ****");
}

static char *safe(const char *s, size_t len, enum textsafe_mode mode)
{
    struct strbuf sb = STRBUF_INIT;
    textsafe_append(&sb, s, len, mode);
    return strbuf_detach(&sb, NULL);
}

static void test_textsafe(void **state)
{
    (void)state;
    const char in[] = "a\x1b[2Jb\rc\nd\te\x07\x7f\xc2\x9b"
                      "31m\xff\xe2\x80\xae"
                      "fé€";
    char *line = safe(in, sizeof(in) - 1, TEXTSAFE_LINE);
    assert_string_equal(line, "a\\x1b[2Jb\\x0dc\\x0ad\\x09e\\x07\\x7f\\xc2\\x9b31m\\xff\\u202efé€");
    char *block = safe(in, sizeof(in) - 1, TEXTSAFE_BLOCK);
    assert_string_equal(block, "a\\x1b[2Jb\\x0dc\nd\te\\x07\\x7f\\xc2\\x9b31m\\xff\\u202efé€");
    char *json = safe(in, sizeof(in) - 1, TEXTSAFE_JSON);
    assert_string_equal(json,
                        "a\\u001b[2Jb\\u000dc\nd\te\\u0007\\u007f\\u009b31m\\ufffd\\u202efé€");
    /* NUL is a control too */
    char *nul = safe("a\0b", 3, TEXTSAFE_LINE);
    assert_string_equal(nul, "a\\x00b");
    free(line);
    free(block);
    free(json);
    free(nul);
    assert_true(textsafe_is_utf8("fé€😀", strlen("fé€😀")));
    assert_false(textsafe_is_utf8("\xc0\xaf", 2));         /* overlong */
    assert_false(textsafe_is_utf8("\xed\xa0\x80", 3));     /* a surrogate */
    assert_false(textsafe_is_utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(textsafe_is_utf8("\xe2\x82", 2));         /* cut short */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_as_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_and_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_and_overlapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_cuts_after_masking, setup, teardown),
        cmocka_unit_test(test_textsafe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
