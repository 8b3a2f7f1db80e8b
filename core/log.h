/*
 * Logging: one API, a context prefix ("[slack.post_message wf=orders
 * run=42]"), text or JSON lines on stderr, and redaction of every secret
 * value the engine has loaded (registered with log_add_secret), so that a
 * secret never reaches a log line even when a plugin or a provider echoes it.
 * Thread-safe.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <switchboard/plugin.h>

enum log_format {
    LOG_TEXT = 0,
    LOG_JSON = 1,
};

/* Set the minimum level and the format. Main thread, before threads start. */
void log_setup(enum sb_log_level level, enum log_format format);
/* Send log lines to `stream` instead of stderr (tests). */
void log_set_stream(FILE *stream);
enum sb_log_level log_level(void);
bool log_enabled(enum sb_log_level level);
/* Parse "debug", "info", "warn", "error"; -1 if none of them. */
int log_level_parse(const char *text);

/* Register a secret value: every later log line shows it as "****". The
 * value is copied. Values shorter than 4 bytes are ignored (they would
 * redact ordinary words). */
void log_add_secret(const char *value);
void log_clear_secrets(void);
/* Replace every registered secret in `text` (in place if it shrinks; the
 * result is written to out, at most outlen bytes). */
void log_redact(const char *text, char *out, size_t outlen);
/* Whether text contains a registered secret. */
bool log_has_secret(const char *text);

/* Write one line at `level`; context may be NULL. */
void log_write(enum sb_log_level level, const char *context, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum sb_log_level level, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_debug(...) log_write(SB_LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_write(SB_LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_write(SB_LOG_WARN, NULL, __VA_ARGS__)

/* Log at error level and return -1: `return error("cannot open '%s'", p);` */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
