// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * exporter.c - picfw's /metrics over HTTP (see exporter.h).
 *
 * libmicrohttpd runs one thread per connection behind its polling thread,
 * so a slow client holds only its own thread; connections, headers, idle
 * time and the total time of a request are bounded (exporter.h; the last
 * one here, below). The body of /metrics is rendered whole into memory
 * under one mutex (stats_read() keeps large buffers static), then sent: a
 * client that reads slowly never holds the mutex.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "attach.h"
#include "bpffs.h"
#include "clock.h"
#include "exporter.h"
#include "ifname.h"
#include "log.h"
#include "maps.h"
#include "stats.h"

#define MAX_IFACES 256 /* pin directories read per scrape */

static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;

int exporter_parse_listen(const char *s, struct exporter_listen *l)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	long port;

	memset(l, 0, sizeof(*l));
	snprintf(l->text, sizeof(l->text), "%s", s);
	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') { /* [ADDR6]:PORT */
		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;

	if (s[0] != '[') {
		struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		l->len = sizeof(*a);
		l->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->addr;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		l->len = sizeof(*a);
		l->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	return 0;
}

/* Is ifname's pinned link an XDP link on that interface as it exists now? */
static int link_attached(const char *ifname)
{
	int linked = picfw_link_ifindex(ifname);

	return linked > 0 && linked == (int)if_nametoindex(ifname);
}

/*
 * A pin directory of this network namespace ("IFACE" in the initial one,
 * "IFACE:NETNS" in another): the exporter serves the interfaces it can see,
 * as `picfw stats` does where it runs.
 */
static int pin_dir_filter(const struct dirent *de)
{
	char ifname[IF_NAMESIZE];
	unsigned long netns;

	return !pin_entry_parse(de->d_name, ifname, &netns) && netns == netns_current();
}

/* The interface of a pin directory that pin_dir_filter() took. */
static const char *pin_dir_ifname(const struct dirent *de, char ifname[IF_NAMESIZE])
{
	unsigned long netns;

	if (pin_entry_parse(de->d_name, ifname, &netns))
		ifname[0] = '\0';
	return ifname;
}

/* Read one interface: 1 if its maps read (s filled), 0 if not. */
static int read_one(const char *ifname, struct stats_snapshot *s)
{
	struct picfw_maps m;
	int err;

	err = maps_open_pinned(ifname, &m);
	if (err) {
		pr_debug("picfw exporter: opening the maps of %s: %s\n", ifname, strerror(-err));
		return 0;
	}
	err = stats_read(ifname, &m, s);
	maps_close(&m);
	if (err)
		pr_debug("picfw exporter: reading the counters of %s: %s\n", ifname,
			 strerror(-err));
	return !err;
}

int exporter_render(FILE *f)
{
	const struct stats_snapshot *read_ok[MAX_IFACES];
	struct stats_snapshot *snaps = NULL;
	struct dirent **names = NULL;
	double t0 = monotonic_ms();
	int n, i, nread = 0;

	n = scandir(pin_root(), &names, pin_dir_filter, alphasort);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		n = 0; /* nothing attached yet */
	}
	if (n > MAX_IFACES) {
		pr_warn("picfw exporter: %d pin directories; reading the first %d\n", n,
			MAX_IFACES);
	}
	if (n)
		snaps = calloc((size_t)(n < MAX_IFACES ? n : MAX_IFACES), sizeof(*snaps));
	if (n && !snaps) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -ENOMEM;
	}
	fprintf(f, "# HELP picfw_up 1 when the interface's pinned filter is attached and its "
		   "maps read.\n# TYPE picfw_up gauge\n");
	for (i = 0; i < n && i < MAX_IFACES; i++) {
		char ifname[IF_NAMESIZE];
		int up = read_one(pin_dir_ifname(names[i], ifname), &snaps[i]);

		if (up)
			read_ok[nread++] = &snaps[i];
		up = up && link_attached(ifname);
		fprintf(f, "picfw_up{interface=\"");
		prom_label(f, ifname);
		fprintf(f, "\"} %d\n", up);
	}
	stats_print_prometheus_many(f, read_ok, (unsigned)nread);
	fprintf(f, "# HELP picfw_exporter_scrape_duration_seconds Time this scrape took to read "
		   "the maps and render.\n# TYPE picfw_exporter_scrape_duration_seconds gauge\n"
		   "picfw_exporter_scrape_duration_seconds %.6f\n",
		(monotonic_ms() - t0) / 1000.0);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(snaps);
	return ferror(f) ? -EIO : 0;
}

static const char index_page[] =
	"<!DOCTYPE html>\n<html><head><title>picfw exporter</title></head><body>\n"
	"<h1>picfw exporter</h1>\n<p>Counters of every interface picfw is attached to, "
	"read from the pinned maps at each scrape.</p>\n"
	"<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", (void *)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	f = open_memstream(&body, &len);
	if (!f)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	pthread_mutex_lock(&render_lock);
	err = exporter_render(f);
	pthread_mutex_unlock(&render_lock);
	if (fclose(f))
		err = err ? err : -EIO;
	if (err) {
		free(body);
		pr_warn("picfw exporter: a scrape failed: %s\n", strerror(-err));
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "reading the pins failed\n");
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		     MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req;
	/* Answered at the first call, before any body is read: nothing here takes one. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(c);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
}

/*
 * The time limit of a request (PICFW_EXPORTER_REQUEST_S).
 *
 * libmicrohttpd's own timeout (MHD_OPTION_CONNECTION_TIMEOUT) is idle time:
 * every byte received starts it again, so a client that trickles a header
 * byte every few seconds would hold its connection, and its thread, for
 * ever; 0.9.75 (Debian 12) has no limit on a request's total time. So each
 * connection gets a deadline here: set when libmicrohttpd takes it
 * (MHD_OPTION_NOTIFY_CONNECTION, STARTED) and again when a response has been
 * sent whole (MHD_OPTION_NOTIFY_COMPLETED: the next request of a kept-alive
 * connection gets its own time). The main thread, between signals, shuts
 * down the socket (shutdown(SHUT_RDWR)) of every connection past its
 * deadline; that is how libmicrohttpd itself stops the connection threads
 * when the daemon stops: the thread's wait wakes up, its recv() reads the
 * end or its send() fails, and it closes the connection as if the client had
 * gone. Nothing of libmicrohttpd's is touched from another thread. (With
 * 0.9.75 a response queued at the handler's first call, as here, closes its
 * connection once sent, so today a connection carries one request; the
 * second deadline is for a libmicrohttpd that keeps it alive.)
 *
 * No descriptor race: libmicrohttpd calls the CLOSED notification before it
 * closes the socket (MHD_cleanup_connections(), and the failure path of
 * new_connection_process_(), in 0.9.75); that notification takes watch_lock
 * and the sweep holds watch_lock from reading a slot's descriptor to
 * shutdown(), so the descriptor shut down is always still that connection's,
 * never one that a later accept() or another part of picfw got again.
 *
 * Why not libmicrohttpd's other model, one polling thread (epoll) for every
 * connection: it saves threads, which the connection limit already bounds
 * (32), but bounds no time: a trickling client would keep its connection
 * slot for ever just the same, so the deadline is needed there too, and
 * every scrape's rendering would then run in that one thread. One thread
 * per connection plus the deadline keeps what was tested and adds only what
 * was missing.
 */
struct watched {
	int used;
	int cut;	 /* shut down: waiting for libmicrohttpd's CLOSED */
	int fd;		 /* the connection's socket */
	double deadline; /* monotonic_ms() */
};

/* One slot per connection libmicrohttpd admits (it admits no more than that). */
static struct watched watch[PICFW_EXPORTER_CONNECTIONS];
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;

static double request_deadline(void)
{
	return monotonic_ms() + PICFW_EXPORTER_REQUEST_S * 1000.0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct watched *w = NULL;
	unsigned i;

	(void)cls;
	pthread_mutex_lock(&watch_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		for (i = 0; i < PICFW_EXPORTER_CONNECTIONS && !w; i++)
			if (!watch[i].used)
				w = &watch[i];
		if (ci && w) {
			*w = (struct watched){ .used = 1, .fd = ci->connect_fd,
					       .deadline = request_deadline() };
			*socket_context = w;
		} else if (ci) {
			/* Never (libmicrohttpd admits no more): one it could not time ends now. */
			shutdown(ci->connect_fd, SHUT_RDWR);
		}
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		w = *socket_context;
		if (w)
			w->used = 0;
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&watch_lock);
}

/* A response sent whole: a kept-alive connection's next request gets its own time. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct watched *w;

	(void)cls;
	(void)req;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	pthread_mutex_lock(&watch_lock);
	w = ci ? ci->socket_context : NULL;
	if (w && w->used && !w->cut)
		w->deadline = request_deadline();
	pthread_mutex_unlock(&watch_lock);
}

/* Shut down every connection past its deadline; milliseconds until the next one. */
static long sweep_deadlines(void)
{
	double now = monotonic_ms();
	double next = now + PICFW_EXPORTER_REQUEST_S * 1000.0; /* no new one ends sooner */
	unsigned i, cut = 0;

	pthread_mutex_lock(&watch_lock);
	for (i = 0; i < PICFW_EXPORTER_CONNECTIONS; i++) {
		struct watched *w = &watch[i];

		if (!w->used || w->cut)
			continue;
		if (w->deadline <= now) {
			shutdown(w->fd, SHUT_RDWR);
			w->cut = 1;
			cut++;
		} else if (w->deadline < next) {
			next = w->deadline;
		}
	}
	pthread_mutex_unlock(&watch_lock);
	if (cut)
		pr_debug("picfw exporter: closed %u connection(s) past the %d s limit of a "
			 "request\n", cut, PICFW_EXPORTER_REQUEST_S);
	return (long)(next - now) + 1;
}

/* libmicrohttpd's own messages (refused connections, timeouts): at -v. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vprint(LOG_DEBUG, fmt, ap);
}

int exporter_run(const struct exporter_listen *l)
{
	/*
	 * MHD_USE_ITC: a connection's thread, when it ends, wakes the polling
	 * thread, which then closes the socket and counts the connection out
	 * of the limits at once. Without it (0.9.75 on Linux, one thread per
	 * connection, unless a NOTIFY_COMPLETED is set) that waits for the next
	 * accept(), which the stale count may refuse: with 7 slow clients from
	 * one address, every other scrape from it was refused.
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	sigset_t stop;
	int sig = 0;

	/* Blocked before the threads start, so they inherit it; this thread waits for it. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (l->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	errno = 0;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
			     /* First, or libmicrohttpd says so on stderr. */
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l->addr,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)PICFW_EXPORTER_CONNECTIONS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PICFW_EXPORTER_PER_IP,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PICFW_EXPORTER_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PICFW_EXPORTER_MEMORY,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!d) {
		int err = errno ? errno : EADDRNOTAVAIL;

		pr_warn("picfw exporter: cannot listen on %s: %s\n", l->text, strerror(err));
		return -err;
	}
	if (!l->loopback)
		pr_warn("picfw exporter: listening on %s, beyond loopback: whoever reaches it "
			"reads every counter and row name\n", l->text);
	pr_info("picfw exporter: serving http://%s/metrics\n", l->text);

	/* This thread waits for a signal, and meanwhile keeps the deadlines. */
	while (sig != SIGTERM && sig != SIGINT) {
		long ms = sweep_deadlines();
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		sig = sigtimedwait(&stop, NULL, &ts);
	}
	pr_info("picfw exporter: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_stop_daemon(d);
	return 0;
}
