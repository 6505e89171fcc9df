/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * grey: the greylisting rules as timelines.  Each rule runs with an
 * injected clock (a local now that the test advances), once with spamd's
 * defaults and once with a short configuration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "grey.h"

#define T0	INT64_C(1700000000)

static struct grey_conf conf_def = {
	25 * 60, 4 * 3600, 864 * 3600, 24 * 3600, GREY_MAXTUPLES, GREY_NET4,
	GREY_NET6
};
static struct grey_conf conf_short = {
	60, 300, 3600, 600, 0, GREY_NET4, GREY_NET6
};

#define assert_rec(r, f, p, e, b, c) \
	check_rec(&(r), (f), (p), (e), (b), (c), __FILE__, __LINE__)

static void
check_rec(const struct store_rec *r, int64_t first, int64_t pass,
    int64_t expire, int32_t bcount, int32_t pcount, const char *file,
    int line)
{
	_assert_int_equal(cast_to_largest_integral_type(r->first),
	    cast_to_largest_integral_type(first), file, line);
	_assert_int_equal(cast_to_largest_integral_type(r->pass),
	    cast_to_largest_integral_type(pass), file, line);
	_assert_int_equal(cast_to_largest_integral_type(r->expire),
	    cast_to_largest_integral_type(expire), file, line);
	_assert_int_equal(cast_to_largest_integral_type(r->bcount),
	    cast_to_largest_integral_type(bcount), file, line);
	_assert_int_equal(cast_to_largest_integral_type(r->pcount),
	    cast_to_largest_integral_type(pcount), file, line);
}

static struct store_rec
mkrec(int64_t first, int64_t pass, int64_t expire, int32_t bcount,
    int32_t pcount)
{
	struct store_rec	r;

	r.first = first;
	r.pass = pass;
	r.expire = expire;
	r.bcount = bcount;
	r.pcount = pcount;
	return r;
}

/* A record no function should produce, to see that out is untouched. */
static void
poison(struct store_rec *r)
{
	memset(r, 0xa5, sizeof(*r));
}

static void
assert_poisoned(const struct store_rec *r)
{
	struct store_rec	p;

	poison(&p);
	assert_memory_equal(r, &p, sizeof(p));
}

/* ---- configuration ---- */

static void
test_conf_default(void **state)
{
	struct grey_conf	c;

	(void)state;
	memset(&c, 0, sizeof(c));
	grey_conf_default(&c);
	assert_int_equal(c.passtime, 1500);
	assert_int_equal(c.greyexp, 14400);
	assert_int_equal(c.whiteexp, 3110400);
	assert_int_equal(c.trapexp, 86400);
	assert_memory_equal(&c, &conf_def, sizeof(c));
}

/* ---- tuples ---- */

static void
test_tuple_new(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r;
	int64_t			 now = T0;

	poison(&r);
	grey_tuple(c, NULL, now, &r);
	assert_rec(r, T0, T0 + c->greyexp, T0 + c->greyexp, 1, 0);
	assert_false(grey_passed(&r, now));
	/* Not passed anywhere in its life. */
	now = T0 + c->greyexp - 1;
	assert_false(grey_passed(&r, now));
	now = T0 + c->greyexp;
	assert_false(grey_passed(&r, now));
}

static void
test_tuple_retry_before_passtime(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0;

	grey_tuple(c, NULL, now, &r);
	now += 1;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, T0, T0 + c->greyexp, T0 + c->greyexp, 2, 0);
	assert_false(grey_passed(&r2, now));

	now = T0 + c->passtime / 2;
	grey_tuple(c, &r2, now, &r);
	assert_rec(r, T0, T0 + c->greyexp, T0 + c->greyexp, 3, 0);
	assert_false(grey_passed(&r, now));

	now = T0 + c->passtime - 1;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, T0, T0 + c->greyexp, T0 + c->greyexp, 4, 0);
	assert_false(grey_passed(&r2, now));
}

static void
test_tuple_retry_at_passtime(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0;

	grey_tuple(c, NULL, now, &r);
	/* spamd tests first + passtime < now: equal is not enough. */
	now = T0 + c->passtime;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, T0, T0 + c->greyexp, T0 + c->greyexp, 2, 0);
	assert_false(grey_passed(&r2, now));

	now++;
	grey_tuple(c, &r2, now, &r);
	assert_rec(r, T0, now, T0 + c->greyexp, 3, 0);
	assert_true(grey_passed(&r, now));
}

static void
test_tuple_retry_after_passtime(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0, passed;

	grey_tuple(c, NULL, now, &r);
	now = T0 + c->passtime + 30;
	grey_tuple(c, &r, now, &r2);
	passed = now;
	assert_rec(r2, T0, passed, T0 + c->greyexp, 2, 0);
	assert_true(grey_passed(&r2, now));
	assert_false(grey_passed(&r2, now - 1));

	/* A later retry moves pass to its own time. */
	now += 10;
	grey_tuple(c, &r2, now, &r);
	assert_rec(r, T0, now, T0 + c->greyexp, 3, 0);
	assert_true(grey_passed(&r, now));

	/* pcount is always reset on a tuple. */
	r.pcount = 7;
	now += 10;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, T0, now, T0 + c->greyexp, 4, 0);
}

static void
test_tuple_expire_not_extended(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0, step = c->greyexp / 10;
	int32_t			 n = 1;

	grey_tuple(c, NULL, now, &r);
	for (now = T0 + step; now < T0 + c->greyexp; now += step) {
		grey_tuple(c, &r, now, &r2);
		r = r2;
		n++;
		assert_int_equal(r.expire, T0 + c->greyexp);
		assert_int_equal(r.first, T0);
		assert_int_equal(r.bcount, n);
	}
	now = T0 + c->greyexp - 1;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, T0, now, T0 + c->greyexp, n + 1, 0);
	assert_true(grey_passed(&r2, now));
	/* Its pass ends with the tuple's first greyexp. */
	now = T0 + c->greyexp;
	assert_false(grey_passed(&r2, now));
}

static void
test_tuple_after_expiry(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0;

	grey_tuple(c, NULL, now, &r);
	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	r = r2;

	/* At expire the record counts as absent: a new tuple. */
	now = T0 + c->greyexp;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, now, now + c->greyexp, now + c->greyexp, 1, 0);
	assert_false(grey_passed(&r2, now));

	now = T0 + c->greyexp + 1000;
	grey_tuple(c, &r, now, &r2);
	assert_rec(r2, now, now + c->greyexp, now + c->greyexp, 1, 0);
}

static void
test_passed(void **state)
{
	struct store_rec	r;
	int64_t			now = T0;

	(void)state;
	r = mkrec(T0 - 100, now, now + 1, 1, 0);
	assert_true(grey_passed(&r, now));
	r = mkrec(T0 - 100, now + 1, now + 10, 1, 0);
	assert_false(grey_passed(&r, now));
	r = mkrec(T0 - 100, now - 10, now, 1, 0);
	assert_false(grey_passed(&r, now));
	r = mkrec(T0 - 100, now - 10, now + 10, 1, 5);
	assert_true(grey_passed(&r, now));
	r = mkrec(T0 - 100, now - 10, now + 10, 1, -1);
	assert_false(grey_passed(&r, now));
	r = mkrec(T0 - 100, 0, 0, 1, -2);
	assert_false(grey_passed(&r, now));
}

static void
test_white_from_tuple(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 t, w;
	int64_t			 now = T0;

	t = mkrec(T0 - c->passtime - 5, T0 - 3, T0 + 77, 4, 0);
	poison(&w);
	grey_white_from_tuple(c, &t, now, &w);
	assert_rec(w, T0 - c->passtime - 5, T0 - 3, now + c->whiteexp, 4, 0);
	/* The tuple itself is left alone. */
	assert_rec(t, T0 - c->passtime - 5, T0 - 3, T0 + 77, 4, 0);
}

/* ---- traps ---- */

static void
test_trap_new(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r;
	int64_t			 now = T0;

	poison(&r);
	grey_trap(c, NULL, now, &r);
	assert_rec(r, T0, T0 + c->trapexp, T0 + c->trapexp, 1, -1);
	assert_false(grey_passed(&r, now));
}

static void
test_trap_existing(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0;

	grey_trap(c, NULL, now, &r);
	now = T0 + c->passtime;
	grey_trap(c, &r, now, &r2);
	assert_rec(r2, T0, T0 + c->trapexp, T0 + c->trapexp, 2, -1);

	now++;
	grey_trap(c, &r2, now, &r);
	assert_rec(r, T0, now, T0 + c->trapexp, 3, -1);
	assert_false(grey_passed(&r, now));

	now = T0 + c->trapexp - 1;
	grey_trap(c, &r, now, &r2);
	assert_rec(r2, T0, now, T0 + c->trapexp, 4, -1);

	/* Expired: a fresh trap. */
	now = T0 + c->trapexp;
	grey_trap(c, &r2, now, &r);
	assert_rec(r, now, now + c->trapexp, now + c->trapexp, 1, -1);
}

static void
test_trap_on_white(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 w, r;
	int64_t			 now = T0;

	/* A white entry made from a tuple that passed a while ago. */
	w = mkrec(T0 - 3600, T0 - 1000, T0 - 1000 + c->whiteexp, 3, 2);
	grey_trap(c, &w, now, &r);
	assert_rec(r, T0 - 3600, now, T0 - 1000 + c->whiteexp, 4, -1);

	/* Young white entry: first + passtime not yet past, pass stays. */
	w = mkrec(T0, T0, T0 + c->whiteexp, 1, 0);
	now = T0 + c->passtime;
	grey_trap(c, &w, now, &r);
	assert_rec(r, T0, T0, T0 + c->whiteexp, 2, -1);

	/* Expired white: treated as a new trap. */
	w = mkrec(T0 - 10, T0 - 10, T0, 5, 3);
	now = T0;
	grey_trap(c, &w, now, &r);
	assert_rec(r, T0, T0 + c->trapexp, T0 + c->trapexp, 1, -1);
}

/* ---- spamlogd ---- */

static void
test_logd_new(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r;
	int64_t			 now = T0;

	poison(&r);
	grey_logd(c->whiteexp, NULL, 1, now, &r);
	assert_rec(r, T0, T0, T0 + c->whiteexp, 1, 0);
	assert_true(grey_passed(&r, now));
}

static void
test_logd_existing(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2;
	int64_t			 now = T0;

	grey_logd(c->whiteexp, NULL, 1, now, &r);
	now += 600;
	grey_logd(c->whiteexp, &r, 1, now, &r2);
	assert_rec(r2, T0, T0, now + c->whiteexp, 1, 1);

	now += c->whiteexp / 2;
	grey_logd(c->whiteexp, &r2, 1, now, &r);
	assert_rec(r, T0, T0, now + c->whiteexp, 1, 2);

	/* spamlogd does not look at expiry: still pcount++. */
	now = r.expire + 5;
	grey_logd(c->whiteexp, &r, 1, now, &r2);
	assert_rec(r2, T0, T0, now + c->whiteexp, 1, 3);
}

static void
test_logd_trapped(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 t, r;
	int64_t			 now = T0;

	grey_trap(c, NULL, now, &t);
	now += 60;
	grey_logd(c->whiteexp, &t, 1, now, &r);
	assert_rec(r, T0, T0 + c->trapexp, now + c->whiteexp, 1, 0);
	assert_false(grey_passed(&r, now));
	now = T0 + c->trapexp;
	assert_true(grey_passed(&r, now));
}

/* nfspamlogd merges a burst: n events count as n of spamlogd's. */
static void
test_logd_merged(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 one, many, t, r;
	int64_t			 now = T0;

	grey_logd(c->whiteexp, NULL, 1, now, &one);
	for (int i = 1; i < 5; i++)
		grey_logd(c->whiteexp, &one, 1, now, &one);
	grey_logd(c->whiteexp, NULL, 5, now, &many);
	assert_memory_equal(&one, &many, sizeof(one));
	assert_rec(many, T0, T0, T0 + c->whiteexp, 1, 4);

	grey_logd(c->whiteexp, &many, 3, now + 9, &r);
	assert_rec(r, T0, T0, now + 9 + c->whiteexp, 1, 7);

	/* A trapped host seen three times: -1 + 3. */
	grey_trap(c, NULL, now, &t);
	grey_logd(c->whiteexp, &t, 3, now, &r);
	assert_int_equal(r.pcount, 2);

	/* pcount stops at the top. */
	many.pcount = INT32_MAX - 2;
	grey_logd(c->whiteexp, &many, UINT32_MAX, now, &r);
	assert_int_equal(r.pcount, INT32_MAX);
	grey_logd(c->whiteexp, NULL, UINT32_MAX, now, &r);
	assert_int_equal(r.pcount, INT32_MAX);
}

/* ---- sync (twupdate) ---- */

static void
test_sync_new(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r;
	enum store_type		 type;
	int64_t			 now = T0;

	type = STORE_GREY;
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now + c->whiteexp, NULL,
	    now, &r, &type), 0);
	assert_rec(r, T0, 0, T0 + c->whiteexp, 0, 0);
	assert_int_equal(type, STORE_WHITE);
	assert_true(grey_passed(&r, now));

	type = STORE_GREY;
	assert_int_equal(grey_sync(GREY_SYNC_TRAP, now + c->trapexp, NULL,
	    now, &r, &type), 0);
	assert_rec(r, T0, 0, T0 + c->trapexp, 0, -1);
	assert_int_equal(type, STORE_TRAPPED);

	/* expire == now is still accepted. */
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now, NULL, now, &r,
	    &type), 0);
	assert_rec(r, T0, 0, T0, 0, 0);
	assert_int_equal(type, STORE_WHITE);
}

static void
test_sync_existing(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 w, r, r2;
	enum store_type		 type;
	int64_t			 now = T0;

	w = mkrec(T0 - 500, T0 - 400, T0 + 1000, 2, 1);

	/* White: pcount++, expire stays even if the peer's is later. */
	now += 10;
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now + c->whiteexp, &w,
	    now, &r, &type), 0);
	assert_rec(r, T0 - 500, T0 - 400, T0 + 1000, 2, 2);
	assert_int_equal(type, STORE_WHITE);

	/* Trap on a white entry: pcount -1, bcount++, expire stays. */
	assert_int_equal(grey_sync(GREY_SYNC_TRAP, now + c->trapexp, &r,
	    now, &r2, &type), 0);
	assert_rec(r2, T0 - 500, T0 - 400, T0 + 1000, 3, -1);
	assert_int_equal(type, STORE_TRAPPED);

	/* Trap on a trapped entry. */
	assert_int_equal(grey_sync(GREY_SYNC_TRAP, now + c->trapexp, &r2,
	    now, &r, &type), 0);
	assert_rec(r, T0 - 500, T0 - 400, T0 + 1000, 4, -1);
	assert_int_equal(type, STORE_TRAPPED);

	/* White on a trapped entry: pcount -1 + 1 = 0, so it turns white. */
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now + c->whiteexp, &r,
	    now, &r2, &type), 0);
	assert_rec(r2, T0 - 500, T0 - 400, T0 + 1000, 4, 0);
	assert_int_equal(type, STORE_WHITE);

	/* The type follows pcount: -2 + 1 is still negative. */
	w = mkrec(T0, 0, 0, 0, -2);
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now + 1, &w, now, &r,
	    &type), 0);
	assert_rec(r, T0, 0, 0, 0, -1);
	assert_int_equal(type, STORE_TRAPPED);

	/* An existing record is used as given, even if expired. */
	w = mkrec(T0 - 900, T0 - 800, T0 - 1, 1, 0);
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now + 60, &w, now, &r,
	    &type), 0);
	assert_rec(r, T0 - 900, T0 - 800, T0 - 1, 1, 1);
}

static void
test_sync_expired(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 w, r;
	enum store_type		 type;
	int64_t			 now = T0 + c->greyexp;

	poison(&r);
	type = STORE_SPAMTRAP;
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, now - 1, NULL, now, &r,
	    &type), -1);
	assert_poisoned(&r);
	assert_int_equal(type, STORE_SPAMTRAP);

	assert_int_equal(grey_sync(GREY_SYNC_TRAP, now - 1, NULL, now, &r,
	    &type), -1);
	assert_poisoned(&r);
	assert_int_equal(type, STORE_SPAMTRAP);

	w = mkrec(T0, T0, now + 100, 1, 0);
	assert_int_equal(grey_sync(GREY_SYNC_TRAP, 0, &w, now, &r, &type), -1);
	assert_poisoned(&r);
	assert_int_equal(type, STORE_SPAMTRAP);
}

/* ---- spamdb -a ---- */

static void
test_dbadd_new(void **state)
{
	struct store_rec	r;
	int64_t			now = T0;

	(void)state;
	poison(&r);
	assert_int_equal(grey_dbadd(STORE_WHITE, NULL, now, &r), 0);
	assert_rec(r, T0, T0, T0 + 864 * 3600, 1, 0);

	poison(&r);
	assert_int_equal(grey_dbadd(STORE_TRAPPED, NULL, now, &r), 0);
	assert_rec(r, T0, 0, T0 + 24 * 3600, 1, -1);

	poison(&r);
	assert_int_equal(grey_dbadd(STORE_SPAMTRAP, NULL, now, &r), 0);
	assert_rec(r, T0, 0, 0, 1, -2);
}

static void
test_dbadd_existing(void **state)
{
	struct store_rec	old, r;
	int64_t			now = T0;

	(void)state;
	old = mkrec(T0 - 5000, T0 - 4000, T0 + 100, 6, 2);
	assert_int_equal(grey_dbadd(STORE_WHITE, &old, now, &r), 0);
	assert_rec(r, T0 - 5000, T0, T0 + 864 * 3600, 6, 3);

	assert_int_equal(grey_dbadd(STORE_TRAPPED, &old, now, &r), 0);
	assert_rec(r, T0 - 5000, T0 - 4000, T0 + 24 * 3600, 6, -1);

	assert_int_equal(grey_dbadd(STORE_SPAMTRAP, &old, now, &r), 0);
	assert_rec(r, T0 - 5000, T0 - 4000, 0, 6, -2);

	/* A trapped entry made white: pcount -1 + 1 = 0. */
	old = mkrec(T0 - 5000, T0 - 4000, T0 + 100, 6, -1);
	now += 30;
	assert_int_equal(grey_dbadd(STORE_WHITE, &old, now, &r), 0);
	assert_rec(r, T0 - 5000, now, now + 864 * 3600, 6, 0);

	/* spamdb ignores expiry too. */
	old = mkrec(T0 - 5000, T0 - 4000, T0 - 1, 6, -1);
	assert_int_equal(grey_dbadd(STORE_TRAPPED, &old, now, &r), 0);
	assert_rec(r, T0 - 5000, T0 - 4000, now + 24 * 3600, 6, -1);
}

static void
test_dbadd_grey(void **state)
{
	struct store_rec	old, r;

	(void)state;
	poison(&r);
	assert_int_equal(grey_dbadd(STORE_GREY, NULL, T0, &r), -1);
	assert_poisoned(&r);
	old = mkrec(T0 - 10, T0 + 100, T0 + 100, 1, 0);
	assert_int_equal(grey_dbadd(STORE_GREY, &old, T0, &r), -1);
	assert_poisoned(&r);
	assert_int_equal(grey_dbadd(STORE_NTYPES, NULL, T0, &r), -1);
	assert_poisoned(&r);
}

/* ---- the scan ---- */

static const struct grey_scan_in scan_grey_ok = {
	.type = STORE_GREY, .addr_ok = true,
};
static const struct grey_scan_in scan_white_ok = {
	.type = STORE_WHITE, .addr_ok = true, .have_white = true,
};
static const struct grey_scan_in scan_trapped_ok = {
	.type = STORE_TRAPPED, .addr_ok = true, .trapped = true,
};

/* Scan, and check that *white is written only when make_white says so. */
static enum grey_scan_action
scan(const struct grey_conf *c, const struct grey_scan_in *in,
    const struct store_rec *rec, int64_t now, bool *mw,
    struct store_rec *white)
{
	enum grey_scan_action	a;

	*mw = true;
	poison(white);
	a = grey_scan(c, in, rec, now, mw, white);
	if (!*mw)
		assert_poisoned(white);
	return a;
}

static void
test_scan_expired(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, w;
	int64_t			 now = T0;
	bool			 mw;

	/* A passed tuple at its expire. */
	r = mkrec(T0 - c->greyexp, T0 - 10, T0, 2, 0);
	assert_int_equal(scan(c, &scan_grey_ok, &r, now, &mw, &w),
	    GREY_SCAN_DELETE);
	assert_false(mw);

	r = mkrec(T0 - c->whiteexp, T0 - c->whiteexp, T0 - 1, 1, 4);
	assert_int_equal(scan(c, &scan_white_ok, &r, now, &mw, &w),
	    GREY_SCAN_DELETE);
	assert_false(mw);

	r = mkrec(T0 - c->trapexp, T0, T0, 1, -1);
	assert_int_equal(scan(c, &scan_trapped_ok, &r, now, &mw, &w),
	    GREY_SCAN_DELETE);
	assert_false(mw);
}

static void
test_scan_spamtrap(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = { .type = STORE_SPAMTRAP };
	struct store_rec	 r, w;
	bool			 mw;

	assert_int_equal(grey_dbadd(STORE_SPAMTRAP, NULL, T0, &r), 0);
	assert_int_equal(scan(c, &in, &r, T0, &mw, &w), GREY_SCAN_KEEP);
	assert_false(mw);
	assert_int_equal(scan(c, &in, &r, T0 + 10 * c->whiteexp, &mw, &w),
	    GREY_SCAN_KEEP);
	assert_false(mw);
	in.addr_ok = true;
	assert_int_equal(scan(c, &in, &r, T0 + 1, &mw, &w), GREY_SCAN_KEEP);
}

static void
test_scan_trapped(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_trapped_ok;
	struct store_rec	 r, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_trap(c, NULL, now, &r);
	now += 60;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_TRAP);
	assert_false(mw);
	/* Trapped even though its pass time has come. */
	now = T0 + c->trapexp - 1;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_TRAP);

	in.addr_ok = false;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_DELETE);
	assert_false(mw);

	in.addr_ok = true;
	now = T0 + c->trapexp;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_DELETE);
}

static void
test_scan_passed_trapped_ip(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_grey_ok;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	in.trapped = true;
	assert_int_equal(scan(c, &in, &r2, now, &mw, &w), GREY_SCAN_KEEP);
	assert_false(mw);
	/* The trap wins over a blacklist or a bad address too. */
	in.blacklisted = true;
	in.addr_ok = false;
	assert_int_equal(scan(c, &in, &r2, now, &mw, &w), GREY_SCAN_KEEP);

	in = scan_white_ok;
	in.trapped = true;
	r = mkrec(T0, T0, T0 + c->whiteexp, 1, 0);
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_KEEP);
	assert_false(mw);
}

static void
test_scan_passed_blacklisted(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_grey_ok;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	/* Not passed yet: a blacklist does not matter. */
	in.blacklisted = true;
	now += 60;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_KEEP);

	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	assert_int_equal(scan(c, &in, &r2, now, &mw, &w), GREY_SCAN_DELETE);
	assert_false(mw);

	in = scan_white_ok;
	in.blacklisted = true;
	r = mkrec(T0, T0, T0 + c->whiteexp, 1, 0);
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_DELETE);
	assert_false(mw);
}

static void
test_scan_passed_bad_addr(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_grey_ok;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	in.addr_ok = false;
	now += 60;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_KEEP);

	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	assert_int_equal(scan(c, &in, &r2, now, &mw, &w), GREY_SCAN_DELETE);
	assert_false(mw);

	/* Same for a white entry whose key does not parse. */
	in = scan_white_ok;
	in.addr_ok = false;
	assert_int_equal(grey_dbadd(STORE_WHITE, NULL, now, &r), 0);
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_DELETE);
	assert_false(mw);
}

static void
test_scan_make_white(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0, pass;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	pass = now;
	now += 60;
	assert_int_equal(scan(c, &scan_grey_ok, &r2, now, &mw, &w),
	    GREY_SCAN_WHITE);
	assert_true(mw);
	assert_rec(w, T0, pass, now + c->whiteexp, 2, 0);
	/* The tuple itself is unchanged. */
	assert_rec(r2, T0, pass, T0 + c->greyexp, 2, 0);
}

static void
test_scan_have_white(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_grey_ok;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	now = T0 + c->passtime + 1;
	grey_tuple(c, &r, now, &r2);
	in.have_white = true;
	assert_int_equal(scan(c, &in, &r2, now, &mw, &w), GREY_SCAN_WHITE);
	assert_false(mw);
}

static void
test_scan_white_entry(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_white_ok;
	struct store_rec	 r, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_logd(c->whiteexp, NULL, 1, now, &r);
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_WHITE);
	assert_false(mw);
	/* have_white is not what makes a WHITE entry white. */
	in.have_white = false;
	now = T0 + c->whiteexp - 1;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_WHITE);
	assert_false(mw);
	now++;
	assert_int_equal(scan(c, &in, &r, now, &mw, &w), GREY_SCAN_DELETE);

	/* A synced white entry (pass 0) is white at once. */
	assert_int_equal(grey_sync(GREY_SYNC_WHITE, T0 + 100, NULL, T0, &r,
	    &(enum store_type){ STORE_GREY }), 0);
	assert_int_equal(scan(c, &in, &r, T0, &mw, &w), GREY_SCAN_WHITE);
}

static void
test_scan_unpassed(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, r2, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	assert_int_equal(scan(c, &scan_grey_ok, &r, now, &mw, &w),
	    GREY_SCAN_KEEP);
	assert_false(mw);
	/* Retried too early. */
	now = T0 + c->passtime;
	grey_tuple(c, &r, now, &r2);
	now += 60;
	assert_int_equal(scan(c, &scan_grey_ok, &r2, now, &mw, &w),
	    GREY_SCAN_KEEP);
	assert_false(mw);
}

static void
test_scan_never_retried(void **state)
{
	const struct grey_conf	*c = *state;
	struct store_rec	 r, w;
	int64_t			 now = T0;
	bool			 mw;

	grey_tuple(c, NULL, now, &r);
	for (now = T0; now < T0 + c->greyexp; now += 60) {
		assert_int_equal(scan(c, &scan_grey_ok, &r, now, &mw, &w),
		    GREY_SCAN_KEEP);
		assert_false(mw);
	}
	now = T0 + c->greyexp;
	assert_int_equal(scan(c, &scan_grey_ok, &r, now, &mw, &w),
	    GREY_SCAN_DELETE);
	assert_false(mw);
}

/* First try, retry, scan, white entry lives whiteexp and then goes. */
static void
test_scan_lifecycle(void **state)
{
	const struct grey_conf	*c = *state;
	struct grey_scan_in	 in = scan_grey_ok;
	struct store_rec	 t, t2, w, w2;
	int64_t			 now = T0, made;
	bool			 mw;

	grey_tuple(c, NULL, now, &t);
	now += c->passtime / 2;
	grey_tuple(c, &t, now, &t2);
	now = T0 + c->passtime + 2;
	grey_tuple(c, &t2, now, &t);
	assert_rec(t, T0, now, T0 + c->greyexp, 3, 0);

	now += 45;
	assert_int_equal(scan(c, &in, &t, now, &mw, &w), GREY_SCAN_WHITE);
	assert_true(mw);
	made = now;
	assert_rec(w, T0, T0 + c->passtime + 2, made + c->whiteexp, 3, 0);

	/* Next scan: the white entry exists now. */
	in.have_white = true;
	now += 60;
	assert_int_equal(scan(c, &in, &t, now, &mw, &w2), GREY_SCAN_WHITE);
	assert_false(mw);
	assert_int_equal(scan(c, &scan_white_ok, &w, now, &mw, &w2),
	    GREY_SCAN_WHITE);

	/* The tuple goes at its own expire, the white entry stays. */
	now = T0 + c->greyexp;
	assert_int_equal(scan(c, &in, &t, now, &mw, &w2), GREY_SCAN_DELETE);
	assert_int_equal(scan(c, &scan_white_ok, &w, now, &mw, &w2),
	    GREY_SCAN_WHITE);
	now = made + c->whiteexp;
	assert_int_equal(scan(c, &scan_white_ok, &w, now, &mw, &w2),
	    GREY_SCAN_DELETE);
}

/* ---- -G and durations ---- */

static void
check_times(const char *s, int64_t p, int64_t g, int64_t w)
{
	struct grey_conf	c;
	const char		*why = NULL;

	memset(&c, 0, sizeof(c));
	c.trapexp = 4242;
	assert_int_equal(grey_parse_times(s, &c, &why), 0);
	assert_int_equal(c.passtime, p);
	assert_int_equal(c.greyexp, g);
	assert_int_equal(c.whiteexp, w);
	assert_int_equal(c.trapexp, 4242);
}

static void
test_parse_times(void **state)
{
	(void)state;
	check_times("25:4:864", 1500, 14400, 3110400);
	check_times("5s:1h:36d", 5, 3600, 3110400);
	check_times("1m:2h:3h", 60, 7200, 10800);
	check_times("5S:1H:36D", 5, 3600, 3110400);
	check_times("1:1:1", 60, 3600, 3600);
	check_times("59m:1:1s", 3540, 3600, 1);
	check_times("007:0010:1d", 420, 36000, 86400);
}

static void
check_times_bad(const char *s, const char *want)
{
	struct grey_conf	c, before;
	const char		*why = NULL;

	grey_conf_default(&c);
	before = c;
	assert_int_equal(grey_parse_times(s, &c, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, want);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_parse_times_bad(void **state)
{
	(void)state;
	check_times_bad("", "expected passtime:greyexp:whiteexp");
	check_times_bad("25", "expected passtime:greyexp:whiteexp");
	check_times_bad("25:4", "expected passtime:greyexp:whiteexp");
	check_times_bad("25:4:864:1", "expected passtime:greyexp:whiteexp");
	check_times_bad("::", "passtime: missing number");
	check_times_bad(":4:864", "passtime: missing number");
	check_times_bad("25::864", "greyexp: missing number");
	check_times_bad("25:4:", "whiteexp: missing number");
	check_times_bad("-5:4:864", "passtime: missing number");
	check_times_bad("25:+4:864", "greyexp: missing number");
	check_times_bad(" 25:4:864", "passtime: missing number");
	check_times_bad("25 :4:864",
	    "passtime: unknown unit (use s, m, h or d)");
	check_times_bad("25x:4:864",
	    "passtime: unknown unit (use s, m, h or d)");
	check_times_bad("25:4w:864",
	    "greyexp: unknown unit (use s, m, h or d)");
	check_times_bad("25:4:864hh",
	    "whiteexp: unknown unit (use s, m, h or d)");
	check_times_bad("25:4:8.5",
	    "whiteexp: unknown unit (use s, m, h or d)");
	check_times_bad("0:4:864", "passtime: must be positive");
	check_times_bad("25:0h:864", "greyexp: must be positive");
	check_times_bad("25:4:0", "whiteexp: must be positive");
	check_times_bad("153722867280912931:4:864", "passtime: too large");
	check_times_bad("1:2562047788015216:1", "greyexp: too large");
	check_times_bad("1:2:99999999999999999999", "whiteexp: too large");
	check_times_bad("240:4:864", "passtime must be shorter than greyexp");
	check_times_bad("5h:4:864", "passtime must be shorter than greyexp");
	check_times_bad("1m:60s:1h", "passtime must be shorter than greyexp");
}

static void
check_dur(const char *s, int64_t unit, int64_t want)
{
	int64_t		secs = -7;
	const char	*why = NULL;

	assert_int_equal(grey_parse_duration(s, unit, &secs, &why), 0);
	assert_int_equal(secs, want);
}

static void
check_dur_bad(const char *s, int64_t unit, const char *want)
{
	int64_t		secs = -7;
	const char	*why = NULL;

	assert_int_equal(grey_parse_duration(s, unit, &secs, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, want);
	assert_int_equal(secs, -7);
}

static void
test_parse_duration(void **state)
{
	(void)state;
	check_dur("90", 60, 5400);
	check_dur("90", 1, 90);
	check_dur("90s", 3600, 90);
	check_dur("2m", 1, 120);
	check_dur("3h", 60, 10800);
	check_dur("4d", 60, 345600);
	check_dur("4D", 60, 345600);
	check_dur("1M", 3600, 60);

	check_dur_bad("", 60, "missing number");
	check_dur_bad("s", 60, "missing number");
	check_dur_bad("-1", 60, "missing number");
	check_dur_bad("+1", 60, "missing number");
	check_dur_bad(" 1", 60, "missing number");
	check_dur_bad("1 ", 60, "unknown unit (use s, m, h or d)");
	check_dur_bad("1x", 60, "unknown unit (use s, m, h or d)");
	check_dur_bad("1ms", 60, "unknown unit (use s, m, h or d)");
	check_dur_bad("1s1", 60, "unknown unit (use s, m, h or d)");
	check_dur_bad("0", 60, "must be positive");
	check_dur_bad("0h", 60, "must be positive");
	check_dur_bad("000", 60, "must be positive");
}

static void
test_parse_duration_overflow(void **state)
{
	(void)state;
	check_dur("9223372036854775807", 1, INT64_MAX);
	check_dur("9223372036854775807s", 3600, INT64_MAX);
	check_dur_bad("9223372036854775808", 1, "too large");
	check_dur_bad("9223372036854775808s", 1, "too large");
	check_dur_bad("99999999999999999999999999", 1, "too large");
	check_dur_bad("9223372036854775807m", 1, "too large");

	check_dur("153722867280912930m", 1, INT64_C(9223372036854775800));
	check_dur("153722867280912930", 60, INT64_C(9223372036854775800));
	check_dur_bad("153722867280912931m", 1, "too large");
	check_dur_bad("153722867280912931", 60, "too large");
	check_dur("106751991167300d", 1, INT64_C(9223372036854720000));
	check_dur_bad("106751991167301d", 1, "too large");
}

/* ---- recipients ---- */

static void
check_rcpt(const char *to, size_t len, const char *want, size_t wantlen)
{
	char	buf[64];

	memset(buf, 'Z', sizeof(buf));
	assert_true(len <= sizeof(buf));
	assert_int_equal(grey_rcpt_normalize(to, buf, len), wantlen);
	if (len > 0)
		assert_string_equal(buf, want);
}

static void
test_rcpt_normalize(void **state)
{
	char	buf[4];

	(void)state;
	check_rcpt("<Foo@Example.COM>", 64, "foo@example.com", 15);
	check_rcpt("foo@example.com", 64, "foo@example.com", 15);
	check_rcpt("<<Trap@X>>", 64, "<trap@x>", 8);
	check_rcpt("<A@B", 64, "a@b", 3);
	check_rcpt("A@B>", 64, "a@b", 3);
	check_rcpt("A>@B", 64, "a>@b", 4);
	check_rcpt("<>", 64, "", 0);
	check_rcpt("<", 64, "", 0);
	check_rcpt("", 64, "", 0);
	check_rcpt("<\xC3\x89T\xC3\xA9@D>", 64, "\xC3\x89t\xC3\xA9@d", 7);

	/* Needs room for the NUL; "<>" do not count. */
	check_rcpt("<abc>", 4, "abc", 3);
	check_rcpt("<abc>", 3, "", 0);
	check_rcpt("abcd", 4, "", 0);
	check_rcpt("", 1, "", 0);

	/* len 0: nothing is written at all. */
	memcpy(buf, "xyz", 4);
	assert_int_equal(grey_rcpt_normalize("a", buf, 0), 0);
	assert_string_equal(buf, "xyz");
}

static void
test_domain_allowed(void **state)
{
	const char *const	one[] = { "example.com" };
	const char *const	mixed[] = { "Example.COM" };
	const char *const	two[] = { "", "example.com", "" };
	const char *const	blank[] = { "", "" };
	const char *const	at[] = { "@example.com", "other.org" };

	(void)state;
	assert_true(grey_domain_allowed("a@anything.net", NULL, 0));
	assert_true(grey_domain_allowed("", NULL, 0));

	assert_true(grey_domain_allowed("a@example.com", one, 1));
	assert_true(grey_domain_allowed("example.com", one, 1));
	assert_true(grey_domain_allowed("a@mail.example.com", one, 1));
	/* spamd's plain suffix rule. */
	assert_true(grey_domain_allowed("a@notexample.com", one, 1));
	assert_false(grey_domain_allowed("a@example.org", one, 1));
	assert_false(grey_domain_allowed("a@example.com.au", one, 1));
	assert_false(grey_domain_allowed("xample.com", one, 1));
	assert_false(grey_domain_allowed("", one, 1));

	assert_true(grey_domain_allowed("A@EXAMPLE.COM", one, 1));
	assert_true(grey_domain_allowed("a@example.com", mixed, 1));
	assert_true(grey_domain_allowed("a@eXaMpLe.cOm", mixed, 1));

	/* Empty entries never match everything. */
	assert_true(grey_domain_allowed("x@example.com", two, 3));
	assert_false(grey_domain_allowed("x@example.org", two, 3));
	/* ...and a list of only empty entries is an empty list. */
	assert_true(grey_domain_allowed("x@example.org", blank, 2));

	assert_true(grey_domain_allowed("a@example.com", at, 2));
	assert_false(grey_domain_allowed("a@notexample.com", at, 2));
	assert_true(grey_domain_allowed("b@mail.other.org", at, 2));
	/* Only the first n entries count. */
	assert_false(grey_domain_allowed("b@other.org", at, 1));
}

#define BOTH(f) \
	{ #f " (spamd defaults)", f, NULL, NULL, &conf_def }, \
	{ #f " (short)", f, NULL, NULL, &conf_short }

static void
test_mailbox_eq(void **state)
{
	(void)state;
	assert_true(grey_mailbox_eq("<bob@example.org>", "<bob@example.org>"));
	/* greyd's form: no brackets, lower case. */
	assert_true(grey_mailbox_eq("<Bob@Example.ORG>", "bob@example.org"));
	assert_true(grey_mailbox_eq("bob@example.org", "<BOB@EXAMPLE.ORG>"));
	assert_true(grey_mailbox_eq("<>", ""));
	assert_true(grey_mailbox_eq("", ""));
	assert_false(grey_mailbox_eq("<bob@example.org>", "<bob@example.net>"));
	assert_false(grey_mailbox_eq("<bob@example.org>", "<bob@example.org"));
	assert_false(grey_mailbox_eq("<<bob@x>>", "bob@x"));
	assert_false(grey_mailbox_eq("<a>", "<b>"));
	{
		char buf[32];

		assert_string_equal(grey_spamd_form("<a@b>", buf, sizeof(buf)),
		    "<a@b>");
		assert_string_equal(grey_spamd_form("a@b", buf, sizeof(buf)),
		    "<a@b>");
		assert_string_equal(grey_spamd_form("", buf, sizeof(buf)),
		    "<>");
		assert_string_equal(grey_spamd_form("<a@b", buf, sizeof(buf)),
		    "<<a@b>");
	}
	/* Only ASCII letters fold. */
	assert_false(grey_mailbox_eq("<\xc3\x89@x>", "<\xc3\xa9@x>"));
}

/* --auto-white: known-good senders kept longer (postgrey's AWL). */
static void
test_awl(void **state)
{
	struct grey_awl awl = { 0, 0 };
	struct store_rec r, old;
	const char *why;

	(void)state;
	assert_int_equal(grey_parse_awl("5:90d", &awl, &why), 0);
	assert_int_equal(awl.count, 5);
	assert_int_equal(awl.exp, 90 * 86400);
	assert_int_equal(grey_parse_awl("2:1500h", &awl, &why), 0);
	assert_int_equal(awl.exp, 1500 * 3600);
	assert_int_equal(grey_parse_awl("3:45", &awl, &why), 0);
	assert_int_equal(awl.exp, 45 * 86400);	/* bare: days */
	assert_int_equal(grey_parse_awl("5", &awl, &why), -1);
	assert_int_equal(grey_parse_awl(":90d", &awl, &why), -1);
	assert_int_equal(grey_parse_awl("0:90d", &awl, &why), -1);
	assert_int_equal(grey_parse_awl("x:90d", &awl, &why), -1);
	assert_int_equal(grey_parse_awl("99999999999:90d", &awl, &why), -1);
	assert_int_equal(grey_parse_awl("5:30m", &awl, &why), -1);
	assert_string_equal(why, "expiry not between 1 hour and 10 years");
	assert_int_equal(grey_parse_awl("5:4000d", &awl, &why), -1);
	assert_int_equal(grey_parse_awl("5:", &awl, &why), -1);
	assert_int_equal(awl.count, 3);		/* untouched on error */

	/* Off: nothing changes. */
	awl = (struct grey_awl){ 0, 90 * 86400 };
	grey_logd(GREY_WHITEEXP, NULL, 1, T0, &r);
	assert_false(grey_awl_apply(&awl, &r, T0));
	assert_int_equal(r.expire, T0 + GREY_WHITEEXP);

	/* Below the count: whiteexp; at it: exp. */
	awl.count = 3;
	old = r;
	grey_logd(GREY_WHITEEXP, &old, 1, T0 + 10, &r);	/* pcount 1 */
	assert_false(grey_awl_apply(&awl, &r, T0 + 10));
	assert_int_equal(r.expire, T0 + 10 + GREY_WHITEEXP);
	old = r;
	grey_logd(GREY_WHITEEXP, &old, 2, T0 + 20, &r);	/* pcount 3 */
	assert_int_equal(r.pcount, 3);
	assert_true(grey_awl_apply(&awl, &r, T0 + 20));
	assert_int_equal(r.expire, T0 + 20 + 90 * 86400);
	/* A later expiry already there is kept. */
	r.expire = T0 + 400 * 86400;
	assert_true(grey_awl_apply(&awl, &r, T0 + 30));
	assert_int_equal(r.expire, T0 + 400 * 86400);
	/* Trapped and spamtrap records are never kept by it. */
	r.pcount = GREY_PCOUNT_TRAPPED;
	assert_false(grey_awl_apply(&awl, &r, T0 + 30));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_default),
		BOTH(test_tuple_new),
		BOTH(test_tuple_retry_before_passtime),
		BOTH(test_tuple_retry_at_passtime),
		BOTH(test_tuple_retry_after_passtime),
		BOTH(test_tuple_expire_not_extended),
		BOTH(test_tuple_after_expiry),
		cmocka_unit_test(test_passed),
		BOTH(test_white_from_tuple),
		BOTH(test_trap_new),
		BOTH(test_trap_existing),
		BOTH(test_trap_on_white),
		BOTH(test_logd_new),
		BOTH(test_logd_existing),
		BOTH(test_logd_trapped),
		BOTH(test_logd_merged),
		BOTH(test_sync_new),
		BOTH(test_sync_existing),
		BOTH(test_sync_expired),
		cmocka_unit_test(test_dbadd_new),
		cmocka_unit_test(test_dbadd_existing),
		cmocka_unit_test(test_dbadd_grey),
		BOTH(test_scan_expired),
		BOTH(test_scan_spamtrap),
		BOTH(test_scan_trapped),
		BOTH(test_scan_passed_trapped_ip),
		BOTH(test_scan_passed_blacklisted),
		BOTH(test_scan_passed_bad_addr),
		BOTH(test_scan_make_white),
		BOTH(test_scan_have_white),
		BOTH(test_scan_white_entry),
		BOTH(test_scan_unpassed),
		BOTH(test_scan_never_retried),
		BOTH(test_scan_lifecycle),
		cmocka_unit_test(test_parse_times),
		cmocka_unit_test(test_parse_times_bad),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_duration_overflow),
		cmocka_unit_test(test_rcpt_normalize),
		cmocka_unit_test(test_domain_allowed),
		cmocka_unit_test(test_mailbox_eq),
		cmocka_unit_test(test_awl),
	};

	return cmocka_run_group_tests_name("grey", tests, NULL, NULL);
}
