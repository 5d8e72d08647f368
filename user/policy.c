/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy.c - policy text to sets and rows (design.md, "The policy language").
 *
 * Three steps:
 *  1. the text check: the whole input must be UTF-8 text, or nothing is read;
 *  2. line by line: each statement's syntax; sets, rows, protect and mode are
 *     recorded, a row's set names only remembered;
 *  3. after the last line: set names are resolved (so order in the file does
 *     not matter), each row gets its direction and name, and what needs the
 *     whole file is checked.
 * Errors are collected, at most one per line, sorted by position. Nothing is
 * returned unless there are none.
 *
 * This file runs the steps and reads files; each step has its room:
 * policy_lex.c (the text check, tokens), policy_statements.c (one line),
 * policy_sets.c, policy_rows.c, policy_prefix.c (what a statement holds),
 * policy_resolve.c (step 3), policy_errors.c (the diagnostics),
 * policy_print.c (a policy back to text). policy_int.h is what they share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

static void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->protect = -1;
	p->mode = PICFW_MODE_ENFORCE;
	p->replies = PICFW_REPLIES_TRACKED;
	p->timeout[PICFW_TIMEOUT_UDP] = PICFW_DEFAULT_TIMEOUT_UDP;
	p->timeout[PICFW_TIMEOUT_TCP] = PICFW_DEFAULT_TIMEOUT_TCP;
	p->timeout[PICFW_TIMEOUT_TCP_TRANSITORY] = PICFW_DEFAULT_TIMEOUT_TCP_TRANSITORY;
	p->unprotected = PICFW_UNPROTECTED_PASS;
	p->flows[PICFW_TCP] = PICFW_DEFAULT_FLOWS_TCP;
	p->flows[PICFW_UDP] = PICFW_DEFAULT_FLOWS_UDP;
}

static void file_too_big(struct policy_errors *errs, unsigned long long size)
{
	errs_add(errs, 1, 1, "file is %llu bytes, over the %u-byte limit", size, POLICY_MAX_FILE);
}

int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_errors *errs)
{
	struct parser ps = { .p = out, .errs = errs, .warned_set = -1, .count_set = -1 };
	size_t off = 0;
	int ln = 0;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (len > POLICY_MAX_FILE) {
		file_too_big(errs, len);
		return -1;
	}
	out->file = strdup(file ? file : "-");
	if (!out->file)
		nomem(&ps);

	if (!ps.stop && text_check(&ps, (const unsigned char *)text, len) == 0) {
		while (off < len && !ps.stop) {
			const char *line = text + off;
			const char *nl = memchr(line, '\n', len - off);
			size_t n = nl ? (size_t)(nl - line) : len - off;
			size_t skip = 0;

			off += n + (nl ? 1 : 0);
			ln++;
			if (n && line[n - 1] == '\r')
				n--;
			if (n > POLICY_MAX_LINE) {
				perr(&ps, ln, POLICY_MAX_LINE + 1, "line is longer than %d bytes",
				     POLICY_MAX_LINE);
				ps.nstatements++;
				ps.nlong_lines++;
				continue;
			}
			/* A UTF-8 byte order mark, as some Windows editors write. */
			if (ln == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
				skip = 3;
			parse_line(&ps, ln, line, n, skip);
			if (ps.last_err_line == ln)
				ps.nbad_lines++;
		}
		if (ps.cont)
			cont_missing(&ps);
		if (!ps.stop)
			resolve(&ps);
		if (!ps.stop) {
			if (!ps.nstatements) {
				perr(&ps, 1, 1, "empty policy");
			} else if (!ps.nlong_lines) {
				/* Lines too long to read may hold these. */
				if (!ps.protect_seen)
					perr(&ps, 1, 1, "no 'protect' statement");
				if (!ps.nrows_seen)
					perr(&ps, 1, 1, "policy has no rows");
			}
		}
	}
	/*
	 * Not one line read as a statement: this is no policy (a password file
	 * given by mistake). Say so once, and quote nothing of it.
	 */
	if (!ps.oom && ps.nbad_lines && ps.nbad_lines >= ps.nstatements &&
	    errs_count(errs) && !ps.nlong_lines) {
		errs->n = 0;
		errs_add(errs, 1, 1, "not a picfw policy: no line of it reads as a statement");
	}
	if (ps.oom)
		errs_add(errs, 0, 0, "%s", strerror(ENOMEM));
	free(ps.pos);
	free(ps.protect_name);
	if (errs_count(errs) || ps.oom) {
		errs_sort(errs);
		policy_free(out);
		return -1;
	}
	return 0;
}

int policy_load(const char *path, struct policy *out, struct policy_errors *errs)
{
	int fd, ret;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errs_add(errs, 0, 0, "%s", strerror(errno));
		return -1;
	}
	ret = policy_load_fd(fd, path, out, errs);
	close(fd);
	return ret;
}

int policy_load_fd(int fd, const char *file, struct policy *out, struct policy_errors *errs)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int ret;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > POLICY_MAX_FILE) {
			file_too_big(errs, (unsigned long long)st.st_size);
			return -1;
		}
		cap = (size_t)st.st_size + 1;
	}
	/* Read to the end: the size may change, and pipes have none. */
	for (;;) {
		ssize_t r;

		if (!buf || len == cap) {
			char *v;

			if (len > POLICY_MAX_FILE) {
				errs_add(errs, 1, 1, "file is over the %u-byte limit",
					 POLICY_MAX_FILE);
				free(buf);
				return -1;
			}
			if (buf || !cap)
				cap = cap ? 2 * cap : 65536;
			if (cap > POLICY_MAX_FILE + 1u)
				cap = POLICY_MAX_FILE + 1u;
			v = realloc(buf, cap);
			if (!v) {
				errno = ENOMEM;
				goto fail;
			}
			buf = v;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > POLICY_MAX_FILE) {
		free(buf);
		file_too_big(errs, len);
		return -1;
	}
	ret = policy_parse(file, buf, len, out, errs);
	free(buf);
	return ret;
fail:
	errs_add(errs, 0, 0, "%s", strerror(errno));
	free(buf);
	return -1;
}

void policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].prefixes);
	}
	for (i = 0; i < p->nrows; i++)
		row_free(&p->rows[i]);
	free(p->sets);
	free(p->rows);
	free(p->file);
	policy_init(p);
}
