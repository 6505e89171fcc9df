/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for nftgen's chain: which commits nfspamd can trust.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nftgen.h"

static void
test_next(void **state)
{
	(void)state;
	assert_int_equal(nftgen_next(1), 2);
	/* The kernel skips 0. */
	assert_int_equal(nftgen_next(UINT32_MAX), 1);
}

/* Trusted commits one after another: clean from any point of the chain. */
static void
test_chain_extends(void **state)
{
	struct nftgen_chain c = { 0 };

	(void)state;
	assert_true(nftgen_chain_clean(&c, 7, 7));	/* nothing since */
	assert_false(nftgen_chain_clean(&c, 7, 8));	/* no chain */
	nftgen_chain_commit(&c, 7, 8);
	nftgen_chain_commit(&c, 8, 9);
	nftgen_chain_commit(&c, 9, 10);
	assert_true(c.valid);
	assert_int_equal(c.start, 7);
	assert_int_equal(c.head, 10);
	assert_true(nftgen_chain_clean(&c, 7, 10));
	assert_true(nftgen_chain_clean(&c, 9, 10));
	/* Before the chain, or past its head: someone else. */
	assert_false(nftgen_chain_clean(&c, 6, 10));
	assert_false(nftgen_chain_clean(&c, 7, 11));
	/* A commit that changed nothing leaves it alone. */
	nftgen_chain_commit(&c, 10, 10);
	assert_int_equal(c.head, 10);
}

/* Someone else committed between two of ours. */
static void
test_chain_breaks(void **state)
{
	struct nftgen_chain c = { 0 };

	(void)state;
	nftgen_chain_commit(&c, 7, 8);
	/* 9 was someone else's; ours is 10. */
	nftgen_chain_commit(&c, 9, 10);
	assert_int_equal(c.start, 9);
	assert_int_equal(c.head, 10);
	assert_false(nftgen_chain_clean(&c, 8, 10));
	assert_true(nftgen_chain_clean(&c, 9, 10));

	/* Someone else committed while we did: 11 or 12, we cannot say. */
	nftgen_chain_commit(&c, 10, 12);
	assert_int_equal(c.start, 12);
	assert_int_equal(c.head, 12);
	assert_false(nftgen_chain_clean(&c, 10, 12));
	assert_false(nftgen_chain_clean(&c, 11, 12));
	assert_true(nftgen_chain_clean(&c, 12, 12));
	nftgen_chain_commit(&c, 12, 13);
	assert_true(nftgen_chain_clean(&c, 12, 13));
}

/* nfspamd's view: a foreign commit makes it replace; then clean again. */
static void
test_replace_cycle(void **state)
{
	struct nftgen_chain c = { 0 };
	uint32_t since = 100;

	(void)state;
	nftgen_chain_commit(&c, 100, 101);	/* nfspamlogd */
	assert_true(nftgen_chain_clean(&c, since, 101));
	since = 101;
	/* nft -f makes 102: dirty. */
	assert_false(nftgen_chain_clean(&c, since, 102));
	since = 102;
	/* nfspamd's replace is 103, nfspamlogd's next 104. */
	nftgen_chain_commit(&c, 102, 103);
	nftgen_chain_commit(&c, 103, 104);
	assert_true(nftgen_chain_clean(&c, since, 104));
}

static void
test_wrap(void **state)
{
	struct nftgen_chain c = { 0 };

	(void)state;
	nftgen_chain_commit(&c, UINT32_MAX - 1, UINT32_MAX);
	nftgen_chain_commit(&c, UINT32_MAX, 1);
	nftgen_chain_commit(&c, 1, 2);
	assert_int_equal(c.start, UINT32_MAX - 1);
	assert_int_equal(c.head, 2);
	assert_true(nftgen_chain_clean(&c, UINT32_MAX - 1, 2));
	assert_true(nftgen_chain_clean(&c, UINT32_MAX, 2));
	assert_false(nftgen_chain_clean(&c, UINT32_MAX - 2, 2));
}

static void
test_record(void **state)
{
	struct nftgen_chain c = { .valid = true, .start = 0x01020304,
	    .head = 0xa0b0c0d0 }, d;
	uint8_t b[NFTGEN_RECSIZE];

	(void)state;
	nftgen_chain_encode(&c, b);
	assert_memory_equal(b, "NFGN\0\0\0\1\1\2\3\4\xa0\xb0\xc0\xd0", 16);
	assert_int_equal(nftgen_chain_decode(b, sizeof(b), &d), 0);
	assert_true(d.valid);
	assert_int_equal(d.start, c.start);
	assert_int_equal(d.head, c.head);
	/* Empty, short, foreign or another version: no chain. */
	assert_int_equal(nftgen_chain_decode(b, 0, &d), -1);
	assert_false(d.valid);
	assert_int_equal(nftgen_chain_decode(b, 15, &d), -1);
	b[0] = 'X';
	assert_int_equal(nftgen_chain_decode(b, sizeof(b), &d), -1);
	b[0] = 'N';
	b[7] = 2;
	assert_int_equal(nftgen_chain_decode(b, sizeof(b), &d), -1);
	/* No chain encodes as version 0, which does not decode. */
	memset(&c, 0, sizeof(c));
	nftgen_chain_encode(&c, b);
	assert_int_equal(nftgen_chain_decode(b, sizeof(b), &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_chain_extends),
		cmocka_unit_test(test_chain_breaks),
		cmocka_unit_test(test_replace_cycle),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
