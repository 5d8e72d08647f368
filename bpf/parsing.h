/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * parsing.h - header parsers for the XDP program.
 *
 * The contract, once for every parse_*() below: each takes the cursor at the
 * start of its header, checks that what it reads lies before data_end (the
 * `ptr + 1 > end` form, right before the access), advances the cursor past
 * the header, and returns 0; or PARSE_FRAGMENT (the IP layers) for a
 * non-first fragment, which has no transport header, after advancing past
 * the IP headers; or PARSE_MALFORMED when the packet ends early or a header
 * is inconsistent, leaving the cursor anywhere. Nothing is ever read past
 * data_end. Loops have the constant bounds of include/picfw.h.
 */
#ifndef PICFW_PARSING_H
#define PICFW_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "picfw.h"

#define PARSE_MALFORMED (-1)
#define PARSE_FRAGMENT (-2)

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* <linux/icmp.h> pulls in libc headers through <linux/if.h>: name what we use. */
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

/*
 * beyond: bytes of the packet after end that are not in the linear area (a
 * TC program's paged skb, GSO superpackets). 0 in XDP. IP lengths may reach
 * into them; headers never do: every header read is bounded by end.
 */
struct cursor {
	void *pos;
	void *end;
	__u32 beyond;
};

/* type, code, checksum and 4 more bytes: ICMP and ICMPv6 alike. */
struct icmp_min {
	__u8 type;
	__u8 code;
	__be16 checksum;
	__be32 rest;
};

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* What the classifier needs of one packet, in host byte order but addresses. */
struct packet {
	__u8 family;      /* 4 or 6 */
	__u8 l4proto;     /* IPPROTO_* of the transport header */
	__u8 tcp_flags;   /* byte 13 of the TCP header */
	__u8 hop_limit;   /* IPv4 TTL or IPv6 hop limit */
	__u8 fragmented;  /* a first fragment: offset 0 (IPv4: MF set; IPv6: fragment header) */
	__u8 frag_more;   /* a first fragment with more to come: later ones will follow */
	__u8 l2_group;    /* Ethernet destination is broadcast or multicast */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 sport;
	__u16 dport;
	__u32 frag_id;    /* IPv4 identification or IPv6 fragment header identification */
	__u8 saddr[16];   /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

/*
 * Ethernet and up to PICFW_VLAN_MAX 802.1Q / 802.1ad tags; *proto in network
 * order, pkt->l2_group for a broadcast or multicast destination.
 */
static __always_inline int parse_ethhdr(struct cursor *c, struct packet *pkt, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlan;
	__be16 p;
	int i;

	if ((void *)(eth + 1) > c->end)
		return PARSE_MALFORMED;
	c->pos = eth + 1;
	p = eth->h_proto;
	pkt->l2_group = eth->h_dest[0] & 1;

#pragma unroll
	for (i = 0; i < PICFW_VLAN_MAX; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return PARSE_MALFORMED;
		c->pos = vlan + 1;
		p = vlan->proto;
	}
	/* A third tag is more than this parser reads: inconsistent for us. */
	if (p == bpf_htons(ETH_P_8021Q) || p == bpf_htons(ETH_P_8021AD))
		return PARSE_MALFORMED;
	*proto = p;
	return 0;
}

/* Bytes of the packet from p on, linear or not. */
static __always_inline __u32 bytes_from(const struct cursor *c, const void *p)
{
	__u64 linear = c->end - p;

	/*
	 * Keep clang from folding this into (end + beyond) - p: the verifier
	 * refuses arithmetic on pkt_end.
	 */
	asm volatile("" : "+r"(linear));
	return (__u32)linear + c->beyond;
}

/*
 * IPv4 with options. Checks version, ihl >= 5 (the kernel's synproxy selftest
 * does; xdp-tools' parser forgets), and that the total length covers the
 * header and fits in the packet. Leaves *ip_end at the end of the datagram.
 * Returns PARSE_FRAGMENT for a non-first fragment, after filling addresses,
 * transport and identification. A total length of 0 is a BIG TCP
 * superpacket's, only where the cursor says there are bytes beyond.
 */
static __always_inline int parse_ipv4(struct cursor *c, struct packet *pkt, void **ip_end)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot_len;
	__u16 frag;

	if ((void *)(iph + 1) > c->end)
		return PARSE_MALFORMED;
	/*
	 * ihl >= 5 checked on hlen itself: 6.1's verifier, given the check on
	 * the bit field, derived bounds for hlen that contradict each other and
	 * walked on with a packet pointer turned scalar.
	 */
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < 20)
		return PARSE_MALFORMED;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len == 0) {
		/* A BIG TCP superpacket (bytes beyond, TC only), else too short. */
		if (!c->beyond)
			return PARSE_MALFORMED;
		tot_len = bytes_from(c, iph) > 0xffff ? 0xffff : bytes_from(c, iph);
	}
	if (tot_len < hlen)
		return PARSE_MALFORMED;
	if (tot_len > bytes_from(c, iph))
		return PARSE_MALFORMED;
	if ((void *)iph + hlen > c->end)
		return PARSE_MALFORMED;

	pkt->family = 4;
	pkt->l4proto = iph->protocol;
	pkt->hop_limit = iph->ttl;
	__builtin_memcpy(pkt->saddr, &iph->saddr, 4);
	__builtin_memcpy(pkt->daddr, &iph->daddr, 4);
	/*
	 * tot_len is at most 0xffff already; the mask says so to the verifier,
	 * which otherwise tracks a wider range on the TC path (bytes beyond) and
	 * walks more states for the pointer.
	 */
	*ip_end = (void *)iph + (tot_len & 0xffff);
	c->pos = (void *)iph + hlen;

	frag = bpf_ntohs(iph->frag_off);
	pkt->frag_id = bpf_ntohs(iph->id);
	if (frag & IP_OFFSET)
		return PARSE_FRAGMENT;
	if (frag & IP_MF) {
		pkt->fragmented = 1;
		pkt->frag_more = 1;
	}
	return 0;
}

/* The fixed IPv6 header; extension headers are parse_ipv6_ext()'s. */
static __always_inline int parse_ipv6(struct cursor *c, struct packet *pkt, void **ip_end)
{
	struct ipv6hdr *ip6h = c->pos;
	__u32 plen;

	if ((void *)(ip6h + 1) > c->end)
		return PARSE_MALFORMED;
	if (ip6h->version != 6)
		return PARSE_MALFORMED;
	/*
	 * payload_len 0 is a jumbogram (RFC 2675), which no Edge link carries,
	 * or a BIG TCP superpacket on egress (bytes beyond the linear area).
	 */
	plen = bpf_ntohs(ip6h->payload_len);
	if (plen == 0 && c->beyond)
		plen = bytes_from(c, ip6h + 1) > 0xffff ? 0xffff : bytes_from(c, ip6h + 1);
	if (plen == 0 || plen > bytes_from(c, ip6h + 1))
		return PARSE_MALFORMED;

	pkt->family = 6;
	pkt->l4proto = ip6h->nexthdr;
	pkt->hop_limit = ip6h->hop_limit;
	__builtin_memcpy(pkt->saddr, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->daddr, &ip6h->daddr, 16);
	*ip_end = (void *)(ip6h + 1) + (plen & 0xffff); /* the verifier's bound: see parse_ipv4 */
	c->pos = ip6h + 1;
	return 0;
}

struct ipv6_opt_hdr_min {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_min {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/*
 * Walk up to PICFW_IPV6_EXT_MAX extension headers (hop-by-hop, routing,
 * destination options, fragment, AH) and leave pkt->l4proto on the first
 * other header. More extension headers than that is malformed for us.
 */
static __always_inline int parse_ipv6_ext(struct cursor *c, struct packet *pkt,
					  const void *ip_end)
{
	struct ipv6_opt_hdr_min *opt;
	struct ipv6_frag_min *frag;
	__u8 next = pkt->l4proto;
	__u32 len;
	int i;

#pragma unroll
	for (i = 0; i < PICFW_IPV6_EXT_MAX; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			opt = c->pos;
			if ((void *)(opt + 1) > c->end)
				return PARSE_MALFORMED;
			/* AH counts 4-byte units minus 2; the others 8-byte units minus 1. */
			if (next == IPPROTO_AH)
				len = ((__u32)opt->hdrlen + 2) * 4;
			else
				len = ((__u32)opt->hdrlen + 1) * 8;
			if (c->pos + len > ip_end)
				return PARSE_MALFORMED;
			next = opt->nexthdr;
			c->pos += len;
			break;
		case IPPROTO_FRAGMENT:
			frag = c->pos;
			if ((void *)(frag + 1) > c->end || (void *)(frag + 1) > ip_end)
				return PARSE_MALFORMED;
			next = frag->nexthdr;
			c->pos = frag + 1;
			pkt->l4proto = next;
			pkt->frag_id = bpf_ntohl(frag->identification);
			if (bpf_ntohs(frag->frag_off) & ~7)
				return PARSE_FRAGMENT;
			/* A fragment header with offset 0: a first fragment, or an atomic one. */
			pkt->fragmented = 1;
			pkt->frag_more = bpf_ntohs(frag->frag_off) & 1;
			break;
		default:
			pkt->l4proto = next;
			return 0;
		}
	}
	pkt->l4proto = next;
	switch (next) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return PARSE_MALFORMED;
	}
	return 0;
}

/*
 * The largest offset of an IPv6 header chain's end: Ethernet, two tags, the
 * fixed header and PICFW_IPV6_EXT_MAX headers of at most 2,048 bytes each
 * fit below it; far enough below the verifier's 64 KiB packet offset that a
 * pointer there still gets a range from a header check.
 */
#define PICFW_EXT_OFF_MAX 0x7fff
_Static_assert(14 + 4 * PICFW_VLAN_MAX + 40 + PICFW_IPV6_EXT_MAX * 2048 <= PICFW_EXT_OFF_MAX,
	       "an extension header chain fits below PICFW_EXT_OFF_MAX");

/* Does an extension header that parse_ipv6_ext() walks come next? */
static __always_inline int ipv6_ext_next(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	       next == IPPROTO_AH || next == IPPROTO_FRAGMENT;
}

/*
 * parse_ipv6_ext() for XDP, as a global function (verified once, on its
 * own): inline, each of the walk's outcomes (up to PICFW_IPV6_EXT_MAX
 * headers) was a path of its own through the rest of the XDP program, which
 * took the verifier past its million instructions on 6.1 (Debian 12's
 * kernel). Offsets from the frame's start, since a packet pointer cannot be
 * passed: off is the first extension header, end_off the datagram's end.
 * Returns the offset after the last extension header, or PARSE_MALFORMED
 * or PARSE_FRAGMENT. Only packets with extension headers make the call.
 */
__attribute__((noinline)) int parse_ipv6_ext_at(struct xdp_md *ctx, __u32 off, __u32 end_off,
						struct packet *pkt)
{
	struct cursor c = {};
	void *data;
	int ret;

	if (!ctx || !pkt || off > PICFW_EXT_OFF_MAX || end_off > 0xffff)
		return PARSE_MALFORMED;
	data = (void *)(long)ctx->data;
	/* The same numbers, with bounds the verifier sees (clang merges the checks above). */
	c.pos = data + (off & PICFW_EXT_OFF_MAX);
	c.end = (void *)(long)ctx->data_end;
	ret = parse_ipv6_ext(&c, pkt, data + (end_off & 0xffff));
	if (ret)
		return ret;
	return (int)(c.pos - data);
}

/* The walk of the extension headers, inline (TC, where xdp is NULL) or through the global. */
static __always_inline int parse_ipv6_ext_any(struct xdp_md *xdp, struct cursor *c,
					      struct packet *pkt, void *ip_end)
{
	void *data;
	int off;

	if (!ipv6_ext_next(pkt->l4proto))
		return 0;
	if (!xdp)
		return parse_ipv6_ext(c, pkt, ip_end);
	data = (void *)(long)xdp->data;
	off = parse_ipv6_ext_at(xdp, (__u32)(c->pos - data), (__u32)(ip_end - data), pkt);
	if (off < 0)
		return off;
	if (off > PICFW_EXT_OFF_MAX)
		return PARSE_MALFORMED;
	/* Bounded, so that the header checks after it still give the pointer a range. */
	c->pos = data + (off & PICFW_EXT_OFF_MAX);
	return 0;
}

/*
 * TCP (with its options), UDP, ICMP and ICMPv6 (type, code, checksum and the
 * 4 bytes before an error's quote): the header must lie inside frame and
 * datagram. After an ICMP header the cursor is at the quoted packet. Any
 * other transport is not read: 0, the cursor where it was.
 */
static __always_inline int parse_l4(struct cursor *c, struct packet *pkt, const void *ip_end)
{
	struct tcphdr *tcp;
	struct udphdr *udp;
	struct icmp_min *icmp;

	switch (pkt->l4proto) {
	case IPPROTO_TCP:
		tcp = c->pos;
		if ((void *)(tcp + 1) > c->end || (void *)(tcp + 1) > ip_end)
			return PARSE_MALFORMED;
		if (tcp->doff < 5 || c->pos + tcp->doff * 4 > ip_end)
			return PARSE_MALFORMED;
		pkt->sport = bpf_ntohs(tcp->source);
		pkt->dport = bpf_ntohs(tcp->dest);
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		/* Options may reach into bytes beyond (TC); nothing reads past them. */
		c->pos += tcp->doff * 4;
		return 0;
	case IPPROTO_UDP:
		udp = c->pos;
		if ((void *)(udp + 1) > c->end || (void *)(udp + 1) > ip_end)
			return PARSE_MALFORMED;
		pkt->sport = bpf_ntohs(udp->source);
		pkt->dport = bpf_ntohs(udp->dest);
		c->pos = udp + 1;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		icmp = c->pos;
		if ((void *)(icmp + 1) > c->end || (void *)(icmp + 1) > ip_end)
			return PARSE_MALFORMED;
		pkt->icmp_type = icmp->type;
		pkt->icmp_code = icmp->code;
		c->pos = icmp + 1;
		return 0;
	}
	return 0;
}

/* What parse_packet() could read of a packet: what may judge it. */
enum parsed {
	PKT_NOT_IP,         /* not IPv4 or IPv6 (ARP, LLDP, ...) */
	PKT_MALFORMED,      /* Ethernet or the IP header cut short or inconsistent: no addresses */
	PKT_MALFORMED_L4,   /* addresses read; an extension or transport header is not right */
	PKT_LATER_FRAGMENT, /* a non-first fragment: addresses, transport, identification */
	PKT_WHOLE,          /* every header: addresses and the transport's fields */
};

/*
 * The whole chain, for both programs: Ethernet, IP and transport headers into
 * pkt, *ip_end at the datagram's end, the cursor after the last header read
 * (at an ICMP error's quote). The one place a parser's result is decoded.
 * xdp: the XDP program's context (IPv6 extension headers through the global
 * walk), NULL in TC.
 */
static __always_inline enum parsed parse_packet(struct cursor *c, struct packet *pkt,
						void **ip_end, struct xdp_md *xdp)
{
	__be16 proto;
	int ret;

	if (parse_ethhdr(c, pkt, &proto))
		return PKT_MALFORMED;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(c, pkt, ip_end);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(c, pkt, ip_end);
	else
		return PKT_NOT_IP;
	if (ret == PARSE_MALFORMED)
		return PKT_MALFORMED;
	if (ret == 0 && pkt->family == 6)
		ret = parse_ipv6_ext_any(xdp, c, pkt, *ip_end);
	if (ret == PARSE_FRAGMENT)
		return PKT_LATER_FRAGMENT;
	if (ret == 0)
		ret = parse_l4(c, pkt, *ip_end);
	return ret ? PKT_MALFORMED_L4 : PKT_WHOLE;
}

#endif /* PICFW_PARSING_H */
