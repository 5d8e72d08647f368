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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_file.h"
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
	p->timeout[PICFW_TIMEOUT_PICKUP] = PICFW_DEFAULT_TIMEOUT_PICKUP;
	p->unprotected = PICFW_UNPROTECTED_PASS;
	p->flows[PICFW_TCP] = PICFW_DEFAULT_FLOWS_TCP;
	p->flows[PICFW_UDP] = PICFW_DEFAULT_FLOWS_UDP;
}

static void file_too_big(struct policy_errors *errs, unsigned long long size)
{
	errs_add(errs, 1, 1, "file is %llu bytes, over the %u-byte limit", size, POLICY_MAX_FILE);
}

/*
 * Every line of text, in order (a file's, or an included file's after its
 * statement). -1 if it is not text (then its lines are only counted).
 */
int parse_text(struct parser *ps, const char *text, size_t len)
{
	size_t off = 0;
	int local = 0;

	if (text_check(ps, (const unsigned char *)text, len)) {
		/* Its lines keep their numbers: the includer's lines come after them. */
		for (off = 0; off < len; off++)
			ps->gline += text[off] == '\n';
		ps->gline++;
		return -1;
	}
	while (off < len && !ps->stop) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off;
		size_t skip = 0;
		int ln = ++ps->gline;

		off += n + (nl ? 1 : 0);
		local++;
		if (n && line[n - 1] == '\r')
			n--;
		if (n > POLICY_MAX_LINE) {
			perr(ps, ln, POLICY_MAX_LINE + 1, "line is longer than %d bytes",
			     POLICY_MAX_LINE);
			ps->nstatements++;
			ps->nlong_lines++;
			continue;
		}
		/* A UTF-8 byte order mark, as some Windows editors write. */
		if (local == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
			skip = 3;
		parse_line(ps, ln, line, n, skip);
		if (ps->last_err_line == ln)
			ps->nbad_lines++;
	}
	if (ps->cont)
		cont_missing(ps);
	return 0;
}

/* What a file holds, read to its end (the size may change; pipes have none). */
static int read_all(int fd, char **bufp, size_t *lenp, struct policy_errors *errs)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;

	*bufp = NULL;
	*lenp = 0;
	if (fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > POLICY_MAX_FILE) {
			file_too_big(errs, (unsigned long long)st.st_size);
			return -1;
		}
		cap = (size_t)st.st_size + 1;
	}
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
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	errs_add(errs, 0, 0, "%s", strerror(errno));
	free(buf);
	return -1;
}

/* From the next global line on, the lines are file's from its line `line`. */
static void run_add(struct parser *ps, int file, int line)
{
	struct policy_sources *src = &ps->errs->src;

	if (src->nruns == src->cap) {
		size_t cap = src->cap ? 2 * src->cap : 8;
		struct policy_source_run *v = realloc(src->runs, cap * sizeof(*v));

		if (!v) {
			nomem(ps);
			return;
		}
		src->runs = v;
		src->cap = cap;
	}
	src->runs[src->nruns++] = (struct policy_source_run){ ps->gline + 1, file, line };
}

/* path in src->named, unless it is there already (a file included twice). */
static void named_add(struct parser *ps, const char *path)
{
	struct policy_includes *named = &ps->errs->src.named;
	char **v, *copy;
	size_t i;

	for (i = 0; i < named->n; i++)
		if (!strcmp(named->files[i], path))
			return;
	copy = strdup(path);
	v = copy ? realloc(named->files, (named->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		nomem(ps);
		return;
	}
	v[named->n++] = copy;
	named->files = v;
}

/*
 * include NAME at line ln, column col: NAME relative to the including file's
 * directory, opened and checked as the main file is (policy_file_open), then
 * its lines parsed as if they stood here. Errors in it name it and its lines.
 */
void include_file(struct parser *ps, int ln, int col, const char *name, size_t n)
{
	struct policy_sources *src = &ps->errs->src;
	char why[512], qb[QUOTE_BUF], *path, *slash, *buf, **files, *dir;
	int fd, file, parent = ps->file, parent_base = ps->line_base;
	const char *parent_dir = ps->dir;
	struct stat st;
	size_t len, nerrs;
	int k, depth;

	if (!ps->dir) {
		perr(ps, ln, col, "include is read only from a policy file, not from text in memory");
		return;
	}
	if (ps->depth >= POLICY_MAX_INCLUDE_DEPTH) {
		perr(ps, ln, col, "include nested more than %d deep", POLICY_MAX_INCLUDE_DEPTH);
		return;
	}
	if (src->nfiles >= POLICY_MAX_INCLUDES) {
		perr(ps, ln, col, "more than %d included files", POLICY_MAX_INCLUDES);
		return;
	}
	if (memchr(name, '\0', n)) {
		perr(ps, ln, col, "bad file name '%s'", quote(qb, name, n));
		return;
	}
	if (n && name[0] == '/') {
		path = strndup(name, n);
	} else if (asprintf(&path, "%s/%.*s", ps->dir, (int)n, name) < 0) {
		path = NULL;
	}
	if (!path) {
		nomem(ps);
		return;
	}
	/* Named, whether it opens or not: creating or fixing it changes the load. */
	named_add(ps, path);
	fd = policy_file_open(path, NULL, why, sizeof(why));
	if (fd < 0) {
		perr(ps, ln, col, "refusing the included file: %s", why);
		free(path);
		return;
	}
	if (fstat(fd, &st)) {
		perr(ps, ln, col, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (k = 0; k <= ps->depth; k++)
		if (ps->chain[k].dev == st.st_dev && ps->chain[k].ino == st.st_ino) {
			perr(ps, ln, col, "include cycle: %s includes itself%s", path,
			     k < ps->depth ? " through the files that include this one" : "");
			goto out;
		}
	files = realloc(src->files, (src->nfiles + 1) * sizeof(*files));
	if (!files) {
		nomem(ps);
		goto out;
	}
	src->files = files;
	nerrs = ps->errs->n;
	if (read_all(fd, &buf, &len, ps->errs)) {
		/* read_all's message is at line 0 or 1: put it at the include. */
		if (ps->errs->n > nerrs) {
			ps->errs->v[nerrs].line = ln;
			ps->errs->v[nerrs].col = col;
		} else {
			nomem(ps);
		}
		ps->last_err_line = ln;
		goto out;
	}
	/* All files together stay under the one file's limit. */
	if (len > POLICY_MAX_FILE - ps->include_bytes) {
		perr(ps, ln, col, "the included files hold over %u bytes together", POLICY_MAX_FILE);
		free(buf);
		goto out;
	}
	ps->include_bytes += len;
	src->files[src->nfiles++] = path;
	file = (int)src->nfiles;
	if (!src->nruns)
		run_add(ps, 0, 1); /* the main file's lines so far */
	run_add(ps, file, 1);
	/* The includer's directory for names in this file. */
	slash = strrchr(path, '/');
	dir = slash ? strndup(path, slash > path ? (size_t)(slash - path) : 1) : strdup(".");
	if (!dir) {
		free(buf);
		nomem(ps);
		close(fd);
		return;
	}
	ps->dir = dir;
	depth = ++ps->depth;
	ps->chain[depth].dev = st.st_dev;
	ps->chain[depth].ino = st.st_ino;
	ps->file = file;
	ps->line_base = ps->gline;
	parse_text(ps, buf, len);
	free(buf);
	free(dir);
	ps->dir = parent_dir;
	ps->depth--;
	ps->file = parent;
	ps->line_base = parent_base;
	/* Back in the includer, at the line after the include. */
	run_add(ps, parent, ln - parent_base + 1);
	close(fd);
	return;
out:
	free(path);
	close(fd);
}

/* Parse text; dir: its directory, for include (NULL: none), st: the file, for cycles. */
static int parse_top(const char *file, const char *dir, const struct stat *st, const char *text,
		     size_t len, struct policy *out, struct policy_errors *errs)
{
	struct parser ps = { .p = out, .errs = errs, .warned_set = -1, .count_set = -1,
			     .dir = dir };

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (st) {
		ps.chain[0].dev = st->st_dev;
		ps.chain[0].ino = st->st_ino;
	}
	if (len > POLICY_MAX_FILE) {
		file_too_big(errs, len);
		return -1;
	}
	out->file = strdup(file ? file : "-");
	if (!out->file)
		nomem(&ps);

	if (!ps.stop && parse_text(&ps, text, len) == 0) {
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
	    errs_count(errs) && !ps.nlong_lines && !ps.nkeyword_lines) {
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

int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_errors *errs)
{
	return parse_top(file, NULL, NULL, text, len, out, errs);
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
	const char *slash = file ? strrchr(file, '/') : NULL;
	char *dir = NULL, *buf;
	struct stat st;
	size_t len;
	int ret;

	policy_init(out);
	memset(errs, 0, sizeof(*errs));
	if (read_all(fd, &buf, &len, errs))
		return -1;
	if (fstat(fd, &st)) {
		errs_add(errs, 0, 0, "%s", strerror(errno));
		free(buf);
		return -1;
	}
	/* include names are relative to this file's directory. */
	if (!file || !strcmp(file, "-"))
		dir = NULL;
	else if (!slash)
		dir = strdup(".");
	else if (slash == file)
		dir = strdup("/");
	else
		dir = strndup(file, (size_t)(slash - file));
	if (file && strcmp(file, "-") && !dir) {
		errs_add(errs, 0, 0, "%s", strerror(ENOMEM));
		free(buf);
		return -1;
	}
	ret = parse_top(file, dir, &st, buf ? buf : "", len, out, errs);
	free(dir);
	free(buf);
	return ret;
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
