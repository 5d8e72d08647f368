/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_sets.c - set statements: items, continuation lines, the prefix limits. */
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

long policy_find_set(const struct policy *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->nsets; i++)
		if (p->sets[i].name && tok_is(name, n, p->sets[i].name))
			return (long)i;
	return -1;
}

int set_add(struct addr_set *set, const struct prefix *pf, size_t n)
{
	if (!n)
		return 0;
	if (set->nprefixes + n > set->cap || !set->prefixes) {
		size_t cap = set->cap ? 2 * set->cap : 4;
		struct prefix *v;

		while (cap < set->nprefixes + n)
			cap *= 2;
		v = realloc(set->prefixes, cap * sizeof(*v));
		if (!v)
			return -1;
		set->prefixes = v;
		set->cap = cap;
	}
	memcpy(set->prefixes + set->nprefixes, pf, n * sizeof(*pf));
	set->nprefixes += n;
	return 0;
}

/*
 * Add the items of one written item (`any` is two) to named set `target`, at
 * line:col. `any` or a /0 beside other prefixes of its family is warned
 * about (the others say nothing); the per-set and per-policy prefix limits
 * hold for every set, used or not. 0, or -1 after an error.
 */
static int set_add_item(struct parser *ps, long target, const struct prefix *pf, size_t npf,
			int ln, int col)
{
	struct addr_set *set = &ps->p->sets[target];
	bool redundant = false;
	size_t k, i;

	/* Counted once per set, then kept up to date: no scan per item. */
	if (ps->count_set != target) {
		ps->count_set = target;
		ps->count[0] = ps->count[1] = 0;
		ps->has_all[0] = ps->has_all[1] = false;
		for (i = 0; i < set->nprefixes; i++) {
			ps->count[set->prefixes[i].family == 6]++;
			if (!set->prefixes[i].len)
				ps->has_all[set->prefixes[i].family == 6] = true;
		}
	}
	for (k = 0; k < npf; k++) {
		int f = pf[k].family == 6;

		if (ps->has_all[f] || (!pf[k].len && ps->count[f]))
			redundant = true;
		if (ps->count[f] >= POLICY_MAX_SET_PREFIXES) {
			perr(ps, ln, col, "set '%s' holds more than %u IPv%c prefixes", set->name,
			     POLICY_MAX_SET_PREFIXES, f ? '6' : '4');
			return -1;
		}
		if (ps->all_count[f] >= POLICY_MAX_ALL_PREFIXES) {
			perr(ps, ln, col, "the sets hold more than %u IPv%c prefixes",
			     POLICY_MAX_ALL_PREFIXES, f ? '6' : '4');
			return -1;
		}
		if (set_add(set, &pf[k], 1)) {
			nomem(ps);
			return -1;
		}
		ps->count[f]++;
		ps->all_count[f]++;
		if (!pf[k].len)
			ps->has_all[f] = true;
	}
	if (redundant && ps->warned_set != target) {
		ps->warned_set = target;
		pwarn(ps, ln, col, "set '%s' holds 'any' (or a /0) beside other items, "
		      "which it already covers", set->name);
	}
	return 0;
}

/* A new set at the end of p->sets; its index, or -1 (out of memory). */
long set_new(struct parser *ps, const char *name, size_t n, int line, int col)
{
	struct policy *p = ps->p;
	struct addr_set *set, *v;

	/* Grow by doubling: sets are added one by one, up to thousands. */
	if ((p->nsets & (p->nsets - 1)) == 0) {
		v = realloc(p->sets, (p->nsets ? 2 * p->nsets : 1) * sizeof(*v));
		if (!v)
			goto oom;
		p->sets = v;
	}
	set = &p->sets[p->nsets];
	memset(set, 0, sizeof(*set));
	set->line = line;
	set->col = col;
	if (name) {
		set->name = strndup(name, n);
		if (!set->name)
			goto oom;
	}
	return (long)p->nsets++;
oom:
	nomem(ps);
	return -1;
}

/*
 * An item that names a set: its addresses, as they are now (so only a set
 * defined before, which also rules out loops), into target (nowhere if -1).
 * The Edge's sets read like Microsoft's tables that way: one set per
 * service, and the protected set names them. 0, or -1 after an error.
 */
static int item_set(struct parser *ps, int ln, int col, const char *s, size_t n, long target)
{
	long idx = policy_find_set(ps->p, s, n);
	char qb[QUOTE_BUF];

	if (idx >= 0 && idx == target) {
		perr(ps, ln, col, "set '%s' names itself", quote(qb, s, n));
		return -1;
	}
	if (idx < 0) {
		perr(ps, ln, col, "unknown set '%s' (a set names only sets defined above it)",
		     quote(qb, s, n));
		return -1;
	}
	if (target < 0 || !ps->p->sets[idx].nprefixes)
		return 0;
	return set_add_item(ps, target, ps->p->sets[idx].prefixes, ps->p->sets[idx].nprefixes, ln,
			    col);
}

/*
 * The items of a set from byte i to end (a comment and trailing blanks already
 * cut off), into p->sets[target] (or nowhere if target is -1). A trailing comma
 * makes the list continue on the next line. check false: the line already has
 * its error; only see whether the list continues.
 */
void items_parse(struct parser *ps, int ln, const char *line, size_t i, size_t end,
			long target, bool check)
{
	char qb[QUOTE_BUF];

	ps->cont = end > i && line[end - 1] == ',';
	if (ps->cont) {
		ps->cont_set = target;
		ps->cont_line = ln;
		ps->cont_col = (int)end + 1;
		end--;
	}
	if (!check)
		return;
	for (;;) {
		struct prefix pf[2];
		size_t start, npf;

		while (i < end && is_ws(line[i]))
			i++;
		start = i;
		while (i < end && !is_ws(line[i]) && line[i] != ',')
			i++;
		if (i == start) {
			perr(ps, ln, (int)start + 1, "missing address");
			return;
		}
		if (name_ok(line + start, i - start, false) && !tok_is(line + start, i - start, "any")) {
			if (item_set(ps, ln, (int)start + 1, line + start, i - start, target))
				return;
		} else {
			if (item_parse(ps, ln, (int)start + 1, line + start, i - start, pf, &npf))
				return;
			if (target >= 0 && set_add_item(ps, target, pf, npf, ln, (int)start + 1))
				return;
		}
		while (i < end && is_ws(line[i]))
			i++;
		if (i >= end)
			return;
		if (line[i] != ',') {
			start = i;
			while (i < end && !is_ws(line[i]) && line[i] != ',')
				i++;
			perr(ps, ln, (int)start + 1, "unexpected '%s'",
			     quote(qb, line + start, i - start));
			return;
		}
		i++;
	}
}

void cont_missing(struct parser *ps)
{
	/* One error per line: the comma's line may have one already. */
	if (ps->last_err_line != ps->cont_line)
		perr(ps, ps->cont_line, ps->cont_col,
		     "missing address after ',' "
		     "(a trailing comma continues the list on the next line)");
	ps->cont = false;
}

/* The end of a set line's text: before a comment, without trailing blanks. */
size_t set_line_end(const char *line, size_t n, size_t i)
{
	const char *hash = memchr(line + i, '#', n - i);
	size_t end = hash ? (size_t)(hash - line) : n;

	while (end > i && is_ws(line[end - 1]))
		end--;
	return end;
}

/* set NAME = ITEM, ITEM, ...   (i: the byte after `set`) */
void parse_set(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	size_t end = set_line_end(line, n, i), ns, nn;
	char qb[QUOTE_BUF];
	bool reported = false;
	long target = -1, first;

	while (i < end && is_ws(line[i]))
		i++;
	ns = i;
	while (i < end && !is_ws(line[i]) && line[i] != '=')
		i++;
	nn = i - ns;
	if (nn == 0) {
		perr(ps, ln, (int)i + 1, "missing set name after 'set'");
		return;
	}
	if (tok_is(line + ns, nn, "any")) {
		perr(ps, ln, (int)ns + 1, "bad set name 'any' (any is reserved)");
		reported = true;
	} else if (!name_ok(line + ns, nn, false)) {
		perr(ps, ln, (int)ns + 1, "bad set name '%s'%s", quote(qb, line + ns, nn),
		     nn > NAME_MAX_LEN ? " (longer than 95 bytes)" : "");
		reported = true;
	}
	while (i < end && is_ws(line[i]))
		i++;
	if (i >= end || line[i] != '=') {
		if (!reported)
			perr(ps, ln, (int)i + 1, "expected '=' after set name");
		return;
	}
	i++;
	if (!reported) {
		first = policy_find_set(ps->p, line + ns, nn);
		if (first >= 0) {
			char at[LINE_WHERE_LEN];

			perr(ps, ln, (int)ns + 1, "duplicate set '%s' (first defined at %s)",
			     quote(qb, line + ns, nn),
			     line_where(ps, ps->p->sets[first].line, at, sizeof(at)));
			reported = true;
		} else if (ps->nnamed >= POLICY_MAX_SETS) {
			if (!ps->sets_full)
				perr(ps, ln, (int)ns + 1, "more than %d sets", POLICY_MAX_SETS);
			ps->sets_full = true;
			reported = true;
		} else {
			target = set_new(ps, line + ns, nn, ln, (int)ns + 1);
			if (target < 0)
				return;
			ps->nnamed++;
		}
	}
	items_parse(ps, ln, line, i, end, target, !reported);
}
