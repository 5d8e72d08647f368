/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * nearest.h - the row closest to taking a packet that no row took, from a
 * parsed policy: what `picfw log` prints beside a no_match drop. The data
 * path stops at the first row that matches, so it never knows one for a
 * packet it drops; this asks the policy the XDP program judged the packet
 * by (the caller makes sure it is that one). Pure C: no libbpf, no kernel.
 *
 * A row competes when its transport is the packet's. It scores one point
 * for each of:
 *  - port: an inbound row's ports hold the packet's destination port; an
 *    outbound row's hold its source port (the packet would be a reply);
 *  - source: the packet's source is in the row's remote set (Source of an
 *    inbound row, Destination of an outbound one);
 *  - destination: the packet's destination is in the row's local set
 *    (Destination of an inbound row, Source of an outbound one) - the row's
 *    own set, which may be a part of the protected set.
 * The nearest row has the most points, and at least one: a row that shares
 * only the transport is none. Among equals: a row whose port matches, then
 * an inbound row before an outbound one, then the first in file order.
 */
#ifndef PICFW_NEAREST_H
#define PICFW_NEAREST_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* A packet as the drop log has it. Addresses in network byte order, ports in host order. */
struct nearest_packet {
	uint8_t family;    /* 4 or 6 */
	uint8_t transport; /* enum picfw_transport */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
};

/* What the nearest row does not match. */
enum nearest_miss {
	NEAREST_PORT = 1u << 0,        /* "port" */
	NEAREST_SOURCE = 1u << 1,      /* "source": not in the row's remote set */
	NEAREST_DESTINATION = 1u << 2, /* "destination": not in the row's local set */
	/*
	 * An outbound row matching in every field: the packet answers a flow
	 * the Edge never opened (replies tracked: "flow", "no tracked flow"), or,
	 * with `replies stateless`, a TCP segment without ACK ("ack").
	 */
	NEAREST_FLOW = 1u << 3,
	NEAREST_ACK = 1u << 4,
};
#define NEAREST_MISSES 5

struct nearest {
	int row;          /* index into policy.rows; -1: none */
	unsigned missing; /* enum nearest_miss bits; 0 for a row that matches every field */
};

/* A policy's sets, indexed for membership tests, and a memo per packet. */
struct nearest_finder;

/*
 * An index of p's sets that rows name (p must outlive it and not change).
 * NULL with errno ENOMEM.
 */
struct nearest_finder *nearest_new(const struct policy *p);
void nearest_free(struct nearest_finder *nf);

/* The nearest row for pkt (see above). */
struct nearest nearest_find(struct nearest_finder *nf, const struct nearest_packet *pkt);

/*
 * Is addr in set set_idx of the finder's policy? The answer of
 * policy_set_contains(), from the index (for tests and benchmarks).
 */
int nearest_set_contains(struct nearest_finder *nf, int set_idx, uint8_t family,
			 const uint8_t *addr);

/* The JSON name of one miss bit ("port", "source", "destination", "flow", "ack"). */
const char *nearest_miss_name(unsigned bit);

/*
 * What did not match, as text: "port 22 not 5061, source not in
 * pic-partners", "source port 40000 not 3478", "no tracked flow", "not a
 * reply (TCP without ACK)", or "every field matches". Returns buf.
 */
const char *nearest_describe(const struct policy *p, const struct nearest_packet *pkt,
			     const struct nearest *n, char *buf, size_t len);

#endif /* PICFW_NEAREST_H */
