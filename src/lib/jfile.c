/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jfile.h"
#include "journal.h"
#include "util.h"

#define JFILE_READMAX	(1UL << 30)	/* 128 workers' regions */

struct jfile {
	int	 fd;
	off_t	 base;		/* the region's start */
	off_t	 off;		/* where the next record goes */
	char	 path[PATH_MAX];
};

/* The region's header, then zeros to its end, in page-sized writes. */
static int
prepare(struct jfile *j, uint64_t epoch)
{
	static const uint8_t zero[4096];
	uint8_t page[4096];

	memset(page, 0, sizeof(page));
	journal_header(page, epoch);
	if (pwrite(j->fd, page, sizeof(page), j->base) != (ssize_t)sizeof(page))
		return -1;
	for (off_t o = (off_t)sizeof(page); o < (off_t)JFILE_REGION;
	    o += (off_t)sizeof(zero))
		if (pwrite(j->fd, zero, sizeof(zero), j->base + o) !=
		    (ssize_t)sizeof(zero))
			return -1;
	return 0;
}

int
jfile_open(struct jfile **jp, const char *dir, int id, int n, uint64_t epoch,
    char *err, size_t errlen)
{
	struct jfile *j;

	*jp = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if ((size_t)snprintf(j->path, sizeof(j->path), "%s/" JFILE_NAME,
	    dir) >= sizeof(j->path)) {
		free(j);
		return util_seterr(err, errlen, "%s: path too long", dir);
	}
	j->base = (off_t)(2 * id + n) * (off_t)JFILE_REGION;
	j->off = j->base + JOURNAL_HDRSIZE;
	if ((j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    prepare(j, epoch) == -1 || fdatasync(j->fd) == -1) {
		util_seterr(err, errlen, "%s: %s", j->path, strerror(errno));
		jfile_close(j, 0);
		return -1;
	}
	*jp = j;
	return 0;
}

int
jfile_append(struct jfile *j, const void *rec, size_t len, char *err,
    size_t errlen)
{
	ssize_t n;

	if (len > (size_t)(j->base + (off_t)JFILE_REGION - j->off))
		return util_seterr(err, errlen, "%s: region full (%lu MiB "
		    "of records since the last database sync)", j->path,
		    JFILE_REGION >> 20);
	if ((n = pwrite(j->fd, rec, len, j->off)) != (ssize_t)len)
		return util_seterr(err, errlen, "%s: %s", j->path, n == -1 ?
		    strerror(errno) : "short write");
	j->off += (off_t)len;
	return 0;
}

int
jfile_sync(struct jfile *j, char *err, size_t errlen)
{
	if (fdatasync(j->fd) == -1)
		return util_seterr(err, errlen, "%s: fdatasync: %s", j->path,
		    strerror(errno));
	return 0;
}

void
jfile_rewind(struct jfile *j)
{
	j->off = j->base + JOURNAL_HDRSIZE;
}

void
jfile_close(struct jfile *j, int empty)
{
	static const uint8_t zero[JOURNAL_RECHDR];

	if (j == NULL)
		return;
	if (j->fd != -1) {
		/* No record magic where the first would be: none. */
		if (empty && pwrite(j->fd, zero, sizeof(zero), j->base +
		    JOURNAL_HDRSIZE) == (ssize_t)sizeof(zero))
			fdatasync(j->fd);
		close(j->fd);
	}
	free(j);
}

/* --- replay --- */

struct rec {
	uint64_t	 txnid;
	const uint8_t	*body;
	size_t		 len;
};

struct replay {
	uint8_t		**bufs;		/* regions that hold records */
	size_t		  nbufs;
	struct rec	 *recs;
	size_t		  nrecs, caprecs;
	uint64_t	  after;	/* the database's last transaction */
	bool		  nomem;
};

static int
collect(void *arg, uint64_t txnid, const uint8_t *body, size_t len)
{
	struct replay *r = arg;
	struct rec *p;

	if (txnid <= r->after)
		return 0;	/* the database has it */
	if (r->nrecs == r->caprecs) {
		size_t cap = r->caprecs ? r->caprecs * 2 : 256;

		if ((p = reallocarray(r->recs, cap, sizeof(*p))) == NULL) {
			r->nomem = true;
			return 1;
		}
		r->recs = p;
		r->caprecs = cap;
	}
	r->recs[r->nrecs++] = (struct rec){ txnid, body, len };
	return 0;
}

static int
by_txnid(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->txnid < y->txnid ? -1 : x->txnid > y->txnid;
}

static int
count_op(void *arg, const struct journal_op *op)
{
	unsigned long *n = arg;

	(void)op;
	(*n)++;
	return 0;
}

static int
apply_op(void *arg, const struct journal_op *op)
{
	return store_apply(arg, op) == -1 ? -1 : 0;
}

static int
apply_all(struct store_txn *t, void *arg)
{
	struct replay *r = arg;

	for (size_t i = 0; i < r->nrecs; i++)
		if (journal_ops(r->recs[i].body, r->recs[i].len, apply_op,
		    t) != 0)
			return -1;
	return 0;
}

/* Region k of the file: its records into r, kept if it has any. */
static int
read_region(int fd, off_t at, size_t len, uint64_t epoch, struct replay *r,
    struct jfile_replay *st, char *err, size_t errlen)
{
	uint8_t *buf, **bufs;
	uint64_t fe;
	size_t got = 0, before = r->nrecs;
	const char *why;
	ssize_t n;

	if ((buf = malloc(len)) == NULL)
		return util_seterr(err, errlen, "out of memory");
	while (got < len && (n = pread(fd, buf + got, len - got,
	    at + (off_t)got)) > 0)
		got += (size_t)n;
	if (got < JOURNAL_HDRSIZE || memcmp(buf, (uint8_t[JOURNAL_HDRSIZE]){ 0 },
	    JOURNAL_HDRSIZE) == 0) {
		free(buf);	/* never written: a worker that never ran */
		return 0;
	}
	st->regions++;
	if (journal_check_header(buf, got, &fe, &why) == -1 || fe != epoch) {
		st->foreign++;
		free(buf);
		return 0;
	}
	journal_records(buf + JOURNAL_HDRSIZE, got - JOURNAL_HDRSIZE, collect,
	    r);
	if (r->nomem) {
		free(buf);
		return util_seterr(err, errlen, "out of memory");
	}
	if (r->nrecs == before) {
		free(buf);
		return 0;
	}
	if ((bufs = reallocarray(r->bufs, r->nbufs + 1, sizeof(*bufs))) ==
	    NULL) {
		free(buf);
		return util_seterr(err, errlen, "out of memory");
	}
	r->bufs = bufs;
	r->bufs[r->nbufs++] = buf;
	return 0;
}

static void
replay_free(struct replay *r)
{
	for (size_t i = 0; i < r->nbufs; i++)
		free(r->bufs[i]);
	free(r->bufs);
	free(r->recs);
}

int
jfile_replay(struct store *s, const char *dir, struct jfile_replay *st,
    char *err, size_t errlen)
{
	struct replay r = { 0 };
	char path[PATH_MAX];
	struct stat sb;
	uint64_t epoch;
	int fd, rc = -1;

	memset(st, 0, sizeof(*st));
	if ((size_t)snprintf(path, sizeof(path), "%s/" JFILE_NAME, dir) >=
	    sizeof(path))
		return util_seterr(err, errlen, "%s: path too long", dir);
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &sb) == -1) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > JFILE_READMAX) {
		util_seterr(err, errlen, "%s: %s", path, !S_ISREG(sb.st_mode) ?
		    "not a regular file" : "longer than any journal");
		goto out;
	}
	if (sb.st_size == 0) {
		rc = 0;
		goto out;
	}
	r.after = store_last_txnid(s);
	if (store_epoch(s, &epoch, err, errlen) == -1)
		goto out;
	for (off_t at = 0; at < sb.st_size; at += (off_t)JFILE_REGION) {
		size_t len = (size_t)(sb.st_size - at) < JFILE_REGION ?
		    (size_t)(sb.st_size - at) : JFILE_REGION;

		if (read_region(fd, at, len, epoch, &r, st, err, errlen) == -1)
			goto out;
	}
	if (r.nrecs > 0) {
		qsort(r.recs, r.nrecs, sizeof(*r.recs), by_txnid);
		for (size_t i = 0; i < r.nrecs; i++)
			journal_ops(r.recs[i].body, r.recs[i].len, count_op,
			    &st->ops);
		if (store_update(s, apply_all, &r, err, errlen) != 0 ||
		    store_sync(s, err, errlen) != 0)
			goto out;
		st->records = (unsigned)r.nrecs;
	}
	/* All of it is in the synced database now; workers make theirs. */
	if (ftruncate(fd, 0) == -1 || fdatasync(fd) == -1) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	replay_free(&r);
	return rc;
}
