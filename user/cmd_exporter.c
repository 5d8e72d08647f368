// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_exporter.c - picfw exporter [--listen ADDR:PORT]: /metrics over HTTP. */
#include <stdio.h>

#include "cmd.h"
#include "exporter.h"
#include "log.h"

int cmd_exporter(int argc, char **argv)
{
	const char *listen = PICFW_EXPORTER_LISTEN;
	int unused = 0;
	const struct cmd_opt opts[] = {
		{ 'l', "listen", "ADDR:PORT", "where to listen (default " PICFW_EXPORTER_LISTEN
		  ");\n[ADDR6]:PORT for IPv6", &unused, 0, NULL, &listen },
		{ 0 },
	};
	struct exporter_listen l;
	int ret;

	ret = cmd_parse("exporter", argc, argv, opts, 0, 0);
	if (ret >= 0)
		return ret;
	if (exporter_parse_listen(listen, &l)) {
		pr_warn("picfw exporter: bad --listen '%s' (ADDR:PORT or [ADDR6]:PORT, numeric)\n",
			listen);
		return EXIT_USAGE;
	}
	if (cmd_need_caps("exporter"))
		return EXIT_FAIL;
	return exporter_run(&l) ? EXIT_FAIL : EXIT_OK;
}
