/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_file.h - opening a policy file that is safe to enforce, and loading
 * it: what check, attach and apply share. No libbpf.
 */
#ifndef PICFW_POLICY_FILE_H
#define PICFW_POLICY_FILE_H

#include <stddef.h>

struct policy;
struct policy_image;
struct policy_includes;

/*
 * Open a policy file once and check what was opened, like sshd's StrictModes
 * (safe_path): the path is resolved once (realpath), the result opened with
 * O_NOFOLLOW|O_NONBLOCK, and that fd must be a regular file owned by root or
 * the caller and writable by neither group nor others; every directory on the
 * resolved path must be owned by root or the caller and not writable by group
 * or others, unless sticky (/tmp). FIFOs and devices are refused at once.
 * Returns the fd (read the policy from it), with the resolved path in
 * *resolved (to free) if resolved is not NULL; or -1 with the reason in why.
 */
int policy_file_open(const char *path, char **resolved, char *why, size_t len);

/*
 * What check, attach and apply do with POLICY: open it as above, parse it
 * from that fd and compile it, printing every error ("picfw VERB: ..." or
 * FILE:LINE:COL: error: ...) and warning. Returns 0 (then free p and img, and
 * *resolved if asked for), 1 (refused or bad), or 2 (no file name given).
 */
int load_policy(const char *verb, const char *path, char **resolved, struct policy *p,
		struct policy_image *img);

/*
 * load_policy(), and the files the policy's include statements named (struct
 * policy_sources, named) in *inc, whatever the outcome: as far as the parser
 * got when the policy is refused, nothing when POLICY itself could not be
 * opened. Free *inc with policy_includes_free().
 */
int load_policy_includes(const char *verb, const char *path, char **resolved, struct policy *p,
			 struct policy_image *img, struct policy_includes *inc);

#endif /* PICFW_POLICY_FILE_H */
