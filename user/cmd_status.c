// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_status.c - picfw status [IFACE]: what is attached where, with which policy. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "bpffs.h"
#include "clock.h"
#include "cmd.h"
#include "ifaddr.h"
#include "ifname.h"
#include "maps.h"
#include "policy.h"

static void format_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_digest(const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", d[i]);
}

/* Attach's pickup window (picfw_ctl's pickup_until): open, for how long, or closed. */
static void print_pickup(const struct picfw_ctl *ctl)
{
	uint64_t now = ctl->pickup_until ? flow_clock_ns() : 0;
	int64_t left = (int64_t)(ctl->pickup_until - now);

	if (ctl->pickup_until && now && left > 0)
		printf("  pickup      open, %.0f s left (TCP replies of sessions open before "
		       "attach pick up their flows)\n", (double)left / 1e9);
	else
		printf("  pickup      closed\n");
}

/*
 * One pin directory: entry "IFACE" or "IFACE:NETNS" of pin_root(). One of
 * this network namespace is shown whole; one of another namespace without
 * what only that namespace can say (the interface's name for the link's
 * ifindex, its addresses).
 */
static int show_one(const char *entry)
{
	char dir[PICFW_PATH_LEN], path[PICFW_PATH_LEN + 64], attached[32], applied[32];
	char ifname[IF_NAMESIZE], ifbuf[IF_NAMESIZE] = "", unprotected[512], ns[128] = "";
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	unsigned long netns;
	struct picfw_meta meta;
	struct picfw_ctl ctl;
	struct picfw_maps m;
	int fd, err, here, live = 0;

	if (pin_entry_parse(entry, ifname, &netns))
		return cmd_fail("status", "%s is not a pin directory's name", entry);
	here = netns == netns_current();
	if (here) {
		if (cmd_open_pinned("status", ifname, &m))
			return EXIT_FAIL;
		pin_dir(ifname, dir, sizeof(dir));
	} else {
		snprintf(dir, sizeof(dir), "%s/%s", pin_root(), entry);
		err = maps_open_pin_dir(dir, &m);
		if (err)
			return cmd_fail("status", "reading the pins in %s: %s", pin_path_shown(dir),
					strerror(-err));
	}
	if (netns) {
		netns_name(netns, ns, sizeof(ns));
		snprintf(ns + strlen(ns), sizeof(ns) - strlen(ns), "%s",
			 here ? ", this one" : "");
	}
	err = maps_read_ctl(&m, &ctl);
	if (!err)
		err = maps_read_meta(&m, ctl.active & 1, &meta);
	/* This network namespace's addresses of ifname, against the active maps. */
	if (!err && here)
		iface_unprotected_format(ifname, &m, ctl.active & 1, unprotected, sizeof(unprotected));
	else
		snprintf(unprotected, sizeof(unprotected), "- (another network namespace)");
	maps_close(&m);
	if (err)
		return cmd_fail("status", "reading the maps of %s: %s", ifname, strerror(-err));

	snprintf(path, sizeof(path), "%s/%s", dir, PICFW_PIN_LINK);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			memset(&info, 0, sizeof(info));
		close(fd);
	}
	format_time(meta.attach_time, attached, sizeof(attached));
	format_time(meta.apply_time, applied, sizeof(applied));

	if (netns)
		printf("%s (network namespace %s): ", ifname, ns);
	else
		printf("%s: ", ifname);
	/* Gone: its interfaces go in the kernel's cleanup, a moment later. */
	if (netns && !here && !netns_alive(netns))
		printf("DEFUNCT: its network namespace is gone (remove the pins with "
		       "'picfw detach %s')\n", entry);
	else if (info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex &&
		 (!here || if_indextoname(info.xdp.ifindex, ifbuf)))
		live = 1;
	else
		printf("DEFUNCT: the interface is gone or the link was detached "
		       "(run 'picfw detach %s'%s)\n", ifname, here ? "" : " in its namespace");
	if (live)
		printf("attached, %s XDP, link id %u, program id %u\n",
		       meta.xdp_mode ? "generic" : "native", info.id, info.prog_id);
	else /* it filters nothing: no window, no addresses of its own */
		snprintf(unprotected, sizeof(unprotected), "- (the filter is on no interface)");
	if (netns)
		printf("  pins        %s\n", pin_path_shown(dir));
	printf("  policy      %s (applied %s)\n", meta.policy_path, applied);
	printf("  rows        %u\n", meta.nrows);
	printf("  mode        %s\n", policy_mode_name(ctl.gen[ctl.active & 1].mode));
	printf("  generation  %llu (slot %u)\n", (unsigned long long)meta.generation,
	       ctl.active & 1);
	printf("  attached    %s\n", attached);
	if (live && here) {
		int same = picfw_prog_is_this_build(info.prog_id);

		if (same == 1)
			printf("  program     this build's\n");
		else if (!same)
			printf("  program     ANOTHER BUILD's: another picfw attached it, and its data "
			       "path runs until 'picfw detach %s' and 'picfw attach' with this one\n",
			       ifname);
	}
	if (live)
		print_pickup(&ctl);
	printf("  unprotected %s (unprotected %s)\n", unprotected,
	       policy_unprotected_name(ctl.gen[ctl.active & 1].unprotected));
	printf("  digest      ");
	print_digest(meta.digest, 8);
	printf(" (FNV-1a 64 of the compiled policy)\n");
	return EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
	struct dirent *de;
	int ret, n = 0, worst = EXIT_OK;
	DIR *d;

	ret = cmd_parse("status", argc, argv, NULL, 0, 1);
	if (ret >= 0)
		return ret;
	if (argc - optind == 1) {
		ret = cmd_ifname("status", argv[optind]);
		if (ret)
			return ret;
	}
	if (cmd_need_caps("status"))
		return EXIT_FAIL;
	if (argc - optind == 1) {
		char dir[PICFW_PATH_LEN];

		/* This namespace's IFACE: its entry is its pin directory's name. */
		if (pin_dir(argv[optind], dir, sizeof(dir)))
			return cmd_fail("status", "bad interface name");
		return show_one(strrchr(dir, '/') + 1);
	}

	d = opendir(pin_root());
	if (d) {
		while ((de = readdir(d))) {
			char ifname[IF_NAMESIZE];
			unsigned long netns;

			/* Only what could be an interface's pin directory, of any namespace. */
			if (pin_entry_parse(de->d_name, ifname, &netns))
				continue;
			if (n++)
				putchar('\n');
			if (show_one(de->d_name))
				worst = EXIT_FAIL;
		}
		closedir(d);
	}
	if (!n)
		printf("picfw is not attached to any interface\n");
	return worst;
}
