// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_edge_tables.c - Microsoft's Edge tables shipped in etc/edge/, through
 * the real XDP program (BPF_PROG_TEST_RUN), a hit and a miss for every row.
 *
 * Each shipped policy is loaded as `picfw check` loads it (load_policy():
 * the trust check, the parse, the compile), then compiled with stateless
 * replies (source port in the row's ports, TCP with ACK) so that an outbound
 * row's replies can be judged one packet at a time, and written into the
 * inactive generation and activated. For every row, IPv4 and IPv6, and every
 * protected address of that family:
 *  - at the row's lowest and highest port: an inbound row's packet from a
 *    remote address of its Source to the port (TCP SYN, or UDP); an
 *    outbound row's reply from its Destination's port to an ephemeral port
 *    (TCP SYN+ACK, or UDP). To an address of the row's local side (the
 *    service Microsoft names: Access, Web Conferencing or A/V Edge): a hit,
 *    XDP_PASS, counted on that row (or an earlier row that takes the same
 *    packet). To the Edge's other addresses: what the policy's rows say,
 *    matched here in userspace (policy_row_allows), a drop when none takes
 *    it: the port is not open on the other services' addresses;
 *  - a miss just outside the row's ports (the nearest port no row of that
 *    transport covers): XDP_DROP, no_match.
 * And a table of cases written out by hand (`per_service` below), so that a
 * userspace matcher that ignored the local side could not hide a data path
 * that did too.
 * Every check also asserts that no other counter moved. Each row is one TAP
 * line, "ok N - test_edge_<file>_<row>"; a failed check prints
 * "# <tag>: what differed".
 *
 * lync2013-edge.policy ships its inbound RTP rows (OCS 2007 federation)
 * commented out; the test also runs it with them uncommented.
 *
 * Needs root (CAP_BPF and CAP_NET_ADMIN): without, every test is a SKIP.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "picfw.h"
#include "policy.h"
#include "policy_file.h"
#include "policy_match.h"
#include "compile.h"
#include "maps.h"
#include "attach.h"
#include "picfw.skel.h"
#include "packets.h"

#define EPHEMERAL 40000 /* the remote (inbound) or the Edge's (replies) own port */

/* The shipped policies, by file name; a file in etc/edge/ not named here fails the run. */
static const char *const shipped[] = {
    "lync2013-edge.policy",
    "sfb2015-2019-edge.policy",
    "federation.policy",
    "xmpp-federation.policy",
};
#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))
#define NPOLICIES (NSHIPPED + 1) /* and lync2013-edge.policy with its inbound RTP rows */

/*
 * Microsoft's table says which service's address a port is open on: TCP
 * packets from a remote (SYN, or SYN+ACK for a reply of the Edge's flow) to
 * each of lync2013-edge.policy's addresses, and the row that counts them
 * (NULL: dropped, no_match).
 */
static const struct {
	const char *edge;
	uint16_t sport, dport;
	int syn_ack;
	const char *row;
} per_service[] = {
    {"203.0.113.10", EPHEMERAL, 5061, 0, "access-sip-mtls-tcp-5061-in"},
    {"203.0.113.11", EPHEMERAL, 5061, 0, NULL},
    {"2001:db8:e::12", EPHEMERAL, 5061, 0, NULL},
    {"203.0.113.10", EPHEMERAL, 443, 0, "access-sip-tls-tcp-443-in"},
    {"2001:db8:e::11", EPHEMERAL, 443, 0, "web-conferencing-psom-tls-tcp-443-in"},
    {"203.0.113.12", EPHEMERAL, 443, 0, "a-v-stun-msturn-tcp-443-in"},
    {"203.0.113.10", EPHEMERAL, 5269, 0, "access-xmpp-tcp-5269-in"},
    {"2001:db8:e::12", EPHEMERAL, 5269, 0, NULL},
    /* Replies of flows the Edge opens: to the service that opens them only. */
    {"203.0.113.12", 50000, EPHEMERAL, 1, "a-v-rtp-tcp-50000-59999-out"},
    {"203.0.113.10", 50000, EPHEMERAL, 1, NULL},
    {"2001:db8:e::10", 80, EPHEMERAL, 1, "access-http-tcp-80-out"},
    {"2001:db8:e::12", 80, EPHEMERAL, 1, NULL},
};
#define NPER_SERVICE (sizeof(per_service) / sizeof(per_service[0]))

static struct {
	struct picfw_bpf *skel;
	struct picfw_maps maps;
	int prog_fd;
	char label[NPOLICIES][64];
	struct policy pol[NPOLICIES];
	struct policy_image img[NPOLICIES];
	int loaded;
	uint32_t active;
	char tmp_dir[64], tmp_file[128];
} env = {.loaded = -1};

/* One row's test: policy and row index. */
struct row_case {
	unsigned policy, row;
};

struct counters {
	struct picfw_counter rows[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
};

static void note(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(const char *tag, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int use_policy(unsigned id)
{
	const struct policy_image *img = &env.img[id];
	struct picfw_gen_cfg cfg = img->cfg;
	uint32_t slots[PICFW_MAX_ROWS], gen = env.loaded < 0 ? 0 : env.active ^ 1, i;
	int err;

	if (env.loaded == (int)id)
		return 0;
	for (i = 0; i < img->nrows; i++)
		slots[i] = i;
	err = maps_write_generation(&env.maps, gen, img, slots);
	if (!err)
		err = maps_activate(&env.maps, gen, &cfg);
	if (err) {
		note(env.label[id], "writing generation %u: %s", gen, strerror(-err));
		return err;
	}
	env.active = gen;
	env.loaded = (int)id;
	return 0;
}

/* The row named name in policy id, or -1. */
static int row_index(unsigned id, const char *name)
{
	size_t i;

	for (i = 0; i < env.pol[id].nrows; i++)
		if (!strcmp(env.pol[id].rows[i].name, name))
			return (int)i;
	return -1;
}

/*
 * The row that takes a packet from remote:sport to the Edge's address
 * edge:dport as the policy reads (compiled with stateless replies): the
 * first row in file order that is inbound and allows it by its destination
 * port, or outbound and allows it as a reply by its source port (UDP, or TCP
 * with ACK). -1: none, a drop.
 */
static int expected_row(unsigned id, uint8_t family, const char *edge, const char *remote,
			unsigned transport, uint16_t sport, uint16_t dport, int reply_like)
{
	const struct policy *p = &env.pol[id];
	uint8_t local[16] = {0}, peer[16] = {0};
	size_t i;

	if (inet_pton(family == 4 ? AF_INET : AF_INET6, edge, local) != 1 ||
	    inet_pton(family == 4 ? AF_INET : AF_INET6, remote, peer) != 1)
		return -2;
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		if (r->direction == PICFW_DIR_IN &&
		    policy_row_allows(p, r, family, (uint8_t)transport, local, peer, dport))
			return (int)i;
		if (r->direction == PICFW_DIR_OUT && reply_like &&
		    policy_row_allows(p, r, family, (uint8_t)transport, local, peer, sport))
			return (int)i;
	}
	return -1;
}

/* Does a row of this transport name port (either direction)? */
static int port_covered(unsigned id, unsigned transport, unsigned port)
{
	size_t i;

	for (i = 0; i < env.pol[id].nrows; i++) {
		const struct row *r = &env.pol[id].rows[i];

		if (r->transport == transport && port >= r->port_lo && port <= r->port_hi)
			return 1;
	}
	return port == EPHEMERAL;
}

/* The nearest port outside row r that no row of its transport names; 0 if none. */
static unsigned miss_port(unsigned id, const struct row *r)
{
	unsigned p;

	for (p = r->port_hi + 1u; p <= 65535; p++)
		if (!port_covered(id, r->transport, p))
			return p;
	for (p = r->port_lo - 1u; p >= 1; p--)
		if (!port_covered(id, r->transport, p))
			return p;
	return 0;
}

/* An address of set s in this family, as text: its first prefix's, host 7 in it. */
static int remote_addr(const struct addr_set *s, uint8_t family, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < s->nprefixes; i++) {
		struct prefix p = s->prefixes[i];

		if (p.family != family)
			continue;
		if (p.len == 0) {
			snprintf(buf, len, "%s", family == 4 ? "192.0.2.66" : "2001:db8:bad::66");
			return 0;
		}
		if (p.len <= (family == 4 ? 24 : 120))
			p.addr[family == 4 ? 3 : 15] |= 7;
		p.len = family == 4 ? 32 : 128;
		prefix_format(&p, buf, len);
		return 0;
	}
	return -1;
}

static int read_counters(struct counters *c)
{
	return maps_read_counters(&env.maps, c->rows, c->reasons);
}

/*
 * One frame: its verdict, and exactly one counter moved by one packet and the
 * frame's bytes: row `row`, or reason no_match when row < 0.
 */
static int run_check(const char *tag, const struct pkt_spec *spec, int want_verdict, int row)
{
	static struct counters before, after;
	uint8_t frame[PKT_MAX];
	char err[256];
	int len, fails = 0;
	unsigned i;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

	len = pkt_build(spec, frame, sizeof(frame), err, sizeof(err));
	if (len < 0) {
		note(tag, "building the packet: %s", err);
		return 1;
	}
	opts.data_in = frame;
	opts.data_size_in = (__u32)len;
	if (read_counters(&before) || bpf_prog_test_run_opts(env.prog_fd, &opts) ||
	    read_counters(&after)) {
		note(tag, "BPF_PROG_TEST_RUN or a counter read failed");
		return 1;
	}
	if ((int)opts.retval != want_verdict) {
		note(tag, "verdict: expected %s, got %d",
		     want_verdict == XDP_PASS ? "XDP_PASS" : "XDP_DROP", (int)opts.retval);
		fails++;
	}
	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		uint64_t dp = after.rows[i].packets - before.rows[i].packets;
		uint64_t want = row >= 0 && (unsigned)row == i;

		if (dp != want ||
		    after.rows[i].bytes - before.rows[i].bytes != want * (unsigned)len) {
			note(tag, "row %u (%s): expected +%llu packets, got +%llu", i,
			     i < env.img[env.loaded].nrows ? env.img[env.loaded].rows[i].name : "-",
			     (unsigned long long)want, (unsigned long long)dp);
			fails++;
		}
	}
	for (i = 0; i < PICFW_REASON_SLOTS; i++) {
		uint64_t dp = after.reasons[i].packets - before.reasons[i].packets;
		uint64_t want = row < 0 && i == PICFW_R_NO_MATCH;

		if (dp != want) {
			note(tag, "reason slot %u: expected +%llu packets, got +%llu", i,
			     (unsigned long long)want, (unsigned long long)dp);
			fails++;
		}
	}
	return fails;
}

/* A packet of row r between remote and edge with the row's port `port`. */
static void row_packet(const struct row *r, uint8_t family, const char *remote, const char *edge,
		       unsigned port, struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->proto = r->transport == PICFW_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	s->payload_len = 16;
	s->src = remote;
	s->dst = edge;
	if (r->direction == PICFW_DIR_IN) {
		s->sport = EPHEMERAL;
		s->dport = (uint16_t)port;
		s->tcp_flags = TH_SYN;
	} else {
		/* The reply of a flow the Edge opened to remote:port. */
		s->sport = (uint16_t)port;
		s->dport = EPHEMERAL;
		s->tcp_flags = TH_SYN | TH_ACK;
	}
}

/* Row r's packet at port to edge: the check, as expected_row() says; 1 if it failed. */
static int row_port_check(unsigned id, const struct row *r, unsigned row, uint8_t family,
			  const char *remote, const char *edge, unsigned port, int own, int *hits)
{
	struct pkt_spec s;
	char tag[200];
	int want;

	row_packet(r, family, remote, edge, port, &s);
	want = expected_row(id, family, edge, remote, r->transport, s.sport, s.dport,
			    r->transport == PICFW_UDP || (s.tcp_flags & TH_ACK));
	snprintf(tag, sizeof(tag), "%s %s->%s port %u %s", r->name, remote, edge, port,
		 own ? "hit" : "to another service's address");
	/* Its own service's address: this row takes it, or an earlier one does. */
	if (want < -1 || (own && (want < 0 || (unsigned)want > row))) {
		note(tag, "the policy's rows do not take the row's own packet (%d)", want);
		return 1;
	}
	if (want >= 0)
		++*hits;
	return run_check(tag, &s, want >= 0 ? XDP_PASS : XDP_DROP, want);
}

static void test_edge_row(void **state)
{
	const struct row_case *c = *state;
	const struct policy *p = &env.pol[c->policy];
	const struct row *r = &p->rows[c->row];
	const struct addr_set *prot = &p->sets[p->protect];
	int remote_set = row_remote_set(r), local_set = row_local_set(r);
	int fails = 0, hits = 0, misses = 0, own, others = 0;
	unsigned miss = miss_port(c->policy, r);
	uint8_t family;
	size_t k;

	if (use_policy(c->policy))
		fail();
	for (family = 4; family <= 6; family += 2) {
		char remote[PREFIX_TEXT_LEN], edge[PREFIX_TEXT_LEN], tag[160];
		struct pkt_spec s;

		if (remote_addr(&p->sets[remote_set], family, remote, sizeof(remote)))
			continue;
		for (k = 0; k < prot->nprefixes; k++) {
			if (prot->prefixes[k].family != family)
				continue;
			prefix_format(&prot->prefixes[k], edge, sizeof(edge));
			own = policy_set_contains(&p->sets[local_set], family,
						  prot->prefixes[k].addr);
			others += !own;
			fails += row_port_check(c->policy, r, c->row, family, remote, edge,
						r->port_lo, own, &hits);
			fails += row_port_check(c->policy, r, c->row, family, remote, edge,
						r->port_hi, own, &hits);
			if (miss) {
				snprintf(tag, sizeof(tag), "%s %s->%s port %u miss", r->name,
					 remote, edge, miss);
				row_packet(r, family, remote, edge, miss, &s);
				fails += run_check(tag, &s, XDP_DROP, -1);
				misses++;
			}
		}
	}
	if (!hits || !misses) {
		note(r->name, "%d hits, %d misses: each row needs both", hits, misses);
		fails++;
	}
	/* A row of one service in a policy of three: checked on the others' addresses too. */
	if (local_set != p->protect && !others) {
		note(r->name, "no address of the Edge outside its local set was tried");
		fails++;
	}
	if (fails)
		fail();
}

/* Ports open per service address in lync2013-edge.policy: the hand-written table. */
static void test_edge_per_service(void **state)
{
	unsigned id = 0, i, fails = 0;
	uint8_t family;
	int row;

	(void)state;
	if (use_policy(id))
		fail();
	for (i = 0; i < NPER_SERVICE; i++) {
		struct pkt_spec s = {0};
		char tag[160];

		family = strchr(per_service[i].edge, ':') ? 6 : 4;
		s.family = family;
		s.proto = IPPROTO_TCP;
		s.payload_len = 16;
		s.src = family == 4 ? "192.0.2.66" : "2001:db8:bad::66";
		s.dst = per_service[i].edge;
		s.sport = per_service[i].sport;
		s.dport = per_service[i].dport;
		s.tcp_flags = per_service[i].syn_ack ? TH_SYN | TH_ACK : TH_SYN;
		row = per_service[i].row ? row_index(id, per_service[i].row) : -1;
		snprintf(tag, sizeof(tag), "per service: %s:%u -> %s:%u", s.src, s.sport, s.dst,
			 s.dport);
		if (per_service[i].row && row < 0) {
			note(tag, "no row %s in %s", per_service[i].row, env.label[id]);
			fails++;
			continue;
		}
		fails += (unsigned)run_check(tag, &s, row >= 0 ? XDP_PASS : XDP_DROP, row);
	}
	if (fails)
		fail();
}

/* lync2013-edge.policy with its commented inbound RTP rows taken in, as a file of ours. */
static int write_rtp_variant(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *in = fopen(path, "r"), *out;
	int fd, n = 0;

	snprintf(env.tmp_dir, sizeof(env.tmp_dir), "/tmp/picfw-edge-XXXXXX");
	if (!in || !mkdtemp(env.tmp_dir)) {
		if (in)
			fclose(in);
		return -1;
	}
	snprintf(env.tmp_file, sizeof(env.tmp_file), "%s/lync2013-edge-ocs2007.policy",
		 env.tmp_dir);
	fd = open(env.tmp_file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		fclose(in);
		return -1;
	}
	while (getline(&line, &cap, in) > 0) {
		if (!strncmp(line, "# A/V/RTP/", 10)) {
			fputs(line + 2, out);
			n++;
		} else {
			fputs(line, out);
		}
	}
	free(line);
	fclose(in);
	fclose(out);
	return n == 2 ? 0 : -1;
}

/* Every file in etc/edge/ is one the test knows. */
static int all_shipped_known(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int bad = 0;
	size_t i;

	if (!d) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		for (i = 0; i < NSHIPPED; i++)
			if (!strcmp(e->d_name, shipped[i]))
				break;
		if (i == NSHIPPED) {
			printf("Bail out! %s/%s is shipped but not tested here\n", dir, e->d_name);
			bad = 1;
		}
	}
	closedir(d);
	return bad ? -1 : 0;
}

static int load_policies(void)
{
	const char *srcdir = getenv("PICFW_SRCDIR");
	char dir[4096], path[4200], err[256];
	unsigned id;

	snprintf(dir, sizeof(dir), "%s/etc/edge", srcdir && *srcdir ? srcdir : ".");
	if (all_shipped_known(dir))
		return -1;
	for (id = 0; id < NPOLICIES; id++) {
		if (id < NSHIPPED) {
			snprintf(path, sizeof(path), "%s/%s", dir, shipped[id]);
			snprintf(env.label[id], sizeof(env.label[id]), "%.*s",
				 (int)(strlen(shipped[id]) - strlen(".policy")), shipped[id]);
		} else {
			snprintf(path, sizeof(path), "%s/%s", dir, shipped[0]);
			if (write_rtp_variant(path)) {
				printf("Bail out! could not write %s from %s with its two inbound "
				       "RTP rows uncommented\n",
				       env.tmp_file, path);
				return -1;
			}
			snprintf(path, sizeof(path), "%s", env.tmp_file);
			snprintf(env.label[id], sizeof(env.label[id]), "lync2013-edge-ocs2007");
		}
		/* What `picfw check` does: its errors, if any, printed. */
		if (load_policy("check", path, NULL, &env.pol[id], &env.img[id])) {
			printf("Bail out! %s does not pass picfw check\n", path);
			return -1;
		}
		image_free(&env.img[id]);
		env.pol[id].replies = PICFW_REPLIES_STATELESS;
		if (compile_policy(&env.pol[id], &env.img[id], err, sizeof(err))) {
			printf("Bail out! %s: %s\n", path, err);
			return -1;
		}
	}
	/* The variant holds the two rows the shipped file leaves out. */
	if (env.pol[NSHIPPED].nrows != env.pol[0].nrows + 2 ||
	    row_index(NSHIPPED, "a-v-rtp-udp-50000-59999-in") < 0 ||
	    row_index(NSHIPPED, "a-v-rtp-tcp-50000-59999-in") < 0) {
		printf("Bail out! the inbound RTP rows of lync2013-edge.policy did not come in\n");
		return -1;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fprintf(stderr, "# ");
	return vfprintf(stderr, fmt, ap);
}

static void cleanup_tmp(void)
{
	if (env.tmp_file[0])
		unlink(env.tmp_file);
	if (env.tmp_dir[0])
		rmdir(env.tmp_dir);
}

int main(void)
{
	struct CMUnitTest *tests;
	struct row_case *cases;
	int err, ret;
	size_t n = 0, i, k;
	unsigned id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	if (load_policies()) {
		cleanup_tmp();
		return 1;
	}
	for (id = 0; id < NPOLICIES; id++)
		n += env.pol[id].nrows;
	n++; /* test_edge_per_service */
	tests = calloc(n, sizeof(*tests));
	cases = calloc(n, sizeof(*cases));
	if (!tests || !cases)
		return 1;
	for (id = 0, k = 0; id < NPOLICIES; id++) {
		for (i = 0; i < env.pol[id].nrows; i++, k++) {
			char *name;

			cases[k].policy = id;
			cases[k].row = (unsigned)i;
			if (asprintf(&name, "test_edge_%s_%s", env.label[id],
				     env.pol[id].rows[i].name) < 0)
				return 1;
			tests[k].name = name;
			tests[k].test_func = test_edge_row;
			tests[k].initial_state = &cases[k];
		}
	}
	tests[k].name = strdup("test_edge_per_service");
	if (!tests[k].name)
		return 1;
	tests[k].test_func = test_edge_per_service;

	env.skel = picfw_bpf__open_and_load();
	if (!env.skel) {
		err = errno;
		cleanup_tmp();
		if (err == EPERM || err == EACCES) {
			printf("1..%zu\n", n);
			for (i = 0; i < n; i++)
				printf(
				    "ok %zu - %s # SKIP cannot load the BPF program (%s): run as "
				    "root\n",
				    i + 1, tests[i].name, strerror(err));
			return 0;
		}
		printf("Bail out! loading the BPF program failed: %s\n", strerror(err));
		return 1;
	}
	env.prog_fd = bpf_program__fd(env.skel->progs.picfw_xdp);
	err = maps_from_skel(env.skel, &env.maps);
	if (err) {
		printf("Bail out! the program's maps: %s\n", strerror(-err));
		picfw_bpf__destroy(env.skel);
		cleanup_tmp();
		return 1;
	}

	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = _cmocka_run_group_tests("edge_tables", tests, n, NULL, NULL);

	maps_close(&env.maps);
	picfw_bpf__destroy(env.skel);
	for (id = 0; id < NPOLICIES; id++) {
		image_free(&env.img[id]);
		policy_free(&env.pol[id]);
	}
	for (i = 0; i < n; i++)
		free((char *)tests[i].name);
	free(tests);
	free(cases);
	cleanup_tmp();
	return ret ? 1 : 0;
}
