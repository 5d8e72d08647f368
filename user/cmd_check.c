// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_check.c - picfw check POLICY: parse, compile, print the normalised table. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "compile.h"
#include "policy.h"
#include "policy_file.h"

static const struct option opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

int cmd_check(int argc, char **argv)
{
	struct policy_image img;
	struct policy p;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		ret = cmd_getopt_common(opt, "check");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage("check", 1);
	ret = load_policy("check", argv[optind], NULL, &p, &img);
	if (ret)
		return ret;
	policy_print(stdout, &p);
	image_free(&img);
	policy_free(&p);
	return EXIT_OK;
}
