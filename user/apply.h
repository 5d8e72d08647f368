/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * apply.h - live policy updates: write the inactive generation, switch in
 * one map update, wait out the old one, clear it. No reload, no detach.
 */
#ifndef PICFW_APPLY_H
#define PICFW_APPLY_H

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
 * Apply img (compiled from p, read from policy_path) under the interface's
 * lock (picfw_lock, bpffs.h). 0, or a negative errno (-ENOENT: picfw is not
 * attached to ifname) after one line "picfw apply: why" through the logging
 * funnel; a failure before the switch leaves the previous policy enforcing.
 */
int picfw_apply(const char *ifname, const char *policy_path, const struct policy *p,
		const struct policy_image *img, struct apply_result *res);

/*
 * Count an apply refused before picfw_apply() (the policy did not load or
 * compile) in ifname's picfw_applies, if picfw is attached there; picfw_apply()
 * counts its own outcomes. Best effort: 0 or a negative errno, silently.
 */
int apply_count_refused(const char *ifname);

#endif /* PICFW_APPLY_H */
