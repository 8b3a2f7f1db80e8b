/*
 * libFuzzer harness for the INI reader (inih driven by our reader, which
 * keeps long lines and line numbers): any bytes must give entries or
 * diagnostics, never a crash.
 *   cmake -DSB_FUZZ=ON -DCMAKE_C_COMPILER=clang .. && make fuzz_ini
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the file reader refuses NUL bytes before parsing */
    struct ini_doc doc;
    struct diag d;
    diag_init(&d);
    ini_doc_load_string(&doc, "fuzz.ini", text, &d);
    for (size_t i = 0; i < doc.n_entries; i++) {
        /* every entry has a line within the text and a valid section */
        if (doc.entries[i].line < 1 || doc.entries[i].section >= doc.n_sections)
            abort();
    }
    for (size_t i = 0; i < d.n; i++)
        free(diag_format(&d.items[i]));
    ini_doc_release(&doc);
    diag_release(&d);
    free(text);
    return 0;
}
