/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for stats: what nfspamdb --stats counts, ranks and reads. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "record.h"
#include "stats.h"

#define NOW	1800000000LL

static struct store_rec
rec(int64_t first, int64_t pass, int64_t expire, int32_t bcount,
    int32_t pcount)
{
	struct store_rec	r = { first, pass, expire, bcount, pcount };

	return r;
}

static void
add(struct dbstats *st, enum store_type t, const char *key,
    struct store_rec r)
{
	dbstats_add(st, t, key, strlen(key), &r);
}

static void
test_counts(void **state)
{
	struct dbstats	st;

	(void)state;
	assert_int_equal(dbstats_init(&st, 10, NOW), 0);
	add(&st, STORE_WHITE, "192.0.2.1", rec(NOW - 100, NOW - 50, NOW + 10,
	    1, 0));
	add(&st, STORE_WHITE, "192.0.2.2", rec(NOW - 100, NOW - 50, NOW,
	    1, 0));	/* expire == now: expired */
	add(&st, STORE_GREY, "192.0.2.3\nh\n<a@b>\n<c@d>", rec(NOW - 9,
	    NOW + 5, NOW + 5, 1, 0));
	dbstats_add(&st, STORE_GREY, "192.0.2.4\nh\n<a@b>\n<c@d>", 23, NULL);
	add(&st, STORE_GREY, "not a tuple", rec(NOW, NOW, NOW, 1, 0));
	add(&st, STORE_TRAPPED, "192.0.2.5", rec(0, 0, NOW - 1, 0, -1));
	add(&st, STORE_SPAMTRAP, "trap@example.com", rec(0, 0, 0, 0, -2));
	dbstats_finish(&st);

	assert_int_equal(st.type[STORE_WHITE].count, 2);
	assert_int_equal(st.type[STORE_WHITE].expired, 1);
	assert_int_equal(st.type[STORE_GREY].count, 3);
	assert_int_equal(st.type[STORE_GREY].unreadable, 2);
	assert_int_equal(st.type[STORE_GREY].expired, 0);
	assert_int_equal(st.greyaddrs, 1);
	assert_int_equal(st.type[STORE_TRAPPED].expired, 1);
	assert_int_equal(st.type[STORE_TRAPPED].undated, 1);
	assert_false(st.type[STORE_TRAPPED].dated);
	/* spamtraps never expire, and have no time */
	assert_int_equal(st.type[STORE_SPAMTRAP].count, 1);
	assert_int_equal(st.type[STORE_SPAMTRAP].expired, 0);
	assert_int_equal(st.type[STORE_SPAMTRAP].undated, 1);
	assert_false(st.type[STORE_SPAMTRAP].dated);
	dbstats_free(&st);
}

static void
test_since(void **state)
{
	struct store_rec	r = rec(100, 200, 300, 1, 0);

	(void)state;
	assert_int_equal(stats_since(STORE_GREY, &r), 100);
	assert_int_equal(stats_since(STORE_WHITE, &r), 200);
	assert_int_equal(stats_since(STORE_TRAPPED, &r), 100);
	assert_int_equal(stats_since(STORE_SPAMTRAP, &r), 0);
	r.pass = 0;	/* made by sync */
	assert_int_equal(stats_since(STORE_WHITE, &r), 100);
}

static void
test_oldest_newest(void **state)
{
	struct dbstats		 st;
	struct stats_type	*g;

	(void)state;
	assert_int_equal(dbstats_init(&st, 0, NOW), 0);
	add(&st, STORE_GREY, "10.0.0.1\nh\nf\nt1", rec(500, 0, NOW + 1, 1, 0));
	add(&st, STORE_GREY, "10.0.0.1\nh\nf\nt2", rec(300, 0, NOW + 1, 1, 0));
	add(&st, STORE_GREY, "10.0.0.2\nh\nf\nt", rec(300, 0, NOW + 1, 1, 0));
	add(&st, STORE_GREY, "10.0.0.3\nh\nf\nt", rec(900, 0, NOW + 1, 1, 0));
	add(&st, STORE_GREY, "10.0.0.4\nh\nf\nt", rec(900, 0, NOW + 1, 1, 0));
	add(&st, STORE_WHITE, "10.0.0.9", rec(1, 700, NOW + 1, 1, 0));
	dbstats_finish(&st);
	g = &st.type[STORE_GREY];
	assert_true(g->dated);
	/* the first met wins a tie */
	assert_string_equal(g->oldest.key, "10.0.0.1\nh\nf\nt2");
	assert_int_equal(g->oldest.keylen, 15);
	assert_int_equal(g->oldest.time, 300);
	assert_string_equal(g->newest.key, "10.0.0.3\nh\nf\nt");
	assert_int_equal(g->newest.time, 900);
	assert_int_equal(st.type[STORE_WHITE].oldest.time, 700);
	/* no top lists asked for: none kept, the counts still made */
	assert_int_equal(st.grey.n, 0);
	assert_int_equal(st.trapped.n, 0);
	assert_int_equal(st.greyaddrs, 4);
	dbstats_free(&st);
}

/* An address's tuples add up; its three-field tuples count as its own. */
static void
test_top_grey(void **state)
{
	struct dbstats	st;

	(void)state;
	assert_int_equal(dbstats_init(&st, 2, NOW), 0);
	add(&st, STORE_GREY, "10.0.0.1\nh\nf\nt1", rec(1, 1, NOW + 1, 3, 0));
	add(&st, STORE_GREY, "10.0.0.1\nh\nf\nt2", rec(1, 1, NOW + 1, 4, 0));
	add(&st, STORE_GREY, "10.0.0.1\nf\nt3", rec(1, 1, NOW + 1, 1, 0));
	add(&st, STORE_GREY, "10.0.0.10\nh\nf\nt", rec(1, 1, NOW + 1, 8, 0));
	add(&st, STORE_GREY, "10.0.0.2\nh\nf\nt", rec(1, 1, NOW + 1, 2, 0));
	add(&st, STORE_GREY, "10.0.0.3\nh\nf\nt", rec(1, 1, NOW + 1, -5, 0));
	dbstats_finish(&st);
	assert_int_equal(st.greyaddrs, 4);
	assert_int_equal(st.grey.n, 2);
	assert_string_equal(st.grey.ent[0].key, "10.0.0.1");
	assert_int_equal(st.grey.ent[0].attempts, 8);
	assert_int_equal(st.grey.ent[0].tuples, 3);
	/* as many attempts: the smaller key first */
	assert_string_equal(st.grey.ent[1].key, "10.0.0.10");
	assert_int_equal(st.grey.ent[1].attempts, 8);
	assert_int_equal(st.grey.ent[1].tuples, 1);
	dbstats_free(&st);
}

static void
test_top_trapped(void **state)
{
	struct dbstats	st;

	(void)state;
	assert_int_equal(dbstats_init(&st, 3, NOW), 0);
	add(&st, STORE_TRAPPED, "10.0.0.1", rec(5, 5, NOW + 60, 1, -1));
	add(&st, STORE_TRAPPED, "10.0.0.2", rec(5, 5, NOW + 70, 9, -1));
	add(&st, STORE_TRAPPED, "10.0.0.3", rec(0, 0, NOW + 80, 0, -1));
	add(&st, STORE_TRAPPED, "10.0.0.4", rec(5, 5, NOW + 90, 9, -1));
	add(&st, STORE_TRAPPED, "10.0.0.5", rec(5, 5, NOW + 99, 2, -1));
	dbstats_add(&st, STORE_TRAPPED, "10.0.0.6", 8, NULL);
	dbstats_finish(&st);
	assert_int_equal(st.trapped.n, 3);
	assert_string_equal(st.trapped.ent[0].key, "10.0.0.2");
	assert_int_equal(st.trapped.ent[0].time, NOW + 70);
	assert_string_equal(st.trapped.ent[1].key, "10.0.0.4");
	assert_string_equal(st.trapped.ent[2].key, "10.0.0.5");
	assert_int_equal(st.trapped.ent[2].attempts, 2);
	assert_int_equal(st.type[STORE_TRAPPED].unreadable, 1);
	dbstats_free(&st);
}

static int
by_rank(const void *a, const void *b)
{
	const struct stats_ent	*x = a, *y = b;

	if (x->attempts != y->attempts)
		return x->attempts > y->attempts ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The heap against sorting everything: the same best, in order. */
static void
test_top_many(void **state)
{
	static struct stats_ent	all[3000];
	struct dbstats		st;
	uint32_t		x = 12345;
	size_t			i, n = sizeof(all) / sizeof(all[0]);

	(void)state;
	assert_int_equal(dbstats_init(&st, 25, NOW), 0);
	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		snprintf(all[i].key, sizeof(all[i].key), "10.%zu.%zu.%zu",
		    i / 65536, i / 256 % 256, i % 256);
		all[i].attempts = (x >> 16) % 50;
		add(&st, STORE_TRAPPED, all[i].key, rec(1, 1, NOW + 1,
		    (int32_t)all[i].attempts, -1));
	}
	dbstats_finish(&st);
	qsort(all, n, sizeof(all[0]), by_rank);
	assert_int_equal(st.trapped.n, 25);
	for (i = 0; i < 25; i++) {
		assert_string_equal(st.trapped.ent[i].key, all[i].key);
		assert_int_equal(st.trapped.ent[i].attempts, all[i].attempts);
	}
	dbstats_free(&st);
}

static void
test_top_bounds(void **state)
{
	struct dbstats	st;

	(void)state;
	assert_int_equal(dbstats_init(&st, STATS_TOP_MAX + 5, NOW), 0);
	assert_int_equal(st.grey.cap, STATS_TOP_MAX);
	dbstats_free(&st);
	dbstats_free(&st);	/* twice is harmless */
}

/* --- the daemon's totals --- */

/* A complete answer, as nfspamd's expose.c writes it, plus extra. */
static void
answer(struct buf *b, const char *extra, const char *skip)
{
	static const char *const lines[] = {
		"# HELP nfspamd_build_info Always 1.",
		"# TYPE nfspamd_build_info gauge",
		"nfspamd_build_info{version=\"1.2.3\"} 1",
		"nfspamd_start_time_seconds 1799990000",
		"nfspamd_workers 1",
		"nfspamd_connections_total{class=\"grey\"} 10",
		"nfspamd_connections_total{class=\"black\"} 20",
		"nfspamd_connections_total{class=\"trapped\"} 30",
		"nfspamd_connections_total{class=\"white\"} 40",
		"nfspamd_connections{class=\"grey\"} 1",
		"nfspamd_connections_refused_total 5",
		"nfspamd_tuples_total{outcome=\"greylisted_new\"} 100",
		"nfspamd_tuples_total{outcome=\"greylisted_again\"} 101",
		"nfspamd_tuples_total{outcome=\"passed\"} 102",
		"nfspamd_tuples_total{outcome=\"trapped_spamtrap\"} 103",
		"nfspamd_tuples_total{outcome=\"trapped_alloweddomains\"} 104",
		"nfspamd_tuples_total{outcome=\"trapped_lowprio_mx\"} 105",
		"nfspamd_tuples_total{outcome=\"skipped\"} 106",
		"nfspamd_tuples_total{outcome=\"capped\"} 107",
		"nfspamd_tuples_total{outcome=\"lost\"} 108",
		"nfspamd_tuples_total{outcome=\"unknown_later\"} 109",
		"nfspamd_db_entries{type=\"grey\"} 3",
	};
	size_t	i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (skip == NULL || strstr(lines[i], skip) == NULL)
			assert_int_equal(buf_printf(b, "%s\n", lines[i]), 0);
	if (extra != NULL)
		assert_int_equal(buf_puts(b, extra), 0);
}

static void
test_totals(void **state)
{
	struct stats_totals	tot;
	struct buf		b = { 0 };
	char			err[256];

	(void)state;
	answer(&b, NULL, NULL);
	assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
	    sizeof(err)), 0);
	assert_string_equal(tot.version, "1.2.3");
	assert_int_equal(tot.v[ST_START], 1799990000);
	assert_int_equal(tot.v[ST_CONN_GREY], 10);
	assert_int_equal(tot.v[ST_CONN_WHITE], 40);
	assert_int_equal(tot.v[ST_CONN_REFUSED], 5);
	assert_int_equal(tot.v[ST_GREY_NEW], 100);
	assert_int_equal(tot.v[ST_LOST], 108);
	assert_int_equal(stats_passed(&tot), 102);
	assert_int_equal(stats_trapped(&tot), 103 + 104 + 105);
	assert_int_equal(stats_uptime(&tot, 1800000000), 10000);
	assert_int_equal(stats_uptime(&tot, 1700000000), 0);
	buf_free(&b);
}

static void
bad_answer(const char *extra, const char *skip, const char *want)
{
	struct stats_totals	tot;
	struct buf		b = { 0 };
	char			err[256];

	answer(&b, extra, skip);
	err[0] = '\0';
	assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
	    sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err, want);
	buf_free(&b);
}

static void
test_totals_refused(void **state)
{
	struct stats_totals	tot;
	char			err[256];

	(void)state;
	bad_answer(NULL, "outcome=\"lost\"",
	    "no nfspamd_tuples_total{outcome=\"lost\"} in the answer");
	bad_answer(NULL, "start_time", "no nfspamd_start_time_seconds");
	bad_answer("nfspamd_connections_total{class=\"grey\"} 11\n", NULL,
	    "line 23: nfspamd_connections_total{class=\"grey\"} given twice");
	bad_answer("nfspamd_connections_refused_total 1\n", NULL,
	    "given twice");
	bad_answer(NULL, "class=\"black\"} 20", "no nfspamd_connections_total"
	    "{class=\"black\"}");
	bad_answer("broken line\n", NULL, "line 23: not a number");
	bad_answer("nfspamd_x 1", NULL, "cut short");

	assert_int_equal(stats_totals_parse("", 0, &tot, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "empty answer");
	assert_int_equal(stats_totals_parse("error: out of memory\n", 21, &tot,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "nfspamd answered \"error: out of memory\"");
	assert_int_equal(stats_totals_parse("error: a\x01\xff\n", 11, &tot, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "nfspamd answered \"error: a??\"");
	assert_int_equal(stats_totals_parse("hello\n", 6, &tot, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "line 1: no blank before the value at the "
	    "end of the line");
}

/* Counts are whole numbers from 0 to 2^53, nothing else. */
static void
test_totals_values(void **state)
{
	static const char *const bad[] = { "-1", "1.5", "NaN", "+Inf",
	    "9007199254740994", "1e300" };
	static const char *const good[] = { "0", "9007199254740992", "1e3",
	    "7.0" };
	struct stats_totals	 tot;
	struct buf		 b = { 0 }, line = { 0 };
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&line);
		buf_printf(&line, "nfspamd_tuples_total{outcome=\"capped\"} "
		    "%s\n", bad[i]);
		buf_reset(&b);
		answer(&b, line.data, "outcome=\"capped\"");
		assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "is not a count"));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		buf_reset(&line);
		buf_printf(&line, "nfspamd_tuples_total{outcome=\"capped\"} "
		    "%s\n", good[i]);
		buf_reset(&b);
		answer(&b, line.data, "outcome=\"capped\"");
		assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(tot.v[ST_CAPPED], 7);
	buf_free(&b);
	buf_free(&line);
}

/* The version label: kept when it fits, left out when it does not. */
static void
test_totals_version(void **state)
{
	struct stats_totals	tot;
	struct buf		b = { 0 };
	char			err[256], line[256];

	(void)state;
	snprintf(line, sizeof(line), "nfspamd_build_info{version=\"%0100d\"} "
	    "1\n", 0);
	answer(&b, line, "version=");
	assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
	    sizeof(err)), 0);
	assert_string_equal(tot.version, "");
	buf_reset(&b);
	answer(&b, "nfspamd_build_info{version=\"a\\\"b\\n\"} 1\n",
	    "version=");
	assert_int_equal(stats_totals_parse(b.data, b.len, &tot, err,
	    sizeof(err)), 0);
	assert_string_equal(tot.version, "a\"b\n");
	buf_free(&b);
}

static void
test_defs(void **state)
{
	int	k;

	(void)state;
	for (k = 0; k < ST_NTOTALS; k++) {
		assert_non_null(stats_total_def((enum stats_total)k));
		assert_non_null(stats_total_def((enum stats_total)k)->name);
	}
	assert_null(stats_total_def(ST_NTOTALS));
	assert_string_equal(stats_total_def(ST_CONN_BLACK)->group,
	    "connections");
	assert_string_equal(stats_total_def(ST_PASSED)->group, "tuples");
	assert_null(stats_total_def(ST_START)->group);
}

static void
test_duration(void **state)
{
	char	b[32];

	(void)state;
	assert_string_equal(stats_duration(b, sizeof(b), -5), "0s");
	assert_string_equal(stats_duration(b, sizeof(b), 0), "0s");
	assert_string_equal(stats_duration(b, sizeof(b), 42), "42s");
	assert_string_equal(stats_duration(b, sizeof(b), 60), "1m");
	assert_string_equal(stats_duration(b, sizeof(b), 303), "5m 3s");
	assert_string_equal(stats_duration(b, sizeof(b), 3600 * 3 + 240),
	    "3h 4m");
	assert_string_equal(stats_duration(b, sizeof(b), 3600 * 3 + 59),
	    "3h");
	assert_string_equal(stats_duration(b, sizeof(b), 86400 * 12 + 3700),
	    "12d 1h");
	assert_string_equal(stats_duration(b, sizeof(b), 86400), "1d");
	assert_string_equal(stats_duration(b, 4, 86400 * 12 + 3700), "12d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_oldest_newest),
		cmocka_unit_test(test_top_grey),
		cmocka_unit_test(test_top_trapped),
		cmocka_unit_test(test_top_many),
		cmocka_unit_test(test_top_bounds),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_totals_refused),
		cmocka_unit_test(test_totals_values),
		cmocka_unit_test(test_totals_version),
		cmocka_unit_test(test_defs),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
