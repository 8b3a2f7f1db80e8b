/*
 * INI files read through inih, with what Debian's build of it lacks:
 * - lines of any length (Debian's inih cuts at 200 bytes, and section and
 *   key names at 50, and calls the handler with the cut text);
 * - the line number of every key and section (its handler gets none);
 * - every syntax error of the file, not only the first;
 * - continuation lines (indented lines after a key) joined with "\n";
 * - repeated keys and repeated sections kept apart, so callers can refuse
 *   them.
 * Comments start a line with ';' or '#', or follow whitespace with ';'.
 */
#ifndef SB_INIFILE_H
#define SB_INIFILE_H

#include <stddef.h>

#include "diag.h"

struct ini_entry {
    size_t section; /* index into ini_doc.sections */
    char *key;
    char *value;
    int line;
};

struct ini_section {
    char *name; /* "" for keys before any section */
    int line;
};

struct ini_doc {
    char *path;
    struct ini_section *sections;
    size_t n_sections;
    size_t cap_sections;
    struct ini_entry *entries;
    size_t n_entries;
    size_t cap_entries;
};

/*
 * Read `path` into doc (caller storage). Syntax errors go to diag as
 * "path:line: ..." and the rest of the file is still read. Returns 0 when
 * the file was read without syntax errors, -1 otherwise (doc then holds
 * what could be read and must still be released).
 */
int ini_doc_load(struct ini_doc *doc, const char *path, struct diag *diag);
/* Same, from a string; `name` stands for the file name in messages. */
int ini_doc_load_string(struct ini_doc *doc, const char *name, const char *text, struct diag *diag);
void ini_doc_release(struct ini_doc *doc);

#endif
