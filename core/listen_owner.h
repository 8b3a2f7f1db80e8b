/*
 * Who holds a TCP port: when the engine cannot listen because the address
 * is in use, its message names the process, so the user can tell a second
 * engine from an unrelated server. Best effort, Linux only (/proc/net/tcp
 * and /proc/<pid>/fd): another user's process is not visible unless the
 * engine runs as root.
 */
#ifndef SB_LISTEN_OWNER_H
#define SB_LISTEN_OWNER_H

#include <stddef.h>

/* "pid 1234 (switchboard run -c conf/switchboard.ini)" for the process
 * that listens on TCP `port` (any address, IPv4 or IPv6) into out (outlen
 * bytes); "" when it cannot be found. */
void listen_owner_describe(int port, char *out, size_t outlen);

#endif
