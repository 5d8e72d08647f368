// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * packets.c - frames for the datapath tests (see packets.h).
 *
 * One writer per header, each appending at the cursor. Lengths that depend
 * on what follows (IPv4 tot_len, IPv6 payload_len) are patched once the
 * datagram is complete.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "packets.h"

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t pos;
	int overflow;
};

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Room for n more bytes at the cursor, zeroed; NULL (and overflow set) when full. */
static uint8_t *put(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->overflow || w->pos + n > w->cap) {
		w->overflow = 1;
		return NULL;
	}
	p = w->buf + w->pos;
	memset(p, 0, n);
	w->pos += n;
	return p;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

static void write_eth(struct writer *w, const struct pkt_spec *s, uint16_t ethertype)
{
	uint8_t *p = put(w, 12);
	int i;

	if (!p)
		return;
	memcpy(p, mac_dst, 6);
	if (s->eth_broadcast)
		memset(p, 0xff, 6);
	memcpy(p + 6, mac_src, 6);
	for (i = 0; i < PKT_MAX_VLANS && s->vlan_tpid[i]; i++) {
		p = put(w, 4);
		if (!p)
			return;
		put_be16(p, s->vlan_tpid[i]);
		put_be16(p + 2, (uint16_t)(100 + i)); /* PCP 0, DEI 0, VID 100, 101, ... */
	}
	p = put(w, 2);
	if (p)
		put_be16(p, ethertype);
}

static uint16_t ipv4_checksum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 header with its options; tot_len and the checksum come later. */
static void write_ipv4(struct writer *w, const struct pkt_spec *s, const struct in_addr *src,
		       const struct in_addr *dst)
{
	uint8_t *p = put(w, 20 + s->ip_opts_len);
	uint16_t frag;

	if (!p)
		return;
	p[0] = (uint8_t)((s->version ? s->version : 4) << 4 |
			 (s->ihl || s->ihl_set ? s->ihl : 5 + s->ip_opts_len / 4));
	put_be16(p + 4, s->frag_id ? (uint16_t)s->frag_id : 0x1234); /* identification */
	frag = s->frag_offset & 0x1fff;
	if (s->more_frags)
		frag |= 0x2000;
	if (s->dont_frag)
		frag |= 0x4000;
	put_be16(p + 6, frag);
	p[8] = s->ttl ? s->ttl : 64;
	p[9] = s->proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	memset(p + 20, 1, s->ip_opts_len); /* NOP options */
}

static void write_ipv6(struct writer *w, const struct pkt_spec *s, const struct in6_addr *src,
		       const struct in6_addr *dst)
{
	uint8_t *p = put(w, 40);

	if (!p)
		return;
	p[0] = (uint8_t)((s->version ? s->version : 6) << 4);
	p[6] = s->n_ext ? s->ext[0] : s->proto;
	p[7] = s->ttl ? s->ttl : 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
}

/* Extension header i of the chain, naming the one after it. */
static void write_ipv6_ext(struct writer *w, const struct pkt_spec *s, unsigned i)
{
	uint8_t next = i + 1 < s->n_ext ? s->ext[i + 1] : s->proto;
	int last = i + 1 == s->n_ext;
	uint8_t *p;
	uint16_t frag;

	switch (s->ext[i]) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
		p = put(w, 8);
		if (!p)
			return;
		p[0] = next;
		p[1] = last ? s->ext_last_hdrlen : 0;
		p[2] = 1; /* PadN, 4 bytes of padding */
		p[3] = 4;
		break;
	case IPPROTO_ROUTING:
		p = put(w, 8);
		if (!p)
			return;
		p[0] = next;
		p[1] = last ? s->ext_last_hdrlen : 0;
		p[2] = 0; /* routing type 0 with no segments left: ignored by hosts */
		p[3] = 0;
		break;
	case IPPROTO_FRAGMENT:
		p = put(w, 8);
		if (!p)
			return;
		p[0] = next;
		frag = (uint16_t)(s->frag_offset << 3);
		if (s->more_frags)
			frag |= 1;
		put_be16(p + 2, frag);
		put_be32(p + 4, s->frag_id ? s->frag_id : 0xcafe);
		break;
	case IPPROTO_AH:
		p = put(w, 24); /* 12 fixed bytes and a 96-bit ICV */
		if (!p)
			return;
		p[0] = next;
		p[1] = 4; /* (24 / 4) - 2 */
		put_be32(p + 4, 0x100); /* SPI */
		put_be32(p + 8, 1);     /* sequence number */
		break;
	default:
		/* Anything else: 8 bytes in the options layout. */
		p = put(w, 8);
		if (!p)
			return;
		p[0] = next;
		break;
	}
}

/* The transport header, cut to l4_len bytes when asked. */
static void write_l4(struct writer *w, const struct pkt_spec *s)
{
	uint8_t hdr[60] = { 0 };
	size_t len;
	uint8_t *p;

	if (s->no_l4)
		return;
	switch (s->proto) {
	case IPPROTO_TCP:
		len = 20 + s->tcp_opts_len;
		put_be16(hdr, s->sport);
		put_be16(hdr + 2, s->dport);
		put_be32(hdr + 4, 1000);                         /* sequence */
		put_be32(hdr + 8, s->tcp_flags & TH_ACK ? 2000 : 0); /* acknowledgement */
		hdr[12] = (uint8_t)((s->tcp_doff || s->tcp_doff_set ? s->tcp_doff : len / 4) << 4);
		hdr[13] = s->tcp_flags;
		put_be16(hdr + 14, 65535); /* window */
		memset(hdr + 20, 1, s->tcp_opts_len); /* NOP options */
		break;
	case IPPROTO_UDP:
		len = 8;
		put_be16(hdr, s->sport);
		put_be16(hdr + 2, s->dport);
		put_be16(hdr + 4, (uint16_t)(8 + s->payload_len));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		len = 8;
		hdr[0] = s->icmp_type;
		hdr[1] = s->icmp_code;
		break;
	default:
		return; /* another protocol: only its payload */
	}
	if (s->l4_len && s->l4_len < len)
		len = s->l4_len;
	p = put(w, len);
	if (p)
		memcpy(p, hdr, len);
}

static void write_payload(struct writer *w, size_t n)
{
	uint8_t *p = put(w, n);
	size_t i;

	for (i = 0; p && i < n; i++)
		p[i] = (uint8_t)(0xa0 + i % 16);
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	struct writer w = { .buf = buf, .cap = cap };
	struct in6_addr src6, dst6;
	struct in_addr src4, dst4;
	uint16_t ethertype = s->ethertype;
	size_t l3, l4, len;
	unsigned i;

	if (s->ip_opts_len % 4 || s->ip_opts_len > 40 || s->tcp_opts_len % 4 ||
	    s->tcp_opts_len > 40 || s->n_ext > PKT_MAX_EXT) {
		fail(err, errlen, "option lengths must be multiples of 4 up to 40, at most %d ext",
		     PKT_MAX_EXT);
		return -1;
	}
	if (s->family == 4) {
		if (!s->src || !s->dst || inet_pton(AF_INET, s->src, &src4) != 1 ||
		    inet_pton(AF_INET, s->dst, &dst4) != 1) {
			fail(err, errlen, "bad IPv4 address '%s' or '%s'", s->src ? s->src : "",
			     s->dst ? s->dst : "");
			return -1;
		}
		if (!ethertype)
			ethertype = PKT_ETH_IP;
	} else if (s->family == 6) {
		if (!s->src || !s->dst || inet_pton(AF_INET6, s->src, &src6) != 1 ||
		    inet_pton(AF_INET6, s->dst, &dst6) != 1) {
			fail(err, errlen, "bad IPv6 address '%s' or '%s'", s->src ? s->src : "",
			     s->dst ? s->dst : "");
			return -1;
		}
		if (!ethertype)
			ethertype = PKT_ETH_IPV6;
	} else if (s->family != 0 || !ethertype) {
		fail(err, errlen, "family must be 4 or 6, or 0 with an ethertype");
		return -1;
	}

	write_eth(&w, s, ethertype);
	l3 = w.pos;
	if (s->family == 0) {
		write_payload(&w, s->payload_len);
		goto done;
	}

	if (s->family == 4)
		write_ipv4(&w, s, &src4, &dst4);
	else
		write_ipv6(&w, s, &src6, &dst6);
	for (i = 0; s->family == 6 && i < s->n_ext; i++)
		write_ipv6_ext(&w, s, i);
	write_l4(&w, s);
	write_payload(&w, s->payload_len);
	if (w.overflow)
		goto done;

	/* The datagram is complete: its length fields. */
	if (s->family == 4) {
		len = w.pos - l3;
		if (s->ip_len_set)
			len = s->ip_len;
		else
			len += s->ip_len_delta;
		put_be16(buf + l3 + 2, (uint16_t)len);
		put_be16(buf + l3 + 10, ipv4_checksum(buf + l3, 20 + s->ip_opts_len));
	} else {
		l4 = l3 + 40;
		len = w.pos - l4;
		if (s->ip_len_set)
			len = s->ip_len;
		else
			len += s->ip_len_delta;
		put_be16(buf + l3 + 4, (uint16_t)len);
	}
	put(&w, s->eth_pad); /* Ethernet padding: zeros */
done:
	if (w.overflow) {
		fail(err, errlen, "frame longer than %zu bytes", cap);
		return -1;
	}
	return (int)w.pos;
}
