// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* ifname.c - interface names, checked once for every command (see ifname.h). */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ifname.h"

static int reason(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
	return -1;
}

int ifname_check(const char *name, char *why, size_t len)
{
	size_t n, i;

	if (!name || !*name)
		return reason(why, len, "empty");
	n = strnlen(name, IF_NAMESIZE);
	if (n >= IF_NAMESIZE)
		return reason(why, len, "longer than 15 bytes");
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return reason(why, len, "'.' and '..' are not interface names");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/')
			return reason(why, len, "holds '/'");
		if (c == ':')
			return reason(why, len, "holds ':'");
		if (c == ' ')
			return reason(why, len, "holds a blank");
		if (c < 0x20 || c >= 0x7f)
			return reason(why, len, "holds a control or non-ASCII character");
	}
	return 0;
}

const char *ifname_sanitise(const char *name, char buf[16])
{
	size_t i;

	for (i = 0; i < 15 && name[i]; i++)
		buf[i] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * Is pid's network namespace ours? 1 or 0, -1 when it cannot be told. By
 * its nsfs file where we may read it (ptrace access: not under the units'
 * capabilities, whose permitted set is no superset of pid 1's); else by a
 * file of /proc/PID/net, which needs no such access: it is the namespace's
 * own proc entry, one inode per namespace.
 */
static int netns_is_ours(int pid, const struct stat *self)
{
	char path[64];
	struct stat st, mine;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (!stat(path, &st))
		return st.st_ino == self->st_ino && st.st_dev == self->st_dev;
	snprintf(path, sizeof(path), "/proc/%d/net/dev", pid);
	if (stat(path, &st) || stat("/proc/self/net/dev", &mine))
		return -1;
	return st.st_ino == mine.st_ino && st.st_dev == mine.st_dev;
}

/*
 * Where pid 1 cannot be seen at all (/proc mounted with hidepid, a sandbox):
 * the namespace of the outermost ancestor whose nsfs file can be read, the
 * namespace the commands were started from, the same for every command
 * started there.
 */
static int netns_reference(struct stat *ref)
{
	char path[64], line[128];
	int pid = getppid(), depth, found = 0;
	struct stat st;
	FILE *f;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (!stat(path, &st)) {
			*ref = st;
			found = 1;
		}
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		f = fopen(path, "r");
		if (!f)
			break;
		pid = 0;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "PPid:", 5)) {
				pid = (int)strtol(line + 5, NULL, 10);
				break;
			}
		fclose(f);
	}
	return found ? 0 : -1;
}

/*
 * The network namespace names are relative to: pid 1's, the initial one
 * (a container's own, inside it), told the same way by every command
 * whatever its capabilities: an attach by root and the service's apply
 * under its unit's capabilities name the same pins.
 */
unsigned long netns_current(void)
{
	struct stat self, ref;
	int ours;

	if (stat("/proc/self/ns/net", &self))
		return 0;
	ours = netns_is_ours(1, &self);
	if (ours < 0)
		/* No reference (no /proc): the initial namespace's names, as of old. */
		ours = netns_reference(&ref) ||
		       (self.st_ino == ref.st_ino && self.st_dev == ref.st_dev);
	return ours ? 0 : (unsigned long)self.st_ino;
}

int ifname_key(const char *ifname, char *buf, size_t len)
{
	unsigned long netns;
	int n;

	if (ifname_check(ifname, NULL, 0))
		return -EINVAL;
	netns = netns_current();
	if (netns)
		n = snprintf(buf, len, "%s:%lu", ifname, netns);
	else
		n = snprintf(buf, len, "%s", ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Is path a network namespace file of inode ino on nsfs device dev? */
static int is_netns(const char *path, unsigned long ino, dev_t dev)
{
	struct stat st;

	return !stat(path, &st) && (unsigned long)st.st_ino == ino && st.st_dev == dev;
}

int netns_alive(unsigned long ino)
{
	char path[sizeof("/proc//task//ns/net") + 2 * 256], line[1024], want[48];
	struct dirent *p, *t;
	struct stat self;
	DIR *pd, *td;
	int alive = 0;
	FILE *f;

	if (stat("/proc/self/ns/net", &self) || !(pd = opendir("/proc")))
		return 1; /* cannot tell: alive */
	/* A task in it (any thread: setns() is per thread), or a file descriptor of it. */
	while (!alive && (p = readdir(pd))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		td = opendir(path);
		while (!alive && td && (t = readdir(td))) {
			if (t->d_name[0] < '1' || t->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", p->d_name,
				 t->d_name);
			alive = is_netns(path, ino, self.st_dev);
		}
		if (td)
			closedir(td);
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		td = opendir(path);
		while (!alive && td && (t = readdir(td))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, t->d_name);
			alive = t->d_name[0] != '.' && is_netns(path, ino, self.st_dev);
		}
		if (td)
			closedir(td);
	}
	closedir(pd);
	/* A mount of it: `ip netns add`'s /run/netns/NAME, a container runtime's. */
	pd = opendir("/run/netns");
	while (!alive && pd && (p = readdir(pd))) {
		snprintf(path, sizeof(path), "/run/netns/%s", p->d_name);
		alive = p->d_name[0] != '.' && is_netns(path, ino, self.st_dev);
	}
	if (pd)
		closedir(pd);
	snprintf(want, sizeof(want), " net:[%lu] ", ino);
	f = fopen("/proc/self/mountinfo", "r");
	while (!alive && f && fgets(line, sizeof(line), f))
		alive = strstr(line, want) && strstr(line, " - nsfs ");
	if (f)
		fclose(f);
	return alive;
}
