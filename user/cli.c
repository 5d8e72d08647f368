// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * cli.c - what the commands share: options and usage, failures, IFACE,
 * privileges, an attached interface's pins, IFACE POLICY (see cmd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "clock.h"
#include "cmd.h"
#include "progress.h"
#include "compile.h"
#include "ifname.h"
#include "log.h"
#include "maps.h"
#include "policy.h"
#include "policy_file.h"

#define CMD_MAX_OPTS 16 /* a command's own options, plus -h and -v */
#define USAGE_COLUMN 21 /* where an option's help text starts */

const struct cmd_choice cmd_xdp_modes[] = {
	{ "native", XDP_ATTACH_NATIVE },
	{ "generic", XDP_ATTACH_GENERIC },
	{ NULL },
};

/* The options every command takes, after its own. */
static const struct cmd_opt common_opts[] = {
	{ 'h', "help", NULL, "this help" },
	{ 'v', "verbose", NULL, "more output" },
};

static void usage_opt(FILE *f, const struct cmd_opt *o)
{
	const char *line = o->help, *nl;
	int n;

	n = fprintf(f, "  -%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	for (;;) {
		nl = strchr(line, '\n');
		fprintf(f, "%*s%.*s\n", n < USAGE_COLUMN ? USAGE_COLUMN - n : 1, "",
			(int)(nl ? nl - line : (int)strlen(line)), line);
		if (!nl)
			break;
		line = nl + 1;
		n = 0;
	}
}

int cmd_usage(const char *verb, const struct cmd_opt *opts, int bad)
{
	const struct cmd *c = cmd_find(verb);
	FILE *f = bad ? stderr : stdout;
	size_t i;

	if (!c)
		return EXIT_USAGE;
	fprintf(f, "Usage: picfw %s %s\n\n%s.\n", c->name, c->args, c->summary);
	if (c->help[0])
		fprintf(f, "\n%s", c->help);
	for (; opts && opts->key; opts++)
		usage_opt(f, opts);
	for (i = 0; i < sizeof(common_opts) / sizeof(common_opts[0]); i++)
		usage_opt(f, &common_opts[i]);
	return bad ? EXIT_USAGE : EXIT_OK;
}

/* "native or generic", "a, b or c": the names an option's argument may take. */
static void choices_text(const struct cmd_choice *ch, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; ch[i].name && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 !i ? "" : ch[i + 1].name ? ", " : " or ", ch[i].name);
}

/* Store opts[k]'s value; EXIT_USAGE after a message, or -1 to go on. */
static int store(const char *verb, const struct cmd_opt *opts, int k, const char *arg,
		 int stored[CMD_MAX_OPTS])
{
	const struct cmd_opt *o = &opts[k];
	int value = o->value, j;
	char names[128];

	if (o->text) {
		*o->text = arg;
		stored[k] = 1;
		return -1;
	}
	if (o->arg) {
		for (j = 0; o->choices[j].name && strcmp(o->choices[j].name, arg); j++)
			;
		if (!o->choices[j].name) {
			choices_text(o->choices, names, sizeof(names));
			pr_warn("picfw %s: unknown %s '%s' (%s)\n", verb, o->name, arg, names);
			return EXIT_USAGE;
		}
		value = o->choices[j].value;
	}
	for (j = 0; j < CMD_MAX_OPTS && opts[j].key; j++) {
		if (j != k && stored[j] && opts[j].dest == o->dest && opts[j].value != value) {
			pr_warn("picfw %s: --%s and --%s exclude each other\n", verb,
				opts[j < k ? j : k].name, opts[j < k ? k : j].name);
			return EXIT_USAGE;
		}
	}
	stored[k] = 1;
	*o->dest = value;
	return -1;
}

int cmd_parse(const char *verb, int argc, char **argv, const struct cmd_opt *opts, int min_args,
	      int max_args)
{
	static const struct cmd_opt none[] = { { 0 } };
	struct option longopts[CMD_MAX_OPTS + 3];
	int stored[CMD_MAX_OPTS] = { 0 };
	char shortopts[2 * CMD_MAX_OPTS + 3];
	int n = 0, s = 0, opt, k, ret;

	if (!opts)
		opts = none;
	for (k = 0; k < CMD_MAX_OPTS && opts[k].key; k++) {
		longopts[n++] = (struct option){ opts[k].name, opts[k].arg ? required_argument :
									   no_argument, NULL, opts[k].key };
		shortopts[s++] = (char)opts[k].key;
		if (opts[k].arg)
			shortopts[s++] = ':';
	}
	for (k = 0; k < 2; k++) {
		longopts[n++] = (struct option){ common_opts[k].name, no_argument, NULL,
						 common_opts[k].key };
		shortopts[s++] = (char)common_opts[k].key;
	}
	longopts[n] = (struct option){ 0 };
	shortopts[s] = 0;

	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_usage(verb, opts, 0);
		if (opt == 'v') {
			log_verbosity++;
			continue;
		}
		for (k = 0; opts[k].key && opts[k].key != opt; k++)
			;
		if (!opts[k].key) /* getopt_long has said what is wrong */
			return cmd_usage(verb, opts, 1);
		ret = store(verb, opts, k, optarg, stored);
		if (ret >= 0)
			return ret;
	}
	if (argc - optind < min_args || argc - optind > max_args)
		return cmd_usage(verb, opts, 1);
	return -1;
}

int cmd_fail(const char *verb, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("picfw %s: %s\n", verb, msg);
	return EXIT_FAIL;
}

int cmd_need_caps(const char *verb)
{
	if (have_bpf_caps())
		return 0;
	cmd_fail(verb, "needs root (CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN)");
	return -1;
}

int cmd_ifname(const char *verb, const char *name)
{
	char why[64], shown[16];

	if (!ifname_check(name, why, sizeof(why)))
		return 0;
	pr_warn("picfw %s: bad interface name '%s%s': %s\n", verb, ifname_sanitise(name, shown),
		strlen(name) > 15 ? "..." : "", why);
	return EXIT_USAGE;
}

int cmd_open_pinned(const char *verb, const char *ifname, struct picfw_maps *m)
{
	int ret = maps_open_pinned(ifname, m);

	if (ret == -ENOENT)
		return cmd_fail(verb, "picfw is not attached to %s", ifname);
	if (ret == -EPROTO) /* what differs is told above */
		return cmd_fail(verb, "the filter on %s is another version's", ifname);
	if (ret)
		return cmd_fail(verb, "reading the pins of %s: %s", ifname, strerror(-ret));
	return 0;
}

int cmd_load_iface_policy(const char *verb, const char *ifname, const char *path, char **real,
			  struct policy *p, struct policy_image *img, double *compile_ms)
{
	double t0;
	int ret;

	ret = cmd_ifname(verb, ifname);
	if (ret)
		return ret;
	/* A bad policy is refused before anything touches the kernel. */
	t0 = monotonic_ms();
	progress_step(verb, "reading and compiling %s", path);
	ret = load_policy(verb, path, real, p, img);
	progress_clear();
	if (ret)
		return ret;
	*compile_ms = monotonic_ms() - t0;
	if (cmd_need_caps(verb)) {
		image_free(img);
		policy_free(p);
		free(*real);
		*real = NULL;
		return EXIT_FAIL;
	}
	return -1;
}
