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
		char at[LINE_WHERE_LEN];

		perr(ps, ln, t[0].col, "protect given twice (first at %s)",
		     line_where(ps, ps->protect_line, at, sizeof(at)));
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

/*
 * include FILE, or include "FILE" for a name with blanks or '#': FILE
 * relative to the including file's directory (policy.c, include_file()).
 */
static void parse_include(struct parser *ps, int ln, const char *line, size_t n, size_t i)
{
	struct tok t[3];
	size_t endp;
	int nt = tokenize(line, n, i, t, 3, &endp);
	char qb[QUOTE_BUF];

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing file name after 'include'");
		return;
	}
	if (t[1].quoted && (!t[1].closed || t[1].n < 3)) {
		perr(ps, ln, t[1].col, t[1].closed ? "empty file name" : "unterminated quote");
		return;
	}
	if (t[1].quoted && memchr(t[1].s + 1, '\\', t[1].n - 2)) {
		perr(ps, ln, t[1].col, "a file name in quotes cannot hold '\\'");
		return;
	}
	if (nt > 2) {
		perr(ps, ln, t[2].col, "unexpected '%s'", quote(qb, t[2].s, t[2].n));
		return;
	}
	if (t[1].quoted)
		include_file(ps, ln, t[1].col, t[1].s + 1, t[1].n - 2);
	else
		include_file(ps, ln, t[1].col, t[1].s, t[1].n);
}

_Static_assert(PICFW_MODE_AUDIT == 1 && PICFW_REPLIES_STATELESS == 1 &&
		       PICFW_UNPROTECTED_DROP == 1,
	       "parse_choice() stores the index of the word: enforce, tracked, pass are 0");

/*
 * `KEYWORD WORD` statements with a fixed choice of two words: mode, replies,
 * icmp, unprotected. what names the word in "missing WHAT after 'KEYWORD'".
 * Sets *out to the index of the word in words[]; *seen_line guards repeats.
 */
static void parse_choice(struct parser *ps, int ln, const char *line, size_t n, size_t i,
			 const char *keyword, const char *what, const char *const words[2],
			 uint32_t *out, int *seen_line)
{
	struct tok t[3];
	size_t endp;
	int nt = tokenize(line, n, i, t, 3, &endp), k;
	char qb[QUOTE_BUF];

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing %s after '%s'", what, keyword);
		return;
	}
	for (k = 0; k < 2; k++)
		if (tok_is(t[1].s, t[1].n, words[k]))
			break;
	if (k == 2) {
		perr(ps, ln, t[1].col, "unknown %s '%s' (use %s or %s)", keyword,
		     quote(qb, t[1].s, t[1].n), words[0], words[1]);
		return;
	}
	if (nt > 2) {
		perr(ps, ln, t[2].col, "unexpected '%s'", quote(qb, t[2].s, t[2].n));
		return;
	}
	if (*seen_line) {
		char at[LINE_WHERE_LEN];

		perr(ps, ln, t[0].col, "%s given twice (first at %s)", keyword,
		     line_where(ps, *seen_line, at, sizeof(at)));
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

/* Counts above this are bad numbers, not out of range. */
#define COUNT_MAX 1000000009L

/* A count: digits, or 1-3 digits then groups of ",ddd" (131,072). -1 if bad. */
static long count_parse(const char *s, size_t n)
{
	long v = number_parse(s, n, COUNT_MAX + 1);

	return v > COUNT_MAX ? -1 : v;
}

/* The DURATION of `timeout KIND DURATION`, checked: seconds, or -1 after its error. */
static long timeout_value(struct parser *ps, int ln, const struct tok *t, unsigned kind)
{
	char qb[QUOTE_BUF];
	long v = duration_parse(t->s, t->n);

	if (v < 0) {
		perr(ps, ln, t->col, "bad duration '%s' (e.g. 60, 90s, 5m, 2h)",
		     quote(qb, t->s, t->n));
		return -1;
	}
	/* A pickup window may be none; a flow's timeout may not. */
	if (v < (kind == PICFW_TIMEOUT_PICKUP ? 0 : 1) || v > PICFW_MAX_TIMEOUT) {
		perr(ps, ln, t->col, "timeout %ld s is out of range (%d s to %d s)", v,
		     kind == PICFW_TIMEOUT_PICKUP ? 0 : 1, PICFW_MAX_TIMEOUT);
		return -1;
	}
	return v;
}

/* The SIZE of `flows TRANSPORT SIZE`, checked: flows, or -1 after its error. */
static long flows_value(struct parser *ps, int ln, const struct tok *t, unsigned kind)
{
	char qb[QUOTE_BUF];
	long v = count_parse(t->s, t->n);

	if (v < 0) {
		perr(ps, ln, t->col, "bad flow table size '%s' (a number, e.g. 65536 or 131,072)",
		     quote(qb, t->s, t->n));
		return -1;
	}
	if (v < PICFW_MIN_FLOWS || v > PICFW_MAX_FLOWS_PER_TABLE) {
		perr(ps, ln, t->col, "flows %s %ld is out of range (%u to %u)",
		     policy_transport_name(kind), v, PICFW_MIN_FLOWS, PICFW_MAX_FLOWS_PER_TABLE);
		return -1;
	}
	return v;
}

/* A `KEYWORD KIND VALUE` statement: one value per kind. */
struct keyed_statement {
	const char *keyword;
	const char *kind;  /* what the kinds are, in "missing KIND after 'KEYWORD'" */
	const char *table; /* what one kind sets, in "unknown TABLE 'WORD'" */
	const char *kinds; /* the kinds, for a hint */
	unsigned nkinds;
	const char *(*kind_name)(unsigned k);
	const char *value; /* in "missing VALUE after 'KEYWORD KIND'" */
	long (*value_parse)(struct parser *ps, int ln, const struct tok *t, unsigned kind);
};

static const struct keyed_statement timeout_statement = {
	"timeout", "kind", "timeout", "udp, tcp, tcp-transitory or pickup", PICFW_TIMEOUTS,
	policy_timeout_name, "duration", timeout_value,
};

static const struct keyed_statement flows_statement = {
	"flows", "transport", "flow table", "tcp or udp", PICFW_TRANSPORTS,
	policy_transport_name, "size", flows_value,
};

/*
 * timeout udp|tcp|tcp-transitory|pickup DURATION, flows tcp|udp N (the size of each
 * family's flow table of that transport): out[kind] and seen_line[kind] (which
 * guards repeats) of the kind named.
 */
static void parse_keyed(struct parser *ps, int ln, const char *line, size_t n, size_t i,
			const struct keyed_statement *st, uint32_t *out, int *seen_line)
{
	struct tok t[4];
	size_t endp;
	int nt = tokenize(line, n, i, t, 4, &endp);
	char qb[QUOTE_BUF];
	unsigned k;
	long v;

	if (nt < 2) {
		perr(ps, ln, (int)endp + 1, "missing %s after '%s' (%s)", st->kind, st->keyword,
		     st->kinds);
		return;
	}
	for (k = 0; k < st->nkinds; k++)
		if (tok_is(t[1].s, t[1].n, st->kind_name(k)))
			break;
	if (k == st->nkinds) {
		perr(ps, ln, t[1].col, "unknown %s '%s' (use %s)", st->table,
		     quote(qb, t[1].s, t[1].n), st->kinds);
		return;
	}
	if (nt < 3) {
		perr(ps, ln, (int)endp + 1, "missing %s after '%s %s'", st->value, st->keyword,
		     st->kind_name(k));
		return;
	}
	v = st->value_parse(ps, ln, &t[2], k);
	if (v < 0)
		return;
	if (nt > 3) {
		perr(ps, ln, t[3].col, "unexpected '%s'", quote(qb, t[3].s, t[3].n));
		return;
	}
	if (seen_line[k]) {
		char at[LINE_WHERE_LEN];

		perr(ps, ln, t[0].col, "%s %s given twice (first at %s)", st->keyword,
		     st->kind_name(k), line_where(ps, seen_line[k], at, sizeof(at)));
		return;
	}
	out[k] = (uint32_t)v;
	seen_line[k] = ln;
}

/* Could word, first on a line after a trailing comma, name a set that the list goes on with? */
static bool set_continues(struct parser *ps, const char *word, size_t n)
{
	static const char *const keywords[] = { "set",	   "protect",	  "mode",
						"replies", "icmp",	  "timeout",
						"unprotected", "include", "flows" };
	size_t k;

	for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		if (tok_is(word, n, keywords[k]))
			return false;
	return name_ok(word, n, false) && policy_find_set(ps->p, word, n) >= 0;
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
		/*
		 * A word that can be neither an address nor a set defined above
		 * (a statement's keyword is never read as a set): the list was
		 * over, the comma a slip.
		 */
		if (w > i && ((!addr_like(line + i, w - i) && !tok_is(line + i, w - i, "any") &&
			       !set_continues(ps, line + i, w - i)) ||
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
		parse_choice(ps, ln, line, n, i, "mode", "mode",
			     (const char *const[]){ "enforce", "audit" }, &ps->p->mode,
			     &ps->mode_line);
	else if (tok_is(line + i, w - i, "replies"))
		parse_choice(ps, ln, line, n, i, "replies", "value",
			     (const char *const[]){ "tracked", "stateless" }, &ps->p->replies,
			     &ps->replies_line);
	else if (tok_is(line + i, w - i, "icmp"))
		parse_choice(ps, ln, line, n, i, "icmp", "value",
			     (const char *const[]){ "permissive", "strict" }, &ps->p->icmp_strict,
			     &ps->icmp_line);
	else if (tok_is(line + i, w - i, "timeout"))
		parse_keyed(ps, ln, line, n, i, &timeout_statement, ps->p->timeout,
			    ps->timeout_line);
	else if (tok_is(line + i, w - i, "unprotected"))
		parse_choice(ps, ln, line, n, i, "unprotected", "value",
			     (const char *const[]){ "pass", "drop" }, &ps->p->unprotected,
			     &ps->unprotected_line);
	else if (tok_is(line + i, w - i, "include")) {
		ps->nkeyword_lines++; /* a file that only includes is a policy */
		parse_include(ps, ln, line, n, i);
	}
	else if (tok_is(line + i, w - i, "flows"))
		parse_keyed(ps, ln, line, n, i, &flows_statement, ps->p->flows, ps->flows_line);
	else
		parse_row(ps, ln, line, n, i);
}
