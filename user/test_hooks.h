/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_hooks.h - faults and pauses the tests inject through the environment.
 *
 * Only objects built with -DPICFW_TEST_HOOKS read them: the datapath tests
 * and build/picfw-test link those (see the Makefile); in build/picfw, the
 * binary that is installed, every hook is a constant that does nothing.
 */
#ifndef PICFW_TEST_HOOKS_H
#define PICFW_TEST_HOOKS_H

#ifdef PICFW_TEST_HOOKS
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* PICFW_TEST_FAIL_WRITE set: a generation's writer fails half way, as a full map would. */
static inline int test_hook_fail_write(void)
{
	return getenv("PICFW_TEST_FAIL_WRITE") ? -EIO : 0;
}

/* PICFW_TEST_APPLY_PAUSE_MS=N: apply sleeps N ms between its steps, so a kill lands in each. */
static inline void test_hook_apply_pause(void)
{
	const char *v = getenv("PICFW_TEST_APPLY_PAUSE_MS");

	if (v && *v)
		usleep((useconds_t)strtoul(v, NULL, 10) * 1000);
}

/*
 * PICFW_TEST_XDP_E2BIG set: loading picfw_xdp fails with E2BIG, as on a
 * kernel whose verifier runs out of instructions (6.1), before the kernel
 * sees it: attach then takes its fallback to picfw_xdp_compact.
 */
static inline int test_hook_xdp_e2big(void)
{
	return getenv("PICFW_TEST_XDP_E2BIG") ? -E2BIG : 0;
}

/* PICFW_TEST_OTHER_BUILD set: attach marks its program as another build's. */
static inline unsigned long long test_hook_other_build(void)
{
	return getenv("PICFW_TEST_OTHER_BUILD") ? 1 : 0;
}
#else
static inline unsigned long long test_hook_other_build(void)
{
	return 0;
}

static inline int test_hook_xdp_e2big(void)
{
	return 0;
}

static inline int test_hook_fail_write(void)
{
	return 0;
}

static inline void test_hook_apply_pause(void)
{
}
#endif

#endif /* PICFW_TEST_HOOKS_H */
