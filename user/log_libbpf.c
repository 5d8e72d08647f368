// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* log_libbpf.c - libbpf's messages through the logging funnel (see log.h). */
#include <stdarg.h>

#include <bpf/libbpf.h>

#include "log.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings (the verifier log among them) at -v, the rest at -vv. */
	log_vprint(level == LIBBPF_WARN ? LOG_DEBUG : LOG_LIBBPF, fmt, ap);
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
