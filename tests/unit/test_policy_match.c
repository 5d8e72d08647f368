// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_policy_match.c - addresses and connections against a parsed policy
 * (user/policy_match.c): prefix edges, the rows of each direction, which
 * of the Edge's sockets attach seeds as flows, IPv4-mapped addresses, and
 * which interface addresses count as global unicast. Tables of cases; each
 * case's tag names it in a failure.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "policy_match.h"
#include "unit_policy.h"

static struct prefix pfx(const char *text, unsigned len)
{
	struct prefix p = { 0 };

	p.family = addr(text, p.addr);
	p.len = (uint8_t)len;
	return p;
}

/*
 * A set inside an empty one (no prefixes, and no array: its prefixes pointer
 * is NULL) is not inside it; nothing is copied from the NULL array (the
 * fuzzer's finding; UBSan under SANITIZE=1 stops on such a memcpy).
 */
static void test_policy_match_inside_empty_set(void **state)
{
	struct prefix one = pfx("198.51.100.7", 32);
	struct addr_set s = { .prefixes = &one, .nprefixes = 1 }, empty = { 0 };

	(void)state;
	assert_int_equal(policy_set_inside(&s, &empty), 0);
	assert_int_equal(policy_set_inside(&empty, &s), 0);
	assert_int_equal(policy_set_inside(&s, &s), 1);
}

static void test_policy_match_prefix_edges(void **state)
{
	static const struct {
		const char *tag, *prefix;
		unsigned len;
		const char *addr;
		int want;
	} cases[] = {
		{ "v4-any", "0.0.0.0", 0, "192.0.2.1", 1 },
		{ "v4-24-in", "198.51.100.0", 24, "198.51.100.255", 1 },
		{ "v4-24-out", "198.51.100.0", 24, "198.51.101.0", 0 },
		{ "v4-25-low", "198.51.100.128", 25, "198.51.100.128", 1 },
		{ "v4-25-below", "198.51.100.128", 25, "198.51.100.127", 0 },
		{ "v4-31-odd", "192.0.2.2", 31, "192.0.2.3", 1 },
		{ "v4-31-next", "192.0.2.2", 31, "192.0.2.4", 0 },
		{ "v4-host", "203.0.113.10", 32, "203.0.113.10", 1 },
		{ "v4-host-other", "203.0.113.10", 32, "203.0.113.11", 0 },
		{ "v6-48-in", "2001:db8:100::", 48, "2001:db8:100:ffff::7", 1 },
		{ "v6-48-out", "2001:db8:100::", 48, "2001:db8:101::7", 0 },
		{ "v6-any", "::", 0, "2001:db8:bad::66", 1 },
		{ "v6-121-odd", "2001:db8::80", 121, "2001:db8::ff", 1 },
		{ "v6-121-out", "2001:db8::80", 121, "2001:db8::7f", 0 },
		{ "v4-prefix-v6-addr", "0.0.0.0", 0, "2001:db8::1", 0 },
		{ "v6-prefix-v4-addr", "::", 0, "192.0.2.1", 0 },
	};
	uint8_t a[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prefix p = pfx(cases[i].prefix, cases[i].len);
		uint8_t family = addr(cases[i].addr, a);

		if (prefix_contains(&p, family, a) != cases[i].want)
			fail_msg("%s: %s/%u holds %s: want %d", cases[i].tag, cases[i].prefix,
				 cases[i].len, cases[i].addr, cases[i].want);
	}
}

static void test_policy_match_protected_and_first_row(void **state)
{
	struct policy p;
	uint8_t a[16], e[16], f;

	(void)state;
	parse(PIC_POLICY, &p);
	addr("203.0.113.10", e);
	f = addr("203.0.113.10", a);
	assert_true(policy_is_protected(&p, f, a));
	f = addr("2001:db8:e::10", a);
	assert_true(policy_is_protected(&p, f, a));
	f = addr("203.0.113.99", a);
	assert_false(policy_is_protected(&p, f, a));
	f = addr("2001:db8:e::99", a);
	assert_false(policy_is_protected(&p, f, a));

	/* File order: the partner's inbound 5061 is row 0, the Edge's outbound 5061 row 1. */
	f = addr("198.51.100.7", a);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_IN, f, PICFW_TCP, e, a, 5061), 0);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_OUT, f, PICFW_TCP, e, a, 5061), 1);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_IN, f, PICFW_TCP, e, a, 443), 2);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_OUT, f, PICFW_TCP, e, a, 50000), 3);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_OUT, f, PICFW_UDP, e, a, 5061), -1);
	f = addr("192.0.2.66", a);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_OUT, f, PICFW_TCP, e, a, 5061), -1);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_OUT, f, PICFW_UDP, e, a, 3478), 4);
	assert_int_equal(policy_first_row(&p, PICFW_DIR_IN, f, PICFW_UDP, e, a, 3478), 5);
	policy_free(&p);
}

/* Which of the Edge's sockets become flows at attach. */
static void test_policy_match_conn_needs_flow(void **state)
{
	static const struct {
		const char *tag;
		uint8_t transport;
		const char *local;
		uint16_t lport;
		const char *remote;
		uint16_t rport;
		int want;
	} cases[] = {
		{ "sip-out-v4", PICFW_TCP, "203.0.113.10", 40000, "198.51.100.7", 5061, 1 },
		{ "sip-out-v6", PICFW_TCP, "2001:db8:e::10", 40000, "2001:db8:100::7", 5061, 1 },
		{ "sip-out-unprotected-local", PICFW_TCP, "203.0.113.99", 40000, "198.51.100.7",
		  5061, 0 },
		{ "sip-out-stranger", PICFW_TCP, "203.0.113.10", 40000, "192.0.2.66", 5061, 0 },
		{ "sip-out-other-port", PICFW_TCP, "203.0.113.10", 40000, "198.51.100.7", 5062, 0 },
		{ "sip-out-udp", PICFW_UDP, "203.0.113.10", 40000, "198.51.100.7", 5061, 0 },
		/* The partner opened it: its packets pass on the inbound row, no flow. */
		{ "sip-in-accepted", PICFW_TCP, "203.0.113.10", 5061, "198.51.100.7", 5061, 0 },
		{ "tls-in-accepted", PICFW_TCP, "203.0.113.10", 443, "192.0.2.66", 50000, 0 },
		{ "rtp-low", PICFW_TCP, "203.0.113.10", 40001, "192.0.2.66", 50000, 1 },
		{ "rtp-high", PICFW_TCP, "203.0.113.10", 40001, "192.0.2.66", 59999, 1 },
		{ "rtp-above", PICFW_TCP, "203.0.113.10", 40001, "192.0.2.66", 60000, 0 },
		{ "rtp-below", PICFW_TCP, "203.0.113.10", 40001, "192.0.2.66", 49999, 0 },
		{ "stun-out", PICFW_UDP, "203.0.113.10", 50000, "192.0.2.66", 3478, 1 },
		{ "stun-both", PICFW_UDP, "203.0.113.10", 3478, "192.0.2.66", 3478, 0 },
		{ "stun-out-v6", PICFW_UDP, "2001:db8:e::10", 50000, "2001:db8:bad::66", 3478, 1 },
		{ "loopback", PICFW_TCP, "127.0.0.1", 40000, "127.0.0.1", 5061, 0 },
	};
	struct policy p;
	struct policy_conn c;
	size_t i;

	(void)state;
	parse(PIC_POLICY, &p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.family = addr(cases[i].local, c.local);
		if (addr(cases[i].remote, c.remote) != c.family)
			fail_msg("%s: mixed families in the table", cases[i].tag);
		c.transport = cases[i].transport;
		c.local_port = cases[i].lport;
		c.remote_port = cases[i].rport;
		if (policy_conn_needs_flow(&p, &c) != cases[i].want)
			fail_msg("%s: want %d", cases[i].tag, cases[i].want);
	}
	policy_free(&p);
}

static void test_policy_match_unmap_v4(void **state)
{
	uint8_t a[16], want[16], family;

	(void)state;
	family = addr("::ffff:203.0.113.10", a);
	assert_int_equal(addr_unmap_v4(&family, a), 1);
	assert_int_equal(family, 4);
	addr("203.0.113.10", want);
	assert_memory_equal(a, want, 16);

	family = addr("2001:db8:e::10", a);
	memcpy(want, a, 16);
	assert_int_equal(addr_unmap_v4(&family, a), 0);
	assert_int_equal(family, 6);
	assert_memory_equal(a, want, 16);

	/* ::203.0.113.10 (IPv4-compatible, deprecated) is not mapped. */
	family = addr("::203.0.113.10", a);
	assert_int_equal(addr_unmap_v4(&family, a), 0);

	family = addr("203.0.113.10", a);
	assert_int_equal(addr_unmap_v4(&family, a), 0);
	assert_int_equal(family, 4);
}

static void test_policy_match_global_unicast(void **state)
{
	static const struct {
		const char *addr;
		int want;
	} cases[] = {
		{ "203.0.113.10", 1 },	 { "10.1.2.3", 1 },	   { "223.255.255.255", 1 },
		{ "0.0.0.0", 0 },	 { "0.1.2.3", 0 },	   { "127.0.0.1", 0 },
		{ "169.254.1.1", 0 },	 { "169.253.1.1", 1 },	   { "224.0.0.1", 0 },
		{ "240.0.0.1", 0 },	 { "255.255.255.255", 0 }, { "2001:db8:e::10", 1 },
		{ "fd00::1", 1 },	 { "fec0::1", 1 },	   { "fe80::1", 0 },
		{ "febf:ffff::1", 0 },	 { "::1", 0 },		   { "::", 0 },
		{ "ff02::1", 0 },	 { "::ffff:192.0.2.1", 0 },
	};
	uint8_t a[16], family;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		family = addr(cases[i].addr, a);
		if (addr_is_global_unicast(family, a) != cases[i].want)
			fail_msg("%s: want %d", cases[i].addr, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_match_prefix_edges),
		cmocka_unit_test(test_policy_match_inside_empty_set),
		cmocka_unit_test(test_policy_match_protected_and_first_row),
		cmocka_unit_test(test_policy_match_conn_needs_flow),
		cmocka_unit_test(test_policy_match_unmap_v4),
		cmocka_unit_test(test_policy_match_global_unicast),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("policy_match", tests, NULL, NULL);
}
