/* realpath() is XSI: the build asks only for POSIX 2008 */
#define _XOPEN_SOURCE 700

#include "plugin_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* "dir/x.so" -> "dir"; "x.so" -> ".". Caller owns. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

static const char *who_writes(mode_t mode)
{
    return (mode & S_IWOTH) ? "others" : "its group";
}

int plugin_dir_check(const char *dir, char *why, size_t whylen)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        snprintf(why, whylen, "cannot read the plugin folder '%s': %s", dir, msg);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "'%s' is not a folder", dir);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, whylen,
                 "the plugin folder '%s' is writable by %s (mode %04o), so anyone could put code "
                 "there for the engine to run; fix it with: chmod go-w %s",
                 dir, who_writes(st.st_mode), (unsigned)(st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

/* "uid 1001 (alice)" */
static void describe_user(uid_t uid, char *out, size_t outlen)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
        snprintf(out, outlen, "uid %u (%s)", (unsigned)uid, found->pw_name);
    else
        snprintf(out, outlen, "uid %u", (unsigned)uid);
}

/* The checks on the open file. */
static int check_open_file(const char *path, const struct stat *st, char *why, size_t whylen)
{
    if (!S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "it is not a regular file");
        return -1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, whylen,
                 "it is writable by %s (mode %04o), so anyone could change the code the engine "
                 "runs; fix it with: chmod go-w %s",
                 who_writes(st->st_mode), (unsigned)(st->st_mode & 07777), path);
        return -1;
    }
    uid_t me = geteuid();
    if (st->st_uid != 0 && st->st_uid != me) {
        char owner[300], engine[300];
        describe_user(st->st_uid, owner, sizeof(owner));
        describe_user(me, engine, sizeof(engine));
        snprintf(why, whylen,
                 "it belongs to %s, who is neither root nor the user the engine runs as (%s), "
                 "and could change the code the engine runs; fix it with: chown root %s (or "
                 "chown it to the engine's user)",
                 owner, engine, path);
        return -1;
    }
    return 0;
}

int plugin_file_open(const char *path, struct plugin_file *out, char *why, size_t whylen)
{
    char *dir = folder_of(path), *real_dir = NULL, *real = NULL, *real_folder = NULL;
    int fd = -1, rc = -1;
    char msg[128];
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (plugin_dir_check(dir, why, whylen) < 0)
        goto out;
    real_dir = realpath(dir, NULL);
    real = realpath(path, NULL);
    if (!real_dir || !real) {
        strerror_r(errno, msg, sizeof(msg));
        snprintf(why, whylen, "cannot resolve its path: %s", msg);
        goto out;
    }
    size_t n = strlen(real_dir);
    bool inside = strncmp(real, real_dir, n) == 0 && (real[n] == '/' || real_dir[n - 1] == '/');
    if (!inside) {
        snprintf(why, whylen,
                 "it is a symbolic link to '%s', outside the plugin folder '%s', where anyone "
                 "who can write there could change it; copy the file into the folder instead of "
                 "linking to it",
                 real, dir);
        goto out;
    }
    /* a link to a subfolder: that folder must be as closed as this one */
    real_folder = folder_of(real);
    if (strcmp(real_folder, real_dir) != 0 && plugin_dir_check(real_folder, why, whylen) < 0)
        goto out;
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        strerror_r(errno, msg, sizeof(msg));
        snprintf(why, whylen, "cannot open it: %s", msg);
        goto out;
    }
    /* what is checked is what is loaded: both go through the descriptor */
    if (check_open_file(path, &st, why, whylen) < 0)
        goto out;
    snprintf(out->dl_path, sizeof(out->dl_path), "/proc/self/fd/%d", fd);
    struct stat via;
    if (stat(out->dl_path, &via) < 0 || via.st_ino != st.st_ino || via.st_dev != st.st_dev) {
        snprintf(why, whylen, "cannot load it through its open descriptor (%s): is /proc mounted?",
                 out->dl_path);
        goto out;
    }
    out->fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(real_dir);
    free(real);
    free(real_folder);
    return rc;
}

void plugin_file_close(struct plugin_file *f)
{
    if (f && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}
