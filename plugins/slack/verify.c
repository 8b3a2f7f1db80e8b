/*
 * Slack request signing (v0), shared by slack.events and slack.command.
 * Sources: python-slack-sdk SignatureVerifier (the window, both ways) and
 * bolt-js verify-request (the version check): see connectors.md §2.1.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "slack.h"

#define SIG_HEADER "X-Slack-Signature"
#define TS_HEADER "X-Slack-Request-Timestamp"
#define DEFAULT_TOLERANCE_MS 300000

/* A Unix timestamp of decimal digits only (no sign, no spaces). 0 or -1. */
static int parse_timestamp(const char *text, int64_t *out)
{
    size_t n = strlen(text);
    /* 18 digits cannot overflow int64 */
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return 0;
}

/* The bytes Slack signs: "v0:" + timestamp + ":" + raw body, as four
 * parts into parts[4]; shared by verify and sign. */
static void signed_parts(const char *ts, const void *body, size_t len, struct sb_bytes parts[4])
{
    parts[0] = (struct sb_bytes){"v0:", 3};
    parts[1] = (struct sb_bytes){ts, strlen(ts)};
    parts[2] = (struct sb_bytes){":", 1};
    parts[3] = (struct sb_bytes){body, len};
}

enum sb_status slack_verify_request(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_request *req)
{
    const char *ts = sb->header(req, TS_HEADER);
    const char *sig = sb->header(req, SIG_HEADER);
    if (!ts || !sig)
        return sb->reject(call, 401, "missing " SIG_HEADER " or " TS_HEADER);
    int64_t t;
    if (parse_timestamp(ts, &t) < 0)
        return sb->reject(call, 401, "malformed " TS_HEADER);
    int64_t tolerance_s = sb->param_int(call, "tolerance", DEFAULT_TOLERANCE_MS) / 1000;
    int64_t now = sb->now_ms(call) / 1000;
    /* abs(now - t) > tolerance, written without overflow for any t */
    if (t < now - tolerance_s)
        return sb->reject(call, 401, "timestamp too old");
    if (t > now + tolerance_s)
        return sb->reject(call, 401, "timestamp too new");
    /* "v0=<hex>": the version is what comes before '=' (bolt-js) */
    const char *eq = strchr(sig, '=');
    if (!eq)
        return sb->reject(call, 401, "malformed " SIG_HEADER);
    if (eq - sig != 2 || strncmp(sig, "v0", 2) != 0)
        return sb->reject(call, 401, "unsupported signature version (want v0)");
    unsigned char sent[32];
    size_t hex_len = strlen(eq + 1);
    if (hex_len != 2 * sizeof(sent) ||
        sb->hex_decode(eq + 1, hex_len, sent, sizeof(sent)) != (int)sizeof(sent))
        return sb->reject(call, 401, "invalid signature");
    struct sb_bytes parts[4];
    signed_parts(ts, req->body, req->body_len, parts);
    static const char *const names[] = {"secret", "previous_secret"};
    struct sb_bytes keys[2];
    size_t n_keys = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *secret = sb->param_string(call, names[i]);
        if (secret && *secret)
            keys[n_keys++] = (struct sb_bytes){secret, strlen(secret)};
    }
    if (!sb->hmac_verify(SB_HASH_SHA256, keys, n_keys, parts, 4, sent, sizeof(sent)))
        return sb->reject(call, 401, "invalid signature");
    return SB_OK;
}

enum sb_status slack_sign(const struct sb_host *sb, struct sb_call *call,
                          const struct sb_sign_request *req)
{
    char ts[32], hex[2 * 32 + 1], sig[80];
    snprintf(ts, sizeof(ts), "%lld", (long long)req->timestamp_s);
    struct sb_bytes parts[4];
    signed_parts(ts, req->body, req->body_len, parts);
    unsigned char mac[SB_HASH_MAX_SIZE];
    if (sb->hmac(SB_HASH_SHA256, req->secret, strlen(req->secret), parts, 4, mac) != 32 ||
        sb->hex_encode(mac, 32, hex, sizeof(hex)) < 0)
        return sb->fail(call, "cannot compute the signature");
    snprintf(sig, sizeof(sig), "v0=%s", hex);
    struct json_object *out = json_object_new_object();
    if (!out)
        return sb->fail(call, "out of memory");
    json_object_object_add(out, TS_HEADER, json_object_new_string(ts));
    json_object_object_add(out, SIG_HEADER, json_object_new_string(sig));
    sb->set_output(call, out);
    return SB_OK;
}
