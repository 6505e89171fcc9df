/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * jfile: the durable mode's journal (journal.h), and its replay.
 *
 * One file, DIR/journal, for all the workers of a daemon, so that one
 * fdatasync of it makes every worker's records durable.  Each worker
 * owns two regions of it, 2 * ID and 2 * ID + 1, JFILE_REGION bytes
 * each, written with zeros when the worker starts (so an append never
 * changes the file's size and its fdatasync writes data only).  A
 * worker appends its commits' records to one of its regions, and at
 * each sync of the database turns to the other, rewound: every record
 * of the one it leaves was committed before that sync began, so the
 * sync covers it, and by the next turn it may be written over.  A crash
 * leaves at most the records the database lacks in the two.
 *
 * One writer per region: appends come from the worker's loop, fsync
 * from its sync thread.
 */
#ifndef NFS_JFILE_H
#define NFS_JFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define JFILE_NAME	"journal"
#define JFILE_REGION	(4UL << 20)

struct jfile;

/* Make (or rewrite) worker ID's region N of DIR/journal; -1 with err. */
int	jfile_open(struct jfile **, const char *dir, int id, int n,
	    uint64_t epoch, char *err, size_t errlen);
/*
 * Append a sealed record.  -1 with err when it cannot be written or the
 * region is full: the commit is then durable at the next database sync.
 */
int	jfile_append(struct jfile *, const void *rec, size_t len, char *err,
	    size_t errlen);
int	jfile_sync(struct jfile *, char *err, size_t errlen);
/* Write from the start again (past records stay until overwritten). */
void	jfile_rewind(struct jfile *);
/* Close; with empty, mark the region as holding no record first. */
void	jfile_close(struct jfile *, int empty);

struct jfile_replay {
	unsigned	regions;	/* regions read */
	unsigned	records;	/* commits done again */
	unsigned long	ops;		/* their puts and deletes */
	unsigned	foreign;	/* regions of another database, or
					   no journal at all: ignored */
};

/*
 * At start, before any worker runs: every commit recorded in DIR/journal
 * and newer than the database's last transaction is done again, in
 * transaction order, in one transaction; the database is synced and the
 * journal emptied.  -1 with err (the journal is then left as it is).
 */
int	jfile_replay(struct store *, const char *dir, struct jfile_replay *,
	    char *err, size_t errlen);

#endif
