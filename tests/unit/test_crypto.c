/* Hashes, HMAC and encodings (core/crypto.h) against the official and
 * recomputed vectors of docs/reference connectors.md: Stripe, Slack,
 * Shopify, Trello, Standard Webhooks and the Mailchimp subscriber hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"

/* The official Slack slash-command body: exactly 362 bytes. */
static const char slack_body[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";

/* HMAC of one message as lowercase hex into out (129 bytes). */
static void hmac_hex(enum sb_hash alg, const char *key, const void *msg, size_t len, char *out)
{
    unsigned char mac[SB_HASH_MAX_SIZE];
    struct sb_bytes part = {msg, len};
    int n = crypto_hmac(alg, key, strlen(key), &part, 1, mac);
    assert_true(n > 0);
    assert_int_equal(crypto_hex_encode(mac, (size_t)n, out, 129), 2 * n);
}

/* HMAC over parts as base64 into out (at least 89 bytes). */
static void hmac_b64(enum sb_hash alg, const void *key, size_t key_len,
                     const struct sb_bytes *parts, size_t n_parts, char *out, size_t out_size)
{
    unsigned char mac[SB_HASH_MAX_SIZE];
    int n = crypto_hmac(alg, key, key_len, parts, n_parts, mac);
    assert_true(n > 0);
    assert_true(crypto_base64_encode(mac, (size_t)n, out, out_size) > 0);
}

static void test_stripe_raw_vectors(void **state)
{
    (void)state;
    char hex[129];
    hmac_hex(SB_HASH_SHA256, "test_secret", "", 0, hex);
    assert_string_equal(hex, "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd");
    const char *obj = "{\"obj1\":\"hello\",\"obj2\":\"world\"}";
    hmac_hex(SB_HASH_SHA256, "test_secret", obj, strlen(obj), hex);
    assert_string_equal(hex, "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363");
    const char smile[] = "\xf0\x9f\x98\x80"; /* U+1F600 */
    assert_int_equal(strlen(smile), 4);
    hmac_hex(SB_HASH_SHA256, "test_secret", smile, 4, hex);
    assert_string_equal(hex, "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43");
}

static void test_stripe_header_vector(void **state)
{
    (void)state;
    /* JSON.stringify({id, object}, null, 2): 2-space indent, no final newline;
     * the key is the whole whsec_ string, not base64-decoded */
    const char payload[] = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    struct sb_bytes parts[] = {{"1700000000", 10}, {".", 1}, {payload, strlen(payload)}};
    unsigned char mac[SB_HASH_MAX_SIZE];
    const char *key = "whsec_test_secret";
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, key, strlen(key), parts, 3, mac), 32);
    char hex[65];
    crypto_hex_encode(mac, 32, hex, sizeof(hex));
    assert_string_equal(hex, "4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150");
}

static void test_slack_vector(void **state)
{
    (void)state;
    assert_int_equal(strlen(slack_body), 362);
    const char *key = "8f742231b10e8888abcd99yyyzzz85a5";
    struct sb_bytes parts[] = {{"v0:1531420618:", 14}, {slack_body, strlen(slack_body)}};
    unsigned char mac[SB_HASH_MAX_SIZE];
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, key, strlen(key), parts, 2, mac), 32);
    char hex[65];
    crypto_hex_encode(mac, 32, hex, sizeof(hex));
    assert_string_equal(hex, "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    /* the official negative: "------" appended to the body */
    struct sb_bytes tampered[] = {parts[0], parts[1], {"------", 6}};
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, key, strlen(key), tampered, 3, mac), 32);
    crypto_hex_encode(mac, 32, hex, sizeof(hex));
    assert_string_not_equal(hex,
                            "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
}

static void test_shopify_vector(void **state)
{
    (void)state;
    const char body[] = "{\"id\":820982911946154508,\"name\":\"#9999\",\"total_price\":\"1575.90\","
                        "\"currency\":\"USD\",\"customer\":{\"email\":\"john@example.com\"}}";
    struct sb_bytes part = {body, strlen(body)};
    char b64[100];
    hmac_b64(SB_HASH_SHA256, "shpss_test_secret", 17, &part, 1, b64, sizeof(b64));
    assert_string_equal(b64, "sxAFRHUkH7FeqZWjMRVYGnqTEnsZW7CTv3dXsXOcCVA=");
}

static void test_trello_vectors(void **state)
{
    (void)state;
    char b64[100];
    const char *body = "{\"hello\":\"world\"}";
    const char *url = "https://example.com/webhooks";
    struct sb_bytes parts[] = {{body, strlen(body)}, {url, strlen(url)}};
    hmac_b64(SB_HASH_SHA1, "secret", 6, parts, 2, b64, sizeof(b64));
    assert_string_equal(b64, "FwPAcuGe9EP/+SbXFWjnEVTa0zw=");

    /* "café – test" in UTF-8: é = C3 A9, en dash = E2 80 93 */
    const char *cafe =
        "{\"action\":{\"type\":\"createCard\",\"data\":{\"card\":{\"name\":\"caf\xc3\xa9 "
        "\xe2\x80\x93 test\"}}}}";
    const char *url2 = "https://example.com/trello?secret=abc";
    struct sb_bytes parts2[] = {{cafe, strlen(cafe)}, {url2, strlen(url2)}};
    hmac_b64(SB_HASH_SHA1, "appsecret", 9, parts2, 2, b64, sizeof(b64));
    assert_string_equal(b64, "aqu9DlUv9BZqmlg3lBWwthbiiQ0=");
    /* the legacy low-byte signature is a different one */
    assert_string_not_equal(b64, "6KtiCZAzLbeq0YnVW+2Ob4sZkBI=");
}

static void test_standard_webhooks_vector(void **state)
{
    (void)state;
    const char *secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    unsigned char key[64];
    int klen = crypto_base64_decode(secret, strlen(secret), key, sizeof(key));
    assert_int_equal(klen, 24);
    static const unsigned char want_key[24] = {
        0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f, 0x08, 0xd4,
        0x3c, 0x3f, 0x08, 0x2c, 0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0,
    };
    assert_memory_equal(key, want_key, 24);
    const char *msg = "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";
    struct sb_bytes part = {msg, strlen(msg)};
    char b64[100];
    hmac_b64(SB_HASH_SHA256, key, (size_t)klen, &part, 1, b64, sizeof(b64));
    assert_string_equal(b64, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_multipart_equals_single(void **state)
{
    (void)state;
    const char *msg = "id.1614265330.{\"a\": [1, 2, 3]} and some more text";
    size_t len = strlen(msg);
    static const enum sb_hash algs[] = {SB_HASH_MD5, SB_HASH_SHA1, SB_HASH_SHA256, SB_HASH_SHA512};
    static const int sizes[] = {16, 20, 32, 64};
    for (size_t a = 0; a < 4; a++) {
        unsigned char one[SB_HASH_MAX_SIZE], many[SB_HASH_MAX_SIZE];
        struct sb_bytes single = {msg, len};
        assert_int_equal(crypto_hmac(algs[a], "k3y", 3, &single, 1, one), sizes[a]);
        /* split at every point, with an empty part in the middle */
        for (size_t cut = 0; cut <= len; cut++) {
            struct sb_bytes parts[] = {{msg, cut}, {"", 0}, {msg + cut, len - cut}};
            memset(many, 0, sizeof(many));
            assert_int_equal(crypto_hmac(algs[a], "k3y", 3, parts, 3, many), sizes[a]);
            assert_memory_equal(one, many, (size_t)sizes[a]);
        }
        /* and a different key gives a different MAC */
        assert_int_equal(crypto_hmac(algs[a], "k3z", 3, &single, 1, many), sizes[a]);
        assert_memory_not_equal(one, many, (size_t)sizes[a]);
    }
}

static void test_hmac_edge_cases(void **state)
{
    (void)state;
    unsigned char mac[SB_HASH_MAX_SIZE];
    /* RFC 4231-style: empty key and empty message */
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, "", 0, NULL, 0, mac), 32);
    char hex[65];
    crypto_hex_encode(mac, 32, hex, sizeof(hex));
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    /* an unknown algorithm and a NULL key with a length are refused */
    struct sb_bytes part = {"x", 1};
    assert_int_equal(crypto_hmac((enum sb_hash)99, "k", 1, &part, 1, mac), -1);
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, NULL, 4, &part, 1, mac), -1);
    /* a key longer than the block size (it is hashed first): RFC 4231 case 6 */
    unsigned char long_key[131];
    memset(long_key, 0xaa, sizeof(long_key));
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    struct sb_bytes p6 = {m6, strlen(m6)};
    assert_int_equal(crypto_hmac(SB_HASH_SHA256, long_key, sizeof(long_key), &p6, 1, mac), 32);
    crypto_hex_encode(mac, 32, hex, sizeof(hex));
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_digests(void **state)
{
    (void)state;
    char md5[33];
    const char *email = "urist.mcvankab@freddiesjokes.com";
    crypto_md5_hex(email, strlen(email), md5);
    assert_string_equal(md5, "62eeb292278cc15f5817cb78f7790b08");
    crypto_md5_hex("api@mailchimp.com", 17, md5);
    assert_string_equal(md5, "6def22f266be37015519943ce0c3ae6b");
    crypto_md5_hex("", 0, md5);
    assert_string_equal(md5, "d41d8cd98f00b204e9800998ecf8427e");
    char sha[65];
    crypto_sha256_hex("abc", 3, sha);
    assert_string_equal(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* a digest in parts is the digest of the whole */
    struct sb_bytes parts[] = {{"a", 1}, {"", 0}, {"bc", 2}};
    unsigned char d[SB_HASH_MAX_SIZE];
    assert_int_equal(crypto_digest(SB_HASH_SHA256, parts, 3, d), 32);
    char hex[65];
    crypto_hex_encode(d, 32, hex, sizeof(hex));
    assert_string_equal(hex, sha);
    assert_int_equal(crypto_digest(SB_HASH_SHA1, parts, 3, d), 20);
    crypto_hex_encode(d, 20, hex, sizeof(hex));
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_int_equal(crypto_digest((enum sb_hash)0, parts, 3, d), -1);
}

static void test_hex_encode(void **state)
{
    (void)state;
    static const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];
    assert_int_equal(crypto_hex_encode(bytes, 4, out, sizeof(out)), 8);
    assert_string_equal(out, "000fa5ff");
    /* one byte short of room for the NUL */
    assert_int_equal(crypto_hex_encode(bytes, 4, out, 8), -1);
}

static void test_base64_round_trips(void **state)
{
    (void)state;
    unsigned char data[64];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(data); len++) {
        char text[100];
        int n = crypto_base64_encode(data, len, text, sizeof(text));
        assert_int_equal(n, (int)(4 * ((len + 2) / 3)));
        assert_int_equal(strlen(text), (size_t)n);
        unsigned char back[64];
        assert_int_equal(crypto_base64_decode(text, (size_t)n, back, sizeof(back)), (int)len);
        assert_memory_equal(back, data, len);
        /* the same text without its padding decodes to the same bytes */
        size_t unpadded = (size_t)n;
        while (unpadded && text[unpadded - 1] == '=')
            unpadded--;
        memset(back, 0, sizeof(back));
        assert_int_equal(crypto_base64_decode(text, unpadded, back, sizeof(back)), (int)len);
        assert_memory_equal(back, data, len);
    }
}

static void test_base64_known_and_url_safe(void **state)
{
    (void)state;
    char text[16];
    assert_int_equal(crypto_base64_encode("foobar", 6, text, sizeof(text)), 8);
    assert_string_equal(text, "Zm9vYmFy");
    assert_int_equal(crypto_base64_encode("fo", 2, text, sizeof(text)), 4);
    assert_string_equal(text, "Zm8=");
    assert_int_equal(crypto_base64_encode("", 0, text, sizeof(text)), 0);
    assert_string_equal(text, "");
    /* bytes whose encoding uses + and /: the URL-safe - and _ decode alike */
    static const unsigned char special[] = {0xfb, 0xef, 0xbe, 0xff, 0xff};
    assert_int_equal(crypto_base64_encode(special, 5, text, sizeof(text)), 8);
    assert_string_equal(text, "++++//8=");
    unsigned char out[8];
    assert_int_equal(crypto_base64_decode("----__8", 7, out, sizeof(out)), 5);
    assert_memory_equal(out, special, 5);
    assert_int_equal(crypto_base64_decode("++++//8=", 8, out, sizeof(out)), 5);
    assert_memory_equal(out, special, 5);
}

static void test_base64_errors(void **state)
{
    (void)state;
    unsigned char out[16];
    /* one character alone cannot hold a byte */
    assert_int_equal(crypto_base64_decode("Q", 1, out, sizeof(out)), -1);
    assert_int_equal(crypto_base64_decode("QUJDR", 5, out, sizeof(out)), -1);
    /* characters outside both alphabets, and padding in the middle */
    assert_int_equal(crypto_base64_decode("QU!D", 4, out, sizeof(out)), -1);
    assert_int_equal(crypto_base64_decode("QU J", 4, out, sizeof(out)), -1);
    assert_int_equal(crypto_base64_decode("QQ==QUJD", 8, out, sizeof(out)), -1);
    /* out_size too small: "QUJD" is 3 bytes */
    assert_int_equal(crypto_base64_decode("QUJD", 4, out, 2), -1);
    assert_int_equal(crypto_base64_decode("QUJD", 4, out, 3), 3);
    assert_memory_equal(out, "ABC", 3);
    /* encode: 4*ceil(len/3)+1 needed */
    char text[16];
    assert_int_equal(crypto_base64_encode("ABC", 3, text, 4), -1);
    assert_int_equal(crypto_base64_encode("ABC", 3, text, 5), 4);
    assert_string_equal(text, "QUJD");
    assert_int_equal(crypto_base64_encode("ABCD", 4, text, 8), -1);
    assert_int_equal(crypto_base64_encode("ABCD", 4, text, 9), 8);
    assert_string_equal(text, "QUJDRA==");
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(crypto_ct_equal("abcdef", "abcdef", 6));
    assert_false(crypto_ct_equal("abcdef", "abcdeg", 6));
    assert_false(crypto_ct_equal("Xbcdef", "abcdef", 6));
    /* only `len` bytes are compared */
    assert_true(crypto_ct_equal("abcX", "abcY", 3));
    assert_true(crypto_ct_equal("a", "b", 0));
    static const unsigned char z1[4] = {0, 0, 0, 1}, z2[4] = {0, 0, 0, 0};
    assert_false(crypto_ct_equal(z1, z2, 4));
}

static void test_url_encode(void **state)
{
    (void)state;
    char out[128];
    const char *t = "a b";
    assert_int_equal(crypto_url_encode(t, strlen(t), out, sizeof(out)), 5);
    assert_string_equal(out, "a%20b");
    /* RFC 3986 unreserved characters are kept */
    t = "AZaz09-._~";
    assert_int_equal(crypto_url_encode(t, strlen(t), out, sizeof(out)), (int)strlen(t));
    assert_string_equal(out, t);
    t = "a+b&c=d/e?f#g%";
    assert_int_equal(crypto_url_encode(t, strlen(t), out, sizeof(out)), 28);
    assert_string_equal(out, "a%2Bb%26c%3Dd%2Fe%3Ff%23g%25");
    /* UTF-8 bytes one by one, uppercase hex */
    t = "caf\xc3\xa9";
    assert_int_equal(crypto_url_encode(t, strlen(t), out, sizeof(out)), 9);
    assert_string_equal(out, "caf%C3%A9");
    /* an embedded NUL is encoded too: the length is what counts */
    assert_int_equal(crypto_url_encode("a\0b", 3, out, sizeof(out)), 5);
    assert_string_equal(out, "a%00b");
    /* room: 3*len+1 always suffices, one byte less may not */
    t = "   ";
    assert_int_equal(crypto_url_encode(t, 3, out, 10), 9);
    assert_int_equal(crypto_url_encode(t, 3, out, 9), -1);
    assert_int_equal(crypto_url_encode("ab", 2, out, 2), -1);
    assert_int_equal(crypto_url_encode("ab", 2, out, 3), 2);
    assert_int_equal(crypto_url_encode("", 0, out, 1), 0);
    assert_string_equal(out, "");
    /* a plugin puts ids in path segments with it: "." and ".." must not be
     * dot segments there ("/1/cards/../x" is "/1/x") */
    assert_int_equal(crypto_url_encode("..", 2, out, sizeof(out)), 6);
    assert_string_equal(out, "%2E%2E");
    assert_int_equal(crypto_url_encode(".", 1, out, sizeof(out)), 3);
    assert_string_equal(out, "%2E");
    assert_int_equal(crypto_url_encode("..", 2, out, 7), 6);
    assert_int_equal(crypto_url_encode("..", 2, out, 6), -1);
    assert_int_equal(crypto_url_encode("a..b", 4, out, sizeof(out)), 4);
    assert_string_equal(out, "a..b");
}

static void test_random_id(void **state)
{
    (void)state;
    char a[201], b[201];
    memset(a, 'X', sizeof(a));
    crypto_random_id(a, 200);
    crypto_random_id(b, 200);
    assert_int_equal(strlen(a), 200);
    assert_int_equal(strlen(b), 200);
    assert_string_not_equal(a, b);
    /* only [a-z0-9], and over 400 characters both letters and digits occur */
    bool letter = false, digit = false;
    for (size_t i = 0; i < 400; i++) {
        char c = i < 200 ? a[i] : b[i - 200];
        assert_true((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
        letter |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
    }
    assert_true(letter && digit);
    char small[4];
    crypto_random_id(small, 3);
    assert_int_equal(strlen(small), 3);
    crypto_random_id(small, 0);
    assert_string_equal(small, "");
    unsigned char r1[32] = {0}, r2[32] = {0};
    assert_int_equal(crypto_random_bytes(r1, sizeof(r1)), 0);
    assert_int_equal(crypto_random_bytes(r2, sizeof(r2)), 0);
    assert_memory_not_equal(r1, r2, sizeof(r1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stripe_raw_vectors),
        cmocka_unit_test(test_stripe_header_vector),
        cmocka_unit_test(test_slack_vector),
        cmocka_unit_test(test_shopify_vector),
        cmocka_unit_test(test_trello_vectors),
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_multipart_equals_single),
        cmocka_unit_test(test_hmac_edge_cases),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_base64_round_trips),
        cmocka_unit_test(test_base64_known_and_url_safe),
        cmocka_unit_test(test_base64_errors),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_url_encode),
        cmocka_unit_test(test_random_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
