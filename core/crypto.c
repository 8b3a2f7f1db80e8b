#include "crypto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static const EVP_MD *md_of(enum sb_hash alg)
{
    switch (alg) {
    case SB_HASH_MD5:
        return EVP_md5();
    case SB_HASH_SHA1:
        return EVP_sha1();
    case SB_HASH_SHA256:
        return EVP_sha256();
    case SB_HASH_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static const char *md_name(enum sb_hash alg)
{
    switch (alg) {
    case SB_HASH_MD5:
        return "MD5";
    case SB_HASH_SHA1:
        return "SHA1";
    case SB_HASH_SHA256:
        return "SHA256";
    case SB_HASH_SHA512:
        return "SHA512";
    default:
        return NULL;
    }
}

static EVP_MAC *hmac_impl;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int crypto_hmac(enum sb_hash alg, const void *key, size_t key_len, const struct sb_bytes *parts,
                size_t n_parts, unsigned char *out)
{
    const char *name = md_name(alg);
    if (!name || (!key && key_len))
        return -1;
    pthread_once(&hmac_once, fetch_hmac);
    if (!hmac_impl)
        return -1;
    int rc = -1;
    size_t len = 0;
    static const unsigned char empty[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)(uintptr_t)name, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_impl);
    if (!ctx || !EVP_MAC_init(ctx, key_len ? key : empty, key_len, params))
        goto out;
    for (size_t i = 0; i < n_parts; i++)
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            goto out;
    if (!EVP_MAC_final(ctx, out, &len, SB_HASH_MAX_SIZE))
        goto out;
    rc = (int)len;
out:
    EVP_MAC_CTX_free(ctx);
    return rc;
}

int crypto_digest(enum sb_hash alg, const struct sb_bytes *parts, size_t n_parts,
                  unsigned char *out)
{
    const EVP_MD *md = md_of(alg);
    if (!md)
        return -1;
    int rc = -1;
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
        goto out;
    for (size_t i = 0; i < n_parts; i++)
        if (parts[i].len && !EVP_DigestUpdate(ctx, parts[i].data, parts[i].len))
            goto out;
    if (!EVP_DigestFinal_ex(ctx, out, &len))
        goto out;
    rc = (int)len;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int crypto_base64_encode(const void *data, size_t len, char *out, size_t out_size)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (out_size < need || len > 0x3fffffff)
        return -1;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return n;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Written by hand: EVP_DecodeBlock wants padding and standard alphabet,
 * and providers send unpadded and URL-safe forms too. */
int crypto_base64_decode(const char *text, size_t len, unsigned char *out, size_t out_size)
{
    while (len > 0 && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > out_size)
        return -1;
    size_t o = 0;
    unsigned int acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (int)o;
}

int crypto_hex_encode(const void *data, size_t len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789abcdef";
    if (out_size < 2 * len + 1)
        return -1;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * len] = '\0';
    return (int)(2 * len);
}

int crypto_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_hex_decode(const char *text, size_t len, unsigned char *out, size_t out_size)
{
    if (!text || len % 2 != 0 || len / 2 > out_size || len / 2 > INT32_MAX)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = crypto_hex_digit(text[2 * i]), lo = crypto_hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (int)(len / 2);
}

bool crypto_hmac_verify(enum sb_hash alg, const struct sb_bytes *keys, size_t n_keys,
                        const struct sb_bytes *parts, size_t n_parts, const void *sig,
                        size_t sig_len)
{
    bool ok = false;
    for (size_t i = 0; i < n_keys; i++) {
        unsigned char mac[SB_HASH_MAX_SIZE];
        int n = crypto_hmac(alg, keys[i].data, keys[i].len, parts, n_parts, mac);
        /* no early exit: the time must not tell which key matched */
        if (n > 0 && (size_t)n == sig_len && crypto_ct_equal(mac, sig, sig_len))
            ok = true;
    }
    return ok;
}

void crypto_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char d[SB_HASH_MAX_SIZE];
    struct sb_bytes part = {data, len};
    int n = crypto_digest(SB_HASH_MD5, &part, 1, d);
    if (n != 16) {
        out[0] = '\0';
        return;
    }
    crypto_hex_encode(d, 16, out, 33);
}

void crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SB_HASH_MAX_SIZE];
    struct sb_bytes part = {data, len};
    int n = crypto_digest(SB_HASH_SHA256, &part, 1, d);
    if (n != 32) {
        out[0] = '\0';
        return;
    }
    crypto_hex_encode(d, 32, out, 65);
}

int crypto_random_bytes(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

void crypto_random_id(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < sizeof(r) ? len - done : sizeof(r);
        if (crypto_random_bytes(r, chunk) < 0)
            memset(r, 0, chunk);
        for (size_t i = 0; i < chunk; i++)
            out[done + i] = alphabet[r[i] % 36];
        done += chunk;
    }
    out[len] = '\0';
}

int crypto_url_encode(const char *text, size_t len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (o + (keep ? 1 : 3) + 1 > out_size)
            return -1;
        if (keep) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o + 1 > out_size)
        return -1;
    out[o] = '\0';
    return (int)o;
}

/* Lower-case base-32 digits that sort like the numbers they write. */
static const char sortable32[] = "0123456789abcdefghjkmnpqrstvwxyz";

void crypto_event_id(char out[32])
{
    static atomic_uint_fast32_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)(ts.tv_nsec / 1000000);
    uint32_t seq = (uint32_t)atomic_fetch_add(&counter, 1);
    char *p = out;
    memcpy(p, "sb_", 3);
    p += 3;
    /* 10 digits of time (good for 35,000 years), 4 of sequence, 8 random */
    for (int i = 9; i >= 0; i--)
        *p++ = sortable32[(ms >> (5 * i)) & 31];
    for (int i = 3; i >= 0; i--)
        *p++ = sortable32[(seq >> (5 * i)) & 31];
    unsigned char r[8];
    if (crypto_random_bytes(r, sizeof(r)) < 0)
        memset(r, 0, sizeof(r));
    for (int i = 0; i < 8; i++)
        *p++ = sortable32[r[i] & 31];
    *p = '\0';
}
