/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_print.c - a policy as text: option words, ports, endpoints, table, normalised source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

const char *policy_transport_name(unsigned t)
{
	return t == PICFW_UDP ? "udp" : "tcp";
}

const char *policy_direction_name(unsigned d)
{
	return d == PICFW_DIR_OUT ? "out" : "in";
}

const char *policy_mode_name(unsigned m)
{
	return m == PICFW_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_replies_name(unsigned r)
{
	return r == PICFW_REPLIES_STATELESS ? "stateless" : "tracked";
}

const char *policy_timeout_name(unsigned t)
{
	static const char *const names[PICFW_TIMEOUTS] = {
		[PICFW_TIMEOUT_UDP] = "udp",
		[PICFW_TIMEOUT_TCP] = "tcp",
		[PICFW_TIMEOUT_TCP_TRANSITORY] = "tcp-transitory",
		[PICFW_TIMEOUT_PICKUP] = "pickup",
	};

	return t < PICFW_TIMEOUTS ? names[t] : "?";
}

const char *policy_unprotected_name(unsigned u)
{
	return u == PICFW_UNPROTECTED_DROP ? "drop" : "pass";
}

/* unprotected, replies, icmp, timeout and flows lines, for policy_print and policy_write. */
static void print_options(FILE *f, const struct policy *p)
{
	unsigned k;

	fprintf(f, "unprotected %s\n", policy_unprotected_name(p->unprotected));
	fprintf(f, "replies %s\n", policy_replies_name(p->replies));
	fprintf(f, "icmp %s\n", p->icmp_strict ? "strict" : "permissive");
	for (k = 0; k < PICFW_TIMEOUTS; k++)
		fprintf(f, "timeout %s %us\n", policy_timeout_name(k), p->timeout[k]);
	for (k = 0; k < PICFW_TRANSPORTS; k++)
		fprintf(f, "flows %s %u\n", policy_transport_name(k), p->flows[k]);
}

/*
 * Exactly 0.0.0.0/0 then ::/0, what `any` makes: written back as `any`. (A set
 * that holds both beside other prefixes is written as it is: see
 * policy_set_holds_all() for the set that matches every address.)
 */
static bool set_is_exactly_any(const struct addr_set *s)
{
	return s->nprefixes == 2 && s->prefixes[0].family == 4 && s->prefixes[0].len == 0 &&
	       s->prefixes[1].family == 6 && s->prefixes[1].len == 0;
}

const char *ports_format(unsigned lo, unsigned hi, char *buf, size_t len)
{
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

/* An inline endpoint is one address or prefix, or `any`: never more (item_parse()). */
const char *policy_endpoint_text(const struct policy *p, int idx, char *buf, size_t len)
{
	const struct addr_set *s = &p->sets[idx];

	if (s->name)
		return s->name;
	if (set_is_exactly_any(s) || !s->nprefixes)
		return "any";
	prefix_format(&s->prefixes[0], buf, len);
	return buf;
}

/* `protect NAME`, if the policy has one. */
static void print_protect(FILE *f, const struct policy *p)
{
	if (p->protect >= 0 && (size_t)p->protect < p->nsets && p->sets[p->protect].name)
		fprintf(f, "protect %s\n", p->sets[p->protect].name);
}

/*
 * `set NAME = ITEM, ...` for each named set. wrap: a continuation line every
 * 32 items, which keeps policy_write()'s lines far below the 4096-byte limit.
 */
static void print_sets(FILE *f, const struct policy *p, bool wrap)
{
	char pf[PREFIX_TEXT_LEN];
	size_t i, j;

	for (i = 0; i < p->nsets; i++) {
		const struct addr_set *s = &p->sets[i];

		if (!s->name)
			continue;
		fprintf(f, "set %s = ", s->name);
		if (set_is_exactly_any(s))
			fputs("any", f);
		for (j = 0; !set_is_exactly_any(s) && j < s->nprefixes; j++) {
			prefix_format(&s->prefixes[j], pf, sizeof(pf));
			fputs(!j ? "" : wrap && j % 32 == 0 ? ",\n  " : ", ", f);
			fputs(pf, f);
		}
		fputc('\n', f);
	}
}

enum { C_NAME, C_DIR, C_TRANSPORT, C_PORTS, C_SRC, C_DST, C_NOTES, NCOLS };

static void row_cells(const struct policy *p, const struct row *r, const char *cell[NCOLS],
		      char ports[PORTS_TEXT_LEN], char src[PREFIX_TEXT_LEN],
		      char dst[PREFIX_TEXT_LEN])
{
	cell[C_NAME] = r->name ? r->name : "";
	cell[C_DIR] = policy_direction_name(r->direction);
	cell[C_TRANSPORT] = policy_transport_name(r->transport);
	cell[C_PORTS] = ports_format(r->port_lo, r->port_hi, ports, PORTS_TEXT_LEN);
	cell[C_SRC] = policy_endpoint_text(p, r->src, src, PREFIX_TEXT_LEN);
	cell[C_DST] = policy_endpoint_text(p, r->dst, dst, PREFIX_TEXT_LEN);
	cell[C_NOTES] = r->notes ? r->notes : "";
}

void policy_print_settings(FILE *f, const struct policy *p)
{
	fprintf(f, "mode %s\n", policy_mode_name(p->mode));
	print_options(f, p);
	print_protect(f, p);
}

void policy_print(FILE *f, const struct policy *p)
{
	static const char *const header[NCOLS] = {
		"NAME", "DIR", "TRANSPORT", "PORTS", "SOURCE", "DESTINATION", "NOTES",
	};
	const char *cell[NCOLS];
	char ports[PORTS_TEXT_LEN], src[PREFIX_TEXT_LEN], dst[PREFIX_TEXT_LEN];
	size_t width[NCOLS], i, j;
	int c;

	policy_print_settings(f, p);
	print_sets(f, p, false);
	if (!p->nrows)
		return;

	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(header[c]);
	for (i = 0; i < p->nrows; i++) {
		row_cells(p, &p->rows[i], cell, ports, src, dst);
		for (c = 0; c < NCOLS; c++)
			if (strlen(cell[c]) > width[c])
				width[c] = strlen(cell[c]);
	}
	fputc('\n', f);
	for (i = 0; i <= p->nrows; i++) {
		if (i == 0)
			memcpy(cell, header, sizeof(cell));
		else
			row_cells(p, &p->rows[i - 1], cell, ports, src, dst);
		/* Pad every column but the last, and no trailing blanks. */
		for (c = NCOLS - 1; c > 0 && !*cell[c]; c--)
			;
		for (j = 0; (int)j < c; j++)
			fprintf(f, "%-*s", (int)(width[j] + 2), cell[j]);
		fprintf(f, "%s\n", cell[c]);
	}
}

/* A notes string as a quoted token: backslash and quote escaped. */
static void write_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* One row as policy_write writes it, without the newline. */
static void write_row(FILE *f, const struct policy *p, const struct row *r)
{
	char ports[PORTS_TEXT_LEN], buf[PREFIX_TEXT_LEN];

	fprintf(f, "%s: %s/%s/%s/%s", r->name, r->role, r->protocol,
		r->transport == PICFW_TCP ? "TCP" : "UDP",
		ports_format(r->port_lo, r->port_hi, ports, sizeof(ports)));
	fprintf(f, " %s", policy_endpoint_text(p, r->src, buf, sizeof(buf)));
	fprintf(f, " %s", policy_endpoint_text(p, r->dst, buf, sizeof(buf)));
	if (r->notes) {
		fputc(' ', f);
		write_quoted(f, r->notes);
	}
}

size_t row_written_len(const struct policy *p, const struct row *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return 0;
	write_row(f, p, r);
	fclose(f);
	free(buf);
	return len;
}

void policy_write(FILE *f, const struct policy *p)
{
	size_t i;

	fprintf(f, "# normalised by picfw\nmode %s\n", policy_mode_name(p->mode));
	print_options(f, p);
	print_sets(f, p, true);
	print_protect(f, p);
	for (i = 0; i < p->nrows; i++) {
		write_row(f, p, &p->rows[i]);
		fputc('\n', f);
	}
}
