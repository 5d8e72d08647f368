// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* clock.c - the two clocks userspace reads (see clock.h). */
#include <time.h>

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

uint64_t flow_clock_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
