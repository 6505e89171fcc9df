/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for reconcile: store vs kernel set differences.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "reconcile.h"

#define NOW	1700000000

static struct addr
A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	return a;
}

static bool
has(const struct rc_change *c, size_t n, const char *ip, uint64_t timeout)
{
	struct addr a = A(ip);

	for (size_t i = 0; i < n; i++)
		if (addr_eq(&c[i].addr, &a) && c[i].timeout_ms == timeout)
			return true;
	return false;
}

static void
test_empty(void **state)
{
	struct rc_result r;

	(void)state;
	assert_int_equal(reconcile(NULL, 0, NULL, 0, AF_INET, NOW, 60, &r), 0);
	assert_int_equal(r.nadd, 0);
	assert_int_equal(r.ndel, 0);
	reconcile_free(&r);
}

static void
test_diff(void **state)
{
	struct rc_want want[] = {
		{ A("192.0.2.1"), NOW + 3600 },		/* in sync */
		{ A("192.0.2.2"), NOW + 7200 },		/* missing */
		{ A("192.0.2.3"), NOW + 100000 },	/* expiry far off */
		{ A("192.0.2.4"), NOW - 5 },		/* expired: ignored */
		{ A("2001:db8::1"), NOW + 50 },		/* other family */
		{ A("192.0.2.2"), NOW + 60 },		/* duplicate, older */
	};
	struct rc_have have[] = {
		{ A("192.0.2.1"), 3590 * 1000 },	/* within slack */
		{ A("192.0.2.3"), 500 * 1000 },
		{ A("192.0.2.9"), 1000 },		/* not wanted */
		{ A("192.0.2.9"), 1000 },		/* listed twice */
		{ A("2001:db8::2"), 1000 },
	};
	struct rc_result r;

	(void)state;
	assert_int_equal(reconcile(want, 6, have, 5, AF_INET, NOW, 60, &r), 0);
	assert_int_equal(r.nadd, 2);
	assert_true(has(r.add, r.nadd, "192.0.2.2", 7200 * 1000ULL));
	assert_true(has(r.add, r.nadd, "192.0.2.3", 100000 * 1000ULL));
	assert_int_equal(r.ndel, 2);
	assert_true(has(r.del, r.ndel, "192.0.2.3", 0));
	assert_true(has(r.del, r.ndel, "192.0.2.9", 0));
	reconcile_free(&r);

	/* The IPv6 half of the same inputs. */
	assert_int_equal(reconcile(want, 6, have, 5, AF_INET6, NOW, 60, &r),
	    0);
	assert_int_equal(r.nadd, 1);
	assert_true(has(r.add, r.nadd, "2001:db8::1", 50 * 1000ULL));
	assert_int_equal(r.ndel, 1);
	assert_true(has(r.del, r.ndel, "2001:db8::2", 0));
	reconcile_free(&r);
}

static void
test_in_sync_is_quiet(void **state)
{
	enum { N = 2000 };
	struct rc_want *want = calloc(N, sizeof(*want));
	struct rc_have *have = calloc(N, sizeof(*have));
	struct rc_result r;

	(void)state;
	for (int i = 0; i < N; i++) {
		want[i].addr.family = AF_INET;
		want[i].addr.bytes[0] = 10;
		want[i].addr.bytes[2] = (uint8_t)(i >> 8);
		want[i].addr.bytes[3] = (uint8_t)i;
		want[i].expire = NOW + 1000 + i;
		/* The kernel lists them in reverse, a little behind. */
		have[N - 1 - i].addr = want[i].addr;
		have[N - 1 - i].left_ms = (uint64_t)(1000 + i - 2) * 1000;
	}
	assert_int_equal(reconcile(want, N, have, N, AF_INET, NOW, 60, &r), 0);
	assert_int_equal(r.nadd, 0);
	assert_int_equal(r.ndel, 0);
	reconcile_free(&r);
	free(want);
	free(have);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_in_sync_is_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
