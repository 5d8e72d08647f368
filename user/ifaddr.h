/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ifaddr.h - the interface's own addresses against the protected set.
 *
 * On a host whose every address is the Edge's, an address outside
 * `protect` (a second public address, a SLAAC or temporary IPv6 address, a
 * forgotten Web Conferencing or A/V address) is not filtered under
 * `unprotected pass`, and unreachable under `unprotected drop`: attach and
 * apply say so, and status lists them.
 */
#ifndef PICFW_IFADDR_H
#define PICFW_IFADDR_H

#include <stddef.h>

#include "maps.h"
#include "policy.h"

#define IFACE_MAX_ADDRS 64 /* addresses looked at per interface */

/*
 * The global unicast addresses (policy_match.h's addr_is_global_unicast) on
 * ifname in the calling thread's network namespace, as host prefixes (len
 * 32 or 128), at most max of them. 0, or a negative errno (-ENODEV: no such
 * interface here).
 */
int iface_global_addrs(const char *ifname, struct prefix *v, size_t max, size_t *n);

/*
 * One warning line per global unicast address on ifname outside p's
 * protected set: "picfw VERB: warning: ADDR on IFACE is not protected: ...",
 * saying what `unprotected` does to its traffic. Nothing when there is none.
 */
void iface_warn_unprotected(const char *verb, const char *ifname, const struct policy *p);

/*
 * For status: the global unicast addresses on ifname that generation gen's
 * maps do not protect, as one line ("203.0.113.99, 2001:db8:e::99", "none",
 * or "unknown (why)"). 0, or a negative errno when the answer is unknown.
 */
int iface_unprotected_format(const char *ifname, const struct picfw_maps *m, uint32_t gen,
			     char *buf, size_t len);

#endif /* PICFW_IFADDR_H */
