/*
 * The file side of loading a plugin: a .so runs with the engine's rights
 * and sees every secret, so it is loaded only when nobody but root and the
 * engine's user could have put it there or changed it, and the file that
 * was checked is the file that is loaded.
 *
 * Refused, each with a sentence that says the fix:
 *   - a plugin folder (or the folder the file really is in) writable by
 *     group or others;
 *   - a symbolic link that leads out of the plugin folder;
 *   - a file that is not regular, is writable by group or others, or is
 *     owned by someone other than root and the engine's user.
 * The file is opened once, checked through that descriptor (fstat), and
 * loaded through it (/proc/self/fd/N), so it cannot be swapped between the
 * check and dlopen.
 */
#ifndef SB_PLUGIN_FILE_H
#define SB_PLUGIN_FILE_H

#include <stddef.h>

/* A plugin file opened for loading. */
struct plugin_file {
    int fd;
    char dl_path[64]; /* what to hand to dlopen: /proc/self/fd/N */
};

/*
 * Check `path` and its folder and open it: 0 with *out filled (release it
 * with plugin_file_close once dlopen returned), or -1 with the refusal in
 * why (whylen bytes), a sentence that names the fix.
 */
int plugin_file_open(const char *path, struct plugin_file *out, char *why, size_t whylen);
void plugin_file_close(struct plugin_file *f);

/* Check a plugin folder: 0, or -1 with the refusal in why. */
int plugin_dir_check(const char *dir, char *why, size_t whylen);

#endif
