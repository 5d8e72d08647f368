// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_check.c - picfw check POLICY: parse, compile, print the normalised table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "compile.h"
#include "policy.h"

static const struct option opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

/*
 * Like sshd's StrictModes: a policy that decides what reaches the Edge must
 * not be writable by others. Refuses a file, or a directory above it, that
 * anyone may write (a directory with the sticky bit, such as /tmp, is fine),
 * or a file owned by another user than root or the caller. 0 or -1 with why.
 */
int policy_file_trusted(const char *path, char *why, size_t len)
{
	char *real = realpath(path, NULL), *slash;
	struct stat st;
	int ret = -1;

	if (!real) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st)) {
		snprintf(why, len, "%s: %s", real, strerror(errno));
		goto out;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(why, len, "%s is writable by everyone (chmod o-w %s)", real, real);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, len, "%s belongs to uid %u, neither root nor you", real,
			 (unsigned)st.st_uid);
		goto out;
	}
	while ((slash = strrchr(real, '/'))) {
		*slash = 0;
		if (stat(*real ? real : "/", &st))
			break;
		if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
			snprintf(why, len, "directory %s is writable by everyone", *real ? real : "/");
			goto out;
		}
	}
	ret = 0;
out:
	free(real);
	return ret;
}

/* Shared with attach: load and compile, printing errors. 0 or EXIT_FAIL. */
int load_policy(const char *verb, const char *path, struct policy *p, struct policy_image *img)
{
	struct policy_errors errs = { 0 };
	char err[512];

	if (policy_load(path, p, &errs)) {
		policy_errors_print(stderr, path, &errs);
		policy_errors_free(&errs);
		return EXIT_FAIL;
	}
	policy_errors_free(&errs);
	if (compile_policy(p, img, err, sizeof(err))) {
		policy_free(p);
		return cmd_fail(verb, "%s: %s", path, err);
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct policy_image img;
	struct policy p;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		ret = cmd_getopt_common(opt, "check");
		if (ret >= 0)
			return ret;
	}
	if (argc - optind != 1)
		return cmd_usage("check", 1);
	ret = load_policy("check", argv[optind], &p, &img);
	if (ret)
		return ret;
	policy_print(stdout, &p);
	image_free(&img);
	policy_free(&p);
	return EXIT_OK;
}
