// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_attach.c - picfw attach IFACE POLICY [--mode native|generic]; picfw detach IFACE. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach.h"
#include "cmd.h"
#include "ifaddr.h"
#include "log.h"
#include "policy.h"
#include "policy_file.h"

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	enum picfw_xdp_mode mode = XDP_ATTACH_NATIVE;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	double t0, t1, t2;
	char err[512];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "m:hv", opts, NULL)) != -1) {
		if (opt == 'm') {
			if (!strcmp(optarg, "native")) {
				mode = XDP_ATTACH_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				mode = XDP_ATTACH_GENERIC;
			} else {
				fprintf(stderr, "picfw attach: unknown mode '%s' (native or generic)\n",
					optarg);
				return EXIT_USAGE;
			}
			continue;
		}
		ret = cmd_getopt_common(opt, "attach");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 2)
		return cmd_usage("attach", 1);
	ret = cmd_ifname("attach", argv[optind]);
	if (ret)
		return ret;

	/* A bad policy is refused before anything touches the kernel. */
	t0 = now_ms();
	ret = load_policy("attach", argv[optind + 1], &real, &p, &img);
	if (ret)
		return ret;
	t1 = now_ms();
	if (cmd_need_caps("attach")) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (picfw_attach(argv[optind], real, &p, &img, mode, err, sizeof(err))) {
		ret = cmd_fail("attach", "%s", err);
		goto out;
	}
	t2 = now_ms();
	iface_warn_unprotected("attach", argv[optind], &p);
	printf("picfw: attached to %s (%s XDP), %zu rows, %s mode; "
	       "compiled in %.1f ms, loaded and written in %.1f ms\n",
	       argv[optind], mode == XDP_ATTACH_GENERIC ? "generic" : "native", p.nrows,
	       policy_mode_name(p.mode), t1 - t0, t2 - t1);
	ret = EXIT_OK;
out:
	image_free(&img);
	policy_free(&p);
	free(real);
	return ret;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	char err[512];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		ret = cmd_getopt_common(opt, "detach");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage("detach", 1);
	ret = cmd_ifname("detach", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("detach"))
		return EXIT_FAIL;
	if (picfw_detach(argv[optind], err, sizeof(err)))
		return cmd_fail("detach", "%s", err);
	printf("picfw: detached from %s\n", argv[optind]);
	return EXIT_OK;
}
