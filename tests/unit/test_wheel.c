/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for wheel: scheduling, cancelling, the order nodes expire
 * in, wrapping around the slots, and many nodes in one slot.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "wheel.h"

#define TICK	10
#define T0	5000

static struct wheel *
mkwheel(void)
{
	struct wheel *wh = calloc(1, sizeof(*wh));

	assert_non_null(wh);
	wheel_init(wh, T0, TICK);
	return wh;
}

static void
test_schedule(void **state)
{
	struct wheel *wh = mkwheel();
	struct wheel_node a = { 0 }, b = { 0 };

	(void)state;
	assert_false(wheel_queued(&a));
	wheel_add(wh, &a, 25);		/* rounded up: 3 ticks */
	wheel_add(wh, &b, 0);		/* at least one tick */
	assert_true(wheel_queued(&a));
	assert_null(wheel_expire(wh, T0));
	assert_null(wheel_expire(wh, T0 + TICK - 1));
	assert_ptr_equal(wheel_expire(wh, T0 + TICK), &b);
	assert_false(wheel_queued(&b));
	assert_null(wheel_expire(wh, T0 + 2 * TICK + 9));
	assert_ptr_equal(wheel_expire(wh, T0 + 3 * TICK), &a);
	assert_false(wheel_queued(&a));
	assert_null(wheel_expire(wh, T0 + 100 * TICK));
	free(wh);
}

static void
test_cancel(void **state)
{
	struct wheel *wh = mkwheel();
	struct wheel_node n[3] = { { 0 } };

	(void)state;
	for (int i = 0; i < 3; i++)
		wheel_add(wh, &n[i], TICK);
	wheel_remove(&n[1]);		/* middle */
	wheel_remove(&n[1]);		/* twice: nothing */
	assert_false(wheel_queued(&n[1]));
	wheel_remove(&n[2]);		/* head */
	assert_ptr_equal(wheel_expire(wh, T0 + TICK), &n[0]);
	assert_null(wheel_expire(wh, T0 + TICK));
	/* Adding again moves a node, it does not queue it twice. */
	wheel_add(wh, &n[0], TICK);
	wheel_add(wh, &n[0], 5 * TICK);
	assert_null(wheel_expire(wh, T0 + 5 * TICK));
	assert_ptr_equal(wheel_expire(wh, T0 + 6 * TICK), &n[0]);
	assert_null(wheel_expire(wh, T0 + 6 * TICK));
	free(wh);
}

static void
test_order(void **state)
{
	struct wheel *wh = mkwheel();
	struct wheel_node n[4] = { { 0 } };

	(void)state;
	wheel_add(wh, &n[0], 4 * TICK);
	wheel_add(wh, &n[1], 2 * TICK);
	wheel_add(wh, &n[2], 3 * TICK);
	wheel_add(wh, &n[3], 1 * TICK);
	/* Late: everything overdue comes out, earliest slot first. */
	assert_ptr_equal(wheel_expire(wh, T0 + 50 * TICK), &n[3]);
	assert_ptr_equal(wheel_expire(wh, T0 + 50 * TICK), &n[1]);
	/* Added while expiring: the next slot, newest first. */
	wheel_add(wh, &n[1], 0);
	assert_ptr_equal(wheel_expire(wh, T0 + 50 * TICK), &n[1]);
	assert_ptr_equal(wheel_expire(wh, T0 + 50 * TICK), &n[2]);
	assert_ptr_equal(wheel_expire(wh, T0 + 50 * TICK), &n[0]);
	assert_null(wheel_expire(wh, T0 + 50 * TICK));
	free(wh);
}

static void
test_wrap(void **state)
{
	struct wheel *wh = mkwheel();
	struct wheel_node a = { 0 }, b = { 0 };
	uint64_t t = T0 + (WHEEL_SLOTS - 2) * TICK;

	(void)state;
	assert_null(wheel_expire(wh, t));
	assert_int_equal(wh->cur, WHEEL_SLOTS - 2);
	wheel_add(wh, &a, 5 * TICK);	/* past the end: slot 3 */
	assert_null(wheel_expire(wh, t + 4 * TICK));
	assert_ptr_equal(wheel_expire(wh, t + 5 * TICK), &a);
	assert_int_equal(wh->cur, 3);
	/* The longest delay is one slot short of a full turn. */
	t += 5 * TICK;
	wheel_add(wh, &b, 100000 * TICK);
	assert_null(wheel_expire(wh, t + (WHEEL_SLOTS - 2) * TICK));
	assert_ptr_equal(wheel_expire(wh, t + (WHEEL_SLOTS - 1) * TICK), &b);
	free(wh);
}

static void
test_many(void **state)
{
	struct wheel *wh = mkwheel();
	enum { N = 10000 };
	struct wheel_node *n = calloc(N, sizeof(*n));

	(void)state;
	assert_non_null(n);
	for (int i = 0; i < N; i++)
		wheel_add(wh, &n[i], 7 * TICK);
	for (int i = 0; i < N; i += 2)
		wheel_remove(&n[i]);
	assert_null(wheel_expire(wh, T0 + 6 * TICK));
	/* One slot: newest first. */
	for (int i = N - 1; i >= 0; i -= 2)
		assert_ptr_equal(wheel_expire(wh, T0 + 7 * TICK), &n[i]);
	assert_null(wheel_expire(wh, T0 + 7 * TICK));
	for (int i = 0; i < N; i++)
		assert_false(wheel_queued(&n[i]));
	free(n);
	free(wh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
