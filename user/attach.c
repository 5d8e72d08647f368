// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * attach.c - the skeleton glue (see attach.h).
 *
 * Attach is all or nothing: the pin directory is made first with mkdir(),
 * which is also what makes two racing attaches on one interface exclusive;
 * the link is pinned last. Until then the link lives only in this process's
 * fd, so any failure, even a kill, detaches it; the cleanup path removes
 * the pins made so far.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bpffs.h"
#include "compile.h"
#include "ifname.h"
#include "log.h"
#include "picfw.skel.h"
#include "policy_copy.h"
#include "seed.h"
#include "tc.h"
#include "test_hooks.h"

/* The kernel's internal "not supported" (524), which some drivers leak to userspace. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

int have_bpf_caps(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			eff = strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	/* CAP_NET_ADMIN 12; CAP_SYS_ADMIN 21 or CAP_BPF 39. */
	return (eff >> 12 & 1) && ((eff >> 21 & 1) || (eff >> 39 & 1));
}

/*
 * The skeleton's handles of PICFW_MAPS (user/maps.h), in enum map_id order,
 * held against the object's own list: a map of bpf/maps.h missing from
 * PICFW_MAPS would be neither pinned, nor reopened, nor removed by detach.
 * .rodata is the object's, set before load and never pinned. 0 or -ENOENT.
 */
static int skel_maps(struct picfw_bpf *skel, struct bpf_map *maps[MAP_COUNT])
{
	struct bpf_map *map;
	int i, n = 0;

#define PICFW_MAP_HANDLE(id, name) maps[id] = skel->maps.name;
	PICFW_MAPS(PICFW_MAP_HANDLE)
#undef PICFW_MAP_HANDLE
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		for (i = 0; i < MAP_COUNT && maps[i] != map; i++)
			;
		if (i == MAP_COUNT) {
			pr_warn("picfw: map %s of the BPF object is missing from PICFW_MAPS "
				"(user/maps.h)\n", bpf_map__name(map));
			return -ENOENT;
		}
		n++;
	}
	if (n != MAP_COUNT) {
		pr_warn("picfw: PICFW_MAPS (user/maps.h) names a map twice or an internal one\n");
		return -ENOENT;
	}
	return 0;
}

/* This picfw's layouts: from its object, opened (not loaded) once per process. */
static struct {
	__u32 type, key, value;
} layout_want[MAP_COUNT];
static int layout_err;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

static void layout_load(void)
{
	struct bpf_map *maps[MAP_COUNT];
	struct picfw_bpf *skel = picfw_bpf__open();
	int i;

	if (!skel) {
		layout_err = errno ? errno : ENOMEM;
		return;
	}
	if (skel_maps(skel, maps)) {
		layout_err = ENOENT;
	} else {
		for (i = 0; i < MAP_COUNT; i++) {
			layout_want[i].type = bpf_map__type(maps[i]);
			layout_want[i].key = bpf_map__key_size(maps[i]);
			layout_want[i].value = bpf_map__value_size(maps[i]);
		}
	}
	picfw_bpf__destroy(skel);
}

int maps_layout_check(const int fds[MAP_COUNT], char *why, size_t len)
{
	struct bpf_map_info info;
	struct picfw_meta meta;
	__u32 n, gen;
	int i;

	/* Once, whatever thread asks first (the exporter serves from several). */
	pthread_once(&layout_once, layout_load);
	if (layout_err) {
		snprintf(why, len, "reading this picfw's BPF object: %s", strerror(layout_err));
		return -EPROTO;
	}
	for (i = 0; i < MAP_COUNT; i++) {
		memset(&info, 0, sizeof(info));
		n = sizeof(info);
		if (bpf_obj_get_info_by_fd(fds[i], &info, &n)) {
			snprintf(why, len, "map %s: %s", map_names[i], strerror(errno));
			return -EPROTO;
		}
		if (info.type != layout_want[i].type || info.key_size != layout_want[i].key ||
		    info.value_size != layout_want[i].value) {
			snprintf(why, len, "map %s: type %u, key %u and value %u bytes; this picfw's: "
				 "type %u, key %u and value %u bytes", map_names[i], info.type,
				 info.key_size, info.value_size, layout_want[i].type, layout_want[i].key,
				 layout_want[i].value);
			return -EPROTO;
		}
	}
	/* The same sizes, another meaning (PICFW_LAYOUT), as the writer of each generation says. */
	for (gen = 0; gen < PICFW_GENERATIONS; gen++) {
		if (bpf_map_lookup_elem(fds[MAP_META], &gen, &meta)) {
			snprintf(why, len, "map %s: %s", map_names[MAP_META], strerror(errno));
			return -EPROTO;
		}
		if (meta.layout && meta.layout != PICFW_LAYOUT) {
			snprintf(why, len, "map %s: layout %u; this picfw's: layout %u",
				 map_names[MAP_META], meta.layout, (unsigned int)PICFW_LAYOUT);
			return -EPROTO;
		}
	}
	return 0;
}

int maps_from_skel(struct picfw_bpf *skel, struct picfw_maps *m)
{
	struct bpf_map *maps[MAP_COUNT];
	int fds[MAP_COUNT], i, ret;

	ret = skel_maps(skel, maps);
	for (i = 0; !ret && i < MAP_COUNT; i++)
		fds[i] = bpf_map__fd(maps[i]);
	return ret ? ret : maps_from_fds(fds, m);
}

/*
 * picfw's own pins in an interface's directory: the maps, by their names,
 * then the link. Nothing else there is ever removed.
 */
#define PIN_COUNT (MAP_COUNT + 1)

static const char *pin_name(int i)
{
	return i < MAP_COUNT ? map_names[i] : PICFW_PIN_LINK;
}

/* Remove picfw's own pins from dir, then dir and the root if they are empty. */
static void unpin_all(const char *dir)
{
	char path[PICFW_PATH_LEN + 64];
	int i;

	for (i = 0; i < PIN_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_name(i));
		unlink(path);
	}
	rmdir(dir);
	rmdir(pin_root());
}

/* Does dir look like a pin directory of picfw's: a directory with its link or maps? */
static int is_pin_dir(const char *dir)
{
	char path[PICFW_PATH_LEN + 64];
	struct stat st;
	int i;

	if (lstat(dir, &st) || !S_ISDIR(st.st_mode))
		return 0;
	for (i = 0; i < PIN_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_name(i));
		if (!lstat(path, &st) && S_ISREG(st.st_mode))
			return 1;
	}
	return 0;
}

static int pin_fd(int fd, const char *dir, const char *name)
{
	char path[PICFW_PATH_LEN + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* Pin each map in dir under its name. On failure, unpin_all() takes back what was pinned. */
static int pin_maps(struct picfw_bpf *skel, const char *dir)
{
	char path[PICFW_PATH_LEN + 64];
	struct bpf_map *maps[MAP_COUNT];
	int i, ret;

	ret = skel_maps(skel, maps);
	if (ret) {
		pr_warn("picfw attach: the BPF object's maps are not picfw's list: %s\n",
			strerror(-ret));
		return ret;
	}
	for (i = 0; i < MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		ret = bpf_map__pin(maps[i], path);
		if (ret) {
			pr_warn("picfw attach: pinning %s in %s failed: %s\n", map_names[i], dir,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int fill_maps(struct picfw_bpf *skel, const char *policy_path,
		     const struct policy_image *img, enum picfw_xdp_mode mode)
{
	struct picfw_gen_cfg cfg = img->cfg;
	struct picfw_meta meta = { 0 };
	struct picfw_maps m;

	int ret;
	uint32_t *slots = NULL, i;
	uint64_t digest;
	char *real;

	ret = maps_from_skel(skel, &m);
	if (ret) {
		pr_warn("picfw attach: mapping the policy maps failed: %s\n", strerror(-ret));
		return ret;
	}
	slots = calloc(img->nrows ? img->nrows : 1, sizeof(*slots));
	if (!slots) {
		ret = -ENOMEM;
		goto out;
	}
	/* The first policy: row i counts in slot i. */
	for (i = 0; i < img->nrows; i++)
		slots[i] = i;
	real = realpath(policy_path, NULL);
	snprintf(meta.policy_path, sizeof(meta.policy_path), "%s", real ? real : policy_path);
	free(real);
	meta.attach_time = meta.apply_time = (uint64_t)time(NULL);
	meta.generation = 1;
	meta.xdp_mode = mode;
	meta.nrows = img->nrows;
	digest = image_digest(img);
	memcpy(meta.digest, &digest, sizeof(digest));
	ret = maps_write_meta(&m, 0, &meta);
	if (!ret)
		ret = maps_write_clean_generation(&m, 0, img, slots); /* new maps */
	if (!ret)
		ret = maps_activate(&m, 0, &cfg);
out:
	if (ret)
		pr_warn("picfw attach: writing the policy maps failed: %s\n", strerror(-ret));
	free(slots);
	maps_close(&m);
	return ret;
}

/* Our egress filter on the clsact qdisc: a fixed handle and priority. */
#define PICFW_TC_HANDLE 0x70696366 /* "picf" */
#define PICFW_TC_PRIORITY 0x7069

/*
 * Attach the egress program. *created tells whether the clsact qdisc was
 * made here (then detach removes it). 0 or a negative errno.
 */
static int tc_attach(int ifindex, int prog_fd, int *created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = PICFW_TC_HANDLE,
		    .priority = PICFW_TC_PRIORITY);
	int ret;

	*created = 0;
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return ret;
	*created = !ret;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret && *created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		*created = 0;
	}
	return ret;
}

/*
 * Remove our egress filter, and the clsact qdisc if attach made it and no
 * other tool's filter (a policer, a monitor) has come to stand on it since,
 * in either direction: destroying the qdisc would take those with it.
 */
static void tc_detach(const char *ifname, int ifindex, int created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PICFW_TC_HANDLE, .priority = PICFW_TC_PRIORITY);
	int ret, others;

	ret = bpf_tc_detach(&hook, &opts);
	if (ret && ret != -ENOENT)
		pr_warn("picfw: removing the TC egress filter from %s failed: %s\n", ifname,
			strerror(-ret));
	if (!created || ret)
		return;
	others = tc_clsact_filter_count(ifindex);
	if (others < 0) {
		pr_warn("picfw: listing the filters on the clsact qdisc of %s failed: %s; "
			"the qdisc stays\n", ifname, strerror(-others));
		return;
	}
	if (others) {
		pr_debug("picfw: other filters on the clsact qdisc of %s: it stays\n", ifname);
		return;
	}
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
}

/* The flow tables as big as the policy asks (`flows tcp|udp N`), before load. */
static int flow_tables_size(struct picfw_bpf *skel, const struct policy_image *img)
{
	struct bpf_map *tables[PICFW_FLOW_TABLES] = {
		[PICFW_FT_TCP4] = skel->maps.picfw_flows_tcp4,
		[PICFW_FT_UDP4] = skel->maps.picfw_flows_udp4,
		[PICFW_FT_TCP6] = skel->maps.picfw_flows_tcp6,
		[PICFW_FT_UDP6] = skel->maps.picfw_flows_udp6,
	};
	int t, ret;

	for (t = 0; t < PICFW_FLOW_TABLES; t++) {
		ret = bpf_map__set_max_entries(tables[t], img->flows[t == PICFW_FT_UDP4 ||
								     t == PICFW_FT_UDP6]);
		if (ret)
			return ret;
	}
	skel->rodata->flows_max[PICFW_TCP] = img->flows[PICFW_TCP];
	skel->rodata->flows_max[PICFW_UDP] = img->flows[PICFW_UDP];
	skel->rodata->picfw_build = picfw_build_id() ^ test_hook_other_build();
	return 0;
}

/*
 * Open the BPF object, size its flow tables and load it, with the XDP
 * program picfw_xdp or (compact) picfw_xdp_compact. *skel is set whatever
 * happens (the caller destroys it). -E2BIG: the verifier ran out of
 * instructions (said by the caller, which then tries the compact program).
 */
static int load_skel(const struct policy_image *img, int compact, struct picfw_bpf **skel)
{
	int ret;

	*skel = picfw_bpf__open();
	if (!*skel) {
		ret = -errno;
		pr_warn("picfw attach: opening the BPF object failed: %s\n", strerror(-ret));
		return ret;
	}
	ret = flow_tables_size(*skel, img);
	if (ret) {
		pr_warn("picfw attach: sizing the flow tables failed: %s\n", strerror(-ret));
		return ret;
	}
	bpf_program__set_autoload((*skel)->progs.picfw_xdp, !compact);
	bpf_program__set_autoload((*skel)->progs.picfw_xdp_compact, compact);
	ret = compact ? 0 : test_hook_xdp_e2big();
	if (!ret)
		ret = picfw_bpf__load(*skel);
	if (ret && !(ret == -E2BIG && !compact))
		pr_warn("picfw attach: loading the BPF program failed: %s (run with -vv for the "
			"verifier log)\n", strerror(-ret));
	return ret;
}

/*
 * The flows of the sessions the Edge already has (seed.h), before the XDP
 * link exists: their first reply through picfw finds its flow.
 */
static void seed_sessions(struct picfw_bpf *skel, const struct policy *p)
{
	struct picfw_maps m;
	if (!maps_from_skel(skel, &m)) {
		seed_flows_report("attach", &m, p);
		maps_close(&m);
	}
}

/*
 * `timeout pickup` from now, before the XDP link exists: sessions the Edge
 * opened before attach that seeding did not find (a router has no sockets
 * of the Edge's) pick up their flows from their replies.
 */
static int open_pickup(struct picfw_bpf *skel, uint32_t seconds)
{
	struct picfw_maps m;
	int ret = maps_from_skel(skel, &m);

	if (ret)
		return ret;
	ret = maps_open_pickup(&m, seconds);
	maps_close(&m);
	return ret;
}

/* Record in generation 0's metadata what attach did on the TC side. */
static int note_tc(struct picfw_bpf *skel, int attached, int created)
{
	struct picfw_meta meta;
	struct picfw_maps m;
	int ret;

	ret = maps_from_skel(skel, &m);
	if (ret)
		return ret;
	ret = maps_read_meta(&m, 0, &meta);
	if (!ret) {
		meta.tc_attached = attached;
		meta.tc_created_qdisc = created;
		ret = maps_write_meta(&m, 0, &meta);
	}
	maps_close(&m);
	return ret;
}

/*
 * A bridge device's own XDP sees only what the bridge sends up to the host,
 * never the frames it bridges from port to port: in front of an Edge,
 * picfw belongs on the bridge port that faces the Internet.
 */
static void warn_if_bridge(const char *ifname)
{
	char path[64 + IF_NAMESIZE];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", ifname);
	if (!stat(path, &st))
		pr_warn("picfw attach: warning: %s is a bridge: frames it forwards between its "
			"ports never pass its XDP; attach to the port that faces the Internet\n",
			ifname);
}

int picfw_attach(const char *ifname, const char *policy_path, const struct policy *p,
		 const struct policy_image *img, enum picfw_xdp_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, query);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	struct bpf_program *xdp_prog;
	struct picfw_bpf *skel = NULL;
	char dir[PICFW_PATH_LEN];
	int ifindex, link_fd = -1, ret, tc_attached = 0, tc_created = 0;

	if (ifname_check(ifname, NULL, 0) || pin_dir(ifname, dir, sizeof(dir))) {
		pr_warn("picfw attach: bad interface name\n");
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		pr_warn("picfw attach: no interface named '%s'\n", ifname);
		return -ENODEV;
	}
	warn_if_bridge(ifname);
	ret = bpffs_ensure("attach");
	if (ret)
		return ret;
	if (mkdir(pin_root(), 0700) && errno != EEXIST) {
		ret = -errno;
		pr_warn("picfw attach: cannot create %s: %s\n", pin_path_shown(pin_root()),
			strerror(-ret));
		return ret;
	}
	if (mkdir(dir, 0700)) {
		ret = -errno;
		if (ret == -EEXIST)
			pr_warn("picfw attach: picfw is already attached to %s (change its policy with "
				"'picfw apply', or 'picfw detach %s' first)\n", ifname, ifname);
		else
			pr_warn("picfw attach: cannot create %s: %s\n", dir, strerror(-ret));
		rmdir(pin_root());
		return ret;
	}

	ret = bpf_xdp_query(ifindex, 0, &query);
	if (!ret && query.prog_id) {
		pr_warn("picfw attach: %s already has an XDP program (id %u); picfw does not "
			"replace it\n", ifname, query.prog_id);
		ret = -EBUSY;
		goto fail;
	}

	ret = load_skel(img, 0, &skel);
	if (ret == -E2BIG) {
		/* A kernel whose verifier needs more than its million instructions (6.1). */
		picfw_bpf__destroy(skel);
		skel = NULL;
		pr_info("picfw attach: this kernel's verifier refused the XDP program (more than "
			"its million instructions); loading its compact variant (the row match "
			"through a call)\n");
		ret = load_skel(img, 1, &skel);
	}
	if (ret)
		goto fail;
	xdp_prog = bpf_program__autoload(skel->progs.picfw_xdp) ? skel->progs.picfw_xdp :
								  skel->progs.picfw_xdp_compact;
	ret = fill_maps(skel, policy_path, img, mode);
	if (ret)
		goto fail;
	if (img->cfg.replies == PICFW_REPLIES_TRACKED) {
		seed_sessions(skel, p);
		ret = open_pickup(skel, p->timeout[PICFW_TIMEOUT_PICKUP]);
		if (ret) {
			pr_warn("picfw attach: opening the pickup window failed: %s\n",
				strerror(-ret));
			goto fail;
		}
	}

	lopts.flags = mode == XDP_ATTACH_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	link_fd = bpf_link_create(bpf_program__fd(xdp_prog), ifindex, BPF_XDP, &lopts);
	if (link_fd < 0) {
		ret = -errno;
		if (mode == XDP_ATTACH_NATIVE && (ret == -EOPNOTSUPP || ret == -ENOTSUPP))
			pr_warn("picfw attach: the driver of %s does not support native XDP; try "
				"--mode generic\n", ifname);
		else if (ret == -EBUSY || ret == -EEXIST)
			pr_warn("picfw attach: %s already has an XDP program; picfw does not "
				"replace it\n", ifname);
		else if (mode == XDP_ATTACH_NATIVE && ret == -ERANGE)
			pr_warn("picfw attach: the driver of %s refused native XDP at this MTU "
				"(%s); lower the MTU or try --mode generic\n", ifname,
				strerror(-ret));
		else
			pr_warn("picfw attach: attaching XDP to %s failed: %s\n", ifname,
				strerror(-ret));
		goto fail;
	}

	ret = pin_maps(skel, dir);
	if (ret)
		goto fail;
	/*
	 * The egress program records the flows the Edge opens. Without it only
	 * stateless replies can work: refuse, unless the policy asks for those.
	 */
	ret = tc_attach(ifindex, bpf_program__fd(skel->progs.picfw_tc_egress), &tc_created);
	if (ret && img->cfg.replies == PICFW_REPLIES_TRACKED) {
		pr_warn("picfw attach: attaching the TC egress program to %s failed: %s (it tracks "
			"the flows the Edge opens; without it, say 'replies stateless' in the "
			"policy)\n", ifname, strerror(-ret));
		goto fail;
	}
	if (ret)
		pr_warn("picfw attach: warning: no TC egress program on %s (%s); replies are "
			"stateless and 'picfw apply' cannot turn tracking on\n",
			ifname, strerror(-ret));
	tc_attached = !ret;
	ret = note_tc(skel, tc_attached, tc_created);
	if (ret) {
		pr_warn("picfw attach: writing the metadata of %s failed: %s\n", ifname,
			strerror(-ret));
		goto fail;
	}
	ret = pin_fd(link_fd, dir, PICFW_PIN_LINK);
	if (ret) {
		pr_warn("picfw attach: pinning the link in %s failed: %s\n", dir, strerror(-ret));
		goto fail;
	}
	close(link_fd);
	picfw_bpf__destroy(skel);
	if (policy_copy_save(ifname, 0, p))
		pr_warn("picfw attach: warning: could not save a copy of the policy in %s\n",
			PICFW_RUN_DIR);
	return 0;

fail:
	unpin_all(dir);
	if (tc_attached)
		tc_detach(ifname, ifindex, tc_created);
	if (link_fd >= 0)
		close(link_fd); /* not pinned: closing it detaches */
	picfw_bpf__destroy(skel);
	return ret;
}

/*
 * The end of a detach: picfw's pins in dir and dir itself, the policy copies
 * of its key (dir's last component, "IFACE" or "IFACE:NETNS"), then the
 * interface's lock (lock, -1 if none) released.
 */
static int remove_pins(const char *dir, int lock)
{
	const char *key = strrchr(dir, '/');
	struct stat st;

	unpin_all(dir);
	policy_copy_remove_key(key ? key + 1 : dir);
	if (lock >= 0)
		close(lock);
	if (!stat(dir, &st)) {
		pr_warn("picfw detach: could not remove %s\n", pin_path_shown(dir));
		return -ENOTEMPTY;
	}
	return 0;
}

int picfw_detach(const char *ifname)
{
	char dir[PICFW_PATH_LEN], path[PICFW_PATH_LEN + 64];
	struct picfw_maps m;
	struct stat st;
	int fd, lock;

	if (pin_dir(ifname, dir, sizeof(dir))) {
		pr_warn("picfw detach: bad interface name\n");
		return -EINVAL;
	}
	if (lstat(dir, &st)) {
		pr_warn("picfw detach: picfw is not attached to %s\n", ifname);
		return -ENOENT;
	}
	if (!is_pin_dir(dir)) {
		pr_warn("picfw detach: %s is not a picfw pin directory (no link or maps of picfw's "
			"in it); nothing removed\n", pin_path_shown(dir));
		return -ENOTDIR;
	}
	/* Wait for an apply in progress; the lock goes with the directory. */
	lock = picfw_lock(ifname);
	/* The egress program, if attach put one there and the interface is still here. */
	/* Any version's: detach is how a filter of another version is taken off. */
	if (!maps_open_pinned_any_version(ifname, &m)) {
		struct picfw_ctl ctl;
		struct picfw_meta meta;
		int ifindex = (int)if_nametoindex(ifname), linked = picfw_link_ifindex(ifname);

		/*
		 * A defunct link's TC filter went with its interface, not on one of
		 * the same name. Read whatever the maps' sizes: another version's.
		 */
		if (ifindex && (linked < 0 || linked == ifindex) &&
		    !maps_read_prefix(&m, MAP_CTL, 0, &ctl, sizeof(ctl)) &&
		    !maps_read_prefix(&m, MAP_META, ctl.active & 1, &meta, sizeof(meta)) &&
		    meta.tc_attached)
			tc_detach(ifname, ifindex, meta.tc_created_qdisc);
		maps_close(&m);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PICFW_PIN_LINK);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* A link whose interface is gone is already detached: nothing to undo. */
		if (bpf_link_detach(fd) && errno != ENOLINK && errno != ENODEV)
			pr_warn("picfw: detaching the link on %s: %s\n", ifname, strerror(errno));
		close(fd);
	}
	return remove_pins(dir, lock);
}

int picfw_detach_gone(const char *entry)
{
	char ifname[IF_NAMESIZE], dir[PICFW_PATH_LEN], path[PICFW_PATH_LEN + 64];
	struct bpf_link_info info;
	__u32 len;
	unsigned long netns;
	struct stat st;
	int fd, lock, tries;

	if (pin_entry_parse(entry, ifname, &netns) || !netns) {
		pr_warn("picfw detach: bad interface name: neither IFACE nor IFACE:NETNS (a pin "
			"directory's name, as 'picfw status' lists it)\n");
		return -EINVAL;
	}
	if (netns == netns_current())
		return picfw_detach(ifname);
	if (snprintf(dir, sizeof(dir), "%s/%s", pin_root(), entry) >= (int)sizeof(dir) ||
	    lstat(dir, &st)) {
		pr_warn("picfw detach: no pins of %s in %s\n", entry, pin_path_shown(pin_root()));
		return -ENOENT;
	}
	if (!is_pin_dir(dir)) {
		pr_warn("picfw detach: %s is not a picfw pin directory (no link or maps of picfw's "
			"in it); nothing removed\n", pin_path_shown(dir));
		return -ENOTDIR;
	}
	if (netns_alive(netns)) {
		pr_warn("picfw detach: the network namespace of %s (inode %lu) still exists: run "
			"'picfw detach %s' in it; nothing removed\n", entry, netns, ifname);
		return -EBUSY;
	}
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX)) {
		close(lock);
		lock = -1;
	}
	/*
	 * Its interfaces, the XDP link's and the egress filter's, go with it,
	 * in the kernel's cleanup a moment after the last reference: up to 3 s.
	 */
	snprintf(path, sizeof(path), "%s/%s", dir, PICFW_PIN_LINK);
	fd = bpf_obj_get(path);
	for (tries = 0; fd >= 0; tries++) {
		len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
		    !info.xdp.ifindex)
			break;
		if (tries == 60) {
			pr_warn("picfw detach: the link of %s is still on interface index %u; "
				"nothing removed\n", entry, info.xdp.ifindex);
			close(fd);
			if (lock >= 0)
				close(lock);
			return -EBUSY;
		}
		usleep(50 * 1000);
	}
	if (fd >= 0)
		close(fd);
	return remove_pins(dir, lock);
}

uint64_t picfw_build_id(void)
{
	uint64_t h = FNV1A64_BASIS;
	size_t sz = 0;
	const void *elf = picfw_bpf__elf_bytes(&sz);

	fnv1a64(&h, elf, sz);
	return h;
}

/*
 * picfw_build in the .rodata map of program prog_fd, found by its BTF (a
 * build without it has no such variable): 0 with *build, 1 when there is
 * none, a negative errno when it cannot be read.
 */
static int program_build(int prog_fd, uint64_t *build)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[64], i, n;
	int ret = 1;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < sizeof(ids) / sizeof(ids[0]) ? info.nr_map_ids
							  : sizeof(ids) / sizeof(ids[0]);
	for (i = 0; i < n && ret == 1; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi), zero = 0;
		const struct btf_var_secinfo *vs;
		const struct btf_type *t;
		struct btf *btf;
		size_t nlen;
		void *value;
		int fd, v;

		memset(&mi, 0, sizeof(mi));
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			return -errno;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) || !mi.btf_id ||
		    (nlen = strlen(mi.name)) < 7 || strcmp(mi.name + nlen - 7, ".rodata")) {
			close(fd);
			continue;
		}
		btf = btf__load_from_kernel_by_id(mi.btf_id);
		t = btf ? btf__type_by_id(btf, mi.btf_value_type_id) : NULL;
		value = calloc(1, mi.value_size);
		if (t && btf_is_datasec(t) && value && !bpf_map_lookup_elem(fd, &zero, value)) {
			vs = btf_var_secinfos(t);
			for (v = 0; v < btf_vlen(t); v++, vs++) {
				const struct btf_type *var = btf__type_by_id(btf, vs->type);

				if (var && !strcmp(btf__name_by_offset(btf, var->name_off),
						   "picfw_build") &&
				    vs->size == sizeof(*build) &&
				    vs->offset + sizeof(*build) <= mi.value_size) {
					memcpy(build, (char *)value + vs->offset, sizeof(*build));
					ret = 0;
				}
			}
		}
		free(value);
		btf__free(btf);
		close(fd);
	}
	return ret;
}

/* The info of ifname's pinned link: 0, or a negative errno (-ENOENT: not attached). */
static int pinned_link_info(const char *ifname, struct bpf_link_info *info)
{
	char dir[PICFW_PATH_LEN], path[PICFW_PATH_LEN + 64];
	__u32 len = sizeof(*info);
	int fd, ret;

	memset(info, 0, sizeof(*info));
	if (pin_dir(ifname, dir, sizeof(dir)))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", dir, PICFW_PIN_LINK);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	ret = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return ret;
}

int picfw_prog_is_this_build(__u32 prog_id)
{
	uint64_t build = 0;
	int fd, ret;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	ret = program_build(fd, &build);
	close(fd);
	if (ret < 0)
		return ret;
	return !ret && build == picfw_build_id();
}

int picfw_program_is_this_build(const char *ifname)
{
	struct bpf_link_info info;
	int ret = pinned_link_info(ifname, &info);

	return ret ? ret : picfw_prog_is_this_build(info.prog_id);
}

int picfw_link_ifindex(const char *ifname)
{
	struct bpf_link_info info;
	int ret = pinned_link_info(ifname, &info);

	if (ret)
		return ret;
	return info.type == BPF_LINK_TYPE_XDP ? (int)info.xdp.ifindex : 0;
}
