// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * policy_copy.c - normalised policy copies in /run/picfw (see policy_copy.h).
 *
 * Root writes here: a directory someone else planted (a symlink, another
 * owner, a wider mode) is refused, and nothing is written through a name an
 * attacker could have prepared: temp files are made with mkstemp (O_EXCL)
 * and renamed into place, which replaces a planted symlink, never its target.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "ifname.h"
#include "log.h"
#include "policy_copy.h"
#include "policy_file.h"

int run_dir_ensure(const char *dir, int create, char *why, size_t len)
{
	struct stat st;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(why, len, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st)) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, len, "%s is a symbolic link; refusing to write through it", dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) {
		snprintf(why, len,
			 "%s is not a 0700 directory owned by uid %u (it has mode %04o, uid %u); "
			 "remove it or fix it (chown %u %s; chmod 0700 %s)",
			 dir, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777),
			 (unsigned)st.st_uid, (unsigned)geteuid(), dir, dir);
		return -EPERM;
	}
	return 0;
}

static int copy_name_of_key(const char *dir, const char *key, uint32_t gen, char *buf,
			    size_t len)
{
	int n = snprintf(buf, len, "%s/%s.gen%u.policy", dir, key, gen);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int copy_name(const char *dir, const char *ifname, uint32_t gen, char *buf, size_t len)
{
	char key[IFNAME_KEY_LEN];

	/* Keyed by network namespace too, as the pins are (ifname.h). */
	if (ifname_key(ifname, key, sizeof(key)))
		return -EINVAL;
	return copy_name_of_key(dir, key, gen, buf, len);
}

int policy_copy_path(const char *ifname, uint32_t gen, char *buf, size_t len)
{
	return copy_name(PICFW_RUN_DIR, ifname, gen, buf, len);
}

/*
 * The temp files of key's generation gen in dir (".KEY.genN.XXXXXX") that a
 * killed attach or apply left: under the interface's lock, as every writer
 * of them runs, none is being written.
 */
static void remove_temps(const char *dir, const char *key, uint32_t gen)
{
	char prefix[IFNAME_KEY_LEN + 32];
	struct dirent *de;
	size_t n;
	DIR *d;

	n = (size_t)snprintf(prefix, sizeof(prefix), ".%s.gen%u.", key, gen);
	if (n >= sizeof(prefix))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, n) && strlen(de->d_name) == n + 6)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int policy_copy_save_in(const char *dir, const char *ifname, uint32_t gen, const struct policy *p,
			char *why, size_t len)
{
	char path[PICFW_PATH_LEN], tmp[PICFW_PATH_LEN + 16], key[IFNAME_KEY_LEN];
	long size;
	FILE *f;
	int fd, ret;

	ret = ifname_key(ifname, key, sizeof(key));
	if (!ret)
		ret = copy_name_of_key(dir, key, gen, path, sizeof(path));
	if (ret) {
		snprintf(why, len, "bad interface name or path too long");
		return ret;
	}
	ret = run_dir_ensure(dir, 1, why, len);
	if (ret)
		return ret;
	remove_temps(dir, key, gen);
	snprintf(tmp, sizeof(tmp), "%s/.%s.gen%u.XXXXXX", dir, key, gen);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, len, "cannot create a file in %s: %s", dir, strerror(errno));
		return ret;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	policy_write(f, p);
	size = ftell(f);
	if (fflush(f) || ferror(f)) {
		ret = -errno;
		fclose(f);
		goto fail;
	}
	if (fclose(f)) {
		ret = -errno;
		goto fail;
	}
	/* What policy_load reads back: never a copy that cannot be read. */
	if (size < 0 || (unsigned long)size > POLICY_MAX_FILE) {
		ret = -EFBIG;
		goto fail;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		goto fail;
	}
	return 0;
fail:
	snprintf(why, len, "writing %s failed: %s", path, strerror(-ret));
	unlink(tmp);
	return ret;
}

int policy_copy_save(const char *ifname, uint32_t gen, const struct policy *p)
{
	char why[512];
	int ret = policy_copy_save_in(PICFW_RUN_DIR, ifname, gen, p, why, sizeof(why));

	if (ret)
		pr_warn("picfw: %s\n", why);
	return ret;
}

void policy_copy_remove_key(const char *key)
{
	char path[PICFW_PATH_LEN], why[512];
	uint32_t gen;

	/* Nothing is removed through a directory that is not ours. */
	if (run_dir_ensure(PICFW_RUN_DIR, 0, why, sizeof(why)))
		return;
	for (gen = 0; gen < PICFW_GENERATIONS; gen++) {
		if (!copy_name_of_key(PICFW_RUN_DIR, key, gen, path, sizeof(path)))
			unlink(path);
		remove_temps(PICFW_RUN_DIR, key, gen);
	}
}

void policy_copy_remove(const char *ifname)
{
	char key[IFNAME_KEY_LEN];

	if (!ifname_key(ifname, key, sizeof(key)))
		policy_copy_remove_key(key);
}

int policy_copy_load(const char *path, struct policy *p, uint64_t *digest, char *why, size_t len)
{
	struct policy_errors errs = { 0 };
	struct policy_image img;
	char err[256];
	int fd, ret;

	ret = run_dir_ensure(PICFW_RUN_DIR, 0, why, len);
	if (ret)
		return -1;
	fd = policy_file_open(path, NULL, why, len);
	if (fd < 0)
		return -1;
	ret = policy_load_fd(fd, path, p, &errs);
	close(fd);
	if (ret) {
		snprintf(why, len, "%s does not parse (%s)", path,
			 errs.n ? errs.v[0].msg : "no reason given");
		policy_errors_free(&errs);
		return -1;
	}
	policy_errors_free(&errs);
	if (compile_policy(p, &img, err, sizeof(err))) {
		snprintf(why, len, "%s does not compile: %s", path, err);
		policy_free(p);
		return -1;
	}
	*digest = image_digest(&img);
	image_free(&img);
	return 0;
}
