/* switchboard sign PROVIDER --secret S [--timestamp T] [--url U] < body:
 * print the headers the provider would send with this body, one
 * "Name: value" line each, so a real-looking signed webhook can be sent
 * with curl (and tests can make one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "crypto.h"
#include "params.h"
#include "strbuf.h"

static char *read_stdin(size_t *len)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        strbuf_add(&sb, buf, n);
    return strbuf_detach(&sb, len);
}

static void hex_of(const unsigned char *mac, int n, char *out, size_t outlen)
{
    crypto_hex_encode(mac, (size_t)n, out, outlen);
}

int cmd_sign(struct cli *cli)
{
    static const char usage[] =
        "usage: switchboard sign PROVIDER --secret S [--timestamp T] [--url U] < body\n"
        "  PROVIDER: stripe, slack, shopify, trello (needs --url, the callback URL as "
        "registered),\n"
        "            standard (Standard Webhooks; --secret is whsec_...; --id sets "
        "webhook-id)\n";
    if (cli->n_positional != 1 || !cli->opt_secret) {
        fputs(usage, stderr);
        return 2;
    }
    const char *provider = cli->positional[0];
    const char *secret = cli->opt_secret;
    int64_t ts = (int64_t)time(NULL);
    if (cli->opt_timestamp && parse_int64(cli->opt_timestamp, &ts) < 0) {
        fprintf(stderr, "switchboard sign: --timestamp wants Unix seconds, not '%s'\n",
                cli->opt_timestamp);
        return 2;
    }
    char tsbuf[32];
    snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
    size_t len = 0;
    char *body = read_stdin(&len);
    unsigned char mac[SB_HASH_MAX_SIZE];
    char text[256];
    int rc = 0;
    if (strcmp(provider, "stripe") == 0) {
        /* t=<ts>,v1=hex(HMAC-SHA256(whole whsec_ string, "<ts>.<body>")) */
        struct sb_bytes parts[] = {{tsbuf, strlen(tsbuf)}, {".", 1}, {body, len}};
        int n = crypto_hmac(SB_HASH_SHA256, secret, strlen(secret), parts, 3, mac);
        hex_of(mac, n, text, sizeof(text));
        printf("Stripe-Signature: t=%s,v1=%s\n", tsbuf, text);
    } else if (strcmp(provider, "slack") == 0) {
        /* v0=hex(HMAC-SHA256(signing secret, "v0:<ts>:<body>")) */
        struct sb_bytes parts[] = {{"v0:", 3}, {tsbuf, strlen(tsbuf)}, {":", 1}, {body, len}};
        int n = crypto_hmac(SB_HASH_SHA256, secret, strlen(secret), parts, 4, mac);
        hex_of(mac, n, text, sizeof(text));
        printf("X-Slack-Request-Timestamp: %s\nX-Slack-Signature: v0=%s\n", tsbuf, text);
    } else if (strcmp(provider, "shopify") == 0) {
        /* base64(HMAC-SHA256(app secret, body)) */
        struct sb_bytes parts[] = {{body, len}};
        int n = crypto_hmac(SB_HASH_SHA256, secret, strlen(secret), parts, 1, mac);
        crypto_base64_encode(mac, (size_t)n, text, sizeof(text));
        char id[32];
        crypto_event_id(id);
        printf("X-Shopify-Hmac-Sha256: %s\nX-Shopify-Webhook-Id: %s\n", text, id + 3);
    } else if (strcmp(provider, "trello") == 0) {
        /* base64(HMAC-SHA1(app secret, body + callbackURL)) */
        if (!cli->opt_url) {
            fprintf(stderr, "switchboard sign trello: give --url, the callback URL exactly as "
                            "registered with Trello\n");
            rc = 2;
            goto out;
        }
        struct sb_bytes parts[] = {{body, len}, {cli->opt_url, strlen(cli->opt_url)}};
        int n = crypto_hmac(SB_HASH_SHA1, secret, strlen(secret), parts, 2, mac);
        crypto_base64_encode(mac, (size_t)n, text, sizeof(text));
        printf("X-Trello-Webhook: %s\n", text);
    } else if (strcmp(provider, "standard") == 0) {
        /* v1,base64(HMAC-SHA256(base64-decoded whsec_ key, "<id>.<ts>.<body>")) */
        const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
        unsigned char key[256];
        int klen = crypto_base64_decode(b64, strlen(b64), key, sizeof(key));
        if (klen <= 0) {
            fprintf(stderr, "switchboard sign standard: the secret must be whsec_ followed by "
                            "base64\n");
            rc = 2;
            goto out;
        }
        char id[64];
        if (cli->opt_id) {
            snprintf(id, sizeof(id), "%s", cli->opt_id);
        } else {
            char gen[32];
            crypto_event_id(gen);
            snprintf(id, sizeof(id), "msg_%s", gen + 3);
        }
        struct sb_bytes parts[] = {
            {id, strlen(id)}, {".", 1}, {tsbuf, strlen(tsbuf)}, {".", 1}, {body, len}};
        int n = crypto_hmac(SB_HASH_SHA256, key, (size_t)klen, parts, 5, mac);
        crypto_base64_encode(mac, (size_t)n, text, sizeof(text));
        printf("webhook-id: %s\nwebhook-timestamp: %s\nwebhook-signature: v1,%s\n", id, tsbuf,
               text);
    } else {
        fprintf(stderr, "switchboard sign: unknown provider '%s'\n%s", provider, usage);
        rc = 2;
    }
out:
    free(body);
    return rc;
}
