/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * stats.h - kernel counters and flows to a table, JSON or Prometheus text. A
 * new output format is a new function here.
 */
#ifndef PICFW_STATS_H
#define PICFW_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "droplog.h"
#include "maps.h"

extern const char *const reason_names[PICFW_REASONS];
extern const char *const event_names[PICFW_EVENTS];
extern const char *const flow_table_names[PICFW_FLOW_TABLES]; /* "tcp4", "udp4", ... */

struct stats_snapshot {
	char ifname[64];
	struct picfw_meta meta;
	struct picfw_ctl ctl;
	uint32_t nrows; /* rows of the active generation, file order */
	struct picfw_row_meta rows[PICFW_MAX_ROWS];
	struct picfw_counter row_counters[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
	/* flow table events, [table * PICFW_EVENTS + enum picfw_event] */
	uint64_t events[PICFW_EVENT_SLOTS];
	uint64_t flows[PICFW_FLOW_TABLES];      /* flows per table, as the programs count them */
	uint32_t flow_sizes[PICFW_FLOW_TABLES]; /* each table's size, as made at attach */
	struct picfw_applies applies;           /* apply outcomes since attach */
	struct droplog_state droplog;           /* `picfw log`: its reader, samples lost */
};

/* Read everything of one attached interface. 0 or a negative errno. */
int stats_read(const char *ifname, const struct picfw_maps *m, struct stats_snapshot *s);

/* Active generation's mode, as the program sees it. */
unsigned stats_mode(const struct stats_snapshot *s);

void stats_print_table(FILE *f, const struct stats_snapshot *s);
void stats_print_json(FILE *f, const struct stats_snapshot *s);
void stats_print_prometheus(FILE *f, const struct stats_snapshot *s);
/*
 * The same families for n interfaces at once (the exporter): each family's
 * HELP and TYPE once, then every interface's samples, as the text format
 * requires. The families are a table in stats.c (prom_families[]).
 */
void stats_print_prometheus_many(FILE *f, const struct stats_snapshot *const *s, unsigned n);

/* s as a Prometheus label value: backslash, double quote and newline escaped. */
void prom_label(FILE *f, const char *s);

/*
 * Which timeout applies to a flow in TCP state tcp_state (PICFW_TCP_NONE for
 * UDP): the programs' choice (bpf/picfw.bpf.c, flow_timeout()), said once here.
 */
enum picfw_timeout flow_timeout_kind(uint8_t tcp_state);

/* What a listing of the flows reads beside them: the active settings and rows, the time. */
struct flows_view {
	struct picfw_ctl ctl;
	struct picfw_row_meta rows[PICFW_MAX_ROWS]; /* the active generation's */
	uint64_t now;                               /* flow_clock_ns() when read */
};

/* Read the view of one attached interface. 0 or a negative errno. */
int flows_read_view(const struct picfw_maps *m, struct flows_view *v);

/*
 * Every flow of m, as a table or as one JSON document (closed also when
 * reading the flow tables fails half way). 0 or a negative errno.
 */
int flows_print_table(FILE *f, const struct flows_view *v, const struct picfw_maps *m);
int flows_print_json(FILE *f, const char *ifname, const struct flows_view *v,
		     const struct picfw_maps *m);

/* Print s as a JSON string, quotes included. */
void json_string(FILE *f, const char *s);

#endif /* PICFW_STATS_H */
