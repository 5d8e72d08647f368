/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy_int.h - what the rooms of the policy parser share (policy.c and
 * policy_*.c); not for other callers, whose interface is policy.h. Pure C:
 * no libbpf, no kernel.
 */
#ifndef PICFW_POLICY_INT_H
#define PICFW_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define NAME_MAX_LEN (PICFW_NAME_LEN - 1) /* set and row names, in bytes */
#define QUOTE_MAX 32                      /* bytes of a token quoted in a message */
#define QUOTE_BUF (QUOTE_MAX + 4)
#define ROW_TOKENS 8                      /* [LABEL:] FIELD SRC DST NOTES, then extra */

/* One token of a line: bare, or a double-quoted string (quotes included). */
struct tok {
	const char *s;
	size_t n;
	int col;
	bool quoted;
	bool closed; /* quoted, and the closing quote is there */
};

/* What only the parser needs to know about a row, for the checks after the file. */
struct row_pos {
	int src_col, dst_col;
	bool src_named, dst_named; /* a set name, resolved after the whole file */
};

/* A SOURCE or DESTINATION as written in a row. */
struct endpoint {
	bool named;
	struct prefix pf[2];
	size_t npf;
};

struct parser {
	struct policy *p;
	struct policy_errors *errs;
	bool stop; /* error cap reached, or out of memory */
	bool oom;
	int last_err_line;
	long warned_set;       /* the last set warned about `any` with other items */
	long count_set;        /* the set count[] is of, -1 if none */
	size_t count[2];       /* its IPv4 and IPv6 prefixes */
	bool has_all[2];       /* it holds the IPv4 (IPv6) /0 */
	size_t all_count[2];   /* IPv4 and IPv6 prefixes in all named sets */
	struct row_pos *pos; /* beside p->rows */
	size_t nnamed;       /* named sets */
	bool sets_full, rows_full;
	/* A set whose item list ended with ',' continues on the next line. */
	bool cont;
	long cont_set; /* index into p->sets; -1: items are checked, then dropped */
	int cont_line, cont_col;
	/* Statements seen, well formed or not. */
	int nstatements, nrows_seen, nlong_lines;
	int nbad_lines; /* lines with an error */
	int nkeyword_lines; /* include lines, which make a file a policy even if they fail */
	bool protect_seen;
	char *protect_name; /* of the first well formed protect */
	int protect_line, protect_col;
	int mode_line;
	int replies_line, icmp_line, unprotected_line;
	int timeout_line[PICFW_TIMEOUTS];
	int flows_line[PICFW_TRANSPORTS];
	/*
	 * include: lines are numbered in one sequence over all files (struct
	 * policy_sources); gline is the last number given, file the index of
	 * the file being read (0: the main one). dir is its directory, NULL when
	 * the text came from memory (no include then); chain the files being
	 * read, outermost first, to refuse a cycle.
	 */
	int gline, file;
	int line_base; /* gline of the current file's line 0 */
	const char *dir;
	int depth;
	size_t include_bytes; /* read from included files so far */
	struct {
		dev_t dev;
		ino_t ino;
	} chain[POLICY_MAX_INCLUDE_DEPTH + 1];
};

static inline bool is_ws(char c)
{
	/* A lone CR (not before LF) is taken as a blank too. */
	return c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* policy_lex.c: the text check, tokens, names, quoting for messages. */
bool tok_is(const char *s, size_t n, const char *word);
const char *quote(char *buf, const char *s, size_t n);
int text_check(struct parser *ps, const unsigned char *t, size_t len);
int tokenize(const char *line, size_t n, size_t i, struct tok *t, int max, size_t *endp);
bool name_ok(const char *s, size_t n, bool digit_first);
/*
 * A number: digits, or 1-3 digits then groups of ",ddd" (50,000, 131,072).
 * Its value, or max if it is larger; -1 if it is not a number.
 */
long number_parse(const char *s, size_t n, long max);
bool addr_like(const char *s, size_t n);

/* policy_errors.c: the diagnostics list. */
__attribute__((format(printf, 4, 5))) void errs_add(struct policy_errors *e, int line, int col,
						    const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void perr(struct parser *ps, int line, int col,
						const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void pwarn(struct parser *ps, int line, int col,
						 const char *fmt, ...);
void nomem(struct parser *ps);
size_t errs_count(const struct policy_errors *e);
/* "line N" for a line of the file being read, else "FILE:N": for "(first at ...)". */
#define LINE_WHERE_LEN 320
const char *line_where(const struct parser *ps, int gline, char *buf, size_t len);
void errs_sort(struct policy_errors *e);

/* policy_prefix.c: addresses and prefixes. */
enum { ADDR_OK, ADDR_BAD, ADDR_BAD_LEN };
int prefix_parse(const char *s, size_t n, struct prefix *pf);
int item_parse(struct parser *ps, int line, int col, const char *s, size_t n,
	       struct prefix pf[2], size_t *npf);

/* policy_sets.c: set statements. */
int set_add(struct addr_set *set, const struct prefix *pf, size_t n);
long set_new(struct parser *ps, const char *name, size_t n, int line, int col);
void items_parse(struct parser *ps, int ln, const char *line, size_t i, size_t end,
		 long target, bool check);
void cont_missing(struct parser *ps);
size_t set_line_end(const char *line, size_t n, size_t i);
void parse_set(struct parser *ps, int ln, const char *line, size_t n, size_t i);

/* policy.c: lines of text (a file's, or an included one's); include FILE. */
int parse_text(struct parser *ps, const char *text, size_t len);
void include_file(struct parser *ps, int ln, int col, const char *name, size_t n);

/* policy_statements.c: one line to its statement. */
void parse_line(struct parser *ps, int ln, const char *line, size_t n, size_t i);

/* policy_rows.c: rows. */
void parse_row(struct parser *ps, int ln, const char *line, size_t n, size_t i);
void row_free(struct row *r);

/* policy_resolve.c: after the last line. */
void resolve(struct parser *ps);

/* policy_print.c: the length of a row as policy_write writes it. */
size_t row_written_len(const struct policy *p, const struct row *r);

#endif /* PICFW_POLICY_INT_H */
