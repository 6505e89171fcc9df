/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for replay: the bounded set of digests with expiry. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "replay.h"

/* Spread-out digests, as HMAC bytes are. */
static uint64_t
D(uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ULL;

	return x ^ x >> 31;
}

static void
test_seen(void **state)
{
	struct replay *r = replay_new(100000);

	(void)state;
	assert_non_null(r);
	assert_false(replay_seen(r, D(1), 100, 0));
	assert_true(replay_seen(r, D(1), 100, 0));
	assert_false(replay_seen(r, D(2), 50, 0));
	assert_int_equal(replay_count(r), 2);
	/* Until its time has passed. */
	assert_true(replay_seen(r, D(2), 50, 50));
	assert_false(replay_seen(r, D(3), 200, 51));
	/* D(1) came first and lives longer: the oldest goes first only
	   when its own time has passed, so D(2) waits behind it. */
	assert_int_equal(replay_count(r), 3);
	assert_false(replay_seen(r, D(4), 300, 101));
	assert_int_equal(replay_count(r), 2);
	assert_false(replay_seen(r, D(1), 300, 101));
	assert_false(replay_seen(r, D(2), 300, 101));
	assert_int_equal(replay_forgotten_early(r), 0);
	replay_free(r);
}

/* Many entries: growth, collisions, deletion in the middle of runs. */
static void
test_many(void **state)
{
	struct replay *r = replay_new(1 << 20);
	const uint64_t n = 50000;

	(void)state;
	assert_non_null(r);
	for (uint64_t i = 0; i < n; i++)
		assert_false(replay_seen(r, D(i), (int64_t)i, 0));
	for (uint64_t i = 0; i < n; i++)
		assert_true(replay_seen(r, D(i), (int64_t)i, 0));
	assert_int_equal(replay_count(r), n);
	/* Expire the first half, then everything is exact again. */
	assert_false(replay_seen(r, D(n), (int64_t)n, (int64_t)n / 2));
	assert_int_equal(replay_count(r), n / 2 + 1);
	for (uint64_t i = n / 2; i <= n; i++)
		assert_true(replay_seen(r, D(i), 0, (int64_t)n / 2));
	for (uint64_t i = 0; i < n / 2; i++)
		assert_false(replay_seen(r, D(i), (int64_t)n * 2,
		    (int64_t)n / 2));
	assert_int_equal(replay_count(r), n + 1);
	assert_int_equal(replay_forgotten_early(r), 0);
	replay_free(r);
}

/* At max, the oldest is forgotten early, and counted. */
static void
test_full(void **state)
{
	struct replay *r = replay_new(1000);

	(void)state;
	assert_non_null(r);
	for (uint64_t i = 0; i < 1500; i++)
		assert_false(replay_seen(r, D(i), 1000000, 0));
	assert_int_equal(replay_count(r), 1000);
	assert_int_equal(replay_forgotten_early(r), 500);
	assert_true(replay_seen(r, D(1499), 1000000, 0));
	assert_true(replay_seen(r, D(500), 1000000, 0));
	/* Forgotten, so new again (and another one goes). */
	assert_false(replay_seen(r, D(0), 1000000, 0));
	assert_int_equal(replay_forgotten_early(r), 501);
	assert_false(replay_seen(r, D(500), 1000000, 0));
	replay_free(r);
}

/* Equal low bits: every digest in one probe run. */
static void
test_one_run(void **state)
{
	struct replay *r = replay_new(64);

	(void)state;
	assert_non_null(r);
	for (uint64_t i = 0; i < 64; i++)
		assert_false(replay_seen(r, i << 40, (int64_t)i, 0));
	/* Drop from the front of the run; the rest must still be found. */
	assert_false(replay_seen(r, 1ULL << 63, 1000, 32));
	for (uint64_t i = 32; i < 64; i++)
		assert_true(replay_seen(r, i << 40, 0, 32));
	for (uint64_t i = 0; i < 32; i++)
		assert_false(replay_seen(r, i << 40, 0, 32));
	replay_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_one_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
