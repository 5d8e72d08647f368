// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_flows.c - picfw flows IFACE [--json]: the flows the Edge opened, as tracked. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "maps.h"
#include "stats.h"

int cmd_flows(int argc, char **argv)
{
	static struct flows_view v;
	int json = 0;
	const struct cmd_opt opts[] = {
		{ 'j', "json", NULL, "one JSON document", &json, 1 },
		{ 0 },
	};
	const char *ifname;
	struct picfw_maps m;
	int ret;

	ret = cmd_parse("flows", argc, argv, opts, 1, 1);
	if (ret >= 0)
		return ret;
	ifname = argv[optind];
	ret = cmd_ifname("flows", ifname);
	if (ret)
		return ret;
	if (cmd_need_caps("flows"))
		return EXIT_FAIL;
	if (cmd_open_pinned("flows", ifname, &m))
		return EXIT_FAIL;
	ret = flows_read_view(&m, &v);
	if (ret) {
		maps_close(&m);
		return cmd_fail("flows", "reading the maps of %s: %s", ifname, strerror(-ret));
	}
	ret = json ? flows_print_json(stdout, ifname, &v, &m) : flows_print_table(stdout, &v, &m);
	maps_close(&m);
	if (ret)
		return cmd_fail("flows", "reading the flow table of %s: %s", ifname, strerror(-ret));
	return EXIT_OK;
}
