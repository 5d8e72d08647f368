// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_flows.c - picfw flows IFACE [--json]: the flows the Edge opened, as tracked. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "maps.h"
#include "policy.h"
#include "stats.h"

struct flows_ctx {
	const struct picfw_maps *m;
	struct picfw_ctl ctl;
	struct picfw_row_meta rows[PICFW_MAX_ROWS];
	uint64_t now;
	int json;
	unsigned n;
};

static const char *const state_names[] = {
	[PICFW_TCP_NONE] = "-",
	[PICFW_TCP_SYN_SENT] = "syn-sent",
	[PICFW_TCP_ESTABLISHED] = "established",
	[PICFW_TCP_CLOSING] = "closing",
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	/* The programs stamp flows with bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void addr_text(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static const char *const origin_names[] = {
	[PICFW_ORIGIN_OPENED] = "opened",
	[PICFW_ORIGIN_PICKED_UP] = "picked-up",
	[PICFW_ORIGIN_SEEDED] = "seeded",
};

/*
 * The row a flow's replies count on: remembered under the active policy's
 * epoch, or matched again by the program at the flow's next reply.
 */
static const char *flow_row_name(const struct flows_ctx *c, const struct picfw_flow *f)
{
	const struct picfw_gen_cfg *cfg = &c->ctl.gen[c->ctl.active & 1];
	uint32_t epoch = (uint32_t)(f->binding >> 32), row = (uint32_t)f->binding;

	if (epoch != cfg->epoch)
		return "(next reply)";
	if (row == PICFW_FLOW_NO_ROW || row >= cfg->nrows || row >= PICFW_MAX_ROWS)
		return "(no row)";
	return c->rows[row].name;
}

static int one_flow(const struct flow_entry *k, void *arg)
{
	struct flows_ctx *c = arg;
	const struct picfw_flow *f = &k->flow;
	const struct picfw_gen_cfg *cfg = &c->ctl.gen[c->ctl.active & 1];
	char remote[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN], r[80], l[80], lefts[16];
	const char *row, *state = f->tcp_state <= PICFW_TCP_CLOSING ? state_names[f->tcp_state] : "?";
	const char *origin = f->origin <= PICFW_ORIGIN_SEEDED ? origin_names[f->origin] : "?";
	double age, idle, timeout, left;
	unsigned t;

	addr_text(k->family, k->remote, remote, sizeof(remote));
	addr_text(k->family, k->local, local, sizeof(local));
	row = flow_row_name(c, f);
	t = f->tcp_state == PICFW_TCP_NONE	   ? PICFW_TIMEOUT_UDP :
	    f->tcp_state == PICFW_TCP_ESTABLISHED ? PICFW_TIMEOUT_TCP :
						    PICFW_TIMEOUT_TCP_TRANSITORY;
	(void)c->m;
	age = c->now > f->created ? (double)(c->now - f->created) / 1e9 : 0;
	idle = c->now > f->last_seen ? (double)(c->now - f->last_seen) / 1e9 : 0;
	timeout = (double)cfg->timeout_ns[t] / 1e9;
	left = timeout - idle;
	if (c->json) {
		fprintf(stdout, "%s{\"transport\":\"%s\",\"family\":%u,\"remote\":\"%s\","
				"\"remote_port\":%u,\"local\":\"%s\",\"local_port\":%u,\"row\":",
			c->n ? "," : "", k->proto == IPPROTO_TCP ? "tcp" : "udp", k->family, remote,
			k->remote_port, local, k->local_port);
		json_string(stdout, row);
		fprintf(stdout, ",\"state\":\"%s\",\"origin\":\"%s\",\"age_s\":%.1f,"
				"\"idle_s\":%.1f,\"expires_s\":%.1f}",
			f->tcp_state == PICFW_TCP_NONE ? "none" : state, origin, age, idle,
			left > 0 ? left : 0);
	} else {
		snprintf(r, sizeof(r), k->family == 6 ? "[%s]:%u" : "%s:%u", remote, k->remote_port);
		snprintf(l, sizeof(l), k->family == 6 ? "[%s]:%u" : "%s:%u", local, k->local_port);
		if (left > 0)
			snprintf(lefts, sizeof(lefts), "%.0f", left);
		else
			snprintf(lefts, sizeof(lefts), "expired");
		printf("%-5s %-42s %-42s %-30s %-12s %-9s %8.0f %8.0f %8s\n",
		       k->proto == IPPROTO_TCP ? "tcp" : "udp", r, l, row, state, origin, age, idle,
		       lefts);
	}
	c->n++;
	return 0;
}

int cmd_flows(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	static struct flows_ctx c;
	struct picfw_maps m;
	int opt, ret;

	memset(&c, 0, sizeof(c));
	while ((opt = getopt_long(argc, argv, "jhv", opts, NULL)) != -1) {
		if (opt == 'j') {
			c.json = 1;
			continue;
		}
		ret = cmd_getopt_common(opt, "flows");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage("flows", 1);
	ret = cmd_ifname("flows", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("flows"))
		return EXIT_FAIL;
	ret = maps_open_pinned(argv[optind], &m);
	if (ret == -ENOENT)
		return cmd_fail("flows", "picfw is not attached to %s", argv[optind]);
	if (ret)
		return cmd_fail("flows", "reading the pins of %s: %s", argv[optind], strerror(-ret));
	c.m = &m;
	ret = maps_read_ctl(&m, &c.ctl);
	if (!ret)
		ret = maps_read_row_meta(&m, c.ctl.active & 1, c.ctl.gen[c.ctl.active & 1].nrows %
							(PICFW_MAX_ROWS + 1), c.rows);
	if (ret) {
		maps_close(&m);
		return cmd_fail("flows", "reading the maps of %s: %s", argv[optind], strerror(-ret));
	}
	c.now = monotonic_ns();
	if (c.json) {
		printf("{\"interface\":");
		json_string(stdout, argv[optind]);
		printf(",\"replies\":\"%s\",\"flows\":[",
		       policy_replies_name(c.ctl.gen[c.ctl.active & 1].replies));
	} else {
		printf("%-5s %-42s %-42s %-30s %-12s %-9s %8s %8s %8s\n", "PROTO", "REMOTE", "LOCAL",
		       "ROW", "STATE", "ORIGIN", "AGE(s)", "IDLE(s)", "LEFT(s)");
	}
	ret = maps_for_each_flow(&m, one_flow, &c);
	if (c.json)
		printf("]}\n");
	else if (!c.n)
		printf("(no flows)\n");
	maps_close(&m);
	if (ret)
		return cmd_fail("flows", "reading the flow table of %s: %s", argv[optind],
				strerror(-ret));
	return EXIT_OK;
}
