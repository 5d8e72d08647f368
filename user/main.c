// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* main.c - picfw's entry point: dispatch to one cmd_<verb>() through a table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cmd.h"
#include "log.h"

static const struct cmd cmds[] = {
	{ "check", cmd_check, "POLICY", "validate a policy file and print its normalised table",
	  "Parse and compile POLICY without touching the kernel. Prints the normalised\n"
	  "policy (sets, then one line per row: name, direction, transport, ports,\n"
	  "source, destination, notes), or every error as FILE:LINE:COL: error: MESSAGE.\n"
	  "POLICY must be a regular file that only root or you may write, in directories\n"
	  "that only root or you may write (or sticky ones, like /tmp); so for attach\n"
	  "and apply too.\n" },
	{ "attach", cmd_attach, "IFACE POLICY [--mode native|generic]",
	  "load the filter, fill its maps from POLICY and attach it to IFACE",
	  "The XDP program is attached through a BPF link pinned in /sys/fs/bpf/picfw/IFACE/\n"
	  "with its maps beside it; the filter stays after the command exits. The Edge's\n"
	  "established sessions (its sockets in this network namespace) are kept as flows;\n"
	  "IFACE's addresses outside the protected set are warned about.\n" },
	{ "apply", cmd_apply, "IFACE POLICY [--dry-run]",
	  "replace the policy of an attached filter, live and atomically",
	  "POLICY is parsed and compiled first; a bad one changes nothing. It is written\n"
	  "into the inactive generation of the maps, the active generation is switched in\n"
	  "one map update, and the old one is cleared once no CPU can still use it. The\n"
	  "program is never reloaded or detached. Rows whose stable name is in both\n"
	  "policies keep their counters; new rows start at 0. Applies on one interface\n"
	  "are serialised.\n" },
	{ "detach", cmd_detach, "IFACE", "detach the filter from IFACE and remove its pins",
	  "Removes the link, the maps and /sys/fs/bpf/picfw/IFACE/ (only picfw's own\n"
	  "pins; a directory that holds none of them is left alone), and picfw's own TC\n"
	  "filter; the clsact qdisc only if attach made it and no other filter is on it.\n"
	  "IFACE:NETNS (as status lists it): the pins and policy copies of a filter\n"
	  "whose network namespace was deleted while it was attached; refused while\n"
	  "that namespace exists.\n" },
	{ "status", cmd_status, "[IFACE]", "show where picfw is attached, with which policy",
	  "For every attached interface (or IFACE): XDP mode, policy file, rows, policy\n"
	  "mode, generation, attach and apply time, and IFACE's addresses outside the\n"
	  "protected set (unprotected).\n" },
	{ "stats", cmd_stats, "IFACE [--json | --prometheus]", "print per-row and per-reason counters",
	  "Packets and bytes per policy row (keyed by the row's stable name) and per\n"
	  "reason (no_match, malformed, fragment, icmp_essential, non_ip, unprotected,\n"
	  "icmp_related, icmp_unrelated, local_scope), plus would-drop counters of audit\n"
	  "mode. Counters are summed over CPUs.\n" },
	{ "flows", cmd_flows, "IFACE [--json]", "list the flows the Edge opened, as tracked",
	  "Flows recorded by the TC egress program under an outbound row, keyed as their\n"
	  "replies arrive: transport, remote and local address and port, the row that\n"
	  "created the flow (its replies count there), TCP state, age, idle time and\n"
	  "time left before the flow's timeout.\n" },
	{ "exporter", cmd_exporter, "[--listen ADDR:PORT]",
	  "serve Prometheus metrics of every attached interface over HTTP",
	  "GET /metrics: the families of 'stats --prometheus' for every interface picfw\n"
	  "is attached to, plus picfw_up, flow table fill, apply outcomes and the scrape's\n"
	  "duration, read from the pinned maps at each scrape (the exporter keeps no\n"
	  "state: restart it any time). GET / is an index page; other paths are 404,\n"
	  "other methods 405. Listens on 127.0.0.1:9724 unless --listen says otherwise\n"
	  "(a non-loopback address is logged). Bounded: 32 connections (8 per client\n"
	  "address), 16 KiB of request line and headers, 10 s idle, and 10 s for a\n"
	  "whole request, accept to response sent, however slow the client. Stops on\n"
	  "SIGTERM or SIGINT; stopping it never touches the filter.\n" },
	{ "run", cmd_run, "IFACE POLICY [--mode native|generic] [--detach-on-exit]",
	  "service: attach or adopt, then follow POLICY, its includes and IFACE",
	  "Attaches POLICY to IFACE, or adopts the filter already attached (counters and\n"
	  "flows kept), then applies POLICY again whenever it or a file it includes is\n"
	  "written or renamed onto (inotify on their directories, 200 ms debounce) and on\n"
	  "SIGHUP. The included files are worked out again at each load; after a refused\n"
	  "one, the files it included or tried to are followed too, so a fix applies. A\n"
	  "refused policy is logged with its FILE:LINE:COL errors and the previous one\n"
	  "keeps enforcing; a deleted file is logged and changes nothing. IFACE gone:\n"
	  "waits; back: attaches again. SIGTERM and SIGINT stop the service and leave the\n"
	  "filter attached. Tells systemd (Type=notify) READY=1, RELOADING=1 and STATUS=;\n"
	  "one log line per event.\n" },
	{ "log", cmd_log, "IFACE [--json | -w FILE|-] [OPTIONS]",
	  "show sampled drops: text, JSON lines or pcap",
	  "While it runs, the XDP program samples what it drops (and, in audit mode, what\n"
	  "it would drop) into a ring buffer: time, reason, addresses, ports, transport,\n"
	  "frame length and the frame's first 128 bytes. Off when no reader is there: the\n"
	  "reader holds a lease that it refreshes every second and gives back when it\n"
	  "stops; a reader killed with SIGKILL leaves a lease that runs out within 3 s.\n"
	  "One reader per interface: a second one is refused and told which process\n"
	  "reads. At most RATE samples per second per CPU; what the limit or a full ring\n"
	  "refuses is counted (stats: drop log lost, picfw_drop_log_lost_total).\n"
	  "-w writes a pcap file (Ethernet, snaplen 128) that tcpdump and Wireshark read;\n"
	  "-w - writes it to stdout: picfw log IFACE -w - | tcpdump -n -r -\n" },
	{ "help", cmd_help, "[COMMAND]", "show this help, or a command's", "" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

const struct cmd *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: picfw [-v] COMMAND [ARGS]\n\n"
		   "XDP firewall for the Access interface of a Lync / Skype for Business Edge.\n\n"
		   "Commands:\n");
	for (i = 0; i < NCMDS; i++) {
		/* A longer synopsis than the column: its summary on the next line. */
		if (strlen(cmds[i].args) > 38)
			fprintf(f, "  %-7s %s\n  %-7s %-38s %s\n", cmds[i].name, cmds[i].args, "",
				"", cmds[i].summary);
		else
			fprintf(f, "  %-7s %-38s %s\n", cmds[i].name, cmds[i].args,
				cmds[i].summary);
	}
	fprintf(f, "\nOptions: -h, --help   -v, --verbose (twice: libbpf debug)   --version\n"
		   "IFACE: 1 to 15 bytes of printable ASCII, no '/', ':' or blank, not '.' or '..'.\n"
		   "Exit status: 0 success, 1 failure (reason on stderr), 2 bad usage.\n"
		   "See picfw(8).\n");
}

/* `picfw help VERB` is `picfw VERB --help`. */
int cmd_help(int argc, char **argv)
{
	static char prog[32], help[] = "--help";
	const struct cmd *c;

	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
		c = cmd_find(argv[1]);
		if (!c) {
			pr_warn("picfw help: unknown command '%s'\n", argv[1]);
			return EXIT_USAGE;
		}
		if (c->fn == cmd_help) /* its own usage, not the list of commands */
			return cmd_usage(c->name, NULL, 0);
		snprintf(prog, sizeof(prog), "picfw %s", c->name);
		optind = 1;
		return c->fn(2, (char *[]){ prog, help, NULL });
	}
	usage_all(stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static char prog[32];
	const struct cmd *c;
	int i = 1;

	/* Options before the command. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--version")) {
			if (i + 1 < argc) {
				pr_warn("picfw: --version takes nothing after it ('%s')\n",
					argv[i + 1]);
				return EXIT_USAGE;
			}
			printf("picfw %s (libbpf %s)\n", PICFW_VERSION, libbpf_version_string());
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			/* `picfw --help VERB` is `picfw help VERB`. */
			if (i + 1 < argc && argv[i + 1][0] != '-')
				return cmd_help(2, (char *[]){ "help", argv[i + 1], NULL });
			usage_all(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_verbosity++;
		} else if (!strcmp(argv[i], "-vv")) {
			log_verbosity += 2;
		} else {
			pr_warn("picfw: unknown option '%s'\n", argv[i]);
			usage_all(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		pr_warn("picfw: unknown command '%s' (see 'picfw help')\n", argv[i]);
		return EXIT_USAGE;
	}
	log_route_libbpf();
	log_detect_journal();
	/* getopt names argv[0] in its messages: "picfw check: unrecognized option". */
	snprintf(prog, sizeof(prog), "picfw %s", c->name);
	argv[i] = prog;
	optind = 1;
	return c->fn(argc - i, argv + i);
}
