// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* stats.c - kernel counters and flows to a table, JSON or Prometheus text (see stats.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "policy.h"
#include "stats.h"

const char *const reason_names[PICFW_REASONS] = {
	[PICFW_R_NO_MATCH] = "no_match",
	[PICFW_R_MALFORMED] = "malformed",
	[PICFW_R_FRAGMENT] = "fragment",
	[PICFW_R_ICMP_ESSENTIAL] = "icmp_essential",
	[PICFW_R_NON_IP] = "non_ip",
	[PICFW_R_UNPROTECTED] = "unprotected",
	[PICFW_R_ICMP_RELATED] = "icmp_related",
	[PICFW_R_ICMP_UNRELATED] = "icmp_unrelated",
	[PICFW_R_LOCAL_SCOPE] = "local_scope",
};

const char *const event_names[PICFW_EVENTS] = {
	[PICFW_EV_FLOW_CREATED] = "created",
	[PICFW_EV_FLOW_EVICTIONS] = "evictions",
	[PICFW_EV_FLOW_EXPIRED] = "expired",
	[PICFW_EV_FLOW_PICKED_UP] = "picked_up",
	[PICFW_EV_FLOW_SEEDED] = "seeded",
};

const char *const flow_table_names[PICFW_FLOW_TABLES] = {
	[PICFW_FT_TCP4] = "tcp4",
	[PICFW_FT_UDP4] = "udp4",
	[PICFW_FT_TCP6] = "tcp6",
	[PICFW_FT_UDP6] = "udp6",
};

/* An event summed over the flow tables. */
static uint64_t event_total(const struct stats_snapshot *s, unsigned ev)
{
	uint64_t n = 0;
	unsigned t;

	for (t = 0; t < PICFW_FLOW_TABLES; t++)
		n += s->events[t * PICFW_EVENTS + ev];
	return n;
}

static uint64_t flows_total(const struct stats_snapshot *s)
{
	uint64_t n = 0;
	unsigned t;

	for (t = 0; t < PICFW_FLOW_TABLES; t++)
		n += s->flows[t];
	return n;
}

/* Reasons that can drop (and so be would-drop in audit mode). */
static int reason_drops(unsigned r)
{
	return r == PICFW_R_NO_MATCH || r == PICFW_R_MALFORMED || r == PICFW_R_FRAGMENT ||
	       r == PICFW_R_ICMP_UNRELATED || r == PICFW_R_UNPROTECTED;
}

/* What the active policy does with packets of reason r. */
static const char *reason_verdict(const struct stats_snapshot *s, unsigned r)
{
	if (r == PICFW_R_ICMP_UNRELATED)
		return s->ctl.gen[s->ctl.active & 1].icmp_strict ? "drop" : "pass";
	if (r == PICFW_R_UNPROTECTED)
		return s->ctl.gen[s->ctl.active & 1].unprotected == PICFW_UNPROTECTED_DROP ? "drop" :
											    "pass";
	return reason_drops(r) ? "drop" : "pass";
}

static const struct picfw_gen_cfg *active_cfg(const struct stats_snapshot *s)
{
	return &s->ctl.gen[s->ctl.active & 1];
}

int stats_read(const char *ifname, const struct picfw_maps *m, struct stats_snapshot *s)
{
	static struct picfw_row_meta meta[PICFW_MAX_ROWS];
	static struct picfw_counter counters[PICFW_MAX_ROWS];
	uint32_t slots[PICFW_MAX_ROWS], gen, i;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	err = maps_read_ctl(m, &s->ctl);
	if (err)
		return err;
	gen = s->ctl.active & 1;
	s->nrows = s->ctl.gen[gen].nrows;
	if (s->nrows > PICFW_MAX_ROWS)
		return -EINVAL;
	err = maps_read_meta(m, gen, &s->meta);
	if (!err)
		err = maps_read_slots(m, gen, s->nrows, slots);
	if (!err)
		err = maps_read_row_meta(m, gen, s->nrows, meta);
	if (!err)
		err = maps_read_counters(m, counters, s->reasons);
	if (!err)
		err = maps_read_events(m, s->events, s->flows, s->flow_sizes);
	if (!err)
		err = maps_read_applies(m, &s->applies);
	if (!err)
		err = droplog_read_state(m, &s->droplog);
	if (err)
		return err;
	/* The active generation's rows, in file order, with their slots' counters. */
	for (i = 0; i < s->nrows; i++) {
		if (slots[i] >= PICFW_MAX_ROWS)
			return -EINVAL;
		s->rows[i] = meta[i];
		s->row_counters[i] = counters[slots[i]];
	}
	return 0;
}

unsigned stats_mode(const struct stats_snapshot *s)
{
	return s->ctl.gen[s->ctl.active & 1].mode;
}

void stats_print_table(FILE *f, const struct stats_snapshot *s)
{
	unsigned i, audit = stats_mode(s) == PICFW_MODE_AUDIT;
	int w = 4;
	char ports[16];

	for (i = 0; i < s->nrows; i++)
		if ((int)strlen(s->rows[i].name) > w)
			w = (int)strlen(s->rows[i].name);

	fprintf(f, "interface %s  mode %s  replies %s  unprotected %s  generation %llu  rows %u\n",
		s->ifname, policy_mode_name(stats_mode(s)), policy_replies_name(active_cfg(s)->replies),
		policy_unprotected_name(active_cfg(s)->unprotected),
		(unsigned long long)s->meta.generation, s->nrows);
	fprintf(f, "\n%-*s  %-3s  %-9s  %-11s  %14s  %16s\n", w, "ROW", "DIR", "TRANSPORT",
		"PORTS", "PACKETS", "BYTES");
	for (i = 0; i < s->nrows; i++) {
		const struct picfw_row_meta *r = &s->rows[i];

		ports_format(r->port_lo, r->port_hi, ports, sizeof(ports));
		fprintf(f, "%-*s  %-3s  %-9s  %-11s  %14llu  %16llu\n", w, r->name,
			policy_direction_name(r->direction), policy_transport_name(r->transport),
			ports, (unsigned long long)s->row_counters[i].packets,
			(unsigned long long)s->row_counters[i].bytes);
	}
	fprintf(f, "\n%-14s  %-7s  %14s  %16s\n", "REASON", "VERDICT", "PACKETS", "BYTES");
	for (i = 0; i < PICFW_REASONS; i++)
		fprintf(f, "%-14s  %-7s  %14llu  %16llu\n", reason_names[i],
			reason_verdict(s, i), (unsigned long long)s->reasons[i].packets,
			(unsigned long long)s->reasons[i].bytes);
	for (i = 0; i < PICFW_REASONS; i++) {
		const struct picfw_counter *c = &s->reasons[PICFW_REASONS + i];

		if (!reason_drops(i) || (!audit && !c->packets))
			continue;
		fprintf(f, "%-14s  %-7s  %14llu  %16llu\n", reason_names[i], "audit",
			(unsigned long long)c->packets, (unsigned long long)c->bytes);
	}
	fprintf(f, "\n%-10s  %10s  %10s  %12s  %12s  %12s  %12s  %12s\n", "FLOW TABLE", "FLOWS",
		"SIZE", "CREATED", "PICKED UP", "SEEDED", "EVICTIONS", "EXPIRED");
	for (i = 0; i < PICFW_FLOW_TABLES; i++) {
		const uint64_t *ev = &s->events[i * PICFW_EVENTS];

		fprintf(f, "%-10s  %10llu  %10u  %12llu  %12llu  %12llu  %12llu  %12llu\n",
			flow_table_names[i], (unsigned long long)s->flows[i], s->flow_sizes[i],
			(unsigned long long)ev[PICFW_EV_FLOW_CREATED],
			(unsigned long long)ev[PICFW_EV_FLOW_PICKED_UP],
			(unsigned long long)ev[PICFW_EV_FLOW_SEEDED],
			(unsigned long long)ev[PICFW_EV_FLOW_EVICTIONS],
			(unsigned long long)ev[PICFW_EV_FLOW_EXPIRED]);
	}
	droplog_print_state(f, &s->droplog);
	if (audit)
		fprintf(f, "\naudit mode: nothing is dropped; 'audit' lines count what enforce "
			   "mode would drop.\n");
}

void json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_counter(FILE *f, const struct picfw_counter *c)
{
	fprintf(f, "{\"packets\":%llu,\"bytes\":%llu}", (unsigned long long)c->packets,
		(unsigned long long)c->bytes);
}

void stats_print_json(FILE *f, const struct stats_snapshot *s)
{
	const char *sep = "";
	char ports[16];
	unsigned i;

	fprintf(f, "{\"interface\":");
	json_string(f, s->ifname);
	fprintf(f, ",\"mode\":\"%s\",\"replies\":\"%s\",\"unprotected\":\"%s\","
		   "\"generation\":%llu,\"policy\":",
		policy_mode_name(stats_mode(s)), policy_replies_name(active_cfg(s)->replies),
		policy_unprotected_name(active_cfg(s)->unprotected),
		(unsigned long long)s->meta.generation);
	json_string(f, s->meta.policy_path);
	fprintf(f, ",\"rows\":[");
	for (i = 0; i < s->nrows; i++) {
		const struct picfw_row_meta *r = &s->rows[i];

		ports_format(r->port_lo, r->port_hi, ports, sizeof(ports));
		fprintf(f, "%s{\"name\":", sep);
		json_string(f, r->name);
		fprintf(f, ",\"direction\":\"%s\",\"transport\":\"%s\",\"ports\":\"%s\","
			   "\"packets\":%llu,\"bytes\":%llu}",
			policy_direction_name(r->direction), policy_transport_name(r->transport),
			ports, (unsigned long long)s->row_counters[i].packets,
			(unsigned long long)s->row_counters[i].bytes);
		sep = ",";
	}
	fprintf(f, "],\"reasons\":{");
	for (i = 0; i < PICFW_REASONS; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", reason_names[i]);
		json_counter(f, &s->reasons[i]);
	}
	fprintf(f, "},\"would_drop\":{");
	sep = "";
	for (i = 0; i < PICFW_REASONS; i++) {
		if (!reason_drops(i))
			continue;
		fprintf(f, "%s\"%s\":", sep, reason_names[i]);
		json_counter(f, &s->reasons[PICFW_REASONS + i]);
		sep = ",";
	}
	fprintf(f, "},\"flows\":{\"active\":%llu", (unsigned long long)flows_total(s));
	for (i = 0; i < PICFW_EVENTS; i++)
		fprintf(f, ",\"%s\":%llu", event_names[i], (unsigned long long)event_total(s, i));
	fprintf(f, ",\"tables\":{");
	for (i = 0; i < PICFW_FLOW_TABLES; i++) {
		unsigned e;

		fprintf(f, "%s\"%s\":{\"active\":%llu,\"size\":%u", i ? "," : "",
			flow_table_names[i], (unsigned long long)s->flows[i], s->flow_sizes[i]);
		for (e = 0; e < PICFW_EVENTS; e++)
			fprintf(f, ",\"%s\":%llu", event_names[e],
				(unsigned long long)s->events[i * PICFW_EVENTS + e]);
		fprintf(f, "}");
	}
	fprintf(f, "}}");
	droplog_json_state(f, &s->droplog);
	fprintf(f, "}\n");
}

/* A Prometheus label value: backslash, quote and newline escaped. */
void prom_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void prom_start(FILE *f, const char *name, const struct stats_snapshot *s);

/* `picfw log`'s samples lost to its rate limit or a full ring buffer. */
static void prom_drop_log(FILE *f, const struct stats_snapshot *s, const char *name, int arg)
{
	(void)arg;
	prom_start(f, name, s);
	fprintf(f, ",cause=\"rate_limit\"} %llu\n", (unsigned long long)s->droplog.lost_rate);
	prom_start(f, name, s);
	fprintf(f, ",cause=\"ring_full\"} %llu\n", (unsigned long long)s->droplog.lost_full);
}

/* `NAME{interface="IFACE"` : a sample's start; the caller adds labels and the value. */
static void prom_start(FILE *f, const char *name, const struct stats_snapshot *s)
{
	fprintf(f, "%s{interface=\"", name);
	prom_label(f, s->ifname);
	fputc('"', f);
}

static void prom_rows(FILE *f, const struct stats_snapshot *s, const char *name, int bytes)
{
	char ports[16];
	unsigned i;

	for (i = 0; i < s->nrows; i++) {
		const struct picfw_row_meta *r = &s->rows[i];
		const struct picfw_counter *c = &s->row_counters[i];

		ports_format(r->port_lo, r->port_hi, ports, sizeof(ports));
		prom_start(f, name, s);
		fprintf(f, ",row=\"");
		prom_label(f, r->name);
		fprintf(f, "\",direction=\"%s\",transport=\"%s\",ports=\"%s\"} %llu\n",
			policy_direction_name(r->direction), policy_transport_name(r->transport),
			ports, (unsigned long long)(bytes ? c->bytes : c->packets));
	}
}

static void prom_reasons(FILE *f, const struct stats_snapshot *s, const char *name, int bytes)
{
	unsigned i;

	for (i = 0; i < PICFW_REASONS; i++) {
		const struct picfw_counter *c = &s->reasons[i];

		prom_start(f, name, s);
		fprintf(f, ",reason=\"%s\",verdict=\"%s\"} %llu\n", reason_names[i],
			reason_verdict(s, i), (unsigned long long)(bytes ? c->bytes : c->packets));
	}
}

static void prom_would_drop(FILE *f, const struct stats_snapshot *s, const char *name, int bytes)
{
	unsigned i;

	for (i = 0; i < PICFW_REASONS; i++) {
		const struct picfw_counter *c = &s->reasons[PICFW_REASONS + i];

		if (!reason_drops(i))
			continue;
		prom_start(f, name, s);
		fprintf(f, ",reason=\"%s\"} %llu\n", reason_names[i],
			(unsigned long long)(bytes ? c->bytes : c->packets));
	}
}

static void prom_flows(FILE *f, const struct stats_snapshot *s, const char *name, int what)
{
	enum { FLOWS, SIZE, FILL };
	unsigned i;

	for (i = 0; i < PICFW_FLOW_TABLES; i++) {
		prom_start(f, name, s);
		fprintf(f, ",table=\"%s\"} ", flow_table_names[i]);
		if (what == FLOWS)
			fprintf(f, "%llu\n", (unsigned long long)s->flows[i]);
		else if (what == SIZE)
			fprintf(f, "%u\n", s->flow_sizes[i]);
		else
			fprintf(f, "%.6g\n",
				s->flow_sizes[i] ? (double)s->flows[i] / s->flow_sizes[i] : 0.0);
	}
}

static void prom_flow_events(FILE *f, const struct stats_snapshot *s, const char *name, int arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < PICFW_EVENT_SLOTS; i++) {
		prom_start(f, name, s);
		fprintf(f, ",table=\"%s\",event=\"%s\"} %llu\n", flow_table_names[i / PICFW_EVENTS],
			event_names[i % PICFW_EVENTS], (unsigned long long)s->events[i]);
	}
}

/* One value per interface: arg says which. */
static void prom_policy(FILE *f, const struct stats_snapshot *s, const char *name, int what)
{
	enum { GENERATION, ROWS, AUDIT, APPLIED };
	unsigned long long v = 0;

	if (what == GENERATION)
		v = s->meta.generation;
	else if (what == ROWS)
		v = s->nrows;
	else if (what == AUDIT)
		v = stats_mode(s) == PICFW_MODE_AUDIT;
	else if (what == APPLIED)
		v = s->meta.apply_time;
	prom_start(f, name, s);
	fprintf(f, "} %llu\n", v);
}

static void prom_applies(FILE *f, const struct stats_snapshot *s, const char *name, int arg)
{
	(void)arg;
	prom_start(f, name, s);
	fprintf(f, ",result=\"ok\"} %llu\n", (unsigned long long)s->applies.ok);
	prom_start(f, name, s);
	fprintf(f, ",result=\"refused\"} %llu\n", (unsigned long long)s->applies.refused);
}

/*
 * The per-interface metric families, in the order they are printed: one
 * HELP and TYPE line each, then every interface's samples. A new family is
 * a row here (and, if it needs one, a field of struct stats_snapshot that
 * stats_read() fills); its samples function prints one interface's lines.
 */
static const struct prom_family {
	const char *name, *type, *help;
	void (*samples)(FILE *f, const struct stats_snapshot *s, const char *name, int arg);
	int arg;
} prom_families[] = {
	{ "picfw_row_packets_total", "counter", "Packets passed by a policy row.", prom_rows, 0 },
	{ "picfw_row_bytes_total", "counter", "Bytes passed by a policy row.", prom_rows, 1 },
	{ "picfw_reason_packets_total", "counter", "Packets judged without a row, by reason.",
	  prom_reasons, 0 },
	{ "picfw_reason_bytes_total", "counter", "Bytes judged without a row, by reason.",
	  prom_reasons, 1 },
	{ "picfw_would_drop_packets_total", "counter",
	  "Packets audit mode passed that enforce mode would drop.", prom_would_drop, 0 },
	{ "picfw_would_drop_bytes_total", "counter",
	  "Bytes audit mode passed that enforce mode would drop.", prom_would_drop, 1 },
	{ "picfw_flows", "gauge", "Flows in each flow table (replies of flows the Edge opened).",
	  prom_flows, 0 },
	{ "picfw_flow_table_size", "gauge", "Entries each flow table holds before evicting.",
	  prom_flows, 1 },
	{ "picfw_flow_table_fill_ratio", "gauge",
	  "Flows in each flow table over its size (0 to 1; near 1 it evicts).", prom_flows, 2 },
	{ "picfw_flow_events_total", "counter",
	  "Flow table events: created, evictions, expired, picked_up, seeded.", prom_flow_events, 0 },
	{ "picfw_policy_generation", "gauge", "Policies applied since attach.", prom_policy, 0 },
	{ "picfw_policy_rows", "gauge", "Rows in the active policy.", prom_policy, 1 },
	{ "picfw_audit_mode", "gauge", "1 when the active policy is in audit mode.", prom_policy,
	  2 },
	{ "picfw_policy_applied_timestamp_seconds", "gauge",
	  "When the active policy was attached or applied, seconds since the epoch.", prom_policy,
	  3 },
	{ "picfw_policy_applies_total", "counter",
	  "Applies since attach: ok switched to a new policy, refused left the previous one.",
	  prom_applies, 0 },
	{ "picfw_drop_log_lost_total", "counter",
	  "Drop log samples lost, by cause (rate_limit, ring_full).", prom_drop_log, 0 },
};

void stats_print_prometheus_many(FILE *f, const struct stats_snapshot *const *s, unsigned n)
{
	unsigned i, k;

	for (k = 0; k < sizeof(prom_families) / sizeof(prom_families[0]); k++) {
		const struct prom_family *fam = &prom_families[k];

		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
			fam->type);
		for (i = 0; i < n; i++)
			fam->samples(f, s[i], fam->name, fam->arg);
	}
}

void stats_print_prometheus(FILE *f, const struct stats_snapshot *s)
{
	stats_print_prometheus_many(f, &s, 1);
}

/* --- Flows ----------------------------------------------------------------------- */

static const char *const tcp_state_names[] = {
	[PICFW_TCP_NONE] = "-",
	[PICFW_TCP_SYN_SENT] = "syn-sent",
	[PICFW_TCP_ESTABLISHED] = "established",
	[PICFW_TCP_CLOSING] = "closing",
	[PICFW_TCP_CLOSED] = "closed",
};

static const char *const origin_names[] = {
	[PICFW_ORIGIN_OPENED] = "opened",
	[PICFW_ORIGIN_PICKED_UP] = "picked-up",
	[PICFW_ORIGIN_SEEDED] = "seeded",
};

enum picfw_timeout flow_timeout_kind(uint8_t tcp_state)
{
	if (tcp_state == PICFW_TCP_NONE)
		return PICFW_TIMEOUT_UDP;
	if (tcp_state == PICFW_TCP_ESTABLISHED)
		return PICFW_TIMEOUT_TCP;
	return PICFW_TIMEOUT_TCP_TRANSITORY;
}

int flows_read_view(const struct picfw_maps *m, struct flows_view *v)
{
	int err;

	memset(v, 0, sizeof(*v));
	err = maps_read_ctl(m, &v->ctl);
	if (!err)
		err = maps_read_row_meta(m, v->ctl.active & 1,
					 v->ctl.gen[v->ctl.active & 1].nrows % (PICFW_MAX_ROWS + 1),
					 v->rows);
	v->now = flow_clock_ns();
	return err;
}

/* One flow as the listings show it. */
struct flow_text {
	const char *transport, *row, *state, *origin;
	char remote[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
	double age, idle, left; /* seconds; left <= 0: expired */
};

static void addr_text(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/*
 * The row a flow's replies count on: remembered under the active policy's
 * epoch, or matched again by the program at the flow's next reply.
 */
static const char *flow_row_name(const struct flows_view *v, const struct picfw_flow *f)
{
	const struct picfw_gen_cfg *cfg = &v->ctl.gen[v->ctl.active & 1];
	uint32_t epoch = (uint32_t)(f->binding >> 32), row = (uint32_t)f->binding;

	if (epoch != cfg->epoch)
		return "(next reply)";
	if (row == PICFW_FLOW_NO_ROW || row >= cfg->nrows || row >= PICFW_MAX_ROWS)
		return "(no row)";
	return v->rows[row].name;
}

static void flow_text(const struct flows_view *v, const struct flow_entry *e,
		      struct flow_text *t)
{
	const struct picfw_gen_cfg *cfg = &v->ctl.gen[v->ctl.active & 1];
	const struct picfw_flow *f = &e->flow;

	t->transport = e->proto == IPPROTO_TCP ? "tcp" : "udp";
	addr_text(e->family, e->remote, t->remote, sizeof(t->remote));
	addr_text(e->family, e->local, t->local, sizeof(t->local));
	t->row = flow_row_name(v, f);
	t->state = f->tcp_state <= PICFW_TCP_CLOSED ? tcp_state_names[f->tcp_state] : "?";
	t->origin = f->origin <= PICFW_ORIGIN_SEEDED ? origin_names[f->origin] : "?";
	t->age = v->now > f->created ? (double)(v->now - f->created) / 1e9 : 0;
	t->idle = v->now > f->last_seen ? (double)(v->now - f->last_seen) / 1e9 : 0;
	t->left = (double)cfg->timeout_ns[flow_timeout_kind(f->tcp_state)] / 1e9 - t->idle;
}

struct flows_out {
	FILE *f;
	const struct flows_view *v;
	unsigned n;
};

static int flow_table_line(const struct flow_entry *e, void *arg)
{
	struct flows_out *o = arg;
	char r[80], l[80], left[16];
	struct flow_text t;

	flow_text(o->v, e, &t);
	snprintf(r, sizeof(r), e->family == 6 ? "[%s]:%u" : "%s:%u", t.remote, e->remote_port);
	snprintf(l, sizeof(l), e->family == 6 ? "[%s]:%u" : "%s:%u", t.local, e->local_port);
	if (t.left > 0)
		snprintf(left, sizeof(left), "%.0f", t.left);
	else
		snprintf(left, sizeof(left), "expired");
	fprintf(o->f, "%-5s %-42s %-42s %-30s %-12s %-9s %8.0f %8.0f %8s\n", t.transport, r, l,
		t.row, t.state, t.origin, t.age, t.idle, left);
	o->n++;
	return 0;
}

int flows_print_table(FILE *f, const struct flows_view *v, const struct picfw_maps *m)
{
	struct flows_out o = { .f = f, .v = v };
	int err;

	fprintf(f, "%-5s %-42s %-42s %-30s %-12s %-9s %8s %8s %8s\n", "PROTO", "REMOTE", "LOCAL",
		"ROW", "STATE", "ORIGIN", "AGE(s)", "IDLE(s)", "LEFT(s)");
	err = maps_for_each_flow(m, flow_table_line, &o);
	if (!o.n)
		fprintf(f, "(no flows)\n");
	return err;
}

static int flow_json(const struct flow_entry *e, void *arg)
{
	struct flows_out *o = arg;
	struct flow_text t;

	flow_text(o->v, e, &t);
	fprintf(o->f, "%s{\"transport\":\"%s\",\"family\":%u,\"remote\":\"%s\","
		      "\"remote_port\":%u,\"local\":\"%s\",\"local_port\":%u,\"row\":",
		o->n ? "," : "", t.transport, e->family, t.remote, e->remote_port, t.local,
		e->local_port);
	json_string(o->f, t.row);
	fprintf(o->f, ",\"state\":\"%s\",\"origin\":\"%s\",\"age_s\":%.1f,"
		      "\"idle_s\":%.1f,\"expires_s\":%.1f}",
		e->flow.tcp_state == PICFW_TCP_NONE ? "none" : t.state, t.origin, t.age, t.idle,
		t.left > 0 ? t.left : 0);
	o->n++;
	return 0;
}

int flows_print_json(FILE *f, const char *ifname, const struct flows_view *v,
		     const struct picfw_maps *m)
{
	struct flows_out o = { .f = f, .v = v };
	int err;

	fprintf(f, "{\"interface\":");
	json_string(f, ifname);
	fprintf(f, ",\"replies\":\"%s\",\"flows\":[",
		policy_replies_name(v->ctl.gen[v->ctl.active & 1].replies));
	err = maps_for_each_flow(m, flow_json, &o);
	fprintf(f, "]}\n");
	return err;
}
