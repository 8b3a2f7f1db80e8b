/*
 * Secret references in configuration values: ${env:NAME} and
 * ${file:PATH}, anywhere in a value ("Bearer ${env:TOKEN}"). `$${` stands
 * for a literal "${". Resolved once, at load time.
 */
#ifndef SB_SECRET_H
#define SB_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Expand every reference in `value`. A relative ${file:...} path is taken
 * from `base_dir` (may be NULL for the working directory). On success
 * returns 0, *out (caller owns) and *had_ref (whether a reference was
 * there); each resolved secret is registered for redaction (redact.h). On error
 * returns -1 with a message naming the variable or file (never a value).
 */
int secret_expand(const char *value, const char *base_dir, char **out, bool *had_ref, char *err,
                  size_t errlen);

/* True when `value` contains a reference (cheap check, no resolution). */
bool secret_has_ref(const char *value);

/*
 * For commands that show stored data without loading the workflows (runs,
 * show): resolve every reference in the workflow files of `dir`, so that
 * their values are masked in what the command prints, as a second line of
 * defence behind the masking done before anything is stored. References
 * this process cannot resolve (a variable not set in this shell) are
 * skipped. Returns how many new values were registered.
 */
size_t secret_register_dir(const char *dir);

#endif
