/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for promparse: reading Prometheus' text format. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"
#include "promparse.h"

#define MAXS	16

/* The samples of one parse, copied out. */
struct got {
	size_t	n;
	char	name[MAXS][64];
	double	value[MAXS];
	size_t	nlabels[MAXS];
	size_t	line[MAXS];
	char	first[MAXS][64];	/* the first label's value */
	int	stop_at;		/* fn returns 7 at this sample */
};

static int
collect(void *arg, const struct prom_sample *s, char *err, size_t errlen)
{
	struct got	*g = arg;

	if (g->stop_at > 0 && (size_t)g->stop_at == g->n + 1) {
		snprintf(err, errlen, "stopped");
		return 7;
	}
	assert_true(g->n < MAXS);
	snprintf(g->name[g->n], sizeof(g->name[0]), "%.*s", (int)s->namelen,
	    s->name);
	g->value[g->n] = s->value;
	g->nlabels[g->n] = s->nlabels;
	g->line[g->n] = s->line;
	g->first[g->n][0] = '\0';
	if (s->nlabels > 0)
		snprintf(g->first[g->n], sizeof(g->first[0]), "%.*s",
		    (int)s->label[0].valuelen, s->label[0].value);
	g->n++;
	return 0;
}

static int
parse(const char *text, struct got *g, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	return prom_parse(text, strlen(text), collect, g, err, errlen);
}

static void
test_samples(void **state)
{
	struct got	g;
	char		err[256];

	(void)state;
	assert_int_equal(parse("# HELP a_total A thing.\n# TYPE a_total "
	    "counter\na_total 3\nb{x=\"1\",y=\"two\"} 4.5\n\n"
	    "c:d 1e3 1700000000000\n  e  -2\n", &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.name[0], "a_total");
	assert_true(g.value[0] == 3);
	assert_int_equal(g.line[0], 3);
	assert_string_equal(g.name[1], "b");
	assert_int_equal(g.nlabels[1], 2);
	assert_string_equal(g.first[1], "1");
	assert_true(g.value[1] == 4.5);
	assert_string_equal(g.name[2], "c:d");
	assert_true(g.value[2] == 1000);
	assert_int_equal(g.line[2], 6);
	assert_true(g.value[3] == -2);
}

static void
test_special_values(void **state)
{
	struct got	g;
	char		err[256];

	(void)state;
	assert_int_equal(parse("a +Inf\nb -Inf\nc NaN\nd{} 0\ne{x=\"\",} 1\n",
	    &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, 5);
	assert_true(isinf(g.value[0]) && g.value[0] > 0);
	assert_true(isinf(g.value[1]) && g.value[1] < 0);
	assert_true(isnan(g.value[2]));
	assert_int_equal(g.nlabels[3], 0);
	assert_int_equal(g.nlabels[4], 1);
}

/* A bad line: -1, "line N: what", and nothing after it taken. */
static void
bad(const char *text, const char *want)
{
	struct got	g;
	char		err[256];

	err[0] = '\0';
	assert_int_equal(parse(text, &g, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", text, err, want);
}

static void
test_bad_lines(void **state)
{
	(void)state;
	bad("a 1", "line 1: cut short");
	bad("a 1\nb 2", "line 2: cut short");
	bad("a 1\nb{x=\"1\"", "line 2: cut short");
	bad("1a 1\n", "line 1: not a metric name");
	bad("a\n", "line 1: no blank before the value");
	bad("a \n", "line 1: no value");
	bad("a x1\n", "line 1: not a number");
	bad("a 1.2.3\n", "line 1: not a number");
	bad("a 0x\n", "line 1: not a number");
	bad("a 1 2 3\n", "line 1: text after the value");
	bad("a 1 x\n", "line 1: text after the value");
	bad("a 1 -\n", "line 1: text after the value");
	bad("a 1 123456789012345678901\n", "text after the value");
	bad("a{x=1} 1\n", "label value not quoted");
	bad("a{x=\"1} 1\n", "label value not closed");
	bad("a{x=\"\\t\"} 1\n", "bad escape");
	bad("a{x=\"\\", "cut short");
	bad("a{x=\"\\\"} 1\n", "label value not closed");
	bad("a{1=\"1\"} 1\n", "not a label name");
	bad("a{x:y=\"1\"} 1\n", "no '=' after a label name");
	bad("a{x=\"1\" y=\"2\"} 1\n", "no ',' or '}'");
	bad("a{x=\"1\",x=\"2\"} 1\n", "label given twice");
	bad("a{a=\"\",b=\"\",c=\"\",d=\"\",e=\"\",f=\"\",g=\"\",h=\"\",i=\"\"} "
	    "1\n", "more than 8 labels");
	bad("a 1\n# ok\nb 1\nc\t\n", "line 4: no value");
	bad("a 12345678901234567890123456789012345678901234567890123456789"
	    "01234\n", "longer than 63 bytes");
	bad("a 1\r\n", "line 1: not a number");
}

static void
test_nul(void **state)
{
	struct got	g;
	char		err[256];
	const char	text[] = "a 1\nb\0 2\n";

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(prom_parse(text, sizeof(text) - 1, collect, &g, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "line 2: holds a NUL byte");
	assert_int_equal(g.n, 1);
}

/* What a bad line shows of itself is quoted, escaped and cut. */
static void
test_excerpt(void **state)
{
	struct got	g;
	char		err[256];

	(void)state;
	assert_int_equal(parse("a \x01\"zz\n", &g, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: not a number at \"\\x01\\\"zz\"");
	assert_int_equal(parse("a{x=\"1\"}} 1 \n", &g, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: no blank before the value at "
	    "\"} 1 \"");
	assert_int_equal(parse("a 1 zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n",
	    &g, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: text after the value at "
	    "\"zzzzzzzzzzzzzzzzzzzzzzzz...\"");
	/* a small err is cut, never overrun */
	assert_int_equal(parse("1\n", &g, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

static void
test_fn_stops(void **state)
{
	struct got	g;
	char		err[256];

	(void)state;
	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	assert_int_equal(prom_parse("a 1\nb 2\nc 3\n", 12, collect, &g, err,
	    sizeof(err)), 7);
	assert_string_equal(err, "stopped");
	assert_int_equal(g.n, 1);
}

static void
test_empty(void **state)
{
	struct got	g;
	char		err[256];

	(void)state;
	assert_int_equal(parse("", &g, err, sizeof(err)), 0);
	assert_int_equal(parse("\n\n# only comments\n", &g, err,
	    sizeof(err)), 0);
	assert_int_equal(g.n, 0);
}

/* prom_label unescapes into the caller's buffer, and only if it fits. */
struct lab {
	int	r;
	char	v[8];
	int	rbig;
	char	big[64];
};

static int
get_label(void *arg, const struct prom_sample *s, char *err, size_t errlen)
{
	struct lab	*l = arg;

	(void)err;
	(void)errlen;
	l->r = prom_label(s, "list", l->v, sizeof(l->v));
	l->rbig = prom_label(s, "list", l->big, sizeof(l->big));
	assert_int_equal(prom_label(s, "none", l->big + 60, 4), 1);
	assert_true(prom_is(s, "m"));
	assert_false(prom_is(s, "mm"));
	assert_false(prom_is(s, ""));
	return 0;
}

static void
test_label(void **state)
{
	struct lab	l;
	char		err[256];
	const char	*t1 = "m{list=\"a\\\\b\\\"c\\nd\"} 1\n";
	const char	*t2 = "m{other=\"x\",list=\"1234567\"} 1\n";
	const char	*t3 = "m{list=\"12345678\"} 1\n";

	(void)state;
	assert_int_equal(prom_parse(t1, strlen(t1), get_label, &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.v, "a\\b\"c\nd");
	assert_int_equal(prom_parse(t2, strlen(t2), get_label, &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.v, "1234567");
	assert_int_equal(prom_parse(t3, strlen(t3), get_label, &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.r, -1);
	assert_string_equal(l.v, "");
	assert_int_equal(l.rbig, 0);
	assert_string_equal(l.big, "12345678");
}

/* What metrics.c writes, promparse reads back: the same names, labels
 * and values. */
static void
test_round_trip(void **state)
{
	static const double bounds[] = { 0.1, 1 };
	const uint64_t counts[] = { 1, 2, 3 };
	struct mlabel	l[2] = { { "list", "spam\"haus\\\n" },
	    { "class", "grey" } };
	struct buf	b = { 0 };
	struct got	g;
	char		err[256];

	(void)state;
	assert_int_equal(metrics_head(&b, "x_total", METRICS_COUNTER,
	    "Help with \\ and\nnewline."), 0);
	assert_int_equal(metrics_sample(&b, "x_total", l, 2, 12345), 0);
	assert_int_equal(metrics_sample(&b, "x_total", NULL, 0, 0.25), 0);
	assert_int_equal(metrics_histogram(&b, "h", NULL, 0, bounds, 2, counts,
	    1.5), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(prom_parse(b.data, b.len, collect, &g, err,
	    sizeof(err)), 0);
	assert_int_equal(g.n, 2 + 5);
	assert_string_equal(g.name[0], "x_total");
	assert_int_equal(g.nlabels[0], 2);
	assert_string_equal(g.first[0], "spam\\\"haus\\\\\\n");
	assert_true(g.value[0] == 12345);
	assert_true(g.value[1] == 0.25);
	assert_string_equal(g.name[2], "h_bucket");
	assert_string_equal(g.first[4], "+Inf");
	assert_true(g.value[4] == 6);
	assert_string_equal(g.name[5], "h_sum");
	assert_true(g.value[5] == 1.5);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_fn_stops),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
