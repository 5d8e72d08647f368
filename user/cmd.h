/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * cmd.h - the command line: one cmd_<verb>() per command, which main.c
 * dispatches to through its table, and what every command shares (cli.c):
 * one option table per command that gives both getopt_long's options and
 * the usage text (xdp-tools' params.c, simplified), the one-line failure,
 * and the checks of IFACE and of privileges.
 */
#ifndef PICFW_CMD_H
#define PICFW_CMD_H

#include <getopt.h> /* optind, after cmd_parse() */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;    /* synopsis after the verb */
	const char *summary; /* one line for `picfw help` */
	const char *help;    /* `picfw VERB --help` between the summary and the options */
};

int cmd_check(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* The command named name in main.c's table, or NULL. */
const struct cmd *cmd_find(const char *name);

/* A value an option's argument may name. */
struct cmd_choice {
	const char *name;
	int value;
};

/* --mode of attach and run: native or generic (enum picfw_xdp_mode). */
extern const struct cmd_choice cmd_xdp_modes[];

/*
 * One option of a command: its getopt_long entry and its lines of usage. A
 * flag stores `value` in *dest; an option with an argument stores the value
 * of the choice it names. Two options that store different values in one
 * dest exclude each other (--json and --prometheus).
 */
struct cmd_opt {
	int key;                          /* the short option, 'j' */
	const char *name;                 /* the long option, "json" */
	const char *arg;                  /* its argument, "MODE"; NULL for a flag */
	const char *help;                 /* usage text; '\n' continues on an indented line */
	int *dest;                        /* where the value goes */
	int value;                        /* what a flag stores */
	const struct cmd_choice *choices; /* what an argument may name, ending with { NULL } */
	const char **text;                /* or: the argument as given (FILE, N), checked by the command */
};

/*
 * Parse `picfw VERB [OPTIONS] OPERANDS`: the options in opts (ending with
 * { 0 }) plus -h/--help and -v/--verbose, which every command takes; then
 * min_args to max_args operands. -1 to go on, with optind at the first
 * operand; else the exit status to return at once: EXIT_OK after the usage
 * on stdout (--help), EXIT_USAGE after a message and the usage on stderr.
 */
int cmd_parse(const char *verb, int argc, char **argv, const struct cmd_opt *opts, int min_args,
	      int max_args);

/*
 * VERB's usage, with its options (opts, ending with { 0 }; NULL: none but -h
 * and -v), on stdout (bad 0) or stderr. Returns EXIT_OK or EXIT_USAGE.
 */
int cmd_usage(const char *verb, const struct cmd_opt *opts, int bad);

/* "picfw VERB: MESSAGE" through the logging funnel. Returns EXIT_FAIL. */
int cmd_fail(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * IFACE as every command takes it (ifname_check): 0, or EXIT_USAGE after
 * "picfw VERB: bad interface name ..." through the logging funnel.
 */
int cmd_ifname(const char *verb, const char *name);

/* Root (CAP_BPF/CAP_SYS_ADMIN and CAP_NET_ADMIN): 0, or -1 after a clear failure. */
int cmd_need_caps(const char *verb);

struct picfw_maps;
struct policy;
struct policy_image;

/*
 * Open the maps picfw pinned for ifname: 0, or EXIT_FAIL after "picfw VERB:
 * picfw is not attached to IFACE" or "... reading the pins of IFACE: why".
 */
int cmd_open_pinned(const char *verb, const char *ifname, struct picfw_maps *m);

/*
 * IFACE POLICY as attach and apply take them: IFACE checked, POLICY opened,
 * parsed and compiled (load_policy, timed in *compile_ms), then root checked.
 * -1 to go on (then free p, img and *real), or the exit status to return.
 */
int cmd_load_iface_policy(const char *verb, const char *ifname, const char *path, char **real,
			  struct policy *p, struct policy_image *img, double *compile_ms);

#endif /* PICFW_CMD_H */
