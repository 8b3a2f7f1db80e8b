#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"
#include "strbuf.h"
#include "textsafe.h"
#include "xalloc.h"

/* the longest message written; longer ones are cut (after masking) */
#define LOG_MESSAGE_MAX 4000

static enum sb_log_level min_level = SB_LOG_INFO;
static enum log_format out_format = LOG_TEXT;
static FILE *out_stream;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

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
    if (value)
        redact_add(value, strlen(value));
}

void log_clear_secrets(void)
{
    redact_clear();
}

bool log_has_secret(const char *text)
{
    return text && redact_found(text, strlen(text));
}

void log_redact(const char *text, char *out, size_t outlen)
{
    redact_copy(text, out, outlen);
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
    /* the whole message first, then the secrets masked, and only then cut
     * to length: a cut before masking could leave half a secret that no
     * longer matches */
    struct strbuf raw = STRBUF_INIT, msg = STRBUF_INIT, line = STRBUF_INIT;
    strbuf_vaddf(&raw, fmt, ap);
    redact_append(&msg, raw.buf ? raw.buf : "", raw.len);
    strbuf_release(&raw);
    size_t keep = msg.len, cut = 0;
    if (keep > LOG_MESSAGE_MAX) {
        keep = LOG_MESSAGE_MAX;
        while (keep > 0 && ((unsigned char)msg.buf[keep] & 0xc0) == 0x80)
            keep--; /* not inside a UTF-8 character */
        cut = msg.len - keep;
    }
    char ts[40];
    timestamp(ts, sizeof(ts));
    if (out_format == LOG_JSON) {
        struct strbuf esc = STRBUF_INIT;
        strbuf_addf(&line, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
        if (context) {
            strbuf_add_json_escaped(&esc, context, strlen(context));
            strbuf_addstr(&line, ",\"ctx\":\"");
            textsafe_append(&line, strbuf_str(&esc), esc.len, TEXTSAFE_JSON);
            strbuf_addch(&line, '"');
            strbuf_reset(&esc);
        }
        strbuf_add_json_escaped(&esc, msg.buf ? msg.buf : "", keep);
        strbuf_addstr(&line, ",\"msg\":\"");
        textsafe_append(&line, strbuf_str(&esc), esc.len, TEXTSAFE_JSON);
        strbuf_addch(&line, '"');
        if (cut)
            strbuf_addf(&line, ",\"cut\":%zu", cut);
        strbuf_addstr(&line, "}\n");
        strbuf_release(&esc);
    } else {
        /* one event, one line: a value with a line feed or an escape
         * sequence in it cannot forge another line or drive a terminal */
        strbuf_addf(&line, "%s %-5s ", ts, level_names[level]);
        if (context) {
            strbuf_addch(&line, '[');
            textsafe_append(&line, context, strlen(context), TEXTSAFE_LINE);
            strbuf_addstr(&line, "] ");
        }
        textsafe_append(&line, msg.buf ? msg.buf : "", keep, TEXTSAFE_LINE);
        if (cut)
            strbuf_addf(&line, " [%zu more bytes cut]", cut);
        strbuf_addch(&line, '\n');
    }
    strbuf_release(&msg);
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
