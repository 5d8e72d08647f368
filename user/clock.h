/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * clock.h - the two clocks userspace reads: CLOCK_MONOTONIC (steps, the
 * drop log, systemd), and the one the programs stamp flows with.
 */
#ifndef PICFW_CLOCK_H
#define PICFW_CLOCK_H

#include <stdint.h>

/* Nanoseconds on CLOCK_MONOTONIC (bpf_ktime_get_ns()'s clock). */
uint64_t monotonic_ns(void);

/* Milliseconds on CLOCK_MONOTONIC: how long a step took. */
double monotonic_ms(void);

/*
 * Nanoseconds on the clock of the flow tables: the programs stamp flows with
 * bpf_jiffies64() times flow_tick_ns() (the tick count since boot, in ns,
 * which no clock_gettime() clock gives): read through a five-instruction
 * BPF program run once per call (BPF_PROG_TEST_RUN), loaded once per
 * process. Needs CAP_BPF. 0, with errno set, if it cannot be read.
 */
uint64_t flow_clock_ns(void);

/*
 * The length of a kernel tick in ns (CLOCK_MONOTONIC_COARSE's resolution):
 * what a jiffy counts in flow times. 0, with errno set, if not known.
 */
uint64_t flow_tick_ns(void);

#endif /* PICFW_CLOCK_H */
