// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * tc.c - filters on the clsact qdisc, counted with an RTM_GETTFILTER dump
 * per direction (see tc.h). bpf_tc_query() cannot say this: it answers for
 * one handle and priority, and the filters to look for are other tools'.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "netlink.h"
#include "tc.h"

static int count_filter(const struct nlmsghdr *nlh, void *ctx)
{
	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		++*(int *)ctx;
	return 0;
}

int tc_clsact_filter_count(int ifindex)
{
	static const uint32_t parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	struct {
		struct nlmsghdr nlh;
		struct tcmsg tcm;
	} req;
	int count = 0, err;
	size_t i;

	for (i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.nlh.nlmsg_len = sizeof(req);
		req.nlh.nlmsg_type = RTM_GETTFILTER;
		req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.tcm.tcm_family = AF_UNSPEC;
		req.tcm.tcm_ifindex = ifindex;
		req.tcm.tcm_parent = parents[i];
		/* No clsact qdisc: the kernel answers with an empty dump. */
		err = nl_dump(NETLINK_ROUTE, &req.nlh, count_filter, &count);
		if (err)
			return err;
	}
	return count;
}
