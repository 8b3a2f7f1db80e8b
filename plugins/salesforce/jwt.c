/*
 * The JWT bearer assertion of Salesforce's OAuth 2.0 JWT flow (connectors.md
 * 10.2), signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with OpenSSL: the
 * host's crypto helpers have HMAC and digests but no RSA, so this file, and
 * only this file, links libcrypto. PKCS#1 v1.5 signatures are
 * deterministic, which lets a test pin one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "salesforce.h"

const char *salesforce_jwt_audience(const char *login_url)
{
    /* the host part of the URL */
    const char *host = strstr(login_url, "://");
    host = host ? host + 3 : login_url;
    size_t n = strcspn(host, "/:?#");
    static const char sandbox[] = ".sandbox.my.salesforce.com";
    size_t sn = sizeof(sandbox) - 1;
    bool is_sandbox = (n == 19 && strncmp(host, "test.salesforce.com", 19) == 0) ||
                      (n > sn && strncmp(host + n - sn, sandbox, sn) == 0);
    return is_sandbox ? "https://test.salesforce.com" : "https://login.salesforce.com";
}

/* base64url without padding of data, appended at out + *len (out has room:
 * 4 * ceil(n / 3) + 1 more bytes). 0 or -1. */
static int b64url(const struct sb_host *sb, const void *data, size_t n, char *out, size_t *len,
                  size_t cap)
{
    int w = sb->base64_encode(data, n, out + *len, cap - *len);
    if (w < 0)
        return -1;
    for (int i = 0; i < w; i++) {
        char *c = out + *len + i;
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
    }
    while (w > 0 && out[*len + (size_t)w - 1] == '=')
        w--;
    *len += (size_t)w;
    out[*len] = '\0';
    return 0;
}

/* The RSA key of a PEM text, or NULL (err says why). Caller frees. */
static EVP_PKEY *read_key(const char *pem, char *err, size_t err_size)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    /* the OpenSSL error queue is per thread: leave nothing in it */
    ERR_clear_error();
    if (!key) {
        snprintf(err, err_size,
                 "private_key is not a PEM private key (BEGIN PRIVATE KEY or "
                 "BEGIN RSA PRIVATE KEY) without a passphrase");
        return NULL;
    }
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        snprintf(err, err_size, "private_key is not an RSA key (RS256 needs one)");
        return NULL;
    }
    return key;
}

int salesforce_jwt_assertion(const struct sb_host *sb, const char *client_id, const char *username,
                             const char *audience, int64_t exp_s, const char *pem, char **out,
                             char *err, size_t err_size)
{
    *out = NULL;
    struct json_object *claims = json_object_new_object();
    if (!claims) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    /* the order Salesforce documents: iss, sub, aud, exp */
    json_object_object_add(claims, "iss", json_object_new_string(client_id));
    json_object_object_add(claims, "sub", json_object_new_string(username));
    json_object_object_add(claims, "aud", json_object_new_string(audience));
    json_object_object_add(claims, "exp", json_object_new_int64(exp_s));
    const char *text = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
    static const char header[] = "{\"alg\":\"RS256\"}";
    size_t cap = 4 * (sizeof(header) + strlen(text) + 512) / 3 + 64;
    char *jwt = malloc(cap);
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *sig = NULL;
    size_t len = 0, sig_len = 0;
    int rc = -1;
    if (!jwt) {
        snprintf(err, err_size, "out of memory");
        goto out;
    }
    if (b64url(sb, header, sizeof(header) - 1, jwt, &len, cap) < 0)
        goto too_long;
    jwt[len++] = '.';
    if (b64url(sb, text, strlen(text), jwt, &len, cap) < 0)
        goto too_long;
    if (!(key = read_key(pem, err, err_size)))
        goto out;
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)jwt, len) != 1 ||
        !(sig = malloc(sig_len)) ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)jwt, len) != 1) {
        ERR_clear_error();
        snprintf(err, err_size, "RS256 signing failed");
        goto out;
    }
    if (len + 1 + 4 * (sig_len + 2) / 3 + 2 > cap) {
        char *grown = realloc(jwt, len + 1 + 4 * (sig_len + 2) / 3 + 8);
        if (!grown) {
            snprintf(err, err_size, "out of memory");
            goto out;
        }
        jwt = grown;
        cap = len + 1 + 4 * (sig_len + 2) / 3 + 8;
    }
    jwt[len++] = '.';
    if (b64url(sb, sig, sig_len, jwt, &len, cap) < 0)
        goto too_long;
    *out = jwt;
    jwt = NULL;
    rc = 0;
    goto out;
too_long:
    snprintf(err, err_size, "the assertion is too long");
out:
    free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    free(jwt);
    json_object_put(claims);
    return rc;
}
