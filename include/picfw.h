/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * picfw.h - the one contract between the XDP program (bpf/) and userspace
 * (user/, tests/): keys and values of the maps, counter indexes and limits.
 *
 * No libc includes here: the BPF side compiles this with UAPI headers only.
 *
 * Generations: every policy map holds two generations side by side (0 and 1).
 * The program reads the active generation once per packet from picfw_ctl and
 * uses it for every lookup of that packet, so a packet is always judged by one
 * whole policy. Userspace writes the inactive generation, then flips
 * picfw_ctl.active in one map update.
 */
#ifndef PICFW_H
#define PICFW_H

#include <linux/types.h>

/* Limits (documented in README.md and picfw(8)). */
#define PICFW_MAX_ROWS 1024              /* rows per policy */
#define PICFW_ROW_WORDS (PICFW_MAX_ROWS / 64)
#define PICFW_MAX_PREFIXES 262144        /* trie entries per family, both generations */
/*
 * Distinct row bitmaps per generation. Classes come from port segments (at
 * most 4 * (2 * rows + 1)) and from remote prefixes (at most one per distinct
 * prefix, fewer as prefixes share their covering sets' rows): nested,
 * overlapping partner lists of 100,000 prefixes over 1,024 rows make ~29,000.
 * Port classes are numbered first (picfw_port_classes holds them in 16 bits).
 * Memory: 2 generations x 65,536 x 136 bytes = 17 MiB of picfw_bits.
 */
#define PICFW_MAX_CLASSES 65536
#define PICFW_GENERATIONS 2
#define PICFW_PORTS 65536
#define PICFW_NAME_LEN 96                /* row name, NUL included */
#define PICFW_PATH_LEN 256
#define PICFW_FLOW_REFRESH_NS (2ULL * 1000000000) /* last_seen written at most this often */

/*
 * Flow tables: one LRU hash per family and transport, so that a flood of one
 * kind (the A/V service's UDP peers) never evicts another (partners' SIP/TCP).
 * Sizes per transport (each family gets that many), policy statement
 * `flows tcp|udp N`, fixed when the maps are made (attach).
 */
#define PICFW_DEFAULT_FLOWS_TCP 65536
#define PICFW_DEFAULT_FLOWS_UDP 65536
#define PICFW_MIN_FLOWS 1024
#define PICFW_MAX_FLOWS_PER_TABLE (1u << 22)

/*
 * Later fragments of a datagram whose first fragment passed: remembered this
 * long (Linux's own reassembly timeout, net.ipv4.ipfrag_time, is 30 s).
 */
#define PICFW_MAX_FRAGS 16384
#define PICFW_FRAG_TIMEOUT_NS (30ULL * 1000000000)

/*
 * Remote addresses are classified by a 256-ary trie (one byte per level) in
 * an array map: node 0 of a generation is the IPv4 root, node 1 the IPv6
 * root. An entry is a class (bits 31 and 30 clear), a child node (bit 31
 * set) or a tail (bit 30 set): a slot whose subtree holds one prefix only
 * (a /32 or /128 host, or any long prefix alone there) points to one
 * struct picfw_trie_tail instead of a chain of nodes, so hosts cost a
 * 40-byte tail, not up to 15 nodes of 1 KiB. A policy whose trie needs more
 * nodes or tails than these per generation falls back, for that family, to
 * the kernel's LPM tries (slower, same answers).
 */
#define PICFW_TRIE_NODES 16384
#define PICFW_TRIE_TAILS 131072
#define PICFW_TRIE_CHILD 0x80000000u
#define PICFW_TRIE_TAIL 0x40000000u
/*
 * Both bits: a skip. Below this slot, nodes would lead one way only (hosts
 * next to each other, /120s under one /64): the tail's masked bytes must
 * match (else the class is `other`), and the walk goes on at node
 * class & (PICFW_TRIE_NODES - 1), at address byte class >> PICFW_TRIE_SKIP_SHIFT.
 */
#define PICFW_TRIE_SKIP_SHIFT 16

/*
 * picfw_trie_tail[gen * PICFW_TRIE_TAILS + tail]: the one prefix below a
 * slot. An address whose masked words equal addr gets class, any other the
 * class the slot had without this prefix (other). IPv4 uses word 0 only.
 */
struct picfw_trie_tail {
	__u32 addr[4]; /* network byte order, masked */
	__u32 mask[4];
	__u32 class;
	__u32 other;
};

/* A protected set of at most this many host addresses per family is checked inline. */
#define PICFW_PROT_INLINE 4

/* Parser bounds (bpf/parsing.h). */
#define PICFW_VLAN_MAX 2
#define PICFW_IPV6_EXT_MAX 8

/*
 * Pinned objects, beside each other in /sys/fs/bpf/picfw/IFACE/: the link,
 * and each map under its own name (bpf/maps.h).
 */
#define PICFW_PIN_ROOT "/sys/fs/bpf/picfw"
#define PICFW_PIN_LINK "link"

/* Transports that rows can name; also the index into picfw_ports. */
enum picfw_transport {
	PICFW_TCP = 0,
	PICFW_UDP = 1,
	PICFW_TRANSPORTS,
};

enum picfw_direction {
	PICFW_DIR_IN = 0,  /* Destination is the protected set */
	PICFW_DIR_OUT = 1, /* Source is the protected set; its replies come in */
};

enum picfw_mode {
	PICFW_MODE_ENFORCE = 0,
	PICFW_MODE_AUDIT = 1,
};

/* How replies of outbound rows are let back in. */
/* What happens to unicast IP to an address outside the protected set. */
enum picfw_unprotected {
	PICFW_UNPROTECTED_PASS = 0, /* a filter in front of the Edge: others' traffic (default) */
	PICFW_UNPROTECTED_DROP = 1, /* a host whose every address is the Edge's */
};

enum picfw_replies {
	PICFW_REPLIES_TRACKED = 0,   /* flows recorded by the TC egress program (default) */
	PICFW_REPLIES_STATELESS = 1, /* source port in the row's ports (TCP: with ACK) */
};

/* Flow timeouts, policy statement `timeout KIND DURATION`. */
enum picfw_timeout {
	PICFW_TIMEOUT_UDP = 0,        /* default 60 s */
	PICFW_TIMEOUT_TCP,            /* established, default 2 h */
	PICFW_TIMEOUT_TCP_TRANSITORY, /* half-open, after FIN or RST; default 30 s */
	/*
	 * Not a flow's: for how long after attach a reply that no flow passes
	 * but an outbound row allows picks up its flow (picfw_ctl's
	 * pickup_until); default 60 s, 0 none.
	 */
	PICFW_TIMEOUT_PICKUP,
	PICFW_TIMEOUTS,
};

#define PICFW_DEFAULT_TIMEOUT_UDP 60
#define PICFW_DEFAULT_TIMEOUT_TCP 7200
#define PICFW_DEFAULT_TIMEOUT_TCP_TRANSITORY 30
#define PICFW_DEFAULT_TIMEOUT_PICKUP 60
#define PICFW_MAX_TIMEOUT (7 * 24 * 3600)

/*
 * Why a packet got its verdict when no row took it. Index into
 * picfw_reason_stats; the would-drop counters of audit mode follow at
 * PICFW_REASONS + reason.
 */
enum picfw_reason {
	PICFW_R_NO_MATCH = 0,   /* drop: protected destination, no row allows it */
	PICFW_R_MALFORMED,      /* drop: headers cut short or inconsistent */
	PICFW_R_FRAGMENT,       /* drop: IPv4/IPv6 non-first fragment */
	PICFW_R_ICMP_ESSENTIAL, /* pass: ICMP that RFC 4890 says must not be dropped */
	PICFW_R_NON_IP,         /* pass: not IPv4/IPv6 (ARP, LLDP, ...) */
	PICFW_R_UNPROTECTED,    /* pass, or drop under `unprotected drop`: unicast to an
				 * address outside the protected set */
	PICFW_R_ICMP_RELATED,   /* pass: ICMP error about a tracked or allowed flow */
	PICFW_R_ICMP_UNRELATED, /* pass, or drop under `icmp strict`: an ICMP error about nothing */
	PICFW_R_LOCAL_SCOPE,    /* pass: multicast, broadcast or link-local destination outside
				 * the protected set (counted apart under `unprotected drop`) */
	PICFW_REASONS,
};

/* The flow tables, in the order of picfw_flow_count and picfw_events. */
enum picfw_flow_table {
	PICFW_FT_TCP4 = 0,
	PICFW_FT_UDP4,
	PICFW_FT_TCP6,
	PICFW_FT_UDP6,
	PICFW_FLOW_TABLES,
};

/* Flow table events, per CPU: picfw_events[table * PICFW_EVENTS + event]. */
enum picfw_event {
	PICFW_EV_FLOW_CREATED = 0, /* the egress program recorded a new flow */
	PICFW_EV_FLOW_EVICTIONS,   /* a new flow found the table full: LRU evicted one */
	PICFW_EV_FLOW_EXPIRED,     /* a flow past its timeout was removed on sight */
	PICFW_EV_FLOW_PICKED_UP,   /* created from a packet other than the Edge's SYN */
	PICFW_EV_FLOW_SEEDED,      /* an established socket attach found (userspace's) */
	PICFW_EVENTS,
};

#define PICFW_EVENT_SLOTS (PICFW_FLOW_TABLES * PICFW_EVENTS)

#define PICFW_REASON_SLOTS (2 * PICFW_REASONS)

/* picfw_ctl[0]: which generation the program reads, and each one's settings. */
struct picfw_gen_cfg {
	__u32 mode;        /* enum picfw_mode */
	__u32 nrows;       /* rows in this generation */
	__u32 replies;     /* enum picfw_replies */
	__u32 icmp_strict; /* drop ICMP errors that relate to no flow */
	__u64 timeout_ns[PICFW_TIMEOUTS];
	/*
	 * Non-zero, one more at every activation (set by maps_activate): a
	 * flow's remembered row is only trusted under the epoch it was matched in.
	 */
	__u32 epoch;
	__u32 unprotected; /* enum picfw_unprotected */
	/*
	 * The protected set, when it is a few host addresses (an Edge's Access
	 * addresses): compared inline, no trie walk. Otherwise prot_inline is 0
	 * and picfw_prot4/6 answer.
	 */
	__u32 prot_inline;
	__u32 nprot4, nprot6;
	/* Which families the array trie answers (else picfw_src4/6), and its size. */
	__u8 trie4, trie6;
	/*
	 * 1 when some row's local side (its Destination inbound, its Source
	 * outbound) is a set inside the protected set and not all of it: a
	 * row match then ANDs the local address's class too (see
	 * PICFW_PROT_FOUND). 0 when every row names the whole protected set.
	 */
	__u16 local;
	__u32 trie_nodes;
	/*
	 * The row table (see picfw_row_table): its stride, and the inbound
	 * port classes it holds, 1..row_table_classes; the bitmaps answer for
	 * the others, and for all when row_table_classes is 0 (no table).
	 */
	__u32 row_table;
	__u32 row_table_classes;
	__u8 prot4[PICFW_PROT_INLINE][4];
	__u8 prot6[PICFW_PROT_INLINE][16];
	/* The local class of each inline protected address (used when local is 1). */
	__u16 prot4_local[PICFW_PROT_INLINE];
	__u16 prot6_local[PICFW_PROT_INLINE];
	/*
	 * Flow times are jiffies times this (set by maps_activate from the
	 * coarse clock's resolution, the length of a tick): the verifier
	 * inlines bpf_jiffies64() into a load, where bpf_ktime_get_coarse_ns()
	 * is a helper call (about 20 ns here). Userspace reads the same clock
	 * (flow_clock_ns()).
	 */
	__u64 tick_ns;
};

struct picfw_ctl {
	__u32 active; /* 0 or 1 */
	__u32 pad;
	/*
	 * The flows' clock (flow_clock(), userspace's flow_clock_ns()) until
	 * which a reply that no flow passes but an outbound row allows picks
	 * up its flow: attach's time plus `timeout pickup`, written before the
	 * XDP link exists (0: none). A session the Edge opened before attach
	 * goes on even where attach has no sockets to seed from (a router in
	 * front of the Edge) and the Edge only receives. Kept across applies.
	 */
	__u64 pickup_until;
	struct picfw_gen_cfg gen[PICFW_GENERATIONS];
};

/*
 * LPM trie keys. The generation sits in front of the address, so one trie
 * holds both generations: prefixlen = 32 + the address prefix length.
 */
struct picfw_lpm4 {
	__u32 prefixlen;
	__u32 gen;
	__u8 addr[4];
};

struct picfw_lpm6 {
	__u32 prefixlen;
	__u32 gen;
	__u8 addr[16];
};

#define PICFW_LPM_GEN_BITS 32

/*
 * picfw_src4/6 value: the address class of a remote address, an index into
 * picfw_bits (0 = no row). picfw_prot4/6 value: the local class of a
 * protected address, the rows whose local side holds it (an index into
 * picfw_bits; 1 when the generation's `local` is 0, and then unused).
 *
 * The program's protected check answers PICFW_PROT_FOUND | local class for
 * a protected address, 0 for any other: a class is 16-bit.
 */
#define PICFW_PROT_FOUND 0x10000U

/*
 * picfw_ports[(gen * PICFW_TRANSPORTS + transport) * 65536 + port]:
 * dst_class - rows of that transport whose ports hold port as a destination
 *             port (inbound rows);
 * src_class - outbound rows whose ports hold port, for their replies (the
 *             reply's source port).
 */
struct picfw_port_classes {
	__u16 dst_class;
	__u16 src_class;
	/*
	 * 1 + the first row of dst_class (src_class) when that row's remote set
	 * is `any`: it takes every packet of the port, no address lookup needed.
	 * 0 otherwise. (Also pads the value to the 8-byte array stride that
	 * mmap sees.)
	 */
	__u16 dst_any;
	__u16 src_any;
};

/*
 * picfw_bits[gen * PICFW_MAX_CLASSES + class]: a set of rows as a bitmap in
 * file order (bit i of words[i / 64] = row i), with summary bit w set when
 * words[w] is not zero. A packet's candidate rows are the AND of its address
 * class and port class; the lowest set bit is the first matching row.
 */
struct picfw_bits {
	__u64 summary;
	__u64 words[PICFW_ROW_WORDS];
};

/*
 * The row table: the first inbound row of each (port class, address class)
 * pair, so that the hot path's row match is one read instead of ANDing
 * bitmaps. Inbound port classes are numbered first, 1..D (all of them below
 * any outbound one), those with the most rows first; with cfg.row_table = S
 * (the generation's class count), cell (d - 1) * S + a holds 1 + the first
 * row in both d's and a's bitmaps, 0 for none, and that row's counter slot
 * (picfw_slots' answer, written beside it: the hot path counts a match
 * without a second lookup). It holds the first T = cfg.row_table_classes
 * port classes, as many as fit PICFW_ROW_CELLS (all D when D * S fits):
 * where a policy has more, the ports most rows name keep the table. Used
 * when no row's local side is a part of the protected set (cfg.local 0);
 * queries that also ask outbound rows (`replies stateless`), and port
 * classes past T, AND the bitmaps. Cells per generation, and per array
 * element (64 bytes):
 */
#define PICFW_ROW_CELLS (1u << 20)
#define PICFW_ROW_CELLS_PER_ELEM 16

struct picfw_row_cell {
	__u16 row_plus1;
	__u16 slot; /* when row_plus1 is not 0 */
};

struct picfw_row_cells {
	struct picfw_row_cell c[PICFW_ROW_CELLS_PER_ELEM];
};

_Static_assert(PICFW_MAX_ROWS <= 0xffff, "a row and its slot fit a cell's 16 bits");

/*
 * Userspace writes picfw_ports, picfw_bits and picfw_row_table through mmap,
 * where the kernel lays array elements out at round_up(value_size, 8).
 */
_Static_assert(sizeof(struct picfw_port_classes) % 8 == 0, "mmap stride");
_Static_assert(sizeof(struct picfw_bits) % 8 == 0, "mmap stride");
_Static_assert(sizeof(struct picfw_row_cells) % 8 == 0, "mmap stride");

/* picfw_trie[gen * PICFW_TRIE_NODES + node]: one trie node (see PICFW_TRIE_NODES). */
struct picfw_trie_node {
	__u32 e[256];
};

_Static_assert(sizeof(struct picfw_trie_node) % 8 == 0, "mmap stride");
_Static_assert(sizeof(struct picfw_trie_tail) % 8 == 0, "mmap stride");

/* picfw_slots[gen * PICFW_MAX_ROWS + row]: counter slot of that row. */

/*
 * picfw_slot_rows[gen * PICFW_MAX_ROWS + slot]: 1 + the outbound row of that
 * generation counting in slot, 0 if none. A tracked flow remembers the slot
 * of the row that created it; a flow whose row is gone is not accepted.
 */
struct picfw_slot_row {
	__u32 row_plus1;
	__u32 pad;
};

_Static_assert(sizeof(struct picfw_slot_row) % 8 == 0, "mmap stride");

/*
 * picfw_flows_{tcp,udp}{4,6}: flows the Edge opened under an outbound row,
 * keyed as their replies arrive: remote (the reply's source) and local (the
 * Edge) address and port. Written by the TC egress program (and seeded by
 * attach from the kernel's sockets), read by the XDP program. The transport
 * and family are the table's.
 */
struct picfw_flow4_key {
	__u8 remote[4];
	__u8 local[4];
	__u16 remote_port;
	__u16 local_port;
};

struct picfw_flow6_key {
	__u8 remote[16];
	__u8 local[16];
	__u16 remote_port;
	__u16 local_port;
};

enum picfw_tcp_state {
	PICFW_TCP_NONE = 0,    /* UDP */
	PICFW_TCP_SYN_SENT,    /* the Edge's SYN, no answer yet: transitory timeout */
	PICFW_TCP_ESTABLISHED, /* answered: tcp timeout */
	PICFW_TCP_CLOSING,     /* FIN seen: transitory timeout */
	PICFW_TCP_CLOSED,      /* RST seen: transitory timeout, refreshed by nothing the
				* remote sends; the Edge's SYN or its segments of a live
				* connection open the flow again */
};

/* How a flow came to be in the table (shown by `picfw flows`). */
enum picfw_flow_origin {
	PICFW_ORIGIN_OPENED = 0, /* the Edge's SYN, or its first datagram */
	PICFW_ORIGIN_PICKED_UP,  /* a later packet of a connection the Edge opened */
	PICFW_ORIGIN_SEEDED,     /* an established socket, found by attach */
};

/*
 * binding = epoch << 32 | row: the outbound row of policy epoch `epoch`
 * that allows the flow (PICFW_FLOW_NO_ROW: none does). A reply under another
 * epoch matches the outbound rows again and rebinds, in one 64-bit store, so
 * a renamed row keeps its flows and a removed row's flows die even when a new
 * row takes its counter slot. Epoch 0 (seeded flows) never matches.
 */
#define PICFW_FLOW_NO_ROW 0xffffffffu

struct picfw_flow {
	__u64 created;   /* bpf_ktime_get_coarse_ns(), CLOCK_MONOTONIC_COARSE */
	__u64 last_seen; /* refreshed at most every PICFW_FLOW_REFRESH_NS */
	__u64 binding;
	__u8 tcp_state;  /* enum picfw_tcp_state */
	__u8 origin;     /* enum picfw_flow_origin */
	__u8 pad[6];
};

static inline __u64 picfw_flow_binding(__u32 epoch, __u32 row)
{
	return (__u64)epoch << 32 | row;
}

/*
 * picfw_reply_hints: per CPU, the last reply of a few tracked flows that
 * passed (slot = a hash of the flow's key), so that the next replies of a
 * busy flow skip the flow table's hash lookup. A hint is trusted only for
 * the same key (its table and every word of the key), the same policy epoch,
 * a datagram or a TCP segment without SYN, FIN or RST on an established
 * flow, and before `until`: at most PICFW_HINT_NS after it was made, and
 * never past half the flow's shortest timeout from its last_seen, so never
 * past the flow's own expiry even if it began closing, and the table's
 * copy is refreshed in time while replies come. A reply a hint may carry
 * that goes through the table (no hint, an expired one) makes the hint of
 * its slot, or clears it for a TCP flow no longer established; a SYN, FIN
 * or RST goes to the table and leaves hints alone. A flow the LRU evicts
 * under a flood may so pass replies for up to PICFW_HINT_NS more on a CPU
 * that holds its hint.
 */
#define PICFW_HINTS 64 /* per CPU, a power of two */
#define PICFW_HINT_NS (1ULL * 1000000000)

struct picfw_reply_hint {
	__u64 until; /* flow clock: trusted before this */
	__u32 epoch; /* the policy epoch of row; 0: empty (epochs start at 1) */
	__u32 row;
	__u32 table; /* enum picfw_flow_table */
	__u32 pad;
	union {
		struct picfw_flow4_key v4;
		struct picfw_flow6_key v6;
	} key;
};

/*
 * picfw_frags: the first fragment of a datagram passed; its later fragments
 * pass on the same counter slot for PICFW_FRAG_TIMEOUT_NS. IPv4's 16-bit
 * identification or IPv6's 32-bit one; proto is 0 for IPv6 (see frag_key_make).
 */
struct picfw_frag_key {
	__u8 family;
	__u8 proto;
	__u16 pad;
	__u32 id;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct picfw_frag {
	__u64 first_seen;
	__u32 slot;
	__u32 pad;
};

/* picfw_row_stats[slot], per CPU. */
struct picfw_counter {
	__u64 packets;
	__u64 bytes;
};

/* picfw_reason_stats[reason] and [PICFW_REASONS + reason] (would-drop), per CPU. */

/*
 * Userspace-only bookkeeping, pinned beside the program's maps so that every
 * later picfw process finds it without a daemon. The program never reads these.
 *
 * picfw_row_meta[gen * PICFW_MAX_ROWS + row]: what row `row` of generation
 * gen is; written with the generation, before it is activated, so labels and
 * rows never disagree. Its counters are in picfw_slots' slot.
 */
struct picfw_row_meta {
	char name[PICFW_NAME_LEN];
	__u8 in_use;
	__u8 direction; /* enum picfw_direction */
	__u8 transport; /* enum picfw_transport */
	__u8 pad;
	__u16 port_lo;
	__u16 port_hi;
};

/* picfw_meta[gen]: the policy a generation holds, written before it is activated. */
struct picfw_meta {
	char policy_path[PICFW_PATH_LEN];
	__u64 attach_time;  /* seconds since the epoch */
	__u64 apply_time;   /* seconds since the epoch */
	__u64 generation;   /* policies applied since attach, 1 = the first */
	__u32 xdp_mode;     /* 0 native, 1 generic */
	__u32 nrows;
	__u32 tc_attached;  /* the egress program runs (flow tracking possible) */
	__u32 tc_created_qdisc; /* attach made the clsact qdisc: detach removes it */
	__u8 digest[32];
	__u32 layout;       /* PICFW_LAYOUT of the picfw that wrote it (0: not written yet) */
	__u32 pad;
};

/*
 * What the pinned maps mean beyond their sizes: the drop-log record (a ring
 * buffer has no value size), the flows' clock, a field's units. One more
 * whenever that changes and no map's size does: commands then refuse a
 * filter another version attached, as they do one whose map sizes differ
 * (maps_layout_check). 1: flow times on jiffies times the tick.
 */
#define PICFW_LAYOUT 1

/*
 * picfw_applies[0]: what `picfw apply` did since attach, for the exporter
 * (picfw_policy_applies_total). Written by apply under the interface's lock;
 * the programs never read it.
 */
struct picfw_applies {
	__u64 ok;             /* applies that switched to a new policy */
	__u64 refused;        /* applies that left the previous policy enforcing */
	__u64 last_ok;        /* seconds since the epoch, 0 if none */
	__u64 last_refused;   /* seconds since the epoch, 0 if none */
};

/*
 * The drop log (`picfw log IFACE`): the XDP program samples what it drops
 * (and what audit mode would drop) into the ring buffer picfw_droplog, one
 * struct picfw_drop_record each, but only while a reader holds the lease in
 * picfw_droplog_ctl. The reader refreshes the lease every second and clears
 * it when it stops; a reader killed with SIGKILL clears nothing, so the
 * program treats a lease past its time as none (and clears it). A per-CPU
 * budget of `rate` samples a second caps a flood; what it or a full ring
 * refuses is counted in picfw_droplog_cpu.
 */
#define PICFW_DROPLOG_SNAPLEN 128                  /* bytes of the frame in a record */
#define PICFW_DROPLOG_RING (512 * 1024)            /* ring buffer bytes */
#define PICFW_DROPLOG_DEFAULT_RATE 1000            /* samples per second per CPU */
#define PICFW_DROPLOG_LEASE_NS (3ULL * 1000000000) /* a reader's lease; refreshed every 1 s */

/* picfw_droplog_ctl[0], written by the reader. */
struct picfw_droplog_ctl {
	__u64 lease_until; /* the flows' clock (jiffies x tick_ns, userspace's
			    * flow_clock_ns()) the log runs until; 0: off */
	__u32 rate;        /* samples per second per CPU */
	__u32 pid;         /* the reader's, for the next reader's message */
};

/* picfw_droplog_cpu[0], per CPU: the rate limit's window and what was lost. */
struct picfw_droplog_cpu {
	__u64 window_start; /* bpf_ktime_get_coarse_ns() of the current 1 s window */
	__u64 window_samples;
	__u64 lost_rate;    /* refused by the rate limit */
	__u64 lost_full;    /* the ring buffer was full */
};

/*
 * One sampled drop in picfw_droplog. Every field at its natural alignment,
 * no implicit padding (checked below): the reader takes it as written.
 */
struct picfw_drop_record {
	__u64 time;      /* bpf_ktime_get_ns() */
	/*
	 * picfw_gen_cfg.epoch of the generation that judged the packet: which
	 * policy refused it (`picfw log` names the nearest row from that
	 * policy's copy only).
	 */
	__u32 epoch;
	__u32 frame_len; /* bytes of the frame (the linear part in XDP) */
	__u16 captured;  /* bytes in frame[] */
	__u8 reason;     /* enum picfw_reason */
	__u8 audit;      /* 1: passed, a would-drop of audit mode */
	__u8 family;     /* 4 or 6; 0 when the frame was not read that far */
	__u8 l4proto;    /* IPPROTO_* (0 if not read) */
	__u8 icmp_type, icmp_code;
	__u16 sport, dport; /* host order; 0 for other transports */
	__u32 pad;
	__u8 saddr[16];  /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u8 frame[PICFW_DROPLOG_SNAPLEN];
};

_Static_assert(__builtin_offsetof(struct picfw_drop_record, epoch) == 8, "record layout");
_Static_assert(__builtin_offsetof(struct picfw_drop_record, saddr) == 32, "record layout");
_Static_assert(__builtin_offsetof(struct picfw_drop_record, frame) == 64, "record layout");
_Static_assert(sizeof(struct picfw_drop_record) == 64 + PICFW_DROPLOG_SNAPLEN, "record layout");
_Static_assert((PICFW_DROPLOG_SNAPLEN & (PICFW_DROPLOG_SNAPLEN - 1)) == 0, "the snap length is a power of 2 (see droplog_sample)");

#endif /* PICFW_H */
