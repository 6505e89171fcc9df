/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for syncpace: when a worker's fsync thread syncs. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "syncpace.h"

#define MS	1000000ULL

static const struct syncpace_conf C = {
	.gap = 1 * MS, .poll = MS / 10, .stale = 100 * MS
};

static enum syncpace_act
next(uint64_t started, uint64_t covered, uint64_t commit, uint64_t now,
    uint64_t *until)
{
	struct syncpace_view v = { started, covered };

	*until = 0;
	return syncpace_next(&v, &C, commit, now, until);
}

/* Idle: the first commit syncs at once, no gap to wait out. */
static void
test_idle_starts_at_once(void **state)
{
	uint64_t u;

	(void)state;
	assert_int_equal(next(0, 0, 1000 * MS, 1000 * MS + 5, &u),
	    SYNCPACE_START);
	assert_int_equal(next(10 * MS, 10 * MS, 1000 * MS, 1000 * MS + 5, &u),
	    SYNCPACE_START);
}

/* Covered only by an fsync that began strictly after the commit. */
static void
test_covered(void **state)
{
	uint64_t u;

	(void)state;
	assert_int_equal(next(50 * MS, 50 * MS, 40 * MS, 51 * MS, &u),
	    SYNCPACE_COVERED);
	assert_int_equal(next(50 * MS, 50 * MS, 50 * MS, 51 * MS, &u),
	    SYNCPACE_START);
	assert_int_equal(next(50 * MS, 50 * MS, 50 * MS, 50 * MS + 10, &u),
	    SYNCPACE_WAIT);
	assert_int_equal(u, 51 * MS);
}

/* Another worker's fsync, begun after our commit: wait for it. */
static void
test_waits_for_another(void **state)
{
	uint64_t u;

	(void)state;
	assert_int_equal(next(50 * MS, 40 * MS, 45 * MS, 52 * MS, &u),
	    SYNCPACE_WAIT);
	assert_int_equal(u, 52 * MS + MS / 10);
	/* Its start read after our clock: still the other's, not stale. */
	assert_int_equal(next(50 * MS, 40 * MS, 45 * MS, 49 * MS, &u),
	    SYNCPACE_WAIT);
	assert_int_equal(u, 49 * MS + MS / 10);
}

/* Begun before our commit: it may miss it; our own after the gap. */
static void
test_running_before_commit(void **state)
{
	uint64_t u;

	(void)state;
	assert_int_equal(next(50 * MS, 40 * MS, 50 * MS + 200, 50 * MS + 300,
	    &u), SYNCPACE_WAIT);
	assert_int_equal(u, 51 * MS);
	assert_int_equal(next(50 * MS, 40 * MS, 50 * MS + 200, 51 * MS, &u),
	    SYNCPACE_START);
}

/* An fsync that never completed (its worker killed) is not waited on. */
static void
test_stale(void **state)
{
	uint64_t u;

	(void)state;
	assert_int_equal(next(50 * MS, 40 * MS, 45 * MS, 149 * MS, &u),
	    SYNCPACE_WAIT);
	assert_int_equal(next(50 * MS, 40 * MS, 45 * MS, 150 * MS, &u),
	    SYNCPACE_START);
}

/* However many commits come, starts are a gap apart. */
static void
test_gap_bounds_rate(void **state)
{
	struct syncpace_view v = { 0, 0 };
	uint64_t now = 1000 * MS, end = now + 100 * MS, u, starts = 0;

	(void)state;
	/* A commit every 50 us; each fsync takes 200 us. */
	for (; now < end; now += 50000) {
		uint64_t commit = now - 1;

		if (v.started > v.covered && now >= v.started + 200000)
			v.covered = v.started;
		if (syncpace_next(&v, &C, commit, now, &u) == SYNCPACE_START) {
			assert_true(v.started == 0 ||
			    now >= v.started + C.gap);
			v.started = now;
			starts++;
		}
	}
	assert_in_range(starts, 99, 101);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_starts_at_once),
		cmocka_unit_test(test_covered),
		cmocka_unit_test(test_waits_for_another),
		cmocka_unit_test(test_running_before_commit),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_gap_bounds_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
