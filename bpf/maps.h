/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * maps.h - the programs' maps, keys and values from include/picfw.h's
 * structs. A map's C name is also its kernel name and its pin's name; the
 * skeleton carries them to userspace, whose list (PICFW_MAPS in user/maps.h)
 * is checked against this file's at every load. Policy maps hold both
 * generations; picfw_ctl says which one is active.
 */
#ifndef PICFW_BPF_MAPS_H
#define PICFW_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "picfw.h"

/* Active generation and each generation's settings. One entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct picfw_ctl);
} picfw_ctl SEC(".maps");

/* Remote addresses to address class, longest prefix match, generation in the key. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PICFW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct picfw_lpm4);
	__type(value, __u32);
} picfw_src4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PICFW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct picfw_lpm6);
	__type(value, __u32);
} picfw_src6 SEC(".maps");

/* The protected set: present means protected. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PICFW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct picfw_lpm4);
	__type(value, __u32);
} picfw_prot4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PICFW_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct picfw_lpm6);
	__type(value, __u32);
} picfw_prot6 SEC(".maps");

/*
 * Port classes, indexed by generation, transport and port: ranges cost
 * nothing at run time. Mmapable, so userspace writes a generation with memcpy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_TRANSPORTS * PICFW_PORTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_port_classes);
} picfw_ports SEC(".maps");

/* Row bitmaps by class, per generation. Class 0 is never written: no row. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_MAX_CLASSES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_bits);
} picfw_bits SEC(".maps");

/* The row table (struct picfw_row_cells), per generation: 4 MiB each. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_ROW_CELLS / PICFW_ROW_CELLS_PER_ELEM);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_row_cells);
} picfw_row_table SEC(".maps");

/* Row (file order) to counter slot, per generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_MAX_ROWS);
	__type(key, __u32);
	__type(value, __u32);
} picfw_slots SEC(".maps");

/* Packets and bytes per counter slot, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PICFW_MAX_ROWS);
	__type(key, __u32);
	__type(value, struct picfw_counter);
} picfw_row_stats SEC(".maps");

/* Packets and bytes per reason, then would-drop per reason (audit), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PICFW_REASON_SLOTS);
	__type(key, __u32);
	__type(value, struct picfw_counter);
} picfw_reason_stats SEC(".maps");

/* Userspace bookkeeping pinned beside the rest; the program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_MAX_ROWS);
	__type(key, __u32);
	__type(value, struct picfw_row_meta);
} picfw_row_meta SEC(".maps");

/* What each generation holds: policy file, times, digest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS);
	__type(key, __u32);
	__type(value, struct picfw_meta);
} picfw_meta SEC(".maps");

/* Apply outcomes since attach (userspace only: `picfw apply` writes, the exporter reads). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct picfw_applies);
} picfw_applies SEC(".maps");

/*
 * Remote addresses to address class: the 256-ary trie, per generation
 * (see PICFW_TRIE_NODES). Mmapable: userspace writes whole nodes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_TRIE_NODES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_trie_node);
} picfw_trie SEC(".maps");

/* The trie's tails: one prefix alone below a slot (see PICFW_TRIE_TAIL). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_TRIE_TAILS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_trie_tail);
} picfw_trie_tail SEC(".maps");

/* Slot to outbound row, per generation (see struct picfw_slot_row). Mmapable. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_GENERATIONS * PICFW_MAX_ROWS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct picfw_slot_row);
} picfw_slot_rows SEC(".maps");

/*
 * Flows the Edge opened, written on egress (TC), read on ingress (XDP): one
 * LRU per family and transport, so a flood of one kind evicts only its own
 * kind. max_entries is set by userspace before load (`flows tcp|udp N`).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_TCP);
	__type(key, struct picfw_flow4_key);
	__type(value, struct picfw_flow);
} picfw_flows_tcp4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_UDP);
	__type(key, struct picfw_flow4_key);
	__type(value, struct picfw_flow);
} picfw_flows_udp4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_TCP);
	__type(key, struct picfw_flow6_key);
	__type(value, struct picfw_flow);
} picfw_flows_tcp6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_DEFAULT_FLOWS_UDP);
	__type(key, struct picfw_flow6_key);
	__type(value, struct picfw_flow);
} picfw_flows_udp6 SEC(".maps");

/*
 * Flows in each table (enum picfw_flow_table), as the programs count them
 * (atomic adds): a new flow that finds its table full makes the LRU evict
 * one. Approximate: the kernel's LRU may also evict a little earlier, per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PICFW_FLOW_TABLES);
	__type(key, __u32);
	__type(value, __u64);
} picfw_flow_count SEC(".maps");

/* Per CPU, hints of recently passed replies (struct picfw_reply_hint in picfw.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PICFW_HINTS);
	__type(key, __u32);
	__type(value, struct picfw_reply_hint);
} picfw_reply_hints SEC(".maps");

/* First fragments that passed, for their later fragments (struct picfw_frag_key). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PICFW_MAX_FRAGS);
	__type(key, struct picfw_frag_key);
	__type(value, struct picfw_frag);
} picfw_frags SEC(".maps");

/* Flow table events, per CPU: [table * PICFW_EVENTS + enum picfw_event]. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PICFW_EVENT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} picfw_events SEC(".maps");

/*
 * Never read by the program: updating a map-in-map from userspace makes the
 * kernel wait for an RCU grace period (maybe_wait_bpf_programs()), after
 * which no CPU still runs the program with an old generation in hand. That is
 * how `picfw apply` knows the old generation is free to clear.
 */
struct picfw_sync_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct picfw_sync_inner);
} picfw_sync SEC(".maps");

/*
 * The drop log (see PICFW_DROPLOG_LEASE_NS): sampled drops, the reader's
 * lease and rate, and per CPU the rate limit's state and what was lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PICFW_DROPLOG_RING);
} picfw_droplog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct picfw_droplog_ctl);
} picfw_droplog_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct picfw_droplog_cpu);
} picfw_droplog_cpu SEC(".maps");

#endif /* PICFW_BPF_MAPS_H */
