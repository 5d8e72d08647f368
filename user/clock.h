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
 * bpf_ktime_get_coarse_ns(), which is CLOCK_MONOTONIC_COARSE. 0, with errno
 * set, if it cannot be read.
 */
uint64_t flow_clock_ns(void);

#endif /* PICFW_CLOCK_H */
