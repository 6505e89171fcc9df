/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for journal: records of commits, encoded and checked. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

struct seen {
	uint64_t	txnids[16];
	size_t		n;
	size_t		ops;
	char		keys[16][64];
};

static int
on_op(void *arg, const struct journal_op *op)
{
	struct seen *s = arg;

	if (s->ops < 16) {
		memcpy(s->keys[s->ops], op->key, op->keylen);
		s->keys[s->ops][op->keylen] = '\0';
	}
	s->ops++;
	return 0;
}

static int
on_rec(void *arg, uint64_t txnid, const uint8_t *body, size_t len)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->txnids[s->n] = txnid;
	s->n++;
	return journal_ops(body, len, on_op, s);
}

/* Records for txnids t[0..n), each with a put and a delete; into out. */
static size_t
build(uint8_t *out, const uint64_t *t, size_t n)
{
	struct journal_buf b = { 0 };
	uint8_t rec[STORE_RECSIZE];
	size_t len = 0;

	memset(rec, 7, sizeof(rec));
	for (size_t i = 0; i < n; i++) {
		char key[32];

		journal_buf_begin(&b);
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)t[i]);
		journal_buf_put(&b, STORE_GREY, key, strlen(key), rec);
		journal_buf_del(&b, STORE_WHITE, "1.2.3.4", 7);
		assert_int_equal(journal_buf_seal(&b, t[i]), 0);
		memcpy(out + len, b.p, b.len);
		len += b.len;
	}
	journal_buf_free(&b);
	return len;
}

static void
test_roundtrip(void **state)
{
	uint8_t buf[4096];
	const uint64_t t[] = { 5, 6, 9 };
	size_t len = build(buf, t, 3);
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(journal_records(buf, len, on_rec, &s), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.txnids[2], 9);
	assert_int_equal(s.ops, 6);
	assert_string_equal(s.keys[0], "k5");
	assert_string_equal(s.keys[1], "1.2.3.4");
}

/* A torn last record, or garbage after the last: the rest stands. */
static void
test_torn(void **state)
{
	uint8_t buf[4096];
	const uint64_t t[] = { 5, 6, 9 };
	size_t len = build(buf, t, 3);
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(journal_records(buf, len - 1, on_rec, &s), 2);
	memset(&s, 0, sizeof(s));
	buf[len - 3] ^= 0x40;	/* a flipped bit: the CRC fails */
	assert_int_equal(journal_records(buf, len, on_rec, &s), 2);
	assert_int_equal(s.ops, 4);
}

/* A rewound file: new records, then older ones past them. */
static void
test_rewound(void **state)
{
	uint8_t buf[4096];
	const uint64_t t[] = { 20, 21, 3, 4 };
	size_t len = build(buf, t, 4);
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(journal_records(buf, len, on_rec, &s), 2);
	assert_int_equal(s.txnids[1], 21);
}

static void
test_empty_and_failed(void **state)
{
	struct journal_buf b = { 0 };
	uint8_t rec[STORE_RECSIZE] = { 0 };
	char big[STORE_KEYMAX + 1];

	(void)state;
	journal_buf_begin(&b);
	assert_int_equal(journal_buf_seal(&b, 1), 0);
	assert_int_equal(b.nops, 0);
	memset(big, 'x', sizeof(big));
	journal_buf_put(&b, STORE_GREY, big, sizeof(big), rec);
	assert_int_equal(journal_buf_seal(&b, 1), -1);
	/* begin starts afresh */
	journal_buf_begin(&b);
	journal_buf_put(&b, STORE_GREY, big, 10, rec);
	assert_int_equal(journal_buf_seal(&b, 1), 0);
	journal_buf_free(&b);
	/* Without begin nothing is logged. */
	journal_buf_put(&b, STORE_GREY, big, 10, rec);
	assert_true(b.failed);
	journal_buf_free(&b);
}

static void
test_bad_bodies(void **state)
{
	struct seen s = { 0 };
	uint8_t op[4 + 3 + STORE_RECSIZE] = { JOURNAL_PUT, STORE_GREY, 3, 0,
	    'a', 'b', 'c' };

	(void)state;
	assert_int_equal(journal_ops(op, sizeof(op), on_op, &s), 0);
	assert_int_equal(s.ops, 1);
	assert_int_equal(journal_ops(op, sizeof(op) - 1, on_op, &s), -1);
	op[0] = 3;
	assert_int_equal(journal_ops(op, sizeof(op), on_op, &s), -1);
	op[0] = JOURNAL_DEL;	/* a delete has no record: bytes left over */
	assert_int_equal(journal_ops(op, sizeof(op), on_op, &s), -1);
	assert_int_equal(journal_ops(op, 7, on_op, &s), 0);
	op[1] = STORE_NTYPES;
	assert_int_equal(journal_ops(op, 7, on_op, &s), -1);
	op[1] = STORE_GREY;
	op[2] = 0;		/* empty key */
	assert_int_equal(journal_ops(op, 4, on_op, &s), -1);
	assert_int_equal(s.ops, 2);	/* nothing from the refused ones */
}

static void
test_header(void **state)
{
	uint8_t h[JOURNAL_HDRSIZE];
	uint64_t e = 0;
	const char *why = NULL;

	(void)state;
	journal_header(h, 0x1122334455667788ULL);
	assert_int_equal(journal_check_header(h, sizeof(h), &e, &why), 0);
	assert_true(e == 0x1122334455667788ULL);
	assert_int_equal(journal_check_header(h, sizeof(h) - 1, &e, &why), -1);
	h[4] = 2;
	assert_int_equal(journal_check_header(h, sizeof(h), &e, &why), -1);
	assert_string_equal(why, "unknown journal version");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_rewound),
		cmocka_unit_test(test_empty_and_failed),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
