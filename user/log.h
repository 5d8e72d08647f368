/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* log.h - the one logging funnel. */
#ifndef PICFW_LOG_H
#define PICFW_LOG_H

enum log_level { LOG_WARN = 0, LOG_INFO = 1, LOG_DEBUG = 2 };

extern int log_verbosity; /* LOG_INFO by default; -v raises it */

void log_print(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...) log_print(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_print(LOG_DEBUG, __VA_ARGS__)

#endif /* PICFW_LOG_H */
