/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_policy.c - the policy language (user/policy.c): every error with its
 * exact line and column, the happy paths, and the shipped etc/pic.policy.
 *
 * The refused policies are a table, parse_errors[], one TAP line a row; a
 * failing row prints its tag. PICFW_SRCDIR (default ".") locates
 * etc/pic.policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

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

/*
 * A policy the parser refuses: the text, and the first error it must give,
 * whole. A row of the table parse_errors[] below, or built by a test.
 */
struct parse_error_case {
	const char *tag; /* test_policy_error_<tag> */
	const char *text;
	int line, col;
	const char *msg;
	size_t len;  /* 0: strlen(text) */
	size_t nerr; /* errors in all, the first one line:col msg (0: exactly one) */
};

/*
 * The parse fails, leaves the policy empty, gives nerr errors and the first
 * is line:col with exactly msg. 0, or 1 after "# tag: ..." lines.
 */
static int parse_error_check(const struct parse_error_case *c)
{
	size_t len = c->len ? c->len : strlen(c->text), nerr = c->nerr ? c->nerr : 1;
	struct policy_errors errs;
	struct policy p;
	int bad = 0;

	if (policy_parse("t.policy", c->text, len, &p, &errs) != -1) {
		print_error("# %s: parse succeeded, expected %d:%d: %s\n", c->tag, c->line, c->col,
			    c->msg);
		policy_free(&p);
		policy_errors_free(&errs);
		return 1;
	}
	if (p.sets || p.nsets || p.rows || p.nrows || p.file || p.protect != -1) {
		print_error("# %s: policy not left empty after a failed parse\n", c->tag);
		bad = 1;
	}
	if (errs.n != nerr || errs.v[0].line != c->line || errs.v[0].col != c->col ||
	    strcmp(errs.v[0].msg, c->msg)) {
		print_error("# %s: expected %zu error(s), the first %d:%d: %s\n", c->tag, nerr,
			    c->line, c->col, c->msg);
		dump_errors(&errs);
		bad = 1;
	}
	policy_errors_free(&errs);
	return bad;
}

static void expect_parse_error(const struct parse_error_case *c)
{
	if (parse_error_check(c))
		fail();
}

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
	"timeout pickup 60s\n"
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

/* A set names sets above it; rows name one service's set inside the protected set. */
static void test_policy_sets_name_sets(void **state)
{
	struct policy p;
	const struct addr_set *e;
	char *out;

	(void)state;
	parse_ok("set access = 203.0.113.10, 2001:db8:e::10\n"
		 "set av = 203.0.113.12\n"
		 "set edge = access,\n"
		 "   av, 203.0.113.13\n"
		 "protect edge\n"
		 "Access/SIP/TCP/5061 any access\n"
		 "A/V/RTP/UDP/50000-59999 av any\n"
		 "Any/X/TCP/1 any edge\n"
		 "Inline/X/TCP/2 198.51.100.1 203.0.113.13\n", &p);
	e = &p.sets[p.protect];
	assert_string_equal(e->name, "edge");
	assert_int_equal(e->nprefixes, 4);
	assert_string_equal(fmt_prefix(&e->prefixes[0]), "203.0.113.10");
	assert_string_equal(fmt_prefix(&e->prefixes[1]), "2001:db8:e::10");
	assert_string_equal(fmt_prefix(&e->prefixes[2]), "203.0.113.12");
	assert_string_equal(fmt_prefix(&e->prefixes[3]), "203.0.113.13");
	assert_int_equal(p.rows[0].direction, PICFW_DIR_IN);
	assert_string_equal(set_name(&p, p.rows[0].dst), "access");
	assert_int_equal(p.rows[1].direction, PICFW_DIR_OUT);
	assert_string_equal(set_name(&p, p.rows[1].src), "av");
	assert_int_equal(p.rows[2].direction, PICFW_DIR_IN);
	/* An inline address inside the protected set is a local side too. */
	assert_int_equal(p.rows[3].direction, PICFW_DIR_IN);
	assert_string_equal(p.rows[3].name, "inline-x-tcp-2-in");
	/* The normalised copy writes the addresses, and reads back the same. */
	out = print_policy(&p);
	assert_non_null(strstr(out, "set edge = 203.0.113.10, 2001:db8:e::10, 203.0.113.12, "
				    "203.0.113.13\n"));
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

/*
 * prefix_format writes addresses itself (apply prints 100,000 of them into
 * its policy copy): the same text as inet_ntop() for every shape of zero
 * runs (none, one group, ties, at either end, all), IPv4-compatible and
 * -mapped addresses and their near misses, and random addresses whose
 * groups are mostly zero, in both families.
 */
static void test_policy_prefix_format_as_inet_ntop(void **state)
{
	static const char *const shapes[] = {
		"::", "::1", "::2", "1::", "1::2", "1:0:2:3:4:5:6:7", "1:0:0:2:0:0:3:4",
		"1:0:0:2:0:0:0:4", "0:0:1::", "::ffff:192.0.2.1", "::ffff:0.0.0.0", "::192.0.2.1",
		"::fffe:192.0.2.1", "0:0:0:0:1:ffff:c000:201", "::1:ffff:c000:201",
		"2001:db8::", "2001:db8:0:1::", "fe80::1:2:3:4", "ff02::1:ff00:1",
		"1:2:3:4:5:6:7:8", "abcd:ef01:2345:6789:abcd:ef01:2345:6789", "0:1:0:1:0:1:0:1",
	};
	struct prefix pf = { .family = 6, .len = 128 };
	char want[INET6_ADDRSTRLEN], got[PREFIX_TEXT_LEN];
	unsigned i, g, seed = 12345;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]) + 200000; i++) {
		if (i < sizeof(shapes) / sizeof(shapes[0])) {
			assert_int_equal(inet_pton(AF_INET6, shapes[i], pf.addr), 1);
		} else {
			pf.family = (uint8_t)(i % 5 ? 6 : 4);
			for (g = 0; g < 16; g += 2) { /* each group zero, 0xffff, small or random */
				seed = seed * 1103515245u + 12345u;
				switch (seed >> 28 & 3) {
				case 0:
				case 1:
					pf.addr[g] = pf.addr[g + 1] = 0;
					break;
				case 2:
					pf.addr[g] = 0;
					pf.addr[g + 1] = (uint8_t)(seed >> 8);
					break;
				default:
					pf.addr[g] = (uint8_t)(seed >> 16);
					pf.addr[g + 1] = (uint8_t)(seed >> 8);
				}
				if ((seed >> 4 & 31) == 0)
					pf.addr[g] = pf.addr[g + 1] = 0xff;
			}
		}
		pf.len = pf.family == 4 ? 32 : 128;
		assert_non_null(inet_ntop(pf.family == 4 ? AF_INET : AF_INET6, pf.addr, want,
					  sizeof(want)));
		prefix_format(&pf, got, sizeof(got));
		assert_string_equal(got, want);
		pf.len = (uint8_t)(seed % (pf.family == 4 ? 32u : 128u));
		prefix_format(&pf, got, sizeof(got));
		assert_true(strncmp(got, want, strlen(want)) == 0 && got[strlen(want)] == '/' &&
			    (unsigned)atoi(got + strlen(want) + 1) == pf.len);
	}
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
			    "timeout pickup 60s\n"
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
	expect_parse_error(&(struct parse_error_case){ "long_line_then_row", text, 4, 4097,
						       "line is longer than 4096 bytes", 0, 2 });
	{
		struct policy_errors errs;

		assert_int_equal(policy_parse("t", text, strlen(text), &p, &errs), -1);
		check_error(&errs, 1, 5, 9, "port 0 is not allowed", __FILE__, __LINE__);
		policy_errors_free(&errs);
	}
	/* A long line alone: no "no protect" or "no rows" as well. */
	memset(text, 'z', POLICY_MAX_LINE + 1);
	expect_parse_error(&(struct parse_error_case){ "long_line_alone", text, 1, 4097,
						       "line is longer than 4096 bytes",
						       POLICY_MAX_LINE + 1 });
	free(text);
}

/* ---- set (its errors: parse_errors[]) ---- */

static void test_policy_set_bad_name(void **state)
{
	char text[256];

	(void)state;
	/* 95 bytes is the limit. */
	snprintf(text, sizeof(text), BASE "a/b/TCP/1 any e\nset a%094d = 1.2.3.4\n", 0);
	{
		struct policy p;

		parse_ok(text, &p);
		assert_int_equal(strlen(p.sets[2].name), 95);
		policy_free(&p);
	}
	snprintf(text, sizeof(text), BASE "a/b/TCP/1 any e\nset a%095d = 1.2.3.4\n", 0);
	expect_parse_error(&(struct parse_error_case){
		"set_name_too_long", text, 4, 5,
		"bad set name 'a0000000000000000000000000000000...' (longer than 95 bytes)" });
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
	expect_parse_error(&(struct parse_error_case){ "too_many_sets", text, POLICY_MAX_SETS + 3,
						       5, "more than 4096 sets" });
	free(text);
}

/* ---- rows (their errors: parse_errors[]) ---- */

static void test_policy_row_bad_name(void **state)
{
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), BASE "%096d: a/b/TCP/1 any e\n", 0);
	expect_parse_error(&(struct parse_error_case){
		"row_name_too_long", text, 3, 1,
		"bad row name '00000000000000000000000000000000...' (longer than 95 bytes)" });
	snprintf(text, sizeof(text), BASE "%095d: a/b/TCP/1 any e\n", 0);
	{
		struct policy p;

		parse_ok(text, &p);
		assert_int_equal(strlen(p.rows[0].name), 95);
		policy_free(&p);
	}
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
	expect_parse_error(&(struct parse_error_case){
		"row_derived_name_too_long", text, 3, 3,
		"derived row name is too long; give the row a name with 'NAME:'" });
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
	expect_parse_error(&(struct parse_error_case){ "too_many_rows", text, PICFW_MAX_ROWS + 3,
						       3, "more than 1024 rows" });
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
}

/*
 * ---- Refused policies: a table of (tag, text, line, column, message) ----
 *
 * Each row is one TAP line, "test_policy_error_<tag>": the parse must fail,
 * leave the policy empty and give exactly one error (nerr when a row gives
 * it), the first at line:column with exactly that message. Rows that build
 * their text at run time (limits, long lines) are in the tests above, through
 * the same check.
 */

/* A NUL byte in the middle: the row gives the length. */
#define NUL_TEXT BASE "a/b/TCP/1 any e\npro\0tect e\n"

static const struct parse_error_case parse_errors[] = {
	/* ---- Where an error is: columns count bytes. ---- */
	/* Columns do not count the CR; the line number counts CRLF lines. */
	{ "crlf_column_without_cr", "set e = 203.0.113.10\r\nprotect e\r\na/b/TCP/1 any\r\n",
	  3, 14, "missing destination" },
	/* Columns stay byte offsets: the mark counts. */
	{ "bom_counts_in_columns", "\xef\xbb\xbfset 1e = 1.2.3.4\n" BASE "a/b/TCP/1 any e\n",
	  1, 8, "bad set name '1e'" },
	/* ---- Not text: the first bad byte, before anything is parsed. ---- */
	{ "not_text_nul", NUL_TEXT,
	  4, 4, "file is not text (NUL byte)", sizeof(NUL_TEXT) - 1 },
	/* Overlong '/', a surrogate, above U+10FFFF, cut short, a stray continuation. */
	{ "utf8_overlong", BASE "a/b/TCP/1 any e \"\xc0\xaf\"\n",
	  3, 18, "file is not text (invalid UTF-8)" },
	{ "utf8_overlong_3byte", "# \xe0\x80\xaf\n",
	  1, 3, "file is not text (invalid UTF-8)" },
	{ "utf8_surrogate", "# ok é\n# \xed\xa0\x80\n",
	  2, 3, "file is not text (invalid UTF-8)" },
	{ "utf8_above_10ffff", "#\xf4\x90\x80\x80",
	  1, 2, "file is not text (invalid UTF-8)" },
	{ "utf8_cut_short_at_end", "#\xf0\x9f\x98\x80 ok\n#\xe2\x82",
	  2, 2, "file is not text (invalid UTF-8)" },
	{ "utf8_stray_continuation", "#\x80",
	  1, 2, "file is not text (invalid UTF-8)" },
	{ "utf8_byte_ff", "#\xff",
	  1, 2, "file is not text (invalid UTF-8)" },
	/* Only the first, and nothing else is checked. */
	{ "control_bel_first_only", "hello\nset\x07 x\n\x01",
	  2, 4, "file is not text (control character 0x07)" },
	{ "control_del", "# \x7f\n",
	  1, 3, "file is not text (control character 0x7f)" },
	{ "control_c1_nel", "# \xc2\x85\n",
	  1, 3, "file is not text (control character 0x85)" },
	{ "control_escape", "\x1b[0m",
	  1, 1, "file is not text (control character 0x1b)" },
	/* ---- The whole file. ---- */
	{ "empty_file", "",
	  1, 1, "empty policy" },
	{ "empty_only_comments", "# only comments\n\n   \n\t# more\r\n",
	  1, 1, "empty policy" },
	/* Only the missing protect: no direction error on the row. */
	{ "no_protect", "set e = 203.0.113.10\na/b/TCP/1 any e\n",
	  1, 1, "no 'protect' statement" },
	{ "no_rows", BASE,
	  1, 1, "policy has no rows" },
	{ "no_rows_nor_protect", "mode audit\n",
	  1, 1, "no 'protect' statement", 0, 2 },
	/* ---- set ---- */
	{ "set_duplicate", BASE "a/b/TCP/1 any e\nset  e = 192.0.2.1\n",
	  4, 6, "duplicate set 'e' (first defined at line 1)" },
	{ "set_bad_address_short_v4", BASE "a/b/TCP/1 x e\nset x = 1.2.3\n",
	  4, 9, "bad address '1.2.3'" },
	{ "set_bad_address_second_v6", BASE "a/b/TCP/1 x e\nset x = 1.2.3.4, 2001:db8::g\n",
	  4, 18, "bad address '2001:db8::g'" },
	{ "set_bad_address_word", BASE "a/b/TCP/1 x e\nset x = partners\n",
	  4, 9, "unknown set 'partners' (a set names only sets defined above it)" },
	{ "set_bad_address_not_a_name", BASE "a/b/TCP/1 x e\nset x = partners!\n",
	  4, 9, "bad address 'partners!'" },
	{ "set_bad_address_leading_zero", BASE "a/b/TCP/1 x e\nset x = 01.2.3.4\n",
	  4, 9, "bad address '01.2.3.4'" },
	{ "set_bad_address_empty_length", BASE "a/b/TCP/1 x e\nset x = 1.2.3.4/\n",
	  4, 9, "bad prefix length in '1.2.3.4/'" },
	{ "set_bad_address_length_only", BASE "a/b/TCP/1 x e\nset x = /24\n",
	  4, 9, "bad address '/24'" },
	{ "set_prefix_length_33", BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/33\n",
	  4, 9, "bad prefix length in '10.0.0.0/33'" },
	{ "set_prefix_length_v6_129", BASE "a/b/TCP/1 x e\nset x = 2001:db8::/129\n",
	  4, 9, "bad prefix length in '2001:db8::/129'" },
	{ "set_prefix_length_leading_zero", BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/08\n",
	  4, 9, "bad prefix length in '10.0.0.0/08'" },
	{ "set_prefix_length_letter", BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/x\n",
	  4, 9, "bad prefix length in '10.0.0.0/x'" },
	{ "set_prefix_length_twice", BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/8/8\n",
	  4, 9, "bad prefix length in '10.0.0.0/8/8'" },
	{ "set_prefix_length_negative", BASE "a/b/TCP/1 x e\nset x = 10.0.0.0/-1\n",
	  4, 9, "bad prefix length in '10.0.0.0/-1'" },
	{ "set_host_bits_v4", BASE "a/b/TCP/1 x e\nset x = 198.51.100.1/24\n",
	  4, 9, "host bits set in '198.51.100.1/24'; did you mean 198.51.100.0/24?" },
	{ "set_host_bits_v6_second", BASE "a/b/TCP/1 x e\nset x = 2001:db8::, 2001:db8:1::1/32\n",
	  4, 21, "host bits set in '2001:db8:1::1/32'; did you mean 2001:db8::/32?" },
	{ "set_host_bits_slash0", BASE "a/b/TCP/1 x e\nset x = 10.0.0.1/0\n",
	  4, 9, "host bits set in '10.0.0.1/0'; did you mean 0.0.0.0/0?" },
	{ "set_missing_address_double_comma", BASE "a/b/TCP/1 x e\nset x = 1.2.3.4,,5.6.7.8\n",
	  4, 17, "missing address" },
	{ "set_missing_address_nothing", BASE "a/b/TCP/1 x e\nset x =\n",
	  4, 8, "missing address" },
	{ "set_missing_address_comment", BASE "a/b/TCP/1 x e\nset x = # nothing\n",
	  4, 8, "missing address" },
	{ "set_missing_address_leading_comma", BASE "a/b/TCP/1 x e\nset x = , 1.2.3.4\n",
	  4, 9, "missing address" },
	{ "set_missing_address_blank_between_commas", BASE "a/b/TCP/1 x e\nset x = 1.2.3.4, ,\n",
	  4, 18, "missing address" },
	/* A trailing comma at the end of the file. */
	{ "set_missing_address_trailing_comma_at_end",
	  BASE "a/b/TCP/1 x e\nset x = 1.2.3.4,  \n\n# end\n",
	  4, 17,
	  "missing address after ',' (a trailing comma continues the list on the next line)" },
	{ "set_missing_address_trailing_comma_before_statement",
	  BASE "set x = 1.2.3.4,\nmode audit\na/b/TCP/1 x e\n",
	  3, 17,
	  "missing address after ',' (a trailing comma continues the list on the next line)" },
	/* ... but an address-like line continues the list. */
	{ "set_continued_line_bad_address", BASE "set x = 1.2.3.4,\n  5.6.7\na/b/TCP/1 x e\n",
	  4, 3, "bad address '5.6.7'" },
	{ "set_missing_equals", BASE "a/b/TCP/1 any e\nset x 1.2.3.4\n",
	  4, 7, "expected '=' after set name" },
	{ "set_missing_equals_at_end", BASE "a/b/TCP/1 any e\nset x\n",
	  4, 6, "expected '=' after set name" },
	{ "set_name_with_colon", BASE "a/b/TCP/1 any e\nset x:=1.2.3.4\n",
	  4, 5, "bad set name 'x:'" },
	{ "set_bad_name_digit_first", BASE "a/b/TCP/1 any e\nset 1x = 1.2.3.4\n",
	  4, 5, "bad set name '1x'" },
	{ "set_bad_name_comma", BASE "a/b/TCP/1 any e\nset a,b = 1.2.3.4\n",
	  4, 5, "bad set name 'a,b'" },
	{ "set_bad_name_underscore_first", BASE "a/b/TCP/1 any e\nset _a = 1.2.3.4\n",
	  4, 5, "bad set name '_a'" },
	{ "set_bad_name_any", BASE "a/b/TCP/1 any e\nset any = 1.2.3.4\n",
	  4, 5, "bad set name 'any' (any is reserved)" },
	{ "set_missing_name", BASE "a/b/TCP/1 any e\nset = 1.2.3.4\n",
	  4, 5, "missing set name after 'set'" },
	{ "set_missing_name_at_end", BASE "a/b/TCP/1 any e\nset\n",
	  4, 4, "missing set name after 'set'" },
	/* A bad name's trailing comma still continues the list, quietly. */
	{ "set_bad_name_trailing_comma_continues",
	  BASE "a/b/TCP/1 any e\nset 1x = 1.2.3.4,\n 5.6.7.8\n",
	  4, 5, "bad set name '1x'" },
	{ "set_unexpected", BASE "a/b/TCP/1 x e\nset x = 1.2.3.4 5.6.7.8\n",
	  4, 17, "unexpected '5.6.7.8'" },
	/* ---- protect and mode ---- */
	{ "protect_unknown_set", "set e = 1.2.3.4\nprotect   edge\na/b/TCP/1 any e\n",
	  2, 11, "unknown set 'edge'" },
	{ "protect_any", "set e = 1.2.3.4\nprotect any\na/b/TCP/1 any e\n",
	  2, 9, "unknown set 'any'" },
	{ "protect_twice", BASE "a/b/TCP/1 any e\n  protect e\n",
	  4, 3, "protect given twice (first at line 2)" },
	{ "protect_missing_name", "set e = 1.2.3.4\nprotect\na/b/TCP/1 any e\n",
	  2, 8, "missing set name after 'protect'" },
	{ "protect_missing_name_comment", "set e = 1.2.3.4\nprotect  # what\na/b/TCP/1 any e\n",
	  2, 8, "missing set name after 'protect'" },
	{ "protect_unexpected", "set e = 1.2.3.4\nprotect e f\na/b/TCP/1 any e\n",
	  2, 11, "unexpected 'f'" },
	{ "mode_unknown", BASE "a/b/TCP/1 any e\nmode  drop\n",
	  4, 7, "unknown mode 'drop' (use enforce or audit)" },
	{ "mode_case_sensitive", BASE "a/b/TCP/1 any e\nmode Audit\n",
	  4, 6, "unknown mode 'Audit' (use enforce or audit)" },
	{ "mode_missing", BASE "a/b/TCP/1 any e\nmode\n",
	  4, 5, "missing mode after 'mode'" },
	{ "mode_twice", "mode audit\n" BASE "a/b/TCP/1 any e\nmode enforce\n",
	  5, 1, "mode given twice (first at line 1)" },
	{ "mode_unexpected", BASE "a/b/TCP/1 any e\nmode audit now\n",
	  4, 12, "unexpected 'now'" },
	/* ---- Rows: the name and the ROLE/PROTOCOL/TRANSPORT/PORTS field. ---- */
	{ "row_bad_name_star", BASE "a*b: a/b/TCP/1 any e\n",
	  3, 1, "bad row name 'a*b'" },
	{ "row_bad_name_dash_first", BASE "  -x: a/b/TCP/1 any e\n",
	  3, 3, "bad row name '-x'" },
	{ "row_bad_name_empty", BASE ": a/b/TCP/1 any e\n",
	  3, 1, "bad row name ''" },
	{ "row_missing_port", BASE "Access/SIP/TCP/ any e\n",
	  3, 16, "missing port" },
	{ "row_missing_transport", BASE "Access/SIP//5061 any e\n",
	  3, 12, "missing transport" },
	{ "row_missing_protocol", BASE "Access//TCP/5061 any e\n",
	  3, 8, "missing protocol" },
	{ "row_missing_role", BASE "/SIP/TCP/5061 any e\n",
	  3, 1, "missing role" },
	{ "row_missing_role_indented", BASE "  SIP/TCP/5061 any e\n",
	  3, 3, "missing role" },
	{ "row_missing_protocol_tab", BASE "\tTCP/5061 any e\n",
	  3, 2, "missing protocol" },
	{ "row_missing_transport_port_only", BASE "  5061 any e\n",
	  3, 3, "missing transport" },
	/* Any other word starts a row. */
	{ "row_any_word_starts_a_row", BASE "a/b/TCP/1 any e\nhello\n",
	  4, 1, "missing transport" },
	{ "row_sets_is_not_set", BASE "a/b/TCP/1 any e\nsets e = 1.2.3.4\n",
	  4, 1, "missing transport" },
	{ "row_name_alone", BASE "a/b/TCP/1 any e\nname:\n",
	  4, 6, "missing role" },
	{ "port_bad_group_of_four", BASE "a/b/TCP/5,0610 any e\n",
	  3, 9, "bad port '5,0610'" },
	{ "port_bad_leading_comma", BASE "a/b/TCP/,500 any e\n",
	  3, 9, "bad port ',500'" },
	{ "port_bad_letter", BASE "a/b/TCP/5061a any e\n",
	  3, 9, "bad port '5061a'" },
	{ "port_bad_group_of_four_first", BASE "a/b/TCP/1000,000 any e\n",
	  3, 9, "bad port '1000,000'" },
	{ "port_bad_range_end", BASE "a/b/TCP/50,000-5,0610 any e\n",
	  3, 16, "bad port '5,0610'" },
	{ "port_bad_two_dashes", BASE "a/b/TCP/1-2-3 any e\n",
	  3, 11, "bad port '2-3'" },
	{ "port_bad_dash_at_end", BASE "a/b/TCP/1- any e\n",
	  3, 9, "bad port '1-'" },
	{ "port_bad_minus", BASE "a/b/TCP/-5 any e\n",
	  3, 9, "bad port '-5'" },
	{ "port_bad_plus", BASE "a/b/TCP/+5 any e\n",
	  3, 9, "bad port '+5'" },
	{ "port_zero", BASE "a/b/TCP/0 any e\n",
	  3, 9, "port 0 is not allowed" },
	{ "port_zero_range_end", BASE "a/b/TCP/1-0 any e\n",
	  3, 11, "port 0 is not allowed" },
	{ "port_above_65535", BASE "a/b/TCP/70000 any e\n",
	  3, 9, "port 70000 is above 65535" },
	{ "port_above_65535_with_comma", BASE "a/b/TCP/70,000 any e\n",
	  3, 9, "port 70000 is above 65535" },
	{ "port_range_end_above_65535", BASE "a/b/TCP/1-65536 any e\n",
	  3, 11, "port 65536 is above 65535" },
	{ "port_twenty_digits", BASE "a/b/TCP/99999999999999999999 any e\n",
	  3, 9, "port 99999999999999999999 is above 65535" },
	{ "port_range_reversed", BASE "a/b/TCP/59999-50000 any e\n",
	  3, 9, "reversed port range 59999-50000" },
	{ "port_range_reversed_with_commas", BASE "a/b/TCP/59,999-50,000 any e\n",
	  3, 9, "reversed port range 59999-50000" },
	{ "transport_sctp", BASE "A/V/SCTP/5061 any e\n",
	  3, 5, "unknown transport 'SCTP' (use TCP or UDP)" },
	{ "transport_protocol_in_its_place", BASE "Access/SIP(TLS)/443 any e\n",
	  3, 8, "unknown transport 'SIP(TLS)' (use TCP or UDP)" },
	/* ---- Rows: source, destination, notes. ---- */
	{ "row_missing_source", BASE "a/b/TCP/1\n",
	  3, 10, "missing source" },
	{ "row_missing_source_comment", BASE "a/b/TCP/1   # c\n",
	  3, 10, "missing source" },
	{ "row_missing_destination", BASE "a/b/TCP/1 any\n",
	  3, 14, "missing destination" },
	/* Notes where the destination belongs. */
	{ "row_notes_as_destination", BASE "a/b/TCP/1 any \"n\"\n",
	  3, 15, "missing destination" },
	{ "row_notes_as_source", BASE "a/b/TCP/1 \"n\" e\n",
	  3, 11, "missing source" },
	{ "row_unknown_set_source", BASE "a/b/TCP/1 partners e\n",
	  3, 11, "unknown set 'partners'" },
	{ "row_unknown_set_destination", BASE "a/b/TCP/1 e  partners\n",
	  3, 14, "unknown set 'partners'" },
	{ "row_unknown_set_any_upper", BASE "a/b/TCP/1 ANY e\n",
	  3, 11, "unknown set 'ANY'" },
	{ "row_unknown_set_word_prefix", BASE "a/b/TCP/1 foo/24 e\n",
	  3, 11, "unknown set 'foo/24'" },
	{ "row_bad_address_short_v4", BASE "a/b/TCP/1 1.2.3 e\n",
	  3, 11, "bad address '1.2.3'" },
	{ "row_bad_address_v6_letters", BASE "a/b/TCP/1 e 2001:db8::zz\n",
	  3, 13, "bad address '2001:db8::zz'" },
	{ "row_bad_address_digits_letters", BASE "a/b/TCP/1 e 10abc\n",
	  3, 13, "bad address '10abc'" },
	{ "row_bad_address_zone", BASE "a/b/TCP/1 e fe80::1%eth0\n",
	  3, 13, "bad address 'fe80::1%eth0'" },
	{ "row_bad_prefix_length", BASE "a/b/TCP/1 10.0.0.0/40 e\n",
	  3, 11, "bad prefix length in '10.0.0.0/40'" },
	{ "row_host_bits", BASE "a/b/TCP/1 10.0.0.1/8 e\n",
	  3, 11, "host bits set in '10.0.0.1/8'; did you mean 10.0.0.0/8?" },
	/* An inline address equal to the protected set is not the protected set. */
	{ "inline_address_outside_the_protected_set", BASE "a/b/TCP/1 any 203.0.113.11\n",
	  3, 11, "row does not name the protected set 'e', or a set inside it, as source or "
		 "destination" },
	{ "row_protected_both", BASE "a/b/TCP/1 any e\nx: a/b/TCP/2  e e\n",
	  4, 15, "row names the protected set 'e' as both source and destination" },
	{ "row_inside_protected_both",
	  "set e = 203.0.113.0/28\nset a = 203.0.113.1\nset b = 203.0.113.2/31\nprotect e\n"
	  "x: a/b/TCP/2  a b\n",
	  5, 15, "both source and destination are inside the protected set 'e'; one side must "
		 "be the remote" },
	/* A set that overlaps the protected set without lying inside it is a remote set. */
	{ "row_local_set_partly_outside",
	  "set e = 203.0.113.0/28\nset a = 203.0.113.0/27\nprotect e\nx: a/b/TCP/2  any a\n",
	  4, 15, "row does not name the protected set 'e', or a set inside it, as source or "
		 "destination" },
	{ "set_names_unknown_set", "set e = 203.0.113.10, partners\nprotect e\na/b/TCP/1 any e\n",
	  1, 23, "unknown set 'partners' (a set names only sets defined above it)" },
	{ "set_names_set_below", "set e = 203.0.113.10, f\nset f = 203.0.113.11\nprotect e\na/b/TCP/1 any e\n",
	  1, 23, "unknown set 'f' (a set names only sets defined above it)" },
	{ "set_names_itself", "set e = 203.0.113.10,\n  e\nprotect e\na/b/TCP/1 any e\n",
	  2, 3, "set 'e' names itself" },
	{ "row_protected_neither", BASE "set f = 192.0.2.0/24\na/b/TCP/1  f any\n",
	  4, 12, "row does not name the protected set 'e', or a set inside it, as source or "
		 "destination" },
	/* protect given after the row. */
	{ "row_protected_neither_protect_after", "set e = 1.2.3.4\na/b/TCP/1 any any\nprotect e\n",
	  2, 11, "row does not name the protected set 'e', or a set inside it, as source or "
		 "destination" },
	{ "quote_unterminated", BASE "a/b/TCP/1 any e \"notes # not a comment\n",
	  3, 17, "unterminated quote" },
	{ "quote_unterminated_escaped_end", BASE "a/b/TCP/1 any e \"ends with \\\"\n",
	  3, 17, "unterminated quote" },
	{ "quote_unterminated_destination", BASE "a/b/TCP/1 any \"e\n",
	  3, 15, "unterminated quote" },
	{ "row_unexpected_word", BASE "a/b/TCP/1 any e notes\n",
	  3, 17, "unexpected 'notes'" },
	{ "row_unexpected_after_notes", BASE "a/b/TCP/1 any e \"n\" x # c\n",
	  3, 21, "unexpected 'x'" },
	{ "row_unexpected_second_notes", BASE "a/b/TCP/1 any e \"n\"\"m\"\n",
	  3, 20, "unexpected '\"m\"'" },
	{ "row_unexpected_address", BASE "a/b/TCP/1 any e 1.2.3.4\n",
	  3, 17, "unexpected '1.2.3.4'" },
	{ "row_duplicate_derived_name",
	  BASE "Access/SIP/TCP/5061 any e\nACCESS/sip/tcp/5,061 0.0.0.0/0 e\n",
	  4, 1,
	  "duplicate row name 'access-sip-tcp-5061-in' (first at line 3); "
	  "give one row a name with 'NAME:'" },
	{ "row_duplicate_given_then_derived",
	  BASE "access-sip-tcp-5061-in: a/b/UDP/1 any e\n\n   Access/SIP/TCP/5061 any e\n",
	  5, 4,
	  "duplicate row name 'access-sip-tcp-5061-in' (first at line 3); "
	  "give one row a name with 'NAME:'" },
	{ "row_duplicate_given_name", BASE "x: a/b/TCP/1 any e\nx: a/b/TCP/2 any e\n",
	  4, 1, "duplicate row name 'x' (first at line 3); give one row a name with 'NAME:'" },
	/* ---- Settings: unprotected, flows, replies, icmp, timeout. ---- */
	{ "unprotected_unknown", "unprotected maybe\n" BASE "a/b/TCP/1 any e\n",
	  1, 13, "unknown unprotected 'maybe' (use pass or drop)" },
	{ "unprotected_twice", "unprotected drop\nunprotected pass\n" BASE "a/b/TCP/1 any e\n",
	  2, 1, "unprotected given twice (first at line 1)" },
	{ "flows_unknown_table", "flows sctp 5000\n" BASE "a/b/TCP/1 any e\n",
	  1, 7, "unknown flow table 'sctp' (use tcp or udp)" },
	{ "flows_missing_size", "flows udp\n" BASE "a/b/TCP/1 any e\n",
	  1, 10, "missing size after 'flows udp'" },
	{ "flows_size_with_suffix", "flows udp 64k\n" BASE "a/b/TCP/1 any e\n",
	  1, 11, "bad flow table size '64k' (a number, e.g. 65536 or 131,072)" },
	{ "flows_size_bad_commas", "flows udp 2,62,144\n" BASE "a/b/TCP/1 any e\n",
	  1, 11, "bad flow table size '2,62,144' (a number, e.g. 65536 or 131,072)" },
	{ "flows_size_below", "flows tcp 1023\n" BASE "a/b/TCP/1 any e\n",
	  1, 11, "flows tcp 1023 is out of range (1024 to 4194304)" },
	{ "flows_size_above", "flows tcp 4194305\n" BASE "a/b/TCP/1 any e\n",
	  1, 11, "flows tcp 4194305 is out of range (1024 to 4194304)" },
	{ "flows_unexpected", "flows tcp 2048 x\n" BASE "a/b/TCP/1 any e\n",
	  1, 16, "unexpected 'x'" },
	{ "flows_twice", "flows tcp 2048\nflows tcp 4096\n" BASE "a/b/TCP/1 any e\n",
	  2, 1, "flows tcp given twice (first at line 1)" },
	{ "replies_unknown", "replies maybe\n" BASE "a/b/TCP/1 any e\n",
	  1, 9, "unknown replies 'maybe' (use tracked or stateless)" },
	{ "icmp_missing", "icmp\n" BASE "a/b/TCP/1 any e\n",
	  1, 5, "missing value after 'icmp'" },
	{ "icmp_twice", "icmp strict\nicmp permissive\n" BASE "a/b/TCP/1 any e\n",
	  2, 1, "icmp given twice (first at line 1)" },
	{ "timeout_unknown_kind", "timeout sctp 5\n" BASE "a/b/TCP/1 any e\n",
	  1, 9, "unknown timeout 'sctp' (use udp, tcp, tcp-transitory or pickup)" },
	{ "timeout_missing_duration", "timeout udp\n" BASE "a/b/TCP/1 any e\n",
	  1, 12, "missing duration after 'timeout udp'" },
	{ "timeout_bad_duration", "timeout udp 5x\n" BASE "a/b/TCP/1 any e\n",
	  1, 13, "bad duration '5x' (e.g. 60, 90s, 5m, 2h)" },
	{ "timeout_zero", "timeout tcp 0\n" BASE "a/b/TCP/1 any e\n",
	  1, 13, "timeout 0 s is out of range (1 s to 604800 s)" },
	{ "timeout_above_maximum", "timeout tcp 169h\n" BASE "a/b/TCP/1 any e\n",
	  1, 13, "timeout 608400 s is out of range (1 s to 604800 s)" },
	{ "timeout_pickup_above_maximum", "timeout pickup 169h\n" BASE "a/b/TCP/1 any e\n",
	  1, 16, "timeout 608400 s is out of range (0 s to 604800 s)" },
	{ "timeout_unexpected", "timeout udp 5 6\n" BASE "a/b/TCP/1 any e\n",
	  1, 15, "unexpected '6'" },
	{ "timeout_twice", "timeout udp 5\ntimeout udp 6\n" BASE "a/b/TCP/1 any e\n",
	  2, 1, "timeout udp given twice (first at line 1)" },
};

#define NERRORS (sizeof(parse_errors) / sizeof(parse_errors[0]))

static void test_policy_error_case(void **state)
{
	expect_parse_error(*state);
}

int main(void)
{
	static const struct CMUnitTest named[] = {
		cmocka_unit_test(test_policy_pic_policy),
		cmocka_unit_test(test_policy_minimal_row),
		cmocka_unit_test(test_policy_field_split_from_right),
		cmocka_unit_test(test_policy_ports_thousands_separators),
		cmocka_unit_test(test_policy_transport_any_case),
		cmocka_unit_test(test_policy_crlf),
		cmocka_unit_test(test_policy_comments),
		cmocka_unit_test(test_policy_set_continuation),
		cmocka_unit_test(test_policy_sets_name_sets),
		cmocka_unit_test(test_policy_labels),
		cmocka_unit_test(test_policy_forward_references),
		cmocka_unit_test(test_policy_inline_addresses),
		cmocka_unit_test(test_policy_ipv6_prefixes),
		cmocka_unit_test(test_policy_compact_set_syntax),
		cmocka_unit_test(test_policy_notes),
		cmocka_unit_test(test_policy_mode),
		cmocka_unit_test(test_policy_flow_settings),
		cmocka_unit_test(test_policy_unprotected_and_flows),
		cmocka_unit_test(test_policy_byte_order_mark),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_policy_prefix_format),
		cmocka_unit_test(test_policy_prefix_format_as_inet_ntop),
		cmocka_unit_test(test_policy_print_inline_and_no_notes),
		cmocka_unit_test(test_policy_file_size_limit),
		cmocka_unit_test(test_policy_unreadable_file),
		cmocka_unit_test(test_policy_errors_print),
		cmocka_unit_test(test_policy_long_line),
		cmocka_unit_test(test_policy_set_bad_name),
		cmocka_unit_test(test_policy_too_many_sets),
		cmocka_unit_test(test_policy_row_bad_name),
		cmocka_unit_test(test_policy_row_derived_name_too_long),
		cmocka_unit_test(test_policy_row_duplicate_name),
		cmocka_unit_test(test_policy_too_many_rows),
		cmocka_unit_test(test_policy_errors_sorted_and_collected),
		cmocka_unit_test(test_policy_error_cap),
	};
	size_t nnamed = sizeof(named) / sizeof(named[0]), n = nnamed + NERRORS, i, j;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int ret;

	if (!tests)
		return 1;
	memcpy(tests, named, sizeof(named));
	for (i = 0; i < NERRORS; i++) {
		char *name;

		if (asprintf(&name, "test_policy_error_%s", parse_errors[i].tag) < 0)
			return 1;
		for (j = 0; j < nnamed + i; j++) {
			if (!strcmp(tests[j].name, name)) {
				printf("Bail out! two tests named %s\n", name);
				return 1;
			}
		}
		tests[nnamed + i].name = name;
		tests[nnamed + i].test_func = test_policy_error_case;
		tests[nnamed + i].initial_state = (void *)&parse_errors[i];
	}

	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
	for (i = nnamed; i < n; i++)
		free((char *)tests[i].name);
	free(tests);
	return ret ? 1 : 0;
}
