/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * policy.h - policy text to rows and sets. Pure C: no libbpf, no kernel.
 */
#ifndef PICFW_POLICY_H
#define PICFW_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "picfw.h"

#define POLICY_MAX_LINE 4096               /* bytes per line, newline excluded */
#define POLICY_MAX_FILE (16u * 1024 * 1024) /* bytes per policy file */
#define POLICY_MAX_SETS 4096
#define POLICY_MAX_ERRORS 50                /* reported, then parsing stops */
/* Prefixes of one family in one set, used or not (what compile takes for all rows' sets). */
#define POLICY_MAX_SET_PREFIXES (PICFW_MAX_PREFIXES / PICFW_GENERATIONS)
/* ... and in all sets of a policy together. */
#define POLICY_MAX_ALL_PREFIXES PICFW_MAX_PREFIXES
/* The protected set names the Edge's addresses: nothing wider than these. */
#define POLICY_PROTECT_MIN_LEN4 16
#define POLICY_PROTECT_MIN_LEN6 32

struct prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* prefix length */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3] */
};

struct addr_set {
	char *name;   /* NULL for an inline address or `any` written in a row */
	int line, col;
	struct prefix *prefixes;
	size_t nprefixes, cap;
	int used;     /* referenced by a row or protect */
};

struct row {
	char *name;      /* stable name: explicit or derived */
	int explicit_name;
	char *role;      /* "Access", "A/V" */
	char *protocol;  /* "SIP(MTLS)", "STUN,MSTURN" */
	uint8_t transport;  /* enum picfw_transport */
	uint8_t direction;  /* enum picfw_direction */
	uint16_t port_lo, port_hi;
	int src, dst;    /* index into policy.sets */
	char *src_text, *dst_text; /* as written */
	char *notes;     /* NULL when absent */
	int line, col;
};

/*
 * A row's sides as indexes into policy.sets: the remote (its Source inbound,
 * its Destination outbound) and the local one, the Edge's (the protected
 * set, or a set inside it).
 */
static inline int row_remote_set(const struct row *r)
{
	return r->direction == PICFW_DIR_IN ? r->src : r->dst;
}

static inline int row_local_set(const struct row *r)
{
	return r->direction == PICFW_DIR_IN ? r->dst : r->src;
}

struct policy {
	char *file;      /* as given, for messages */
	struct addr_set *sets;
	size_t nsets;
	struct row *rows;
	size_t nrows;
	int protect;     /* index into sets, -1 if none */
	uint32_t mode;   /* enum picfw_mode */
	uint32_t replies; /* enum picfw_replies */
	uint32_t icmp_strict; /* drop ICMP errors that relate to no flow */
	uint32_t timeout[PICFW_TIMEOUTS]; /* seconds, enum picfw_timeout */
	uint32_t unprotected; /* enum picfw_unprotected */
	uint32_t flows[PICFW_TRANSPORTS]; /* flow table size per family, by transport */
};

/* One diagnostic: FILE:LINE:COL: error: MESSAGE (or warning:, which does not fail) */
struct policy_error {
	int line, col;
	int warning;
	char msg[512];
};

/*
 * Where the lines of a policy with `include` came from. The parser numbers
 * the lines of the main file and of every included file in one sequence, in
 * the order it reads them (an included file's lines come right after its
 * include statement); a run says that from global line gline on, the lines
 * are file's (0: the main file, k: files[k - 1]) from line on. Without
 * include there are no runs and a line is the main file's own.
 */
struct policy_source_run {
	int gline, file, line;
};

/* A list of file names, each once. */
struct policy_includes {
	char **files;
	size_t n;
};

struct policy_sources {
	char **files; /* included files, as opened (the includer's directory prepended) */
	size_t nfiles;
	struct policy_source_run *runs;
	size_t nruns, cap;
	/*
	 * Every file an include statement named, each once, as far as the parser
	 * got, whether it was opened or refused (missing, untrusted, a cycle):
	 * named the same way as files. What `picfw run` follows besides the
	 * main file: an edit of any of them may change what a load gives. At
	 * most POLICY_MAX_INCLUDES opened and POLICY_MAX_ERRORS refused.
	 */
	struct policy_includes named;
};

struct policy_errors {
	struct policy_error *v;
	size_t n, cap;
	struct policy_sources src; /* for the messages: which file a line is of */
};

#define POLICY_MAX_INCLUDE_DEPTH 8 /* include of an include ... */
#define POLICY_MAX_INCLUDES 64     /* files included, all told */

/*
 * The file and line a global line number of the parser stands for: *file is
 * NULL for the main file (the name its caller gave), else an included file.
 */
void policy_errors_where(const struct policy_errors *errs, int gline, const char **file,
			 int *line);

/*
 * Parse text of len bytes (need not be NUL-terminated). file names it in
 * messages. Returns 0 and fills *out, or -1 with at least one entry in
 * *errs (then *out is left empty). Both are released with the free calls.
 */
int policy_parse(const char *file, const char *text, size_t len, struct policy *out,
		 struct policy_errors *errs);

/*
 * Read a file (size limit POLICY_MAX_FILE) and parse it. `include FILE` is
 * read relative to the directory of path, each included file opened and
 * checked as policy_file_open() does the main one (policy_file.h); text parsed
 * from memory (policy_parse) cannot include.
 */
int policy_load(const char *path, struct policy *out, struct policy_errors *errs);

/*
 * The same from an open fd (read to its end, not closed): what the trust
 * check opened is what is parsed (policy_file.h). file names it in messages.
 */
int policy_load_fd(int fd, const char *file, struct policy *out, struct policy_errors *errs);

void policy_free(struct policy *p);
void policy_errors_free(struct policy_errors *errs);
void policy_includes_free(struct policy_includes *inc);
void policy_errors_print(FILE *f, const char *file, const struct policy_errors *errs);

/* "tcp"/"udp", "in"/"out", "enforce"/"audit", "tracked"/"stateless", "udp"/"tcp"/"tcp-transitory" */
const char *policy_replies_name(unsigned r);
const char *policy_timeout_name(unsigned t);
const char *policy_transport_name(unsigned t);
const char *policy_direction_name(unsigned d);
const char *policy_mode_name(unsigned m);
const char *policy_unprotected_name(unsigned u); /* "pass"/"drop" */

/* The index of the named set name[0..n) in p->sets, or -1. */
long policy_find_set(const struct policy *p, const char *name, size_t n);

/* Text of a prefix ("198.51.100.0/24", "2001:db8::/32", host addresses without /len). */
#define PREFIX_TEXT_LEN 64 /* a buffer for it: at most 45 bytes of IPv6, "/128", NUL */
void prefix_format(const struct prefix *p, char *buf, size_t len);

/* Text of a row's ports: "5061", or "50000-59999" for a range. Returns buf. */
#define PORTS_TEXT_LEN 12 /* "65535-65535" and its NUL */
const char *ports_format(unsigned lo, unsigned hi, char *buf, size_t len);

/*
 * Text of a row's SOURCE or DESTINATION, the set p->sets[idx]: its name, or
 * what the row wrote inline (`any`, or the address or prefix), as a row of
 * policy_write() holds it. Returns the name or buf (at least PREFIX_TEXT_LEN).
 */
const char *policy_endpoint_text(const struct policy *p, int idx, char *buf, size_t len);

/*
 * The policy's setting lines, one each, as `picfw check` begins: mode,
 * unprotected, replies, icmp, every timeout and flows, and protect if any.
 */
void policy_print_settings(FILE *f, const struct policy *p);

/* The normalised table, as `picfw check` prints it. */
void policy_print(FILE *f, const struct policy *p);

/*
 * The policy as normalised source that parses back to the same rows and
 * sets: explicit row names, normalised prefixes, long sets continued.
 */
void policy_write(FILE *f, const struct policy *p);

#endif /* PICFW_POLICY_H */
