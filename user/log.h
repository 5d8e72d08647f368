/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * log.h - the one logging funnel, and the one error convention.
 *
 * Everything picfw says on stderr goes through here (xdp-tools'
 * lib/util/logging.c): pr_warn always, pr_info by default, pr_debug from
 * -v; libbpf's own messages too (log_route_libbpf): its warnings, the
 * verifier log among them, from -v, its info and debug from -vv. What a
 * command prints as its result (a table, JSON, "picfw: attached to ...")
 * is its output, on stdout, and not a log message.
 *
 * Errors: a function returns 0 or a negative errno (a pointer: NULL, with
 * errno set); main and the cmd_*() functions return an exit status
 * (0, 1, 2), never -err. The reason is told once, as one line through
 * pr_warn, by the function that knows the step that failed:
 *  - the library's operations (picfw_attach, picfw_apply, picfw_detach,
 *    bpffs_ensure, ...) tell it themselves, as "picfw VERB: what failed: why";
 *  - thin wrappers of one syscall or map (maps_*, nl_dump, sockdiag_*,
 *    picfw_lock, ...) only return the errno, and their caller names the step;
 *  - the pure core (policy, compile) stays quiet, as a fuzzed and unit-tested
 *    library must: it hands its diagnostics back as data (struct
 *    policy_errors, with file positions) for the caller to print here.
 * Warnings that do not fail the call are "picfw VERB: warning: ..." lines.
 */
#ifndef PICFW_LOG_H
#define PICFW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_WARN = 0,   /* always */
	LOG_INFO = 1,   /* the default */
	LOG_DEBUG = 2,  /* -v; libbpf's warnings */
	LOG_LIBBPF = 3, /* -vv: libbpf's info and debug */
};

extern int log_verbosity; /* LOG_INFO by default; each -v adds one */

void log_print(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprint(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define pr_warn(...) log_print(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_print(LOG_DEBUG, __VA_ARGS__)

/*
 * When stderr is the journal (systemd's JOURNAL_STREAM names stderr's device
 * and inode), start every line written to stderr with its syslog priority,
 * as sd-daemon(3) describes: "<3>" for errors, "<4>" for warnings ("...:
 * warning: ..."), "<6>" for info, "<7>" for debug. Lines written to stderr
 * outside the funnel (the parser's FILE:LINE:COL diagnostics) are judged by
 * their text: "error:" <3>, "warning:" <4>, else <6>. Else nothing changes.
 */
void log_detect_journal(void);

/*
 * Route libbpf's messages through the funnel (libbpf_set_print), at the
 * levels above. In log_libbpf.c: the pure core does not link libbpf.
 */
void log_route_libbpf(void);

#endif /* PICFW_LOG_H */
