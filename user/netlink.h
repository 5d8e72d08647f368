/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* netlink.h - one netlink dump, bounded: what sock_diag and rtnetlink queries share. */
#ifndef PICFW_NETLINK_H
#define PICFW_NETLINK_H

#include <linux/netlink.h>

/*
 * Send req (a whole request with NLM_F_DUMP; its nlmsg_seq is set here) on
 * a fresh socket of netlink protocol proto, and call fn for every message
 * of the answer until NLMSG_DONE. fn returning non-zero stops the dump
 * early (then 0 is returned). 0, or a negative errno: the kernel's error,
 * or -ETIMEDOUT when the answer stalls (NL_DUMP_TIMEOUT_S).
 */
#define NL_DUMP_TIMEOUT_S 2
int nl_dump(int proto, struct nlmsghdr *req, int (*fn)(const struct nlmsghdr *nlh, void *ctx),
	    void *ctx);

#endif /* PICFW_NETLINK_H */
