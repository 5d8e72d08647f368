// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* bpffs.c - the bpffs picfw pins in, the pin directories and their lock (see bpffs.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "bpffs.h"
#include "ifname.h"
#include "log.h"

#define BPFFS "/sys/fs/bpf"

static char pin_root_buf[PICFW_PATH_LEN];
/*
 * The outer bpffs (see pin_root), held open: a /proc/PID/root path of the
 * shell that ran `ip netns exec` dies with that shell, and a `picfw run`
 * that outlives it lost its pins (every apply: "not attached").
 */
static int outer_fd = -1;

int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * `ip netns exec` runs a command in a private mount namespace with a fresh
 * /sys, where /sys/fs/bpf is no bpffs, and whatever is mounted there dies
 * with the command. Pins must outlive it, so they go to the bpffs of the
 * mount namespace outside: that of the nearest ancestor process living in
 * another mount namespace (the shell that ran `ip netns exec`), reached
 * through /proc/PID/root. 0 when we are not in such a namespace.
 */
int outer_mnt_pid(void)
{
	struct stat self, st;
	char path[64], line[128];
	int pid = getppid(), depth, ppid;
	FILE *f;

	if (stat("/proc/self/ns/mnt", &self))
		return 0;
	for (depth = 0; depth < 32 && pid > 0; depth++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		if (!stat(path, &st) && (st.st_ino != self.st_ino || st.st_dev != self.st_dev))
			return pid;
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		f = fopen(path, "r");
		if (!f)
			return 0;
		ppid = 0;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "PPid:", 5)) {
				ppid = (int)strtol(line + 5, NULL, 10);
				break;
			}
		fclose(f);
		pid = ppid;
	}
	return 0;
}

const char *pin_path_shown(const char *path)
{
	static __thread char shown[PICFW_PATH_LEN + 64];
	const char *p = path + 6;

	if (!strncmp(path, "/proc/self/fd/", 14)) {
		/* The held outer bpffs (pin_root): its mount point, outside. */
		p = path + 14;
		while (*p >= '0' && *p <= '9')
			p++;
		snprintf(shown, sizeof(shown), "%s%s", BPFFS, p);
		return shown;
	}
	if (strncmp(path, "/proc/", 6) || *p < '1' || *p > '9')
		return path;
	while (*p >= '0' && *p <= '9')
		p++;
	return strncmp(p, "/root/", 6) ? path : p + 5;
}

const char *pin_root(void)
{
	const char *env = getenv("PICFW_BPFFS");
	char outer[64];
	int pid;

	if (pin_root_buf[0])
		return pin_root_buf;
	if (env && *env) {
		snprintf(pin_root_buf, sizeof(pin_root_buf), "%s/picfw", env);
		return pin_root_buf;
	}
	if (!is_bpffs(BPFFS)) {
		if (outer_fd < 0 && (pid = outer_mnt_pid()) > 0) {
			snprintf(outer, sizeof(outer), "/proc/%d/root%s", pid, BPFFS);
			if (is_bpffs(outer))
				outer_fd = open(outer, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		if (outer_fd >= 0) {
			snprintf(pin_root_buf, sizeof(pin_root_buf), "/proc/self/fd/%d/picfw",
				 outer_fd);
			return pin_root_buf;
		}
	}
	/* Mounted, or not (yet): the documented place, so that messages name it. */
	return PICFW_PIN_ROOT;
}

void pin_root_reset(void)
{
	pin_root_buf[0] = 0;
}

int pin_dir(const char *ifname, char *buf, size_t len)
{
	char key[IFNAME_KEY_LEN];
	int n;

	/* A name is never a path: no "..", no '/'. */
	if (ifname_key(ifname, key, sizeof(key)))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", pin_root(), key);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pin_entry_parse(const char *entry, char ifname[IF_NAMESIZE], unsigned long *netns)
{
	const char *colon = strchr(entry, ':');
	size_t n = colon ? (size_t)(colon - entry) : strlen(entry);
	char *end;

	*netns = 0;
	if (n >= IF_NAMESIZE)
		return -1;
	memcpy(ifname, entry, n);
	ifname[n] = '\0';
	if (ifname_check(ifname, NULL, 0))
		return -1;
	if (colon) {
		if (!colon[1] || colon[1] < '1' || colon[1] > '9')
			return -1;
		errno = 0;
		*netns = strtoul(colon + 1, &end, 10);
		if (*end || errno || !*netns)
			return -1;
	}
	return 0;
}

void netns_name(unsigned long netns, char *buf, size_t len)
{
	char path[sizeof("/run/netns/") + 256];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/run/netns");

	snprintf(buf, len, "inode %lu", netns);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (!stat(path, &st) && (unsigned long)st.st_ino == netns) {
			snprintf(buf, len, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
}

/*
 * Mount bpffs on /sys/fs/bpf of another process's mount namespace (the one
 * outside `ip netns exec`): enter it, mount, come back, restore the cwd.
 */
static int mount_in_ns_of(int pid)
{
	char path[64], cwd[PATH_MAX];
	int self, other, ret = -1;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	other = open(path, O_RDONLY | O_CLOEXEC);
	if (self >= 0 && other >= 0 && !setns(other, CLONE_NEWNS)) {
		ret = mount("bpf", BPFFS, "bpf", 0, "mode=0700");
		if (setns(self, CLONE_NEWNS) || chdir(cwd))
			ret = -1;
	}
	if (self >= 0)
		close(self);
	if (other >= 0)
		close(other);
	return ret;
}

int bpffs_ensure(const char *verb)
{
	const char *env = getenv("PICFW_BPFFS");
	char outer[64];
	int pid, ret, err;

	pin_root_reset();
	if (env && *env) {
		if (is_bpffs(env))
			return 0;
		pr_warn("picfw %s: PICFW_BPFFS=%s is not a bpffs mount\n", verb, env);
		return -ENOTDIR;
	}
	if (is_bpffs(BPFFS))
		return 0;
	pid = outer_mnt_pid();
	if (pid > 0) {
		snprintf(outer, sizeof(outer), "/proc/%d/root%s", pid, BPFFS);
		if (is_bpffs(outer))
			return 0;
		ret = mount_in_ns_of(pid);
	} else {
		snprintf(outer, sizeof(outer), "%s", BPFFS);
		if (mkdir(BPFFS, 0700) && errno != EEXIST) {
			err = errno;
			pr_warn("picfw %s: cannot create %s: %s\n", verb, BPFFS, strerror(err));
			return -err;
		}
		ret = mount("bpf", BPFFS, "bpf", 0, "mode=0700");
	}
	pin_root_reset();
	if (ret || !is_bpffs(outer)) {
		err = errno ? errno : ENODEV;
		pr_warn("picfw %s: bpffs is not mounted on %s and cannot be mounted: %s\n", verb,
			BPFFS, strerror(errno));
		return -err;
	}
	return 0;
}

int picfw_lock(const char *ifname)
{
	char dir[PICFW_PATH_LEN];
	int fd;

	fd = pin_dir(ifname, dir, sizeof(dir));
	if (fd)
		return fd;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
