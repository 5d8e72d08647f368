// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* droplog.c - the drop log: lease, ring buffer, lost samples, text, JSON and pcap (droplog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
/* pcap/bpf.h would clash with linux/bpf.h (struct bpf_insn): only the link types. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "droplog.h"
#include "log.h"
#include "stats.h"

#define NS_PER_S 1000000000LL
#define REFRESH_MS 1000 /* well inside PICFW_DROPLOG_LEASE_NS */
#define POLL_MS 200     /* how soon a signal or --count is noticed */

int64_t droplog_realtime_offset(void)
{
	struct timespec rt;
	uint64_t mono = monotonic_ns();

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * NS_PER_S + rt.tv_nsec - (int64_t)mono;
}

static int ctl_read(const struct picfw_maps *m, struct picfw_droplog_ctl *c)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->fd[MAP_DROPLOG_CTL], &zero, c) ? -errno : 0;
}

static int ctl_write(const struct picfw_maps *m, const struct picfw_droplog_ctl *c)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(m->fd[MAP_DROPLOG_CTL], &zero, c, BPF_ANY) ? -errno : 0;
}

/*
 * Does a lease until `until` run now? On the program's clock (flow_clock_ns,
 * the tick count); when that cannot be read, any lease counts as running.
 */
static int lease_runs(uint64_t until)
{
	uint64_t now;

	if (!until)
		return 0;
	now = flow_clock_ns();
	return !now || (int64_t)(until - now) > 0;
}

/* A lease held now by a live process other than us. */
static int held_by_other(const struct picfw_droplog_ctl *c)
{
	if (!lease_runs(c->lease_until))
		return 0;
	if (c->pid == (uint32_t)getpid())
		return 0;
	/* A reader killed with SIGKILL: its lease runs on, but it is gone. */
	return !(kill((pid_t)c->pid, 0) && errno == ESRCH);
}

int droplog_read_state(const struct picfw_maps *m, struct droplog_state *st)
{
	struct picfw_droplog_ctl c;
	struct picfw_droplog_cpu *cpu;
	uint32_t zero = 0;
	int ncpu, i, err;

	memset(st, 0, sizeof(*st));
	err = ctl_read(m, &c);
	if (err)
		return err;
	if (lease_runs(c.lease_until)) {
		st->reader_pid = c.pid;
		st->rate = c.rate;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	cpu = calloc((size_t)ncpu, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	err = bpf_map_lookup_elem(m->fd[MAP_DROPLOG_CPU], &zero, cpu) ? -errno : 0;
	for (i = 0; !err && i < ncpu; i++) {
		st->lost_rate += cpu[i].lost_rate;
		st->lost_full += cpu[i].lost_full;
	}
	free(cpu);
	return err;
}

void droplog_print_state(FILE *f, const struct droplog_state *st)
{
	fprintf(f, "\ndrop log: ");
	if (st->reader_pid)
		fprintf(f, "on (picfw log, pid %u, %u samples/s per CPU)", st->reader_pid,
			st->rate);
	else
		fprintf(f, "off");
	fprintf(f, "; lost %llu (rate limit %llu, ring full %llu)\n",
		(unsigned long long)st->lost_rate + st->lost_full,
		(unsigned long long)st->lost_rate, (unsigned long long)st->lost_full);
}

void droplog_json_state(FILE *f, const struct droplog_state *st)
{
	fprintf(f, ",\"drop_log\":{\"reader_pid\":%u,\"rate\":%u,\"lost_rate_limit\":%llu,"
		   "\"lost_ring_full\":%llu}",
		st->reader_pid, st->rate, (unsigned long long)st->lost_rate,
		(unsigned long long)st->lost_full);
}

static int lease_take(const struct picfw_maps *m, uint32_t rate)
{
	struct picfw_droplog_ctl c = { .rate = rate, .pid = (uint32_t)getpid() };
	uint64_t now = flow_clock_ns();

	if (!now)
		return errno ? -errno : -EIO;
	c.lease_until = now + PICFW_DROPLOG_LEASE_NS;
	return ctl_write(m, &c);
}

int droplog_claim(const struct picfw_maps *m, uint32_t rate, uint32_t *holder)
{
	struct picfw_droplog_ctl c;
	int err;

	err = ctl_read(m, &c);
	if (!err && held_by_other(&c)) {
		*holder = c.pid;
		return -EBUSY;
	}
	if (!err)
		err = lease_take(m, rate);
	if (err)
		return err;
	/*
	 * Two readers starting together both write; the last write wins, and
	 * the other one sees it here (reads and writes of one array element
	 * are whole).
	 */
	usleep(20000);
	err = ctl_read(m, &c);
	if (!err && c.pid != (uint32_t)getpid()) {
		*holder = c.pid;
		return -EBUSY;
	}
	return err;
}

int droplog_refresh(const struct picfw_maps *m, uint32_t rate, uint32_t *holder)
{
	struct picfw_droplog_ctl c;
	int err = ctl_read(m, &c);

	if (err)
		return err;
	if (c.pid != (uint32_t)getpid() && held_by_other(&c)) {
		*holder = c.pid;
		return -EBUSY;
	}
	/* Also when the program cleared a lease that ran out (we were stopped). */
	return lease_take(m, rate);
}

void droplog_release(const struct picfw_maps *m)
{
	struct picfw_droplog_ctl c;

	if (!ctl_read(m, &c) && c.pid == (uint32_t)getpid()) {
		c.lease_until = 0;
		ctl_write(m, &c);
	}
}

/* --- Records as text and JSON ----------------------------------------------------- */

static void time_text(uint64_t mono, int64_t off, char *buf, size_t len)
{
	int64_t ns = (int64_t)mono + off;
	time_t sec = (time_t)(ns / NS_PER_S);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06lldZ", (long long)(ns % NS_PER_S / 1000));
}

static const char *verdict_name(const struct picfw_drop_record *r)
{
	return r->audit ? "would-drop" : "drop";
}

static const char *reason_name(const struct picfw_drop_record *r)
{
	return r->reason < PICFW_REASONS ? reason_names[r->reason] : "unknown";
}

/* "tcp", "udp", "icmp", "icmpv6", or the IP protocol number. */
static const char *transport_name(const struct picfw_drop_record *r, char *buf, size_t len)
{
	switch (r->l4proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", r->l4proto);
	return buf;
}

static int has_ports(const struct picfw_drop_record *r)
{
	return r->l4proto == IPPROTO_TCP || r->l4proto == IPPROTO_UDP;
}

static int is_icmp(const struct picfw_drop_record *r)
{
	return r->l4proto == IPPROTO_ICMP || r->l4proto == IPPROTO_ICMPV6;
}

static void addr_of(const struct picfw_drop_record *r, const uint8_t *a, char *buf, size_t len)
{
	int known = r->family == 4 || r->family == 6;

	if (!known || !inet_ntop(r->family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* ADDR:PORT, [ADDR6]:PORT, or ADDR without a port. */
static void endpoint_text(const struct picfw_drop_record *r, const uint8_t *a, uint16_t port,
			  char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	addr_of(r, a, addr, sizeof(addr));
	if (!has_ports(r))
		snprintf(buf, len, "%s", addr);
	else if (r->family == 6)
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
}

void droplog_print_text(FILE *f, const struct picfw_drop_record *r, int64_t realtime_off,
			const struct droplog_near *near)
{
	char when[40], src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8], proto[8];
	char missing[512];

	time_text(r->time, realtime_off, when, sizeof(when));
	endpoint_text(r, r->saddr, r->sport, src, sizeof(src));
	endpoint_text(r, r->daddr, r->dport, dst, sizeof(dst));
	fprintf(f, "%s %s %s %s -> %s %s", when, verdict_name(r), reason_name(r), src, dst,
		r->family ? transport_name(r, proto, sizeof(proto)) : "-");
	if (is_icmp(r))
		fprintf(f, " type %u code %u", r->icmp_type, r->icmp_code);
	fprintf(f, " len %u", r->frame_len);
	if (near && near->n.row >= 0)
		fprintf(f, " nearest %s: %s", near->p->rows[near->n.row].name,
			nearest_describe(near->p, &near->pkt, &near->n, missing, sizeof(missing)));
	fputc('\n', f);
}

/* ,"nearest":{"row":NAME,"missing":["port",...]}, or ,"nearest":null */
static void near_json(FILE *f, const struct droplog_near *near)
{
	unsigned bit;
	int first = 1;

	if (!near || near->n.row < 0) {
		fprintf(f, ",\"nearest\":null");
		return;
	}
	fprintf(f, ",\"nearest\":{\"row\":");
	json_string(f, near->p->rows[near->n.row].name);
	fprintf(f, ",\"missing\":[");
	for (bit = 1; bit < 1u << NEAREST_MISSES; bit <<= 1) {
		if (!(near->n.missing & bit))
			continue;
		fprintf(f, "%s\"%s\"", first ? "" : ",", nearest_miss_name(bit));
		first = 0;
	}
	fprintf(f, "]}");
}

void droplog_print_json(FILE *f, const char *ifname, const struct picfw_drop_record *r,
			int64_t realtime_off, const struct droplog_near *near)
{
	char when[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[8];

	time_text(r->time, realtime_off, when, sizeof(when));
	fprintf(f, "{\"time\":\"%s\",\"interface\":", when);
	json_string(f, ifname);
	fprintf(f, ",\"verdict\":\"%s\",\"reason\":\"%s\",\"family\":%u", verdict_name(r),
		reason_name(r), r->family);
	if (r->family == 4 || r->family == 6) {
		addr_of(r, r->saddr, src, sizeof(src));
		addr_of(r, r->daddr, dst, sizeof(dst));
		fprintf(f, ",\"transport\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\"",
			transport_name(r, proto, sizeof(proto)), src, dst);
	}
	if (has_ports(r))
		fprintf(f, ",\"sport\":%u,\"dport\":%u", r->sport, r->dport);
	if (is_icmp(r))
		fprintf(f, ",\"icmp_type\":%u,\"icmp_code\":%u", r->icmp_type, r->icmp_code);
	fprintf(f, ",\"length\":%u,\"captured\":%u", r->frame_len, r->captured);
	near_json(f, near);
	fprintf(f, "}\n");
}

/* --- Following the ring buffer ------------------------------------------------------ */

struct follow {
	const struct droplog_opts *opts;
	struct droplog_nearest nearest; /* text and JSON only */
	uint64_t since;   /* records from before our lease (a killed reader's) are skipped */
	int64_t off;
	uint64_t written;
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	int err;
};

static int write_record(struct follow *fw, const struct picfw_drop_record *r)
{
	struct droplog_near near, *np = NULL;
	struct pcap_pkthdr h;
	int64_t ns;

	if (fw->opts->format != DROPLOG_PCAP && droplog_nearest_find(&fw->nearest, r, &near))
		np = &near;

	switch (fw->opts->format) {
	case DROPLOG_PCAP:
		ns = (int64_t)r->time + fw->off;
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(ns / NS_PER_S);
		h.ts.tv_usec = (suseconds_t)(ns % NS_PER_S / 1000);
		h.caplen = r->captured <= PICFW_DROPLOG_SNAPLEN ? r->captured :
								  PICFW_DROPLOG_SNAPLEN;
		h.len = r->frame_len;
		pcap_dump((u_char *)fw->dumper, &h, r->frame);
		/* Flushed per packet: `picfw log IFACE -w - | tcpdump -r -` shows each at once. */
		return pcap_dump_flush(fw->dumper) ? -EPIPE : 0;
	case DROPLOG_JSON:
		droplog_print_json(stdout, fw->opts->ifname, r, fw->off, np);
		break;
	case DROPLOG_TEXT:
		droplog_print_text(stdout, r, fw->off, np);
		break;
	}
	return fflush(stdout) ? -EPIPE : 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct follow *fw = ctx;
	const struct picfw_drop_record *r = data;

	if (size < sizeof(*r) || r->time < fw->since)
		return 0;
	if (fw->opts->reason >= 0 && r->reason != fw->opts->reason)
		return 0;
	if (fw->opts->count && fw->written >= fw->opts->count)
		return 0; /* past --count: the loop stops after this poll */
	fw->err = write_record(fw, r);
	if (fw->err)
		return fw->err;
	fw->written++;
	return 0;
}

static int follow_open(struct follow *fw)
{
	const char *path = fw->opts->pcap_path;

	if (fw->opts->format != DROPLOG_PCAP)
		return 0;
	fw->pcap = pcap_open_dead(DLT_EN10MB, PICFW_DROPLOG_SNAPLEN);
	if (!fw->pcap)
		return -ENOMEM;
	/* "-" is stdout to libpcap. */
	fw->dumper = pcap_dump_open(fw->pcap, path);
	if (!fw->dumper) {
		/* libpcap's message names the file: "PATH: No such file or directory". */
		pr_warn("picfw log: cannot write %s\n", pcap_geterr(fw->pcap));
		pcap_close(fw->pcap);
		fw->pcap = NULL;
		return -ECANCELED; /* told: the caller adds nothing */
	}
	/* The pcap header goes out now: a reader of `-w -` sees a file at once. */
	return pcap_dump_flush(fw->dumper) ? -EPIPE : 0;
}

static void follow_close(struct follow *fw)
{
	if (fw->dumper)
		pcap_dump_close(fw->dumper);
	if (fw->pcap)
		pcap_close(fw->pcap);
}

static int follow_loop(const struct picfw_maps *m, struct ring_buffer *rb, struct follow *fw,
		       uint32_t *holder)
{
	const struct droplog_opts *o = fw->opts;
	uint64_t next_refresh = monotonic_ns() + REFRESH_MS * 1000000ULL;
	int ret;

	while (!*o->stop) {
		if (o->count && fw->written >= o->count)
			return 0;
		ret = ring_buffer__poll(rb, POLL_MS);
		if (fw->err)
			return fw->err;
		if (ret < 0 && ret != -EINTR)
			return ret;
		if (monotonic_ns() >= next_refresh) {
			ret = droplog_refresh(m, o->rate, holder);
			if (ret)
				return ret;
			next_refresh = monotonic_ns() + REFRESH_MS * 1000000ULL;
		}
	}
	/* Stopped by a signal: what is in the ring already is still written. */
	ring_buffer__consume(rb);
	return fw->err;
}

int droplog_follow(const struct picfw_maps *m, const struct droplog_opts *opts,
		   uint64_t *written, uint32_t *holder)
{
	struct follow fw = { .opts = opts };
	struct ring_buffer *rb;
	int err;

	*written = 0;
	droplog_nearest_init(&fw.nearest, m, opts->ifname);
	err = follow_open(&fw);
	if (err) {
		follow_close(&fw);
		return err;
	}
	rb = ring_buffer__new(m->fd[MAP_DROPLOG], on_record, &fw, NULL);
	if (!rb) {
		err = -errno;
		follow_close(&fw);
		return err;
	}
	fw.off = droplog_realtime_offset();
	fw.since = monotonic_ns();
	err = droplog_claim(m, opts->rate, holder);
	if (!err) {
		err = follow_loop(m, rb, &fw, holder);
		if (err != -EBUSY)
			droplog_release(m);
	}
	ring_buffer__free(rb);
	follow_close(&fw);
	droplog_nearest_free(&fw.nearest);
	*written = fw.written;
	return err;
}
