// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* policy_match.c - addresses and connections against a parsed policy (see policy_match.h). */
#include <stdlib.h>
#include <string.h>

#include "policy_match.h"

static const uint8_t v4_mapped_head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int prefix_contains(const struct prefix *p, uint8_t family, const uint8_t *addr)
{
	unsigned whole = p->len / 8, bits = p->len % 8;

	if (p->family != family || p->len > (family == 4 ? 32 : 128))
		return 0;
	if (memcmp(p->addr, addr, whole))
		return 0;
	/* The leading `bits` bits of the next byte must agree too. */
	return !bits || !((p->addr[whole] ^ addr[whole]) & (uint8_t)(0xff00 >> bits));
}

int prefix_covers(const struct prefix *a, const struct prefix *b)
{
	return a->len <= b->len && prefix_contains(a, b->family, b->addr);
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int r = (int)a->family - (int)b->family;

	if (!r)
		r = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	return r ? r : (int)a->len - (int)b->len;
}

int policy_set_contains(const struct addr_set *s, uint8_t family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < s->nprefixes; i++)
		if (prefix_contains(&s->prefixes[i], family, addr))
			return 1;
	return 0;
}

/* p cut to its first len bits (len <= p->len). */
static struct prefix prefix_cut(const struct prefix *p, uint8_t len)
{
	struct prefix c = { .family = p->family, .len = len };
	unsigned whole = len / 8, bits = len % 8;

	memcpy(c.addr, p->addr, whole);
	if (bits)
		c.addr[whole] = (uint8_t)(p->addr[whole] & (0xff00 >> bits));
	return c;
}

static int prefix_qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

int policy_set_inside(const struct addr_set *s, const struct addr_set *outer)
{
	uint8_t lens[2][129];
	unsigned nlens[2] = { 0, 0 }, f, k;
	struct prefix *v, cut;
	int inside = 1;
	size_t i;

	if (!s->nprefixes)
		return 0;
	if (s == outer)
		return 1;
	/* Nothing is inside an empty set (whose prefix array may be NULL). */
	if (!outer->nprefixes)
		return 0;
	v = malloc(outer->nprefixes * sizeof(*v));
	if (!v)
		return -1;
	/*
	 * Sorted, and the lengths it holds per family: a prefix is inside when
	 * its cut to one of those lengths is there (at most 129 searches, not
	 * a scan of the whole outer set per prefix).
	 */
	memcpy(v, outer->prefixes, outer->nprefixes * sizeof(*v));
	qsort(v, outer->nprefixes, sizeof(*v), prefix_qcmp);
	for (i = 0; i < outer->nprefixes; i++) {
		f = v[i].family == 6;
		for (k = 0; k < nlens[f] && lens[f][k] != v[i].len; k++)
			;
		if (k == nlens[f])
			lens[f][nlens[f]++] = v[i].len;
	}
	for (i = 0; i < s->nprefixes && inside; i++) {
		const struct prefix *x = &s->prefixes[i];

		f = x->family == 6;
		inside = 0;
		for (k = 0; k < nlens[f] && !inside; k++) {
			if (lens[f][k] > x->len)
				continue;
			cut = prefix_cut(x, lens[f][k]);
			inside = bsearch(&cut, v, outer->nprefixes, sizeof(*v), prefix_qcmp) != NULL;
		}
	}
	free(v);
	return inside;
}

int policy_set_matches_all(const struct addr_set *s)
{
	int v4 = 0, v6 = 0;
	size_t i;

	for (i = 0; i < s->nprefixes; i++) {
		if (s->prefixes[i].len == 0 && s->prefixes[i].family == 4)
			v4 = 1;
		if (s->prefixes[i].len == 0 && s->prefixes[i].family == 6)
			v6 = 1;
	}
	return v4 && v6;
}

int policy_is_protected(const struct policy *p, uint8_t family, const uint8_t *addr)
{
	if (p->protect < 0 || (size_t)p->protect >= p->nsets)
		return 0;
	return policy_set_contains(&p->sets[p->protect], family, addr);
}

int policy_row_allows(const struct policy *p, const struct row *r, uint8_t family,
		      uint8_t transport, const uint8_t *local, const uint8_t *remote,
		      uint16_t port)
{
	int remote_set = row_remote_set(r), local_set = row_local_set(r);

	if (r->transport != transport || port < r->port_lo || port > r->port_hi)
		return 0;
	if (remote_set < 0 || (size_t)remote_set >= p->nsets || local_set < 0 ||
	    (size_t)local_set >= p->nsets)
		return 0;
	return policy_set_contains(&p->sets[local_set], family, local) &&
	       policy_set_contains(&p->sets[remote_set], family, remote);
}

int policy_first_row(const struct policy *p, uint8_t dir, uint8_t family, uint8_t transport,
		     const uint8_t *local, const uint8_t *remote, uint16_t port)
{
	size_t i;

	for (i = 0; i < p->nrows; i++)
		if (p->rows[i].direction == dir &&
		    policy_row_allows(p, &p->rows[i], family, transport, local, remote, port))
			return (int)i;
	return -1;
}

int policy_conn_needs_flow(const struct policy *p, const struct policy_conn *c)
{
	return policy_is_protected(p, c->family, c->local) &&
	       policy_first_row(p, PICFW_DIR_OUT, c->family, c->transport, c->local,
				c->remote, c->remote_port) >= 0 &&
	       policy_first_row(p, PICFW_DIR_IN, c->family, c->transport, c->local,
				c->remote, c->local_port) < 0;
}

int addr_unmap_v4(uint8_t *family, uint8_t addr[16])
{
	if (*family != 6 || memcmp(addr, v4_mapped_head, sizeof(v4_mapped_head)))
		return 0;
	memmove(addr, addr + 12, 4);
	memset(addr + 4, 0, 12);
	*family = 4;
	return 1;
}

int addr_is_global_unicast(uint8_t family, const uint8_t *addr)
{
	static const uint8_t zero[16], loopback6[16] = { [15] = 1 };

	if (family == 4)
		/* 0/8 "this network", 127/8 loopback, 169.254/16 link-local, 224/3 multicast,
		 * reserved and broadcast. */
		return addr[0] != 0 && addr[0] != 127 && !(addr[0] == 169 && addr[1] == 254) &&
		       addr[0] < 224;
	if (family != 6)
		return 0;
	return memcmp(addr, zero, 16) && memcmp(addr, loopback6, 16) && addr[0] != 0xff &&
	       !(addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) &&
	       memcmp(addr, v4_mapped_head, sizeof(v4_mapped_head));
}
