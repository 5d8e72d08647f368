// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* cmd_log.c - picfw log IFACE [--json] [-w FILE|-] [--reason R] [--count N] [--rate N]. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "droplog.h"
#include "log.h"
#include "maps.h"
#include "stats.h"

#define RATE_MAX 1000000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A whole number in [lo, hi]: 0, or EXIT_USAGE after a message. */
static int number(const char *opt, const char *text, unsigned long long lo, unsigned long long hi,
		  unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(text, &end, 10);
	if (!errno && end != text && !*end && text[0] != '-' && *v >= lo && *v <= hi)
		return 0;
	pr_warn("picfw log: bad --%s '%s' (%llu to %llu)\n", opt, text, lo, hi);
	return EXIT_USAGE;
}

int cmd_log(int argc, char **argv)
{
	static struct cmd_choice reasons[PICFW_REASONS + 1];
	/* What -w, --count and --rate give, as given (cmd_parse stores them). */
	struct {
		const char *path, *count, *rate;
	} arg = { NULL };
	int json = 0, reason = -1, ret, i;
	const struct cmd_opt opts[] = {
		{ 'j', "json", NULL, "one JSON object per line", &json, 1 },
		{ 'w', "write", "FILE", "write a pcap file; - for stdout", .text = &arg.path },
		{ 'r', "reason", "REASON", "only drops of this reason (no_match, malformed, ...)",
		  &reason, 0, reasons },
		{ 'c', "count", "N", "stop after N drops", .text = &arg.count },
		{ 'R', "rate", "N", "at most N samples per second per CPU (default 1000)",
		  .text = &arg.rate },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct droplog_opts o = { .rate = PICFW_DROPLOG_DEFAULT_RATE, .stop = &stop };
	unsigned long long v;
	uint32_t holder = 0;
	uint64_t written;
	struct picfw_maps m;

	for (i = 0; i < PICFW_REASONS; i++)
		reasons[i] = (struct cmd_choice){ reason_names[i], i };
	ret = cmd_parse("log", argc, argv, opts, 1, 1);
	if (ret >= 0)
		return ret;
	if (arg.path && json) {
		pr_warn("picfw log: --json and --write exclude each other\n");
		return EXIT_USAGE;
	}
	if (arg.count && number("count", arg.count, 1, ~0ULL, &v))
		return EXIT_USAGE;
	o.count = arg.count ? v : 0;
	if (arg.rate && number("rate", arg.rate, 1, RATE_MAX, &v))
		return EXIT_USAGE;
	if (arg.rate)
		o.rate = (uint32_t)v;
	o.ifname = argv[optind];
	o.reason = reason;
	o.format = arg.path ? DROPLOG_PCAP : json ? DROPLOG_JSON : DROPLOG_TEXT;
	o.pcap_path = arg.path;
	ret = cmd_ifname("log", o.ifname);
	if (ret)
		return ret;
	if (cmd_need_caps("log"))
		return EXIT_FAIL;
	if (cmd_open_pinned("log", o.ifname, &m))
		return EXIT_FAIL;

	/* Stop cleanly, giving the lease back; a reader that goes away is a write error. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = droplog_follow(&m, &o, &written, &holder);
	maps_close(&m);
	if (ret == -EBUSY)
		return cmd_fail("log", "another picfw log (pid %u) reads the drop log of %s; one "
				       "reader at a time (each sample goes to one reader)",
				holder, o.ifname);
	if (ret == -EPIPE) /* the other end of a pipe is gone: done */
		return EXIT_OK;
	if (ret == -ECANCELED) /* the reason is on stderr already */
		return EXIT_FAIL;
	if (ret)
		return cmd_fail("log", "reading the drop log of %s: %s", o.ifname, strerror(-ret));
	if (arg.path)
		pr_info("picfw log: %llu drop%s written to %s\n", (unsigned long long)written,
			written == 1 ? "" : "s", strcmp(arg.path, "-") ? arg.path : "stdout");
	return EXIT_OK;
}
