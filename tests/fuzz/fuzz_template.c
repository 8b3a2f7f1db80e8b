/*
 * libFuzzer harness for the template and condition engines.
 *
 * The input up to its first NUL byte is the template / condition text; the
 * bytes after it become the string event.fuzz of the render root, so the
 * fuzzer controls payload data as well. The text is parsed in every escape
 * context and as a condition, then rendered against the root. Besides the
 * sanitizers, one property is checked: a JSON-context template without the
 * raw filter always renders valid JSON.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore -Isdk/include \
 *       tests/fuzz/fuzz_template.c core/template.c core/template_filters.c \
 *       core/condition.c core/strbuf.c core/xalloc.c \
 *       $(pkg-config --cflags --libs json-c libcrypto) -lm -o fuzz_template
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <switchboard/plugin.h>

#include "condition.h"
#include "strbuf.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char root_json[] =
    "{\"event\": {\"id\": \"evt_1\", \"amount\": 5000, \"big\": 820982911946154508,"
    " \"huge\": 18446744073709551615, \"neg\": -9223372036854775808, \"d\": 50.50,"
    " \"tiny\": 1e-300, \"price\": \"1575.90\", \"cur\": \"eur\", \"t\": 1719419601,"
    " \"iso\": \"2024-06-26T12:33:21-04:00\", \"null\": null, \"empty\": \"\","
    " \"bool\": true, \"q\": \"\\\"\\\\\\u0000\\u001f<&>\", \"u\": \"h\\u00e9\\u2603\","
    " \"items\": [{\"sku\": \"A\"}, 1, null, [2, 3]], \"tags\": [\"a\", \"b\"],"
    " \"fmt\": \"%Y %j\", \"o\": {\"k\\\"\": \"v\", \"\": 1}},"
    " \"trigger\": {\"headers\": {\"x-a\": \"b\"}},"
    " \"steps\": {\"s\": {\"url\": \"https://example.com/a?b=c\"}}}";

static void count_path(void *ctx, const char *path)
{
    size_t *n = ctx;
    *n += strlen(path);
}

/* Abort (a finding) unless s is one complete, strictly valid JSON text. */
static void require_json(const char *text, const char *s, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)len + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && (s[end] == ' ' || s[end] == '\t' || s[end] == '\n' || s[end] == '\r'))
        end++;
    if (e != json_tokener_success || end < len) {
        fprintf(stderr, "invalid JSON (%s) from template '%s':\n%s\n", json_tokener_error_desc(e),
                text, s);
        abort();
    }
    json_object_put(o);
    json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t tlen = strnlen(in, size);
    char *text = malloc(tlen + 1);
    char err[256], why[128];
    if (!text)
        return 0;
    memcpy(text, in, tlen);
    text[tlen] = '\0';

    struct json_object *root = json_tokener_parse(root_json), *event;
    if (!root || !json_object_object_get_ex(root, "event", &event))
        abort();
    size_t rest = tlen < size ? size - tlen - 1 : 0;
    json_object_object_add(event, "fuzz", json_object_new_string_len(in + size - rest, (int)rest));

    for (unsigned escape = SB_ESCAPE_NONE; escape <= SB_ESCAPE_SLACK; escape++) {
        struct template *t;
        if (template_parse(text, escape, &t, err, sizeof(err)) < 0)
            continue;
        size_t n = 0;
        template_foreach_path(t, count_path, &n);
        (void)template_has_expressions(t);
        if (strcmp(template_text(t), text) != 0)
            abort();

        struct strbuf out = STRBUF_INIT;
        if (template_render(t, root, &out, err, sizeof(err)) == 0 && escape == SB_ESCAPE_JSON &&
            !strstr(text, "raw"))
            require_json(text, strbuf_str(&out), out.len);
        strbuf_release(&out);

        struct json_object *v = NULL;
        if (template_render_value(t, root, &v, err, sizeof(err)) == 0)
            json_object_put(v);
        template_free(t);
    }

    struct condition *c;
    if (condition_parse(text, &c, err, sizeof(err)) == 0) {
        bool result;
        size_t n = 0;
        condition_foreach_path(c, count_path, &n);
        (void)condition_eval(c, root, &result, why, sizeof(why), err, sizeof(err));
        condition_free(c);
    }

    json_object_put(root);
    free(text);
    return 0;
}
