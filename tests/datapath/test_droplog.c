// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_droplog.c - the drop log's sampling in the XDP program, through
 * BPF_PROG_TEST_RUN: nothing reaches the ring without a reader's lease (nor
 * with one that ran out), a drop under a lease gives one record with the
 * packet's fields and first bytes, passes give none, audit mode's would-drops
 * are marked, every record carries the epoch of the generation that judged
 * it (a new one after an apply), and the per-CPU rate limit caps samples and
 * counts the rest. Then what `picfw log` makes of the epoch
 * (droplog_nearest_find): the nearest row from the copy of the policy of
 * that epoch, loaded again after an apply, and nothing (never a row of
 * another policy) for a record of an earlier epoch, for a copy that is not
 * the policy the generation holds, or for an epoch no copy matches. The
 * copies go to /run/picfw under an interface name no interface has
 * (xlogNNNN), removed at the end.
 *
 * The process stays on one CPU, so the per-CPU rate limit is one budget.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "clock.h"
#include "compile.h"
#include "droplog.h"
#include "maps.h"
#include "packets.h"
#include "picfw.skel.h"
#include "policy.h"
#include "policy_copy.h"

#define EDGE4 "203.0.113.10"
#define EDGE6 "2001:db8:e::10"
#define PARTNER4 "198.51.100.7"
#define CLIENT4 "192.0.2.66"
#define CLIENT6 "2001:db8:bad::66"

#define POLICY_BODY                                               \
	"set edge = 203.0.113.10, 2001:db8:e::10\n"               \
	"set partners = 198.51.100.0/24, 2001:db8:100::/48\n"     \
	"protect edge\n"                                          \
	"Access/SIP(MTLS)/TCP/5061 partners edge\n"               \
	"Access/SIP(TLS)/TCP/443 any edge\n"

/* cmocka's TAP output drops FAIL()'s text: print it as a TAP diagnostic first. */
#define FAIL(...)                          \
	do {                               \
		printf("# ");              \
		printf(__VA_ARGS__);       \
		printf("\n");              \
		fflush(stdout);            \
		fail();                    \
	} while (0)

#define MAX_RECORDS 64

static struct {
	struct picfw_bpf *skel;
	struct picfw_maps maps;
	struct ring_buffer *rb;
	int xdp_fd;
	uint32_t gen;
	int loaded;
	char ifname[16];     /* the policy copies' name in /run/picfw; "" when none made */
	int run_dir_existed; /* else removed at the end, when empty */
	/* what the last drain found */
	struct picfw_drop_record rec[MAX_RECORDS];
	int nrec;
} env;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size != sizeof(struct picfw_drop_record))
		return -EINVAL;
	if (env.nrec < MAX_RECORDS)
		memcpy(&env.rec[env.nrec], data, size);
	env.nrec++;
	return 0;
}

/* Read what the ring holds now into env.rec; returns how many. */
static int drain(void)
{
	env.nrec = 0;
	assert_true(ring_buffer__consume(env.rb) >= 0);
	return env.nrec;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The lease's clock, the program's: the tick count (flow_clock_ns). */
static uint64_t lease_clock(void)
{
	uint64_t now = flow_clock_ns();

	assert_true(now != 0);
	return now;
}

static void set_lease(uint64_t until, uint32_t rate)
{
	struct picfw_droplog_ctl c = { .lease_until = until, .rate = rate, .pid = 1 };
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(env.maps.fd[MAP_DROPLOG_CTL], &zero, &c, BPF_ANY), 0);
}

static uint64_t lease(void)
{
	struct picfw_droplog_ctl c;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(env.maps.fd[MAP_DROPLOG_CTL], &zero, &c), 0);
	return c.lease_until;
}

/* The active generation's epoch, as picfw_ctl holds it. */
static uint32_t active_epoch(void)
{
	struct picfw_ctl ctl;

	assert_int_equal(maps_read_ctl(&env.maps, &ctl), 0);
	return ctl.gen[ctl.active & 1].epoch;
}

/* A fresh rate-limit window and no losses on every CPU. */
static void reset_cpu_state(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct picfw_droplog_cpu *z = calloc((size_t)ncpu, sizeof(*z));
	uint32_t zero = 0;

	assert_non_null(z);
	assert_int_equal(bpf_map_update_elem(env.maps.fd[MAP_DROPLOG_CPU], &zero, z, BPF_ANY), 0);
	free(z);
}

/* How load_policy_as() leaves what `picfw log` reads beside the generation. */
enum publish {
	PUBLISH_NONE,    /* neither copy nor digest (the tests of the record alone) */
	PUBLISH_COPY,    /* as apply does: the copy in /run/picfw, the digest in picfw_meta */
	PUBLISH_NO_COPY, /* the digest only: the copy is whatever was there (a failed save) */
};

static void load_policy_as(const char *text, enum publish how)
{
	struct policy_errors errs = { 0 };
	struct policy_image img;
	uint32_t slots[PICFW_MAX_ROWS], i, gen = env.gen ^ 1;
	struct picfw_meta meta = { 0 };
	uint64_t digest;
	struct policy p;
	char err[256];

	if (policy_parse("droplog.policy", text, strlen(text), &p, &errs)) {
		policy_errors_print(stderr, "droplog.policy", &errs);
		FAIL("policy does not parse");
	}
	policy_errors_free(&errs);
	if (compile_policy(&p, &img, err, sizeof(err)))
		FAIL("policy does not compile: %s", err);
	for (i = 0; i < img.nrows; i++)
		slots[i] = i;
	if (how != PUBLISH_NONE) {
		digest = image_digest(&img);
		memcpy(meta.digest, &digest, sizeof(digest));
		meta.nrows = img.nrows;
		assert_int_equal(maps_write_meta(&env.maps, gen, &meta), 0);
	}
	if (how == PUBLISH_COPY)
		assert_int_equal(policy_copy_save(env.ifname, gen, &p), 0);
	assert_int_equal(maps_write_generation(&env.maps, gen, &img, slots), 0);
	assert_int_equal(maps_activate(&env.maps, gen, &img.cfg), 0);
	env.gen = gen;
	image_free(&img);
	policy_free(&p);
}

static void load_policy(const char *text)
{
	load_policy_as(text, PUBLISH_NONE);
}

static int setup(void **state)
{
	(void)state;
	if (!env.loaded)
		skip();
	load_policy(POLICY_BODY);
	set_lease(0, PICFW_DROPLOG_DEFAULT_RATE);
	reset_cpu_state();
	drain();
	return 0;
}

static int group_setup(void **state)
{
	cpu_set_t one;
	int cpu = sched_getcpu();
	struct stat st;

	(void)state;
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		printf("# sched_setaffinity: %s\n", strerror(errno));
	env.skel = picfw_bpf__open_and_load();
	if (!env.skel) {
		printf("# picfw.bpf.o does not load (the verifier log is above)\n");
		return -1;
	}
	if (maps_from_skel(env.skel, &env.maps))
		return -1;
	env.rb = ring_buffer__new(env.maps.fd[MAP_DROPLOG], on_record, NULL, NULL);
	if (!env.rb)
		return -1;
	env.xdp_fd = bpf_program__fd(env.skel->progs.picfw_xdp);
	env.gen = 1;
	env.loaded = 1;
	env.run_dir_existed = !stat(PICFW_RUN_DIR, &st);
	snprintf(env.ifname, sizeof(env.ifname), "xlog%d", (int)getpid());
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (env.ifname[0]) {
		policy_copy_remove(env.ifname);
		if (!env.run_dir_existed)
			rmdir(PICFW_RUN_DIR); /* only when empty */
	}
	ring_buffer__free(env.rb);
	if (env.loaded)
		maps_close(&env.maps);
	picfw_bpf__destroy(env.skel);
	return 0;
}

/* Run spec through the XDP program `repeat` times; the frame is left in frame (PKT_MAX). */
static int run(const struct pkt_spec *spec, uint32_t repeat, uint32_t verdict, uint8_t *frame)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .repeat = repeat);
	char err[128];
	int len = pkt_build(spec, frame, PKT_MAX, err, sizeof(err));

	if (len < 0)
		FAIL("pkt_build: %s", err);
	opts.data_size_in = (uint32_t)len;
	assert_int_equal(bpf_prog_test_run_opts(env.xdp_fd, &opts), 0);
	if (opts.retval != verdict)
		FAIL("verdict %u, expected %u", opts.retval, verdict);
	return len;
}

static const struct pkt_spec stranger_ssh = {
	.family = 4, .src = CLIENT4, .dst = EDGE4, .proto = IPPROTO_TCP,
	.sport = 40000, .dport = 22, .tcp_flags = 0x02, .payload_len = 300,
};

static void test_droplog_off_writes_nothing(void **state)
{
	struct droplog_state st;
	uint8_t frame[PKT_MAX];

	(void)state;
	run(&stranger_ssh, 5, XDP_DROP, frame);
	if (drain())
		FAIL("off: %d records in the ring", env.nrec);
	assert_int_equal(droplog_read_state(&env.maps, &st), 0);
	assert_int_equal(st.lost_rate + st.lost_full, 0);
	assert_int_equal(st.reader_pid, 0);
}

static void test_droplog_stale_lease_is_off(void **state)
{
	uint8_t frame[PKT_MAX];

	(void)state;
	/* A reader killed 1 s ago. */
	set_lease(lease_clock() - 1000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	run(&stranger_ssh, 1, XDP_DROP, frame);
	if (drain())
		FAIL("stale lease: %d records in the ring", env.nrec);
	if (lease())
		FAIL("stale lease: not cleared by the program");
}

static void test_droplog_record_fields(void **state)
{
	const struct picfw_drop_record *r = &env.rec[0];
	uint8_t frame[PKT_MAX], a[4];
	uint64_t t0 = mono_ns();
	int len;

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	len = run(&stranger_ssh, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("fields: %d records, expected 1", env.nrec);
	assert_int_equal(r->reason, PICFW_R_NO_MATCH);
	assert_int_equal(r->audit, 0);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->l4proto, IPPROTO_TCP);
	assert_int_equal(r->sport, 40000);
	assert_int_equal(r->dport, 22);
	assert_int_equal(inet_pton(AF_INET, CLIENT4, a), 1);
	assert_memory_equal(r->saddr, a, 4);
	assert_int_equal(inet_pton(AF_INET, EDGE4, a), 1);
	assert_memory_equal(r->daddr, a, 4);
	assert_int_equal(r->frame_len, len);
	assert_true(len > PICFW_DROPLOG_SNAPLEN);
	assert_int_equal(r->captured, PICFW_DROPLOG_SNAPLEN);
	assert_memory_equal(r->frame, frame, PICFW_DROPLOG_SNAPLEN);
	assert_true(r->time >= t0 && r->time <= mono_ns());
	if (!r->epoch || r->epoch != active_epoch())
		FAIL("fields: epoch %u, the active generation's is %u", r->epoch, active_epoch());
	assert_int_equal(r->pad, 0);
}

/*
 * The record names the policy that judged the packet: after an apply (the
 * other generation, activated with a new epoch), the next drop carries the
 * new epoch; and back again.
 */
static void test_droplog_epoch_follows_apply(void **state)
{
	uint32_t first, second, third, gen0 = env.gen;
	uint8_t frame[PKT_MAX];

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	run(&stranger_ssh, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("epoch: %d records, expected 1", env.nrec);
	first = env.rec[0].epoch;
	if (!first || first != active_epoch())
		FAIL("epoch: first record %u, active %u", first, active_epoch());

	load_policy(POLICY_BODY); /* the second generation: a new epoch */
	assert_int_not_equal(env.gen, gen0);
	run(&stranger_ssh, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("epoch: %d records after the apply, expected 1", env.nrec);
	second = env.rec[0].epoch;
	if (second != active_epoch() || second == first)
		FAIL("epoch: after the apply %u (active %u, before %u)", second, active_epoch(),
		     first);

	load_policy("mode audit\n" POLICY_BODY); /* the first generation again, a third epoch */
	run(&stranger_ssh, 1, XDP_PASS, frame);
	if (drain() != 1)
		FAIL("epoch: %d records after the second apply, expected 1", env.nrec);
	third = env.rec[0].epoch;
	if (third != active_epoch() || third == second || third == first || !env.rec[0].audit)
		FAIL("epoch: after the second apply %u (active %u, before %u, %u)", third,
		     active_epoch(), second, first);
}

/* A frame shorter than the snap length is captured whole. */
static void test_droplog_short_frame_ipv6_udp(void **state)
{
	const struct pkt_spec spec = {
		.family = 6, .src = CLIENT6, .dst = EDGE6, .proto = IPPROTO_UDP,
		.sport = 5353, .dport = 3478, .payload_len = 8,
	};
	const struct picfw_drop_record *r = &env.rec[0];
	uint8_t frame[PKT_MAX], a[16];
	int len;

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	len = run(&spec, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("ipv6: %d records, expected 1", env.nrec);
	assert_int_equal(r->family, 6);
	assert_int_equal(r->l4proto, IPPROTO_UDP);
	assert_int_equal(r->sport, 5353);
	assert_int_equal(r->dport, 3478);
	assert_int_equal(inet_pton(AF_INET6, CLIENT6, a), 1);
	assert_memory_equal(r->saddr, a, 16);
	assert_true(len < PICFW_DROPLOG_SNAPLEN);
	assert_int_equal(r->frame_len, len);
	assert_int_equal(r->captured, len);
	assert_memory_equal(r->frame, frame, (size_t)len);
}

static void test_droplog_pass_is_not_sampled(void **state)
{
	const struct pkt_spec sip = {
		.family = 4, .src = PARTNER4, .dst = EDGE4, .proto = IPPROTO_TCP,
		.sport = 40000, .dport = 5061, .tcp_flags = 0x02,
	};
	uint8_t frame[PKT_MAX];

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	run(&sip, 3, XDP_PASS, frame);
	if (drain())
		FAIL("pass: %d records", env.nrec);
}

static void test_droplog_malformed_and_audit(void **state)
{
	const struct pkt_spec cut = {
		.family = 4, .src = CLIENT4, .dst = EDGE4, .proto = IPPROTO_TCP, .l4_len = 10,
	};
	uint8_t frame[PKT_MAX];

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	run(&cut, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("malformed: %d records, expected 1", env.nrec);
	assert_int_equal(env.rec[0].reason, PICFW_R_MALFORMED);

	load_policy("mode audit\n" POLICY_BODY);
	run(&stranger_ssh, 1, XDP_PASS, frame);
	if (drain() != 1)
		FAIL("audit: %d records, expected 1", env.nrec);
	assert_int_equal(env.rec[0].reason, PICFW_R_NO_MATCH);
	assert_int_equal(env.rec[0].audit, 1);
}

static void test_droplog_rate_limit_caps_and_counts(void **state)
{
	struct droplog_state st;
	uint8_t frame[PKT_MAX];

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, 5);
	run(&stranger_ssh, 40, XDP_DROP, frame);
	if (drain() != 5)
		FAIL("rate 5: %d records, expected 5", env.nrec);
	assert_int_equal(droplog_read_state(&env.maps, &st), 0);
	assert_int_equal(st.lost_rate, 35);
	assert_int_equal(st.lost_full, 0);
	assert_int_equal(st.rate, 5);
	/* Turned off again: nothing more, nothing more lost. */
	set_lease(0, 5);
	run(&stranger_ssh, 10, XDP_DROP, frame);
	assert_int_equal(drain(), 0);
	assert_int_equal(droplog_read_state(&env.maps, &st), 0);
	assert_int_equal(st.lost_rate, 35);
}

/* One drop of spec (a no_match) through the program, its record in *r. */
static void drop_one(const struct pkt_spec *spec, struct picfw_drop_record *r)
{
	uint8_t frame[PKT_MAX];

	set_lease(lease_clock() + 10000000000ULL, PICFW_DROPLOG_DEFAULT_RATE);
	run(spec, 1, XDP_DROP, frame);
	if (drain() != 1)
		FAIL("%d records, expected 1", env.nrec);
	*r = env.rec[0];
}

/* droplog_nearest_find() on r: "" when unknown, else "ROW missing-bits" or "none". */
static const char *nearest_of(struct droplog_nearest *dn, const struct picfw_drop_record *r,
			      char *buf, size_t len)
{
	struct droplog_near near;

	if (!droplog_nearest_find(dn, r, &near))
		snprintf(buf, len, "%s", "");
	else if (near.n.row < 0)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s %u", near.p->rows[near.n.row].name, near.n.missing);
	return buf;
}

#define EXPECT_NEAREST(tag, dn, r, want)                                               \
	do {                                                                           \
		char got_[256];                                                        \
		if (strcmp(nearest_of(dn, r, got_, sizeof(got_)), want))               \
			FAIL("%s: nearest '%s', want '%s'", tag, got_, want);          \
	} while (0)

static void test_droplog_nearest_by_epoch(void **state)
{
	const struct pkt_spec sip_stranger = {
		.family = 4, .src = CLIENT4, .dst = EDGE4, .proto = IPPROTO_TCP,
		.sport = 40000, .dport = 5061, .tcp_flags = 0x02,
	};
	const struct pkt_spec partner_ssh = {
		.family = 4, .src = PARTNER4, .dst = EDGE4, .proto = IPPROTO_TCP,
		.sport = 40000, .dport = 22, .tcp_flags = 0x02,
	};
	struct picfw_drop_record first, ssh, renamed, stale, forged, malformed;
	const struct pkt_spec cut = {
		.family = 4, .src = CLIENT4, .dst = EDGE4, .proto = IPPROTO_TCP, .l4_len = 10,
	};
	struct droplog_nearest dn;
	char want[128];

	(void)state;
	/* The policy of the first epoch, published as attach and apply do. */
	load_policy_as(POLICY_BODY, PUBLISH_COPY);
	droplog_nearest_init(&dn, &env.maps, env.ifname);
	drop_one(&sip_stranger, &first);
	snprintf(want, sizeof(want), "access-sip-mtls-tcp-5061-in %u", NEAREST_SOURCE);
	EXPECT_NEAREST("first", &dn, &first, want);
	drop_one(&partner_ssh, &ssh);
	snprintf(want, sizeof(want), "access-sip-mtls-tcp-5061-in %u", NEAREST_PORT);
	EXPECT_NEAREST("partner ssh", &dn, &ssh, want);
	/* Not a TCP or UDP no_match: nothing asked. */
	drop_one(&cut, &malformed);
	EXPECT_NEAREST("malformed", &dn, &malformed, "");

	/* An apply that renames the row: the next record's epoch loads the new copy. */
	load_policy_as("set edge = 203.0.113.10, 2001:db8:e::10\n"
		       "set partners = 198.51.100.0/24, 2001:db8:100::/48\n"
		       "protect edge\n"
		       "sip-partners: Access/SIP(MTLS)/TCP/5061 partners edge\n"
		       "Access/SIP(TLS)/TCP/443 any edge\n",
		       PUBLISH_COPY);
	drop_one(&sip_stranger, &renamed);
	if (renamed.epoch == first.epoch)
		FAIL("the apply left the epoch at %u", first.epoch);
	snprintf(want, sizeof(want), "sip-partners %u", NEAREST_SOURCE);
	EXPECT_NEAREST("renamed", &dn, &renamed, want);
	if (dn.epoch != renamed.epoch)
		FAIL("loaded epoch %u, the record's %u", dn.epoch, renamed.epoch);
	/* A record of the first epoch, read after the apply: unknown, not the new row. */
	EXPECT_NEAREST("earlier epoch", &dn, &first, "");

	/*
	 * An apply whose copy was not saved: the copy of that generation is the
	 * first policy's, which names the row the old way. Unknown, tried once.
	 */
	load_policy_as("set edge = 203.0.113.10, 2001:db8:e::10\n"
		       "set partners = 198.51.100.0/24, 2001:db8:100::/48\n"
		       "protect edge\n"
		       "third-name: Access/SIP(MTLS)/TCP/5061 partners edge\n",
		       PUBLISH_NO_COPY);
	drop_one(&sip_stranger, &stale);
	EXPECT_NEAREST("stale copy", &dn, &stale, "");
	if (dn.tried != stale.epoch)
		FAIL("stale copy: tried epoch %u, the record's %u", dn.tried, stale.epoch);
	EXPECT_NEAREST("stale copy again", &dn, &stale, "");

	/* An epoch that no generation has (a record from the future): unknown. */
	forged = renamed;
	forged.epoch = stale.epoch + 5;
	EXPECT_NEAREST("no such epoch", &dn, &forged, "");
	/* The renamed policy's records are still named after all that. */
	snprintf(want, sizeof(want), "sip-partners %u", NEAREST_SOURCE);
	EXPECT_NEAREST("renamed, later", &dn, &renamed, want);
	droplog_nearest_free(&dn);
}

/* A ring that fills: every drop is either in the ring or counted as lost. */
static void test_droplog_full_ring_counts(void **state)
{
	const uint32_t n = PICFW_DROPLOG_RING / sizeof(struct picfw_drop_record) + 100;
	struct droplog_state st;
	uint8_t frame[PKT_MAX];
	int got;

	(void)state;
	set_lease(lease_clock() + 10000000000ULL, 1000000);
	run(&stranger_ssh, n, XDP_DROP, frame);
	got = drain();
	assert_int_equal(droplog_read_state(&env.maps, &st), 0);
	if (!st.lost_full || (uint64_t)got + st.lost_full + st.lost_rate != n)
		FAIL("full ring: %d records + %llu full + %llu rate != %u", got,
		     (unsigned long long)st.lost_full, (unsigned long long)st.lost_rate, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_droplog_off_writes_nothing, setup),
		cmocka_unit_test_setup(test_droplog_stale_lease_is_off, setup),
		cmocka_unit_test_setup(test_droplog_record_fields, setup),
		cmocka_unit_test_setup(test_droplog_epoch_follows_apply, setup),
		cmocka_unit_test_setup(test_droplog_short_frame_ipv6_udp, setup),
		cmocka_unit_test_setup(test_droplog_pass_is_not_sampled, setup),
		cmocka_unit_test_setup(test_droplog_malformed_and_audit, setup),
		cmocka_unit_test_setup(test_droplog_rate_limit_caps_and_counts, setup),
		cmocka_unit_test_setup(test_droplog_full_ring_counts, setup),
		cmocka_unit_test_setup(test_droplog_nearest_by_epoch, setup),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_droplog # SKIP needs root to load BPF programs\n");
		return 0;
	}
	return cmocka_run_group_tests_name("droplog", tests, group_setup, group_teardown);
}
