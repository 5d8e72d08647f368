/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * progress.h - what a long attach or apply is doing, on one line of a
 * terminal: "picfw apply: compiling etc/big.policy ..." while it compiles,
 * rewritten at each step and erased at the end. Only when stderr is a
 * terminal (and info messages are on): a service's journal, a pipe or a CI log get
 * nothing. Every message through the logging funnel erases the line first,
 * so warnings and errors start at column 1.
 */
#ifndef PICFW_PROGRESS_H
#define PICFW_PROGRESS_H

/* Show "picfw VERB: WHAT ..." in place of the last step (a terminal only). */
void progress_step(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Erase the line, if one is shown. */
void progress_clear(void);

/* For tests: the fd written to (default 2) and whether it counts as a terminal (-1: ask isatty). */
void progress_set_fd(int fd, int tty);

#endif /* PICFW_PROGRESS_H */
