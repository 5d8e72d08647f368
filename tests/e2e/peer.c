/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * peer - a small, bounded traffic tool for the end-to-end tests and the demo.
 *
 * Every wait is a poll() bounded by --timeout, every loop by --count, so a
 * dropped packet turns into a timeout and a clear message, never a hang.
 * Exit status: 0 the exchange completed, 1 it did not (the reason on
 * stderr: "timed out", "refused", "short", ...), 2 bad usage, 3 the kernel
 * lacks a feature asked for (--gso: UDP_SEGMENT).
 */
#define _GNU_SOURCE /* accept4() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h> /* UDP_SEGMENT */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEER_DEFAULT_TIMEOUT_MS 2000
#define PEER_DEFAULT_BYTES 1000
#define PEER_MAX_DATAGRAM 65507
#define PEER_MAX_COUNT 1000000
#define PEER_MAX_BYTES (64L * 1024 * 1024)
#define PEER_BUF 65536
#define PEER_MAX_RATE 1000000000L
/* --rate for TCP: a burst allowance, and the least worth a send() once it is used up. */
#define PEER_PACE_BURST 16384
#define PEER_PACE_STEP 4096
/* udp-send --gso: segments per send (the kernel's UDP_MAX_SEGMENTS is 64 or more). */
#define PEER_MAX_GSO_SEGS 64
#define PEER_EXIT_UNSUPPORTED 3

struct peer_opts {
	struct sockaddr_storage addr; /* ADDR PORT from the command line */
	socklen_t addr_len;
	struct sockaddr_storage bind; /* --bind ADDR[,PORT] */
	socklen_t bind_len;
	int timeout_ms;
	long count;
	long bytes; /* --bytes (tcp) or --size (udp) */
	long rate;  /* --rate: bytes/s (tcp-connect), datagrams/s (udp-send); 0: no limit */
	bool expect_reply;
	const char *wait_for; /* --wait-for FILE: idle once connected, until FILE exists */
	bool fragment; /* --fragment: the kernel may fragment (no DF, IPv6 DONTFRAG 0) */
	long gso;      /* --gso SEG: UDP_SEGMENT, each send split in SEG-byte datagrams */
	int idle_ms;   /* --idle S: tcp-connect pauses half-way (or until SIGUSR1) */
	bool push;     /* --push: tcp-listen talks first (tcp-connect's exchange) */
	bool echo;     /* --echo: tcp-connect echoes what comes, until the peer closes */
};

static volatile sig_atomic_t resume_flag;

static void on_resume(int sig)
{
	(void)sig;
	resume_flag = 1;
}

static const char *prog = "peer";
static const char *cmd_name = "";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: peer COMMAND ADDR PORT [OPTIONS]\n"
		"\n"
		"Commands (ADDR is IPv4 or IPv6):\n"
		"  tcp-listen  ADDR PORT [--timeout S] [--count N]\n"
		"              [--push [--bytes B] [--wait-for F]]\n"
		"      accept N connections (default 1), echo what each sends; with\n"
		"      --push, talk first: once F exists, send B bytes to each and read\n"
		"      them back, as tcp-connect does (its --echo client echoes)\n"
		"  tcp-connect ADDR PORT [--bind ADDR[,PORT]] [--bytes B] [--rate R]\n"
		"              [--wait-for F] [--idle S] [--echo] [--timeout S]\n"
		"      connect, send B bytes (default %d), read them back; with --rate\n"
		"      send at most R bytes per second (a steady stream). With --idle,\n"
		"      once the first half is echoed print \"idle\" on stdout, send\n"
		"      nothing for S seconds or until SIGUSR1, then the rest (--timeout\n"
		"      bounds each half). With --wait-for F, stay idle once connected\n"
		"      until file F exists (at most S), then exchange (within S again).\n"
		"      With --echo, send nothing: echo what the peer sends until it\n"
		"      closes (a tcp-listen --push), within S of connecting\n"
		"  udp-echo    ADDR PORT [--timeout S] [--count N] [--fragment]\n"
		"      echo N datagrams (default 1) back to their sender\n"
		"  udp-send    ADDR PORT [--bind ADDR[,PORT]] [--count N] [--size B]\n"
		"              [--expect-reply [--wait-for F]] [--rate R] [--fragment]\n"
		"              [--gso SEG] [--timeout S]\n"
		"      send N datagrams (default 1) of B bytes (default %d); with\n"
		"      --expect-reply wait up to S for the echo of each one. With --rate,\n"
		"      send R datagrams per second without waiting; echoes are collected\n"
		"      as they come, and up to S after the last send: one missing fails.\n"
		"      --wait-for F as for tcp-connect (after connecting, with --expect-reply)\n"
		"      --fragment: a datagram above the path MTU leaves in fragments\n"
		"      (IPv4 without DF, IPv6 DONTFRAG 0). --gso SEG: each send is one\n"
		"      UDP_SEGMENT superpacket of B bytes that the kernel splits into\n"
		"      SEG-byte datagrams (B a multiple of SEG); with --expect-reply every\n"
		"      one of them must come back within S of the last send\n"
		"  udp-flood   ADDR PORT [--bind ADDR[,PORT]] [--count N] [--size B]\n"
		"              [--timeout S]\n"
		"      one datagram to each of N destinations: ADDR, ADDR+1, ... (the\n"
		"      address's last 32 bits counted up), PORT; stops at S seconds.\n"
		"      Prints \"sent N\" on stdout\n"
		"\n"
		"Options:\n"
		"  -t, --timeout S   how long to wait, seconds (default %.1f; fractions ok)\n"
		"  -c, --count N     connections or datagrams\n"
		"  -b, --bytes B     TCP bytes to send\n"
		"  -s, --size B      UDP payload bytes\n"
		"  -B, --bind A[,P]  local address and optional port (',' since IPv6\n"
		"                    addresses hold ':')\n"
		"  -R, --rate R      TCP bytes or UDP datagrams per second\n"
		"  -W, --wait-for F  a session open before the test's next step: idle until F\n"
		"  -F, --fragment    let the kernel fragment big datagrams\n"
		"  -G, --gso SEG     UDP_SEGMENT size (udp-send)\n"
		"  -I, --idle S      pause half-way (tcp-connect)\n"
		"  -P, --push        the listener talks first (tcp-listen)\n"
		"  -E, --echo        the client echoes, sends nothing of its own (tcp-connect)\n"
		"  -r, --expect-reply\n"
		"  -h, --help\n"
		"\n"
		"Exit status: 0 done, 1 not done (reason on stderr), 2 bad usage,\n"
		"3 the kernel lacks a feature asked for (--gso).\n",
		PEER_DEFAULT_BYTES, PEER_DEFAULT_BYTES, PEER_DEFAULT_TIMEOUT_MS / 1000.0);
}

static __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, 0 when it has passed. */
static int left_ms(long long deadline)
{
	long long left = deadline - now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	}
	return buf;
}

static int parse_port(const char *s, unsigned int *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

static int parse_addr(const char *host, unsigned int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* "ADDR" or "ADDR,PORT" */
static int parse_bind(const char *arg, struct peer_opts *o)
{
	char host[INET6_ADDRSTRLEN + 8];
	unsigned int port = 0;
	char *comma;

	if (strlen(arg) >= sizeof(host))
		return -1;
	strcpy(host, arg);
	comma = strrchr(host, ',');
	if (comma) {
		*comma = '\0';
		if (parse_port(comma + 1, &port))
			return -1;
	}
	return parse_addr(host, port, &o->bind, &o->bind_len);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_timeout(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600)
		return -1;
	*ms = (int)(v * 1000);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/*
 * --fragment: a datagram bigger than the path MTU leaves in fragments made by
 * this kernel (IPv4: no DF; IPv6: no EMSGSIZE), whatever the path MTU state.
 */
static int allow_fragments(int fd, int family)
{
	int dont = family == AF_INET ? IP_PMTUDISC_DONT : IPV6_PMTUDISC_DONT, zero = 0;

	if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont)) < 0) {
			fail("IP_MTU_DISCOVER: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &dont, sizeof(dont)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &zero, sizeof(zero)) < 0) {
		fail("IPV6_MTU_DISCOVER/IPV6_DONTFRAG: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A socket of the family of o->addr, bound to --bind (or to ADDR PORT for servers). */
static int open_socket(const struct peer_opts *o, int type, bool server)
{
	const struct sockaddr_storage *local = server ? &o->addr : &o->bind;
	socklen_t local_len = server ? o->addr_len : o->bind_len;
	int one = 1;
	char buf[64];
	int fd;

	if (!server && o->bind_len && o->bind.ss_family != o->addr.ss_family) {
		fail("--bind and ADDR are of different address families");
		return -1;
	}
	fd = socket(o->addr.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		fail("SO_REUSEADDR: %s", strerror(errno));
		goto err;
	}
	if (o->fragment && allow_fragments(fd, o->addr.ss_family) < 0)
		goto err;
	if (local_len && bind(fd, (const struct sockaddr *)local, local_len) < 0) {
		fail("bind %s: %s", addr_str(local, buf, sizeof(buf)), strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* A recognisable payload, so that an echo is checked byte for byte. */
static unsigned char pattern(long i)
{
	return (unsigned char)('A' + i % 26);
}

/* Write all of buf to a blocking-or-not fd, bounded by deadline. */
static int write_all(int fd, const unsigned char *buf, size_t len, long long deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		ssize_t n;
		int r = poll(&pfd, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Echo one TCP client until it closes its side or the deadline passes. */
static int serve_tcp_client(int fd, long long deadline, long *echoed)
{
	static unsigned char buf[PEER_BUF];
	int err;

	*echoed = 0;
	if (set_nonblock(fd) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, left_ms(deadline));
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		err = write_all(fd, buf, (size_t)n, deadline);
		if (err)
			return err;
		*echoed += n;
	}
}

static int wait_for_file(const char *path, long long deadline);
static int tcp_exchange(int fd, const struct peer_opts *o);

static int cmd_tcp_listen(const struct peer_opts *o)
{
	long long deadline = now_ms() + o->timeout_ms;
	long served = 0;
	char buf[64];
	int lfd;

	lfd = open_socket(o, SOCK_STREAM, true);
	if (lfd < 0)
		return 1;
	if (listen(lfd, 16) < 0 || set_nonblock(lfd) < 0) {
		fail("listen: %s", strerror(errno));
		close(lfd);
		return 1;
	}
	while (served < o->count) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		long echoed;
		int r, cfd, err;

		r = poll(&pfd, 1, left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		cfd = accept4(lfd, (struct sockaddr *)&from, &from_len, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			fail("accept: %s", strerror(errno));
			break;
		}
		if (o->push) {
			/* --push: this side talks first, once F exists; the client echoes. */
			if (set_nonblock(cfd) < 0 ||
			    (o->wait_for && wait_for_file(o->wait_for, deadline))) {
				fail("timed out waiting for %s", o->wait_for ? o->wait_for : "-");
				close(cfd);
				break;
			}
			err = tcp_exchange(cfd, o);
			close(cfd);
			if (err)
				break;
			served++;
			continue;
		}
		err = serve_tcp_client(cfd, deadline, &echoed);
		close(cfd);
		if (err)
			fail("client %s: %s after %ld bytes", addr_str(&from, buf, sizeof(buf)),
			     err == -ETIMEDOUT ? "timed out" : strerror(-err), echoed);
		else
			served++;
	}
	close(lfd);
	if (served < o->count) {
		fail("timed out: served %ld of %ld connections on %s", served, o->count,
		     addr_str(&o->addr, buf, sizeof(buf)));
		return 1;
	}
	return 0;
}

static int connect_bounded(int fd, const struct peer_opts *o, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0, r;

	if (set_nonblock(fd) < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addr_len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	do {
		r = poll(&pfd, 1, left_ms(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static const char *why(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "timed out";
	case -ECONNREFUSED:
		return "refused";
	default:
		return strerror(-err);
	}
}

/*
 * --rate for tcp-connect: how many bytes may be sent now, 0 if none yet; then
 * *wait_ms is shortened to when PEER_PACE_STEP more bytes (or the rest) will be.
 */
static long pace_room(const struct peer_opts *o, long long start, long sent, int *wait_ms)
{
	long long elapsed = now_ms() - start;
	long rest = o->bytes - sent, step = rest < PEER_PACE_STEP ? rest : PEER_PACE_STEP;
	long long allowed = (long long)o->rate * elapsed / 1000 + PEER_PACE_BURST;
	long long need, due;

	if (allowed - sent >= step)
		return allowed - sent < rest ? (long)(allowed - sent) : rest;
	/* allowed reaches sent + step at start + need * 1000 / rate ms. */
	need = sent + step - PEER_PACE_BURST;
	due = start + (need * 1000 + o->rate - 1) / o->rate;
	if (due - now_ms() < *wait_ms)
		*wait_ms = due - now_ms() > 1 ? (int)(due - now_ms()) : 1;
	return 0;
}

/* --wait-for: poll for the file every 20 ms until the deadline. 0 or -ETIMEDOUT. */
static int wait_for_file(const char *path, long long deadline)
{
	struct stat st;

	while (stat(path, &st)) {
		if (!left_ms(deadline))
			return -ETIMEDOUT;
		poll(NULL, 0, 20);
	}
	return 0;
}

/*
 * --idle: the first half has been echoed; say so, and send nothing until
 * SIGUSR1 or idle_ms have passed.
 */
static void tcp_idle(const struct peer_opts *o)
{
	long long until = now_ms() + o->idle_ms;

	printf("idle\n");
	fflush(stdout);
	while (!resume_flag && left_ms(until) > 0)
		poll(NULL, 0, left_ms(until) < 20 ? left_ms(until) : 20);
}

/*
 * On connected non-blocking fd: send o->bytes of the pattern and read them
 * back within o->timeout_ms (--rate, --idle as tcp-connect says). 0 or 1.
 */
static int tcp_exchange(int fd, const struct peer_opts *o)
{
	static unsigned char out[PEER_BUF], in[PEER_BUF];
	long long start = now_ms(), deadline = start + o->timeout_ms;
	long sent = 0, got = 0;
	/* --idle: the first half, then a pause, then the rest. */
	long limit = o->idle_ms ? (o->bytes + 1) / 2 : o->bytes;
	char buf[64];
	int err = 0;

	/* Send and receive together so that a large --bytes cannot deadlock. */
	while (got < o->bytes) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int wait;
		long room;
		ssize_t n;
		int r;

		if (got >= limit && limit < o->bytes) {
			tcp_idle(o);
			limit = o->bytes;
			deadline = now_ms() + o->timeout_ms;
		}
		wait = left_ms(deadline);
		room = limit - sent;

		if (o->rate && room > 0)
			room = pace_room(o, start, sent, &wait);
		if (room > 0)
			pfd.events |= POLLOUT;
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0) {
			if (left_ms(deadline) > 0)
				continue; /* paced: time to send more */
			err = -ETIMEDOUT;
			break;
		}
		if (pfd.revents & POLLOUT) {
			long chunk = room;
			long i;

			if (chunk > (long)sizeof(out))
				chunk = sizeof(out);
			for (i = 0; i < chunk; i++)
				out[i] = pattern(sent + i);
			n = send(fd, out, (size_t)chunk, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				err = -errno;
				break;
			}
			if (n > 0)
				sent += n;
			if (sent == o->bytes)
				shutdown(fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
			long i;

			n = recv(fd, in, sizeof(in), 0);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				err = -errno;
				break;
			}
			if (n == 0) {
				err = -EPIPE;
				break;
			}
			for (i = 0; i < n; i++) {
				if (in[i] != pattern(got + i)) {
					fail("%s: echo differs at byte %ld",
					     addr_str(&o->addr, buf, sizeof(buf)), got + i);
					return 1;
				}
			}
			if (n > 0)
				got += n;
		}
	}
	if (got < o->bytes) {
		fail("%s: %s: sent %ld, got back %ld of %ld bytes",
		     addr_str(&o->addr, buf, sizeof(buf)),
		     err == -EPIPE ? "short (peer closed)" : why(err), sent, got, o->bytes);
		return 1;
	}
	return 0;
}

static int cmd_tcp_connect(const struct peer_opts *o)
{
	long long deadline = now_ms() + o->timeout_ms;
	long echoed;
	char buf[64];
	int fd, err, ret;

	fd = open_socket(o, SOCK_STREAM, false);
	if (fd < 0)
		return 1;
	err = connect_bounded(fd, o, deadline);
	if (err) {
		fail("connect %s: %s", addr_str(&o->addr, buf, sizeof(buf)), why(err));
		close(fd);
		return 1;
	}
	if (o->wait_for && wait_for_file(o->wait_for, deadline)) {
		fail("timed out waiting for %s", o->wait_for);
		close(fd);
		return 1;
	}
	if (!o->echo) {
		ret = tcp_exchange(fd, o);
		close(fd);
		return ret;
	}
	/* --echo: the peer talks first; echo it until it closes. */
	err = serve_tcp_client(fd, deadline, &echoed);
	close(fd);
	if (err || !echoed) {
		fail("%s: %s after echoing %ld bytes", addr_str(&o->addr, buf, sizeof(buf)),
		     err ? why(err) : "closed", echoed);
		return 1;
	}
	return 0;
}

static int cmd_udp_echo(const struct peer_opts *o)
{
	static unsigned char data[PEER_BUF];
	long long deadline = now_ms() + o->timeout_ms;
	long echoed = 0;
	char buf[64];
	int fd;

	fd = open_socket(o, SOCK_DGRAM, true);
	if (fd < 0)
		return 1;
	while (echoed < o->count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n;
		int r = poll(&pfd, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recvfrom(fd, data, sizeof(data), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &from_len);
		if (n < 0)
			continue;
		if (sendto(fd, data, (size_t)n, 0, (struct sockaddr *)&from, from_len) < 0) {
			fail("sendto %s: %s", addr_str(&from, buf, sizeof(buf)), strerror(errno));
			continue;
		}
		echoed++;
	}
	close(fd);
	if (echoed < o->count) {
		fail("timed out: echoed %ld of %ld datagrams on %s", echoed, o->count,
		     addr_str(&o->addr, buf, sizeof(buf)));
		return 1;
	}
	return 0;
}

/* Wait for the echo of the datagram just sent (its first bytes carry its number). */
static int udp_wait_reply(int fd, const unsigned char *sent, size_t len, long long deadline)
{
	static unsigned char data[PEER_BUF];

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r = poll(&pfd, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, data, sizeof(data), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		/* A late echo of an earlier datagram is skipped, not counted. */
		if ((size_t)n == len && memcmp(data, sent, len) == 0)
			return 0;
	}
}

/* Datagram i: the pattern, its number in the first 4 bytes (when it has them). */
static void udp_fill(unsigned char *data, long i, size_t len)
{
	size_t j;

	for (j = 0; j < len; j++)
		data[j] = pattern(i + (long)j);
	if (len >= sizeof(uint32_t)) {
		uint32_t seq = htonl((uint32_t)i);

		memcpy(data, &seq, sizeof(seq));
	}
}

/* Take every echo waiting on fd; mark the datagrams they echo exactly. */
static void udp_collect(int fd, size_t len, long count, unsigned char *seen, long *echoed)
{
	static unsigned char in[PEER_BUF], want[PEER_BUF];

	for (;;) {
		ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		uint32_t seq;

		if (n < 0)
			return;
		if ((size_t)n != len || len < sizeof(seq) || len > sizeof(want))
			continue;
		memcpy(&seq, in, sizeof(seq));
		seq = ntohl(seq);
		if (seq >= (uint64_t)count || seen[seq])
			continue;
		udp_fill(want, (long)seq, len);
		if (memcmp(in, want, len))
			continue;
		seen[seq] = 1;
		(*echoed)++;
	}
}

/*
 * udp-send --rate: datagram i leaves at start + i/R s whatever came back; with
 * --expect-reply, echoes are collected meanwhile and for up to --timeout after
 * the last send. Every datagram must come back once, intact.
 */
static int udp_send_paced(int fd, const struct peer_opts *o)
{
	static unsigned char data[PEER_MAX_DATAGRAM];
	long long start = now_ms(), deadline = 0;
	size_t len = (size_t)o->bytes;
	unsigned char *seen = NULL;
	long sent = 0, echoed = 0, i;
	char buf[64];
	int err = 0;

	if (o->expect_reply) {
		seen = calloc((size_t)o->count, 1);
		if (!seen) {
			fail("out of memory");
			return 1;
		}
	}
	while (sent < o->count || (o->expect_reply && echoed < o->count)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int wait;

		if (sent < o->count) {
			long long due = start + (long long)sent * 1000 / o->rate;

			if (now_ms() >= due) {
				udp_fill(data, sent, len);
				if (sendto(fd, data, len, 0,
					   o->expect_reply ? NULL : (struct sockaddr *)&o->addr,
					   o->expect_reply ? 0 : o->addr_len) < 0) {
					err = -errno;
					fail("send %s: %s (datagram %ld)",
					     addr_str(&o->addr, buf, sizeof(buf)), why(err),
					     sent + 1);
					break;
				}
				if (++sent == o->count)
					deadline = now_ms() + o->timeout_ms;
				continue;
			}
			wait = (int)(due - now_ms());
		} else {
			wait = left_ms(deadline);
			if (!wait)
				break;
		}
		if (!o->expect_reply) {
			poll(NULL, 0, wait);
			continue;
		}
		if (poll(&pfd, 1, wait) > 0)
			udp_collect(fd, len, o->count, seen, &echoed);
	}
	if (!err && o->expect_reply && echoed < o->count) {
		for (i = 0; i < o->count && seen[i]; i++)
			;
		fail("%s: %ld of %ld datagrams not echoed within %.1f s of the last send "
		     "(first missing: datagram %ld)",
		     addr_str(&o->addr, buf, sizeof(buf)), o->count - echoed, o->count,
		     o->timeout_ms / 1000.0, i + 1);
		err = -ETIMEDOUT;
	}
	free(seen);
	return err ? 1 : 0;
}

/*
 * udp-send --gso: each of N sends is one UDP_SEGMENT superpacket of --size
 * bytes, which the kernel splits into --gso-byte datagrams, numbered in
 * sequence across sends. With --expect-reply, every one must come back once,
 * intact, within --timeout of the last send.
 */
static int udp_send_gso(int fd, const struct peer_opts *o)
{
	static unsigned char data[PEER_MAX_DATAGRAM];
	size_t seg = (size_t)o->gso, per = (size_t)o->bytes / seg, j;
	long total = o->count * (long)per, echoed = 0, i, k;
	unsigned char *seen = NULL;
	long long deadline;
	int gso = (int)o->gso;
	char buf[64];

	if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)) < 0) {
		fail("UDP_SEGMENT: %s", strerror(errno));
		return errno == ENOPROTOOPT || errno == EINVAL ? PEER_EXIT_UNSUPPORTED : 1;
	}
	if (o->expect_reply) {
		seen = calloc((size_t)total, 1);
		if (!seen) {
			fail("out of memory");
			return 1;
		}
	}
	for (i = 0; i < o->count; i++) {
		for (j = 0; j < per; j++)
			udp_fill(data + j * seg, i * (long)per + (long)j, seg);
		if (sendto(fd, data, per * seg, 0,
			   o->expect_reply ? NULL : (struct sockaddr *)&o->addr,
			   o->expect_reply ? 0 : o->addr_len) < 0) {
			int e = errno;

			fail("send %s: %s (superpacket %ld of %zu x %zu bytes)",
			     addr_str(&o->addr, buf, sizeof(buf)), strerror(e), i + 1, per, seg);
			free(seen);
			/* EIO: no checksum offload on the route, so no UDP GSO. */
			return e == EIO || e == EOPNOTSUPP ? PEER_EXIT_UNSUPPORTED : 1;
		}
		if (o->expect_reply)
			udp_collect(fd, seg, total, seen, &echoed);
	}
	if (!o->expect_reply)
		return 0;
	deadline = now_ms() + o->timeout_ms;
	while (echoed < total) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		udp_collect(fd, seg, total, seen, &echoed);
	}
	if (echoed < total) {
		for (k = 0; k < total && seen[k]; k++)
			;
		fail("%s: timed out: %ld of %ld datagrams (%ld superpackets of %zu x %zu bytes) "
		     "not echoed within %.1f s (first missing: datagram %ld)",
		     addr_str(&o->addr, buf, sizeof(buf)), total - echoed, total, o->count, per,
		     seg, o->timeout_ms / 1000.0, k + 1);
		free(seen);
		return 1;
	}
	free(seen);
	return 0;
}

static int cmd_udp_send(const struct peer_opts *o)
{
	static unsigned char data[PEER_MAX_DATAGRAM];
	long replies = 0, i;
	char buf[64];
	int fd, err = 0;

	fd = open_socket(o, SOCK_DGRAM, false);
	if (fd < 0)
		return 1;
	/*
	 * With --expect-reply the socket is connected, so that only the echo is
	 * received. Without it, unconnected: a connected socket would fail the
	 * next send after an ICMP port unreachable, and the count must be exact.
	 */
	if (o->expect_reply && connect(fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0) {
		fail("connect %s: %s", addr_str(&o->addr, buf, sizeof(buf)), strerror(errno));
		close(fd);
		return 1;
	}
	if (o->wait_for && wait_for_file(o->wait_for, now_ms() + o->timeout_ms)) {
		fail("timed out waiting for %s", o->wait_for);
		close(fd);
		return 1;
	}
	if (o->gso) {
		err = udp_send_gso(fd, o);
		close(fd);
		return err;
	}
	if (o->rate) {
		err = udp_send_paced(fd, o);
		close(fd);
		return err;
	}
	for (i = 0; i < o->count; i++) {
		long long deadline = now_ms() + o->timeout_ms;
		size_t len = (size_t)o->bytes;

		/* Numbered, so that echoes cannot be mixed up. */
		udp_fill(data, i, len);
		if (sendto(fd, data, len, 0, o->expect_reply ? NULL : (struct sockaddr *)&o->addr,
			   o->expect_reply ? 0 : o->addr_len) < 0) {
			err = -errno;
			fail("send %s: %s (datagram %ld)", addr_str(&o->addr, buf, sizeof(buf)),
			     why(err), i + 1);
			break;
		}
		if (!o->expect_reply)
			continue;
		err = udp_wait_reply(fd, data, len, deadline);
		if (err) {
			fail("%s: no echo of datagram %ld: %s",
			     addr_str(&o->addr, buf, sizeof(buf)), i + 1, why(err));
			break;
		}
		replies++;
	}
	close(fd);
	if (err)
		return 1;
	if (o->expect_reply && replies < o->count)
		return 1;
	return 0;
}

/* The destination of udp-flood's datagram i: ADDR with i added to its last 32 bits. */
static void flood_addr(const struct peer_opts *o, long i, struct sockaddr_storage *to)
{
	uint32_t *last;

	*to = o->addr;
	if (to->ss_family == AF_INET)
		last = (uint32_t *)&((struct sockaddr_in *)to)->sin_addr.s_addr;
	else
		last = (uint32_t *)&((struct sockaddr_in6 *)to)->sin6_addr.s6_addr[12];
	*last = htonl(ntohl(*last) + (uint32_t)i);
}

/*
 * udp-flood: one datagram to each of --count destinations, as fast as the
 * socket takes them, from one socket (one local port), for at most --timeout.
 * A full queue (ENOBUFS, EAGAIN) is waited out briefly, within the time.
 */
static int cmd_udp_flood(const struct peer_opts *o)
{
	static unsigned char data[PEER_BUF];
	long long deadline = now_ms() + o->timeout_ms;
	struct sockaddr_storage to;
	size_t len = (size_t)o->bytes;
	long sent = 0, i;
	char buf[64];
	int fd;

	fd = open_socket(o, SOCK_DGRAM, false);
	if (fd < 0)
		return 1;
	for (i = 0; i < o->count; i++) {
		/* The clock every 256 datagrams: a bound, not a cost. */
		if (!(i & 255) && !left_ms(deadline))
			break;
		flood_addr(o, i, &to);
		udp_fill(data, i, len);
		if (sendto(fd, data, len, 0, (struct sockaddr *)&to, o->addr_len) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				poll(NULL, 0, 1);
				i--;
				continue;
			}
			fail("send %s: %s (datagram %ld)", addr_str(&to, buf, sizeof(buf)),
			     strerror(errno), i + 1);
			break;
		}
		sent++;
	}
	close(fd);
	printf("sent %ld\n", sent);
	if (sent < o->count) {
		if (!left_ms(deadline))
			fail("timed out: sent %ld of %ld datagrams in %.1f s", sent, o->count,
			     o->timeout_ms / 1000.0);
		return 1;
	}
	return 0;
}

struct peer_cmd {
	const char *name;
	int (*run)(const struct peer_opts *o);
	bool server;
};

static const struct peer_cmd cmds[] = {
    {"tcp-listen", cmd_tcp_listen, true},
    {"tcp-connect", cmd_tcp_connect, false},
    {"udp-echo", cmd_udp_echo, true},
    {"udp-send", cmd_udp_send, false},
    {"udp-flood", cmd_udp_flood, false},
};

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s %s: ", prog, cmd_name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'peer --help'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'c'},
	    {"bytes", required_argument, NULL, 'b'},
	    {"size", required_argument, NULL, 's'},
	    {"bind", required_argument, NULL, 'B'},
	    {"expect-reply", no_argument, NULL, 'r'},
	    {"rate", required_argument, NULL, 'R'},
	    {"wait-for", required_argument, NULL, 'W'},
	    {"fragment", no_argument, NULL, 'F'},
	    {"gso", required_argument, NULL, 'G'},
	    {"idle", required_argument, NULL, 'I'},
	    {"push", no_argument, NULL, 'P'},
	    {"echo", no_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct peer_opts o = {
	    .timeout_ms = PEER_DEFAULT_TIMEOUT_MS,
	    .count = 1,
	    .bytes = PEER_DEFAULT_BYTES,
	};
	const struct peer_cmd *cmd = NULL;
	bool size_set = false, bytes_set = false;
	unsigned int port;
	size_t i;
	int opt;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			cmd = &cmds[i];
	cmd_name = argv[1];
	if (!cmd)
		return bad_usage("unknown command '%s'", argv[1]);

	/* Options may come before or after ADDR PORT (getopt permutes). */
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "t:c:b:s:B:rR:W:FG:I:PEh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_timeout(optarg, &o.timeout_ms))
				return bad_usage("bad --timeout '%s' (seconds, > 0)", optarg);
			break;
		case 'c':
			if (parse_long(optarg, 1, PEER_MAX_COUNT, &o.count))
				return bad_usage("bad --count '%s'", optarg);
			break;
		case 'b':
			if (parse_long(optarg, 1, PEER_MAX_BYTES, &o.bytes))
				return bad_usage("bad --bytes '%s'", optarg);
			bytes_set = true;
			break;
		case 's':
			if (parse_long(optarg, 0, PEER_MAX_DATAGRAM, &o.bytes))
				return bad_usage("bad --size '%s' (0-65507)", optarg);
			size_set = true;
			break;
		case 'B':
			if (parse_bind(optarg, &o))
				return bad_usage("bad --bind '%s' (ADDR or ADDR,PORT)", optarg);
			break;
		case 'r':
			o.expect_reply = true;
			break;
		case 'R':
			if (parse_long(optarg, 1, PEER_MAX_RATE, &o.rate))
				return bad_usage("bad --rate '%s'", optarg);
			break;
		case 'W':
			o.wait_for = optarg;
			break;
		case 'F':
			o.fragment = true;
			break;
		case 'G':
			if (parse_long(optarg, 4, PEER_MAX_DATAGRAM, &o.gso))
				return bad_usage("bad --gso '%s' (4-65507)", optarg);
			break;
		case 'P':
			o.push = true;
			break;
		case 'E':
			o.echo = true;
			break;
		case 'I':
			if (parse_timeout(optarg, &o.idle_ms))
				return bad_usage("bad --idle '%s' (seconds, > 0)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'peer --help'.\n");
			return 2;
		}
	}
	if (argc - optind != 2)
		return bad_usage("expects ADDR PORT%s", "");
	if (parse_port(argv[optind + 1], &port))
		return bad_usage("bad port '%s'", argv[optind + 1]);
	if (parse_addr(argv[optind], port, &o.addr, &o.addr_len))
		return bad_usage("bad address '%s' (IPv4 or IPv6)", argv[optind]);
	if (cmd->server && o.bind_len)
		return bad_usage("--bind is for clients; a server binds to ADDR PORT%s", "");
	if (size_set && cmd->run != cmd_udp_send && cmd->run != cmd_udp_flood)
		return bad_usage("--size is for udp-send and udp-flood%s", "");
	if (bytes_set && cmd->run != cmd_tcp_connect && !(cmd->run == cmd_tcp_listen && o.push))
		return bad_usage("--bytes is for tcp-connect and tcp-listen --push%s", "");
	if (o.expect_reply && cmd->run != cmd_udp_send)
		return bad_usage("--expect-reply is for udp-send%s", "");
	if (o.rate && cmd->run != cmd_udp_send && cmd->run != cmd_tcp_connect)
		return bad_usage("--rate is for tcp-connect and udp-send%s", "");
	if (o.push && cmd->run != cmd_tcp_listen)
		return bad_usage("--push is for tcp-listen%s", "");
	if (o.echo && (cmd->run != cmd_tcp_connect || o.rate || o.idle_ms || bytes_set))
		return bad_usage("--echo is for tcp-connect, without --rate, --idle or --bytes%s",
				 "");
	if (o.wait_for && cmd->run != cmd_tcp_connect && !(cmd->run == cmd_tcp_listen && o.push) &&
	    !(cmd->run == cmd_udp_send && o.expect_reply))
		return bad_usage("--wait-for is for tcp-connect, tcp-listen --push and udp-send "
				 "--expect-reply%s", "");
	if (o.fragment && cmd->run != cmd_udp_send && cmd->run != cmd_udp_echo &&
	    cmd->run != cmd_udp_flood)
		return bad_usage("--fragment is for udp-send, udp-echo and udp-flood%s", "");
	if (o.gso && cmd->run != cmd_udp_send)
		return bad_usage("--gso is for udp-send%s", "");
	if (o.gso && (o.rate || o.bytes % o.gso || o.bytes / o.gso < 1 ||
		      o.bytes / o.gso > PEER_MAX_GSO_SEGS))
		return bad_usage("--gso SEG needs --size a multiple of SEG, 1 to 64 segments, and "
				 "no --rate%s", "");
	if (o.idle_ms && (cmd->run != cmd_tcp_connect || o.rate))
		return bad_usage("--idle is for tcp-connect, without --rate%s", "");
	if (o.rate && o.expect_reply && o.bytes < (long)sizeof(uint32_t))
		return bad_usage("--rate with --expect-reply needs --size 4 or more%s", "");

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_resume);
	return cmd->run(&o);
}
