/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_lex.c - the policy text check, tokens, names and quoting for messages. */
#include <string.h>

#include "policy_int.h"

bool tok_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/*
 * s[0..n) for a message: at most QUOTE_MAX bytes, anything but printable
 * ASCII shown as '?' (names and addresses are ASCII; nothing else needs to be
 * echoed to a terminal, nor more of a file that is not a policy).
 */
const char *quote(char *buf, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	memcpy(buf + i, i < n ? "..." : "", i < n ? 4 : 1);
	return buf;
}

/*
 * Step 1: NUL bytes, invalid UTF-8 (overlong forms, surrogates, above U+10FFFF,
 * cut short) and control characters other than TAB, CR and LF (C0, DEL, C1).
 */
int text_check(struct parser *ps, const unsigned char *t, size_t len)
{
	size_t i = 0, bol = 0;
	int line = ps->line_base + 1; /* global numbering (include) */

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
int tokenize(const char *line, size_t n, size_t i, struct tok *t, int max, size_t *endp)
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

long number_parse(const char *s, size_t n, long max)
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
		if (v > max)
			v = max;
	}
	return v;
}

/* [A-Za-z][A-Za-z0-9_.-]* (sets) or [A-Za-z0-9][A-Za-z0-9_.-]* (rows), at most 95 bytes */
bool name_ok(const char *s, size_t n, bool digit_first)
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
bool addr_like(const char *s, size_t n)
{
	return n && (is_digit(s[0]) || memchr(s, ':', n));
}
