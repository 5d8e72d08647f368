// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_hostile.c - inputs from an attacker or a tired administrator (issue 13):
 * interface names that are paths, policy files that are not what they seem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ifname.h"
#include "policy.h"
#include "policy_copy.h"

struct ifname_case {
	const char *tag, *name;
	int ok;
	const char *why; /* a word of the reason */
};

static const struct ifname_case ifname_cases[] = {
	{ "plain", "eth0", 1, NULL },
	{ "veth", "h13-edge0", 1, NULL },
	{ "vlan_dot", "eth0.100", 1, NULL },
	{ "fifteen", "abcdefghijklmno", 1, NULL },
	{ "sixteen", "abcdefghijklmnop", 0, "15" },
	{ "empty", "", 0, "empty" },
	{ "dot", ".", 0, "'.'" },
	{ "dotdot", "..", 0, "'..'" },
	{ "traversal", "../../etc", 0, "'/'" },
	{ "slash", "a/b", 0, "'/'" },
	{ "absolute", "/etc", 0, "'/'" },
	{ "colon_alias", "eth0:1", 0, "':'" },
	{ "blank", "eth 0", 0, "blank" },
	{ "tab", "eth\t0", 0, "control" },
	{ "newline", "eth0\n", 0, "control" },
	{ "escape", "a\033[2J", 0, "control" },
	{ "del", "a\177", 0, "control" },
	{ "utf8", "\xc3\xa9th0", 0, "non-ASCII" },
	{ "dots_ok", "...", 1, NULL },
};

static void test_ifname_table(void **state)
{
	char why[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ifname_cases) / sizeof(ifname_cases[0]); i++) {
		const struct ifname_case *c = &ifname_cases[i];
		int ret = ifname_check(c->name, why, sizeof(why));

		if (c->ok != (ret == 0))
			fail_msg("ifname_%s: '%s' %s", c->tag, c->name,
				 c->ok ? "refused" : "accepted");
		if (!c->ok && !strstr(why, c->why))
			fail_msg("ifname_%s: reason '%s' lacks '%s'", c->tag, why, c->why);
	}
	assert_int_equal(ifname_check("eth0", NULL, 0), 0);
	assert_int_equal(ifname_check("..", NULL, 0), -1);
	assert_int_equal(ifname_check(NULL, NULL, 0), -1);
}

static void test_ifname_sanitised(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(ifname_sanitise("a\033[2J\n", buf), "a?[2J?");
	assert_string_equal(ifname_sanitise("0123456789abcdefghij", buf), "0123456789abcde");
}

/* A scratch directory under /tmp, removed by rm -rf at the end. */
static char scratch[64];

static int scratch_up(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/h13-unit.XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int scratch_down(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", scratch);
	return system(cmd) ? -1 : 0;
}

static void parse_ok(struct policy *p, const char *text)
{
	struct policy_errors errs = { 0 };

	if (policy_parse("t.policy", text, strlen(text), p, &errs)) {
		policy_errors_print(stderr, "t.policy", &errs);
		fail_msg("parse failed");
	}
	policy_errors_free(&errs);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void assert_file(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, text);
}

#define SMALL "set e = 203.0.113.10\nprotect e\nA/X/TCP/1 any e\n"

/* A wrong /run/picfw is refused with a message that says what is wrong. */
static void test_run_dir_refused(void **state)
{
	char dir[128], link[128], why[512];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run", scratch);
	assert_int_equal(run_dir_ensure(dir, 1, why, sizeof(why)), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(chmod(dir, 0755), 0);
	assert_true(run_dir_ensure(dir, 1, why, sizeof(why)) < 0);
	if (!strstr(why, "not a 0700 directory") || !strstr(why, "0755"))
		fail_msg("run_dir_mode: '%s'", why);
	assert_int_equal(chmod(dir, 0700), 0);

	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_true(run_dir_ensure(dir, 1, why, sizeof(why)) < 0);
		if (!strstr(why, "uid 65534"))
			fail_msg("run_dir_owner: '%s'", why);
		assert_int_equal(chown(dir, 0, 0), 0);
	}

	snprintf(link, sizeof(link), "%s/runlink", scratch);
	assert_int_equal(symlink(dir, link), 0);
	assert_true(run_dir_ensure(link, 1, why, sizeof(why)) < 0);
	if (!strstr(why, "symbolic link"))
		fail_msg("run_dir_symlink: '%s'", why);
}

/* Symlinks planted at the old temp name and at the copy's name: no target is written. */
static void test_run_copy_planted_symlink(void **state)
{
	char dir[128], target[128], path[192];
	struct policy p;
	char why[512];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run2", scratch);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/canary", scratch);
	write_file(target, "canary\n");
	snprintf(path, sizeof(path), "%s/h13x.gen0.policy.tmp", dir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/h13x.gen0.policy", dir);
	assert_int_equal(symlink(target, path), 0);

	parse_ok(&p, SMALL);
	if (policy_copy_save_in(dir, "h13x", 0, &p, why, sizeof(why)))
		fail_msg("run_copy_save: %s", why);
	assert_file(target, "canary\n");
	{
		struct policy back;
		struct policy_errors errs = { 0 };
		struct stat st;

		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(policy_load(path, &back, &errs), 0);
		assert_int_equal(back.nrows, 1);
		policy_free(&back);
		policy_errors_free(&errs);
	}
	/* A traversal name never becomes a path. */
	assert_true(policy_copy_save_in(dir, "../h13x", 0, &p, why, sizeof(why)) < 0);
	policy_free(&p);
}

/*
 * A killed attach or apply leaves its temp file: the next save of that
 * interface's generation removes it (a symlink there as a name, its target
 * untouched), and only it: another generation's, another name's and a name
 * of another shape stay.
 */
static void test_run_copy_stale_temps(void **state)
{
	static const char *const stale = ".h13y.gen0.AbC123", *const planted = ".h13y.gen0.Sym456";
	static const char *const kept[] = { ".h13y.gen1.XyZ789", ".h13yz.gen0.QwE456",
					    ".h13y.gen0.Long1234", "h13y.gen0.NoDot1" };
	char dir[128], target[128], path[192], why[512];
	struct policy p;
	struct stat st;
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run3", scratch);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/canary3", scratch);
	write_file(target, "canary\n");
	snprintf(path, sizeof(path), "%s/%s", dir, stale);
	write_file(path, "");
	snprintf(path, sizeof(path), "%s/%s", dir, planted);
	assert_int_equal(symlink(target, path), 0);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kept[i]);
		write_file(path, "");
	}

	parse_ok(&p, SMALL);
	if (policy_copy_save_in(dir, "h13y", 0, &p, why, sizeof(why)))
		fail_msg("run_copy_save: %s", why);
	policy_free(&p);
	snprintf(path, sizeof(path), "%s/%s", dir, stale);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/%s", dir, planted);
	assert_int_equal(lstat(path, &st), -1);
	assert_file(target, "canary\n");
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kept[i]);
		if (lstat(path, &st))
			fail_msg("run_copy_stale_temps: %s was removed", kept[i]);
	}
	snprintf(path, sizeof(path), "%s/h13y.gen0.policy", dir);
	assert_int_equal(lstat(path, &st), 0);
}

/* One diagnostic a policy must give: at LINE:COL, holding MSG; a warning or not. */
struct diag_case {
	const char *tag, *text;
	int line, col;
	const char *msg;
	int warning; /* 1: the policy is taken, with this warning */
};

#define ROWS "protect e\nA/X/TCP/1 any e\n"

static const struct diag_case diag_cases[] = {
	/* Address forms that fail open: the data path never sees them. */
	{ "mapped_host", "set e = ::ffff:203.0.113.10\n" ROWS, 1, 9,
	  "IPv4-mapped IPv6 form, which never matches an IPv4 packet; "
	  "write the IPv4 address 203.0.113.10", 0 },
	{ "mapped_prefix", "set e = 203.0.113.10, ::ffff:198.51.100.0/120\n" ROWS, 1, 23,
	  "write the IPv4 prefix 198.51.100.0/24", 0 },
	{ "mapped_block", "set e = 203.0.113.10, ::ffff:0:0/96\n" ROWS, 1, 23,
	  "write the IPv4 prefix 0.0.0.0/0", 0 },
	{ "compat_host", "set e = ::203.0.113.10\n" ROWS, 1, 9, "IPv4-compatible", 0 },
	{ "compat_block", "set e = 203.0.113.10\nset x = ::/96\n" ROWS, 2, 9, "IPv4-compatible",
	  0 },
	{ "compat_126", "set e = 203.0.113.10\nset x = ::/126\n" ROWS, 2, 9, "IPv4-compatible",
	  0 },
	{ "mapped_inline_row", "set e = 203.0.113.10\nprotect e\nA/X/TCP/1 ::ffff:192.0.2.1 e\n",
	  3, 11, "write the IPv4 address 192.0.2.1", 0 },
	{ "mapped_inline_dst", "set e = 2001:db8::1\nprotect e\nA/X/TCP/1 e ::ffff:c000:201\n", 3,
	  13, "IPv4-mapped", 0 },
	/* Protected sets wider than the documented bound. */
	{ "protect_any", "set e = any\n" ROWS, 1, 5, "protected set 'e' holds everything", 0 },
	{ "protect_v4_zero", "set e = 0.0.0.0/0\n" ROWS, 1, 5, "wider than /16", 0 },
	{ "protect_v6_zero", "set e = 203.0.113.10, ::/0\n" ROWS, 1, 5, "wider than /32", 0 },
	{ "protect_v4_wide", "set e = 203.0.113.10, 10.0.0.0/15\n" ROWS, 1, 5,
	  "holds 10.0.0.0/15, wider than /16", 0 },
	{ "protect_v6_wide", "set e = 2001:db8::/31\n" ROWS, 1, 5, "2001:db8::/31, wider", 0 },
	/* `any` beside other items: a warning, the policy is taken. */
	{ "any_then_prefix", "set e = 203.0.113.10\nset p = any, 198.51.100.0/24\n" ROWS, 2, 14,
	  "set 'p' holds 'any' (or a /0) beside other items", 1 },
	{ "prefix_then_any", "set e = 203.0.113.10\nset p = 198.51.100.0/24,\n any\n" ROWS, 3, 2,
	  "set 'p' holds 'any'", 1 },
	{ "any_twice", "set e = 203.0.113.10\nset p = any, any\n" ROWS, 2, 14, "set 'p' holds 'any'",
	  1 },
	{ "zero_beside", "set e = 203.0.113.10\nset p = 10.0.0.0/8, 0.0.0.0/0\n" ROWS, 2, 21,
	  "set 'p' holds 'any' (or a /0)", 1 },
	/* A set continued onto a labelled row: the trailing comma is the slip. */
	{ "continued_onto_label", "set e = 203.0.113.10,\nsip-in: A/X/TCP/1 any e\nprotect e\n", 1,
	  22, "missing address after ','", 0 },
	/* Text that displays in another order than it reads (Trojan Source). */
	{ "bidi_rlo_in_notes", "set e = 203.0.113.10\n" ROWS "B/X/TCP/2 any e \"ab\xe2\x80\xae" "cd\"\n", 4,
	  20, "file is not text (bidirectional control character U+202E)", 0 },
	{ "bidi_isolate_in_comment", "# \xe2\x81\xa6x\nset e = 203.0.113.10\n" ROWS, 1, 3,
	  "bidirectional control character U+2066", 0 },
	{ "bidi_pdi", "set e = 203.0.113.10 # \xe2\x81\xa9\n" ROWS, 1, 24, "U+2069", 0 },
	{ "bidi_rlm", "set e = 203.0.113.10 # \xe2\x80\x8f\n" ROWS, 1, 24, "U+200F", 0 },
	/* Quoted: a short prefix, printable ASCII only; nothing of a file that is no policy. */
	{ "quote_short", "set e = 203.0.113.10\nset p = 0123456789abcdefghijklmnopqrstuvwxyz\n" ROWS,
	  2, 9, "bad address '0123456789abcdefghijklmnopqrstuv...'", 0 },
	{ "quote_sanitised", "set e = 203.0.113.10\nset p = 1\xc3\xa9\n" ROWS, 2, 9,
	  "bad address '1?" "?'", 0 },
	{ "not_a_policy", "root:$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyz:19000:0:99999:7:::\n"
	  "daemon:*:19000:0:99999:7:::\n", 1, 1,
	  "not a picfw policy: no line of it reads as a statement", 0 },
	{ "continued_onto_digit_label", "set e = 203.0.113.10,\n1: A/X/TCP/1 any e\nprotect e\n", 1,
	  22, "missing address after ','", 0 },
};

static void test_policy_hostile_diagnostics(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(diag_cases) / sizeof(diag_cases[0]); i++) {
		const struct diag_case *c = &diag_cases[i];
		struct policy_errors errs = { 0 };
		struct policy p;
		int ret = policy_parse("t.policy", c->text, strlen(c->text), &p, &errs);
		int found = 0;

		for (k = 0; k < errs.n; k++)
			if (strstr(errs.v[k].msg, "saltsalt"))
				fail_msg("diag_%s: echoes the file: %s", c->tag, errs.v[k].msg);
		for (k = 0; k < errs.n; k++)
			if (errs.v[k].line == c->line && errs.v[k].col == c->col &&
			    errs.v[k].warning == c->warning && strstr(errs.v[k].msg, c->msg))
				found = 1;
		if (!found || (ret == 0) != c->warning) {
			for (k = 0; k < errs.n; k++)
				print_error("  got %d:%d: %s%s\n", errs.v[k].line, errs.v[k].col,
					    errs.v[k].warning ? "warning: " : "", errs.v[k].msg);
			fail_msg("diag_%s: want %d:%d: %s (%s)", c->tag, c->line, c->col, c->msg,
				 ret ? "refused" : "taken");
		}
		if (!ret)
			policy_free(&p);
		policy_errors_free(&errs);
	}
}

/* What stays accepted: IPv6's own ::, ::1, NAT64's 64:ff9b::/96, a /16 and a /32. */
static void test_policy_hostile_still_accepted(void **state)
{
	static const char *const ok_texts[] = {
		"set e = 203.0.113.10\nset x = ::, ::1, ::/127, 64:ff9b::/96, ::/95\n" ROWS,
		"set e = 198.51.0.0/16, 2001:db8::/32\n" ROWS,
		"set e = 203.0.113.10\nset p = 198.51.100.0/24,\n  2001:db8::\n"
		"sip-in: A/X/TCP/1 p e\nprotect e\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok_texts) / sizeof(ok_texts[0]); i++) {
		struct policy_errors errs = { 0 };
		struct policy p;

		if (policy_parse("t.policy", ok_texts[i], strlen(ok_texts[i]), &p, &errs)) {
			policy_errors_print(stderr, "t.policy", &errs);
			fail_msg("accepted_%zu refused", i);
		}
		assert_int_equal(errs.n, 0);
		policy_free(&p);
		policy_errors_free(&errs);
	}
}

/* What policy_write wrote: lines within the limit; parsed back, written the same. */
static void round_trip(const char *tag, const char *text, size_t len)
{
	struct policy_errors errs = { 0 };
	char *w1 = NULL, *w2 = NULL, *line;
	size_t n1 = 0, n2 = 0;
	struct policy p, q;
	FILE *f;

	if (policy_parse(tag, text, len, &p, &errs)) {
		policy_errors_print(stderr, tag, &errs);
		fail_msg("round_trip_%s: does not parse", tag);
	}
	policy_errors_free(&errs);
	f = open_memstream(&w1, &n1);
	assert_non_null(f);
	policy_write(f, &p);
	fclose(f);
	assert_true(n1 <= POLICY_MAX_FILE);
	for (line = w1; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (n > POLICY_MAX_LINE)
			fail_msg("round_trip_%s: a written line of %zu bytes", tag, n);
		line += n + (nl ? 1 : 0);
	}
	if (policy_parse(tag, w1, n1, &q, &errs)) {
		policy_errors_print(stderr, "written", &errs);
		fail_msg("round_trip_%s: the written copy does not parse", tag);
	}
	policy_errors_free(&errs);
	assert_int_equal(p.nrows, q.nrows);
	assert_int_equal(p.nsets, q.nsets);
	f = open_memstream(&w2, &n2);
	assert_non_null(f);
	policy_write(f, &q);
	fclose(f);
	if (n1 != n2 || memcmp(w1, w2, n1))
		fail_msg("round_trip_%s: written twice, not the same", tag);
	free(w1);
	free(w2);
	policy_free(&p);
	policy_free(&q);
}

/* A row of notes that fits as written but not with its name: refused, not written too long. */
static void test_policy_round_trip_within_limits(void **state)
{
	static const char *const corpus[] = {
		"etc/pic.policy", "tests/fuzz/corpus/continuation.policy",
		"tests/fuzz/corpus/crlf.policy", "tests/fuzz/corpus/edges.policy",
	};
	const char *top = getenv("PICFW_SRCDIR");
	size_t cap = 3 * POLICY_MAX_LINE, i, n;
	struct policy_errors errs = { 0 };
	char *text = malloc(cap), *o;
	struct policy p;

	(void)state;
	assert_non_null(text);
	/* 1. 4,070 bytes of notes: fine as written, too long once "NAME: " is prepended. */
	o = text + sprintf(text, "set e = 203.0.113.10\nprotect e\nA/X/TCP/1 any e \"");
	memset(o, 'n', 4070); /* a row of 4,088 bytes, 4,102 after "a-x-tcp-1-in: " */
	o += 4070;
	sprintf(o, "\"\n");
	assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
	if (errs.n != 1 || errs.v[0].line != 3 || !strstr(errs.v[0].msg, "once normalised"))
		fail_msg("round_trip_long_notes: %s", errs.n ? errs.v[0].msg : "no error");
	policy_errors_free(&errs);

	/* 2. Backslashes that are kept, and doubled when written: 1,000 fit, 1,500 do not. */
	for (n = 1000; n <= 1500; n += 500) {
		o = text + sprintf(text, "set e = 203.0.113.10\nprotect e\nr: A/X/TCP/1 any e \"");
		for (i = 0; i < n; i++)
			o += sprintf(o, "\\a");
		o += sprintf(o, "\"\n");
		if (n == 1000) {
			round_trip("backslashes", text, strlen(text));
		} else {
			assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
			assert_non_null(strstr(errs.v[0].msg, "once normalised"));
			policy_errors_free(&errs);
		}
	}

	/* 3. The shipped policy and the fuzz corpus. */
	for (i = 0; top && i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", top, corpus[i]);
		f = fopen(path, "r");
		if (!f)
			fail_msg("round_trip: %s: cannot open", path);
		n = fread(text, 1, cap, f);
		fclose(f);
		round_trip(corpus[i], text, n);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifname_table),
		cmocka_unit_test(test_ifname_sanitised),
		cmocka_unit_test(test_policy_hostile_diagnostics),
		cmocka_unit_test(test_policy_hostile_still_accepted),
		cmocka_unit_test(test_policy_round_trip_within_limits),
		cmocka_unit_test(test_run_dir_refused),
		cmocka_unit_test(test_run_copy_planted_symlink),
		cmocka_unit_test(test_run_copy_stale_temps),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("hostile", tests, scratch_up, scratch_down);
}
