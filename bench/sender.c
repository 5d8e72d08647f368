// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * sender.c - 64-byte frames as fast as one CPU sends them, for the
 * end-to-end rounds of `make bench`: an AF_PACKET socket with
 * PACKET_QDISC_BYPASS (straight to the driver's xmit, no qdisc) and
 * sendmmsg() batches of one prebuilt frame. Bounded in time (--seconds) and
 * in count (--max-packets); prints one line:
 *
 *   sent=N errors=E seconds=T pps=P cpu_ns=C cpu_share=S frame=L
 *
 * cpu_ns is the CPU time this process and the ksoftirqd thread of its CPU
 * used meanwhile (their scheduler runtimes, /proc/PID/schedstat): on a veth
 * the receive path runs in softirq in the sender's context, or in ksoftirqd
 * when softirqs are deferred, so cpu_ns / sent is sender + receiver time per
 * packet even when other tasks share the CPU (cpu_share = cpu_ns / wall time
 * says how much they did).
 *
 * Meant for a veth end inside a namespace the benchmark made (it sends
 * whatever it is told to, so it refuses to run without --ifname). On a veth,
 * the peer's receive path (XDP, or the stack's backlog) runs in softirq on the
 * sending CPU, so with --cpu the sender's rate measures sender + receiver.
 *
 * The frame: the benchmark's traffic, from packets.h's builder, padded to 60
 * bytes (64 on the wire with the FCS), with the MAC addresses given.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <netinet/in.h>

#include "packets.h"

#define FRAME_LEN 60
#define BATCH_MAX 256

struct traffic {
	const char *name;
	struct pkt_spec spec;
};

/* Kinds of traffic, as etc/pic.policy judges them. */
/* clang-format off */
static const struct traffic traffic[] = {
	/* A stranger's SYN to the SIP/MTLS port: no row takes it (dropped by every filter). */
	{ "v4-tcp-miss",
	  { .family = 4, .src = "192.0.2.66", .dst = "203.0.113.10", .proto = IPPROTO_TCP,
	    .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN } },
	/* A partner's SYN to the SIP/MTLS port: allowed (address lookup). */
	{ "v4-tcp-hit",
	  { .family = 4, .src = "198.51.100.7", .dst = "203.0.113.10", .proto = IPPROTO_TCP,
	    .sport = 40000, .dport = 5061, .tcp_flags = TH_SYN } },
	/* STUN from anyone to 3478: allowed. */
	{ "v4-udp-hit",
	  { .family = 4, .src = "198.51.100.7", .dst = "203.0.113.10", .proto = IPPROTO_UDP,
	    .sport = 40000, .dport = 3478, .payload_len = 18 } },
};
/* clang-format on */

#define NTRAFFIC (sizeof(traffic) / sizeof(traffic[0]))

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Scheduler runtime (ns) of a task, from /proc/PID/schedstat; -1 if unknown. */
static long long runtime_ns(const char *pid)
{
	char path[64];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

/* The pid of ksoftirqd/cpu, as text, or "" (bounded by the number of tasks). */
static void find_ksoftirqd(int cpu, char *pid, size_t len)
{
	char want[32], path[300], comm[64];
	struct dirent *de;
	DIR *d;

	pid[0] = '\0';
	snprintf(want, sizeof(want), "ksoftirqd/%d\n", cpu);
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			snprintf(pid, len, "%.20s", de->d_name);
		fclose(f);
		if (pid[0])
			break;
	}
	closedir(d);
}

static void usage(FILE *f)
{
	unsigned i;

	fprintf(f, "usage: sender --ifname IF --dst-mac MAC --src-mac MAC --traffic KIND\n"
		   "              [--seconds S (1, at most 60)] [--max-packets N (1e9)]\n"
		   "              [--batch N (64)] [--cpu N]\n"
		   "traffic kinds:");
	for (i = 0; i < NTRAFFIC; i++)
		fprintf(f, " %s", traffic[i].name);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ifname", required_argument, NULL, 'i'},
	    {"dst-mac", required_argument, NULL, 'd'},
	    {"src-mac", required_argument, NULL, 's'},
	    {"traffic", required_argument, NULL, 't'},
	    {"seconds", required_argument, NULL, 'T'},
	    {"max-packets", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *ifname = NULL, *kind = NULL;
	uint8_t dst[6], src[6], frame[PKT_MAX];
	int have_dst = 0, have_src = 0, cpu = -1, c, fd, one = 1, len;
	unsigned long long max_packets = 1000000000ULL, sent = 0, errors = 0;
	double seconds = 1.0, t0, t1;
	unsigned batch = 64, i;
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov;
	struct sockaddr_ll sll = {0};
	const struct traffic *t = NULL;
	struct pkt_spec spec;
	char err[128], softirqd[32] = "";
	long long self0, self1, soft0 = 0, soft1 = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			have_dst = !parse_mac(optarg, dst);
			break;
		case 's':
			have_src = !parse_mac(optarg, src);
			break;
		case 't':
			kind = optarg;
			break;
		case 'T':
			seconds = strtod(optarg, NULL);
			break;
		case 'n':
			max_packets = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			batch = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (i = 0; kind && i < NTRAFFIC; i++)
		if (!strcmp(kind, traffic[i].name))
			t = &traffic[i];
	if (optind != argc || !ifname || !have_dst || !have_src || !t || !(seconds > 0) ||
	    seconds > 60 || !batch || batch > BATCH_MAX || !max_packets) {
		usage(stderr);
		return 2;
	}

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "sender: pinning to CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
	}

	spec = t->spec;
	len = pkt_build(&spec, frame, sizeof(frame), err, sizeof(err));
	if (len > 0 && len < FRAME_LEN) {
		spec.eth_pad = (uint16_t)(FRAME_LEN - len);
		len = pkt_build(&spec, frame, sizeof(frame), err, sizeof(err));
	}
	if (len < 0) {
		fprintf(stderr, "sender: building the frame: %s\n", err);
		return 1;
	}
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);

	/* Protocol 0: this socket sends only, it receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sender: socket(AF_PACKET): %s\n", strerror(errno));
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "sender: no interface %s\n", ifname);
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "sender: bind to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		fprintf(stderr, "sender: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
		return 1;
	}

	iov.iov_base = frame;
	iov.iov_len = (size_t)len;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	if (cpu >= 0)
		find_ksoftirqd(cpu, softirqd, sizeof(softirqd));
	if (softirqd[0])
		soft0 = runtime_ns(softirqd);
	self0 = runtime_ns("self");
	t0 = now_s();
	t1 = t0;
	/* Bounded twice: by time, and by count (max_packets / batch calls at most). */
	while (sent + errors < max_packets && t1 - t0 < seconds) {
		int n = sendmmsg(fd, msgs, batch, 0);

		if (n < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "sender: sendmmsg: %s\n", strerror(errno));
				close(fd);
				return 1;
			}
			errors++;
		} else {
			sent += (unsigned)n;
		}
		t1 = now_s();
	}
	self1 = runtime_ns("self");
	if (softirqd[0])
		soft1 = runtime_ns(softirqd);
	close(fd);
	if (self0 < 0 || self1 < 0 || soft0 < 0 || soft1 < 0)
		self0 = self1 = soft0 = soft1 = 0; /* unknown: cpu_ns=0 */
	printf("sent=%llu errors=%llu seconds=%.6f pps=%.0f cpu_ns=%lld cpu_share=%.3f frame=%d\n",
	       sent, errors, t1 - t0, (double)sent / (t1 - t0), (self1 - self0) + (soft1 - soft0),
	       ((self1 - self0) + (soft1 - soft0)) / ((t1 - t0) * 1e9), len);
	return 0;
}
