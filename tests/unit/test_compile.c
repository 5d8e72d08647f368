// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_compile.c - the policy compiler, without a kernel: address classes
 * inherit the rows of every covering prefix, port classes cover ranges
 * exactly, classes are shared, limits are enforced. One property test
 * compares the image's answer with a plain row-by-row scan.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "policy.h"
#include "policy_match.h"

struct fixture {
	struct policy p;
	struct policy_image img;
};

static void compile_text(struct fixture *fx, const char *text)
{
	struct policy_errors errs = { 0 };
	char err[256] = "";

	if (policy_parse("t.policy", text, strlen(text), &fx->p, &errs)) {
		policy_errors_print(stderr, "t.policy", &errs);
		fail_msg("parse failed");
	}
	policy_errors_free(&errs);
	if (compile_policy(&fx->p, &fx->img, err, sizeof(err)))
		fail_msg("compile failed: %s", err);
}

static void release(struct fixture *fx)
{
	image_free(&fx->img);
	policy_free(&fx->p);
}

static struct prefix pfx(const char *text)
{
	struct prefix p = { 0 };
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = 4;
		p.len = slash ? (uint8_t)atoi(slash + 1) : 32;
	} else {
		assert_int_equal(inet_pton(AF_INET6, buf, p.addr), 1);
		p.family = 6;
		p.len = slash ? (uint8_t)atoi(slash + 1) : 128;
	}
	return p;
}

/* The class of the entry for exactly this prefix, or -1. */
static int64_t class_of(const struct image_prefix *v, size_t n, const char *text)
{
	struct prefix want = pfx(text);
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].p.len == want.len && !memcmp(v[i].p.addr, want.addr, 16))
			return v[i].class;
	return -1;
}

static int covers(const struct prefix *a, const uint8_t *addr)
{
	unsigned i;

	for (i = 0; i < a->len; i++) {
		unsigned byte = i / 8, bit = 7 - i % 8;

		if (((a->addr[byte] >> bit) & 1) != ((addr[byte] >> bit) & 1))
			return 0;
	}
	return 1;
}

/* What the kernel's LPM trie would answer for addr: the longest covering entry's class. */
static uint32_t lpm_lookup(const struct image_prefix *v, size_t n, const uint8_t *addr)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (covers(&v[i].p, addr) && (best < 0 || v[i].p.len > v[best].p.len))
			best = (int)i;
	return best < 0 ? 0 : v[best].class;
}

/*
 * Rows naming one service's address: each protected address gets the local
 * class of the rows whose local side holds it, inline (host addresses) or
 * in the protected LPM trie (a prefix); a row naming the whole protected set
 * is in every class; an address no row names has the empty class.
 */
static void test_compile_local_classes(void **state)
{
	struct fixture fx = { 0 };
	const struct picfw_bits *b;
	int64_t c;

	(void)state;
	compile_text(&fx, "set access = 203.0.113.10\nset av = 203.0.113.12\n"
			  "set edge = access, 203.0.113.11, av\nprotect edge\n"
			  "A/SIP/TCP/5061 any access\n"	/* row 0 */
			  "V/STUN/UDP/3478 any av\n"		/* row 1 */
			  "E/X/TCP/22 198.51.100.0/24 edge\n"	/* row 2 */
			  "V/RTP/UDP/50000 av any\n");	/* row 3 */
	assert_int_equal(fx.img.cfg.local, 1);
	/* The row table does not AND the local class: the bitmaps answer. */
	assert_int_equal(fx.img.cfg.row_table, 0);
	assert_int_equal(fx.img.cfg.row_table_classes, 0);
	assert_null(fx.img.row_table);
	assert_int_equal(fx.img.cfg.prot_inline, 1);
	assert_int_equal(fx.img.cfg.nprot4, 3);
	/* The inline copies carry the classes of the LPM entries, in the same order. */
	assert_int_equal(fx.img.cfg.prot4_local[0], class_of(fx.img.prot4, fx.img.nprot4,
								"203.0.113.10"));
	c = class_of(fx.img.prot4, fx.img.nprot4, "203.0.113.10");
	b = &fx.img.classes[c];
	assert_true(bits_test(b, 0) && !bits_test(b, 1) && bits_test(b, 2) && !bits_test(b, 3));
	c = class_of(fx.img.prot4, fx.img.nprot4, "203.0.113.11");
	b = &fx.img.classes[c];
	assert_true(!bits_test(b, 0) && !bits_test(b, 1) && bits_test(b, 2) && !bits_test(b, 3));
	assert_int_equal(fx.img.cfg.prot4_local[1], c);
	c = class_of(fx.img.prot4, fx.img.nprot4, "203.0.113.12");
	b = &fx.img.classes[c];
	assert_true(!bits_test(b, 0) && bits_test(b, 1) && bits_test(b, 2) && bits_test(b, 3));
	/* 5061's first row takes every remote, but one protected address only: no shortcut. */
	assert_int_equal(fx.img.ports[PICFW_TCP][5061].dst_any, 0);
	release(&fx);

	/* A protected prefix, nested service addresses: LPM entries, the empty class too. */
	compile_text(&fx, "set access = 203.0.113.10\nset edge = 203.0.113.0/28, access\n"
			  "protect edge\nA/SIP/TCP/5061 any access\n");
	assert_int_equal(fx.img.cfg.local, 1);
	assert_int_equal(fx.img.cfg.prot_inline, 0);
	assert_int_equal(fx.img.nprot4, 2);
	assert_int_equal(class_of(fx.img.prot4, fx.img.nprot4, "203.0.113.0/28"), 0);
	c = class_of(fx.img.prot4, fx.img.nprot4, "203.0.113.10");
	assert_true(c > 0 && bits_test(&fx.img.classes[c], 0));
	release(&fx);

	/* Every row names the protected set: no local classes, the port shortcut stays. */
	compile_text(&fx, "set edge = 203.0.113.10, 203.0.113.11\nprotect edge\n"
			  "A/SIP/TCP/5061 any edge\n");
	assert_int_equal(fx.img.cfg.local, 0);
	assert_int_equal(fx.img.ports[PICFW_TCP][5061].dst_any, 1);
	release(&fx);
}

static void test_compile_nested_prefixes_inherit_rows(void **state)
{
	struct fixture fx = { 0 };
	const struct picfw_bits *b;
	int64_t c24, c25, c32;

	(void)state;
	compile_text(&fx, "set edge = 203.0.113.10\n"
			  "set wide = 198.51.100.0/24\n"
			  "set half = 198.51.100.128/25\n"
			  "set host = 198.51.100.200\n"
			  "protect edge\n"
			  "r0: A/X/TCP/1 wide edge\n"
			  "r1: A/X/TCP/2 half edge\n"
			  "r2: A/X/TCP/3 host edge\n");
	assert_int_equal(fx.img.nsrc4, 3);
	c24 = class_of(fx.img.src4, fx.img.nsrc4, "198.51.100.0/24");
	c25 = class_of(fx.img.src4, fx.img.nsrc4, "198.51.100.128/25");
	c32 = class_of(fx.img.src4, fx.img.nsrc4, "198.51.100.200");
	assert_true(c24 > 0 && c25 > 0 && c32 > 0);
	b = &fx.img.classes[c24];
	assert_true(bits_test(b, 0) && !bits_test(b, 1) && !bits_test(b, 2));
	b = &fx.img.classes[c25];
	assert_true(bits_test(b, 0) && bits_test(b, 1) && !bits_test(b, 2));
	b = &fx.img.classes[c32];
	assert_true(bits_test(b, 0) && bits_test(b, 1) && bits_test(b, 2));
	release(&fx);
}

static void test_compile_same_prefix_in_two_sets_is_one_entry(void **state)
{
	struct fixture fx = { 0 };
	int64_t c;

	(void)state;
	compile_text(&fx, "set edge = 2001:db8:e::10\n"
			  "set a = 2001:db8:100::/48\n"
			  "set b = 2001:db8:100::/48, 2001:db8:200::/48\n"
			  "protect edge\n"
			  "r0: A/X/UDP/10 a edge\n"
			  "r1: A/X/UDP/20 b edge\n");
	assert_int_equal(fx.img.nsrc6, 2);
	assert_int_equal(fx.img.nsrc4, 0);
	c = class_of(fx.img.src6, fx.img.nsrc6, "2001:db8:100::/48");
	assert_true(c > 0);
	assert_true(bits_test(&fx.img.classes[c], 0) && bits_test(&fx.img.classes[c], 1));
	c = class_of(fx.img.src6, fx.img.nsrc6, "2001:db8:200::/48");
	assert_true(c > 0);
	assert_true(!bits_test(&fx.img.classes[c], 0) && bits_test(&fx.img.classes[c], 1));
	release(&fx);
}

static void test_compile_port_range_edges(void **state)
{
	struct fixture fx = { 0 };
	struct picfw_port_classes *tcp;

	(void)state;
	compile_text(&fx, "set edge = 203.0.113.10\n"
			  "protect edge\n"
			  "A/V/RTP/TCP/50,000-59,999 edge any\n"
			  "Access/SIP/TCP/5061 any edge\n");
	tcp = fx.img.ports[PICFW_TCP];
	assert_int_equal(tcp[49999].src_class, 0);
	assert_int_not_equal(tcp[50000].src_class, 0);
	assert_int_not_equal(tcp[59999].src_class, 0);
	assert_int_equal(tcp[60000].src_class, 0);
	assert_int_equal(tcp[50000].dst_class, 0);
	assert_true(bits_test(&fx.img.classes[tcp[55555].src_class], 0));
	assert_int_not_equal(tcp[5061].dst_class, 0);
	assert_int_equal(tcp[5060].dst_class, 0);
	assert_int_equal(tcp[5062].dst_class, 0);
	assert_int_equal(tcp[5061].src_class, 0);
	assert_true(bits_test(&fx.img.classes[tcp[5061].dst_class], 1));
	/* Nothing on UDP, nothing on port 0. */
	assert_int_equal(fx.img.ports[PICFW_UDP][5061].dst_class, 0);
	assert_int_equal(tcp[0].dst_class, 0);
	assert_int_equal(tcp[0].src_class, 0);
	release(&fx);
}

static void test_compile_classes_are_shared(void **state)
{
	struct fixture fx = { 0 };

	(void)state;
	/* One row over a set of three disjoint prefixes and ports 1-3: one class in all. */
	compile_text(&fx, "set edge = 203.0.113.10\n"
			  "set far = 192.0.2.0/26, 192.0.2.128/26, 198.51.100.0/24\n"
			  "protect edge\n"
			  "A/X/TCP/1-3 far edge\n");
	assert_int_equal(fx.img.nsrc4, 3);
	assert_int_equal(fx.img.nclasses, 2);
	assert_int_equal(fx.img.src4[0].class, 1);
	assert_int_equal(fx.img.src4[2].class, 1);
	assert_int_equal(fx.img.ports[PICFW_TCP][2].dst_class, 1);
	release(&fx);
}

static void test_compile_protected_set(void **state)
{
	struct fixture fx = { 0 };

	(void)state;
	compile_text(&fx, "set edge = 203.0.113.10, 203.0.113.10, 203.0.113.0/28, 2001:db8:e::/64\n"
			  "protect edge\n"
			  "A/X/UDP/7 any edge\n");
	assert_int_equal(fx.img.nprot4, 2);
	assert_int_equal(fx.img.nprot6, 1);
	assert_int_equal(fx.img.rows[0].direction, PICFW_DIR_IN);
	assert_string_equal(fx.img.rows[0].name, "a-x-udp-7-in");
	release(&fx);
}

static void test_compile_prefix_limit(void **state)
{
	const size_t n = PICFW_MAX_PREFIXES / PICFW_GENERATIONS + 1;
	struct policy_errors errs = { 0 };
	struct policy_image img;
	struct policy p;
	char err[256] = "", *text, *w;
	size_t i;

	(void)state;
	text = malloc(n * 24 + 256);
	assert_non_null(text);
	/* Two sets, each within the parser's per-set limit, over compile's together. */
	w = text + sprintf(text, "set edge = 203.0.113.10\nset big = ");
	for (i = 0; i < n; i++)
		w += sprintf(w, "%s10.%zu.%zu.%zu%s", i == n / 2 ? "set big2 = " : "", i >> 16,
			     (i >> 8) & 255, i & 255,
			     i + 1 < n && i + 1 != n / 2 ? (i % 64 == 63 ? ",\n" : ",") : "\n");
	sprintf(w, "protect edge\nA/X/TCP/1 big edge\nA/X/TCP/2 big2 edge\n");
	assert_int_equal(policy_parse("big.policy", text, strlen(text), &p, &errs), 0);
	assert_int_equal(compile_policy(&p, &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over the limit"));
	assert_null(img.src4);
	policy_free(&p);
	policy_errors_free(&errs);
	free(text);
}

/*
 * The image's first row for a TCP packet to port from an address of class
 * aclass, as the program finds it: from the row table when it holds the
 * port's class (see picfw_row_table), else ANDing the bitmaps; or -1.
 */
static int image_first_row(const struct policy_image *img, uint16_t port, uint32_t aclass)
{
	uint32_t d = img->ports[PICFW_TCP][port].dst_class;
	unsigned w;
	size_t cell;

	if (!d)
		return -1;
	if (d <= img->cfg.row_table_classes) {
		cell = (size_t)(d - 1) * img->cfg.row_table + aclass;
		assert_true(cell < img->nrow_table);
		return (int)img->row_table[cell] - 1;
	}
	for (w = 0; w < PICFW_ROW_WORDS; w++) {
		uint64_t m = img->classes[d].words[w] & img->classes[aclass].words[w];

		if (m)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(m));
	}
	return -1;
}

static unsigned rows_in(const struct picfw_bits *b)
{
	unsigned w, c = 0;

	for (w = 0; w < PICFW_ROW_WORDS; w++)
		c += (unsigned)__builtin_popcountll(b->words[w]);
	return c;
}

/*
 * Property: for random addresses, the rows the image gives (longest-match
 * class) equal a plain scan of the rows' remote sets, prefix by prefix; and
 * for each port, the image's first row (row table, or bitmaps past the port
 * classes it holds) is the first row (file order) of that port whose remote
 * set holds the address. Every other policy is compiled with a row table
 * of two port classes' cells: it holds those with the most rows.
 */
static void test_compile_matches_plain_scan(void **state)
{
	static const char *const pool[] = {
		"198.51.100.0/24", "198.51.100.0/25", "198.51.100.128/25", "198.51.100.200",
		"198.51.100.0/30", "192.0.2.0/24",    "192.0.2.64/26",     "0.0.0.0/0",
		"198.0.0.0/8",     "198.51.0.0/16",   "192.0.2.255",       "198.51.100.129",
	};
	struct fixture fx = { 0 };
	char text[8192], *w;
	unsigned s, i, r, iter;

	(void)state;
	srand(7);
	for (iter = 0; iter < 20; iter++) {
		w = text + sprintf(text, "set edge = 203.0.113.10\n");
		for (s = 0; s < 6; s++) {
			w += sprintf(w, "set s%u = %s", s, pool[rand() % 12]);
			for (i = 0; i < (unsigned)rand() % 3; i++)
				w += sprintf(w, ", %s", pool[rand() % 12]);
			*w++ = '\n';
		}
		w += sprintf(w, "protect edge\n");
		/* Ports 1-6, shared: a port's rows are several, in file order. */
		for (r = 0; r < 12; r++)
			w += sprintf(w, "r%u: A/X/TCP/%u s%u edge\n", r, 1 + (unsigned)rand() % 6,
				     (unsigned)rand() % 6);
		compile_text(&fx, text);
		assert_true(fx.img.cfg.row_table == fx.img.nclasses);
		if (iter % 2) {
			size_t n = fx.img.nclasses;
			unsigned all = fx.img.cfg.row_table_classes;
			uint16_t p1, p2;

			release(&fx);
			compile_set_row_cells(2 * n);
			compile_text(&fx, text);
			compile_set_row_cells(0);
			assert_int_equal(fx.img.cfg.row_table_classes, all < 2 ? all : 2);
			assert_int_equal(fx.img.nrow_table, fx.img.cfg.row_table_classes * n);
			/* Most rows first. */
			for (p1 = 1; p1 <= 6; p1++)
				for (p2 = 1; p2 <= 6; p2++) {
					uint32_t d1 = fx.img.ports[PICFW_TCP][p1].dst_class;
					uint32_t d2 = fx.img.ports[PICFW_TCP][p2].dst_class;

					if (d1 && d2 && d1 < d2)
						assert_true(rows_in(&fx.img.classes[d1]) >=
							    rows_in(&fx.img.classes[d2]));
				}
		}

		for (i = 0; i < 2000; i++) {
			uint8_t addr[16] = { 0 };
			const struct picfw_bits *got;
			int first[8];
			uint32_t a, aclass;
			uint16_t port;

			/* Addresses near the pool's prefixes, and their edges. */
			a = (rand() % 2 ? 0xC6336400u : 0xC0000200u) + (uint32_t)(rand() % 512) - 128;
			if (rand() % 10 == 0)
				a = (uint32_t)rand();
			a = htonl(a);
			memcpy(addr, &a, 4);
			aclass = lpm_lookup(fx.img.src4, fx.img.nsrc4, addr);
			got = &fx.img.classes[aclass];
			for (port = 0; port < 8; port++)
				first[port] = -1;
			for (r = 0; r < fx.p.nrows; r++) {
				const struct addr_set *set = &fx.p.sets[fx.p.rows[r].src];
				int want = 0;
				size_t k;

				for (k = 0; k < set->nprefixes; k++)
					want |= set->prefixes[k].family == 4 &&
						covers(&set->prefixes[k], addr);
				if (want != bits_test(got, r))
					fail_msg("iter %u addr %08x row %u: image %d, scan %d", iter,
						 ntohl(a), r, bits_test(got, r), want);
				if (want && first[fx.p.rows[r].port_lo] < 0)
					first[fx.p.rows[r].port_lo] = (int)r;
			}
			/* Port 7: no row; its class is 0 and the table is not asked. */
			for (port = 1; port < 8; port++)
				if (image_first_row(&fx.img, port, aclass) != first[port])
					fail_msg("iter %u addr %08x port %u: image %d, scan %d",
						 iter, ntohl(a), port,
						 image_first_row(&fx.img, port, aclass), first[port]);
		}
		release(&fx);
	}
}

/* a covers addr, a byte at a time (the scans below run over 100,000 prefixes). */
static int covers_fast(const struct prefix *a, const uint8_t *addr)
{
	unsigned full = a->len / 8, rest = a->len % 8;

	if (memcmp(a->addr, addr, full))
		return 0;
	return !rest || !((a->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff);
}

/*
 * The partner mix (scripts/gen-policy.sh --mix partner 1,024 rows x
 * 100,000 prefixes: 64 nested, overlapping sets) used to be refused with
 * "more than 16383 distinct address and port classes". It compiles, and for
 * addresses in and around its prefixes the rows of the address's class are
 * exactly the rows whose remote set holds the address.
 */
static void test_compile_partner_mix_classifies_like_a_scan(void **state)
{
	const char *top = getenv("PICFW_SRCDIR");
	struct policy_errors errs = { 0 };
	struct fixture fx = { 0 };
	char cmd[512], err[256] = "", *text = NULL;
	size_t len = 0, cap = 0, i, k;
	uint8_t *in_set;
	FILE *f;
	unsigned probe, r;

	(void)state;
	snprintf(cmd, sizeof(cmd), "bash %s/scripts/gen-policy.sh --mix partner 1024 100000 1",
		 top ? top : ".");
	f = popen(cmd, "r");
	assert_non_null(f);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 1 << 22;
			text = realloc(text, cap);
			assert_non_null(text);
		}
		k = fread(text + len, 1, cap - len, f);
		if (!k)
			break;
		len += k;
	}
	assert_int_equal(pclose(f), 0);
	assert_true(len > 1000000);
	if (policy_parse("mix.policy", text, len, &fx.p, &errs)) {
		policy_errors_print(stderr, "mix.policy", &errs);
		fail_msg("parse failed");
	}
	policy_errors_free(&errs);
	free(text);
	assert_int_equal(fx.p.nrows, 1024);
	if (compile_policy(&fx.p, &fx.img, err, sizeof(err)))
		fail_msg("compile failed: %s", err);
	/* More classes than the old table held: the case the issue saw refused. */
	assert_true(fx.img.nclasses > 16383);
	/* Hosts and lone long prefixes are tails: both families stay on the array trie. */
	assert_true(fx.img.cfg.trie4 && fx.img.cfg.trie6);
	fprintf(stderr, "# partner mix: %zu classes, trie4 %u trie6 %u, %u nodes, %u tails\n", fx.img.nclasses, fx.img.cfg.trie4, fx.img.cfg.trie6, fx.img.ntrie, fx.img.ntails);

	in_set = calloc(fx.p.nsets, 1);
	assert_non_null(in_set);
	srand(12);
	for (probe = 0; probe < 400; probe++) {
		const struct addr_set *s = &fx.p.sets[2 + (unsigned)rand() % (fx.p.nsets - 2)];
		const struct prefix *base = &s->prefixes[(size_t)rand() % s->nprefixes];
		const struct image_prefix *v = base->family == 4 ? fx.img.src4 : fx.img.src6;
		size_t nv = base->family == 4 ? fx.img.nsrc4 : fx.img.nsrc6;
		const struct picfw_bits *got;
		uint8_t addr[16];
		int best = -1;

		/* Inside a prefix of the policy, low bits at random (maybe in a longer one). */
		memcpy(addr, base->addr, 16);
		for (k = base->len; k < (base->family == 4 ? 32u : 128u); k++)
			if (rand() % 2)
				addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
		if (probe % 10 == 9) /* and next to it, maybe in no set at all */
			addr[base->family == 4 ? 3 : 15] ^= 0x80;
		for (k = 0; k < nv; k++)
			if (covers_fast(&v[k].p, addr) && (best < 0 || v[k].p.len > v[best].p.len))
				best = (int)k;
		got = &fx.img.classes[best < 0 ? 0 : v[best].class];
		if (fx.img.cfg.trie4 && base->family == 4)
			assert_int_equal(image_trie_lookup(&fx.img, 4, addr), best < 0 ? 0 : v[best].class);
		if (fx.img.cfg.trie6 && base->family == 6)
			assert_int_equal(image_trie_lookup(&fx.img, 6, addr), best < 0 ? 0 : v[best].class);
		for (i = 0; i < fx.p.nsets; i++) {
			in_set[i] = 0;
			for (k = 0; k < fx.p.sets[i].nprefixes && !in_set[i]; k++)
				in_set[i] = fx.p.sets[i].prefixes[k].family == base->family &&
					    covers_fast(&fx.p.sets[i].prefixes[k], addr);
		}
		for (r = 0; r < fx.p.nrows; r++) {
			const struct row *row = &fx.p.rows[r];
			int remote = row->direction == PICFW_DIR_IN ? row->src : row->dst;
			int want = in_set[remote] || policy_set_matches_all(&fx.p.sets[remote]);

			if (want != bits_test(got, r))
				fail_msg("probe %u row %u: image %d, scan %d", probe, r,
					 bits_test(got, r), want);
		}
	}
	free(in_set);
	release(&fx);
}

/*
 * Where the class table does overflow (400 sets, each /24 of one set holding
 * /32s of 199 others: 79,600 distinct pairs of sets, so of rows), compile
 * refuses and blames sets that made the classes, for check to name them.
 */
static void test_compile_class_overflow_names_sets(void **state)
{
	const unsigned nsets = 400, hosts = 199;
	struct policy_errors errs = { 0 };
	struct compile_blame blame = { 0 };
	struct policy_image img;
	struct policy p;
	char err[256] = "", *text, *w;
	unsigned s, h, k;

	(void)state;
	text = malloc((size_t)nsets * (hosts + 1) * 24 + 65536);
	assert_non_null(text);
	w = text + sprintf(text, "set edge = 203.0.113.10\n");
	for (s = 0; s < nsets; s++) {
		w += sprintf(w, "set s%u = 10.%u.%u.0/24", s, s / 256, s % 256);
		/* /32s inside the /24 of set k = s - h: each set names hosts in 199 others. */
		for (h = 1; h <= hosts; h++) {
			k = (s + nsets - h) % nsets;
			w += sprintf(w, ",%s10.%u.%u.%u", h % 32 ? "" : "\n ", k / 256, k % 256, h);
		}
		*w++ = '\n';
	}
	w += sprintf(w, "protect edge\n");
	for (s = 0; s < nsets; s++)
		w += sprintf(w, "A/X/TCP/%u s%u edge\n", s + 1, s);
	assert_int_equal(policy_parse("over.policy", text, strlen(text), &p, &errs), 0);
	assert_int_equal(compile_policy_blame(&p, &img, err, sizeof(err), &blame), -1);
	assert_non_null(strstr(err, "distinct address and port classes"));
	assert_null(img.src4);
	assert_true(blame.nset >= 1 && blame.nset <= COMPILE_BLAME_MAX);
	for (k = 0; k < blame.nset; k++) {
		assert_true(blame.set[k] >= 1 && (unsigned)blame.set[k] <= nsets);
		assert_non_null(p.sets[blame.set[k]].name);
		assert_int_equal(p.sets[blame.set[k]].name[0], 's');
	}
	policy_free(&p);
	policy_errors_free(&errs);
	free(text);
}

static void test_compile_plan_slots_keeps_names(void **state)
{
	struct picfw_row_meta old[3] = { { .name = "a" }, { .name = "b" }, { .name = "c" } };
	uint32_t old_slots[3] = { 4, 0, 7 }, slots[PICFW_MAX_ROWS];
	uint8_t fresh[PICFW_MAX_ROWS];
	struct fixture fx = { 0 };

	(void)state;
	compile_text(&fx, "set edge = 203.0.113.10\nprotect edge\n"
			  "c: A/X/TCP/1 any edge\n"
			  "d: A/X/TCP/2 any edge\n"
			  "a: A/X/UDP/3 any edge\n"
			  "e: A/X/UDP/4 any edge\n");
	assert_int_equal(compile_plan_slots(old, old_slots, 3, &fx.img, slots, fresh), 0);
	/* Kept names keep their slots, whatever their position or fields now. */
	assert_int_equal(slots[0], 7);
	assert_int_equal(fresh[0], 0);
	assert_int_equal(slots[2], 4);
	assert_int_equal(fresh[2], 0);
	/* New rows take the lowest slots the old policy does not use (0 is b's). */
	assert_int_equal(slots[1], 1);
	assert_int_equal(fresh[1], 1);
	assert_int_equal(slots[3], 2);
	assert_int_equal(fresh[3], 1);
	release(&fx);
}

static void test_compile_plan_slots_runs_out(void **state)
{
	static struct picfw_row_meta old[PICFW_MAX_ROWS];
	static uint32_t old_slots[PICFW_MAX_ROWS], slots[PICFW_MAX_ROWS];
	static uint8_t fresh[PICFW_MAX_ROWS];
	struct fixture fx = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		snprintf(old[i].name, sizeof(old[i].name), "old%u", i);
		old_slots[i] = i;
	}
	compile_text(&fx, "set edge = 203.0.113.10\nprotect edge\nnew: A/X/TCP/1 any edge\n");
	/* All 1024 slots are counting for the active policy: no room for a new row. */
	assert_int_equal(compile_plan_slots(old, old_slots, PICFW_MAX_ROWS, &fx.img, slots, fresh),
			 -1);
	/* Keeping one of the old names needs no new slot. */
	snprintf(old[5].name, sizeof(old[5].name), "new");
	assert_int_equal(compile_plan_slots(old, old_slots, PICFW_MAX_ROWS, &fx.img, slots, fresh),
			 0);
	assert_int_equal(slots[0], 5);
	release(&fx);
}

static void test_compile_digest_follows_content(void **state)
{
	struct fixture a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	compile_text(&a, "set edge = 203.0.113.10\nprotect edge\nA/X/TCP/1 198.51.100.0/24 edge\n");
	compile_text(&b, "# same policy, other spelling\nset edge=203.0.113.10\nprotect edge\n"
			 "A/X/tcp/1   198.51.100.0/24   edge\n");
	compile_text(&c, "set edge = 203.0.113.10\nprotect edge\nA/X/TCP/1 198.51.101.0/24 edge\n");
	assert_true(image_digest(&a.img) == image_digest(&b.img));
	assert_true(image_digest(&a.img) != image_digest(&c.img));
	release(&a);
	release(&b);
	release(&c);
}

/* policy_write's output parses back to the same compiled policy. */
static void test_compile_normalised_source_round_trips(void **state)
{
	struct fixture a = { 0 }, b = { 0 };
	char *text = NULL, *big, *w;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	big = malloc(300 * 24 + 1024);
	assert_non_null(big);
	w = big + sprintf(big, "set edge = 203.0.113.10, 2001:db8:e::10\nmode audit\nset many = ");
	for (i = 0; i < 300; i++)
		w += sprintf(w, "198.51.%zu.%zu%s", i / 200, i % 200, i + 1 < 300 ? "," : "\n");
	sprintf(w, "protect edge\n"
		   "A/V/STUN,MSTURN/UDP/3478 any edge \"say \\\"hi\\\" \\\\ there\"\n"
		   "x.y: Access/SIP(MTLS)/TCP/5,061 many edge\n"
		   "A/V/RTP/TCP/50,000-59,999 edge 2001:db8:100::/48\n");
	compile_text(&a, big);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	policy_write(f, &a.p);
	fclose(f);
	compile_text(&b, text);
	assert_int_equal(b.p.nrows, 3);
	assert_string_equal(b.p.rows[0].notes, a.p.rows[0].notes);
	assert_string_equal(b.p.rows[1].name, "x.y");
	assert_int_equal(b.p.mode, PICFW_MODE_AUDIT);
	assert_true(image_digest(&a.img) == image_digest(&b.img));
	free(text);
	free(big);
	release(&a);
	release(&b);
}

/*
 * The array trie answers as the LPM entries do: for random policies of
 * nested IPv4 and IPv6 prefixes (lengths on and off byte boundaries), every
 * probed address gets the class of its longest matching entry.
 */
static void test_compile_trie_matches_longest_prefix(void **state)
{
	struct fixture fx = { 0 };
	char text[16384], *w;
	unsigned iter, s, i, k;

	(void)state;
	srand(11);
	for (iter = 0; iter < 30; iter++) {
		w = text + sprintf(text, "set edge = 203.0.113.10\n");
		for (s = 0; s < 8; s++) {
			w += sprintf(w, "set s%u = ", s);
			for (i = 0; i < 6; i++) {
				unsigned len = (unsigned)rand() % 33, b = (unsigned)rand() % 4;
				uint32_t a = htonl((0xC6336400u + (uint32_t)(rand() % 1024) - 512) &
						   (len ? ~0u << (32 - len) : 0));
				char buf[INET_ADDRSTRLEN];
				uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
				char buf6[INET6_ADDRSTRLEN];
				unsigned len6 = 32 + (unsigned)rand() % 97, bit;

				(void)b;
				inet_ntop(AF_INET, &a, buf, sizeof(buf));
				a6[4] = (uint8_t)(rand() % 4);
				a6[5] = (uint8_t)rand();
				a6[15] = (uint8_t)rand();
				for (bit = len6; bit < 128; bit++)
					a6[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
				inet_ntop(AF_INET6, a6, buf6, sizeof(buf6));
				w += sprintf(w, "%s%s/%u, %s/%u", i ? ", " : "", buf, len, buf6, len6);
			}
			*w++ = '\n';
		}
		w += sprintf(w, "protect edge\n");
		for (k = 0; k < 10; k++)
			w += sprintf(w, "A/X/UDP/%u s%u edge\n", k + 1, (unsigned)rand() % 8);
		*w = 0;
		compile_text(&fx, text);
		assert_true(fx.img.cfg.trie4 && fx.img.cfg.trie6);
		for (i = 0; i < 3000; i++) {
			uint8_t a4[16] = { 0 }, a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
			uint32_t a = htonl(0xC6336400u + (uint32_t)(rand() % 2048) - 1024);

			memcpy(a4, &a, 4);
			if (rand() % 8 == 0) {
				a = (uint32_t)rand();
				memcpy(a4, &a, 4);
			}
			assert_int_equal(image_trie_lookup(&fx.img, 4, a4),
					 lpm_lookup(fx.img.src4, fx.img.nsrc4, a4));
			a6[4] = (uint8_t)(rand() % 4);
			a6[5] = (uint8_t)rand();
			a6[15] = (uint8_t)rand();
			a6[8] = (uint8_t)(rand() % 2);
			assert_int_equal(image_trie_lookup(&fx.img, 6, a6),
					 lpm_lookup(fx.img.src6, fx.img.nsrc6, a6));
		}
		release(&fx);
	}
}

/* A policy whose trie would not fit falls back to the LPM tries, family by family. */
/*
 * 20,000 IPv6 hosts in distinct /64s (a node chain each: 200,000 nodes) stay
 * on the array trie: each is a tail, and every host and its neighbour
 * classify as the LPM entries say.
 */
static void test_compile_trie_hosts_are_tails(void **state)
{
	const size_t n = 20000;
	struct fixture fx = { 0 };
	char *text, *w;
	size_t i;

	(void)state;
	text = malloc(n * 48 + 256);
	assert_non_null(text);
	w = text + sprintf(text, "set edge = 203.0.113.10\nset many = 198.51.100.0/24");
	for (i = 0; i < n; i++)
		w += sprintf(w, ",%s2001:db8:%zx:%zx::1", i % 32 == 0 ? "\n  " : "", i >> 8, i & 255);
	sprintf(w, "\nprotect edge\nA/X/TCP/1 many edge\n");
	compile_text(&fx, text);
	assert_true(fx.img.cfg.trie4);
	assert_true(fx.img.cfg.trie6);
	assert_true(fx.img.ntrie <= PICFW_TRIE_NODES);
	/* A tail each, and 198.51.100.0/24's; skips over one-way nodes besides. */
	assert_true(fx.img.ntails >= n + 1);
	for (i = 0; i < n; i += 7) {
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, (uint8_t)(i >> 16), (uint8_t)(i >> 8), 0,
				   (uint8_t)i };

		a6[15] = 1;
		assert_int_equal(image_trie_lookup(&fx.img, 6, a6),
				 lpm_lookup(fx.img.src6, fx.img.nsrc6, a6));
		assert_int_not_equal(image_trie_lookup(&fx.img, 6, a6), 0);
		a6[15] = 2;
		assert_int_equal(image_trie_lookup(&fx.img, 6, a6), 0);
	}
	release(&fx);
	free(text);
}

/*
 * Pairs of hosts that share 15 bytes need a node where they part (the bytes
 * above it are one skip): 20,000 such pairs need more nodes than the trie
 * has, so IPv6 falls back to the LPM trie and IPv4 stays.
 */
static void test_compile_trie_falls_back_when_too_big(void **state)
{
	const size_t n = 20000;
	struct fixture fx = { 0 };
	char *text, *w;
	size_t i;

	(void)state;
	text = malloc(n * 96 + 256);
	assert_non_null(text);
	w = text + sprintf(text, "set edge = 203.0.113.10\nset many = 198.51.100.0/24");
	for (i = 0; i < n; i++)
		w += sprintf(w, ",%s2001:db8:%zx:%zx::1, 2001:db8:%zx:%zx::2", i % 16 == 0 ? "\n  " : "",
			     i >> 8, i & 255, i >> 8, i & 255);
	sprintf(w, "\nprotect edge\nA/X/TCP/1 many edge\n");
	compile_text(&fx, text);
	assert_true(fx.img.cfg.trie4);
	assert_false(fx.img.cfg.trie6);
	assert_true(fx.img.ntrie <= PICFW_TRIE_NODES);
	release(&fx);
	free(text);
}

/*
 * The flow timeouts reach the program in nanoseconds (picfw_gen_cfg): the
 * defaults and the largest a policy may give, each compared with the exact
 * 64-bit value. A product in 32 bits (timeout * 1000000000U) would give
 * 60 s as 4.1 s and 7200 s as 1.6 s; the tests that wait for an expiry use
 * 1 s timeouts, which such a product leaves intact.
 */
static void test_compile_timeouts_in_nanoseconds(void **state)
{
	static const struct {
		const char *tag;
		const char *settings; /* put in front of the policy */
		uint64_t want_s[PICFW_TIMEOUTS]; /* udp, tcp, tcp-transitory, pickup */
	} cases[] = {
		{ "defaults", "",
		  { PICFW_DEFAULT_TIMEOUT_UDP, PICFW_DEFAULT_TIMEOUT_TCP,
		    PICFW_DEFAULT_TIMEOUT_TCP_TRANSITORY, PICFW_DEFAULT_TIMEOUT_PICKUP } },
		{ "maximum",
		  "timeout udp 604800s\ntimeout tcp 168h\ntimeout tcp-transitory 10080m\n"
		  "timeout pickup 604800\n",
		  { PICFW_MAX_TIMEOUT, PICFW_MAX_TIMEOUT, PICFW_MAX_TIMEOUT, PICFW_MAX_TIMEOUT } },
		/* A pickup window may be none. */
		{ "shortest", "timeout udp 1\ntimeout tcp 1s\ntimeout tcp-transitory 1\ntimeout pickup 0\n",
		  { 1, 1, 1, 0 } },
		/* Just past 2^32 ns (4.29 s): the first value a 32-bit product gets wrong. */
		{ "past-32-bits",
		  "timeout udp 5\ntimeout tcp 4s\ntimeout tcp-transitory 5s\ntimeout pickup 5s\n",
		  { 5, 4, 5, 5 } },
	};
	/* The defaults as written in the header, in nanoseconds, by hand. */
	static const uint64_t default_ns[PICFW_TIMEOUTS] = {
		60000000000ULL, 7200000000000ULL, 30000000000ULL, 60000000000ULL
	};
	char text[512];
	size_t i;
	unsigned t;

	(void)state;
	assert_int_equal(PICFW_MAX_TIMEOUT, 604800);
	for (t = 0; t < PICFW_TIMEOUTS; t++)
		assert_true(cases[0].want_s[t] * 1000000000ULL == default_ns[t]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture fx = { 0 };

		snprintf(text, sizeof(text),
			 "%sset edge = 203.0.113.10\nprotect edge\nA/X/TCP/1 any edge\n",
			 cases[i].settings);
		compile_text(&fx, text);
		for (t = 0; t < PICFW_TIMEOUTS; t++) {
			uint64_t want = cases[i].want_s[t] * 1000000000ULL;

			if (fx.img.cfg.timeout_ns[t] != want) {
				print_error("# %s: timeout %u: %llu ns, expected %llu ns\n",
					    cases[i].tag, t,
					    (unsigned long long)fx.img.cfg.timeout_ns[t],
					    (unsigned long long)want);
				release(&fx);
				fail();
			}
		}
		release(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_local_classes),
		cmocka_unit_test(test_compile_nested_prefixes_inherit_rows),
		cmocka_unit_test(test_compile_same_prefix_in_two_sets_is_one_entry),
		cmocka_unit_test(test_compile_port_range_edges),
		cmocka_unit_test(test_compile_classes_are_shared),
		cmocka_unit_test(test_compile_protected_set),
		cmocka_unit_test(test_compile_prefix_limit),
		cmocka_unit_test(test_compile_matches_plain_scan),
		cmocka_unit_test(test_compile_trie_matches_longest_prefix),
		cmocka_unit_test(test_compile_trie_hosts_are_tails),
		cmocka_unit_test(test_compile_trie_falls_back_when_too_big),
		cmocka_unit_test(test_compile_partner_mix_classifies_like_a_scan),
		cmocka_unit_test(test_compile_class_overflow_names_sets),
		cmocka_unit_test(test_compile_plan_slots_keeps_names),
		cmocka_unit_test(test_compile_plan_slots_runs_out),
		cmocka_unit_test(test_compile_digest_follows_content),
		cmocka_unit_test(test_compile_normalised_source_round_trips),
		cmocka_unit_test(test_compile_timeouts_in_nanoseconds),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
