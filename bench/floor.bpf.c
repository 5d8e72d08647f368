// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * floor.bpf.c - the benchmark's floor: the least an XDP program that counts
 * can do. It bumps one per-CPU counter (packets, bytes), as picfw does once
 * per packet, and passes. What BPF_PROG_TEST_RUN reports for it is the cost
 * of the test loop itself plus one inlined array lookup: picfw's and the
 * peers' numbers are read as "above the floor".
 */
#include <linux/bpf.h>
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
} bench_floor_count SEC(".maps");

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	struct bench_counter *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_floor_count, &zero);
	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return XDP_PASS;
}
