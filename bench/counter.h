/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * counter.h - the per-CPU counter every benchmark program bumps once per
 * frame (packets, bytes), as picfw bumps one: part of what "the floor"
 * costs. Each program's object has its own.
 */
#ifndef PICFW_BENCH_COUNTER_H
#define PICFW_BENCH_COUNTER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bench_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_counter);
} bench_count SEC(".maps");

/* Count one frame of len bytes; returns this CPU's counter. */
static __always_inline struct bench_counter *bench_count_frame(__u64 len)
{
	struct bench_counter *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_count, &zero);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return c;
}

#endif /* PICFW_BENCH_COUNTER_H */
