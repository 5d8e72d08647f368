// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_flows.c - tracked replies, through both real programs with
 * BPF_PROG_TEST_RUN: the TC egress program records the flows the Edge opens,
 * the XDP program lets their replies in and counts them on the outbound row.
 *
 * Each test loads its own policy into a fresh generation and empties the
 * flow table first, so tests do not lean on each other. Timeouts are set
 * short (1 s) where a test waits for expiry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "clock.h"
#include "compile.h"
#include "maps.h"
#include "packets.h"
#include "common.h"
#include "picfw.skel.h"
#include "policy.h"

/* EDGE4, PARTNER4, STRANGER4 ...: common.h. */
#define PARTNER4B "198.51.100.8"

/* Rows: 0 sip-in, 1 sip-out, 2 tls-in, 3 rtp-out, 4 stun-out, 5 stun-in (etc/pic.policy). */
#define PIC_BODY                                                                   \
	"set edge = 203.0.113.10, 2001:db8:e::10\n"                                \
	"set partners = 198.51.100.0/24, 2001:db8:100::/48\n"                      \
	"protect edge\n"                                                           \
	"Access/SIP(MTLS)/TCP/5061 partners edge\n"                                \
	"Access/SIP(MTLS)/TCP/5061 edge partners\n"                                \
	"Access/SIP(TLS)/TCP/443 any edge\n"                                       \
	"A/V/RTP/TCP/50,000-59,999 edge any\n"                                     \
	"A/V/STUN,MSTURN/UDP/3478 edge any\n"                                      \
	"A/V/STUN,MSTURN/UDP/3478 any edge\n"

/* cmocka's TAP output drops fail_msg()'s text: print it as a TAP diagnostic first. */
#define FAIL(...)                      \
	do {                           \
		note(NULL, __VA_ARGS__); \
		fail();                \
	} while (0)

static struct {
	struct picfw_bpf *skel;
	struct picfw_maps maps;
	int xdp_fd, tc_fd;
	uint32_t gen; /* the active generation */
	int loaded;
} env;

static int group_setup(void **state)
{
	(void)state;
	env.skel = picfw_bpf__open_and_load();
	if (!env.skel) {
		/* Root was checked in main: the program itself does not load. */
		printf("# picfw.bpf.o does not load (the verifier log is above)\n");
		return -1;
	}
	if (maps_from_skel(env.skel, &env.maps))
		return -1;
	env.xdp_fd = bpf_program__fd(env.skel->progs.picfw_xdp);
	env.tc_fd = bpf_program__fd(env.skel->progs.picfw_tc_egress);
	env.gen = 1;
	env.loaded = 1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (env.loaded)
		maps_close(&env.maps);
	picfw_bpf__destroy(env.skel);
	return 0;
}

/*
 * Write text into the inactive generation with these counter slots (NULL:
 * row i in slot i) and switch to it, as apply does; flows stay.
 */
static void switch_policy(const char *text, const uint32_t *slots_in)
{
	struct policy_errors errs = { 0 };
	struct policy_image img;
	uint32_t slots[PICFW_MAX_ROWS], i, gen = env.gen ^ 1;
	struct policy p;
	char err[256];

	if (!env.loaded)
		skip();
	if (policy_parse("flows.policy", text, strlen(text), &p, &errs)) {
		policy_errors_print(stderr, "flows.policy", &errs);
		FAIL("policy does not parse");
	}
	policy_errors_free(&errs);
	if (compile_policy(&p, &img, err, sizeof(err)))
		FAIL("policy does not compile: %s", err);
	for (i = 0; i < img.nrows; i++)
		slots[i] = slots_in ? slots_in[i] : i;
	assert_int_equal(maps_write_generation(&env.maps, gen, &img, slots), 0);
	assert_int_equal(maps_activate(&env.maps, gen, &img.cfg), 0);
	env.gen = gen;
	image_free(&img);
	policy_free(&p);
}

/*
 * Load text into the inactive generation, switch to it, empty the flow
 * tables and close attach's pickup window (as after its time).
 */
static void load_policy(const char *text)
{
	switch_policy(text, NULL);
	flows_empty(&env.maps);
	assert_int_equal(maps_open_pickup(&env.maps, 0), 0);
}

static int build(const struct pkt_spec *spec, uint8_t *buf)
{
	char err[128];
	int len = pkt_build(spec, buf, PKT_MAX, err, sizeof(err));

	if (len < 0)
		FAIL("pkt_build: %s", err);
	return len;
}

/*
 * An ICMP error from `from` to `to` quoting the header of `quoted` (a packet
 * the Edge sent), built in buf. RFC 792/4443: the quote starts right after
 * the 8-byte ICMP header.
 */
static int build_icmp_error(uint8_t family, const char *from, const char *to, uint8_t type,
			    uint8_t code, const struct pkt_spec *quoted, uint8_t *buf)
{
	uint8_t inner[PKT_MAX];
	int ilen = build(quoted, inner) - 14, len, l4;
	struct pkt_spec outer = {
		.family = family,
		.src = from,
		.dst = to,
		.proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
		.icmp_type = type,
		.icmp_code = code,
		.payload_len = (uint16_t)ilen,
	};

	len = build(&outer, buf);
	l4 = 14 + (family == 4 ? 20 : 40);
	memcpy(buf + l4 + 8, inner + 14, (size_t)ilen);
	return len;
}

static int run(int fd, const struct pkt_spec *spec, uint32_t *retval)
{
	uint8_t buf[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .repeat = 1);

	opts.data_size_in = (uint32_t)build(spec, buf);
	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	*retval = opts.retval;
	return (int)opts.data_size_in;
}

/* Egress through the TC program: it never drops, and lets the next filter run. */
static void egress(const struct pkt_spec *spec)
{
	uint32_t ret;

	run(env.tc_fd, spec, &ret);
	assert_int_equal(ret, (uint32_t)TC_ACT_UNSPEC);
}

struct counters {
	struct picfw_counter rows[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
	uint64_t events[PICFW_EVENT_SLOTS];
	uint64_t table_flows[PICFW_FLOW_TABLES];
	uint32_t sizes[PICFW_FLOW_TABLES];
	uint64_t flows; /* all tables */
};

static void snapshot(struct counters *c)
{
	uint32_t t;

	assert_int_equal(maps_read_counters(&env.maps, c->rows, c->reasons), 0);
	assert_int_equal(maps_read_events(&env.maps, c->events, c->table_flows, c->sizes), 0);
	c->flows = 0;
	for (t = 0; t < PICFW_FLOW_TABLES; t++)
		c->flows += c->table_flows[t];
}

/* An event of one table (PICFW_FT_*), or of all with table < 0. */
static uint64_t event(const struct counters *c, int table, unsigned ev)
{
	uint64_t n = 0;
	int t;

	for (t = 0; t < PICFW_FLOW_TABLES; t++)
		if (table < 0 || t == table)
			n += c->events[t * PICFW_EVENTS + ev];
	return n;
}

/*
 * Run an ingress frame (spec, or a prebuilt one when frame is not NULL) and
 * assert the verdict and that exactly one counter moved: row slot `row`
 * (>= 0), or reason `reason` (row < 0), by one packet and the frame's bytes.
 */
static void ingress_frame(const char *tag, const uint8_t *frame, int flen,
			  const struct pkt_spec *spec, uint32_t verdict, int row, int reason)
{
	static struct counters before, after;
	uint8_t buf[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .repeat = 1);
	unsigned i;
	int len;

	if (frame) {
		memcpy(buf, frame, (size_t)flen);
		len = flen;
	} else {
		len = build(spec, buf);
	}
	opts.data_size_in = (uint32_t)len;
	snapshot(&before);
	assert_int_equal(bpf_prog_test_run_opts(env.xdp_fd, &opts), 0);
	snapshot(&after);
	if (opts.retval != verdict)
		FAIL("%s: verdict %u, want %u", tag, opts.retval, verdict);
	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		uint64_t dp = after.rows[i].packets - before.rows[i].packets;
		uint64_t db = after.rows[i].bytes - before.rows[i].bytes;
		int want = row >= 0 && (unsigned)row == i;

		if (dp != (uint64_t)want || db != (want ? (uint64_t)len : 0))
			FAIL("%s: row slot %u moved by %llu packets %llu bytes, want %d", tag, i,
				 (unsigned long long)dp, (unsigned long long)db, want);
	}
	for (i = 0; i < PICFW_REASON_SLOTS; i++) {
		uint64_t dp = after.reasons[i].packets - before.reasons[i].packets;
		int want = row < 0 && (unsigned)reason == i;

		if (dp != (uint64_t)want)
			FAIL("%s: reason slot %u moved by %llu packets, want %d", tag, i,
				 (unsigned long long)dp, want);
	}
}

static void ingress(const char *tag, const struct pkt_spec *spec, uint32_t verdict, int row,
		    int reason)
{
	ingress_frame(tag, NULL, 0, spec, verdict, row, reason);
}

#define PASS_ROW(tag, spec, row) ingress(tag, spec, XDP_PASS, row, -1)
#define DROP(tag, spec, reason) ingress(tag, spec, XDP_DROP, -1, reason)

static struct pkt_spec tcp(uint8_t fam, const char *s, const char *d, uint16_t sp, uint16_t dp,
			   uint8_t flags)
{
	struct pkt_spec p = { .family = fam, .src = s, .dst = d, .proto = IPPROTO_TCP,
			      .sport = sp, .dport = dp, .tcp_flags = flags };
	return p;
}

static struct pkt_spec udp(uint8_t fam, const char *s, const char *d, uint16_t sp, uint16_t dp)
{
	struct pkt_spec p = { .family = fam, .src = s, .dst = d, .proto = IPPROTO_UDP,
			      .sport = sp, .dport = dp, .payload_len = 20 };
	return p;
}

static uint64_t flows_now(void)
{
	struct counters c;

	snapshot(&c);
	return c.flows;
}

static void test_flows_tcp_reply_needs_the_edges_syn(void **state)
{
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40000, TH_SYN | TH_ACK);
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40000, 5061, TH_SYN);
	struct pkt_spec data = tcp(4, PARTNER4, EDGE4, 5061, 40000, TH_ACK | TH_PSH);

	(void)state;
	load_policy(PIC_BODY);
	DROP("synack_before_syn", &synack, PICFW_R_NO_MATCH);
	egress(&syn);
	assert_int_equal(flows_now(), 1);
	PASS_ROW("synack_after_syn", &synack, 1);
	data.payload_len = 100;
	PASS_ROW("data_after_syn", &data, 1);
}

static void test_flows_tcp_reply_twins_dropped(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40000, 5061, TH_SYN);
	struct pkt_spec other_sport = tcp(4, PARTNER4, EDGE4, 5062, 40000, TH_SYN | TH_ACK);
	struct pkt_spec other_src = tcp(4, PARTNER4B, EDGE4, 5061, 40000, TH_SYN | TH_ACK);
	struct pkt_spec other_dport = tcp(4, PARTNER4, EDGE4, 5061, 40001, TH_SYN | TH_ACK);
	struct pkt_spec as_udp = udp(4, PARTNER4, EDGE4, 5061, 40000);

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	DROP("other_source_port", &other_sport, PICFW_R_NO_MATCH);
	DROP("other_source_address", &other_src, PICFW_R_NO_MATCH);
	DROP("other_edge_port", &other_dport, PICFW_R_NO_MATCH);
	DROP("other_transport", &as_udp, PICFW_R_NO_MATCH);
}

static void test_flows_egress_not_under_an_outbound_row(void **state)
{
	/* To a stranger on 5061 (not a partner), and from an unprotected source. */
	struct pkt_spec to_stranger = tcp(4, EDGE4, STRANGER4, 40000, 5061, TH_SYN);
	struct pkt_spec from_other = tcp(4, "203.0.113.99", PARTNER4, 40000, 5061, TH_SYN);
	struct pkt_spec reply = tcp(4, STRANGER4, EDGE4, 5061, 40000, TH_SYN | TH_ACK);

	(void)state;
	load_policy(PIC_BODY);
	egress(&to_stranger);
	egress(&from_other);
	assert_int_equal(flows_now(), 0);
	DROP("reply_of_unrecorded", &reply, PICFW_R_NO_MATCH);
}

static void test_flows_udp_stun_reply(void **state)
{
	struct pkt_spec out4 = udp(4, EDGE4, STRANGER4, 50000, 3478);
	struct pkt_spec reply4 = udp(4, STRANGER4, EDGE4, 3478, 50000);
	struct pkt_spec wrong4 = udp(4, STRANGER4, EDGE4, 3479, 50000);
	struct pkt_spec out6 = udp(6, EDGE6, STRANGER6, 50002, 3478);
	struct pkt_spec reply6 = udp(6, STRANGER6, EDGE6, 3478, 50002);

	(void)state;
	load_policy(PIC_BODY);
	DROP("stun_reply_before", &reply4, PICFW_R_NO_MATCH);
	egress(&out4);
	egress(&out6);
	PASS_ROW("stun_reply_v4", &reply4, 4);
	PASS_ROW("stun_reply_v6", &reply6, 4);
	DROP("stun_reply_wrong_port", &wrong4, PICFW_R_NO_MATCH);
}

/* What the stateless rule let in and tracking does not: a stranger's source port. */
static void test_flows_stranger_from_3478_and_5061(void **state)
{
	struct pkt_spec udp_probe = udp(4, STRANGER4, EDGE4, 3478, 9999);
	struct pkt_spec tcp_probe = tcp(4, PARTNER4, EDGE4, 5061, 22, TH_ACK);
	struct pkt_spec udp_probe6 = udp(6, STRANGER6, EDGE6, 3478, 9999);

	(void)state;
	load_policy(PIC_BODY);
	DROP("tracked_udp_from_3478", &udp_probe, PICFW_R_NO_MATCH);
	DROP("tracked_tcp_ack_from_5061", &tcp_probe, PICFW_R_NO_MATCH);
	DROP("tracked_udp6_from_3478", &udp_probe6, PICFW_R_NO_MATCH);
	load_policy("replies stateless\n" PIC_BODY);
	PASS_ROW("stateless_udp_from_3478", &udp_probe, 4);
	PASS_ROW("stateless_tcp_ack_from_5061", &tcp_probe, 1);
}

/* The Edge answering flows that inbound rows let in opens no flow of its own. */
static void test_flows_answers_to_inbound_open_no_flow(void **state)
{
	/* SIP in from a partner whose ephemeral port is in the RTP-out range. */
	struct pkt_spec syn_in = tcp(4, PARTNER4, EDGE4, 55555, 5061, TH_SYN);
	struct pkt_spec synack_out = tcp(4, EDGE4, PARTNER4, 5061, 55555, TH_SYN | TH_ACK);
	struct pkt_spec ack_in = tcp(4, PARTNER4, EDGE4, 55555, 5061, TH_ACK);
	/* STUN in from a client's 3478, answered from the Edge's 3478. */
	struct pkt_spec stun_in = udp(4, STRANGER4, EDGE4, 3478, 3478);
	struct pkt_spec stun_answer = udp(4, EDGE4, STRANGER4, 3478, 3478);

	(void)state;
	load_policy(PIC_BODY);
	PASS_ROW("sip_in_syn", &syn_in, 0);
	egress(&synack_out);
	PASS_ROW("sip_in_ack_counts_inbound", &ack_in, 0);
	PASS_ROW("stun_in", &stun_in, 5);
	egress(&stun_answer);
	PASS_ROW("stun_in_again_counts_inbound", &stun_in, 5);
	assert_int_equal(flows_now(), 0);
}

/* A UDP flow of the Edge's in the table, last seen age_ns ago (seeded: epoch 0). */
static void put_udp_flow4(const char *remote, uint16_t rport, uint16_t lport, uint64_t age_ns,
			  struct picfw_flow4_key *key)
{
	struct picfw_flow f = { .binding = picfw_flow_binding(0, 0),
				.origin = PICFW_ORIGIN_SEEDED };

	memset(key, 0, sizeof(*key));
	inet_pton(AF_INET, remote, key->remote);
	inet_pton(AF_INET, EDGE4, key->local);
	key->remote_port = rport;
	key->local_port = lport;
	f.created = f.last_seen = flow_clock_ns() - age_ns;
	assert_int_equal(bpf_map_update_elem(env.maps.fd[MAP_FLOWS_UDP4], key, &f, BPF_ANY), 0);
}

static uint64_t udp_flow4_last_seen(const struct picfw_flow4_key *key)
{
	struct picfw_flow f;

	assert_int_equal(bpf_map_lookup_elem(env.maps.fd[MAP_FLOWS_UDP4], key, &f), 0);
	return f.last_seen;
}

/*
 * A datagram that answers an inbound row (the Edge's STUN from 3478 to a
 * client's 3478) is not looked up in the flow table: a flow there for it
 * (seeded at attach, say) is not refreshed, while a datagram of a flow no
 * inbound row answers is (the check can see a refresh). Its replies pass
 * on the inbound row either way.
 */
static void test_flows_answer_datagrams_skip_the_table(void **state)
{
	const uint64_t age = 10ULL * 1000000000; /* past the 2 s refresh, inside udp's 60 s */
	struct pkt_spec answer = udp(4, EDGE4, STRANGER4, 3478, 3478);
	struct pkt_spec reply = udp(4, STRANGER4, EDGE4, 3478, 3478);
	struct pkt_spec own = udp(4, EDGE4, STRANGER4, 50002, 3478);
	struct picfw_flow4_key ka, ko;
	uint64_t seen_a, seen_o;

	(void)state;
	load_policy(PIC_BODY);
	put_udp_flow4(STRANGER4, 3478, 3478, age, &ka);
	put_udp_flow4(STRANGER4, 3478, 50002, age, &ko);
	seen_a = udp_flow4_last_seen(&ka);
	seen_o = udp_flow4_last_seen(&ko);
	egress(&answer);
	egress(&own);
	assert_int_equal(udp_flow4_last_seen(&ka), seen_a);
	assert_true(udp_flow4_last_seen(&ko) > seen_o);
	PASS_ROW("answer_reply_on_inbound_row", &reply, 5);
	assert_int_equal(udp_flow4_last_seen(&ka), seen_a);
}

static void test_flows_ipv6_tcp(void **state)
{
	struct pkt_spec syn = tcp(6, EDGE6, PARTNER6, 40010, 5061, TH_SYN);
	struct pkt_spec synack = tcp(6, PARTNER6, EDGE6, 5061, 40010, TH_SYN | TH_ACK);
	struct pkt_spec rtp_out = tcp(6, EDGE6, STRANGER6, 40011, 55555, TH_SYN);
	struct pkt_spec rtp_reply = tcp(6, STRANGER6, EDGE6, 55555, 40011, TH_SYN | TH_ACK);

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	egress(&rtp_out);
	PASS_ROW("v6_sip_reply", &synack, 1);
	PASS_ROW("v6_rtp_reply", &rtp_reply, 3);
}

static void test_flows_udp_expiry(void **state)
{
	struct pkt_spec out = udp(4, EDGE4, STRANGER4, 50000, 3478);
	struct pkt_spec reply = udp(4, STRANGER4, EDGE4, 3478, 50000);
	struct counters before, after;

	(void)state;
	load_policy("timeout udp 1\n" PIC_BODY);
	egress(&out);
	PASS_ROW("udp_before_timeout", &reply, 4);
	snapshot(&before);
	usleep(1300 * 1000);
	DROP("udp_after_timeout", &reply, PICFW_R_NO_MATCH);
	snapshot(&after);
	assert_int_equal(event(&after, -1, PICFW_EV_FLOW_EXPIRED) -
				 event(&before, -1, PICFW_EV_FLOW_EXPIRED),
			 1);
	assert_int_equal(after.flows, 0);
	/* The Edge sends again: a new flow. */
	egress(&out);
	PASS_ROW("udp_new_flow", &reply, 4);
}

/*
 * A flow whose replies keep coming outlives a timeout shorter than the 2 s
 * refresh interval: last_seen is written at least every half timeout.
 */
static void test_flows_short_timeout_kept_alive(void **state)
{
	struct pkt_spec out = udp(4, EDGE4, STRANGER4, 50001, 3478);
	struct pkt_spec reply = udp(4, STRANGER4, EDGE4, 3478, 50001);
	char name[32];
	int i;

	(void)state;
	load_policy("timeout udp 1\n" PIC_BODY);
	egress(&out);
	/* 2.4 s of replies 300 ms apart, past the 1 s timeout and the 2 s refresh. */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "udp_reply_%d", i);
		PASS_ROW(name, &reply, 4);
		usleep(300 * 1000);
	}
	usleep(1300 * 1000);
	DROP("udp_quiet_expired", &reply, PICFW_R_NO_MATCH);
}

static void test_flows_tcp_transitory_and_established(void **state)
{
	struct pkt_spec syn_a = tcp(4, EDGE4, PARTNER4, 40020, 5061, TH_SYN);
	struct pkt_spec syn_b = tcp(4, EDGE4, PARTNER4, 40021, 5061, TH_SYN);
	struct pkt_spec synack_a = tcp(4, PARTNER4, EDGE4, 5061, 40020, TH_SYN | TH_ACK);
	struct pkt_spec ack_a = tcp(4, PARTNER4, EDGE4, 5061, 40020, TH_ACK);
	struct pkt_spec synack_b = tcp(4, PARTNER4, EDGE4, 5061, 40021, TH_SYN | TH_ACK);
	struct pkt_spec fin_a = tcp(4, PARTNER4, EDGE4, 5061, 40020, TH_FIN | TH_ACK);

	(void)state;
	load_policy("timeout tcp-transitory 1\ntimeout tcp 30\n" PIC_BODY);
	egress(&syn_a);
	egress(&syn_b);
	/* a is answered (established: 30 s); b stays half-open (transitory: 1 s). */
	PASS_ROW("a_synack", &synack_a, 1);
	usleep(1300 * 1000);
	PASS_ROW("a_established_survives", &ack_a, 1);
	DROP("b_half_open_expired", &synack_b, PICFW_R_NO_MATCH);
	/* After a FIN, a is transitory again. */
	PASS_ROW("a_fin", &fin_a, 1);
	usleep(1300 * 1000);
	DROP("a_closed_expired", &ack_a, PICFW_R_NO_MATCH);
}

static void test_flows_row_removed_by_update(void **state)
{
	struct pkt_spec out = udp(4, EDGE4, STRANGER4, 50000, 3478);
	struct pkt_spec reply = udp(4, STRANGER4, EDGE4, 3478, 50000);
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40030, 5061, TH_SYN);
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40030, TH_SYN | TH_ACK);
	struct policy_errors errs = { 0 };
	struct policy_image img;
	uint32_t slots[PICFW_MAX_ROWS] = { 0, 1, 2, 3, 5 };
	struct policy p;
	char err[256];
	const char *without_stun_out =
		"set edge = 203.0.113.10, 2001:db8:e::10\n"
		"set partners = 198.51.100.0/24, 2001:db8:100::/48\n"
		"protect edge\n"
		"Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"Access/SIP(MTLS)/TCP/5061 edge partners\n"
		"Access/SIP(TLS)/TCP/443 any edge\n"
		"A/V/RTP/TCP/50,000-59,999 edge any\n"
		"A/V/STUN,MSTURN/UDP/3478 any edge\n";

	(void)state;
	load_policy(PIC_BODY);
	egress(&out);
	egress(&syn);
	PASS_ROW("stun_reply_row_present", &reply, 4);
	/* The same rows keep their slots (as apply does); the STUN-out row's slot 4 goes. */
	assert_int_equal(policy_parse("u.policy", without_stun_out, strlen(without_stun_out), &p,
				      &errs), 0);
	assert_int_equal(compile_policy(&p, &img, err, sizeof(err)), 0);
	assert_int_equal(maps_write_generation(&env.maps, env.gen ^ 1, &img, slots), 0);
	assert_int_equal(maps_activate(&env.maps, env.gen ^ 1, &img.cfg), 0);
	env.gen ^= 1;
	image_free(&img);
	policy_free(&p);
	policy_errors_free(&errs);
	/* Its reply (source port 3478) now meets the inbound STUN row? No: dport 50000. */
	DROP("stun_reply_row_removed", &reply, PICFW_R_NO_MATCH);
	PASS_ROW("sip_reply_row_kept", &synack, 1);
}

static void test_flows_icmp_errors(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40040, 5061, TH_SYN);
	struct pkt_spec out6 = udp(6, EDGE6, STRANGER6, 50040, 3478);
	struct pkt_spec tls_reply = tcp(4, EDGE4, STRANGER4, 443, 51000, TH_SYN | TH_ACK);
	struct pkt_spec unknown = tcp(4, EDGE4, STRANGER4, 40041, 8080, TH_SYN);
	struct pkt_spec not_edge = tcp(4, "203.0.113.99", PARTNER4, 40040, 5061, TH_SYN);
	uint8_t frame[PKT_MAX];
	int len;

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	egress(&out6);
	/* Fragmentation needed, about the Edge's tracked SIP flow. */
	len = build_icmp_error(4, "198.51.100.1", EDGE4, 3, 4, &syn, frame);
	ingress_frame("frag_needed_tracked", frame, len, NULL, XDP_PASS, -1,
		      PICFW_R_ICMP_RELATED);
	/* Packet too big, about a tracked IPv6 STUN flow. */
	len = build_icmp_error(6, "2001:db8:bad::1", EDGE6, 2, 0, &out6, frame);
	ingress_frame("too_big_v6_tracked", frame, len, NULL, XDP_PASS, -1, PICFW_R_ICMP_RELATED);
	/* Unreachable, about the Edge's reply in an inbound TLS flow (row 2). */
	len = build_icmp_error(4, "192.0.2.1", EDGE4, 3, 1, &tls_reply, frame);
	ingress_frame("unreach_inbound_allowed", frame, len, NULL, XDP_PASS, -1,
		      PICFW_R_ICMP_RELATED);
	/* About nothing known: passed, counted apart. */
	len = build_icmp_error(4, "192.0.2.1", EDGE4, 3, 1, &unknown, frame);
	ingress_frame("unreach_unrelated", frame, len, NULL, XDP_PASS, -1,
		      PICFW_R_ICMP_UNRELATED);
	/* Quoting a source that is not the Edge: unrelated. */
	len = build_icmp_error(4, "192.0.2.1", EDGE4, 11, 0, &not_edge, frame);
	ingress_frame("time_exceeded_not_edge", frame, len, NULL, XDP_PASS, -1,
		      PICFW_R_ICMP_UNRELATED);

	load_policy("icmp strict\n" PIC_BODY);
	egress(&syn);
	len = build_icmp_error(4, "192.0.2.1", EDGE4, 3, 1, &unknown, frame);
	ingress_frame("strict_unrelated_dropped", frame, len, NULL, XDP_DROP, -1,
		      PICFW_R_ICMP_UNRELATED);
	len = build_icmp_error(4, "198.51.100.1", EDGE4, 3, 4, &syn, frame);
	ingress_frame("strict_related_passes", frame, len, NULL, XDP_PASS, -1,
		      PICFW_R_ICMP_RELATED);

	load_policy("icmp strict\nmode audit\n" PIC_BODY);
	len = build_icmp_error(4, "192.0.2.1", EDGE4, 3, 1, &unknown, frame);
	ingress_frame("audit_strict_unrelated_would_drop", frame, len, NULL, XDP_PASS, -1,
		      PICFW_REASONS + PICFW_R_ICMP_UNRELATED);
}

/*
 * A flood of new UDP flows (the A/V service's STUN to many peers) fills and
 * evicts only the UDP table of its family: the partner's SIP/TCP flow stays.
 */
static void test_flows_flood_evicts_only_its_table(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40090, 5061, TH_SYN);
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40090, TH_SYN | TH_ACK);
	struct pkt_spec syn6 = tcp(6, EDGE6, PARTNER6, 40091, 5061, TH_SYN);
	struct pkt_spec synack6 = tcp(6, PARTNER6, EDGE6, 5061, 40091, TH_SYN | TH_ACK);
	const unsigned extra = 50;
	struct counters before, after;
	char dst[INET_ADDRSTRLEN];
	struct pkt_spec out;
	unsigned i, total;

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	egress(&syn6);
	snapshot(&before);
	total = before.sizes[PICFW_FT_UDP4] + extra;
	assert_int_equal(before.sizes[PICFW_FT_UDP4], PICFW_DEFAULT_FLOWS_UDP);
	for (i = 0; i < total; i++) {
		/* Distinct flows: 2 local ports x many remote addresses. */
		snprintf(dst, sizeof(dst), "10.%u.%u.%u", (i >> 17) & 255, (i >> 9) & 255,
			 (i >> 1) & 255);
		out = udp(4, EDGE4, dst, (uint16_t)(50000 + (i & 1)), 3478);
		egress(&out);
	}
	snapshot(&after);
	assert_int_equal(event(&after, PICFW_FT_UDP4, PICFW_EV_FLOW_CREATED) -
				 event(&before, PICFW_FT_UDP4, PICFW_EV_FLOW_CREATED),
			 total);
	assert_int_equal(event(&after, PICFW_FT_UDP4, PICFW_EV_FLOW_EVICTIONS) -
				 event(&before, PICFW_FT_UDP4, PICFW_EV_FLOW_EVICTIONS),
			 extra);
	assert_int_equal(after.table_flows[PICFW_FT_UDP4], PICFW_DEFAULT_FLOWS_UDP);
	/* The other tables: no eviction, their flows still there and working. */
	assert_int_equal(event(&after, PICFW_FT_TCP4, PICFW_EV_FLOW_EVICTIONS), 0);
	assert_int_equal(after.table_flows[PICFW_FT_TCP4], 1);
	assert_int_equal(after.table_flows[PICFW_FT_TCP6], 1);
	PASS_ROW("sip_flow_survives_udp_flood", &synack, 1);
	PASS_ROW("sip6_flow_survives_udp_flood", &synack6, 1);
	flows_empty(&env.maps);
}

/* Variants of the PIC policy, for applies in the middle of flows. */
#define PIC_HEAD                                                                   \
	"set edge = 203.0.113.10, 2001:db8:e::10\n"                                \
	"set partners = 198.51.100.0/24, 2001:db8:100::/48\n"                      \
	"protect edge\n"                                                           \
	"Access/SIP(MTLS)/TCP/5061 partners edge\n"

/* A renamed row gets a new slot; its flows keep working, counted on it, no loss. */
static void test_flows_rename_keeps_replies(void **state)
{
	struct pkt_spec out = udp(4, EDGE4, STRANGER4, 50000, 3478);
	struct pkt_spec reply = udp(4, STRANGER4, EDGE4, 3478, 50000);
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40050, 5061, TH_SYN);
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40050, TH_SYN | TH_ACK);
	/* Rows as PIC_BODY, sip-out and stun-out given names; they move to slots 6 and 7. */
	static const uint32_t slots[] = { 0, 6, 2, 3, 7, 5 };
	const char *renamed = PIC_HEAD
		"sip-out: Access/SIP(MTLS)/TCP/5061 edge partners\n"
		"Access/SIP(TLS)/TCP/443 any edge\n"
		"A/V/RTP/TCP/50,000-59,999 edge any\n"
		"stun-out: A/V/STUN,MSTURN/UDP/3478 edge any\n"
		"A/V/STUN,MSTURN/UDP/3478 any edge\n";
	/* The port range re-ranged: 3478 still in it, so the flow is still allowed. */
	const char *reranged = PIC_HEAD
		"sip-out: Access/SIP(MTLS)/TCP/5061 edge partners\n"
		"Access/SIP(TLS)/TCP/443 any edge\n"
		"A/V/RTP/TCP/50,000-59,999 edge any\n"
		"stun-out: A/V/STUN,MSTURN/UDP/3478-3481 edge any\n"
		"A/V/STUN,MSTURN/UDP/3478 any edge\n";

	(void)state;
	load_policy(PIC_BODY);
	egress(&out);
	egress(&syn); /* SYN sent, not answered yet */
	PASS_ROW("stun_reply_before_rename", &reply, 4);
	switch_policy(renamed, slots);
	PASS_ROW("stun_reply_after_rename", &reply, 7);
	/* The SYN retransmitted, then answered: the SYN-ACK passes on the renamed row. */
	egress(&syn);
	PASS_ROW("synack_after_rename", &synack, 6);
	switch_policy(reranged, slots);
	PASS_ROW("stun_reply_after_rerange", &reply, 7);
}

/*
 * A row removed, then a new row on its counter slot: the old row's flows stay
 * dead unless the new row allows them (a stranger's ACK is no partner's).
 */
static void test_flows_removed_row_not_revived_by_slot_reuse(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, STRANGER4, 40050, 55555, TH_SYN);
	struct pkt_spec ack = tcp(4, STRANGER4, EDGE4, 55555, 40050, TH_ACK);
	struct pkt_spec psyn = tcp(4, EDGE4, PARTNER4, 40051, 55556, TH_SYN);
	struct pkt_spec pack = tcp(4, PARTNER4, EDGE4, 55556, 40051, TH_ACK);
	static const uint32_t slots_without[] = { 0, 1, 2, 4, 5 };
	static const uint32_t slots_with[] = { 0, 1, 2, 3, 4, 5 };
	const char *without_rtp = PIC_HEAD
		"Access/SIP(MTLS)/TCP/5061 edge partners\n"
		"Access/SIP(TLS)/TCP/443 any edge\n"
		"A/V/STUN,MSTURN/UDP/3478 edge any\n"
		"A/V/STUN,MSTURN/UDP/3478 any edge\n";
	const char *rtp_partners = PIC_HEAD
		"Access/SIP(MTLS)/TCP/5061 edge partners\n"
		"Access/SIP(TLS)/TCP/443 any edge\n"
		"rtp-partners: A/V/RTP/TCP/50,000-59,999 edge partners\n"
		"A/V/STUN,MSTURN/UDP/3478 edge any\n"
		"A/V/STUN,MSTURN/UDP/3478 any edge\n";

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	egress(&psyn);
	PASS_ROW("rtp_reply_before", &ack, 3);
	switch_policy(without_rtp, slots_without);
	DROP("rtp_reply_row_removed", &ack, PICFW_R_NO_MATCH);
	switch_policy(rtp_partners, slots_with);
	DROP("stranger_not_revived_on_reused_slot", &ack, PICFW_R_NO_MATCH);
	DROP("stranger_still_dead", &ack, PICFW_R_NO_MATCH);
	/* A partner's flow of the old row is allowed by the new row: it counts there. */
	PASS_ROW("partner_allowed_by_new_row", &pack, 3);
}

/* A last_seen written by another CPU a tick after this one read the clock. */
static void test_flows_last_seen_in_the_future(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40060, 5061, TH_SYN);
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40060, TH_SYN | TH_ACK);
	struct picfw_flow4_key key = { .remote_port = 5061, .local_port = 40060 };
	struct picfw_flow f;
	struct counters before, after;

	(void)state;
	load_policy(PIC_BODY);
	egress(&syn);
	inet_pton(AF_INET, PARTNER4, key.remote);
	inet_pton(AF_INET, EDGE4, key.local);
	assert_int_equal(bpf_map_lookup_elem(env.maps.fd[MAP_FLOWS_TCP4], &key, &f), 0);
	f.last_seen = flow_clock_ns() + 50000000ULL;
	assert_true(f.last_seen > 50000000ULL);
	assert_int_equal(bpf_map_update_elem(env.maps.fd[MAP_FLOWS_TCP4], &key, &f, BPF_EXIST), 0);
	snapshot(&before);
	PASS_ROW("reply_with_future_last_seen", &synack, 1);
	snapshot(&after);
	assert_int_equal(event(&after, -1, PICFW_EV_FLOW_EXPIRED),
			 event(&before, -1, PICFW_EV_FLOW_EXPIRED));
	assert_int_equal(after.flows, 1);
}

/*
 * A flow comes back with any packet of the Edge's connection that an
 * outbound row allows (an evicted flow, one open before attach); a packet
 * that answers an inbound row opens nothing.
 */
static void test_flows_pickup_from_non_syn(void **state)
{
	struct pkt_spec data_out = tcp(4, EDGE4, PARTNER4, 40070, 5061, TH_ACK | TH_PSH);
	struct pkt_spec data_in = tcp(4, PARTNER4, EDGE4, 5061, 40070, TH_ACK | TH_PSH);
	struct pkt_spec data_out6 = tcp(6, EDGE6, PARTNER6, 40071, 5061, TH_ACK);
	struct pkt_spec data_in6 = tcp(6, PARTNER6, EDGE6, 5061, 40071, TH_ACK);
	/* The Edge's side of a partner's inbound SIP session, from 5061 to its port 55555. */
	struct pkt_spec answer = tcp(4, EDGE4, PARTNER4, 5061, 55555, TH_ACK | TH_PSH);
	struct pkt_spec rst_out = tcp(4, EDGE4, PARTNER4, 40072, 5061, TH_RST | TH_ACK);
	struct pkt_spec fin_out = tcp(4, EDGE4, PARTNER4, 40073, 5061, TH_FIN | TH_ACK);
	struct counters before, after;

	(void)state;
	load_policy(PIC_BODY);
	DROP("data_in_before_pickup", &data_in, PICFW_R_NO_MATCH);
	snapshot(&before);
	egress(&data_out);
	egress(&data_out6);
	egress(&answer);
	egress(&rst_out);
	egress(&fin_out);
	snapshot(&after);
	assert_int_equal(after.flows, 2);
	assert_int_equal(event(&after, -1, PICFW_EV_FLOW_PICKED_UP) -
				 event(&before, -1, PICFW_EV_FLOW_PICKED_UP),
			 2);
	PASS_ROW("data_in_after_pickup", &data_in, 1);
	PASS_ROW("data_in6_after_pickup", &data_in6, 1);
	/* The flow was evicted: the Edge's next packet brings it back. */
	flows_empty(&env.maps);
	DROP("data_in_after_eviction", &data_in, PICFW_R_NO_MATCH);
	egress(&data_out);
	PASS_ROW("data_in_after_second_pickup", &data_in, 1);
}

/*
 * Attach's pickup window: a reply that no flow passes but an outbound row
 * allows (a session the Edge opened before attach, on a router that has no
 * socket of it to seed) opens its flow and passes, counted on that row; not
 * a SYN-ACK, a RST, a packet without ACK, a stranger's or a datagram (which
 * could reach any socket of the Edge's). The window stays
 * across an apply; after it, the flows stay and no new one is picked up.
 */
static void test_flows_pickup_window(void **state)
{
	struct pkt_spec ack_in = tcp(4, PARTNER4, EDGE4, 5061, 40080, TH_ACK | TH_PSH);
	struct pkt_spec ack_in6 = tcp(6, PARTNER6, EDGE6, 5061, 40081, TH_ACK);
	struct pkt_spec stun_in = udp(4, STRANGER4, EDGE4, 3478, 40082);
	struct pkt_spec synack_in = tcp(4, PARTNER4, EDGE4, 5061, 40083, TH_SYN | TH_ACK);
	struct pkt_spec rst_in = tcp(4, PARTNER4, EDGE4, 5061, 40083, TH_RST | TH_ACK);
	struct pkt_spec no_ack_in = tcp(4, PARTNER4, EDGE4, 5061, 40083, TH_PSH);
	struct pkt_spec stranger_in = tcp(4, STRANGER4, EDGE4, 5061, 40083, TH_ACK);
	struct pkt_spec after_apply = tcp(4, PARTNER4, EDGE4, 5061, 40084, TH_ACK);
	struct pkt_spec after_window = tcp(4, PARTNER4, EDGE4, 5061, 40085, TH_ACK);
	struct timespec wait = { 1, 200 * 1000 * 1000 };
	struct counters before, after;

	(void)state;
	load_policy(PIC_BODY);
	DROP("closed", &ack_in, PICFW_R_NO_MATCH);
	assert_int_equal(maps_open_pickup(&env.maps, 60), 0);
	snapshot(&before);
	PASS_ROW("ack_in", &ack_in, 1);
	PASS_ROW("ack_in6", &ack_in6, 1);
	DROP("stun_in", &stun_in, PICFW_R_NO_MATCH);
	DROP("synack_in", &synack_in, PICFW_R_NO_MATCH);
	DROP("rst_in", &rst_in, PICFW_R_NO_MATCH);
	DROP("no_ack_in", &no_ack_in, PICFW_R_NO_MATCH);
	DROP("stranger_in", &stranger_in, PICFW_R_NO_MATCH);
	snapshot(&after);
	assert_int_equal(after.flows - before.flows, 2);
	assert_int_equal(event(&after, -1, PICFW_EV_FLOW_PICKED_UP) -
				 event(&before, -1, PICFW_EV_FLOW_PICKED_UP),
			 2);
	/* The next reply goes through its flow: no new one. */
	PASS_ROW("ack_in_again", &ack_in, 1);
	assert_int_equal(flows_now(), after.flows);
	/* An apply keeps the window. */
	switch_policy(PIC_BODY, NULL);
	PASS_ROW("after_apply", &after_apply, 1);
	/* Past its time: nothing new is picked up; the flows stay. */
	assert_int_equal(maps_open_pickup(&env.maps, 1), 0);
	nanosleep(&wait, NULL);
	DROP("after_window", &after_window, PICFW_R_NO_MATCH);
	PASS_ROW("picked_up_flow_stays", &ack_in, 1);
	PASS_ROW("picked_up_flow6_stays", &ack_in6, 1);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&t, NULL);
}

/*
 * After an RST a flow ends a transitory timeout later: the remote's packets
 * no longer refresh it, whoever keeps sending (a stranger's ACKs to a flow
 * picked up in attach's window, each answered by the Edge's RST, kept it
 * open for good); the Edge's own data after it (its TCP refused the RST as
 * out of window) makes it established again. `timeout tcp-transitory 2`:
 * last_seen is refreshed at most every second.
 */
static void test_flows_rst_ends_the_flow(void **state)
{
	struct pkt_spec syn = tcp(4, EDGE4, PARTNER4, 40090, 5061, TH_SYN);
	struct pkt_spec synack = tcp(4, PARTNER4, EDGE4, 5061, 40090, TH_SYN | TH_ACK);
	struct pkt_spec ack = tcp(4, PARTNER4, EDGE4, 5061, 40090, TH_ACK);
	struct pkt_spec rst = tcp(4, PARTNER4, EDGE4, 5061, 40090, TH_RST | TH_ACK);
	struct pkt_spec syn_b = tcp(4, EDGE4, PARTNER4, 40091, 5061, TH_SYN);
	struct pkt_spec synack_b = tcp(4, PARTNER4, EDGE4, 5061, 40091, TH_SYN | TH_ACK);
	struct pkt_spec rst_b = tcp(4, PARTNER4, EDGE4, 5061, 40091, TH_RST);
	struct pkt_spec edge_data_b = tcp(4, EDGE4, PARTNER4, 40091, 5061, TH_ACK | TH_PSH);
	struct pkt_spec ack_b = tcp(4, PARTNER4, EDGE4, 5061, 40091, TH_ACK);
	struct pkt_spec probe = tcp(4, PARTNER4, EDGE4, 5061, 40092, TH_ACK);
	struct pkt_spec edge_rst = tcp(4, EDGE4, PARTNER4, 40092, 5061, TH_RST);
	char tag[32];
	int i;

	(void)state;
	load_policy("timeout tcp-transitory 2\ntimeout tcp 30\n" PIC_BODY);
	/* a: established, then the partner's RST; its ACKs go on, 0.6 s apart. */
	egress(&syn);
	PASS_ROW("a_synack", &synack, 1);
	sleep_ms(1100);
	PASS_ROW("a_established", &ack, 1);
	PASS_ROW("a_rst", &rst, 1);
	for (i = 0; i < 3; i++) {
		sleep_ms(600);
		snprintf(tag, sizeof(tag), "a_after_rst_%d", i);
		PASS_ROW(tag, &ack, 1);
	}
	sleep_ms(700);
	DROP("a_ended_2s_after_rst", &ack, PICFW_R_NO_MATCH);

	/* b: the Edge sends data after the RST: its connection lives on. */
	egress(&syn_b);
	PASS_ROW("b_synack", &synack_b, 1);
	PASS_ROW("b_rst", &rst_b, 1);
	egress(&edge_data_b);
	sleep_ms(2500);
	PASS_ROW("b_established_again", &ack_b, 1);

	/*
	 * c: picked up in attach's window (1 s), answered by the Edge's RSTs,
	 * probed on past the window's end.
	 */
	assert_int_equal(maps_open_pickup(&env.maps, 1), 0);
	PASS_ROW("c_picked_up", &probe, 1);
	egress(&edge_rst);
	for (i = 0; i < 3; i++) {
		sleep_ms(600);
		snprintf(tag, sizeof(tag), "c_probe_%d", i);
		PASS_ROW(tag, &probe, 1);
		egress(&edge_rst);
	}
	sleep_ms(700);
	DROP("c_ended_2s_after_rst", &probe, PICFW_R_NO_MATCH);
}

/*
 * The hint slot of an IPv6 flow's key, as hint_of() in bpf/picfw.bpf.c
 * hashes it: the XOR of the key's words, folded.
 */
static uint32_t hint_slot6(const char *remote, const char *local, uint16_t rport,
			   uint16_t lport)
{
	struct picfw_flow6_key k = { .remote_port = rport, .local_port = lport };
	uint32_t w[sizeof(k) / 4], h = 0;
	size_t i;

	assert_int_equal(inet_pton(AF_INET6, remote, k.remote), 1);
	assert_int_equal(inet_pton(AF_INET6, local, k.local), 1);
	memcpy(w, &k, sizeof(k));
	for (i = 0; i < sizeof(k) / 4; i++)
		h ^= w[i];
	h ^= h >> 16;
	h ^= h >> 8;
	return h & (PICFW_HINTS - 1);
}

/* The slot holding a hint on any CPU (the test runs on one), or -1. */
static int hint_slot_in_use(void)
{
	int ncpus = libbpf_num_possible_cpus(), found = -1, c;
	struct picfw_reply_hint *v = calloc((size_t)ncpus, sizeof(*v));
	uint32_t i;

	assert_non_null(v);
	for (i = 0; i < PICFW_HINTS; i++) {
		assert_int_equal(bpf_map_lookup_elem(env.maps.fd[MAP_REPLY_HINTS], &i, v), 0);
		for (c = 0; c < ncpus; c++)
			if (v[c].epoch)
				found = (int)i;
	}
	free(v);
	return found;
}

/*
 * Reply hints (struct picfw_reply_hint): a busy flow's replies pass on this
 * CPU's hint without the table, for the same whole key only, and for at
 * most PICFW_HINT_NS once the flow is gone (as after an LRU eviction).
 */
static void test_flows_reply_hints(void **state)
{
	struct pkt_spec out6 = udp(6, EDGE6, PARTNER6, 50010, 3478);
	struct pkt_spec reply6 = udp(6, PARTNER6, EDGE6, 3478, 50010);
	/* A partner whose flow key differs from reply6's in its last word only, on the same slot. */
	char twin[INET6_ADDRSTRLEN];
	struct pkt_spec twin6;
	unsigned x;
	struct pkt_spec data_out = tcp(4, EDGE4, PARTNER4, 40080, 5061, TH_ACK | TH_PSH);
	struct pkt_spec data_in = tcp(4, PARTNER4, EDGE4, 5061, 40080, TH_ACK | TH_PSH);
	struct pkt_spec rst_in = tcp(4, PARTNER4, EDGE4, 5061, 40080, TH_RST | TH_ACK);
	struct counters before, after;

	(void)state;
	for (x = 1; x < 65536; x++) {
		snprintf(twin, sizeof(twin), "2001:db8:100::%x:7", x);
		if (hint_slot6(twin, EDGE6, 3478, 50010) == hint_slot6(PARTNER6, EDGE6, 3478, 50010))
			break;
	}
	assert_true(x < 65536);
	twin6 = udp(6, twin, EDGE6, 3478, 50010);
	load_policy(PIC_BODY);
	assert_int_equal(hint_slot_in_use(), -1);
	egress(&out6);
	PASS_ROW("reply6_makes_its_hint", &reply6, 4);
	/* Where this test looks for it: the program hashes as hint_slot6() does. */
	assert_int_equal(hint_slot_in_use(), (int)hint_slot6(PARTNER6, EDGE6, 3478, 50010));
	PASS_ROW("reply6_on_its_hint", &reply6, 4);
	/* Same slot, every word but one the same: the key is compared whole. */
	DROP("twin6_not_on_the_hint", &twin6, PICFW_R_NO_MATCH);
	egress(&data_out);
	PASS_ROW("data_in_makes_its_hint", &data_in, 1);
	/* The flows vanish, the hints stay: replies pass on them, counted on their row. */
	flows_empty_keep_hints(&env.maps);
	snapshot(&before);
	PASS_ROW("data_in_on_the_hint_of_an_evicted_flow", &data_in, 1);
	PASS_ROW("reply6_on_the_hint_of_an_evicted_flow", &reply6, 4);
	snapshot(&after);
	assert_int_equal(after.rows[1].packets - before.rows[1].packets, 1);
	/* A RST is never carried by a hint: it goes to the table, where nothing is. */
	DROP("rst_not_on_the_hint", &rst_in, PICFW_R_NO_MATCH);
	/* At most PICFW_HINT_NS later the hints are no longer trusted. */
	usleep((useconds_t)(PICFW_HINT_NS / 1000 + 200000));
	DROP("data_in_after_the_hint", &data_in, PICFW_R_NO_MATCH);
	DROP("reply6_after_the_hint", &reply6, PICFW_R_NO_MATCH);
}

/* A flow seeded from a socket carries epoch 0: matched at its first reply. */
static void test_flows_seeded_matched_on_first_reply(void **state)
{
	struct pkt_spec data_in = tcp(4, PARTNER4, EDGE4, 5061, 40080, TH_ACK);
	struct pkt_spec stranger_in = tcp(4, STRANGER4, EDGE4, 5061, 40081, TH_ACK);
	struct flow_entry e = { .family = 4, .proto = IPPROTO_TCP, .remote_port = 5061,
				.local_port = 40080 };

	(void)state;
	load_policy(PIC_BODY);
	inet_pton(AF_INET, PARTNER4, e.remote);
	inet_pton(AF_INET, EDGE4, e.local);
	e.flow.tcp_state = PICFW_TCP_ESTABLISHED;
	e.flow.origin = PICFW_ORIGIN_SEEDED;
	e.flow.binding = picfw_flow_binding(0, 0);
	e.flow.created = e.flow.last_seen = flow_clock_ns();
	assert_true(e.flow.created != 0);
	assert_int_equal(maps_add_flow(&env.maps, &e), 0);
	assert_int_equal(maps_add_flow(&env.maps, &e), -EEXIST);
	/* A stranger's socket on 5061: no outbound row allows it, whatever the binding says. */
	inet_pton(AF_INET, STRANGER4, e.remote);
	e.local_port = 40081;
	assert_int_equal(maps_add_flow(&env.maps, &e), 0);
	PASS_ROW("seeded_partner_reply", &data_in, 1);
	DROP("seeded_stranger_reply", &stranger_in, PICFW_R_NO_MATCH);
}

/* Later fragments follow their first fragment's verdict and row. */
static void test_flows_fragments_follow_the_first(void **state)
{
	struct pkt_spec first = udp(4, STRANGER4, EDGE4, 40000, 3478);
	struct pkt_spec later = { .family = 4, .src = STRANGER4, .dst = EDGE4, .proto = IPPROTO_UDP,
				  .no_l4 = 1, .frag_offset = 185, .payload_len = 100 };
	struct pkt_spec orphan = later;
	struct pkt_spec closed_first = udp(4, STRANGER4, EDGE4, 40000, 9999);
	struct pkt_spec closed_later = later;
	struct pkt_spec first6 = udp(6, STRANGER6, EDGE6, 40000, 3478);
	struct pkt_spec later6 = { .family = 6, .src = STRANGER6, .dst = EDGE6, .proto = IPPROTO_UDP,
				   .no_l4 = 1, PKT_EXT(IPPROTO_FRAGMENT), .frag_offset = 181,
				   .payload_len = 100 };
	struct pkt_spec reply_first = udp(4, STRANGER4, EDGE4, 3478, 50000);
	struct pkt_spec reply_later = later;
	struct pkt_spec out = udp(4, EDGE4, STRANGER4, 50000, 3478);

	(void)state;
	load_policy(PIC_BODY);
	first.more_frags = 1;
	first.payload_len = 1472;
	first.frag_id = 0x1111;
	later.frag_id = 0x1111;
	PASS_ROW("first_fragment_inbound", &first, 5);
	PASS_ROW("later_fragment_follows", &later, 5);
	later.more_frags = 1;
	PASS_ROW("middle_fragment_follows", &later, 5);
	orphan.frag_id = 0x2222;
	DROP("orphan_later_fragment", &orphan, PICFW_R_FRAGMENT);
	closed_first.more_frags = 1;
	closed_first.frag_id = 0x3333;
	closed_later.frag_id = 0x3333;
	DROP("first_fragment_closed_port", &closed_first, PICFW_R_NO_MATCH);
	DROP("later_fragment_of_dropped", &closed_later, PICFW_R_FRAGMENT);
	/* Another source with the same identification is another datagram. */
	later.src = PARTNER4;
	DROP("same_id_other_source", &later, PICFW_R_FRAGMENT);

	first6.more_frags = 1;
	first6.n_ext = 1;
	first6.ext[0] = IPPROTO_FRAGMENT;
	first6.frag_id = 0x44444444;
	later6.frag_id = 0x44444444;
	PASS_ROW("first_fragment_v6", &first6, 5);
	PASS_ROW("later_fragment_v6_follows", &later6, 5);
	later6.frag_id = 0x55555555;
	DROP("orphan_later_fragment_v6", &later6, PICFW_R_FRAGMENT);
	/*
	 * Destination options after the fragment header (RFC 8200: part of the
	 * fragmentable part): later fragments name those options, not UDP.
	 */
	first6.n_ext = 2;
	first6.ext[1] = IPPROTO_DSTOPTS;
	first6.frag_id = 0x66666666;
	later6.frag_id = 0x66666666;
	later6.proto = IPPROTO_DSTOPTS;
	PASS_ROW("first_fragment_v6_dstopts", &first6, 5);
	PASS_ROW("later_fragment_v6_dstopts_follows", &later6, 5);

	/* The fragmented reply of a tracked flow: its tail counts on the outbound row. */
	egress(&out);
	reply_first.more_frags = 1;
	reply_first.frag_id = 0x6666;
	reply_later.frag_id = 0x6666;
	reply_later.src = STRANGER4;
	PASS_ROW("first_fragment_tracked_reply", &reply_first, 4);
	PASS_ROW("later_fragment_tracked_reply", &reply_later, 4);
}

/* `unprotected drop`: the Edge's host, every address of it guarded. */
static void test_flows_unprotected_drop(void **state)
{
	struct pkt_spec other = udp(4, STRANGER4, "203.0.113.99", 40000, 3478);
	struct pkt_spec other6 = tcp(6, STRANGER6, "2001:db8:e::99", 40000, 443, TH_SYN);
	struct pkt_spec mcast = udp(4, STRANGER4, "224.0.0.251", 5353, 5353);
	struct pkt_spec bcast = udp(4, "0.0.0.0", "255.255.255.255", 68, 67);
	struct pkt_spec l2bcast = udp(4, STRANGER4, "203.0.113.255", 40000, 137);
	struct pkt_spec ll4 = udp(4, "169.254.1.1", "169.254.1.2", 40000, 5000);
	struct pkt_spec ll6 = udp(6, "fe80::1", "fe80::2", 40000, 5000);
	struct pkt_spec mcast6 = udp(6, "fe80::1", "ff02::fb", 5353, 5353);
	struct pkt_spec ns = { .family = 6, .src = "fe80::1", .dst = "2001:db8:e::99",
			       .proto = IPPROTO_ICMPV6, .icmp_type = 135, .ttl = 255,
			       .payload_len = 16 };
	struct pkt_spec edge = tcp(4, STRANGER4, EDGE4, 40000, 443, TH_SYN);

	(void)state;
	l2bcast.eth_broadcast = 1;
	load_policy(PIC_BODY);
	ingress("default_unicast_passes", &other, XDP_PASS, -1, PICFW_R_UNPROTECTED);
	ingress("default_unicast6_passes", &other6, XDP_PASS, -1, PICFW_R_UNPROTECTED);
	ingress("default_multicast_unprotected", &mcast, XDP_PASS, -1, PICFW_R_UNPROTECTED);

	load_policy("unprotected drop\n" PIC_BODY);
	DROP("drop_unicast", &other, PICFW_R_UNPROTECTED);
	DROP("drop_unicast6", &other6, PICFW_R_UNPROTECTED);
	ingress("drop_multicast_passes", &mcast, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_broadcast_passes", &bcast, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_l2_broadcast_passes", &l2bcast, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_link_local4_passes", &ll4, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_link_local6_passes", &ll6, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_multicast6_passes", &mcast6, XDP_PASS, -1, PICFW_R_LOCAL_SCOPE);
	ingress("drop_nd_to_unicast_passes", &ns, XDP_PASS, -1, PICFW_R_ICMP_ESSENTIAL);
	PASS_ROW("drop_protected_still_filtered", &edge, 2);

	load_policy("unprotected drop\nmode audit\n" PIC_BODY);
	ingress("audit_unicast_would_drop", &other, XDP_PASS, -1,
		PICFW_REASONS + PICFW_R_UNPROTECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_tcp_reply_needs_the_edges_syn),
		cmocka_unit_test(test_flows_tcp_reply_twins_dropped),
		cmocka_unit_test(test_flows_egress_not_under_an_outbound_row),
		cmocka_unit_test(test_flows_udp_stun_reply),
		cmocka_unit_test(test_flows_stranger_from_3478_and_5061),
		cmocka_unit_test(test_flows_answers_to_inbound_open_no_flow),
		cmocka_unit_test(test_flows_answer_datagrams_skip_the_table),
		cmocka_unit_test(test_flows_ipv6_tcp),
		cmocka_unit_test(test_flows_udp_expiry),
		cmocka_unit_test(test_flows_tcp_transitory_and_established),
		cmocka_unit_test(test_flows_row_removed_by_update),
		cmocka_unit_test(test_flows_icmp_errors),
		cmocka_unit_test(test_flows_flood_evicts_only_its_table),
		cmocka_unit_test(test_flows_rename_keeps_replies),
		cmocka_unit_test(test_flows_removed_row_not_revived_by_slot_reuse),
		cmocka_unit_test(test_flows_last_seen_in_the_future),
		cmocka_unit_test(test_flows_short_timeout_kept_alive),
		cmocka_unit_test(test_flows_reply_hints),
		cmocka_unit_test(test_flows_pickup_from_non_syn),
		cmocka_unit_test(test_flows_pickup_window),
		cmocka_unit_test(test_flows_rst_ends_the_flow),
		cmocka_unit_test(test_flows_seeded_matched_on_first_reply),
		cmocka_unit_test(test_flows_fragments_follow_the_first),
		cmocka_unit_test(test_flows_unprotected_drop),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	libbpf_set_print(test_libbpf_print);
	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_flows # SKIP needs root to load BPF programs\n");
		return 0;
	}
	return cmocka_run_group_tests_name("flows", tests, group_setup, group_teardown);
}
