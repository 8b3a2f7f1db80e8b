#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "xalloc.h"

static enum sb_log_level min_level = SB_LOG_INFO;
static enum log_format out_format = LOG_TEXT;
static FILE *out_stream;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_rwlock_t secrets_lock = PTHREAD_RWLOCK_INITIALIZER;
static char **secrets;
static size_t n_secrets, cap_secrets;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum sb_log_level level, enum log_format format)
{
    min_level = level;
    out_format = format;
}

void log_set_stream(FILE *stream)
{
    out_stream = stream;
}

enum sb_log_level log_level(void)
{
    return min_level;
}

bool log_enabled(enum sb_log_level level)
{
    return level >= min_level;
}

int log_level_parse(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, level_names[i]) == 0)
            return i;
    if (strcmp(text, "warning") == 0)
        return SB_LOG_WARN;
    return -1;
}

void log_add_secret(const char *value)
{
    if (!value || strlen(value) < 4)
        return;
    pthread_rwlock_wrlock(&secrets_lock);
    for (size_t i = 0; i < n_secrets; i++) {
        if (strcmp(secrets[i], value) == 0) {
            pthread_rwlock_unlock(&secrets_lock);
            return;
        }
    }
    XGROW(secrets, cap_secrets, n_secrets + 1);
    secrets[n_secrets++] = xstrdup(value);
    pthread_rwlock_unlock(&secrets_lock);
}

void log_clear_secrets(void)
{
    pthread_rwlock_wrlock(&secrets_lock);
    for (size_t i = 0; i < n_secrets; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    n_secrets = cap_secrets = 0;
    pthread_rwlock_unlock(&secrets_lock);
}

bool log_has_secret(const char *text)
{
    bool found = false;
    pthread_rwlock_rdlock(&secrets_lock);
    for (size_t i = 0; i < n_secrets && !found; i++)
        found = strstr(text, secrets[i]) != NULL;
    pthread_rwlock_unlock(&secrets_lock);
    return found;
}

void log_redact(const char *text, char *out, size_t outlen)
{
    pthread_rwlock_rdlock(&secrets_lock);
    /* the common case: nothing to hide */
    bool any = false;
    for (size_t i = 0; i < n_secrets && !any; i++)
        any = strstr(text, secrets[i]) != NULL;
    if (!any) {
        pthread_rwlock_unlock(&secrets_lock);
        snprintf(out, outlen, "%s", text);
        return;
    }
    struct strbuf sb = STRBUF_INIT;
    const char *p = text;
    while (*p) {
        /* the earliest, then longest, secret from here */
        const char *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < n_secrets; i++) {
            const char *hit = strstr(p, secrets[i]);
            size_t len = strlen(secrets[i]);
            if (hit && (!best || hit < best || (hit == best && len > best_len))) {
                best = hit;
                best_len = len;
            }
        }
        if (!best) {
            strbuf_addstr(&sb, p);
            break;
        }
        strbuf_add(&sb, p, (size_t)(best - p));
        strbuf_addstr(&sb, "****");
        p = best + best_len;
    }
    pthread_rwlock_unlock(&secrets_lock);
    snprintf(out, outlen, "%s", strbuf_str(&sb));
    strbuf_release(&sb);
}

static void timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_vwrite(enum sb_log_level level, const char *context, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char raw[4096], msg[4096], ts[40];
    vsnprintf(raw, sizeof(raw), fmt, ap);
    log_redact(raw, msg, sizeof(msg));
    timestamp(ts, sizeof(ts));
    struct strbuf line = STRBUF_INIT;
    if (out_format == LOG_JSON) {
        strbuf_addf(&line, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
        if (context) {
            strbuf_addstr(&line, ",\"ctx\":\"");
            strbuf_add_json_escaped(&line, context, strlen(context));
            strbuf_addch(&line, '"');
        }
        strbuf_addstr(&line, ",\"msg\":\"");
        strbuf_add_json_escaped(&line, msg, strlen(msg));
        strbuf_addstr(&line, "\"}\n");
    } else {
        strbuf_addf(&line, "%s %-5s ", ts, level_names[level]);
        if (context)
            strbuf_addf(&line, "[%s] ", context);
        strbuf_addstr(&line, msg);
        strbuf_addch(&line, '\n');
    }
    pthread_mutex_lock(&write_lock);
    FILE *f = out_stream ? out_stream : stderr;
    fwrite(line.buf, 1, line.len, f);
    fflush(f);
    pthread_mutex_unlock(&write_lock);
    strbuf_release(&line);
}

void log_write(enum sb_log_level level, const char *context, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, context, fmt, ap);
    va_end(ap);
}

int error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(SB_LOG_ERROR, NULL, fmt, ap);
    va_end(ap);
    return -1;
}
