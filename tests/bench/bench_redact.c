/* Redaction micro-benchmark: MB/s that redact_append scans with N secrets
 * registered, over text that holds none (the common case) and over text
 * that holds one in every KiB.
 * usage: bench_redact [SECRETS] [MIB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(const char *text, size_t len, int rounds)
{
    struct strbuf out = STRBUF_INIT;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        strbuf_reset(&out);
        redact_append(&out, text, len);
    }
    double s = now_s() - t0;
    strbuf_release(&out);
    return (double)len * rounds / (1024.0 * 1024.0) / s;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
    size_t mib = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 4;
    char secret[64];
    for (int i = 0; i < n; i++) {
        snprintf(secret, sizeof(secret), "sk_live_%08dQx7Lm4PwvR2qK", i * 7919);
        redact_add(secret, strlen(secret));
    }
    size_t len = mib * 1024 * 1024;
    char *text = malloc(len + 1);
    /* JSON-ish text: letters, digits, quotes, the odd escape */
    for (size_t i = 0; i < len; i++)
        text[i] = "abcdefghij klmnopqrstuvwxyz0123456789\",:{}%\\"[(i * 2654435761u) % 46];
    text[len] = '\0';
    printf("%d secrets, %zu MiB: clean text %.1f MB/s\n", n, mib, run(text, len, 3));
    for (size_t i = 512; i + 40 < len; i += 1024)
        memcpy(text + i, "sk_live_00000000Qx7Lm4PwvR2qK", 29);
    printf("%d secrets, %zu MiB: a secret per KiB %.1f MB/s\n", n, mib, run(text, len, 3));
    free(text);
    redact_clear();
    return 0;
}
