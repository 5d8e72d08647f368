/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * common.h - what the datapath tests share besides packets: the addresses of
 * etc/pic.policy, the TAP diagnostic line, verdict names and the libbpf
 * print callback. Linked into every datapath test (common.c).
 */
#ifndef PICFW_TEST_COMMON_H
#define PICFW_TEST_COMMON_H

#include <stdarg.h>

#include <bpf/libbpf.h>

/* Addresses of etc/pic.policy (and of the tests' policies modelled on it). */
#define EDGE4 "203.0.113.10"      /* the protected set, edge-access */
#define EDGE6 "2001:db8:e::10"
#define PARTNER4 "198.51.100.7"   /* in pic-partners */
#define PARTNER6 "2001:db8:100::7"
#define STRANGER4 "192.0.2.66"    /* only in `any` */
#define STRANGER6 "2001:db8:bad::66"

/*
 * A TAP diagnostic line, "# TAG: ..." ("# ..." when tag is NULL), flushed
 * before cmocka prints the verdict: cmocka's TAP output drops fail_msg()'s
 * text, so a failing check says what differed through note() first.
 */
void note(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vnote(const char *tag, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* "pass", "drop", "aborted", "tx", "redirect", else "verdict N". */
const char *verdict_name(int verdict);

/* For libbpf_set_print(): warnings and info as TAP diagnostics on stderr, no debug. */
int test_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

struct picfw_maps;

/*
 * Tracked state gone: the flow tables, their counts and the fragments, and
 * the CPUs' reply hints (flows_empty), or all but the hints (as an LRU
 * eviction leaves them: flows_empty_keep_hints); hints_empty alone.
 */
void flows_empty(const struct picfw_maps *m);
void flows_empty_keep_hints(const struct picfw_maps *m);
void hints_empty(const struct picfw_maps *m);

#endif /* PICFW_TEST_COMMON_H */
