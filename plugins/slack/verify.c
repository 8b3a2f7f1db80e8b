/*
 * Slack request signing (v0), shared by slack.events and slack.command.
 * Sources: python-slack-sdk SignatureVerifier (the window, both ways) and
 * bolt-js verify-request (the version check): see connectors.md §2.1.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 2*len hex digits into out[len]. 0 or -1. */
static int hex_decode_exact(const char *hex, unsigned char *out, size_t len)
{
    if (strlen(hex) != 2 * len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
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
    if (hex_decode_exact(eq + 1, sent, sizeof(sent)) < 0)
        return sb->reject(call, 401, "invalid signature");
    struct sb_bytes parts[] = {
        {"v0:", 3},
        {ts, strlen(ts)},
        {":", 1},
        {req->body, req->body_len},
    };
    static const char *const names[] = {"secret", "previous_secret"};
    bool ok = false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *secret = sb->param_string(call, names[i]);
        if (!secret || !*secret)
            continue;
        unsigned char mac[SB_HASH_MAX_SIZE];
        int n = sb->hmac(SB_HASH_SHA256, secret, strlen(secret), parts, 4, mac);
        /* try every secret, so the time does not tell which one matched */
        if (n == (int)sizeof(sent) && sb->ct_equal(mac, sent, sizeof(sent)))
            ok = true;
    }
    return ok ? SB_OK : sb->reject(call, 401, "invalid signature");
}
