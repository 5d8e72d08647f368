// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * picfw.bpf.c - the XDP program (ingress) and the TC egress program.
 *
 * XDP, for a packet whose destination is protected:
 *  - XDP_PASS, counted on the row: an inbound row matches (source in its
 *    Source, transport, destination port in its ports), or it is a reply of
 *    a flow the Edge opened under an outbound row (recorded by the egress
 *    program; `replies tracked`, the default). With `replies stateless`, a reply is any
 *    packet whose source is in an outbound row's Destination and source port
 *    in its ports (TCP only with ACK). First matching row in file order wins.
 *  - XDP_PASS, icmp_related: an ICMP error whose quoted header belongs to a
 *    tracked flow or to a flow an inbound row allows.
 *  - XDP_PASS or, under `icmp strict`, XDP_DROP: icmp_unrelated, any other
 *    ICMP error (so path MTU discovery does not break by surprise).
 *  - XDP_PASS, icmp_essential: neighbour and router discovery (RFC 4890).
 *  - XDP_PASS, counted on the row: a later fragment of a datagram whose first
 *    fragment passed (picfw_frags).
 *  - XDP_DROP, by reason: no_match, malformed, fragment (other non-first
 *    fragments).
 * Not protected: XDP_PASS, unprotected; under `unprotected drop`, XDP_DROP
 * for unicast (reason unprotected) and XDP_PASS, local_scope, for multicast,
 * broadcast and link-local destinations. Not IP: XDP_PASS, non_ip.
 * In audit mode every would-be drop passes and is counted as would-drop.
 *
 * A tracked reply passes only while an outbound row of the active policy
 * allows its flow: the flow remembers the row and the policy epoch it was
 * matched in, and is matched again once per flow after every apply.
 *
 * TC egress: a packet from a protected address of a connection the Edge
 * opened under an outbound row records its flow in the table of its family
 * and transport, keyed as the reply will come: a TCP SYN, or any later
 * packet (so a flow that was evicted, or open before attach, comes back with
 * the Edge's next packet); a UDP datagram. A packet that answers an inbound
 * row opens nothing (a datagram that does is not looked up at all: that
 * row passes its replies). Later packets refresh the flow. It reads headers only
 * (GSO superpackets and paged payloads count) and never drops anything.
 */
#include "parsing.h"
#include "maps.h"

#include <linux/pkt_cls.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Flow table sizes per transport, as made (userspace sets them before load). */
const volatile __u32 flows_max[PICFW_TRANSPORTS] = { PICFW_DEFAULT_FLOWS_TCP,
						     PICFW_DEFAULT_FLOWS_UDP };

/*
 * The build of this object (FNV-1a 64 of it, as attach writes it before
 * load): `picfw status` tells a filter whose program another build of picfw
 * attached, which keeps running after an upgrade until detach and attach.
 * Read by nothing here.
 */
const volatile __u64 picfw_build = 0;

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

static __always_inline void count_reason(__u32 slot, __u64 bytes)
{
	struct picfw_counter *c = bpf_map_lookup_elem(&picfw_reason_stats, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_slot(__u32 slot, __u64 bytes)
{
	struct picfw_counter *c = bpf_map_lookup_elem(&picfw_row_stats, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#define NO_SLOT PICFW_MAX_ROWS

/*
 * Count a packet on row's counter slot (picfw_slots, the one place a row's
 * slot is looked up); returns the slot (NO_SLOT if none). The mask keeps any
 * row inside generation gen's part of the map.
 */
static __always_inline __u32 count_row(__u32 gen, __u32 row, __u64 bytes)
{
	__u32 key = gen * PICFW_MAX_ROWS + (row & (PICFW_MAX_ROWS - 1));
	__u32 *slot;

	slot = bpf_map_lookup_elem(&picfw_slots, &key);
	if (!slot)
		return NO_SLOT;
	count_slot(*slot, bytes);
	return *slot;
}

static __always_inline void count_event(__u32 table, __u32 event)
{
	__u32 key = table * PICFW_EVENTS + event;
	__u64 *v = bpf_map_lookup_elem(&picfw_events, &key);

	if (v)
		(*v)++;
}

/*
 * Index of the lowest set bit of a non-zero word (BPF has no ctz
 * instruction), in a multiply and a table read: x & -x keeps that bit alone,
 * and the de Bruijn sequence 0x03f79d71b4cb0a89 times a power of two has a
 * different top six bits for each of the 64 (the table maps them back).
 * Five tests and shifts before, on every row match that reached the bitmaps.
 */
static const __u8 lowest_bit_index[64] = {
	0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6,
};

static __always_inline __u32 lowest_bit(__u64 x)
{
	return lowest_bit_index[((x & -x) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/* A class's row bitmap; the mask keeps a class read from a map inside generation gen. */
static __always_inline struct picfw_bits *class_bits(__u32 gen, __u32 class)
{
	__u32 key = gen * PICFW_MAX_CLASSES + (class & (PICFW_MAX_CLASSES - 1));

	return bpf_map_lookup_elem(&picfw_bits, &key);
}

/*
 * Is addr one of the generation's inline protected host addresses? 0 if not,
 * else PICFW_PROT_FOUND, or with want_class PICFW_PROT_FOUND | its local class.
 */
static __always_inline __u32 protected_inline(const struct picfw_gen_cfg *cfg, __u8 family,
					      const __u8 *addr, int want_class)
{
	__u32 i, a[4], p[4];

	if (family == 4) {
		__builtin_memcpy(a, addr, 4);
#pragma unroll
		for (i = 0; i < PICFW_PROT_INLINE; i++) {
			__builtin_memcpy(p, cfg->prot4[i], 4);
			if (i < cfg->nprot4 && p[0] == a[0])
				return PICFW_PROT_FOUND |
				       (want_class ? cfg->prot4_local[i] : 0);
		}
		return 0;
	}
	__builtin_memcpy(a, addr, 16);
#pragma unroll
	for (i = 0; i < PICFW_PROT_INLINE; i++) {
		__builtin_memcpy(p, cfg->prot6[i], 16);
		if (i < cfg->nprot6 && p[0] == a[0] && p[1] == a[1] && p[2] == a[2] && p[3] == a[3])
			return PICFW_PROT_FOUND | (want_class ? cfg->prot6_local[i] : 0);
	}
	return 0;
}

/*
 * Is addr protected? 0 if not, else PICFW_PROT_FOUND, or with want_class
 * PICFW_PROT_FOUND | its local class: the rows whose local side holds it
 * (see struct picfw_gen_cfg's local). Only a row match asks for the class,
 * and only when the generation has local classes: a value the verifier
 * cannot know, carried down every path, would cost it many states.
 */
static __always_inline __u32 protected_class(__u32 gen, const struct picfw_gen_cfg *cfg,
					     __u8 family, const __u8 *addr, int want_class)
{
	__u32 *class;

	/* An Edge's few Access addresses: compared in place, no trie walk. */
	if (cfg->prot_inline)
		return protected_inline(cfg, family, addr, want_class);
	if (family == 4) {
		struct picfw_lpm4 k = { .prefixlen = PICFW_LPM_GEN_BITS + 32, .gen = gen };

		__builtin_memcpy(k.addr, addr, 4);
		class = bpf_map_lookup_elem(&picfw_prot4, &k);
	} else {
		struct picfw_lpm6 k = { .prefixlen = PICFW_LPM_GEN_BITS + 128, .gen = gen };

		__builtin_memcpy(k.addr, addr, 16);
		class = bpf_map_lookup_elem(&picfw_prot6, &k);
	}
	if (!class)
		return 0;
	return PICFW_PROT_FOUND | (want_class ? *class & 0xffff : 0);
}

static __always_inline int is_protected(__u32 gen, const struct picfw_gen_cfg *cfg, __u8 family,
					const __u8 *addr)
{
	return protected_class(gen, cfg, family, addr, 0) != 0;
}

/*
 * A tail's masked compare (see PICFW_TRIE_TAIL): 1 when addr is inside it.
 * IPv4 reads 4 bytes of addr, IPv6 16.
 */
static __always_inline int tail_holds(const struct picfw_trie_tail *t, __u8 family,
				      const __u8 *addr)
{
	__u32 a[4];

	/* Copied here, not before the walk: most lookups end at a plain class. */
	if (family == 4) {
		__builtin_memcpy(a, addr, 4);
		return (a[0] & t->mask[0]) == t->addr[0];
	}
	__builtin_memcpy(a, addr, 16);
	return (a[0] & t->mask[0]) == t->addr[0] && (a[1] & t->mask[1]) == t->addr[1] &&
	       (a[2] & t->mask[2]) == t->addr[2] && (a[3] & t->mask[3]) == t->addr[3];
}

/*
 * The 256-ary trie: one array lookup per address byte until a leaf, at most
 * 4 for IPv4 and 16 for IPv6 (the compiler expands prefixes to byte
 * boundaries, so the leaf reached is the longest match's class). A tail
 * (one prefix alone below a slot) ends the walk with one more lookup and a
 * masked compare; a skip (a tail with the child bit) jumps over one-way
 * nodes to a deeper byte. At most 16 levels, and i only grows; the masks
 * keep a child or a tail inside generation gen.
 */
static __always_inline __u32 trie_class(__u32 gen, __u8 family, const __u8 *addr)
{
	__u32 key = gen * PICFW_TRIE_NODES + (family == 6), v, i = 0, to, step;
	__u32 n = family == 4 ? 4 : 16;
	struct picfw_trie_node *node;
	struct picfw_trie_tail *t;

	/*
	 * step counts the levels walked, i the address byte: a skip moves i
	 * on by more than one. The loop runs on step, which the verifier sees
	 * grow by one each time (6.1's took a loop on i, which a skip sets
	 * from a map value, for an infinite one).
	 */
	for (step = 0; step < 16; step++) {
		if (i >= n)
			break;
		node = bpf_map_lookup_elem(&picfw_trie, &key);
		if (!node)
			return 0;
		v = node->e[addr[i & 15] & 0xff];
		if (!(v & PICFW_TRIE_TAIL)) {
			if (!(v & PICFW_TRIE_CHILD))
				return v;
			key = gen * PICFW_TRIE_NODES + (v & (PICFW_TRIE_NODES - 1));
			i++;
			continue;
		}
		to = gen * PICFW_TRIE_TAILS + (v & (PICFW_TRIE_TAILS - 1));
		t = bpf_map_lookup_elem(&picfw_trie_tail, &to);
		if (!t)
			return 0;
		if (!tail_holds(t, family, addr))
			return t->other;
		if (!(v & PICFW_TRIE_CHILD))
			return t->class;
		/* A skip: on at its node and byte; the compiler makes the byte deeper than i. */
		to = t->class >> PICFW_TRIE_SKIP_SHIFT;
		if (to <= i || to >= n)
			return 0;
		key = gen * PICFW_TRIE_NODES + (t->class & (PICFW_TRIE_NODES - 1));
		i = to;
	}
	return 0; /* a child below the last byte: the compiler never makes one */
}

/* The address class of a remote address: the rows whose remote set holds it. */
static __always_inline __u32 remote_class(__u32 gen, const struct picfw_gen_cfg *cfg, __u8 family,
					  const __u8 *addr)
{
	__u32 *class;

	if (family == 4 ? cfg->trie4 : cfg->trie6)
		return trie_class(gen, family, addr);
	/* A policy too big for the array trie: the kernel's LPM tries answer. */
	if (family == 4) {
		struct picfw_lpm4 k = { .prefixlen = PICFW_LPM_GEN_BITS + 32, .gen = gen };

		__builtin_memcpy(k.addr, addr, 4);
		class = bpf_map_lookup_elem(&picfw_src4, &k);
	} else {
		struct picfw_lpm6 k = { .prefixlen = PICFW_LPM_GEN_BITS + 128, .gen = gen };

		__builtin_memcpy(k.addr, addr, 16);
		class = bpf_map_lookup_elem(&picfw_src6, &k);
	}
	return class ? *class : 0;
}

static __always_inline struct picfw_port_classes *port_classes(__u32 gen, __u32 transport,
							       __u16 port)
{
	__u32 key = (gen * PICFW_TRANSPORTS + transport) * PICFW_PORTS + port;

	return bpf_map_lookup_elem(&picfw_ports, &key);
}

/* The address half of a row match (struct row_query): what match_classes answers. */
struct class_query {
	__u32 gen;
	__u8 family;
	__u8 pad;
	__u16 iclass; /* inbound rows of the destination port, 0 = none asked */
	__u16 oclass; /* outbound rows of the source port, 0 = none asked */
	__u16 pad2;
	__u8 remote[16];
	__u8 local[16]; /* the Edge's address: read only when the generation's local is 1 */
};

/*
 * The local class of a query's Edge address, asked only when the generation
 * has local classes: global (verified once, see match_classes), so policies
 * whose rows all name the whole protected set pay nothing for it.
 */
__attribute__((noinline)) __u32 local_class(const struct class_query *q,
					    const struct picfw_gen_cfg *cfg)
{
	if (!q || !cfg)
		return 0;
	return protected_class(q->gen, cfg, q->family, q->local, 1) & 0xffff;
}

/*
 * The row table's cell for inbound port class iclass and address class
 * aclass (see picfw_row_table): the first row in both, and its counter
 * slot. The mask keeps a cell inside generation gen's part of the map.
 */
static __always_inline int row_table_first(__u32 gen, const struct picfw_gen_cfg *cfg,
					   __u32 iclass, __u32 aclass, __u32 *slot)
{
	__u32 cell = ((iclass - 1) * cfg->row_table + aclass) & (PICFW_ROW_CELLS - 1);
	__u32 key = gen * (PICFW_ROW_CELLS / PICFW_ROW_CELLS_PER_ELEM) +
		    cell / PICFW_ROW_CELLS_PER_ELEM;
	struct picfw_row_cells *c = bpf_map_lookup_elem(&picfw_row_table, &key);

	if (!c)
		return -1;
	*slot = c->c[cell % PICFW_ROW_CELLS_PER_ELEM].slot;
	return (int)c->c[cell % PICFW_ROW_CELLS_PER_ELEM].row_plus1 - 1;
}

/*
 * First row (file order) among the port classes' rows whose remote set holds
 * the remote address, and whose local set the local address, or -1: from
 * the row table when it answers (inbound rows only; then *slot is the row's
 * counter slot, else left as it was), else from the bitmaps, whose summary
 * words skip empty 64-row blocks.
 */
static __always_inline int first_row(const struct class_query *q,
				     const struct picfw_gen_cfg *cfg, __u32 *slot)
{
	struct picfw_bits *addr, *local, *in = NULL, *out = NULL;
	__u32 aclass, w;
	__u64 sum = 0, m;

	aclass = remote_class(q->gen, cfg, q->family, q->remote);
	if (!aclass)
		return -1;
	/*
	 * Inbound rows only (iclass is then 1 or more); row_table_classes is 0
	 * without a table, and userspace makes one only where cfg->local is 0.
	 */
	if (!q->oclass && q->iclass <= cfg->row_table_classes)
		return row_table_first(q->gen, cfg, q->iclass, aclass, slot);
	addr = class_bits(q->gen, aclass);
	if (!addr)
		return -1;
	/*
	 * Every row's local set the whole protected set: the address class
	 * ANDed with itself (no second lookup), so the loop has one shape.
	 */
	local = addr;
	if (cfg->local) {
		local = class_bits(q->gen, local_class(q, cfg));
		if (!local)
			return -1;
	}
	if (q->iclass) {
		in = class_bits(q->gen, q->iclass);
		if (!in)
			return -1;
		sum |= in->summary;
	}
	if (q->oclass) {
		out = class_bits(q->gen, q->oclass);
		if (!out)
			return -1;
		sum |= out->summary;
	}
	sum &= addr->summary & local->summary;

	for (w = 0; w < PICFW_ROW_WORDS; w++) {
		if (!sum)
			break;
		if (!(sum & 1)) {
			sum >>= 1;
			continue;
		}
		sum >>= 1;
		m = 0;
		if (in)
			m |= in->words[w];
		if (out)
			m |= out->words[w];
		m &= addr->words[w] & local->words[w];
		if (m)
			return w * 64 + lowest_bit(m);
	}
	return -1;
}

/*
 * The same as a global function, which the verifier checks once, on its own,
 * and not again on every path of each caller: the rarer callers (a flow's
 * row matched again after an apply, ICMP errors, the egress program) use it,
 * so that the XDP program stays within the verifier's budget of a million
 * instructions while its hot path keeps first_row() inline (a call costs a
 * return thunk on CPUs with return-stack mitigations). Its pointers may be
 * NULL as far as the verifier knows.
 */
__attribute__((noinline)) int match_classes(const struct class_query *q,
					    const struct picfw_gen_cfg *cfg)
{
	__u32 slot;

	if (!q || !cfg)
		return -1;
	return first_row(q, cfg, &slot);
}

/*
 * A row match asks which rows of generation gen hold a remote address, the
 * Edge's address and the ports of a packet between them. Inbound rows are
 * asked by the Edge's port (their ports are the Edge's), outbound rows by
 * the remote's; a query says which it asks. The answer is the first such
 * row (file order), or -1: the AND of the addresses' classes with the port
 * classes asked for.
 */
struct row_query {
	__u32 gen;
	__u32 transport;  /* enum picfw_transport */
	__u8 family;
	__u8 inbound;     /* ask inbound rows, by edge_port */
	__u8 outbound;    /* ask outbound rows, by remote_port */
	__u16 edge_port;
	__u16 remote_port;
	const __u8 *remote;
	const __u8 *local; /* the Edge's address */
};

/*
 * The port lookups and their early exits always stay inline: most packets
 * end there. The address half is first_row(), inline when outlined is 0
 * (the XDP hot path: *slot is the row's counter slot when the row table
 * answered, else left as it was), else the global match_classes().
 */
static __always_inline int match_rows_as(int outlined, const struct row_query *rq,
					 const struct picfw_gen_cfg *cfg, __u32 *slot)
{
	struct class_query q = { .gen = rq->gen, .family = rq->family };
	struct picfw_port_classes *pc;
	__u16 iany = 0, oany = 0;

	if (rq->inbound) {
		pc = port_classes(rq->gen, rq->transport, rq->edge_port);
		if (pc) {
			q.iclass = pc->dst_class;
			iany = pc->dst_any;
		}
	}
	if (rq->outbound) {
		pc = port_classes(rq->gen, rq->transport, rq->remote_port);
		if (pc) {
			q.oclass = pc->src_class;
			oany = pc->src_any;
		}
	}
	/* Cheap early exits: no row has these ports; or the first row takes any address. */
	if (!q.iclass && !q.oclass)
		return -1;
	if (iany && !q.oclass)
		return iany - 1;
	if (oany && !q.iclass)
		return oany - 1;
	__builtin_memcpy(q.remote, rq->remote, 16);
	if (cfg->local)
		__builtin_memcpy(q.local, rq->local, 16);
	return outlined ? match_classes(&q, cfg) : first_row(&q, cfg, slot);
}

/* The XDP program's inbound match, on every packet: inline (for *slot see match_rows_as). */
static __always_inline int match_rows(const struct row_query *q, const struct picfw_gen_cfg *cfg,
				      __u32 *slot)
{
	return match_rows_as(0, q, cfg, slot);
}

/* Everywhere else: through the global function. */
static __always_inline int match_rows_call(const struct row_query *q,
					   const struct picfw_gen_cfg *cfg)
{
	return match_rows_as(1, q, cfg, NULL);
}

static __always_inline __u32 transport_of(__u8 l4proto)
{
	return l4proto == IPPROTO_TCP ? PICFW_TCP : PICFW_UDP;
}

/*
 * A packet between the Edge and a remote: the Edge's (from_edge: on egress,
 * or quoted by an ICMP error) or the remote's. Its remote end:
 */
static __always_inline const __u8 *remote_addr(const struct packet *pkt, int from_edge)
{
	return from_edge ? pkt->daddr : pkt->saddr;
}

static __always_inline __u16 remote_port(const struct packet *pkt, int from_edge)
{
	return from_edge ? pkt->dport : pkt->sport;
}

/*
 * The first outbound row that allows pkt's flow (remote address in its
 * Destination, the transport, the remote port in its ports), or -1: the row
 * the egress program makes a flow under, and a flow's row after an apply.
 */
static __always_inline int outbound_row(__u32 gen, const struct picfw_gen_cfg *cfg,
					const struct packet *pkt, int from_edge)
{
	struct row_query q = { .gen = gen,
			       .local = from_edge ? pkt->saddr : pkt->daddr,
			       .family = pkt->family,
			       .transport = transport_of(pkt->l4proto),
			       .remote = remote_addr(pkt, from_edge),
			       .outbound = 1,
			       .remote_port = remote_port(pkt, from_edge) };

	return match_rows_call(&q, cfg);
}

/*
 * The first row a packet of the Edge's belongs to, or -1: an inbound row
 * whose flow it answers (its source port in the row's ports, the remote in
 * the row's Source), or, when outbound is set, an outbound row it may open
 * a flow of (the remote and its port in the row's Destination and ports).
 */
static __always_inline int edge_packet_row(__u32 gen, const struct picfw_gen_cfg *cfg,
					   const struct packet *pkt, int outbound)
{
	struct row_query q = { .gen = gen,
			       .local = pkt->saddr,
			       .family = pkt->family,
			       .transport = transport_of(pkt->l4proto),
			       .remote = pkt->daddr,
			       .inbound = 1,
			       .edge_port = pkt->sport,
			       .outbound = outbound,
			       .remote_port = pkt->dport };

	return match_rows_call(&q, cfg);
}

/*
 * Flow times: jiffies in nanoseconds (a tick is a few ms, fine for timeouts
 * of seconds). The verifier turns bpf_jiffies64() into a load of jiffies;
 * the coarse clock's helper call cost about 20 ns per reply and per packet
 * the Edge sends, on CPUs whose returns go through a thunk. Compared signed:
 * another CPU may write a last_seen a tick after this one read now, and an
 * unsigned now - last_seen would then wrap to "expired".
 */
static __always_inline __u64 flow_clock(const struct picfw_gen_cfg *cfg)
{
	return bpf_jiffies64() * cfg->tick_ns;
}

static __always_inline int older_than(__u64 now, __u64 then, __u64 age)
{
	return (__s64)(now - then) > (__s64)age;
}

static __always_inline __u64 flow_timeout(const struct picfw_gen_cfg *cfg, __u8 state)
{
	if (state == PICFW_TCP_NONE)
		return cfg->timeout_ns[PICFW_TIMEOUT_UDP];
	if (state == PICFW_TCP_ESTABLISHED)
		return cfg->timeout_ns[PICFW_TIMEOUT_TCP];
	return cfg->timeout_ns[PICFW_TIMEOUT_TCP_TRANSITORY];
}

/* The table of a family and transport: index (enum picfw_flow_table) and map. */
static __always_inline __u32 flow_table_id(__u8 family, __u8 l4proto)
{
	return (family == 6 ? PICFW_FT_TCP6 : PICFW_FT_TCP4) + (l4proto == IPPROTO_UDP);
}

/*
 * Each table's lookup, update and delete on a call of its own: the verifier
 * inlines a lookup (and calls an update or a delete directly) only where one
 * map reaches the call. A map pointer chosen at run time and then passed to
 * one call made every flow operation the generic helper's indirect call
 * through map->ops (a retpoline on this kind of CPU: +30-40 ns per reply).
 * The empty asm after each call keeps clang from merging the four calls
 * back into one on a chosen pointer.
 */
#define FLOW_TABLE_CALL(table, CALL)                                       \
	({                                                                 \
		long r_;                                                   \
		switch (table) {                                           \
		case PICFW_FT_TCP4:                                        \
			r_ = (long)CALL(&picfw_flows_tcp4);                \
			asm volatile("" : "+r"(r_));                        \
			break;                                             \
		case PICFW_FT_UDP4:                                        \
			r_ = (long)CALL(&picfw_flows_udp4);                \
			asm volatile("" : "+r"(r_));                        \
			break;                                             \
		case PICFW_FT_TCP6:                                        \
			r_ = (long)CALL(&picfw_flows_tcp6);                \
			asm volatile("" : "+r"(r_));                        \
			break;                                             \
		default:                                                   \
			r_ = (long)CALL(&picfw_flows_udp6);                \
			asm volatile("" : "+r"(r_));                        \
			break;                                             \
		}                                                          \
		r_;                                                        \
	})

/* A flow's key in either family's layout; the table reads its own key size. */
struct flow_key {
	__u32 table;
	union {
		struct picfw_flow4_key v4;
		struct picfw_flow6_key v6;
	};
};

/* The key of pkt's flow, as its replies arrive: the remote is the reply's source. */
static __always_inline void flow_key_of(struct flow_key *k, const struct packet *pkt,
					int from_edge)
{
	const __u8 *local = from_edge ? pkt->saddr : pkt->daddr;
	__u16 local_port = from_edge ? pkt->sport : pkt->dport;

	k->table = flow_table_id(pkt->family, pkt->l4proto);
	if (pkt->family == 4) {
		__builtin_memcpy(k->v4.remote, remote_addr(pkt, from_edge), 4);
		__builtin_memcpy(k->v4.local, local, 4);
		k->v4.remote_port = remote_port(pkt, from_edge);
		k->v4.local_port = local_port;
	} else {
		__builtin_memcpy(k->v6.remote, remote_addr(pkt, from_edge), 16);
		__builtin_memcpy(k->v6.local, local, 16);
		k->v6.remote_port = remote_port(pkt, from_edge);
		k->v6.local_port = local_port;
	}
}

static __always_inline struct picfw_flow *flow_lookup(struct flow_key *k)
{
#define LOOKUP(map) bpf_map_lookup_elem(map, &k->v4)
	return (struct picfw_flow *)FLOW_TABLE_CALL(k->table, LOOKUP);
#undef LOOKUP
}

static __always_inline void flow_count_add(__u32 table, __s64 n)
{
	__u64 *count = bpf_map_lookup_elem(&picfw_flow_count, &table);

	if (count)
		__sync_fetch_and_add(count, (__u64)n);
}

/* Is flow f past the timeout of its state, at now? */
static __always_inline int flow_expired(const struct picfw_gen_cfg *cfg,
					const struct picfw_flow *f, __u64 now)
{
	return older_than(now, f->last_seen, flow_timeout(cfg, f->tcp_state));
}

/*
 * The flow of key, or NULL when there is none or it is past its timeout: then
 * it is removed on sight. *now is the clock, read only for a flow found (a
 * miss costs no helper call for it).
 */
static __always_inline struct picfw_flow *flow_find(const struct picfw_gen_cfg *cfg,
						    struct flow_key *k, __u64 *now)
{
	struct picfw_flow *f = flow_lookup(k);

	if (!f)
		return NULL;
	*now = flow_clock(cfg);
	if (!flow_expired(cfg, f, *now))
		return f;
#define DELETE(map) bpf_map_delete_elem(map, &k->v4)
	if (!FLOW_TABLE_CALL(k->table, DELETE)) {
#undef DELETE
		flow_count_add(k->table, -1);
		count_event(k->table, PICFW_EV_FLOW_EXPIRED);
	}
	return NULL;
}

/*
 * The outbound row of the active policy that allows flow f now (remote
 * address in its Destination, the transport, the remote port in its ports),
 * or -1. Remembered per policy epoch, so the row match runs once per flow
 * and apply; the binding is one 64-bit store, never half written.
 */
static __always_inline int flow_row(__u32 gen, const struct picfw_gen_cfg *cfg,
				    struct picfw_flow *f, const struct packet *pkt, int from_edge)
{
	__u64 binding = f->binding;
	__u32 row;
	int r;

	if ((__u32)(binding >> 32) == cfg->epoch) {
		row = (__u32)binding;
	} else {
		r = outbound_row(gen, cfg, pkt, from_edge);
		row = r < 0 ? PICFW_FLOW_NO_ROW : (__u32)r;
		f->binding = picfw_flow_binding(cfg->epoch, row);
	}
	/* The mask: a binding is memory, and a row must stay a row. */
	return row == PICFW_FLOW_NO_ROW ? -1 : (int)(row & (PICFW_MAX_ROWS - 1));
}

/*
 * Does an outbound row of this transport name the packet's remote port (the
 * source of a reply, the destination of the Edge's packet)? Flows are made
 * under outbound rows only, so a packet without one has no flow.
 */
static __always_inline int outbound_port(__u32 gen, const struct packet *pkt, int from_edge)
{
	struct picfw_port_classes *pc =
		port_classes(gen, transport_of(pkt->l4proto), remote_port(pkt, from_edge));

	return pc && pc->src_class;
}

/*
 * The one place TCP states are derived: the state after a packet with these
 * flags, the Edge's (from_edge) or the remote's, on a flow in state.
 */
static __always_inline __u8 tcp_state_next(__u8 state, __u8 flags, int from_edge)
{
	if (flags & TCP_FLAG_RST)
		return PICFW_TCP_CLOSED;
	/*
	 * After an RST only the Edge's own packets tell that its connection
	 * lives on (its TCP refused the RST as out of window): the remote's
	 * never do.
	 */
	if (state == PICFW_TCP_CLOSED && !from_edge)
		return PICFW_TCP_CLOSED;
	if (flags & TCP_FLAG_FIN)
		return PICFW_TCP_CLOSING;
	if (from_edge && (flags & TCP_FLAG_SYN) && !(flags & TCP_FLAG_ACK))
		return PICFW_TCP_SYN_SENT;
	if (state == PICFW_TCP_CLOSED)
		return (flags & TCP_FLAG_ACK) && !(flags & TCP_FLAG_SYN) ? PICFW_TCP_ESTABLISHED
									   : PICFW_TCP_CLOSED;
	if (!from_edge && state == PICFW_TCP_SYN_SENT && (flags & TCP_FLAG_ACK))
		return PICFW_TCP_ESTABLISHED;
	return state;
}

/*
 * Would the Edge's packet open a flow, and in which state? A UDP datagram
 * opens one; a TCP SYN opens one, SYN_SENT; a later packet of the Edge's
 * connection picks it up, ESTABLISHED, as conntrack does mid-stream. A
 * SYN-ACK answers a remote's SYN, and a FIN or RST closes: they open nothing.
 */
static __always_inline int flow_opens(const struct packet *pkt, __u8 *state)
{
	__u8 flags = pkt->tcp_flags;

	if (pkt->l4proto != IPPROTO_TCP) {
		*state = PICFW_TCP_NONE;
		return 1;
	}
	*state = tcp_state_next(PICFW_TCP_ESTABLISHED, flags, 1);
	return *state < PICFW_TCP_CLOSING && !((flags & TCP_FLAG_SYN) && (flags & TCP_FLAG_ACK));
}

/*
 * A packet of flow f, the Edge's or the remote's: follow its TCP state, and
 * refresh last_seen at most every few seconds (no write per packet), and at
 * least every half timeout: with `timeout udp 1` a flow whose packets kept
 * coming still expired a second after its last refresh. After an RST
 * nothing refreshes it but the Edge's own packets of a live connection
 * (tcp_state_next): it ends a transitory timeout later however often the
 * remote goes on sending (a stranger's ACKs to a flow picked up in attach's
 * window, answered by the Edge's RSTs, kept it open for good).
 */
static __always_inline void flow_follow(const struct picfw_gen_cfg *cfg, struct picfw_flow *f,
					const struct packet *pkt, int from_edge, __u64 now)
{
	__u8 was = f->tcp_state, state = was;
	__u64 refresh;

	if (pkt->l4proto == IPPROTO_TCP)
		state = tcp_state_next(state, pkt->tcp_flags, from_edge);
	if (state != was)
		f->tcp_state = state;
	if (state == PICFW_TCP_CLOSED && was == PICFW_TCP_CLOSED)
		return;
	refresh = flow_timeout(cfg, state) / 2;
	if (refresh > PICFW_FLOW_REFRESH_NS)
		refresh = PICFW_FLOW_REFRESH_NS;
	if (older_than(now, f->last_seen, refresh))
		f->last_seen = now;
}

/* The key's 32-bit words: 3 for an IPv4 flow, 9 for an IPv6 one. */
#define FLOW_KEY_WORDS4 (sizeof(struct picfw_flow4_key) / 4)
#define FLOW_KEY_WORDS6 (sizeof(struct picfw_flow6_key) / 4)

/* This CPU's hint slot for a flow key (struct picfw_reply_hint): a hash of its words. */
static __always_inline struct picfw_reply_hint *hint_of(const struct flow_key *k)
{
	const __u32 *w = (const __u32 *)&k->v4;
	__u32 h = w[0] ^ w[1] ^ w[2], i;

	if (k->table >= PICFW_FT_TCP6)
		for (i = FLOW_KEY_WORDS4; i < FLOW_KEY_WORDS6; i++)
			h ^= w[i];
	h ^= h >> 16;
	h ^= h >> 8;
	i = h & (PICFW_HINTS - 1);
	return bpf_map_lookup_elem(&picfw_reply_hints, &i);
}

/* Is hint h about the flow of key k (same table, every word of the key)? */
static __always_inline int hint_is_for(const struct picfw_reply_hint *h, const struct flow_key *k)
{
	const __u32 *a = (const __u32 *)&h->key, *b = (const __u32 *)&k->v4;
	__u32 i;

	if (h->table != k->table || a[0] != b[0] || a[1] != b[1] || a[2] != b[2])
		return 0;
	if (k->table < PICFW_FT_TCP6)
		return 1;
	for (i = FLOW_KEY_WORDS4; i < FLOW_KEY_WORDS6; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* A reply a hint may stand for: a datagram, or TCP without SYN, FIN or RST. */
static __always_inline int hint_may_carry(const struct packet *pkt)
{
	return pkt->l4proto == IPPROTO_UDP ||
	       !(pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST));
}

/*
 * After a reply a hint may carry went through the flow table: hint h (key
 * k's slot) now stands for its flow, when it may (an established TCP flow,
 * or UDP), until the sooner of PICFW_HINT_NS and half the flow's shortest
 * timeout from its last_seen (within its lifetime even if it began
 * closing); else, if h was about this flow, it is cleared.
 */
static __always_inline void hint_make(struct picfw_reply_hint *h, const struct flow_key *k,
				      const struct picfw_gen_cfg *cfg, const struct picfw_flow *f,
				      const struct packet *pkt, __u32 row, __u64 now)
{
	__u64 until, left;

	if (pkt->l4proto == IPPROTO_TCP && f->tcp_state != PICFW_TCP_ESTABLISHED) {
		if (hint_is_for(h, k))
			h->epoch = 0;
		return;
	}
	left = flow_timeout(cfg, f->tcp_state);
	if (pkt->l4proto == IPPROTO_TCP &&
	    cfg->timeout_ns[PICFW_TIMEOUT_TCP_TRANSITORY] < left)
		left = cfg->timeout_ns[PICFW_TIMEOUT_TCP_TRANSITORY];
	/* Half: a hint ends while the flow's next refresh can still come (see flow_follow). */
	until = f->last_seen + left / 2;
	if ((__s64)(until - (now + PICFW_HINT_NS)) > 0)
		until = now + PICFW_HINT_NS;
	/*
	 * The epoch last, and cleared first: where this program can be
	 * preempted on its CPU (PREEMPT_RT), a packet in between never takes
	 * half a hint for a whole one.
	 */
	h->epoch = 0;
	asm volatile("" ::: "memory");
	h->until = until;
	h->row = row;
	h->table = k->table;
	__builtin_memcpy(&h->key, &k->v4, sizeof(struct picfw_flow6_key));
	asm volatile("" ::: "memory");
	h->epoch = cfg->epoch;
}

/*
 * A new flow in its table, counted: in place of an expired one (the table's
 * count stays), or added, when a full table makes the LRU evict one.
 */
static __always_inline void flow_create(struct flow_key *k, const struct picfw_flow *nf,
					__u8 l4proto, int expired)
{
	__u64 how = expired ? BPF_EXIST : BPF_NOEXIST;
	__u64 *count;

#define UPDATE(map) bpf_map_update_elem(map, &k->v4, nf, how)
	if (FLOW_TABLE_CALL(k->table, UPDATE))
		return;
#undef UPDATE
	if (expired)
		count_event(k->table, PICFW_EV_FLOW_EXPIRED);
	count_event(k->table, PICFW_EV_FLOW_CREATED);
	if (nf->origin == PICFW_ORIGIN_PICKED_UP)
		count_event(k->table, PICFW_EV_FLOW_PICKED_UP);
	if (expired)
		return;
	count = bpf_map_lookup_elem(&picfw_flow_count, &k->table);
	if (count && __sync_fetch_and_add(count, 1) >= flows_max[transport_of(l4proto)]) {
		/* The LRU made room by evicting a flow: the count stays. */
		__sync_fetch_and_add(count, (__u64)-1);
		count_event(k->table, PICFW_EV_FLOW_EVICTIONS);
	}
}

/*
 * Ingress, while attach's pickup window is open (picfw_ctl's pickup_until):
 * TCP with ACK and without SYN, FIN or RST that no flow passes but an
 * outbound row allows opens its flow, picked up ESTABLISHED as the egress
 * program picks up the Edge's packets, and is counted on that row. A
 * session the Edge opened before attach goes on where no socket could seed
 * it (a router in front of the Edge) even if the Edge only receives. Such a
 * segment reaches only a connection the Edge's TCP already has (else it
 * answers RST); a datagram could reach any socket, so UDP is never picked
 * up here (the Edge's next datagram does it). key: the reply's flow, which
 * flow_reply() found in no table. Returns the slot, or NO_SLOT.
 */
static __always_inline __u32 flow_pickup(struct flow_key *key, const struct packet *pkt,
					 const struct picfw_gen_cfg *cfg, __u32 gen,
					 __u64 bytes, __u64 until)
{
	struct picfw_flow nf = {};
	__u64 now;
	int row;

	if (!until || pkt->l4proto != IPPROTO_TCP || !hint_may_carry(pkt))
		return NO_SLOT;
	now = flow_clock(cfg);
	if ((__s64)(until - now) <= 0)
		return NO_SLOT;
	row = outbound_row(gen, cfg, pkt, 0);
	if (row < 0)
		return NO_SLOT;
	nf.created = now;
	nf.last_seen = now;
	nf.binding = picfw_flow_binding(cfg->epoch, (__u32)row);
	nf.tcp_state = PICFW_TCP_ESTABLISHED;
	nf.origin = PICFW_ORIGIN_PICKED_UP;
	flow_create(key, &nf, pkt->l4proto, 0);
	return count_row(gen, (__u32)row, bytes);
}

/*
 * Ingress: a reply of a tracked flow that an outbound row allows now? Counts
 * it on that row. Returns the counter slot, or NO_SLOT when it is no such reply.
 * Inline, on the hot path of replies: a call would cost a return thunk here.
 * A busy flow's replies are answered by this CPU's hint (no hash lookup).
 * One with no flow may pick it up in attach's window (flow_pickup, same key).
 */
static __always_inline __u32 flow_reply(const struct packet *pkt,
					   const struct picfw_gen_cfg *cfg, __u32 gen,
					   __u64 bytes, __u64 pickup_until)
{
	struct flow_key key = {};
	struct picfw_reply_hint *h;
	struct picfw_flow *f;
	__u64 now;
	int row;

	flow_key_of(&key, pkt, 0);
	/* A SYN, FIN or RST goes to the table, and leaves hints alone (they end in time). */
	h = hint_may_carry(pkt) ? hint_of(&key) : NULL;
	if (h && h->epoch == cfg->epoch && hint_is_for(h, &key) &&
	    (__s64)(h->until - flow_clock(cfg)) > 0)
		return count_row(gen, h->row, bytes);
	f = flow_find(cfg, &key, &now);
	if (!f)
		return flow_pickup(&key, pkt, cfg, gen, bytes, pickup_until);
	row = flow_row(gen, cfg, f, pkt, 0);
	if (row < 0)
		return NO_SLOT;
	flow_follow(cfg, f, pkt, 0, now);
	if (h)
		hint_make(h, &key, cfg, f, pkt, (__u32)row, now);
	return count_row(gen, row, bytes);
}

/*
 * The fragment key of a packet: its datagram, as IP reassembly sees it. IPv6
 * keys leave the protocol out, as Linux's reassembly does: a later
 * fragment's header names the first header after the fragment header, which
 * is not the transport when an extension header follows it there.
 */
static __always_inline void frag_key_make(struct picfw_frag_key *k, const struct packet *pkt)
{
	k->family = pkt->family;
	k->proto = pkt->family == 4 ? pkt->l4proto : 0;
	k->id = pkt->frag_id;
	__builtin_memcpy(k->saddr, pkt->saddr, 16);
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
}

/*
 * A first fragment passed on slot: let its later fragments follow it. Global
 * (verified once, see match_classes), and called only for first fragments;
 * now is flow_clock()'s.
 */
__attribute__((noinline)) int frag_remember(const struct packet *pkt, __u32 slot,
					    __u64 now)
{
	struct picfw_frag_key k = {};
	struct picfw_frag v = { .slot = slot };

	if (!pkt || slot == NO_SLOT)
		return 0;
	frag_key_make(&k, pkt);
	v.first_seen = now;
	bpf_map_update_elem(&picfw_frags, &k, &v, BPF_ANY);
	return 0;
}

/* A later fragment of a datagram whose first fragment passed? Counts it on its slot. */
static __always_inline int frag_follows(const struct packet *pkt,
					const struct picfw_gen_cfg *cfg, __u64 bytes)
{
	struct picfw_frag_key k = {};
	struct picfw_frag *v;

	frag_key_make(&k, pkt);
	v = bpf_map_lookup_elem(&picfw_frags, &k);
	if (!v || older_than(flow_clock(cfg), v->first_seen, PICFW_FRAG_TIMEOUT_NS))
		return 0;
	count_slot(v->slot, bytes);
	return 1;
}

/* Multicast, broadcast (IPv4 limited or Ethernet) or link-local destination. */
static __always_inline int dst_local_scope(const struct packet *pkt)
{
	const __u8 *d = pkt->daddr;

	if (pkt->l2_group)
		return 1;
	if (pkt->family == 4)
		return (d[0] >= 224 && d[0] <= 239) || (d[0] == 169 && d[1] == 254) ||
		       (d[0] == 255 && d[1] == 255 && d[2] == 255 && d[3] == 255);
	return d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80);
}

/*
 * Parse the IP header and the first 4 bytes of TCP or UDP quoted by an ICMP
 * error, at c->pos (parse_l4() leaves the cursor there, after the ICMP
 * header; RFC 792 and 4443 quote at least that much). IPv6 extension headers
 * in the quote are not walked. The quote must lie inside the ICMP datagram
 * (ip_end), not in the frame's padding. q: the quoted header, a packet of
 * the Edge's (addresses, transport and ports only). 0 or -1.
 */
static __always_inline int parse_quoted(const struct cursor *c, const void *ip_end, __u8 family,
					struct packet *q)
{
	void *pos = c->pos;
	__be16 *ports;

	if (family == 4) {
		struct iphdr *iph = pos;

		if ((void *)(iph + 1) > c->end || (void *)(iph + 1) > ip_end || iph->version != 4 ||
		    iph->ihl < 5)
			return -1;
		if (bpf_ntohs(iph->frag_off) & IP_OFFSET)
			return -1;
		q->family = 4;
		q->l4proto = iph->protocol;
		__builtin_memcpy(q->saddr, &iph->saddr, 4);
		__builtin_memcpy(q->daddr, &iph->daddr, 4);
		pos += iph->ihl * 4;
	} else {
		struct ipv6hdr *ip6h = pos;

		if ((void *)(ip6h + 1) > c->end || (void *)(ip6h + 1) > ip_end || ip6h->version != 6)
			return -1;
		q->family = 6;
		q->l4proto = ip6h->nexthdr;
		__builtin_memcpy(q->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(q->daddr, &ip6h->daddr, 16);
		pos = ip6h + 1;
	}
	if (q->l4proto != IPPROTO_TCP && q->l4proto != IPPROTO_UDP)
		return -1;
	ports = pos;
	if ((void *)(ports + 2) > c->end || (void *)(ports + 2) > ip_end)
		return -1;
	q->sport = bpf_ntohs(ports[0]);
	q->dport = bpf_ntohs(ports[1]);
	return 0;
}

/* ICMP errors, which quote the packet they are about. */
static __always_inline int icmp_is_error(const struct packet *pkt)
{
	if (pkt->family == 4)
		return pkt->icmp_type == ICMP_DEST_UNREACH || pkt->icmp_type == ICMP_TIME_EXCEEDED;
	switch (pkt->icmp_type) {
	case ICMPV6_DEST_UNREACH:
	case ICMPV6_PKT_TOOBIG:
	case ICMPV6_TIME_EXCEED:
		return 1;
	case ICMPV6_PARAMPROB:
		return pkt->icmp_code == 1 || pkt->icmp_code == 2;
	}
	return 0;
}

/*
 * Is this ICMP error about a flow the policy lets through: a tracked flow
 * that an outbound row allows now, or the Edge's side of a flow an inbound
 * row allows (or, stateless, a flow an outbound row allows)? The quoted
 * packet went from the Edge to a remote.
 */
static __always_inline int icmp_related(__u32 gen, const struct picfw_gen_cfg *cfg,
					const struct cursor *c, const void *ip_end, const struct packet *pkt)
{
	struct packet q = {};

	if (parse_quoted(c, ip_end, pkt->family, &q))
		return 0;
	if (!is_protected(gen, cfg, q.family, q.saddr))
		return 0;
	if (cfg->replies == PICFW_REPLIES_TRACKED) {
		struct flow_key key = {};
		struct picfw_flow *f;
		__u64 now;

		flow_key_of(&key, &q, 1);
		f = flow_find(cfg, &key, &now);
		if (f && flow_row(gen, cfg, f, &q, 1) >= 0)
			return 1;
	}
	/* The Edge's side of an inbound row's flow; stateless, also an outbound row's. */
	return edge_packet_row(gen, cfg, &q, cfg->replies == PICFW_REPLIES_STATELESS) >= 0;
}

/* Neighbour and router discovery, RFC 4861 sections 6.1 and 7.1: only from on-link. */
static __always_inline int icmp_essential(const struct packet *pkt)
{
	if (pkt->family != 6 || pkt->l4proto != IPPROTO_ICMPV6)
		return 0;
	return pkt->icmp_type >= 133 && pkt->icmp_type <= 137 && pkt->hop_limit == 255 &&
	       !pkt->fragmented;
}

/* The XDP verdicts, each counted by reason or on its row's slot. */
static __always_inline int pass(__u32 reason, __u64 bytes)
{
	count_reason(reason, bytes);
	return XDP_PASS;
}

/*
 * A drop (or would-drop) into the drop log, if a reader holds the lease and
 * this CPU's budget for the second allows: see PICFW_DROPLOG_LEASE_NS. Global
 * (verified once, see match_classes), and called only while the log is on,
 * so the drop path without a reader pays one inline array lookup. cfg: the
 * judging generation's, for its epoch (so that the reader names rows from
 * that policy only) and the flows' clock.
 */
__attribute__((noinline)) int droplog_sample(struct xdp_md *ctx, const struct packet *pkt,
					     __u32 reason, __u32 audit,
					     const struct picfw_gen_cfg *cfg)
{
	struct picfw_drop_record *rec;
	struct picfw_droplog_ctl *lc;
	struct picfw_droplog_cpu *st;
	__u32 zero = 0, len;
	__u64 now, until;

	lc = bpf_map_lookup_elem(&picfw_droplog_ctl, &zero);
	st = bpf_map_lookup_elem(&picfw_droplog_cpu, &zero);
	if (!pkt || !cfg || !lc || !st)
		return 0;
	until = lc->lease_until;
	/*
	 * The flows' clock (a tick's resolution, one load: see flow_clock) is
	 * enough for a 3 s lease and 1 s windows, and cheap in a flood, where
	 * every drop past the budget comes here; the record itself gets the
	 * precise time. The lease is written on the same clock (flow_clock_ns).
	 */
	now = flow_clock(cfg);
	if ((__s64)(now - until) >= 0) {
		/* A reader gone without a word (SIGKILL): the log is off from now on. */
		__sync_val_compare_and_swap(&lc->lease_until, until, 0);
		return 0;
	}
	if (now - st->window_start >= 1000000000ULL) {
		st->window_start = now;
		st->window_samples = 0;
	}
	if (st->window_samples >= lc->rate) {
		st->lost_rate++;
		return 0;
	}
	st->window_samples++;
	rec = bpf_ringbuf_reserve(&picfw_droplog, sizeof(*rec), 0);
	if (!rec) {
		st->lost_full++;
		return 0;
	}
	len = bpf_xdp_get_buff_len(ctx); /* the whole frame, fragments of a multi-buffer one too */
	rec->time = bpf_ktime_get_ns();
	rec->epoch = cfg->epoch;
	rec->frame_len = len;
	rec->reason = reason;
	rec->audit = audit;
	rec->family = pkt->family;
	rec->l4proto = pkt->l4proto;
	rec->icmp_type = pkt->icmp_type;
	rec->icmp_code = pkt->icmp_code;
	rec->sport = pkt->sport;
	rec->dport = pkt->dport;
	rec->pad = 0;
	__builtin_memcpy(rec->saddr, pkt->saddr, sizeof(rec->saddr));
	__builtin_memcpy(rec->daddr, pkt->daddr, sizeof(rec->daddr));
	if (len > PICFW_DROPLOG_SNAPLEN)
		len = PICFW_DROPLOG_SNAPLEN;
	/*
	 * bpf_xdp_load_bytes wants a length of 1 to SNAPLEN, and the verifier
	 * must see it: 6.1's learns no lower bound from len != 0, so the
	 * length is rebuilt as (len - 1) % SNAPLEN + 1 (the same number).
	 */
	if (len && bpf_xdp_load_bytes(ctx, 0, rec->frame,
				      ((len - 1) & (PICFW_DROPLOG_SNAPLEN - 1)) + 1))
		len = 0;
	rec->captured = len;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* Is a drop log reader there (or was, until its lease runs out)? */
static __always_inline int droplog_on(void)
{
	__u32 zero = 0;
	struct picfw_droplog_ctl *lc = bpf_map_lookup_elem(&picfw_droplog_ctl, &zero);

	return lc && lc->lease_until;
}

/*
 * What the policy refuses: dropped, or in audit mode passed and counted as
 * would-drop; sampled into the drop log while a reader is there.
 */
static __always_inline int drop(struct xdp_md *ctx, const struct packet *pkt,
				const struct picfw_gen_cfg *cfg, __u32 reason, __u64 bytes)
{
	int audit = cfg->mode == PICFW_MODE_AUDIT;

	count_reason(audit ? PICFW_REASONS + reason : reason, bytes);
	if (__builtin_expect(droplog_on(), 0))
		droplog_sample(ctx, pkt, reason, audit, cfg);
	return audit ? XDP_PASS : XDP_DROP;
}

/* Passed, counted on a row's slot: a first fragment's later fragments may follow it. */
static __always_inline int pass_on_slot(const struct packet *pkt,
					const struct picfw_gen_cfg *cfg, __u32 slot)
{
	if (pkt->frag_more)
		frag_remember(pkt, slot, flow_clock(cfg));
	return XDP_PASS;
}

/*
 * A destination outside the protected set. A filter in front of the Edge
 * passes others' traffic. On the Edge's own host (`unprotected drop`) only
 * what no address of it answers alone passes: multicast, broadcast and
 * link-local destinations, neighbour and router discovery.
 */
static __always_inline int verdict_unprotected(struct xdp_md *ctx, const struct picfw_gen_cfg *cfg,
					       const struct packet *pkt, enum parsed parsed,
					       __u64 bytes)
{
	if (cfg->unprotected == PICFW_UNPROTECTED_PASS)
		return pass(PICFW_R_UNPROTECTED, bytes);
	if (dst_local_scope(pkt))
		return pass(PICFW_R_LOCAL_SCOPE, bytes);
	if (parsed == PKT_WHOLE && icmp_essential(pkt))
		return pass(PICFW_R_ICMP_ESSENTIAL, bytes);
	return drop(ctx, pkt, cfg, PICFW_R_UNPROTECTED, bytes);
}

/*
 * TCP or UDP to a protected address: the first inbound row that allows it
 * (with `replies stateless`, also an outbound row it may answer), else the
 * outbound row of the tracked flow it replies to, else, until pickup_until
 * (attach's pickup window), the outbound row that allows it as a reply.
 */
static __always_inline int verdict_transport(struct xdp_md *ctx, __u32 gen,
					     const struct picfw_gen_cfg *cfg,
					     const struct packet *pkt, __u64 bytes,
					     __u64 pickup_until, int compact)
{
	int stateless = cfg->replies == PICFW_REPLIES_STATELESS;
	/*
	 * A reply of TCP carries an ACK (the Edge sent the SYN), or is an RST:
	 * one that answers a segment with ACK has none (RFC 9293), as the
	 * remote's reset of an established connection does. Any datagram may be one.
	 */
	int reply_like = pkt->l4proto == IPPROTO_UDP ||
			 (pkt->tcp_flags & (TCP_FLAG_ACK | TCP_FLAG_RST));
	struct row_query q = { .gen = gen,
			       .family = pkt->family,
			       .transport = transport_of(pkt->l4proto),
			       .remote = pkt->saddr,
			       .local = pkt->daddr,
			       .inbound = 1,
			       .edge_port = pkt->dport,
			       .outbound = stateless && reply_like,
			       .remote_port = pkt->sport };
	__u32 slot = NO_SLOT;
	int row;

	/*
	 * Inbound rows first: they are cheap, and a tracked reply goes to an
	 * Edge port (ephemeral) that no inbound row names, while the Edge's
	 * answers to inbound flows open no flow (see the egress program). The
	 * row table gives the counter slot with the row: no picfw_slots lookup.
	 */
	row = compact ? match_rows_call(&q, cfg) : match_rows(&q, cfg, &slot);
	if (row >= 0) {
		if (slot == NO_SLOT)
			slot = count_row(gen, row, bytes);
		else
			count_slot(slot, bytes);
		return pass_on_slot(pkt, cfg, slot);
	}
	/*
	 * A tracked reply comes from a port some outbound row names (flows
	 * are made under those rows only): other packets skip the flow table's hash.
	 */
	if (!stateless && reply_like && outbound_port(gen, pkt, 0)) {
		slot = flow_reply(pkt, cfg, gen, bytes, pickup_until);
		if (slot != NO_SLOT)
			return pass_on_slot(pkt, cfg, slot);
	}
	return drop(ctx, pkt, cfg, PICFW_R_NO_MATCH, bytes);
}

/* ICMP or ICMPv6 to a protected address; c is at the ICMP error's quote. */
static __always_inline int verdict_icmp(struct xdp_md *ctx, __u32 gen,
					const struct picfw_gen_cfg *cfg,
					const struct cursor *c, const void *ip_end,
					const struct packet *pkt, __u64 bytes)
{
	if (icmp_essential(pkt))
		return pass(PICFW_R_ICMP_ESSENTIAL, bytes);
	if (!icmp_is_error(pkt))
		return drop(ctx, pkt, cfg, PICFW_R_NO_MATCH, bytes);
	if (icmp_related(gen, cfg, c, ip_end, pkt))
		return pass(PICFW_R_ICMP_RELATED, bytes);
	if (!cfg->icmp_strict)
		return pass(PICFW_R_ICMP_UNRELATED, bytes);
	return drop(ctx, pkt, cfg, PICFW_R_ICMP_UNRELATED, bytes);
}

/* ICMP in IPv4, ICMPv6 in IPv6: not the other way round. */
static __always_inline int is_icmp(const struct packet *pkt)
{
	return pkt->l4proto == (pkt->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

/*
 * The XDP verdict. compact: the row match through the global match_classes()
 * (picfw_xdp_compact), else inline (picfw_xdp).
 */
static __always_inline int xdp_verdict(struct xdp_md *ctx, int compact)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = { .pos = data, .end = data_end };
	struct packet pkt = {};
	__u64 bytes = data_end - data;
	struct picfw_gen_cfg *cfg;
	struct picfw_ctl *ctl;
	void *ip_end = data_end;
	__u32 zero = 0, gen;
	enum parsed parsed;

	ctl = bpf_map_lookup_elem(&picfw_ctl, &zero);
	if (!ctl)
		return XDP_ABORTED; /* an array's index 0 always exists */
	/*
	 * Read once: every lookup of this packet uses the same generation. The
	 * mask bounds the index into ctl->gen[] for the verifier.
	 */
	gen = ctl->active & 1;
	cfg = &ctl->gen[gen];

	parsed = parse_packet(&c, &pkt, &ip_end, ctx);
	if (parsed == PKT_NOT_IP)
		return pass(PICFW_R_NON_IP, bytes);
	if (parsed == PKT_MALFORMED)
		return drop(ctx, &pkt, cfg, PICFW_R_MALFORMED, bytes);
	if (!is_protected(gen, cfg, pkt.family, pkt.daddr))
		return verdict_unprotected(ctx, cfg, &pkt, parsed, bytes);
	if (parsed == PKT_LATER_FRAGMENT)
		return frag_follows(&pkt, cfg, bytes) ? XDP_PASS :
						   drop(ctx, &pkt, cfg, PICFW_R_FRAGMENT, bytes);
	if (parsed == PKT_MALFORMED_L4)
		return drop(ctx, &pkt, cfg, PICFW_R_MALFORMED, bytes);
	if (pkt.l4proto == IPPROTO_TCP || pkt.l4proto == IPPROTO_UDP)
		return verdict_transport(ctx, gen, cfg, &pkt, bytes, ctl->pickup_until, compact);
	if (is_icmp(&pkt))
		return verdict_icmp(ctx, gen, cfg, &c, ip_end, &pkt, bytes);
	return drop(ctx, &pkt, cfg, PICFW_R_NO_MATCH, bytes);
}

/* The XDP program: the row match inline, on the hot path. */
SEC("xdp")
int picfw_xdp(struct xdp_md *ctx)
{
	return xdp_verdict(ctx, 0);
}

/*
 * The same verdicts with the row match through a call (verified once): for
 * kernels whose verifier runs out of its million instructions on
 * picfw_xdp (6.1's: each path to the inline match walked the trie again).
 * Not loaded unless picfw_xdp is refused (SEC("?xdp")): a call more per
 * TCP and UDP packet whose port a row names.
 */
SEC("?xdp")
int picfw_xdp_compact(struct xdp_md *ctx)
{
	return xdp_verdict(ctx, 1);
}

/*
 * The egress program's only verdict: no opinion (TC_ACT_UNSPEC), so that
 * the next filter on the clsact qdisc runs (another tool's policer or
 * monitor with a higher pref), or the default, pass. TC_ACT_OK would end
 * the chain there and bypass them.
 */
#define TC_NEXT TC_ACT_UNSPEC

/* Egress: record the flows the Edge opens under an outbound row. */
SEC("tc")
int picfw_tc_egress(struct __sk_buff *skb)
{
	struct flow_key key = {};
	struct picfw_flow *f, nf = {};
	struct packet pkt = {};
	struct picfw_gen_cfg *cfg;
	struct picfw_ctl *ctl;
	struct cursor c;
	__u32 zero = 0, gen;
	__u64 linear;
	void *ip_end;
	__u64 now;
	__u8 state;
	int row;

	ctl = bpf_map_lookup_elem(&picfw_ctl, &zero);
	if (!ctl)
		return TC_NEXT;
	gen = ctl->active & 1; /* read once, bounded: see picfw_xdp */
	cfg = &ctl->gen[gen];
	if (cfg->replies != PICFW_REPLIES_TRACKED)
		return TC_NEXT;

	/*
	 * Headers in the linear area: a locally built packet may have them in
	 * frags. Only headers are read; the payload may stay paged (GSO, zerocopy).
	 */
	if (skb->data + 128 > skb->data_end && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < 128 ? skb->len : 128);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	/* On the pointers, in 64 bits: the verifier refuses 32-bit pointer arithmetic. */
	linear = c.end - c.pos;
	c.beyond = skb->len > linear ? skb->len - (__u32)linear : 0;
	ip_end = c.end;

	if (parse_packet(&c, &pkt, &ip_end, NULL) != PKT_WHOLE ||
	    (pkt.l4proto != IPPROTO_TCP && pkt.l4proto != IPPROTO_UDP))
		return TC_NEXT;
	if (!is_protected(gen, cfg, pkt.family, pkt.saddr))
		return TC_NEXT;

	/*
	 * To a port no outbound row names (the Edge's answers on the sessions
	 * inbound rows let in, mostly): no flow to follow, none to open, so no
	 * hash of the flow table. Only a flow whose row an apply removed is
	 * not refreshed then, and its replies are dropped anyway.
	 */
	if (!outbound_port(gen, &pkt, 1))
		return TC_NEXT;
	/*
	 * A datagram that answers an inbound row (the A/V Edge's STUN and TURN
	 * from 3478 to a client's 3478, every relayed packet): that row passes
	 * its replies, inbound rows being matched first, so no flow to open or
	 * refresh, and no hash of the flow table.
	 */
	if (pkt.l4proto == IPPROTO_UDP && edge_packet_row(gen, cfg, &pkt, 0) >= 0)
		return TC_NEXT;

	flow_key_of(&key, &pkt, 1);
	now = flow_clock(cfg);
	f = flow_lookup(&key);
	if (f && !flow_expired(cfg, f, now)) {
		flow_follow(cfg, f, &pkt, 1, now);
		return TC_NEXT;
	}

	/*
	 * A new flow, an expired or an evicted one, or one open before attach:
	 * only one the Edge opened (flow_opens), and not a pickup that answers
	 * an inbound row: data from 5061 to a partner's ephemeral port in
	 * 50,000-59,999, say (datagrams that do were sent on above). A SYN is
	 * the Edge's own opening.
	 */
	if (!flow_opens(&pkt, &state))
		return TC_NEXT;
	if (state == PICFW_TCP_ESTABLISHED && edge_packet_row(gen, cfg, &pkt, 0) >= 0)
		return TC_NEXT;
	row = outbound_row(gen, cfg, &pkt, 1);
	if (row < 0)
		return TC_NEXT;
	nf.created = now;
	nf.last_seen = now;
	nf.binding = picfw_flow_binding(cfg->epoch, row);
	nf.tcp_state = state;
	nf.origin = state == PICFW_TCP_ESTABLISHED ? PICFW_ORIGIN_PICKED_UP : PICFW_ORIGIN_OPENED;
	flow_create(&key, &nf, pkt.l4proto, f != NULL);
	return TC_NEXT;
}
