/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy.c - policy text to sets and rows (design.md, "The policy language").
 *
 * Three steps:
 *  1. the text check: the whole input must be UTF-8 text, or nothing is read;
 *  2. line by line: each statement's syntax; sets, rows, protect and mode are
 *     recorded, a row's set names only remembered;
 *  3. after the last line: set names are resolved (so order in the file does
 *     not matter), each row gets its direction and name, and what needs the
 *     whole file is checked.
 * Errors are collected, at most one per line, sorted by position. Nothing is
 * returned unless there are none.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define NAME_MAX_LEN (PICFW_NAME_LEN - 1) /* set and row names, in bytes */
#define QUOTE_MAX 32                      /* bytes of a token quoted in a message */
#define QUOTE_BUF (QUOTE_MAX + 4)
#define ROW_TOKENS 8                      /* [LABEL:] FIELD SRC DST NOTES, then extra */

/* One token of a line: bare, or a double-quoted string (quotes included). */
struct tok {
	const char *s;
	size_t n;
	int col;
	bool quoted;
	bool closed; /* quoted, and the closing quote is there */
};

/* What only the parser needs to know about a row, for the checks after the file. */
struct row_pos {
	int src_col, dst_col;
	bool src_named, dst_named; /* a set name, resolved after the whole file */
};

/* A SOURCE or DESTINATION as written in a row. */
struct endpoint {
	bool named;
	struct prefix pf[2];
	size_t npf;
};

struct parser {
	struct policy *p;
	struct policy_errors *errs;
	bool stop; /* error cap reached, or out of memory */
	bool oom;
	int last_err_line;
	long warned_set;       /* the last set warned about `any` with other items */
	long count_set;        /* the set count[] is of, -1 if none */
	size_t count[2];       /* its IPv4 and IPv6 prefixes */
	size_t all_count[2];   /* IPv4 and IPv6 prefixes in all named sets */
	struct row_pos *pos; /* beside p->rows */
	size_t nnamed;       /* named sets */
	bool sets_full, rows_full;
	/* A set whose item list ended with ',' continues on the next line. */
	bool cont;
	long cont_set; /* index into p->sets; -1: items are checked, then dropped */
	int cont_line, cont_col;
	/* Statements seen, well formed or not. */
	int nstatements, nrows_seen, nlong_lines;
	int nbad_lines; /* lines with an error */
	bool protect_seen;
	char *protect_name; /* of the first well formed protect */
	int protect_line, protect_col;
	int mode_line;
	int replies_line, icmp_line, unprotected_line;
	int timeout_line[PICFW_TIMEOUTS];
	int flows_line[PICFW_TRANSPORTS];
};

static bool is_ws(char c)
{
	/* A lone CR (not before LF) is taken as a blank too. */
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool tok_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/*
 * s[0..n) for a message: at most QUOTE_MAX bytes, anything but printable
 * ASCII shown as '?' (names and addresses are ASCII; nothing else needs to be
 * echoed to a terminal, nor more of a file that is not a policy).
 */
static const char *quote(char *buf, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	memcpy(buf + i, i < n ? "..." : "", i < n ? 4 : 1);
	return buf;
}

static int errs_vadd(struct policy_errors *e, int line, int col, const char *fmt, va_list ap)
{
	struct policy_error *err;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		struct policy_error *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	err = &e->v[e->n++];
	err->line = line;
	err->col = col;
	err->warning = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return 0;
}

static __attribute__((format(printf, 4, 5))) void
errs_add(struct policy_errors *e, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(e, line, col, fmt, ap);
	va_end(ap);
}

static __attribute__((format(printf, 4, 5))) void
perr(struct parser *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	if (ps->stop)
		return;
	va_start(ap, fmt);
	ret = errs_vadd(ps->errs, line, col, fmt, ap);
	va_end(ap);
	ps->last_err_line = line;
	if (ret) {
		ps->oom = true;
		ps->stop = true;
	} else if (ps->errs->n >= POLICY_MAX_ERRORS) {
		ps->stop = true;
	}
}

static void nomem(struct parser *ps)
{
	ps->oom = true;
	ps->stop = true;
}

/* A warning: printed, but the policy is still taken. */
static __attribute__((format(printf, 4, 5))) void
pwarn(struct parser *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	if (ps->stop)
		return;
	va_start(ap, fmt);
	ret = errs_vadd(ps->errs, line, col, fmt, ap);
	va_end(ap);
	if (ret)
		nomem(ps);
	else
		ps->errs->v[ps->errs->n - 1].warning = 1;
}

static size_t errs_count(const struct policy_errors *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		n += !e->v[i].warning;
	return n;
}

/*
 * Step 1: NUL bytes, invalid UTF-8 (overlong forms, surrogates, above U+10FFFF,
 * cut short) and control characters other than TAB, CR and LF (C0, DEL, C1).
 */
static int text_check(struct parser *ps, const unsigned char *t, size_t len)
{
	size_t i = 0, bol = 0;
	int line = 1;

	while (i < len) {
		unsigned int c = t[i], cp = c;
		unsigned int lo = 0x80, hi = 0xbf;
		size_t need, k;
		char what[40];

		if (c == '\n') {
			line++;
			bol = ++i;
			continue;
		}
		if (c < 0x80) {
			need = 0;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c == 0xe0) {
			need = 2;
			lo = 0xa0;
		} else if (c == 0xed) {
			need = 2;
			hi = 0x9f; /* no UTF-16 surrogates */
		} else if (c >= 0xe1 && c <= 0xef) {
			need = 2;
		} else if (c == 0xf0) {
			need = 3;
			lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			need = 3;
		} else if (c == 0xf4) {
			need = 3;
			hi = 0x8f; /* nothing above U+10FFFF */
		} else {
			goto bad_utf8;
		}
		if (need) {
			if (len - i <= need || t[i + 1] < lo || t[i + 1] > hi)
				goto bad_utf8;
			for (k = 2; k <= need; k++)
				if ((t[i + k] & 0xc0) != 0x80)
					goto bad_utf8;
			if (need == 1)
				cp = (c & 0x1f) << 6 | (t[i + 1] & 0x3f);
			if (need == 2)
				cp = (c & 0x0f) << 12 | (t[i + 1] & 0x3fu) << 6 | (t[i + 2] & 0x3f);
		}
		if (c == 0) {
			snprintf(what, sizeof(what), "NUL byte");
		} else if (cp == 0x061c || cp == 0x200e || cp == 0x200f ||
			   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			/* Text that displays in another order than it reads (Trojan Source). */
			snprintf(what, sizeof(what), "bidirectional control character U+%04X", cp);
		} else if ((cp < 0x20 && cp != '\t' && cp != '\r') || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(what, sizeof(what), "control character 0x%02x", cp);
		} else {
			i += need + 1;
			continue;
		}
		perr(ps, line, (int)(i - bol + 1), "file is not text (%s)", what);
		return -1;
bad_utf8:
		perr(ps, line, (int)(i - bol + 1), "file is not text (invalid UTF-8)");
		return -1;
	}
	return 0;
}

/*
 * Split a line into tokens from byte i, up to a '#' outside a quoted string.
 * A quoted string runs to the next '"' not escaped by a backslash, or to the
 * end of the line (then closed is false). *endp: the byte after the last token.
 */
static int tokenize(const char *line, size_t n, size_t i, struct tok *t, int max, size_t *endp)
{
	int nt = 0;

	*endp = i;
	while (nt < max) {
		struct tok *k;
		size_t start;

		while (i < n && is_ws(line[i]))
			i++;
		if (i >= n || line[i] == '#')
			break;
		k = &t[nt++];
		start = i;
		k->col = (int)i + 1;
		k->quoted = line[i] == '"';
		k->closed = false;
		if (k->quoted) {
			for (i++; i < n && line[i] != '"'; i++)
				if (line[i] == '\\' && i + 1 < n &&
				    (line[i + 1] == '"' || line[i + 1] == '\\'))
					i++;
			if (i < n) {
				k->closed = true;
				i++;
			}
		} else {
			while (i < n && !is_ws(line[i]) && line[i] != '#')
				i++;
		}
		k->s = line + start;
		k->n = i - start;
		*endp = i;
	}
	return nt;
}

/* [A-Za-z][A-Za-z0-9_.-]* (sets) or [A-Za-z0-9][A-Za-z0-9_.-]* (rows), at most 95 bytes */
static bool name_ok(const char *s, size_t n, bool digit_first)
{
	size_t i;

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	if (!is_alpha(s[0]) && !(digit_first && is_digit(s[0])))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* Set names start with a letter, so this can only be meant as an address. */
static bool addr_like(const char *s, size_t n)
{
	return n && (is_digit(s[0]) || memchr(s, ':', n));
}

static long find_set(const struct policy *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->nsets; i++)
		if (p->sets[i].name && tok_is(name, n, p->sets[i].name))
			return (long)i;
	return -1;
}

enum { ADDR_OK, ADDR_BAD, ADDR_BAD_LEN };

/* "a.b.c.d", "a.b.c.d/len", IPv6 the same; strict (inet_pton, no leading zeros in len). */
static int prefix_parse(const char *s, size_t n, struct prefix *pf)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned int max, len = 0;
	size_t i, dn;

	memset(pf, 0, sizeof(*pf));
	if (alen == 0 || alen >= sizeof(buf))
		return ADDR_BAD;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (memchr(buf, ':', alen)) {
		pf->family = 6;
		max = 128;
		if (inet_pton(AF_INET6, buf, pf->addr) != 1)
			return ADDR_BAD;
	} else {
		pf->family = 4;
		max = 32;
		if (inet_pton(AF_INET, buf, pf->addr) != 1)
			return ADDR_BAD;
	}
	if (!slash) {
		pf->len = (uint8_t)max;
		return ADDR_OK;
	}
	dn = n - alen - 1;
	if (dn == 0 || dn > 3 || (dn > 1 && slash[1] == '0'))
		return ADDR_BAD_LEN;
	for (i = 1; i <= dn; i++) {
		if (!is_digit(slash[i]))
			return ADDR_BAD_LEN;
		len = len * 10 + (unsigned int)(slash[i] - '0');
	}
	if (len > max)
		return ADDR_BAD_LEN;
	pf->len = (uint8_t)len;
	return ADDR_OK;
}

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

/* Clear the host bits; true if any was set. */
static bool prefix_mask(struct prefix *pf)
{
	unsigned int bytes = pf->family == 4 ? 4 : 16, i;
	bool host = false;

	for (i = 0; i < bytes; i++) {
		unsigned int keep = pf->len >= 8 * (i + 1) ? 8 :
				    pf->len > 8 * i ? pf->len - 8 * i : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if (pf->addr[i] & ~mask)
			host = true;
		pf->addr[i] &= mask;
	}
	return host;
}

/*
 * An IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) form: the
 * data path sees IPv4 packets as IPv4, never so, and an entry like this would
 * guard or match nothing (a protected address left open). The IPv4 prefix it
 * stands for in *v4. :: and ::1 (and ::/127, just those two) are IPv6's own.
 */
static const char *v4_in_v6(const struct prefix *pf, struct prefix *v4)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[12];
	const uint8_t *low = pf->addr + 12;

	if (pf->family != 6 || pf->len < 96)
		return NULL;
	memset(v4, 0, sizeof(*v4));
	v4->family = 4;
	v4->len = (uint8_t)(pf->len - 96);
	memcpy(v4->addr, low, 4);
	prefix_mask(v4);
	if (!memcmp(pf->addr, mapped, 12))
		return "IPv4-mapped";
	if (memcmp(pf->addr, zero, 12))
		return NULL;
	if (pf->len >= 127 && !low[0] && !low[1] && !low[2] && low[3] <= 1)
		return NULL;
	return "IPv4-compatible";
}

/* `any`, an address or a prefix, into pf[0..*npf); an error at line:col. */
static int item_parse(struct parser *ps, int line, int col, const char *s, size_t n,
		      struct prefix pf[2], size_t *npf)
{
	char qb[QUOTE_BUF], fix[INET6_ADDRSTRLEN + 8];
	struct prefix v4;
	const char *form;

	if (tok_is(s, n, "any")) {
		memset(pf, 0, 2 * sizeof(*pf));
		pf[0].family = 4;
		pf[1].family = 6;
		*npf = 2;
		return 0;
	}
	switch (prefix_parse(s, n, &pf[0])) {
	case ADDR_BAD:
		perr(ps, line, col, "bad address '%s'", quote(qb, s, n));
		return -1;
	case ADDR_BAD_LEN:
		perr(ps, line, col, "bad prefix length in '%s'", quote(qb, s, n));
		return -1;
	}
	form = v4_in_v6(&pf[0], &v4);
	if (form) {
		prefix_format(&v4, fix, sizeof(fix));
		perr(ps, line, col,
		     "'%s' is an %s IPv6 form, which never matches an IPv4 packet; "
		     "write the IPv4 %s %s", quote(qb, s, n), form, v4.len == 32 ? "address" : "prefix",
		     fix);
		return -1;
	}
	if (prefix_mask(&pf[0])) {
		prefix_format(&pf[0], fix, sizeof(fix));
		perr(ps, line, col, "host bits set in '%s'; did you mean %s?", quote(qb, s, n),
		     fix);
		return -1;
	}
	*npf = 1;
	return 0;
}

static int set_add(struct addr_set *set, const struct prefix *pf, size_t n)
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

	if (ps->count_set != target) {
		ps->count_set = target;
		ps->count[0] = ps->count[1] = 0;
		for (i = 0; i < set->nprefixes; i++)
			ps->count[set->prefixes[i].family == 6]++;
	}
	for (k = 0; k < npf; k++) {
		int f = pf[k].family == 6;
		bool has_all = false;

		for (i = 0; i < set->nprefixes && !has_all; i++)
			has_all = set->prefixes[i].family == pf[k].family && !set->prefixes[i].len;
		if (has_all || (!pf[k].len && ps->count[f]))
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
	}
	if (redundant && ps->warned_set != target) {
		ps->warned_set = target;
		pwarn(ps, ln, col, "set '%s' holds 'any' (or a /0) beside other items, "
		      "which it already covers", set->name);
	}
	return 0;
}

/* A new set at the end of p->sets; its index, or -1 (out of memory). */
static long set_new(struct parser *ps, const char *name, size_t n, int line, int col)
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
 * The items of a set from byte i to end (a comment and trailing blanks already
 * cut off), into p->sets[target] (or nowhere if target is -1). A trailing comma
 * makes the list continue on the next line. check false: the line already has
 * its error; only see whether the list continues.
 */
static void items_parse(struct parser *ps, int ln, const char *line, size_t i, size_t end,
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
		if (item_parse(ps, ln, (int)start + 1, line + start, i - start, pf, &npf))
			return;
		if (target >= 0 && set_add_item(ps, target, pf, npf, ln, (int)start + 1))
			return;
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

static void cont_missing(struct parser *ps)
{
	/* One error per line: the comma's line may have one already. */
	if (ps->last_err_line != ps->cont_line)
		perr(ps, ps->cont_line, ps->cont_col,
		     "missing address after ',' "
		     "(a trailing comma continues the list on the next line)");
	ps->cont = false;
}

/* The end of a set line's text: before a comment, without trailing blanks. */
static size_t set_line_end(const char *line, size_t n, size_t i)
{
	const char *hash = memchr(line + i, '#', n - i);
	size_t end = hash ? (size_t)(hash - line) : n;

	while (end > i && is_ws(line[end - 1]))
		end--;
	return end;
}

/* set NAME = ITEM, ITEM, ...   (i: the byte after `set`) */
static void parse_set(struct parser *ps, int ln, const char *line, size_t n, size_t i)
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
		first = find_set(ps->p, line + ns, nn);
		if (first >= 0) {
			perr(ps, ln, (int)ns + 1, "duplicate set '%s' (first defined at line %d)",
			     quote(qb, line + ns, nn), ps->p->sets[first].line);
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

/*
 * One port number: digits, or 1-3 digits then groups of ",ddd" (50,000).
 * Returns the value (at most 65536, so that too big stays too big) or -1.
 */
static long port_number(const char *s, size_t n)
{
	size_t i, lead = 0;
	long v = 0;

	while (lead < n && is_digit(s[lead]))
		lead++;
	if (lead == 0)
		return -1;
	if (lead < n) {
		/* Thousands separators: 1-3 digits first, then exactly 3 per group. */
		if (lead > 3 || (n - lead) % 4)
			return -1;
		for (i = lead; i < n; i++)
			if ((i - lead) % 4 == 0 ? s[i] != ',' : !is_digit(s[i]))
				return -1;
	}
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			continue;
		v = v * 10 + (s[i] - '0');
		if (v > PICFW_PORTS)
			v = PICFW_PORTS;
	}
	return v;
}

/* A port number, checked; s is at column col. */
static int port_parse(struct parser *ps, int ln, int col, const char *s, size_t n, uint16_t *out)
{
	char qb[QUOTE_BUF], digits[QUOTE_BUF];
	long v = port_number(s, n);
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

static void row_free(struct row *r)
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
static void parse_row(struct parser *ps, int ln, const char *line, size_t n, size_t i)
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

/* One physical line, without its newline (and the CR before it). */
static void parse_line(struct parser *ps, int ln, const char *line, size_t n, size_t i)
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
	char *buf = malloc(cap), *o = buf, *mark;

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
	o += sprintf(o, "%s-%u", policy_transport_name(r->transport), r->port_lo);
	if (r->port_hi != r->port_lo)
		o += sprintf(o, "-%u", r->port_hi);
	sprintf(o, "-%s", policy_direction_name(r->direction));
	return buf;
}

static size_t row_written_len(const struct policy *p, const struct row *r);

/*
 * The protected set names the Edge's own addresses. One that covers far more
 * (`any`, 0.0.0.0/0, a /8) turns the filter onto others' traffic and is
 * almost always a slip: refused, at the set.
 */
static void protect_width_check(struct parser *ps, const struct addr_set *s)
{
	char pf[INET6_ADDRSTRLEN + 8];
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

/* Step 3: what needs the whole file. */
static void resolve(struct parser *ps)
{
	struct policy *p = ps->p;
	const char *pname = NULL;
	char qb[QUOTE_BUF];
	size_t i, j;

	if (ps->protect_name) {
		long idx = find_set(p, ps->protect_name, strlen(ps->protect_name));

		if (idx < 0) {
			perr(ps, ps->protect_line, ps->protect_col, "unknown set '%s'",
			     quote(qb, ps->protect_name, strlen(ps->protect_name)));
		} else {
			p->protect = (int)idx;
			p->sets[idx].used = 1;
			pname = p->sets[idx].name;
			protect_width_check(ps, &p->sets[idx]);
		}
	}

	for (i = 0; i < p->nrows && !ps->stop; i++) {
		struct row *r = &p->rows[i];
		const struct row_pos *pos = &ps->pos[i];
		bool in, out;
		long idx;

		if (pos->src_named) {
			idx = find_set(p, r->src_text, strlen(r->src_text));
			if (idx < 0) {
				perr(ps, r->line, pos->src_col, "unknown set '%s'",
				     quote(qb, r->src_text, strlen(r->src_text)));
				continue;
			}
			r->src = (int)idx;
		}
		if (pos->dst_named) {
			idx = find_set(p, r->dst_text, strlen(r->dst_text));
			if (idx < 0) {
				perr(ps, r->line, pos->dst_col, "unknown set '%s'",
				     quote(qb, r->dst_text, strlen(r->dst_text)));
				continue;
			}
			r->dst = (int)idx;
		}
		p->sets[r->src].used = 1;
		p->sets[r->dst].used = 1;

		/* No protect (or an unknown one): that error says it all. */
		if (!pname)
			continue;
		in = pos->dst_named && r->dst == p->protect;
		out = pos->src_named && r->src == p->protect;
		if (in && out) {
			perr(ps, r->line, pos->src_col,
			     "row names the protected set '%s' as both source and destination",
			     pname);
			continue;
		}
		if (!in && !out) {
			perr(ps, r->line, pos->src_col,
			     "row does not name the protected set '%s' as source or destination",
			     pname);
			continue;
		}
		r->direction = in ? PICFW_DIR_IN : PICFW_DIR_OUT;

		if (!r->name) {
			r->name = derive_name(r);
			if (!r->name) {
				nomem(ps);
				return;
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
				perr(ps, r->line, r->col,
				     "duplicate row name '%s' (first at line %d); "
				     "give one row a name with 'NAME:'", r->name, o->line);
				break;
			}
		}
		/* The normalised copy must read back under the same line limit. */
		if (j == i && row_written_len(p, r) > POLICY_MAX_LINE)
			perr(ps, r->line, r->col,
			     "row is over %d bytes once normalised (its name, then its fields, "
			     "notes escaped); shorten its notes", POLICY_MAX_LINE);
	}
}

/* By line, then column; stable (insertion sort: at most POLICY_MAX_ERRORS). */
static void errs_sort(struct policy_errors *e)
{
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		struct policy_error x = e->v[i];

		for (j = i; j > 0 && (e->v[j - 1].line > x.line ||
				      (e->v[j - 1].line == x.line && e->v[j - 1].col > x.col)); j--)
			e->v[j] = e->v[j - 1];
		e->v[j] = x;
	}
}

static void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->protect = -1;
	p->mode = PICFW_MODE_ENFORCE;
	p->replies = PICFW_REPLIES_TRACKED;
	p->timeout[PICFW_TIMEOUT_UDP] = PICFW_DEFAULT_TIMEOUT_UDP;
	p->timeout[PICFW_TIMEOUT_TCP] = PICFW_DEFAULT_TIMEOUT_TCP;
	p->timeout[PICFW_TIMEOUT_TCP_TRANSITORY] = PICFW_DEFAULT_TIMEOUT_TCP_TRANSITORY;
	p->unprotected = PICFW_UNPROTECTED_PASS;
	p->flows[PICFW_TCP] = PICFW_DEFAULT_FLOWS_TCP;
	p->flows[PICFW_UDP] = PICFW_DEFAULT_FLOWS_UDP;
}

static void file_too_big(struct policy_errors *errs, unsigned long long size)
{
	errs_add(errs, 1, 1, "file is %llu bytes, over the %u-byte limit", size, POLICY_MAX_FILE);
}

int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_errors *errs)
{
	struct parser ps = { .p = out, .errs = errs, .warned_set = -1, .count_set = -1 };
	size_t off = 0;
	int ln = 0;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (len > POLICY_MAX_FILE) {
		file_too_big(errs, len);
		return -1;
	}
	out->file = strdup(file ? file : "-");
	if (!out->file)
		nomem(&ps);

	if (!ps.stop && text_check(&ps, (const unsigned char *)text, len) == 0) {
		while (off < len && !ps.stop) {
			const char *line = text + off;
			const char *nl = memchr(line, '\n', len - off);
			size_t n = nl ? (size_t)(nl - line) : len - off;
			size_t skip = 0;

			off += n + (nl ? 1 : 0);
			ln++;
			if (n && line[n - 1] == '\r')
				n--;
			if (n > POLICY_MAX_LINE) {
				perr(&ps, ln, POLICY_MAX_LINE + 1, "line is longer than %d bytes",
				     POLICY_MAX_LINE);
				ps.nstatements++;
				ps.nlong_lines++;
				continue;
			}
			/* A UTF-8 byte order mark, as some Windows editors write. */
			if (ln == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
				skip = 3;
			parse_line(&ps, ln, line, n, skip);
			if (ps.last_err_line == ln)
				ps.nbad_lines++;
		}
		if (ps.cont)
			cont_missing(&ps);
		if (!ps.stop)
			resolve(&ps);
		if (!ps.stop) {
			if (!ps.nstatements) {
				perr(&ps, 1, 1, "empty policy");
			} else if (!ps.nlong_lines) {
				/* Lines too long to read may hold these. */
				if (!ps.protect_seen)
					perr(&ps, 1, 1, "no 'protect' statement");
				if (!ps.nrows_seen)
					perr(&ps, 1, 1, "policy has no rows");
			}
		}
	}
	/*
	 * Not one line read as a statement: this is no policy (a password file
	 * given by mistake). Say so once, and quote nothing of it.
	 */
	if (!ps.oom && ps.nbad_lines && ps.nbad_lines >= ps.nstatements &&
	    errs_count(errs) && !ps.nlong_lines) {
		errs->n = 0;
		errs_add(errs, 1, 1, "not a picfw policy: no line of it reads as a statement");
	}
	if (ps.oom)
		errs_add(errs, 0, 0, "%s", strerror(ENOMEM));
	free(ps.pos);
	free(ps.protect_name);
	if (errs_count(errs) || ps.oom) {
		errs_sort(errs);
		policy_free(out);
		return -1;
	}
	return 0;
}

int policy_load(const char *path, struct policy *out, struct policy_errors *errs)
{
	int fd, ret;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errs_add(errs, 0, 0, "%s", strerror(errno));
		return -1;
	}
	ret = policy_load_fd(fd, path, out, errs);
	close(fd);
	return ret;
}

int policy_load_fd(int fd, const char *file, struct policy *out, struct policy_errors *errs)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int ret;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > POLICY_MAX_FILE) {
			file_too_big(errs, (unsigned long long)st.st_size);
			return -1;
		}
		cap = (size_t)st.st_size + 1;
	}
	/* Read to the end: the size may change, and pipes have none. */
	for (;;) {
		ssize_t r;

		if (!buf || len == cap) {
			char *v;

			if (len > POLICY_MAX_FILE) {
				errs_add(errs, 1, 1, "file is over the %u-byte limit",
					 POLICY_MAX_FILE);
				free(buf);
				return -1;
			}
			if (buf || !cap)
				cap = cap ? 2 * cap : 65536;
			if (cap > POLICY_MAX_FILE + 1u)
				cap = POLICY_MAX_FILE + 1u;
			v = realloc(buf, cap);
			if (!v) {
				errno = ENOMEM;
				goto fail;
			}
			buf = v;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > POLICY_MAX_FILE) {
		free(buf);
		file_too_big(errs, len);
		return -1;
	}
	ret = policy_parse(file, buf, len, out, errs);
	free(buf);
	return ret;
fail:
	errs_add(errs, 0, 0, "%s", strerror(errno));
	free(buf);
	return -1;
}

void policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].prefixes);
	}
	for (i = 0; i < p->nrows; i++)
		row_free(&p->rows[i]);
	free(p->sets);
	free(p->rows);
	free(p->file);
	policy_init(p);
}

void policy_errors_free(struct policy_errors *errs)
{
	free(errs->v);
	memset(errs, 0, sizeof(*errs));
}

void policy_errors_print(FILE *f, const char *file, const struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		const struct policy_error *e = &errs->v[i];

		const char *kind = e->warning ? "warning" : "error";

		if (e->line > 0)
			fprintf(f, "%s:%d:%d: %s: %s\n", file, e->line, e->col, kind, e->msg);
		else
			fprintf(f, "%s: %s: %s\n", file, kind, e->msg);
	}
}

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

void prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	bool v4 = p->family == 4;

	if (!len)
		return;
	if (!inet_ntop(v4 ? AF_INET : AF_INET6, p->addr, addr, sizeof(addr))) {
		snprintf(buf, len, "?");
		return;
	}
	if (p->len == (v4 ? 32 : 128))
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, "%s/%u", addr, p->len);
}

/* Exactly 0.0.0.0/0 and ::/0: what `any` makes. */
static bool set_is_any(const struct addr_set *s)
{
	return s->nprefixes == 2 && s->prefixes[0].family == 4 && s->prefixes[0].len == 0 &&
	       s->prefixes[1].family == 6 && s->prefixes[1].len == 0;
}

/* A row's SOURCE or DESTINATION: the set name, `any` or the inline prefix. */
static const char *endpoint_text(const struct policy *p, int idx, char *buf, size_t len)
{
	const struct addr_set *s = &p->sets[idx];

	if (s->name)
		return s->name;
	if (set_is_any(s) || !s->nprefixes)
		return "any";
	prefix_format(&s->prefixes[0], buf, len);
	return buf;
}

enum { C_NAME, C_DIR, C_TRANSPORT, C_PORTS, C_SRC, C_DST, C_NOTES, NCOLS };

static void row_cells(const struct policy *p, const struct row *r, const char *cell[NCOLS],
		      char ports[16], char src[64], char dst[64])
{
	if (r->port_hi != r->port_lo)
		snprintf(ports, 16, "%u-%u", r->port_lo, r->port_hi);
	else
		snprintf(ports, 16, "%u", r->port_lo);
	cell[C_NAME] = r->name ? r->name : "";
	cell[C_DIR] = policy_direction_name(r->direction);
	cell[C_TRANSPORT] = policy_transport_name(r->transport);
	cell[C_PORTS] = ports;
	cell[C_SRC] = endpoint_text(p, r->src, src, 64);
	cell[C_DST] = endpoint_text(p, r->dst, dst, 64);
	cell[C_NOTES] = r->notes ? r->notes : "";
}

void policy_print(FILE *f, const struct policy *p)
{
	static const char *const header[NCOLS] = {
		"NAME", "DIR", "TRANSPORT", "PORTS", "SOURCE", "DESTINATION", "NOTES",
	};
	const char *cell[NCOLS];
	char ports[16], src[64], dst[64], pf[INET6_ADDRSTRLEN + 8];
	size_t width[NCOLS], i, j;
	int c;

	fprintf(f, "mode %s\n", policy_mode_name(p->mode));
	print_options(f, p);
	if (p->protect >= 0 && (size_t)p->protect < p->nsets && p->sets[p->protect].name)
		fprintf(f, "protect %s\n", p->sets[p->protect].name);
	for (i = 0; i < p->nsets; i++) {
		const struct addr_set *s = &p->sets[i];

		if (!s->name)
			continue;
		fprintf(f, "set %s = ", s->name);
		if (set_is_any(s)) {
			fputs("any", f);
		} else {
			for (j = 0; j < s->nprefixes; j++) {
				prefix_format(&s->prefixes[j], pf, sizeof(pf));
				fprintf(f, "%s%s", j ? ", " : "", pf);
			}
		}
		fputc('\n', f);
	}
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
	char buf[64];

	fprintf(f, "%s: %s/%s/%s/", r->name, r->role, r->protocol,
		r->transport == PICFW_TCP ? "TCP" : "UDP");
	if (r->port_lo == r->port_hi)
		fprintf(f, "%u", r->port_lo);
	else
		fprintf(f, "%u-%u", r->port_lo, r->port_hi);
	fprintf(f, " %s", endpoint_text(p, r->src, buf, sizeof(buf)));
	fprintf(f, " %s", endpoint_text(p, r->dst, buf, sizeof(buf)));
	if (r->notes) {
		fputc(' ', f);
		write_quoted(f, r->notes);
	}
}

static size_t row_written_len(const struct policy *p, const struct row *r)
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
	char pf[INET6_ADDRSTRLEN + 8];
	size_t i, j;

	fprintf(f, "# normalised by picfw\nmode %s\n", policy_mode_name(p->mode));
	print_options(f, p);
	for (i = 0; i < p->nsets; i++) {
		const struct addr_set *s = &p->sets[i];

		if (!s->name)
			continue;
		fprintf(f, "set %s = ", s->name);
		if (set_is_any(s))
			fputs("any", f);
		/* Continuation lines keep every line far below the 4096-byte limit. */
		for (j = 0; !set_is_any(s) && j < s->nprefixes; j++) {
			prefix_format(&s->prefixes[j], pf, sizeof(pf));
			fprintf(f, "%s%s", j ? (j % 32 ? ", " : ",\n  ") : "", pf);
		}
		fputc('\n', f);
	}
	if (p->protect >= 0 && (size_t)p->protect < p->nsets && p->sets[p->protect].name)
		fprintf(f, "protect %s\n", p->sets[p->protect].name);
	for (i = 0; i < p->nrows; i++) {
		write_row(f, p, &p->rows[i]);
		fputc('\n', f);
	}
}
