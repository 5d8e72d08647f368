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

#include "counter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	bench_count_frame(ctx->data_end - ctx->data);
	return XDP_PASS;
}
