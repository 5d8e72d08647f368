/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * maps.h - map images to the kernel and counters back. The only file with
 * bpf syscalls on maps; it knows nothing of the policy text.
 */
#ifndef PICFW_USER_MAPS_H
#define PICFW_USER_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "picfw.h"
#include "compile.h"

/*
 * Every map of bpf/maps.h, once: its index in userspace (enum map_id) and
 * its name, which is at once the skeleton's handle (skel->maps.NAME), the
 * kernel's map name and the name of its pin beside the link. The names of
 * enum map_id, map_names[] (what `picfw detach` removes, and no more) and
 * maps_from_skel() all come from here. maps_from_skel() holds the list against
 * the BPF object both ways: a name not in the skeleton does not compile, and
 * a map of the object missing here fails every load, naming it.
 */
#define PICFW_MAPS(X)                                                                 \
	X(MAP_CTL, picfw_ctl)                                                         \
	X(MAP_SRC4, picfw_src4)                                                       \
	X(MAP_SRC6, picfw_src6)                                                       \
	X(MAP_PROT4, picfw_prot4)                                                     \
	X(MAP_PROT6, picfw_prot6)                                                     \
	X(MAP_PORTS, picfw_ports)                                                     \
	X(MAP_BITS, picfw_bits)                                                       \
	X(MAP_ROW_TABLE, picfw_row_table)                                             \
	X(MAP_TRIE_TAIL, picfw_trie_tail)                                             \
	X(MAP_SLOTS, picfw_slots)                                                     \
	X(MAP_ROW_STATS, picfw_row_stats)                                             \
	X(MAP_REASON_STATS, picfw_reason_stats)                                       \
	X(MAP_ROW_META, picfw_row_meta)                                               \
	X(MAP_META, picfw_meta)                                                       \
	X(MAP_APPLIES, picfw_applies)                                                 \
	X(MAP_GRACE, picfw_sync)                                                      \
	X(MAP_SLOT_ROWS, picfw_slot_rows)                                             \
	/* the flow tables, in enum picfw_flow_table order: MAP_FLOWS_TCP4 + table */ \
	X(MAP_FLOWS_TCP4, picfw_flows_tcp4)                                           \
	X(MAP_FLOWS_UDP4, picfw_flows_udp4)                                           \
	X(MAP_FLOWS_TCP6, picfw_flows_tcp6)                                           \
	X(MAP_FLOWS_UDP6, picfw_flows_udp6)                                           \
	X(MAP_FLOW_COUNT, picfw_flow_count)                                           \
	X(MAP_FRAGS, picfw_frags)                                                     \
	X(MAP_REPLY_HINTS, picfw_reply_hints)                                         \
	X(MAP_EVENTS, picfw_events)                                                   \
	X(MAP_TRIE, picfw_trie)                                                       \
	X(MAP_DROPLOG, picfw_droplog)                                                 \
	X(MAP_DROPLOG_CTL, picfw_droplog_ctl)                                         \
	X(MAP_DROPLOG_CPU, picfw_droplog_cpu)

#define PICFW_MAP_ID(id, name) id,
enum map_id {
	PICFW_MAPS(PICFW_MAP_ID)
	MAP_COUNT,
};
#undef PICFW_MAP_ID

_Static_assert(MAP_FLOWS_UDP4 == MAP_FLOWS_TCP4 + PICFW_FT_UDP4 &&
		   MAP_FLOWS_TCP6 == MAP_FLOWS_TCP4 + PICFW_FT_TCP6 &&
		   MAP_FLOWS_UDP6 == MAP_FLOWS_TCP4 + PICFW_FT_UDP6,
	       "the flow tables' ids follow enum picfw_flow_table");

/* The maps' names, in enum map_id order (pins, map names, skeleton handles). */
extern const char *const map_names[MAP_COUNT];

struct picfw_maps {
	int fd[MAP_COUNT];
	int owned; /* close the fds in maps_close() */
	struct picfw_port_classes *ports_mem;
	struct picfw_bits *bits_mem;
	struct picfw_slot_row *slot_rows_mem;
};

/*
 * Open the maps pinned for ifname. Returns 0 or a negative errno: -EPROTO
 * (told on stderr) when a map's type, key or value size is not this
 * picfw's, a filter attached by another version whose maps this one would
 * misread or, worse, write in a layout its program does not read.
 */
int maps_open_pinned(const char *ifname, struct picfw_maps *m);
/* The same from a pin directory (bpffs.h, pin_dir), of any network namespace. */
int maps_open_pin_dir(const char *dir, struct picfw_maps *m);
/*
 * The same without the layout check, for detach alone: it reads only what
 * every version keeps in place (picfw_ctl's first word, picfw_meta). A map
 * another version does not have is left at fd -1; nothing is mmapped.
 */
int maps_open_pinned_any_version(const char *ifname, struct picfw_maps *m);
/*
 * Do the maps behind fds have this picfw's layout (type, key and value size,
 * as its BPF object defines them)? 0, or -EPROTO with the first difference
 * in why. (attach.c: the object is the skeleton's.)
 */
int maps_layout_check(const int fds[MAP_COUNT], char *why, size_t len);
/* Take fds owned by someone else (the skeleton), in enum map_id order. */
int maps_from_fds(const int fds[MAP_COUNT], struct picfw_maps *m);
void maps_close(struct picfw_maps *m);

int maps_read_ctl(const struct picfw_maps *m, struct picfw_ctl *ctl);
/*
 * The first len bytes of map id's value at key, the rest of out zeroed,
 * whatever the map's value size: for maps another version may have made
 * larger (detach reads picfw_ctl's active and picfw_meta's first fields,
 * which every version keeps in place). 0 or -errno.
 */
int maps_read_prefix(const struct picfw_maps *m, int id, uint32_t key, void *out, size_t len);

/*
 * Write img into generation gen (which must not be active): its old entries
 * are removed first. Returns 0 or a negative errno.
 */
int maps_write_generation(const struct picfw_maps *m, uint32_t gen, const struct policy_image *img,
			  const uint32_t *slots);
/*
 * The same, for a generation whose trie entries are known to be gone (new
 * maps, or cleared by the apply that left it): walking the tries to find
 * stale keys costs as much as writing 100,000 prefixes.
 */
int maps_write_clean_generation(const struct picfw_maps *m, uint32_t gen,
				const struct policy_image *img, const uint32_t *slots);
/*
 * Make gen the active generation, with its settings, in one map update. Its
 * epoch is set here: one more than either generation's (cfg->epoch is ignored).
 */
int maps_activate(const struct picfw_maps *m, uint32_t gen, const struct picfw_gen_cfg *cfg);
/*
 * Open the pickup window (picfw_ctl's pickup_until): replies that an
 * outbound row allows pick up their flows for seconds from now; 0 closes it.
 */
int maps_open_pickup(const struct picfw_maps *m, uint32_t seconds);
/*
 * Wait until no CPU can still be running the program with a generation it
 * read before this call (an RCU grace period). 0 or a negative errno.
 */
int maps_sync(const struct picfw_maps *m);

/*
 * The same, for a generation that was active with settings cfg: only the
 * trie nodes it used are cleared.
 */
int maps_clear_generation_used(const struct picfw_maps *m, uint32_t gen,
			       const struct picfw_gen_cfg *cfg);

/* Remove every entry of generation gen. */
int maps_clear_generation(const struct picfw_maps *m, uint32_t gen);

/* Counters summed over CPUs: rows[PICFW_MAX_ROWS], reasons[PICFW_REASON_SLOTS]. */
int maps_read_counters(const struct picfw_maps *m, struct picfw_counter *rows,
		       struct picfw_counter *reasons);
int maps_zero_row_counter(const struct picfw_maps *m, uint32_t slot);

/*
 * Flow table events summed over CPUs (events[PICFW_EVENT_SLOTS], table-major),
 * the flows in each table (flows[PICFW_FLOW_TABLES]) and each table's size.
 */
int maps_read_events(const struct picfw_maps *m, uint64_t *events, uint64_t *flows,
		     uint32_t *sizes);
/* Add n to event (enum picfw_event) of flow table `table`, on CPU 0's counter. */
int maps_add_event(const struct picfw_maps *m, uint32_t table, uint32_t event, uint64_t n);

/* Each flow table's size (sizes[PICFW_FLOW_TABLES]), fixed when attach made it. */
int maps_flow_sizes(const struct picfw_maps *m, uint32_t *sizes);

/* One tracked flow, whatever its table: addresses as the reply arrives. */
struct flow_entry {
	uint32_t table;   /* enum picfw_flow_table */
	uint8_t family;   /* 4 or 6 */
	uint8_t proto;    /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t remote_port, local_port;
	uint8_t remote[16], local[16]; /* IPv4 in the first 4 bytes */
	struct picfw_flow flow;
};

/* The table of a family and IP protocol. */
uint32_t flow_table_of(uint8_t family, uint8_t proto);

/* Call fn for every flow of every table; stops early when fn returns non-zero. */
int maps_for_each_flow(const struct picfw_maps *m,
		       int (*fn)(const struct flow_entry *e, void *ctx), void *ctx);

/* Add a flow unless its key is there already. 0, -EEXIST, or a negative errno. */
int maps_add_flow(const struct picfw_maps *m, const struct flow_entry *e);

/*
 * Is a host address (a prefix of length 32 or 128) in generation gen's
 * protected set, as the program sees it? 1, 0, or a negative errno.
 */
int maps_is_protected(const struct picfw_maps *m, uint32_t gen, const struct prefix *addr);

int maps_read_meta(const struct picfw_maps *m, uint32_t gen, struct picfw_meta *meta);
int maps_write_meta(const struct picfw_maps *m, uint32_t gen, const struct picfw_meta *meta);
/* Apply outcomes since attach (picfw_applies). */
int maps_read_applies(const struct picfw_maps *m, struct picfw_applies *a);
/*
 * Count one apply (ok: it switched; else refused) at time now. The caller
 * holds the interface's lock (picfw_lock): read, add, write.
 */
int maps_count_apply(const struct picfw_maps *m, int ok, uint64_t now);
/* Counter slots of generation gen's rows 0..n-1. */
int maps_read_slots(const struct picfw_maps *m, uint32_t gen, uint32_t n, uint32_t *slots);
/* Labels of generation gen's rows 0..n-1 (written by maps_write_generation). */
int maps_read_row_meta(const struct picfw_maps *m, uint32_t gen, uint32_t n,
		       struct picfw_row_meta *rows);

#endif /* PICFW_USER_MAPS_H */
