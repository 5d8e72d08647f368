// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * seed.c - flows from the kernel's own sockets (see seed.h).
 *
 * inet_diag, as `ss` uses it: one SOCK_DIAG_BY_FAMILY dump per family and
 * protocol, asking only for sockets in state ESTABLISHED, which for UDP is
 * a connected socket (remote address and port set). A dump of AF_INET6
 * also lists the IPv4-mapped sockets of dual-stack applications; their
 * flows go to the IPv4 tables, where their packets' replies look.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "clock.h"
#include "log.h"
#include "netlink.h"
#include "seed.h"

/* TCP_ESTABLISHED (1) as a bit of idiag_states; a connected UDP socket is in it too. */
#define DIAG_STATE_ESTABLISHED (1u << 1)

/* The connection of one diag message; 0 if it is of no family we know. */
static int conn_from_diag(const struct inet_diag_msg *d, uint8_t transport, struct policy_conn *c)
{
	uint8_t local_family, remote_family;
	size_t len;

	memset(c, 0, sizeof(*c));
	if (d->idiag_family == AF_INET)
		len = 4;
	else if (d->idiag_family == AF_INET6)
		len = 16;
	else
		return 0;
	memcpy(c->local, d->id.idiag_src, len);
	memcpy(c->remote, d->id.idiag_dst, len);
	local_family = remote_family = len == 4 ? 4 : 6;
	addr_unmap_v4(&local_family, c->local);
	addr_unmap_v4(&remote_family, c->remote);
	if (local_family != remote_family)
		return 0;
	c->family = local_family;
	c->transport = transport;
	c->local_port = ntohs(d->id.idiag_sport);
	c->remote_port = ntohs(d->id.idiag_dport);
	return 1;
}

struct diag_ctx {
	uint8_t transport;
	int (*fn)(const struct policy_conn *c, void *ctx);
	void *ctx;
	int stopped; /* fn said stop */
};

static int diag_one(const struct nlmsghdr *nlh, void *arg)
{
	struct diag_ctx *dc = arg;
	struct policy_conn c;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
		return 0;
	if (!conn_from_diag(NLMSG_DATA(nlh), dc->transport, &c))
		return 0;
	dc->stopped = dc->fn(&c, dc->ctx) != 0;
	return dc->stopped;
}

int sockdiag_for_each(int (*fn)(const struct policy_conn *c, void *ctx), void *ctx)
{
	static const struct {
		uint8_t family, proto;
	} dumps[] = {
		{ AF_INET, IPPROTO_TCP },
		{ AF_INET6, IPPROTO_TCP },
		{ AF_INET, IPPROTO_UDP },
		{ AF_INET6, IPPROTO_UDP },
	};
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} req;
	struct diag_ctx dc = { .fn = fn, .ctx = ctx };
	int err = 0;
	size_t i;

	for (i = 0; !err && !dc.stopped && i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.nlh.nlmsg_len = sizeof(req);
		req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.req.sdiag_family = dumps[i].family;
		req.req.sdiag_protocol = dumps[i].proto;
		req.req.idiag_states = DIAG_STATE_ESTABLISHED;
		dc.transport = dumps[i].proto == IPPROTO_UDP ? PICFW_UDP : PICFW_TCP;
		err = nl_dump(NETLINK_SOCK_DIAG, &req.nlh, diag_one, &dc);
	}
	return err;
}

struct seed_ctx {
	const struct picfw_maps *m;
	const struct policy *p;
	struct seed_result *res;
	uint64_t now;
};

static int seed_one(const struct policy_conn *c, void *arg)
{
	struct seed_ctx *s = arg;
	struct flow_entry e;
	int ret;

	if (!policy_conn_needs_flow(s->p, c))
		return 0;
	memset(&e, 0, sizeof(e));
	e.family = c->family;
	e.proto = c->transport == PICFW_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	e.table = flow_table_of(e.family, e.proto);
	e.remote_port = c->remote_port;
	e.local_port = c->local_port;
	memcpy(e.remote, c->remote, sizeof(e.remote));
	memcpy(e.local, c->local, sizeof(e.local));
	e.flow.created = e.flow.last_seen = s->now;
	/* Epoch 0 is never current: the data path matches the row at the first reply. */
	e.flow.binding = picfw_flow_binding(0, PICFW_FLOW_NO_ROW);
	e.flow.tcp_state = c->transport == PICFW_UDP ? PICFW_TCP_NONE : PICFW_TCP_ESTABLISHED;
	e.flow.origin = PICFW_ORIGIN_SEEDED;
	ret = maps_add_flow(s->m, &e);
	if (!ret)
		maps_add_event(s->m, e.table, PICFW_EV_FLOW_SEEDED, 1);
	if (!ret && c->transport == PICFW_UDP)
		s->res->udp++;
	else if (!ret)
		s->res->tcp++;
	else if (ret == -EEXIST)
		s->res->present++;
	else if (!s->res->failed++)
		s->res->failed_err = ret;
	return 0;
}

int seed_flows(const struct picfw_maps *m, const struct policy *p, struct seed_result *res)
{
	struct seed_ctx s = { .m = m, .p = p, .res = res };

	memset(res, 0, sizeof(*res));
	res->step = "the flows' clock";
	s.now = flow_clock_ns();
	if (!s.now)
		return -errno;
	/* ENOENT: no inet_diag module for this family or transport (loaded on demand). */
	res->step = "the established sockets (sock_diag)";
	return sockdiag_for_each(seed_one, &s);
}

void seed_flows_report(const char *verb, const struct picfw_maps *m, const struct policy *p)
{
	struct seed_result res;
	int err;

	err = seed_flows(m, p, &res);
	if (err)
		pr_warn("picfw %s: warning: reading %s failed: %s; a session open before now "
			"comes back with the Edge's next packet\n",
			verb, res.step, strerror(-err));
	if (res.failed)
		pr_warn("picfw %s: warning: adding the flows of %u established sessions failed: %s\n",
			verb, res.failed, strerror(-res.failed_err));
	if (res.tcp + res.udp)
		pr_info("picfw %s: kept %u established sessions (tcp %u, udp %u)\n", verb,
			res.tcp + res.udp, res.tcp, res.udp);
	else
		pr_debug("picfw %s: no established sessions of outbound rows to keep\n", verb);
}
