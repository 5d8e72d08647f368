// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * picfw.bpf.c - the XDP program: parse, classify against the active
 * generation of the policy maps, count, pass or drop.
 *
 * Verdicts for a packet whose destination is protected:
 *  - XDP_PASS, counted on the row: an inbound row matches (source in its
 *    Source, transport, destination port in its ports), or it is a reply of an
 *    outbound row (source in the row's Destination, source port in its ports;
 *    TCP only with ACK set). First matching row in file order wins.
 *  - XDP_PASS, icmp_essential: ICMP that RFC 4890 says must not be dropped.
 *  - XDP_DROP, by reason: no_match, malformed, fragment (non-first fragments).
 * Not protected: XDP_PASS, unprotected. Not IP: XDP_PASS, non_ip.
 * In audit mode every would-be drop passes and is counted as would-drop.
 */
#include "parsing.h"
#include "maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TCP_FLAG_ACK 0x10

static __always_inline void count_reason(__u32 slot, __u64 bytes)
{
	struct picfw_counter *c = bpf_map_lookup_elem(&picfw_reason_stats, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_row(__u32 gen, __u32 row, __u64 bytes)
{
	__u32 key = gen * PICFW_MAX_ROWS + row;
	struct picfw_counter *c;
	__u32 *slot;

	slot = bpf_map_lookup_elem(&picfw_slots, &key);
	if (!slot)
		return;
	key = *slot;
	c = bpf_map_lookup_elem(&picfw_row_stats, &key);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Index of the lowest set bit of a non-zero word (BPF has no ctz instruction). */
static __always_inline __u32 lowest_bit(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1))
		n += 1;
	return n;
}

static __always_inline struct picfw_bits *class_bits(__u32 gen, __u32 class)
{
	__u32 key = gen * PICFW_MAX_CLASSES + (class & (PICFW_MAX_CLASSES - 1));

	return bpf_map_lookup_elem(&picfw_bits, &key);
}

static __always_inline int is_protected(__u32 gen, const struct packet *pkt)
{
	if (pkt->family == 4) {
		struct picfw_lpm4 k = { .prefixlen = PICFW_LPM_GEN_BITS + 32, .gen = gen };

		__builtin_memcpy(k.addr, pkt->daddr, 4);
		return bpf_map_lookup_elem(&picfw_prot4, &k) != NULL;
	} else {
		struct picfw_lpm6 k = { .prefixlen = PICFW_LPM_GEN_BITS + 128, .gen = gen };

		__builtin_memcpy(k.addr, pkt->daddr, 16);
		return bpf_map_lookup_elem(&picfw_prot6, &k) != NULL;
	}
}

static __always_inline __u32 remote_class(__u32 gen, const struct packet *pkt)
{
	__u32 *class;

	if (pkt->family == 4) {
		struct picfw_lpm4 k = { .prefixlen = PICFW_LPM_GEN_BITS + 32, .gen = gen };

		__builtin_memcpy(k.addr, pkt->saddr, 4);
		class = bpf_map_lookup_elem(&picfw_src4, &k);
	} else {
		struct picfw_lpm6 k = { .prefixlen = PICFW_LPM_GEN_BITS + 128, .gen = gen };

		__builtin_memcpy(k.addr, pkt->saddr, 16);
		class = bpf_map_lookup_elem(&picfw_src6, &k);
	}
	return class ? *class : 0;
}

/*
 * First row (file order) that takes this TCP/UDP packet, or -1. Candidate rows
 * are the AND of the source address's class and the port classes: inbound
 * rows by destination port, outbound rows' replies by source port. The
 * summary words skip empty 64-row blocks, so a miss costs a few loads.
 */
static __always_inline int match_row(__u32 gen, const struct packet *pkt)
{
	struct picfw_bits *addr, *dst, *src = NULL;
	struct picfw_port_classes *pc;
	__u32 aclass, transport, key, w;
	__u16 dclass, sclass;
	__u64 sum, m;
	int reply_ok;

	aclass = remote_class(gen, pkt);
	if (!aclass)
		return -1;

	transport = pkt->l4proto == IPPROTO_TCP ? PICFW_TCP : PICFW_UDP;
	key = (gen * PICFW_TRANSPORTS + transport) * PICFW_PORTS + pkt->dport;
	pc = bpf_map_lookup_elem(&picfw_ports, &key);
	if (!pc)
		return -1;
	dclass = pc->dst_class;

	/* Replies: any UDP datagram; TCP only once the Edge's SYN was answered. */
	reply_ok = transport == PICFW_UDP || (pkt->tcp_flags & TCP_FLAG_ACK);
	sclass = 0;
	if (reply_ok) {
		key = (gen * PICFW_TRANSPORTS + transport) * PICFW_PORTS + pkt->sport;
		pc = bpf_map_lookup_elem(&picfw_ports, &key);
		if (pc)
			sclass = pc->src_class;
	}
	if (!dclass && !sclass)
		return -1;

	addr = class_bits(gen, aclass);
	dst = class_bits(gen, dclass);
	if (!addr || !dst)
		return -1;
	sum = dst->summary;
	if (sclass) {
		src = class_bits(gen, sclass);
		if (!src)
			return -1;
		sum |= src->summary;
	}
	sum &= addr->summary;

	for (w = 0; w < PICFW_ROW_WORDS; w++) {
		if (!sum)
			break;
		if (!(sum & 1)) {
			sum >>= 1;
			continue;
		}
		sum >>= 1;
		m = dst->words[w];
		if (src)
			m |= src->words[w];
		m &= addr->words[w];
		if (m)
			return w * 64 + lowest_bit(m);
	}
	return -1;
}

/* ICMP that RFC 4890 (and, for IPv4, path MTU discovery) needs to get through. */
static __always_inline int icmp_essential(const struct packet *pkt)
{
	/* ICMP belongs to IPv4 and ICMPv6 to IPv6; the other way round is no ICMP at all. */
	if (pkt->family == 4)
		return pkt->l4proto == IPPROTO_ICMP &&
		       (pkt->icmp_type == ICMP_DEST_UNREACH || pkt->icmp_type == ICMP_TIME_EXCEEDED);
	if (pkt->l4proto != IPPROTO_ICMPV6)
		return 0;
	switch (pkt->icmp_type) {
	case ICMPV6_DEST_UNREACH:
	case ICMPV6_PKT_TOOBIG:
	case ICMPV6_TIME_EXCEED:
		return 1;
	case ICMPV6_PARAMPROB:
		return pkt->icmp_code == 1 || pkt->icmp_code == 2;
	case 133 ... 137: /* router and neighbour discovery, RFC 4861 section 6.1/7.1 */
		return pkt->hop_limit == 255 && !pkt->fragmented;
	}
	return 0;
}

SEC("xdp")
int picfw_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = { .pos = data, .end = data_end };
	struct packet pkt = {};
	__u64 bytes = data_end - data;
	__u32 zero = 0, gen, mode, reason;
	struct picfw_ctl *ctl;
	void *ip_end = data_end;
	__be16 proto;
	int ret, row;

	ctl = bpf_map_lookup_elem(&picfw_ctl, &zero);
	if (!ctl)
		return XDP_ABORTED; /* an array's index 0 always exists */
	/* Read once: every lookup of this packet uses the same generation. */
	gen = ctl->active & 1;
	mode = ctl->gen[gen].mode;

	if (parse_ethhdr(&c, &proto) < 0) {
		reason = PICFW_R_MALFORMED;
		goto drop;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		ret = parse_ipv4(&c, &pkt, &ip_end);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		ret = parse_ipv6(&c, &pkt, &ip_end);
	} else {
		count_reason(PICFW_R_NON_IP, bytes);
		return XDP_PASS;
	}
	if (ret == PARSE_MALFORMED) {
		reason = PICFW_R_MALFORMED;
		goto drop;
	}
	if (!is_protected(gen, &pkt)) {
		count_reason(PICFW_R_UNPROTECTED, bytes);
		return XDP_PASS;
	}
	if (ret == 0 && pkt.family == 6)
		ret = parse_ipv6_ext(&c, &pkt, ip_end);
	if (ret == PARSE_FRAGMENT) {
		reason = PICFW_R_FRAGMENT;
		goto drop;
	}
	if (ret == 0)
		ret = parse_l4(&c, &pkt, ip_end);
	if (ret < 0) {
		reason = PICFW_R_MALFORMED;
		goto drop;
	}

	if (pkt.l4proto == IPPROTO_TCP || pkt.l4proto == IPPROTO_UDP) {
		row = match_row(gen, &pkt);
		if (row >= 0) {
			count_row(gen, row, bytes);
			return XDP_PASS;
		}
	} else if (icmp_essential(&pkt)) {
		count_reason(PICFW_R_ICMP_ESSENTIAL, bytes);
		return XDP_PASS;
	}
	reason = PICFW_R_NO_MATCH;

drop:
	if (mode == PICFW_MODE_AUDIT) {
		count_reason(PICFW_REASONS + reason, bytes);
		return XDP_PASS;
	}
	count_reason(reason, bytes);
	return XDP_DROP;
}
