/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * journal: the durable mode's log of store commits, so that a commit is
 * made durable by a small sequential write and one fdatasync, not by an
 * fsync of the B-tree pages it touched (a page each for the leaf, its
 * branches, the free list and the meta page: some 10 KiB a tuple).  The
 * database itself is then synced on the grouped schedule, and a journal
 * only has to hold what the last sync of the database did not.  Pure:
 * encoding and checked decoding.
 *
 * A journal file: header, then records.  Header (16): magic "NFJH",
 * version (4) = 1, the database's epoch (8): a random number kept in the
 * database, so that a journal is never replayed into another database
 * (one restored from a backup, or made afresh).  Record: magic "NFJ1",
 * body length (4), LMDB transaction id (8), CRC-32 of the id and body
 * (4), body.  Body: operations, each: op (1: put, 2: delete), database
 * type (1), key length (2), key, and for a put the 32-byte record.
 * Integers little-endian.
 *
 * A file is rewritten from its start after every sync of the database,
 * so what lies past the last record written is an older record or part
 * of one: a reader stops at the first record that is torn, damaged, or
 * not newer than the one before it.
 */
#ifndef NFS_JOURNAL_H
#define NFS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define JOURNAL_HDRSIZE		16
#define JOURNAL_RECHDR		20
#define JOURNAL_MAXBODY		(64UL << 20)
#define JOURNAL_VERSION		1

enum journal_opcode {
	JOURNAL_PUT = 1,
	JOURNAL_DEL = 2,
};

/* One commit's operations, being collected; the header is filled last. */
struct journal_buf {
	uint8_t		*p;
	size_t		 len, cap;
	size_t		 nops;
	bool		 failed;	/* out of memory, or too big */
};

void	journal_buf_begin(struct journal_buf *);
void	journal_buf_free(struct journal_buf *);
void	journal_buf_put(struct journal_buf *, enum store_type,
	    const void *key, size_t keylen, const uint8_t rec[STORE_RECSIZE]);
void	journal_buf_del(struct journal_buf *, enum store_type,
	    const void *key, size_t keylen);
/*
 * Fill in the record's header for transaction txnid: the record is
 * p[0..len).  0 when nothing was logged, -1 when it failed.
 */
int	journal_buf_seal(struct journal_buf *, uint64_t txnid);

void	journal_header(uint8_t out[JOURNAL_HDRSIZE], uint64_t epoch);
/* 0 and *epoch, or -1 and *why. */
int	journal_check_header(const uint8_t *, size_t, uint64_t *epoch,
	    const char **why);

/*
 * The records of p[0..n) (the file past its header), in order, to fn
 * with their bodies checked (journal_ops would take them whole); stops
 * at the first that is torn, damaged or not newer than the one before,
 * or when fn returns non-zero.  Returns the number of records given.
 */
typedef int	(*journal_rec_fn)(void *arg, uint64_t txnid,
		    const uint8_t *body, size_t len);
size_t	journal_records(const uint8_t *p, size_t n, journal_rec_fn fn,
	    void *arg);

struct journal_op {
	enum journal_opcode	 op;
	enum store_type		 type;
	const uint8_t		*key;
	size_t			 keylen;
	const uint8_t		*rec;		/* STORE_RECSIZE; NULL: del */
};

/*
 * The operations of a record's body to fn, in order.  -1 when the body
 * is malformed (fn is then never called), else 0 or fn's non-zero value.
 */
typedef int	(*journal_op_fn)(void *arg, const struct journal_op *);
int	journal_ops(const uint8_t *body, size_t len, journal_op_fn fn,
	    void *arg);

#endif
