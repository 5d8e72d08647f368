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
 *  6. The protected check comes right after the fixed IP header: a
 *     destination address not in the protected set passes, unprotected,
 *     whatever follows (bad extension or transport headers, fragments). A
 *     bad fixed header (4, 5) is malformed whatever the destination.
 *  7. IPv4 fragments: fragment offset != 0 is a non-first fragment: drop,
 *     fragment. MF with offset 0 is a first fragment, judged by its
 *     transport header like any packet.
 *  8. IPv6 extension headers, walked from the fixed header's next header:
 *     hop-by-hop (0), routing (43), destination options (60): length
 *     (hdrlen + 1) * 8; AH (51): (hdrlen + 2) * 4; each whole header within
 *     the datagram. Fragment (44): 8 bytes within the datagram; offset != 0
 *     is a non-first fragment: drop, fragment; offset 0 (a first or an
 *     atomic fragment) marks the packet as a first fragment and the walk
 *     goes on. At most 8 extension headers: a 9th is malformed. Any other
 *     next header ends the walk: it is the transport protocol.
 *  9. Transport, by protocol number whatever the family: TCP (6) 20 bytes
 *     within the datagram, data offset >= 5 and data offset * 4 within the
 *     datagram; UDP (17) 8 bytes; ICMP (1) and ICMPv6 (58) 8 bytes. A short
 *     or inconsistent header is malformed. Other protocols: nothing read.
 * 10. TCP and UDP to a protected address: the first row in file order that
 *     takes it, counted on that row:
 *      - an inbound row (Destination is the protected set): same transport,
 *        source address in the row's Source, destination port in its ports;
 *      - an outbound row (Source is the protected set), only with
 *        `replies stateless`: same transport, source address in the row's
 *        Destination, source port in its ports, and for TCP the ACK flag
 *        set (stateless replies). With `replies tracked` (the default) a
 *        reply passes only through the flow table, which the egress
 *        program fills; this oracle takes it to be empty.
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
 *        source port in its ports; or, with `replies stateless`, an
 *        outbound row with quoted destination in its Destination and quoted
 *        destination port in its ports. Related: pass, icmp_related.
 *        Otherwise: pass, icmp_unrelated; under `icmp strict` drop,
 *        icmp_unrelated.
 *      - any other ICMP: drop, no_match.
 * 12. Other protocols to a protected address: drop, no_match.
 * 13. Audit mode: every drop above passes instead, counted in the reason's
 *     would-drop slot (PICFW_REASONS + reason).
 * Every frame moves exactly one counter by one packet and its length.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "policy.h"

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
 * remote (its source port rport) to the Edge (local port lport). Inbound
 * rows look at the Edge's port, outbound rows (when replies is set) at the
 * remote's port. -1 if none.
 */
static int first_row(const struct ref_policy *p, uint8_t family, const uint8_t *remote,
		     unsigned transport, unsigned lport, unsigned rport, int replies)
{
	size_t i;

	for (i = 0; i < p->nrows; i++) {
		const struct ref_row *r = &p->rows[i];

		if (r->transport != transport)
			continue;
		if (r->direction == PICFW_DIR_IN) {
			if (ref_set_has(&r->src, family, remote) && lport >= r->port_lo &&
			    lport <= r->port_hi)
				return (int)i;
		} else if (replies) {
			if (ref_set_has(&r->dst, family, remote) && rport >= r->port_lo &&
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

/* Rule 11: is the packet quoted at q (up to the datagram's end) a flow the policy allows? */
static int icmp_related(const struct ref_policy *p, int family, const uint8_t *b, size_t q,
			size_t ip_end)
{
	const uint8_t *qsrc, *qdst;
	unsigned proto, sport, dport;
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
	return first_row(p, (uint8_t)family, qdst, proto == P_TCP ? PICFW_TCP : PICFW_UDP, sport,
			 dport, p->replies == PICFW_REPLIES_STATELESS) >= 0;
}

void ref_classify(const struct ref_policy *p, const uint8_t *b, size_t len, struct ref_result *res,
		  struct ref_packet *out)
{
	struct ref_packet k;
	size_t off, ip_end, l4;
	unsigned etype, proto;
	int row;

	memset(&k, 0, sizeof(k));
	if (!out)
		out = &k;
	memset(out, 0, sizeof(*out));

	/* 1, 2: Ethernet and VLAN tags. */
	if (len < ETH_HLEN) {
		drop(p, res, PICFW_R_MALFORMED, "frame shorter than Ethernet");
		return;
	}
	etype = get16(b, 12);
	off = ETH_HLEN;
	while (etype == TPID_8021Q || etype == TPID_8021AD) {
		if (out->vlans == REF_VLAN_MAX) {
			drop(p, res, PICFW_R_MALFORMED, "a third VLAN tag");
			return;
		}
		if (!within(off, 4, len)) {
			drop(p, res, PICFW_R_MALFORMED, "VLAN tag cut short");
			return;
		}
		etype = get16(b, off + 2);
		off += 4;
		out->vlans++;
	}

	/* 3, 4, 5, 6, 7: the fixed IP header, then the protected check. */
	if (etype == ETYPE_IPV4) {
		unsigned ihl, tot, frag;

		if (!within(off, 20, len)) {
			drop(p, res, PICFW_R_MALFORMED, "IPv4 header cut short");
			return;
		}
		ihl = b[off] & 15;
		tot = get16(b, off + 2);
		if (b[off] >> 4 != 4 || ihl < 5 || tot < ihl * 4 || !within(off, tot, len)) {
			drop(p, res, PICFW_R_MALFORMED,
			     "IPv4 version, IHL or total length inconsistent");
			return;
		}
		out->l3 = 4;
		out->hop_limit = b[off + 8];
		out->l4proto = b[off + 9];
		memcpy(out->saddr, b + off + 12, 4);
		memcpy(out->daddr, b + off + 16, 4);
		ip_end = off + tot;
		if (!ref_set_has(&p->protect, 4, out->daddr)) {
			set_reason(res, REF_PASS, PICFW_R_UNPROTECTED,
				   "IPv4 destination not protected");
			return;
		}
		frag = get16(b, off + 6);
		if (frag & 0x1fff) {
			drop(p, res, PICFW_R_FRAGMENT, "IPv4 non-first fragment");
			return;
		}
		out->first_fragment = (frag & 0x2000) != 0;
		l4 = off + ihl * 4;
		proto = out->l4proto;
	} else if (etype == ETYPE_IPV6) {
		unsigned plen, next;
		size_t pos;

		if (!within(off, 40, len)) {
			drop(p, res, PICFW_R_MALFORMED, "IPv6 header cut short");
			return;
		}
		plen = get16(b, off + 4);
		if (b[off] >> 4 != 6 || plen == 0 || !within(off + 40, plen, len)) {
			drop(p, res, PICFW_R_MALFORMED,
			     "IPv6 version or payload length inconsistent");
			return;
		}
		out->l3 = 6;
		next = b[off + 6];
		out->hop_limit = b[off + 7];
		memcpy(out->saddr, b + off + 8, 16);
		memcpy(out->daddr, b + off + 24, 16);
		ip_end = off + 40 + plen;
		if (!ref_set_has(&p->protect, 6, out->daddr)) {
			out->l4proto = (uint8_t)next;
			set_reason(res, REF_PASS, PICFW_R_UNPROTECTED,
				   "IPv6 destination not protected");
			return;
		}
		/* 8: extension headers. */
		pos = off + 40;
		for (;;) {
			size_t hlen;

			if (next != P_HOPOPTS && next != P_ROUTING && next != P_DSTOPTS &&
			    next != P_AH && next != P_FRAGMENT)
				break;
			if (out->exts == REF_IPV6_EXT_MAX) {
				drop(p, res, PICFW_R_MALFORMED,
				     "more than 8 IPv6 extension headers");
				return;
			}
			out->exts++;
			if (next == P_FRAGMENT) {
				if (!within(pos, 8, ip_end)) {
					drop(p, res, PICFW_R_MALFORMED,
					     "IPv6 fragment header past the datagram");
					return;
				}
				next = b[pos];
				out->l4proto = (uint8_t)next;
				if (get16(b, pos + 2) >> 3) {
					drop(p, res, PICFW_R_FRAGMENT, "IPv6 non-first fragment");
					return;
				}
				out->first_fragment = 1;
				pos += 8;
				continue;
			}
			if (!within(pos, 2, ip_end)) {
				drop(p, res, PICFW_R_MALFORMED,
				     "IPv6 extension header past the datagram");
				return;
			}
			if (next == P_AH)
				hlen = ((size_t)b[pos + 1] + 2) * 4;
			else
				hlen = ((size_t)b[pos + 1] + 1) * 8;
			if (!within(pos, hlen, ip_end)) {
				drop(p, res, PICFW_R_MALFORMED,
				     "IPv6 extension header past the datagram");
				return;
			}
			next = b[pos];
			pos += hlen;
		}
		out->l4proto = (uint8_t)next;
		l4 = pos;
		proto = next;
	} else {
		set_reason(res, REF_PASS, PICFW_R_NON_IP, "not IPv4 or IPv6");
		return;
	}

	/* 9: the transport header. */
	switch (proto) {
	case P_TCP:
		if (!within(l4, 20, ip_end) || b[l4 + 12] >> 4 < 5 ||
		    !within(l4, (size_t)(b[l4 + 12] >> 4) * 4, ip_end)) {
			drop(p, res, PICFW_R_MALFORMED, "TCP header short or data offset bad");
			return;
		}
		out->sport = (uint16_t)get16(b, l4);
		out->dport = (uint16_t)get16(b, l4 + 2);
		out->tcp_flags = b[l4 + 13];
		break;
	case P_UDP:
		if (!within(l4, 8, ip_end)) {
			drop(p, res, PICFW_R_MALFORMED, "UDP header short");
			return;
		}
		out->sport = (uint16_t)get16(b, l4);
		out->dport = (uint16_t)get16(b, l4 + 2);
		break;
	case P_ICMP:
	case P_ICMPV6:
		if (!within(l4, 8, ip_end)) {
			drop(p, res, PICFW_R_MALFORMED, "ICMP header short");
			return;
		}
		out->icmp_type = b[l4];
		out->icmp_code = b[l4 + 1];
		break;
	}

	/* 10: TCP and UDP, row by row. */
	if (proto == P_TCP || proto == P_UDP) {
		int replies = p->replies == PICFW_REPLIES_STATELESS &&
			      (proto == P_UDP || (out->tcp_flags & TCP_ACK));

		row = first_row(p, (uint8_t)out->l3, out->saddr,
				proto == P_TCP ? PICFW_TCP : PICFW_UDP, out->dport, out->sport,
				replies);
		if (row >= 0) {
			res->verdict = REF_PASS;
			res->row = row;
			res->slot = 0;
			res->why = "a row takes it";
			return;
		}
		drop(p, res, PICFW_R_NO_MATCH, "no row takes this TCP/UDP packet");
		return;
	}

	/* 11: ICMP of its own family. */
	if ((out->l3 == 4 && proto == P_ICMP) || (out->l3 == 6 && proto == P_ICMPV6)) {
		if (out->l3 == 6 && out->icmp_type >= 133 && out->icmp_type <= 137 &&
		    out->hop_limit == 255 && !out->first_fragment) {
			set_reason(res, REF_PASS, PICFW_R_ICMP_ESSENTIAL,
				   "neighbour or router discovery");
			return;
		}
		if (icmp_error(out->l3, out->icmp_type, out->icmp_code)) {
			if (icmp_related(p, out->l3, b, l4 + 8, ip_end)) {
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
		/* By set identity, as the README defines it, not by r->direction. */
		rr->direction = r->dst == pol->protect ? PICFW_DIR_IN : PICFW_DIR_OUT;
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
	    a->nrows != b->nrows || !set_equal(&a->protect, &b->protect))
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

const char *ref_reason_name(unsigned reason)
{
	static const char *const names[PICFW_REASONS] = {
	    [PICFW_R_NO_MATCH] = "no_match",
	    [PICFW_R_MALFORMED] = "malformed",
	    [PICFW_R_FRAGMENT] = "fragment",
	    [PICFW_R_ICMP_ESSENTIAL] = "icmp_essential",
	    [PICFW_R_NON_IP] = "non_ip",
	    [PICFW_R_UNPROTECTED] = "unprotected",
	    [PICFW_R_ICMP_RELATED] = "icmp_related",
	    [PICFW_R_ICMP_UNRELATED] = "icmp_unrelated",
	};

	return reason < PICFW_REASONS && names[reason] ? names[reason] : "?";
}

void ref_result_format(const struct ref_result *r, char *buf, size_t len)
{
	const char *v = r->verdict == REF_PASS ? "pass" : r->verdict == REF_DROP ? "drop" : "?";

	if (r->row >= 0)
		snprintf(buf, len, "%s, row %d", v, r->row);
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
	snprintf(buf, len,
		 "v%d proto %u %s:%u > %s:%u tcp flags 0x%02x icmp %u/%u hop %u vlans %d ext %d%s",
		 k->l3, k->l4proto, s, k->sport, d, k->dport, k->tcp_flags, k->icmp_type,
		 k->icmp_code, k->hop_limit, k->vlans, k->exts,
		 k->first_fragment ? " first-fragment" : "");
}
