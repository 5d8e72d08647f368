/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* policy_errors.c - the diagnostics list: errors and warnings, sorted, printed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

static int errs_vadd(struct policy_errors *e, int line, int col, const char *fmt, va_list ap)
{
	struct policy_error *err;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		struct policy_error *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	err = &e->v[e->n++];
	err->line = line;
	err->col = col;
	err->warning = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return 0;
}

__attribute__((format(printf, 4, 5))) void
errs_add(struct policy_errors *e, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(e, line, col, fmt, ap);
	va_end(ap);
}

void nomem(struct parser *ps)
{
	ps->oom = true;
	ps->stop = true;
}

/*
 * An error or a warning of the parser, unless it has stopped. An error marks
 * its line (one per line) and stops the parser at the cap, as running out of
 * memory does.
 */
static void parser_vadd(struct parser *ps, bool warning, int line, int col, const char *fmt,
			va_list ap)
{
	bool kept;

	if (ps->stop)
		return;
	kept = !errs_vadd(ps->errs, line, col, fmt, ap);
	if (!kept)
		nomem(ps);
	if (warning) {
		if (kept)
			ps->errs->v[ps->errs->n - 1].warning = 1;
		return;
	}
	ps->last_err_line = line;
	if (kept && ps->errs->n >= POLICY_MAX_ERRORS)
		ps->stop = true;
}

__attribute__((format(printf, 4, 5))) void
perr(struct parser *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vadd(ps, false, line, col, fmt, ap);
	va_end(ap);
}

/* A warning: printed, but the policy is still taken. */
__attribute__((format(printf, 4, 5))) void
pwarn(struct parser *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vadd(ps, true, line, col, fmt, ap);
	va_end(ap);
}

size_t errs_count(const struct policy_errors *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		n += !e->v[i].warning;
	return n;
}

/* By line, then column; stable (insertion sort: at most POLICY_MAX_ERRORS). */
void errs_sort(struct policy_errors *e)
{
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		struct policy_error x = e->v[i];

		for (j = i; j > 0 && (e->v[j - 1].line > x.line ||
				      (e->v[j - 1].line == x.line && e->v[j - 1].col > x.col)); j--)
			e->v[j] = e->v[j - 1];
		e->v[j] = x;
	}
}

const char *line_where(const struct parser *ps, int gline, char *buf, size_t len)
{
	const char *file;
	int line;

	policy_errors_where(ps->errs, gline, &file, &line);
	if (!ps->errs->src.nruns)
		snprintf(buf, len, "line %d", line);
	else
		snprintf(buf, len, "%s:%d", file ? file : ps->p->file, line);
	return buf;
}

void policy_errors_where(const struct policy_errors *errs, int gline, const char **file,
			 int *line)
{
	const struct policy_source_run *run = NULL;
	size_t i;

	for (i = 0; i < errs->src.nruns && errs->src.runs[i].gline <= gline; i++)
		run = &errs->src.runs[i];
	*file = NULL;
	*line = gline;
	if (!run)
		return;
	if (run->file > 0 && (size_t)run->file <= errs->src.nfiles)
		*file = errs->src.files[run->file - 1];
	*line = run->line + (gline - run->gline);
}

void policy_errors_free(struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->src.nfiles; i++)
		free(errs->src.files[i]);
	free(errs->src.files);
	free(errs->src.runs);
	policy_includes_free(&errs->src.named);
	free(errs->v);
	memset(errs, 0, sizeof(*errs));
}

void policy_includes_free(struct policy_includes *inc)
{
	size_t i;

	for (i = 0; i < inc->n; i++)
		free(inc->files[i]);
	free(inc->files);
	inc->files = NULL;
	inc->n = 0;
}

void policy_errors_print(FILE *f, const char *file, const struct policy_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		const struct policy_error *e = &errs->v[i];

		const char *kind = e->warning ? "warning" : "error", *in;
		int line;

		policy_errors_where(errs, e->line, &in, &line);
		if (e->line > 0)
			fprintf(f, "%s:%d:%d: %s: %s\n", in ? in : file, line, e->col, kind,
				e->msg);
		else
			fprintf(f, "%s: %s: %s\n", file, kind, e->msg);
	}
}
