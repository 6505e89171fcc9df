/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for metrics: the Prometheus text format and its checks. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "metrics.h"

/* The buffer as a C string, for comparing. */
static const char *
text(struct buf *b)
{
	assert_int_equal(buf_append(b, "", 1), 0);
	b->len--;
	return b->data;
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(metrics_name_ok("nfspamd_connections_total"));
	assert_true(metrics_name_ok("a:b_c9"));
	assert_true(metrics_name_ok("_x"));
	assert_false(metrics_name_ok(""));
	assert_false(metrics_name_ok("9a"));
	assert_false(metrics_name_ok("a-b"));
	assert_false(metrics_name_ok("a b"));
	assert_false(metrics_name_ok(NULL));
	assert_true(metrics_label_ok("list"));
	assert_false(metrics_label_ok("a:b"));
	assert_false(metrics_label_ok("__name__"));
	assert_false(metrics_label_ok("1x"));
}

static void
test_head_and_sample(void **state)
{
	struct buf b = { 0 };
	struct mlabel l[] = { { "class", "grey" }, { "list", "x" } };

	(void)state;
	assert_int_equal(metrics_head(&b, "nfspamd_x_total", METRICS_COUNTER,
	    "Things.\nMore \\ of them."), 0);
	assert_int_equal(metrics_sample(&b, "nfspamd_x_total", l, 2, 42), 0);
	assert_int_equal(metrics_sample(&b, "nfspamd_x_total", NULL, 0, 0.25),
	    0);
	assert_string_equal(text(&b),
	    "# HELP nfspamd_x_total Things.\\nMore \\\\ of them.\n"
	    "# TYPE nfspamd_x_total counter\n"
	    "nfspamd_x_total{class=\"grey\",list=\"x\"} 42\n"
	    "nfspamd_x_total 0.25\n");
	buf_free(&b);
}

/* Label values come from outside: quotes, backslashes, newlines. */
static void
test_label_escaping(void **state)
{
	struct buf b = { 0 };
	struct mlabel l[] = { { "list", "a\"b\\c\nd" } };

	(void)state;
	assert_int_equal(metrics_sample(&b, "m", l, 1, 1), 0);
	assert_string_equal(text(&b), "m{list=\"a\\\"b\\\\c\\nd\"} 1\n");
	buf_free(&b);
}

static void
test_refusals(void **state)
{
	struct buf b = { 0 };
	struct mlabel bad[] = { { "le", "1" } }, bad2[] = { { "a-b", "1" } };
	struct mlabel four[] = { { "a", "" }, { "b", "" }, { "c", "" },
	    { "d", "" } };

	(void)state;
	errno = 0;
	assert_int_equal(metrics_head(&b, "bad name", METRICS_GAUGE, "h"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(metrics_sample(&b, "m", bad, 1, 1), -1);
	assert_int_equal(metrics_sample(&b, "m", bad2, 1, 1), -1);
	assert_int_equal(metrics_sample(&b, "m", four, 4, 1), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_values(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_sample(&b, "a", NULL, 0, 1e15), 0);
	assert_int_equal(metrics_sample(&b, "b", NULL, 0, -3), 0);
	assert_int_equal(metrics_sample(&b, "c", NULL, 0, INFINITY), 0);
	assert_int_equal(metrics_sample(&b, "d", NULL, 0, -INFINITY), 0);
	assert_int_equal(metrics_sample(&b, "e", NULL, 0, NAN), 0);
	assert_int_equal(metrics_sample(&b, "f", NULL, 0, 0.001), 0);
	assert_int_equal(metrics_sample(&b, "g", NULL, 0, 1e300), 0);
	assert_int_equal(metrics_sample(&b, "h", NULL, 0, 0.1 + 0.2), 0);
	assert_string_equal(text(&b), "a 1000000000000000\nb -3\nc +Inf\n"
	    "d -Inf\ne NaN\nf 0.001\ng 1e+300\nh 0.30000000000000004\n");
	buf_free(&b);
}

static void
test_build_info(void **state)
{
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_build_info(&b, "x_build_info", "x"), 0);
	assert_string_equal(text(&b),
	    "# HELP x_build_info Always 1; the version of x.\n"
	    "# TYPE x_build_info gauge\n"
	    "x_build_info{version=\"" PACKAGE_VERSION "\"} 1\n");
	assert_int_equal(metrics_build_info(&b, "bad name", "x"), -1);
	buf_free(&b);
}

static void
test_bucket(void **state)
{
	const double bounds[] = { 0.001, 0.01, 0.1, 1 };

	(void)state;
	assert_int_equal(metrics_bucket(bounds, 4, 0), 0);
	assert_int_equal(metrics_bucket(bounds, 4, 0.001), 0);	/* le */
	assert_int_equal(metrics_bucket(bounds, 4, 0.0011), 1);
	assert_int_equal(metrics_bucket(bounds, 4, 0.5), 3);
	assert_int_equal(metrics_bucket(bounds, 4, 1), 3);
	assert_int_equal(metrics_bucket(bounds, 4, 2), 4);
	assert_int_equal(metrics_bucket(bounds, 4, NAN), 4);
	assert_int_equal(metrics_bucket(bounds, 0, 5), 0);
}

static void
test_histogram(void **state)
{
	const double bounds[] = { 0.005, 0.5, 60 };
	const uint64_t counts[] = { 2, 0, 3, 1 };
	struct mlabel l[] = { { "op", "add" } };
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_histogram(&b, "h_seconds", l, 1, bounds, 3,
	    counts, 123.5), 0);
	assert_string_equal(text(&b),
	    "h_seconds_bucket{op=\"add\",le=\"0.005\"} 2\n"
	    "h_seconds_bucket{op=\"add\",le=\"0.5\"} 2\n"
	    "h_seconds_bucket{op=\"add\",le=\"60\"} 5\n"
	    "h_seconds_bucket{op=\"add\",le=\"+Inf\"} 6\n"
	    "h_seconds_sum{op=\"add\"} 123.5\n"
	    "h_seconds_count{op=\"add\"} 6\n");
	buf_free(&b);
}

static void
test_histogram_bad_bounds(void **state)
{
	const double bounds[] = { 1, 1 };
	const uint64_t counts[] = { 0, 0, 0 };
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(metrics_histogram(&b, "h", NULL, 0, bounds, 2,
	    counts, 0), -1);
	buf_free(&b);
}

static void
test_endpoint(void **state)
{
	struct addr a;
	uint16_t port = 0;
	const char *why = NULL;

	(void)state;
	assert_int_equal(metrics_endpoint_parse("127.0.0.1:9154", &a, &port,
	    &why), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(port, 9154);
	assert_int_equal(metrics_endpoint_parse("[::1]:1", &a, &port, &why),
	    0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(port, 1);
	assert_int_equal(metrics_endpoint_parse("::1:9154", &a, &port, &why),
	    -1);
	assert_non_null(strstr(why, "brackets"));
	assert_int_equal(metrics_endpoint_parse("127.0.0.1", &a, &port, &why),
	    -1);
	assert_int_equal(metrics_endpoint_parse("127.0.0.1:", &a, &port,
	    &why), -1);
	assert_int_equal(metrics_endpoint_parse("127.0.0.1:0", &a, &port,
	    &why), -1);
	assert_int_equal(metrics_endpoint_parse("127.0.0.1:65536", &a, &port,
	    &why), -1);
	assert_int_equal(metrics_endpoint_parse("127.0.0.1:9x", &a, &port,
	    &why), -1);
	assert_int_equal(metrics_endpoint_parse("localhost:9154", &a, &port,
	    &why), -1);
	assert_int_equal(metrics_endpoint_parse("[::1:9154", &a, &port, &why),
	    -1);
	assert_int_equal(metrics_endpoint_parse("", &a, &port, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_head_and_sample),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_bad_bounds),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
