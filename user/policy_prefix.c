/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_prefix.c - addresses and prefixes: read, checked (host bits, IPv4 in IPv6), written. */
#include <arpa/inet.h>
#include <string.h>

#include "policy_int.h"

/* "a.b.c.d", "a.b.c.d/len", IPv6 the same; strict (inet_pton, no leading zeros in len). */
int prefix_parse(const char *s, size_t n, struct prefix *pf)
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
int item_parse(struct parser *ps, int line, int col, const char *s, size_t n,
		      struct prefix pf[2], size_t *npf)
{
	char qb[QUOTE_BUF], fix[PREFIX_TEXT_LEN];
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

/* Decimal of v (0 to 255 or a prefix length) at o; returns the end. */
static char *put_dec(char *o, unsigned v)
{
	if (v >= 100)
		*o++ = (char)('0' + v / 100);
	if (v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

static char *put_v4(char *o, const uint8_t *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			*o++ = '.';
		o = put_dec(o, a[i]);
	}
	return o;
}

/*
 * An address as inet_ntop() writes it (RFC 5952: lowercase hex, the longest
 * run of two or more zero groups, the first of equals, as "::"; glibc's
 * "::a.b.c.d" and "::ffff:a.b.c.d" for IPv4-compatible and -mapped
 * addresses), without stdio: apply writes 100,000 of them into its policy
 * copy, and inet_ntop's sprintf per group made that a third of its time.
 * o holds INET6_ADDRSTRLEN; returns the end (no NUL).
 */
static char *put_addr(char *o, uint8_t family, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8], g, shift;
	int i, best = -1, best_len = 0, run = -1, run_len = 0;

	if (family == 4)
		return put_v4(o, a);
	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i]) {
			run = -1;
			continue;
		}
		if (run < 0) {
			run = i;
			run_len = 0;
		}
		if (++run_len > best_len) {
			best = run;
			best_len = run_len;
		}
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_v4(o, a + 12);
		g = w[i];
		for (shift = 12; shift && !(g >> shift); shift -= 4)
			;
		for (;; shift -= 4) {
			*o++ = hex[(g >> shift) & 0xf];
			if (!shift)
				break;
		}
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	return o;
}

void prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN + 4], *o;
	size_t n;

	if (!len)
		return;
	if (p->family != 4 && p->family != 6) {
		snprintf(buf, len, "?");
		return;
	}
	o = put_addr(text, p->family, p->addr);
	if (p->len != (p->family == 4 ? 32 : 128)) {
		*o++ = '/';
		o = put_dec(o, p->len);
	}
	n = (size_t)(o - text);
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}
