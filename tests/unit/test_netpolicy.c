/*
 * Unit tests of the outbound address policy (core/netpolicy.c): which
 * addresses a step whose host comes from data may not connect to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "netpolicy.h"

static void expect(const char *ip, const char *kind)
{
    const char *got = netpolicy_special_text(ip);
    if (kind == NULL && got == NULL)
        return;
    if (kind == NULL || got == NULL || strcmp(kind, got) != 0)
        fail_msg("%s is '%s', expected '%s'", ip, got ? got : "(public)", kind ? kind : "(public)");
}

static void test_ipv4(void **state)
{
    (void)state;
    expect("127.0.0.1", "loopback");
    expect("127.255.255.254", "loopback");
    expect("10.1.2.3", "private");
    expect("172.16.0.1", "private");
    expect("172.31.255.255", "private");
    expect("192.168.1.1", "private");
    expect("169.254.169.254", "cloud metadata");
    expect("169.254.170.2", "cloud metadata");
    expect("100.100.100.200", "cloud metadata");
    expect("169.254.1.1", "link-local");
    expect("100.64.0.1", "shared (carrier-grade NAT)");
    expect("0.0.0.0", "unspecified");
    expect("0.1.2.3", "unspecified");
    expect("224.0.0.1", "multicast");
    expect("239.255.255.250", "multicast");
    expect("255.255.255.255", "broadcast");
    expect("240.0.0.1", "reserved");
    expect("192.0.0.170", "reserved");
    expect("198.18.0.1", "reserved");
    /* ordinary addresses, including the neighbours of each range */
    expect("8.8.8.8", NULL);
    expect("1.1.1.1", NULL);
    expect("172.15.255.255", NULL);
    expect("172.32.0.0", NULL);
    expect("100.63.255.255", NULL);
    expect("100.128.0.0", NULL);
    expect("192.167.255.255", NULL);
    expect("11.0.0.0", NULL);
    expect("126.255.255.255", NULL);
    expect("223.255.255.255", NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    expect("::1", "loopback");
    expect("::", "unspecified");
    expect("fd00:ec2::254", "cloud metadata");
    expect("fd12:3456::1", "private");
    expect("fc00::1", "private");
    expect("fe80::1", "link-local");
    expect("febf::1", "link-local");
    expect("fec0::1", "private");
    expect("ff02::1", "multicast");
    /* IPv4 carried in IPv6 is judged as that IPv4 address */
    expect("::ffff:127.0.0.1", "loopback");
    expect("::ffff:169.254.169.254", "cloud metadata");
    expect("::ffff:8.8.8.8", NULL);
    expect("64:ff9b::a00:1", "private");
    expect("64:ff9b::808:808", NULL);
    expect("2002:7f00:1::", "loopback");
    expect("::127.0.0.1", "reserved");
    expect("2001:4860:4860::8888", NULL);
    expect("2606:4700::1111", NULL);
    expect("not-an-ip", "not an address");
}

static void test_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_in in = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    assert_string_equal(netpolicy_special((struct sockaddr *)&in, sizeof(in)), "loopback");
    inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
    assert_null(netpolicy_special((struct sockaddr *)&in, sizeof(in)));
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr);
    assert_string_equal(netpolicy_special((struct sockaddr *)&in6, sizeof(in6)), "private");
    /* a short or unknown address is refused, not read past its end */
    assert_string_equal(netpolicy_special((struct sockaddr *)&in6, 8), "reserved");
    struct sockaddr other = {.sa_family = AF_UNIX};
    assert_string_equal(netpolicy_special(&other, sizeof(other)), "reserved");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_sockaddr),
    };
    return cmocka_run_group_tests_name("netpolicy", tests, NULL, NULL);
}
