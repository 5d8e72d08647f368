/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_policy.c - the policy language (user/policy.c): every error with its
 * exact line and column, the happy paths, and the shipped etc/pic.policy.
 *
 * Each check names its caller's line on failure, so a failure points to one
 * assertion. PICFW_SRCDIR (default ".") locates etc/pic.policy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

/* A protected set on lines 1-2: rows under test start on line 3. */
#define BASE "set e = 203.0.113.10\nprotect e\n"

static void dump_errors(const struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		print_error("  got %d:%d: %s\n", errs->v[i].line, errs->v[i].col, errs->v[i].msg);
}

static void assert_empty_policy(const struct policy *p, const char *file, int line)
{
	if (p->sets || p->nsets || p->rows || p->nrows || p->file || p->protect != -1) {
		print_error("policy not left empty after a failed parse\n");
		_fail(file, line);
	}
}

/* errs->v[i] is at line:col and its message holds msg. */
static void check_error(const struct policy_errors *errs, size_t i, int line, int col,
			const char *msg, const char *file, int at)
{
	if (i >= errs->n || errs->v[i].line != line || errs->v[i].col != col ||
	    !strstr(errs->v[i].msg, msg)) {
		print_error("error %zu: expected %d:%d: ...%s...\n", i, line, col, msg);
		dump_errors(errs);
		_fail(file, at);
	}
}

/* text fails with exactly nerr errors; the first is at line:col and holds msg. */
static void expect_errors_at(const char *text, size_t len, size_t nerr, int line, int col,
			     const char *msg, const char *file, int at)
{
	struct policy p;
	struct policy_errors errs;

	if (policy_parse("t.policy", text, len, &p, &errs) != -1) {
		print_error("parse succeeded, expected %d:%d: %s\n", line, col, msg);
		policy_free(&p);
		_fail(file, at);
	}
	assert_empty_policy(&p, file, at);
	if (errs.n != nerr) {
		print_error("expected %zu error(s)\n", nerr);
		dump_errors(&errs);
		_fail(file, at);
	}
	check_error(&errs, 0, line, col, msg, file, at);
	policy_errors_free(&errs);
}

#define expect_error(text, line, col, msg) \
	expect_errors_at(text, strlen(text), 1, line, col, msg, __FILE__, __LINE__)
#define expect_error_len(text, len, line, col, msg) \
	expect_errors_at(text, len, 1, line, col, msg, __FILE__, __LINE__)

/* Exactly one error, at line:col, and its whole message. */
static void expect_message_at(const char *text, int line, int col, const char *msg,
			      const char *file, int at)
{
	struct policy_errors errs;
	struct policy p;

	if (policy_parse("t.policy", text, strlen(text), &p, &errs) != -1) {
		print_error("parse succeeded, expected %d:%d: %s\n", line, col, msg);
		policy_free(&p);
		_fail(file, at);
	}
	assert_empty_policy(&p, file, at);
	if (errs.n != 1 || errs.v[0].line != line || errs.v[0].col != col ||
	    strcmp(errs.v[0].msg, msg)) {
		print_error("expected exactly %d:%d: %s\n", line, col, msg);
		dump_errors(&errs);
		_fail(file, at);
	}
	policy_errors_free(&errs);
}

#define expect_message(text, line, col, msg) \
	expect_message_at(text, line, col, msg, __FILE__, __LINE__)

static void parse_ok_at(const char *text, size_t len, struct policy *p, const char *file, int at)
{
	struct policy_errors errs;

	if (policy_parse("t.policy", text, len, p, &errs)) {
		print_error("parse failed:\n");
		dump_errors(&errs);
		policy_errors_free(&errs);
		_fail(file, at);
	}
	assert_int_equal(errs.n, 0);
	policy_errors_free(&errs);
}

#define parse_ok(text, p) parse_ok_at(text, strlen(text), p, __FILE__, __LINE__)

/* policy_print into a string (free it). */
static char *print_policy(const struct policy *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	policy_print(f, p);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static const char *set_name(const struct policy *p, int idx)
{
	assert_true(idx >= 0 && (size_t)idx < p->nsets);
	return p->sets[idx].name;
}

static char *fmt_prefix(const struct prefix *pf)
{
	static char buf[64];

	prefix_format(pf, buf, sizeof(buf));
	return buf;
}

/* ---- the shipped policy ---- */

static const char pic_expected[] =
	"mode enforce\n"
	"unprotected pass\n"
	"replies tracked\n"
	"icmp permissive\n"
	"timeout udp 60s\n"
	"timeout tcp 7200s\n"
	"timeout tcp-transitory 30s\n"
	"flows tcp 65536\n"
	"flows udp 65536\n"
	"protect edge-access\n"
	"set edge-access = 203.0.113.10, 2001:db8:e::10\n"
	"set pic-partners = 198.51.100.0/24, 2001:db8:100::/48\n"
	"set messenger-clients = any\n"
	"set clients = any\n"
	"\n"
	"NAME                          DIR  TRANSPORT  PORTS        SOURCE             "
	"DESTINATION        NOTES\n"
	"access-sip-mtls-tcp-5061-in   in   tcp        5061         pic-partners       "
	"edge-access        Federated and PIC connectivity using SIP\n"
	"access-sip-mtls-tcp-5061-out  out  tcp        5061         edge-access        "
	"pic-partners       Federated and PIC connectivity using SIP\n"
	"access-sip-tls-tcp-443-in     in   tcp        443          clients            "
	"edge-access        Client-to-server SIP traffic for external user access\n"
	"a-v-rtp-tcp-50000-59999-out   out  tcp        50000-59999  edge-access        "
	"messenger-clients  A/V sessions with Windows Live Messenger when PIC is configured\n"
	"a-v-stun-msturn-udp-3478-out  out  udp        3478         edge-access        "
	"messenger-clients  Required for PIC connectivity with Windows Live Messenger\n"
	"a-v-stun-msturn-udp-3478-in   in   udp        3478         messenger-clients  "
	"edge-access        Required for PIC connectivity with Windows Live Messenger\n";

static void test_policy_pic_policy(void **state)
{
	static const struct {
		const char *name;
		unsigned dir, transport, lo, hi;
		const char *src, *dst;
	} want[] = {
		{ "access-sip-mtls-tcp-5061-in", PICFW_DIR_IN, PICFW_TCP, 5061, 5061,
		  "pic-partners", "edge-access" },
		{ "access-sip-mtls-tcp-5061-out", PICFW_DIR_OUT, PICFW_TCP, 5061, 5061,
		  "edge-access", "pic-partners" },
		{ "access-sip-tls-tcp-443-in", PICFW_DIR_IN, PICFW_TCP, 443, 443,
		  "clients", "edge-access" },
		{ "a-v-rtp-tcp-50000-59999-out", PICFW_DIR_OUT, PICFW_TCP, 50000, 59999,
		  "edge-access", "messenger-clients" },
		{ "a-v-stun-msturn-udp-3478-out", PICFW_DIR_OUT, PICFW_UDP, 3478, 3478,
		  "edge-access", "messenger-clients" },
		{ "a-v-stun-msturn-udp-3478-in", PICFW_DIR_IN, PICFW_UDP, 3478, 3478,
		  "messenger-clients", "edge-access" },
	};
	const char *dir = getenv("PICFW_SRCDIR");
	struct policy_errors errs;
	struct policy p;
	char path[4096], *out;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/pic.policy", dir && *dir ? dir : ".");
	if (policy_load(path, &p, &errs)) {
		policy_errors_print(stderr, path, &errs);
		policy_errors_free(&errs);
		fail_msg("%s does not load", path);
	}
	policy_errors_free(&errs);
	assert_string_equal(p.file, path);
	assert_int_equal(p.mode, PICFW_MODE_ENFORCE);
	assert_string_equal(set_name(&p, p.protect), "edge-access");
	assert_int_equal(p.nrows, 6);
	for (i = 0; i < 6; i++) {
		const struct row *r = &p.rows[i];

		assert_string_equal(r->name, want[i].name);
		assert_false(r->explicit_name);
		assert_int_equal(r->direction, want[i].dir);
		assert_int_equal(r->transport, want[i].transport);
		assert_int_equal(r->port_lo, want[i].lo);
		assert_int_equal(r->port_hi, want[i].hi);
		assert_string_equal(set_name(&p, r->src), want[i].src);
		assert_string_equal(set_name(&p, r->dst), want[i].dst);
		assert_string_equal(r->src_text, want[i].src);
		assert_string_equal(r->dst_text, want[i].dst);
		assert_non_null(r->notes);
		assert_int_equal(r->col, 1);
	}
	assert_string_equal(p.rows[3].role, "A/V");
	assert_string_equal(p.rows[3].protocol, "RTP");
	assert_string_equal(p.rows[4].protocol, "STUN,MSTURN");
	assert_string_equal(p.rows[0].protocol, "SIP(MTLS)");
	assert_string_equal(p.rows[0].role, "Access");
	assert_string_equal(p.rows[0].notes, "Federated and PIC connectivity using SIP");
	/* Only the four named sets: every row names its sets. */
	assert_int_equal(p.nsets, 4);
	for (i = 0; i < p.nsets; i++)
		assert_true(p.sets[i].used);

	out = print_policy(&p);
	assert_string_equal(out, pic_expected);
	free(out);
	policy_free(&p);
}

/* ---- happy paths ---- */

static void test_policy_minimal_row(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "Access/SIP/TCP/5061 any e\n", &p);
	assert_string_equal(p.file, "t.policy");
	assert_int_equal(p.nrows, 1);
	assert_int_equal(p.protect, 0);
	assert_int_equal(p.mode, PICFW_MODE_ENFORCE);
	assert_string_equal(p.rows[0].name, "access-sip-tcp-5061-in");
	assert_int_equal(p.rows[0].direction, PICFW_DIR_IN);
	assert_int_equal(p.rows[0].line, 3);
	assert_int_equal(p.rows[0].col, 1);
	assert_null(p.rows[0].notes);
	/* `any` written in a row: a set without a name, 0.0.0.0/0 and ::/0. */
	assert_int_equal(p.nsets, 2);
	assert_null(p.sets[p.rows[0].src].name);
	assert_int_equal(p.sets[p.rows[0].src].nprefixes, 2);
	assert_string_equal(fmt_prefix(&p.sets[p.rows[0].src].prefixes[0]), "0.0.0.0/0");
	assert_string_equal(fmt_prefix(&p.sets[p.rows[0].src].prefixes[1]), "::/0");
	assert_true(p.sets[p.rows[0].src].used);
	assert_int_equal(p.rows[0].dst, 0);
	assert_true(p.sets[0].used);
	assert_string_equal(p.rows[0].src_text, "any");
	policy_free(&p);
	assert_int_equal(p.protect, -1);
	assert_null(p.sets);
}

static void test_policy_field_split_from_right(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "A/V/STUN,MSTURN/UDP/3478 e any\n"
		      "x/y//z/SIP(TLS)/tcp/443 any e\n", &p);
	assert_int_equal(p.nrows, 2);
	assert_string_equal(p.rows[0].role, "A/V");
	assert_string_equal(p.rows[0].protocol, "STUN,MSTURN");
	assert_int_equal(p.rows[0].transport, PICFW_UDP);
	assert_int_equal(p.rows[0].port_lo, 3478);
	assert_int_equal(p.rows[0].direction, PICFW_DIR_OUT);
	assert_string_equal(p.rows[0].name, "a-v-stun-msturn-udp-3478-out");
	assert_string_equal(p.rows[1].role, "x/y//z");
	assert_string_equal(p.rows[1].protocol, "SIP(TLS)");
	assert_string_equal(p.rows[1].name, "x-y-z-sip-tls-tcp-443-in");
	policy_free(&p);
}

static void test_policy_ports_thousands_separators(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "a/b/TCP/50,000-59,999 e any\n"
		      "a/b/TCP/5,061 e any\n"
		      "a/b/TCP/65,535 e any\n"
		      "a/b/TCP/1 e any\n"
		      "a/b/TCP/1-65535 any e\n"
		      "a/b/TCP/7-7 any e\n", &p);
	assert_int_equal(p.nrows, 6);
	assert_int_equal(p.rows[0].port_lo, 50000);
	assert_int_equal(p.rows[0].port_hi, 59999);
	assert_string_equal(p.rows[0].name, "a-b-tcp-50000-59999-out");
	assert_int_equal(p.rows[1].port_lo, 5061);
	assert_int_equal(p.rows[1].port_hi, 5061);
	assert_int_equal(p.rows[2].port_lo, 65535);
	assert_int_equal(p.rows[3].port_lo, 1);
	assert_int_equal(p.rows[4].port_lo, 1);
	assert_int_equal(p.rows[4].port_hi, 65535);
	assert_int_equal(p.rows[5].port_lo, 7);
	assert_int_equal(p.rows[5].port_hi, 7);
	/* A one-port range is named as one port. */
	assert_string_equal(p.rows[5].name, "a-b-tcp-7-in");
	policy_free(&p);
}

static void test_policy_transport_any_case(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "a/b/tcp/1 any e\na/b/Tcp/2 any e\na/b/uDp/3 any e\na/b/UDP/4 any e\n", &p);
	assert_int_equal(p.rows[0].transport, PICFW_TCP);
	assert_int_equal(p.rows[1].transport, PICFW_TCP);
	assert_int_equal(p.rows[2].transport, PICFW_UDP);
	assert_int_equal(p.rows[3].transport, PICFW_UDP);
	assert_string_equal(p.rows[2].name, "a-b-udp-3-in");
	policy_free(&p);
}

static void test_policy_crlf(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("set e = 203.0.113.10,\r\n  2001:db8::1\r\nprotect e\r\n"
		 "a/b/TCP/1 any e \"n\"\r\n\r\n# c\r\n", &p);
	assert_int_equal(p.nrows, 1);
	assert_int_equal(p.sets[0].nprefixes, 2);
	assert_string_equal(p.rows[0].notes, "n");
	assert_string_equal(p.rows[0].dst_text, "e");
	policy_free(&p);
	/* Columns do not count the CR; the line number counts CRLF lines. */
	expect_error("set e = 203.0.113.10\r\nprotect e\r\na/b/TCP/1 any\r\n", 3, 14,
		     "missing destination");
}

static void test_policy_comments(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("# header\n"
		 "\n"
		 "   # indented comment\n"
		 "set e = 203.0.113.10 # the edge\n"
		 "set f=198.51.100.0/24# no blank before\n"
		 "protect e   # guarded\n"
		 "\t\n"
		 "a/b/TCP/1 f e \"not # a comment\" # a comment\n"
		 "a/b/UDP/2 f e#3\n", &p);
	assert_int_equal(p.nrows, 2);
	assert_int_equal(p.sets[1].nprefixes, 1);
	assert_string_equal(p.rows[0].notes, "not # a comment");
	/* '#' ends a token too. */
	assert_string_equal(p.rows[1].dst_text, "e");
	assert_int_equal(p.rows[0].line, 8);
	policy_free(&p);
}

static void test_policy_set_continuation(void **state)
{
	struct policy p;
	char *out;

	(void)state;
	parse_ok("set e = 203.0.113.10,\n"
		 "\n"
		 "  # a comment between\n"
		 "        203.0.113.11 , 2001:db8::/32,   # trailing comment\n"
		 "\t203.0.113.12\n"
		 "set any4=0.0.0.0/0,::/0\n"
		 "protect e\n"
		 "a/b/TCP/1 any4 e\n", &p);
	assert_int_equal(p.nsets, 2);
	assert_int_equal(p.sets[0].nprefixes, 4);
	assert_string_equal(fmt_prefix(&p.sets[0].prefixes[1]), "203.0.113.11");
	assert_string_equal(fmt_prefix(&p.sets[0].prefixes[2]), "2001:db8::/32");
	assert_string_equal(fmt_prefix(&p.sets[0].prefixes[3]), "203.0.113.12");
	assert_int_equal(p.sets[1].nprefixes, 2);
	assert_int_equal(p.rows[0].line, 8);
	out = print_policy(&p);
	assert_non_null(strstr(out, "set e = 203.0.113.10, 203.0.113.11, 2001:db8::/32, "
				    "203.0.113.12\n"));
	assert_non_null(strstr(out, "set any4 = any\n"));
	free(out);
	policy_free(&p);
}

static void test_policy_labels(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "sip-in: Access/SIP/TCP/5061 any e\n"
		      "  5061.v2_x: Access/SIP/TCP/5061 e any \"n\"\n", &p);
	assert_int_equal(p.nrows, 2);
	assert_string_equal(p.rows[0].name, "sip-in");
	assert_true(p.rows[0].explicit_name);
	assert_int_equal(p.rows[0].col, 1);
	assert_string_equal(p.rows[0].role, "Access");
	assert_string_equal(p.rows[1].name, "5061.v2_x");
	assert_int_equal(p.rows[1].col, 3);
	assert_int_equal(p.rows[1].direction, PICFW_DIR_OUT);
	policy_free(&p);
}

static void test_policy_forward_references(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("a/b/TCP/1 partners edge\n"
		 "a/b/TCP/2 edge partners\n"
		 "protect edge\n"
		 "set partners = 198.51.100.0/24\n"
		 "set edge = 203.0.113.10\n", &p);
	assert_int_equal(p.nrows, 2);
	assert_string_equal(set_name(&p, p.protect), "edge");
	assert_string_equal(set_name(&p, p.rows[0].src), "partners");
	assert_string_equal(set_name(&p, p.rows[0].dst), "edge");
	assert_int_equal(p.rows[0].direction, PICFW_DIR_IN);
	assert_int_equal(p.rows[1].direction, PICFW_DIR_OUT);
	assert_string_equal(p.rows[1].name, "a-b-tcp-2-out");
	policy_free(&p);
}

static void test_policy_inline_addresses(void **state)
{
	struct policy p;
	const struct addr_set *s;

	(void)state;
	parse_ok(BASE "a/b/TCP/1 198.51.100.0/24 e\n"
		      "a/b/TCP/2 e 2001:db8::/32\n"
		      "a/b/TCP/3 192.0.2.1 e\n"
		      "a/b/TCP/4 e 2001:db8::c000:200/120\n"
		      "a/b/TCP/5 e 2001:DB8::1\n", &p);
	assert_int_equal(p.nrows, 5);
	assert_int_equal(p.nsets, 6);
	s = &p.sets[p.rows[0].src];
	assert_null(s->name);
	assert_int_equal(s->nprefixes, 1);
	assert_int_equal(s->prefixes[0].family, 4);
	assert_int_equal(s->prefixes[0].len, 24);
	assert_string_equal(fmt_prefix(&s->prefixes[0]), "198.51.100.0/24");
	assert_true(s->used);
	s = &p.sets[p.rows[1].dst];
	assert_int_equal(s->prefixes[0].family, 6);
	assert_int_equal(s->prefixes[0].len, 32);
	assert_string_equal(fmt_prefix(&s->prefixes[0]), "2001:db8::/32");
	s = &p.sets[p.rows[2].src];
	assert_int_equal(s->prefixes[0].len, 32);
	assert_string_equal(fmt_prefix(&s->prefixes[0]), "192.0.2.1");
	assert_string_equal(fmt_prefix(&p.sets[p.rows[3].dst].prefixes[0]),
			    "2001:db8::c000:200/120");
	s = &p.sets[p.rows[4].dst];
	assert_int_equal(s->prefixes[0].len, 128);
	assert_string_equal(fmt_prefix(&s->prefixes[0]), "2001:db8::1");
	assert_string_equal(p.rows[4].dst_text, "2001:DB8::1");
	/* An inline address equal to the protected set is not the protected set. */
	expect_error(BASE "a/b/TCP/1 any 203.0.113.10\n", 3, 11,
		     "row does not name the protected set 'e' as source or destination");
	policy_free(&p);
}

static void test_policy_ipv6_prefixes(void **state)
{
	struct policy p;
	const struct addr_set *s;

	(void)state;
	parse_ok("set v6 = 2001:db8:100::/48, 2001:db8::1, 2001::/16, 2001:db8::/127, fe80::/10\n"
		 "set e = 2001:db8:e::10\n"
		 "protect e\n"
		 "a/b/UDP/53 v6 e\n", &p);
	s = &p.sets[0];
	assert_int_equal(s->nprefixes, 5);
	assert_int_equal(s->prefixes[0].len, 48);
	assert_int_equal(s->prefixes[0].addr[0], 0x20);
	assert_int_equal(s->prefixes[0].addr[5], 0x00);
	assert_int_equal(s->prefixes[0].addr[4], 0x01);
	assert_int_equal(s->prefixes[1].len, 128);
	assert_int_equal(s->prefixes[1].addr[15], 1);
	assert_int_equal(s->prefixes[2].len, 16);
	assert_int_equal(s->prefixes[3].len, 127);
	assert_string_equal(fmt_prefix(&s->prefixes[4]), "fe80::/10");
	policy_free(&p);
}

static void test_policy_compact_set_syntax(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("set a=1.2.3.4,2001:db8::9\t,5.6.7.8\nset b =5.6.7.0/24 ,2001:db8::/64\n"
		 "protect a\na/b/TCP/1 b a\n", &p);
	assert_int_equal(p.sets[0].nprefixes, 3);
	assert_string_equal(fmt_prefix(&p.sets[0].prefixes[0]), "1.2.3.4");
	assert_int_equal(p.sets[1].nprefixes, 2);
	assert_int_equal(p.sets[0].line, 1);
	assert_int_equal(p.sets[0].col, 5);
	policy_free(&p);
}

static void test_policy_notes(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "a/b/TCP/1 any e \"say \\\"hi\\\" \\\\ C:\\temp\"\n"
		      "a/b/TCP/2 any e \"Accès depuis l'extérieur — été\"\n"
		      "a/b/TCP/3 any e \"\"\n"
		      "a/b/TCP/4 any e\t\"tab\tinside\"\n", &p);
	assert_string_equal(p.rows[0].notes, "say \"hi\" \\ C:\\temp");
	assert_string_equal(p.rows[1].notes, "Accès depuis l'extérieur — été");
	assert_string_equal(p.rows[2].notes, "");
	assert_string_equal(p.rows[3].notes, "tab\tinside");
	policy_free(&p);
}

static void test_policy_mode(void **state)
{
	struct policy p;
	char *out;

	(void)state;
	parse_ok("mode audit\n" BASE "a/b/TCP/1 any e\n", &p);
	assert_int_equal(p.mode, PICFW_MODE_AUDIT);
	out = print_policy(&p);
	assert_true(!strncmp(out, "mode audit\nunprotected pass\nreplies tracked\n", 44));
	free(out);
	policy_free(&p);
	parse_ok(BASE "a/b/TCP/1 any e\nmode enforce\n", &p);
	assert_int_equal(p.mode, PICFW_MODE_ENFORCE);
	policy_free(&p);
}

static void test_policy_byte_order_mark(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("\xef\xbb\xbf" BASE "a/b/TCP/1 any e\n", &p);
	assert_int_equal(p.nsets, 2);
	policy_free(&p);
	/* Columns stay byte offsets: the mark counts. */
	expect_error("\xef\xbb\xbfset 1e = 1.2.3.4\n" BASE "a/b/TCP/1 any e\n", 1, 8,
		     "bad set name '1e'");
}

static void test_policy_names(void **state)
{
	(void)state;
	assert_string_equal(policy_transport_name(PICFW_TCP), "tcp");
	assert_string_equal(policy_transport_name(PICFW_UDP), "udp");
	assert_string_equal(policy_direction_name(PICFW_DIR_IN), "in");
	assert_string_equal(policy_direction_name(PICFW_DIR_OUT), "out");
	assert_string_equal(policy_mode_name(PICFW_MODE_ENFORCE), "enforce");
	assert_string_equal(policy_mode_name(PICFW_MODE_AUDIT), "audit");
}

static void test_policy_prefix_format(void **state)
{
	struct prefix pf = { .family = 4, .len = 32, .addr = { 192, 0, 2, 1 } };
	char small[8];

	(void)state;
	assert_string_equal(fmt_prefix(&pf), "192.0.2.1");
	pf.len = 24;
	pf.addr[3] = 0;
	assert_string_equal(fmt_prefix(&pf), "192.0.2.0/24");
	memset(&pf, 0, sizeof(pf));
	pf.family = 4;
	assert_string_equal(fmt_prefix(&pf), "0.0.0.0/0");
	pf.family = 6;
	assert_string_equal(fmt_prefix(&pf), "::/0");
	pf.addr[0] = 0x20;
	pf.addr[1] = 0x01;
	pf.addr[2] = 0x0d;
	pf.addr[3] = 0xb8;
	pf.len = 32;
	assert_string_equal(fmt_prefix(&pf), "2001:db8::/32");
	pf.addr[15] = 1;
	pf.len = 128;
	assert_string_equal(fmt_prefix(&pf), "2001:db8::1");
	prefix_format(&pf, small, sizeof(small));
	assert_string_equal(small, "2001:db");
}

static void test_policy_print_inline_and_no_notes(void **state)
{
	struct policy p;
	char *out;

	(void)state;
	parse_ok("set e = 203.0.113.10\nprotect e\n"
		 "web: Web/HTTPS/TCP/443 198.51.100.0/24 e \"from partners\"\n"
		 "Web/DNS/UDP/53 e any\n"
		 "Web/NTP/UDP/123 e 2001:db8::1\n", &p);
	out = print_policy(&p);
	/* The exact table: widths from the widest cell, no trailing blanks. */
	assert_string_equal(out,
			    "mode enforce\n"
			    "unprotected pass\n"
			    "replies tracked\n"
			    "icmp permissive\n"
			    "timeout udp 60s\n"
			    "timeout tcp 7200s\n"
			    "timeout tcp-transitory 30s\n"
			    "flows tcp 65536\n"
			    "flows udp 65536\n"
			    "protect e\n"
			    "set e = 203.0.113.10\n"
			    "\n"
			    "NAME                 DIR  TRANSPORT  PORTS  SOURCE           "
			    "DESTINATION  NOTES\n"
			    "web                  in   tcp        443    198.51.100.0/24  "
			    "e            from partners\n"
			    "web-dns-udp-53-out   out  udp        53     e                any\n"
			    "web-ntp-udp-123-out  out  udp        123    e                "
			    "2001:db8::1\n");
	free(out);
	policy_free(&p);
}

/* ---- before parsing: size and text ---- */

static void write_file(const char *path, const char *text, size_t len, size_t total)
{
	FILE *f = fopen(path, "w");
	static char pad[4096];
	size_t n;

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	/* Pad with comment lines of blanks up to total bytes. */
	memset(pad, ' ', sizeof(pad));
	pad[0] = '#';
	pad[sizeof(pad) - 1] = '\n';
	for (total -= len; total > 0; total -= n) {
		n = total < sizeof(pad) ? total : sizeof(pad);
		assert_int_equal(fwrite(pad, 1, n, f), n);
	}
	assert_int_equal(fclose(f), 0);
}

static void test_policy_file_size_limit(void **state)
{
	static const char text[] = BASE "a/b/TCP/1 any e\n";
	char path[] = "/tmp/picfw-test-policy-XXXXXX";
	struct policy_errors errs;
	struct policy p;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	/* Exactly the limit: read and parsed. */
	write_file(path, text, strlen(text), POLICY_MAX_FILE);
	if (policy_load(path, &p, &errs)) {
		dump_errors(&errs);
		unlink(path);
		fail_msg("a file of exactly %u bytes must load", POLICY_MAX_FILE);
	}
	assert_int_equal(p.nrows, 1);
	policy_free(&p);
	policy_errors_free(&errs);

	/* One byte more: one error, nothing parsed. */
	write_file(path, text, strlen(text), POLICY_MAX_FILE + 1u);
	assert_int_equal(policy_load(path, &p, &errs), -1);
	unlink(path);
	assert_empty_policy(&p, __FILE__, __LINE__);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 1);
	assert_string_equal(errs.v[0].msg, "file is 16777217 bytes, over the 16777216-byte limit");
	policy_errors_free(&errs);
	assert_int_equal(POLICY_MAX_FILE, 16777216);
}

static void test_policy_unreadable_file(void **state)
{
	struct policy_errors errs;
	struct policy p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(policy_load("/nonexistent/picfw/x.policy", &p, &errs), -1);
	assert_empty_policy(&p, __FILE__, __LINE__);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_string_equal(errs.v[0].msg, strerror(ENOENT));
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	policy_errors_print(f, "x.policy", &errs);
	fclose(f);
	assert_string_equal(buf, "x.policy: error: No such file or directory\n");
	free(buf);
	policy_errors_free(&errs);

	/* A directory opens but does not read. */
	assert_int_equal(policy_load("/", &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_string_equal(errs.v[0].msg, strerror(EISDIR));
	policy_errors_free(&errs);
}

static void test_policy_errors_print(void **state)
{
	struct policy_errors errs;
	struct policy p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(policy_parse("x", BASE "a/b/TCP/0 any e\n", strlen(BASE) + 16, &p, &errs),
			 -1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	policy_errors_print(f, "etc/x.policy", &errs);
	fclose(f);
	assert_string_equal(buf, "etc/x.policy:3:9: error: port 0 is not allowed\n");
	free(buf);
	policy_errors_free(&errs);
}

static void test_policy_not_text_nul(void **state)
{
	static const char text[] = BASE "a/b/TCP/1 any e\npro\0tect e\n";

	(void)state;
	expect_error_len(text, sizeof(text) - 1, 4, 4, "file is not text (NUL byte)");
}

static void test_policy_not_text_invalid_utf8(void **state)
{
	(void)state;
	/* Overlong '/', a surrogate, above U+10FFFF, cut short, a stray continuation. */
	expect_error(BASE "a/b/TCP/1 any e \"\xc0\xaf\"\n", 3, 18,
		     "file is not text (invalid UTF-8)");
	expect_error("# \xe0\x80\xaf\n", 1, 3, "(invalid UTF-8)");
	expect_error("# ok é\n# \xed\xa0\x80\n", 2, 3, "(invalid UTF-8)");
	expect_error("#\xf4\x90\x80\x80", 1, 2, "(invalid UTF-8)");
	expect_error("#\xf0\x9f\x98\x80 ok\n#\xe2\x82", 2, 2, "(invalid UTF-8)");
	expect_error("#\x80", 1, 2, "(invalid UTF-8)");
	expect_error("#\xff", 1, 2, "(invalid UTF-8)");
}

static void test_policy_not_text_control(void **state)
{
	(void)state;
	/* Only the first, and nothing else is checked. */
	expect_error("hello\nset\x07 x\n\x01", 2, 4, "file is not text (control character 0x07)");
	expect_error("# \x7f\n", 1, 3, "(control character 0x7f)");
	expect_error("# \xc2\x85\n", 1, 3, "(control character 0x85)");
	expect_error("\x1b[0m", 1, 1, "(control character 0x1b)");
}

static void test_policy_long_line(void **state)
{
	char *text = malloc(3 * POLICY_MAX_LINE + 256), *o = text;
	struct policy p;

	(void)state;
	assert_non_null(text);
	/* 4096 bytes then CRLF, then 4096 bytes then LF: both fine. */
	o += sprintf(o, BASE "r: a/b/TCP/1 any e \"");
	memset(o, 'x', POLICY_MAX_LINE - 21);
	o += POLICY_MAX_LINE - 21;
	o += sprintf(o, "\"\r\n#");
	memset(o, 'y', POLICY_MAX_LINE - 1);
	o += POLICY_MAX_LINE - 1;
	*o++ = '\n';
	*o = '\0';
	parse_ok(text, &p);
	assert_int_equal(strlen(p.rows[0].notes), POLICY_MAX_LINE - 21);
	policy_free(&p);

	/* 4097 bytes on line 4: reported, skipped, and line 5 is still read. */
	o[-1] = 'y';
	o += sprintf(o, "\na/b/TCP/0 any e\n");
	expect_errors_at(text, strlen(text), 2, 4, 4097, "line is longer than 4096 bytes",
			 __FILE__, __LINE__);
	{
		struct policy_errors errs;

		assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
		check_error(&errs, 1, 5, 9, "port 0 is not allowed", __FILE__, __LINE__);
		policy_errors_free(&errs);
	}
	/* A long line alone: no "no protect" or "no rows" as well. */
	memset(text, 'z', POLICY_MAX_LINE + 1);
	expect_error_len(text, POLICY_MAX_LINE + 1, 1, 4097, "line is longer than 4096 bytes");
	free(text);
}

/* ---- whole-file errors ---- */

static void test_policy_empty(void **state)
{
	(void)state;
	expect_error("", 1, 1, "empty policy");
	expect_error("# only comments\n\n   \n\t# more\r\n", 1, 1, "empty policy");
}

static void test_policy_no_protect(void **state)
{
	(void)state;
	/* Only the missing protect: no direction error on the row. */
	expect_message("set e = 203.0.113.10\na/b/TCP/1 any e\n", 1, 1, "no 'protect' statement");
}

static void test_policy_no_rows(void **state)
{
	(void)state;
	expect_message(BASE, 1, 1, "policy has no rows");
	expect_errors_at("mode audit\n", 11, 2, 1, 1, "no 'protect' statement", __FILE__, __LINE__);
}

/* ---- set ---- */

static void test_policy_set_duplicate(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\nset  e = 192.0.2.1\n", 4, 6,
		       "duplicate set 'e' (first defined at line 1)");
}

static void test_policy_set_bad_address(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 x e\nset x = 1.2.3\n", 4, 9, "bad address '1.2.3'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4, 2001:db8::g\n", 4, 18,
		     "bad address '2001:db8::g'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = partners\n", 4, 9, "bad address 'partners'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 01.2.3.4\n", 4, 9, "bad address '01.2.3.4'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4/\n", 4, 9,
		     "bad prefix length in '1.2.3.4/'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = /24\n", 4, 9, "bad address '/24'");
}

static void test_policy_set_bad_prefix_length(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/33\n", 4, 9,
		       "bad prefix length in '10.0.0.0/33'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 2001:db8::/129\n", 4, 9,
		     "bad prefix length in '2001:db8::/129'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/08\n", 4, 9,
		     "bad prefix length in '10.0.0.0/08'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/x\n", 4, 9,
		     "bad prefix length in '10.0.0.0/x'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/8/8\n", 4, 9,
		     "bad prefix length in '10.0.0.0/8/8'");
	expect_error(BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/-1\n", 4, 9,
		     "bad prefix length in '10.0.0.0/-1'");
}

static void test_policy_set_host_bits(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 x e\nset x = 198.51.100.1/24\n", 4, 9,
		       "host bits set in '198.51.100.1/24'; did you mean 198.51.100.0/24?");
	expect_message(BASE "a/b/TCP/1 x e\nset x = 2001:db8::, 2001:db8:1::1/32\n", 4, 21,
		       "host bits set in '2001:db8:1::1/32'; did you mean 2001:db8::/32?");
	expect_message(BASE "a/b/TCP/1 x e\nset x = 10.0.0.1/0\n", 4, 9,
		       "host bits set in '10.0.0.1/0'; did you mean 0.0.0.0/0?");
}

static void test_policy_set_missing_address(void **state)
{
	struct policy_errors errs;
	struct policy p;
	const char *t;

	(void)state;
	expect_message(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4,,5.6.7.8\n", 4, 17,
		       "missing address");
	expect_message(BASE "a/b/TCP/1 x e\nset x =\n", 4, 8, "missing address");
	expect_message(BASE "a/b/TCP/1 x e\nset x = # nothing\n", 4, 8, "missing address");
	expect_message(BASE "a/b/TCP/1 x e\nset x = , 1.2.3.4\n", 4, 9, "missing address");
	expect_message(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4, ,\n", 4, 18, "missing address");
	/* A trailing comma at the end of the file. */
	expect_error(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4,  \n\n# end\n", 4, 17,
		     "missing address after ','");
	/* A trailing comma before a statement: the statement is read as one. */
	t = BASE "set x = 1.2.3.4,\nmode audit\na/b/TCP/1 x e\n";
	expect_error(t, 3, 17, "missing address after ','");
	/* ... but an address-like line continues the list. */
	expect_error(BASE "set x = 1.2.3.4,\n  5.6.7\na/b/TCP/1 x e\n", 4, 3,
		     "bad address '5.6.7'");
	assert_int_equal(policy_parse("t", t, strlen(t), &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	policy_errors_free(&errs);
}

static void test_policy_set_missing_equals(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\nset x 1.2.3.4\n", 4, 7,
		       "expected '=' after set name");
	expect_message(BASE "a/b/TCP/1 any e\nset x\n", 4, 6, "expected '=' after set name");
	expect_message(BASE "a/b/TCP/1 any e\nset x:=1.2.3.4\n", 4, 5, "bad set name 'x:'");
}

static void test_policy_set_bad_name(void **state)
{
	char text[256];

	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\nset 1x = 1.2.3.4\n", 4, 5, "bad set name '1x'");
	expect_error(BASE "a/b/TCP/1 any e\nset a,b = 1.2.3.4\n", 4, 5, "bad set name 'a,b'");
	expect_error(BASE "a/b/TCP/1 any e\nset _a = 1.2.3.4\n", 4, 5, "bad set name '_a'");
	expect_error(BASE "a/b/TCP/1 any e\nset any = 1.2.3.4\n", 4, 5, "bad set name 'any'");
	expect_error(BASE "a/b/TCP/1 any e\nset = 1.2.3.4\n", 4, 5, "missing set name after 'set'");
	expect_error(BASE "a/b/TCP/1 any e\nset\n", 4, 4, "missing set name after 'set'");
	/* 95 bytes is the limit. */
	snprintf(text, sizeof(text), BASE "a/b/TCP/1 any e\nset a%094d = 1.2.3.4\n", 0);
	{
		struct policy p;

		parse_ok(text, &p);
		assert_int_equal(strlen(p.sets[2].name), 95);
		policy_free(&p);
	}
	snprintf(text, sizeof(text), BASE "a/b/TCP/1 any e\nset a%095d = 1.2.3.4\n", 0);
	expect_error(text, 4, 5, "bad set name 'a0000");
	/* A bad name's trailing comma still continues the list, quietly. */
	expect_error(BASE "a/b/TCP/1 any e\nset 1x = 1.2.3.4,\n 5.6.7.8\n", 4, 5,
		     "bad set name '1x'");
}

static void test_policy_set_unexpected(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 x e\nset x = 1.2.3.4 5.6.7.8\n", 4, 17,
		       "unexpected '5.6.7.8'");
}

static void test_policy_too_many_sets(void **state)
{
	size_t cap = (POLICY_MAX_SETS + 8) * 32, len = 0;
	char *text = malloc(cap);
	struct policy p;
	int i;

	(void)state;
	assert_non_null(text);
	len += (size_t)sprintf(text + len, "protect s0\na/b/TCP/1 any s0\n");
	for (i = 0; i < POLICY_MAX_SETS; i++)
		len += (size_t)sprintf(text + len, "set s%d = 10.0.0.0/16\n", i);
	parse_ok(text, &p);
	assert_int_equal(p.nsets, POLICY_MAX_SETS + 1);
	assert_false(p.sets[POLICY_MAX_SETS - 1].used);
	policy_free(&p);
	sprintf(text + len, "set s%d = 10.0.0.0/16\nset t = 1.2.3.4\n", i);
	expect_error(text, POLICY_MAX_SETS + 3, 5, "more than 4096 sets");
	free(text);
}

/* ---- protect and mode ---- */

static void test_policy_protect_unknown_set(void **state)
{
	(void)state;
	expect_message("set e = 1.2.3.4\nprotect   edge\na/b/TCP/1 any e\n", 2, 11,
		       "unknown set 'edge'");
	expect_message("set e = 1.2.3.4\nprotect any\na/b/TCP/1 any e\n", 2, 9,
		       "unknown set 'any'");
}

static void test_policy_protect_twice(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\n  protect e\n", 4, 3,
		       "protect given twice (first at line 2)");
}

static void test_policy_protect_missing_name(void **state)
{
	(void)state;
	expect_message("set e = 1.2.3.4\nprotect\na/b/TCP/1 any e\n", 2, 8,
		       "missing set name after 'protect'");
	expect_message("set e = 1.2.3.4\nprotect  # what\na/b/TCP/1 any e\n", 2, 8,
		       "missing set name after 'protect'");
}

static void test_policy_protect_unexpected(void **state)
{
	(void)state;
	expect_message("set e = 1.2.3.4\nprotect e f\na/b/TCP/1 any e\n", 2, 11,
		       "unexpected 'f'");
}

static void test_policy_mode_errors(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\nmode  drop\n", 4, 7,
		       "unknown mode 'drop' (use enforce or audit)");
	expect_message(BASE "a/b/TCP/1 any e\nmode Audit\n", 4, 6,
		       "unknown mode 'Audit' (use enforce or audit)");
	expect_message(BASE "a/b/TCP/1 any e\nmode\n", 4, 5, "missing mode after 'mode'");
	expect_message("mode audit\n" BASE "a/b/TCP/1 any e\nmode enforce\n", 5, 1,
		       "mode given twice (first at line 1)");
	expect_message(BASE "a/b/TCP/1 any e\nmode audit now\n", 4, 12, "unexpected 'now'");
}

/* ---- rows ---- */

static void test_policy_row_bad_name(void **state)
{
	char text[256];

	(void)state;
	expect_message(BASE "a*b: a/b/TCP/1 any e\n", 3, 1, "bad row name 'a*b'");
	expect_message(BASE "  -x: a/b/TCP/1 any e\n", 3, 3, "bad row name '-x'");
	expect_message(BASE ": a/b/TCP/1 any e\n", 3, 1, "bad row name ''");
	snprintf(text, sizeof(text), BASE "%096d: a/b/TCP/1 any e\n", 0);
	expect_error(text, 3, 1, "bad row name '0000");
	snprintf(text, sizeof(text), BASE "%095d: a/b/TCP/1 any e\n", 0);
	{
		struct policy p;

		parse_ok(text, &p);
		assert_int_equal(strlen(p.rows[0].name), 95);
		policy_free(&p);
	}
}

static void test_policy_row_missing_parts(void **state)
{
	(void)state;
	expect_message(BASE "Access/SIP/TCP/ any e\n", 3, 16, "missing port");
	expect_message(BASE "Access/SIP//5061 any e\n", 3, 12, "missing transport");
	expect_message(BASE "Access//TCP/5061 any e\n", 3, 8, "missing protocol");
	expect_message(BASE "/SIP/TCP/5061 any e\n", 3, 1, "missing role");
	expect_message(BASE "  SIP/TCP/5061 any e\n", 3, 3, "missing role");
	expect_message(BASE "\tTCP/5061 any e\n", 3, 2, "missing protocol");
	expect_message(BASE "  5061 any e\n", 3, 3, "missing transport");
	/* Any other word starts a row. */
	expect_message(BASE "a/b/TCP/1 any e\nhello\n", 4, 1, "missing transport");
	expect_message(BASE "a/b/TCP/1 any e\nsets e = 1.2.3.4\n", 4, 1, "missing transport");
	expect_message(BASE "a/b/TCP/1 any e\nname:\n", 4, 6, "missing role");
}

static void test_policy_row_bad_port(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/5,0610 any e\n", 3, 9, "bad port '5,0610'");
	expect_message(BASE "a/b/TCP/,500 any e\n", 3, 9, "bad port ',500'");
	expect_message(BASE "a/b/TCP/5061a any e\n", 3, 9, "bad port '5061a'");
	expect_message(BASE "a/b/TCP/1000,000 any e\n", 3, 9, "bad port '1000,000'");
	expect_message(BASE "a/b/TCP/50,000-5,0610 any e\n", 3, 16, "bad port '5,0610'");
	expect_message(BASE "a/b/TCP/1-2-3 any e\n", 3, 11, "bad port '2-3'");
	expect_message(BASE "a/b/TCP/1- any e\n", 3, 9, "bad port '1-'");
	expect_message(BASE "a/b/TCP/-5 any e\n", 3, 9, "bad port '-5'");
	expect_message(BASE "a/b/TCP/+5 any e\n", 3, 9, "bad port '+5'");
}

static void test_policy_row_port_values(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/0 any e\n", 3, 9, "port 0 is not allowed");
	expect_message(BASE "a/b/TCP/1-0 any e\n", 3, 11, "port 0 is not allowed");
	expect_message(BASE "a/b/TCP/70000 any e\n", 3, 9, "port 70000 is above 65535");
	expect_message(BASE "a/b/TCP/70,000 any e\n", 3, 9, "port 70000 is above 65535");
	expect_message(BASE "a/b/TCP/1-65536 any e\n", 3, 11, "port 65536 is above 65535");
	expect_message(BASE "a/b/TCP/99999999999999999999 any e\n", 3, 9,
		       "port 99999999999999999999 is above 65535");
	expect_message(BASE "a/b/TCP/59999-50000 any e\n", 3, 9,
		       "reversed port range 59999-50000");
	expect_message(BASE "a/b/TCP/59,999-50,000 any e\n", 3, 9,
		       "reversed port range 59999-50000");
}

static void test_policy_row_unknown_transport(void **state)
{
	(void)state;
	expect_message(BASE "A/V/SCTP/5061 any e\n", 3, 5,
		       "unknown transport 'SCTP' (use TCP or UDP)");
	expect_message(BASE "Access/SIP(TLS)/443 any e\n", 3, 8,
		       "unknown transport 'SIP(TLS)' (use TCP or UDP)");
}

static void test_policy_row_missing_source_destination(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1\n", 3, 10, "missing source");
	expect_message(BASE "a/b/TCP/1   # c\n", 3, 10, "missing source");
	expect_message(BASE "a/b/TCP/1 any\n", 3, 14, "missing destination");
	/* Notes where the destination belongs. */
	expect_message(BASE "a/b/TCP/1 any \"n\"\n", 3, 15, "missing destination");
	expect_message(BASE "a/b/TCP/1 \"n\" e\n", 3, 11, "missing source");
}

static void test_policy_row_unknown_set(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 partners e\n", 3, 11, "unknown set 'partners'");
	expect_message(BASE "a/b/TCP/1 e  partners\n", 3, 14, "unknown set 'partners'");
	expect_message(BASE "a/b/TCP/1 ANY e\n", 3, 11, "unknown set 'ANY'");
	expect_message(BASE "a/b/TCP/1 foo/24 e\n", 3, 11, "unknown set 'foo/24'");
}

static void test_policy_row_bad_inline_address(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 1.2.3 e\n", 3, 11, "bad address '1.2.3'");
	expect_message(BASE "a/b/TCP/1 e 2001:db8::zz\n", 3, 13, "bad address '2001:db8::zz'");
	expect_message(BASE "a/b/TCP/1 e 10abc\n", 3, 13, "bad address '10abc'");
	expect_message(BASE "a/b/TCP/1 e fe80::1%eth0\n", 3, 13, "bad address 'fe80::1%eth0'");
	expect_message(BASE "a/b/TCP/1 10.0.0.0/40 e\n", 3, 11,
		       "bad prefix length in '10.0.0.0/40'");
	expect_message(BASE "a/b/TCP/1 10.0.0.1/8 e\n", 3, 11,
		       "host bits set in '10.0.0.1/8'; did you mean 10.0.0.0/8?");
}

static void test_policy_row_unterminated_quote(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e \"notes # not a comment\n", 3, 17,
		       "unterminated quote");
	expect_message(BASE "a/b/TCP/1 any e \"ends with \\\"\n", 3, 17, "unterminated quote");
	expect_message(BASE "a/b/TCP/1 any \"e\n", 3, 15, "unterminated quote");
}

static void test_policy_row_unexpected(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e notes\n", 3, 17, "unexpected 'notes'");
	expect_message(BASE "a/b/TCP/1 any e \"n\" x # c\n", 3, 21, "unexpected 'x'");
	expect_message(BASE "a/b/TCP/1 any e \"n\"\"m\"\n", 3, 20, "unexpected '\"m\"'");
	expect_message(BASE "a/b/TCP/1 any e 1.2.3.4\n", 3, 17, "unexpected '1.2.3.4'");
}

static void test_policy_row_protected_both(void **state)
{
	(void)state;
	expect_message(BASE "a/b/TCP/1 any e\nx: a/b/TCP/2  e e\n", 4, 15,
		       "row names the protected set 'e' as both source and destination");
}

static void test_policy_row_protected_neither(void **state)
{
	(void)state;
	expect_message(BASE "set f = 192.0.2.0/24\na/b/TCP/1  f any\n", 4, 12,
		       "row does not name the protected set 'e' as source or destination");
	/* protect given after the row. */
	expect_error("set e = 1.2.3.4\na/b/TCP/1 any any\nprotect e\n", 2, 11,
		       "row does not name the protected set 'e'");
}

static void test_policy_row_derived_name_too_long(void **state)
{
	char text[512];
	struct policy p;

	(void)state;
	/* 82 + "-p-tcp-1-in" (11) = 93, 84 + 11 = 95: fine; 85 + 11 = 96: too long. */
	snprintf(text, sizeof(text), BASE "%.84s/p/TCP/1 any e\n",
		 "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
		 "rrrrrrrrrrrrrrrrrrrrrrrr");
	parse_ok(text, &p);
	assert_int_equal(strlen(p.rows[0].name), 95);
	policy_free(&p);
	snprintf(text, sizeof(text), BASE "  %.85s/p/TCP/1 any e\n",
		 "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
		 "rrrrrrrrrrrrrrrrrrrrrrrr");
	expect_message(text, 3, 3,
		       "derived row name is too long; give the row a name with 'NAME:'");
	/* A name given with NAME: is fine. */
	snprintf(text, sizeof(text), BASE "long: %.85s/p/TCP/1 any e\n",
		 "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
		 "rrrrrrrrrrrrrrrrrrrrrrrr");
	parse_ok(text, &p);
	assert_string_equal(p.rows[0].name, "long");
	policy_free(&p);
}

static void test_policy_row_duplicate_name(void **state)
{
	struct policy p;

	(void)state;
	expect_message(BASE "Access/SIP/TCP/5061 any e\nACCESS/sip/tcp/5,061 0.0.0.0/0 e\n", 4, 1,
		       "duplicate row name 'access-sip-tcp-5061-in' (first at line 3); "
		       "give one row a name with 'NAME:'");
	expect_error(BASE "access-sip-tcp-5061-in: a/b/UDP/1 any e\n"
			  "\n   Access/SIP/TCP/5061 any e\n", 5, 4,
		     "duplicate row name 'access-sip-tcp-5061-in' (first at line 3)");
	expect_error(BASE "x: a/b/TCP/1 any e\nx: a/b/TCP/2 any e\n", 4, 1,
		     "duplicate row name 'x' (first at line 3)");
	/* Same field, other direction: different names. */
	parse_ok(BASE "Access/SIP/TCP/5061 any e\nAccess/SIP/TCP/5061 e any\n", &p);
	assert_string_equal(p.rows[1].name, "access-sip-tcp-5061-out");
	policy_free(&p);
}

static void test_policy_too_many_rows(void **state)
{
	size_t cap = (PICFW_MAX_ROWS + 8) * 40, len = 0;
	char *text = malloc(cap);
	struct policy p;
	int i;

	(void)state;
	assert_non_null(text);
	len += (size_t)sprintf(text + len, BASE);
	for (i = 0; i < PICFW_MAX_ROWS; i++)
		len += (size_t)sprintf(text + len, "r%d: a/b/TCP/%d any e\n", i, i + 1);
	parse_ok(text, &p);
	assert_int_equal(p.nrows, PICFW_MAX_ROWS);
	assert_string_equal(p.rows[PICFW_MAX_ROWS - 1].name, "r1023");
	policy_free(&p);
	/* Reported once, at the 1025th row. */
	sprintf(text + len, "  x: a/b/TCP/1 any e\ny: a/b/TCP/1 any e\n");
	expect_message(text, PICFW_MAX_ROWS + 3, 3, "more than 1024 rows");
	free(text);
}

/* ---- collecting errors ---- */

static void test_policy_errors_sorted_and_collected(void **state)
{
	struct policy_errors errs;
	struct policy p;
	/* Line 1 and 4 fail after the file is read, lines 2 and 5 while it is. */
	static const char text[] = "a/b/TCP/1 nowhere e\n"
				   "set 1bad = 1.2.3.4\n"
				   "protect e\n"
				   "a/b/TCP/2 e nowhere\n"
				   "a/b/TCP/0 any e extra\n"
				   "set e = 192.0.2.1\n"
				   "mode dunno\n";

	(void)state;
	assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
	assert_empty_policy(&p, __FILE__, __LINE__);
	assert_int_equal(errs.n, 5);
	check_error(&errs, 0, 1, 11, "unknown set 'nowhere'", __FILE__, __LINE__);
	check_error(&errs, 1, 2, 5, "bad set name '1bad'", __FILE__, __LINE__);
	check_error(&errs, 2, 4, 13, "unknown set 'nowhere'", __FILE__, __LINE__);
	/* One error per line: the first found. */
	check_error(&errs, 3, 5, 9, "port 0 is not allowed", __FILE__, __LINE__);
	check_error(&errs, 4, 7, 6, "unknown mode 'dunno'", __FILE__, __LINE__);
	policy_errors_free(&errs);
}

static void test_policy_error_cap(void **state)
{
	char *text = malloc(100 * 32), *o = text;
	struct policy_errors errs;
	struct policy p;
	int i;

	(void)state;
	assert_non_null(text);
	o += sprintf(o, "protect nowhere\n");
	for (i = 0; i < 100; i++)
		o += sprintf(o, "a/b/TCP/0 any e\n");
	assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
	assert_int_equal(errs.n, POLICY_MAX_ERRORS);
	check_error(&errs, 0, 2, 9, "port 0", __FILE__, __LINE__);
	check_error(&errs, POLICY_MAX_ERRORS - 1, POLICY_MAX_ERRORS + 1, 9, "port 0",
		    __FILE__, __LINE__);
	policy_errors_free(&errs);
	free(text);
}

/* replies, icmp and timeout: flow tracking settings (defaults, values, errors). */
static void test_policy_flow_settings(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "a/b/TCP/1 any e\n", &p);
	assert_int_equal(p.replies, PICFW_REPLIES_TRACKED);
	assert_int_equal(p.icmp_strict, 0);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_UDP], 60);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_TCP], 7200);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_TCP_TRANSITORY], 30);
	policy_free(&p);

	parse_ok("replies stateless\nicmp strict\ntimeout udp 90s\ntimeout tcp 2h\n"
		 "timeout tcp-transitory 5m\n" BASE "a/b/TCP/1 any e\n", &p);
	assert_int_equal(p.replies, PICFW_REPLIES_STATELESS);
	assert_int_equal(p.icmp_strict, 1);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_UDP], 90);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_TCP], 7200);
	assert_int_equal(p.timeout[PICFW_TIMEOUT_TCP_TRANSITORY], 300);
	policy_free(&p);
}

/* unprotected and flows: the deployment and the flow table sizes. */
static void test_policy_unprotected_and_flows(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(BASE "a/b/TCP/1 any e\n", &p);
	assert_int_equal(p.unprotected, PICFW_UNPROTECTED_PASS);
	assert_int_equal(p.flows[PICFW_TCP], PICFW_DEFAULT_FLOWS_TCP);
	assert_int_equal(p.flows[PICFW_UDP], PICFW_DEFAULT_FLOWS_UDP);
	policy_free(&p);
	parse_ok("unprotected drop\nflows tcp 1024\nflows udp 262,144\n" BASE "a/b/TCP/1 any e\n",
		 &p);
	assert_int_equal(p.unprotected, PICFW_UNPROTECTED_DROP);
	assert_int_equal(p.flows[PICFW_TCP], 1024);
	assert_int_equal(p.flows[PICFW_UDP], 262144);
	policy_free(&p);

	expect_message("unprotected maybe\n" BASE "a/b/TCP/1 any e\n", 1, 13,
		       "unknown unprotected 'maybe' (use pass or drop)");
	expect_message("unprotected drop\nunprotected pass\n" BASE "a/b/TCP/1 any e\n", 2, 1,
		       "unprotected given twice (first at line 1)");
	expect_message("flows sctp 5000\n" BASE "a/b/TCP/1 any e\n", 1, 7,
		       "unknown flow table 'sctp' (use tcp or udp)");
	expect_message("flows udp\n" BASE "a/b/TCP/1 any e\n", 1, 10,
		       "missing size after 'flows udp'");
	expect_message("flows udp 64k\n" BASE "a/b/TCP/1 any e\n", 1, 11,
		       "bad flow table size '64k' (a number, e.g. 65536 or 131,072)");
	expect_message("flows udp 2,62,144\n" BASE "a/b/TCP/1 any e\n", 1, 11,
		       "bad flow table size '2,62,144' (a number, e.g. 65536 or 131,072)");
	expect_message("flows tcp 1023\n" BASE "a/b/TCP/1 any e\n", 1, 11,
		       "flows tcp 1023 is out of range (1024 to 4194304)");
	expect_message("flows tcp 4194305\n" BASE "a/b/TCP/1 any e\n", 1, 11,
		       "flows tcp 4194305 is out of range (1024 to 4194304)");
	expect_message("flows tcp 2048 x\n" BASE "a/b/TCP/1 any e\n", 1, 16, "unexpected 'x'");
	expect_message("flows tcp 2048\nflows tcp 4096\n" BASE "a/b/TCP/1 any e\n", 2, 1,
		       "flows tcp given twice (first at line 1)");
}

static void test_policy_flow_settings_errors(void **state)
{
	(void)state;
	expect_message("replies maybe\n" BASE "a/b/TCP/1 any e\n", 1, 9,
		       "unknown replies 'maybe' (use tracked or stateless)");
	expect_message("icmp\n" BASE "a/b/TCP/1 any e\n", 1, 5, "missing value after 'icmp'");
	expect_message("icmp strict\nicmp permissive\n" BASE "a/b/TCP/1 any e\n", 2, 1,
		       "icmp given twice (first at line 1)");
	expect_message("timeout sctp 5\n" BASE "a/b/TCP/1 any e\n", 1, 9,
		       "unknown timeout 'sctp' (use udp, tcp or tcp-transitory)");
	expect_message("timeout udp\n" BASE "a/b/TCP/1 any e\n", 1, 12,
		       "missing duration after 'timeout udp'");
	expect_message("timeout udp 5x\n" BASE "a/b/TCP/1 any e\n", 1, 13,
		       "bad duration '5x' (e.g. 60, 90s, 5m, 2h)");
	expect_message("timeout tcp 0\n" BASE "a/b/TCP/1 any e\n", 1, 13,
		       "timeout 0 s is out of range (1 s to 604800 s)");
	expect_message("timeout tcp 169h\n" BASE "a/b/TCP/1 any e\n", 1, 13,
		       "timeout 608400 s is out of range (1 s to 604800 s)");
	expect_message("timeout udp 5 6\n" BASE "a/b/TCP/1 any e\n", 1, 15, "unexpected '6'");
	expect_message("timeout udp 5\ntimeout udp 6\n" BASE "a/b/TCP/1 any e\n", 2, 1,
		       "timeout udp given twice (first at line 1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_pic_policy),
		cmocka_unit_test(test_policy_minimal_row),
		cmocka_unit_test(test_policy_field_split_from_right),
		cmocka_unit_test(test_policy_ports_thousands_separators),
		cmocka_unit_test(test_policy_transport_any_case),
		cmocka_unit_test(test_policy_crlf),
		cmocka_unit_test(test_policy_comments),
		cmocka_unit_test(test_policy_set_continuation),
		cmocka_unit_test(test_policy_labels),
		cmocka_unit_test(test_policy_forward_references),
		cmocka_unit_test(test_policy_inline_addresses),
		cmocka_unit_test(test_policy_ipv6_prefixes),
		cmocka_unit_test(test_policy_compact_set_syntax),
		cmocka_unit_test(test_policy_notes),
		cmocka_unit_test(test_policy_mode),
		cmocka_unit_test(test_policy_flow_settings),
		cmocka_unit_test(test_policy_flow_settings_errors),
		cmocka_unit_test(test_policy_unprotected_and_flows),
		cmocka_unit_test(test_policy_byte_order_mark),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_policy_prefix_format),
		cmocka_unit_test(test_policy_print_inline_and_no_notes),
		cmocka_unit_test(test_policy_file_size_limit),
		cmocka_unit_test(test_policy_unreadable_file),
		cmocka_unit_test(test_policy_errors_print),
		cmocka_unit_test(test_policy_not_text_nul),
		cmocka_unit_test(test_policy_not_text_invalid_utf8),
		cmocka_unit_test(test_policy_not_text_control),
		cmocka_unit_test(test_policy_long_line),
		cmocka_unit_test(test_policy_empty),
		cmocka_unit_test(test_policy_no_protect),
		cmocka_unit_test(test_policy_no_rows),
		cmocka_unit_test(test_policy_set_duplicate),
		cmocka_unit_test(test_policy_set_bad_address),
		cmocka_unit_test(test_policy_set_bad_prefix_length),
		cmocka_unit_test(test_policy_set_host_bits),
		cmocka_unit_test(test_policy_set_missing_address),
		cmocka_unit_test(test_policy_set_missing_equals),
		cmocka_unit_test(test_policy_set_bad_name),
		cmocka_unit_test(test_policy_set_unexpected),
		cmocka_unit_test(test_policy_too_many_sets),
		cmocka_unit_test(test_policy_protect_unknown_set),
		cmocka_unit_test(test_policy_protect_twice),
		cmocka_unit_test(test_policy_protect_missing_name),
		cmocka_unit_test(test_policy_protect_unexpected),
		cmocka_unit_test(test_policy_mode_errors),
		cmocka_unit_test(test_policy_row_bad_name),
		cmocka_unit_test(test_policy_row_missing_parts),
		cmocka_unit_test(test_policy_row_bad_port),
		cmocka_unit_test(test_policy_row_port_values),
		cmocka_unit_test(test_policy_row_unknown_transport),
		cmocka_unit_test(test_policy_row_missing_source_destination),
		cmocka_unit_test(test_policy_row_unknown_set),
		cmocka_unit_test(test_policy_row_bad_inline_address),
		cmocka_unit_test(test_policy_row_unterminated_quote),
		cmocka_unit_test(test_policy_row_unexpected),
		cmocka_unit_test(test_policy_row_protected_both),
		cmocka_unit_test(test_policy_row_protected_neither),
		cmocka_unit_test(test_policy_row_derived_name_too_long),
		cmocka_unit_test(test_policy_row_duplicate_name),
		cmocka_unit_test(test_policy_too_many_rows),
		cmocka_unit_test(test_policy_errors_sorted_and_collected),
		cmocka_unit_test(test_policy_error_cap),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
