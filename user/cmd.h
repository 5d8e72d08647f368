/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* cmd.h - one cmd_<verb>() per command; main.c dispatches through a table. */
#ifndef PICFW_CMD_H
#define PICFW_CMD_H

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;    /* synopsis after the verb */
	const char *summary; /* one line for `picfw help` */
	const char *help;    /* the rest of `picfw VERB --help` */
};

int cmd_check(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Print VERB's usage to stdout (--help) or stderr (bad usage) and return the exit code. */
int cmd_usage(const char *verb, int bad);

/* Parse -h/--help/-v/--verbose for a command; returns -1 to continue, else an exit code. */
int cmd_getopt_common(int opt, const char *verb);

/* One-line failure on stderr: "picfw VERB: MESSAGE". Returns EXIT_FAIL. */
int cmd_fail(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * IFACE as every command takes it (ifname_check): 0, or EXIT_USAGE after
 * "picfw VERB: bad interface name ..." on stderr.
 */
int cmd_ifname(const char *verb, const char *name);

/* Root (CAP_BPF/CAP_SYS_ADMIN and CAP_NET_ADMIN) or a clear failure. */
int cmd_need_caps(const char *verb);

/* Milliseconds on the monotonic clock. */
double now_ms(void);

#endif /* PICFW_CMD_H */
