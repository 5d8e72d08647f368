// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * compile.c - rows and sets to map images (see compile.h).
 *
 * Address classes. The kernel's LPM trie returns only the longest matching
 * prefix, so each prefix must carry every row whose remote set covers the
 * addresses it is the longest match for: its own rows plus those of every
 * shorter prefix that contains it. Sorting the prefixes by address, then
 * length, visits them in trie pre-order, so a stack of open ancestors gives
 * each one its inherited rows in O(n log n).
 *
 * Port classes. Row ranges cut 1..65535 into at most 2 * rows + 1 segments;
 * each segment's rows are computed once and every port of it gets the class.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "policy_match.h"

#define CLASS_HASH_SIZE (2 * PICFW_MAX_CLASSES)

struct classes {
	struct picfw_bits *v;
	size_t n;
	int32_t *hash; /* index into v, -1 = empty */
};

/* Small, so that sorting 100,000 of them moves little: rows come from the set. */
struct remote_entry {
	struct prefix p;
	int set; /* the set this prefix came from */
};

/* An open ancestor while walking prefixes in pre-order: at most one per length. */
struct remote_open {
	struct prefix p;
	struct picfw_bits rows;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t bits_hash(const struct picfw_bits *b)
{
	uint64_t h = FNV1A64_BASIS;
	size_t i;

	for (i = 0; i < PICFW_ROW_WORDS; i++) {
		h ^= b->words[i];
		h *= 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

static int bits_empty(const struct picfw_bits *b)
{
	return b->summary == 0;
}

static void bits_or(struct picfw_bits *dst, const struct picfw_bits *src)
{
	size_t i;

	for (i = 0; i < PICFW_ROW_WORDS; i++)
		dst->words[i] |= src->words[i];
	dst->summary |= src->summary;
}

static int classes_init(struct classes *c)
{
	size_t i;

	c->v = calloc(PICFW_MAX_CLASSES, sizeof(*c->v));
	c->hash = malloc(CLASS_HASH_SIZE * sizeof(*c->hash));
	if (!c->v || !c->hash)
		return -1;
	for (i = 0; i < CLASS_HASH_SIZE; i++)
		c->hash[i] = -1;
	c->n = 1; /* class 0: no row */
	return 0;
}

/* The class id of a row set, adding it when new; -1 when the table is full. */
static int32_t classes_intern(struct classes *c, const struct picfw_bits *b)
{
	size_t h;

	if (bits_empty(b))
		return 0;
	h = bits_hash(b) & (CLASS_HASH_SIZE - 1);
	while (c->hash[h] >= 0) {
		if (!memcmp(&c->v[c->hash[h]], b, sizeof(*b)))
			return c->hash[h];
		h = (h + 1) & (CLASS_HASH_SIZE - 1);
	}
	if (c->n >= PICFW_MAX_CLASSES)
		return -1;
	c->v[c->n] = *b;
	c->hash[h] = (int32_t)c->n;
	return (int32_t)c->n++;
}

static int remote_entry_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct remote_entry *)a)->p,
			  &((const struct remote_entry *)b)->p);
}

static int image_prefix_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct image_prefix *)a)->p,
			  &((const struct image_prefix *)b)->p);
}

/* The remote trie of one family: prefixes with their inherited row classes. */
/* The sets whose prefixes made the most new classes (made[set] of them). */
static void blame_sets(const struct policy *p, const uint32_t *made, struct compile_blame *blame)
{
	size_t i;
	unsigned k;

	blame->nset = 0;
	for (k = 0; k < COMPILE_BLAME_MAX; k++) {
		int best = -1;

		for (i = 0; i < p->nsets; i++) {
			unsigned j;
			int taken = 0;

			for (j = 0; j < blame->nset; j++)
				taken |= blame->set[j] == (int)i;
			if (!taken && made[i] && (best < 0 || made[i] > made[best]))
				best = (int)i;
		}
		if (best < 0)
			break;
		blame->set[blame->nset++] = best;
	}
}

/*
 * The remote trie of one family: the prefixes of every set some row names
 * (set_rows[set] not empty), and of set keep (-1: none) whatever its rows,
 * each with the class of rows whose set holds the addresses for which it is
 * the longest match. Also the local classes of the protected addresses.
 * made[set] counts the classes each set's prefixes added, for naming the
 * sets to blame when the table overflows.
 */
static int compile_remote(const struct policy *p, const struct picfw_bits *set_rows, int keep,
			  uint8_t family, struct classes *cls, struct image_prefix **out,
			  size_t *nout, uint32_t *made, struct compile_blame *blame, char *err,
			  size_t errlen)
{
	struct remote_entry *e = NULL;
	struct remote_open *stack = NULL;
	struct image_prefix *img = NULL;
	size_t n = 0, i, j, depth = 0, m = 0;
	int ret = -1;

	for (i = 0; i < p->nsets; i++) {
		if (bits_empty(&set_rows[i]) && (int)i != keep)
			continue;
		for (j = 0; j < p->sets[i].nprefixes; j++)
			n += p->sets[i].prefixes[j].family == family;
	}
	if (n > PICFW_MAX_PREFIXES / PICFW_GENERATIONS) {
		fail(err, errlen, "%zu IPv%u prefixes in the rows' sets, over the limit of %u",
		     n, family, PICFW_MAX_PREFIXES / PICFW_GENERATIONS);
		return -1;
	}
	e = calloc(n ? n : 1, sizeof(*e));
	img = calloc(n ? n : 1, sizeof(*img));
	stack = calloc(129, sizeof(*stack));
	if (!e || !img || !stack) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	n = 0;
	for (i = 0; i < p->nsets; i++) {
		if (bits_empty(&set_rows[i]) && (int)i != keep)
			continue;
		for (j = 0; j < p->sets[i].nprefixes; j++) {
			if (p->sets[i].prefixes[j].family != family)
				continue;
			e[n].p = p->sets[i].prefixes[j];
			e[n].set = (int)i;
			n++;
		}
	}
	qsort(e, n, sizeof(*e), remote_entry_cmp);

	for (i = 0; i < n; i++) {
		struct remote_entry *cur = &e[i];
		size_t before = cls->n, first = i, k;
		struct picfw_bits rows = set_rows[cur->set];
		int32_t class;

		/* The same prefix in several sets: one trie entry with all their rows. */
		while (i + 1 < n && !prefix_cmp(&e[i + 1].p, &cur->p)) {
			bits_or(&rows, &set_rows[e[i + 1].set]);
			i++;
		}
		while (depth && !prefix_covers(&stack[depth - 1].p, &cur->p))
			depth--;
		if (depth)
			bits_or(&rows, &stack[depth - 1].rows);
		/* Distinct nested prefixes differ in length: at most 129 open at once. */
		stack[depth].p = cur->p;
		stack[depth].rows = rows;
		depth++;

		class = classes_intern(cls, &rows);
		for (k = first; k <= i && (class < 0 || cls->n > before); k++)
			made[e[k].set]++;
		if (class < 0) {
			fail(err, errlen,
			     "more than %u distinct address and port classes (row sets that "
			     "nested and overlapping prefixes make)",
			     PICFW_MAX_CLASSES - 1);
			if (blame)
				blame_sets(p, made, blame);
			goto out;
		}
		img[m].p = cur->p;
		img[m].class = (uint32_t)class;
		m++;
	}
	*out = img;
	*nout = m;
	img = NULL;
	ret = 0;
out:
	free(e);
	free(img);
	free(stack);
	return ret;
}

/* The protected set when every row's local side is all of it: one class, 1, unused. */
static int compile_protected(const struct addr_set *set, uint8_t family, struct image_prefix **out,
			     size_t *nout, char *err, size_t errlen)
{
	struct image_prefix *img;
	size_t i, n = 0, m = 0;

	for (i = 0; i < set->nprefixes; i++)
		n += set->prefixes[i].family == family;
	if (n > PICFW_MAX_PREFIXES / PICFW_GENERATIONS) {
		fail(err, errlen, "%zu IPv%u prefixes in the protected set, over the limit of %u",
		     n, family, PICFW_MAX_PREFIXES / PICFW_GENERATIONS);
		return -1;
	}
	img = calloc(n ? n : 1, sizeof(*img));
	if (!img) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < set->nprefixes; i++) {
		if (set->prefixes[i].family != family)
			continue;
		img[m].p = set->prefixes[i];
		img[m].class = 1;
		m++;
	}
	qsort(img, m, sizeof(*img), image_prefix_cmp);
	/* Drop exact duplicates; the trie would keep one anyway. */
	for (i = 0, n = 0; i < m; i++)
		if (!n || prefix_cmp(&img[n - 1].p, &img[i].p))
			img[n++] = img[i];
	*out = img;
	*nout = n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Port classes of one transport and direction: inbound rows by destination
 * port, outbound by source.
 */
static int compile_ports(const struct policy *p, unsigned transport, unsigned dir,
			 struct classes *cls, struct picfw_port_classes *ports, char *err,
			 size_t errlen)
{
	uint32_t *cut;
	size_t ncut = 0, i, k;

	cut = malloc((2 * p->nrows + 2) * sizeof(*cut));
	if (!cut) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	cut[ncut++] = 1;
	cut[ncut++] = PICFW_PORTS;
	for (i = 0; i < p->nrows; i++) {
		if (p->rows[i].transport != transport)
			continue;
		cut[ncut++] = p->rows[i].port_lo;
		cut[ncut++] = (uint32_t)p->rows[i].port_hi + 1;
	}
	qsort(cut, ncut, sizeof(*cut), cmp_u32);

	for (k = 0; k + 1 < ncut; k++) {
		uint32_t lo = cut[k], hi = cut[k + 1], port;
		struct picfw_bits rows = { 0 };
		uint16_t any = 0;
		int32_t class;

		if (lo == hi)
			continue;
		for (i = 0; i < p->nrows; i++) {
			const struct row *r = &p->rows[i];

			if (r->transport == transport && r->direction == dir &&
			    r->port_lo <= lo && lo <= r->port_hi) {
				/*
				 * The class's first row covers every remote and
				 * every protected address: no lookup.
				 */
				if (bits_empty(&rows) && row_local_set(r) == p->protect &&
				    policy_set_matches_all(&p->sets[row_remote_set(r)]))
					any = (uint16_t)(i + 1);
				bits_set(&rows, (unsigned)i);
			}
		}
		class = classes_intern(cls, &rows);
		if (class < 0) {
			free(cut);
			fail(err, errlen, "more than %u distinct address and port classes",
			     PICFW_MAX_CLASSES - 1);
			return -1;
		}
		for (port = lo; port < hi; port++) {
			if (dir == PICFW_DIR_IN) {
				ports[port].dst_class = (uint16_t)class;
				ports[port].dst_any = any;
			} else {
				ports[port].src_class = (uint16_t)class;
				ports[port].src_any = any;
			}
		}
	}
	free(cut);
	return 0;
}

struct trie_build {
	struct picfw_trie_node *nodes;
	uint32_t n;
	struct picfw_trie_tail *tails;
	uint32_t ntails;
	struct image_prefix *scratch; /* for the stable partitions below */
};

/* A slot's one prefix as a tail: masked words, the class, the slot's own class. */
static void tail_fill(struct picfw_trie_tail *t, const struct image_prefix *ip, uint32_t other)
{
	uint8_t mask[16] = { 0 }, addr[16];
	unsigned i;

	for (i = 0; i < ip->p.len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (i = 0; i < 16; i++)
		addr[i] = ip->p.addr[i] & mask[i];
	memcpy(t->addr, addr, 16);
	memcpy(t->mask, mask, 16);
	t->class = ip->class;
	t->other = other;
}

/*
 * The byte down to which prefixes v[0..n) (sorted, sharing bytes up to
 * level) all share their bytes and all go on: the level a child node for
 * them can start at, skipping the one-way nodes in between.
 */
static unsigned trie_skip_level(const struct image_prefix *v, size_t n, unsigned level)
{
	unsigned common = 0, shortest = 128, top = v[0].p.family == 4 ? 3 : 15;
	size_t i;

	/* Sorted by address: the first and the last share what all share. */
	while (common < 16 && v[0].p.addr[common] == v[n - 1].p.addr[common])
		common++;
	for (i = 0; i < n; i++)
		if (v[i].p.len < shortest)
			shortest = v[i].p.len;
	/* Each must end below the child's byte: longer than 8 * its level. */
	if (common > (shortest - 1) / 8)
		common = (shortest - 1) / 8;
	if (common > top)
		common = top;
	return common > level ? common : level + 1;
}

/*
 * Fill node `node`, at address byte `level`, with v[0..n): prefixes longer
 * than 8 * level that share the bytes before level, sorted by address then
 * length (trie pre-order), over the class c its slot had. Prefixes that end
 * in this node are expanded over their slices first (pre-order puts a
 * prefix before those it covers, so a longer one overwrites its own slice);
 * then the longer ones, grouped by their byte here: one alone becomes a
 * tail, several a child node filled the same way one byte down (or at the
 * byte a skip leads to). Recursive, one call per level: 16 deep at most.
 */
// NOLINTNEXTLINE(misc-no-recursion): bounded by the 16 bytes of an address
static int trie_fill(struct trie_build *t, uint32_t node, unsigned level, struct image_prefix *v,
		     size_t n, uint32_t c)
{
	unsigned end = 8 * (level + 1);
	size_t i, j, nshort = 0;

	for (j = 0; j < 256; j++)
		t->nodes[node].e[j] = c;
	for (i = 0; i < n; i++) {
		unsigned b, span, start;

		if (v[i].p.len > end)
			continue;
		b = v[i].p.len - 8 * level;
		span = 1u << (8 - b);
		start = v[i].p.addr[level] & ~(span - 1) & 0xff;
		for (j = start; j < start + span; j++)
			t->nodes[node].e[j] = v[i].class;
		nshort++;
	}
	/* Stable partition: the longer prefixes, still in pre-order, after the rest. */
	if (nshort && nshort < n) {
		size_t s = 0, l = nshort;

		for (i = 0; i < n; i++)
			t->scratch[v[i].p.len > end ? l++ : s++] = v[i];
		memcpy(v, t->scratch, n * sizeof(*v));
	}
	for (i = nshort; i < n; i = j) {
		uint8_t byte = v[i].p.addr[level];
		uint32_t *e = &t->nodes[node].e[byte], child;
		unsigned skip;

		for (j = i + 1; j < n && v[j].p.addr[level] == byte; j++)
			;
		if (j - i == 1) {
			if (t->ntails >= PICFW_TRIE_TAILS)
				return -1;
			tail_fill(&t->tails[t->ntails], &v[i], *e);
			*e = PICFW_TRIE_TAIL | t->ntails++;
			continue;
		}
		if (t->n >= PICFW_TRIE_NODES)
			return -1;
		child = t->n++;
		c = *e;
		skip = trie_skip_level(v + i, j - i, level);
		if (skip > level + 1) {
			/* A chain of one-way nodes: one skip tail instead (see PICFW_TRIE_SKIP). */
			struct image_prefix at = v[i];

			if (t->ntails >= PICFW_TRIE_TAILS)
				return -1;
			at.p.len = (uint8_t)(8 * skip);
			tail_fill(&t->tails[t->ntails], &at, c);
			t->tails[t->ntails].class = child | skip << PICFW_TRIE_SKIP_SHIFT;
			*e = PICFW_TRIE_CHILD | PICFW_TRIE_TAIL | t->ntails++;
		} else {
			skip = level + 1;
			*e = PICFW_TRIE_CHILD | child;
		}
		if (trie_fill(t, child, skip, v + i, j - i, c)) // NOLINT(misc-no-recursion)
			return -1;
	}
	return 0;
}

/* Build a family's trie; on running out of nodes or tails, leave the trie as it was. */
static int trie_family(struct trie_build *t, uint32_t root, const struct image_prefix *v, size_t n)
{
	struct image_prefix *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	uint32_t saved = t->n, saved_tails = t->ntails, j;

	if (!sorted)
		return -1;
	/* compile_remote made v in prefix order (address, then length). */
	memcpy(sorted, v, n * sizeof(*v));
	if (trie_fill(t, root, 0, sorted, n, 0)) {
		for (j = saved; j < t->n; j++)
			memset(&t->nodes[j], 0, sizeof(t->nodes[j]));
		t->n = saved;
		t->ntails = saved_tails;
		memset(&t->nodes[root], 0, sizeof(t->nodes[root]));
		free(sorted);
		return -1;
	}
	free(sorted);
	return 0;
}

static int compile_trie(struct policy_image *img)
{
	struct trie_build t = { .n = 2 };
	size_t most = img->nsrc4 > img->nsrc6 ? img->nsrc4 : img->nsrc6;

	t.nodes = calloc(PICFW_TRIE_NODES, sizeof(*t.nodes));
	t.tails = calloc(PICFW_TRIE_TAILS, sizeof(*t.tails));
	t.scratch = malloc((most ? most : 1) * sizeof(*t.scratch));
	if (!t.nodes || !t.tails || !t.scratch) {
		free(t.nodes);
		free(t.tails);
		free(t.scratch);
		return -1;
	}
	img->cfg.trie4 = !trie_family(&t, 0, img->src4, img->nsrc4);
	img->cfg.trie6 = !trie_family(&t, 1, img->src6, img->nsrc6);
	free(t.scratch);
	img->cfg.trie_nodes = t.n;
	img->ntrie = t.n;
	/* Keep what is used; the rest of the table stays zero in the map. */
	img->trie = realloc(t.nodes, t.n * sizeof(*t.nodes));
	if (!img->trie)
		img->trie = t.nodes;
	img->ntails = t.ntails;
	img->tails = realloc(t.tails, (t.ntails ? t.ntails : 1) * sizeof(*t.tails));
	if (!img->tails)
		img->tails = t.tails;
	return 0;
}

uint32_t image_trie_lookup(const struct policy_image *img, uint8_t family, const uint8_t *addr)
{
	uint32_t node = family == 6, v, i, k, w[4];
	const struct picfw_trie_tail *t;

	memcpy(w, addr, family == 4 ? 4 : 16);
	for (i = 0; i < (family == 4 ? 4u : 16u); i++) {
		v = img->trie[node].e[addr[i]];
		if (!(v & PICFW_TRIE_TAIL)) {
			if (!(v & PICFW_TRIE_CHILD))
				return v;
			node = v & (PICFW_TRIE_NODES - 1);
			continue;
		}
		t = &img->tails[v & (PICFW_TRIE_TAILS - 1)];
		for (k = 0; k < (family == 4 ? 1u : 4u); k++)
			if ((w[k] & t->mask[k]) != t->addr[k])
				return t->other;
		if (!(v & PICFW_TRIE_CHILD))
			return t->class;
		/* A skip: on at its node, at its byte. */
		node = t->class & (PICFW_TRIE_NODES - 1);
		i = (t->class >> PICFW_TRIE_SKIP_SHIFT) - 1;
	}
	return 0;
}

/* A protected set of a few host addresses goes into the generation's settings. */
static void inline_protected(struct policy_image *img)
{
	struct picfw_gen_cfg *cfg = &img->cfg;
	size_t i;

	if (img->nprot4 > PICFW_PROT_INLINE || img->nprot6 > PICFW_PROT_INLINE)
		return;
	for (i = 0; i < img->nprot4; i++)
		if (img->prot4[i].p.len != 32)
			return;
	for (i = 0; i < img->nprot6; i++)
		if (img->prot6[i].p.len != 128)
			return;
	for (i = 0; i < img->nprot4; i++) {
		memcpy(cfg->prot4[i], img->prot4[i].p.addr, 4);
		cfg->prot4_local[i] = (uint16_t)img->prot4[i].class;
	}
	for (i = 0; i < img->nprot6; i++) {
		memcpy(cfg->prot6[i], img->prot6[i].p.addr, 16);
		cfg->prot6_local[i] = (uint16_t)img->prot6[i].class;
	}
	cfg->nprot4 = (uint32_t)img->nprot4;
	cfg->nprot6 = (uint32_t)img->nprot6;
	cfg->prot_inline = 1;
}

/* The first row in both a and b, or -1. */
static int bits_first_common(const struct picfw_bits *a, const struct picfw_bits *b)
{
	uint64_t sum = a->summary & b->summary, m;
	unsigned w;

	for (w = 0; sum; w++, sum >>= 1) {
		if (!(sum & 1))
			continue;
		m = a->words[w] & b->words[w];
		if (m)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(m));
	}
	return -1;
}

/* The row table's cells per generation; tests lower it (compile_set_row_cells). */
static size_t row_cells = PICFW_ROW_CELLS;

void compile_set_row_cells(size_t cells)
{
	row_cells = cells && cells <= PICFW_ROW_CELLS ? cells : PICFW_ROW_CELLS;
}

/*
 * The row table (see picfw_row_table): the first row of every pair of
 * inbound port class 1..T and class, for as many port classes T as fit, when
 * every row's local side is the whole protected set. Else none, and
 * cfg.row_table_classes stays 0.
 */
static int compile_row_table(struct policy_image *img, size_t ninbound)
{
	size_t d, a, n = img->nclasses, t;
	uint16_t *cell;

	img->cfg.row_table = 0;
	img->cfg.row_table_classes = 0;
	if (img->cfg.local || ninbound < 2)
		return 0;
	t = row_cells / n < ninbound - 1 ? row_cells / n : ninbound - 1;
	if (!t)
		return 0;
	img->nrow_table = t * n;
	img->row_table = malloc(img->nrow_table * sizeof(*img->row_table));
	if (!img->row_table)
		return -1;
	cell = img->row_table;
	/* Class by class: the T port classes' bitmaps stay in cache, the classes are read once. */
	for (a = 0; a < n; a++)
		for (d = 1; d <= t; d++)
			cell[(d - 1) * n + a] = (uint16_t)(bits_first_common(&img->classes[d],
									     &img->classes[a]) + 1);
	img->cfg.row_table = (uint32_t)n;
	img->cfg.row_table_classes = (uint32_t)t;
	return 0;
}

static unsigned bits_count(const struct picfw_bits *b)
{
	unsigned w, c = 0;

	for (w = 0; w < PICFW_ROW_WORDS; w++)
		c += (unsigned)__builtin_popcountll(b->words[w]);
	return c;
}

struct class_rank {
	uint32_t rows;
	uint32_t class;
};

/* Most rows first; then in the order made. */
static int class_rank_cmp(const void *a, const void *b)
{
	const struct class_rank *x = a, *y = b;

	if (x->rows != y->rows)
		return x->rows > y->rows ? -1 : 1;
	return x->class < y->class ? -1 : x->class > y->class;
}

/*
 * Renumber the inbound port classes 1..ninbound - 1, those with the most rows
 * first, so that a row table too small for all of them holds those of the
 * ports most rows name (see picfw_row_table): in the classes, their hash and
 * the ports' dst_class.
 */
static int order_inbound(struct classes *cls, size_t ninbound,
			 struct picfw_port_classes (*ports)[PICFW_PORTS])
{
	struct class_rank *rank;
	struct picfw_bits *v;
	uint32_t *to;
	size_t k, h;
	unsigned t, port;

	if (ninbound < 3)
		return 0;
	rank = malloc(ninbound * sizeof(*rank));
	v = malloc(ninbound * sizeof(*v));
	to = malloc(ninbound * sizeof(*to));
	if (!rank || !v || !to) {
		free(rank);
		free(v);
		free(to);
		return -1;
	}
	for (k = 1; k < ninbound; k++) {
		rank[k - 1].rows = bits_count(&cls->v[k]);
		rank[k - 1].class = (uint32_t)k;
	}
	qsort(rank, ninbound - 1, sizeof(*rank), class_rank_cmp);
	to[0] = 0;
	for (k = 1; k < ninbound; k++) {
		to[rank[k - 1].class] = (uint32_t)k;
		v[k] = cls->v[rank[k - 1].class];
	}
	memcpy(&cls->v[1], &v[1], (ninbound - 1) * sizeof(*v));
	for (h = 0; h < CLASS_HASH_SIZE; h++)
		if (cls->hash[h] > 0 && (size_t)cls->hash[h] < ninbound)
			cls->hash[h] = (int32_t)to[cls->hash[h]];
	for (t = 0; t < PICFW_TRANSPORTS; t++)
		for (port = 0; port < PICFW_PORTS; port++)
			ports[t][port].dst_class = (uint16_t)to[ports[t][port].dst_class];
	free(rank);
	free(v);
	free(to);
	return 0;
}

int compile_policy(const struct policy *p, struct policy_image *img, char *err, size_t errlen)
{
	return compile_policy_blame(p, img, err, errlen, NULL);
}

int compile_policy_blame(const struct policy *p, struct policy_image *img, char *err,
			 size_t errlen, struct compile_blame *blame)
{
	struct picfw_bits *set_rows = NULL, *local_rows = NULL;
	uint32_t *made = NULL;
	struct classes cls = { 0 };
	size_t i, ninbound;
	unsigned t;

	memset(img, 0, sizeof(*img));
	if (blame)
		blame->nset = 0;
	if (p->nrows > PICFW_MAX_ROWS) {
		fail(err, errlen, "%zu rows, over the limit of %u", p->nrows, PICFW_MAX_ROWS);
		return -1;
	}
	if (p->protect < 0 || (size_t)p->protect >= p->nsets) {
		fail(err, errlen, "policy has no protected set");
		return -1;
	}
	img->mode = p->mode;
	img->nrows = (uint32_t)p->nrows;
	img->cfg.mode = p->mode;
	img->cfg.nrows = (uint32_t)p->nrows;
	img->cfg.replies = p->replies;
	img->cfg.icmp_strict = p->icmp_strict;
	img->cfg.unprotected = p->unprotected;
	img->flows[PICFW_TCP] = p->flows[PICFW_TCP];
	img->flows[PICFW_UDP] = p->flows[PICFW_UDP];
	for (t = 0; t < PICFW_TIMEOUTS; t++)
		img->cfg.timeout_ns[t] = (uint64_t)p->timeout[t] * 1000000000ULL;

	set_rows = calloc(p->nsets ? p->nsets : 1, sizeof(*set_rows));
	local_rows = calloc(p->nsets ? p->nsets : 1, sizeof(*local_rows));
	made = calloc(p->nsets ? p->nsets : 1, sizeof(*made));
	img->ports = calloc(PICFW_TRANSPORTS, sizeof(*img->ports));
	img->rows = calloc(p->nrows ? p->nrows : 1, sizeof(*img->rows));
	if (!set_rows || !local_rows || !made || !img->ports || !img->rows ||
	    classes_init(&cls)) {
		fail(err, errlen, "out of memory");
		goto fail;
	}

	/* Which rows name each set as their remote side, and as their local side. */
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];
		struct picfw_row_meta *m = &img->rows[i];

		bits_set(&set_rows[row_remote_set(r)], (unsigned)i);
		bits_set(&local_rows[row_local_set(r)], (unsigned)i);
		if (row_local_set(r) != p->protect)
			img->cfg.local = 1;
		snprintf(m->name, sizeof(m->name), "%s", r->name);
		m->in_use = 1;
		m->direction = r->direction;
		m->transport = r->transport;
		m->port_lo = r->port_lo;
		m->port_hi = r->port_hi;
	}

	/*
	 * Port classes first: they are 16-bit in picfw_port_classes. Inbound
	 * ones before any other, so that they are 1..ninbound - 1 (the row
	 * table's rows, most rows first): every class interned until then is
	 * one of them.
	 */
	for (t = 0; t < PICFW_TRANSPORTS; t++)
		if (compile_ports(p, t, PICFW_DIR_IN, &cls, img->ports[t], err, errlen))
			goto fail;
	ninbound = cls.n;
	if (order_inbound(&cls, ninbound, img->ports)) {
		fail(err, errlen, "out of memory");
		goto fail;
	}
	for (t = 0; t < PICFW_TRANSPORTS; t++)
		if (compile_ports(p, t, PICFW_DIR_OUT, &cls, img->ports[t], err, errlen))
			goto fail;
	if (compile_remote(p, set_rows, -1, 4, &cls, &img->src4, &img->nsrc4, made, blame, err,
			   errlen) ||
	    compile_remote(p, set_rows, -1, 6, &cls, &img->src6, &img->nsrc6, made, blame, err,
			   errlen))
		goto fail;
	if (!img->cfg.local) {
		if (compile_protected(&p->sets[p->protect], 4, &img->prot4, &img->nprot4, err,
				      errlen) ||
		    compile_protected(&p->sets[p->protect], 6, &img->prot6, &img->nprot6, err,
				      errlen))
			goto fail;
	} else {
		/*
		 * Rows name sets inside the protected set: its prefixes and
		 * theirs make local classes as remote sets make address
		 * classes (the parser checked each lies inside it, so the
		 * union is the protected set). Every protected address gets
		 * a class, the empty one (0) where no row's local set holds it.
		 */
		if (compile_remote(p, local_rows, p->protect, 4, &cls, &img->prot4, &img->nprot4,
				   made, blame, err, errlen) ||
		    compile_remote(p, local_rows, p->protect, 6, &cls, &img->prot6, &img->nprot6,
				   made, blame, err, errlen))
			goto fail;
	}
	inline_protected(img);
	if (compile_trie(img)) {
		fail(err, errlen, "out of memory");
		goto fail;
	}

	img->classes = cls.v;
	img->nclasses = cls.n;
	cls.v = NULL;
	if (compile_row_table(img, ninbound)) {
		fail(err, errlen, "out of memory");
		goto fail;
	}
	free(cls.hash);
	free(set_rows);
	free(local_rows);
	free(made);
	return 0;
fail:
	free(cls.v);
	free(cls.hash);
	free(set_rows);
	free(local_rows);
	free(made);
	image_free(img);
	return -1;
}

void image_free(struct policy_image *img)
{
	free(img->src4);
	free(img->src6);
	free(img->prot4);
	free(img->prot6);
	free(img->ports);
	free(img->classes);
	free(img->rows);
	free(img->trie);
	free(img->tails);
	free(img->row_table);
	memset(img, 0, sizeof(*img));
}

int compile_plan_slots(const struct picfw_row_meta *old_rows, const uint32_t *old_slots,
		       uint32_t nold, const struct policy_image *img, uint32_t *slots,
		       uint8_t *fresh)
{
	uint8_t used[PICFW_MAX_ROWS] = { 0 };
	uint32_t i, k, next = 0;

	if (nold > PICFW_MAX_ROWS || img->nrows > PICFW_MAX_ROWS)
		return -1;
	for (k = 0; k < nold; k++) {
		if (old_slots[k] >= PICFW_MAX_ROWS)
			return -1;
		used[old_slots[k]] = 1;
	}
	/* A row whose name the active policy has keeps that row's slot and counters. */
	for (i = 0; i < img->nrows; i++) {
		fresh[i] = 1;
		for (k = 0; k < nold; k++) {
			if (!strncmp(old_rows[k].name, img->rows[i].name, PICFW_NAME_LEN)) {
				slots[i] = old_slots[k];
				fresh[i] = 0;
				break;
			}
		}
	}
	/*
	 * New rows take slots the active generation does not use: the program
	 * may count on those until the switch, on these never before it.
	 */
	for (i = 0; i < img->nrows; i++) {
		if (!fresh[i])
			continue;
		while (next < PICFW_MAX_ROWS && used[next])
			next++;
		if (next == PICFW_MAX_ROWS)
			return -1;
		slots[i] = next;
		used[next] = 1;
	}
	return 0;
}

void fnv1a64(uint64_t *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 1099511628211ULL;
	}
}

uint64_t image_digest(const struct policy_image *img)
{
	uint64_t h = FNV1A64_BASIS;

	fnv1a64(&h, &img->mode, sizeof(img->mode));
	fnv1a64(&h, &img->nrows, sizeof(img->nrows));
	fnv1a64(&h, &img->cfg, sizeof(img->cfg));
	fnv1a64(&h, img->rows, img->nrows * sizeof(*img->rows));
	fnv1a64(&h, img->src4, img->nsrc4 * sizeof(*img->src4));
	fnv1a64(&h, img->src6, img->nsrc6 * sizeof(*img->src6));
	fnv1a64(&h, img->prot4, img->nprot4 * sizeof(*img->prot4));
	fnv1a64(&h, img->prot6, img->nprot6 * sizeof(*img->prot6));
	fnv1a64(&h, img->ports, PICFW_TRANSPORTS * sizeof(*img->ports));
	fnv1a64(&h, img->classes, img->nclasses * sizeof(*img->classes));
	fnv1a64(&h, img->trie, img->ntrie * sizeof(*img->trie));
	fnv1a64(&h, img->tails, img->ntails * sizeof(*img->tails));
	return h;
}
