/*
 * Files only the engine's user may read: the store holds every event and
 * every step output, so its folder is 0700 and its files 0600, whatever the
 * umask the engine was started with.
 */
#ifndef SB_PRIVATE_FILE_H
#define SB_PRIVATE_FILE_H

#include <stddef.h>

/*
 * Make `path` (a database file) private before SQLite opens it: create it
 * empty with mode 0600 when it does not exist; when it, or its "-wal" or
 * "-shm" companion, exists, belongs to this user and is open to group or
 * others, take those bits away (a store made by an older version). SQLite
 * gives the companions it creates the mode of the database file. Returns 0,
 * or -1 with a message in err.
 */
int private_file_prepare(const char *path, char *err, size_t errlen);

#endif
