// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* diff.c - rows and set prefixes added, removed, changed between two policies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "policy_match.h"

static const struct row *find_row(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nrows; i++)
		if (!strcmp(p->rows[i].name, name))
			return &p->rows[i];
	return NULL;
}

static const struct addr_set *named_set(const struct policy *p, const char *name)
{
	long i = policy_find_set(p, name, strlen(name));

	return i < 0 ? NULL : &p->sets[i];
}

/* What a row allows, as text: two rows that read alike are the same row. */
static void describe(const struct policy *p, const struct row *r, char *buf, size_t len)
{
	char ports[PORTS_TEXT_LEN], src[PREFIX_TEXT_LEN], dst[PREFIX_TEXT_LEN];

	snprintf(buf, len, "%s %s %s %s -> %s", policy_direction_name(r->direction),
		 policy_transport_name(r->transport),
		 ports_format(r->port_lo, r->port_hi, ports, sizeof(ports)),
		 policy_endpoint_text(p, r->src, src, sizeof(src)),
		 policy_endpoint_text(p, r->dst, dst, sizeof(dst)));
}

static int same_notes(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int prefix_order(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static struct prefix *sorted(const struct addr_set *s, size_t *n)
{
	struct prefix *v;

	*n = s ? s->nprefixes : 0;
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (v && *n) {
		memcpy(v, s->prefixes, *n * sizeof(*v));
		qsort(v, *n, sizeof(*v), prefix_order);
	}
	return v;
}

/* Prefixes added and removed in one set: a merge of both sorted lists. */
static void set_diff(FILE *f, const char *name, const struct addr_set *o, const struct addr_set *n,
		     struct policy_diff_counts *c)
{
	size_t no, nn, i = 0, j = 0, k, shown = 0;
	struct prefix *vo = sorted(o, &no), *vn = sorted(n, &nn);
	unsigned add = 0, del = 0;
	char pf[PREFIX_TEXT_LEN], *lines = NULL;
	size_t lsize = 0;
	FILE *l;

	l = open_memstream(&lines, &lsize);
	if (!vo || !vn || !l)
		goto out;
	while (i < no || j < nn) {
		int r = i == no ? 1 : j == nn ? -1 : prefix_cmp(&vo[i], &vn[j]);

		if (r == 0) {
			k = i;
			while (i < no && !prefix_cmp(&vo[i], &vo[k]))
				i++;
			while (j < nn && !prefix_cmp(&vn[j], &vo[k]))
				j++;
			continue;
		}
		prefix_format(r < 0 ? &vo[i] : &vn[j], pf, sizeof(pf));
		/* Name them while the list stays readable. */
		if (shown++ < 20)
			fprintf(l, "    %c %s\n", r < 0 ? '-' : '+', pf);
		if (r < 0) {
			del++;
			i++;
		} else {
			add++;
			j++;
		}
	}
	fflush(l);
	c->prefixes_added += add;
	c->prefixes_removed += del;
	if (add || del || !o || !n) {
		fprintf(f, "  set %s%s: %u prefixes added, %u removed\n", name,
			!o ? " (new)" : !n ? " (gone)" : "", add, del);
		fputs(lines, f);
		if (shown > 20)
			fprintf(f, "    ... and %zu more\n", shown - 20);
	}
out:
	if (l)
		fclose(l);
	free(lines);
	free(vo);
	free(vn);
}

/* A policy's setting lines (policy_print_settings), in one allocated string. */
static char *settings_text(const struct policy *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	policy_print_settings(f, p);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The line's key (all but its last word) and value (that word): 0, or -1 if it has no blank. */
static int setting_line(const char *line, const char **k, size_t *klen, const char **v,
			size_t *vlen)
{
	const char *end = strchr(line, '\n'), *sp;

	if (!end)
		end = line + strlen(line);
	for (sp = end; sp > line && sp[-1] != ' '; sp--)
		;
	if (sp == line)
		return -1;
	*k = line;
	*klen = (size_t)(sp - 1 - line);
	*v = sp;
	*vlen = (size_t)(end - sp);
	return 0;
}

static const char *next_line(const char *line)
{
	const char *end = strchr(line, '\n');

	return end ? end + 1 : line + strlen(line);
}

/*
 * Each setting whose value differs, "KEY: OLD -> NEW". Both policies' lines
 * come from one printer, in one order: a line of one with no line of the
 * other at its place (protect, the last, can be missing) is against "none".
 */
static unsigned settings_diff(FILE *f, const struct policy *old, const struct policy *new)
{
	char *to = settings_text(old), *tn = settings_text(new);
	const char *lo = to, *ln = tn, *ko, *kn, *vo, *vn;
	size_t klo, kln, vlo, vln;
	unsigned changed = 0;
	int ho, hn;

	if (!to || !tn) {
		fprintf(f, "settings: (out of memory)\n");
		goto out;
	}
	for (;;) {
		ho = *lo && !setting_line(lo, &ko, &klo, &vo, &vlo);
		hn = *ln && !setting_line(ln, &kn, &kln, &vn, &vln);
		if (!ho && !hn)
			break;
		if (ho && hn && (klo != kln || memcmp(ko, kn, klo)))
			hn = 0; /* not the same setting: the old one against none first */
		if (!ho || !hn || vlo != vln || memcmp(vo, vn, vlo)) {
			changed++;
			fprintf(f, "%.*s: %.*s -> %.*s%s\n", (int)(ho ? klo : kln), ho ? ko : kn,
				ho ? (int)vlo : 4, ho ? vo : "none", hn ? (int)vln : 4,
				hn ? vn : "none",
				!strncmp(ho ? ko : kn, "flows ", 6) ?
					" (at the next attach: a flow table's size is fixed when "
					"attach makes it)" : "");
		}
		if (ho)
			lo = next_line(lo);
		if (hn)
			ln = next_line(ln);
	}
out:
	free(to);
	free(tn);
	return changed;
}

struct policy_diff_counts policy_diff(FILE *f, const struct policy *old, const struct policy *new)
{
	struct policy_diff_counts c = { 0 };
	char a[400], b[400];
	size_t i;

	c.settings = settings_diff(f, old, new);
	fprintf(f, "rows:\n");
	for (i = 0; i < new->nrows; i++) {
		const struct row *n = &new->rows[i], *o = find_row(old, n->name);

		describe(new, n, b, sizeof(b));
		if (!o) {
			c.added++;
			fprintf(f, "  + %-32s %s\n", n->name, b);
			continue;
		}
		describe(old, o, a, sizeof(a));
		if (strcmp(a, b) || !same_notes(o->notes, n->notes)) {
			c.changed++;
			if (strcmp(a, b))
				fprintf(f, "  ~ %-32s %s\n  %-34s was %s\n", n->name, b, "", a);
			else
				fprintf(f, "  ~ %-32s %s (notes changed)\n", n->name, b);
		} else {
			c.kept++;
			fprintf(f, "  = %-32s %s\n", n->name, b);
		}
	}
	for (i = 0; i < old->nrows; i++) {
		const struct row *o = &old->rows[i];

		if (find_row(new, o->name))
			continue;
		c.removed++;
		describe(old, o, a, sizeof(a));
		fprintf(f, "  - %-32s %s\n", o->name, a);
	}
	fprintf(f, "sets:\n");
	for (i = 0; i < new->nsets; i++)
		if (new->sets[i].name)
			set_diff(f, new->sets[i].name, named_set(old, new->sets[i].name),
				 &new->sets[i], &c);
	for (i = 0; i < old->nsets; i++)
		if (old->sets[i].name && !named_set(new, old->sets[i].name))
			set_diff(f, old->sets[i].name, &old->sets[i], NULL, &c);
	fprintf(f, "summary: %u rows added, %u removed, %u changed, %u kept; "
		   "%u prefixes added, %u removed; %u settings changed\n",
		c.added, c.removed, c.changed, c.kept, c.prefixes_added, c.prefixes_removed,
		c.settings);
	return c;
}
