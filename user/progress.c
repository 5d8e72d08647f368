// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* progress.c - one line of progress on a terminal, nothing elsewhere (see progress.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"

static int progress_fd = STDERR_FILENO;
static int progress_tty = -1; /* -1: not asked yet */
static int shown;

void progress_set_fd(int fd, int tty)
{
	progress_fd = fd;
	progress_tty = tty;
	shown = 0;
}

static int enabled(void)
{
	if (progress_tty < 0)
		progress_tty = isatty(progress_fd);
	return progress_tty && log_verbosity >= LOG_INFO;
}

/* Write all of buf (a terminal may take it in pieces). */
static void put(const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(progress_fd, buf, n);

		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

void progress_step(const char *verb, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int n;

	if (!enabled())
		return;
	/* \r and erase to the end of the line (ECMA-48 EL), then the step. */
	n = snprintf(line, sizeof(line), "\r\033[Kpicfw %s: ", verb);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 5)
		n = (int)sizeof(line) - 5;
	memcpy(line + n, " ...", 5);
	put(line, (size_t)n + 4);
	shown = 1;
}

void progress_clear(void)
{
	if (!shown)
		return;
	put("\r\033[K", 4);
	shown = 0;
}
