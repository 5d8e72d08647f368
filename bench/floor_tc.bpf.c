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

#include "counter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int bench_floor_tc(struct __sk_buff *skb)
{
	bench_count_frame(skb->len);
	return TC_ACT_OK;
}
