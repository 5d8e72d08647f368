// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * testrun.c - ns per packet of XDP programs through BPF_PROG_TEST_RUN, for
 * `make bench` (scripts/bench.sh).
 *
 * Programs under test, all loaded first, then measured in interleaved rounds
 * (each round runs every program on every packet once, in an order that
 * rotates from round to round, so that drift over time hits all alike):
 *
 *   --floor OBJ          an object whose XDP program bench_floor is the floor
 *   --floor-tc OBJ       an object whose TC program bench_floor_tc is the
 *                        egress floor (after --floor)
 *   --probes OBJ         every program of OBJ (bench/probes.bpf.c: the floor
 *                        plus one operation each), on the first packet only
 *   --picfw NAME=POLICY  picfw from its skeleton, its maps filled by the
 *                        library (policy_load, compile_policy,
 *                        maps_write_clean_generation, maps_activate) as
 *                        `picfw attach` does; nothing is attached
 *   --picfw-droplog NAME=POLICY  the same with the drop log on, as while
 *                        `picfw log` runs: a lease, the default rate (1,000
 *                        samples/s per CPU); the ring is drained before each
 *                        measurement, as a reader would
 *   --prog NAME=ID       a program someone else loaded (xdp-filter), by id
 *   --xdpf-ip NAME=ID:N  xdp-filter in IP mode, by id, with N source
 *                        addresses in its filter_ipv4/filter_ipv6 maps
 *                        (the PIC partners first, then synthetic ones, half
 *                        each family). xdp-filter's programs share those
 *                        pinned maps, so they are filled right before this
 *                        program's turn and emptied after it: the ports-mode
 *                        program sees them empty, as a ports-only setup has.
 *
 * Packets: hit (allowed by etc/pic.policy) and miss for IPv4 TCP, IPv6 TCP,
 * IPv4 UDP, IPv6 TCP behind two extension headers, 802.1Q-tagged IPv4 TCP,
 * and replies of an outbound flow (the flow is first recorded by picfw's TC
 * egress program from the Edge's SYN, before each of its measurements), plus
 * a miss on a port no row names, and a hit from a client whose ephemeral
 * source port lies in an outbound row's range (picfw then looks for a flow
 * first). Frames are padded to 60 bytes (a 64-byte
 * frame on the wire, FCS excluded). --packet KIND runs that kind alone (an
 * XDP one, which --list-packets names, or an egress one: egress-flow,
 * egress-answer, egress-answer-udp), and --lines FILE (before the
 * --picfw it is for) writes where picfw_xdp's source lines landed in its
 * JITed image: for profiling with perf (bench/profile.sh).
 *
 * Output, one CSV line each (the script turns them into tables):
 *   run,ROUND,PROGRAM,PACKET,VERDICT,EXPECT,NS       ns = opts.duration
 *   info,PROGRAM,KEY,VALUE                           sizes, memory, insns
 * EXPECT is picfw's verdict for the packet (the others' is whatever it is).
 *
 * Needs root (CAP_BPF, CAP_SYS_ADMIN for programs by id).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "picfw.h"
#include "policy.h"
#include "compile.h"
#include "clock.h"
#include "maps.h"
#include "attach.h"
#include "picfw.skel.h"
#include "packets.h"

#define MAX_PROGS 32
#define FRAME_MIN 60 /* 64 bytes on the wire, without the FCS */

/* xdp-filter's map flags (xdp-filter/common_kern_user.h). */
#define XDPF_FLAG_SRC (1 << 0)

enum prog_kind {
	KIND_OBJ,     /* --floor */
	KIND_PICFW,   /* --picfw */
	KIND_ID,      /* --prog */
	KIND_XDPF_IP, /* --xdpf-ip */
	KIND_PROBE,   /* --probes: one operation above the floor, first packet only */
};

struct prog {
	char name[64];
	enum prog_kind kind;
	int fd;
	int tc_fd; /* picfw: the egress program, to record flows */
	struct bpf_object *obj;
	struct picfw_bpf *skel;
	/* --xdpf-ip */
	int map4_fd, map6_fd;
	unsigned naddrs;
	/* --picfw-droplog: the drop log's ring, drained before each measurement */
	struct ring_buffer *droplog;
};

/* What the packet is, what picfw must do with it. */
struct bench_packet {
	const char *name;
	int expect; /* XDP_PASS or XDP_DROP */
	int reply;  /* needs the outbound flow recorded first */
	struct pkt_spec spec;
};

#define EDGE4 "203.0.113.10"
#define EDGE6 "2001:db8:e::10"
#define PARTNER4 "198.51.100.7"
#define PARTNER6 "2001:db8:100::7"
#define STRANGER4 "192.0.2.66"
#define STRANGER6 "2001:db8:bad::66"

#define TCP4(s, d, sp, dp, fl)                                                                   \
	.family = 4, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), \
	.tcp_flags = (fl)
#define TCP6(s, d, sp, dp, fl)                                                                   \
	.family = 6, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), \
	.tcp_flags = (fl)
#define UDP4(s, d, sp, dp) \
	.family = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)

/* clang-format off */
static const struct bench_packet packets[] = {
	{ "v4-tcp-hit", XDP_PASS, 0, { TCP4(PARTNER4, EDGE4, 40000, 5061, TH_SYN) } },
	{ "v4-tcp-miss", XDP_DROP, 0, { TCP4(STRANGER4, EDGE4, 40000, 5061, TH_SYN) } },
	{ "v4-tcp-port-miss", XDP_DROP, 0, { TCP4(PARTNER4, EDGE4, 40000, 5062, TH_SYN) } },
	/* A client's SYN to 443 from a port an outbound row names (50000-59999). */
	{ "v4-tcp-hit-eph", XDP_PASS, 0, { TCP4(STRANGER4, EDGE4, 55000, 443, TH_SYN) } },
	{ "v6-tcp-hit", XDP_PASS, 0, { TCP6(PARTNER6, EDGE6, 40000, 5061, TH_SYN) } },
	{ "v6-tcp-miss", XDP_DROP, 0, { TCP6(STRANGER6, EDGE6, 40000, 5061, TH_SYN) } },
	/* A stranger's SYN to a port that rows of large policies name (ssh). */
	{ "v4-tcp-miss-22", XDP_DROP, 0, { TCP4(STRANGER4, EDGE4, 40000, 22, TH_SYN) } },
	{ "v6-tcp-miss-22", XDP_DROP, 0, { TCP6(STRANGER6, EDGE6, 40000, 22, TH_SYN) } },
	{ "v4-udp-hit", XDP_PASS, 0, { UDP4(STRANGER4, EDGE4, 40000, 3478), .payload_len = 20 } },
	{ "v4-udp-miss", XDP_DROP, 0, { UDP4(STRANGER4, EDGE4, 40000, 3479), .payload_len = 20 } },
	{ "v6-ext-hit", XDP_PASS, 0,
	  { TCP6(PARTNER6, EDGE6, 40000, 5061, TH_SYN), PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS) } },
	{ "v6-ext-miss", XDP_DROP, 0,
	  { TCP6(STRANGER6, EDGE6, 40000, 5061, TH_SYN), PKT_EXT(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS) } },
	{ "vlan-hit", XDP_PASS, 0, { TCP4(PARTNER4, EDGE4, 40000, 5061, TH_SYN), PKT_VLAN } },
	{ "vlan-miss", XDP_DROP, 0, { TCP4(STRANGER4, EDGE4, 40000, 5061, TH_SYN), PKT_VLAN } },
	/* The Edge opened 203.0.113.10:40000 -> 198.51.100.7:5061 (row 2, outbound). */
	{ "reply-hit", XDP_PASS, 1, { TCP4(PARTNER4, EDGE4, 5061, 40000, TH_SYN | TH_ACK) } },
	{ "reply-miss", XDP_DROP, 1, { TCP4(PARTNER4, EDGE4, 5061, 40001, TH_ACK) } },
	/* The partner's data on that connection: a plain ACK (the reply hint serves it). */
	{ "reply-ack", XDP_PASS, 1, { TCP4(PARTNER4, EDGE4, 5061, 40000, TH_ACK) } },
};
/* clang-format on */

#define NPACKETS (sizeof(packets) / sizeof(packets[0]))

/*
 * The Edge's own packets, through the egress program (TC): every packet the
 * Edge sends pays it. Measured for the floor (its TC program) and picfw.
 */
/* clang-format off */
static const struct bench_packet egress_packets[] = {
	/* A packet of the connection the Edge opened (recorded first): found, followed. */
	{ "egress-flow", TC_ACT_UNSPEC, 1, { TCP4(EDGE4, PARTNER4, 40000, 5061, TH_ACK) } },
	/* The Edge's data to a partner that connected to 5061: no flow, an inbound row answers. */
	{ "egress-answer", TC_ACT_UNSPEC, 0, { TCP4(EDGE4, PARTNER4, 5061, 40000, TH_ACK) } },
	/* The Edge's STUN from 3478 to a client's 3478: the same, in UDP. */
	{ "egress-answer-udp", TC_ACT_UNSPEC, 0, { UDP4(EDGE4, STRANGER4, 3478, 3478), .payload_len = 20 } },
};
/* clang-format on */

#define NEGRESS (sizeof(egress_packets) / sizeof(egress_packets[0]))

/* The Edge's SYN that the egress program records as a flow. */
static const struct pkt_spec edge_syn = {TCP4(EDGE4, PARTNER4, 40000, 5061, TH_SYN)};

static struct prog progs[MAX_PROGS];
static int nprogs;
static uint8_t frames[NPACKETS][PKT_MAX];
static uint32_t frame_len[NPACKETS];
static uint8_t egress_frames[NEGRESS][PKT_MAX];
static uint32_t egress_len[NEGRESS];
static int verbose;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "testrun: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Build spec, padded to FRAME_MIN bytes. */
static uint32_t build_frame(const struct pkt_spec *spec, uint8_t *buf)
{
	struct pkt_spec s = *spec;
	char err[128];
	int len;

	len = pkt_build(&s, buf, PKT_MAX, err, sizeof(err));
	if (len < 0)
		die("building a frame: %s", err);
	if (len < FRAME_MIN) {
		s.eth_pad = (uint16_t)(FRAME_MIN - len);
		len = pkt_build(&s, buf, PKT_MAX, err, sizeof(err));
		if (len < 0)
			die("building a frame: %s", err);
	}
	return (uint32_t)len;
}

static struct prog *new_prog(const char *name, enum prog_kind kind)
{
	struct prog *p;

	if (nprogs == MAX_PROGS)
		die("more than %d programs", MAX_PROGS);
	p = &progs[nprogs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = kind;
	p->fd = p->tc_fd = p->map4_fd = p->map6_fd = -1;
	return p;
}

/* "NAME=VALUE" into name and value. */
static void split_arg(const char *arg, char *name, size_t len, const char **value)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= len)
		die("expected NAME=VALUE, got '%s'", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	*value = eq + 1;
}

/* Sum of the kernel's own accounting ("memlock:" in fdinfo) of a map. */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Memory of every map of a libbpf object (picfw: also the maps only userspace or TC use). */
static void obj_memory(const char *name, struct bpf_object *obj)
{
	struct bpf_map *map;
	long long total = 0, m;

	for (map = bpf_object__next_map(obj, NULL); map; map = bpf_object__next_map(obj, map)) {
		m = map_memlock(bpf_map__fd(map));
		if (m < 0)
			continue;
		total += m;
		printf("info,%s,memlock:%s,%lld\n", name, bpf_map__name(map), m);
	}
	printf("info,%s,memlock_all_maps,%lld\n", name, total);
}

/* Instruction counts and map memory of a program, as info lines. */
static void prog_info(const struct prog *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], i;
	long long mem = 0;

	memset(ids, 0, sizeof(ids));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		return;
	printf("info,%s,prog_id,%u\n", p->name, info.id);
	printf("info,%s,prog_name,%s\n", p->name, info.name);
	printf("info,%s,xlated_insns,%u\n", p->name, info.xlated_prog_len / 8);
	printf("info,%s,jited_bytes,%u\n", p->name, info.jited_prog_len);
	printf("info,%s,verified_insns,%u\n", p->name, info.verified_insns);
	for (i = 0; i < info.nr_map_ids && i < 64; i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);
		long long m;

		if (fd < 0)
			continue;
		m = map_memlock(fd);
		if (m > 0)
			mem += m;
		close(fd);
	}
	printf("info,%s,map_memlock_bytes,%lld\n", p->name, mem);
	if (p->skel)
		obj_memory(p->name, p->skel->obj);
}

/* The BPF object at path, opened and loaded (or die). */
static struct bpf_object *load_object(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err;

	if (!obj)
		die("opening %s: %s", path, strerror(errno));
	err = bpf_object__load(obj);
	if (err)
		die("loading %s: %s", path, strerror(-err));
	return obj;
}

/* The fd of obj's (from path) program name (or die). */
static int program_fd(struct bpf_object *obj, const char *path, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);

	if (!prog)
		die("%s has no program %s", path, name);
	return bpf_program__fd(prog);
}

static void load_floor(const char *path)
{
	struct prog *p = new_prog("floor", KIND_OBJ);

	p->obj = load_object(path);
	p->fd = program_fd(p->obj, path, "bench_floor");
}

/* The egress floor (bench/floor_tc.bpf.c): the floor's egress program. */
static void load_floor_tc(const char *path)
{
	int i;

	for (i = 0; i < nprogs && progs[i].kind != KIND_OBJ; i++)
		;
	if (i == nprogs)
		die("--floor-tc needs --floor before it");
	/* The object stays loaded until exit. */
	progs[i].tc_fd = program_fd(load_object(path), path, "bench_floor_tc");
}

static void load_probes(const char *path)
{
	struct bpf_object *obj = load_object(path);
	struct bpf_program *prog;
	struct prog *p;
	for (prog = bpf_object__next_program(obj, NULL); prog;
	     prog = bpf_object__next_program(obj, prog)) {
		char name[64];

		snprintf(name, sizeof(name), "%s", bpf_program__name(prog));
		p = new_prog(name, KIND_PROBE);
		p->fd = bpf_program__fd(prog);
		/* The object (and so every probe's fd) is closed through its first probe. */
		if (prog == bpf_object__next_program(obj, NULL))
			p->obj = obj;
	}
}

static int droplog_discard(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* The drop log on, as `picfw log` holds it, for a day; its ring drained by p->droplog. */
static void droplog_on(struct prog *p, const struct picfw_maps *m)
{
	struct picfw_droplog_ctl c = { .rate = PICFW_DROPLOG_DEFAULT_RATE,
				       .pid = (uint32_t)getpid() };
	uint32_t zero = 0;

	/* On the program's clock, the tick count (flow_clock_ns). */
	c.lease_until = flow_clock_ns();
	if (!c.lease_until)
		die("%s: the flows' clock: %s", p->name, strerror(errno));
	c.lease_until += 86400ULL * 1000000000ULL;
	if (bpf_map_update_elem(m->fd[MAP_DROPLOG_CTL], &zero, &c, BPF_ANY))
		die("%s: drop log lease: %s", p->name, strerror(errno));
	p->droplog = ring_buffer__new(m->fd[MAP_DROPLOG], droplog_discard, NULL, NULL);
	if (!p->droplog)
		die("%s: drop log ring: %s", p->name, strerror(errno));
}

/*
 * --lines FILE: where each source line of the program with fd landed in its
 * JITed image, one "ADDRESS<TAB>FILE:LINE<TAB>SOURCE" line per line_info
 * record (addresses as 16 hex digits, so that they sort as text), and
 * "ADDRESS<TAB>-<TAB>-" at the end of each function: for bench/profile.sh,
 * which attributes perf's samples to source lines.
 */
static void dump_lines(int fd, const char *file)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nl, njl, nf, rec, k;
	struct bpf_line_info *li;
	__u64 *jl, *ksyms;
	__u32 *flens;
	struct btf *btf;
	FILE *f;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("--lines: program info: %s", strerror(errno));
	nl = info.nr_line_info;
	njl = info.nr_jited_line_info;
	nf = info.nr_jited_ksyms;
	rec = info.line_info_rec_size;
	li = calloc(nl ? nl : 1, rec);
	jl = calloc(njl ? njl : 1, sizeof(*jl));
	ksyms = calloc(nf ? nf : 1, sizeof(*ksyms));
	flens = calloc(nf ? nf : 1, sizeof(*flens));
	if (!li || !jl || !ksyms || !flens)
		die("out of memory");
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl;
	info.line_info_rec_size = rec;
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_line_info = njl;
	info.jited_line_info_rec_size = sizeof(*jl);
	info.jited_line_info = (__u64)(unsigned long)jl;
	info.nr_jited_ksyms = nf;
	info.jited_ksyms = (__u64)(unsigned long)ksyms;
	info.nr_jited_func_lens = nf;
	info.jited_func_lens = (__u64)(unsigned long)flens;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("--lines: program info: %s", strerror(errno));
	if (!njl)
		die("--lines: no JITed line info (is the JIT on, are kernel pointers hidden?)");
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		die("--lines: the program's BTF: %s", strerror(errno));
	f = fopen(file, "w");
	if (!f)
		die("--lines: %s: %s", file, strerror(errno));
	for (k = 0; k < nl && k < njl; k++) {
		const char *path = btf__name_by_offset(btf, li[k].file_name_off);
		const char *src = btf__name_by_offset(btf, li[k].line_off);
		const char *base = path ? strrchr(path, '/') : NULL;

		fprintf(f, "%016llx\t%s:%u\t", (unsigned long long)jl[k],
			base ? base + 1 : (path ? path : "?"), BPF_LINE_INFO_LINE_NUM(li[k].line_col));
		for (; src && *src; src++) /* one line, tabs as spaces */
			fputc(*src == '\t' || *src == '\n' ? ' ' : *src, f);
		fputc('\n', f);
	}
	for (k = 0; k < nf; k++)
		fprintf(f, "%016llx\t-\t-\n", (unsigned long long)(ksyms[k] + flens[k]));
	fclose(f);
	btf__free(btf);
	free(li);
	free(jl);
	free(ksyms);
	free(flens);
}

static const char *lines_file; /* --lines FILE */

static void load_picfw(const char *arg, int droplog)
{
	struct policy_errors errs = {0};
	struct policy_image img;
	struct picfw_maps m;
	struct policy pol;
	char name[64], err[256];
	const char *path;
	int ret;
	uint32_t *slots, i;
	double t0, t1, t2;
	struct prog *p;

	split_arg(arg, name, sizeof(name), &path);
	p = new_prog(name, KIND_PICFW);
	t0 = now_ms();
	if (policy_load(path, &pol, &errs)) {
		policy_errors_print(stderr, path, &errs);
		die("%s does not parse", path);
	}
	policy_errors_free(&errs); /* warnings */
	if (compile_policy(&pol, &img, err, sizeof(err)))
		die("%s does not compile: %s", path, err);
	t1 = now_ms();
	p->skel = picfw_bpf__open_and_load();
	if (!p->skel)
		die("loading picfw: %s", strerror(errno));
	p->fd = bpf_program__fd(p->skel->progs.picfw_xdp);
	if (lines_file)
		dump_lines(p->fd, lines_file);
	p->tc_fd = bpf_program__fd(p->skel->progs.picfw_tc_egress);
	ret = maps_from_skel(p->skel, &m);
	if (ret)
		die("picfw maps: %s", strerror(-ret));
	slots = calloc(img.nrows ? img.nrows : 1, sizeof(*slots));
	if (!slots)
		die("out of memory");
	for (i = 0; i < img.nrows; i++)
		slots[i] = i;
	t2 = now_ms();
	ret = maps_write_clean_generation(&m, 0, &img, slots);
	if (!ret)
		ret = maps_activate(&m, 0, &img.cfg);
	if (ret)
		die("writing %s into the maps: %s", path, strerror(-ret));
	if (droplog)
		droplog_on(p, &m);
	printf("info,%s,policy,%s\n", name, path);
	printf("info,%s,droplog,%s\n", name, droplog ? "on" : "off");
	printf("info,%s,rows,%u\n", name, img.nrows);
	printf("info,%s,prefixes4,%zu\n", name, img.nsrc4);
	printf("info,%s,prefixes6,%zu\n", name, img.nsrc6);
	printf("info,%s,classes,%zu\n", name, img.nclasses);
	printf("info,%s,row_table,%zu\n", name, img.nrow_table);
	printf("info,%s,trie4,%s\n", name, img.cfg.trie4 ? "array" : "lpm");
	printf("info,%s,trie6,%s\n", name, img.cfg.trie6 ? "array" : "lpm");
	printf("info,%s,trie_nodes,%u\n", name, img.ntrie);
	printf("info,%s,compile_ms,%.1f\n", name, t1 - t0);
	printf("info,%s,write_ms,%.1f\n", name, now_ms() - t2);
	free(slots);
	maps_close(&m);
	image_free(&img);
	policy_free(&pol);
}

static void load_by_id(const char *arg, enum prog_kind kind)
{
	char name[64], spec[64];
	const char *value;
	unsigned id, n = 0;
	struct prog *p;

	split_arg(arg, name, sizeof(name), &value);
	snprintf(spec, sizeof(spec), "%s", value);
	if (kind == KIND_XDPF_IP) {
		if (sscanf(spec, "%u:%u", &id, &n) != 2)
			die("--xdpf-ip wants NAME=ID:N, got '%s'", arg);
	} else if (sscanf(spec, "%u", &id) != 1) {
		die("--prog wants NAME=ID, got '%s'", arg);
	}
	p = new_prog(name, kind);
	p->naddrs = n;
	p->fd = bpf_prog_get_fd_by_id(id);
	if (p->fd < 0)
		die("program id %u: %s", id, strerror(errno));
	if (kind == KIND_XDPF_IP) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info), ids[16], i;

		info.nr_map_ids = 16;
		info.map_ids = (__u64)(unsigned long)ids;
		if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
			die("program id %u: %s", id, strerror(errno));
		for (i = 0; i < info.nr_map_ids && i < 16; i++) {
			struct bpf_map_info mi = {};
			__u32 mlen = sizeof(mi);
			int fd = bpf_map_get_fd_by_id(ids[i]);

			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			if (!strcmp(mi.name, "filter_ipv4") && p->map4_fd < 0)
				p->map4_fd = fd;
			else if (!strcmp(mi.name, "filter_ipv6") && p->map6_fd < 0)
				p->map6_fd = fd;
			else
				close(fd);
		}
		if (p->map4_fd < 0 || p->map6_fd < 0)
			die("program id %u has no filter_ipv4/filter_ipv6 maps: not xdp-filter in "
			    "IP mode",
			    id);
	}
}

/*
 * xdp-filter IP mode: the partners plus synthetic sources (10.0.0.0/8 and
 * 2001:db8:1000::/36, never the addresses the packets come from), as source
 * matches. Value: per-CPU u64, flag bits low, hit counter above.
 */
static void xdpf_fill(const struct prog *p, int fill)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *vals = calloc((size_t)ncpus, sizeof(*vals));
	unsigned i;
	int c;

	if (!vals)
		die("out of memory");
	for (c = 0; c < ncpus; c++)
		vals[c] = XDPF_FLAG_SRC;
	for (i = 0; i < p->naddrs; i++) {
		uint8_t a6[16];
		uint32_t a4;
		int fd, err;
		void *key;

		if (i < 2) {
			if (i == 0)
				inet_pton(AF_INET, PARTNER4, &a4);
			else
				inet_pton(AF_INET6, PARTNER6, a6);
		} else if (i % 2 == 0) {
			a4 = htonl(0x0a000000u + i);
		} else {
			inet_pton(AF_INET6, "2001:db8:1000::", a6);
			a6[12] = (uint8_t)(i >> 24);
			a6[13] = (uint8_t)(i >> 16);
			a6[14] = (uint8_t)(i >> 8);
			a6[15] = (uint8_t)i;
		}
		fd = i % 2 == 0 ? p->map4_fd : p->map6_fd;
		key = i % 2 == 0 ? (void *)&a4 : (void *)a6;
		err = fill ? bpf_map_update_elem(fd, key, vals, BPF_ANY)
			   : bpf_map_delete_elem(fd, key);
		if (err && fill)
			die("%s: adding address %u of %u: %s", p->name, i + 1, p->naddrs,
			    strerror(errno));
	}
	free(vals);
}

/* Record the Edge's outbound flow through picfw's egress program. */
static void record_flow(const struct prog *p)
{
	static uint8_t buf[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .repeat = 1);

	opts.data_size_in = build_frame(&edge_syn, buf);
	if (bpf_prog_test_run_opts(p->tc_fd, &opts))
		die("%s: running the egress program: %s", p->name, strerror(errno));
}

/* Program fd (p's, named for errors) on frame `what` of len bytes, repeat times; its verdict. */
static int run_frame(const struct prog *p, int fd, const char *what, const void *frame,
		     uint32_t len, unsigned repeat, unsigned *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .repeat = (int)repeat);
	int err;

	err = bpf_prog_test_run_opts(fd, &opts);
	if (err)
		die("%s on %s: BPF_PROG_TEST_RUN: %s", p->name, what, strerror(-err));
	*ns = opts.duration;
	return (int)opts.retval;
}

static const char *tc_verdict_name(int v)
{
	return v == TC_ACT_OK ? "OK" : v == TC_ACT_SHOT ? "SHOT" : v == TC_ACT_UNSPEC ? "UNSPEC" : "OTHER";
}

static const char *verdict_name(int v)
{
	switch (v) {
	case XDP_ABORTED:
		return "ABORTED";
	case XDP_DROP:
		return "DROP";
	case XDP_PASS:
		return "PASS";
	case XDP_TX:
		return "TX";
	case XDP_REDIRECT:
		return "REDIRECT";
	}
	return "OTHER";
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: testrun [--rounds N] [--repeat N] [--floor OBJ] [--floor-tc OBJ] [--probes OBJ]\n"
	    "               [--picfw NAME=POLICY]... [--picfw-droplog NAME=POLICY]...\n"
	    "               [--prog NAME=ID]... [--xdpf-ip NAME=ID:N]... [--packet KIND]\n"
	    "               [--lines FILE] [--list-packets] [-v]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"repeat", required_argument, NULL, 'n'},
	    {"floor", required_argument, NULL, 'f'},
	    {"floor-tc", required_argument, NULL, 'F'},
	    {"probes", required_argument, NULL, 'P'},
	    {"picfw", required_argument, NULL, 'p'},
	    {"picfw-droplog", required_argument, NULL, 'D'},
	    {"prog", required_argument, NULL, 'i'},
	    {"xdpf-ip", required_argument, NULL, 'x'},
	    {"list-packets", no_argument, NULL, 'l'},
	    {"packet", required_argument, NULL, 'k'},
	    {"lines", required_argument, NULL, 'L'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	unsigned rounds = 5, repeat = 1000000, r, i, k, ns;
	const char *only = NULL; /* --packet: that packet kind alone (profiling) */
	int c, v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			repeat = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			load_floor(optarg);
			break;
		case 'F':
			load_floor_tc(optarg);
			break;
		case 'P':
			load_probes(optarg);
			break;
		case 'p':
			load_picfw(optarg, 0);
			break;
		case 'D':
			load_picfw(optarg, 1);
			break;
		case 'i':
			load_by_id(optarg, KIND_ID);
			break;
		case 'x':
			load_by_id(optarg, KIND_XDPF_IP);
			break;
		case 'l':
			for (k = 0; k < NPACKETS; k++)
				printf("%s,%s\n", packets[k].name, verdict_name(packets[k].expect));
			return 0;
		case 'k':
			only = optarg;
			break;
		case 'L':
			lines_file = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !nprogs || !rounds || rounds > 1000 || !repeat ||
	    repeat > 100000000) {
		usage(stderr);
		return 2;
	}
	if (only) {
		for (k = 0; k < NPACKETS && strcmp(only, packets[k].name); k++)
			;
		for (i = 0; k == NPACKETS && i < NEGRESS; i++)
			if (!strcmp(only, egress_packets[i].name))
				break;
		if (k == NPACKETS && i == NEGRESS)
			die("--packet %s: no such packet kind (--list-packets)", only);
	}
	for (k = 0; k < NPACKETS; k++)
		frame_len[k] = build_frame(&packets[k].spec, frames[k]);
	for (k = 0; k < NEGRESS; k++)
		egress_len[k] = build_frame(&egress_packets[k].spec, egress_frames[k]);
	printf("info,run,rounds,%u\n", rounds);
	printf("info,run,repeat,%u\n", repeat);
	for (k = 0; k < NPACKETS; k++)
		printf("info,packet,%s,%u bytes\n", packets[k].name, frame_len[k]);
	for (i = 0; i < (unsigned)nprogs; i++)
		prog_info(&progs[i]);
	/* xdp-filter's IP maps start empty: the ports program shares them. */
	for (i = 0; i < (unsigned)nprogs; i++)
		if (progs[i].kind == KIND_XDPF_IP)
			xdpf_fill(&progs[i], 0);

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < (unsigned)nprogs; i++) {
			const struct prog *p = &progs[(i + r) % (unsigned)nprogs];

			if (p->kind == KIND_XDPF_IP)
				xdpf_fill(p, 1);
			for (k = 0; k < NPACKETS; k++) {
				if (p->kind == KIND_PROBE && k > 0)
					break;
				if (only && strcmp(only, packets[k].name))
					continue;
				if (packets[k].reply && p->kind == KIND_PICFW)
					record_flow(p);
				if (p->droplog)
					ring_buffer__consume(p->droplog);
				v = run_frame(p, p->fd, packets[k].name, frames[k], frame_len[k],
					      repeat, &ns);
				printf("run,%u,%s,%s,%s,%s,%u\n", r + 1, p->name, packets[k].name,
				       verdict_name(v), verdict_name(packets[k].expect), ns);
			}
			if (p->kind == KIND_XDPF_IP)
				xdpf_fill(p, 0);
			/* The egress program: the floor's and picfw's (egress,... lines). */
			if (p->tc_fd < 0)
				continue;
			for (k = 0; k < NEGRESS; k++) {
				if (only && strcmp(only, egress_packets[k].name))
					continue;
				if (egress_packets[k].reply && p->kind == KIND_PICFW)
					record_flow(p);
				v = run_frame(p, p->tc_fd, egress_packets[k].name,
					      egress_frames[k], egress_len[k], repeat, &ns);
				printf("egress,%u,%s,%s,%s,%s,%u\n", r + 1, p->name,
				       egress_packets[k].name, tc_verdict_name(v),
				       tc_verdict_name(egress_packets[k].expect), ns);
			}
		}
	}

	for (i = 0; i < (unsigned)nprogs; i++) {
		struct prog *p = &progs[i];

		if (p->kind == KIND_XDPF_IP)
			xdpf_fill(p, 0);
		if (p->map4_fd >= 0)
			close(p->map4_fd);
		if (p->map6_fd >= 0)
			close(p->map6_fd);
		ring_buffer__free(p->droplog);
		if (p->skel)
			picfw_bpf__destroy(p->skel);
		else if (p->obj)
			bpf_object__close(p->obj);
		else if (p->kind != KIND_PROBE && p->fd >= 0)
			close(p->fd);
	}
	return 0;
}
