/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_resolve.c - after the last line: set names resolved, rows given direction and name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "policy_match.h"

/* s[0..n) lowercased, each run of other characters one '-', trimmed; appended at o. */
static char *slug(char *o, const char *s, size_t n)
{
	bool dash = false;
	char *start = o;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (is_alnum(c)) {
			if (dash && o > start)
				*o++ = '-';
			dash = false;
			*o++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		} else {
			dash = true;
		}
	}
	return o;
}

/* role-protocol-tcp-PORTS-in; an empty slug is left out. */
static char *derive_name(const struct row *r)
{
	size_t cap = strlen(r->role) + strlen(r->protocol) + 64;
	char *buf = malloc(cap), *o = buf, *mark, ports[PORTS_TEXT_LEN];

	if (!buf)
		return NULL;
	o = slug(o, r->role, strlen(r->role));
	if (o > buf)
		*o++ = '-';
	mark = o;
	o = slug(o, r->protocol, strlen(r->protocol));
	if (o == mark && o > buf)
		o--; /* empty protocol slug: no second '-' */
	if (o > buf)
		*o++ = '-';
	o += sprintf(o, "%s-%s", policy_transport_name(r->transport),
		     ports_format(r->port_lo, r->port_hi, ports, sizeof(ports)));
	sprintf(o, "-%s", policy_direction_name(r->direction));
	return buf;
}

/*
 * The protected set names the Edge's own addresses. One that covers far more
 * (`any`, 0.0.0.0/0, a /8) turns the filter onto others' traffic and is
 * almost always a slip: refused, at the set.
 */
static void protect_width_check(struct parser *ps, const struct addr_set *s)
{
	char pf[PREFIX_TEXT_LEN];
	size_t i;

	for (i = 0; i < s->nprefixes; i++) {
		const struct prefix *x = &s->prefixes[i];
		unsigned min = x->family == 4 ? POLICY_PROTECT_MIN_LEN4 : POLICY_PROTECT_MIN_LEN6;

		if (x->len >= min)
			continue;
		prefix_format(x, pf, sizeof(pf));
		perr(ps, s->line, s->col,
		     "protected set '%s' holds %s%s, wider than /%u; protect names the Edge's "
		     "own addresses (at most /%u IPv4, /%u IPv6 wide)", s->name,
		     x->len ? "" : "everything: ", pf, min, POLICY_PROTECT_MIN_LEN4,
		     POLICY_PROTECT_MIN_LEN6);
		return;
	}
}

/* The set a statement names at line:col, or -1 after the error. */
static long set_named(struct parser *ps, const char *name, int line, int col)
{
	long idx = policy_find_set(ps->p, name, strlen(name));
	char qb[QUOTE_BUF];

	if (idx < 0)
		perr(ps, line, col, "unknown set '%s'", quote(qb, name, strlen(name)));
	return idx;
}

/*
 * Can set idx be a row's local side: the protected set, or a set whose every
 * address is in it (the Access Edge's address of the Edge's three, say)?
 * Asked once per set: inside[idx] is -1 until then.
 */
static bool set_local(struct parser *ps, signed char *inside, int idx)
{
	struct policy *p = ps->p;
	int r;

	if (idx == p->protect)
		return true;
	if (inside[idx] < 0) {
		r = policy_set_inside(&p->sets[idx], &p->sets[p->protect]);
		if (r < 0) {
			nomem(ps);
			r = 0;
		}
		inside[idx] = (signed char)r;
	}
	return inside[idx];
}

/* Step 3: what needs the whole file. */
void resolve(struct parser *ps)
{
	struct policy *p = ps->p;
	const char *pname = NULL;
	signed char *inside;
	size_t i, j;

	if (ps->protect_name) {
		long idx = set_named(ps, ps->protect_name, ps->protect_line, ps->protect_col);

		if (idx >= 0) {
			p->protect = (int)idx;
			p->sets[idx].used = 1;
			pname = p->sets[idx].name;
			protect_width_check(ps, &p->sets[idx]);
		}
	}

	inside = malloc(p->nsets ? p->nsets : 1);
	if (!inside) {
		nomem(ps);
		return;
	}
	memset(inside, -1, p->nsets ? p->nsets : 1);
	for (i = 0; i < p->nrows && !ps->stop; i++) {
		struct row *r = &p->rows[i];
		const struct row_pos *pos = &ps->pos[i];
		bool in, out;
		long idx;

		if (pos->src_named) {
			idx = set_named(ps, r->src_text, r->line, pos->src_col);
			if (idx < 0)
				continue;
			r->src = (int)idx;
		}
		if (pos->dst_named) {
			idx = set_named(ps, r->dst_text, r->line, pos->dst_col);
			if (idx < 0)
				continue;
			r->dst = (int)idx;
		}
		p->sets[r->src].used = 1;
		p->sets[r->dst].used = 1;

		/* No protect (or an unknown one): that error says it all. */
		if (!pname)
			continue;
		/*
		 * The local side: the protected set by name (a row that names
		 * it on one side is read so, whatever the other side holds),
		 * else a set inside it, one of the Edge's addresses, say: the
		 * row is then open on those addresses only.
		 */
		in = r->dst == p->protect;
		out = r->src == p->protect;
		if (in && out) {
			perr(ps, r->line, pos->src_col,
			     "row names the protected set '%s' as both source and destination",
			     pname);
			continue;
		}
		if (!in && !out) {
			in = set_local(ps, inside, r->dst);
			out = set_local(ps, inside, r->src);
		}
		if (in && out) {
			perr(ps, r->line, pos->src_col,
			     "both source and destination are inside the protected set '%s'; "
			     "one side must be the remote", pname);
			continue;
		}
		if (!in && !out) {
			perr(ps, r->line, pos->src_col,
			     "row does not name the protected set '%s', or a set inside it, "
			     "as source or destination", pname);
			continue;
		}
		r->direction = in ? PICFW_DIR_IN : PICFW_DIR_OUT;

		if (!r->name) {
			r->name = derive_name(r);
			if (!r->name) {
				nomem(ps);
				break;
			}
			if (strlen(r->name) > NAME_MAX_LEN) {
				perr(ps, r->line, r->col, "derived row name is too long; "
				     "give the row a name with 'NAME:'");
				continue;
			}
		}
		for (j = 0; j < i; j++) {
			const struct row *o = &p->rows[j];

			if (o->name && !strcmp(o->name, r->name)) {
				char at[LINE_WHERE_LEN];

				perr(ps, r->line, r->col,
				     "duplicate row name '%s' (first at %s); "
				     "give one row a name with 'NAME:'", r->name,
				     line_where(ps, o->line, at, sizeof(at)));
				break;
			}
		}
		/* The normalised copy must read back under the same line limit. */
		if (j == i && row_written_len(p, r) > POLICY_MAX_LINE)
			perr(ps, r->line, r->col,
			     "row is over %d bytes once normalised (its name, then its fields, "
			     "notes escaped); shorten its notes", POLICY_MAX_LINE);
	}
	free(inside);
}
