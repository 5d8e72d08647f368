/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_rows.c - rows: the ROLE/PROTOCOL/TRANSPORT/PORTS field, ports, endpoints, notes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"

/* A port number, checked; s is at column col. */
static int port_parse(struct parser *ps, int ln, int col, const char *s, size_t n, uint16_t *out)
{
	char qb[QUOTE_BUF], digits[QUOTE_BUF];
	long v = number_parse(s, n, PICFW_PORTS); /* 65536: too big stays too big */
	size_t i, k = 0;

	if (v < 0) {
		perr(ps, ln, col, "bad port '%s'", quote(qb, s, n));
		return -1;
	}
	if (v == 0) {
		perr(ps, ln, col, "port 0 is not allowed");
		return -1;
	}
	if (v > 65535) {
		/* The number as written, without its separators. */
		for (i = 0; i < n && k < QUOTE_MAX; i++)
			if (is_digit(s[i]))
				digits[k++] = s[i];
		digits[k] = '\0';
		perr(ps, ln, col, "port %s is above 65535", digits);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

/* PORT or LO-HI at column col. */
static int ports_parse(struct parser *ps, int ln, int col, const char *s, size_t n,
		       struct row *r)
{
	const char *dash = memchr(s, '-', n);
	char qb[QUOTE_BUF];
	size_t lo;

	if (!dash) {
		if (port_parse(ps, ln, col, s, n, &r->port_lo))
			return -1;
		r->port_hi = r->port_lo;
		return 0;
	}
	lo = (size_t)(dash - s);
	if (lo == 0 || lo + 1 == n) {
		perr(ps, ln, col, "bad port '%s'", quote(qb, s, n));
		return -1;
	}
	if (port_parse(ps, ln, col, s, lo, &r->port_lo) ||
	    port_parse(ps, ln, col + (int)lo + 1, dash + 1, n - lo - 1, &r->port_hi))
		return -1;
	if (r->port_lo > r->port_hi) {
		perr(ps, ln, col, "reversed port range %u-%u", r->port_lo, r->port_hi);
		return -1;
	}
	return 0;
}

/* The last '/' in s[0..n), or -1. */
static long last_slash(const char *s, size_t n)
{
	while (n > 0)
		if (s[--n] == '/')
			return (long)n;
	return -1;
}

/*
 * ROLE/PROTOCOL/TRANSPORT/PORTS, split from the right: ports, transport and
 * protocol hold no '/', the role is all the rest (`A/V`). Parts are checked
 * right to left; a part that is absent is reported at the start of the field,
 * an empty one where it is.
 */
static int field_parse(struct parser *ps, int ln, const struct tok *f, struct row *r,
		       size_t *role_n, const char **proto, size_t *proto_n)
{
	const char *s = f->s;
	char qb[QUOTE_BUF];
	long s3, s2, s1;
	size_t a, b;

	s3 = last_slash(s, f->n);
	if (s3 < 0) {
		/* Not a field at all: a port (or a stray word) by itself. */
		perr(ps, ln, f->col, "missing transport");
		return -1;
	}
	a = (size_t)s3 + 1;
	if (a == f->n) {
		perr(ps, ln, f->col + (int)a, "missing port");
		return -1;
	}
	if (ports_parse(ps, ln, f->col + (int)a, s + a, f->n - a, r))
		return -1;

	s2 = last_slash(s, (size_t)s3);
	a = (size_t)(s2 + 1);
	b = (size_t)s3;
	if (a == b) {
		perr(ps, ln, f->col + (int)a, "missing transport");
		return -1;
	}
	if (b - a == 3 && !strncasecmp(s + a, "tcp", 3)) {
		r->transport = PICFW_TCP;
	} else if (b - a == 3 && !strncasecmp(s + a, "udp", 3)) {
		r->transport = PICFW_UDP;
	} else {
		perr(ps, ln, f->col + (int)a, "unknown transport '%s' (use TCP or UDP)",
		     quote(qb, s + a, b - a));
		return -1;
	}
	if (s2 < 0) {
		perr(ps, ln, f->col, "missing protocol");
		return -1;
	}

	s1 = last_slash(s, (size_t)s2);
	a = (size_t)(s1 + 1);
	b = (size_t)s2;
	if (a == b) {
		perr(ps, ln, f->col + (int)a, "missing protocol");
		return -1;
	}
	*proto = s + a;
	*proto_n = b - a;
	if (s1 <= 0) {
		perr(ps, ln, f->col, "missing role");
		return -1;
	}
	*role_n = (size_t)s1;
	return 0;
}

/* The text of a quoted string, \" and \\ undone (other backslashes are kept). */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

void row_free(struct row *r)
{
	free(r->name);
	free(r->role);
	free(r->protocol);
	free(r->src_text);
	free(r->dst_text);
	free(r->notes);
}

/* Append a checked row; the inline endpoints become sets without a name. */
static void row_commit(struct parser *ps, struct row *r, struct row_pos *pos,
		       const struct endpoint ep[2])
{
	struct policy *p = ps->p;
	int *idx[2] = { &r->src, &r->dst };
	int e;

	if (p->nrows >= PICFW_MAX_ROWS) {
		if (!ps->rows_full)
			perr(ps, r->line, r->col, "more than %d rows", PICFW_MAX_ROWS);
		ps->rows_full = true;
		goto drop;
	}
	if (!p->nrows) {
		p->rows = calloc(PICFW_MAX_ROWS, sizeof(*p->rows));
		ps->pos = calloc(PICFW_MAX_ROWS, sizeof(*ps->pos));
		if (!p->rows || !ps->pos)
			goto oom;
	}
	for (e = 0; e < 2; e++) {
		long set;

		*idx[e] = -1;
		if (ep[e].named)
			continue;
		set = set_new(ps, NULL, 0, r->line, e ? pos->dst_col : pos->src_col);
		if (set < 0)
			goto drop;
		if (set_add(&p->sets[set], ep[e].pf, ep[e].npf))
			goto oom;
		*idx[e] = (int)set;
	}
	p->rows[p->nrows] = *r;
	ps->pos[p->nrows] = *pos;
	p->nrows++;
	return;
oom:
	nomem(ps);
drop:
	row_free(r);
}

/* [LABEL:] ROLE/PROTOCOL/TRANSPORT/PORTS SOURCE DESTINATION ["NOTES"] */
void parse_row(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	static const char *const what[2] = { "source", "destination" };
	struct tok t[ROW_TOKENS];
	struct row r = { 0 };
	struct row_pos pos = { 0 };
	struct endpoint ep[2] = { 0 };
	const char *proto = NULL;
	size_t endp, role_n = 0, proto_n = 0;
	int nt = tokenize(line, n, i, t, ROW_TOKENS, &endp);
	int endcol = (int)endp + 1, k = 0, e;
	char qb[QUOTE_BUF];

	ps->nrows_seen++;
	r.line = ln;
	r.col = t[0].col;
	if (!t[0].quoted && t[0].s[t[0].n - 1] == ':') {
		if (!name_ok(t[0].s, t[0].n - 1, true)) {
			perr(ps, ln, t[0].col, "bad row name '%s'%s", quote(qb, t[0].s, t[0].n - 1),
			     t[0].n - 1 > NAME_MAX_LEN ? " (longer than 95 bytes)" : "");
			return;
		}
		k = 1;
	}
	if (k >= nt) {
		perr(ps, ln, endcol, "missing role");
		return;
	}
	if (t[k].quoted && !t[k].closed) {
		perr(ps, ln, t[k].col, "unterminated quote");
		return;
	}
	if (field_parse(ps, ln, &t[k], &r, &role_n, &proto, &proto_n))
		return;

	for (e = 0; e < 2; e++) {
		const struct tok *x = &t[k + 1 + e];

		if (k + 1 + e >= nt) {
			perr(ps, ln, endcol, "missing %s", what[e]);
			return;
		}
		if (x->quoted) {
			/* Notes where an address belongs: the address is missing. */
			if (x->closed)
				perr(ps, ln, x->col, "missing %s", what[e]);
			else
				perr(ps, ln, x->col, "unterminated quote");
			return;
		}
		if (e == 0)
			pos.src_col = x->col;
		else
			pos.dst_col = x->col;
		if (tok_is(x->s, x->n, "any") || addr_like(x->s, x->n)) {
			if (item_parse(ps, ln, x->col, x->s, x->n, ep[e].pf, &ep[e].npf))
				return;
		} else {
			ep[e].named = true;
		}
	}
	pos.src_named = ep[0].named;
	pos.dst_named = ep[1].named;

	if (k + 3 < nt) {
		const struct tok *x = &t[k + 3];

		if (!x->quoted) {
			perr(ps, ln, x->col, "unexpected '%s'", quote(qb, x->s, x->n));
			return;
		}
		if (!x->closed) {
			perr(ps, ln, x->col, "unterminated quote");
			return;
		}
	}
	if (k + 4 < nt) {
		perr(ps, ln, t[k + 4].col, "unexpected '%s'", quote(qb, t[k + 4].s, t[k + 4].n));
		return;
	}

	if (k) {
		r.name = strndup(t[0].s, t[0].n - 1);
		r.explicit_name = 1;
	}
	r.role = strndup(t[k].s, role_n);
	r.protocol = strndup(proto, proto_n);
	r.src_text = strndup(t[k + 1].s, t[k + 1].n);
	r.dst_text = strndup(t[k + 2].s, t[k + 2].n);
	if (k + 3 < nt)
		r.notes = unescape(t[k + 3].s + 1, t[k + 3].n - 2);
	if ((k && !r.name) || !r.role || !r.protocol || !r.src_text || !r.dst_text ||
	    (k + 3 < nt && !r.notes)) {
		row_free(&r);
		nomem(ps);
		return;
	}
	row_commit(ps, &r, &pos, ep);
}
