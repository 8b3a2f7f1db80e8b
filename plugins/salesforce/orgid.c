/*
 * Salesforce ids in their 18-character form. A 15-character id is case
 * sensitive; the 18-character one appends three characters that encode the
 * case of the 15, five letters each (bit i set when character i of the
 * chunk is an upper-case letter), as an index into A-Z0-5. Comparing the
 * 18-character forms compares the ids, whichever form each side was given in.
 */
#include <string.h>

#include "salesforce.h"

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int salesforce_id18(const char *id, char out[19])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    size_t n = strlen(id);
    if (n != 15 && n != 18)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(id[i]))
            return -1;
    memcpy(out, id, 15);
    for (size_t chunk = 0; chunk < 3; chunk++) {
        unsigned flags = 0;
        for (size_t j = 0; j < 5; j++) {
            char c = id[chunk * 5 + j];
            if (c >= 'A' && c <= 'Z')
                flags |= 1u << j;
        }
        out[15 + chunk] = alphabet[flags];
    }
    out[18] = '\0';
    if (n == 18) {
        /* the suffix itself is case-insensitive: it is what encodes case */
        for (size_t i = 15; i < 18; i++) {
            char c = id[i] >= 'a' && id[i] <= 'z' ? (char)(id[i] - 'a' + 'A') : id[i];
            if (c != out[i])
                return -1;
        }
    }
    return 0;
}
