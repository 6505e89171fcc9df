/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/journal.c: journal files as a crash, a
 * full disk or another program may leave them.  Every record accepted
 * is rebuilt from its operations and must come out as the same bytes;
 * the records accepted are in ascending transaction order.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "journal.h"

struct again {
	struct journal_buf	b;
	uint64_t		last;
};

static int
redo(void *arg, const struct journal_op *op)
{
	struct journal_buf *b = arg;

	CHECK(op->keylen > 0 && op->keylen <= STORE_KEYMAX);
	CHECK(op->type < STORE_NTYPES);
	if (op->op == JOURNAL_PUT) {
		CHECK(op->rec != NULL);
		journal_buf_put(b, op->type, op->key, op->keylen, op->rec);
	} else {
		CHECK(op->op == JOURNAL_DEL && op->rec == NULL);
		journal_buf_del(b, op->type, op->key, op->keylen);
	}
	return 0;
}

static int
on_rec(void *arg, uint64_t txnid, const uint8_t *body, size_t len)
{
	struct again *a = arg;

	CHECK(txnid > a->last);
	a->last = txnid;
	journal_buf_begin(&a->b);
	CHECK(journal_ops(body, len, redo, &a->b) == 0);
	if (a->b.nops == 0) {
		CHECK(len == 0);
		return 0;
	}
	CHECK(journal_buf_seal(&a->b, txnid) == 0);
	CHECK(a->b.len == JOURNAL_RECHDR + len);
	CHECK(memcmp(a->b.p + JOURNAL_RECHDR, body, len) == 0);
	/* The header before the body is the one that was read. */
	CHECK(memcmp(a->b.p, body - JOURNAL_RECHDR, JOURNAL_RECHDR) == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct again a;
	uint64_t epoch;
	const char *why = NULL;

	a.last = 0;
	if (journal_check_header(data, size, &epoch, &why) == -1)
		CHECK(why != NULL);
	/* The records, header or not, as the replay reads past it. */
	if (size >= JOURNAL_HDRSIZE)
		journal_records(data + JOURNAL_HDRSIZE, size - JOURNAL_HDRSIZE,
		    on_rec, &a);
	journal_records(data, size, on_rec, &a);
	return 0;
}
