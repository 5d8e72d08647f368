/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* diff.h - what an apply would change, for `picfw apply --dry-run`. Pure C. */
#ifndef PICFW_DIFF_H
#define PICFW_DIFF_H

#include <stdio.h>

#include "policy.h"

struct policy_diff_counts {
	unsigned added, removed, changed, kept;
	unsigned prefixes_added, prefixes_removed;
	unsigned settings; /* setting lines whose value differs (mode, unprotected, ...) */
};

/*
 * Print the settings that change (mode, unprotected, replies, icmp,
 * timeouts, flows, protect: "KEY: OLD -> NEW"), rows added, removed, changed
 * (same name, other fields or notes) and kept, then prefixes added and
 * removed per named set. Returns the counts.
 */
struct policy_diff_counts policy_diff(FILE *f, const struct policy *old, const struct policy *new);

#endif /* PICFW_DIFF_H */
