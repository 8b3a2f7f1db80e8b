#include "listen_owner.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"
#include "textsafe.h"

#define MAX_INODES 16
#define TCP_LISTEN 0x0a

/* The inodes of the sockets listening on `port` in one /proc/net file. */
static size_t listening_inodes(const char *file, int port, unsigned long *inodes, size_t n,
                               size_t max)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return n;
    char line[512];
    bool header = true;
    while (n < max && fgets(line, sizeof(line), f)) {
        if (header) {
            header = false;
            continue;
        }
        /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
        char *fields[10] = {0}, *save = NULL;
        size_t k = 0;
        for (char *t = strtok_r(line, " \t\n", &save); t && k < 10;
             t = strtok_r(NULL, " \t\n", &save))
            fields[k++] = t;
        if (k < 10)
            continue;
        const char *colon = strrchr(fields[1], ':');
        if (!colon)
            continue;
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 16);
        unsigned long st = strtoul(fields[3], NULL, 16);
        unsigned long inode = strtoul(fields[9], NULL, 10);
        if (*end == '\0' && p == (unsigned long)port && st == TCP_LISTEN && inode)
            inodes[n++] = inode;
    }
    fclose(f);
    return n;
}

/* Whether process `pid` has one of the sockets open. */
static bool holds_socket(const char *pid, const unsigned long *inodes, size_t n)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char path[600], target[64];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len <= 8)
            continue;
        target[len] = '\0';
        if (strncmp(target, "socket:[", 8) != 0)
            continue;
        unsigned long inode = strtoul(target + 8, NULL, 10);
        for (size_t i = 0; i < n && !found; i++)
            found = inodes[i] == inode;
    }
    closedir(d);
    return found;
}

/* The command line of `pid`, arguments joined by spaces and escaped. */
static void command_line(const char *pid, struct strbuf *out)
{
    char path[300], buf[256];
    snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    textsafe_append(out, buf, n, TEXTSAFE_LINE);
}

void listen_owner_describe(int port, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    unsigned long inodes[MAX_INODES];
    size_t n = listening_inodes("/proc/net/tcp", port, inodes, 0, MAX_INODES);
    n = listening_inodes("/proc/net/tcp6", port, inodes, n, MAX_INODES);
    if (!n)
        return;
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    struct dirent *de;
    while ((de = readdir(proc)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        if (!holds_socket(de->d_name, inodes, n))
            continue;
        struct strbuf cmd = STRBUF_INIT;
        command_line(de->d_name, &cmd);
        snprintf(out, outlen, "pid %s%s%s%s", de->d_name, cmd.len ? " (" : "", strbuf_str(&cmd),
                 cmd.len ? ")" : "");
        strbuf_release(&cmd);
        break;
    }
    closedir(proc);
}
