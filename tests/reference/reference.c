// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * reference.c - the reference classifier (see reference.h): the oracle that
 * the differential test holds the XDP program to.
 *
 * It shares no code with bpf/ or user/compile.c. It reads the frame byte by
 * byte at explicit offsets, and classifies by looping over the rows in file
 * order and over each set's prefixes: no tries, no bitmaps, no port tables.
 * Keep it that way: it is the oracle because it is obviously right, not fast.
 *
 * THE RULES (README.md "What the filter does with a packet", doc/picfw.8,
 * and the comments of bpf/picfw.bpf.c and bpf/parsing.h). "Within X" means
 * the whole field lies before the end of X; "the frame" is all the bytes
 * XDP sees, "the datagram" is the IP header through its stated length.
 *
 *  1. Ethernet: 14 bytes (destination, source, EtherType). Shorter is
 *     malformed (the kernel refuses such frames before XDP anyway).
 *  2. VLAN: while the EtherType is 0x8100 (802.1Q) or 0x88a8 (802.1ad), a
 *     4-byte tag follows, within the frame, whose last two bytes are the next
 *     EtherType; at most 2 tags. A tag cut short is malformed; a third tag
 *     (a tag TPID after two tags) is malformed.
 *  3. EtherType 0x0800 is IPv4, 0x86dd is IPv6; any other: pass, non_ip.
 *  4. IPv4 fixed header: 20 bytes within the frame, version 4, IHL >= 5,
 *     total length >= IHL * 4 and within the frame (bytes after the
 *     datagram are Ethernet padding, ignored). Otherwise malformed. Options
 *     are skipped unread. Transport header at IHL * 4.
 *  5. IPv6 fixed header: 40 bytes within the frame, version 6, payload
 *     length not 0 (no jumbograms) and 40 + payload length within the
 *     frame. Otherwise malformed.
 *  6. The whole frame is parsed first (1-9) and judged after, in this
 *     order. A bad fixed header (4, 5) or Ethernet (1, 2) is malformed
 *     whatever the destination. Then the protected check: a destination
 *     address not in the protected set, whatever follows the fixed header
 *     (bad extension or transport headers, fragments):
 *      - `unprotected pass` (the default): pass, unprotected;
 *      - `unprotected drop`: an Ethernet destination with the group bit
 *        (broadcast, multicast), or an IP destination that is multicast
 *        (224.0.0.0/4, ff00::/8), IPv4 limited broadcast 255.255.255.255 or
 *        link-local (169.254.0.0/16, fe80::/10): pass, local_scope; else
 *        neighbour or router discovery (the ICMPv6 of 11) in a frame that
 *        parsed whole: pass, icmp_essential; else drop, unprotected.
 *  7. IPv4 fragments: fragment offset != 0 is a non-first (later)
 *     fragment, judged by 15 before anything else. MF with offset 0 is a
 *     first fragment with more to come, judged by its transport header
 *     like any packet. The identification is the fragment id.
 *  8. IPv6 extension headers, walked from the fixed header's next header:
 *     hop-by-hop (0), routing (43), destination options (60): length
 *     (hdrlen + 1) * 8; AH (51): (hdrlen + 2) * 4; each whole header within
 *     the datagram. Fragment (44): 8 bytes within the datagram; its
 *     next header is the protocol and its identification the fragment id
 *     from here on; offset != 0 is a later fragment (15); offset 0 (a first
 *     or an atomic fragment) marks the packet as a first fragment (with
 *     more to come when this header's M flag is set) and the walk goes on.
 *     At most 8 extension headers: a 9th is malformed. Any other next
 *     header ends the walk: it is the transport protocol.
 *  9. Transport, by protocol number whatever the family: TCP (6) 20 bytes
 *     within the datagram, data offset >= 5 and data offset * 4 within the
 *     datagram; UDP (17) 8 bytes; ICMP (1) and ICMPv6 (58) 8 bytes. A short
 *     or inconsistent header is malformed. Other protocols: nothing read.
 * 10. TCP and UDP to a protected address: the first row in file order that
 *     takes it, counted on that row. A row's local side is the protected
 *     set when it names it (Destination first), else the side whose every
 *     address is protected (a set inside the protected set, one of the
 *     Edge's addresses); the row takes only packets whose Edge address is
 *     in its local side:
 *      - an inbound row (Destination the local side): same transport,
 *        source address in the row's Source, destination address in its
 *        Destination, destination port in its ports;
 *      - an outbound row (Source the local side), only with
 *        `replies stateless`: same transport, source address in the row's
 *        Destination, source port in its ports, and for TCP the ACK or
 *        the RST flag set (stateless replies). With `replies tracked` (the default) a
 *        reply passes only through the flow table (14).
 *     No row: drop, no_match.
 * 11. ICMP is ICMP (1) in IPv4 and ICMPv6 (58) in IPv6; the other pairing is
 *     just another protocol (drop, no_match). For ICMP:
 *      - ICMPv6 types 133-137 (router and neighbour discovery) with hop
 *        limit 255 and not a first fragment: pass, icmp_essential;
 *      - errors: ICMPv4 types 3 and 11; ICMPv6 types 1, 2, 3, and 4 with
 *        code 1 or 2. An error quotes the packet it is about, right after
 *        the 8-byte ICMP header, within the datagram: IPv4 (20 bytes,
 *        version 4, IHL >= 5, fragment offset 0) or IPv6 (40 bytes, version
 *        6, extension headers not walked), then 4 bytes of TCP or UDP ports
 *        at IHL * 4 or 40. It is related when the quoted source is
 *        protected and some row allows that flow: an inbound row with the
 *        quoted transport, quoted destination in its Source and quoted
 *        source port in its ports; or, with `replies tracked`, the flow
 *        of the quoted packet is known and an outbound row allows it now
 *        (14); or, with `replies stateless`, an outbound row with quoted destination in its
 * Destination and quoted destination port in its ports. Related: pass, icmp_related. Otherwise:
 * pass, icmp_unrelated; under `icmp strict` drop, icmp_unrelated.
 *      - any other ICMP: drop, no_match.
 * 12. Other protocols to a protected address: drop, no_match.
 * 13. Audit mode: every drop above passes instead, counted in the reason's
 *     would-drop slot (PICFW_REASONS + reason).
 * 14. Tracked replies (`replies tracked`), after the rows of 10 let a TCP
 *     or UDP packet by: when it is reply-like (UDP, or TCP with ACK or RST), some
 *     outbound row of its transport names its source port, and the flow
 *     table holds the flow (the reply's source is the flow's remote
 *     address and port, its destination the Edge's), it passes when an
 *     outbound row of the ACTIVE policy allows that flow now (remote in the
 *     row's Destination, the Edge's address in its Source, the transport,
 *     remote port in its ports), counted
 *     on the first such row. Flows outlive policy updates; their row does
 *     not (the program re-matches once per flow and policy epoch; the
 *     answer is the same as matching every time).
 * 15. Fragments. A first fragment with more to come that passes on a row
 *     (10 or 14) is remembered: (family, protocol (IPv4 only), fragment id,
 *     source, destination) -> that row's counter slot, replacing an older entry. A
 *     later fragment to a protected address whose key is remembered passes,
 *     counted on that slot (in audit mode too); any other later fragment:
 *     drop, fragment. (The program forgets after 30 s and keeps at most
 *     16,384: the test clears both far earlier; see struct ref_state.)
 * 16. Egress (the TC program, under `replies tracked`): a TCP or UDP packet
 *     that parses whole, from a protected address. A UDP datagram that
 *     answers an inbound row (below): nothing, not even a known flow's
 *     refresh (that row passes its replies). Its flow (remote = its
 *     destination) known: refreshed. Else a TCP FIN or RST, or a SYN with
 *     ACK, opens nothing; a SYN opens; any other TCP packet picks the flow
 *     up; a UDP datagram opens; but a pickup or a datagram that answers an
 *     inbound row (an inbound row of the transport with the destination in
 *     its Source and the source port in its ports) opens nothing, and a
 *     flow needs an outbound row that allows it (as in 14). Nothing is
 *     ever dropped. (TCP states only choose timeouts: not modelled.)
 * Every ingress frame moves exactly one counter by one packet and its length.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "policy.h"
#include "stats.h"

#define ETH_HLEN 14
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd
#define REF_VLAN_MAX 2
#define REF_IPV6_EXT_MAX 8

#define P_HOPOPTS 0
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_AH 51
#define P_ICMPV6 58
#define P_DSTOPTS 60

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* The limits the README documents; picfw.h must agree or the rules changed. */
_Static_assert(REF_VLAN_MAX == PICFW_VLAN_MAX, "README: 2 VLAN tags");
_Static_assert(REF_IPV6_EXT_MAX == PICFW_IPV6_EXT_MAX, "README: 8 extension headers");

static unsigned get16(const uint8_t *b, size_t off)
{
	return (unsigned)b[off] << 8 | b[off + 1];
}

/* Does [off, off + n) lie within [0, end)? */
static int within(size_t off, size_t n, size_t end)
{
	return off <= end && n <= end - off;
}

/* Is addr (family, network byte order) in prefix pf? Whole bytes, then the bits left. */
static int prefix_has(const struct ref_prefix *pf, uint8_t family, const uint8_t *addr)
{
	unsigned whole = pf->len / 8, bits = pf->len % 8;
	uint8_t mask = (uint8_t)(0xff00u >> bits);

	if (pf->family != family)
		return 0;
	if (memcmp(addr, pf->addr, whole))
		return 0;
	return !bits || (addr[whole] & mask) == (pf->addr[whole] & mask);
}

int ref_set_has(const struct ref_set *s, uint8_t family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (prefix_has(&s->v[i], family, addr))
			return 1;
	return 0;
}

static void set_reason(struct ref_result *res, int verdict, unsigned reason, const char *why)
{
	res->verdict = verdict;
	res->row = -1;
	res->on_slot = 0;
	res->slot = reason;
	res->why = why;
}

/* Rule 13: a drop, or in audit mode a pass counted as would-drop. */
static void drop(const struct ref_policy *p, struct ref_result *res, unsigned reason,
		 const char *why)
{
	if (p->mode == PICFW_MODE_AUDIT)
		set_reason(res, REF_PASS, PICFW_REASONS + reason, why);
	else
		set_reason(res, REF_DROP, reason, why);
}

/*
 * Rule 10: the first row, in file order, that takes a TCP or UDP flow from
 * remote (its source port rport) to the Edge's address local (local port
 * lport). Inbound rows look at the Edge's port, outbound rows (when replies
 * is set) at the remote's port; every row at both addresses: the remote in
 * its remote side, local in its local side (the protected set, or a set
 * inside it). -1 if none.
 */
static int first_row(const struct ref_policy *p, uint8_t family, const uint8_t *local,
		     const uint8_t *remote, unsigned transport, unsigned lport, unsigned rport,
		     int replies)
{
	size_t i;

	for (i = 0; i < p->nrows; i++) {
		const struct ref_row *r = &p->rows[i];

		if (r->transport != transport)
			continue;
		if (r->direction == PICFW_DIR_IN) {
			if (ref_set_has(&r->src, family, remote) &&
			    ref_set_has(&r->dst, family, local) && lport >= r->port_lo &&
			    lport <= r->port_hi)
				return (int)i;
		} else if (replies) {
			if (ref_set_has(&r->dst, family, remote) &&
			    ref_set_has(&r->src, family, local) && rport >= r->port_lo &&
			    rport <= r->port_hi)
				return (int)i;
		}
	}
	return -1;
}

static int icmp_error(int family, unsigned type, unsigned code)
{
	if (family == 4)
		return type == 3 || type == 11;
	return type == 1 || type == 2 || type == 3 || (type == 4 && (code == 1 || code == 2));
}

static unsigned transport_of(unsigned proto)
{
	return proto == P_TCP ? PICFW_TCP : PICFW_UDP;
}

/* ------------------------------------------------------------ the state */

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 64;
	v = realloc(v, *cap * size);
	if (!v)
		abort();
	return v;
}

void ref_state_clear(struct ref_state *st)
{
	st->nflows = 0;
	st->nfrags = 0;
}

void ref_state_free(struct ref_state *st)
{
	free(st->flows);
	free(st->frags);
	memset(st, 0, sizeof(*st));
}

static int flow_same(const struct ref_flow *a, const struct ref_flow *b)
{
	return a->family == b->family && a->l4proto == b->l4proto && a->rport == b->rport &&
	       a->lport == b->lport && !memcmp(a->remote, b->remote, 16) &&
	       !memcmp(a->local, b->local, 16);
}

int ref_flow_known(const struct ref_state *st, const struct ref_flow *key)
{
	size_t i;

	for (i = 0; st && i < st->nflows; i++)
		if (flow_same(&st->flows[i], key))
			return 1;
	return 0;
}

/* The flow of the Edge's local:lport talking with remote:rport. */
static void flow_key(struct ref_flow *k, uint8_t family, unsigned proto, const uint8_t *remote,
		     unsigned rport, const uint8_t *local, unsigned lport)
{
	size_t n = family == 4 ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = family;
	k->l4proto = (uint8_t)proto;
	k->rport = (uint16_t)rport;
	k->lport = (uint16_t)lport;
	memcpy(k->remote, remote, n);
	memcpy(k->local, local, n);
}

/*
 * Rule 15's protocol: IPv4's, none for IPv6 (Linux's reassembly keys IPv6
 * without it; a later fragment names the header after its fragment header).
 */
static uint8_t frag_proto(const struct ref_packet *k)
{
	return k->l3 == 4 ? k->l4proto : 0;
}

/* Rule 15: the row counter slot of a first fragment's datagram, or -1. */
static long frag_slot(const struct ref_state *st, const struct ref_packet *k)
{
	size_t i, n = k->l3 == 4 ? 4 : 16;

	for (i = 0; st && i < st->nfrags; i++) {
		const struct ref_frag *f = &st->frags[i];

		if (f->family == k->l3 && f->proto == frag_proto(k) && f->id == k->frag_id &&
		    !memcmp(f->saddr, k->saddr, n) && !memcmp(f->daddr, k->daddr, n))
			return f->slot;
	}
	return -1;
}

static void frag_remember(struct ref_state *st, const struct ref_packet *k, unsigned slot)
{
	size_t i, n = k->l3 == 4 ? 4 : 16;
	struct ref_frag *f = NULL;

	if (!st || !k->frag_more)
		return;
	for (i = 0; i < st->nfrags && !f; i++)
		if (st->frags[i].family == k->l3 && st->frags[i].proto == frag_proto(k) &&
		    st->frags[i].id == k->frag_id && !memcmp(st->frags[i].saddr, k->saddr, n) &&
		    !memcmp(st->frags[i].daddr, k->daddr, n))
			f = &st->frags[i];
	if (!f) {
		st->frags = grow(st->frags, &st->frags_cap, st->nfrags, sizeof(*st->frags));
		f = &st->frags[st->nfrags++];
		memset(f, 0, sizeof(*f));
		f->family = (uint8_t)k->l3;
		f->proto = frag_proto(k);
		f->id = k->frag_id;
		memcpy(f->saddr, k->saddr, n);
		memcpy(f->daddr, k->daddr, n);
	}
	f->slot = slot; /* a first fragment again: the latest row's slot */
}

static unsigned slot_of(const struct ref_state *st, int row)
{
	return st && st->slots ? st->slots[row] : (unsigned)row;
}

/*
 * Rule 14: the first outbound row, in file order, that allows the flow from
 * the Edge's address local to remote:rport now (remote in its Destination,
 * local in its Source, the transport, rport in its ports), or -1.
 */
static int flow_row(const struct ref_policy *p, uint8_t family, const uint8_t *local,
		    const uint8_t *remote, unsigned transport, unsigned rport)
{
	size_t i;

	for (i = 0; i < p->nrows; i++) {
		const struct ref_row *r = &p->rows[i];

		if (r->transport == transport && r->direction == PICFW_DIR_OUT &&
		    ref_set_has(&r->dst, family, remote) && ref_set_has(&r->src, family, local) &&
		    rport >= r->port_lo &&
		    rport <= r->port_hi)
			return (int)i;
	}
	return -1;
}

/* Does some outbound row of the transport name port (whatever its addresses)? */
static int outbound_port(const struct ref_policy *p, unsigned transport, unsigned port)
{
	size_t i;

	for (i = 0; i < p->nrows; i++)
		if (p->rows[i].transport == transport && p->rows[i].direction == PICFW_DIR_OUT &&
		    port >= p->rows[i].port_lo && port <= p->rows[i].port_hi)
			return 1;
	return 0;
}

/* Rule 11: is the packet quoted at q (up to the datagram's end) a flow the policy allows? */
static int icmp_related(const struct ref_policy *p, const struct ref_state *st, int family,
			const uint8_t *b, size_t q, size_t ip_end)
{
	const uint8_t *qsrc, *qdst;
	unsigned proto, sport, dport;
	struct ref_flow key;
	size_t ports;

	if (family == 4) {
		if (!within(q, 20, ip_end) || b[q] >> 4 != 4 || (b[q] & 15) < 5)
			return 0;
		if (get16(b, q + 6) & 0x1fff)
			return 0;
		proto = b[q + 9];
		qsrc = b + q + 12;
		qdst = b + q + 16;
		ports = q + (size_t)(b[q] & 15) * 4;
	} else {
		if (!within(q, 40, ip_end) || b[q] >> 4 != 6)
			return 0;
		proto = b[q + 6];
		qsrc = b + q + 8;
		qdst = b + q + 24;
		ports = q + 40;
	}
	if (proto != P_TCP && proto != P_UDP)
		return 0;
	if (!within(ports, 4, ip_end))
		return 0;
	if (!ref_set_has(&p->protect, (uint8_t)family, qsrc))
		return 0;
	sport = get16(b, ports);
	dport = get16(b, ports + 2);
	/* The quoted packet went from the Edge (sport) to the remote (dport). */
	if (p->replies == PICFW_REPLIES_TRACKED) {
		flow_key(&key, (uint8_t)family, proto, qdst, dport, qsrc, sport);
		if (ref_flow_known(st, &key) &&
		    flow_row(p, (uint8_t)family, qsrc, qdst, transport_of(proto), dport) >= 0)
			return 1;
	}
	return first_row(p, (uint8_t)family, qsrc, qdst, transport_of(proto), sport, dport,
			 p->replies == PICFW_REPLIES_STATELESS) >= 0;
}

/* ------------------------------------------------------------ the parse */

enum parse_status {
	PARSED = 0,
	PARSE_MALFORMED,
	PARSE_FRAGMENT, /* a non-first fragment: addresses, protocol and id read */
};

struct parse {
	int status;	 /* enum parse_status */
	const char *why; /* of PARSE_MALFORMED */
	size_t l4;	 /* the transport header (PARSED) */
	size_t ip_end;	 /* the datagram's end (when out->l3) */
};

/*
 * Rules 1-9 on the whole frame, into *out (out->l3 once the fixed IP header
 * is read: the addresses are valid) and *ps. No verdict yet: the program
 * parses everything first and decides afterwards (rules 6, 7).
 */
static void parse(const uint8_t *b, size_t len, struct ref_packet *out, struct parse *ps)
{
	size_t off, l4 = 0;
	unsigned etype, proto;

	memset(ps, 0, sizeof(*ps));
	ps->status = PARSE_MALFORMED;

	/* 1, 2: Ethernet and VLAN tags. */
	if (len < ETH_HLEN) {
		ps->why = "frame shorter than Ethernet";
		return;
	}
	out->l2_group = b[0] & 1;
	etype = get16(b, 12);
	off = ETH_HLEN;
	while (etype == TPID_8021Q || etype == TPID_8021AD) {
		if (out->vlans == REF_VLAN_MAX) {
			ps->why = "a third VLAN tag";
			return;
		}
		if (!within(off, 4, len)) {
			ps->why = "VLAN tag cut short";
			return;
		}
		etype = get16(b, off + 2);
		off += 4;
		out->vlans++;
	}

	/* 3, 4, 5, 7, 8: the IP header, fragments, extension headers. */
	if (etype == ETYPE_IPV4) {
		unsigned ihl, tot, frag;

		if (!within(off, 20, len)) {
			ps->why = "IPv4 header cut short";
			return;
		}
		ihl = b[off] & 15;
		tot = get16(b, off + 2);
		if (b[off] >> 4 != 4 || ihl < 5 || tot < ihl * 4 || !within(off, tot, len)) {
			ps->why = "IPv4 version, IHL or total length inconsistent";
			return;
		}
		out->l3 = 4;
		out->hop_limit = b[off + 8];
		out->l4proto = b[off + 9];
		memcpy(out->saddr, b + off + 12, 4);
		memcpy(out->daddr, b + off + 16, 4);
		ps->ip_end = off + tot;
		frag = get16(b, off + 6);
		out->frag_id = get16(b, off + 4);
		if (frag & 0x1fff) {
			out->later_fragment = 1;
			ps->status = PARSE_FRAGMENT;
			return;
		}
		out->first_fragment = out->frag_more = (frag & 0x2000) != 0;
		l4 = off + ihl * 4;
		proto = out->l4proto;
	} else if (etype == ETYPE_IPV6) {
		unsigned plen, next;
		size_t pos;

		if (!within(off, 40, len)) {
			ps->why = "IPv6 header cut short";
			return;
		}
		plen = get16(b, off + 4);
		if (b[off] >> 4 != 6 || plen == 0 || !within(off + 40, plen, len)) {
			ps->why = "IPv6 version or payload length inconsistent";
			return;
		}
		out->l3 = 6;
		next = b[off + 6];
		out->l4proto = (uint8_t)next;
		out->hop_limit = b[off + 7];
		memcpy(out->saddr, b + off + 8, 16);
		memcpy(out->daddr, b + off + 24, 16);
		ps->ip_end = off + 40 + plen;
		pos = off + 40;
		for (;;) {
			size_t hlen;

			if (next != P_HOPOPTS && next != P_ROUTING && next != P_DSTOPTS &&
			    next != P_AH && next != P_FRAGMENT)
				break;
			if (out->exts == REF_IPV6_EXT_MAX) {
				out->l4proto = (uint8_t)next;
				ps->why = "more than 8 IPv6 extension headers";
				return;
			}
			out->exts++;
			if (next == P_FRAGMENT) {
				if (!within(pos, 8, ps->ip_end)) {
					ps->why = "IPv6 fragment header past the datagram";
					return;
				}
				next = b[pos];
				/* The fragment key has no protocol in IPv6 (rule 15). */
				out->l4proto = (uint8_t)next;
				out->frag_id =
				    (uint32_t)get16(b, pos + 4) << 16 | get16(b, pos + 6);
				if (get16(b, pos + 2) >> 3) {
					out->later_fragment = 1;
					ps->status = PARSE_FRAGMENT;
					return;
				}
				/* Offset 0: a first or an atomic fragment; the last one's M counts.
				 */
				out->first_fragment = 1;
				out->frag_more = b[pos + 3] & 1;
				pos += 8;
				continue;
			}
			if (!within(pos, 2, ps->ip_end)) {
				ps->why = "IPv6 extension header past the datagram";
				return;
			}
			if (next == P_AH)
				hlen = ((size_t)b[pos + 1] + 2) * 4;
			else
				hlen = ((size_t)b[pos + 1] + 1) * 8;
			if (!within(pos, hlen, ps->ip_end)) {
				ps->why = "IPv6 extension header past the datagram";
				return;
			}
			next = b[pos];
			pos += hlen;
		}
		out->l4proto = (uint8_t)next;
		l4 = pos;
		proto = next;
	} else {
		ps->status = PARSED; /* not IP: out->l3 stays 0 */
		return;
	}

	/* 9: the transport header. */
	switch (proto) {
	case P_TCP:
		if (!within(l4, 20, ps->ip_end) || b[l4 + 12] >> 4 < 5 ||
		    !within(l4, (size_t)(b[l4 + 12] >> 4) * 4, ps->ip_end)) {
			ps->why = "TCP header short or data offset bad";
			return;
		}
		out->sport = (uint16_t)get16(b, l4);
		out->dport = (uint16_t)get16(b, l4 + 2);
		out->tcp_flags = b[l4 + 13];
		break;
	case P_UDP:
		if (!within(l4, 8, ps->ip_end)) {
			ps->why = "UDP header short";
			return;
		}
		out->sport = (uint16_t)get16(b, l4);
		out->dport = (uint16_t)get16(b, l4 + 2);
		break;
	case P_ICMP:
	case P_ICMPV6:
		if (!within(l4, 8, ps->ip_end)) {
			ps->why = "ICMP header short";
			return;
		}
		out->icmp_type = b[l4];
		out->icmp_code = b[l4 + 1];
		break;
	}
	ps->l4 = l4;
	ps->status = PARSED;
}

/* Rule 11: neighbour and router discovery, from on-link, not fragmented. */
static int icmp_essential(const struct ref_packet *k)
{
	return k->l3 == 6 && k->l4proto == P_ICMPV6 && k->icmp_type >= 133 && k->icmp_type <= 137 &&
	       k->hop_limit == 255 && !k->first_fragment;
}

/* Rule 6: multicast, broadcast (IPv4 limited, or Ethernet) or link-local destination. */
static int local_scope(const struct ref_packet *k)
{
	const uint8_t *d = k->daddr;

	if (k->l2_group)
		return 1;
	if (k->l3 == 4)
		return (d[0] >= 224 && d[0] <= 239) || (d[0] == 169 && d[1] == 254) ||
		       (d[0] == 255 && d[1] == 255 && d[2] == 255 && d[3] == 255);
	return d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80);
}

static void pass_row(struct ref_state *st, struct ref_result *res, const struct ref_packet *k,
		     int row, int via, const char *why)
{
	res->via = via;
	res->verdict = REF_PASS;
	res->row = row;
	res->on_slot = 1;
	res->slot = slot_of(st, row);
	res->why = why;
	frag_remember(st, k, res->slot);
}

void ref_classify(const struct ref_policy *p, struct ref_state *st, const uint8_t *b, size_t len,
		  struct ref_result *res, struct ref_packet *out)
{
	struct ref_packet k;
	struct parse ps;
	unsigned proto;
	long fslot;
	int row;

	memset(&k, 0, sizeof(k));
	if (!out)
		out = &k;
	memset(out, 0, sizeof(*out));
	memset(res, 0, sizeof(*res));
	parse(b, len, out, &ps);

	/* 1-5: no fixed IP header read. */
	if (!out->l3) {
		if (ps.status == PARSE_MALFORMED)
			drop(p, res, PICFW_R_MALFORMED, ps.why);
		else
			set_reason(res, REF_PASS, PICFW_R_NON_IP, "not IPv4 or IPv6");
		return;
	}

	/* 6: the protected check, whatever follows the fixed header. */
	if (!ref_set_has(&p->protect, (uint8_t)out->l3, out->daddr)) {
		if (p->unprotected == PICFW_UNPROTECTED_PASS) {
			set_reason(res, REF_PASS, PICFW_R_UNPROTECTED, "destination not protected");
			return;
		}
		if (local_scope(out)) {
			set_reason(res, REF_PASS, PICFW_R_LOCAL_SCOPE,
				   "not protected, multicast, broadcast or link-local");
			return;
		}
		if (ps.status == PARSED && icmp_essential(out)) {
			set_reason(res, REF_PASS, PICFW_R_ICMP_ESSENTIAL,
				   "not protected, neighbour or router discovery");
			return;
		}
		drop(p, res, PICFW_R_UNPROTECTED, "unicast to an address not protected");
		return;
	}

	/* 7, 8, 15: later fragments. */
	if (ps.status == PARSE_FRAGMENT) {
		fslot = frag_slot(st, out);
		if (fslot >= 0) {
			res->verdict = REF_PASS;
			res->row = -1;
			res->on_slot = 1;
			res->via = REF_VIA_FRAG;
			res->slot = (unsigned)fslot;
			res->why = "a later fragment of a datagram whose first fragment passed";
			return;
		}
		drop(p, res, PICFW_R_FRAGMENT, "a non-first fragment of no datagram that passed");
		return;
	}
	if (ps.status == PARSE_MALFORMED) {
		drop(p, res, PICFW_R_MALFORMED, ps.why);
		return;
	}
	proto = out->l4proto;

	/* 10, 14: TCP and UDP, row by row, then the flows. */
	if (proto == P_TCP || proto == P_UDP) {
		int stateless = p->replies == PICFW_REPLIES_STATELESS;
		int reply_like = proto == P_UDP || (out->tcp_flags & (TCP_ACK | TCP_RST));
		unsigned transport = transport_of(proto);
		struct ref_flow key;

		row = first_row(p, (uint8_t)out->l3, out->daddr, out->saddr, transport, out->dport,
				out->sport, stateless && reply_like);
		if (row >= 0) {
			pass_row(st, res, out, row, REF_VIA_ROW, "a row takes it");
			return;
		}
		if (!stateless && reply_like && outbound_port(p, transport, out->sport)) {
			flow_key(&key, (uint8_t)out->l3, proto, out->saddr, out->sport, out->daddr,
				 out->dport);
			if (ref_flow_known(st, &key)) {
				row = flow_row(p, (uint8_t)out->l3, out->daddr, out->saddr,
					       transport, out->sport);
				res->flow_unallowed = row < 0;
				if (row >= 0) {
					pass_row(
					    st, res, out, row, REF_VIA_FLOW,
					    "a reply of a tracked flow an outbound row allows");
					return;
				}
			}
		}
		drop(p, res, PICFW_R_NO_MATCH, "no row takes this TCP/UDP packet");
		return;
	}

	/* 11: ICMP of its own family. */
	if ((out->l3 == 4 && proto == P_ICMP) || (out->l3 == 6 && proto == P_ICMPV6)) {
		if (icmp_essential(out)) {
			set_reason(res, REF_PASS, PICFW_R_ICMP_ESSENTIAL,
				   "neighbour or router discovery");
			return;
		}
		if (icmp_error(out->l3, out->icmp_type, out->icmp_code)) {
			if (icmp_related(p, st, out->l3, b, ps.l4 + 8, ps.ip_end)) {
				set_reason(res, REF_PASS, PICFW_R_ICMP_RELATED,
					   "ICMP error about an allowed flow");
				return;
			}
			if (!p->icmp_strict) {
				set_reason(res, REF_PASS, PICFW_R_ICMP_UNRELATED,
					   "ICMP error about no flow (permissive)");
				return;
			}
			drop(p, res, PICFW_R_ICMP_UNRELATED, "ICMP error about no flow (strict)");
			return;
		}
		drop(p, res, PICFW_R_NO_MATCH, "ICMP that is neither essential nor an error");
		return;
	}

	/* 12. */
	drop(p, res, PICFW_R_NO_MATCH, "another protocol");
}

/* Rule 16: the egress program. */
void ref_egress(const struct ref_policy *p, struct ref_state *st, const uint8_t *b, size_t len,
		struct ref_egress *eg, struct ref_packet *out)
{
	struct ref_packet k;
	struct parse ps;
	unsigned proto, transport;
	int opened = REF_EG_OPENED, row;

	memset(&k, 0, sizeof(k));
	if (!out)
		out = &k;
	memset(out, 0, sizeof(*out));
	memset(eg, 0, sizeof(*eg));
	eg->row = -1;
	parse(b, len, out, &ps);
	proto = out->l4proto;
	if (ps.status != PARSED || !out->l3 || (proto != P_TCP && proto != P_UDP)) {
		eg->why = "not TCP or UDP that parses whole";
		return;
	}
	transport = transport_of(proto);
	eg->has_key = 1;
	flow_key(&eg->key, (uint8_t)out->l3, proto, out->daddr, out->dport, out->saddr, out->sport);
	if (p->replies != PICFW_REPLIES_TRACKED) {
		eg->why = "replies stateless: no flows";
		return;
	}
	if (!ref_set_has(&p->protect, (uint8_t)out->l3, out->saddr)) {
		eg->why = "source not protected";
		return;
	}
	if (proto == P_UDP && first_row(p, (uint8_t)out->l3, out->saddr, out->daddr, transport,
					out->sport, 0, 0) >= 0) {
		eg->why = "a datagram that answers an inbound row";
		return;
	}
	if (ref_flow_known(st, &eg->key)) {
		eg->action = REF_EG_REFRESHED;
		eg->why = "a known flow";
		return;
	}
	if (proto == P_TCP) {
		if (out->tcp_flags & (TCP_FIN | TCP_RST)) {
			eg->why = "a closing packet opens nothing";
			return;
		}
		if (out->tcp_flags & TCP_SYN) {
			if (out->tcp_flags & TCP_ACK) {
				eg->why = "a SYN-ACK opens nothing";
				return;
			}
		} else {
			opened = REF_EG_PICKED_UP;
		}
	}
	if (!(proto == P_TCP && opened == REF_EG_OPENED) &&
	    first_row(p, (uint8_t)out->l3, out->saddr, out->daddr, transport, out->sport, 0,
		      0) >= 0) {
		eg->why = "answers an inbound row";
		return;
	}
	row = flow_row(p, (uint8_t)out->l3, out->saddr, out->daddr, transport, out->dport);
	if (row < 0) {
		eg->why = "no outbound row allows it";
		return;
	}
	st->flows = grow(st->flows, &st->flows_cap, st->nflows, sizeof(*st->flows));
	st->flows[st->nflows++] = eg->key;
	eg->action = opened;
	eg->row = row;
	eg->why = opened == REF_EG_OPENED ? "opened under an outbound row"
					  : "picked up under an outbound row";
}

/* Is every address of s in the set within? Each prefix: its first and last address. */
static int set_within(const struct addr_set *s, const struct ref_set *within)
{
	size_t i, k;

	for (i = 0; i < s->nprefixes; i++) {
		const struct prefix *x = &s->prefixes[i];
		unsigned n = x->family == 4 ? 4 : 16;
		uint8_t last[16];

		memcpy(last, x->addr, n);
		for (k = x->len; k < n * 8; k++)
			last[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		/* Inside one prefix of within: that prefix holds both ends. */
		for (k = 0; k < within->n; k++)
			if (within->v[k].len <= x->len &&
			    prefix_has(&within->v[k], x->family, x->addr) &&
			    prefix_has(&within->v[k], x->family, last))
				break;
		if (k == within->n)
			return 0;
	}
	return s->nprefixes > 0;
}

static int set_copy(struct ref_set *dst, const struct prefix *v, size_t n)
{
	size_t i;

	dst->v = calloc(n ? n : 1, sizeof(*dst->v));
	if (!dst->v)
		return -1;
	for (i = 0; i < n; i++) {
		dst->v[i].family = v[i].family;
		dst->v[i].len = v[i].len;
		memcpy(dst->v[i].addr, v[i].addr, 16);
	}
	dst->n = n;
	return 0;
}

int ref_policy_from_policy(const struct policy *pol, struct ref_policy *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->mode = pol->mode;
	out->replies = pol->replies;
	out->icmp_strict = pol->icmp_strict;
	out->unprotected = pol->unprotected;
	if (pol->protect < 0 || (size_t)pol->protect >= pol->nsets)
		return -1;
	if (set_copy(&out->protect, pol->sets[pol->protect].prefixes,
		     pol->sets[pol->protect].nprefixes))
		goto oom;
	out->rows = calloc(pol->nrows ? pol->nrows : 1, sizeof(*out->rows));
	if (!out->rows)
		goto oom;
	out->nrows = pol->nrows;
	for (i = 0; i < pol->nrows; i++) {
		const struct row *r = &pol->rows[i];
		struct ref_row *rr = &out->rows[i];
		const struct addr_set *src = &pol->sets[r->src], *dst = &pol->sets[r->dst];

		rr->transport = r->transport;
		/*
		 * As the README defines it, not by r->direction: by set identity
		 * (Destination the protected set: inbound; Source: outbound),
		 * else the side whose every address is protected is the Edge's.
		 */
		if (r->dst == pol->protect)
			rr->direction = PICFW_DIR_IN;
		else if (r->src == pol->protect)
			rr->direction = PICFW_DIR_OUT;
		else
			rr->direction = set_within(dst, &out->protect) ? PICFW_DIR_IN
								       : PICFW_DIR_OUT;
		rr->port_lo = r->port_lo;
		rr->port_hi = r->port_hi;
		if (set_copy(&rr->src, src->prefixes, src->nprefixes) ||
		    set_copy(&rr->dst, dst->prefixes, dst->nprefixes))
			goto oom;
	}
	return 0;
oom:
	ref_policy_free(out);
	return -1;
}

void ref_policy_free(struct ref_policy *p)
{
	size_t i;

	for (i = 0; p->rows && i < p->nrows; i++) {
		free(p->rows[i].src.v);
		free(p->rows[i].dst.v);
	}
	free(p->rows);
	free(p->protect.v);
	memset(p, 0, sizeof(*p));
}

static int set_equal(const struct ref_set *a, const struct ref_set *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].family != b->v[i].family || a->v[i].len != b->v[i].len ||
		    memcmp(a->v[i].addr, b->v[i].addr, 16))
			return 0;
	return 1;
}

int ref_policy_equal(const struct ref_policy *a, const struct ref_policy *b)
{
	size_t i;

	if (a->mode != b->mode || a->replies != b->replies || a->icmp_strict != b->icmp_strict ||
	    a->unprotected != b->unprotected || a->nrows != b->nrows ||
	    !set_equal(&a->protect, &b->protect))
		return 0;
	for (i = 0; i < a->nrows; i++) {
		const struct ref_row *x = &a->rows[i], *y = &b->rows[i];

		if (x->transport != y->transport || x->direction != y->direction ||
		    x->port_lo != y->port_lo || x->port_hi != y->port_hi ||
		    !set_equal(&x->src, &y->src) || !set_equal(&x->dst, &y->dst))
			return 0;
	}
	return 1;
}

/* The library's names (user/stats.c), as `picfw stats` prints them. */
const char *ref_reason_name(unsigned reason)
{
	return reason < PICFW_REASONS && reason_names[reason] ? reason_names[reason] : "?";
}

void ref_result_format(const struct ref_result *r, char *buf, size_t len)
{
	const char *v = r->verdict == REF_PASS ? "pass" : r->verdict == REF_DROP ? "drop" : "?";

	if (r->row >= 0)
		snprintf(buf, len, "%s, row %d", v, r->row);
	else if (r->on_slot)
		snprintf(buf, len, "%s, row slot %u", v, r->slot);
	else if (r->slot >= PICFW_REASONS)
		snprintf(buf, len, "%s, would-drop %s", v,
			 ref_reason_name(r->slot - PICFW_REASONS));
	else
		snprintf(buf, len, "%s, reason %s", v, ref_reason_name(r->slot));
}

void ref_packet_format(const struct ref_packet *k, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = k->l3 == 6 ? AF_INET6 : AF_INET;

	if (!k->l3) {
		snprintf(buf, len, "not IP (or cut before the IP header), vlans %d", k->vlans);
		return;
	}
	inet_ntop(af, k->saddr, s, sizeof(s));
	inet_ntop(af, k->daddr, d, sizeof(d));
	snprintf(
	    buf, len,
	    "v%d proto %u %s:%u > %s:%u tcp flags 0x%02x icmp %u/%u hop %u vlans %d ext %d%s%s "
	    "frag id %u%s",
	    k->l3, k->l4proto, s, k->sport, d, k->dport, k->tcp_flags, k->icmp_type, k->icmp_code,
	    k->hop_limit, k->vlans, k->exts,
	    k->first_fragment ? (k->frag_more ? " first-fragment(more)" : " first-fragment") : "",
	    k->later_fragment ? " later-fragment" : "", k->frag_id, k->l2_group ? " l2-group" : "");
}
