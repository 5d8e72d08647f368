/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * reference.h - the reference classifier: the oracle of the differential
 * test. It takes raw frame bytes and a policy and says what picfw must do
 * with the frame: the verdict and the one counter that moves.
 *
 * Written plainly and separately from bpf/ and user/compile.c: it shares no
 * code with them, only the contract of include/picfw.h (reason indexes,
 * transports, directions, modes). The rules are written down at the top of
 * reference.c. It loops over rows and prefixes: slow, and obviously right.
 */
#ifndef PICFW_REFERENCE_H
#define PICFW_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "picfw.h"

struct policy;

struct ref_prefix {
	uint8_t family;	  /* 4 or 6 */
	uint8_t len;	  /* prefix length */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3] */
};

struct ref_set {
	struct ref_prefix *v;
	size_t n;
};

struct ref_row {
	uint8_t transport; /* enum picfw_transport */
	uint8_t direction; /* enum picfw_direction */
	uint16_t port_lo, port_hi;
	struct ref_set src, dst; /* Source and Destination */
};

struct ref_policy {
	struct ref_set protect;
	struct ref_row *rows; /* file order */
	size_t nrows;
	uint32_t mode;	  /* enum picfw_mode */
	uint32_t replies; /* enum picfw_replies */
	uint32_t icmp_strict;
	uint32_t unprotected; /* enum picfw_unprotected */
};

/*
 * What the program keeps between frames, as the oracle models it: the flows
 * the egress program recorded (picfw_flows_*) and the first fragments that
 * passed (picfw_frags). Neither expires nor is evicted here: the caller
 * clears the state (ref_state_clear, and the maps) well within the shortest
 * timeout (30 s) and keeps far fewer entries than the maps hold.
 */
struct ref_flow {
	uint8_t family, l4proto;
	uint16_t rport, lport; /* the remote's and the Edge's port */
	uint8_t remote[16], local[16];
};

struct ref_frag {
	uint8_t family, proto;
	uint32_t id;
	uint8_t saddr[16], daddr[16];
	uint32_t slot; /* the row counter slot its first fragment passed on */
};

struct ref_state {
	struct ref_flow *flows;
	size_t nflows, flows_cap;
	struct ref_frag *frags;
	size_t nfrags, frags_cap;
	/* Counter slot of each row of the active policy; NULL: row i counts in slot i. */
	const uint32_t *slots;
};

void ref_state_clear(struct ref_state *st); /* empty; keeps slots */
void ref_state_free(struct ref_state *st);

enum ref_verdict {
	REF_DROP = 1, /* the values of XDP_DROP and XDP_PASS */
	REF_PASS = 2,
};

/*
 * What picfw must do with a frame: the verdict, and the counter that moves
 * by one packet and the frame's length: row (file order) when row >= 0,
 * else reason slot `slot` of picfw_reason_stats (PICFW_REASONS + reason for
 * audit mode's would-drop).
 */
struct ref_result {
	int verdict;	    /* enum ref_verdict */
	int row;	    /* the row that takes it, or -1 */
	int on_slot;	    /* counted on row counter slot `slot` (a row, or a later fragment) */
	unsigned slot;	    /* that row counter slot; else the reason slot */
	const char *why;    /* which rule decided, for messages */
	int via;	    /* enum ref_via, when on_slot */
	int flow_unallowed; /* a reply of a known flow that no outbound row allows now */
};

enum ref_via {
	REF_VIA_ROW = 0, /* a row took the packet itself */
	REF_VIA_FLOW,	 /* a tracked reply, counted on the outbound row that allows its flow */
	REF_VIA_FRAG,	 /* a later fragment, counted where its first fragment was */
};

/* What the parse found, for messages. */
struct ref_packet {
	int l3; /* 0 not IP, 4, 6 */
	uint8_t l4proto;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t hop_limit;
	int first_fragment; /* MF with offset 0, or an IPv6 fragment header with offset 0 */
	int frag_more;	    /* ... with more fragments to come */
	int later_fragment; /* fragment offset not 0 */
	uint32_t frag_id;   /* IPv4 identification, IPv6 fragment header identification */
	int l2_group;	    /* Ethernet destination with the group bit (broadcast, multicast) */
	int vlans;
	int exts; /* IPv6 extension headers walked */
};

/*
 * Classify len bytes of frame arriving at the XDP program under p, with the
 * flows and fragments of st (NULL: none, and nothing is remembered). Fills
 * *res and, when pkt is not NULL, *pkt; remembers a first fragment that
 * passes on a row.
 */
void ref_classify(const struct ref_policy *p, struct ref_state *st, const uint8_t *frame,
		  size_t len, struct ref_result *res, struct ref_packet *pkt);

/* What the egress program does with a frame the Edge sends. */
enum ref_egress_action {
	REF_EG_NOTHING = 0,
	REF_EG_REFRESHED, /* a known flow */
	REF_EG_OPENED,	  /* a new flow: the Edge's SYN, or a UDP datagram */
	REF_EG_PICKED_UP, /* a new flow from a later TCP packet */
};

struct ref_egress {
	int action;  /* enum ref_egress_action */
	int row;     /* OPENED, PICKED_UP: the outbound row that allows the flow */
	int has_key; /* TCP or UDP that parsed whole: key is its flow's */
	struct ref_flow key;
	const char *why;
};

/* The egress program on len bytes of frame under p: records flows in st. */
void ref_egress(const struct ref_policy *p, struct ref_state *st, const uint8_t *frame, size_t len,
		struct ref_egress *eg, struct ref_packet *pkt);

/* Does st hold the flow? */
int ref_flow_known(const struct ref_state *st, const struct ref_flow *key);

/* Is the address (family 4 or 6, network byte order) in the set? */
int ref_set_has(const struct ref_set *s, uint8_t family, const uint8_t *addr);

/* The oracle's view of a parsed policy. 0, or -1 when out of memory. */
int ref_policy_from_policy(const struct policy *pol, struct ref_policy *out);
void ref_policy_free(struct ref_policy *p);

/* Are two policies the same (rows, sets as prefix lists in order, settings)? */
int ref_policy_equal(const struct ref_policy *a, const struct ref_policy *b);

/* "pass, row 3" / "drop, reason no_match" / "pass, would-drop fragment" */
void ref_result_format(const struct ref_result *r, char *buf, size_t len);
const char *ref_reason_name(unsigned reason);

/* One line: "v4 tcp 198.51.100.7:40000 > 203.0.113.10:5061 flags 0x02 vlans 0" */
void ref_packet_format(const struct ref_packet *pkt, char *buf, size_t len);

#endif /* PICFW_REFERENCE_H */
