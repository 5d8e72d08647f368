/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * unit_policy.h - what the unit tests that match addresses against a parsed
 * policy share: the PIC table, written here so the cases cannot drift with
 * etc/pic.policy, its parse, and addresses from a test table's text.
 * Include after <cmocka.h>.
 */
#ifndef PICFW_UNIT_POLICY_H
#define PICFW_UNIT_POLICY_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

#define PIC_POLICY                                                       \
	"set edge-access = 203.0.113.10, 2001:db8:e::10\n"               \
	"set pic-partners = 198.51.100.0/24, 2001:db8:100::/48\n"        \
	"set messenger-clients = any\n"                                  \
	"set clients = any\n"                                            \
	"protect edge-access\n"                                          \
	"Access/SIP(MTLS)/TCP/5061 pic-partners edge-access\n"           \
	"Access/SIP(MTLS)/TCP/5061 edge-access pic-partners\n"           \
	"Access/SIP(TLS)/TCP/443 clients edge-access\n"                  \
	"A/V/RTP/TCP/50,000-59,999 edge-access messenger-clients\n"      \
	"A/V/STUN,MSTURN/UDP/3478 edge-access messenger-clients\n"       \
	"A/V/STUN,MSTURN/UDP/3478 messenger-clients edge-access\n"

/* Parse text into p; fails the test, its errors printed, if it does not parse. */
static inline void parse(const char *text, struct policy *p)
{
	struct policy_errors errs = { 0 };

	if (policy_parse("t.policy", text, strlen(text), p, &errs)) {
		policy_errors_print(stderr, "t.policy", &errs);
		fail_msg("parse failed");
	}
	policy_errors_free(&errs);
}

/* Text to family and address; fails the test on a typo in a table. */
static inline uint8_t addr(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, out) == 1)
		return 6;
	fail_msg("bad address in a test table: %s", text);
	return 0;
}

#endif /* PICFW_UNIT_POLICY_H */
