/*
 * Conditions of a workflow's [filter] `when` key:
 *   {{ event.amount }} >= 5000 and not ({{ event.currency }} == "eur")
 * Operators: == != < <= > >= contains matches (glob), and, or, not,
 * parentheses. Operands: templates, quoted strings, numbers, true/false/null;
 * another bare word (event.total, paid) is a parse error that says how to
 * write it. Values compare as numbers when both sides are numbers, else as
 * strings; < <= > >= between a number and a non-number is an evaluation
 * error naming both values. Parsed once at load; evaluated per run from any
 * thread (filters now, step conditions later: nothing here is [filter]-only).
 */
#ifndef SB_CONDITION_H
#define SB_CONDITION_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_object.h>

struct condition;

/* Returns 0, or -1 with "expected an operator after ... at column N" or
 * "'event.total' is a bare word, not a value: write {{ event.total }} ..." in err.
 * *out: caller owns, release with condition_free. */
int condition_parse(const char *text, struct condition **out, char *err, size_t errlen);
void condition_free(struct condition *c);

/* Same contract as template_foreach_path, over every template inside. */
void condition_foreach_path(const struct condition *c, void (*fn)(void *ctx, const char *path),
                            void *ctx);

/*
 * Evaluate against root. Returns 0 with *result set, or -1 with err (a
 * missing path, or "cannot order "abc" >= 50: one side is a number and the
 * other is not"). When the result is false, `why` (may be NULL)
 * receives a short explanation such as "4200 >= 5000 is false".
 */
int condition_eval(const struct condition *c, struct json_object *root, bool *result, char *why,
                   size_t whylen, char *err, size_t errlen);

#endif
