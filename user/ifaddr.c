// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* ifaddr.c - the interface's own addresses against the protected set (see ifaddr.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "ifaddr.h"
#include "log.h"
#include "policy_match.h"

int iface_global_addrs(const char *ifname, struct prefix *v, size_t max, size_t *n)
{
	struct ifaddrs *all, *ifa;
	struct prefix p;

	*n = 0;
	if (!if_nametoindex(ifname))
		return -ENODEV;
	if (getifaddrs(&all))
		return -errno;
	for (ifa = all; ifa && *n < max; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname))
			continue;
		memset(&p, 0, sizeof(p));
		if (ifa->ifa_addr->sa_family == AF_INET) {
			p.family = 4;
			p.len = 32;
			memcpy(p.addr, &((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr,
			       4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			p.family = 6;
			p.len = 128;
			memcpy(p.addr,
			       &((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr,
			       16);
		} else {
			continue;
		}
		if (addr_is_global_unicast(p.family, p.addr))
			v[(*n)++] = p;
	}
	freeifaddrs(all);
	return 0;
}

void iface_warn_unprotected(const char *verb, const char *ifname, const struct policy *p)
{
	struct prefix v[IFACE_MAX_ADDRS];
	char text[64];
	size_t n, i;
	int err;

	err = iface_global_addrs(ifname, v, IFACE_MAX_ADDRS, &n);
	if (err) {
		pr_warn("picfw %s: warning: cannot check the addresses of %s for unprotected ones: "
			"%s\n", verb, ifname,
			err == -ENODEV ? "it is not in this network namespace" : strerror(-err));
		return;
	}
	for (i = 0; i < n; i++) {
		if (policy_is_protected(p, v[i].family, v[i].addr))
			continue;
		prefix_format(&v[i], text, sizeof(text));
		if (p->unprotected == PICFW_UNPROTECTED_DROP)
			pr_warn("picfw %s: warning: %s on %s is not protected: traffic to it is "
				"dropped (unprotected drop)\n", verb, text, ifname);
		else
			pr_warn("picfw %s: warning: %s on %s is not protected: traffic to it is not "
				"filtered (unprotected pass)\n", verb, text, ifname);
	}
}

int iface_unprotected_format(const char *ifname, const struct picfw_maps *m, uint32_t gen,
			     char *buf, size_t len)
{
	struct prefix v[IFACE_MAX_ADDRS];
	size_t n, i, used = 0;
	char text[64];
	int err, prot;

	err = iface_global_addrs(ifname, v, IFACE_MAX_ADDRS, &n);
	for (i = 0; !err && i < n; i++) {
		prot = maps_is_protected(m, gen, &v[i]);
		if (prot < 0)
			err = prot;
		if (prot)
			continue;
		prefix_format(&v[i], text, sizeof(text));
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 text);
	}
	if (err == -ENODEV)
		snprintf(buf, len, "unknown (%s is not in this network namespace)", ifname);
	else if (err)
		snprintf(buf, len, "unknown (%s)", strerror(-err));
	else if (!used)
		snprintf(buf, len, "none");
	return err;
}
