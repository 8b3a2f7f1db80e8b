#include "private_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Take group and other bits off an existing file of ours. */
static int tighten(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (st.st_uid != geteuid() || (st.st_mode & 077) == 0)
        return 0;
    if (chmod(path, st.st_mode & 07700) < 0) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        snprintf(err, errlen, "cannot make '%s' private (chmod go-rwx): %s", path, msg);
        return -1;
    }
    return 0;
}

int private_file_prepare(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* the umask may have taken bits off 0600 too: exactly 0600 */
        int rc = fchmod(fd, 0600);
        close(fd);
        if (rc < 0) {
            char msg[128];
            strerror_r(errno, msg, sizeof(msg));
            snprintf(err, errlen, "cannot set the mode of '%s': %s", path, msg);
            return -1;
        }
    } else if (errno != EEXIST) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        snprintf(err, errlen, "cannot create '%s': %s", path, msg);
        return -1;
    }
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char file[4096];
        if ((size_t)snprintf(file, sizeof(file), "%s%s", path, suffixes[i]) >= sizeof(file))
            continue;
        if (tighten(file, err, errlen) < 0)
            return -1;
    }
    return 0;
}
