// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_datapath.c - the real XDP program run on crafted frames with
 * BPF_PROG_TEST_RUN: each case asserts the verdict and that exactly one
 * counter moved (one row slot, or one reason slot) by one packet and the
 * frame's length in bytes, and that no other row or reason counter moved.
 *
 * A case is a row in a table: name, policy, expected verdict and counter,
 * packet. Packets are built from readable fields (packets.h). Each table
 * row is one TAP line, "ok N - test_datapath_<name>"; every failed check
 * prints a "# <name>: ..." line saying what differed.
 *
 * Policies: the shipped etc/pic.policy (from $PICFW_SRCDIR, else "."), a
 * policy written here with nested prefixes in several sets, a second
 * protected address, port range edges and inline addresses, the same
 * policy in audit mode, and a generated one of PICFW_MAX_ROWS rows. Rows
 * count in slot = row (file order). Each policy is written into the
 * inactive generation and activated when a case needs it, so the table
 * also exercises live generation switches.
 *
 * Beside the table: every truncation of four header stacks, the kernel's
 * refusal of frames shorter than Ethernet, and an explicit generation switch.
 *
 * Needs root (CAP_BPF and CAP_NET_ADMIN): without, every test is a SKIP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "picfw.h"
#include "policy.h"
#include "compile.h"
#include "maps.h"
#include "attach.h"
#include "picfw.skel.h"
#include "stats.h"
#include "packets.h"
#include "common.h"

/* More addresses of etc/pic.policy (EDGE4, PARTNER4, STRANGER4 ...: common.h). */
#define UNPROT4 "203.0.113.99"    /* not in the protected set */
#define UNPROT6 "2001:db8:e::99"
#define LINKLOCAL6 "fe80::2"
#define SOLICITED6 "ff02::1:ff00:10" /* solicited-node multicast of EDGE6 */

/* Addresses of the test policy below (EDGE4/EDGE6 are protected there too). */
#define EDGE2_4 "203.0.113.20"    /* the second protected address */
#define EDGE2_6 "2001:db8:e::20"
#define WIDE4 "198.51.100.5"      /* in wide only */
#define WIDE6 "2001:db8:100::5"
#define NARROW4 "198.51.100.130"  /* in narrow, so in wide */
#define NARROW6 "2001:db8:100:8000::130"
#define HOST4 "198.51.100.200"    /* in host, so in narrow and wide */
#define HOST6 "2001:db8:100:8000::200"
#define INLINE4 "192.0.2.55"
#define INLINE4_MISS "192.0.2.56"
#define INLINE6 "2001:db8:bad::55"
#define INLINE6_MISS "2001:db8:bad:1::55"
#define DNS4 "192.0.2.77"
#define OUTSIDER4 "192.0.2.99"    /* only in `any` */
#define OUTSIDER6 "2001:db8:ff::99"

/*
 * Rows (slot = row):
 *  0 earlier narrower TCP row, 1 later broader one, 2 earlier broader UDP
 *  row, 3 later narrower one, 4 narrower still but later, 5/6 inline
 *  sources, 7 outbound to narrow (replies), 8 outbound to an inline address,
 *  9 `any` over a range that reaches past rows 0 and 1, 10/11 inline copies
 *  of the host set's addresses (one trie entry, two sets' rows), 12/13 the
 *  highest and lowest ports.
 */
static const char test_policy_text[] =
	"# picfw datapath test policy\n"
	"set guarded = 203.0.113.10, 203.0.113.20, 2001:db8:e::10, 2001:db8:e::20\n"
	"set wide    = 198.51.100.0/24, 2001:db8:100::/48\n"
	"set narrow  = 198.51.100.128/25, 2001:db8:100:8000::/49\n"
	"set host    = 198.51.100.200, 2001:db8:100:8000::200\n"
	"protect guarded\n"
	"\n"
	"narrow-tcp-in:  T/narrow/TCP/1000-1999   narrow                 guarded\n"
	"wide-tcp-in:    T/wide/TCP/1000-2999     wide                   guarded\n"
	"wide-udp-in:    T/wide/UDP/5000-5999     wide                   guarded\n"
	"host-udp-in:    T/host/UDP/5000-6999     host                   guarded\n"
	"narrow-udp-in:  T/narrow/UDP/6000-6999   narrow                 guarded\n"
	"inline4-in:     T/inline/TCP/8443        192.0.2.55             guarded\n"
	"inline6-in:     T/inline/TCP/8443        2001:db8:bad::/64      guarded\n"
	"narrow-tcp-out: T/narrow/TCP/7000-7099   guarded                narrow\n"
	"dns-out:        T/dns/UDP/53             guarded                192.0.2.77\n"
	"any-tcp-in:     T/any/TCP/1000-3999      any                    guarded\n"
	"dup-host4-in:   T/dup/UDP/9000           198.51.100.200         guarded\n"
	"dup-host6-in:   T/dup/UDP/9000           2001:db8:100:8000::200 guarded\n"
	"hi-port-in:     T/hi/UDP/65000-65535     wide                   guarded\n"
	"lo-port-in:     T/lo/UDP/1-10            wide                   guarded\n";

/*
 * The many-rows policy, generated (many_policy_text()): PICFW_MAX_ROWS rows,
 * so candidates spread over every 64-row word of the bitmaps. Row i is
 * `any` to TCP port MANY_PORT0 + i, except the rows named below.
 */
#define MANY_PORT0 10000
#define MANY_ROW_NARROW 5     /* narrow -> TCP 30000-30010 */
#define MANY_ROW_ANY 700      /* any -> TCP 30005 */
#define MANY_ROW_OUT 1000     /* guarded -> any UDP 20000-20999: replies */

enum policy_id {
	POL_PIC,
	POL_TEST,
	POL_AUDIT,
	POL_MANY,
	POL_COUNT,
};

static const char *const policy_label[POL_COUNT] = { "pic", "test", "audit", "many" };

/* What one frame must do: its verdict, and the one counter slot that moves. */
struct expect {
	int verdict;
	int on_row;    /* slot is a row slot (else a reason slot) */
	unsigned slot;
};

#define PASS_ROW(n) { XDP_PASS, 1, (n) }
#define PASS_REASON(r) { XDP_PASS, 0, (r) }
#define DROP(r) { XDP_DROP, 0, (r) }
#define WOULD_DROP(r) { XDP_PASS, 0, PICFW_REASONS + (r) }

#define NO_MATCH DROP(PICFW_R_NO_MATCH)
#define MALFORMED DROP(PICFW_R_MALFORMED)
#define FRAGMENT DROP(PICFW_R_FRAGMENT)
#define ESSENTIAL PASS_REASON(PICFW_R_ICMP_ESSENTIAL)
/* ICMP errors whose quoted header belongs to no flow: passed (no `icmp strict`). */
#define UNRELATED PASS_REASON(PICFW_R_ICMP_UNRELATED)
#define NON_IP PASS_REASON(PICFW_R_NON_IP)
#define UNPROTECTED PASS_REASON(PICFW_R_UNPROTECTED)

struct dp_case {
	const char *name; /* test_datapath_<name> */
	enum policy_id policy;
	struct expect expect;
	struct pkt_spec pkt;
};

/* Readable packet heads for the table. */
#define TCP4(s, d, sp, dp, fl)                                                                 \
	.family = 4, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), \
	.tcp_flags = (fl)
#define TCP6(s, d, sp, dp, fl)                                                                 \
	.family = 6, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), \
	.tcp_flags = (fl)
#define UDP4(s, d, sp, dp) \
	.family = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)
#define UDP6(s, d, sp, dp) \
	.family = 6, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)
#define ICMP4(s, d, t, c)                                                                   \
	.family = 4, .src = (s), .dst = (d), .proto = IPPROTO_ICMP, .icmp_type = (t), \
	.icmp_code = (c)
#define ICMP6(s, d, t, c)                                                                     \
	.family = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, .icmp_type = (t), \
	.icmp_code = (c)
/* Another IP protocol, a few bytes of payload and no transport header. */
#define PROTO4(s, d, p) .family = 4, .src = (s), .dst = (d), .proto = (p), .payload_len = 16
#define PROTO6(s, d, p) .family = 6, .src = (s), .dst = (d), .proto = (p), .payload_len = 16

#define SYN TH_SYN
#define SYNACK (TH_SYN | TH_ACK)
#define ACK TH_ACK

#define IHL_CASE(n) \
	{ "pic_v4_ihl" #n "_options_row2", POL_PIC, PASS_ROW(2), \
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), PKT_IHL(n) } }

static const struct dp_case cases[] = {
	/* etc/pic.policy, every row and its negative twins: IPv4. */
	{ "pic_v4_row0_sip_mtls_in", POL_PIC, PASS_ROW(0),
	  { TCP4(PARTNER4, EDGE4, 40000, 5061, SYN) } },
	{ "pic_v4_row0_from_port_5061", POL_PIC, PASS_ROW(0),
	  { TCP4(PARTNER4, EDGE4, 5061, 5061, SYN) } },
	{ "pic_v4_row0_wrong_port", POL_PIC, NO_MATCH,
	  { TCP4(PARTNER4, EDGE4, 40000, 5062, SYN) } },
	{ "pic_v4_row0_port_below", POL_PIC, NO_MATCH,
	  { TCP4(PARTNER4, EDGE4, 40000, 5060, SYN) } },
	{ "pic_v4_row0_wrong_source", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 5061, SYN) } },
	{ "pic_v4_row0_wrong_transport", POL_PIC, NO_MATCH,
	  { UDP4(PARTNER4, EDGE4, 40000, 5061) } },
	{ "pic_v4_row0_unprotected", POL_PIC, UNPROTECTED,
	  { TCP4(PARTNER4, UNPROT4, 40000, 5061, SYN) } },
	{ "pic_v4_row1_sip_mtls_out_reply", POL_PIC, PASS_ROW(1),
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, SYNACK) } },
	{ "pic_v4_row1_reply_ack", POL_PIC, PASS_ROW(1),
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, ACK | TH_PSH), .payload_len = 100 } },
	{ "pic_v4_row1_reply_without_ack", POL_PIC, NO_MATCH,
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, SYN) } },
	/* A reset answering a segment with ACK has none (RFC 9293): a reply too. */
	{ "pic_v4_row1_reply_rst_without_ack", POL_PIC, PASS_ROW(1),
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, TH_RST) } },
	{ "pic_v4_row1_reply_wrong_sport", POL_PIC, NO_MATCH,
	  { TCP4(PARTNER4, EDGE4, 5062, 40001, SYNACK) } },
	{ "pic_v4_row1_reply_wrong_source", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 5061, 40001, SYNACK) } },
	{ "pic_v4_row1_reply_udp", POL_PIC, NO_MATCH,
	  { UDP4(PARTNER4, EDGE4, 5061, 40001) } },
	{ "pic_v4_row2_sip_tls_in", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN) } },
	{ "pic_v4_row2_from_partner", POL_PIC, PASS_ROW(2),
	  { TCP4(PARTNER4, EDGE4, 40000, 443, SYN) } },
	{ "pic_v4_row2_wrong_port", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 444, SYN) } },
	{ "pic_v4_row2_wrong_transport", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 40000, 443) } },
	{ "pic_v4_row2_unprotected", POL_PIC, UNPROTECTED,
	  { TCP4(STRANGER4, UNPROT4, 40000, 443, SYN) } },
	{ "pic_v4_row3_rtp_out_reply_lo", POL_PIC, PASS_ROW(3),
	  { TCP4(STRANGER4, EDGE4, 50000, 40002, SYNACK) } },
	{ "pic_v4_row3_rtp_out_reply_hi", POL_PIC, PASS_ROW(3),
	  { TCP4(STRANGER4, EDGE4, 59999, 40002, ACK) } },
	{ "pic_v4_row3_rtp_out_reply_fin", POL_PIC, PASS_ROW(3),
	  { TCP4(STRANGER4, EDGE4, 55000, 40002, TH_FIN | ACK) } },
	{ "pic_v4_row3_reply_port_below", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 49999, 40002, SYNACK) } },
	{ "pic_v4_row3_reply_port_above", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 60000, 40002, SYNACK) } },
	{ "pic_v4_row3_reply_without_ack", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 50000, 40002, SYN) } },
	{ "pic_v4_row3_inbound_syn", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 50000, SYN) } },
	{ "pic_v4_row3_reply_udp", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 50000, 40002) } },
	{ "pic_v4_row4_stun_out_reply", POL_PIC, PASS_ROW(4),
	  { UDP4(STRANGER4, EDGE4, 3478, 40003), .payload_len = 20 } },
	{ "pic_v4_row4_before_row5", POL_PIC, PASS_ROW(4),
	  { UDP4(STRANGER4, EDGE4, 3478, 3478) } },
	{ "pic_v4_row4_reply_wrong_sport", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 3479, 40003) } },
	{ "pic_v4_row4_reply_tcp", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 3478, 40003, SYNACK) } },
	{ "pic_v4_row5_stun_in", POL_PIC, PASS_ROW(5),
	  { UDP4(STRANGER4, EDGE4, 40004, 3478), .payload_len = 20 } },
	{ "pic_v4_row5_wrong_port", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 40004, 3479) } },
	{ "pic_v4_row5_wrong_transport", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40004, 3478, SYN) } },
	{ "pic_v4_row5_unprotected", POL_PIC, UNPROTECTED,
	  { UDP4(STRANGER4, UNPROT4, 40004, 3478) } },
	{ "pic_v4_port_zero", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 0, SYN) } },
	{ "pic_v4_gre", POL_PIC, NO_MATCH, { PROTO4(STRANGER4, EDGE4, 47) } },
	{ "pic_v4_sctp", POL_PIC, NO_MATCH, { PROTO4(STRANGER4, EDGE4, 132) } },

	/* The same in IPv6. */
	{ "pic_v6_row0_sip_mtls_in", POL_PIC, PASS_ROW(0),
	  { TCP6(PARTNER6, EDGE6, 40000, 5061, SYN) } },
	{ "pic_v6_row0_from_port_5061", POL_PIC, PASS_ROW(0),
	  { TCP6(PARTNER6, EDGE6, 5061, 5061, SYN) } },
	{ "pic_v6_row0_wrong_port", POL_PIC, NO_MATCH,
	  { TCP6(PARTNER6, EDGE6, 40000, 5062, SYN) } },
	{ "pic_v6_row0_wrong_source", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 40000, 5061, SYN) } },
	{ "pic_v6_row0_outside_partner_prefix", POL_PIC, NO_MATCH,
	  { TCP6("2001:db8:101::7", EDGE6, 40000, 5061, SYN) } },
	{ "pic_v6_row0_wrong_transport", POL_PIC, NO_MATCH,
	  { UDP6(PARTNER6, EDGE6, 40000, 5061) } },
	{ "pic_v6_row0_unprotected", POL_PIC, UNPROTECTED,
	  { TCP6(PARTNER6, UNPROT6, 40000, 5061, SYN) } },
	{ "pic_v6_row1_sip_mtls_out_reply", POL_PIC, PASS_ROW(1),
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, SYNACK) } },
	{ "pic_v6_row1_reply_without_ack", POL_PIC, NO_MATCH,
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, SYN) } },
	{ "pic_v6_row1_reply_wrong_sport", POL_PIC, NO_MATCH,
	  { TCP6(PARTNER6, EDGE6, 5060, 40001, SYNACK) } },
	{ "pic_v6_row1_reply_wrong_source", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 5061, 40001, SYNACK) } },
	{ "pic_v6_row1_reply_udp", POL_PIC, NO_MATCH,
	  { UDP6(PARTNER6, EDGE6, 5061, 40001) } },
	{ "pic_v6_row2_sip_tls_in", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN) } },
	{ "pic_v6_row2_wrong_port", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 40000, 442, SYN) } },
	{ "pic_v6_row2_wrong_transport", POL_PIC, NO_MATCH,
	  { UDP6(STRANGER6, EDGE6, 40000, 443) } },
	{ "pic_v6_row2_unprotected", POL_PIC, UNPROTECTED,
	  { TCP6(STRANGER6, UNPROT6, 40000, 443, SYN) } },
	{ "pic_v6_row3_rtp_out_reply_lo", POL_PIC, PASS_ROW(3),
	  { TCP6(STRANGER6, EDGE6, 50000, 40002, SYNACK) } },
	{ "pic_v6_row3_rtp_out_reply_hi", POL_PIC, PASS_ROW(3),
	  { TCP6(STRANGER6, EDGE6, 59999, 40002, ACK) } },
	{ "pic_v6_row3_reply_port_below", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 49999, 40002, ACK) } },
	{ "pic_v6_row3_reply_port_above", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 60000, 40002, ACK) } },
	{ "pic_v6_row3_reply_without_ack", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 50000, 40002, SYN) } },
	{ "pic_v6_row3_inbound_syn", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 40000, 55000, SYN) } },
	{ "pic_v6_row4_stun_out_reply", POL_PIC, PASS_ROW(4),
	  { UDP6(STRANGER6, EDGE6, 3478, 40003), .payload_len = 20 } },
	{ "pic_v6_row4_before_row5", POL_PIC, PASS_ROW(4),
	  { UDP6(STRANGER6, EDGE6, 3478, 3478) } },
	{ "pic_v6_row4_reply_wrong_sport", POL_PIC, NO_MATCH,
	  { UDP6(STRANGER6, EDGE6, 3477, 40003) } },
	{ "pic_v6_row4_reply_tcp", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 3478, 40003, SYNACK) } },
	{ "pic_v6_row5_stun_in", POL_PIC, PASS_ROW(5),
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), .payload_len = 20 } },
	{ "pic_v6_row5_wrong_port", POL_PIC, NO_MATCH,
	  { UDP6(STRANGER6, EDGE6, 40004, 3477) } },
	{ "pic_v6_row5_wrong_transport", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 40004, 3478, SYN) } },
	{ "pic_v6_row5_unprotected", POL_PIC, UNPROTECTED,
	  { UDP6(STRANGER6, UNPROT6, 40004, 3478) } },
	{ "pic_v6_no_next_header", POL_PIC, NO_MATCH, { PROTO6(STRANGER6, EDGE6, 59) } },
	{ "pic_v6_gre", POL_PIC, NO_MATCH, { PROTO6(STRANGER6, EDGE6, 47) } },

	/* VLAN tags: counted like the untagged frame, bytes = whole frame. */
	{ "pic_vlan_v4_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), PKT_VLAN } },
	{ "pic_qinq_v4_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), PKT_QINQ } },
	{ "pic_double_8021q_v4_row0", POL_PIC, PASS_ROW(0),
	  { TCP4(PARTNER4, EDGE4, 40000, 5061, SYN),
	    .vlan_tpid = { PKT_ETH_8021Q, PKT_ETH_8021Q } } },
	{ "pic_vlan_v4_no_match", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 5061, SYN), PKT_VLAN } },
	{ "pic_qinq_v4_unprotected", POL_PIC, UNPROTECTED,
	  { UDP4(STRANGER4, UNPROT4, 40000, 3478), PKT_QINQ } },
	{ "pic_vlan_v6_row5", POL_PIC, PASS_ROW(5),
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), PKT_VLAN } },
	{ "pic_qinq_v6_row1", POL_PIC, PASS_ROW(1),
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, SYNACK), PKT_QINQ } },
	{ "pic_qinq_v6_no_match", POL_PIC, NO_MATCH,
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, SYN), PKT_QINQ } },
	{ "pic_three_vlans_v4_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN),
	    .vlan_tpid = { PKT_ETH_8021AD, PKT_ETH_8021Q, PKT_ETH_8021Q } } },
	{ "pic_three_vlans_v6_malformed", POL_PIC, MALFORMED,
	  { UDP6(STRANGER6, EDGE6, 40004, 3478),
	    .vlan_tpid = { PKT_ETH_8021Q, PKT_ETH_8021Q, PKT_ETH_8021Q } } },
	{ "pic_vlan_tag_cut_malformed", POL_PIC, MALFORMED,
	  { .ethertype = PKT_ETH_8021Q, .payload_len = 2 } },

	/* Not IP. */
	{ "pic_arp_non_ip", POL_PIC, NON_IP, { .ethertype = PKT_ETH_ARP, .payload_len = 28 } },
	{ "pic_lldp_non_ip", POL_PIC, NON_IP, { .ethertype = PKT_ETH_LLDP, .payload_len = 46 } },
	{ "pic_vlan_arp_non_ip", POL_PIC, NON_IP,
	  { PKT_VLAN, .ethertype = PKT_ETH_ARP, .payload_len = 28 } },
	{ "pic_qinq_lldp_non_ip", POL_PIC, NON_IP,
	  { PKT_QINQ, .ethertype = PKT_ETH_LLDP, .payload_len = 46 } },
	{ "pic_eth_header_only_non_ip", POL_PIC, NON_IP, { .ethertype = PKT_ETH_ARP } },

	/* IPv4 header: options, ihl, tot_len, version. */
	IHL_CASE(6),
	IHL_CASE(7),
	IHL_CASE(8),
	IHL_CASE(9),
	IHL_CASE(10),
	IHL_CASE(11),
	IHL_CASE(12),
	IHL_CASE(13),
	IHL_CASE(14),
	IHL_CASE(15),
	{ "pic_v4_ihl4_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ihl = 4 } },
	{ "pic_v4_ihl0_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ihl_set = 1, .ihl = 0 } },
	{ "pic_v4_ihl15_over_datagram_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ihl = 15 } },
	{ "pic_v4_ihl6_options_reply_row1", POL_PIC, PASS_ROW(1),
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, SYNACK), PKT_IHL(6) } },
	{ "pic_v4_tot_len_over_frame_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ip_len_delta = 1 } },
	{ "pic_v4_tot_len_under_header_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ip_len_set = 1, .ip_len = 19 } },
	{ "pic_v4_tot_len_zero_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ip_len_set = 1, .ip_len = 0 } },
	{ "pic_v4_version6_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .version = 6 } },
	{ "pic_v4_ethernet_padding_row5", POL_PIC, PASS_ROW(5),
	  { UDP4(STRANGER4, EDGE4, 40004, 3478), .eth_pad = 18 } },
	{ "pic_v4_ethernet_padding_no_match", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 40004, 3479), .eth_pad = 18 } },
	{ "pic_v4_dont_fragment_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .dont_frag = 1 } },
	{ "pic_v4_dont_fragment_reply_row1", POL_PIC, PASS_ROW(1),
	  { TCP4(PARTNER4, EDGE4, 5061, 40001, SYNACK), .dont_frag = 1 } },
	{ "pic_v4_dont_fragment_no_match", POL_PIC, NO_MATCH,
	  { TCP4(STRANGER4, EDGE4, 40000, 444, SYN), .dont_frag = 1 } },
	{ "pic_v4_ttl1_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .ttl = 1 } },

	/* IPv6 header. */
	{ "pic_v6_payload_len_over_frame_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .ip_len_delta = 1 } },
	{ "pic_v6_payload_len_zero_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .ip_len_set = 1, .ip_len = 0 } },
	{ "pic_v6_version4_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .version = 4 } },
	{ "pic_v6_trailing_bytes_row5", POL_PIC, PASS_ROW(5),
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), .eth_pad = 8 } },

	/* TCP and UDP headers. */
	{ "pic_v4_tcp_options_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .tcp_opts_len = 20 } },
	{ "pic_v6_tcp_options_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .tcp_opts_len = 40 } },
	{ "pic_v4_tcp_doff4_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .tcp_doff = 4 } },
	{ "pic_v4_tcp_doff0_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .tcp_doff_set = 1, .tcp_doff = 0 } },
	{ "pic_v6_tcp_doff4_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .tcp_doff = 4 } },
	{ "pic_v4_tcp_doff_over_datagram_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .tcp_doff = 15, .payload_len = 20 } },
	{ "pic_v4_tcp_header_cut_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .l4_len = 19 } },
	{ "pic_v4_tcp_header_cut_padded_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .l4_len = 12, .eth_pad = 20 } },
	{ "pic_v4_udp_header_cut_malformed", POL_PIC, MALFORMED,
	  { UDP4(STRANGER4, EDGE4, 40004, 3478), .l4_len = 7 } },
	{ "pic_v4_udp_header_cut_padded_malformed", POL_PIC, MALFORMED,
	  { UDP4(STRANGER4, EDGE4, 40004, 3478), .l4_len = 4, .eth_pad = 22 } },
	{ "pic_v6_udp_header_cut_malformed", POL_PIC, MALFORMED,
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), .l4_len = 6 } },
	{ "pic_v6_tcp_header_cut_padded_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), .l4_len = 16, .eth_pad = 4 } },

	/* IPv6 extension headers (the parser reads PICFW_IPV6_EXT_MAX = 8). */
	{ "pic_v6_ext_hbh_dst_rt_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING) } },
	{ "pic_v6_ext_hbh_dst_rt_reply_row1", POL_PIC, PASS_ROW(1),
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, SYNACK),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS) } },
	{ "pic_v6_ext_hbh_no_match", POL_PIC, NO_MATCH,
	  { TCP6(STRANGER6, EDGE6, 40000, 444, SYN), PKT_EXT(IPPROTO_HOPOPTS) } },
	{ "pic_v6_ext_8_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
		    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS) } },
	{ "pic_v6_ext_9_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
		    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		    IPPROTO_DSTOPTS) } },
	{ "pic_v6_ext_9_unprotected", POL_PIC, UNPROTECTED,
	  { TCP6(STRANGER6, UNPROT6, 40000, 443, SYN),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
		    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		    IPPROTO_DSTOPTS) } },
	{ "pic_v6_ext_ah_row5", POL_PIC, PASS_ROW(5),
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), PKT_EXT(IPPROTO_AH) } },
	{ "pic_v6_ext_dst_ah_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), PKT_EXT(IPPROTO_DSTOPTS, IPPROTO_AH) } },
	{ "pic_v6_ext_len_over_datagram_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), PKT_EXT(IPPROTO_DSTOPTS),
	    .ext_last_hdrlen = 3 } },
	{ "pic_v6_ext_len_over_datagram_padded_malformed", POL_PIC, MALFORMED,
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS),
	    .ext_last_hdrlen = 2, .eth_pad = 16 } },
	{ "pic_v6_ext_then_no_next_header", POL_PIC, NO_MATCH,
	  { PROTO6(STRANGER6, EDGE6, 59), PKT_EXT(IPPROTO_DSTOPTS) } },

	/* Fragments. */
	{ "pic_v4_frag_nonfirst_fragment", POL_PIC, FRAGMENT,
	  { UDP4(STRANGER4, EDGE4, 0, 0), .no_l4 = 1, .payload_len = 64, .frag_offset = 185,
	    .more_frags = 1 } },
	{ "pic_v4_frag_last_fragment", POL_PIC, FRAGMENT,
	  { UDP4(STRANGER4, EDGE4, 0, 0), .no_l4 = 1, .payload_len = 64, .frag_offset = 185 } },
	{ "pic_v4_frag_offset1_tcp_fragment", POL_PIC, FRAGMENT,
	  { TCP4(STRANGER4, EDGE4, 0, 0, 0), .no_l4 = 1, .payload_len = 12, .frag_offset = 1,
	    .more_frags = 1 } },
	{ "pic_v4_frag_nonfirst_vlan_fragment", POL_PIC, FRAGMENT,
	  { UDP4(STRANGER4, EDGE4, 0, 0), .no_l4 = 1, .payload_len = 64, .frag_offset = 8,
	    PKT_VLAN } },
	{ "pic_v4_frag_first_udp_row5", POL_PIC, PASS_ROW(5),
	  { UDP4(STRANGER4, EDGE4, 40004, 3478), .more_frags = 1, .payload_len = 200 } },
	{ "pic_v4_frag_first_tcp_row2", POL_PIC, PASS_ROW(2),
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .more_frags = 1, .payload_len = 64 } },
	{ "pic_v4_frag_first_no_match", POL_PIC, NO_MATCH,
	  { UDP4(STRANGER4, EDGE4, 40004, 3479), .more_frags = 1, .payload_len = 200 } },
	{ "pic_v4_frag_first_tiny_tcp_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, EDGE4, 40000, 443, SYN), .more_frags = 1, .l4_len = 8 } },
	{ "pic_v4_frag_nonfirst_unprotected", POL_PIC, UNPROTECTED,
	  { UDP4(STRANGER4, UNPROT4, 0, 0), .no_l4 = 1, .payload_len = 64, .frag_offset = 185,
	    .more_frags = 1 } },
	{ "pic_v4_frag_first_unprotected", POL_PIC, UNPROTECTED,
	  { UDP4(STRANGER4, UNPROT4, 40004, 3479), .more_frags = 1, .payload_len = 64 } },
	{ "pic_v6_frag_nonfirst_fragment", POL_PIC, FRAGMENT,
	  { UDP6(STRANGER6, EDGE6, 0, 0), .no_l4 = 1, .payload_len = 64,
	    PKT_EXT(IPPROTO_FRAGMENT), .frag_offset = 185, .more_frags = 1 } },
	{ "pic_v6_frag_last_fragment", POL_PIC, FRAGMENT,
	  { UDP6(STRANGER6, EDGE6, 0, 0), .no_l4 = 1, .payload_len = 64,
	    PKT_EXT(IPPROTO_FRAGMENT), .frag_offset = 185 } },
	{ "pic_v6_frag_after_dst_nonfirst_fragment", POL_PIC, FRAGMENT,
	  { TCP6(STRANGER6, EDGE6, 0, 0, 0), .no_l4 = 1, .payload_len = 64,
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT), .frag_offset = 1,
	    .more_frags = 1 } },
	{ "pic_v6_frag_first_udp_row5", POL_PIC, PASS_ROW(5),
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), .payload_len = 200, PKT_EXT(IPPROTO_FRAGMENT),
	    .more_frags = 1 } },
	{ "pic_v6_frag_first_reply_row1", POL_PIC, PASS_ROW(1),
	  { TCP6(PARTNER6, EDGE6, 5061, 40001, ACK), .payload_len = 200,
	    PKT_EXT(IPPROTO_FRAGMENT), .more_frags = 1 } },
	{ "pic_v6_frag_first_then_dst_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), PKT_EXT(IPPROTO_FRAGMENT, IPPROTO_DSTOPTS),
	    .more_frags = 1 } },
	{ "pic_v6_frag_atomic_row2", POL_PIC, PASS_ROW(2),
	  { TCP6(STRANGER6, EDGE6, 40000, 443, SYN), PKT_EXT(IPPROTO_FRAGMENT) } },
	{ "pic_v6_frag_first_no_match", POL_PIC, NO_MATCH,
	  { UDP6(STRANGER6, EDGE6, 40004, 3479), .payload_len = 200, PKT_EXT(IPPROTO_FRAGMENT),
	    .more_frags = 1 } },
	{ "pic_v6_frag_first_tiny_udp_malformed", POL_PIC, MALFORMED,
	  { UDP6(STRANGER6, EDGE6, 40004, 3478), .l4_len = 4, PKT_EXT(IPPROTO_FRAGMENT),
	    .more_frags = 1 } },
	{ "pic_v6_frag_header_cut_malformed", POL_PIC, MALFORMED,
	  { .family = 6, .src = STRANGER6, .dst = EDGE6, .proto = IPPROTO_FRAGMENT,
	    .payload_len = 4 } },
	{ "pic_v6_frag_header_cut_padded_malformed", POL_PIC, MALFORMED,
	  { .family = 6, .src = STRANGER6, .dst = EDGE6, .proto = IPPROTO_FRAGMENT,
	    .payload_len = 4, .eth_pad = 8 } },
	{ "pic_v6_frag_nonfirst_unprotected", POL_PIC, UNPROTECTED,
	  { UDP6(STRANGER6, UNPROT6, 0, 0), .no_l4 = 1, .payload_len = 64,
	    PKT_EXT(IPPROTO_FRAGMENT), .frag_offset = 185, .more_frags = 1 } },
	{ "pic_v6_frag_first_icmp6_too_big_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 2, 0), .payload_len = 64, PKT_EXT(IPPROTO_FRAGMENT),
	    .more_frags = 1 } },

	/* ICMPv6: RFC 4890's must-not-drop list and neighbour discovery (RFC 4861). */
	{ "pic_v6_nd_ns_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 135, 0), .ttl = 255, .payload_len = 16 } },
	{ "pic_v6_nd_na_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 136, 0), .ttl = 255, .payload_len = 16 } },
	{ "pic_v6_nd_ra_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 134, 0), .ttl = 255, .payload_len = 8 } },
	{ "pic_v6_nd_rs_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 133, 0), .ttl = 255 } },
	{ "pic_v6_nd_redirect_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 137, 0), .ttl = 255, .payload_len = 32 } },
	{ "pic_v6_nd_ns_vlan_hl255_essential", POL_PIC, ESSENTIAL,
	  { ICMP6(LINKLOCAL6, EDGE6, 135, 0), .ttl = 255, .payload_len = 16, PKT_VLAN } },
	{ "pic_v6_nd_ns_hl64_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 135, 0), .ttl = 64, .payload_len = 16 } },
	{ "pic_v6_nd_na_hl64_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 136, 0), .ttl = 64, .payload_len = 16 } },
	{ "pic_v6_nd_ra_hl64_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 134, 0), .ttl = 64, .payload_len = 8 } },
	{ "pic_v6_nd_ns_hl254_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(LINKLOCAL6, EDGE6, 135, 0), .ttl = 254, .payload_len = 16 } },
	{ "pic_v6_nd_ns_first_fragment_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(LINKLOCAL6, EDGE6, 135, 0), .ttl = 255, .payload_len = 16,
	    PKT_EXT(IPPROTO_FRAGMENT), .more_frags = 1 } },
	{ "pic_v6_nd_na_atomic_fragment_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(LINKLOCAL6, EDGE6, 136, 0), .ttl = 255, .payload_len = 16,
	    PKT_EXT(IPPROTO_FRAGMENT) } },
	{ "pic_v6_nd_ns_solicited_node_unprotected", POL_PIC, UNPROTECTED,
	  { ICMP6(LINKLOCAL6, SOLICITED6, 135, 0), .ttl = 255, .payload_len = 16 } },
	{ "pic_v6_icmp_dest_unreach_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 1, 4), .payload_len = 48 } },
	{ "pic_v6_icmp_packet_too_big_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 2, 0), .payload_len = 48 } },
	{ "pic_v6_icmp_time_exceeded_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 3, 0), .payload_len = 48 } },
	{ "pic_v6_icmp_param_problem_code1_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 4, 1), .payload_len = 48 } },
	{ "pic_v6_icmp_param_problem_code2_unrelated", POL_PIC, UNRELATED,
	  { ICMP6(STRANGER6, EDGE6, 4, 2), .payload_len = 48 } },
	{ "pic_v6_icmp_param_problem_code0_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 4, 0), .payload_len = 48 } },
	{ "pic_v6_icmp_echo_request_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 128, 0), .payload_len = 56 } },
	{ "pic_v6_icmp_echo_reply_no_match", POL_PIC, NO_MATCH,
	  { ICMP6(STRANGER6, EDGE6, 129, 0), .payload_len = 56 } },
	{ "pic_v6_icmp_truncated_malformed", POL_PIC, MALFORMED,
	  { ICMP6(STRANGER6, EDGE6, 2, 0), .l4_len = 7 } },
	{ "pic_v6_icmp_truncated_padded_malformed", POL_PIC, MALFORMED,
	  { ICMP6(STRANGER6, EDGE6, 1, 0), .l4_len = 4, .eth_pad = 8 } },
	{ "pic_v6_icmp_echo_unprotected", POL_PIC, UNPROTECTED,
	  { ICMP6(STRANGER6, UNPROT6, 128, 0), .payload_len = 56 } },
	/*
	 * ICMPv4 (type 3 carries path MTU discovery's "fragmentation needed").
	 * Errors quoting nothing known are icmp_unrelated, passed by default.
	 */
	{ "pic_v4_icmp_dest_unreach_unrelated", POL_PIC, UNRELATED,
	  { ICMP4(STRANGER4, EDGE4, 3, 4), .payload_len = 28 } },
	{ "pic_v4_icmp_time_exceeded_unrelated", POL_PIC, UNRELATED,
	  { ICMP4(STRANGER4, EDGE4, 11, 0), .payload_len = 28 } },
	{ "pic_v4_icmp_dest_unreach_qinq_unrelated", POL_PIC, UNRELATED,
	  { ICMP4(STRANGER4, EDGE4, 3, 3), .payload_len = 28, PKT_QINQ } },
	{ "pic_v4_icmp_echo_no_match", POL_PIC, NO_MATCH,
	  { ICMP4(STRANGER4, EDGE4, 8, 0), .payload_len = 56 } },
	{ "pic_v4_icmp_echo_reply_no_match", POL_PIC, NO_MATCH,
	  { ICMP4(STRANGER4, EDGE4, 0, 0), .payload_len = 56 } },
	{ "pic_v4_icmp_redirect_no_match", POL_PIC, NO_MATCH,
	  { ICMP4(STRANGER4, EDGE4, 5, 1), .payload_len = 28 } },
	{ "pic_v4_icmp_truncated_malformed", POL_PIC, MALFORMED,
	  { ICMP4(STRANGER4, EDGE4, 3, 4), .l4_len = 4 } },
	{ "pic_v4_icmp_truncated_padded_malformed", POL_PIC, MALFORMED,
	  { ICMP4(STRANGER4, EDGE4, 3, 4), .l4_len = 4, .eth_pad = 22 } },
	{ "pic_v4_icmp_echo_unprotected", POL_PIC, UNPROTECTED,
	  { ICMP4(STRANGER4, UNPROT4, 8, 0), .payload_len = 56 } },
	/* ICMP of the other family is not ICMP at all: no exemption. */
	{ "pic_v4_proto_icmpv6_dest_unreach_no_match", POL_PIC, NO_MATCH,
	  { .family = 4, .src = STRANGER4, .dst = EDGE4, .proto = IPPROTO_ICMPV6,
	    .icmp_type = 1, .icmp_code = 0, .payload_len = 28 } },
	{ "pic_v6_proto_icmp_dest_unreach_no_match", POL_PIC, NO_MATCH,
	  { .family = 6, .src = STRANGER6, .dst = EDGE6, .proto = IPPROTO_ICMP,
	    .icmp_type = 3, .icmp_code = 4, .payload_len = 48 } },

	/* Unprotected destinations pass whatever their transport header looks like. */
	{ "pic_v4_unprotected_tcp_doff2", POL_PIC, UNPROTECTED,
	  { TCP4(STRANGER4, UNPROT4, 40000, 443, SYN), .tcp_doff = 2 } },
	{ "pic_v4_unprotected_tcp_cut", POL_PIC, UNPROTECTED,
	  { TCP4(STRANGER4, UNPROT4, 40000, 443, SYN), .l4_len = 10 } },
	{ "pic_v4_unprotected_icmp_cut", POL_PIC, UNPROTECTED,
	  { ICMP4(STRANGER4, UNPROT4, 3, 4), .l4_len = 2 } },
	{ "pic_v6_unprotected_udp_cut", POL_PIC, UNPROTECTED,
	  { UDP6(STRANGER6, UNPROT6, 40004, 3478), .l4_len = 3 } },
	{ "pic_v6_unprotected_tcp_doff3", POL_PIC, UNPROTECTED,
	  { TCP6(STRANGER6, UNPROT6, 40000, 443, SYN), .tcp_doff = 3 } },
	{ "pic_v6_unprotected_ext_len_over_datagram", POL_PIC, UNPROTECTED,
	  { TCP6(STRANGER6, UNPROT6, 40000, 443, SYN), PKT_EXT(IPPROTO_DSTOPTS),
	    .ext_last_hdrlen = 9 } },
	/* ... but not a broken IP header: its destination cannot be trusted. */
	{ "pic_v4_unprotected_ihl4_malformed", POL_PIC, MALFORMED,
	  { TCP4(STRANGER4, UNPROT4, 40000, 443, SYN), .ihl = 4 } },
	{ "pic_v6_unprotected_payload_len_over_frame_malformed", POL_PIC, MALFORMED,
	  { TCP6(STRANGER6, UNPROT6, 40000, 443, SYN), .ip_len_delta = 4 } },

	/* The test policy: file order decides among overlapping rows. IPv4. */
	{ "test_v4_narrow_earlier_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE4, 40000, 1500, SYN) } },
	{ "test_v4_host_in_narrow_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(HOST4, EDGE4, 40000, 1500, SYN) } },
	{ "test_v4_wide_later_row1", POL_TEST, PASS_ROW(1),
	  { TCP4(WIDE4, EDGE4, 40000, 1500, SYN) } },
	{ "test_v4_outsider_any_row9", POL_TEST, PASS_ROW(9),
	  { TCP4(OUTSIDER4, EDGE4, 40000, 1500, SYN) } },
	{ "test_v4_narrow_port_lo_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE4, 40000, 1000, SYN) } },
	{ "test_v4_narrow_port_hi_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE4, 40000, 1999, SYN) } },
	{ "test_v4_narrow_port_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(NARROW4, EDGE4, 40000, 999, SYN) } },
	{ "test_v4_narrow_port_hi_plus1_row1", POL_TEST, PASS_ROW(1),
	  { TCP4(NARROW4, EDGE4, 40000, 2000, SYN) } },
	{ "test_v4_wide_port_lo_row1", POL_TEST, PASS_ROW(1),
	  { TCP4(WIDE4, EDGE4, 40000, 1000, SYN) } },
	{ "test_v4_wide_port_hi_row1", POL_TEST, PASS_ROW(1),
	  { TCP4(WIDE4, EDGE4, 40000, 2999, SYN) } },
	{ "test_v4_wide_port_hi_plus1_row9", POL_TEST, PASS_ROW(9),
	  { TCP4(WIDE4, EDGE4, 40000, 3000, SYN) } },
	{ "test_v4_wide_port_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(WIDE4, EDGE4, 40000, 999, SYN) } },
	{ "test_v4_any_port_hi_row9", POL_TEST, PASS_ROW(9),
	  { TCP4(OUTSIDER4, EDGE4, 40000, 3999, SYN) } },
	{ "test_v4_any_port_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(OUTSIDER4, EDGE4, 40000, 4000, SYN) } },
	{ "test_v4_narrow_inherits_any_row9", POL_TEST, PASS_ROW(9),
	  { TCP4(NARROW4, EDGE4, 40000, 3500, SYN) } },
	{ "test_v4_host_inherits_wide_row1", POL_TEST, PASS_ROW(1),
	  { TCP4(HOST4, EDGE4, 40000, 2500, SYN) } },
	{ "test_v4_host_inherits_any_row9", POL_TEST, PASS_ROW(9),
	  { TCP4(HOST4, EDGE4, 40000, 3999, SYN) } },
	{ "test_v4_udp_wide_row2", POL_TEST, PASS_ROW(2),
	  { UDP4(WIDE4, EDGE4, 40000, 5500) } },
	{ "test_v4_udp_host_earlier_broader_row2", POL_TEST, PASS_ROW(2),
	  { UDP4(HOST4, EDGE4, 40000, 5500) } },
	{ "test_v4_udp_host_port_lo_row2", POL_TEST, PASS_ROW(2),
	  { UDP4(HOST4, EDGE4, 40000, 5000) } },
	{ "test_v4_udp_host_port_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { UDP4(HOST4, EDGE4, 40000, 4999) } },
	{ "test_v4_udp_host_wide_hi_plus1_row3", POL_TEST, PASS_ROW(3),
	  { UDP4(HOST4, EDGE4, 40000, 6000) } },
	{ "test_v4_udp_narrow_wide_hi_plus1_row4", POL_TEST, PASS_ROW(4),
	  { UDP4(NARROW4, EDGE4, 40000, 6000) } },
	{ "test_v4_udp_wide_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { UDP4(WIDE4, EDGE4, 40000, 6000) } },
	{ "test_v4_udp_wide_hi_row2", POL_TEST, PASS_ROW(2),
	  { UDP4(WIDE4, EDGE4, 40000, 5999) } },
	{ "test_v4_udp_host_earlier_narrower_row3", POL_TEST, PASS_ROW(3),
	  { UDP4(HOST4, EDGE4, 40000, 6500) } },
	{ "test_v4_udp_host_port_hi_row3", POL_TEST, PASS_ROW(3),
	  { UDP4(HOST4, EDGE4, 40000, 6999) } },
	{ "test_v4_udp_host_port_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { UDP4(HOST4, EDGE4, 40000, 7000) } },
	{ "test_v4_udp_narrow_row4", POL_TEST, PASS_ROW(4),
	  { UDP4(NARROW4, EDGE4, 40000, 6999) } },
	{ "test_v4_udp_outsider_no_match", POL_TEST, NO_MATCH,
	  { UDP4(OUTSIDER4, EDGE4, 40000, 5500) } },
	{ "test_v4_dup_host_row10", POL_TEST, PASS_ROW(10),
	  { UDP4(HOST4, EDGE4, 40000, 9000) } },
	{ "test_v4_dup_host_narrow_no_match", POL_TEST, NO_MATCH,
	  { UDP4(NARROW4, EDGE4, 40000, 9000) } },
	{ "test_v4_inline_row5", POL_TEST, PASS_ROW(5),
	  { TCP4(INLINE4, EDGE4, 40000, 8443, SYN) } },
	{ "test_v4_inline_other_source_no_match", POL_TEST, NO_MATCH,
	  { TCP4(INLINE4_MISS, EDGE4, 40000, 8443, SYN) } },
	{ "test_v4_inline_port_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(INLINE4, EDGE4, 40000, 8442, SYN) } },
	{ "test_v4_inline_port_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(INLINE4, EDGE4, 40000, 8444, SYN) } },
	{ "test_v4_second_protected_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE2_4, 40000, 1500, SYN) } },
	{ "test_v4_second_protected_no_match", POL_TEST, NO_MATCH,
	  { UDP4(OUTSIDER4, EDGE2_4, 40000, 5500) } },
	{ "test_v4_unprotected", POL_TEST, UNPROTECTED,
	  { UDP4(OUTSIDER4, UNPROT4, 40000, 5500) } },
	{ "test_v4_reply_narrow_lo_row7", POL_TEST, PASS_ROW(7),
	  { TCP4(NARROW4, EDGE4, 7000, 40000, SYNACK) } },
	{ "test_v4_reply_host_hi_row7", POL_TEST, PASS_ROW(7),
	  { TCP4(HOST4, EDGE2_4, 7099, 40000, ACK) } },
	{ "test_v4_reply_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(NARROW4, EDGE4, 7100, 40000, ACK) } },
	{ "test_v4_reply_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { TCP4(NARROW4, EDGE4, 6999, 40000, ACK) } },
	{ "test_v4_reply_from_wide_no_match", POL_TEST, NO_MATCH,
	  { TCP4(WIDE4, EDGE4, 7000, 40000, ACK) } },
	{ "test_v4_reply_without_ack_no_match", POL_TEST, NO_MATCH,
	  { TCP4(NARROW4, EDGE4, 7000, 40000, SYN) } },
	{ "test_v4_reply_to_inbound_port_row0", POL_TEST, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE4, 7000, 1500, ACK) } },
	{ "test_v4_dns_reply_row8", POL_TEST, PASS_ROW(8),
	  { UDP4(DNS4, EDGE4, 53, 33000), .payload_len = 60 } },
	{ "test_v4_dns_reply_other_source_no_match", POL_TEST, NO_MATCH,
	  { UDP4(OUTSIDER4, EDGE4, 53, 33000) } },
	{ "test_v4_dns_query_inbound_no_match", POL_TEST, NO_MATCH,
	  { UDP4(DNS4, EDGE4, 33000, 53) } },

	{ "test_v4_udp_port_65535_row12", POL_TEST, PASS_ROW(12),
	  { UDP4(WIDE4, EDGE4, 40000, 65535) } },
	{ "test_v4_udp_port_65000_row12", POL_TEST, PASS_ROW(12),
	  { UDP4(WIDE4, EDGE4, 40000, 65000) } },
	{ "test_v4_udp_port_64999_no_match", POL_TEST, NO_MATCH,
	  { UDP4(WIDE4, EDGE4, 40000, 64999) } },
	{ "test_v4_udp_port_1_row13", POL_TEST, PASS_ROW(13),
	  { UDP4(WIDE4, EDGE4, 40000, 1) } },
	{ "test_v4_udp_port_10_row13", POL_TEST, PASS_ROW(13),
	  { UDP4(WIDE4, EDGE4, 40000, 10) } },
	{ "test_v4_udp_port_11_no_match", POL_TEST, NO_MATCH,
	  { UDP4(WIDE4, EDGE4, 40000, 11) } },
	{ "test_v4_udp_port_0_no_match", POL_TEST, NO_MATCH,
	  { UDP4(WIDE4, EDGE4, 40000, 0) } },

	/* The test policy in IPv6. */
	{ "test_v6_narrow_earlier_row0", POL_TEST, PASS_ROW(0),
	  { TCP6(NARROW6, EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_host_in_narrow_row0", POL_TEST, PASS_ROW(0),
	  { TCP6(HOST6, EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_wide_later_row1", POL_TEST, PASS_ROW(1),
	  { TCP6(WIDE6, EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_narrow_edge_of_prefix_row0", POL_TEST, PASS_ROW(0),
	  { TCP6("2001:db8:100:ffff:ffff:ffff:ffff:ffff", EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_wide_below_narrow_row1", POL_TEST, PASS_ROW(1),
	  { TCP6("2001:db8:100:7fff:ffff:ffff:ffff:ffff", EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_outsider_any_row9", POL_TEST, PASS_ROW(9),
	  { TCP6(OUTSIDER6, EDGE6, 40000, 1500, SYN) } },
	{ "test_v6_narrow_port_lo_minus1_no_match", POL_TEST, NO_MATCH,
	  { TCP6(NARROW6, EDGE6, 40000, 999, SYN) } },
	{ "test_v6_narrow_port_hi_plus1_row1", POL_TEST, PASS_ROW(1),
	  { TCP6(NARROW6, EDGE6, 40000, 2000, SYN) } },
	{ "test_v6_wide_port_hi_plus1_row9", POL_TEST, PASS_ROW(9),
	  { TCP6(WIDE6, EDGE6, 40000, 3000, SYN) } },
	{ "test_v6_any_port_hi_plus1_no_match", POL_TEST, NO_MATCH,
	  { TCP6(OUTSIDER6, EDGE6, 40000, 4000, SYN) } },
	{ "test_v6_narrow_inherits_any_row9", POL_TEST, PASS_ROW(9),
	  { TCP6(NARROW6, EDGE6, 40000, 3500, SYN) } },
	{ "test_v6_host_inherits_wide_row1", POL_TEST, PASS_ROW(1),
	  { TCP6(HOST6, EDGE6, 40000, 2500, SYN) } },
	{ "test_v6_udp_host_earlier_broader_row2", POL_TEST, PASS_ROW(2),
	  { UDP6(HOST6, EDGE6, 40000, 5500) } },
	{ "test_v6_udp_host_earlier_narrower_row3", POL_TEST, PASS_ROW(3),
	  { UDP6(HOST6, EDGE6, 40000, 6500) } },
	{ "test_v6_udp_narrow_row4", POL_TEST, PASS_ROW(4),
	  { UDP6(NARROW6, EDGE6, 40000, 6500) } },
	{ "test_v6_udp_wide_no_match", POL_TEST, NO_MATCH,
	  { UDP6(WIDE6, EDGE6, 40000, 6500) } },
	{ "test_v6_dup_host_row11", POL_TEST, PASS_ROW(11),
	  { UDP6(HOST6, EDGE6, 40000, 9000) } },
	{ "test_v6_inline_prefix_row6", POL_TEST, PASS_ROW(6),
	  { TCP6(INLINE6, EDGE6, 40000, 8443, SYN) } },
	{ "test_v6_inline_prefix_miss_no_match", POL_TEST, NO_MATCH,
	  { TCP6(INLINE6_MISS, EDGE6, 40000, 8443, SYN) } },
	{ "test_v6_inline_v4_row_no_match", POL_TEST, NO_MATCH,
	  { TCP6("::ffff:192.0.2.55", EDGE6, 40000, 8443, SYN) } },
	{ "test_v6_second_protected_row0", POL_TEST, PASS_ROW(0),
	  { TCP6(NARROW6, EDGE2_6, 40000, 1500, SYN) } },
	{ "test_v6_unprotected", POL_TEST, UNPROTECTED,
	  { TCP6(NARROW6, UNPROT6, 40000, 1500, SYN) } },
	{ "test_v6_reply_narrow_row7", POL_TEST, PASS_ROW(7),
	  { TCP6(NARROW6, EDGE6, 7050, 40000, ACK) } },
	{ "test_v6_reply_from_wide_no_match", POL_TEST, NO_MATCH,
	  { TCP6(WIDE6, EDGE6, 7050, 40000, ACK) } },

	/* PICFW_MAX_ROWS rows: the first matching row in any 64-row word. */
	{ "many_row0", POL_MANY, PASS_ROW(0),
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0, SYN) } },
	{ "many_row63", POL_MANY, PASS_ROW(63),
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 + 63, SYN) } },
	{ "many_row64", POL_MANY, PASS_ROW(64),
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 + 64, SYN) } },
	{ "many_row127", POL_MANY, PASS_ROW(127),
	  { TCP6(OUTSIDER6, EDGE6, 40000, MANY_PORT0 + 127, SYN) } },
	{ "many_row128", POL_MANY, PASS_ROW(128),
	  { TCP6(OUTSIDER6, EDGE6, 40000, MANY_PORT0 + 128, SYN) } },
	{ "many_row513", POL_MANY, PASS_ROW(513),
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 + 513, SYN) } },
	{ "many_row1023", POL_MANY, PASS_ROW(PICFW_MAX_ROWS - 1),
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 + PICFW_MAX_ROWS - 1, SYN) } },
	{ "many_row1023_v6", POL_MANY, PASS_ROW(PICFW_MAX_ROWS - 1),
	  { TCP6(OUTSIDER6, EDGE6, 40000, MANY_PORT0 + PICFW_MAX_ROWS - 1, SYN) } },
	{ "many_port_below_no_match", POL_MANY, NO_MATCH,
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 - 1, SYN) } },
	{ "many_port_above_no_match", POL_MANY, NO_MATCH,
	  { TCP4(OUTSIDER4, EDGE4, 40000, MANY_PORT0 + PICFW_MAX_ROWS, SYN) } },
	{ "many_narrow_row5_over_row700", POL_MANY, PASS_ROW(MANY_ROW_NARROW),
	  { TCP4(NARROW4, EDGE4, 40000, 30005, SYN) } },
	{ "many_wide_row700", POL_MANY, PASS_ROW(MANY_ROW_ANY),
	  { TCP4(WIDE4, EDGE4, 40000, 30005, SYN) } },
	{ "many_narrow_row5_v6", POL_MANY, PASS_ROW(MANY_ROW_NARROW),
	  { TCP6(NARROW6, EDGE6, 40000, 30010, SYN) } },
	{ "many_wide_row700_v6", POL_MANY, PASS_ROW(MANY_ROW_ANY),
	  { TCP6(WIDE6, EDGE6, 40000, 30005, SYN) } },
	{ "many_wide_30006_no_match", POL_MANY, NO_MATCH,
	  { TCP4(WIDE4, EDGE4, 40000, 30006, SYN) } },
	{ "many_reply_row1000", POL_MANY, PASS_ROW(MANY_ROW_OUT),
	  { UDP4(OUTSIDER4, EDGE4, 20999, 40000) } },
	{ "many_reply_port_above_no_match", POL_MANY, NO_MATCH,
	  { UDP4(OUTSIDER4, EDGE4, 21000, 40000) } },
	/*
	 * This generation held the test policy before (the table loads each
	 * policy into the inactive generation): its second protected address
	 * must be gone with it.
	 */
	{ "many_former_protected_unprotected", POL_MANY, UNPROTECTED,
	  { TCP4(NARROW4, EDGE2_4, 40000, 30005, SYN) } },
	{ "many_former_protected_v6_unprotected", POL_MANY, UNPROTECTED,
	  { TCP6(NARROW6, EDGE2_6, 40000, 30005, SYN) } },

	/* Audit mode: would-be drops pass and count as would-drop. */
	{ "audit_v4_allowed_row0", POL_AUDIT, PASS_ROW(0),
	  { TCP4(NARROW4, EDGE4, 40000, 1500, SYN) } },
	{ "audit_v6_allowed_row7", POL_AUDIT, PASS_ROW(7),
	  { TCP6(NARROW6, EDGE6, 7000, 40000, SYNACK) } },
	{ "audit_v4_no_match_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_NO_MATCH),
	  { TCP4(OUTSIDER4, EDGE4, 40000, 4000, SYN) } },
	{ "audit_v6_no_match_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_NO_MATCH),
	  { UDP6(OUTSIDER6, EDGE6, 40000, 5500) } },
	{ "audit_v6_nd_hl64_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_NO_MATCH),
	  { ICMP6(LINKLOCAL6, EDGE6, 135, 0), .ttl = 64, .payload_len = 16 } },
	{ "audit_v4_ihl4_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_MALFORMED),
	  { TCP4(NARROW4, EDGE4, 40000, 1500, SYN), .ihl = 4 } },
	{ "audit_v6_ext_9_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_MALFORMED),
	  { TCP6(NARROW6, EDGE6, 40000, 1500, SYN),
	    PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
		    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		    IPPROTO_DSTOPTS) } },
	{ "audit_vlan_tag_cut_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_MALFORMED),
	  { .ethertype = PKT_ETH_8021Q, .payload_len = 2 } },
	{ "audit_v4_fragment_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_FRAGMENT),
	  { UDP4(OUTSIDER4, EDGE4, 0, 0), .no_l4 = 1, .payload_len = 64, .frag_offset = 185 } },
	{ "audit_v6_fragment_would_drop", POL_AUDIT, WOULD_DROP(PICFW_R_FRAGMENT),
	  { UDP6(OUTSIDER6, EDGE6, 0, 0), .no_l4 = 1, .payload_len = 64,
	    PKT_EXT(IPPROTO_FRAGMENT), .frag_offset = 185 } },
	{ "audit_v4_icmp_unrelated", POL_AUDIT, UNRELATED,
	  { ICMP4(OUTSIDER4, EDGE4, 3, 4), .payload_len = 28 } },
	{ "audit_v4_unprotected", POL_AUDIT, UNPROTECTED,
	  { TCP4(OUTSIDER4, UNPROT4, 40000, 4000, SYN) } },
	{ "audit_arp_non_ip", POL_AUDIT, NON_IP, { .ethertype = PKT_ETH_ARP, .payload_len = 28 } },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Everything the tests share: the loaded object, its maps, the compiled policies. */
static struct {
	struct picfw_bpf *skel;
	struct picfw_maps maps;
	int prog_fd;
	struct policy pol[POL_COUNT];
	struct policy_image img[POL_COUNT];
	int loaded; /* policy in the active generation, -1 none */
	uint32_t active;
} env = { .loaded = -1 };

struct counters {
	struct picfw_counter rows[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
};

static void slot_name(int on_row, unsigned slot, char *buf, size_t len)
{
	const struct policy_image *img = env.loaded >= 0 ? &env.img[env.loaded] : NULL;

	if (on_row)
		snprintf(buf, len, "row %u (%s)", slot,
			 img && slot < img->nrows ? img->rows[slot].name : "unused");
	else if (slot < PICFW_REASONS)
		snprintf(buf, len, "reason %s", reason_names[slot]);
	else
		snprintf(buf, len, "reason would-drop %s", reason_names[slot - PICFW_REASONS]);
}

static int read_counters(struct counters *c)
{
	return maps_read_counters(&env.maps, c->rows, c->reasons);
}

/* Run one frame through the program: 0 and the verdict, or a negative errno. */
static int run_frame(const uint8_t *frame, size_t len, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(env.prog_fd, &opts);
	*verdict = (int)opts.retval;
	return err;
}

/* Compare two counter slots' change with what was expected; note a difference. */
static int check_slot(const char *tag, int on_row, unsigned slot, const struct picfw_counter *b,
		      const struct picfw_counter *a, uint64_t want_pkts, uint64_t want_bytes)
{
	uint64_t dp = a->packets - b->packets, db = a->bytes - b->bytes;
	char name[PICFW_NAME_LEN + 32];

	if (dp == want_pkts && db == want_bytes)
		return 0;
	slot_name(on_row, slot, name, sizeof(name));
	note(tag, "%s: expected +%llu packets +%llu bytes, got +%llu packets +%llu bytes", name,
	     (unsigned long long)want_pkts, (unsigned long long)want_bytes,
	     (unsigned long long)dp, (unsigned long long)db);
	return 1;
}

/* Every counter against the expectation: exp's slot +1/+len, all others unchanged. */
static int check_counters(const char *tag, const struct counters *before,
			  const struct counters *after, const struct expect *exp, size_t len)
{
	int fails = 0;
	unsigned i;

	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		int hit = exp && exp->on_row && exp->slot == i;

		fails += check_slot(tag, 1, i, &before->rows[i], &after->rows[i], hit,
				    hit ? len : 0);
	}
	for (i = 0; i < PICFW_REASON_SLOTS; i++) {
		int hit = exp && !exp->on_row && exp->slot == i;

		fails += check_slot(tag, 0, i, &before->reasons[i], &after->reasons[i], hit,
				    hit ? len : 0);
	}
	return fails;
}

/* Run a frame and check its verdict and counters. Returns the number of differences. */
static int run_and_check(const char *tag, const uint8_t *frame, size_t len,
			 const struct expect *exp)
{
	static struct counters before, after;
	char want[PICFW_NAME_LEN + 32];
	int err, verdict, fails = 0;

	err = read_counters(&before);
	if (err) {
		note(tag, "reading counters before: %s", strerror(-err));
		return 1;
	}
	err = run_frame(frame, len, &verdict);
	if (err) {
		note(tag, "BPF_PROG_TEST_RUN on %zu bytes failed: %s", len, strerror(-err));
		return 1;
	}
	err = read_counters(&after);
	if (err) {
		note(tag, "reading counters after: %s", strerror(-err));
		return 1;
	}
	if (verdict != exp->verdict) {
		slot_name(exp->on_row, exp->slot, want, sizeof(want));
		note(tag, "verdict: expected %s (%s), got %s", verdict_name(exp->verdict), want,
		     verdict_name(verdict));
		fails++;
	}
	return fails + check_counters(tag, &before, &after, exp, len);
}

/* Write policy id into generation gen and make it the active one. */
static int load_into(uint32_t gen, enum policy_id id)
{
	const struct policy_image *img = &env.img[id];
	struct picfw_gen_cfg cfg = img->cfg;
	uint32_t slots[PICFW_MAX_ROWS];
	uint32_t i;
	int err;

	for (i = 0; i < img->nrows; i++)
		slots[i] = i; /* row i counts in slot i */
	err = maps_write_generation(&env.maps, gen, img, slots);
	if (err) {
		note(policy_label[id], "maps_write_generation(%u): %s", gen, strerror(-err));
		return err;
	}
	err = maps_activate(&env.maps, gen, &cfg);
	if (err) {
		note(policy_label[id], "maps_activate(%u): %s", gen, strerror(-err));
		return err;
	}
	env.active = gen;
	env.loaded = id;
	return 0;
}

/* Make policy id the active one, through the inactive generation. */
static int use_policy(enum policy_id id)
{
	if (env.loaded == (int)id)
		return 0;
	return load_into(env.loaded < 0 ? 0 : env.active ^ 1, id);
}

static void test_table_case(void **state)
{
	const struct dp_case *c = *state;
	uint8_t frame[PKT_MAX];
	char err[256];
	int len;

	len = pkt_build(&c->pkt, frame, sizeof(frame), err, sizeof(err));
	if (len < 0) {
		note(c->name, "building the packet: %s", err);
		fail();
	}
	if (c->expect.on_row && c->expect.slot >= env.img[c->policy].nrows) {
		note(c->name, "table error: policy %s has no row %u", policy_label[c->policy],
		     c->expect.slot);
		fail();
	}
	if (use_policy(c->policy))
		fail();
	if (run_and_check(c->name, frame, (size_t)len, &c->expect))
		fail();
}

/* The seed policy's rows are the ones the table's slots name. */
static void test_pic_policy_rows(void **state)
{
	static const char *const names[] = {
		"access-sip-mtls-tcp-5061-in",  "access-sip-mtls-tcp-5061-out",
		"access-sip-tls-tcp-443-in",    "a-v-rtp-tcp-50000-59999-out",
		"a-v-stun-msturn-udp-3478-out", "a-v-stun-msturn-udp-3478-in",
	};
	const struct policy_image *img = &env.img[POL_PIC];
	const char *tag = "pic_policy_rows";
	int fails = 0;
	unsigned i;

	(void)state;
	if (img->nrows != 6) {
		note(tag, "etc/pic.policy: expected 6 rows, got %u", img->nrows);
		fail();
	}
	for (i = 0; i < 6; i++) {
		if (strcmp(img->rows[i].name, names[i])) {
			note(tag, "row %u: expected %s, got %s", i, names[i], img->rows[i].name);
			fails++;
		}
	}
	if (fails)
		fail();
}

/*
 * Every prefix of a full header stack is malformed: for each length L from
 * the Ethernet header to one byte short, the first L bytes (length fields as
 * in the whole frame) drop as malformed and count L bytes.
 */
static void truncation_test(const char *name, const struct pkt_spec *spec, unsigned row)
{
	struct expect whole = PASS_ROW(row), cut = MALFORMED;
	uint8_t frame[PKT_MAX];
	char tag[128], err[256];
	int len, l, fails = 0;

	len = pkt_build(spec, frame, sizeof(frame), err, sizeof(err));
	if (len < 0) {
		note(name, "building the packet: %s", err);
		fail();
	}
	if (use_policy(POL_PIC))
		fail();
	snprintf(tag, sizeof(tag), "%s L=%d (whole)", name, len);
	fails += run_and_check(tag, frame, (size_t)len, &whole);
	for (l = 14; l < len; l++) {
		snprintf(tag, sizeof(tag), "%s L=%d", name, l);
		fails += run_and_check(tag, frame, (size_t)l, &cut);
	}
	if (fails)
		fail();
}

static void test_truncated_v4_tcp_syn(void **state)
{
	const struct pkt_spec s = { TCP4(STRANGER4, EDGE4, 40000, 443, SYN) };

	(void)state;
	truncation_test("truncated_v4_tcp_syn", &s, 2);
}

static void test_truncated_v6_dstopts_tcp_syn(void **state)
{
	const struct pkt_spec s = { TCP6(STRANGER6, EDGE6, 40000, 443, SYN),
				    PKT_EXT(IPPROTO_DSTOPTS) };

	(void)state;
	truncation_test("truncated_v6_dstopts_tcp_syn", &s, 2);
}

static void test_truncated_vlan_v4_udp(void **state)
{
	const struct pkt_spec s = { UDP4(STRANGER4, EDGE4, 40004, 3478), PKT_VLAN };

	(void)state;
	truncation_test("truncated_vlan_v4_udp", &s, 5);
}

static void test_truncated_qinq_v6_udp(void **state)
{
	const struct pkt_spec s = { UDP6(STRANGER6, EDGE6, 40004, 3478), PKT_QINQ };

	(void)state;
	truncation_test("truncated_qinq_v6_udp", &s, 5);
}

/*
 * Frames shorter than an Ethernet header never reach the program: the
 * kernel's BPF_PROG_TEST_RUN refuses them for XDP with EINVAL. Documented
 * here so that a kernel that starts accepting them is noticed (the program
 * would then count them malformed).
 */
static void test_short_frames_refused(void **state)
{
	const struct pkt_spec s = { TCP4(STRANGER4, EDGE4, 40000, 443, SYN) };
	static struct counters before, after;
	const char *tag = "short_frames_refused";
	uint8_t frame[PKT_MAX];
	char err[256], ltag[64];
	int l, verdict, ret, fails = 0;

	(void)state;
	if (pkt_build(&s, frame, sizeof(frame), err, sizeof(err)) < 0) {
		note(tag, "building the packet: %s", err);
		fail();
	}
	if (use_policy(POL_PIC) || read_counters(&before))
		fail();
	for (l = 0; l < 14; l++) {
		ret = run_frame(frame, (size_t)l, &verdict);
		if (ret != -EINVAL) {
			note(tag, "L=%d: expected the run to fail with EINVAL, got %s (verdict %s)",
			     l, ret ? strerror(-ret) : "success", verdict_name(verdict));
			fails++;
		}
	}
	if (read_counters(&after))
		fail();
	snprintf(ltag, sizeof(ltag), "%s L=0..13", tag);
	fails += check_counters(ltag, &before, &after, NULL, 0);
	if (fails)
		fail();
}

/*
 * A live policy change: the PIC policy in generation 0, then the test policy
 * written to generation 1 and activated. A packet only the new policy allows
 * now passes on its row, one only the old allowed is dropped; flipping back
 * to generation 0 (still holding the PIC policy) restores the old verdicts.
 */
static void test_generation_switch(void **state)
{
	const struct pkt_spec only_new = { TCP4(NARROW4, EDGE4, 40000, 1500, SYN) };
	const struct pkt_spec only_old = { TCP4(STRANGER4, EDGE4, 40000, 443, SYN) };
	struct expect new_row0 = PASS_ROW(0), old_row2 = PASS_ROW(2), drop = NO_MATCH;
	struct picfw_gen_cfg cfg = env.img[POL_PIC].cfg;
	uint8_t a[PKT_MAX], b[PKT_MAX];
	struct picfw_ctl ctl = { 0 };
	char err[256];
	int la, lb, fails = 0;

	(void)state;
	la = pkt_build(&only_new, a, sizeof(a), err, sizeof(err));
	lb = pkt_build(&only_old, b, sizeof(b), err, sizeof(err));
	if (la < 0 || lb < 0) {
		note("generation_switch", "building the packets: %s", err);
		fail();
	}
	/* Generation 0 must be inactive before it is written. */
	if (env.loaded >= 0 && env.active == 0 && load_into(1, POL_PIC))
		fail();
	if (load_into(0, POL_PIC))
		fail();
	fails += run_and_check("generation_switch gen0 pic only_new", a, (size_t)la, &drop);
	fails += run_and_check("generation_switch gen0 pic only_old", b, (size_t)lb, &old_row2);

	if (load_into(1, POL_TEST))
		fail();
	if (maps_read_ctl(&env.maps, &ctl) || ctl.active != 1) {
		note("generation_switch", "picfw_ctl.active: expected 1, got %u", ctl.active);
		fails++;
	}
	fails += run_and_check("generation_switch gen1 test only_new", a, (size_t)la, &new_row0);
	fails += run_and_check("generation_switch gen1 test only_old", b, (size_t)lb, &drop);

	/* Back to generation 0: its maps were left as they were. */
	if (maps_activate(&env.maps, 0, &cfg)) {
		note("generation_switch", "maps_activate(0) back failed");
		fail();
	}
	env.active = 0;
	env.loaded = POL_PIC;
	fails += run_and_check("generation_switch back gen0 only_new", a, (size_t)la, &drop);
	fails += run_and_check("generation_switch back gen0 only_old", b, (size_t)lb, &old_row2);
	if (fails)
		fail();
}

struct named_test {
	const char *name;
	CMUnitTestFunction fn;
};

static const struct named_test extra_tests[] = {
	{ "pic_policy_rows", test_pic_policy_rows },
	{ "generation_switch", test_generation_switch },
	{ "truncated_v4_tcp_syn", test_truncated_v4_tcp_syn },
	{ "truncated_v6_dstopts_tcp_syn", test_truncated_v6_dstopts_tcp_syn },
	{ "truncated_vlan_v4_udp", test_truncated_vlan_v4_udp },
	{ "truncated_qinq_v6_udp", test_truncated_qinq_v6_udp },
	{ "short_frames_refused", test_short_frames_refused },
};

#define NEXTRA (sizeof(extra_tests) / sizeof(extra_tests[0]))

/* The many-rows policy's text (see MANY_PORT0); NULL when out of memory. */
static char *many_policy_text(size_t *len)
{
	size_t cap = 256 + PICFW_MAX_ROWS * 64, n;
	char *t = malloc(cap);
	unsigned i;

	if (!t)
		return NULL;
	n = (size_t)snprintf(t, cap,
			     "set guarded = 203.0.113.10, 2001:db8:e::10\n"
			     "set narrow = 198.51.100.128/25, 2001:db8:100:8000::/49\n"
			     "protect guarded\n");
	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		if (i == MANY_ROW_NARROW)
			n += (size_t)snprintf(t + n, cap - n,
					      "r%u: M/n/TCP/30000-30010 narrow guarded\n", i);
		else if (i == MANY_ROW_ANY)
			n += (size_t)snprintf(t + n, cap - n, "r%u: M/a/TCP/30005 any guarded\n",
					      i);
		else if (i == MANY_ROW_OUT)
			n += (size_t)snprintf(t + n, cap - n,
					      "r%u: M/o/UDP/20000-20999 guarded any\n", i);
		else
			n += (size_t)snprintf(t + n, cap - n, "r%u: M/p/TCP/%u any guarded\n", i,
					      MANY_PORT0 + i);
	}
	*len = n;
	return t;
}

static int parse_policies(void)
{
	const char *srcdir = getenv("PICFW_SRCDIR");
	char path[4096], err[256], audit_text[sizeof(test_policy_text) + 16];
	struct policy_errors errs = { 0 };
	char *many;
	size_t many_len;
	int id;

	snprintf(path, sizeof(path), "%s/etc/pic.policy", srcdir && *srcdir ? srcdir : ".");
	snprintf(audit_text, sizeof(audit_text), "mode audit\n%s", test_policy_text);
	for (id = 0; id < POL_COUNT; id++) {
		int ret;

		if (id == POL_PIC)
			ret = policy_load(path, &env.pol[id], &errs);
		else if (id == POL_TEST)
			ret = policy_parse("test.policy", test_policy_text,
					   strlen(test_policy_text), &env.pol[id], &errs);
		else if (id == POL_AUDIT)
			ret = policy_parse("audit.policy", audit_text, strlen(audit_text),
					   &env.pol[id], &errs);
		else if ((many = many_policy_text(&many_len))) {
			ret = policy_parse("many.policy", many, many_len, &env.pol[id], &errs);
			free(many);
		} else {
			printf("Bail out! out of memory\n");
			return -1;
		}
		if (ret) {
			printf("Bail out! the %s policy does not parse\n", policy_label[id]);
			policy_errors_print(stdout, id == POL_PIC ? path : policy_label[id], &errs);
			policy_errors_free(&errs);
			return -1;
		}
		/*
		 * These tables check the stateless reply rule (source port, TCP
		 * with ACK); tracked replies, the default, are test_flows.c's.
		 */
		env.pol[id].replies = PICFW_REPLIES_STATELESS;
		if (compile_policy(&env.pol[id], &env.img[id], err, sizeof(err))) {
			printf("Bail out! the %s policy does not compile: %s\n", policy_label[id],
			       err);
			return -1;
		}
	}
	if (env.img[POL_AUDIT].mode != PICFW_MODE_AUDIT) {
		printf("Bail out! 'mode audit' did not give an audit-mode image\n");
		return -1;
	}
	return 0;
}

/* Every test a SKIP, with the reason: the program could not be loaded. */
static int skip_all(const struct CMUnitTest *tests, size_t n, const char *why)
{
	size_t i;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++)
		printf("ok %zu - %s # SKIP %s\n", i + 1, tests[i].name, why);
	return 0;
}

int main(void)
{
	size_t n = NCASES + NEXTRA, i, j;
	struct CMUnitTest *tests;
	char *name;
	int err, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(test_libbpf_print);

	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (i = 0; i < n; i++) {
		const char *base = i < NEXTRA ? extra_tests[i].name : cases[i - NEXTRA].name;

		if (asprintf(&name, "test_datapath_%s", base) < 0)
			return 1;
		tests[i].name = name;
		if (i < NEXTRA) {
			tests[i].test_func = extra_tests[i].fn;
		} else {
			tests[i].test_func = test_table_case;
			tests[i].initial_state = (void *)&cases[i - NEXTRA];
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(tests[j].name, name)) {
				printf("Bail out! two tests named %s\n", name);
				return 1;
			}
		}
	}

	if (parse_policies())
		return 1;

	env.skel = picfw_bpf__open_and_load();
	if (!env.skel) {
		err = errno;
		if (err == EPERM || err == EACCES) {
			char why[160];

			snprintf(why, sizeof(why),
				 "cannot load the BPF program (%s): run as root", strerror(err));
			return skip_all(tests, n, why);
		}
		printf("Bail out! loading the BPF program failed: %s\n", strerror(err));
		return 1;
	}
	env.prog_fd = bpf_program__fd(env.skel->progs.picfw_xdp);
	err = maps_from_skel(env.skel, &env.maps);
	if (err) {
		printf("Bail out! the program's maps: %s\n", strerror(-err));
		picfw_bpf__destroy(env.skel);
		return 1;
	}

	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = _cmocka_run_group_tests("datapath", tests, n, NULL, NULL);

	maps_close(&env.maps);
	picfw_bpf__destroy(env.skel);
	for (i = 0; i < POL_COUNT; i++) {
		image_free(&env.img[i]);
		policy_free(&env.pol[i]);
	}
	for (i = 0; i < n; i++)
		free((char *)tests[i].name);
	free(tests);
	return ret ? 1 : 0;
}
