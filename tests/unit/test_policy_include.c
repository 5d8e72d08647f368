/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_policy_include.c - `include FILE` in a policy (user/policy.c,
 * include_file()): a per-host file defines the Edge's addresses, a shared file
 * holds the rows. Errors point into the included file (FILE:LINE:COL as
 * printed), cycles and deep nesting are refused, an included file passes the
 * same trust check as the main one (policy_file_open), and text from memory
 * cannot include.
 *
 * Each test works in its own mkdtemp() directory (mode 0700, owned by the
 * caller, under the sticky /tmp: trusted), removed at the end.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

struct dir {
	char path[64];
	char files[12][128];
	int nfiles;
};

static void dir_make(struct dir *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/picfw-include-XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

/* NAME in the directory (a subdirectory "sub/x" needs dir_sub first), 0644. */
static const char *dir_file(struct dir *d, const char *name, const char *text)
{
	char *path;
	FILE *f;

	assert_true(d->nfiles < 12);
	path = d->files[d->nfiles++];
	strcpy(path, d->path); /* d->path is under 64 bytes, a file's room 128 */
	strcat(path, "/");
	strncat(path, name, 60);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	return path;
}

static void dir_sub(struct dir *d, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void dir_remove(struct dir *d)
{
	char path[128];
	int i;

	for (i = d->nfiles - 1; i >= 0; i--)
		unlink(d->files[i]);
	snprintf(path, sizeof(path), "%s/sub", d->path);
	rmdir(path);
	rmdir(d->path);
}

/* What policy_errors_print writes, for the main file named "main.policy". */
static char *printed(const struct policy_errors *errs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	policy_errors_print(f, "main.policy", errs);
	fclose(f);
	return buf;
}

/*
 * main_path in d is refused with exactly want (FILE:LINE:COL lines, the
 * included files named with the includer's directory); d is removed.
 */
static void expect_printed(struct dir *d, const char *main_path, const char *want)
{
	struct policy_errors errs;
	struct policy p;
	char *out;

	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	out = printed(&errs);
	if (strcmp(out, want)) {
		dir_remove(d);
		fail_msg("got:\n%swant:\n%s", out, want);
	}
	free(out);
	policy_errors_free(&errs);
	dir_remove(d);
}

/* A protected set and one row: the statement under test comes between. */
#define BASE "set e = 203.0.113.10\nprotect e\nAccess/X/TCP/1 any e\n"

static const char shared[] = "# the pool's rows\n"
			     "protect edge-access\n"
			     "Access/SIP(MTLS)/TCP/5061  198.51.100.0/24  edge-access  \"SIP\"\n"
			     "Access/SIP(TLS)/TCP/443    any              edge-access\n";

/* A host file defines edge-access; the shared file's rows use it. */
static void test_policy_include_host_file(void **state)
{
	struct policy_errors errs;
	struct policy p;
	struct dir d;
	const char *main_path;
	char *out;

	(void)state;
	dir_make(&d);
	dir_sub(&d, "sub");
	dir_file(&d, "sub/host.policy", "set edge-access = 203.0.113.10, 2001:db8:e::10\n");
	dir_file(&d, "shared.policy", shared);
	/* sub/host.policy relative to main's directory; the shared rows after it. */
	main_path = dir_file(&d, "main.policy",
			     "include sub/host.policy\ninclude \"shared.policy\"\n"
			     "Access/DNS/UDP/53 edge-access any\n");
	if (policy_load(main_path, &p, &errs)) {
		out = printed(&errs);
		dir_remove(&d);
		fail_msg("include of a host file must load:\n%s", out);
	}
	assert_int_equal(p.nrows, 3);
	assert_string_equal(p.rows[0].name, "access-sip-mtls-tcp-5061-in");
	assert_string_equal(p.rows[2].name, "access-dns-udp-53-out");
	assert_int_equal(p.sets[p.protect].nprefixes, 2);
	policy_free(&p);
	policy_errors_free(&errs);
	dir_remove(&d);
}

/* An error in the included file: its name, its line and column. */
static void test_policy_include_error_points_into_file(void **state)
{
	struct dir d;
	const char *main_path;
	char want[512];

	(void)state;
	dir_make(&d);
	dir_file(&d, "host.policy",
		 "# host\nset edge-access = 203.0.113.10\n"
		 "Access/SIP/TCP/99999 any edge-access\n");
	main_path = dir_file(&d, "main.policy",
			     "protect edge-access\ninclude host.policy\n"
			     "Access/X/TCP/1 any edge-access\n"
			     "Access/Y/TCP/0 any edge-access\n");
	/* The included file named with the includer's directory, as main_path gives it. */
	snprintf(want, sizeof(want),
		 "%s/host.policy:3:16: error: port 99999 is above 65535\n"
		 "main.policy:4:14: error: port 0 is not allowed\n",
		 d.path);
	expect_printed(&d, main_path, want);
}

/* A set defined in both files: "first defined at FILE:LINE". */
static void test_policy_include_duplicate_set(void **state)
{
	struct dir d;
	const char *main_path;
	char want[512];

	(void)state;
	dir_make(&d);
	dir_file(&d, "host.policy", "set edge-access = 203.0.113.10\n");
	main_path = dir_file(&d, "main.policy",
			     "include host.policy\nprotect edge-access\n"
			     "set edge-access = 203.0.113.11\n"
			     "Access/X/TCP/1 any edge-access\n");
	snprintf(want, sizeof(want),
		 "main.policy:3:5: error: duplicate set 'edge-access' (first defined at "
		 "%s/host.policy:1)\n",
		 d.path);
	expect_printed(&d, main_path, want);
}

/* a includes b includes a: refused at the include that closes the cycle. */
static void test_policy_include_cycle(void **state)
{
	struct policy_errors errs;
	struct policy p;
	struct dir d;
	const char *main_path;

	(void)state;
	dir_make(&d);
	dir_file(&d, "b.policy", "include main.policy\n");
	main_path = dir_file(&d, "main.policy",
			     "set e = 203.0.113.10\nprotect e\n"
			     "include b.policy\nAccess/X/TCP/1 any e\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "include cycle"));
	assert_int_equal(errs.v[0].col, 9);
	{
		const char *file;
		int line;

		policy_errors_where(&errs, errs.v[0].line, &file, &line);
		assert_non_null(file);
		assert_non_null(strstr(file, "b.policy"));
		assert_int_equal(line, 1);
	}
	policy_errors_free(&errs);

	/* A file that includes itself. */
	dir_file(&d, "self.policy", "include self.policy\n");
	main_path = dir_file(&d, "m2.policy",
			     "set e = 203.0.113.10\nprotect e\n"
			     "include self.policy\nAccess/X/TCP/1 any e\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "include cycle"));
	policy_errors_free(&errs);

	/* ... given itself: the cycle is named (a file of includes is a policy). */
	main_path = dir_file(&d, "self.policy", "include self.policy\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	{
		size_t i;
		int cycle = 0;

		for (i = 0; i < errs.n; i++) {
			assert_null(strstr(errs.v[i].msg, "not a picfw policy"));
			cycle |= strstr(errs.v[i].msg, "include cycle") != NULL;
		}
		assert_true(cycle);
	}
	policy_errors_free(&errs);
	dir_remove(&d);
}

/* include of include ...: at most POLICY_MAX_INCLUDE_DEPTH deep. */
static void test_policy_include_depth_limit(void **state)
{
	struct policy_errors errs;
	struct policy p;
	struct dir d;
	char name[32], text[64];
	const char *main_path;
	int i;

	(void)state;
	dir_make(&d);
	/* main includes i0, i0 includes i1, ... i7 includes i8: the ninth level. */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "i%d.policy", i);
		snprintf(text, sizeof(text), "include i%d.policy\n", i + 1);
		dir_file(&d, name, text);
	}
	assert_int_equal(POLICY_MAX_INCLUDE_DEPTH, 8);
	main_path = dir_file(&d, "main.policy",
			     "set e = 203.0.113.10\nprotect e\n"
			     "include i0.policy\nAccess/X/TCP/1 any e\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	if (!strstr(errs.v[0].msg, "nested more than 8 deep")) {
		dir_remove(&d);
		fail_msg("got: %s", errs.v[0].msg);
	}
	policy_errors_free(&errs);
	dir_remove(&d);
}

/* A group-writable included file (and a missing one) is refused at the include. */
static void test_policy_include_trust(void **state)
{
	struct policy_errors errs;
	struct policy p;
	struct dir d;
	const char *host, *main_path;
	char *out;

	(void)state;
	dir_make(&d);
	host = dir_file(&d, "host.policy", "set e = 203.0.113.10\n");
	assert_int_equal(chmod(host, 0664), 0);
	main_path = dir_file(&d, "main.policy",
			     "protect e\ninclude host.policy\n"
			     "Access/X/TCP/1 any e\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	out = printed(&errs);
	if (!strstr(out, "main.policy:2:9: error: refusing the included file: ") ||
	    !strstr(out, "is writable by its group (chmod go-w")) {
		dir_remove(&d);
		fail_msg("got:\n%s", out);
	}
	free(out);
	policy_errors_free(&errs);

	/* Fixed: it loads. */
	assert_int_equal(chmod(host, 0644), 0);
	assert_int_equal(policy_load(main_path, &p, &errs), 0);
	policy_free(&p);
	policy_errors_free(&errs);

	/* A missing file: its error at the include. */
	main_path = dir_file(&d, "m2.policy",
			     "set e = 203.0.113.10\nprotect e\n"
			     "include nothere.policy\nAccess/X/TCP/1 any e\n");
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 3);
	assert_int_equal(errs.v[0].col, 9);
	assert_non_null(strstr(errs.v[0].msg, "No such file or directory"));
	policy_errors_free(&errs);
	dir_remove(&d);
}

/* Text parsed from memory has no directory: include is refused, and said why. */
static void test_policy_include_from_memory(void **state)
{
	static const char text[] = "set e = 203.0.113.10\nprotect e\ninclude x.policy\n"
				   "Access/X/TCP/1 any e\n";
	struct policy_errors errs;
	struct policy p;

	(void)state;
	assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 3);
	assert_int_equal(errs.v[0].col, 9);
	assert_string_equal(errs.v[0].msg,
			    "include is read only from a policy file, not from text in memory");
	policy_errors_free(&errs);

	/* Syntax errors of the statement itself. */
	assert_int_equal(policy_parse("t", BASE "include\n", strlen(BASE) + 8, &p, &errs), -1);
	assert_string_equal(errs.v[0].msg, "missing file name after 'include'");
	policy_errors_free(&errs);
	assert_int_equal(policy_parse("t", BASE "include a b\n", strlen(BASE) + 12, &p, &errs), -1);
	assert_string_equal(errs.v[0].msg, "unexpected 'b'");
	assert_int_equal(errs.v[0].col, 11);
	policy_errors_free(&errs);
}

/* named[i] is DIR/name (the includer's directory prepended). */
static void expect_named(const struct dir *d, const struct policy_errors *errs, size_t i,
			 const char *name)
{
	char want[128];

	snprintf(want, sizeof(want), "%s/%s", d->path, name);
	assert_true(i < errs->src.named.n);
	assert_string_equal(errs->src.named.files[i], want);
}

/*
 * What `picfw run` follows: every file an include named, each once, opened or
 * not, as far as the parser got; and after a good load the files it read.
 */
static void test_policy_include_named(void **state)
{
	struct policy_errors errs;
	struct policy p;
	struct dir d;
	const char *main_path;

	(void)state;
	dir_make(&d);
	dir_sub(&d, "sub");
	dir_file(&d, "sub/host.policy", "set e = 203.0.113.10\n");
	dir_file(&d, "sub/broken.policy", "Access/X/TCP/99999 any e\n");
	main_path = dir_file(&d, "main.policy",
			     "protect e\ninclude sub/host.policy\ninclude sub/broken.policy\n"
			     "include nothere.policy\ninclude sub/host.policy\n"
			     "Access/X/TCP/1 any e\n");
	/* Refused (a bad port, a missing file, a duplicate set): all three named, once. */
	assert_int_equal(policy_load(main_path, &p, &errs), -1);
	assert_int_equal(errs.src.named.n, 3);
	expect_named(&d, &errs, 0, "sub/host.policy");
	expect_named(&d, &errs, 1, "sub/broken.policy");
	expect_named(&d, &errs, 2, "nothere.policy");
	policy_errors_free(&errs);
	assert_int_equal(errs.src.named.n, 0);

	/* A good one: what it includes, the nested include named from its own directory. */
	dir_file(&d, "sub/rows.policy", "include host.policy\nAccess/Y/TCP/2 any e\n");
	main_path = dir_file(&d, "m2.policy", "protect e\ninclude sub/rows.policy\n");
	assert_int_equal(policy_load(main_path, &p, &errs), 0);
	assert_int_equal(errs.src.named.n, 2);
	expect_named(&d, &errs, 0, "sub/rows.policy");
	expect_named(&d, &errs, 1, "sub/host.policy");
	policy_free(&p);
	policy_errors_free(&errs);

	/* Without include: none. */
	main_path = dir_file(&d, "m3.policy", BASE);
	assert_int_equal(policy_load(main_path, &p, &errs), 0);
	assert_int_equal(errs.src.named.n, 0);
	assert_null(errs.src.named.files);
	policy_free(&p);
	policy_errors_free(&errs);
	dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_include_host_file),
	    cmocka_unit_test(test_policy_include_error_points_into_file),
	    cmocka_unit_test(test_policy_include_duplicate_set),
	    cmocka_unit_test(test_policy_include_cycle),
	    cmocka_unit_test(test_policy_include_depth_limit),
	    cmocka_unit_test(test_policy_include_trust),
	    cmocka_unit_test(test_policy_include_from_memory),
	    cmocka_unit_test(test_policy_include_named),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("policy_include", tests, NULL, NULL);
}
