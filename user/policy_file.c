// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * policy_file.c - a policy file safe to enforce, opened once (see policy_file.h).
 *
 * Why open first and check the fd: a check by name (stat) and a later open by
 * name can be told apart by a symlink flipped in between; root would parse a
 * file nobody checked. Here the name is resolved once, the final component
 * opened without following links, and every check is made on what was opened
 * (fstat) or on directories that only root or the caller can change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "log.h"
#include "policy.h"
#include "policy_file.h"
#include "progress.h"

static int refuse(char *why, size_t len, int fd, char *real, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int refuse(char *why, size_t len, int fd, char *real, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	if (fd >= 0)
		close(fd);
	free(real);
	return -1;
}

static int owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

int policy_file_open(const char *path, char **resolved, char *why, size_t len)
{
	struct stat st, dst;
	char *real, *copy, *slash;
	int fd;

	if (resolved)
		*resolved = NULL;
	if (!path || !*path)
		return refuse(why, len, -1, NULL, "no policy file name given");
	real = realpath(path, NULL);
	if (!real)
		return refuse(why, len, -1, NULL, "%s: %s", path, strerror(errno));
	/* O_NONBLOCK: a FIFO opens at once (and is refused below) instead of hanging. */
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return refuse(why, len, -1, real, "%s: %s", real,
			      errno == ELOOP ? "became a symbolic link while it was opened"
					     : strerror(errno));
	if (fstat(fd, &st))
		return refuse(why, len, fd, real, "%s: %s", real, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(why, len, fd, real, "%s is not a regular file (%s)", real,
			      S_ISDIR(st.st_mode)			? "a directory" :
			      S_ISFIFO(st.st_mode)			? "a FIFO" :
			      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" :
									  "a socket");
	if (!owner_ok(st.st_uid))
		return refuse(why, len, fd, real, "%s belongs to uid %u, neither root nor you",
			      real, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(why, len, fd, real, "%s is writable by %s (chmod go-w %s)", real,
			      st.st_mode & S_IWOTH ? "everyone" : "its group", real);
	/*
	 * Every directory above it: a directory that someone else may change
	 * could have held another file a moment ago. Sticky ones (/tmp) let
	 * nobody replace an entry they do not own.
	 */
	copy = strdup(real);
	if (!copy)
		return refuse(why, len, fd, real, "%s", strerror(ENOMEM));
	for (slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
		const char *dir;

		*slash = '\0';
		dir = *real ? real : "/";
		if (lstat(dir, &dst)) {
			snprintf(why, len, "%s: %s", dir, strerror(errno));
			break;
		}
		if (!S_ISDIR(dst.st_mode)) {
			snprintf(why, len, "%s changed while it was checked", dir);
			break;
		}
		if (!owner_ok(dst.st_uid)) {
			snprintf(why, len, "directory %s belongs to uid %u, neither root nor you",
				 dir, (unsigned)dst.st_uid);
			break;
		}
		if ((dst.st_mode & (S_IWGRP | S_IWOTH)) && !(dst.st_mode & S_ISVTX)) {
			snprintf(why, len, "directory %s is writable by %s (chmod go-w %s)", dir,
				 dst.st_mode & S_IWOTH ? "everyone" : "its group", dir);
			break;
		}
		if (!*real) {
			slash = NULL;
			break;
		}
	}
	if (slash) {
		free(copy);
		free(real);
		close(fd);
		return -1;
	}
	free(real);
	if (resolved)
		*resolved = copy;
	else
		free(copy);
	return fd;
}

/*
 * The set a compile limit points at: the protected set if it is over the
 * prefix limit, else the rows' set with the most prefixes (the one to split
 * or shrink, whether the prefixes or the classes ran out).
 */
static const struct addr_set *limit_set(const struct policy *p)
{
	const struct addr_set *best = NULL;
	size_t i, k, n4 = 0, n6 = 0;

	if (p->protect >= 0) {
		const struct addr_set *s = &p->sets[p->protect];

		for (k = 0; k < s->nprefixes; k++)
			s->prefixes[k].family == 4 ? n4++ : n6++;
		if (n4 > POLICY_MAX_SET_PREFIXES || n6 > POLICY_MAX_SET_PREFIXES)
			return s;
	}
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];
		const struct addr_set *s = &p->sets[row_remote_set(r)];

		if (!best || s->nprefixes > best->nprefixes)
			best = s;
	}
	return best;
}

int load_policy(const char *verb, const char *path, char **resolved, struct policy *p,
		struct policy_image *img)
{
	return load_policy_includes(verb, path, resolved, p, img, NULL);
}

int load_policy_includes(const char *verb, const char *path, char **resolved, struct policy *p,
			 struct policy_image *img, struct policy_includes *inc)
{
	struct policy_errors errs = { 0 };
	struct compile_blame blame = { 0 };
	char why[512], err[512];
	int fd, ret;

	if (resolved)
		*resolved = NULL;
	if (inc)
		*inc = (struct policy_includes){ 0 };
	if (!path || !*path) {
		pr_warn("picfw %s: no policy file given (the name is empty)\n", verb);
		return 2;
	}
	fd = policy_file_open(path, resolved, why, sizeof(why));
	if (fd < 0) {
		pr_warn("picfw %s: refusing the policy: %s\n", verb, why);
		return 1;
	}
	ret = policy_load_fd(fd, path, p, &errs);
	close(fd);
	if (inc) { /* the caller's now, whatever comes next */
		*inc = errs.src.named;
		errs.src.named = (struct policy_includes){ 0 };
	}
	progress_clear(); /* errors and warnings from column 1 */
	policy_errors_print(stderr, path, &errs);
	if (ret)
		goto fail;
	if (compile_policy_blame(p, img, err, sizeof(err), &blame)) {
		const struct addr_set *s;
		const char *in;
		unsigned k;
		int line;

		/* The class table overflowed: the sets that made the most classes. */
		for (k = 0; k < blame.nset; k++) {
			s = &p->sets[blame.set[k]];
			/* The set may be in an included file. */
			policy_errors_where(&errs, s->line, &in, &line);
			pr_warn("%s:%d:%d: error: set '%s': %s\n", in ? in : path, line, s->col,
				s->name ? s->name : "(inline)", err);
		}
		s = blame.nset ? NULL : limit_set(p);
		if (s) {
			policy_errors_where(&errs, s->line, &in, &line);
			pr_warn("%s:%d:%d: error: %s%s%s: %s\n", in ? in : path, line, s->col,
				s->name ? "set '" : "this address", s->name ? s->name : "",
				s->name ? "'" : "", err);
		} else if (!blame.nset) {
			pr_warn("picfw %s: %s: %s\n", verb, path, err);
		}
		policy_free(p);
		goto fail;
	}
	policy_errors_free(&errs);
	return 0;
fail:
	policy_errors_free(&errs);
	if (resolved) {
		free(*resolved);
		*resolved = NULL;
	}
	return 1;
}
