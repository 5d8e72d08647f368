// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_apply.c - picfw apply IFACE POLICY [--dry-run]: a live, atomic policy update. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "attach.h"
#include "cmd.h"
#include "diff.h"
#include "ifaddr.h"
#include "maps.h"
#include "policy.h"
#include "policy_copy.h"
#include "progress.h"

static int dry_run(const char *ifname, const struct policy *p)
{
	char path[PICFW_PATH_LEN], why[512];
	struct picfw_meta meta;
	struct picfw_maps m;
	struct picfw_ctl ctl;
	struct policy old;
	uint64_t digest;
	int ret;

	if (cmd_open_pinned("apply", ifname, &m))
		return EXIT_FAIL;
	ret = maps_read_ctl(&m, &ctl);
	if (!ret)
		ret = maps_read_meta(&m, ctl.active & 1, &meta);
	maps_close(&m);
	if (ret)
		return cmd_fail("apply", "reading the pins of %s: %s", ifname, strerror(-ret));
	/*
	 * The copy of the active generation's policy, written before it was
	 * activated; trusted only if it compiles to what that generation holds
	 * (an apply that could not save its copy leaves an older one there).
	 */
	if (policy_copy_path(ifname, ctl.active & 1, path, sizeof(path)))
		return cmd_fail("apply", "no copy of the active policy of %s", ifname);
	if (policy_copy_load(path, &old, &digest, why, sizeof(why)))
		return cmd_fail("apply", "no readable copy of the active policy: %s "
				"(attached by an older picfw?); nothing to compare with", why);
	if (memcmp(meta.digest, &digest, sizeof(digest))) {
		policy_free(&old);
		return cmd_fail("apply", "%s is not the policy %s enforces (a copy left from an "
				"apply that could not save its own); nothing to compare with",
				path, ifname);
	}
	printf("dry run: %s, nothing applied\n", ifname);
	policy_diff(stdout, &old, p);
	policy_free(&old);
	return EXIT_OK;
}

/*
 * A filter whose link lost its interface filters nothing: an apply there
 * would report success for a policy that enforces nowhere. (`picfw run`
 * applies to it on purpose, then attaches again when the interface returns.)
 */
static int refuse_defunct(const char *ifname)
{
	int linked = picfw_link_ifindex(ifname);
	unsigned int ifindex = if_nametoindex(ifname);

	if (linked < 0 || (linked && (unsigned int)linked == ifindex))
		return 0;
	return cmd_fail("apply",
			"the filter of %s is defunct: %s; nothing applied (run 'picfw detach %s', "
			"then attach)",
			ifname,
			ifindex ? "it is not on the interface of that name now (re-created, or "
				  "its link detached)"
				: "its interface is gone",
			ifname);
}

int cmd_apply(int argc, char **argv)
{
	int dry = 0;
	const struct cmd_opt opts[] = {
		{ 'n', "dry-run", NULL, "show settings changed, rows added, removed, changed and\n"
		  "kept, and prefixes added and removed per set; change nothing", &dry, 1 },
		{ 0 },
	};
	struct apply_result res;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	double compile_ms;
	int ret;

	ret = cmd_parse("apply", argc, argv, opts, 2, 2);
	if (ret >= 0)
		return ret;
	ret = cmd_load_iface_policy("apply", argv[optind], argv[optind + 1], &real, &p, &img,
				    &compile_ms);
	if (ret == EXIT_FAIL && !dry)
		apply_count_refused(argv[optind]); /* a bad policy: refused, for the exporter */
	if (ret >= 0)
		return ret;
	if (dry) {
		ret = dry_run(argv[optind], &p);
		goto out;
	}
	ret = refuse_defunct(argv[optind]);
	if (ret)
		goto out;
	progress_step("apply", "writing %zu rows and %zu prefixes to %s's inactive generation",
		      p.nrows, img.nsrc4 + img.nsrc6 + img.nprot4 + img.nprot6, argv[optind]);
	ret = picfw_apply(argv[optind], real, &p, &img, &res);
	progress_clear();
	if (ret) {
		ret = EXIT_FAIL;
		goto out;
	}
	iface_warn_unprotected("apply", argv[optind], &p);
	printf("picfw: applied %s to %s: generation %llu, %zu rows (%u kept, %u added, "
	       "%u removed), %s mode; compiled in %.1f ms, written in %.1f ms, "
	       "switched in %.1f ms, old generation cleared in %.1f ms\n",
	       argv[optind + 1], argv[optind], (unsigned long long)res.generation, p.nrows, res.kept,
	       res.added, res.removed, policy_mode_name(p.mode), compile_ms, res.write_ms,
	       res.switch_ms, res.clear_ms);
	ret = EXIT_OK;
out:
	image_free(&img);
	policy_free(&p);
	free(real);
	return ret;
}
