/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * attach.h - the skeleton glue: load the program, attach it to an interface
 * through a BPF link pinned under /sys/fs/bpf/picfw/IFACE/ with the maps
 * beside it, and take it all away again.
 */
#ifndef PICFW_ATTACH_H
#define PICFW_ATTACH_H

#include "bpffs.h" /* where attach pins, and its lock */
#include "compile.h"
#include "maps.h"

/* How the XDP program is attached (not libxdp's enum picfw_xdp_mode). */
enum picfw_xdp_mode {
	XDP_ATTACH_NATIVE = 0,
	XDP_ATTACH_GENERIC = 1,
};

struct picfw_bpf;

/* Does this process have CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN? */
int have_bpf_caps(void);

/*
 * The skeleton's maps as picfw_maps (the skeleton keeps owning their fds);
 * -ENOENT when the object's maps are not PICFW_MAPS (user/maps.h).
 */
int maps_from_skel(struct picfw_bpf *skel, struct picfw_maps *m);

/*
 * Load, fill generation 0 with img, attach to ifname and pin. On failure
 * nothing stays: no link, no pins. 0, or a negative errno after one line
 * "picfw attach: why" through the logging funnel.
 */
int picfw_attach(const char *ifname, const char *policy_path, const struct policy *p,
		 const struct policy_image *img, enum picfw_xdp_mode mode);

/*
 * Detach and remove the pins. 0, or a negative errno (-ENOENT: not attached)
 * after one line "picfw detach: why" through the logging funnel.
 */
int picfw_detach(const char *ifname);

/*
 * Remove the pins and policy copies of entry, "IFACE:NETNS" as `picfw
 * status` lists a filter of another network namespace, when that namespace
 * is gone (its interfaces, and with them the link and the egress filter,
 * went with it). Refused while the namespace exists: detach runs there.
 */
int picfw_detach_gone(const char *entry);

/*
 * The ifindex picfw's pinned link on ifname is attached to: > 0; 0 when the
 * link is defunct (its interface is gone, or it was detached); a negative
 * errno when there is no readable link pin (-ENOENT: not attached).
 */
int picfw_link_ifindex(const char *ifname);

/* This build's BPF object's identity: FNV-1a 64 of it (picfw_build in its .rodata). */
uint64_t picfw_build_id(void);

/*
 * Does the program attached to ifname come from this build (its picfw_build
 * is picfw_build_id())? 1 or 0 (another build: one that predates the
 * variable too); a negative errno when it cannot be told (not attached, or
 * not allowed to read the program's maps).
 */
int picfw_program_is_this_build(const char *ifname);
/* The same for program prog_id (a link's, as `status` has read it already). */
int picfw_prog_is_this_build(__u32 prog_id);

#endif /* PICFW_ATTACH_H */
