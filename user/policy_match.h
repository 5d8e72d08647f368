/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_match.h - one address, connection or socket against a parsed
 * policy: set membership, the rows that allow it, the protected set, and
 * which addresses count as global unicast. Pure C: no libbpf, no kernel.
 *
 * The data path answers the same questions from the compiled maps; these
 * answer them from struct policy, for what userspace decides itself (which
 * sockets attach seeds as flows, which interface addresses it warns about).
 */
#ifndef PICFW_POLICY_MATCH_H
#define PICFW_POLICY_MATCH_H

#include <stdint.h>

#include "policy.h"

/*
 * One connection of the Edge as its kernel sees it: local is the Edge's
 * end. Addresses in network byte order (IPv4 in the first 4 bytes), ports
 * in host byte order, transport an enum picfw_transport.
 */
struct policy_conn {
	uint8_t family; /* 4 or 6 */
	uint8_t transport;
	uint16_t local_port, remote_port;
	uint8_t local[16], remote[16];
};

/* Is addr (family 4 or 6) inside prefix p? A prefix of the other family never holds it. */
int prefix_contains(const struct prefix *p, uint8_t family, const uint8_t *addr);

/* Does prefix a hold every address of prefix b (a prefix of the other family never does)? */
int prefix_covers(const struct prefix *a, const struct prefix *b);

/*
 * Prefixes in order: by family, then address, then length; so a prefix comes
 * before the longer ones it covers (a trie's pre-order). <0, 0, >0 as memcmp.
 */
int prefix_cmp(const struct prefix *a, const struct prefix *b);

/* Is addr in the set? */
int policy_set_contains(const struct addr_set *s, uint8_t family, const uint8_t *addr);

/*
 * Is every address of s in outer (s not empty)? 1 or 0; -1 out of memory.
 * Cost: a sort of outer, then at most 129 binary searches per prefix of s.
 */
int policy_set_inside(const struct addr_set *s, const struct addr_set *outer);

/*
 * Does every address of both families match the set: does it hold 0.0.0.0/0
 * and ::/0 (beside anything else)?
 */
int policy_set_matches_all(const struct addr_set *s);

/* Is addr in the policy's protected set (nothing is without `protect`)? */
int policy_is_protected(const struct policy *p, uint8_t family, const uint8_t *addr);

/*
 * Does row r allow a packet of this transport between the Edge's address
 * local and remote? port is the port the row's ports name: the Edge's
 * (destination) port for an inbound row, the remote port for an outbound
 * one. local must be in the row's local set (its Destination inbound, its
 * Source outbound: the protected set or a set inside it).
 */
int policy_row_allows(const struct policy *p, const struct row *r, uint8_t family,
		      uint8_t transport, const uint8_t *local, const uint8_t *remote,
		      uint16_t port);

/* The first row (file order) of direction dir that allows it, or -1. */
int policy_first_row(const struct policy *p, uint8_t dir, uint8_t family, uint8_t transport,
		     const uint8_t *local, const uint8_t *remote, uint16_t port);

/*
 * Is c a session the Edge opened under an outbound row, whose replies need
 * a flow? Its local address is protected, an outbound row allows the remote
 * end, and no inbound row allows the remote to reach the local port (then
 * the partner opened it and its packets pass on that row).
 */
int policy_conn_needs_flow(const struct policy *p, const struct policy_conn *c);

/*
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4 in place:
 * *family 4, a.b.c.d in addr[0..3], the rest zeroed. Returns 1 if it did.
 */
int addr_unmap_v4(uint8_t *family, uint8_t addr[16]);

/*
 * Is addr a global unicast address: not unspecified, loopback, multicast,
 * broadcast or link-local (169.254.0.0/16, fe80::/10), nor IPv4-mapped?
 * (Private and unique-local addresses count: an Edge may well have them.)
 */
int addr_is_global_unicast(uint8_t family, const uint8_t *addr);

#endif /* PICFW_POLICY_MATCH_H */
