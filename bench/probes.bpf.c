// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * probes.bpf.c - what single operations cost on this machine, measured in
 * the same run as picfw so that its time can be attributed: each program is
 * the floor (one per-CPU counter bump, XDP_PASS) plus one operation that
 * picfw's data path does on some packets. `make bench` reports each one's
 * cost above the floor.
 *
 *  probe_ktime         bpf_ktime_get_ns() (picfw reads it before every flow lookup)
 *  probe_ktime_coarse  bpf_ktime_get_coarse_ns(), the tick-resolution clock
 *  probe_jiffies       bpf_jiffies64() times the tick, as picfw stamps flows (the
 *                      verifier inlines it: a load, no call)
 *  probe_flow40_hit    an LRU hash lookup with picfw's 40-byte flow key that hits
 *  probe_flow40_miss   the same lookup that misses (the flow table is empty)
 *  probe_flow16_hit    the same with a 16-byte IPv4-only key, hit
 *  probe_flow16_miss   the 16-byte key, miss
 *  probe_trie4         four chained lookups in an array of 1 KiB nodes, as the
 *                      256-ary trie walks an IPv4 address (all inlined)
 *
 * The keys are built from the frame's IPv4 addresses and ports, as picfw
 * builds its own; a "hit" program inserts its key on its first run, so every
 * later repetition finds it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "picfw.h"
#include "counter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The flow key picfw used before its tables were split per family: 40 bytes. */
struct probe_key40 {
	__u8 family;
	__u8 proto;
	__u16 remote_port;
	__u16 local_port;
	__u16 pad;
	__u8 remote[16];
	__u8 local[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_UDP);
	__type(key, struct probe_key40);
	__type(value, struct picfw_flow);
} probe_flows40 SEC(".maps");

struct probe_key16 {
	__u32 remote;
	__u32 local;
	__u16 remote_port;
	__u16 local_port;
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_UDP);
	__type(key, struct probe_key16);
	__type(value, struct picfw_flow);
} probe_flows16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct picfw_trie_node);
} probe_trie SEC(".maps");

/* The floor's work: one per-CPU counter bump. Returns the counter or NULL. */
static __always_inline struct bench_counter *count(struct xdp_md *ctx)
{
	return bench_count_frame(ctx->data_end - ctx->data);
}

/* The IPv4 and TCP headers of an untagged frame, or NULL. */
static __always_inline struct iphdr *ipv4_tcp(struct xdp_md *ctx, struct tcphdr **tcp)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return NULL;
	*tcp = th;
	return ip;
}

SEC("xdp")
int probe_ktime(struct xdp_md *ctx)
{
	struct bench_counter *c = count(ctx);

	if (c)
		c->bytes += bpf_ktime_get_ns() & 1;
	return XDP_PASS;
}

SEC("xdp")
int probe_ktime_coarse(struct xdp_md *ctx)
{
	struct bench_counter *c = count(ctx);

	if (c)
		c->bytes += bpf_ktime_get_coarse_ns() & 1;
	return XDP_PASS;
}

SEC("xdp")
int probe_jiffies(struct xdp_md *ctx)
{
	struct bench_counter *c = count(ctx);

	if (c)
		c->bytes += (bpf_jiffies64() * 4000000ULL) & 1;
	return XDP_PASS;
}

static __always_inline int flow40(struct xdp_md *ctx, int insert)
{
	struct probe_key40 key = {};
	struct picfw_flow *f, nf = {};
	struct tcphdr *th;
	struct iphdr *ip;

	count(ctx);
	ip = ipv4_tcp(ctx, &th);
	if (!ip)
		return XDP_ABORTED;
	key.family = 4;
	key.proto = ip->protocol;
	key.remote_port = th->source;
	key.local_port = th->dest;
	__builtin_memcpy(key.remote, &ip->saddr, 4);
	__builtin_memcpy(key.local, &ip->daddr, 4);
	f = bpf_map_lookup_elem(&probe_flows40, &key);
	if (!f && insert)
		bpf_map_update_elem(&probe_flows40, &key, &nf, BPF_NOEXIST);
	return XDP_PASS;
}

SEC("xdp")
int probe_flow40_hit(struct xdp_md *ctx)
{
	return flow40(ctx, 1);
}

SEC("xdp")
int probe_flow40_miss(struct xdp_md *ctx)
{
	return flow40(ctx, 0);
}

static __always_inline int flow16(struct xdp_md *ctx, int insert)
{
	struct probe_key16 key = {};
	struct picfw_flow *f, nf = {};
	struct tcphdr *th;
	struct iphdr *ip;

	count(ctx);
	ip = ipv4_tcp(ctx, &th);
	if (!ip)
		return XDP_ABORTED;
	key.proto = ip->protocol;
	key.remote_port = th->source;
	key.local_port = th->dest;
	key.remote = ip->saddr;
	key.local = ip->daddr;
	f = bpf_map_lookup_elem(&probe_flows16, &key);
	if (!f && insert)
		bpf_map_update_elem(&probe_flows16, &key, &nf, BPF_NOEXIST);
	return XDP_PASS;
}

SEC("xdp")
int probe_flow16_hit(struct xdp_md *ctx)
{
	return flow16(ctx, 1);
}

SEC("xdp")
int probe_flow16_miss(struct xdp_md *ctx)
{
	return flow16(ctx, 0);
}

SEC("xdp")
int probe_trie4(struct xdp_md *ctx)
{
	struct picfw_trie_node *node;
	struct bench_counter *c = count(ctx);
	struct tcphdr *th;
	struct iphdr *ip;
	__u32 key = 0, v = 0, i;
	__u8 a[4];

	ip = ipv4_tcp(ctx, &th);
	if (!ip)
		return XDP_ABORTED;
	__builtin_memcpy(a, &ip->saddr, 4);
	/* The nodes are zero: every entry sends the walk to the next node. */
	for (i = 0; i < 4; i++) {
		node = bpf_map_lookup_elem(&probe_trie, &key);
		if (!node)
			return XDP_ABORTED;
		v = node->e[a[i]];
		key = (i + 1 + v) & 3;
	}
	if (c)
		c->bytes += v & 1;
	return XDP_PASS;
}
