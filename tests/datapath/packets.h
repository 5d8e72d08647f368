/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * packets.h - frames for the datapath tests, built from readable fields.
 *
 * A struct pkt_spec says what a frame holds; pkt_build() lays it out with
 * consistent lengths (IPv4 tot_len, IPv6 payload_len, UDP length) unless a
 * field asks for an inconsistent one. Every field left zero takes the
 * ordinary value, so a spec names only what matters to its test:
 *
 *	{ .family = 4, .src = "198.51.100.7", .dst = "203.0.113.10",
 *	  .proto = IPPROTO_TCP, .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN }
 *
 * L4 checksums are left zero (the XDP program does not read them); the IPv4
 * header checksum is computed.
 */
#ifndef PICFW_TEST_PACKETS_H
#define PICFW_TEST_PACKETS_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048     /* bytes per frame */
#define PKT_MAX_VLANS 3  /* one more than the parser reads: for the malformed case */
#define PKT_MAX_EXT 12   /* IPv6 extension headers; the parser reads 8 */

/* TCP flags, byte 13 of the header. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* Ethernet types the tests name. */
#define PKT_ETH_IP 0x0800
#define PKT_ETH_ARP 0x0806
#define PKT_ETH_8021Q 0x8100
#define PKT_ETH_IPV6 0x86dd
#define PKT_ETH_8021AD 0x88a8
#define PKT_ETH_LLDP 0x88cc

struct pkt_spec {
	/* Ethernet: tags outermost first (802.1Q 0x8100, 802.1ad 0x88a8), 0 ends the list. */
	uint16_t vlan_tpid[PKT_MAX_VLANS];
	/* The innermost type; 0 = from family. With family 0, payload_len bytes follow. */
	uint16_t ethertype;

	/* IP: family 4 or 6 (0 = no IP header), addresses as text. */
	uint8_t family;
	const char *src, *dst;
	uint8_t ttl;           /* IPv4 TTL or IPv6 hop limit; 0 = 64 */
	uint8_t version;       /* 0 = family; anything else is written as is */
	uint8_t ip_opts_len;   /* IPv4 option bytes (NOPs), a multiple of 4, at most 40 */
	uint8_t ihl;           /* as is when not 0 or ihl_set; else from ip_opts_len */
	uint8_t ihl_set;
	uint16_t frag_offset;  /* in 8-byte units: IPv4 header, or the IPv6 fragment header */
	uint8_t more_frags;    /* MF / M flag */
	uint32_t frag_id;      /* IPv4 identification / fragment header's; 0 = 0x1234 / 0xcafe */
	uint8_t dont_frag;     /* IPv4 DF flag */
	uint8_t ip_len_set;    /* write ip_len as tot_len / payload_len ... */
	uint16_t ip_len;       /* ... instead of the computed length */
	int16_t ip_len_delta;  /* added to the computed tot_len / payload_len */

	/* IPv6 extension headers in order (IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _FRAGMENT, _AH). */
	uint8_t ext[PKT_MAX_EXT];
	uint8_t n_ext;
	uint8_t ext_last_hdrlen; /* hdrlen field of the last options header; 0 = 8 bytes */

	/* Transport: IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or any other number. */
	uint8_t proto;
	uint8_t no_l4;         /* write no transport header, only payload (non-first fragments) */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t tcp_opts_len;  /* TCP option bytes (NOPs), a multiple of 4, at most 40 */
	uint8_t tcp_doff;      /* as is when not 0 or tcp_doff_set; else from tcp_opts_len */
	uint8_t tcp_doff_set;
	uint8_t icmp_type, icmp_code;
	uint8_t l4_len;        /* cut the transport header to this many bytes; 0 = whole */
	uint16_t payload_len;  /* bytes after the transport header */

	uint16_t eth_pad;      /* bytes after the IP datagram, outside its length */
	uint8_t eth_broadcast; /* Ethernet destination ff:ff:ff:ff:ff:ff */
};

/* .ext = { ... }, .n_ext = count, for a spec's initializer. */
#define PKT_EXT(...) .ext = { __VA_ARGS__ }, .n_ext = sizeof((uint8_t[]){ __VA_ARGS__ })
/* The options that make an IPv4 header of ihl words. */
#define PKT_IHL(n) .ip_opts_len = ((n) - 5) * 4
/* One 802.1Q tag; 802.1ad outer + 802.1Q inner. */
#define PKT_VLAN .vlan_tpid = { PKT_ETH_8021Q }
#define PKT_QINQ .vlan_tpid = { PKT_ETH_8021AD, PKT_ETH_8021Q }

/*
 * Lay out spec in buf (cap bytes). Returns the frame length, or -1 with a
 * reason in err (a bad address, a field out of range, a frame over cap).
 */
int pkt_build(const struct pkt_spec *spec, uint8_t *buf, size_t cap, char *err, size_t errlen);

#endif /* PICFW_TEST_PACKETS_H */
