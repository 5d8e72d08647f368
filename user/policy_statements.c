/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_statements.c - one line to its statement: protect, mode, the options, or a set or row. */
#include <string.h>

#include "policy_int.h"

/*
 * NAME: with a row name that is not an address (2001:db8:: ends with ':' too):
 * a labelled row, never a set item.
 */
static bool label_like(const char *s, size_t n)
{
	struct prefix pf;

	return n > 1 && s[n - 1] == ':' && name_ok(s, n - 1, true) &&
	       prefix_parse(s, n, &pf) != ADDR_OK;
}

/* protect NAME */
static void parse_protect(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	struct tok t[3];
	size_t endp;
	int nt = tokenize(line, n, i, t, 3, &endp);
	char qb[QUOTE_BUF];

	ps->protect_seen = true;
	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing set name after 'protect'");
		return;
	}
	if (t[1].quoted && !t[1].closed) {
		perr(ps, ln, t[1].col, "unterminated quote");
		return;
	}
	if (nt > 2) {
		perr(ps, ln, t[2].col, "unexpected '%s'", quote(qb, t[2].s, t[2].n));
		return;
	}
	if (ps->protect_name) {
		perr(ps, ln, t[0].col, "protect given twice (first at line %d)", ps->protect_line);
		return;
	}
	ps->protect_name = strndup(t[1].s, t[1].n);
	if (!ps->protect_name) {
		nomem(ps);
		return;
	}
	ps->protect_line = ln;
	ps->protect_col = t[1].col;
}

/* mode enforce|audit */
static void parse_mode(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	struct tok t[3];
	size_t endp;
	int nt = tokenize(line, n, i, t, 3, &endp);
	char qb[QUOTE_BUF];
	uint32_t mode;

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing mode after 'mode'");
		return;
	}
	if (tok_is(t[1].s, t[1].n, "enforce")) {
		mode = PICFW_MODE_ENFORCE;
	} else if (tok_is(t[1].s, t[1].n, "audit")) {
		mode = PICFW_MODE_AUDIT;
	} else {
		perr(ps, ln, t[1].col, "unknown mode '%s' (use enforce or audit)",
		     quote(qb, t[1].s, t[1].n));
		return;
	}
	if (nt > 2) {
		perr(ps, ln, t[2].col, "unexpected '%s'", quote(qb, t[2].s, t[2].n));
		return;
	}
	if (ps->mode_line) {
		perr(ps, ln, t[0].col, "mode given twice (first at line %d)", ps->mode_line);
		return;
	}
	ps->p->mode = mode;
	ps->mode_line = ln;
}

/*
 * `KEYWORD WORD` statements with a fixed choice of words: replies, icmp,
 * unprotected.
 * Sets *out to the index of the word in words[]; *seen_line guards repeats.
 */
static void parse_choice(struct parser *ps, int ln, const char *line, size_t n, size_t i,
			 const char *keyword, const char *const *words, int nwords,
			 uint32_t *out, int *seen_line)
{
	struct tok t[3];
	size_t endp;
	int nt = tokenize(line, n, i, t, 3, &endp), k;
	char qb[QUOTE_BUF];

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing value after '%s'", keyword);
		return;
	}
	for (k = 0; k < nwords; k++)
		if (tok_is(t[1].s, t[1].n, words[k]))
			break;
	if (k == nwords) {
		perr(ps, ln, t[1].col, "unknown %s '%s' (use %s or %s)", keyword,
		     quote(qb, t[1].s, t[1].n), words[0], words[1]);
		return;
	}
	if (nt > 2) {
		perr(ps, ln, t[2].col, "unexpected '%s'", quote(qb, t[2].s, t[2].n));
		return;
	}
	if (*seen_line) {
		perr(ps, ln, t[0].col, "%s given twice (first at line %d)", keyword, *seen_line);
		return;
	}
	*out = (uint32_t)k;
	*seen_line = ln;
}

/* A duration: seconds, or a number with s, m or h. -1 if bad. */
static long duration_parse(const char *s, size_t n)
{
	long v = 0, unit = 1;
	size_t i;

	if (n && (s[n - 1] == 's' || s[n - 1] == 'm' || s[n - 1] == 'h')) {
		unit = s[n - 1] == 'h' ? 3600 : s[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	if (!n || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v * unit;
}

/* timeout udp|tcp|tcp-transitory DURATION */
static void parse_timeout(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	struct tok t[4];
	size_t endp;
	int nt = tokenize(line, n, i, t, 4, &endp), k;
	char qb[QUOTE_BUF];
	long v;

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing kind after 'timeout' (udp, tcp or tcp-transitory)");
		return;
	}
	for (k = 0; k < PICFW_TIMEOUTS; k++)
		if (tok_is(t[1].s, t[1].n, policy_timeout_name((unsigned)k)))
			break;
	if (k == PICFW_TIMEOUTS) {
		perr(ps, ln, t[1].col, "unknown timeout '%s' (use udp, tcp or tcp-transitory)",
		     quote(qb, t[1].s, t[1].n));
		return;
	}
	if (nt < 3) {
		perr(ps, ln, (int)endp + 1, "missing duration after 'timeout %s'",
		     policy_timeout_name((unsigned)k));
		return;
	}
	v = duration_parse(t[2].s, t[2].n);
	if (v < 0) {
		perr(ps, ln, t[2].col, "bad duration '%s' (e.g. 60, 90s, 5m, 2h)",
		     quote(qb, t[2].s, t[2].n));
		return;
	}
	if (v < 1 || v > PICFW_MAX_TIMEOUT) {
		perr(ps, ln, t[2].col, "timeout %ld s is out of range (1 s to %d s)", v,
		     PICFW_MAX_TIMEOUT);
		return;
	}
	if (nt > 3) {
		perr(ps, ln, t[3].col, "unexpected '%s'", quote(qb, t[3].s, t[3].n));
		return;
	}
	if (ps->timeout_line[k]) {
		perr(ps, ln, t[0].col, "timeout %s given twice (first at line %d)",
		     policy_timeout_name((unsigned)k), ps->timeout_line[k]);
		return;
	}
	ps->p->timeout[k] = (uint32_t)v;
	ps->timeout_line[k] = ln;
}

/* A count: digits, or 1-3 digits then groups of ",ddd" (131,072). -1 if bad. */
static long count_parse(const char *s, size_t n)
{
	size_t i, lead = 0;
	long v = 0;

	while (lead < n && is_digit(s[lead]))
		lead++;
	if (!lead || (lead < n && (lead > 3 || (n - lead) % 4)))
		return -1;
	for (i = 0; i < n; i++) {
		if (i >= lead && (i - lead) % 4 == 0) {
			if (s[i] != ',')
				return -1;
			continue;
		}
		if (!is_digit(s[i]) || v > 100000000)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* flows tcp|udp N: the size of each family's flow table of that transport. */
static void parse_flows(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	struct tok t[4];
	size_t endp;
	int nt = tokenize(line, n, i, t, 4, &endp), k;
	char qb[QUOTE_BUF];
	long v;

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing transport after 'flows' (tcp or udp)");
		return;
	}
	for (k = 0; k < PICFW_TRANSPORTS; k++)
		if (tok_is(t[1].s, t[1].n, policy_transport_name((unsigned)k)))
			break;
	if (k == PICFW_TRANSPORTS) {
		perr(ps, ln, t[1].col, "unknown flow table '%s' (use tcp or udp)",
		     quote(qb, t[1].s, t[1].n));
		return;
	}
	if (nt < 3) {
		perr(ps, ln, (int)endp + 1, "missing size after 'flows %s'",
		     policy_transport_name((unsigned)k));
		return;
	}
	v = count_parse(t[2].s, t[2].n);
	if (v < 0) {
		perr(ps, ln, t[2].col, "bad flow table size '%s' (a number, e.g. 65536 or 131,072)",
		     quote(qb, t[2].s, t[2].n));
		return;
	}
	if (v < PICFW_MIN_FLOWS || v > PICFW_MAX_FLOWS_PER_TABLE) {
		perr(ps, ln, t[2].col, "flows %s %ld is out of range (%u to %u)",
		     policy_transport_name((unsigned)k), v, PICFW_MIN_FLOWS,
		     PICFW_MAX_FLOWS_PER_TABLE);
		return;
	}
	if (nt > 3) {
		perr(ps, ln, t[3].col, "unexpected '%s'", quote(qb, t[3].s, t[3].n));
		return;
	}
	if (ps->flows_line[k]) {
		perr(ps, ln, t[0].col, "flows %s given twice (first at line %d)",
		     policy_transport_name((unsigned)k), ps->flows_line[k]);
		return;
	}
	ps->p->flows[k] = (uint32_t)v;
	ps->flows_line[k] = ln;
}

/* One physical line, without its newline (and the CR before it). */
void parse_line(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	size_t w;

	while (i < n && is_ws(line[i]))
		i++;
	if (i >= n || line[i] == '#')
		return;

	if (ps->cont) {
		w = i;
		while (w < n && !is_ws(line[w]) && line[w] != ',' && line[w] != '#')
			w++;
		/* A word that cannot be an address: the list was over, the comma a slip. */
		if (w > i && ((!addr_like(line + i, w - i) && !tok_is(line + i, w - i, "any")) ||
			      label_like(line + i, w - i))) {
			cont_missing(ps);
		} else {
			items_parse(ps, ln, line, i, set_line_end(line, n, i), ps->cont_set, true);
			return;
		}
	}

	ps->nstatements++;
	w = i;
	while (w < n && !is_ws(line[w]) && line[w] != '#')
		w++;
	if (tok_is(line + i, w - i, "set"))
		parse_set(ps, ln, line, n, w);
	else if (tok_is(line + i, w - i, "protect"))
		parse_protect(ps, ln, line, n, i);
	else if (tok_is(line + i, w - i, "mode"))
		parse_mode(ps, ln, line, n, i);
	else if (tok_is(line + i, w - i, "replies"))
		parse_choice(ps, ln, line, n, i, "replies", (const char *const[]){ "tracked", "stateless" },
			     2, &ps->p->replies, &ps->replies_line);
	else if (tok_is(line + i, w - i, "icmp"))
		parse_choice(ps, ln, line, n, i, "icmp", (const char *const[]){ "permissive", "strict" },
			     2, &ps->p->icmp_strict, &ps->icmp_line);
	else if (tok_is(line + i, w - i, "timeout"))
		parse_timeout(ps, ln, line, n, i);
	else if (tok_is(line + i, w - i, "unprotected"))
		parse_choice(ps, ln, line, n, i, "unprotected", (const char *const[]){ "pass", "drop" },
			     2, &ps->p->unprotected, &ps->unprotected_line);
	else if (tok_is(line + i, w - i, "flows"))
		parse_flows(ps, ln, line, n, i);
	else
		parse_row(ps, ln, line, n, i);
}
