/*
 * Logging: one API, a context prefix ("[slack.post_message wf=orders
 * run=42]"), text or JSON lines on stderr, and redaction of every secret
 * value the engine has loaded (redact.h), in any encoding, so that a secret
 * never reaches a log line even when a plugin or a provider echoes it. Each
 * message is formatted whole, masked, then cut to length; in text format
 * its control bytes are escaped (textsafe.h), so one event is one line.
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

/* The log's view of redaction (redact.h, where the secrets are kept):
 * register a value, forget them all, mask them in a copy, find one. */
void log_add_secret(const char *value);
void log_clear_secrets(void);
/* Mask every registered secret of `text` into out (outlen bytes). */
void log_redact(const char *text, char *out, size_t outlen);
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
