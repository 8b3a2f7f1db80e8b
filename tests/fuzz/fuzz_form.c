/*
 * libFuzzer harness for the decoders that read request bytes: form bodies
 * (Slack commands, Mailchimp, form posts), percent-decoding, base64
 * (signatures) and the JSON text those bodies become.
 *   cmake -DSB_FUZZ=ON -DCMAKE_C_COMPILER=clang .. && make fuzz_form
 *   ./tests/fuzz_form -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto.h"
#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct json_object *o = form_decode(text, size);
    if (o) {
        /* whatever was decoded serializes to JSON that parses back */
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        struct json_object *back = json_tokener_parse(s);
        if (!back)
            abort();
        json_object_put(back);
        json_object_put(o);
    }
    size_t n = 0;
    char *u = form_unescape(text, size, 1, &n);
    if (n > size)
        abort();
    free(u);
    unsigned char out[512];
    int k = crypto_base64_decode(text, size, out, sizeof(out));
    if (k > (int)sizeof(out))
        abort();
    if (k > 0) {
        /* what decodes re-encodes */
        char enc[800];
        if (crypto_base64_encode(out, (size_t)k, enc, sizeof(enc)) < 0)
            abort();
    }
    return 0;
}
