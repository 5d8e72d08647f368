// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_run.c - picfw run IFACE POLICY [--mode native|generic] [--detach-on-exit]: the service. */
#include "attach.h"
#include "cmd.h"
#include "service.h"

int cmd_run(int argc, char **argv)
{
	int mode = XDP_ATTACH_NATIVE, detach = 0;
	const struct cmd_opt opts[] = {
	    {'m', "mode", "MODE", "native (the default) or generic, when run attaches", &mode, 0,
	     cmd_xdp_modes},
	    {'d', "detach-on-exit", NULL,
	     "detach the filter when the service stops\n"
	     "(by default it stays attached and enforcing)",
	     &detach, 1},
	    {0},
	};
	struct service_opts o;
	int ret;

	ret = cmd_parse("run", argc, argv, opts, 2, 2);
	if (ret >= 0)
		return ret;
	ret = cmd_ifname("run", argv[optind]);
	if (ret)
		return ret;
	if (cmd_need_caps("run"))
		return EXIT_FAIL;
	o = (struct service_opts){.ifname = argv[optind],
				  .policy = argv[optind + 1],
				  .mode = (enum picfw_xdp_mode)mode,
				  .detach_on_exit = detach};
	return service_run(&o) ? EXIT_FAIL : EXIT_OK;
}
