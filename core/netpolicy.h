/*
 * The outbound address policy: which addresses a request whose host came
 * from data (a step with dynamic_host = true) may connect to. The HTTP
 * client asks it about the address each connection really uses, after DNS,
 * so a name that resolves to an internal address, or changes its answer
 * between a check and the connection (DNS rebinding), cannot slip through.
 * Pure functions: any thread.
 */
#ifndef SB_NETPOLICY_H
#define SB_NETPOLICY_H

#include <stddef.h>

#include <sys/socket.h>

/*
 * What kind of special-purpose address `sa` (len bytes, AF_INET or
 * AF_INET6) is: "loopback", "private", "shared (carrier-grade NAT)",
 * "link-local", "cloud metadata", "unspecified", "multicast", "broadcast"
 * or "reserved"; NULL for an ordinary public address. IPv4 addresses
 * inside IPv6 (::ffff:a.b.c.d, 64:ff9b::/96, 2002::/16) are judged as the
 * IPv4 address they carry. Another family is "reserved". The string is
 * static.
 */
const char *netpolicy_special(const struct sockaddr *sa, size_t len);

/* The same for a numeric address as text ("10.0.0.1", "fd00:ec2::254");
 * "not an address" when it does not parse as one. */
const char *netpolicy_special_text(const char *ip);

#endif
