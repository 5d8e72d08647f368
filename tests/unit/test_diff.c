// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* test_diff.c - what `picfw apply --dry-run` reports between two policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff.h"
#include "policy.h"

static void parse(struct policy *p, const char *text)
{
	struct policy_errors errs = { 0 };

	if (policy_parse("t.policy", text, strlen(text), p, &errs)) {
		policy_errors_print(stderr, "t.policy", &errs);
		fail_msg("parse failed");
	}
	policy_errors_free(&errs);
}

static const char *const old_text =
	"set edge = 203.0.113.10\n"
	"set partners = 198.51.100.0/24, 2001:db8:100::/48\n"
	"set gone = 192.0.2.0/24\n"
	"protect edge\n"
	"Access/SIP(MTLS)/TCP/5061 partners edge \"sip\"\n"
	"Access/SIP(TLS)/TCP/443 any edge\n"
	"old: A/X/UDP/9 gone edge\n"
	"notes: A/X/UDP/10 any edge \"before\"\n";

static const char *const new_text =
	"set edge = 203.0.113.10\n"
	"set partners = 198.51.100.0/24, 2001:db8:200::/48, 2001:db8:300::/48\n"
	"protect edge\n"
	"Access/SIP(MTLS)/TCP/5061 partners edge \"sip\"\n"
	"Access/SIP(TLS)/TCP/443 198.51.100.7 edge\n"
	"new: A/X/TCP/8080 any edge\n"
	"notes: A/X/UDP/10 any edge \"after\"\n";

/* Parse old and new into *a and *b, and diff them: the counts, and the text in *out. */
static struct policy_diff_counts diff_texts(const char *old, const char *new, struct policy *a,
					    struct policy *b, char **out)
{
	struct policy_diff_counts c;
	size_t len = 0;
	FILE *f;

	parse(a, old);
	parse(b, new);
	*out = NULL;
	f = open_memstream(out, &len);
	assert_non_null(f);
	c = policy_diff(f, a, b);
	fclose(f);
	return c;
}

static void test_diff_rows_and_prefixes(void **state)
{
	struct policy_diff_counts c;
	struct policy a, b;
	char *out;

	(void)state;
	c = diff_texts(old_text, new_text, &a, &b, &out);
	assert_int_equal(c.added, 1);   /* new */
	assert_int_equal(c.removed, 1); /* old */
	assert_int_equal(c.changed, 2); /* 443's source, notes' notes */
	assert_int_equal(c.kept, 1);    /* 5061 */
	/* partners: +2 -1; gone: -1 */
	assert_int_equal(c.prefixes_added, 2);
	assert_int_equal(c.prefixes_removed, 2);
	assert_non_null(strstr(out, "+ new "));
	assert_non_null(strstr(out, "- old "));
	assert_non_null(strstr(out, "~ access-sip-tls-tcp-443-in"));
	assert_non_null(strstr(out, "was in tcp 443 any -> edge"));
	assert_non_null(strstr(out, "(notes changed)"));
	assert_non_null(strstr(out, "= access-sip-mtls-tcp-5061-in"));
	assert_non_null(strstr(out, "+ 2001:db8:300::/48"));
	assert_non_null(strstr(out, "- 2001:db8:100::/48"));
	assert_non_null(strstr(out, "set gone (gone): 0 prefixes added, 1 removed"));
	free(out);
	policy_free(&a);
	policy_free(&b);
}

static void test_diff_identical_is_all_kept(void **state)
{
	struct policy_diff_counts c;
	struct policy a, b;
	FILE *f = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(f);
	parse(&a, old_text);
	parse(&b, old_text);
	c = policy_diff(f, &a, &b);
	fclose(f);
	assert_int_equal(c.kept, 4);
	assert_int_equal(c.added + c.removed + c.changed, 0);
	assert_int_equal(c.prefixes_added + c.prefixes_removed, 0);
	assert_int_equal(c.settings, 0);
	policy_free(&a);
	policy_free(&b);
}

/* Every setting line that differs is shown, old and new, and only those. */
static void test_diff_settings(void **state)
{
	static const char *const a_text = "set edge = 203.0.113.10\n"
					  "protect edge\n"
					  "unprotected drop\n"
					  "Access/SIP(TLS)/TCP/443 any edge\n";
	static const char *const b_text = "set edge = 203.0.113.10\n"
					  "set access = 203.0.113.10\n"
					  "protect access\n"
					  "mode audit\n"
					  "replies stateless\n"
					  "icmp strict\n"
					  "timeout udp 5s\n"
					  "timeout tcp-transitory 10s\n"
					  "flows udp 1024\n"
					  "Access/SIP(TLS)/TCP/443 any edge\n";
	struct policy_diff_counts c;
	struct policy a, b;
	char *out;

	(void)state;
	c = diff_texts(a_text, b_text, &a, &b, &out);
	assert_non_null(strstr(out, "mode: enforce -> audit\n"));
	assert_non_null(strstr(out, "unprotected: drop -> pass\n"));
	assert_non_null(strstr(out, "replies: tracked -> stateless\n"));
	assert_non_null(strstr(out, "icmp: permissive -> strict\n"));
	assert_non_null(strstr(out, "timeout udp: 60s -> 5s\n"));
	assert_non_null(strstr(out, "timeout tcp-transitory: 30s -> 10s\n"));
	assert_null(strstr(out, "timeout tcp:"));
	assert_non_null(strstr(out, "flows udp: 65536 -> 1024 (at the next attach"));
	assert_null(strstr(out, "flows tcp:"));
	assert_non_null(strstr(out, "protect: edge -> access\n"));
	assert_int_equal(c.settings, 8);
	assert_non_null(strstr(out, "; 8 settings changed\n"));
	assert_int_equal(c.kept, 1);
	free(out);
	policy_free(&a);
	policy_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_rows_and_prefixes),
		cmocka_unit_test(test_diff_identical_is_all_kept),
		cmocka_unit_test(test_diff_settings),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
