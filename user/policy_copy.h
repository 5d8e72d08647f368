/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_copy.h - the normalised copy of the policy each generation holds,
 * written before the generation is activated, so the copy of the active one
 * is always right, also after a killed apply: /run/picfw/IFACE.genN.policy.
 * No libbpf.
 */
#ifndef PICFW_POLICY_COPY_H
#define PICFW_POLICY_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define PICFW_RUN_DIR "/run/picfw" /* a normalised copy of each applied policy */

/*
 * dir must be a directory (not a symlink) owned by us (root) with mode 0700:
 * it is made so if missing, else refused. 0, or a negative errno with why.
 */
int run_dir_ensure(const char *dir, int create, char *why, size_t len);

/* PICFW_RUN_DIR/IFACE.genN.policy; -EINVAL for a name ifname_check() refuses. */
int policy_copy_path(const char *ifname, uint32_t gen, char *buf, size_t len);

/*
 * Write p's copy for ifname's generation gen into dir: a new temp file
 * (mkstemp: O_EXCL, nothing followed) renamed over IFACE.genN.policy. 0, or a
 * negative errno with why.
 */
int policy_copy_save_in(const char *dir, const char *ifname, uint32_t gen, const struct policy *p,
			char *why, size_t len);

/* The same in PICFW_RUN_DIR; the reason of a failure goes through pr_warn. */
int policy_copy_save(const char *ifname, uint32_t gen, const struct policy *p);
void policy_copy_remove(const char *ifname);

/*
 * Parse and compile the copy at path (with the checks a policy file gets, in
 * a PICFW_RUN_DIR of ours): 0 with *p and the digest of its image, which a
 * caller compares with picfw_meta's to know it is the policy enforced (a
 * copy left from an earlier apply, when writing a newer one failed, is
 * not); or -1 with why.
 */
int policy_copy_load(const char *path, struct policy *p, uint64_t *digest, char *why,
		     size_t len);
/* The copies of key ("IFACE" or "IFACE:NETNS", ifname_key()): a pin directory's name. */
void policy_copy_remove_key(const char *key);

#endif /* PICFW_POLICY_COPY_H */
