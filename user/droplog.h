/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * droplog.h - the drop log's room: the reader's lease in picfw_droplog_ctl,
 * the ring buffer of sampled drops (libbpf's ring_buffer), what was lost,
 * and the records as text, JSON lines or pcap (libpcap). See
 * PICFW_DROPLOG_LEASE_NS in include/picfw.h for how the log stays off
 * without a reader, also after a reader killed with SIGKILL.
 */
#ifndef PICFW_DROPLOG_H
#define PICFW_DROPLOG_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "maps.h"
#include "nearest.h"
#include "policy.h"

/* The log as pinned: its reader, if any, and the samples lost (summed over CPUs). */
struct droplog_state {
	uint32_t reader_pid; /* 0: no reader holds a lease now */
	uint32_t rate;       /* the reader's samples per second per CPU */
	uint64_t lost_rate;  /* refused by the rate limit */
	uint64_t lost_full;  /* the ring buffer was full */
};

/* Read the state of m's drop log. 0 or a negative errno. */
int droplog_read_state(const struct picfw_maps *m, struct droplog_state *st);

/* The state as `stats` shows it: one table line, or ,"drop_log":{...} inside a JSON object. */
void droplog_print_state(FILE *f, const struct droplog_state *st);
void droplog_json_state(FILE *f, const struct droplog_state *st);

/*
 * Take the lease for this process with a rate (samples per second per CPU):
 * 0, -EBUSY with *holder set when a live reader holds it, or a negative errno.
 */
int droplog_claim(const struct picfw_maps *m, uint32_t rate, uint32_t *holder);
/* Refresh the lease (every second): 0, -EBUSY (*holder took it over), or a negative errno. */
int droplog_refresh(const struct picfw_maps *m, uint32_t rate, uint32_t *holder);
/* Give the lease back, if it is still ours: the log is off. */
void droplog_release(const struct picfw_maps *m);

enum droplog_format {
	DROPLOG_TEXT = 0,
	DROPLOG_JSON,
	DROPLOG_PCAP,
};

struct droplog_opts {
	const char *ifname;
	enum droplog_format format;
	const char *pcap_path;   /* DROPLOG_PCAP: a file, or "-" for stdout */
	int reason;              /* only this reason; -1: all */
	uint64_t count;          /* stop after this many records; 0: never */
	uint32_t rate;           /* samples per second per CPU */
	volatile sig_atomic_t *stop; /* set by a signal handler: stop soon */
};

/*
 * Follow m's drop log until opts->count records, *opts->stop, a write error
 * or another reader taking over; the lease is given back on every way out.
 * *written: records written. 0, -EBUSY (*holder: who holds the log), -EPIPE
 * (the output went away), or a negative errno.
 */
int droplog_follow(const struct picfw_maps *m, const struct droplog_opts *opts,
		   uint64_t *written, uint32_t *holder);

/* The nearest row of one no_match drop (nearest.h), from the policy p that judged it. */
struct droplog_near {
	const struct policy *p;
	struct nearest_packet pkt;
	struct nearest n; /* n.row -1: none comes near */
};

/*
 * One record as a line of text or a JSON object (one line); realtime_ns =
 * time + offset. near: its nearest row, NULL when unknown or not asked
 * (text: nothing; JSON: "nearest":null).
 */
void droplog_print_text(FILE *f, const struct picfw_drop_record *r, int64_t realtime_off,
			const struct droplog_near *near);
void droplog_print_json(FILE *f, const char *ifname, const struct picfw_drop_record *r,
			int64_t realtime_off, const struct droplog_near *near);

/*
 * The policy nearest rows are named from (droplog_nearest.c): the copy of the
 * active generation's policy in /run/picfw, for the epoch it was loaded
 * under; loaded when a record of a later epoch comes (at most once per epoch).
 */
struct droplog_nearest {
	const struct picfw_maps *m;
	const char *ifname;
	struct policy p;          /* valid while nf is set */
	struct nearest_finder *nf;
	uint32_t epoch;           /* the epoch p was enforced under; 0: none loaded */
	uint32_t tried;           /* the record epoch a load was last tried for */
	int warned;               /* a failed load was told (later ones: debug) */
};

void droplog_nearest_init(struct droplog_nearest *dn, const struct picfw_maps *m,
			  const char *ifname);
void droplog_nearest_free(struct droplog_nearest *dn);

/*
 * The nearest row of r into *out: 1, or 0 when unknown (r is not a TCP or
 * UDP no_match drop, or no copy of the policy of r's epoch can be had).
 */
int droplog_nearest_find(struct droplog_nearest *dn, const struct picfw_drop_record *r,
			 struct droplog_near *out);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC (bpf_ktime_get_ns()), in ns. */
int64_t droplog_realtime_offset(void);

#endif /* PICFW_DROPLOG_H */
