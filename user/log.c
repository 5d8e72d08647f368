// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* log.c - the one logging funnel: everything goes to stderr, filtered by level (see log.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"

int log_verbosity = LOG_INFO;

/*
 * The journal: stderr is replaced by a stream (fopencookie) that cuts what is
 * written into lines and writes each, with its priority in front, in one
 * write(2). The funnel says the priority of what it writes (line_prio);
 * other writers' lines are judged by their text.
 */
static int journal;         /* stderr is the journal */
static int line_prio = -1;  /* the funnel's message being written; -1: judge by text */
static int partial_prio;    /* the priority of the line begun in partial[] */
static char partial[4096];
static size_t npartial;

static int text_prio(const char *line, size_t n)
{
	if (memmem(line, n, "warning:", 8))
		return 4;
	if (memmem(line, n, "error:", 6))
		return 3;
	return 6;
}

static void journal_line(void)
{
	char out[sizeof(partial) + 8];
	int n, prio = partial_prio;
	size_t done = 0;
	ssize_t w;

	if (prio < 0)
		prio = text_prio(partial, npartial);
	n = snprintf(out, sizeof(out), "<%d>%.*s\n", prio, (int)npartial, partial);
	npartial = 0;
	if (n <= 0)
		return;
	/* One write(2) per line, as journald reads a stream; nowhere to tell a failure. */
	while (done < (size_t)n && done < sizeof(out)) {
		w = write(STDERR_FILENO, out + done, (size_t)n - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
}

static ssize_t journal_write(void *cookie, const char *buf, size_t len)
{
	size_t i;

	(void)cookie;
	for (i = 0; i < len; i++) {
		if (!npartial)
			partial_prio = line_prio;
		if (buf[i] == '\n' || npartial == sizeof(partial) - 1) {
			if (buf[i] != '\n')
				partial[npartial++] = buf[i];
			journal_line();
			continue;
		}
		partial[npartial++] = buf[i];
	}
	return (ssize_t)len;
}

static void journal_flush(void)
{
	fflush(stderr);
	if (npartial)
		journal_line();
}

/* "DEV:INO" as systemd writes JOURNAL_STREAM: 0 and both numbers, or -1. */
static int parse_journal_stream(const char *env, unsigned long long *dev, unsigned long long *ino)
{
	char *end;

	if (!env)
		return -1;
	*dev = strtoull(env, &end, 10);
	if (end == env || *end != ':')
		return -1;
	env = end + 1;
	*ino = strtoull(env, &end, 10);
	return end == env || *end ? -1 : 0;
}

void log_detect_journal(void)
{
	static const cookie_io_functions_t io = { .write = journal_write };
	unsigned long long dev, ino;
	struct stat st;
	FILE *f;

	if (parse_journal_stream(getenv("JOURNAL_STREAM"), &dev, &ino) ||
	    fstat(STDERR_FILENO, &st) || st.st_dev != dev || st.st_ino != ino)
		return;
	f = fopencookie(NULL, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	fflush(stderr);
	stderr = f; /* glibc's stderr is a variable (glibc manual, "Standard Streams") */
	journal = 1;
	atexit(journal_flush);
}

void log_vprint(enum log_level level, const char *fmt, va_list ap)
{
	char *msg;

	if ((int)level > log_verbosity)
		return;
	progress_clear(); /* a message starts at column 1 */
	if (!journal) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	/* Errors and warnings share pr_warn; a warning says so ("picfw VERB: warning: ..."). */
	if (level == LOG_WARN)
		line_prio = strstr(msg, "warning:") ? 4 : 3;
	else
		line_prio = level == LOG_INFO ? 6 : 7;
	fputs(msg, stderr);
	line_prio = -1;
	free(msg);
}

void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, fmt, ap);
	va_end(ap);
}
