// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_apply.c - live policy updates (`picfw apply`) against the real XDP
 * program, run with BPF_PROG_TEST_RUN.
 *
 * The group setup loads the program and makes it look attached to a fake
 * interface, pfapply<pid>, without touching any real one: its maps pinned in
 * pin_root()/pfapply<pid>/, generation 0 written the way `picfw attach`
 * writes it, the normalised policy copy saved. picfw_apply() and the CLI find
 * the maps by that name through the pins; the packets go to the program that
 * owns those maps. The teardown (also run after failures, at exit and on
 * SIGINT/SIGTERM/SIGHUP) removes the pins, the directory, the copy and the
 * temporary policy files.
 *
 * Tests: a series of applies, each checked right after it returns; atomicity
 * under a concurrent stream of applies; SIGKILL at every point of a CLI
 * apply; refused policies; counters across applies; concurrent CLIs and the
 * apply lock; protected prefixes gone two applies later; a map writer that
 * fails at each of its calls in turn (linked with --wrap: see section 8,
 * deterministic where the kills are left to chance). Each failed check prints "# <tag>: ..." with a unique tag; the
 * "# " lines of passing tests are measurements (packets checked, where the
 * kills landed).
 *
 * The CLI is $PICFW_BIN, else $PICFW_SRCDIR/BUILD/picfw-test ("." when unset),
 * the CLI built with the test hooks in the build directory this test was
 * built in (PICFW_BUILD_DIR: build, or build-asan under SANITIZE=1).
 * Needs root (CAP_BPF and CAP_NET_ADMIN): without, every test is a SKIP.
 */
#define _GNU_SOURCE
#ifndef PICFW_BUILD_DIR
#define PICFW_BUILD_DIR "build" /* the Makefile names its own */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
#include "apply.h"
#include "picfw.skel.h"
#include "packets.h"
#include "common.h"

/* ---------------------------------------------------------------------------
 * Policies. Addresses are documentation ranges: the Edge 203.0.113.10 and
 * 2001:db8:e::10 (moved to .20 / ::20 in places), partners 198.51.100.0/24,
 * 192.0.2.0/25 and 2001:db8:100::/48, 2001:db8:200::/48.
 */

enum pol_id {
	/* The series; S0 is also the policy the setup "attaches". */
	POL_S0,
	POL_S1,
	POL_S2,
	POL_S3,
	POL_S4,
	POL_S5,
	/* Atomicity: the same rows from other sources to other ports. */
	POL_X,
	POL_Y,
	/* Kills, bad policies, concurrent applies: two policies with distinct answers. */
	POL_K0,
	POL_K1,
	/* Counters across applies. */
	POL_C1,
	POL_C2,
	POL_C3,
	/* Protected prefixes, not host addresses: in picfw_prot4/6, not inline. */
	POL_P1,
	POL_P2,
	POL_P3,
	/* PICFW_MAX_ROWS rows, all new: compiles, but no apply can find them slots. */
	POL_FULL,
	POL_COUNT,
};

#define S_HEAD(edge, partners)                                                          \
	"set edge = " edge "\n"                                                         \
	"set partners = " partners "\n"                                                 \
	"protect edge\n"

static const char *const pol_text[POL_COUNT] = {
	[POL_S0] = S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"web:   Access/SIP(TLS)/TCP/443   any      edge\n"
		"stun:  A/V/STUN/UDP/3478         partners edge\n"
		"media: A/V/RTP/UDP/50000-50009   partners edge\n",
	/* A new partner prefix (IPv4) in place of the old one. */
	[POL_S1] = S_HEAD("203.0.113.10, 2001:db8:e::10", "192.0.2.0/25, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"web:   Access/SIP(TLS)/TCP/443   any      edge\n"
		"stun:  A/V/STUN/UDP/3478         partners edge\n"
		"media: A/V/RTP/UDP/50000-50009   partners edge\n",
	/* The Edge's IPv6 address moved, and a new IPv6 partner prefix. */
	[POL_S2] = S_HEAD("203.0.113.10, 2001:db8:e::20", "192.0.2.0/25, 2001:db8:200::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"web:   Access/SIP(TLS)/TCP/443   any      edge\n"
		"stun:  A/V/STUN/UDP/3478         partners edge\n"
		"media: A/V/RTP/UDP/50000-50009   partners edge\n",
	/* A widened port range; row web removed. */
	[POL_S3] = S_HEAD("203.0.113.10, 2001:db8:e::20", "192.0.2.0/25, 2001:db8:200::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"stun:  A/V/STUN/UDP/3478         partners edge\n"
		"media: A/V/RTP/UDP/50000-50099   partners edge\n",
	/* Row stun removed, row turn added. */
	[POL_S4] = S_HEAD("203.0.113.10, 2001:db8:e::20", "192.0.2.0/25, 2001:db8:200::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"media: A/V/RTP/UDP/50000-50099   partners edge\n"
		"turn:  A/V/TURN/TCP/443          partners edge\n",
	/* The Edge's IPv4 address moved; the old partner prefix back. */
	[POL_S5] = S_HEAD("203.0.113.20, 2001:db8:e::20", "198.51.100.0/24, 2001:db8:200::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"media: A/V/RTP/UDP/50000-50099   partners edge\n"
		"turn:  A/V/TURN/TCP/443          partners edge\n",
	[POL_X] = "set edge = 203.0.113.10, 2001:db8:e::10\n"
		  "set src = 198.51.100.0/24, 2001:db8:100::/48\n"
		  "protect edge\n"
		  "mix-tcp: T/M/TCP/1000 src edge\n"
		  "mix-udp: T/M/UDP/1000 src edge\n",
	[POL_Y] = "set edge = 203.0.113.10, 2001:db8:e::10\n"
		  "set src = 192.0.2.0/24, 2001:db8:200::/48\n"
		  "protect edge\n"
		  "mix-tcp: T/M/TCP/2000 src edge\n"
		  "mix-udp: T/M/UDP/2000 src edge\n",
	[POL_K0] = S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"web:   Access/SIP(TLS)/TCP/443   any      edge\n"
		"stun:  A/V/STUN/UDP/3478         partners edge\n",
	[POL_K1] = S_HEAD("203.0.113.10, 2001:db8:e::20", "192.0.2.0/25, 2001:db8:200::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n"
		"stun:  A/V/STUN/UDP/3478-3480    partners edge\n"
		"media: A/V/RTP/UDP/50000-50099   any      edge\n"
		"turn:  A/V/TURN/TCP/443          partners edge\n",
	[POL_C1] = S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24, 2001:db8:100::/48")
		"cnt-a: T/A/TCP/7000      partners edge\n"
		"cnt-b: T/B/UDP/7100      partners edge\n",
	/* cnt-a kept with other ports, cnt-b gone, cnt-c new. */
	[POL_C2] = S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24, 2001:db8:100::/48")
		"cnt-a: T/A/TCP/7001-7002 partners edge\n"
		"cnt-c: T/C/UDP/7200      partners edge\n",
	/* cnt-d new: it may take cnt-b's old slot, which holds counts. */
	[POL_C3] = S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24, 2001:db8:100::/48")
		"cnt-a: T/A/TCP/7001-7002 partners edge\n"
		"cnt-c: T/C/UDP/7200      partners edge\n"
		"cnt-d: T/D/UDP/7300      partners edge\n",
	/* Three Edges in a row, each a /28 and a /64 that the others do not cover. */
	[POL_P1] = S_HEAD("203.0.113.0/28, 2001:db8:e:1::/64", "198.51.100.0/24, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n",
	[POL_P2] = S_HEAD("203.0.113.16/28, 2001:db8:e:2::/64", "198.51.100.0/24, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n",
	[POL_P3] = S_HEAD("203.0.113.32/28, 2001:db8:e:3::/64", "198.51.100.0/24, 2001:db8:100::/48")
		"sip:   Access/SIP(MTLS)/TCP/5061 partners edge\n",
	[POL_FULL] = NULL, /* generated: full_policy_text() */
};

static const char *const pol_file[POL_COUNT] = {
	[POL_S0] = "step0.policy", [POL_S1] = "step1.policy", [POL_S2] = "step2.policy",
	[POL_S3] = "step3.policy", [POL_S4] = "step4.policy", [POL_S5] = "step5.policy",
	[POL_X] = "x.policy",	   [POL_Y] = "y.policy",      [POL_K0] = "k0.policy",
	[POL_K1] = "k1.policy",	   [POL_C1] = "c1.policy",    [POL_C2] = "c2.policy",
	[POL_C3] = "c3.policy",	   [POL_P1] = "p1.policy",    [POL_P2] = "p2.policy",
	[POL_P3] = "p3.policy",	   [POL_FULL] = "full.policy",
};

/* Refused by the CLI: the line and the words its FILE:LINE:COL message must hold. */
struct bad_policy {
	const char *file;
	const char *text;
	int line;
	const char *says;
};

static const struct bad_policy bad_policies[] = {
	{ "bad-port.policy",
	  S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24")
	  "sip: Access/SIP(MTLS)/TCP/99999 partners edge\n",
	  4, "65535" },
	{ "bad-set.policy",
	  S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24")
	  "sip: Access/SIP(MTLS)/TCP/5061 partners edge\n"
	  "web: Access/SIP(TLS)/TCP/443 nosuch-set edge\n",
	  5, "unknown set" },
	{ "bad-syntax.policy",
	  S_HEAD("203.0.113.10, 2001:db8:e::10", "198.51.100.0/24")
	  "sip: Access/SIP(MTLS)/TCP/5061 partners\n",
	  4, "destination" },
};

#define NBAD (sizeof(bad_policies) / sizeof(bad_policies[0]))

/* ---------------------------------------------------------------------------
 * Everything the tests share.
 */
static struct {
	pid_t main_pid;
	struct picfw_bpf *skel;
	struct picfw_maps maps; /* the skeleton's own fds: counters, ctl, slots */
	int maps_ok;
	int prog_fd;
	char ifname[IF_NAMESIZE];
	char pins[PICFW_PATH_LEN];
	char tmpdir[64];
	char cli[PATH_MAX];
	int run_dir_existed;
	char *full_text;
	struct policy pol[POL_COUNT];
	struct policy_image img[POL_COUNT];
	pid_t kids[4]; /* children alive, killed by the cleanup */
} env;

struct counters {
	struct picfw_counter rows[PICFW_MAX_ROWS];
	struct picfw_counter reasons[PICFW_REASON_SLOTS];
};

static struct counters cnt_before, cnt_after;

/* Fail the test with "# tag: ..." unless ok. */
static void check(int ok, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(int ok, const char *tag, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vnote(tag, fmt, ap);
	va_end(ap);
	fail();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------------------------------------------------------------------------
 * Cleanup: idempotent, from the group teardown, atexit() and signals.
 */
static void kid_add(pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(env.kids) / sizeof(env.kids[0]); i++) {
		if (!env.kids[i]) {
			env.kids[i] = pid;
			return;
		}
	}
}

static void kid_del(pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(env.kids) / sizeof(env.kids[0]); i++)
		if (env.kids[i] == pid)
			env.kids[i] = 0;
}

static void remove_dir_files(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void cleanup(void)
{
	size_t i;

	if (getpid() != env.main_pid)
		return;
	for (i = 0; i < sizeof(env.kids) / sizeof(env.kids[0]); i++) {
		if (env.kids[i] > 0) {
			kill(env.kids[i], SIGKILL);
			waitpid(env.kids[i], NULL, 0);
			env.kids[i] = 0;
		}
	}
	if (env.pins[0]) {
		remove_dir_files(env.pins);
		rmdir(pin_root()); /* only when empty: other interfaces' pins stay */
		env.pins[0] = 0;
	}
	if (env.ifname[0]) {
		policy_copy_remove(env.ifname);
		if (!env.run_dir_existed)
			rmdir(PICFW_RUN_DIR);
		env.ifname[0] = 0;
	}
	if (env.tmpdir[0]) {
		remove_dir_files(env.tmpdir);
		env.tmpdir[0] = 0;
	}
}

static void on_signal(int sig)
{
	if (getpid() != env.main_pid)
		_exit(128 + sig);
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---------------------------------------------------------------------------
 * Maps, counters, packets.
 */
static void read_counters(const char *tag, struct counters *c)
{
	int err;

	err = maps_read_counters(&env.maps, c->rows, c->reasons);
	check(!err, tag, "reading the counters: %s", strerror(-err));
}

/* The active generation, its row count and its rows' counter slots. */
static void active_gen(const char *tag, uint32_t *gen, uint32_t *nrows, uint32_t *slots)
{
	struct picfw_ctl ctl;
	int err;

	err = maps_read_ctl(&env.maps, &ctl);
	check(!err, tag, "reading picfw_ctl: %s", strerror(-err));
	*gen = ctl.active & 1;
	*nrows = ctl.gen[*gen].nrows;
	check(*nrows <= PICFW_MAX_ROWS, tag, "active generation %u claims %u rows", *gen, *nrows);
	if (slots) {
		err = maps_read_slots(&env.maps, *gen, *nrows, slots);
		check(!err, tag, "reading picfw_slots: %s", strerror(-err));
	}
}

static uint64_t meta_generation(const char *tag, uint32_t gen)
{
	struct picfw_meta meta;
	int err;

	err = maps_read_meta(&env.maps, gen, &meta);
	check(!err, tag, "reading picfw_meta[%u]: %s", gen, strerror(-err));
	return meta.generation;
}

static int row_index(const struct policy_image *img, const char *name)
{
	uint32_t i;

	for (i = 0; i < img->nrows; i++)
		if (!strcmp(img->rows[i].name, name))
			return (int)i;
	return -1;
}

/* Counter slot of the row named name in the active generation, which must hold img. */
static uint32_t slot_of(const char *tag, const struct policy_image *img, const char *name)
{
	static uint32_t slots[PICFW_MAX_ROWS];
	uint32_t gen, nrows;
	int i;

	active_gen(tag, &gen, &nrows, slots);
	check(nrows == img->nrows, tag, "active generation has %u rows, the policy %u", nrows,
	      img->nrows);
	i = row_index(img, name);
	check(i >= 0, tag, "table error: no row %s", name);
	return slots[i];
}

static int build(const char *tag, const struct pkt_spec *spec, uint8_t *frame)
{
	char err[256];
	int len;

	len = pkt_build(spec, frame, PKT_MAX, err, sizeof(err));
	check(len > 0, tag, "building the packet: %s", err);
	return len;
}

/* Run a frame once: 0 and the verdict, or a negative errno. */
static int run_frame(const uint8_t *frame, int len, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(env.prog_fd, &opts);
	*verdict = (int)opts.retval;
	return err ? -errno : 0;
}

static int verdict_of(const char *tag, const struct pkt_spec *spec)
{
	uint8_t frame[PKT_MAX];
	int len, v, err;

	len = build(tag, spec, frame);
	err = run_frame(frame, len, &v);
	check(!err, tag, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	return v;
}

/* What one packet must get: passed on a row, or a verdict with a reason. */
struct want {
	int verdict;
	const char *row; /* counted on this row; NULL: on reason */
	unsigned reason;
};

#define ON_ROW(name) { XDP_PASS, (name), 0 }
#define NO_MATCH { XDP_DROP, NULL, PICFW_R_NO_MATCH }
#define UNPROT { XDP_PASS, NULL, PICFW_R_UNPROTECTED }

#define PKT_TCP4(s, d, dp) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = 40000, \
	  .dport = (dp), .tcp_flags = TH_SYN }
#define PKT_UDP4(s, d, dp) \
	{ .family = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .sport = 40000, .dport = (dp) }
#define PKT_TCP6(s, d, dp) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = 40000, \
	  .dport = (dp), .tcp_flags = TH_SYN }
#define PKT_UDP6(s, d, dp) \
	{ .family = 6, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .sport = 40000, .dport = (dp) }

/*
 * Run one packet under the active generation (which must hold img): its
 * verdict, and exactly one counter moved by one packet and its length (the
 * wanted row's slot, or the reason). Returns the number of differences.
 */
static int probe(const char *tag, const struct policy_image *img, const struct pkt_spec *spec,
		 const struct want *w)
{
	uint8_t frame[PKT_MAX];
	uint32_t slot = 0, i;
	int len, v, err, fails = 0;

	len = build(tag, spec, frame);
	if (w->row)
		slot = slot_of(tag, img, w->row);
	read_counters(tag, &cnt_before);
	err = run_frame(frame, len, &v);
	check(!err, tag, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	read_counters(tag, &cnt_after);
	if (v != w->verdict) {
		note(tag, "verdict %s, expected %s", verdict_name(v), verdict_name(w->verdict));
		fails++;
	}
	for (i = 0; i < PICFW_MAX_ROWS; i++) {
		uint64_t dp = cnt_after.rows[i].packets - cnt_before.rows[i].packets;
		uint64_t db = cnt_after.rows[i].bytes - cnt_before.rows[i].bytes;
		int hit = w->row && i == slot;

		if (dp != (uint64_t)hit || db != (hit ? (uint64_t)len : 0)) {
			note(tag, "row slot %u%s%s: +%llu packets +%llu bytes, expected +%d", i,
			     hit ? " of row " : "", hit ? w->row : "", (unsigned long long)dp,
			     (unsigned long long)db, hit);
			fails++;
		}
	}
	for (i = 0; i < PICFW_REASON_SLOTS; i++) {
		uint64_t dp = cnt_after.reasons[i].packets - cnt_before.reasons[i].packets;
		int hit = !w->row && i == w->reason;

		if (dp != (uint64_t)hit) {
			note(tag, "reason slot %u: +%llu packets, expected +%d", i,
			     (unsigned long long)dp, hit);
			fails++;
		}
	}
	return fails;
}

/* ---------------------------------------------------------------------------
 * Applying: the library in this process, or the CLI in a child.
 */
static void apply_lib(const char *tag, enum pol_id id, struct apply_result *res)
{
	struct apply_result r;

	if (!res)
		res = &r;
	check(!picfw_apply(env.ifname, pol_file[id], &env.pol[id], &env.img[id], res), tag,
	      "picfw_apply(%s) failed (its reason is on stderr)", pol_file[id]);
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", env.tmpdir, name);
}

/*
 * Start `picfw apply IFACE FILE` with the test pause (0: none); its stdout
 * and stderr go to out_name in the temporary directory (NULL: /dev/null).
 */
static pid_t cli_start(const char *tag, const char *file, int pause_ms, const char *out_name)
{
	char policy[PATH_MAX], out[PATH_MAX], pause[16];
	pid_t pid;

	tmp_path(policy, sizeof(policy), file);
	if (out_name)
		tmp_path(out, sizeof(out), out_name);
	else
		snprintf(out, sizeof(out), "/dev/null");
	snprintf(pause, sizeof(pause), "%d", pause_ms);
	fflush(NULL);
	pid = fork();
	check(pid >= 0, tag, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		if (pause_ms)
			setenv("PICFW_TEST_APPLY_PAUSE_MS", pause, 1);
		else
			unsetenv("PICFW_TEST_APPLY_PAUSE_MS");
		execl(env.cli, env.cli, "apply", env.ifname, policy, (char *)NULL);
		_exit(127);
	}
	kid_add(pid);
	return pid;
}

/* Wait for pid up to timeout_ms: 0 and its status, or -1 if it is still running. */
static int cli_wait(pid_t pid, int timeout_ms, int *status)
{
	double end = now_ms() + timeout_ms;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
		if (r == pid) {
			kid_del(pid);
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (timeout_ms >= 0 && now_ms() > end)
			return -1;
		sleep_ms(1);
	}
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status 0x%x", status);
}

static void read_file(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = 0;
	int fd;

	tmp_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

static int write_file(const char *name, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd, ok;

	tmp_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, text, len) == (ssize_t)len;
	return close(fd) || !ok ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * The K0 / K1 answer vector: the retvals of a fixed list of packets. Every
 * packet's answer is known under both; six of the ten differ.
 */
static const struct pkt_spec vec_pkts[] = {
	PKT_TCP4("198.51.100.7", "203.0.113.10", 5061),	    /* K0 sip,     K1 drop */
	PKT_TCP4("192.0.2.7", "203.0.113.10", 5061),	    /* K0 drop,    K1 sip */
	PKT_TCP4("192.0.2.200", "203.0.113.10", 443),	    /* K0 web,     K1 drop */
	PKT_TCP4("192.0.2.7", "203.0.113.10", 443),	    /* K0 web,     K1 turn */
	PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 3478), /* K0 stun,    K1 unprotected */
	PKT_TCP6("2001:db8:100::7", "2001:db8:e::10", 80),   /* K0 drop,    K1 unprotected */
	PKT_TCP6("2001:db8:200::7", "2001:db8:e::20", 80),   /* K0 unprot., K1 drop */
	PKT_UDP6("2001:db8:ff::1", "2001:db8:e::20", 50050), /* K0 unprot., K1 media */
	PKT_UDP4("198.51.100.7", "203.0.113.10", 50050),     /* K0 drop,    K1 media */
	PKT_UDP6("2001:db8:200::7", "2001:db8:e::20", 3480), /* K0 unprot., K1 stun */
};

#define NVEC (sizeof(vec_pkts) / sizeof(vec_pkts[0]))
#define P XDP_PASS
#define D XDP_DROP

static const int vec_want[2][NVEC] = {
	{ P, D, P, P, P, D, P, P, D, P }, /* K0 */
	{ D, P, D, P, P, P, D, P, P, P }, /* K1 */
};

#undef P
#undef D

static void vector(const char *tag, int *out)
{
	size_t i;

	for (i = 0; i < NVEC; i++)
		out[i] = verdict_of(tag, &vec_pkts[i]);
}

static void vector_text(const int *v, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < NVEC && n + 1 < len; i++)
		buf[n++] = v[i] == XDP_PASS ? 'P' : v[i] == XDP_DROP ? 'D' : '?';
	buf[n] = 0;
}

/* Which of K0 (0) and K1 (1) the datapath answers as, whole; -1 for neither. */
static int vector_policy(const int *v)
{
	if (!memcmp(v, vec_want[0], sizeof(vec_want[0])))
		return 0;
	if (!memcmp(v, vec_want[1], sizeof(vec_want[1])))
		return 1;
	return -1;
}

/*
 * The datapath answers as K<which>, whole: the vector, and the active
 * generation's row count in picfw_ctl and in its metadata.
 */
static void expect_k(const char *tag, int which)
{
	int v[NVEC];
	char got[NVEC + 1], want[NVEC + 1];
	uint32_t gen, nrows;
	struct picfw_meta meta;

	vector(tag, v);
	vector_text(v, got, sizeof(got));
	vector_text(vec_want[which], want, sizeof(want));
	check(vector_policy(v) == which, tag, "verdicts %s, expected K%d's %s", got, which, want);
	active_gen(tag, &gen, &nrows, NULL);
	check(nrows == env.img[POL_K0 + which].nrows, tag,
	      "picfw_ctl: active generation %u has %u rows, K%d has %u", gen, nrows, which,
	      env.img[POL_K0 + which].nrows);
	check(!maps_read_meta(&env.maps, gen, &meta) &&
		      meta.nrows == env.img[POL_K0 + which].nrows,
	      tag, "picfw_meta[%u]: %u rows, K%d has %u", gen, meta.nrows, which,
	      env.img[POL_K0 + which].nrows);
}

/* ---------------------------------------------------------------------------
 * 1. A series of applies, each checked as soon as it returns.
 */
struct probe_case {
	const char *what;
	struct pkt_spec pkt;
	struct want before, after;
};

struct step {
	enum pol_id pol;
	const char *what;
	unsigned kept, added, removed;
	struct probe_case probes[6];
};

static const struct step series[] = {
	{ POL_S1, "new partner prefix (IPv4)", 4, 0, 0, {
		{ "new-partner-v4", PKT_TCP4("192.0.2.7", "203.0.113.10", 5061), NO_MATCH,
		  ON_ROW("sip") },
		{ "old-partner-v4", PKT_TCP4("198.51.100.7", "203.0.113.10", 5061),
		  ON_ROW("sip"), NO_MATCH },
		{ "kept-partner-v6", PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 3478),
		  ON_ROW("stun"), ON_ROW("stun") },
	} },
	{ POL_S2, "moved Edge address and new partner prefix (IPv6)", 4, 0, 0, {
		{ "new-edge-v6", PKT_UDP6("2001:db8:200::7", "2001:db8:e::20", 3478), UNPROT,
		  ON_ROW("stun") },
		{ "old-partner-to-new-edge-v6",
		  PKT_UDP6("2001:db8:100::7", "2001:db8:e::20", 3478), UNPROT, NO_MATCH },
		{ "old-edge-v6", PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 3478),
		  ON_ROW("stun"), UNPROT },
		{ "new-partner-v6-sip", PKT_TCP6("2001:db8:200::7", "2001:db8:e::20", 5061),
		  UNPROT, ON_ROW("sip") },
	} },
	{ POL_S3, "widened port range, row web removed", 3, 0, 1, {
		{ "widened-v4", PKT_UDP4("192.0.2.7", "203.0.113.10", 50050), NO_MATCH,
		  ON_ROW("media") },
		{ "widened-edge-v6", PKT_UDP6("2001:db8:200::7", "2001:db8:e::20", 50099),
		  NO_MATCH, ON_ROW("media") },
		{ "old-range-v4", PKT_UDP4("192.0.2.7", "203.0.113.10", 50009), ON_ROW("media"),
		  ON_ROW("media") },
		{ "past-range-v4", PKT_UDP4("192.0.2.7", "203.0.113.10", 50100), NO_MATCH,
		  NO_MATCH },
		{ "removed-row-v4", PKT_TCP4("192.0.2.200", "203.0.113.10", 443), ON_ROW("web"),
		  NO_MATCH },
		{ "removed-row-v6", PKT_TCP6("2001:db8:ff::1", "2001:db8:e::20", 443),
		  ON_ROW("web"), NO_MATCH },
	} },
	{ POL_S4, "row stun removed, row turn added", 2, 1, 1, {
		{ "added-row-v6", PKT_TCP6("2001:db8:200::7", "2001:db8:e::20", 443), NO_MATCH,
		  ON_ROW("turn") },
		{ "added-row-v4", PKT_TCP4("192.0.2.7", "203.0.113.10", 443), NO_MATCH,
		  ON_ROW("turn") },
		{ "removed-stun-v6", PKT_UDP6("2001:db8:200::7", "2001:db8:e::20", 3478),
		  ON_ROW("stun"), NO_MATCH },
	} },
	{ POL_S5, "moved Edge address (IPv4), old partner prefix back", 3, 0, 0, {
		{ "new-edge-v4", PKT_TCP4("198.51.100.7", "203.0.113.20", 5061), UNPROT,
		  ON_ROW("sip") },
		{ "old-edge-v4", PKT_TCP4("192.0.2.7", "203.0.113.10", 5061), ON_ROW("sip"),
		  UNPROT },
		{ "gone-partner-to-new-edge-v4", PKT_TCP4("192.0.2.7", "203.0.113.20", 5061),
		  UNPROT, NO_MATCH },
		{ "turn-new-edge-v4", PKT_TCP4("198.51.100.7", "203.0.113.20", 443), UNPROT,
		  ON_ROW("turn") },
	} },
};

#define NSTEPS (sizeof(series) / sizeof(series[0]))

/*
 * The normalised copy of the active generation's policy (PICFW_RUN_DIR) is
 * the policy img came from: its rows by name, and compiled again, the digest
 * in the active generation's picfw_meta.
 */
static void expect_copy(const char *tag, const struct policy_image *img)
{
	struct policy_errors errs = { 0 };
	char path[PICFW_PATH_LEN], err[256];
	struct policy_image cimg;
	struct picfw_meta meta;
	uint32_t gen, nrows;
	struct policy copy;
	uint64_t digest;
	size_t i;

	active_gen(tag, &gen, &nrows, NULL);
	check(!policy_copy_path(env.ifname, gen, path, sizeof(path)), tag, "policy_copy_path");
	if (policy_load(path, &copy, &errs)) {
		policy_errors_free(&errs);
		check(0, tag, "the policy copy %s does not load", path);
	}
	policy_errors_free(&errs);
	for (i = 0; i < copy.nrows && i < img->nrows; i++)
		if (strcmp(copy.rows[i].name, img->rows[i].name))
			break;
	if (copy.nrows != img->nrows || i != img->nrows) {
		size_t n = copy.nrows;

		policy_free(&copy);
		check(0, tag, "the copy of generation %u has %zu rows (row %zu differs), the "
		      "enforced policy %u", gen, n, i, img->nrows);
	}
	if (compile_policy(&copy, &cimg, err, sizeof(err))) {
		policy_free(&copy);
		check(0, tag, "the copy of generation %u does not compile: %s", gen, err);
	}
	digest = image_digest(&cimg);
	image_free(&cimg);
	policy_free(&copy);
	check(!maps_read_meta(&env.maps, gen, &meta) &&
		      !memcmp(meta.digest, &digest, sizeof(digest)),
	      tag, "the copy of generation %u compiles to another digest than picfw_meta's", gen);
}

static void test_apply_series(void **state)
{
	struct apply_result res;
	uint64_t gen_prev;
	uint32_t gen, nrows;
	char tag[160];
	size_t s, k;
	int fails;

	(void)state;
	apply_lib("series-start", POL_S0, NULL);
	active_gen("series-start-gen", &gen, &nrows, NULL);
	gen_prev = meta_generation("series-start-meta", gen);

	for (s = 0; s < NSTEPS; s++) {
		const struct step *st = &series[s];
		const struct policy_image *old = &env.img[st->pol - 1];
		const struct policy_image *img = &env.img[st->pol];

		fails = 0;
		for (k = 0; k < 6 && st->probes[k].what; k++) {
			snprintf(tag, sizeof(tag), "series-%zu-before-%s", s + 1,
				 st->probes[k].what);
			fails += probe(tag, old, &st->probes[k].pkt, &st->probes[k].before);
		}
		snprintf(tag, sizeof(tag), "series-%zu-before", s + 1);
		check(!fails, tag, "step %zu (%s): the old policy does not answer as the table "
		      "says", s + 1, st->what);

		snprintf(tag, sizeof(tag), "series-%zu-apply", s + 1);
		apply_lib(tag, st->pol, &res);

		for (k = 0; k < 6 && st->probes[k].what; k++) {
			snprintf(tag, sizeof(tag), "series-%zu-after-%s", s + 1,
				 st->probes[k].what);
			fails += probe(tag, img, &st->probes[k].pkt, &st->probes[k].after);
		}
		snprintf(tag, sizeof(tag), "series-%zu-after", s + 1);
		check(!fails, tag, "step %zu (%s): the new policy does not answer as the table "
		      "says", s + 1, st->what);

		snprintf(tag, sizeof(tag), "series-%zu-generation", s + 1);
		check(res.generation == gen_prev + 1, tag, "generation %llu after %llu",
		      (unsigned long long)res.generation, (unsigned long long)gen_prev);
		active_gen(tag, &gen, &nrows, NULL);
		check(meta_generation(tag, gen) == res.generation, tag,
		      "picfw_meta of the active generation disagrees with the result");
		gen_prev = res.generation;

		snprintf(tag, sizeof(tag), "series-%zu-rows", s + 1);
		check(res.kept == st->kept && res.added == st->added &&
			      res.removed == st->removed && nrows == img->nrows,
		      tag, "kept %u added %u removed %u (%u rows active), expected %u %u %u (%u)",
		      res.kept, res.added, res.removed, nrows, st->kept, st->added, st->removed,
		      img->nrows);

		snprintf(tag, sizeof(tag), "series-%zu-copy", s + 1);
		expect_copy(tag, img);
	}
}

/* ---------------------------------------------------------------------------
 * 2. Atomicity: X and Y have the same rows, X from S1 to port 1000, Y from S2
 * to port 2000. A packet judged with one policy's addresses and the other's
 * ports (S1 -> 2000, S2 -> 1000) would pass: both policies drop it.
 */
#define ATOMIC_APPLIES 500
/*
 * Packets are checked for as long as the child applies, within these bounds.
 * 2,000,000 runs take about 2 s here while the 500 applies take about 8 s:
 * the run bound is set so that it does not end the checks before the applies.
 */
#define ATOMIC_MAX_RUNS 20000000ULL
#define ATOMIC_MAX_MS 120000.0

struct atomic_pkt {
	const char *what;
	struct pkt_spec pkt;
	int detector;
	int x_verdict, y_verdict;
	const char *row; /* the row a pass counts on */
};

static const struct atomic_pkt atomic_pkts[] = {
	{ "mix-s1-to-y-port-v4", PKT_TCP4("198.51.100.7", "203.0.113.10", 2000), 1, XDP_DROP,
	  XDP_DROP, NULL },
	{ "mix-s2-to-x-port-v4", PKT_TCP4("192.0.2.7", "203.0.113.10", 1000), 1, XDP_DROP,
	  XDP_DROP, NULL },
	{ "mix-s1-to-y-port-v6", PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 2000), 1,
	  XDP_DROP, XDP_DROP, NULL },
	{ "mix-s2-to-x-port-v6", PKT_UDP6("2001:db8:200::7", "2001:db8:e::10", 1000), 1,
	  XDP_DROP, XDP_DROP, NULL },
	{ "x-only-v4", PKT_TCP4("198.51.100.7", "203.0.113.10", 1000), 0, XDP_PASS, XDP_DROP,
	  "mix-tcp" },
	{ "y-only-v4", PKT_TCP4("192.0.2.7", "203.0.113.10", 2000), 0, XDP_DROP, XDP_PASS,
	  "mix-tcp" },
	{ "x-only-v6", PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 1000), 0, XDP_PASS,
	  XDP_DROP, "mix-udp" },
	{ "y-only-v6", PKT_UDP6("2001:db8:200::7", "2001:db8:e::10", 2000), 0, XDP_DROP,
	  XDP_PASS, "mix-udp" },
};

#define NATOMIC (sizeof(atomic_pkts) / sizeof(atomic_pkts[0]))

/* The child: ATOMIC_APPLIES applies, Y X Y X ..., through the pins by name. */
static void __attribute__((noreturn)) atomic_child(uint64_t gen0)
{
	struct apply_result res;
	enum pol_id id;
	int i;

	for (i = 0; i < ATOMIC_APPLIES; i++) {
		id = i % 2 ? POL_X : POL_Y;
		if (picfw_apply(env.ifname, pol_file[id], &env.pol[id], &env.img[id], &res)) {
			printf("# atomic-child-apply: apply %d (%s) failed\n", i, pol_file[id]);
			fflush(stdout);
			_exit(1);
		}
		if (res.generation != gen0 + (uint64_t)i + 1) {
			printf("# atomic-child-generation: apply %d: generation %llu, "
			       "expected %llu\n", i, (unsigned long long)res.generation,
			       (unsigned long long)(gen0 + (uint64_t)i + 1));
			fflush(stdout);
			_exit(1);
		}
	}
	_exit(0);
}

static void test_apply_atomic(void **state)
{
	uint8_t frame[NATOMIC][PKT_MAX];
	int len[NATOMIC], v, err, status = 0, done = 0;
	uint64_t runs = 0, passes[NATOMIC] = { 0 }, drops[NATOMIC] = { 0 };
	uint64_t det_runs = 0, want_no_match, gen0;
	uint32_t slot_tcp, slot_udp, gen, nrows, i;
	char tag[128], how[64];
	double t0, elapsed;
	pid_t pid;
	size_t k;

	(void)state;
	apply_lib("atomic-start", POL_X, NULL);
	for (k = 0; k < NATOMIC; k++) {
		int want = atomic_pkts[k].x_verdict;

		snprintf(tag, sizeof(tag), "atomic-start-%s", atomic_pkts[k].what);
		len[k] = build(tag, &atomic_pkts[k].pkt, frame[k]);
		v = verdict_of(tag, &atomic_pkts[k].pkt);
		check(v == want, tag, "under X: %s, expected %s", verdict_name(v),
		      verdict_name(want));
	}
	slot_tcp = slot_of("atomic-slot-tcp", &env.img[POL_X], "mix-tcp");
	slot_udp = slot_of("atomic-slot-udp", &env.img[POL_X], "mix-udp");
	active_gen("atomic-gen0", &gen, &nrows, NULL);
	gen0 = meta_generation("atomic-gen0-meta", gen);
	read_counters("atomic-counters-before", &cnt_before);

	fflush(NULL);
	pid = fork();
	check(pid >= 0, "atomic-fork", "fork: %s", strerror(errno));
	if (pid == 0)
		atomic_child(gen0);
	kid_add(pid);

	t0 = now_ms();
	for (k = 0;; k = (k + 1) % NATOMIC) {
		const struct atomic_pkt *a = &atomic_pkts[k];

		/*
		 * One run per call: with repeat > 1 the kernel yields between runs
		 * whenever the applying child wants the CPU (bpf_test_timer_continue()),
		 * about 1 ms a run when both share one.
		 */
		err = run_frame(frame[k], len[k], &v);
		if (err) {
			kill(pid, SIGKILL);
			check(0, "atomic-run", "%s: BPF_PROG_TEST_RUN: %s", a->what,
			      strerror(-err));
		}
		runs++;
		if (a->detector) {
			det_runs++;
			if (v != XDP_DROP) {
				kill(pid, SIGKILL);
				check(0, "atomic-detector",
				      "%s passed after %llu runs: judged by a mix of X and Y",
				      a->what, (unsigned long long)runs);
			}
		} else {
			if (v != a->x_verdict && v != a->y_verdict) {
				kill(pid, SIGKILL);
				check(0, "atomic-verdict", "%s: %s is neither X's nor Y's answer",
				      a->what, verdict_name(v));
			}
			if (v == XDP_PASS)
				passes[k]++;
			else
				drops[k]++;
		}
		if (runs % 256 == 0) {
			if (!done && waitpid(pid, &status, WNOHANG) == pid) {
				done = 1;
				kid_del(pid);
			}
			if (done || runs >= ATOMIC_MAX_RUNS || now_ms() - t0 > ATOMIC_MAX_MS)
				break;
		}
	}
	elapsed = now_ms() - t0;
	if (!done) {
		if (cli_wait(pid, 180000, &status)) {
			kill(pid, SIGKILL);
			check(0, "atomic-child-hung", "the applying child did not finish");
		}
	}
	describe_status(status, how, sizeof(how));
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "atomic-child",
	      "the applying child: %s", how);

	/* The counters agree: every pass observed, on its row; every drop on no_match. */
	read_counters("atomic-counters-after", &cnt_after);
	{
		uint64_t want_tcp = passes[4] + passes[5], want_udp = passes[6] + passes[7];
		uint64_t got_tcp = cnt_after.rows[slot_tcp].packets -
				   cnt_before.rows[slot_tcp].packets;
		uint64_t got_udp = cnt_after.rows[slot_udp].packets -
				   cnt_before.rows[slot_udp].packets;
		uint64_t other = 0, got_nm, moved = 0;

		for (i = 0; i < PICFW_MAX_ROWS; i++)
			if (i != slot_tcp && i != slot_udp)
				other += cnt_after.rows[i].packets - cnt_before.rows[i].packets;
		check(got_tcp == want_tcp && got_udp == want_udp && !other, "atomic-row-counters",
		      "rows counted mix-tcp +%llu mix-udp +%llu others +%llu; observed passes "
		      "%llu and %llu",
		      (unsigned long long)got_tcp, (unsigned long long)got_udp,
		      (unsigned long long)other, (unsigned long long)want_tcp,
		      (unsigned long long)want_udp);
		want_no_match = det_runs + drops[4] + drops[5] + drops[6] + drops[7];
		got_nm = cnt_after.reasons[PICFW_R_NO_MATCH].packets -
			 cnt_before.reasons[PICFW_R_NO_MATCH].packets;
		for (i = 0; i < PICFW_REASON_SLOTS; i++)
			if (i != PICFW_R_NO_MATCH)
				moved += cnt_after.reasons[i].packets -
					 cnt_before.reasons[i].packets;
		check(got_nm == want_no_match && !moved, "atomic-reason-counters",
		      "no_match +%llu (expected %llu), other reasons +%llu",
		      (unsigned long long)got_nm, (unsigned long long)want_no_match,
		      (unsigned long long)moved);
	}

	/* 500 applies, Y first: X again at the end, 500 generations later. */
	active_gen("atomic-end-gen", &gen, &nrows, NULL);
	check(meta_generation("atomic-end-meta", gen) == gen0 + ATOMIC_APPLIES,
	      "atomic-end-generation", "generation %llu, expected %llu",
	      (unsigned long long)meta_generation("atomic-end-meta2", gen),
	      (unsigned long long)(gen0 + ATOMIC_APPLIES));
	for (k = 0; k < NATOMIC; k++) {
		snprintf(tag, sizeof(tag), "atomic-end-%s", atomic_pkts[k].what);
		v = verdict_of(tag, &atomic_pkts[k].pkt);
		check(v == atomic_pkts[k].x_verdict, tag, "under X at the end: %s",
		      verdict_name(v));
	}
	printf("# atomic: %llu packets checked (%llu detector runs, %llu X-or-Y verdicts) in "
	       "%.1f s during %d applies%s\n",
	       (unsigned long long)runs, (unsigned long long)det_runs,
	       (unsigned long long)(runs - det_runs), elapsed / 1000, ATOMIC_APPLIES,
	       done ? "" : " (packet bound reached first)");
	printf("# atomic: x-only-v4 passed %llu dropped %llu, y-only-v4 passed %llu dropped %llu\n",
	       (unsigned long long)passes[4], (unsigned long long)drops[4],
	       (unsigned long long)passes[5], (unsigned long long)drops[5]);
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * 3. SIGKILL a CLI apply at varying points (it pauses 15 ms between steps).
 */
#define KILLS 40
#define KILL_PAUSE_MS 15

/* Do picfw_row_meta's labels of the active rows say what img's rows are? */
static int labels_match(const char *tag, const struct policy_image *img)
{
	static uint32_t slots[PICFW_MAX_ROWS];
	struct picfw_row_meta rm;
	uint32_t gen, nrows, i;

	active_gen(tag, &gen, &nrows, slots);
	for (i = 0; i < nrows && i < img->nrows; i++) {
		uint32_t key = gen * PICFW_MAX_ROWS + i;

		check(!bpf_map_lookup_elem(env.maps.fd[MAP_ROW_META], &key, &rm), tag,
		      "reading picfw_row_meta[%u]", key);
		if (memcmp(&rm, &img->rows[i], sizeof(rm)))
			return 0;
	}
	return nrows == img->nrows;
}

static void test_apply_killed(void **state)
{
	int status, observed, cur = 0, target, before = 0, after = 0, finished = 0;
	int stale_labels = 0;
	char tag[96], how[64];
	unsigned delay;
	pid_t pid;
	int k, v[NVEC];

	(void)state;
	apply_lib("killed-start", POL_K0, NULL);
	expect_k("killed-start-k0", 0);

	for (k = 0; k < KILLS; k++) {
		target = cur ^ 1;
		delay = (unsigned)(k * 7) % 80;
		snprintf(tag, sizeof(tag), "killed-%d-cli", k);
		pid = cli_start(tag, pol_file[POL_K0 + target], KILL_PAUSE_MS, NULL);
		sleep_ms(delay);
		kill(pid, SIGKILL);
		check(!cli_wait(pid, 10000, &status), tag, "the CLI did not die");
		describe_status(status, how, sizeof(how));
		check((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
			      (WIFEXITED(status) && WEXITSTATUS(status) == 0),
		      tag, "the CLI applying K%d: %s", target, how);

		snprintf(tag, sizeof(tag), "killed-%d-after-kill", k);
		vector(tag, v);
		observed = vector_policy(v);
		if (observed < 0) {
			char got[NVEC + 1];

			vector_text(v, got, sizeof(got));
			check(0, tag, "killed after %u ms: verdicts %s are neither K0's nor K1's",
			      delay, got);
		}
		expect_k(tag, observed);
		snprintf(tag, sizeof(tag), "killed-%d-copy", k);
		expect_copy(tag, &env.img[POL_K0 + observed]);
		if (WIFEXITED(status)) {
			snprintf(tag, sizeof(tag), "killed-%d-finished", k);
			check(observed == target, tag, "the CLI finished, K%d is not enforced",
			      target);
			finished++;
		} else if (observed == target) {
			after++;
			/* Labels are written with their generation: never stale. */
			snprintf(tag, sizeof(tag), "killed-%d-labels", k);
			if (!labels_match(tag, &env.img[POL_K0 + observed]))
				stale_labels++;
			check(!stale_labels, tag, "picfw_row_meta labels a kept row with its old ports");
		} else {
			before++;
		}

		/*
		 * The library applies over whatever the kill left: the other policy,
		 * or every second time the enforced one again, which is written into a
		 * generation that a kill before the switch left holding the other.
		 */
		cur = k % 2 ? observed : observed ^ 1;
		snprintf(tag, sizeof(tag), "killed-%d-next-apply", k);
		apply_lib(tag, POL_K0 + cur, NULL);
		snprintf(tag, sizeof(tag), "killed-%d-next", k);
		expect_k(tag, cur);
	}
	printf("# killed: %d kills landed before the switch, %d after it, %d applies finished "
	       "first\n", before, after, finished);
	printf("# killed: after %d of the %d post-switch kills picfw_row_meta still labelled a "
	       "kept row with its old ports\n", stale_labels, after);
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * 4. Refused policies: exit status 1, FILE:LINE:COL, the old policy enforced.
 */
static void snapshot(const char *tag, struct picfw_ctl *ctl, struct picfw_meta meta[2])
{
	check(!maps_read_ctl(&env.maps, ctl) && !maps_read_meta(&env.maps, 0, &meta[0]) &&
		      !maps_read_meta(&env.maps, 1, &meta[1]),
	      tag, "reading picfw_ctl and picfw_meta");
}

static void test_apply_bad_policy_keeps_old(void **state)
{
	struct picfw_meta meta0[2], meta1[2];
	struct picfw_ctl ctl0, ctl1;
	char tag[96], how[64], out[8192], path[PATH_MAX], want[PATH_MAX + 32], *at;
	int status, line, col;
	size_t b;
	pid_t pid;

	(void)state;
	apply_lib("bad-start", POL_K1, NULL);
	expect_k("bad-start-k1", 1);

	for (b = 0; b <= NBAD; b++) {
		/* The last one compiles, but no apply can give PICFW_MAX_ROWS new rows slots. */
		const char *file = b < NBAD ? bad_policies[b].file : pol_file[POL_FULL];

		snapshot("bad-snapshot-before", &ctl0, meta0);
		snprintf(tag, sizeof(tag), "bad-%s-cli", file);
		pid = cli_start(tag, file, 0, "bad.out");
		check(!cli_wait(pid, 30000, &status), tag, "the CLI did not finish");
		read_file("bad.out", out, sizeof(out));
		describe_status(status, how, sizeof(how));
		check(WIFEXITED(status) && WEXITSTATUS(status) == 1, tag,
		      "picfw apply %s: %s, expected exit status 1; output: %s", file, how, out);

		snprintf(tag, sizeof(tag), "bad-%s-message", file);
		tmp_path(path, sizeof(path), file);
		if (b < NBAD) {
			snprintf(want, sizeof(want), "%s:%d:", path, bad_policies[b].line);
			at = strstr(out, want);
			line = col = 0;
			if (at && sscanf(at + strlen(path), ":%d:%d: error: ", &line, &col) != 2)
				col = 0;
			check(at && col > 0 && strstr(at, bad_policies[b].says),
			      tag, "expected \"%sCOL: error: ...%s...\", got: %s", want,
			      bad_policies[b].says, out);
		} else {
			check(strstr(out, "no free counter slots") &&
				      strstr(out, "previous policy is still enforced"),
			      tag, "expected the out-of-slots refusal, got: %s", out);
		}

		snprintf(tag, sizeof(tag), "bad-%s-old-enforced", file);
		expect_k(tag, 1);
		snapshot("bad-snapshot-after", &ctl1, meta1);
		snprintf(tag, sizeof(tag), "bad-%s-unchanged", file);
		check(!memcmp(&ctl0, &ctl1, sizeof(ctl0)) && !memcmp(meta0, meta1, sizeof(meta0)),
		      tag, "picfw_ctl or picfw_meta changed (generations %llu/%llu -> %llu/%llu)",
		      (unsigned long long)meta0[0].generation,
		      (unsigned long long)meta0[1].generation,
		      (unsigned long long)meta1[0].generation,
		      (unsigned long long)meta1[1].generation);
	}
}

/* ---------------------------------------------------------------------------
 * 5. Counters: a kept row keeps its counts, new rows start at zero, reasons
 * are never reset.
 */
#define CNT_N 5 /* cnt-a packets under C1 */
#define CNT_K 3 /* cnt-b packets under C1 */
#define CNT_M 4 /* cnt-a packets under C2 */

static void send_n(const char *tag, const struct pkt_spec *spec, int n, int want)
{
	uint8_t frame[PKT_MAX];
	int len, i, v, err;

	len = build(tag, spec, frame);
	for (i = 0; i < n; i++) {
		err = run_frame(frame, len, &v);
		check(!err && v == want, tag, "packet %d: %s, expected %s", i,
		      err ? strerror(-err) : verdict_name(v), verdict_name(want));
	}
}

static void expect_count(const char *tag, uint32_t slot, uint64_t packets, uint64_t bytes)
{
	read_counters(tag, &cnt_after);
	check(cnt_after.rows[slot].packets == packets && cnt_after.rows[slot].bytes == bytes, tag,
	      "slot %u: %llu packets %llu bytes, expected %llu and %llu", slot,
	      (unsigned long long)cnt_after.rows[slot].packets,
	      (unsigned long long)cnt_after.rows[slot].bytes, (unsigned long long)packets,
	      (unsigned long long)bytes);
}

static void test_apply_counters_survive(void **state)
{
	const struct pkt_spec a1 = PKT_TCP4("198.51.100.7", "203.0.113.10", 7000);
	const struct pkt_spec a2 = PKT_TCP4("198.51.100.7", "203.0.113.10", 7002);
	const struct pkt_spec b1 = PKT_UDP4("198.51.100.7", "203.0.113.10", 7100);
	const struct pkt_spec c1 = PKT_UDP6("2001:db8:100::7", "2001:db8:e::10", 7200);
	static uint32_t slots[PICFW_MAX_ROWS];
	struct picfw_row_meta rm;
	uint32_t sa, sb, sc, sa2, sd, gen, nrows, i;
	uint8_t frame[PKT_MAX];
	int la, la2, lb, lc;
	struct apply_result res;

	(void)state;
	la = build("counters-a1", &a1, frame);
	la2 = build("counters-a2", &a2, frame);
	lb = build("counters-b1", &b1, frame);
	lc = build("counters-c1", &c1, frame);

	/* C1: both rows new, so both start at zero. */
	apply_lib("counters-apply-c1", POL_C1, &res);
	check(res.added == 2 && res.kept == 0, "counters-c1-result", "kept %u added %u",
	      res.kept, res.added);
	sa = slot_of("counters-slot-a", &env.img[POL_C1], "cnt-a");
	sb = slot_of("counters-slot-b", &env.img[POL_C1], "cnt-b");
	expect_count("counters-c1-a-zero", sa, 0, 0);
	expect_count("counters-c1-b-zero", sb, 0, 0);
	send_n("counters-send-a", &a1, CNT_N, XDP_PASS);
	send_n("counters-send-b", &b1, CNT_K, XDP_PASS);
	send_n("counters-send-a2-c1", &a2, 1, XDP_DROP); /* cnt-a's ports are 7000 only */
	expect_count("counters-c1-a", sa, CNT_N, (uint64_t)CNT_N * la);
	expect_count("counters-c1-b", sb, CNT_K, (uint64_t)CNT_K * lb);
	read_counters("counters-reasons-before", &cnt_before);

	/* C2: cnt-a kept (other ports), cnt-b removed, cnt-c new. */
	apply_lib("counters-apply-c2", POL_C2, &res);
	check(res.kept == 1 && res.added == 1 && res.removed == 1, "counters-c2-result",
	      "kept %u added %u removed %u", res.kept, res.added, res.removed);
	sa2 = slot_of("counters-slot-a2", &env.img[POL_C2], "cnt-a");
	sc = slot_of("counters-slot-c", &env.img[POL_C2], "cnt-c");
	check(sa2 == sa, "counters-a-same-slot", "cnt-a moved from slot %u to %u", sa, sa2);
	check(sc != sa, "counters-c-own-slot", "cnt-c shares cnt-a's slot %u", sa);
	expect_count("counters-c2-a-kept", sa, CNT_N, (uint64_t)CNT_N * la);
	expect_count("counters-c2-c-zero", sc, 0, 0);
	for (i = 0; i < PICFW_REASON_SLOTS; i++)
		check(cnt_after.reasons[i].packets == cnt_before.reasons[i].packets &&
			      cnt_after.reasons[i].bytes == cnt_before.reasons[i].bytes,
		      "counters-reasons-kept",
		      "reason slot %u: %llu packets before the apply, %llu after", i,
		      (unsigned long long)cnt_before.reasons[i].packets,
		      (unsigned long long)cnt_after.reasons[i].packets);

	/* cnt-b is gone from the active generation's rows; cnt-a is labelled with its new ports. */
	active_gen("counters-c2-gen", &gen, &nrows, slots);
	check(nrows == 2, "counters-c2-nrows", "%u rows active, expected 2", nrows);
	for (i = 0; i < nrows; i++) {
		uint32_t key = gen * PICFW_MAX_ROWS + i;

		check(!bpf_map_lookup_elem(env.maps.fd[MAP_ROW_META], &key, &rm),
		      "counters-row-meta", "reading picfw_row_meta[%u]", key);
		check(strcmp(rm.name, "cnt-b"), "counters-b-gone",
		      "row %u (slot %u) of the active generation is still cnt-b", i, slots[i]);
		if (slots[i] == sa)
			check(!strcmp(rm.name, "cnt-a") && rm.port_lo == 7001 && rm.port_hi == 7002,
			      "counters-a-relabelled", "slot %u is labelled %s %u-%u", sa, rm.name,
			      rm.port_lo, rm.port_hi);
	}

	/* The kept row counts on: N + M. */
	send_n("counters-send-a-old-port", &a1, 1, XDP_DROP);
	send_n("counters-send-a-new-port", &a2, CNT_M, XDP_PASS);
	send_n("counters-send-c", &c1, 1, XDP_PASS);
	expect_count("counters-c2-a-sum", sa, CNT_N + CNT_M,
		     (uint64_t)CNT_N * la + (uint64_t)CNT_M * la2);
	expect_count("counters-c2-c-one", sc, 1, (uint64_t)lc);
	read_counters("counters-reasons-grow", &cnt_after);
	for (i = 0; i < PICFW_REASON_SLOTS; i++)
		check(cnt_after.reasons[i].packets >= cnt_before.reasons[i].packets,
		      "counters-reasons-grow", "reason slot %u went from %llu to %llu", i,
		      (unsigned long long)cnt_before.reasons[i].packets,
		      (unsigned long long)cnt_after.reasons[i].packets);

	/* C3: cnt-d new, perhaps in cnt-b's old slot (which holds CNT_K): it starts at zero. */
	apply_lib("counters-apply-c3", POL_C3, &res);
	check(res.kept == 2 && res.added == 1 && res.removed == 0, "counters-c3-result",
	      "kept %u added %u removed %u", res.kept, res.added, res.removed);
	sd = slot_of("counters-slot-d", &env.img[POL_C3], "cnt-d");
	expect_count("counters-c3-d-zero", sd, 0, 0);
	expect_count("counters-c3-a", sa, CNT_N + CNT_M,
		     (uint64_t)CNT_N * la + (uint64_t)CNT_M * la2);
	expect_count("counters-c3-c", sc, 1, (uint64_t)lc);
	printf("# counters: cnt-a slot %u, cnt-b slot %u, cnt-c slot %u, cnt-d slot %u%s\n", sa,
	       sb, sc, sd, sd == sb ? " (cnt-b's old slot, zeroed)" : "");
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * 6. Concurrent CLI applies are serialised; the apply lock makes one wait.
 */
#define CONCURRENT_ROUNDS 5

static void test_apply_concurrent_serialised(void **state)
{
	uint64_t gen_before, gen_after;
	int r, sa, sb, which, lock, status, v[NVEC], ka = 0, kb = 0;
	uint32_t gen, nrows;
	char tag[96], how[64];
	pid_t a, b, c;

	(void)state;
	apply_lib("concurrent-start", POL_K0, NULL);
	expect_k("concurrent-start-k0", 0);

	for (r = 0; r < CONCURRENT_ROUNDS; r++) {
		active_gen("concurrent-gen", &gen, &nrows, NULL);
		gen_before = meta_generation("concurrent-gen-before", gen);
		snprintf(tag, sizeof(tag), "concurrent-%d-start", r);
		a = cli_start(tag, pol_file[POL_K0], 5, NULL);
		b = cli_start(tag, pol_file[POL_K1], 5, NULL);
		snprintf(tag, sizeof(tag), "concurrent-%d-a", r);
		sa = cli_wait(a, 30000, &status);
		describe_status(status, how, sizeof(how));
		check(!sa && WIFEXITED(status) && WEXITSTATUS(status) == 0, tag,
		      "picfw apply K0: %s", sa ? "did not finish" : how);
		snprintf(tag, sizeof(tag), "concurrent-%d-b", r);
		sb = cli_wait(b, 30000, &status);
		describe_status(status, how, sizeof(how));
		check(!sb && WIFEXITED(status) && WEXITSTATUS(status) == 0, tag,
		      "picfw apply K1: %s", sb ? "did not finish" : how);

		snprintf(tag, sizeof(tag), "concurrent-%d-final", r);
		vector(tag, v);
		which = vector_policy(v);
		check(which >= 0, tag, "after two applies the verdicts are neither K0's nor K1's");
		expect_k(tag, which);
		if (which)
			kb++;
		else
			ka++;
		active_gen(tag, &gen, &nrows, NULL);
		gen_after = meta_generation(tag, gen);
		snprintf(tag, sizeof(tag), "concurrent-%d-generations", r);
		check(gen_after == gen_before + 2, tag, "generation %llu -> %llu, expected +2",
		      (unsigned long long)gen_before, (unsigned long long)gen_after);
	}

	/* The lock held here: a CLI apply waits for it, then finishes. */
	apply_lib("concurrent-lock-start", POL_K0, NULL);
	lock = picfw_lock(env.ifname);
	check(lock >= 0, "concurrent-lock", "picfw_lock: %s", strerror(-lock));
	c = cli_start("concurrent-lock-cli", pol_file[POL_K1], 0, NULL);
	sleep_ms(200);
	if (waitpid(c, &status, WNOHANG) != 0) {
		kid_del(c);
		close(lock);
		describe_status(status, how, sizeof(how));
		check(0, "concurrent-lock-waits", "the CLI did not wait for the lock: %s", how);
	}
	vector("concurrent-lock-held", v);
	if (vector_policy(v) != 0) {
		close(lock);
		check(0, "concurrent-lock-held", "K1 enforced while the lock is held");
	}
	close(lock);
	check(!cli_wait(c, 30000, &status), "concurrent-lock-released",
	      "the CLI did not finish after the lock was released");
	describe_status(status, how, sizeof(how));
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "concurrent-lock-exit",
	      "picfw apply K1 after the lock: %s", how);
	expect_k("concurrent-lock-k1", 1);
	printf("# concurrent: %d rounds ended with K0, %d with K1\n", ka, kb);
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * 7. Protected prefixes across three applies. An apply clears the generation
 * it leaves and marks it clean; the apply after next writes into it without
 * walking its tries again. P1, P2 and P3 protect prefixes (picfw_prot4/6, not
 * the inline host addresses): after P1, P2, P3 the generation P3 went into
 * held P1, and P1's prefixes must be gone from it.
 */
struct prefix_probe {
	const char *what;
	struct pkt_spec pkt;
	struct want want; /* under P3 */
};

static const struct prefix_probe p3_probes[] = {
	{ "p1-edge-v4-unprotected", PKT_TCP4("198.51.100.7", "203.0.113.5", 80), UNPROT },
	{ "p1-edge-v6-unprotected", PKT_TCP6("2001:db8:100::7", "2001:db8:e:1::5", 80), UNPROT },
	{ "p1-edge-v4-sip-unprotected", PKT_TCP4("198.51.100.7", "203.0.113.5", 5061), UNPROT },
	{ "p2-edge-v4-unprotected", PKT_TCP4("198.51.100.7", "203.0.113.20", 80), UNPROT },
	{ "p2-edge-v6-unprotected", PKT_TCP6("2001:db8:100::7", "2001:db8:e:2::5", 80), UNPROT },
	{ "p3-edge-v4-no-match", PKT_TCP4("198.51.100.7", "203.0.113.40", 80), NO_MATCH },
	{ "p3-edge-v6-no-match", PKT_TCP6("2001:db8:100::7", "2001:db8:e:3::5", 80), NO_MATCH },
	{ "p3-edge-v4-sip", PKT_TCP4("198.51.100.7", "203.0.113.40", 5061), ON_ROW("sip") },
	{ "p3-edge-v6-sip", PKT_TCP6("2001:db8:100::7", "2001:db8:e:3::5", 5061), ON_ROW("sip") },
};

#define NP3 (sizeof(p3_probes) / sizeof(p3_probes[0]))

static void test_apply_protected_prefixes_cleared(void **state)
{
	const struct pkt_spec p1_edge = PKT_TCP4("198.51.100.7", "203.0.113.5", 80);
	const struct want no_match = NO_MATCH;
	uint32_t gen, gen_p1, nrows;
	char tag[96];
	size_t k;
	int fails = 0;

	(void)state;
	check(!env.img[POL_P1].cfg.prot_inline && !env.img[POL_P3].cfg.prot_inline,
	      "prefixes-not-inline", "table error: P1 and P3 must protect prefixes, not hosts");
	apply_lib("prefixes-p1", POL_P1, NULL);
	/* P1 is enforced: its Edge is protected. */
	check(!probe("prefixes-p1-protected", &env.img[POL_P1], &p1_edge, &no_match),
	      "prefixes-p1-protected", "P1 does not protect 203.0.113.5");
	active_gen("prefixes-p1-gen", &gen_p1, &nrows, NULL);
	apply_lib("prefixes-p2", POL_P2, NULL);
	apply_lib("prefixes-p3", POL_P3, NULL);
	active_gen("prefixes-p3-gen", &gen, &nrows, NULL);
	check(gen == gen_p1, "prefixes-p3-gen", "P3 went into generation %u, P1 was in %u", gen,
	      gen_p1);
	for (k = 0; k < NP3; k++) {
		snprintf(tag, sizeof(tag), "prefixes-p3-%s", p3_probes[k].what);
		fails += probe(tag, &env.img[POL_P3], &p3_probes[k].pkt, &p3_probes[k].want);
	}
	check(!fails, "prefixes-p3", "P3 does not answer as the table says: a prefix of an "
	      "earlier policy is still protected");
}

/* ---------------------------------------------------------------------------
 * 8. A failing writer, deterministically. The test binary is linked with
 * --wrap for the calls that write maps (bpf_map_update_elem,
 * bpf_map_delete_elem, and mmap for writing): while armed, the K-th such call
 * fails. A first apply K0 -> K1 counts the calls; then for every K an apply
 * fails at call K, and the datapath must answer as K0 whole with picfw_ctl
 * and the active generation's picfw_meta unchanged, or, when the failure came
 * after the switch, as K1 whole. The next apply must then work. Both ways
 * into the inactive generation are covered: clean (the last apply cleared
 * it) and dirty (a writer died in it, leaving another policy's entries).
 */
static struct {
	int armed;
	int fail_at; /* the call that fails, counted from 0; -1: none */
	int calls;   /* map-writing calls since armed */
} inject = { .fail_at = -1 };

static int inject_now(void)
{
	return inject.armed && inject.calls++ == inject.fail_at;
}

int __real_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
int __real_bpf_map_delete_elem(int fd, const void *key);
int __wrap_bpf_map_delete_elem(int fd, const void *key);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	if (inject_now()) {
		errno = ENOSPC;
		return -ENOSPC;
	}
	return __real_bpf_map_update_elem(fd, key, value, flags);
}

int __wrap_bpf_map_delete_elem(int fd, const void *key)
{
	if (inject_now()) {
		errno = EIO;
		return -EIO;
	}
	return __real_bpf_map_delete_elem(fd, key);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if ((prot & PROT_WRITE) && fd >= 0 && inject_now()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}

/*
 * picfw_apply() of id with the K-th map write failing (-1: none): its return
 * value (its reason goes to stderr, through the logging funnel).
 */
static int apply_failing_at(enum pol_id id, int k, int *calls)
{
	struct apply_result res;
	int ret;

	inject.calls = 0;
	inject.fail_at = k;
	inject.armed = 1;
	ret = picfw_apply(env.ifname, pol_file[id], &env.pol[id], &env.img[id], &res);
	inject.armed = 0;
	inject.fail_at = -1;
	if (calls)
		*calls = inject.calls;
	return ret;
}

/*
 * The inactive generation as a writer killed half way leaves it: another
 * policy's entries (X's) and metadata that does not say clean.
 */
static void make_inactive_dirty(const char *tag)
{
	static uint32_t slots[PICFW_MAX_ROWS];
	struct picfw_meta meta;
	uint32_t gen, nrows, i;
	int err;

	active_gen(tag, &gen, &nrows, NULL);
	for (i = 0; i < env.img[POL_X].nrows; i++)
		slots[i] = PICFW_MAX_ROWS - 1 - i;
	err = maps_write_generation(&env.maps, gen ^ 1, &env.img[POL_X], slots);
	check(!err, tag, "writing X into generation %u: %s", gen ^ 1, strerror(-err));
	err = maps_read_meta(&env.maps, gen, &meta);
	check(!err, tag, "reading picfw_meta[%u]: %s", gen, strerror(-err));
	meta.generation++;
	err = maps_write_meta(&env.maps, gen ^ 1, &meta);
	check(!err, tag, "writing picfw_meta[%u]: %s", gen ^ 1, strerror(-err));
}

/* Fewer calls than this in a whole apply: the wrappers no longer see the writes. */
#define MIN_WRITE_CALLS 12

static void test_apply_failing_writer(void **state)
{
	static const char *const ways[] = { "clean", "dirty" };
	int way, k, n, ret, before = 0, after = 0;
	struct picfw_meta meta0[2], meta1[2];
	struct picfw_ctl ctl0, ctl1;
	char tag[96];
	uint32_t a;

	(void)state;
	apply_lib("writer-start", POL_K0, NULL);
	expect_k("writer-start-k0", 0);
	for (way = 0; way < 2; way++) {
		/* Count the calls of a whole apply, then put K0 back. */
		snprintf(tag, sizeof(tag), "writer-%s-count", ways[way]);
		if (way)
			make_inactive_dirty(tag);
		ret = apply_failing_at(POL_K1, -1, &n);
		check(!ret, tag, "picfw_apply(K1): %s", strerror(-ret));
		check(n >= MIN_WRITE_CALLS, tag,
		      "an apply made %d map-writing calls that the wrappers saw, expected %d or "
		      "more: does the library still write through bpf_map_update_elem()?",
		      n, MIN_WRITE_CALLS);
		expect_k(tag, 1);
		apply_lib(tag, POL_K0, NULL);

		for (k = 0; k < n; k++) {
			snprintf(tag, sizeof(tag), "writer-%s-%d", ways[way], k);
			if (way)
				make_inactive_dirty(tag);
			snapshot(tag, &ctl0, meta0);
			a = ctl0.active & 1;
			ret = apply_failing_at(POL_K1, k, NULL);
			snapshot(tag, &ctl1, meta1);
			if ((ctl1.active & 1) == a) {
				/* Not switched: a failure, the active generation untouched, K0 whole. */
				check(ret < 0, tag, "picfw_apply(K1) failing at map write %d of %d "
				      "returned %d before the switch, expected a negative errno",
				      k, n, ret);
				check(!memcmp(&ctl0.gen[a], &ctl1.gen[a], sizeof(ctl0.gen[a])) &&
					      !memcmp(&meta0[a], &meta1[a], sizeof(meta0[a])),
				      tag, "failing at map write %d of %d: the active generation's "
				      "settings or metadata changed", k, n);
				expect_k(tag, 0);
				before++;
			} else {
				/*
				 * Switched, then the cleanup failed (the grace period, the
				 * clear): K1 is applied and whole, so the apply succeeded
				 * (with a warning); the next apply clears the old generation.
				 */
				check(ret == 0, tag, "picfw_apply(K1) failing at map write %d of %d "
				      "after the switch returned %d, expected 0 (applied)", k, n, ret);
				expect_k(tag, 1);
				after++;
			}
			snprintf(tag, sizeof(tag), "writer-%s-%d-next", ways[way], k);
			apply_lib(tag, POL_K0, NULL);
			expect_k(tag, 0);
		}
	}
	printf("# failing writer: %d failures left K0 enforced, %d came after the switch "
	       "(K1 enforced whole)\n", before, after);
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * Setup: load, pin, write the first policy as `picfw attach` does.
 */
static int setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int setup_fail(const char *fmt, ...)
{
	va_list ap;

	printf("# setup: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return -1;
}

/*
 * What fill_maps() in attach.c does on new maps: row i counts in slot i,
 * generation 0's metadata (generation 1; tc_attached as after an attach
 * whose TC egress program went in, since the policies keep the default
 * `replies tracked`; every row here is inbound, so no flow is ever looked
 * up), generation 0 written and activated.
 */
static int write_first_policy(const struct policy_image *img)
{
	struct picfw_gen_cfg cfg = img->cfg;
	struct picfw_meta meta = { 0 };
	uint32_t slots[PICFW_MAX_ROWS], i;
	uint64_t digest = image_digest(img);
	int err;

	for (i = 0; i < img->nrows; i++)
		slots[i] = i;
	snprintf(meta.policy_path, sizeof(meta.policy_path), "%s", pol_file[POL_S0]);
	meta.attach_time = meta.apply_time = (uint64_t)time(NULL);
	meta.generation = 1;
	meta.nrows = img->nrows;
	meta.tc_attached = 1;
	memcpy(meta.digest, &digest, sizeof(digest));
	err = maps_write_meta(&env.maps, 0, &meta);
	if (err)
		return setup_fail("maps_write_meta(0): %s", strerror(-err));
	err = maps_write_generation(&env.maps, 0, img, slots);
	if (err)
		return setup_fail("maps_write_generation(0): %s", strerror(-err));
	err = maps_activate(&env.maps, 0, &cfg);
	if (err)
		return setup_fail("maps_activate(0): %s", strerror(-err));
	return 0;
}

static int group_setup(void **state)
{
	const char *bin = getenv("PICFW_BIN"), *srcdir = getenv("PICFW_SRCDIR");
	char path[PICFW_PATH_LEN + 64];
	int ret, i;
	struct stat st;

	(void)state;
	if (bin && *bin)
		snprintf(env.cli, sizeof(env.cli), "%s", bin);
	else
		snprintf(env.cli, sizeof(env.cli), "%s/" PICFW_BUILD_DIR "/picfw-test",
			 srcdir && *srcdir ? srcdir : ".");
	if (access(env.cli, X_OK))
		return setup_fail("no picfw CLI at %s (set PICFW_BIN or PICFW_SRCDIR)", env.cli);

	snprintf(env.tmpdir, sizeof(env.tmpdir), "/tmp/picfw-apply.XXXXXX");
	if (!mkdtemp(env.tmpdir)) {
		env.tmpdir[0] = 0;
		return setup_fail("mkdtemp: %s", strerror(errno));
	}
	for (i = 0; i < POL_COUNT; i++)
		if (write_file(pol_file[i], i == POL_FULL ? env.full_text : pol_text[i]))
			return setup_fail("writing %s: %s", pol_file[i], strerror(errno));
	for (i = 0; i < (int)NBAD; i++)
		if (write_file(bad_policies[i].file, bad_policies[i].text))
			return setup_fail("writing %s: %s", bad_policies[i].file, strerror(errno));

	env.skel = picfw_bpf__open_and_load();
	if (!env.skel)
		return setup_fail("loading the BPF program: %s", strerror(errno));
	env.prog_fd = bpf_program__fd(env.skel->progs.picfw_xdp);
	ret = maps_from_skel(env.skel, &env.maps);
	if (ret)
		return setup_fail("the program's maps: %s", strerror(-ret));
	env.maps_ok = 1;

	/* Looks attached: bpffs, the pins under a name no interface has. */
	if (bpffs_ensure("test_apply"))
		return setup_fail("no bpffs (the reason is on stderr)");
	snprintf(env.ifname, sizeof(env.ifname), "pfapply%d", (int)getpid());
	env.run_dir_existed = !stat(PICFW_RUN_DIR, &st);
	if (mkdir(pin_root(), 0700) && errno != EEXIST)
		return setup_fail("mkdir %s: %s", pin_root(), strerror(errno));
	if (pin_dir(env.ifname, env.pins, sizeof(env.pins)))
		return setup_fail("pin directory name too long");
	if (mkdir(env.pins, 0700)) {
		ret = errno;
		env.pins[0] = 0; /* not ours: leave it */
		return setup_fail("mkdir pin directory: %s", strerror(ret));
	}
	for (i = 0; i < MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", env.pins, map_names[i]);
		if (bpf_obj_pin(env.maps.fd[i], path))
			return setup_fail("pinning %s: %s", path, strerror(errno));
	}
	if (write_first_policy(&env.img[POL_S0]))
		return -1;
	ret = policy_copy_save(env.ifname, 0, &env.pol[POL_S0]);
	if (ret)
		return setup_fail("policy_copy_save: %s", strerror(-ret));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	if (env.maps_ok)
		maps_close(&env.maps);
	env.maps_ok = 0;
	picfw_bpf__destroy(env.skel);
	env.skel = NULL;
	return 0;
}

/* ---------------------------------------------------------------------------
 * main: parse the policies, then run the group (or SKIP it all without root).
 */
static char *full_policy_text(void)
{
	size_t cap = 256 + PICFW_MAX_ROWS * 64, n;
	char *t = malloc(cap);
	unsigned i;

	if (!t)
		return NULL;
	n = (size_t)snprintf(t, cap, "set edge = 203.0.113.10, 2001:db8:e::10\nprotect edge\n");
	for (i = 0; i < PICFW_MAX_ROWS; i++)
		n += (size_t)snprintf(t + n, cap - n, "fill-%u: F/f/TCP/%u any edge\n", i,
				      20000 + i);
	return t;
}

static int parse_policies(void)
{
	struct policy_errors errs = { 0 };
	char err[256];
	int id;

	env.full_text = full_policy_text();
	if (!env.full_text) {
		printf("Bail out! out of memory\n");
		return -1;
	}
	for (id = 0; id < POL_COUNT; id++) {
		const char *text = id == POL_FULL ? env.full_text : pol_text[id];

		if (policy_parse(pol_file[id], text, strlen(text), &env.pol[id], &errs)) {
			printf("Bail out! the test policy %s does not parse\n", pol_file[id]);
			policy_errors_print(stdout, pol_file[id], &errs);
			policy_errors_free(&errs);
			return -1;
		}
		policy_errors_free(&errs);
		if (compile_policy(&env.pol[id], &env.img[id], err, sizeof(err))) {
			printf("Bail out! the test policy %s does not compile: %s\n", pol_file[id],
			       err);
			return -1;
		}
	}
	return 0;
}

/*
 * Another version's filter in env's pins: opening refuses it (-EPROTO), apply
 * refuses it and writes nothing (picfw_ctl still before), detach's opening
 * takes it. tag names the checks (TAG-open, TAG-apply, TAG-detach).
 */
static void expect_refused_whole(const char *tag, const struct picfw_ctl *before)
{
	struct apply_result res;
	struct picfw_ctl after;
	struct picfw_maps m;
	char t[64];
	int ret;

	ret = maps_open_pinned(env.ifname, &m);
	snprintf(t, sizeof(t), "%s-open", tag);
	check(ret == -EPROTO, t, "maps_open_pinned: %d, want -EPROTO", ret);
	if (!ret)
		maps_close(&m);
	ret = picfw_apply(env.ifname, pol_file[POL_K1], &env.pol[POL_K1], &env.img[POL_K1], &res);
	snprintf(t, sizeof(t), "%s-apply", tag);
	check(ret == -EPROTO, t, "picfw_apply: %d, want -EPROTO", ret);
	check(!maps_read_ctl(&env.maps, &after) && !memcmp(before, &after, sizeof(after)), t,
	      "the program's picfw_ctl changed");
	ret = maps_open_pinned_any_version(env.ifname, &m);
	snprintf(t, sizeof(t), "%s-detach", tag);
	check(!ret, t, "maps_open_pinned_any_version: %d", ret);
	if (!ret)
		maps_close(&m);
}

/* This version's filter in env's pins again: opened. */
static void expect_opens(const char *tag)
{
	struct picfw_maps m;
	int ret = maps_open_pinned(env.ifname, &m);

	check(!ret, tag, "maps_open_pinned: %d", ret);
	if (!ret)
		maps_close(&m);
}

/*
 * A filter pinned by another version of picfw: its picfw_ctl of another
 * value size (the previous version's generation settings were 16 bytes
 * shorter each). apply must refuse it whole (-EPROTO) and write nothing,
 * whatever it would have read; detach's opening still takes it.
 */
static void test_apply_other_version_refused(void **state)
{
	char path[PATH_MAX + 64];
	struct picfw_ctl before;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", env.pins, map_names[MAP_CTL]);
	check(!maps_read_ctl(&env.maps, &before), "other-version", "reading picfw_ctl");
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "picfw_ctl", sizeof(__u32),
			    sizeof(struct picfw_ctl) - 2 * 16, 1, NULL);
	check(fd >= 0, "other-version", "creating a picfw_ctl of the old size: %s",
	      strerror(errno));
	check(!unlink(path) && !bpf_obj_pin(fd, path), "other-version", "pinning it: %s",
	      strerror(errno));

	expect_refused_whole("other-version", &before);

	/* This version's map back in place: opened again. */
	check(!unlink(path) && !bpf_obj_pin(env.maps.fd[MAP_CTL], path), "other-version",
	      "pinning picfw_ctl back: %s", strerror(errno));
	close(fd);
	expect_opens("other-version-back");
}

/*
 * An older picfw's filter has fewer maps (before picfw_reply_hints, say):
 * refused whole as another version's, not taken for no filter at all.
 */
static void test_apply_missing_map_refused(void **state)
{
	char path[PATH_MAX + 64];
	struct picfw_ctl before;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", env.pins, map_names[MAP_COUNT - 1]);
	check(!maps_read_ctl(&env.maps, &before), "missing-map", "reading picfw_ctl");
	check(!unlink(path), "missing-map", "unpinning %s: %s", map_names[MAP_COUNT - 1],
	      strerror(errno));

	expect_refused_whole("missing-map", &before);

	check(!bpf_obj_pin(env.maps.fd[MAP_COUNT - 1], path), "missing-map",
	      "pinning it back: %s", strerror(errno));
	expect_opens("missing-map-back");
}

/*
 * A filter whose maps have this version's sizes but another meaning: its
 * picfw_meta says another PICFW_LAYOUT (a drop-log record or a clock
 * changed, say). Refused whole as above, nothing written; detach's opening
 * takes it. This version's own writes carry its layout.
 */
static void test_apply_other_layout_refused(void **state)
{
	struct picfw_meta saved[PICFW_GENERATIONS], meta;
	struct picfw_ctl before;
	__u32 gen, active;

	(void)state;
	check(!maps_read_ctl(&env.maps, &before), "other-layout", "reading picfw_ctl");
	active = before.active & 1;
	for (gen = 0; gen < PICFW_GENERATIONS; gen++)
		check(!maps_read_meta(&env.maps, gen, &saved[gen]), "other-layout",
		      "reading picfw_meta[%u]", gen);
	check(saved[active].layout == PICFW_LAYOUT, "other-layout-written",
	      "the active generation's meta says layout %u, want %u", saved[active].layout,
	      PICFW_LAYOUT);
	meta = saved[active];
	meta.layout = PICFW_LAYOUT + 1;
	check(!bpf_map_update_elem(env.maps.fd[MAP_META], &active, &meta, BPF_ANY), "other-layout",
	      "writing picfw_meta: %s", strerror(errno));

	expect_refused_whole("other-layout", &before);

	/* As it was: opened again. */
	check(!bpf_map_update_elem(env.maps.fd[MAP_META], &active, &saved[active], BPF_ANY),
	      "other-layout", "writing picfw_meta back: %s", strerror(errno));
	expect_opens("other-layout-back");
}

/* An array map of 2 values of size bytes, the first filled with fill's bytes. */
static int meta_map_of(__u32 size, const void *fill)
{
	__u32 key = 0;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "other_meta", sizeof(__u32), size, 2, NULL);
	check(fd >= 0, "read-prefix", "creating a map of %u-byte values: %s", size,
	      strerror(errno));
	check(!bpf_map_update_elem(fd, &key, fill, BPF_ANY), "read-prefix", "writing it");
	return fd;
}

/*
 * detach's reads of picfw_ctl and picfw_meta take a map of any value size:
 * a larger one (a later version's) is read into this one's structure
 * without writing past it, a smaller one's missing end reads as zeros.
 */
static void test_apply_read_prefix_any_size(void **state)
{
	struct {
		struct picfw_meta meta;
		unsigned char after[64];
	} out;
	unsigned char big[sizeof(struct picfw_meta) + 64];
	struct picfw_maps m;
	size_t i;
	int fd;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(big, 0xab, sizeof(big));
	fd = meta_map_of(sizeof(big), big);
	m.fd[MAP_META] = fd;
	memset(&out, 0x5a, sizeof(out));
	check(!maps_read_prefix(&m, MAP_META, 0, &out.meta, sizeof(out.meta)), "read-prefix-larger",
	      "maps_read_prefix failed");
	for (i = 0; i < sizeof(out.after); i++)
		check(out.after[i] == 0x5a, "read-prefix-larger", "byte %zu past the structure written",
		      i);
	check(((unsigned char *)&out.meta)[0] == 0xab &&
		      ((unsigned char *)&out.meta)[sizeof(out.meta) - 1] == 0xab,
	      "read-prefix-larger", "the structure not read whole");
	close(fd);

	fd = meta_map_of(16, big);
	m.fd[MAP_META] = fd;
	memset(&out, 0x5a, sizeof(out));
	check(!maps_read_prefix(&m, MAP_META, 0, &out.meta, sizeof(out.meta)), "read-prefix-smaller",
	      "maps_read_prefix failed");
	check(((unsigned char *)&out.meta)[15] == 0xab && ((unsigned char *)&out.meta)[16] == 0 &&
		      ((unsigned char *)&out.meta)[sizeof(out.meta) - 1] == 0 && out.after[0] == 0x5a,
	      "read-prefix-smaller", "want the map's 16 bytes, then zeros, and nothing past");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_series),
		cmocka_unit_test(test_apply_atomic),
		cmocka_unit_test(test_apply_killed),
		cmocka_unit_test(test_apply_bad_policy_keeps_old),
		cmocka_unit_test(test_apply_counters_survive),
		cmocka_unit_test(test_apply_concurrent_serialised),
		cmocka_unit_test(test_apply_protected_prefixes_cleared),
		cmocka_unit_test(test_apply_failing_writer),
		cmocka_unit_test(test_apply_other_version_refused),
		cmocka_unit_test(test_apply_other_layout_refused),
		cmocka_unit_test(test_apply_missing_map_refused),
		cmocka_unit_test(test_apply_read_prefix_any_size),
	};
	size_t n = sizeof(tests) / sizeof(tests[0]), i;
	struct sigaction sa = { .sa_handler = on_signal };
	int ret, id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(test_libbpf_print);
	env.main_pid = getpid();

	if (!have_bpf_caps()) {
		printf("1..%zu\n", n);
		for (i = 0; i < n; i++)
			printf("ok %zu - %s # SKIP needs root (CAP_BPF and CAP_NET_ADMIN)\n", i + 1,
			       tests[i].name);
		return 0;
	}
	if (parse_policies())
		return 1;

	atexit(cleanup);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	cmocka_set_message_output(CM_OUTPUT_TAP);
	ret = cmocka_run_group_tests_name("apply", tests, group_setup, group_teardown);

	for (id = 0; id < POL_COUNT; id++) {
		image_free(&env.img[id]);
		policy_free(&env.pol[id]);
	}
	free(env.full_text);
	return ret ? 1 : 0;
}
