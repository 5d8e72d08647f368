// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* clock.c - the clocks userspace reads (see clock.h). */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "clock.h"

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double monotonic_ms(void)
{
	return (double)monotonic_ns() / 1e6;
}

uint64_t flow_tick_ns(void)
{
	static uint64_t tick;
	struct timespec ts;

	if (tick)
		return tick;
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts))
		return 0;
	tick = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (!tick)
		errno = EINVAL;
	return tick;
}

/*
 * A program that writes bpf_jiffies64() into its context (8 bytes), as a
 * BPF_PROG_TYPE_SYSCALL program, which BPF_PROG_TEST_RUN runs with a context
 * it copies back.
 */
static int jiffies_prog(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int fd = -1;
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_jiffies64 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* Syscall programs are sleepable ones. */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = BPF_F_SLEEPABLE);
	int ret;

	pthread_mutex_lock(&lock);
	if (fd < 0)
		fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "picfw_jiffies", "GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), &opts);
	ret = fd < 0 ? -errno : fd;
	pthread_mutex_unlock(&lock);
	return ret;
}

uint64_t flow_clock_ns(void)
{
	uint64_t jiffies = 0, tick = flow_tick_ns();
	int fd = jiffies_prog();
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &jiffies, .ctx_size_in = sizeof(jiffies));

	if (!tick)
		return 0;
	if (fd < 0) {
		errno = -fd;
		return 0;
	}
	if (bpf_prog_test_run_opts(fd, &opts))
		return 0;
	if (!jiffies) {
		errno = EIO;
		return 0;
	}
	return jiffies * tick;
}
