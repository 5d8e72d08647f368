// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xdp_drop.bpf.c - the end-to-end benchmark's reference receiver: count the
 * frame in a per-CPU counter (so the script can check how many arrived) and
 * drop it. A filter's receive cost per packet is read as the difference
 * from this program's round.
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
} bench_drop_count SEC(".maps");

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	struct bench_counter *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_drop_count, &zero);
	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return XDP_DROP;
}
