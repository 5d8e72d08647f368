// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* log.c - the one logging funnel: everything goes to stderr, filtered by level. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_verbosity = LOG_INFO;

void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_verbosity)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
