// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* common.c - what the datapath tests share besides packets (see common.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "maps.h"

void vnote(const char *tag, const char *fmt, va_list ap)
{
	if (tag)
		printf("# %s: ", tag);
	else
		printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

void note(const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(tag, fmt, ap);
	va_end(ap);
}

const char *verdict_name(int verdict)
{
	/* A few at a time: one message may name two unknown verdicts. */
	static char buf[4][24];
	static unsigned next;
	char *b;

	switch (verdict) {
	case XDP_ABORTED:
		return "aborted";
	case XDP_DROP:
		return "drop";
	case XDP_PASS:
		return "pass";
	case XDP_TX:
		return "tx";
	case XDP_REDIRECT:
		return "redirect";
	}
	b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "verdict %d", verdict);
	return b;
}

int test_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fprintf(stderr, "# ");
	return vfprintf(stderr, fmt, ap);
}

void hints_empty(const struct picfw_maps *m)
{
	int ncpus = libbpf_num_possible_cpus();
	struct picfw_reply_hint *zero;
	uint32_t i;

	assert_true(ncpus > 0);
	zero = calloc((size_t)ncpus, sizeof(*zero));
	assert_non_null(zero);
	for (i = 0; i < PICFW_HINTS; i++)
		assert_int_equal(bpf_map_update_elem(m->fd[MAP_REPLY_HINTS], &i, zero, BPF_ANY), 0);
	free(zero);
}

void flows_empty_keep_hints(const struct picfw_maps *m)
{
	struct picfw_flow6_key key; /* the larger key serves every table */
	struct picfw_frag_key fkey;
	uint64_t zero = 0;
	uint32_t t;

	/* A delete that fails would find the same first key again: stop there. */
	for (t = 0; t < PICFW_FLOW_TABLES; t++) {
		while (!bpf_map_get_next_key(m->fd[MAP_FLOWS_TCP4 + t], NULL, &key))
			if (bpf_map_delete_elem(m->fd[MAP_FLOWS_TCP4 + t], &key))
				break;
		bpf_map_update_elem(m->fd[MAP_FLOW_COUNT], &t, &zero, BPF_ANY);
	}
	while (!bpf_map_get_next_key(m->fd[MAP_FRAGS], NULL, &fkey))
		if (bpf_map_delete_elem(m->fd[MAP_FRAGS], &fkey))
			break;
}

void flows_empty(const struct picfw_maps *m)
{
	flows_empty_keep_hints(m);
	hints_empty(m);
}
