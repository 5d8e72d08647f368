/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * exporter.h - /metrics for every attached interface over HTTP
 * (libmicrohttpd). No state of its own: each scrape reads the pinned maps,
 * so the exporter may stop and start at any time and no count is lost. It
 * only reads maps; nothing it does can change what the filter enforces.
 */
#ifndef PICFW_EXPORTER_H
#define PICFW_EXPORTER_H

#include <stdio.h>
#include <sys/socket.h>

/*
 * 9724: not node_exporter's 9100, not ebpf_exporter's 9435, nor any exporter
 * we know to run beside an Edge. Loopback only unless --listen says otherwise.
 */
#define PICFW_EXPORTER_PORT 9724
#define PICFW_EXPORTER_LISTEN "127.0.0.1:9724"

/* Bounds: a scraper needs one connection and a few hundred bytes of headers. */
#define PICFW_EXPORTER_CONNECTIONS 32   /* at once, all clients */
#define PICFW_EXPORTER_PER_IP 8         /* at once, from one address */
#define PICFW_EXPORTER_TIMEOUT_S 10     /* idle time before a connection is closed */
#define PICFW_EXPORTER_MEMORY 16384     /* per connection: request line and headers */
/*
 * Total time of one request, however the client sends or reads: from the
 * connection's accept (or, kept alive, the previous response sent whole) to
 * its response sent whole. Past it the connection is closed (exporter.c).
 */
#define PICFW_EXPORTER_REQUEST_S 10

struct exporter_listen {
	struct sockaddr_storage addr;
	socklen_t len;
	int loopback; /* 127.0.0.0/8 or ::1 */
	char text[64]; /* as given, for messages */
};

/* ADDR:PORT or [ADDR6]:PORT, numeric. 0, or -EINVAL. */
int exporter_parse_listen(const char *s, struct exporter_listen *l);

/*
 * The /metrics body: picfw_up for every interface with a pin directory,
 * stats.c's families for those whose maps read, the scrape's duration.
 * 0 or a negative errno.
 */
int exporter_render(FILE *f);

/*
 * Serve until SIGTERM or SIGINT (blocked here, for every thread). 0, or a
 * negative errno after one line through the logging funnel.
 */
int exporter_run(const struct exporter_listen *l);

#endif /* PICFW_EXPORTER_H */
