// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_apply.c - picfw apply IFACE POLICY [--dry-run]: a live, atomic policy update. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cmd.h"
#include "diff.h"
#include "ifaddr.h"
#include "maps.h"
#include "policy.h"
#include "policy_file.h"

static int dry_run(const char *ifname, const struct policy *p)
{
	struct policy_errors errs = { 0 };
	struct picfw_maps m;
	char path[PICFW_PATH_LEN];
	struct picfw_ctl ctl;
	struct policy old;
	int ret;

	ret = maps_open_pinned(ifname, &m);
	if (ret == -ENOENT)
		return cmd_fail("apply", "picfw is not attached to %s", ifname);
	if (!ret)
		ret = maps_read_ctl(&m, &ctl);
	maps_close(&m);
	if (ret)
		return cmd_fail("apply", "reading the pins of %s: %s", ifname, strerror(-ret));
	/* The copy of the active generation's policy, written before it was activated. */
	if (policy_copy_path(ifname, ctl.active & 1, path, sizeof(path)) ||
	    policy_load(path, &old, &errs)) {
		policy_errors_free(&errs);
		return cmd_fail("apply", "no readable copy of the active policy in %s "
				"(attached by an older picfw?)", path);
	}
	policy_errors_free(&errs);
	printf("dry run: %s, nothing changed\n", ifname);
	policy_diff(stdout, &old, p);
	policy_free(&old);
	return EXIT_OK;
}

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct apply_result res;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	int opt, ret, dry = 0;
	double t0, t1;
	char err[512];

	while ((opt = getopt_long(argc, argv, "nhv", opts, NULL)) != -1) {
		if (opt == 'n') {
			dry = 1;
			continue;
		}
		ret = cmd_getopt_common(opt, "apply");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 2)
		return cmd_usage("apply", 1);
	ret = cmd_ifname("apply", argv[optind]);
	if (ret)
		return ret;

	/* A bad policy is refused before anything touches the maps. */
	t0 = now_ms();
	ret = load_policy("apply", argv[optind + 1], &real, &p, &img);
	if (ret)
		return ret;
	t1 = now_ms();
	if (cmd_need_caps("apply")) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (dry) {
		ret = dry_run(argv[optind], &p);
		goto out;
	}
	if (picfw_apply(argv[optind], real, &p, &img, &res, err, sizeof(err))) {
		ret = cmd_fail("apply", "%s", err);
		goto out;
	}
	iface_warn_unprotected("apply", argv[optind], &p);
	printf("picfw: applied %s to %s: generation %llu, %zu rows (%u kept, %u added, "
	       "%u removed), %s mode; compiled in %.1f ms, written in %.1f ms, "
	       "switched in %.1f ms, old generation cleared in %.1f ms\n",
	       argv[optind + 1], argv[optind], (unsigned long long)res.generation, p.nrows, res.kept,
	       res.added, res.removed, policy_mode_name(p.mode), t1 - t0, res.write_ms,
	       res.switch_ms, res.clear_ms);
	ret = EXIT_OK;
out:
	image_free(&img);
	policy_free(&p);
	free(real);
	return ret;
}
