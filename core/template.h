/*
 * Templates: text with {{ path | filter: arg, ... | ... }} expressions,
 * parsed once at load time and rendered per run against a JSON root object
 * ({"event": ..., "trigger": ..., "steps": ..., "workflow": ..., "run": ...}).
 *
 * A parsed template is immutable: render it from any number of threads at
 * once. Rendering allocates little (it walks the root without copying).
 */
#ifndef SB_TEMPLATE_H
#define SB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_object.h>

#include "strbuf.h"

struct template;

/*
 * Parse `text`, which will be rendered in escape context `escape` (an enum
 * sb_escape value from plugin.h). On error returns -1 and writes a message
 * such as "unclosed '{{' at column 12" or "unknown filter 'uper' (did you
 * mean 'upper'?)" into err. For SB_ESCAPE_JSON the text must be a JSON
 * document once its expressions are filled in. *out: caller owns, release
 * with template_free.
 */
int template_parse(const char *text, unsigned escape, struct template **out, char *err,
                   size_t errlen);
void template_free(struct template *t);

/* True when the template holds at least one {{ }} expression. */
bool template_has_expressions(const struct template *t);

/* The source text it was parsed from. Borrowed. */
const char *template_text(const struct template *t);

/*
 * Call fn once for every path the template reads (expression subjects and
 * path arguments of filters), as the dotted text of the path ("event.data.id",
 * "steps.card.url"; indices as numbers: "event.items.0.sku").
 */
void template_foreach_path(const struct template *t, void (*fn)(void *ctx, const char *path),
                           void *ctx);

/*
 * Append the rendering of t against root to out. Returns 0, or -1 with a
 * message in err naming the failing path or filter ("'event.data.amont' does
 * not exist").
 */
int template_render(const struct template *t, struct json_object *root, struct strbuf *out,
                    char *err, size_t errlen);

/*
 * Render a template that is exactly one expression ("{{ event.amount }}",
 * with optional surrounding whitespace) to its JSON value, so a typed
 * parameter keeps its type. For any other template, the rendered text as a
 * JSON string. *out: caller owns (json_object_put). Returns 0 or -1.
 */
int template_render_value(const struct template *t, struct json_object *root,
                          struct json_object **out, char *err, size_t errlen);

/*
 * The value at a path written in the template dialect ("data.items[0].sku",
 * "items.0", "a[\"b.c\"]", "[0].id"), looked up in root (sb->json_path).
 * NULL or "" is root. Returns 0 with *out borrowed from root (NULL for a
 * JSON null), -1 when the path does not exist, -2 when the text is not a
 * path.
 */
int template_path_lookup(struct json_object *root, const char *text, struct json_object **out);

/* Names of all filters, NULL-terminated (for did-you-mean and docs). */
extern const char *const template_filter_names[];

#endif
