// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_differential.c - the real XDP program against the reference
 * classifier (tests/reference/), on random policies and random frames.
 *
 * Each random policy is written as policy text (overlapping IPv4 and IPv6
 * prefixes in named sets, rows over TCP and UDP with single ports and
 * ranges, inbound and outbound, `any`, inline addresses, audit mode,
 * stateless replies, strict ICMP), parsed and compiled by the library and
 * applied the way `picfw apply` does it: counter slots planned by stable
 * name, the inactive generation written, switched, the old one cleared.
 * The oracle gets the generator's own model of the policy (and the test
 * checks that the parser read the same). After each apply, random frames
 * biased to the edges (first and last address of every prefix and just
 * outside, port range ends and one beyond, VLAN and QinQ, IPv4 options,
 * IPv6 extension header chains, fragments, ICMP errors quoting allowed and
 * other flows, truncations, flipped bytes, random bytes) go through the
 * program (BPF_PROG_TEST_RUN) and the oracle: the verdict and the one
 * counter that moved (row slot or reason slot, +1 packet, +frame bytes)
 * must agree. A run applies a sequence of updates to each policy.
 *
 * State: now and then the Edge sends a frame through the TC egress program
 * (SYNs, mid-stream packets that pick a flow up, answers to inbound rows,
 * closing packets, resends), and the oracle models the flow table it
 * fills: afterwards the frame's flow must be in the program's table exactly
 * when it is in the oracle's. Ingress frames answer those flows (replies
 * and near misses), before and after updates that move, rename or remove
 * their rows, and quote them in ICMP errors. First fragments with more to
 * come are followed by later fragments of the same datagram and by orphans
 * of other ids; the oracle models picfw_frags. Policies say `unprotected
 * drop` now and then, and frames go to multicast, broadcast and link-local
 * destinations, with Ethernet broadcast and multicast destinations. Flows
 * and fragments are emptied on both sides for every new policy.
 *
 * Shapes: a run starts with HEAVY_POLICIES nested policies the size of
 * scripts/gen-policy.sh --mix partner (up to 64 sets, ~600-1,600 prefixes
 * of both families that contain one another across sets at many lengths:
 * IPv4 /16 to /32 in two /8s, IPv6 /32 to /128 in two /32s, hosts and
 * small blocks next to the addresses frames come from, neighbours one bit
 * apart deep down, so the compiler's array trie gets tails and skips; up
 * to 300 rows on well-known and overlapping port ranges), then one large
 * policy whose thousands of IPv4 or IPv6 prefixes need more array trie
 * nodes than there are, so that family is classified by the kernel's LPM
 * trie (the run fails if it is not: the generator must grow). Then random
 * policies for the time given, a few of them nested too. Frames come from
 * the edges of the prefixes, from inside them, and one bit outside.
 *
 * Environment:
 *   PICFW_DIFF_SECONDS  time for the random policies after the heavy and
 *                       large ones (default 3; 0: none of them either)
 *   PICFW_DIFF_SEED     seed (default: from the clock; printed)
 *   PICFW_DIFF_POLICIES run exactly this many policies (with their updates;
 *                       the heavy and large ones first) instead of for a
 *                       time: a failure prints the seed and the count that
 *                       replays it on any machine
 *   PICFW_DIFF_SAVE     where mismatches are saved as cases (default
 *                       BUILD/diff-cases, beside this binary's directory)
 *   PICFW_DIFF_REPLAY   a case file (or directory) to replay instead of
 *                       tests/reference/cases/ (with PICFW_DIFF_SECONDS=0:
 *                       only that)
 *   PICFW_DIFF_QUIET    1: no progress lines
 *   PICFW_DIFF_COMPACT  1: judge with picfw_xdp_compact (the XDP program
 *                       attach falls back to where the kernel refuses
 *                       picfw_xdp) instead of picfw_xdp
 *
 * A case file is the policy text and the frames in hex (`frame` through XDP,
 * `egress` through the TC program, from empty flow and fragment tables):
 * replaying it needs no seed, unless the mismatch hangs on state from the
 * policy's earlier updates (then the seed in its header reproduces it). The .case files in
 * tests/reference/cases/ are replayed on every run.
 *
 * Needs root (CAP_BPF and CAP_NET_ADMIN) for the program; without, the
 * oracle's own rule table still runs and the rest is a SKIP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "picfw.h"
#include "policy.h"
#include "compile.h"
#include "maps.h"
#include "attach.h"
#include "picfw.skel.h"
#include "packets.h"
#include "reference.h"
#include "common.h"

#define DEFAULT_SECONDS 3.0
#define MAX_SAVED 20   /* case files per run */
#define MAX_DETAILED 8 /* mismatches printed in full per run */
#define PACKETS_PER_APPLY 400
#define UPDATES_PER_POLICY 4
/*
 * Every run (with a time or a count) starts with this many heavy nested
 * policies, then one large one, each with its updates, whatever the time
 * given (PICFW_DIFF_SECONDS counts from after them); then random ones.
 */
#define HEAVY_POLICIES 3
#define FIXED_POLICIES (HEAVY_POLICIES + 1)

/* ---------------------------------------------------------------- random */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rnd(unsigned n)
{
	return n ? (unsigned)(rnd64() % n) : 0;
}

static int chance(unsigned percent)
{
	return rnd(100) < percent;
}

/* ---------------------------------------------------------------- output */

static int quiet;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A growing text buffer. */
struct text {
	char *s;
	size_t n, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0)
		return;
	if (t->n + (size_t)need + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *s;

		while (t->n + (size_t)need + 1 > cap)
			cap *= 2;
		s = realloc(t->s, cap);
		if (!s)
			abort();
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)need;
}

/* ------------------------------------------------------ addresses, prefixes */

static unsigned addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

static void prefix_mask(struct ref_prefix *p)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned keep = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;

		p->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	if (p->family == 4)
		memset(p->addr + 4, 0, 12);
	/*
	 * The parser refuses IPv4-mapped and IPv4-compatible forms (::ffff:0:0/96,
	 * ::/96): move such a prefix out of ::/80.
	 */
	if (p->family == 6 && p->len >= 96 && !memcmp(p->addr, (const uint8_t[10]){ 0 }, 10) &&
	    ((!p->addr[10] && !p->addr[11]) || (p->addr[10] == 0xff && p->addr[11] == 0xff)))
		p->addr[0] = 0x20;
}

/* The last address of a prefix: the host bits set. */
static void prefix_last(const struct ref_prefix *p, uint8_t out[16])
{
	unsigned i, bytes = addr_bytes(p->family);

	memcpy(out, p->addr, 16);
	for (i = 0; i < bytes; i++) {
		unsigned keep = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;

		out[i] |= (uint8_t)(0xffu >> keep);
	}
}

/* addr += delta (+1 or -1), wrapping, over the family's bytes. */
static void addr_step(uint8_t *a, int family, int delta)
{
	int i;

	for (i = (int)addr_bytes(family) - 1; i >= 0; i--) {
		if (delta > 0) {
			if (++a[i] != 0)
				return;
		} else {
			if (a[i]-- != 0)
				return;
		}
	}
}

static void addr_random(uint8_t out[16], int family)
{
	unsigned i;

	memset(out, 0, 16);
	for (i = 0; i < addr_bytes(family); i++)
		out[i] = (uint8_t)rnd64();
	/* Now and then the all-zeros or all-ones address: unused slots hold zeros. */
	if (chance(4))
		memset(out, chance(50) ? 0 : 0xff, addr_bytes(family));
}

/*
 * An address at an edge of prefix p: first, last, one outside, inside, or
 * a near miss: inside but for one bit of the prefix, which shares the
 * prefix's bytes down to that bit (the trie walks the same slots, then a
 * tail's or a skip's masked compare must tell it out), often one of its
 * last bits (the neighbour beside it).
 */
static void addr_near(const struct ref_prefix *p, uint8_t out[16])
{
	uint8_t host[16];
	unsigned k = rnd(100), i, bit;

	if (k < 26) {
		memcpy(out, p->addr, 16);
	} else if (k < 52) {
		prefix_last(p, out);
	} else if (k < 61) {
		memcpy(out, p->addr, 16);
		addr_step(out, p->family, -1);
	} else if (k < 70) {
		prefix_last(p, out);
		addr_step(out, p->family, +1);
	} else {
		prefix_last(p, host);
		addr_random(out, p->family);
		for (i = 0; i < 16; i++)
			out[i] = (uint8_t)((out[i] & (host[i] ^ p->addr[i])) | p->addr[i]);
		if (k >= 84 && p->len) {
			bit = chance(50) ? rnd(p->len) : p->len - 1 - rnd(p->len < 8 ? p->len : 8);
			out[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
	}
}

/* An address near a prefix of family in s; a random one when s has none. */
static void addr_from_set(const struct ref_set *s, int family, uint8_t out[16])
{
	size_t i, n = 0, pick;

	for (i = 0; s && i < s->n; i++)
		n += s->v[i].family == family;
	if (!n) {
		addr_random(out, family);
		return;
	}
	pick = rnd((unsigned)n);
	for (i = 0; i < s->n; i++) {
		if (s->v[i].family != family)
			continue;
		if (pick-- == 0) {
			addr_near(&s->v[i], out);
			return;
		}
	}
}

static void addr_text(int family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

/* ----------------------------------------------------------- policy model */

#define G_MAX_SETS 65	 /* the protected set and 64 more (a nested policy's) */
#define G_ORD_SETS 8	 /* in an ordinary policy */
#define G_MAX_PREFIXES 6 /* in an ordinary set */
#define G_POOL 6
#define G_LOCALS 3	 /* sets inside the protected set: one service's addresses */

/*
 * What a policy is like. Random ones are small and varied; nested ones
 * have the shape of scripts/gen-policy.sh --mix partner and its nested
 * variant (many sets of prefixes that contain one another across sets at
 * many lengths, rows on well-known and overlapping ports); a large one adds
 * thousands of prefixes shaped to need more array trie nodes than there are,
 * so that one family falls back to the kernel's LPM trie.
 */
enum g_shape {
	SHAPE_RANDOM,
	SHAPE_NESTED,
	SHAPE_LARGE,
};

enum remote_kind {
	REMOTE_SET,
	REMOTE_ANY,
	REMOTE_INLINE,
};

struct g_set {
	char name[16];
	int any;	      /* `any` among the items */
	struct ref_prefix *v; /* the other items, in order */
	int n, cap;
};

struct g_row {
	unsigned id; /* the row's name: r<id>, or the derived name of G/p<id>/... */
	int explicit_name;
	uint8_t transport, direction;
	uint16_t lo, hi;
	enum remote_kind remote;
	int set;	       /* REMOTE_SET: index into sets */
	struct ref_prefix inl; /* REMOTE_INLINE */
	int thousands, tcase;  /* how the ports and transport are written */
	int local;	       /* the Edge's side: 0 the protected set, k locals[k - 1] */
	int local_inline;      /* written inline (a local set of one prefix) */
};

struct g_policy {
	struct g_set sets[G_MAX_SETS]; /* sets[0] is the protected set, "guarded" */
	int nsets;
	struct g_row rows[PICFW_MAX_ROWS];
	int nrows;
	uint32_t mode, replies, icmp_strict, unprotected;
	int say_replies, say_icmp, say_unprotected;	/* write the default settings too */
	int big;					/* sets[1] holds thousands of prefixes */
	struct ref_prefix pool4[G_POOL], pool6[G_POOL]; /* anchors: prefixes overlap */
	unsigned next_id;
	enum g_shape shape;
	int large_family; /* SHAPE_LARGE: the family made too big for the array trie */
	/* SHAPE_NESTED, SHAPE_LARGE: every prefix the sets got, per family (nest[family == 6]) */
	struct g_set nest[2];
	struct ref_prefix base4[2], base6[2]; /* where new nests start: /8s, /32s */
	/* Sets inside the protected set, named svc1...: rows open on one service's addresses. */
	struct g_set locals[G_LOCALS];
	int nlocals;
};

static void pool_init(struct g_policy *g)
{
	int i;

	for (i = 0; i < G_POOL; i++) {
		struct ref_prefix *a = &g->pool4[i], *b = &g->pool6[i];

		a->family = 4;
		b->family = 6;
		if (i && chance(60)) {
			/* A neighbour of an earlier anchor: one bit apart, below bit 8. */
			unsigned bit4 = 8 + rnd(24), bit6 = 16 + rnd(112);

			*a = g->pool4[rnd((unsigned)i)];
			*b = g->pool6[rnd((unsigned)i)];
			a->addr[bit4 / 8] ^= (uint8_t)(0x80 >> (bit4 % 8));
			b->addr[bit6 / 8] ^= (uint8_t)(0x80 >> (bit6 % 8));
		} else {
			addr_random(a->addr, 4);
			addr_random(b->addr, 6);
			if (chance(50)) { /* 2001:db8::/32 */
				b->addr[0] = 0x20;
				b->addr[1] = 0x01;
				b->addr[2] = 0x0d;
				b->addr[3] = 0xb8;
			}
		}
	}
}

static unsigned random_len(int family)
{
	unsigned k = rnd(100);

	if (family == 4)
		return k < 3 ? rnd(8) : k < 28 ? 8 + rnd(16) : k < 70 ? 24 + rnd(8) : 32;
	return k < 3 ? rnd(16) : k < 28 ? 16 + rnd(48) : k < 60 ? 64 + rnd(64) : 128;
}

static void random_prefix(const struct g_policy *g, int family, struct ref_prefix *p)
{
	const struct ref_prefix *pool = family == 4 ? g->pool4 : g->pool6;

	*p = pool[rnd(G_POOL)];
	p->family = (uint8_t)family;
	p->len = (uint8_t)random_len(family);
	prefix_mask(p);
}

static void gset_add(struct g_set *s, const struct ref_prefix *p)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 8;
		struct ref_prefix *v = realloc(s->v, (size_t)cap * sizeof(*v));

		if (!v)
			abort();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *p;
}

static void gset_clear(struct g_set *s)
{
	s->any = 0;
	s->n = 0;
}

/* ---------------------------------------------------- nested, partner-like */

/*
 * A prefix length from lo to the family's longest: hosts, lengths at and
 * next to the end of an address byte (where the compiler's array trie
 * expands a prefix over a node's slots, or leaves it for the next node), or
 * any.
 */
static unsigned nested_len(int family, unsigned lo)
{
	unsigned max = family == 4 ? 32 : 128, k = rnd(100);

	if (lo >= max || k < 30)
		return max;
	if (k < 70) {
		unsigned tries;

		for (tries = 0; tries < 4; tries++) {
			unsigned len = 8 * (1 + rnd(max / 8)) + rnd(3) - 1;

			if (len >= lo && len <= max)
				return len;
		}
	}
	return lo + rnd(max - lo + 1);
}

/* p's bits past the first keep random (p->len stays), then masked to p->len. */
static void fill_below(struct ref_prefix *p, unsigned keep)
{
	uint8_t r[16];
	unsigned i;

	addr_random(r, p->family);
	for (i = 0; i < addr_bytes(p->family); i++) {
		unsigned k = keep >= 8 * (i + 1) ? 8 : keep > 8 * i ? keep - 8 * i : 0;
		uint8_t m = (uint8_t)(0xff00u >> k);

		p->addr[i] = (uint8_t)((p->addr[i] & m) | (r[i] & ~m));
	}
	prefix_mask(p);
}

/*
 * A prefix for a nested policy's set, related to the ones made before it
 * (mostly in other sets): inside one at a longer length, next to one (the
 * same length, one of its last 12 bits flipped: neighbours that share
 * bytes deep down, which the array trie skips to), one that holds it, the
 * same one again; or a host or small block next to a pool anchor (the
 * "near-source hosts" of gen-policy.sh, beside the addresses frames come
 * from); or a new one under one of the bases (IPv4 /16 to /32 in a /8,
 * IPv6 /32 to /128 in a /32, now and then the base itself or wider).
 */
static void nested_prefix(const struct g_policy *g, int family, struct ref_prefix *p)
{
	const struct g_set *made = &g->nest[family == 6];
	const struct ref_prefix *q = made->n ? &made->v[rnd((unsigned)made->n)] : NULL;
	unsigned max = family == 4 ? 32 : 128, k = rnd(100), i, n, bit;

	if (q && k < 36 && q->len < max) {
		*p = *q;
		p->len = (uint8_t)nested_len(family, q->len + 1u);
		fill_below(p, q->len);
	} else if (q && k < 52 && q->len) {
		*p = *q;
		bit = q->len - 1 - rnd(q->len < 12 ? q->len : 12);
		p->addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		prefix_mask(p);
	} else if (q && k < 60 && q->len) {
		*p = *q;
		p->len = (uint8_t)(q->len - 1 - rnd(q->len < 24 ? q->len : 24));
		prefix_mask(p);
	} else if (q && k < 65) {
		*p = *q;
	} else if (k < 73) {
		*p = (family == 4 ? g->pool4 : g->pool6)[rnd(G_POOL)];
		n = 1 + rnd(64);
		for (i = 0; i < n; i++)
			addr_step(p->addr, family, chance(50) ? 1 : -1);
		p->family = (uint8_t)family;
		p->len = (uint8_t)(max - rnd(7));
		prefix_mask(p);
	} else {
		unsigned keep = family == 4 ? 8 : 32;

		*p = (family == 4 ? g->base4 : g->base6)[rnd(2)];
		p->len = (uint8_t)(chance(4) ? keep - rnd(keep / 2 + 1)
					     : nested_len(family, family == 4 ? 16 : 32));
		fill_below(p, keep);
	}
}

/* A prefix for a row's set or inline remote: as the policy's shape makes them. */
static void g_prefix(const struct g_policy *g, int family, struct ref_prefix *p)
{
	if (g->shape == SHAPE_RANDOM)
		random_prefix(g, family, p);
	else
		nested_prefix(g, family, p);
}

static void add_random_prefix(struct g_policy *g, struct g_set *s, int family)
{
	struct ref_prefix p;

	g_prefix(g, family, &p);
	gset_add(s, &p);
	if (g->shape != SHAPE_RANDOM)
		gset_add(&g->nest[family == 6], &p);
}

/* A prefix of the family's any: 0.0.0.0/0 or ::/0. */
static void add_zero(struct g_set *s, int family)
{
	struct ref_prefix p = {.family = (uint8_t)family};

	gset_add(s, &p);
}

/*
 * Thousands of unrelated host prefixes: the compiler's array trie at scale,
 * mostly tails (a host alone below a slot costs a tail, not nodes), so they
 * fit; large_sets() makes the prefixes that do not.
 */
static void big_set(struct g_set *s)
{
	unsigned k = rnd(4), n, i;
	struct ref_prefix p;

	if (k != 1) { /* IPv6 */
		n = 1050 + rnd(200);
		for (i = 0; i < n; i++) {
			p.family = 6;
			addr_random(p.addr, 6);
			p.len = (uint8_t)(chance(90) ? 128 : 100 + rnd(28));
			prefix_mask(&p);
			gset_add(s, &p);
		}
	}
	if (k != 0) { /* IPv4 */
		n = 7800 + rnd(1200);
		for (i = 0; i < n; i++) {
			p.family = 4;
			addr_random(p.addr, 4);
			p.len = (uint8_t)(chance(90) ? 32 : 25 + rnd(7));
			prefix_mask(&p);
			gset_add(s, &p);
		}
	}
}

/*
 * The large policy's prefixes of family, over sets[1..3], shaped so that
 * the array trie needs more than PICFW_TRIE_NODES nodes (compile.c
 * trie_fill(): a node for each slot with two or more prefixes below it
 * that do not all share their next bytes; one prefix alone is a tail,
 * bytes all share a skip):
 *
 * IPv6: chains of prefixes in 2000::/3, one ending in each address byte
 * from the 4th to 6th down to the last (a /128 host, mostly): every member
 * but the last ends in a node of its own, which holds the rest below it.
 * A chain's top is in sets[1], its middle in sets[2], its deep end in
 * sets[3], cut at random depths (often the last member alone in sets[3]).
 *
 * IPv4: in distinct /16s, a /24 (sets[1], or [2]) and two hosts in it
 * (sets[3], or [2]): a node for the /16's slot, where the /24 ends, and one
 * for the /24's, where the hosts end.
 *
 * Made until the nodes past the shared top levels are 5% over the budget.
 * The rows that name sets[1..3] (large_rows()) tell the sets apart.
 */
static void large_sets(struct g_policy *g, int family)
{
	unsigned nodes = 0, want = PICFW_TRIE_NODES + PICFW_TRIE_NODES / 20, i;
	struct ref_prefix p = {0};

	if (family == 6) {
		while (nodes < want) {
			unsigned first = 3 + rnd(3), cut1 = first + rnd(16 - first),
				 cut2 = chance(35) ? 15 : cut1 + rnd(17 - cut1), b;

			p.family = 6;
			for (i = 0; i < 16; i++)
				p.addr[i] = (uint8_t)rnd64();
			p.addr[0] = (uint8_t)(0x20 | (p.addr[0] & 0x1f));
			for (b = first; b < 16; b++) {
				struct ref_prefix m = p;

				m.len = (uint8_t)(b == 15 && chance(70) ? 128 : 8 * b + 1 + rnd(8));
				prefix_mask(&m);
				gset_add(&g->sets[b < cut1 ? 1 : b < cut2 ? 2 : 3], &m);
				gset_add(&g->nest[1], &m);
			}
			nodes += 15 - first;
		}
		return;
	}
	{
		unsigned start = rnd(65536), stride = (unsigned)rnd64() | 1;

		for (i = 0; nodes < want && i < 65536; i++) {
			unsigned id = (start + i * stride) & 0xffff, h1, h2;

			/* Not 0/8, 127/8, nor multicast and above: ordinary sources. */
			if (!(id >> 8) || id >> 8 == 127 || id >> 8 >= 224)
				continue;
			memset(&p, 0, sizeof(p));
			p.family = 4;
			p.addr[0] = (uint8_t)(id >> 8);
			p.addr[1] = (uint8_t)id;
			p.addr[2] = (uint8_t)rnd(256);
			p.len = 24;
			gset_add(&g->sets[chance(70) ? 1 : 2], &p);
			gset_add(&g->nest[0], &p);
			h1 = rnd(256);
			h2 = (h1 + 1 + rnd(255)) & 0xff;
			p.len = 32;
			p.addr[3] = (uint8_t)h1;
			gset_add(&g->sets[chance(70) ? 3 : 2], &p);
			gset_add(&g->nest[0], &p);
			p.addr[3] = (uint8_t)h2;
			gset_add(&g->sets[chance(70) ? 3 : 2], &p);
			gset_add(&g->nest[0], &p);
			nodes += 2;
		}
	}
}

static void random_set(struct g_policy *g, struct g_set *s)
{
	unsigned k = rnd(100);
	int i, n;

	gset_clear(s);
	if (k < 8) {
		s->any = 1;
		return;
	}
	if (k < 12) { /* any and more */
		s->any = 1;
		n = 1 + (int)rnd(3);
	} else if (k < 16) { /* every address of one family */
		add_zero(s, chance(50) ? 4 : 6);
		n = (int)rnd(3);
	} else {
		n = 1 + (int)rnd(G_MAX_PREFIXES);
	}
	for (i = 0; i < n; i++)
		add_random_prefix(g, s, chance(50) ? 4 : 6);
}

/* A protected host or a small block of family near the pool's anchors. */
static void add_protected(struct g_policy *g, struct g_set *s, int family, int host)
{
	struct ref_prefix p;

	random_prefix(g, family, &p);
	if (host)
		p.len = family == 4 ? 32 : 128;
	else
		p.len = (uint8_t)((family == 4 ? 32 : 128) - 1 - rnd(6));
	prefix_mask(&p);
	gset_add(s, &p);
}

/*
 * The protected set: usually an Edge's few host addresses (picfw compares
 * up to PICFW_PROT_INLINE per family inline), sometimes more hosts than
 * that, a block, a duplicate, one family only, or blocks as wide as a
 * protected set may be (the parser refuses wider ones, and `any`).
 */
static void random_protected(struct g_policy *g)
{
	struct g_set *s = &g->sets[0];
	unsigned k = rnd(100);
	int i, n4, n6;

	strcpy(s->name, "guarded");
	gset_clear(s);
	if (k < 3) {
		struct ref_prefix p;

		random_prefix(g, 4, &p);
		p.len = POLICY_PROTECT_MIN_LEN4;
		prefix_mask(&p);
		gset_add(s, &p);
		random_prefix(g, 6, &p);
		p.len = POLICY_PROTECT_MIN_LEN6;
		prefix_mask(&p);
		gset_add(s, &p);
	} else if (k < 55) {
		n4 = 1 + (int)rnd(2);
		n6 = (int)rnd(3);
		if (chance(10) && n6)
			n4 = 0;
		for (i = 0; i < n4; i++)
			add_protected(g, s, 4, 1);
		for (i = 0; i < n6; i++)
			add_protected(g, s, 6, 1);
	} else if (k < 85) { /* around the inline limit, in both families */
		n4 = (int)rnd(PICFW_PROT_INLINE + 3);
		n6 = (int)rnd(PICFW_PROT_INLINE + 3);
		if (!n4 && !n6)
			n6 = 1;
		for (i = 0; i < n4; i++)
			add_protected(g, s, 4, 1);
		for (i = 0; i < n6; i++)
			add_protected(g, s, 6, 1);
		if (chance(20) && s->n) { /* the same host twice */
			/* A copy: gset_add() may move s->v before it reads the prefix. */
			struct ref_prefix dup = s->v[rnd((unsigned)s->n)];

			gset_add(s, &dup);
		}
	} else { /* hosts and blocks */
		n4 = 1 + (int)rnd(3);
		for (i = 0; i < n4; i++)
			add_protected(g, s, chance(50) ? 4 : 6, chance(40));
	}
}

/* Does a prefix of s hold all of p? */
static int gset_covers(const struct g_set *s, const struct ref_prefix *p)
{
	int i;
	unsigned b;

	for (i = 0; i < s->n; i++) {
		const struct ref_prefix *q = &s->v[i];

		if (q->family != p->family || q->len > p->len)
			continue;
		for (b = 0; b < q->len; b++)
			if ((q->addr[b / 8] ^ p->addr[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == q->len)
			return 1;
	}
	return 0;
}

/*
 * The services' sets: each a part of the protected set (some of its
 * prefixes, or a longer prefix inside one of its blocks), so that rows
 * open on one service's addresses; none in about two policies of three.
 */
static void random_locals(struct g_policy *g)
{
	const struct g_set *prot = &g->sets[0];
	int k, i;

	g->nlocals = prot->n && chance(35) ? 1 + (int)rnd(G_LOCALS) : 0;
	for (k = 0; k < G_LOCALS; k++) {
		struct g_set *l = &g->locals[k];

		snprintf(l->name, sizeof(l->name), "svc%d", k + 1);
		gset_clear(l);
		if (k >= g->nlocals)
			continue;
		for (i = 0; i < prot->n; i++) {
			struct ref_prefix p = prot->v[i];
			unsigned max = p.family == 4 ? 32 : 128, b;

			if (!chance(45))
				continue;
			if (p.len < max && chance(50)) {
				/* A longer prefix inside the block: random bits below its length. */
				for (b = p.len; b < max; b++)
					if (chance(50))
						p.addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
				p.len = (uint8_t)(p.len + 1 + rnd(max - p.len));
				prefix_mask(&p);
			}
			gset_add(l, &p);
		}
		if (!l->n) {
			struct ref_prefix p = prot->v[rnd((unsigned)prot->n)];

			gset_add(l, &p);
		}
	}
}

/* Row r's Edge side: the whole protected set, or (when there are some) a service's set. */
static void row_local(const struct g_policy *g, struct g_row *r)
{
	r->local = g->nlocals && chance(45) ? 1 + (int)rnd((unsigned)g->nlocals) : 0;
	r->local_inline = chance(30);
}

/* Is every address of row r's remote side protected (then it cannot name a service's set)? */
static int remote_inside(const struct g_policy *g, const struct g_row *r)
{
	const struct g_set *s;
	int i;

	if (r->remote == REMOTE_ANY)
		return 0;
	if (r->remote == REMOTE_INLINE)
		return gset_covers(&g->sets[0], &r->inl);
	s = &g->sets[r->set];
	if (s->any || !s->n)
		return 0;
	for (i = 0; i < s->n; i++)
		if (!gset_covers(&g->sets[0], &s->v[i]))
			return 0;
	return 1;
}

/*
 * After the edits: a row names a service's set only when that set exists and
 * its remote side is not all protected too (the parser refuses a row with
 * both sides inside the protected set unless one side names it).
 */
static void locals_settle(struct g_policy *g)
{
	int i;

	for (i = 0; i < g->nrows; i++) {
		struct g_row *r = &g->rows[i];

		if (r->local > g->nlocals || (r->local && remote_inside(g, r)))
			r->local = 0;
	}
}

static uint16_t random_port(const struct g_policy *g)
{
	unsigned k = rnd(100);

	if (k < 25 && g->nrows) {
		const struct g_row *r = &g->rows[rnd((unsigned)g->nrows)];
		unsigned v = chance(50) ? r->lo : r->hi;

		v = v + rnd(3) - 1; /* one below, the same, one above */
		return (uint16_t)(v < 1 ? 1 : v > 65535 ? 65535 : v);
	}
	if (k < 35)
		return chance(50) ? 1 : 65535;
	return (uint16_t)(1 + rnd(65535));
}

/*
 * A nested policy's row's ports: well known (22, 1-1024, 5000-5100, 5061,
 * 3478, as gen-policy.sh writes them), overlapping another row's range
 * (inside it, or across one of its ends), a short range, a single port, or
 * all of them.
 */
static void nested_ports(const struct g_policy *g, struct g_row *r)
{
	static const uint16_t known[][2] = {
	    {22, 22}, {1, 1024}, {5000, 5100}, {5061, 5061}, {3478, 3478}};
	unsigned k = rnd(100), lo, hi;

	if (k < 40) {
		k = rnd(sizeof(known) / sizeof(known[0]));
		lo = known[k][0];
		hi = known[k][1];
	} else if (k < 58 && g->nrows) {
		const struct g_row *o = &g->rows[rnd((unsigned)g->nrows)];

		lo = o->lo + rnd((unsigned)(o->hi - o->lo) + 1);
		if (chance(30)) /* from below its start */
			lo = o->lo > 50 ? o->lo - rnd(50) : 1;
		hi = lo + (chance(30) ? 0 : rnd(chance(50) ? 20 : 3000));
	} else if (k < 75) {
		lo = 1024 + rnd(60000);
		hi = lo + 1 + rnd(200);
	} else if (k < 97) {
		lo = hi = 1024 + rnd(64000);
	} else {
		lo = 1;
		hi = 65535;
	}
	r->lo = (uint16_t)(lo < 1 ? 1 : lo > 65535 ? 65535 : lo);
	r->hi = (uint16_t)(hi < r->lo ? r->lo : hi > 65535 ? 65535 : hi);
}

static void nested_row(struct g_policy *g, struct g_row *r)
{
	r->explicit_name = chance(70);
	r->transport = chance(33) ? PICFW_UDP : PICFW_TCP;
	r->direction = chance(75) ? PICFW_DIR_IN : PICFW_DIR_OUT;
	nested_ports(g, r);
	r->remote = chance(4)			  ? REMOTE_ANY
		    : (chance(6) || g->nsets < 2) ? REMOTE_INLINE
						  : REMOTE_SET;
	if (r->remote == REMOTE_SET)
		r->set = 1 + (int)rnd((unsigned)g->nsets - 1);
	nested_prefix(g, chance(50) ? 4 : 6, &r->inl);
	r->thousands = chance(20);
	r->tcase = (int)rnd(3);
	row_local(g, r);
}

static void random_row(struct g_policy *g, struct g_row *r)
{
	unsigned span;

	memset(r, 0, sizeof(*r));
	r->id = g->next_id++;
	if (g->shape != SHAPE_RANDOM) {
		nested_row(g, r);
		return;
	}
	r->explicit_name = chance(70);
	r->transport = chance(50) ? PICFW_TCP : PICFW_UDP;
	r->direction = chance(65) ? PICFW_DIR_IN : PICFW_DIR_OUT;
	r->lo = random_port(g);
	if (chance(40)) {
		r->hi = r->lo;
	} else {
		span = chance(30) ? 1 : chance(50) ? rnd(20) : chance(80) ? rnd(5000) : 65535;
		r->hi = (uint16_t)(r->lo + span > 65535 ? 65535 : r->lo + span);
	}
	if (r->lo > r->hi) {
		uint16_t t = r->lo;

		r->lo = r->hi;
		r->hi = t;
	}
	r->remote = chance(15)			   ? REMOTE_ANY
		    : (chance(30) || g->nsets < 2) ? REMOTE_INLINE
						   : REMOTE_SET;
	if (r->remote == REMOTE_SET)
		r->set = 1 + (int)rnd((unsigned)g->nsets - 1);
	random_prefix(g, chance(50) ? 4 : 6, &r->inl);
	r->thousands = chance(20);
	r->tcase = (int)rnd(3);
	row_local(g, r);
}

static unsigned random_nrows(void)
{
	unsigned k = rnd(100);

	if (k < 70)
		return 1 + rnd(16);
	if (k < 90)
		return 17 + rnd(60);
	if (k < 98)
		return 60 + rnd(200);
	return PICFW_MAX_ROWS - rnd(3);
}

/*
 * Three of the large policy's rows name sets[3], [2] and [1], in that
 * order, all inbound, one transport, the same ports: an address deep in a
 * chain (in all three) takes the first, one just outside its deep end the
 * second, and so on, so that the class at every boundary decides a row
 * (the compiler leaves out sets no row names, too).
 */
static void large_rows(struct g_policy *g)
{
	unsigned pos[3], i;

	pos[0] = rnd((unsigned)g->nrows - 2);
	pos[1] = pos[0] + 1 + rnd((unsigned)g->nrows - 2 - pos[0]);
	pos[2] = pos[1] + 1 + rnd((unsigned)g->nrows - 1 - pos[1]);
	for (i = 0; i < 3; i++) {
		struct g_row *r = &g->rows[pos[i]];

		r->remote = REMOTE_SET;
		r->set = 3 - (int)i;
		r->direction = PICFW_DIR_IN;
		if (i) {
			r->transport = g->rows[pos[0]].transport;
			r->lo = g->rows[pos[0]].lo;
			r->hi = g->rows[pos[0]].hi;
		}
	}
}

/* Where a nested policy's new prefixes start: two /8s and two /32s near the pool's anchors. */
static void nested_bases(struct g_policy *g)
{
	int i;

	for (i = 0; i < 2; i++) {
		g->base4[i] = g->pool4[rnd(G_POOL)];
		g->base4[i].len = 8;
		prefix_mask(&g->base4[i]);
		g->base6[i] = g->pool6[rnd(G_POOL)];
		g->base6[i].len = 32;
		prefix_mask(&g->base6[i]);
	}
}

/*
 * The sets of a nested policy: up to max_sets of them (64 for the heavy
 * ones, as in gen-policy.sh --mix partner), about total prefixes between
 * them, both families, filled one after another so that later sets nest in
 * and around the earlier ones; now and then `any` or a family's /0 too.
 */
static void nested_sets(struct g_policy *g, unsigned max_sets, unsigned total)
{
	unsigned per;
	int i, j;

	g->nsets = 1 + 2 + (int)rnd(max_sets - 1);
	per = total / (unsigned)(g->nsets - 1);
	for (i = 1; i < g->nsets; i++) {
		struct g_set *s = &g->sets[i];
		int n;

		snprintf(s->name, sizeof(s->name), "s%d", i);
		gset_clear(s);
		s->any = chance(2);
		if (chance(2))
			add_zero(s, chance(50) ? 4 : 6);
		n = 1 + (int)rnd(2 * per);
		for (j = 0; j < n; j++)
			add_random_prefix(g, s, chance(50) ? 4 : 6);
	}
}

/*
 * A new policy of a shape. heavy: a nested one at gen-policy.sh's scale
 * (up to 64 sets, ~600-1,600 prefixes, up to 300 rows); else a smaller
 * one, as the random run mixes them in.
 */
static void random_policy(struct g_policy *g, enum g_shape shape, int heavy)
{
	struct g_set sets[G_MAX_SETS], nest[2], locals[G_LOCALS];
	int i, n;

	/* Everything afresh but the sets' buffers. */
	memcpy(sets, g->sets, sizeof(sets));
	memcpy(nest, g->nest, sizeof(nest));
	memcpy(locals, g->locals, sizeof(locals));
	memset(g, 0, sizeof(*g));
	memcpy(g->sets, sets, sizeof(sets));
	memcpy(g->nest, nest, sizeof(nest));
	memcpy(g->locals, locals, sizeof(locals));
	gset_clear(&g->nest[0]);
	gset_clear(&g->nest[1]);
	g->shape = shape;
	pool_init(g);
	random_protected(g);
	random_locals(g);
	if (shape == SHAPE_RANDOM) {
		g->nsets = 1 + 1 + (int)rnd(G_ORD_SETS - 1);
		for (i = 1; i < g->nsets; i++) {
			snprintf(g->sets[i].name, sizeof(g->sets[i].name), "s%d", i);
			random_set(g, &g->sets[i]);
		}
		g->big = chance(3);
		if (g->big)
			big_set(&g->sets[1]);
		n = (int)random_nrows();
		if (g->big && n > 24) /* every row copies its set for the oracle */
			n = 24;
	} else if (shape == SHAPE_NESTED) {
		nested_bases(g);
		nested_sets(g, heavy ? G_MAX_SETS - 1 : 16,
			    heavy ? 600 + rnd(1000) : 60 + rnd(300));
		n = heavy ? 40 + (int)rnd(261) : 4 + (int)rnd(60);
	} else {
		/* A few small nested sets first, then the large prefixes over sets[1..3]. */
		nested_bases(g);
		do {
			gset_clear(&g->nest[0]);
			gset_clear(&g->nest[1]);
			nested_sets(g, G_ORD_SETS - 1, 100 + rnd(200));
		} while (g->nsets < 4);
		g->large_family = chance(50) ? 4 : 6;
		large_sets(g, g->large_family);
		n = 4 + (int)rnd(13); /* every row copies its set for the oracle */
	}
	for (i = 0; i < n; i++) {
		random_row(g, &g->rows[i]);
		g->nrows = i + 1;
	}
	if (shape == SHAPE_LARGE)
		large_rows(g);
	locals_settle(g);
	g->mode = chance(15) ? PICFW_MODE_AUDIT : PICFW_MODE_ENFORCE;
	g->replies = chance(50) ? PICFW_REPLIES_STATELESS : PICFW_REPLIES_TRACKED;
	g->icmp_strict = chance(30);
	g->say_replies = chance(50);
	g->say_icmp = chance(50);
	g->unprotected = chance(35) ? PICFW_UNPROTECTED_DROP : PICFW_UNPROTECTED_PASS;
	g->say_unprotected = chance(50);
}

/* A policy update: a few edits, so that most rows keep their names. */
static void mutate_policy(struct g_policy *g)
{
	int edits = 1 + (int)rnd(3), e, i;

	for (e = 0; e < edits; e++) {
		struct g_set *s;
		struct g_row t;

		switch (rnd(12)) {
		case 0: /* add a row somewhere */
			if (g->nrows >= PICFW_MAX_ROWS)
				break;
			i = (int)rnd((unsigned)g->nrows + 1);
			random_row(g, &t);
			memmove(&g->rows[i + 1], &g->rows[i], (size_t)(g->nrows - i) * sizeof(t));
			g->rows[i] = t;
			g->nrows++;
			break;
		case 1: /* remove a row */
			if (g->nrows <= 1)
				break;
			i = (int)rnd((unsigned)g->nrows);
			memmove(&g->rows[i], &g->rows[i + 1],
				(size_t)(g->nrows - i - 1) * sizeof(t));
			g->nrows--;
			break;
		case 2: /* swap two rows: first match changes */
			i = (int)rnd((unsigned)g->nrows);
			{
				int j = (int)rnd((unsigned)g->nrows);

				t = g->rows[i];
				g->rows[i] = g->rows[j];
				g->rows[j] = t;
			}
			break;
		case 3: /* new ports, same name */
			i = (int)rnd((unsigned)g->nrows);
			t = g->rows[i];
			random_row(g, &g->rows[i]);
			g->next_id--;
			g->rows[i].id = t.id;
			g->rows[i].explicit_name = t.explicit_name;
			g->rows[i].remote = t.remote;
			g->rows[i].set = t.set;
			g->rows[i].inl = t.inl;
			break;
		case 4: /* a set gains or loses a prefix */
			if (g->nsets < 2)
				break;
			s = &g->sets[1 + rnd((unsigned)g->nsets - 1)];
			if (s->n > 1 && chance(50)) {
				s->n--;
				s->v[rnd((unsigned)s->n + 1)] = s->v[s->n];
			} else {
				add_random_prefix(g, s, chance(50) ? 4 : 6);
			}
			break;
		case 5: /* the protected set changes, and the services' sets in it */
			random_protected(g);
			random_locals(g);
			break;
		case 6:
			g->mode ^= 1;
			break;
		case 7:
			g->replies ^= 1;
			break;
		case 8:
			g->unprotected ^= 1;
			break;
		case 9:
		case 10: /* a row's remote side changes, name and ports kept: its flows re-match */
			i = (int)rnd((unsigned)g->nrows);
			{
				struct g_row *r = &g->rows[i];

				r->remote = chance(15)			   ? REMOTE_ANY
					    : (chance(40) || g->nsets < 2) ? REMOTE_INLINE
									   : REMOTE_SET;
				if (r->remote == REMOTE_SET)
					r->set = 1 + (int)rnd((unsigned)g->nsets - 1);
				g_prefix(g, chance(50) ? 4 : 6, &r->inl);
			}
			break;
		default:
			g->icmp_strict ^= 1;
			/* and a row moves to another service's addresses (or all of them) */
			if (g->nrows && chance(50))
				row_local(g, &g->rows[rnd((unsigned)g->nrows)]);
			break;
		}
	}
	locals_settle(g);
}

static void write_prefix(struct text *t, const struct ref_prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	addr_text(p->family, p->addr, a, sizeof(a));
	if (p->len == (p->family == 4 ? 32 : 128) && chance(70))
		tprintf(t, "%s", a);
	else
		tprintf(t, "%s/%u", a, p->len);
}

static void write_port(struct text *t, unsigned port, int thousands)
{
	if (thousands && port >= 1000)
		tprintf(t, "%u,%03u", port / 1000, port % 1000);
	else
		tprintf(t, "%u", port);
}

static void write_remote(struct text *t, const struct g_policy *g, const struct g_row *r)
{
	switch (r->remote) {
	case REMOTE_SET:
		tprintf(t, "%s", g->sets[r->set].name);
		break;
	case REMOTE_ANY:
		tprintf(t, "any");
		break;
	case REMOTE_INLINE:
		write_prefix(t, &r->inl);
		break;
	}
}

/* The Edge's side of a row: guarded, a service's set, or its one prefix inline. */
static void write_local(struct text *t, const struct g_policy *g, const struct g_row *r)
{
	const struct g_set *l = r->local ? &g->locals[r->local - 1] : NULL;

	if (!l)
		tprintf(t, "guarded");
	else if (l->n == 1 && r->local_inline)
		write_prefix(t, &l->v[0]);
	else
		tprintf(t, "%s", l->name);
}

static void policy_text(const struct g_policy *g, struct text *t)
{
	static const char *const tcp[] = {"TCP", "tcp", "Tcp"}, *const udp[] = {"UDP", "udp",
										"uDp"};
	int i, j;

	tprintf(t, "# random policy\n");
	for (i = 0; i < g->nsets; i++) {
		const struct g_set *s = &g->sets[i];

		tprintf(t, "set %s = ", s->name);
		if (s->any)
			tprintf(t, "any%s", s->n ? ", " : "");
		for (j = 0; j < s->n; j++) {
			if (j)
				tprintf(t, j % 3 == 0 ? ",\n    " : ", ");
			write_prefix(t, &s->v[j]);
		}
		tprintf(t, "\n");
	}
	for (i = 0; i < g->nlocals; i++) {
		const struct g_set *s = &g->locals[i];

		tprintf(t, "set %s = ", s->name);
		for (j = 0; j < s->n; j++) {
			if (j)
				tprintf(t, ", ");
			write_prefix(t, &s->v[j]);
		}
		tprintf(t, "\n");
	}
	tprintf(t, "protect guarded\n");
	if (g->mode == PICFW_MODE_AUDIT)
		tprintf(t, "mode audit\n");
	if (g->replies == PICFW_REPLIES_STATELESS || g->say_replies)
		tprintf(t, "replies %s\n",
			g->replies == PICFW_REPLIES_STATELESS ? "stateless" : "tracked");
	if (g->icmp_strict || g->say_icmp)
		tprintf(t, "icmp %s\n", g->icmp_strict ? "strict" : "permissive");
	if (g->unprotected == PICFW_UNPROTECTED_DROP || g->say_unprotected)
		tprintf(t, "unprotected %s\n",
			g->unprotected == PICFW_UNPROTECTED_DROP ? "drop" : "pass");
	tprintf(t, "\n");
	for (i = 0; i < g->nrows; i++) {
		const struct g_row *r = &g->rows[i];

		if (r->explicit_name)
			tprintf(t, "r%u: ", r->id);
		tprintf(t, "G/p%u/%s/", r->id, (r->transport == PICFW_TCP ? tcp : udp)[r->tcase]);
		write_port(t, r->lo, r->thousands);
		if (r->hi != r->lo) {
			tprintf(t, "-");
			write_port(t, r->hi, r->thousands);
		}
		tprintf(t, " ");
		if (r->direction == PICFW_DIR_IN) {
			write_remote(t, g, r);
			tprintf(t, " ");
			write_local(t, g, r);
		} else {
			write_local(t, g, r);
			tprintf(t, " ");
			write_remote(t, g, r);
		}
		if (chance(30))
			tprintf(t, " \"note %u\"", r->id);
		tprintf(t, "\n");
	}
}

/*
 * The prefixes of a row's remote side, or with r NULL of the protected set,
 * as the parser makes them (`any` is 0.0.0.0/0 and ::/0): a new array.
 */
static struct ref_set remote_set(const struct g_policy *g, const struct g_row *r)
{
	const struct g_set *gs =
	    r ? (r->remote == REMOTE_SET ? &g->sets[r->set] : NULL) : &g->sets[0];
	int any = gs ? gs->any : r->remote == REMOTE_ANY;
	size_t n = gs ? (size_t)gs->n : 1;
	struct ref_set s = {calloc(n + 2, sizeof(struct ref_prefix)), 0};

	if (!s.v)
		abort();
	if (any) {
		s.v[0].family = 4;
		s.v[1].family = 6;
		s.n = 2;
	}
	if (gs) {
		if (n) /* an empty set may have no array at all: no memcpy from NULL */
			memcpy(s.v + s.n, gs->v, n * sizeof(*s.v));
		s.n += n;
	} else if (r->remote == REMOTE_INLINE) {
		s.v[s.n++] = r->inl;
	}
	return s;
}

/* The prefixes of a row's Edge side: the protected set's, or its service's set's. */
static struct ref_set local_set(const struct g_policy *g, const struct g_row *r)
{
	const struct g_set *l;
	struct ref_set s;

	if (!r->local)
		return remote_set(g, NULL);
	l = &g->locals[r->local - 1];
	s.v = calloc((size_t)l->n + 1, sizeof(struct ref_prefix));
	if (!s.v)
		abort();
	memcpy(s.v, l->v, (size_t)l->n * sizeof(*s.v));
	s.n = (size_t)l->n;
	return s;
}

/* The oracle's policy, from the generator's model (not from the parser). */
static void model_to_ref(const struct g_policy *g, struct ref_policy *rp)
{
	int i;

	memset(rp, 0, sizeof(*rp));
	rp->mode = g->mode;
	rp->replies = g->replies;
	rp->icmp_strict = g->icmp_strict;
	rp->unprotected = g->unprotected;
	rp->protect = remote_set(g, NULL);
	rp->rows = calloc((size_t)g->nrows, sizeof(*rp->rows));
	if (!rp->rows)
		abort();
	rp->nrows = (size_t)g->nrows;
	for (i = 0; i < g->nrows; i++) {
		const struct g_row *r = &g->rows[i];
		struct ref_row *x = &rp->rows[i];

		x->transport = r->transport;
		x->direction = r->direction;
		x->port_lo = r->lo;
		x->port_hi = r->hi;
		if (r->direction == PICFW_DIR_IN) {
			x->src = remote_set(g, r);
			x->dst = local_set(g, r);
		} else {
			x->src = local_set(g, r);
			x->dst = remote_set(g, r);
		}
	}
}

/* ---------------------------------------------------------------- frames */

static uint16_t port_near(const struct ref_row *r)
{
	unsigned k = rnd(100);

	if (!r)
		return (uint16_t)rnd(65536);
	if (k < 25)
		return r->port_lo;
	if (k < 50)
		return r->port_hi;
	if (k < 60)
		return (uint16_t)(r->port_lo - 1);
	if (k < 70)
		return (uint16_t)(r->port_hi + 1);
	if (k < 90)
		return (uint16_t)(r->port_lo + rnd((unsigned)(r->port_hi - r->port_lo) + 1));
	return (uint16_t)rnd(65536);
}

static const struct ref_row *random_ref_row(const struct ref_policy *rp, int direction)
{
	unsigned tries;

	for (tries = 0; rp->nrows && tries < 8; tries++) {
		const struct ref_row *r = &rp->rows[rnd((unsigned)rp->nrows)];

		if (direction < 0 || r->direction == direction)
			return r;
	}
	return NULL;
}

static const struct ref_set *remote_of(const struct ref_row *r)
{
	if (!r)
		return NULL;
	return r->direction == PICFW_DIR_IN ? &r->src : &r->dst;
}

/* A row's Edge side (the protected set, or a service's part of it). */
static const struct ref_set *local_of(const struct ref_row *r)
{
	if (!r)
		return NULL;
	return r->direction == PICFW_DIR_IN ? &r->dst : &r->src;
}

static uint8_t random_tcp_flags(void)
{
	static const uint8_t common[] = {
	    TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_ACK | TH_PSH, TH_FIN | TH_ACK,
	    TH_RST, TH_RST | TH_ACK, 0,	     TH_FIN,
	};

	return chance(85) ? common[rnd(sizeof(common))] : (uint8_t)rnd(256);
}

/* ICMP types and codes worth trying, per family. */
static void random_icmp(struct pkt_spec *s)
{
	static const uint8_t v4[] = {0, 3, 3, 4, 5, 8, 11, 11, 12, 13};
	static const uint8_t v6[] = {1, 1, 2, 3, 4, 4, 128, 129, 133, 134, 135, 136, 137, 138, 143};

	if (s->family == 4)
		s->icmp_type = chance(90) ? v4[rnd(sizeof(v4))] : (uint8_t)rnd(256);
	else
		s->icmp_type = chance(90) ? v6[rnd(sizeof(v6))] : (uint8_t)rnd(256);
	s->icmp_code = chance(70) ? (uint8_t)rnd(4) : (uint8_t)rnd(256);
	if (s->family == 6 && chance(60))
		s->ttl = 255;
	else if (chance(20))
		s->ttl = (uint8_t)(chance(50) ? 254 : rnd(256));
}

/* ------------------------------------------------ what earlier frames sent */

/*
 * Recent frames that later frames answer: the Edge's packets on egress
 * (their replies come in, ICMP errors quote them) and first fragments with
 * more to come (their later fragments follow, and orphans with other ids).
 * Forgotten with the program's state (state_clear).
 */
#define G_MEMORY 16

struct g_tuple {
	uint8_t family, proto;
	uint8_t frag_next; /* a first IPv6 fragment: its fragment header's next header */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t frag_id;
};

static struct {
	struct g_tuple sent[G_MEMORY], firsts[G_MEMORY];
	struct g_tuple flows[G_MEMORY];	 /* sent packets that opened a flow (the oracle says) */
	unsigned nsent, nfirsts, nflows; /* how many were remembered; the rings keep the last */
} mem;

static void remember(struct g_tuple *ring, unsigned *n, const struct g_tuple *t)
{
	ring[*n % G_MEMORY] = *t;
	(*n)++;
}

static const struct g_tuple *recall(const struct g_tuple *ring, unsigned n)
{
	if (!n)
		return NULL;
	return &ring[rnd(n < G_MEMORY ? n : G_MEMORY)];
}

/* A fragment id: a few small ones (so that orphans collide), or any. */
static uint32_t random_frag_id(int family)
{
	if (chance(50))
		return 1 + rnd(4);
	return family == 4 ? 1 + rnd(0xffff) : (uint32_t)rnd64() | 1;
}

/*
 * A destination that `unprotected drop` lets by, or one just outside:
 * multicast, IPv4 limited broadcast, link-local, and their neighbours.
 */
static void addr_local_scope(uint8_t *a, int family)
{
	static const uint8_t first4[] = {224, 239, 223, 240, 169, 255};
	static const uint8_t v6[][2] = {{0xff, 0x02}, {0xff, 0x05}, {0xff, 0x0e}, {0xfe, 0x80},
					{0xfe, 0xbf}, {0xfe, 0xc0}, {0xfe, 0x7f}, {0xfd, 0x00}};
	unsigned k;

	addr_random(a, family);
	if (family == 4) {
		k = rnd(sizeof(first4));
		a[0] = first4[k];
		if (a[0] == 169)
			a[1] = (uint8_t)(chance(70) ? 254 : chance(50) ? 253 : 255);
		if (a[0] == 255 && chance(70))
			memset(a, 0xff, 4);
		return;
	}
	k = rnd(sizeof(v6) / sizeof(v6[0]));
	a[0] = v6[k][0];
	a[1] = v6[k][1];
	if (a[0] == 0xff && chance(50)) { /* all nodes, or a solicited-node group */
		memset(a + 2, 0, 14);
		a[15] = 1;
		if (chance(50)) {
			a[11] = 1;
			a[12] = 0xff;
			a[15] = (uint8_t)rnd64();
		}
	}
}

/*
 * The packet an ICMP error quotes: from the Edge (a protected address,
 * usually) to a remote of some row, with that row's ports at their edges,
 * or a packet the Edge sent. Returns its length in q.
 */
static size_t build_quote(const struct ref_policy *rp, int family, uint8_t *q)
{
	const struct ref_row *r = random_ref_row(rp, -1);
	const struct g_tuple *sent = !chance(40)		? NULL
				     : mem.nflows && chance(50) ? recall(mem.flows, mem.nflows)
								: recall(mem.sent, mem.nsent);
	uint8_t edge[16], remote[16];
	size_t ip_len = family == 4 ? 20 : 40, n;
	uint16_t eport = (uint16_t)rnd(65536), rport = (uint16_t)rnd(65536);
	unsigned qfam = chance(95) ? (unsigned)family : (unsigned)(10 - family);

	if (chance(85))
		addr_from_set(&rp->protect, family, edge);
	else
		addr_random(edge, family);
	addr_from_set(remote_of(r), family, remote);
	if (r && r->direction == PICFW_DIR_IN)
		eport = port_near(r);
	else if (r)
		rport = port_near(r);
	if (sent && sent->family == family) {
		memcpy(edge, sent->src, 16);
		memcpy(remote, sent->dst, 16);
		eport = sent->sport;
		rport = sent->dport;
	}

	memset(q, 0, 64);
	if (family == 4) {
		unsigned ihl = chance(90) ? 5 : chance(70) ? 6 : rnd(16);

		if (ihl == 6)
			ip_len = 24;
		q[0] = (uint8_t)(qfam << 4 | ihl);
		q[2] = 0;
		q[3] = 60;
		if (chance(5))
			q[7] = (uint8_t)(1 + rnd(255)); /* fragment offset */
		q[8] = 64;
		q[9] = chance(90) ? (uint8_t)(r && r->transport == PICFW_UDP ? 17 : 6)
				  : (uint8_t)(chance(50) ? 17 : 1);
		if (sent && sent->family == family && chance(90))
			q[9] = sent->proto;
		memcpy(q + 12, edge, 4);
		memcpy(q + 16, remote, 4);
	} else {
		q[0] = (uint8_t)(qfam << 4);
		q[5] = 40;
		q[6] = chance(90) ? (uint8_t)(r && r->transport == PICFW_UDP ? 17 : 6)
				  : (uint8_t)(chance(50) ? 17 : 58);
		if (sent && sent->family == family && chance(90))
			q[6] = sent->proto;
		q[7] = 64;
		memcpy(q + 8, edge, 16);
		memcpy(q + 24, remote, 16);
	}
	q[ip_len] = (uint8_t)(eport >> 8);
	q[ip_len + 1] = (uint8_t)eport;
	q[ip_len + 2] = (uint8_t)(rport >> 8);
	q[ip_len + 3] = (uint8_t)rport;
	n = ip_len + 8;
	if (chance(15))
		n = rnd((unsigned)n); /* cut short */
	return n;
}

static void random_bytes_frame(uint8_t *buf, size_t *len)
{
	size_t i, n = 14 + rnd(120);

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)rnd64();
	if (chance(70)) {
		static const uint16_t types[] = {0x0800, 0x86dd, 0x8100, 0x88a8};
		uint16_t t = types[rnd(4)];

		buf[12] = (uint8_t)(t >> 8);
		buf[13] = (uint8_t)t;
		if (chance(50) && n > 14) /* a plausible version nibble */
			buf[14] = t == 0x86dd ? 0x60 : 0x45;
	}
	*len = n;
}

static uint8_t random_tcp_flags_of_a_peer(void)
{
	static const uint8_t v[] = {TH_ACK,	     TH_ACK,	      TH_ACK | TH_PSH,
				    TH_SYN | TH_ACK, TH_RST | TH_ACK, TH_FIN | TH_ACK,
				    TH_SYN,	     TH_RST};

	return chance(90) ? v[rnd(sizeof(v))] : (uint8_t)rnd(256);
}

/*
 * Build s (addresses from bytes) into buf; with cut, cut short now and then
 * (not on egress: the kernel's test run refuses an skb without whole IP
 * headers, EINVAL, and the stack never sends one).
 */
static size_t build_tuple_frame(struct pkt_spec *s, const uint8_t *sa, const uint8_t *da,
				uint8_t *buf, int cut)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], err[128];
	int n;

	addr_text(s->family, sa, src, sizeof(src));
	addr_text(s->family, da, dst, sizeof(dst));
	s->src = src;
	s->dst = dst;
	if (chance(10))
		s->vlan_tpid[0] = chance(50) ? PKT_ETH_8021Q : PKT_ETH_8021AD;
	if (chance(10))
		s->eth_pad = (uint16_t)rnd(30);
	n = pkt_build(s, buf, PKT_MAX, err, sizeof(err));
	if (n < 0)
		abort();
	if (cut && chance(3) && n > 14)
		n = 14 + (int)rnd((unsigned)n - 14);
	return (size_t)n;
}

/* A first fragment with more to come, of the datagram of s (IPv6: a fragment header). */
static void make_first_fragment(struct pkt_spec *s, struct g_tuple *t)
{
	s->more_frags = 1;
	s->frag_offset = 0;
	s->frag_id = random_frag_id(s->family);
	if (s->family == 6) {
		s->n_ext = 0;
		if (chance(15))
			s->ext[s->n_ext++] = IPPROTO_HOPOPTS;
		s->ext[s->n_ext++] = IPPROTO_FRAGMENT;
		if (chance(10))
			s->ext[s->n_ext++] = IPPROTO_DSTOPTS;
		t->frag_next =
		    s->ext[s->n_ext - 1] == IPPROTO_FRAGMENT ? s->proto : IPPROTO_DSTOPTS;
	}
	t->frag_id = s->frag_id;
	if (!s->payload_len)
		s->payload_len = (uint16_t)(8 * (1 + rnd(8)));
}

/* A tuple from the frame's fields; bytes of the addresses. */
static void tuple_of(struct g_tuple *t, const struct pkt_spec *s, const uint8_t *sa,
		     const uint8_t *da)
{
	memset(t, 0, sizeof(*t));
	t->family = s->family;
	t->proto = s->proto;
	memcpy(t->src, sa, 16);
	memcpy(t->dst, da, 16);
	t->sport = s->sport;
	t->dport = s->dport;
	t->frag_id = s->frag_id;
	t->frag_next = s->proto;
}

/* A reply (or a near miss) to a packet the Edge sent; sometimes a first fragment. */
static size_t reply_frame(const struct g_tuple *t, uint8_t *buf)
{
	struct pkt_spec s;
	struct g_tuple first;
	uint8_t sa[16], da[16];
	size_t n;

	memset(&s, 0, sizeof(s));
	memcpy(sa, t->dst, 16);
	memcpy(da, t->src, 16);
	if (chance(8))
		addr_step(sa, t->family, chance(50) ? 1 : -1);
	s.family = t->family;
	s.proto = chance(95) ? t->proto : t->proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	s.sport = chance(92) ? t->dport : (uint16_t)(t->dport + (chance(50) ? 1 : -1));
	s.dport = chance(95) ? t->sport : (uint16_t)rnd(65536);
	if (s.proto == IPPROTO_TCP)
		s.tcp_flags = random_tcp_flags_of_a_peer();
	s.payload_len = (uint16_t)rnd(60);
	tuple_of(&first, &s, sa, da);
	if (chance(15)) {
		make_first_fragment(&s, &first);
		remember(mem.firsts, &mem.nfirsts, &first);
	} else if (s.family == 6 && chance(5)) {
		s.ext[s.n_ext++] = IPPROTO_DSTOPTS;
	}
	n = build_tuple_frame(&s, sa, da, buf, 1);
	return n;
}

/* A later fragment of a remembered first one, or an orphan near it. */
static size_t later_fragment_frame(const struct g_tuple *t, uint8_t *buf)
{
	struct pkt_spec s;
	uint8_t sa[16], da[16];

	memset(&s, 0, sizeof(s));
	memcpy(sa, t->src, 16);
	memcpy(da, t->dst, 16);
	if (chance(6))
		addr_step(sa, t->family, 1);
	if (chance(4))
		addr_step(da, t->family, 1);
	s.family = t->family;
	/* IPv6: the first fragment's fragment header's next header, or the transport. */
	s.proto = t->family == 6 && chance(70) ? t->frag_next : t->proto;
	if (chance(5))
		s.proto = t->proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	s.frag_id = t->frag_id;
	if (chance(15))
		s.frag_id = t->frag_id + (chance(50) ? 1 : (uint32_t)-1);
	if (t->family == 4)
		s.frag_id &= 0xffff;
	if (!s.frag_id)
		s.frag_id = 7;
	s.frag_offset = (uint16_t)(chance(80) ? 1 + rnd(200) : 1 + rnd(0x1fff));
	s.more_frags = chance(50);
	s.no_l4 = chance(80);
	s.payload_len = (uint16_t)(8 * (1 + rnd(10)));
	if (s.family == 6) {
		if (chance(10))
			s.ext[s.n_ext++] = IPPROTO_HOPOPTS;
		s.ext[s.n_ext++] = IPPROTO_FRAGMENT;
	}
	return build_tuple_frame(&s, sa, da, buf, 1);
}

/*
 * A frame the Edge sends (the egress program's): from a protected address,
 * mostly to a remote of an outbound row at its ports' edges (the Edge
 * opens, or talks mid-stream: pickup), or from an inbound row's port (an
 * answer, which opens nothing). Remembered for replies.
 */
static size_t egress_frame(const struct ref_policy *rp, uint8_t *buf)
{
	static const uint8_t flags[] = {
	    TH_SYN,	     TH_SYN,	      TH_ACK, TH_ACK | TH_PSH, TH_ACK,
	    TH_SYN | TH_ACK, TH_FIN | TH_ACK, TH_RST, TH_RST | TH_ACK, 0,
	    TH_SYN | TH_FIN};
	const struct ref_row *r = random_ref_row(rp, chance(75) ? PICFW_DIR_OUT : -1);
	const struct ref_row *in = random_ref_row(rp, PICFW_DIR_IN);
	struct pkt_spec s;
	struct g_tuple t;
	uint8_t sa[16], da[16];
	const struct g_tuple *again = chance(25) ? recall(mem.sent, mem.nsent) : NULL;
	int family = chance(50) ? 4 : 6;
	size_t n;

	memset(&s, 0, sizeof(s));
	if (again) { /* the Edge talks on in a flow it sent on before */
		memcpy(sa, again->src, 16);
		memcpy(da, again->dst, 16);
		s.family = again->family;
		s.proto = again->proto;
		s.sport = again->sport;
		s.dport = again->dport;
		if (s.proto == IPPROTO_TCP)
			s.tcp_flags = chance(92) ? flags[rnd(sizeof(flags))] : (uint8_t)rnd(256);
		s.payload_len = (uint16_t)rnd(100);
		return build_tuple_frame(&s, sa, da, buf, 0);
	}
	if (r && chance(90)) {
		const struct ref_set *rs = remote_of(r);

		if (rs->n)
			family = rs->v[rnd((unsigned)rs->n)].family;
	}
	if (chance(70))
		addr_from_set(&rp->protect, family, sa);
	else if (chance(75))
		addr_from_set(local_of(r), family, sa);
	else
		addr_random(sa, family);
	if (chance(92))
		addr_from_set(remote_of(r), family, da);
	else
		addr_random(da, family);
	s.family = (uint8_t)family;
	if (r && chance(88))
		s.proto = r->transport == PICFW_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	else
		s.proto = chance(95) ? (chance(50) ? IPPROTO_TCP : IPPROTO_UDP) : IPPROTO_ICMP;
	if (r && r->direction == PICFW_DIR_OUT) {
		s.dport = port_near(r);
		s.sport = chance(20) && in ? port_near(in) : (uint16_t)(1024 + rnd(64512));
	} else if (r) {
		s.sport = port_near(r);
		s.dport = (uint16_t)(chance(70) ? 1024 + rnd(64512) : rnd(65536));
	} else {
		s.sport = (uint16_t)rnd(65536);
		s.dport = (uint16_t)rnd(65536);
	}
	if (s.proto == IPPROTO_TCP)
		s.tcp_flags = chance(92) ? flags[rnd(sizeof(flags))] : (uint8_t)rnd(256);
	s.payload_len = (uint16_t)rnd(100);
	tuple_of(&t, &s, sa, da);
	if (chance(4)) {
		make_first_fragment(&s, &t);
	} else if (chance(3)) {
		s.frag_offset = (uint16_t)(1 + rnd(100));
		s.frag_id = random_frag_id(family);
		if (family == 6)
			s.ext[s.n_ext++] = IPPROTO_FRAGMENT;
	} else if (family == 6 && chance(6)) {
		s.ext[s.n_ext++] = IPPROTO_DSTOPTS;
	}
	n = build_tuple_frame(&s, sa, da, buf, 0);
	if (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP)
		remember(mem.sent, &mem.nsent, &t);
	return n;
}

/* One random frame into buf (PKT_MAX bytes); its length. */
static size_t random_frame(const struct ref_policy *rp, uint8_t *buf)
{
	static const uint8_t exts[] = {IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
				       IPPROTO_FRAGMENT, IPPROTO_AH};
	static const uint8_t others[] = {47, 50, 132, 59, 0, 41, 4, 103, 255};
	struct pkt_spec s;
	const struct ref_row *r;
	uint8_t sa[16], da[16], quote[64];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], err[128];
	size_t qlen = 0, len;
	unsigned k = rnd(100), i;
	int n, family;

	if (k < 3) {
		random_bytes_frame(buf, &len);
		return len;
	}
	memset(&s, 0, sizeof(s));
	if (chance(25)) {
		unsigned tags = 1 + rnd(chance(85) ? 2 : 3);

		for (i = 0; i < tags; i++)
			s.vlan_tpid[i] = chance(50) ? PKT_ETH_8021Q : PKT_ETH_8021AD;
	}
	if (k < 6) {
		static const uint16_t types[] = {PKT_ETH_ARP, PKT_ETH_LLDP, 0x88b5, 0x0842,
						 PKT_ETH_8021Q};

		s.ethertype = types[rnd(sizeof(types) / sizeof(types[0]))];
		s.payload_len = (uint16_t)rnd(64);
		n = pkt_build(&s, buf, PKT_MAX, err, sizeof(err));
		return n < 14 ? 14 : (size_t)n;
	}
	k = rnd(100);
	if (k < 12 && mem.nsent) /* flows that opened outlive updates: their rows may not */
		return reply_frame(mem.nflows && chance(60) ? recall(mem.flows, mem.nflows)
							    : recall(mem.sent, mem.nsent),
				   buf);
	if (k < 20 && mem.nfirsts)
		return later_fragment_frame(recall(mem.firsts, mem.nfirsts), buf);

	r = random_ref_row(rp, -1);
	if (!chance(85))
		r = NULL;
	family = chance(50) ? 4 : 6;
	if (r && chance(90)) {
		const struct ref_set *rs = remote_of(r);

		if (rs->n)
			family = rs->v[rnd((unsigned)rs->n)].family;
	}
	/* Source: near the row's remote prefixes, any set's, the Edge's, or anywhere. */
	k = rnd(100);
	if (k < 60)
		addr_from_set(remote_of(r), family, sa);
	else if (k < 75)
		addr_from_set(remote_of(random_ref_row(rp, -1)), family, sa);
	else if (k < 80)
		addr_from_set(&rp->protect, family, sa);
	else
		addr_random(sa, family);
	/*
	 * Destination: mostly the protected set's edges (one outside:
	 * unprotected), or near the Edge's side of some row (a service's part).
	 */
	k = rnd(100);
	if (k < 64)
		addr_from_set(&rp->protect, family, da);
	else if (k < 84)
		addr_from_set(local_of(chance(50) ? r : random_ref_row(rp, -1)), family, da);
	else if (k < 91)
		addr_local_scope(da, family);
	else
		addr_random(da, family);
	addr_text(family, sa, src, sizeof(src));
	addr_text(family, da, dst, sizeof(dst));
	s.family = (uint8_t)family;
	s.src = src;
	s.dst = dst;

	k = rnd(100);
	if (r && k < 75)
		s.proto = r->transport == PICFW_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	else if (k < 80)
		s.proto = chance(50) ? IPPROTO_TCP : IPPROTO_UDP;
	else if (k < 93)
		s.proto = family == 4 ? (chance(90) ? IPPROTO_ICMP : IPPROTO_ICMPV6)
				      : (chance(90) ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	else
		s.proto = others[rnd(sizeof(others))];

	if (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP) {
		if (r && r->direction == PICFW_DIR_IN) {
			s.dport = port_near(r);
			s.sport = chance(30) ? port_near(random_ref_row(rp, PICFW_DIR_OUT))
					     : (uint16_t)rnd(65536);
		} else if (r) {
			s.sport = port_near(r);
			s.dport = chance(30) ? port_near(random_ref_row(rp, PICFW_DIR_IN))
					     : (uint16_t)rnd(65536);
		} else {
			s.sport = port_near(random_ref_row(rp, -1));
			s.dport = port_near(random_ref_row(rp, -1));
		}
		if (s.proto == IPPROTO_TCP) {
			s.tcp_flags = random_tcp_flags();
			if (chance(10))
				s.tcp_opts_len = (uint8_t)(4 * rnd(11));
			if (chance(4)) {
				s.tcp_doff_set = 1;
				s.tcp_doff = (uint8_t)rnd(16);
			}
		}
	} else if (s.proto == IPPROTO_ICMP || s.proto == IPPROTO_ICMPV6) {
		random_icmp(&s);
		if (s.icmp_type >= 133 && s.icmp_type <= 137 && chance(25)) {
			addr_random(da, family); /* ND to an address not protected */
			addr_text(family, da, dst, sizeof(dst));
		}
		if (chance(60)) {
			qlen = build_quote(rp, family, quote);
			s.payload_len = (uint16_t)qlen;
		}
	}

	/* The IP layer's odd shapes. */
	if (family == 4) {
		if (chance(15))
			s.ip_opts_len = (uint8_t)(4 * rnd(11));
		if (chance(3)) {
			s.ihl_set = 1;
			s.ihl = (uint8_t)rnd(16);
		}
		if (chance(12)) {
			s.more_frags = chance(60);
			s.frag_offset = chance(50) ? 0 : (uint16_t)(1 + rnd(0x1fff));
			s.no_l4 = s.frag_offset && chance(50);
			s.frag_id = random_frag_id(4);
		}
		s.dont_frag = chance(5);
	} else {
		if (chance(25)) {
			s.n_ext = (uint8_t)(chance(85) ? 1 + rnd(3) : 6 + rnd(PKT_MAX_EXT - 5));
			for (i = 0; i < s.n_ext; i++)
				s.ext[i] = exts[rnd(sizeof(exts))];
			if (chance(10))
				s.ext_last_hdrlen = (uint8_t)rnd(4);
			if (chance(40)) {
				s.more_frags = chance(60);
				s.frag_offset = chance(50) ? 0 : (uint16_t)(1 + rnd(0x1fff));
				s.no_l4 = s.frag_offset && chance(50);
				s.frag_id = random_frag_id(6);
			}
		}
	}
	if (chance(3))
		s.version = (uint8_t)rnd(16);
	if (chance(5))
		s.ip_len_delta = (int16_t)((int)rnd(9) - 4);
	if (chance(2)) {
		s.ip_len_set = 1;
		s.ip_len = (uint16_t)(chance(30) ? 0 : rnd(200));
	}
	if (qlen && chance(8))
		s.ip_len_delta = (int16_t) - (int)qlen; /* the quote in the Ethernet padding */
	if (chance(12))
		s.eth_pad = (uint16_t)rnd(40);
	if (chance(5))
		s.l4_len = (uint8_t)(1 + rnd(20));
	if (!qlen && chance(25))
		s.payload_len = (uint16_t)rnd(80);
	s.eth_broadcast = chance(4);
	if (s.more_frags && !s.frag_offset && (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP)) {
		struct g_tuple t;
		unsigned e;

		tuple_of(&t, &s, sa, da);
		/* IPv6: the next header of the last fragment header (pkt_build's chain). */
		for (e = 0; e < s.n_ext; e++)
			if (s.ext[e] == IPPROTO_FRAGMENT)
				t.frag_next = e + 1 < s.n_ext ? s.ext[e + 1] : s.proto;
		remember(mem.firsts, &mem.nfirsts, &t);
	}

	n = pkt_build(&s, buf, PKT_MAX, err, sizeof(err));
	if (n < 0) { /* too big for the buffer: drop the extras */
		s.payload_len = (uint16_t)qlen;
		s.eth_pad = 0;
		n = pkt_build(&s, buf, PKT_MAX, err, sizeof(err));
		if (n < 0)
			abort();
	}
	len = (size_t)n;
	if (qlen && len >= s.eth_pad + qlen)
		memcpy(buf + len - s.eth_pad - qlen, quote, qlen);

	if (chance(3))
		buf[0] |= 1; /* an Ethernet multicast destination */

	/* Cut short, or a few bytes flipped. */
	if (chance(8) && len > 14)
		len = 14 + rnd((unsigned)(len - 14));
	if (chance(5)) {
		unsigned flips = 1 + rnd(3);

		for (i = 0; i < flips; i++)
			buf[rnd((unsigned)len)] ^= (uint8_t)(1 + rnd(255));
	}
	return len;
}

/* ------------------------------------------------------- the real program */

struct snapshot {
	struct picfw_counter rows[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
};

/* The frames since the last apply, in order: a mismatch's case replays them. */
#define HISTORY_MAX (2 * PACKETS_PER_APPLY)

struct history_frame {
	int egress;
	size_t len;
	uint8_t b[PKT_MAX];
};

static struct {
	struct picfw_bpf *skel;
	struct picfw_maps maps;
	int prog_fd, tc_fd;
	int compact; /* PICFW_DIFF_COMPACT=1 */
	int ncpu;
	int ready;
	char skip_why[192];
	uint32_t active;
	int clean[PICFW_GENERATIONS];
	int have_img;
	struct policy_image img; /* the active generation's image */
	uint32_t slots[PICFW_MAX_ROWS];
	uint32_t span;	      /* row slots 0 .. span-1 hold the active policy's rows */
	unsigned long resets; /* updates over 1024 rows between old and new: slots afresh */
	struct snapshot snap; /* counters after the last frame */
	void *batch_vals;
	uint32_t *batch_keys;
	int no_batch;
	const char *save_dir;
	unsigned saved, detailed;
	struct ref_state st;	    /* the oracle's flows and fragments */
	double state_since;	    /* when the program's flows and fragments were emptied */
	uint64_t seed;		    /* of the random run, for every message (0: none yet) */
	struct history_frame *hist; /* frames since the last apply */
	size_t nhist;
	int history_lost; /* more than HISTORY_MAX: the case holds the last ones */
} env;

/* Sum a per-CPU counter array: one batch lookup, or entry by entry. */
static int read_percpu(int fd, uint32_t n, struct picfw_counter *out)
{
	struct picfw_counter *vals = env.batch_vals;
	uint32_t count = n, i, next = 0;
	int c, err;

	if (!env.no_batch) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		err = bpf_map_lookup_batch(fd, NULL, &next, env.batch_keys, vals, &count, &opts);
		if ((!err || errno == ENOENT) && count == n) {
			for (i = 0; i < n; i++) {
				out[i].packets = out[i].bytes = 0;
				for (c = 0; c < env.ncpu; c++) {
					out[i].packets += vals[(size_t)i * env.ncpu + c].packets;
					out[i].bytes += vals[(size_t)i * env.ncpu + c].bytes;
				}
			}
			return 0;
		}
		env.no_batch = 1;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			return -errno;
		out[i].packets = out[i].bytes = 0;
		for (c = 0; c < env.ncpu; c++) {
			out[i].packets += vals[c].packets;
			out[i].bytes += vals[c].bytes;
		}
	}
	return 0;
}

/*
 * Read the counters: the row slots the active policy uses (0 .. span-1,
 * slots are planned densely) or, when full, all of them. A per-CPU batch
 * lookup costs about its size, so a frame reads only the slots in use;
 * check_stray() looks at the rest once per apply.
 */
static int snapshot(struct snapshot *s, int full)
{
	int err =
	    read_percpu(env.maps.fd[MAP_ROW_STATS], full ? PICFW_MAX_ROWS : env.span, s->rows);

	return err ? err
		   : read_percpu(env.maps.fd[MAP_REASON_STATS], PICFW_REASON_SLOTS, s->reasons);
}

static void env_setup(void)
{
	int err;

	env.ncpu = libbpf_num_possible_cpus();
	env.compact = getenv("PICFW_DIFF_COMPACT") && !strcmp(getenv("PICFW_DIFF_COMPACT"), "1");
	env.skel = picfw_bpf__open();
	if (env.skel) {
		bpf_program__set_autoload(env.skel->progs.picfw_xdp, !env.compact);
		bpf_program__set_autoload(env.skel->progs.picfw_xdp_compact, env.compact);
		err = picfw_bpf__load(env.skel);
		if (err) {
			picfw_bpf__destroy(env.skel);
			env.skel = NULL;
			errno = -err;
		}
	}
	if (!env.skel) {
		err = errno;
		snprintf(env.skip_why, sizeof(env.skip_why), "cannot load the BPF program (%s)%s",
			 strerror(err), err == EPERM || err == EACCES ? ": run as root" : "");
		return;
	}
	env.prog_fd = bpf_program__fd(env.compact ? env.skel->progs.picfw_xdp_compact :
						    env.skel->progs.picfw_xdp);
	if (env.compact)
		printf("# judging with picfw_xdp_compact\n");
	env.tc_fd = bpf_program__fd(env.skel->progs.picfw_tc_egress);
	err = maps_from_skel(env.skel, &env.maps);
	if (err) {
		snprintf(env.skip_why, sizeof(env.skip_why), "the program's maps: %s",
			 strerror(-err));
		picfw_bpf__destroy(env.skel);
		env.skel = NULL;
		return;
	}
	env.batch_vals =
	    calloc((size_t)PICFW_MAX_ROWS * (size_t)env.ncpu, sizeof(struct picfw_counter));
	env.batch_keys = calloc(PICFW_MAX_ROWS, sizeof(uint32_t));
	env.hist = calloc(HISTORY_MAX, sizeof(*env.hist));
	if (!env.batch_vals || !env.batch_keys || !env.hist)
		abort();
	env.st.slots = env.slots;
	env.clean[0] = env.clean[1] = 1;
	env.active = 0;
	env.ready = 1;
}

static void env_teardown(void)
{
	if (env.have_img)
		image_free(&env.img);
	if (env.skel) {
		maps_close(&env.maps);
		picfw_bpf__destroy(env.skel);
	}
	free(env.batch_vals);
	free(env.batch_keys);
	free(env.hist);
	ref_state_free(&env.st);
}

/*
 * Empty the program's flow tables (and their counts) and fragment table,
 * and the oracle's, and what the generator remembers. The random run does
 * this for every new policy and at least every STATE_SECONDS, well within
 * the shortest timeout a flow or fragment has (30 s: TCP transitory, and
 * picfw_frags): neither side ever expires anything, so the oracle models
 * no clock. Nor does it model LRU eviction: a policy's frames leave a few
 * thousand entries at most, in tables of 16,384 and 65,536.
 */
#define STATE_SECONDS 20.0

static void state_clear(void)
{
	flows_empty(&env.maps);
	ref_state_clear(&env.st);
	mem.nsent = mem.nfirsts = mem.nflows = 0;
	env.state_since = now_s();
}

static void history_reset(void)
{
	env.nhist = 0;
	env.history_lost = 0;
}

static void history_add(int egress, const uint8_t *frame, size_t len)
{
	struct history_frame *h;

	if (env.nhist == HISTORY_MAX) { /* keep the later half */
		memmove(env.hist, env.hist + HISTORY_MAX / 2,
			(HISTORY_MAX - HISTORY_MAX / 2) * sizeof(*env.hist));
		env.nhist = HISTORY_MAX - HISTORY_MAX / 2;
		env.history_lost = 1;
	}
	h = &env.hist[env.nhist++];
	h->egress = egress;
	h->len = len;
	memcpy(h->b, frame, len);
}

/*
 * Apply img as `picfw apply` does: slots planned by stable name (new rows'
 * counters zeroed), the inactive generation written, switched to, a grace
 * period, and usually the old generation cleared. Takes img over.
 */
static int apply_image(struct policy_image *img, char *why, size_t whylen)
{
	uint32_t slots[PICFW_MAX_ROWS], in = env.active ^ 1, i;
	uint8_t fresh[PICFW_MAX_ROWS];
	int err;

	if (compile_plan_slots(env.have_img ? env.img.rows : NULL, env.slots,
			       env.have_img ? env.img.nrows : 0, img, slots, fresh)) {
		/*
		 * Old and new rows need more than PICFW_MAX_ROWS slots between
		 * them: `picfw apply` refuses ("at most 1024 rows across an
		 * update") and the way out is detach and attach, which starts
		 * the slots afresh. Do that.
		 */
		env.resets++;
		if (compile_plan_slots(NULL, NULL, 0, img, slots, fresh)) {
			snprintf(why, whylen, "compile_plan_slots: out of slots on a fresh start");
			return -1;
		}
	}
	for (i = 0; i < img->nrows; i++) {
		if (fresh[i] && (err = maps_zero_row_counter(&env.maps, slots[i]))) {
			snprintf(why, whylen, "maps_zero_row_counter: %s", strerror(-err));
			return -1;
		}
	}
	err = env.clean[in] ? maps_write_clean_generation(&env.maps, in, img, slots)
			    : maps_write_generation(&env.maps, in, img, slots);
	if (err) {
		snprintf(why, whylen, "writing generation %u: %s", in, strerror(-err));
		return -1;
	}
	env.clean[in] = 0;
	err = maps_activate(&env.maps, in, &img->cfg);
	if (!err)
		err = maps_sync(&env.maps);
	if (err) {
		snprintf(why, whylen, "switching to generation %u: %s", in, strerror(-err));
		return -1;
	}
	if (chance(80)) {
		err = maps_clear_generation(&env.maps, env.active);
		if (err) {
			snprintf(why, whylen, "clearing generation %u: %s", env.active,
				 strerror(-err));
			return -1;
		}
		env.clean[env.active] = 1;
	}
	env.active = in;
	if (env.have_img)
		image_free(&env.img);
	env.img = *img;
	memset(img, 0, sizeof(*img));
	env.have_img = 1;
	memcpy(env.slots, slots, sizeof(slots));
	env.span = 1;
	for (i = 0; i < env.img.nrows; i++)
		if (slots[i] + 1 > env.span)
			env.span = slots[i] + 1;
	err = snapshot(&env.snap, 1);
	if (err) {
		snprintf(why, whylen, "reading counters: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* The image's inbound port classes: 1..this (see picfw_row_table). */
static uint32_t max_inbound_class(const struct policy_image *img)
{
	uint32_t t, port, d = 0;

	for (t = 0; t < PICFW_TRANSPORTS; t++)
		for (port = 0; port < PICFW_PORTS; port++)
			if (img->ports[t][port].dst_class > d)
				d = img->ports[t][port].dst_class;
	return d;
}

/* Parse, compile and apply policy text. 0, or -1 with a reason. */
static int apply_text(const char *text, size_t len, struct policy *pol, char *why, size_t whylen)
{
	struct policy_errors errs = {0};
	struct policy_image img = {0};
	char err[256];

	if (policy_parse("random.policy", text, len, pol, &errs)) {
		snprintf(why, whylen, "the policy does not parse: %d:%d: %.400s",
			 errs.n ? errs.v[0].line : 0, errs.n ? errs.v[0].col : 0,
			 errs.n ? errs.v[0].msg : "?");
		policy_errors_free(&errs);
		return -1;
	}
	policy_errors_free(&errs); /* warnings */
	if (compile_policy(pol, &img, err, sizeof(err))) {
		snprintf(why, whylen, "the policy does not compile: %s", err);
		policy_free(pol);
		return -1;
	}
	/*
	 * The row table is a shortcut: a third of the applies go without it,
	 * so that the bitmaps answer policies it would have taken; of the
	 * rest, half with a table holding only its first port classes, as for
	 * a policy too big for all (the bitmaps answer the others).
	 */
	if (img.cfg.row_table_classes && chance(33)) {
		img.cfg.row_table_classes = 0;
	} else if (img.cfg.row_table_classes > 1 && chance(50)) {
		img.cfg.row_table_classes = 1 + rnd(img.cfg.row_table_classes - 1);
		img.nrow_table = (size_t)img.cfg.row_table_classes * img.nclasses;
	}
	if (apply_image(&img, why, whylen)) {
		image_free(&img);
		policy_free(pol);
		return -1;
	}
	return 0;
}

/* What the program did with one frame. */
struct outcome {
	int verdict;
	int moved;  /* counters that moved */
	int on_row; /* the (first) one that moved: a row slot, else a reason slot */
	unsigned slot;
	uint64_t packets, bytes;
	char more[256]; /* every other counter that moved */
};

/*
 * Run a frame through the XDP program (or the TC egress program, fd) and see
 * which counters moved: the row slots in use, or all of them with full.
 */
static int run_prog(int fd, const uint8_t *frame, size_t len, struct outcome *o, int full)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);
	static struct snapshot after_buf;
	struct snapshot *after = &after_buf;
	size_t more = 0;
	unsigned i;
	int err;

	memset(o, 0, sizeof(*o));
	err = bpf_prog_test_run_opts(fd, &opts);
	if (err)
		return err;
	o->verdict = (int)opts.retval;
	*after = env.snap; /* slots past the span are checked by check_stray() */
	err = snapshot(after, full);
	if (err)
		return err;
	for (i = 0; i < PICFW_MAX_ROWS + PICFW_REASON_SLOTS; i++) {
		int on_row = i < PICFW_MAX_ROWS;
		unsigned slot = on_row ? i : i - PICFW_MAX_ROWS;
		const struct picfw_counter *b =
		    on_row ? &env.snap.rows[slot] : &env.snap.reasons[slot];
		const struct picfw_counter *a = on_row ? &after->rows[slot] : &after->reasons[slot];

		if (a->packets == b->packets && a->bytes == b->bytes)
			continue;
		if (!o->moved++) {
			o->on_row = on_row;
			o->slot = slot;
			o->packets = a->packets - b->packets;
			o->bytes = a->bytes - b->bytes;
		} else if (more < sizeof(o->more) - 64) {
			more +=
			    (size_t)snprintf(o->more + more, sizeof(o->more) - more,
					     " and %s %u +%llu/+%llu", on_row ? "slot" : "reason",
					     slot, (unsigned long long)(a->packets - b->packets),
					     (unsigned long long)(a->bytes - b->bytes));
		}
	}
	env.snap = *after;
	return 0;
}

/* No row slot past the active policy's moved since the apply. 0, or 1 (reported). */
static int check_stray(const char *origin)
{
	static struct snapshot now;
	unsigned i;
	int bad = 0;

	if (snapshot(&now, 1)) {
		note(NULL, "%s: reading counters failed", origin);
		return 1;
	}
	for (i = env.span; i < PICFW_MAX_ROWS; i++) {
		if (now.rows[i].packets != env.snap.rows[i].packets ||
		    now.rows[i].bytes != env.snap.rows[i].bytes) {
			note(NULL, "MISMATCH %s: slot %u, which no row of the policy counts in, moved",
			     origin, i);
			bad = 1;
		}
	}
	env.snap = now;
	return bad;
}

static void outcome_format(const struct outcome *o, char *buf, size_t len)
{
	if (!o->moved)
		snprintf(buf, len, "%s, no counter moved", verdict_name(o->verdict));
	else if (o->on_row)
		snprintf(buf, len, "%s, slot %u +%llu/+%llu bytes%s", verdict_name(o->verdict),
			 o->slot, (unsigned long long)o->packets, (unsigned long long)o->bytes,
			 o->more);
	else if (o->slot >= PICFW_REASONS)
		snprintf(buf, len, "%s, would-drop %s +%llu/+%llu bytes%s",
			 verdict_name(o->verdict), ref_reason_name(o->slot - PICFW_REASONS),
			 (unsigned long long)o->packets, (unsigned long long)o->bytes, o->more);
	else
		snprintf(buf, len, "%s, reason %s +%llu/+%llu bytes%s", verdict_name(o->verdict),
			 ref_reason_name(o->slot), (unsigned long long)o->packets,
			 (unsigned long long)o->bytes, o->more);
}

/* Does the program's outcome agree with the oracle's? */
static int agree(const struct ref_result *want, const struct outcome *o, size_t len)
{
	if (o->verdict != want->verdict || o->moved != 1 || o->packets != 1 || o->bytes != len)
		return 0;
	if (want->on_slot) /* a row's slot (env.slots, through env.st), or a fragment's */
		return o->on_row && o->slot == want->slot;
	return !o->on_row && o->slot == want->slot;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

/*
 * Write a mismatch as a case file: the policy, and the frames since it was
 * applied (egress and ingress, in order, the last one the mismatch's), from
 * empty flow and fragment tables. State from before the apply (flows and
 * fragments of the policy's earlier updates) is not in it: when the replay
 * does not show the mismatch, rerun the seed in the header.
 */
static void save_case(const char *policy, const uint8_t *frame, size_t len, const char *origin,
		      const char *want, const char *got, const char *pkt)
{
	char path[PATH_MAX], hexbuf[2 * PKT_MAX + 1];
	size_t i;
	FILE *f;

	if (!env.save_dir || env.saved >= MAX_SAVED)
		return;
	mkdir(env.save_dir, 0755);
	snprintf(path, sizeof(path), "%s/mismatch-%ld-%u.case", env.save_dir, (long)getpid(),
		 env.saved);
	f = fopen(path, "w");
	if (!f) {
		note(NULL, "cannot save %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f,
		"# picfw differential case (%s)\n"
		"# reference: %s\n"
		"# picfw:     %s\n"
		"# packet:    %s\n"
		"# Replay (root): PICFW_DIFF_SECONDS=0 PICFW_DIFF_REPLAY=%s "
		"BUILD/tests/test_differential\n"
		"# Or rerun the seed: PICFW_DIFF_SEED=%llu\n"
		"# Keep it: copy it to tests/reference/cases/ (replayed on every run).\n"
		"# 'egress' frames go through the TC egress program, 'frame' ones through XDP;\n"
		"# flows and fragments start empty%s.\n"
		"--- policy\n%s%s--- end\n",
		origin, want, got, pkt, path, (unsigned long long)env.seed,
		env.history_lost ? " (the earliest frames since the apply are left out)" : "",
		policy, policy[0] && policy[strlen(policy) - 1] != '\n' ? "\n" : "");
	/* The history ends with this frame when it has one; else it is written alone. */
	for (i = 0; i < env.nhist; i++) {
		hex(env.hist[i].b, env.hist[i].len, hexbuf);
		fprintf(f, "%s %s\n", env.hist[i].egress ? "egress" : "frame", hexbuf);
	}
	if (!env.nhist) {
		hex(frame, len, hexbuf);
		fprintf(f, "frame %s\n", hexbuf);
	}
	fclose(f);
	env.saved++;
	note(NULL, "saved %s", path);
}

/* Mismatches by kind: the oracle's outcome and the program's, without lengths. */
#define MAX_KINDS 32

static struct {
	char kind[160];
	unsigned long n;
} kinds[MAX_KINDS];
static unsigned nkinds;

static void tally_text(const char *kind)
{
	unsigned i;

	for (i = 0; i < nkinds; i++) {
		if (!strcmp(kinds[i].kind, kind)) {
			kinds[i].n++;
			return;
		}
	}
	if (nkinds < MAX_KINDS) {
		snprintf(kinds[nkinds].kind, sizeof(kinds[nkinds].kind), "%s", kind);
		kinds[nkinds++].n = 1;
	}
}

static void tally_kind(const struct ref_result *want, const struct outcome *o)
{
	char w[64], kind[160];
	const char *v = verdict_name(o->verdict);

	if (want->on_slot)
		snprintf(w, sizeof(w), "%s, a row%s", want->verdict == REF_PASS ? "pass" : "drop",
			 want->via == REF_VIA_FRAG   ? " (later fragment)"
			 : want->via == REF_VIA_FLOW ? " (tracked reply)"
						     : "");
	else
		ref_result_format(want, w, sizeof(w));
	if (!o->moved)
		snprintf(kind, sizeof(kind), "reference %s; picfw %s, no counter", w, v);
	else if (o->on_row)
		snprintf(kind, sizeof(kind), "reference %s; picfw %s, a row%s", w, v,
			 o->moved > 1 ? " and more" : "");
	else
		snprintf(kind, sizeof(kind), "reference %s; picfw %s, %s%s%s", w, v,
			 o->slot >= PICFW_REASONS ? "would-drop " : "reason ",
			 ref_reason_name(o->slot % PICFW_REASONS), o->moved > 1 ? " and more" : "");
	tally_text(kind);
}

/* What the random run saw: passes by how (enum ref_via), egress by action. */
static unsigned long via_counts[3], egress_counts[4], orphan_replies;

/*
 * Where the active policy's array trie takes a frame's source address (the
 * remote of an inbound frame), walked here the way trie_class() walks it:
 * for the run's summary only, to show that frames reach tails and skips,
 * held and not (the verdicts are compared whatever the path).
 */
enum trie_walk {
	TW_LPM,	     /* the family is in the kernel's LPM trie */
	TW_MISS,     /* a slot with class 0 */
	TW_CLASS,    /* a slot with a class */
	TW_TAIL_IN,  /* a tail that holds it: its class */
	TW_TAIL_OUT, /* a tail that does not: its other */
	TW_SKIP_IN,  /* through a skip (and on: counted again where it ends) */
	TW_SKIP_OUT, /* a skip whose bytes differ: its other */
	TW_KINDS,
};

static unsigned long trie_walks[TW_KINDS];

static void trie_tally(const struct ref_packet *pkt)
{
	const struct policy_image *img = &env.img;
	unsigned n = pkt->l3 == 4 ? 4 : 16, i, k, node = pkt->l3 == 6, holds;
	const struct picfw_trie_tail *t;
	uint32_t w[4];

	if (!env.have_img || (pkt->l3 != 4 && pkt->l3 != 6))
		return;
	if (!(pkt->l3 == 4 ? img->cfg.trie4 : img->cfg.trie6)) {
		trie_walks[TW_LPM]++;
		return;
	}
	memcpy(w, pkt->saddr, n);
	for (i = 0; i < n && node < img->ntrie; i++) {
		uint32_t v = img->trie[node].e[pkt->saddr[i]];

		if (!(v & PICFW_TRIE_TAIL)) {
			if (!(v & PICFW_TRIE_CHILD)) {
				trie_walks[v ? TW_CLASS : TW_MISS]++;
				return;
			}
			node = v & (PICFW_TRIE_NODES - 1);
			continue;
		}
		if ((v & (PICFW_TRIE_TAILS - 1)) >= img->ntails)
			return;
		t = &img->tails[v & (PICFW_TRIE_TAILS - 1)];
		for (holds = 1, k = 0; k < n / 4; k++)
			holds &= (w[k] & t->mask[k]) == t->addr[k];
		if (!(v & PICFW_TRIE_CHILD)) {
			trie_walks[holds ? TW_TAIL_IN : TW_TAIL_OUT]++;
			return;
		}
		if (!holds) {
			trie_walks[TW_SKIP_OUT]++;
			return;
		}
		trie_walks[TW_SKIP_IN]++;
		node = t->class & (PICFW_TRIE_NODES - 1);
		i = (t->class >> PICFW_TRIE_SKIP_SHIFT) - 1;
	}
}

/*
 * One frame through both. Returns 1 on a mismatch (reported, saved).
 * counts[] tallies the oracle's outcomes: row, then reason slots.
 */
static int check_frame(const struct ref_policy *rp, const char *policy, const uint8_t *frame,
		       size_t len, const char *origin, unsigned long *counts)
{
	struct ref_result want;
	struct ref_packet pkt;
	struct outcome o;
	char w[160], g[512], p[256], hexbuf[2 * PKT_MAX + 1];
	int err;

	history_add(0, frame, len);
	ref_classify(rp, &env.st, frame, len, &want, &pkt);
	if (counts) {
		counts[want.on_slot ? 0 : 1 + want.slot]++;
		if (want.on_slot)
			via_counts[want.via]++;
		orphan_replies += want.flow_unallowed;
		trie_tally(&pkt);
	}
	/* A later fragment may count on a slot the active policy no longer uses. */
	err = run_prog(env.prog_fd, frame, len, &o, want.on_slot && want.slot >= env.span);
	if (err) {
		note(NULL, "%s: BPF_PROG_TEST_RUN on %zu bytes: %s", origin, len, strerror(-err));
		return 1;
	}
	if (agree(&want, &o, len))
		return 0;
	tally_kind(&want, &o);
	ref_result_format(&want, w, sizeof(w));
	if (want.row >= 0)
		snprintf(w + strlen(w), sizeof(w) - strlen(w), " (slot %u)", want.slot);
	snprintf(w + strlen(w), sizeof(w) - strlen(w), ": %s", want.why);
	outcome_format(&o, g, sizeof(g));
	ref_packet_format(&pkt, p, sizeof(p));
	if (env.detailed < MAX_DETAILED) {
		env.detailed++;
		hex(frame, len, hexbuf);
		note(NULL, "MISMATCH %s, %zu bytes", origin, len);
		note(NULL, "  reference: %s", w);
		note(NULL, "  picfw:     %s", g);
		note(NULL, "  packet:    %s", p);
		note(NULL, "  frame:     %s", hexbuf);
	}
	save_case(policy, frame, len, origin, w, g, p);
	return 1;
}

static const char *const egress_names[] = {"nothing", "refreshed", "opened", "picked up"};

/*
 * One frame the Edge sends through the TC egress program and the oracle's
 * model of it: the program has no opinion (TC_ACT_UNSPEC), moves no row or reason
 * counter, and afterwards the frame's flow is in the program's table
 * exactly when it is in the oracle's; a flow it made names the oracle's
 * outbound row (in this policy epoch) and origin. 1 on a mismatch.
 */
static int check_egress(const struct ref_policy *rp, const char *policy, const uint8_t *frame,
			size_t len, const char *origin, int tally)
{
	struct ref_egress eg;
	struct ref_packet pkt;
	struct outcome o;
	struct picfw_flow f;
	char want[256], got[512] = "", p[256], hexbuf[2 * PKT_MAX + 1], kind[160];
	int err, known, have = 0, bad = 0;

	history_add(1, frame, len);
	ref_egress(rp, &env.st, frame, len, &eg, &pkt);
	if (tally)
		egress_counts[eg.action]++;
	if (eg.action == REF_EG_OPENED || eg.action == REF_EG_PICKED_UP) {
		struct g_tuple t = {.family = eg.key.family, .proto = eg.key.l4proto};

		memcpy(t.src, eg.key.local, 16);
		memcpy(t.dst, eg.key.remote, 16);
		t.sport = eg.key.lport;
		t.dport = eg.key.rport;
		remember(mem.flows, &mem.nflows, &t);
	}
	err = run_prog(env.tc_fd, frame, len, &o, 0);
	if (err) {
		note(NULL, "%s: BPF_PROG_TEST_RUN (egress) on %zu bytes: %s", origin, len,
		     strerror(-err));
		return 1;
	}
	if (o.verdict != TC_ACT_UNSPEC || o.moved) {
		outcome_format(&o, got, sizeof(got));
		bad = 1;
	}
	known = eg.has_key && ref_flow_known(&env.st, &eg.key);
	if (eg.has_key) {
		unsigned table = (eg.key.family == 6 ? PICFW_FT_TCP6 : PICFW_FT_TCP4) +
				 (eg.key.l4proto == IPPROTO_UDP);
		struct picfw_flow4_key k4 = {0};
		struct picfw_flow6_key k6 = {0};
		void *key = &k4;

		if (eg.key.family == 4) {
			memcpy(k4.remote, eg.key.remote, 4);
			memcpy(k4.local, eg.key.local, 4);
			k4.remote_port = eg.key.rport;
			k4.local_port = eg.key.lport;
		} else {
			memcpy(k6.remote, eg.key.remote, 16);
			memcpy(k6.local, eg.key.local, 16);
			k6.remote_port = eg.key.rport;
			k6.local_port = eg.key.lport;
			key = &k6;
		}
		have = !bpf_map_lookup_elem(env.maps.fd[MAP_FLOWS_TCP4 + table], key, &f);
		if (have != known) {
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%sflow %s",
				 *got ? "; " : "", have ? "in the table" : "not in the table");
			bad = 1;
		} else if (have && (eg.action == REF_EG_OPENED || eg.action == REF_EG_PICKED_UP)) {
			unsigned origin_want = eg.action == REF_EG_OPENED ? PICFW_ORIGIN_OPENED
									  : PICFW_ORIGIN_PICKED_UP;

			if ((uint32_t)f.binding != (uint32_t)eg.row || f.origin != origin_want) {
				snprintf(got + strlen(got), sizeof(got) - strlen(got),
					 "%snew flow on row %u, origin %u (want %u)",
					 *got ? "; " : "", (uint32_t)f.binding, f.origin,
					 origin_want);
				bad = 1;
			}
		}
	}
	if (!bad)
		return 0;
	snprintf(want, sizeof(want), "egress %s%s, flow %s", egress_names[eg.action], "",
		 known ? "in the table" : "not in the table");
	if (eg.row >= 0)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), " (row %d)", eg.row);
	snprintf(want + strlen(want), sizeof(want) - strlen(want), ": %s", eg.why);
	ref_packet_format(&pkt, p, sizeof(p));
	snprintf(kind, sizeof(kind), "egress: reference %s; picfw %s", egress_names[eg.action],
		 have ? "flow in the table" : "no flow");
	tally_text(kind);
	if (env.detailed < MAX_DETAILED) {
		env.detailed++;
		hex(frame, len, hexbuf);
		note(NULL, "MISMATCH %s (egress), %zu bytes", origin, len);
		note(NULL, "  reference: %s", want);
		note(NULL, "  picfw:     %s", got);
		note(NULL, "  packet:    %s", p);
		note(NULL, "  frame:     %s", hexbuf);
	}
	save_case(policy, frame, len, origin, want, got, p);
	return 1;
}

/* ------------------------------------------------------- the rules, by hand */

/*
 * The oracle on its own, against the README's table: no kernel. Each case
 * names a frame and what the documented rules say about it.
 */
static const char rules_policy[] = "set edge = 203.0.113.10, 2001:db8:e::10\n"
				   "set partners = 198.51.100.0/24, 2001:db8:100::/48\n"
				   "set near = 198.51.100.128/25\n"
				   "protect edge\n"
				   "replies stateless\n"
				   "icmp strict\n"
				   "near-in: A/B/TCP/5061 near edge\n"	       /* 0 */
				   "sip-in: A/B/TCP/5061 partners edge\n"      /* 1 */
				   "sip-out: A/B/TCP/5061 edge partners\n"     /* 2 */
				   "rtp-out: A/B/UDP/50,000-59,999 edge any\n" /* 3 */
				   "stun-in: A/B/UDP/3478 any edge\n";	       /* 4 */

struct rule_case {
	const char *name;
	struct pkt_spec pkt;
	int verdict, row;
	unsigned slot;
	int cut;	 /* frame cut to this many bytes */
	int unprot_drop; /* under the policy with `unprotected drop` added */
	int mcast_mac;	 /* Ethernet destination 01:00:5e:00:00:fb */
};

#define RC_ROW(n) REF_PASS, (n), 0
#define RC_PASS(r) REF_PASS, -1, (r)
#define RC_DROP(r) REF_DROP, -1, (r)

/* One case a row, as in test_datapath.c. */
/* clang-format off */
static const struct rule_case rule_cases[] = {
	{ "first_match_narrower_row", { .family = 4, .src = "198.51.100.200", .dst = "203.0.113.10",
	  .proto = IPPROTO_TCP, .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN }, RC_ROW(0) },
	{ "first_match_broader_row", { .family = 4, .src = "198.51.100.127", .dst = "203.0.113.10",
	  .proto = IPPROTO_TCP, .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN }, RC_ROW(1) },
	{ "outside_prefix", { .family = 4, .src = "198.51.101.0", .dst = "203.0.113.10",
	  .proto = IPPROTO_TCP, .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN },
	  RC_DROP(PICFW_R_NO_MATCH) },
	{ "reply_needs_ack", { .family = 6, .src = "2001:db8:100::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_TCP, .sport = 5061, .dport = 40000, .tcp_flags = TH_SYN },
	  RC_DROP(PICFW_R_NO_MATCH) },
	{ "reply_with_ack", { .family = 6, .src = "2001:db8:100::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_TCP, .sport = 5061, .dport = 40000, .tcp_flags = TH_SYN | TH_ACK },
	  RC_ROW(2) },
	{ "udp_reply_range_end", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .sport = 59999, .dport = 40000 }, RC_ROW(3) },
	{ "udp_reply_past_range", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .sport = 60000, .dport = 40000 }, RC_DROP(PICFW_R_NO_MATCH) },
	{ "unprotected", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.11",
	  .proto = IPPROTO_UDP, .sport = 1, .dport = 3478 }, RC_PASS(PICFW_R_UNPROTECTED) },
	{ "unprotected_bad_tcp", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.11",
	  .proto = IPPROTO_TCP, .sport = 1, .dport = 3478, .tcp_doff_set = 1 },
	  RC_PASS(PICFW_R_UNPROTECTED) },
	{ "bad_ihl_unprotected_is_malformed", { .family = 4, .src = "192.0.2.1",
	  .dst = "203.0.113.11", .proto = IPPROTO_UDP, .ihl_set = 1, .ihl = 4 },
	  RC_DROP(PICFW_R_MALFORMED) },
	{ "non_ip", { .ethertype = PKT_ETH_ARP, .payload_len = 28 }, RC_PASS(PICFW_R_NON_IP) },
	{ "third_vlan", { .vlan_tpid = { 0x88a8, 0x8100, 0x8100 }, .family = 4, .src = "192.0.2.1",
	  .dst = "203.0.113.10", .proto = IPPROTO_UDP, .dport = 3478 }, RC_DROP(PICFW_R_MALFORMED) },
	{ "qinq", { .vlan_tpid = { 0x88a8, 0x8100 }, .family = 4, .src = "192.0.2.1",
	  .dst = "203.0.113.10", .proto = IPPROTO_UDP, .dport = 3478 }, RC_ROW(4) },
	{ "v4_later_fragment", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .dport = 3478, .frag_offset = 1, .no_l4 = 1, .payload_len = 8 },
	  RC_DROP(PICFW_R_FRAGMENT) },
	{ "v6_first_fragment", { .family = 6, .src = "2001:db8::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_UDP, .dport = 3478, .more_frags = 1, .ext = { IPPROTO_FRAGMENT },
	  .n_ext = 1 }, RC_ROW(4) },
	{ "v6_eight_ext", { .family = 6, .src = "2001:db8::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_UDP, .dport = 3478, .ext = { 60, 60, 60, 60, 60, 60, 60, 60 },
	  .n_ext = 8 }, RC_ROW(4) },
	{ "v6_nine_ext", { .family = 6, .src = "2001:db8::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_UDP, .dport = 3478, .ext = { 60, 60, 60, 60, 60, 60, 60, 60, 60 },
	  .n_ext = 9 }, RC_DROP(PICFW_R_MALFORMED) },
	{ "tcp_doff_past_datagram", { .family = 4, .src = "198.51.100.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_TCP, .dport = 5061, .tcp_doff = 6, .eth_pad = 8 },
	  RC_DROP(PICFW_R_MALFORMED) },
	{ "nd_hop_limit_255", { .family = 6, .src = "fe80::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 255 }, RC_PASS(PICFW_R_ICMP_ESSENTIAL) },
	{ "nd_hop_limit_254", { .family = 6, .src = "fe80::1", .dst = "2001:db8:e::10",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 254 }, RC_DROP(PICFW_R_NO_MATCH) },
	{ "icmpv6_in_ipv4_is_no_icmp", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 255 }, RC_DROP(PICFW_R_NO_MATCH) },
	{ "icmp_error_about_nothing_strict", { .family = 4, .src = "192.0.2.1",
	  .dst = "203.0.113.10", .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 4 },
	  RC_DROP(PICFW_R_ICMP_UNRELATED) },
	{ "echo_request", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_ICMP, .icmp_type = 8 }, RC_DROP(PICFW_R_NO_MATCH) },
	{ "udp_cut_short", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .dport = 3478 }, RC_DROP(PICFW_R_MALFORMED), 14 + 20 + 7 },
	/* unprotected drop */
	{ "u_unicast", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.11",
	  .proto = IPPROTO_UDP, .sport = 1, .dport = 3478 }, RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_unicast_later_fragment", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.11",
	  .proto = IPPROTO_UDP, .frag_offset = 3, .no_l4 = 1, .payload_len = 8 },
	  RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_multicast", { .family = 4, .src = "192.0.2.1", .dst = "224.0.0.251",
	  .proto = IPPROTO_UDP, .dport = 5353 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_past_multicast", { .family = 4, .src = "192.0.2.1", .dst = "240.0.0.1",
	  .proto = IPPROTO_UDP, .dport = 5353 }, RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_limited_broadcast", { .family = 4, .src = "192.0.2.1", .dst = "255.255.255.255",
	  .proto = IPPROTO_UDP, .dport = 67 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_directed_broadcast", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.255",
	  .proto = IPPROTO_UDP, .dport = 67 }, RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_link_local4", { .family = 4, .src = "169.254.1.2", .dst = "169.254.1.1",
	  .proto = IPPROTO_TCP, .tcp_doff_set = 1 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_eth_broadcast", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.11",
	  .proto = IPPROTO_UDP, .dport = 9, .eth_broadcast = 1 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_eth_multicast", { .family = 6, .src = "2001:db8::1", .dst = "2001:db8:e::11",
	  .proto = IPPROTO_UDP, .dport = 9 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1, 1 },
	{ "u_eth_broadcast_protected", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .dport = 9, .eth_broadcast = 1 }, RC_DROP(PICFW_R_NO_MATCH), 0, 1 },
	{ "u_link_local6", { .family = 6, .src = "fe80::2", .dst = "febf::1",
	  .proto = IPPROTO_UDP, .dport = 546 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_site_local6", { .family = 6, .src = "fe80::2", .dst = "fec0::1",
	  .proto = IPPROTO_UDP, .dport = 546 }, RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_all_nodes", { .family = 6, .src = "fe80::2", .dst = "ff02::1",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 134, .ttl = 255 }, RC_PASS(PICFW_R_LOCAL_SCOPE), 0, 1 },
	{ "u_nd_unicast", { .family = 6, .src = "fe80::2", .dst = "2001:db8:e::11",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 255 },
	  RC_PASS(PICFW_R_ICMP_ESSENTIAL), 0, 1 },
	{ "u_nd_hop_254", { .family = 6, .src = "fe80::2", .dst = "2001:db8:e::11",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 254 },
	  RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_nd_fragmented", { .family = 6, .src = "fe80::2", .dst = "2001:db8:e::11",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 136, .ttl = 255, PKT_EXT(IPPROTO_FRAGMENT) },
	  RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_nd_cut_short", { .family = 6, .src = "fe80::2", .dst = "2001:db8:e::11",
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 255, .l4_len = 4 },
	  RC_DROP(PICFW_R_UNPROTECTED), 0, 1 },
	{ "u_protected_row", { .family = 4, .src = "192.0.2.1", .dst = "203.0.113.10",
	  .proto = IPPROTO_UDP, .dport = 3478 }, RC_ROW(4), 0, 1 },
};
/* clang-format on */

static int parse_into_ref(const char *name, const char *text, struct ref_policy *rp)
{
	struct policy_errors errs = {0};
	struct policy pol;
	int ret;

	if (policy_parse(name, text, strlen(text), &pol, &errs)) {
		policy_errors_print(stdout, name, &errs);
		policy_errors_free(&errs);
		return -1;
	}
	policy_errors_free(&errs); /* warnings */
	ret = ref_policy_from_policy(&pol, rp);
	policy_free(&pol);
	return ret;
}

/* The table above through the oracle; the number of differences. */
static unsigned reference_rules(void)
{
	struct ref_policy rp, audit, rpu, auditu;
	char text[sizeof(rules_policy) + 16], textu[sizeof(rules_policy) + 32],
	    textua[sizeof(rules_policy) + 48];
	uint8_t frame[PKT_MAX];
	char err[128], a[128], b[128];
	unsigned i, fails = 0;

	snprintf(text, sizeof(text), "mode audit\n%s", rules_policy);
	snprintf(textu, sizeof(textu), "unprotected drop\n%s", rules_policy);
	snprintf(textua, sizeof(textua), "mode audit\nunprotected drop\n%s", rules_policy);
	if (parse_into_ref("rules.policy", rules_policy, &rp))
		return 1;
	if (parse_into_ref("rules-audit.policy", text, &audit)) {
		ref_policy_free(&rp);
		return 1;
	}
	if (parse_into_ref("rules-unprotected.policy", textu, &rpu) ||
	    parse_into_ref("rules-unprotected-audit.policy", textua, &auditu)) {
		ref_policy_free(&rp);
		ref_policy_free(&audit);
		return 1;
	}
	if (rpu.unprotected != PICFW_UNPROTECTED_DROP || rp.unprotected != PICFW_UNPROTECTED_PASS) {
		note(NULL, "rules: `unprotected drop` not read");
		fails++;
	}
	for (i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];
		struct ref_result want = {.verdict = c->verdict, .row = c->row, .slot = c->slot};
		struct ref_result got, got_audit;
		int len = pkt_build(&c->pkt, frame, sizeof(frame), err, sizeof(err));

		if (len < 0) {
			note(NULL, "%s: building the frame: %s", c->name, err);
			fails++;
			continue;
		}
		if (c->cut)
			len = c->cut;
		if (c->mcast_mac)
			memcpy(frame, (const uint8_t[]){0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}, 6);
		ref_classify(c->unprot_drop ? &rpu : &rp, NULL, frame, (size_t)len, &got, NULL);
		ref_classify(c->unprot_drop ? &auditu : &audit, NULL, frame, (size_t)len,
			     &got_audit, NULL);
		if (got.verdict != want.verdict || got.row != want.row ||
		    (want.row < 0 && got.slot != want.slot)) {
			ref_result_format(&want, a, sizeof(a));
			ref_result_format(&got, b, sizeof(b));
			note(NULL, "%s: expected %s, the reference says %s (%s)", c->name, a, b, got.why);
			fails++;
		}
		/* Audit: the same, but a drop is a pass counted as would-drop. */
		if (want.verdict == REF_DROP) {
			want.verdict = REF_PASS;
			want.slot += PICFW_REASONS;
		}
		if (got_audit.verdict != want.verdict || got_audit.row != want.row ||
		    (want.row < 0 && got_audit.slot != want.slot)) {
			ref_result_format(&want, a, sizeof(a));
			ref_result_format(&got_audit, b, sizeof(b));
			note(NULL, "%s (audit): expected %s, the reference says %s", c->name, a, b);
			fails++;
		}
	}
	ref_policy_free(&rp);
	ref_policy_free(&audit);
	ref_policy_free(&rpu);
	ref_policy_free(&auditu);
	return fails;
}

static void test_differential_reference_rules(void **state)
{
	(void)state;
	if (reference_rules())
		fail();
}

/* ---------------------------------------------------------- saved cases */

struct case_file {
	char *policy;
	uint8_t (*frames)[PKT_MAX];
	size_t *lens;
	int *egress; /* an `egress HEX` line: the TC egress program's */
	size_t n;
};

static void case_free(struct case_file *c)
{
	free(c->policy);
	free(c->frames);
	free(c->lens);
	free(c->egress);
	memset(c, 0, sizeof(*c));
}

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	size_t i = 0;

	while (s[0] && s[0] != '\n' && s[1] && s[1] != '\n') {
		unsigned v;

		if (i == cap || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[i++] = (uint8_t)v;
		s += 2;
	}
	*n = i;
	return 0;
}

static int case_load(const char *path, struct case_file *c)
{
	struct text pol = {0};
	char *line = NULL;
	size_t cap = 0;
	int in_policy = 0, ok = 0;
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof(*c));
	if (!f) {
		note(NULL, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		if (in_policy) {
			if (!strcmp(line, "--- end\n")) {
				in_policy = 0;
				ok = 1;
			} else {
				tprintf(&pol, "%s", line);
			}
		} else if (!strcmp(line, "--- policy\n")) {
			in_policy = 1;
		} else if (!strncmp(line, "frame ", 6) || !strncmp(line, "egress ", 7)) {
			int eg = line[0] == 'e';
			void *fr = realloc(c->frames, (c->n + 1) * sizeof(*c->frames));
			void *ln = realloc(c->lens, (c->n + 1) * sizeof(*c->lens));
			void *e = realloc(c->egress, (c->n + 1) * sizeof(*c->egress));

			if (!fr || !ln || !e)
				abort();
			c->frames = fr;
			c->lens = ln;
			c->egress = e;
			c->egress[c->n] = eg;
			if (unhex(line + (eg ? 7 : 6), c->frames[c->n], PKT_MAX, &c->lens[c->n])) {
				note(NULL, "%s: bad frame line", path);
				ok = 0;
				break;
			}
			c->n++;
		}
	}
	free(line);
	fclose(f);
	c->policy = pol.s ? pol.s : strdup("");
	if (!ok || !c->n) {
		note(NULL, "%s: needs a '--- policy' ... '--- end' block and 'frame HEX' (or 'egress "
		     "HEX') "
		     "lines",
		     path);
		case_free(c);
		return -1;
	}
	return 0;
}

/* Replay one case file: every frame must agree. Returns the mismatches (or 1). */
static unsigned replay_case(const char *path)
{
	struct case_file c;
	struct ref_policy rp;
	struct policy pol;
	const char *save_dir;
	char why[512], origin[PATH_MAX + 32];
	unsigned bad = 0;
	size_t i;

	if (case_load(path, &c))
		return 1;
	if (apply_text(c.policy, strlen(c.policy), &pol, why, sizeof(why))) {
		note(NULL, "%s: %s", path, why);
		case_free(&c);
		return 1;
	}
	if (ref_policy_from_policy(&pol, &rp))
		abort();
	state_clear(); /* a case starts from empty flow and fragment tables */
	history_reset();
	save_dir = env.save_dir;
	env.save_dir = NULL; /* a case already: nothing new to save */
	for (i = 0; i < c.n; i++) {
		snprintf(origin, sizeof(origin), "%s frame %zu", path, i);
		if (c.lens[i] < 14) {
			note(NULL, "%s: shorter than Ethernet, the kernel refuses it", origin);
			bad++;
			continue;
		}
		if (c.egress[i])
			bad += (unsigned)check_egress(&rp, c.policy, c.frames[i], c.lens[i], origin,
						      0);
		else
			bad += (unsigned)check_frame(&rp, c.policy, c.frames[i], c.lens[i], origin,
						     NULL);
	}
	bad += (unsigned)check_stray(path);
	env.save_dir = save_dir;
	ref_policy_free(&rp);
	policy_free(&pol);
	case_free(&c);
	return bad;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_differential_saved_cases(void **state)
{
	const char *replay = getenv("PICFW_DIFF_REPLAY"), *srcdir = getenv("PICFW_SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX * 2];
	char *names[1024];
	unsigned bad = 0, files = 0, i, n = 0;
	struct stat st;
	struct dirent *de;
	DIR *d;

	(void)state;
	if (replay && *replay && !stat(replay, &st) && !S_ISDIR(st.st_mode)) {
		bad = replay_case(replay);
		note(NULL, "replayed %s: %u mismatches", replay, bad);
		if (bad)
			fail();
		return;
	}
	if (replay && *replay)
		snprintf(dir, sizeof(dir), "%s", replay);
	else
		snprintf(dir, sizeof(dir), "%s/tests/reference/cases",
			 srcdir && *srcdir ? srcdir : ".");
	d = opendir(dir);
	if (!d) {
		note(NULL, "no saved cases in %s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < 1024)
		if (has_suffix(de->d_name, ".case"))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		unsigned b;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		b = replay_case(path);
		if (b)
			note(NULL, "%s: %u mismatches", path, b);
		bad += b;
		files++;
		free(names[i]);
	}
	note(NULL, "saved cases: %u files in %s, %u mismatches", files, dir, bad);
	if (bad)
		fail();
}

/* --------------------------------------------------------- the random run */

static int prefix_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ref_prefix));
}

/* Sets as sorted prefix lists, duplicates and all: the parser may reorder. */
static void ref_sort(struct ref_policy *rp)
{
	size_t i;

	qsort(rp->protect.v, rp->protect.n, sizeof(*rp->protect.v), prefix_cmp);
	for (i = 0; i < rp->nrows; i++) {
		qsort(rp->rows[i].src.v, rp->rows[i].src.n, sizeof(struct ref_prefix), prefix_cmp);
		qsort(rp->rows[i].dst.v, rp->rows[i].dst.n, sizeof(struct ref_prefix), prefix_cmp);
	}
}

static void test_differential_random(void **state)
{
	const char *sec = getenv("PICFW_DIFF_SECONDS"), *seed_env = getenv("PICFW_DIFF_SEED");
	const char *npol = getenv("PICFW_DIFF_POLICIES");
	double seconds = sec && *sec ? strtod(sec, NULL) : DEFAULT_SECONDS, t0 = now_s(), last;
	unsigned long packets = 0, egress = 0, policies = 0, applies = 0, mismatches = 0,
		      parser_bad = 0, first_bad = 0, clock_clears = 0;
	/* A count of policies, not a time: the run is the same on any machine. */
	unsigned long max_policies = npol && *npol ? strtoul(npol, NULL, 0) : 0;
	unsigned long counts[1 + PICFW_REASON_SLOTS] = {0};
	/* inline protected; LPM for IPv4, IPv6; big sets; local classes, of them inline */
	unsigned long paths[9] = {0};
	unsigned long shapes[3] = {0}, large_fit = 0; /* policies by enum g_shape */
	unsigned long fixed;
	double t_all = t0, fixed_s = 0;
	uint64_t seed;
	struct g_policy *g = calloc(1, sizeof(*g));
	uint8_t frame[PKT_MAX];
	unsigned u, i;

	(void)state;
	if (!g)
		abort();
	nkinds = 0; /* the saved cases' tally is theirs */
	seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 0)
				     : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed;
	env.seed = seed;
	memset(via_counts, 0, sizeof(via_counts));
	memset(trie_walks, 0, sizeof(trie_walks));
	memset(egress_counts, 0, sizeof(egress_counts));
	orphan_replies = 0;
	if (max_policies)
		note(NULL, "random: seed %llu for %lu policies (PICFW_DIFF_SEED=%llu "
		     "PICFW_DIFF_POLICIES=%lu to rerun)", (unsigned long long)seed, max_policies,
		     (unsigned long long)seed, max_policies);
	else
		note(NULL, "random: seed %llu for %.1f s (PICFW_DIFF_SEED=%llu "
		     "PICFW_DIFF_SECONDS=%.0f to rerun)", (unsigned long long)seed, seconds,
		     (unsigned long long)seed, seconds);
	last = t0;
	/* The heavy and large policies run whatever the time, but not with none (a replay). */
	fixed = max_policies || seconds > 0 ? FIXED_POLICIES : 0;

	while (max_policies ? policies < max_policies
			    : policies < fixed || now_s() - t0 < seconds) {
		int is_fixed = policies < fixed;
		unsigned k = rnd(100);

		if (policies < fixed && policies < HEAVY_POLICIES)
			random_policy(g, SHAPE_NESTED, 1);
		else if (policies < fixed || k < 1) /* long runs (make fuzz) meet it again */
			random_policy(g, SHAPE_LARGE, 1);
		else
			random_policy(g, k < 10 ? SHAPE_NESTED : SHAPE_RANDOM, k < 3);
		policies++;
		shapes[g->shape]++;
		state_clear(); /* flows and fragments live through a policy's updates */
		/* A large policy's apply writes and clears tens of thousands of LPM entries. */
		for (u = 0; u <= (g->shape == SHAPE_LARGE ? 1 : UPDATES_PER_POLICY) &&
			    (max_policies || is_fixed || now_s() - t0 < seconds);
		     u++) {
			struct text t = {0};
			struct ref_policy rp, parsed;
			struct policy pol;
			char why[512], origin[96];
			unsigned npk =
			    g->nrows > 200 || g->big ? PACKETS_PER_APPLY / 4 : PACKETS_PER_APPLY;

			if (u)
				mutate_policy(g);
			if (now_s() - env.state_since > STATE_SECONDS) {
				/* Never near a timeout (see state_clear()); by the clock, so said. */
				state_clear();
				clock_clears++;
				note(NULL, "seed %llu policy %lu update %u: flows and fragments "
				     "emptied after %.0f s (a rerun may not do it here)",
				     (unsigned long long)seed, policies, u, STATE_SECONDS);
			}
			policy_text(g, &t);
			history_reset();
			if (apply_text(t.s, t.n, &pol, why, sizeof(why))) {
				note(NULL, "seed %llu policy %lu update %u: %s", (unsigned long long)seed,
				     policies, u, why);
				save_case(t.s, (const uint8_t *)"", 0,
					  "a random policy the library refused", why, "-", "-");
				parser_bad++;
				if (!first_bad)
					first_bad = policies;
				free(t.s);
				break;
			}
			applies++;
			paths[0] += env.img.cfg.prot_inline != 0;
			paths[1] += !env.img.cfg.trie4;
			paths[2] += !env.img.cfg.trie6;
			paths[3] += (unsigned long)g->big;
			paths[4] += env.img.cfg.local != 0;
			paths[5] += env.img.cfg.local && env.img.cfg.prot_inline;
			paths[6] += env.img.cfg.row_table_classes != 0;
			paths[7] += !env.img.cfg.row_table_classes && !env.img.cfg.local;
			paths[8] += env.img.cfg.row_table_classes &&
				    env.img.cfg.row_table_classes < max_inbound_class(&env.img);
			if (g->shape == SHAPE_LARGE && !u &&
			    (g->large_family == 4 ? env.img.cfg.trie4 : env.img.cfg.trie6)) {
				/* Made to overflow the array trie: no longer does. */
				note(NULL, "seed %llu policy %lu: the large policy's IPv%d "
				     "prefixes fit the array trie (%u nodes): large_sets() "
				     "must make more to test the LPM fallback",
				     (unsigned long long)seed, policies, g->large_family,
				     env.img.cfg.trie_nodes);
				large_fit++;
				if (!first_bad)
					first_bad = policies;
			}
			model_to_ref(g, &rp);
			if (ref_policy_from_policy(&pol, &parsed))
				abort();
			ref_sort(&parsed);
			{
				struct ref_policy sorted;

				model_to_ref(g, &sorted);
				ref_sort(&sorted);
				if (!ref_policy_equal(&sorted, &parsed)) {
					note(NULL, "seed %llu policy %lu update %u: the parser read "
					     "something else than was written",
					     (unsigned long long)seed, policies, u);
					save_case(t.s, (const uint8_t *)"", 0, "parser disagrees",
						  "the generator's model", "the parsed policy",
						  "-");
					parser_bad++;
				}
				ref_policy_free(&sorted);
			}
			ref_policy_free(&parsed);
			for (i = 0; i < npk; i++) {
				size_t len;

				/* The Edge sends now and then: flows open, replies answer them. */
				if (chance(g->replies == PICFW_REPLIES_TRACKED ? 20 : 3)) {
					len = egress_frame(&rp, frame);
					snprintf(origin, sizeof(origin),
						 "seed %llu policy %lu update %u egress frame %u",
						 (unsigned long long)seed, policies, u, i);
					mismatches += (unsigned long)check_egress(&rp, t.s, frame,
										  len, origin, 1);
					egress++;
				}
				len = random_frame(&rp, frame);
				snprintf(origin, sizeof(origin),
					 "seed %llu policy %lu update %u frame %u",
					 (unsigned long long)seed, policies, u, i);
				mismatches += (unsigned long)check_frame(&rp, t.s, frame, len,
									 origin, counts);
				packets++;
			}
			snprintf(origin, sizeof(origin), "seed %llu policy %lu update %u",
				 (unsigned long long)seed, policies, u);
			mismatches += (unsigned long)check_stray(origin);
			if ((mismatches || parser_bad) && !first_bad)
				first_bad = policies;
			ref_policy_free(&rp);
			policy_free(&pol);
			free(t.s);
		}
		if (is_fixed && policies == fixed) {
			t0 = now_s(); /* the time given is the random policies' */
			fixed_s = t0 - t_all;
		}
		if (!quiet && now_s() - last > 30) {
			last = now_s();
			note(NULL, "random: seed %llu, %.0f s, %lu policies, %lu applies, %lu frames, "
			     "%lu mismatches",
			     (unsigned long long)seed, last - t_all, policies, applies, packets,
			     mismatches);
		}
	}
	for (i = 0; i < G_MAX_SETS; i++)
		free(g->sets[i].v);
	free(g->nest[0].v);
	free(g->nest[1].v);
	for (i = 0; i < G_LOCALS; i++)
		free(g->locals[i].v);
	free(g);
	note(NULL, "random: seed %llu, %.1f s: %lu policies, %lu applies (updates included, %lu of "
	     "them over 1024 rows across old and new: slots afresh), %lu frames, %lu mismatches, "
	     "%lu policies refused or misread",
	     (unsigned long long)seed, now_s() - t_all, policies, applies, env.resets, packets,
	     mismatches, parser_bad);
	note(NULL, "random: policies random %lu, nested %lu (the first %lu heavy), large %lu; "
	     "the heavy and large ones took %.1f s",
	     shapes[SHAPE_RANDOM], shapes[SHAPE_NESTED],
	     fixed < HEAVY_POLICIES ? fixed : HEAVY_POLICIES, shapes[SHAPE_LARGE], fixed_s);
	{
		char line[512];
		size_t n = 0;

		n += (size_t)snprintf(line, sizeof(line), "random: reference outcomes: row %lu",
				      counts[0]);
		for (i = 0; i < PICFW_REASON_SLOTS; i++)
			if (counts[1 + i])
				n += (size_t)snprintf(line + n, sizeof(line) - n, ", %s%s %lu",
						      i >= PICFW_REASONS ? "would-drop " : "",
						      ref_reason_name(i % PICFW_REASONS),
						      counts[1 + i]);
		note(NULL, "%s", line);
	}
	note(NULL, "random: tracked replies passed %lu (%lu more of a known flow that no outbound row "
	     "allows now), later fragments passed %lu; egress frames %lu: "
	     "flows opened %lu, picked up %lu, refreshed %lu, nothing %lu",
	     via_counts[REF_VIA_FLOW], orphan_replies, via_counts[REF_VIA_FRAG], egress,
	     egress_counts[REF_EG_OPENED], egress_counts[REF_EG_PICKED_UP],
	     egress_counts[REF_EG_REFRESHED], egress_counts[REF_EG_NOTHING]);
	note(NULL, "random: applies with the protected set inline %lu, IPv4 in the LPM trie %lu, "
	     "IPv6 in the LPM trie %lu (array trie otherwise), with a set of thousands %lu, "
	     "with rows on a service's part of the protected set %lu (%lu of them inline); "
	     "inbound rows matched by the row table %lu (%lu of them holding only some port "
	     "classes), by the bitmaps %lu (and where rows are on a service's part)",
	     paths[0], paths[1], paths[2], paths[3], paths[4], paths[5], paths[6], paths[8],
	     paths[7]);
	note(NULL, "random: frames' source addresses in the array trie: a miss %lu, a class %lu, "
	     "a tail that holds them %lu, one that does not %lu, through a skip %lu, a skip that "
	     "does not hold them %lu; in an LPM trie %lu",
	     trie_walks[TW_MISS], trie_walks[TW_CLASS], trie_walks[TW_TAIL_IN],
	     trie_walks[TW_TAIL_OUT], trie_walks[TW_SKIP_IN], trie_walks[TW_SKIP_OUT],
	     trie_walks[TW_LPM]);
	for (i = 0; i < nkinds; i++)
		note(NULL, "random: %lu mismatches of the kind: %s", kinds[i].n, kinds[i].kind);
	printf("DIFF-STATS policies=%lu applies=%lu frames=%lu mismatches=%lu refused=%lu\n",
	       policies, applies, packets, mismatches, parser_bad);
	if (mismatches || parser_bad || large_fit) {
		note(NULL, "random: FAILED with seed %llu, first in policy %lu: rerun with "
		     "PICFW_DIFF_SEED=%llu PICFW_DIFF_POLICIES=%lu%s",
		     (unsigned long long)seed, first_bad, (unsigned long long)seed, first_bad,
		     clock_clears ? " (the clock emptied the flows during this run: a rerun may "
				    "differ there)" : "");
		fail();
	}
}

/* ------------------------------------------------------------------ main */

/* BUILD/diff-cases, BUILD being the directory above this binary's. */
static const char *default_save_dir(void)
{
	static char dir[PATH_MAX + 16];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(dir, sizeof(dir), "%s/diff-cases", exe);
	return dir;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_differential_reference_rules),
	    cmocka_unit_test(test_differential_saved_cases),
	    cmocka_unit_test(test_differential_random),
	};
	const char *save = getenv("PICFW_DIFF_SAVE"), *q = getenv("PICFW_DIFF_QUIET");
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(test_libbpf_print);
	quiet = q && *q == '1';
	env.save_dir = save && *save ? save : default_save_dir();
	env_setup();
	if (!env.ready) {
		/*
		 * No program: the oracle's table still runs, the rest is a SKIP
		 * with its reason (cmocka 1.1 would print "not ok # SKIP").
		 */
		unsigned bad;

		printf("1..3\n");
		bad = reference_rules();
		printf("%s 1 - test_differential_reference_rules\n", bad ? "not ok" : "ok");
		printf("ok 2 - test_differential_saved_cases # SKIP %s\n", env.skip_why);
		printf("ok 3 - test_differential_random # SKIP %s\n", env.skip_why);
		env_teardown();
		return bad ? 1 : 0;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = cmocka_run_group_tests_name("differential", tests, NULL, NULL);
	env_teardown();
	return ret ? 1 : 0;
}
