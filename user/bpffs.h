/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * bpffs.h - the bpffs picfw pins in: found from any mount namespace (also
 * from inside `ip netns exec`), mounted when missing; an interface's pin
 * directory in it, and the lock on that directory.
 */
#ifndef PICFW_BPFFS_H
#define PICFW_BPFFS_H

#include <stddef.h>

#include "picfw.h"

/*
 * Where pins live: PICFW_PIN_ROOT, i.e. picfw/ in the host's bpffs (found even
 * from `ip netns exec`'s private mount namespace), or in $PICFW_BPFFS.
 */
const char *pin_root(void);
/* Forget the pin root found so far (after a mount: look again). */
void pin_root_reset(void);

/*
 * Directory of an interface's pins: pin_root() "/" ifname_key(ifname), i.e.
 * pin_root() "/" ifname in the initial network namespace (the path of old),
 * pin_root() "/" ifname ":" NETNS in another (ifname.h): two namespaces may
 * each attach their own eth0. The only way such a path is built; -EINVAL for
 * a name ifname_check() refuses.
 */
int pin_dir(const char *ifname, char *buf, size_t len);

/*
 * An entry of pin_root(), "IFACE" or "IFACE:NETNS": the interface and the
 * namespace (0: the initial one). -1 if it is no pin directory's name.
 */
int pin_entry_parse(const char *entry, char ifname[16], unsigned long *netns);

/* A namespace for people: its name under /run/netns, else "inode N". */
void netns_name(unsigned long netns, char *buf, size_t len);

/* Is path the root of a bpffs mount? */
int is_bpffs(const char *path);

/* The nearest ancestor in another mount namespace (`ip netns exec`), or 0. */
int outer_mnt_pid(void);

/*
 * A pin path as the administrator's shell names it: under `ip netns exec`
 * pin_root() reaches the outer bpffs through a descriptor it holds
 * (/proc/self/fd/N) or /proc/PID/root, paths that mean nothing to anyone
 * else; that prefix is named as the outer mount point, /sys/fs/bpf.
 */
const char *pin_path_shown(const char *path);

/*
 * Mount bpffs on /sys/fs/bpf (of the mount namespace outside `ip netns exec`)
 * when it is not there. 0, or a negative errno after "picfw VERB: why" through
 * the logging funnel.
 */
int bpffs_ensure(const char *verb);

/*
 * Take the interface's lock (flock on its pin directory): concurrent applies
 * and detaches on one interface are serialised; the kernel drops the lock
 * when the process dies. Returns an fd to close, or a negative errno.
 */
int picfw_lock(const char *ifname);

#endif /* PICFW_BPFFS_H */
