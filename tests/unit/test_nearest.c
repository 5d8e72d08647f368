// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_nearest.c - the row closest to taking a dropped packet
 * (user/nearest.c), on parsed policies: which row, what it misses and the
 * text `picfw log` prints; ties in file order; no row below two matching
 * fields (transport and one more); a row's local side tested against its own
 * set, not the protected set; and the sorted set index against
 * policy_set_contains() on nested, overlapping random sets. Tables of cases;
 * each case's tag names it in a failure.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nearest.h"
#include "policy.h"
#include "policy_match.h"
#include "unit_policy.h"

struct nearest_case {
	const char *tag;
	uint8_t transport;
	const char *src;
	uint16_t sport;
	const char *dst;
	uint16_t dport;
	const char *row;     /* NULL: none */
	const char *missing; /* the JSON names, space-separated */
	const char *text;    /* nearest_describe(), NULL: not checked */
};

static void missing_names(unsigned m, char *buf, size_t len)
{
	unsigned bit;

	buf[0] = '\0';
	for (bit = 1; bit < 1u << NEAREST_MISSES; bit <<= 1)
		if (m & bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? " " : "",
				 nearest_miss_name(bit));
}

static void run_cases(const struct policy *p, const struct nearest_case *c, size_t n)
{
	struct nearest_finder *nf = nearest_new(p);
	struct nearest_packet pkt;
	char got[64], text[512];
	struct nearest r;
	size_t i;

	assert_non_null(nf);
	for (i = 0; i < n; i++) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.family = addr(c[i].src, pkt.saddr);
		if (addr(c[i].dst, pkt.daddr) != pkt.family)
			fail_msg("%s: mixed families in the table", c[i].tag);
		pkt.transport = c[i].transport;
		pkt.sport = c[i].sport;
		pkt.dport = c[i].dport;
		r = nearest_find(nf, &pkt);
		if (!c[i].row) {
			if (r.row >= 0)
				fail_msg("%s: want no row, got %s", c[i].tag, p->rows[r.row].name);
			continue;
		}
		if (r.row < 0)
			fail_msg("%s: want %s, got no row", c[i].tag, c[i].row);
		if (strcmp(p->rows[r.row].name, c[i].row))
			fail_msg("%s: want %s, got %s", c[i].tag, c[i].row, p->rows[r.row].name);
		missing_names(r.missing, got, sizeof(got));
		if (strcmp(got, c[i].missing))
			fail_msg("%s: missing '%s', want '%s'", c[i].tag, got, c[i].missing);
		nearest_describe(p, &pkt, &r, text, sizeof(text));
		if (c[i].text && strcmp(text, c[i].text))
			fail_msg("%s: text '%s', want '%s'", c[i].tag, text, c[i].text);
	}
	nearest_free(nf);
}

#define RUN(p, cases) run_cases(p, cases, sizeof(cases) / sizeof(cases[0]))

static void test_nearest_pic(void **state)
{
	static const struct nearest_case cases[] = {
		/* The example: SIP from outside the partners. */
		{ "sip-stranger", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 5061,
		  "access-sip-mtls-tcp-5061-in", "source", "source not in pic-partners" },
		{ "sip-stranger-v6", PICFW_TCP, "2001:db8:bad::66", 40000, "2001:db8:e::10", 5061,
		  "access-sip-mtls-tcp-5061-in", "source", "source not in pic-partners" },
		/* A partner on a port no row opens. */
		{ "partner-ssh", PICFW_TCP, "198.51.100.7", 40000, "203.0.113.10", 22,
		  "access-sip-mtls-tcp-5061-in", "port", "port 22 not 5061" },
		{ "partner-ssh-v6", PICFW_TCP, "2001:db8:100::7", 40000, "2001:db8:e::10", 22,
		  "access-sip-mtls-tcp-5061-in", "port", "port 22 not 5061" },
		/* Anyone on an unlisted port: the 443 row takes anyone, two of three. */
		{ "stranger-ssh", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 22,
		  "access-sip-tls-tcp-443-in", "port", "port 22 not 443" },
		/* A partner's reply that no flow explains: the outbound row, whole. */
		{ "sip-reply-no-flow", PICFW_TCP, "198.51.100.7", 5061, "203.0.113.10", 40000,
		  "access-sip-mtls-tcp-5061-out", "flow", "no tracked flow" },
		{ "rtp-reply-no-flow", PICFW_TCP, "192.0.2.66", 50123, "203.0.113.10", 40000,
		  "a-v-rtp-tcp-50000-59999-out", "flow", "no tracked flow" },
		/* A stranger's "reply" from 5061: the outbound row misses its source. */
		{ "sip-reply-stranger", PICFW_TCP, "192.0.2.66", 5061, "203.0.113.10", 40000,
		  "access-sip-mtls-tcp-5061-out", "source", "source not in pic-partners" },
		/* UDP to an unlisted port: both 3478 rows score two; the inbound one wins. */
		{ "udp-9999", PICFW_UDP, "192.0.2.66", 40001, "203.0.113.10", 9999,
		  "a-v-stun-msturn-udp-3478-in", "port", "port 9999 not 3478" },
		/* Ranges print as ranges. */
		{ "rtp-range", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 40001,
		  "access-sip-tls-tcp-443-in", "port", "port 40001 not 443" },
	};
	struct policy p;

	(void)state;
	parse(PIC_POLICY, &p);
	RUN(&p, cases);
	policy_free(&p);
}

/* With stateless replies there are no flows: a TCP "reply" without ACK. */
static void test_nearest_stateless(void **state)
{
	static const struct nearest_case cases[] = {
		{ "sip-syn-from-5061", PICFW_TCP, "198.51.100.7", 5061, "203.0.113.10", 40000,
		  "access-sip-mtls-tcp-5061-out", "ack", "not a reply (TCP without ACK)" },
	};
	struct policy p;

	(void)state;
	parse("replies stateless\n" PIC_POLICY, &p);
	RUN(&p, cases);
	policy_free(&p);
}

/* Transport and at least one more field, or no row; only rows of the transport compete. */
static void test_nearest_needs_two_fields(void **state)
{
	static const struct nearest_case cases[] = {
		/* No UDP row: none, though a TCP row matches port and addresses. */
		{ "no-udp-rows", PICFW_UDP, "198.51.100.7", 40000, "203.0.113.10", 5061, NULL },
		/* A TCP row matches the transport and the destination only: enough. */
		{ "transport-and-destination", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 22,
		  "access-sip-mtls-tcp-5061-in", "port source",
		  "port 22 not 5061, source not in pic-partners" },
		/* ... but not when the destination is not the row's either. */
		{ "transport-only", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.11", 22, NULL },
	};
	struct policy p;

	(void)state;
	parse("set edge = 203.0.113.10, 203.0.113.11\n"
	      "set edge-a = 203.0.113.10\n"
	      "set pic-partners = 198.51.100.0/24\n"
	      "protect edge\n"
	      "Access/SIP(MTLS)/TCP/5061 pic-partners edge\n",
	      &p);
	/* The row's local side a part of the protected set (rows may soon say so). */
	p.rows[0].dst = (int)policy_find_set(&p, "edge-a", 6);
	assert_true(p.rows[0].dst >= 0);
	RUN(&p, cases);
	policy_free(&p);
}

/* The local side is the row's own set, not the protected set. */
static void test_nearest_local_subset(void **state)
{
	static const struct nearest_case cases[] = {
		{ "partner-to-b", PICFW_TCP, "198.51.100.7", 40000, "203.0.113.11", 5061,
		  "sip-to-a", "destination", "destination not in edge-a" },
		/* To .11 on 443: the row of edge-b matches port and destination. */
		{ "stranger-to-b-443", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.11", 443,
		  "tls-to-b", "source", "source not in pic-partners" },
		/* To .10 on 443: sip-to-a (destination) and tls-to-b (port): a tie, the port wins. */
		{ "stranger-to-a-443", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 443,
		  "tls-to-b", "source destination",
		  "source not in pic-partners, destination not in edge-b" },
		/* An outbound row of edge-b: a reply to edge-a misses the destination. */
		{ "reply-to-a", PICFW_UDP, "192.0.2.66", 3478, "203.0.113.10", 40000, "stun-from-b",
		  "destination", "destination not in edge-b" },
		{ "reply-to-b", PICFW_UDP, "192.0.2.66", 3478, "203.0.113.11", 40000, "stun-from-b",
		  "flow", "no tracked flow" },
	};
	struct policy p;

	(void)state;
	parse("set edge = 203.0.113.10, 203.0.113.11\n"
	      "set edge-a = 203.0.113.10\n"
	      "set edge-b = 203.0.113.11\n"
	      "set pic-partners = 198.51.100.0/24\n"
	      "protect edge\n"
	      "sip-to-a: Access/SIP(MTLS)/TCP/5061 pic-partners edge-a\n"
	      "tls-to-b: Access/SIP(TLS)/TCP/443 pic-partners edge-b\n"
	      "stun-from-b: A/V/STUN/UDP/3478 edge-b any\n",
	      &p);
	assert_int_equal(p.rows[2].direction, PICFW_DIR_OUT);
	RUN(&p, cases);
	policy_free(&p);
}

/* Inline addresses name themselves; a row that matches in every field says so. */
static void test_nearest_inline_and_whole(void **state)
{
	static const struct nearest_case cases[] = {
		{ "inline-source", PICFW_TCP, "192.0.2.66", 40000, "203.0.113.10", 5061, "sip",
		  "source", "source not in 198.51.100.7" },
		{ "whole", PICFW_TCP, "198.51.100.7", 40000, "203.0.113.10", 5061, "sip", "",
		  "every field matches" },
	};
	struct policy p;

	(void)state;
	parse("set edge = 203.0.113.10\n"
	      "protect edge\n"
	      "sip: Access/SIP/TCP/5061 198.51.100.7 edge\n",
	      &p);
	RUN(&p, cases);
	policy_free(&p);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A random address near base (same first bytes), family 4 or 6. */
static void random_addr(uint8_t family, uint8_t a[16])
{
	unsigned i, n = family == 4 ? 4 : 16;

	memset(a, 0, 16);
	a[0] = family == 4 ? 10 : 0x20;
	a[1] = family == 4 ? 0 : 0x01;
	for (i = 2; i < n; i++)
		a[i] = (uint8_t)(i < 4 || rnd() % 4 ? rnd() % 4 : rnd());
}

/*
 * The sorted index answers as policy_set_contains() does, on sets of nested,
 * overlapping and duplicate prefixes of both families, for addresses in,
 * next to and outside them.
 */
static void test_nearest_index_matches_linear(void **state)
{
	struct policy p;
	struct nearest_finder *nf;
	struct addr_set *s;
	uint8_t a[16], family;
	unsigned k, i, bad = 0, in = 0;

	(void)state;
	parse("set edge = 203.0.113.10\n"
	      "set big = 10.0.0.0/8\n"
	      "protect edge\n"
	      "r: Access/X/TCP/1 big edge\n",
	      &p);
	s = &p.sets[policy_find_set(&p, "big", 3)];
	/* Replace the set's prefixes with random ones: lengths across the whole range. */
	free(s->prefixes);
	s->nprefixes = 3000;
	s->prefixes = calloc(s->nprefixes, sizeof(*s->prefixes));
	assert_non_null(s->prefixes);
	for (k = 0; k < s->nprefixes; k++) {
		struct prefix *x = &s->prefixes[k];

		x->family = rnd() % 2 ? 4 : 6;
		random_addr(x->family, x->addr);
		/* Mostly long prefixes, a few wide ones that cover many of the others. */
		if (k % 50 == 0)
			x->len = (uint8_t)(x->family == 4 ? 12 + rnd() % 12 : 24 + rnd() % 40);
		else
			x->len = (uint8_t)(x->family == 4 ? 24 + rnd() % 9 : 64 + rnd() % 65);
		if (k % 10 == 0 && k)
			*x = s->prefixes[rnd() % k]; /* a duplicate */
		/* Masked, as the parser leaves them. */
		for (i = 0; i < 16; i++)
			if (i * 8 >= x->len)
				x->addr[i] = 0;
			else if (i * 8 + 8 > x->len)
				x->addr[i] &= (uint8_t)(0xff00 >> (x->len - i * 8));
	}
	nf = nearest_new(&p);
	assert_non_null(nf);
	for (k = 0; k < 200000; k++) {
		int want, got;

		family = rnd() % 2 ? 4 : 6;
		if (k % 3 == 0) {
			/* Inside a prefix of the set, near its end or start. */
			const struct prefix *x = &s->prefixes[rnd() % s->nprefixes];

			family = x->family;
			memcpy(a, x->addr, 16);
			if (rnd() % 2)
				for (i = x->len / 8; i < (family == 4 ? 4u : 16u); i++)
					a[i] |= (uint8_t)(i == x->len / 8 ? 0xff >> (x->len % 8) : 0xff);
		} else {
			random_addr(family, a);
		}
		want = policy_set_contains(s, family, a);
		got = nearest_set_contains(nf, p.rows[0].src, family, a);
		in += want;
		if (want != got && bad++ < 5) {
			char t[INET6_ADDRSTRLEN];

			inet_ntop(family == 4 ? AF_INET : AF_INET6, a, t, sizeof(t));
			printf("# %s: index %d, linear %d\n", t, got, want);
		}
	}
	nearest_free(nf);
	policy_free(&p);
	if (bad)
		fail_msg("%u of 200000 addresses answered differently", bad);
	printf("# %u of 200000 in the set\n", in);
	/* Both answers were asked often. */
	assert_true(in > 20000 && in < 180000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nearest_pic),
		cmocka_unit_test(test_nearest_stateless),
		cmocka_unit_test(test_nearest_needs_two_fields),
		cmocka_unit_test(test_nearest_local_subset),
		cmocka_unit_test(test_nearest_inline_and_whole),
		cmocka_unit_test(test_nearest_index_matches_linear),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("nearest", tests, NULL, NULL);
}
