/*
 * Special-purpose address ranges (RFC 6890 and the IANA registries, plus
 * the cloud metadata endpoints), for the outbound address policy. The
 * ranges refused are those a request from this host could use to reach
 * something that is not on the public internet.
 */
#include "netpolicy.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* IPv4 in host order. */
static const char *special_v4(uint32_t a)
{
    static const struct {
        uint32_t net;
        unsigned bits;
        const char *kind;
    } ranges[] = {
        /* the most specific first: metadata lives inside link-local and
         * the shared space */
        {0xA9FEA9FEu, 32, "cloud metadata"}, /* 169.254.169.254 (AWS, GCP, Azure...) */
        {0xA9FEAA02u, 32, "cloud metadata"}, /* 169.254.170.2 (ECS task metadata) */
        {0x646464C8u, 32, "cloud metadata"}, /* 100.100.100.200 (Alibaba) */
        {0xFFFFFFFFu, 32, "broadcast"},
        {0x00000000u, 8, "unspecified"},                 /* 0.0.0.0/8 */
        {0x0A000000u, 8, "private"},                     /* 10/8 */
        {0x64400000u, 10, "shared (carrier-grade NAT)"}, /* 100.64/10 */
        {0x7F000000u, 8, "loopback"},                    /* 127/8 */
        {0xA9FE0000u, 16, "link-local"},                 /* 169.254/16 */
        {0xAC100000u, 12, "private"},                    /* 172.16/12 */
        {0xC0000000u, 24, "reserved"},                   /* 192.0.0/24 */
        {0xC0A80000u, 16, "private"},                    /* 192.168/16 */
        {0xC6120000u, 15, "reserved"},                   /* 198.18/15 benchmarking */
        {0xE0000000u, 4, "multicast"},                   /* 224/4 */
        {0xF0000000u, 4, "reserved"},                    /* 240/4 */
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        uint32_t mask = ranges[i].bits == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> ranges[i].bits);
        if ((a & mask) == ranges[i].net)
            return ranges[i].kind;
    }
    return NULL;
}

static uint32_t v4_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool zeros(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static const char *special_v6(const unsigned char b[16])
{
    static const unsigned char aws_metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                                   0,    0,    0,    0,    0, 0, 0x02, 0x54};
    if (zeros(b, 15) && b[15] == 0)
        return "unspecified";
    if (zeros(b, 15) && b[15] == 1)
        return "loopback";
    if (zeros(b, 10) && b[10] == 0xff && b[11] == 0xff) /* ::ffff:a.b.c.d */
        return special_v4(v4_at(b + 12));
    if (zeros(b, 12)) /* ::a.b.c.d, deprecated IPv4-compatible */
        return "reserved";
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b}; /* 64:ff9b::/96 */
    if (memcmp(b, nat64, 12) == 0)
        return special_v4(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16, 6to4 */
        return special_v4(v4_at(b + 2));
    if (memcmp(b, aws_metadata, 16) == 0)
        return "cloud metadata";
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 */
        return "private";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
        return "link-local";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10, deprecated site-local */
        return "private";
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

const char *netpolicy_special(const struct sockaddr *sa, size_t len)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return special_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return special_v6(in6->sin6_addr.s6_addr);
    }
    return "reserved";
}

const char *netpolicy_special_text(const char *ip)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1)
        return special_v4(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, ip, &a6) == 1)
        return special_v6(a6.s6_addr);
    return "not an address";
}
