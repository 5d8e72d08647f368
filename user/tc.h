/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * tc.h - what else is on an interface's clsact qdisc, asked over rtnetlink.
 * detach removes the qdisc that attach made only when no other tool's
 * filter stands on it, in either direction.
 */
#ifndef PICFW_TC_H
#define PICFW_TC_H

/*
 * The filters on ifindex's clsact qdisc, ingress and egress together (a
 * filter with several handles may count more than once: only zero means
 * none). 0 when there is no clsact qdisc; a negative errno on failure.
 */
int tc_clsact_filter_count(int ifindex);

#endif /* PICFW_TC_H */
