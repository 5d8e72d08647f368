// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_stats.c - picfw stats IFACE [--json | --prometheus]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "stats.h"

int cmd_stats(int argc, char **argv)
{
	enum { TABLE, JSON, PROMETHEUS };
	int format = TABLE;
	const struct cmd_opt opts[] = {
		{ 'j', "json", NULL, "one JSON document with stable field names", &format, JSON },
		{ 'p', "prometheus", NULL, "Prometheus text exposition format", &format,
		  PROMETHEUS },
		{ 0 },
	};
	struct stats_snapshot *s;
	struct picfw_maps m;
	int ret;

	ret = cmd_parse("stats", argc, argv, opts, 1, 1);
	if (ret >= 0)
		return ret;
	ret = cmd_ifname("stats", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("stats"))
		return EXIT_FAIL;

	if (cmd_open_pinned("stats", argv[optind], &m))
		return EXIT_FAIL;
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
	if (format == JSON)
		stats_print_json(stdout, s);
	else if (format == PROMETHEUS)
		stats_print_prometheus(stdout, s);
	else
		stats_print_table(stdout, s);
	free(s);
	return EXIT_OK;
}
