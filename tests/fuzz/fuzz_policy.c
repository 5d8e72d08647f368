// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * fuzz_policy.c - libFuzzer harness for the policy parser and compiler.
 *
 *   make fuzz-build                 # build/fuzz/fuzz_policy (clang, ASan, UBSan)
 *   build/fuzz/fuzz_policy -dict=tests/fuzz/policy.dict CORPUS_DIR tests/fuzz/corpus
 *   build/fuzz/fuzz_policy CRASH_FILE   # replay one input
 *
 * Any input: policy_parse() must either fail with at least one well formed
 * error (line and column >= 1, a message), or succeed with a policy whose
 * invariants hold (the protected set exists, every row names valid sets and
 * the protected set on exactly one side, 1 <= port_lo <= port_hi, unique
 * names). A policy that parses must round trip: policy_write() gives text
 * within the line and file limits that parses back to the same rows, sets
 * and settings, and writing that
 * again gives the same text. Both must compile alike (same image digest),
 * and planning counter slots against itself keeps every row in its slot.
 * A broken rule aborts with a message, which libFuzzer reports as a crash.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "compile.h"

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_policy: %s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                                           \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* What a FILE * collected, NUL-terminated. */
struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct memout *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	CHECK(m->f, "open_memstream");
	return m->f;
}

static void mem_close(struct memout *m)
{
	CHECK(fclose(m->f) == 0, "fclose(memstream)");
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int prefix_eq(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

static int set_eq(const struct addr_set *a, const struct addr_set *b)
{
	size_t i;

	if (a->nprefixes != b->nprefixes)
		return 0;
	for (i = 0; i < a->nprefixes; i++)
		if (!prefix_eq(&a->prefixes[i], &b->prefixes[i]))
			return 0;
	return 1;
}

static void check_invariants(const struct policy *p)
{
	size_t i, j;

	CHECK(p->protect >= 0 && (size_t)p->protect < p->nsets, "protect %d of %zu sets",
	      p->protect, p->nsets);
	CHECK(p->nrows >= 1 && p->nrows <= PICFW_MAX_ROWS, "%zu rows", p->nrows);
	CHECK(p->mode <= PICFW_MODE_AUDIT && p->replies <= PICFW_REPLIES_STATELESS &&
		  p->icmp_strict <= 1,
	      "mode %u replies %u icmp %u", p->mode, p->replies, p->icmp_strict);
	for (i = 0; i < p->nsets; i++) {
		const struct addr_set *s = &p->sets[i];

		for (j = 0; j < s->nprefixes; j++) {
			const struct prefix *pf = &s->prefixes[j];

			CHECK(pf->family == 4 || pf->family == 6, "set %zu family %u", i,
			      pf->family);
			CHECK(pf->len <= (pf->family == 4 ? 32 : 128), "set %zu len %u", i,
			      pf->len);
		}
	}
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		CHECK(r->name && *r->name, "row %zu has no name", i);
		CHECK(strlen(r->name) < PICFW_NAME_LEN, "row %zu name of %zu bytes", i,
		      strlen(r->name));
		CHECK(r->src >= 0 && (size_t)r->src < p->nsets && r->dst >= 0 &&
			  (size_t)r->dst < p->nsets,
		      "row %zu sets %d %d", i, r->src, r->dst);
		CHECK((r->src == p->protect) != (r->dst == p->protect),
		      "row %zu names the protected set on %s side", i,
		      r->src == p->protect ? "both" : "neither");
		CHECK(r->direction == (r->dst == p->protect ? PICFW_DIR_IN : PICFW_DIR_OUT),
		      "row %zu direction %u", i, r->direction);
		CHECK(r->transport == PICFW_TCP || r->transport == PICFW_UDP, "row %zu transport",
		      i);
		CHECK(r->port_lo >= 1 && r->port_lo <= r->port_hi, "row %zu ports %u-%u", i,
		      r->port_lo, r->port_hi);
		CHECK(r->role && r->protocol, "row %zu role/protocol", i);
		for (j = 0; j < i; j++)
			CHECK(strcmp(r->name, p->rows[j].name), "rows %zu and %zu both named %s", j,
			      i, r->name);
	}
}

/* p and q (q parsed from policy_write(p)) mean the same. */
static void check_same(const struct policy *p, const struct policy *q, const char *text)
{
	size_t i;
	unsigned k;

	CHECK(p->mode == q->mode && p->replies == q->replies && p->icmp_strict == q->icmp_strict,
	      "settings differ after the round trip:\n%s", text);
	for (k = 0; k < PICFW_TIMEOUTS; k++)
		CHECK(p->timeout[k] == q->timeout[k], "timeout %u: %u then %u", k, p->timeout[k],
		      q->timeout[k]);
	CHECK(p->nrows == q->nrows, "%zu rows then %zu:\n%s", p->nrows, q->nrows, text);
	CHECK(set_eq(&p->sets[p->protect], &q->sets[q->protect]), "protected set differs:\n%s",
	      text);
	for (i = 0; i < p->nrows; i++) {
		const struct row *a = &p->rows[i], *b = &q->rows[i];

		CHECK(str_eq(a->name, b->name), "row %zu name '%s' then '%s'", i, a->name, b->name);
		CHECK(str_eq(a->role, b->role) && str_eq(a->protocol, b->protocol),
		      "row %zu role/protocol '%s'/'%s' then '%s'/'%s'", i, a->role, a->protocol,
		      b->role, b->protocol);
		CHECK(str_eq(a->notes, b->notes), "row %zu notes '%s' then '%s'", i,
		      a->notes ? a->notes : "(none)", b->notes ? b->notes : "(none)");
		CHECK(a->transport == b->transport && a->direction == b->direction &&
			  a->port_lo == b->port_lo && a->port_hi == b->port_hi,
		      "row %zu (%s) transport, direction or ports differ", i, a->name);
		CHECK(set_eq(&p->sets[a->src], &q->sets[b->src]), "row %zu (%s) source differs", i,
		      a->name);
		CHECK(set_eq(&p->sets[a->dst], &q->sets[b->dst]),
		      "row %zu (%s) destination differs", i, a->name);
	}
}

static void check_compile(const struct policy *p, const struct policy *q)
{
	struct policy_image a = {0}, b = {0};
	uint32_t slots[PICFW_MAX_ROWS], ident[PICFW_MAX_ROWS], i;
	uint8_t fresh[PICFW_MAX_ROWS];
	char ea[256] = "", eb[256] = "";
	int ra, rb;

	ra = compile_policy(p, &a, ea, sizeof(ea));
	rb = compile_policy(q, &b, eb, sizeof(eb));
	CHECK((ra == 0) == (rb == 0), "compiles %s, round trip %s (%s%s)", ra ? "no" : "yes",
	      rb ? "no" : "yes", ea, eb);
	if (ra) {
		CHECK(*ea, "compile_policy failed without a reason");
		return;
	}
	CHECK(a.nrows == p->nrows, "image has %u rows, policy %zu", a.nrows, p->nrows);
	CHECK(a.nclasses >= 1 && a.nclasses <= PICFW_MAX_CLASSES, "%zu classes", a.nclasses);
	/*
	 * The row table has a row for each of its port classes, and holds every
	 * inbound port class unless the next one would not fit.
	 */
	if (a.cfg.row_table_classes) {
		unsigned t, port, d = 0;

		CHECK(a.cfg.row_table == a.nclasses && !a.cfg.local && a.cfg.row_table_classes &&
			      a.nrow_table == (size_t)a.cfg.row_table_classes * a.nclasses &&
			      a.nrow_table <= PICFW_ROW_CELLS,
		      "row table of %zu cells, stride %u, %u port classes, %zu classes",
		      a.nrow_table, a.cfg.row_table, a.cfg.row_table_classes, a.nclasses);
		for (t = 0; t < PICFW_TRANSPORTS; t++)
			for (port = 0; port < PICFW_PORTS; port++)
				if (a.ports[t][port].dst_class > d)
					d = a.ports[t][port].dst_class;
		CHECK(a.cfg.row_table_classes == d ||
			      (a.cfg.row_table_classes < d &&
			       a.nrow_table + a.nclasses > PICFW_ROW_CELLS),
		      "row table holds %u of %u inbound port classes, %zu cells",
		      a.cfg.row_table_classes, d, a.nrow_table);
	}
	CHECK(image_digest(&a) == image_digest(&b), "digests differ after the round trip");
	for (i = 0; i < a.nrows; i++)
		ident[i] = i;
	CHECK(compile_plan_slots(a.rows, ident, a.nrows, &b, slots, fresh) == 0,
	      "compile_plan_slots failed");
	for (i = 0; i < a.nrows; i++)
		CHECK(slots[i] == i && !fresh[i], "row %u moved to slot %u (fresh %u)", i, slots[i],
		      fresh[i]);
	image_free(&a);
	image_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_errors errs = {0}, errs2 = {0};
	struct policy p, q;
	struct memout out, w1, w2;
	size_t i;

	if (policy_parse("fuzz.policy", (const char *)data, size, &p, &errs)) {
		CHECK(errs.n >= 1, "parse failed without an error");
		for (i = 0; i < errs.n; i++)
			CHECK(errs.v[i].line >= 1 && errs.v[i].col >= 1 && errs.v[i].msg[0],
			      "error %zu at %d:%d '%s'", i, errs.v[i].line, errs.v[i].col,
			      errs.v[i].msg);
		policy_errors_print(mem_open(&out), "fuzz.policy", &errs);
		mem_close(&out);
		free(out.buf);
		policy_errors_free(&errs);
		policy_free(&p); /* left empty: must be safe to free */
		return 0;
	}
	for (i = 0; i < errs.n; i++)
		CHECK(errs.v[i].warning, "parse succeeded with an error: %s", errs.v[i].msg);
	policy_errors_free(&errs);
	check_invariants(&p);

	policy_print(mem_open(&out), &p);
	mem_close(&out);
	free(out.buf);

	policy_write(mem_open(&w1), &p);
	mem_close(&w1);
	/* The copy stays within the limits it is read back under. */
	CHECK(w1.len <= POLICY_MAX_FILE, "policy_write wrote %zu bytes", w1.len);
	for (i = 0; i < w1.len;) {
		const char *nl = memchr(w1.buf + i, '\n', w1.len - i);
		size_t n = nl ? (size_t)(nl - (w1.buf + i)) : w1.len - i;

		CHECK(n <= POLICY_MAX_LINE, "policy_write wrote a line of %zu bytes:\n%.200s", n,
		      w1.buf + i);
		i += n + 1;
	}
	if (policy_parse("rewritten.policy", w1.buf, w1.len, &q, &errs2)) {
		CHECK(0, "policy_write's output does not parse: %d:%d: %s\n%s",
		      errs2.n ? errs2.v[0].line : 0, errs2.n ? errs2.v[0].col : 0,
		      errs2.n ? errs2.v[0].msg : "?", w1.buf);
	}
	policy_errors_free(&errs2);
	check_invariants(&q);
	check_same(&p, &q, w1.buf);

	policy_write(mem_open(&w2), &q);
	mem_close(&w2);
	CHECK(w1.len == w2.len && !memcmp(w1.buf, w2.buf, w1.len),
	      "policy_write is not a fixpoint:\n--- first\n%s--- second\n%s", w1.buf, w2.buf);

	check_compile(&p, &q);

	free(w1.buf);
	free(w2.buf);
	policy_free(&p);
	policy_free(&q);
	return 0;
}
