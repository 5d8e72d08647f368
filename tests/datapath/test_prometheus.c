// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * test_prometheus.c - the Prometheus renderer (stats.c) and the exporter's
 * --listen parser, on snapshots made here: no kernel, no maps. It sits with
 * the datapath tests because stats.c and exporter.c are in the kernel-facing
 * library these tests link; it needs no root.
 *
 * Label values escaped per the text format 0.0.4; one HELP and TYPE per
 * family however many interfaces; the new families' values; promtool check
 * metrics on the output (a SKIP line when promtool is not installed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter.h"
#include "stats.h"

/* Render into a string (free it). */
static char *render(const struct stats_snapshot *const *s, unsigned n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	stats_print_prometheus_many(f, s, n);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (; (hay = strstr(hay, needle)); hay += strlen(needle))
		n++;
	return n;
}

static struct stats_snapshot *snapshot(const char *ifname)
{
	struct stats_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->nrows = 2;
	s->ctl.gen[0].nrows = 2;
	snprintf(s->rows[0].name, sizeof(s->rows[0].name), "sip-in");
	s->rows[0].transport = PICFW_TCP;
	s->rows[0].port_lo = s->rows[0].port_hi = 5061;
	/* A name with every character the format escapes. */
	snprintf(s->rows[1].name, sizeof(s->rows[1].name), "odd\"name\\with\nnewline");
	s->rows[1].transport = PICFW_UDP;
	s->rows[1].port_lo = 50000;
	s->rows[1].port_hi = 59999;
	s->row_counters[0] = (struct picfw_counter){ .packets = 7, .bytes = 700 };
	s->row_counters[1] = (struct picfw_counter){ .packets = 3, .bytes = 300 };
	s->flows[PICFW_FT_TCP4] = 512;
	s->flow_sizes[PICFW_FT_TCP4] = 1024;
	s->flow_sizes[PICFW_FT_UDP4] = 1024;
	s->meta.generation = 4;
	s->meta.apply_time = 1700000000;
	s->applies = (struct picfw_applies){ .ok = 3, .refused = 2 };
	return s;
}

static void test_prometheus_label_escaped(void **state)
{
	struct stats_snapshot *s = snapshot("eth\"1");
	const struct stats_snapshot *one[1] = { s };
	char *out = render(one, 1);

	(void)state;
	/* tag: escape-row */
	assert_non_null(strstr(out, "row=\"odd\\\"name\\\\with\\nnewline\""));
	/* tag: escape-iface */
	assert_non_null(strstr(out, "interface=\"eth\\\"1\""));
	/* tag: no-raw-newline: every line is a comment or a sample with a value */
	assert_null(strstr(out, "with\nnewline"));
	free(out);
	free(s);
}

static void test_prometheus_families_once(void **state)
{
	struct stats_snapshot *a = snapshot("eth1"), *b = snapshot("eth2");
	const struct stats_snapshot *two[2] = { a, b };
	char *out = render(two, 2);

	(void)state;
	/* tag: type-once */
	assert_int_equal(count(out, "# TYPE picfw_row_packets_total counter\n"), 1);
	assert_int_equal(count(out, "# TYPE picfw_policy_applies_total counter\n"), 1);
	assert_int_equal(count(out, "# HELP picfw_flows "), 1);
	/* tag: both-ifaces */
	assert_int_equal(count(out, "picfw_row_packets_total{interface=\"eth1\""), 2);
	assert_int_equal(count(out, "picfw_row_packets_total{interface=\"eth2\""), 2);
	free(out);
	free(a);
	free(b);
}

static void test_prometheus_new_families(void **state)
{
	struct stats_snapshot *s = snapshot("eth1");
	const struct stats_snapshot *one[1] = { s };
	char *out = render(one, 1);

	(void)state;
	/* tag: fill */
	assert_non_null(strstr(out, "picfw_flow_table_fill_ratio{interface=\"eth1\",table=\"tcp4\"} 0.5\n"));
	assert_non_null(strstr(out, "picfw_flow_table_fill_ratio{interface=\"eth1\",table=\"udp6\"} 0\n"));
	/* tag: applies */
	assert_non_null(strstr(out, "picfw_policy_applies_total{interface=\"eth1\",result=\"ok\"} 3\n"));
	assert_non_null(strstr(out, "picfw_policy_applies_total{interface=\"eth1\",result=\"refused\"} 2\n"));
	/* tag: applied-time */
	assert_non_null(strstr(out, "picfw_policy_applied_timestamp_seconds{interface=\"eth1\"} 1700000000\n"));
	/* tag: row-values */
	assert_non_null(strstr(out, "picfw_row_bytes_total{interface=\"eth1\",row=\"sip-in\","
				    "direction=\"in\",transport=\"tcp\",ports=\"5061\"} 700\n"));
	free(out);
	free(s);
}

/* promtool check metrics, if installed, on two interfaces' output. */
static void test_prometheus_promtool(void **state)
{
	struct stats_snapshot *a = snapshot("eth1"), *b = snapshot("eth2");
	const struct stats_snapshot *two[2] = { a, b };
	char path[] = "/tmp/p9x-prom.XXXXXX", cmd[128];
	char *out = render(two, 2);
	int fd, rc;

	(void)state;
	if (system("command -v promtool >/dev/null 2>&1")) {
		printf("# promtool not installed: not checked\n");
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	/* tag: promtool */
	assert_int_equal(rc, 0);
	free(out);
	free(a);
	free(b);
}

static void test_exporter_listen_parse(void **state)
{
	static const struct {
		const char *text;
		int ok, loopback, port;
	} cases[] = {
		{ "127.0.0.1:9724", 1, 1, 9724 },
		{ "127.3.4.5:80", 1, 1, 80 },
		{ "203.0.113.10:9724", 1, 0, 9724 },
		{ "0.0.0.0:9724", 1, 0, 9724 },
		{ "[::1]:9724", 1, 1, 9724 },
		{ "[2001:db8::1]:1", 1, 0, 1 },
		{ "127.0.0.1", 0 },
		{ "127.0.0.1:", 0 },
		{ "127.0.0.1:0", 0 },
		{ "127.0.0.1:65536", 0 },
		{ "127.0.0.1:12x", 0 },
		{ ":9724", 0 },
		{ "::1:9724", 0 },
		{ "[::1:9724", 0 },
		{ "localhost:9724", 0 },
		{ "[127.0.0.1]:9724", 0 },
	};
	struct exporter_listen l;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = exporter_parse_listen(cases[i].text, &l);

		if (!cases[i].ok) {
			if (!ret)
				fail_msg("listen-bad: '%s' accepted", cases[i].text);
			continue;
		}
		if (ret)
			fail_msg("listen-good: '%s' refused", cases[i].text);
		if (l.loopback != cases[i].loopback)
			fail_msg("listen-loopback: '%s' loopback %d", cases[i].text, l.loopback);
		if (ntohs(((struct sockaddr_in *)&l.addr)->sin_port) != cases[i].port)
			fail_msg("listen-port: '%s'", cases[i].text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_label_escaped),
		cmocka_unit_test(test_prometheus_families_once),
		cmocka_unit_test(test_prometheus_new_families),
		cmocka_unit_test(test_prometheus_promtool),
		cmocka_unit_test(test_exporter_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
