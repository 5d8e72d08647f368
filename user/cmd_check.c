// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_check.c - picfw check POLICY: parse, compile, print the normalised table. */
#include <stdio.h>

#include "cmd.h"
#include "compile.h"
#include "policy.h"
#include "policy_file.h"

int cmd_check(int argc, char **argv)
{
	struct policy_image img;
	struct policy p;
	int ret;

	ret = cmd_parse("check", argc, argv, NULL, 1, 1);
	if (ret >= 0)
		return ret;
	ret = load_policy("check", argv[optind], NULL, &p, &img);
	if (ret)
		return ret;
	policy_print(stdout, &p);
	image_free(&img);
	policy_free(&p);
	return EXIT_OK;
}
