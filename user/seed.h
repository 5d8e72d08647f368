/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * seed.h - flows from the kernel's own sockets. At attach, the established
 * TCP and connected UDP sockets of this network namespace (read through
 * NETLINK_SOCK_DIAG, as `ss` reads them) that the Edge opened under an
 * outbound row become flows, so attaching never cuts a live session.
 *
 * On a filter in front of the Edge there are no local sockets: there a
 * session open before attach comes back with the Edge's next packet (the
 * egress program's pickup).
 */
#ifndef PICFW_SEED_H
#define PICFW_SEED_H

#include "maps.h"
#include "policy.h"
#include "policy_match.h"

/*
 * Call fn for every established TCP socket and connected UDP socket of the
 * calling thread's network namespace, IPv4-mapped addresses made IPv4. Stops
 * early when fn returns non-zero. 0, or a negative errno.
 */
int sockdiag_for_each(int (*fn)(const struct policy_conn *c, void *ctx), void *ctx);

struct seed_result {
	unsigned int tcp, udp; /* flows added */
	unsigned int present;  /* already in the table (the egress program was first) */
	unsigned int failed;   /* could not be added */
	int failed_err;        /* the first of those failures, a negative errno */
	const char *step;      /* when seed_flows() fails: what could not be read */
};

/*
 * Add a flow (state established, origin seeded, epoch 0: the data path
 * matches the row at the first reply) for every socket of this namespace
 * that policy_conn_needs_flow() takes. 0, or a negative errno when the
 * sockets could not be read (res then counts what was added before).
 */
int seed_flows(const struct picfw_maps *m, const struct policy *p, struct seed_result *res);

/*
 * seed_flows() as attach reports it, through the logging funnel: one info
 * line "picfw VERB: kept N established sessions (tcp M, udp K)" when N > 0,
 * a warning when the sockets cannot be read. Never fails.
 */
void seed_flows_report(const char *verb, const struct picfw_maps *m, const struct policy *p);

#endif /* PICFW_SEED_H */
