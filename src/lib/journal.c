/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "journal.h"

static const uint8_t file_magic[4] = { 'N', 'F', 'J', 'H' };
static const uint8_t rec_magic[4] = { 'N', 'F', 'J', '1' };

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void
journal_buf_begin(struct journal_buf *b)
{
	b->len = JOURNAL_RECHDR;
	b->nops = 0;
	b->failed = false;
}

void
journal_buf_free(struct journal_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes; false (and failed) when there is none. */
static bool
reserve(struct journal_buf *b, size_t n)
{
	size_t want = b->len + n, cap;
	uint8_t *p;

	if (b->failed)
		return false;
	if (b->len < JOURNAL_RECHDR || want - JOURNAL_RECHDR > JOURNAL_MAXBODY) {
		b->failed = true;
		return false;
	}
	if (want <= b->cap)
		return true;
	for (cap = b->cap ? b->cap : 4096; cap < want; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void
add(struct journal_buf *b, enum journal_opcode op, enum store_type type,
    const void *key, size_t keylen, const uint8_t *rec)
{
	size_t n = 4 + keylen + (rec != NULL ? STORE_RECSIZE : 0);
	uint8_t *p;

	if (keylen > STORE_KEYMAX) {
		b->failed = true;
		return;
	}
	if (!reserve(b, n))
		return;
	p = b->p + b->len;
	p[0] = (uint8_t)op;
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)keylen;
	p[3] = (uint8_t)(keylen >> 8);
	memcpy(p + 4, key, keylen);
	if (rec != NULL)
		memcpy(p + 4 + keylen, rec, STORE_RECSIZE);
	b->len += n;
	b->nops++;
}

void
journal_buf_put(struct journal_buf *b, enum store_type type, const void *key,
    size_t keylen, const uint8_t rec[STORE_RECSIZE])
{
	add(b, JOURNAL_PUT, type, key, keylen, rec);
}

void
journal_buf_del(struct journal_buf *b, enum store_type type, const void *key,
    size_t keylen)
{
	add(b, JOURNAL_DEL, type, key, keylen, NULL);
}

static uint32_t
rec_crc(const uint8_t txnid[8], const uint8_t *body, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, txnid, 8);
	/* zlib takes uInt lengths; bodies are at most JOURNAL_MAXBODY. */
	c = crc32(c, body, (uInt)len);
	return (uint32_t)c;
}

int
journal_buf_seal(struct journal_buf *b, uint64_t txnid)
{
	size_t body = b->len - JOURNAL_RECHDR;

	if (b->failed)
		return -1;
	if (b->nops == 0)
		return 0;
	memcpy(b->p, rec_magic, 4);
	put32(b->p + 4, (uint32_t)body);
	put64(b->p + 8, txnid);
	put32(b->p + 16, rec_crc(b->p + 8, b->p + JOURNAL_RECHDR, body));
	return 0;
}

void
journal_header(uint8_t out[JOURNAL_HDRSIZE], uint64_t epoch)
{
	memcpy(out, file_magic, 4);
	put32(out + 4, JOURNAL_VERSION);
	put64(out + 8, epoch);
}

int
journal_check_header(const uint8_t *p, size_t n, uint64_t *epoch,
    const char **why)
{
	if (n < JOURNAL_HDRSIZE || memcmp(p, file_magic, 4) != 0) {
		*why = "not a journal (no header)";
		return -1;
	}
	if (get32(p + 4) != JOURNAL_VERSION) {
		*why = "unknown journal version";
		return -1;
	}
	*epoch = get64(p + 8);
	return 0;
}

static int
count_op(void *arg, const struct journal_op *op)
{
	(void)arg;
	(void)op;
	return 0;
}

size_t
journal_records(const uint8_t *p, size_t n, journal_rec_fn fn, void *arg)
{
	size_t off = 0, nrec = 0;
	uint64_t last = 0;

	while (n - off >= JOURNAL_RECHDR) {
		const uint8_t *r = p + off;
		size_t body = get32(r + 4);
		uint64_t txnid = get64(r + 8);

		if (memcmp(r, rec_magic, 4) != 0 || body > JOURNAL_MAXBODY ||
		    body > n - off - JOURNAL_RECHDR || txnid <= last ||
		    rec_crc(r + 8, r + JOURNAL_RECHDR, body) != get32(r + 16) ||
		    journal_ops(r + JOURNAL_RECHDR, body, count_op, NULL) != 0)
			break;
		if (fn(arg, txnid, r + JOURNAL_RECHDR, body) != 0)
			break;
		nrec++;
		last = txnid;
		off += JOURNAL_RECHDR + body;
	}
	return nrec;
}

/* Checks the whole body first, so that fn sees all of it or none. */
int
journal_ops(const uint8_t *body, size_t len, journal_op_fn fn, void *arg)
{
	for (int pass = 0; pass < 2; pass++) {
		size_t off = 0;

		while (off < len) {
			struct journal_op op;
			size_t need;
			int rc;

			if (len - off < 4)
				return -1;
			op.op = body[off];
			op.type = body[off + 1];
			op.keylen = (size_t)body[off + 2] |
			    (size_t)body[off + 3] << 8;
			if ((op.op != JOURNAL_PUT && op.op != JOURNAL_DEL) ||
			    op.type >= STORE_NTYPES || op.keylen == 0 ||
			    op.keylen > STORE_KEYMAX)
				return -1;
			need = 4 + op.keylen +
			    (op.op == JOURNAL_PUT ? STORE_RECSIZE : 0);
			if (len - off < need)
				return -1;
			op.key = body + off + 4;
			op.rec = op.op == JOURNAL_PUT ? op.key + op.keylen :
			    NULL;
			off += need;
			if (pass == 1 && (rc = fn(arg, &op)) != 0)
				return rc;
		}
	}
	return 0;
}
