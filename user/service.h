/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * service.h - the service room: `picfw run IFACE POLICY`. Attach, or adopt a
 * filter already attached, then follow the policy file (inotify on its
 * directory, a short debounce, SIGHUP) and the interface (rtnetlink link
 * events), telling systemd through sd_notify. It only calls what attach and
 * apply call; stopping it leaves the filter enforcing.
 */
#ifndef PICFW_SERVICE_H
#define PICFW_SERVICE_H

#include "attach.h"

/* Quiet time after the last change of the file before it is applied. */
#define SERVICE_DEBOUNCE_MS 200
/* How often the interface is looked at when no link event came (a lost event). */
#define SERVICE_POLL_MS 1000

struct service_opts {
	const char *ifname;
	const char *policy; /* as given; its directory is watched */
	enum picfw_xdp_mode mode;
	int detach_on_exit;
};

/*
 * Run until SIGTERM or SIGINT. 0 after a clean stop; a negative errno when
 * the service could not start (nothing attached and the policy refused, no
 * inotify), after its reason through the logging funnel.
 */
int service_run(const struct service_opts *o);

#endif /* PICFW_SERVICE_H */
