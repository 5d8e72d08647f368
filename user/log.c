// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* log.c - the one logging funnel: everything goes to stderr, filtered by level (see log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "progress.h"

int log_verbosity = LOG_INFO;

void log_vprint(enum log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_verbosity)
		return;
	progress_clear(); /* a message starts at column 1 */
	vfprintf(stderr, fmt, ap);
}

void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, fmt, ap);
	va_end(ap);
}
