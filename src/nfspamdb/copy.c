/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * copy: nfspamdb --copy-from SOURCE, a migration between an LMDB
 * directory and a shared store, either way, or between two of a kind.
 * See nfspamdb.h.
 *
 * The source is read in one read-only transaction, type by type; its
 * live entries go to the destination in batches of COPY_BATCH, one
 * store_update each, written from inside the source's walk: the two are
 * different stores, and store.h forbids changing only the store walked.
 * Only one batch is held in memory.  A failed batch stops the copy; the
 * batches before it stay, and copying again writes the same values.
 */

#include "config.h"

#include <sys/stat.h>

#include <err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greylist.h"
#include "log.h"
#include "nfspamdb.h"
#include "owner.h"
#include "rlayout.h"
#include "store.h"

/* After nfspamdb.h, whose enum result has an R_OK of its own. */
#include <unistd.h>

#define COPY_BATCH	1000
#define SHOWBOGUS	20	/* bogus entries named one by one */
#define COPY_ERRLEN	1024	/* a store's error and the entry's key */

struct centry {
	enum store_type		 type;
	char			 key[STORE_KEYMAX];
	size_t			 keylen;
	struct store_rec	 rec;
};

struct copy {
	struct nfspamdb		*db;
	const char		*src, *dst;	/* as given */
	bool			 srcshared, dstshared;
	struct store		*from, *to;
	struct centry		*batch;
	size_t			 n;
	size_t			 bad;		/* the entry put_batch met */
	long long		 copied[STORE_NTYPES];
	long long		 expired, bogus;
	char			 err[COPY_ERRLEN];
	char			 txnerr[COPY_ERRLEN];
};

/* The -N settings of both ends, for the check before the copy. */
struct nets {
	struct grey_conf	 src, dst;
	bool			 differ;
	char			 txnerr[COPY_ERRLEN];
};

static const enum store_type order[] = {
	STORE_WHITE, STORE_GREY, STORE_TRAPPED, STORE_SPAMTRAP
};
#define NORDER	(sizeof(order) / sizeof(order[0]))

/*
 * rstore names the password file --store-password-file; for the source
 * it was given as --copy-password-file.
 */
static void
open_failed(const char *err, const char *passflag)
{
	const char	*std = "--store-password-file";

	if (strncmp(err, std, strlen(std)) == 0)
		warnx("%s%s", passflag, err + strlen(std));
	else
		warnx("%s", err);
}

static int
open_end(struct store **st, const char *name, bool shared,
    const char *passfile, bool source)
{
	struct store_opts	opts;
	char			err[COPY_ERRLEN];

	memset(&opts, 0, sizeof(opts));
	opts.readonly = source;
	opts.create = !source;
	/* One fsync at the end, not one per batch. */
	opts.defer_sync = !source;
	opts.shared = shared ? name : NULL;
	opts.passfile = passfile;
	if (store_open(st, name, &opts, err, sizeof(err)) == -1) {
		*st = NULL;
		open_failed(err, source ? "--copy-password-file" :
		    "--store-password-file");
		return -1;
	}
	return 0;
}

/*
 * Copying a store into itself would only rewrite it, and LMDB wants no
 * environment opened twice in one process: refused.
 */
static int
same_store(const struct copy *c)
{
	struct rl_url	 a, b;
	struct stat	 sa, sb;
	char		 na[400], nb[400], e[ERRLEN];
	bool		 same;

	if (c->srcshared != c->dstshared)
		return 0;
	if (c->srcshared) {
		if (rl_url_parse(c->src, &a, e, sizeof(e)) == -1 ||
		    rl_url_parse(c->dst, &b, e, sizeof(e)) == -1)
			return 0;	/* parse_args checked both */
		rl_url_format(&a, na, sizeof(na));
		rl_url_format(&b, nb, sizeof(nb));
		same = strcmp(na, nb) == 0;
	} else
		same = stat(c->src, &sa) == 0 && stat(c->dst, &sb) == 0 &&
		    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (!same)
		return 0;
	warnx("--copy-from %s: the same store as %s", c->src, c->dst);
	return -1;
}

/*
 * Run as root, become the owner of the LMDB directory, as for --db, so
 * that neither end gets a file of root's: the source's when it has one
 * (the destination is then made as that user), else the destination's.
 * Two directories of two different owners cannot both be kept so.
 */
static int
copy_owner(const struct copy *c)
{
	struct stat	 ss, ds;
	const char	*dir = NULL;
	char		 e[ERRLEN], su[64], du[64];
	bool		 srcdir, dstdir;

	if (geteuid() != 0)
		return 0;
	srcdir = !c->srcshared && stat(c->src, &ss) == 0;
	dstdir = !c->dstshared && stat(c->dst, &ds) == 0;
	if (srcdir && dstdir && ss.st_uid != ds.st_uid) {
		warnx("%s belongs to %s and %s to %s: copy as one of them, "
		    "with access to the other", c->src,
		    owner_name(ss.st_uid, su, sizeof(su)), c->dst,
		    owner_name(ds.st_uid, du, sizeof(du)));
		return -1;
	}
	if (srcdir)
		dir = c->src;
	else if (dstdir)
		dir = c->dst;
	if (dir != NULL && owner_adopt(dir, NULL, e, sizeof(e)) == -1) {
		warnx("%s", e);
		return -1;
	}
	return 0;
}

static int
noop_txn(struct store_txn *t, void *arg)
{
	(void)t;
	(void)arg;
	return 0;
}

/* A shared store's first transaction connects; the connection stays. */
static int
connect_end(struct store *st)
{
	char	err[COPY_ERRLEN];

	if (store_view(st, noop_txn, NULL, err, sizeof(err)) != 0) {
		warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The shared stores first: opening one reads its password file and
 * connecting uses its socket as the user who runs nfspamdb, before
 * copy_owner may become another.
 */
static int
open_ends(struct copy *c)
{
	struct nfspamdb	*db = c->db;

	if (c->srcshared && (open_end(&c->from, c->src, true, db->copypass,
	    true) == -1 || connect_end(c->from) == -1))
		return -1;
	if (c->dstshared && (open_end(&c->to, c->dst, true, db->passfile,
	    false) == -1 || connect_end(c->to) == -1))
		return -1;
	if (copy_owner(c) == -1)
		return -1;
	if (!c->srcshared && open_end(&c->from, c->src, false, NULL,
	    true) == -1)
		return -1;
	if (!c->dstshared && open_end(&c->to, c->dst, false, NULL,
	    false) == -1)
		return -1;
	return 0;
}

/* --- -N --- */

static int
nets_src_txn(struct store_txn *t, void *arg)
{
	struct nets	*n = arg;
	int		 rc;

	if ((rc = greylist_nets_load(t, &n->src)) == -1) {
		snprintf(n->txnerr, sizeof(n->txnerr), "%s",
		    store_txn_error(t));
		return TXN_FAILED;
	}
	return rc;	/* 1: none recorded, nothing to copy */
}

/* Recorded when the destination has none; else it must be the same. */
static int
nets_dst_txn(struct store_txn *t, void *arg)
{
	struct nets	*n = arg;
	int		 rc;

	n->differ = false;
	if ((rc = greylist_nets_load(t, &n->dst)) == 0) {
		n->differ = n->dst.net4 != n->src.net4 ||
		    n->dst.net6 != n->src.net6;
		return n->differ ? 1 : 0;
	}
	if (rc == 1 && greylist_nets_save(t, &n->src) == 0)
		return 0;
	snprintf(n->txnerr, sizeof(n->txnerr), "%s", store_txn_error(t));
	return TXN_FAILED;
}

static int
copy_nets(struct copy *c)
{
	struct nets	n;
	int		r;

	memset(&n, 0, sizeof(n));
	r = store_view(c->from, nets_src_txn, &n, c->err, sizeof(c->err));
	if (r == 1)
		return 0;
	if (r != 0) {
		warnx("%s", r == TXN_FAILED ? n.txnerr : c->err);
		return -1;
	}
	r = store_update(c->to, nets_dst_txn, &n, c->err, sizeof(c->err));
	if (r == 1 && n.differ) {
		warnx("%s keys by -N %u:%u but %s by -N %u:%u: the WHITE "
		    "entries and tuples copied would not be found; nothing "
		    "copied",
		    store_dir(c->from), n.src.net4, n.src.net6,
		    store_dir(c->to), n.dst.net4, n.dst.net6);
		return -1;
	}
	if (r != 0) {
		warnx("%s", r == TXN_FAILED ? n.txnerr : c->err);
		return -1;
	}
	return 0;
}

/* --- the entries --- */

static int
put_batch(struct store_txn *t, void *arg)
{
	struct copy	*c = arg;
	struct centry	*e;
	size_t		 i;
	int		 r;

	for (i = 0; i < c->n; i++) {
		e = &c->batch[i];
		if (e->type == STORE_WHITE || e->type == STORE_TRAPPED)
			r = store_put_addr(t, e->key, e->keylen, e->type,
			    &e->rec);
		else
			r = store_put(t, e->type, e->key, e->keylen, &e->rec);
		if (r == -1) {
			c->bad = i;
			snprintf(c->txnerr, sizeof(c->txnerr), "%s",
			    store_txn_error(t));
			return TXN_FAILED;
		}
	}
	return 0;
}

/* The batch into the destination: 0, or 1 after a message. */
static int
flush(struct copy *c)
{
	const struct centry	*e;
	char			 q[SHOWLEN];
	size_t			 i;
	int			 r;

	if (c->n == 0)
		return 0;
	r = store_update(c->to, put_batch, c, c->err, sizeof(c->err));
	if (r == TXN_FAILED) {
		e = &c->batch[c->bad];
		warnx("copying %s entry %s from %s: %s",
		    store_type_name(e->type), log_quote(q, sizeof(q), e->key,
		    e->keylen), store_dir(c->from), c->txnerr);
		return 1;
	}
	if (r != 0) {
		e = &c->batch[0];
		warnx("%s (writing %zu entries from %s, the first %s %s)",
		    c->err, c->n, store_dir(c->from),
		    store_type_name(e->type), log_quote(q, sizeof(q), e->key,
		    e->keylen));
		return 1;
	}
	for (i = 0; i < c->n; i++)
		c->copied[c->batch[i].type]++;
	c->n = 0;
	return 0;
}

static void
bogus(struct copy *c, enum store_type type, const char *key, size_t keylen,
    const char *why)
{
	char	q[SHOWLEN];

	if (++c->bogus <= SHOWBOGUS)
		warnx("%s: bogus %s entry %s (%s): not copied",
		    store_dir(c->from), store_type_name(type),
		    log_quote(q, sizeof(q), key, keylen), why);
}

/* From the source's walk: 0 to go on, 1 when a batch failed. */
static int
copy_entry(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct copy		*c = arg;
	struct store_tuple	 t;
	struct rl_loc		 loc;
	struct centry		*e;

	if (rec == NULL) {
		bogus(c, type, key, keylen, "its record does not decode");
		return 0;
	}
	if (keylen == 0 || keylen > STORE_KEYMAX ||
	    (type == STORE_GREY && store_tuple_split(key, keylen, &t) == -1)) {
		bogus(c, type, key, keylen, "not a key of its type");
		return 0;
	}
	if (c->dstshared && rl_locate(type, key, keylen, &loc) == -1) {
		bogus(c, type, key, keylen, "no place in a shared store");
		return 0;
	}
	/* A SPAMTRAP never expires. */
	if (type != STORE_SPAMTRAP && rec->expire <= c->db->now) {
		c->expired++;
		return 0;
	}
	e = &c->batch[c->n++];
	e->type = type;
	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	e->rec = *rec;
	return c->n == COPY_BATCH ? flush(c) : 0;
}

static int
walk_txn(struct store_txn *t, void *arg)
{
	struct copy	*c = arg;
	size_t		 i;
	int		 r;

	for (i = 0; i < NORDER; i++) {
		if ((r = store_scan(t, order[i], copy_entry, c)) == -1) {
			snprintf(c->txnerr, sizeof(c->txnerr), "%s",
			    store_txn_error(t));
			return TXN_FAILED;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

static int
copy_entries(struct copy *c)
{
	int	r;

	r = store_view(c->from, walk_txn, c, c->err, sizeof(c->err));
	if (r == TXN_FAILED || r == -1) {
		warnx("%s", r == TXN_FAILED ? c->txnerr : c->err);
		return -1;
	}
	if (r != 0 || flush(c) != 0)
		return -1;
	if (c->bogus > SHOWBOGUS)
		warnx("%s: %lld bogus entries not copied, the first %d named",
		    store_dir(c->from), c->bogus, SHOWBOGUS);
	if (store_sync(c->to, c->err, sizeof(c->err)) == -1) {
		warnx("%s", c->err);
		return -1;
	}
	return 0;
}

int
copy_run(struct nfspamdb *db)
{
	struct copy	 c;
	int		 status = 1;

	memset(&c, 0, sizeof(c));
	c.db = db;
	c.src = db->copyfrom;
	c.srcshared = rl_url_is_shared(c.src);
	c.dst = db->shared != NULL ? db->shared : db->dir;
	c.dstshared = db->shared != NULL;
	if ((c.batch = calloc(COPY_BATCH, sizeof(*c.batch))) == NULL)
		err(1, NULL);
	if (same_store(&c) == 0 && open_ends(&c) == 0 &&
	    copy_nets(&c) == 0 && copy_entries(&c) == 0) {
		fprintf(db->out, "copied %lld WHITE, %lld GREY, %lld TRAPPED, "
		    "%lld SPAMTRAP from %s to %s (%lld expired, %lld bogus "
		    "skipped)\n", c.copied[STORE_WHITE], c.copied[STORE_GREY],
		    c.copied[STORE_TRAPPED], c.copied[STORE_SPAMTRAP],
		    store_dir(c.from), store_dir(c.to), c.expired, c.bogus);
		status = 0;
	}
	if (c.from != NULL)
		store_close(c.from);
	if (c.to != NULL)
		store_close(c.to);
	free(c.batch);
	return status;
}
