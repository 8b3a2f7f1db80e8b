/* Hashes, HMAC, encodings and random bytes (OpenSSL), for the core and for
 * plugins through the host table. All functions are thread-safe. */
#ifndef SB_CRYPTO_H
#define SB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <switchboard/plugin.h>

int crypto_hmac(enum sb_hash alg, const void *key, size_t key_len, const struct sb_bytes *parts,
                size_t n_parts, unsigned char *out);
int crypto_digest(enum sb_hash alg, const struct sb_bytes *parts, size_t n_parts,
                  unsigned char *out);
bool crypto_ct_equal(const void *a, const void *b, size_t len);
int crypto_base64_encode(const void *data, size_t len, char *out, size_t out_size);
int crypto_base64_decode(const char *text, size_t len, unsigned char *out, size_t out_size);
int crypto_hex_encode(const void *data, size_t len, char *out, size_t out_size);
/* The value of one hex digit (either case), or -1. */
int crypto_hex_digit(char c);
/* Hex text of even length (either case) into out: the number of bytes, or
 * -1 if it is not hex or out_size < len/2 (sb->hex_decode). */
int crypto_hex_decode(const char *text, size_t len, unsigned char *out, size_t out_size);
/* Whether sig is the HMAC of parts under any of the keys; every key is
 * tried and compared in constant time (sb->hmac_verify). */
bool crypto_hmac_verify(enum sb_hash alg, const struct sb_bytes *keys, size_t n_keys,
                        const struct sb_bytes *parts, size_t n_parts, const void *sig,
                        size_t sig_len);
void crypto_md5_hex(const void *data, size_t len, char out[33]);
void crypto_sha256_hex(const void *data, size_t len, char out[65]);
int crypto_random_bytes(void *buf, size_t len);
/* A random id of `len` characters from [a-z0-9] into out[len+1]. */
void crypto_random_id(char *out, size_t len);
/* A new event id for events that come without one: "sb_" and 22 characters
 * that sort by creation time (so generated ids are appended to the dedupe
 * index instead of scattered through it). */
void crypto_event_id(char out[32]);
int crypto_url_encode(const char *text, size_t len, char *out, size_t out_size);

#endif
