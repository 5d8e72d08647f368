// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * nearest.c - the row closest to taking a dropped packet (see nearest.h).
 *
 * Cost: a set may hold 100,000 prefixes, and policy_set_contains() walks
 * them all. Here each set that a row names is kept sorted once, without the
 * prefixes that a wider one of the set covers: what is left is disjoint, so
 * the only prefix that can hold an address is the last one that starts at or
 * below it, found by binary search. A packet asks each set at most once per
 * address (the memo), however many rows name it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nearest.h"
#include "policy_match.h"

struct set_index {
	struct prefix *v; /* sorted (prefix_cmp), disjoint, masked */
	size_t n;
	int built;
};

struct nearest_finder {
	const struct policy *p;
	struct set_index *sets; /* p->nsets; built for the sets rows name */
	/* The memo of one packet: stamp[k][set] == now means val[k][set] holds. */
	uint32_t *stamp[2];
	uint8_t *val[2];
	uint32_t now;
};

enum { SIDE_SOURCE = 0, SIDE_DESTINATION = 1 };

static unsigned addr_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static void prefix_mask(struct prefix *p)
{
	unsigned bytes = addr_bytes(p->family), i;

	for (i = 0; i < 16; i++) {
		unsigned bit = i * 8;

		if (i >= bytes || bit >= p->len)
			p->addr[i] = 0;
		else if (bit + 8 > p->len)
			p->addr[i] &= (uint8_t)(0xff00 >> (p->len - bit));
	}
}

static int cmp_prefix(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static int index_build(struct set_index *ix, const struct addr_set *s)
{
	size_t i, n = 0;

	if (s->nprefixes) {
		ix->v = malloc(s->nprefixes * sizeof(*ix->v));
		if (!ix->v)
			return -ENOMEM;
	}
	ix->built = 1;
	for (i = 0; i < s->nprefixes; i++) {
		ix->v[i] = s->prefixes[i];
		if (ix->v[i].family != 4 && ix->v[i].family != 6)
			continue;
		if (ix->v[i].len > addr_bytes(ix->v[i].family) * 8)
			continue; /* holds nothing (prefix_contains says so too) */
		prefix_mask(&ix->v[i]);
		ix->v[n++] = ix->v[i];
	}
	if (n > 1)
		qsort(ix->v, n, sizeof(*ix->v), cmp_prefix);
	/*
	 * In this order a prefix comes before every prefix it covers, and
	 * those follow it: keep only what the last kept one does not cover.
	 */
	ix->n = 0;
	for (i = 0; i < n; i++)
		if (!ix->n || !prefix_covers(&ix->v[ix->n - 1], &ix->v[i]))
			ix->v[ix->n++] = ix->v[i];
	return 0;
}

/* Does (family, addr) sort before, at or after prefix p's start? <0, 0, >0. */
static int addr_cmp(uint8_t family, const uint8_t *addr, const struct prefix *p)
{
	int r = (int)family - (int)p->family;

	return r ? r : memcmp(addr, p->addr, addr_bytes(family));
}

static int index_contains(const struct set_index *ix, uint8_t family, const uint8_t *addr)
{
	size_t lo = 0, hi = ix->n;

	/* The first prefix that starts after addr: lo. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr_cmp(family, addr, &ix->v[mid]) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && prefix_contains(&ix->v[lo - 1], family, addr);
}

static int set_valid(const struct policy *p, int idx)
{
	return idx >= 0 && (size_t)idx < p->nsets;
}

struct nearest_finder *nearest_new(const struct policy *p)
{
	struct nearest_finder *nf = calloc(1, sizeof(*nf));
	size_t i, nsets = p->nsets ? p->nsets : 1;
	int k;

	if (!nf)
		return NULL;
	nf->p = p;
	nf->sets = calloc(nsets, sizeof(*nf->sets));
	for (k = 0; k < 2; k++) {
		nf->stamp[k] = calloc(nsets, sizeof(*nf->stamp[k]));
		nf->val[k] = calloc(nsets, sizeof(*nf->val[k]));
	}
	if (!nf->sets || !nf->stamp[0] || !nf->stamp[1] || !nf->val[0] || !nf->val[1])
		goto fail;
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];
		const int ends[2] = { r->src, r->dst };

		for (k = 0; k < 2; k++)
			if (set_valid(p, ends[k]) && !nf->sets[ends[k]].built &&
			    index_build(&nf->sets[ends[k]], &p->sets[ends[k]]))
				goto fail;
	}
	return nf;
fail:
	nearest_free(nf);
	errno = ENOMEM;
	return NULL;
}

void nearest_free(struct nearest_finder *nf)
{
	size_t i;
	int k;

	if (!nf)
		return;
	if (nf->sets)
		for (i = 0; i < nf->p->nsets; i++)
			free(nf->sets[i].v);
	free(nf->sets);
	for (k = 0; k < 2; k++) {
		free(nf->stamp[k]);
		free(nf->val[k]);
	}
	free(nf);
}

int nearest_set_contains(struct nearest_finder *nf, int set_idx, uint8_t family,
			 const uint8_t *addr)
{
	struct set_index *ix;

	if (!set_valid(nf->p, set_idx))
		return 0;
	ix = &nf->sets[set_idx];
	if (!ix->built && index_build(ix, &nf->p->sets[set_idx]))
		/* Out of memory for a set no row names: ask the set itself. */
		return policy_set_contains(&nf->p->sets[set_idx], family, addr);
	return index_contains(ix, family, addr);
}

/* Is the packet's source (side 0) or destination (side 1) in set idx? Memoized per packet. */
static int side_in(struct nearest_finder *nf, int side, int idx, const struct nearest_packet *pkt)
{
	if (!set_valid(nf->p, idx))
		return 0;
	if (nf->stamp[side][idx] != nf->now) {
		nf->stamp[side][idx] = nf->now;
		nf->val[side][idx] = (uint8_t)nearest_set_contains(
			nf, idx, pkt->family, side == SIDE_SOURCE ? pkt->saddr : pkt->daddr);
	}
	return nf->val[side][idx];
}

/* What row r does not match of pkt: enum nearest_miss bits (not the flow's). */
static unsigned row_misses(struct nearest_finder *nf, const struct row *r,
			   const struct nearest_packet *pkt)
{
	int in = r->direction == PICFW_DIR_IN;
	uint16_t port = in ? pkt->dport : pkt->sport;
	unsigned miss = 0;

	if (port < r->port_lo || port > r->port_hi)
		miss |= NEAREST_PORT;
	if (!side_in(nf, SIDE_SOURCE, row_remote_set(r), pkt))
		miss |= NEAREST_SOURCE;
	if (!side_in(nf, SIDE_DESTINATION, row_local_set(r), pkt))
		miss |= NEAREST_DESTINATION;
	return miss;
}

static unsigned popcount3(unsigned m)
{
	return !!(m & NEAREST_PORT) + !!(m & NEAREST_SOURCE) + !!(m & NEAREST_DESTINATION);
}

/* Between two rows that miss as many fields: is r (missing miss) before b (missing bmiss)? */
static int tie_better(unsigned miss, const struct row *r, unsigned bmiss, const struct row *b)
{
	if (!(miss & NEAREST_PORT) != !(bmiss & NEAREST_PORT))
		return !(miss & NEAREST_PORT);
	return r->direction == PICFW_DIR_IN && b->direction == PICFW_DIR_OUT;
}

struct nearest nearest_find(struct nearest_finder *nf, const struct nearest_packet *pkt)
{
	struct nearest best = { .row = -1 };
	const struct policy *p = nf->p;
	unsigned best_missed = 3, miss;
	size_t i;

	if (pkt->family != 4 && pkt->family != 6)
		return best;
	/* A new packet: the memo starts empty (a wrapped stamp clears it for real). */
	if (++nf->now == 0) {
		memset(nf->stamp[0], 0, p->nsets * sizeof(*nf->stamp[0]));
		memset(nf->stamp[1], 0, p->nsets * sizeof(*nf->stamp[1]));
		nf->now = 1;
	}
	for (i = 0; i < p->nrows && best_missed; i++) {
		const struct row *r = &p->rows[i];

		if (r->transport != pkt->transport)
			continue;
		miss = row_misses(nf, r, pkt);
		/*
		 * At least one point beside the transport. Among the best: a
		 * row whose port matches (the most telling field), then an
		 * inbound row before an outbound one (the packet came in),
		 * then the first in file order.
		 */
		if (popcount3(miss) < best_missed ||
		    (best.row >= 0 && popcount3(miss) == best_missed &&
		     tie_better(miss, r, best.missing, &p->rows[best.row]))) {
			best_missed = popcount3(miss);
			best.row = (int)i;
			best.missing = miss;
		}
	}
	if (best.row >= 0 && !best.missing && p->rows[best.row].direction == PICFW_DIR_OUT)
		best.missing = p->replies == PICFW_REPLIES_STATELESS && pkt->transport == PICFW_TCP ?
				       NEAREST_ACK :
				       NEAREST_FLOW;
	return best;
}

const char *nearest_miss_name(unsigned bit)
{
	switch (bit) {
	case NEAREST_PORT:
		return "port";
	case NEAREST_SOURCE:
		return "source";
	case NEAREST_DESTINATION:
		return "destination";
	case NEAREST_FLOW:
		return "flow";
	case NEAREST_ACK:
		return "ack";
	}
	return "?";
}

/* Append text to buf (len bytes, NUL-terminated), after ", " unless it is the first part. */
static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", text);
}

const char *nearest_describe(const struct policy *p, const struct nearest_packet *pkt,
			     const struct nearest *n, char *buf, size_t len)
{
	char ports[PORTS_TEXT_LEN], set[PREFIX_TEXT_LEN], text[PICFW_NAME_LEN + PREFIX_TEXT_LEN];
	const struct row *r;
	int in;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (n->row < 0 || (size_t)n->row >= p->nrows)
		return buf;
	r = &p->rows[n->row];
	in = r->direction == PICFW_DIR_IN;
	if (n->missing & NEAREST_PORT) {
		ports_format(r->port_lo, r->port_hi, ports, sizeof(ports));
		snprintf(text, sizeof(text), "%sport %u not %s", in ? "" : "source ",
			 (unsigned)(in ? pkt->dport : pkt->sport), ports);
		append(buf, len, text);
	}
	if (n->missing & NEAREST_SOURCE) {
		snprintf(text, sizeof(text), "source not in %s",
			 policy_endpoint_text(p, row_remote_set(r), set, sizeof(set)));
		append(buf, len, text);
	}
	if (n->missing & NEAREST_DESTINATION) {
		snprintf(text, sizeof(text), "destination not in %s",
			 policy_endpoint_text(p, row_local_set(r), set, sizeof(set)));
		append(buf, len, text);
	}
	if (n->missing & NEAREST_FLOW)
		append(buf, len, "no tracked flow");
	if (n->missing & NEAREST_ACK)
		append(buf, len, "not a reply (TCP without ACK)");
	if (!n->missing)
		append(buf, len, "every field matches");
	return buf;
}
