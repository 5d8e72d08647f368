// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_attach.c - picfw attach IFACE POLICY [--mode native|generic]; picfw detach IFACE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "clock.h"
#include "cmd.h"
#include "ifaddr.h"
#include "policy.h"
#include "progress.h"

int cmd_attach(int argc, char **argv)
{
	int mode = XDP_ATTACH_NATIVE;
	const struct cmd_opt opts[] = {
		{ 'm', "mode", "MODE", "native (the driver's XDP, the default) or generic (skb mode,\n"
		  "any driver, slower)", &mode, 0, cmd_xdp_modes },
		{ 0 },
	};
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	double compile_ms, load_ms;
	int ret;

	ret = cmd_parse("attach", argc, argv, opts, 2, 2);
	if (ret >= 0)
		return ret;
	ret = cmd_load_iface_policy("attach", argv[optind], argv[optind + 1], &real, &p, &img,
				    &compile_ms);
	if (ret >= 0)
		return ret;
	load_ms = monotonic_ms();
	progress_step("attach", "loading the program, writing %zu rows and %zu prefixes to %s",
		      p.nrows, img.nsrc4 + img.nsrc6 + img.nprot4 + img.nprot6, argv[optind]);
	ret = picfw_attach(argv[optind], real, &p, &img, (enum picfw_xdp_mode)mode);
	progress_clear();
	if (ret) {
		ret = EXIT_FAIL;
		goto out;
	}
	load_ms = monotonic_ms() - load_ms;
	iface_warn_unprotected("attach", argv[optind], &p);
	printf("picfw: attached to %s (%s XDP), %zu rows, %s mode; "
	       "compiled in %.1f ms, loaded and written in %.1f ms\n",
	       argv[optind], mode == XDP_ATTACH_GENERIC ? "generic" : "native", p.nrows,
	       policy_mode_name(p.mode), compile_ms, load_ms);
	ret = EXIT_OK;
out:
	image_free(&img);
	policy_free(&p);
	free(real);
	return ret;
}

int cmd_detach(int argc, char **argv)
{
	int ret;

	ret = cmd_parse("detach", argc, argv, NULL, 1, 1);
	if (ret >= 0)
		return ret;
	/* IFACE:NETNS: the pins of a network namespace that is gone. */
	if (strchr(argv[optind], ':')) {
		if (cmd_need_caps("detach"))
			return EXIT_FAIL;
		ret = picfw_detach_gone(argv[optind]);
		if (ret)
			return ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		printf("picfw: removed the pins of %s (its network namespace is gone)\n",
		       argv[optind]);
		return EXIT_OK;
	}
	ret = cmd_ifname("detach", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("detach"))
		return EXIT_FAIL;
	if (picfw_detach(argv[optind]))
		return EXIT_FAIL;
	printf("picfw: detached from %s\n", argv[optind]);
	return EXIT_OK;
}
