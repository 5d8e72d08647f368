/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ifname.h - interface names as picfw takes them from a command line: the one
 * check every command makes before a name becomes part of a path (the pin
 * directory under the bpffs root, the policy copies in /run/picfw).
 */
#ifndef PICFW_IFNAME_H
#define PICFW_IFNAME_H

#include <stddef.h>

/*
 * The kernel's dev_valid_name() rules, a little stricter: 1 to 15 bytes of
 * printable ASCII, no '/', ':' or blank, not "." or "..". 0, or -1 with the
 * reason in why (which never holds the name's raw bytes; why may be NULL).
 */
int ifname_check(const char *name, char *why, size_t len);

/* name for a message: at most 15 bytes, anything not printable ASCII as '?'. */
const char *ifname_sanitise(const char *name, char buf[16]);

/* The inode of this process's network namespace, 0 for the initial one. */
unsigned long netns_current(void);

/*
 * Does network namespace inode ino still exist: a task in it, or a mount of
 * it (/run/netns/NAME, another bind mount in this mount namespace)? 1 also
 * when /proc cannot be read.
 */
int netns_alive(unsigned long ino);

/*
 * The key of interface ifname of this network namespace in host-wide names
 * (its pin directory, its policy copies in /run/picfw): "IFACE" in the
 * initial namespace (the names of old), "IFACE:NETNS" in another, NETNS the
 * namespace's inode (`stat -L -c %i /run/netns/NAME`). ':' is never in an
 * interface name, so the two kinds cannot be confused. -EINVAL for a name
 * ifname_check() refuses, -ENAMETOOLONG if len is short.
 */
#define IFNAME_KEY_LEN 40
int ifname_key(const char *ifname, char *buf, size_t len);

#endif /* PICFW_IFNAME_H */
