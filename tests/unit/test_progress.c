/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_progress.c - progress lines (user/progress.c): shown and erased on a
 * terminal (a pseudo-terminal here), nothing at all on a pipe; a log message
 * erases the line first.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "progress.h"

/* What is waiting on fd, without blocking. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

static void test_progress_quiet_on_a_pipe(void **state)
{
	char buf[256];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	progress_set_fd(p[1], -1); /* isatty() says no */
	progress_step("apply", "compiling %s", "big.policy");
	progress_clear();
	assert_int_equal(drain(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	close(p[1]);
	progress_set_fd(STDERR_FILENO, -1);
}

static void test_progress_shown_on_a_terminal(void **state)
{
	char buf[512];
	int master, slave;
	struct termios raw;

	(void)state;
	if (openpty(&master, &slave, NULL, NULL, NULL)) {
		skip();
		return;
	}
	/* Raw: what is written arrives as written (no \n -> \r\n). */
	tcgetattr(slave, &raw);
	cfmakeraw(&raw);
	tcsetattr(slave, TCSANOW, &raw);
	progress_set_fd(slave, -1); /* isatty() says yes */
	progress_step("apply", "compiling %s", "big.policy");
	progress_step("apply", "writing %d rows", 3);
	progress_clear();
	progress_clear(); /* twice: nothing more */
	drain(master, buf, sizeof(buf));
	assert_string_equal(buf, "\r\033[Kpicfw apply: compiling big.policy ..."
				 "\r\033[Kpicfw apply: writing 3 rows ..."
				 "\r\033[K");
	close(master);
	close(slave);
	progress_set_fd(STDERR_FILENO, -1);
}

/* With info messages off (log_verbosity below LOG_INFO), nothing either. */
static void test_progress_quiet_under_q(void **state)
{
	char buf[256];
	int p[2], saved = log_verbosity;

	(void)state;
	assert_int_equal(pipe(p), 0);
	progress_set_fd(p[1], 1); /* as if a terminal */
	log_verbosity = LOG_WARN;
	progress_step("attach", "loading");
	progress_clear();
	log_verbosity = saved;
	assert_int_equal(drain(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	close(p[1]);
	progress_set_fd(STDERR_FILENO, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_progress_quiet_on_a_pipe),
	    cmocka_unit_test(test_progress_shown_on_a_terminal),
	    cmocka_unit_test(test_progress_quiet_under_q),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
