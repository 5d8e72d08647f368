// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_stats.c - picfw stats IFACE [--json | --prometheus]. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "stats.h"

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct stats_snapshot *s;
	struct picfw_maps m;
	int opt, ret, format = 0;

	while ((opt = getopt_long(argc, argv, "jphv", opts, NULL)) != -1) {
		if (opt == 'j' || opt == 'p') {
			if (format && format != opt) {
				fprintf(stderr, "picfw stats: --json and --prometheus exclude each other\n");
				return EXIT_USAGE;
			}
			format = opt;
			continue;
		}
		ret = cmd_getopt_common(opt, "stats");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage("stats", 1);
	ret = cmd_ifname("stats", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("stats"))
		return EXIT_FAIL;

	ret = maps_open_pinned(argv[optind], &m);
	if (ret == -ENOENT)
		return cmd_fail("stats", "picfw is not attached to %s", argv[optind]);
	if (ret)
		return cmd_fail("stats", "reading the pins of %s: %s", argv[optind], strerror(-ret));
	s = malloc(sizeof(*s));
	if (!s) {
		maps_close(&m);
		return cmd_fail("stats", "out of memory");
	}
	ret = stats_read(argv[optind], &m, s);
	maps_close(&m);
	if (ret) {
		free(s);
		return cmd_fail("stats", "reading the counters of %s: %s", argv[optind],
				strerror(-ret));
	}
	if (format == 'j')
		stats_print_json(stdout, s);
	else if (format == 'p')
		stats_print_prometheus(stdout, s);
	else
		stats_print_table(stdout, s);
	free(s);
	return EXIT_OK;
}
