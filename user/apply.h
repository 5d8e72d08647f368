/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * apply.h - live policy updates: write the inactive generation, switch in
 * one map update, wait out the old one, clear it. No reload, no detach.
 */
#ifndef PICFW_APPLY_H
#define PICFW_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "policy.h"
#include "policy_copy.h"

struct apply_result {
	uint64_t generation;
	uint32_t kept, added, removed;
	double write_ms;  /* writing the inactive generation */
	double switch_ms; /* the switch and the grace period */
	double clear_ms;  /* clearing the old generation */
};

/*
 * Take the interface's apply lock (flock on its pin directory): concurrent
 * applies and detaches on one interface are serialised; the kernel drops
 * the lock when the process dies. Returns an fd to close, or a negative errno.
 */
int picfw_lock(const char *ifname);

/*
 * Apply img (compiled from p, read from policy_path). 0, or -1 with err set,
 * or -2 (err set) when picfw is not attached to ifname.
 */
int picfw_apply(const char *ifname, const char *policy_path, const struct policy *p,
		const struct policy_image *img, struct apply_result *res, char *err,
		size_t errlen);

#endif /* PICFW_APPLY_H */
