// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floor_tc.bpf.c - the floor of the egress (TC) program's numbers: the same
 * per-CPU counter bump as bench/floor.bpf.c, and TC_ACT_OK. An object of its
 * own: `bpftool prog load` of floor.bpf.o (the end-to-end part's XDP_PASS
 * receiver) loads every program of an object as XDP.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct bench_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_counter);
} bench_floor_tc_count SEC(".maps");

SEC("tc")
int bench_floor_tc(struct __sk_buff *skb)
{
	struct bench_counter *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_floor_tc_count, &zero);
	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return TC_ACT_OK;
}
