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

#include <cmocka.h>

#include "ifname.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifname_table),
		cmocka_unit_test(test_ifname_sanitised),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
