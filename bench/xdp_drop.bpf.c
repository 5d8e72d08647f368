// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xdp_drop.bpf.c - the end-to-end benchmark's reference receiver: count the
 * frame in a per-CPU counter (so the script can check how many arrived) and
 * drop it. A filter's receive cost per packet is read as the difference
 * from this program's round.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "counter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	bench_count_frame(ctx->data_end - ctx->data);
	return XDP_DROP;
}
