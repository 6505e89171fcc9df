/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * store: the LMDB greylist database.  See store.h.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "owner.h"
#include "rstore.h"
#include "store.h"
#include "util.h"

#define META_SCHEMA	"schema"
#define META_EPOCH	"journal-epoch"
#define STORE_SHARED_TRIES	10

static const char *const dbnames[STORE_NTYPES] = {
	[STORE_WHITE] = "white",
	[STORE_GREY] = "grey",
	[STORE_TRAPPED] = "trapped",
	[STORE_SPAMTRAP] = "spamtrap",
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[STORE_NTYPES];
	MDB_dbi		 meta;
	MDB_dbi		 os;
	bool		 have_os;	/* an older read-only one may lack it */
	char		*dir;
	size_t		 mapsize;
	size_t		 maxsize;
	unsigned	 sync_ms;
	bool		 readonly;
	bool		 dirty;		/* committed, not yet fsync'd */
	bool		 defer_sync;
	uint64_t	 lastsync_ms;
	pthread_rwlock_t maplock;	/* shared: a txn; alone: map size */
	struct rstore	*rs;		/* a shared store: all of it is there */
};

struct store_txn {
	struct store	*st;
	MDB_txn		*txn;
	struct journal_buf *jb;		/* logged update; NULL: not */
	int		 mdberr;	/* last LMDB error, to spot MAP_FULL */
	struct rtxn	*rt;		/* a shared store's */
	char		 err[256];
};

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
txn_fail(struct store_txn *t, int rc, const char *what, enum store_type type)
{
	t->mdberr = rc;
	snprintf(t->err, sizeof(t->err), "%s: %s %s: %s", t->st->dir, what,
	    store_type_name(type), mdb_strerror(rc));
	return -1;
}

/* Open (or, when writable and fresh, create) the named databases. */
static int
open_dbis(struct store *st, MDB_txn *txn, bool fresh, char *err,
    size_t errlen)
{
	unsigned flags = fresh ? MDB_CREATE : 0;
	int rc;

	for (int i = 0; i < STORE_NTYPES; i++) {
		rc = mdb_dbi_open(txn, dbnames[i], flags, &st->dbi[i]);
		if (rc != 0)
			return util_seterr(err, errlen, "%s: database \"%s\": %s "
			    "(not an nfspamd database?)", st->dir, dbnames[i],
			    mdb_strerror(rc));
	}
	/* Added later than the others: made by the first writer. */
	rc = mdb_dbi_open(txn, "os", st->readonly ? 0 : MDB_CREATE, &st->os);
	if (rc != 0 && !(rc == MDB_NOTFOUND && st->readonly))
		return util_seterr(err, errlen, "%s: database \"os\": %s",
		    st->dir, mdb_strerror(rc));
	st->have_os = rc == 0;
	return 0;
}

static int
init_schema(struct store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = { sizeof(META_SCHEMA) - 1, (void *)META_SCHEMA };
	uint8_t buf[4];
	MDB_val v = { sizeof(buf), buf };
	int rc;

	util_put32le(buf, STORE_SCHEMA);
	if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
		return util_seterr(err, errlen, "%s: writing schema: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
}

/*
 * A fresh environment (empty main database) gets our layout; anything
 * else must carry our schema record, and never a newer one: we refuse
 * rather than rewrite what we do not understand.
 */
static int
check_schema(struct store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_dbi main;
	MDB_stat ms;
	MDB_val k = { sizeof(META_SCHEMA) - 1, (void *)META_SCHEMA }, v;
	bool fresh;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return util_seterr(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_stat(txn, main, &ms)) != 0) {
		util_seterr(err, errlen, "%s: %s", st->dir, mdb_strerror(rc));
		goto fail;
	}
	fresh = ms.ms_entries == 0;
	if (fresh && st->readonly) {
		util_seterr(err, errlen, "%s: database is empty (nothing was ever "
		    "written to it)", st->dir);
		goto fail;
	}
	rc = mdb_dbi_open(txn, "meta", fresh ? MDB_CREATE : 0, &st->meta);
	if (rc != 0) {
		util_seterr(err, errlen, "%s: not an nfspamd database (an LMDB "
		    "environment without nfspamd's \"meta\" record)", st->dir);
		goto fail;
	}
	if (fresh) {
		if (init_schema(st, txn, err, errlen) == -1)
			goto fail;
	} else {
		rc = mdb_get(txn, st->meta, &k, &v);
		if (rc != 0 || v.mv_size != 4) {
			util_seterr(err, errlen, "%s: not an nfspamd database (no "
			    "schema version)", st->dir);
			goto fail;
		}
		if (util_get32le(v.mv_data) != STORE_SCHEMA) {
			util_seterr(err, errlen, "%s: database schema version %d, "
			    "this program knows version %d only; not touching "
			    "it", st->dir, (int)util_get32le(v.mv_data),
			    STORE_SCHEMA);
			goto fail;
		}
	}
	if (open_dbis(st, txn, fresh, err, errlen) == -1)
		goto fail;
	/* Commit even when read-only: it keeps the dbi handles valid. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return util_seterr(err, errlen, "%s: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
fail:
	mdb_txn_abort(txn);
	return -1;
}

static int
check_dir(const char *dir, const struct store_opts *o, char *err,
    size_t errlen)
{
	struct stat sb;

	if (!o->readonly && o->create && mkdir(dir, 0750) == -1 &&
	    errno != EEXIST) {
		int saved = errno;
		char hint[512];

		return util_seterr(err, errlen, "%s: cannot create: %s (%s)",
		    dir, strerror(saved), owner_hint(saved, dir, hint,
		    sizeof(hint)));
	}
	if (stat(dir, &sb) == -1) {
		if (errno == ENOENT)
			return util_seterr(err, errlen, "%s: no database here "
			    "(directory does not exist)", dir);
		int saved = errno;
		char hint[512];

		return util_seterr(err, errlen, "%s: %s (%s)", dir,
		    strerror(saved), owner_hint(saved, dir, hint, sizeof(hint)));
	}
	if (!S_ISDIR(sb.st_mode))
		return util_seterr(err, errlen, "%s: not a directory (the "
		    "database is an LMDB environment directory)", dir);
	/* Only a creating writer may start a database from nothing. */
	if (o->readonly || !o->create) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		if (stat(path, &sb) == -1 && errno == ENOENT)
			return util_seterr(err, errlen, "%s: no database here "
			    "(no data.mdb)", dir);
	}
	return 0;
}

static const char *
open_errtext(int rc)
{
	switch (rc) {
	case MDB_INVALID:
		return "not an LMDB database (data.mdb is damaged or of "
		    "another format)";
	case MDB_VERSION_MISMATCH:
		return "LMDB version mismatch";
	default:
		return mdb_strerror(rc);
	}
}

/* Permission trouble names the file in the way and what to do. */
static void
open_error(const char *dir, int rc, char *err, size_t errlen)
{
	char path[4096], hint[1024];
	const char *files[] = { "data.mdb", "lock.mdb" };

	if (rc != EACCES && rc != EPERM && rc != EROFS) {
		util_seterr(err, errlen, "%s: %s", dir, open_errtext(rc));
		return;
	}
	/* The first file we may not write, else the directory itself. */
	snprintf(path, sizeof(path), "%s", dir);
	for (size_t i = 0; i < 2; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (access(p, F_OK) == 0 && access(p, R_OK | W_OK) == -1) {
			snprintf(path, sizeof(path), "%s", p);
			break;
		}
	}
	util_seterr(err, errlen, "%s: %s (%s)", dir, mdb_strerror(rc),
	    owner_hint(rc, path, hint, sizeof(hint)));
}

static int
open_shared(struct store **out, const struct store_opts *o, char *err,
    size_t errlen)
{
	struct store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return util_seterr(err, errlen, "out of memory");
	if (rstore_open(&st->rs, o->shared, o->passfile, o->os_ttl, err,
	    errlen) == -1 ||
	    (st->dir = strdup(rstore_name(st->rs))) == NULL) {
		if (st->rs != NULL)
			util_seterr(err, errlen, "out of memory");
		rstore_close(st->rs);
		free(st);
		return -1;
	}
	st->readonly = o->readonly;
	pthread_rwlock_init(&st->maplock, NULL);
	*out = st;
	return 0;
}

int
store_open(struct store **out, const char *dir, const struct store_opts *opts,
    char *err, size_t errlen)
{
	struct store_opts o = { 0 };
	struct store *st;
	MDB_envinfo info;
	unsigned flags;
	int rc, dead;

	*out = NULL;
	if (opts != NULL)
		o = *opts;
	if (o.shared != NULL)
		return open_shared(out, &o, err, errlen);
	if (o.mapsize == 0)
		o.mapsize = STORE_MAPSIZE_DEFAULT;
	/* A limit below the first map size is the map size. */
	if (o.maxsize == 0)
		o.maxsize = STORE_MAXSIZE_DEFAULT;
	else if (o.maxsize < o.mapsize)
		o.mapsize = o.maxsize;
	if (o.maxsize < o.mapsize)
		o.maxsize = o.mapsize;
	if (check_dir(dir, &o, err, errlen) == -1)
		return -1;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->dir = strdup(dir)) == NULL) {
		free(st);
		return util_seterr(err, errlen, "%s: out of memory", dir);
	}
	st->maxsize = o.maxsize;
	st->sync_ms = o.sync_ms;
	st->readonly = o.readonly;
	st->defer_sync = o.defer_sync;
	st->lastsync_ms = monotonic_ms();
	pthread_rwlock_init(&st->maplock, NULL);

	flags = MDB_NOTLS;
	if (o.readonly)
		flags |= MDB_RDONLY;
	else if (o.sync_ms > 0 || o.defer_sync)
		flags |= MDB_NOSYNC;	/* we sync on our own schedule */
	if ((rc = mdb_env_create(&st->env)) != 0) {
		util_seterr(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	mdb_env_set_maxdbs(st->env, STORE_NTYPES + 4);
	mdb_env_set_mapsize(st->env, o.mapsize);
	if ((rc = mdb_env_open(st->env, dir, flags, 0640)) != 0) {
		open_error(dir, rc, err, errlen);
		goto fail;
	}
	/* Reader slots left by killed processes would pin old pages. */
	mdb_reader_check(st->env, &dead);
	if (check_schema(st, err, errlen) == -1)
		goto fail;
	mdb_env_info(st->env, &info);
	st->mapsize = info.me_mapsize;
	*out = st;
	return 0;
fail:
	if (st->env != NULL)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->maplock);
	free(st->dir);
	free(st);
	return -1;
}

static int
sync_now(struct store *st, char *err, size_t errlen)
{
	if (store_sync(st, err, errlen) != 0)
		return -1;
	st->dirty = false;
	st->lastsync_ms = monotonic_ms();
	return 0;
}

int
store_flush(struct store *st, char *err, size_t errlen)
{
	if (!st->dirty)
		return 0;
	return sync_now(st, err, errlen);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_flush(st, NULL, 0);
	if (st->rs != NULL)
		rstore_close(st->rs);
	else
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->maplock);
	free(st->dir);
	free(st);
}

int
store_sync(struct store *st, char *err, size_t errlen)
{
	int rc;

	if (st->rs != NULL)
		return 0;	/* the server's persistence, not ours */
	pthread_rwlock_rdlock(&st->maplock);
	rc = mdb_env_sync(st->env, 1);
	pthread_rwlock_unlock(&st->maplock);
	if (rc != 0)
		return util_seterr(err, errlen, "%s: sync: %s", st->dir,
		    mdb_strerror(rc));
	return 0;
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

size_t
store_mapsize(const struct store *st)
{
	return st->mapsize;
}

bool
store_shared(const struct store *st)
{
	return st->rs != NULL;
}

bool
store_up(const struct store *st)
{
	return st->rs == NULL || rstore_up(st->rs);
}

static int
grow(struct store *st, char *err, size_t errlen)
{
	MDB_envinfo info;
	size_t want;
	int rc;

	if (st->mapsize >= st->maxsize)
		return util_seterr(err, errlen, "%s: database full at %zu MiB "
		    "(the limit is %zu MiB; raise it with --db-max-size)",
		    st->dir, st->mapsize >> 20, st->maxsize >> 20);
	want = st->mapsize * 2;
	if (want > st->maxsize)
		want = st->maxsize;
	if ((rc = mdb_env_set_mapsize(st->env, want)) != 0)
		return util_seterr(err, errlen, "%s: growing the map to %zu MiB: "
		    "%s", st->dir, want >> 20, mdb_strerror(rc));
	mdb_env_info(st->env, &info);
	st->mapsize = info.me_mapsize;
	return 0;
}

/* Another process grew the map: adopt its size. */
static int
adopt_size(struct store *st)
{
	MDB_envinfo info;

	if (mdb_env_set_mapsize(st->env, 0) != 0)
		return -1;
	mdb_env_info(st->env, &info);
	st->mapsize = info.me_mapsize;
	return 0;
}

/* Map size changes: no transaction of this process may be open. */
static int
resize(struct store *st, int (*fn)(struct store *, char *, size_t),
    char *err, size_t errlen)
{
	int r;

	pthread_rwlock_wrlock(&st->maplock);
	r = fn(st, err, errlen);
	pthread_rwlock_unlock(&st->maplock);
	return r;
}

static int
adopt(struct store *st, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return adopt_size(st);
}

/* A transaction, holding the shared lock until end(). */
static int
begin(struct store *st, unsigned flags, MDB_txn **txn, char *err,
    size_t errlen)
{
	int rc;

	for (int tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&st->maplock);
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->maplock);
		if (rc != MDB_MAP_RESIZED || resize(st, adopt, NULL, 0) == -1)
			break;
	}
	return util_seterr(err, errlen, "%s: begin transaction: %s", st->dir,
	    mdb_strerror(rc));
}

static void
end(struct store *st)
{
	pthread_rwlock_unlock(&st->maplock);
}

/*
 * A shared store's update: fn again from the start while another node's
 * commit got in between (EXEC refused), a little later each time.
 */
static int
update_shared(struct store *st, store_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct store_txn t;
	bool again = true;
	int r;

	for (int tries = 0; tries < STORE_SHARED_TRIES; tries++) {
		memset(&t, 0, sizeof(t));
		t.st = st;
		if (tries > 0) {
			struct timespec ts = { 0, 1000000L * tries };

			nanosleep(&ts, NULL);
		}
		if (rtxn_begin(st->rs, true, &t.rt, err, errlen) == -1)
			return -1;
		if ((r = fn(&t, arg)) != 0) {
			util_seterr(err, errlen, "%s", rtxn_error(t.rt)[0] !=
			    '\0' ? rtxn_error(t.rt) : t.err[0] != '\0' ?
			    t.err : "update refused");
			rtxn_abort(t.rt);
			/*
			 * A connection that broke (the server restarted
			 * since it was made) is made again, once, at once.
			 */
			if (again && !rstore_connected(st->rs)) {
				again = false;
				tries--;
				continue;
			}
			return r;
		}
		if ((r = rtxn_commit(t.rt, err, errlen)) != 1)
			return r;
	}
	return util_seterr(err, errlen, "%s: gave up after %d tries: other "
	    "nodes kept changing the same entries", st->dir,
	    STORE_SHARED_TRIES);
}

static int
update(struct store *st, store_fn fn, void *arg, struct journal_buf *jb,
    uint64_t *txnid, char *err, size_t errlen)
{
	struct store_txn t;
	uint64_t now;
	int r, rc;

	if (st->readonly)
		return util_seterr(err, errlen, "%s: opened read-only", st->dir);
	if (st->rs != NULL)
		return update_shared(st, fn, arg, err, errlen);
	for (;;) {
		memset(&t, 0, sizeof(t));
		t.st = st;
		if (jb != NULL) {
			journal_buf_begin(jb);
			t.jb = jb;
		}
		if (begin(st, 0, &t.txn, err, errlen) == -1)
			return -1;
		if (txnid != NULL)
			*txnid = mdb_txn_id(t.txn);
		r = fn(&t, arg);
		if (t.mdberr == MDB_MAP_FULL) {
			mdb_txn_abort(t.txn);
			end(st);
			if (resize(st, grow, err, errlen) == -1)
				return -1;
			continue;
		}
		if (r != 0) {
			mdb_txn_abort(t.txn);
			end(st);
			if (t.err[0] != '\0')
				util_seterr(err, errlen, "%s", t.err);
			else
				util_seterr(err, errlen, "%s: update refused",
				    st->dir);
			return r;
		}
		rc = mdb_txn_commit(t.txn);
		end(st);
		if (rc == MDB_MAP_FULL) {
			if (resize(st, grow, err, errlen) == -1)
				return -1;
			continue;
		}
		if (rc != 0)
			return util_seterr(err, errlen, "%s: commit: %s", st->dir,
			    mdb_strerror(rc));
		break;
	}
	st->dirty = true;
	if (st->defer_sync)
		return 0;
	if (st->sync_ms == 0) {
		st->dirty = false;	/* LMDB synced the commit itself */
		return 0;
	}
	now = monotonic_ms();
	if (now - st->lastsync_ms >= st->sync_ms)
		return sync_now(st, err, errlen);
	return 0;
}

int
store_update(struct store *st, store_fn fn, void *arg, char *err,
    size_t errlen)
{
	return update(st, fn, arg, NULL, NULL, err, errlen);
}

int
store_update_logged(struct store *st, store_fn fn, void *arg,
    struct journal_buf *jb, uint64_t *txnid, char *err, size_t errlen)
{
	return update(st, fn, arg, jb, txnid, err, errlen);
}

int
store_view(struct store *st, store_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct store_txn t;
	int r;

	memset(&t, 0, sizeof(t));
	t.st = st;
	if (st->rs != NULL) {
		if (rtxn_begin(st->rs, false, &t.rt, err, errlen) == -1)
			return -1;
		r = fn(&t, arg);
		if (r != 0 && rtxn_error(t.rt)[0] != '\0')
			util_seterr(err, errlen, "%s", rtxn_error(t.rt));
		else if (r != 0 && t.err[0] != '\0')
			util_seterr(err, errlen, "%s", t.err);
		rtxn_abort(t.rt);
		return r;
	}
	if (begin(st, MDB_RDONLY, &t.txn, err, errlen) == -1)
		return -1;
	r = fn(&t, arg);
	mdb_txn_abort(t.txn);
	end(st);
	if (r != 0 && t.err[0] != '\0')
		util_seterr(err, errlen, "%s", t.err);
	return r;
}

const char *
store_txn_error(const struct store_txn *t)
{
	if (t->rt != NULL && rtxn_error(t->rt)[0] != '\0')
		return rtxn_error(t->rt);
	return t->err;
}

int
store_live(struct store *st, enum store_type type, int64_t now,
    store_live_fn fn, void *arg, char *err, size_t errlen)
{
	struct rtxn *t;
	int r;

	if (st->rs == NULL)
		return util_seterr(err, errlen, "%s: not a shared store",
		    st->dir);
	if (rtxn_begin(st->rs, false, &t, err, errlen) == -1)
		return -1;
	if ((r = rtxn_live(t, type, now, fn, arg)) != 0 &&
	    rtxn_error(t)[0] != '\0')
		util_seterr(err, errlen, "%s", rtxn_error(t));
	rtxn_abort(t);
	return r;
}

int
store_trim(struct store *st, int64_t now, long *removed, char *err,
    size_t errlen)
{
	struct rtxn *t;
	int r;

	*removed = 0;
	if (st->rs == NULL)
		return 0;
	if (rtxn_begin(st->rs, false, &t, err, errlen) == -1)
		return -1;
	if ((r = rtxn_trim(t, now, removed)) != 0)
		util_seterr(err, errlen, "%s", rtxn_error(t));
	rtxn_abort(t);
	return r;
}

int
store_prefetch(struct store_txn *t, const struct store_want *w, size_t n)
{
	return t->rt != NULL ? rtxn_prefetch(t->rt, w, n) : 0;
}

static int
check_key(struct store_txn *t, enum store_type type, size_t keylen)
{
	if ((unsigned)type >= STORE_NTYPES) {
		snprintf(t->err, sizeof(t->err), "%s: bad entry type %d",
		    t->st->dir, (int)type);
		return -1;
	}
	if (keylen == 0 || keylen > STORE_KEYMAX) {
		snprintf(t->err, sizeof(t->err), "%s: %s key of %zu bytes "
		    "(1 to %d allowed)", t->st->dir, store_type_name(type),
		    keylen, STORE_KEYMAX);
		return -1;
	}
	return 0;
}

int
store_get(struct store_txn *t, enum store_type type, const void *key,
    size_t keylen, struct store_rec *r)
{
	MDB_val k = { keylen, (void *)key }, v;
	int rc;

	if (check_key(t, type, keylen) == -1)
		return -1;
	if (t->rt != NULL)
		return rtxn_get(t->rt, type, key, keylen, r);
	rc = mdb_get(t->txn, t->st->dbi[type], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return txn_fail(t, rc, "reading", type);
	if (store_rec_decode(v.mv_data, v.mv_size, r) == -1) {
		snprintf(t->err, sizeof(t->err), "%s: bogus %s entry "
		    "\"%.*s\": %zu bytes, want %d", t->st->dir,
		    store_type_name(type), (int)(keylen > 64 ? 64 : keylen),
		    (const char *)key, v.mv_size, STORE_RECSIZE);
		return -1;
	}
	return 0;
}

int
store_put(struct store_txn *t, enum store_type type, const void *key,
    size_t keylen, const struct store_rec *r)
{
	uint8_t buf[STORE_RECSIZE];
	MDB_val k = { keylen, (void *)key }, v = { sizeof(buf), buf };
	int rc;

	if (check_key(t, type, keylen) == -1)
		return -1;
	if (t->rt != NULL)
		return rtxn_put(t->rt, type, key, keylen, r);
	store_rec_encode(r, buf);
	if ((rc = mdb_put(t->txn, t->st->dbi[type], &k, &v, 0)) != 0)
		return txn_fail(t, rc, "writing", type);
	if (t->jb != NULL)
		journal_buf_put(t->jb, type, key, keylen, buf);
	return 0;
}

int
store_del(struct store_txn *t, enum store_type type, const void *key,
    size_t keylen)
{
	MDB_val k = { keylen, (void *)key };
	int rc;

	if (check_key(t, type, keylen) == -1)
		return -1;
	if (t->rt != NULL)
		return rtxn_del(t->rt, type, key, keylen);
	rc = mdb_del(t->txn, t->st->dbi[type], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return txn_fail(t, rc, "deleting from", type);
	if (t->jb != NULL)
		journal_buf_del(t->jb, type, key, keylen);
	return 0;
}

int
store_meta_get(struct store_txn *t, const char *name, void *buf,
    size_t len, size_t *got)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if (t->rt != NULL)
		return rtxn_meta_get(t->rt, name, buf, len, got);
	if ((rc = mdb_get(t->txn, t->st->meta, &k, &v)) == MDB_NOTFOUND)
		return 1;
	if (rc != 0) {
		snprintf(t->err, sizeof(t->err), "%s: reading meta record "
		    "\"%s\": %s", t->st->dir, name, mdb_strerror(rc));
		return -1;
	}
	*got = v.mv_size;
	memcpy(buf, v.mv_data, v.mv_size < len ? v.mv_size : len);
	return 0;
}

int
store_meta_put(struct store_txn *t, const char *name, const void *buf,
    size_t len)
{
	MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)buf };
	int rc;

	if (t->rt != NULL)
		return rtxn_meta_put(t->rt, name, buf, len);
	if ((rc = mdb_put(t->txn, t->st->meta, &k, &v, 0)) != 0) {
		snprintf(t->err, sizeof(t->err), "%s: writing meta record "
		    "\"%s\": %s", t->st->dir, name, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_get_addr(struct store_txn *t, const char *key, size_t keylen,
    enum store_type *type, struct store_rec *r)
{
	int rc;

	if (t->rt != NULL)
		return keylen == 0 || keylen > STORE_KEYMAX ?
		    check_key(t, STORE_WHITE, keylen) :
		    rtxn_get_addr(t->rt, key, keylen, type, r);
	if ((rc = store_get(t, STORE_WHITE, key, keylen, r)) != 1) {
		if (rc == 0)
			*type = STORE_WHITE;
		return rc;
	}
	if ((rc = store_get(t, STORE_TRAPPED, key, keylen, r)) == 0)
		*type = STORE_TRAPPED;
	return rc;
}

int
store_put_addr(struct store_txn *t, const char *key, size_t keylen,
    enum store_type type, const struct store_rec *r)
{
	enum store_type other;

	if (type == STORE_WHITE)
		other = STORE_TRAPPED;
	else if (type == STORE_TRAPPED)
		other = STORE_WHITE;
	else {
		snprintf(t->err, sizeof(t->err), "%s: %s is not an address "
		    "entry type", t->st->dir, store_type_name(type));
		return -1;
	}
	/* One key holds either: the put replaces the other. */
	if (t->rt != NULL)
		return check_key(t, type, keylen) == -1 ? -1 :
		    rtxn_put_addr(t->rt, key, keylen, type, r);
	if (store_del(t, other, key, keylen) == -1)
		return -1;
	return store_put(t, type, key, keylen, r);
}

static int	scan_range(struct store_txn *, enum store_type, const void *,
	    size_t, bool, store_scan_fn, void *);

int
store_scan(struct store_txn *t, enum store_type type, store_scan_fn fn,
    void *arg)
{
	return store_scan_prefix(t, type, NULL, 0, fn, arg);
}

int
store_scan_prefix(struct store_txn *t, enum store_type type,
    const void *prefix, size_t plen, store_scan_fn fn, void *arg)
{
	return scan_range(t, type, prefix, plen, true, fn, arg);
}

int
store_scan_from(struct store_txn *t, enum store_type type, const void *from,
    size_t flen, store_scan_fn fn, void *arg)
{
	return scan_range(t, type, from, flen, false, fn, arg);
}

/* From the first key >= start; with prefix, only keys that begin so. */
static int
scan_range(struct store_txn *t, enum store_type type, const void *start,
    size_t plen, bool prefix, store_scan_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { .mv_size = plen, .mv_data = (void *)(uintptr_t)start };
	MDB_val v;
	struct store_rec rec;
	int rc, r = 0;

	if ((unsigned)type >= STORE_NTYPES)
		return check_key(t, type, 1);
	if (t->rt != NULL && !prefix) {
		snprintf(t->err, sizeof(t->err), "%s: a shared store has no "
		    "key order to resume a walk from", t->st->dir);
		return -1;
	}
	if (t->rt != NULL)
		return rtxn_scan(t->rt, type, plen > 0 ? start : NULL, plen,
		    fn, arg);
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[type], &cur)) != 0)
		return txn_fail(t, rc, "scanning", type);
	for (rc = mdb_cursor_get(cur, &k, &v, plen > 0 ? MDB_SET_RANGE :
	    MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		bool ok;

		if (prefix && plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, start, plen) != 0)) {
			rc = MDB_NOTFOUND;	/* past the prefix */
			break;
		}
		ok = store_rec_decode(v.mv_data, v.mv_size, &rec) == 0;

		r = fn(arg, type, k.mv_data, k.mv_size, ok ? &rec : NULL);
		if (r != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r != 0)
		return r;
	if (rc != MDB_NOTFOUND)
		return txn_fail(t, rc, "scanning", type);
	return 0;
}

long
store_count(struct store_txn *t, enum store_type type)
{
	MDB_stat ms;
	int rc;

	if ((unsigned)type >= STORE_NTYPES)
		return check_key(t, type, 1);
	if (t->rt != NULL)
		return rtxn_count(t->rt, type);
	if ((rc = mdb_stat(t->txn, t->st->dbi[type], &ms)) != 0)
		return txn_fail(t, rc, "counting", type);
	return (long)ms.ms_entries;
}

struct livecount {
	int64_t	 now;
	size_t	 n, limit;
};

static int
live_one(void *arg, enum store_type type, const char *key, size_t keylen,
    const struct store_rec *rec)
{
	struct livecount *c = arg;

	(void)type;
	(void)key;
	(void)keylen;
	if (rec != NULL && rec->expire > c->now)
		c->n++;
	return c->n >= c->limit;
}

bool
store_txn_shared(const struct store_txn *t)
{
	return t->rt != NULL;
}

int
store_tuples_live(struct store_txn *t, const char *net, size_t netlen,
    size_t limit, int64_t now, size_t *n)
{
	char prefix[STORE_KEYMAX + 1];
	struct livecount c = { now, 0, limit };

	*n = 0;
	if (limit == 0)
		return 0;
	if (netlen == 0 || netlen + 1 > STORE_KEYMAX)
		return check_key(t, STORE_GREY, netlen + 1);
	if (t->rt != NULL)
		return rtxn_tuples_live(t->rt, net, netlen, limit, now, n);
	memcpy(prefix, net, netlen);
	prefix[netlen] = '\n';
	if (store_scan_prefix(t, STORE_GREY, prefix, netlen + 1, live_one,
	    &c) == -1)
		return -1;
	*n = c.n < limit ? c.n : limit;
	return 0;
}

static int
epoch_body(struct store_txn *t, void *arg)
{
	uint64_t *epoch = arg;
	MDB_val k = { sizeof(META_EPOCH) - 1, (void *)META_EPOCH }, v;
	uint8_t buf[8];
	size_t got;
	int rc;

	if (t->rt != NULL) {
		if ((rc = rtxn_meta_get(t->rt, META_EPOCH, buf, sizeof(buf),
		    &got)) == -1)
			return -1;
		if (rc == 0 && got == sizeof(buf)) {
			memcpy(epoch, buf, sizeof(*epoch));
			return 0;
		}
	} else if ((rc = mdb_get(t->txn, t->st->meta, &k, &v)) == 0 &&
	    v.mv_size == sizeof(buf)) {
		memcpy(epoch, v.mv_data, sizeof(*epoch));
		return 0;
	}
	/* Never 0, so that 0 can mean "none" to a reader. */
	do {
		if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
			snprintf(t->err, sizeof(t->err), "%s: getrandom: %s",
			    t->st->dir, strerror(errno));
			return -1;
		}
		memcpy(epoch, buf, sizeof(*epoch));
	} while (*epoch == 0);
	if (t->rt != NULL)
		return rtxn_meta_put(t->rt, META_EPOCH, buf, sizeof(buf));
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	if ((rc = mdb_put(t->txn, t->st->meta, &k, &v, 0)) != 0) {
		snprintf(t->err, sizeof(t->err), "%s: writing the journal "
		    "epoch: %s", t->st->dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_epoch(struct store *st, uint64_t *epoch, char *err, size_t errlen)
{
	*epoch = 0;
	return update(st, epoch_body, epoch, NULL, NULL, err, errlen) == 0 ?
	    0 : -1;
}

uint64_t
store_last_txnid(struct store *st)
{
	MDB_envinfo info;

	if (st->rs != NULL || mdb_env_info(st->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

int
store_apply(struct store_txn *t, const struct journal_op *op)
{
	struct store_rec r;

	if (op->op == JOURNAL_DEL)
		return store_del(t, op->type, op->key, op->keylen) == -1 ?
		    -1 : 0;
	if (store_rec_decode(op->rec, STORE_RECSIZE, &r) != 0) {
		snprintf(t->err, sizeof(t->err), "%s: a journal record that "
		    "does not decode", t->st->dir);
		return -1;
	}
	return store_put(t, op->type, op->key, op->keylen, &r);
}

/* --- the "os" database --- */

/* Value: when (int64 LE), then the name, without its NUL. */
int
store_os_get(struct store_txn *t, const char *key, size_t keylen,
    int64_t *seen, char *os, size_t oslen)
{
	MDB_val k = { keylen, (void *)(uintptr_t)key }, v;
	size_t n;
	int rc;

	if (keylen == 0 || keylen > STORE_KEYMAX)
		return 1;
	if (t->rt != NULL)
		return rtxn_os_get(t->rt, key, keylen, seen, os, oslen);
	if (!t->st->have_os)
		return 1;
	rc = mdb_get(t->txn, t->st->os, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0) {
		t->mdberr = rc;
		snprintf(t->err, sizeof(t->err), "%s: reading os: %s",
		    t->st->dir, mdb_strerror(rc));
		return -1;
	}
	if (v.mv_size < 8 || v.mv_size > 8 + STORE_OSMAX) {
		snprintf(t->err, sizeof(t->err), "%s: bogus os entry "
		    "\"%.*s\": %zu bytes", t->st->dir,
		    (int)(keylen > 64 ? 64 : keylen), key, v.mv_size);
		return -1;
	}
	if (seen != NULL)
		*seen = util_get64le(v.mv_data);
	if (os != NULL && oslen > 0) {
		n = v.mv_size - 8;
		if (n >= oslen)
			n = oslen - 1;
		memcpy(os, (const char *)v.mv_data + 8, n);
		os[n] = '\0';
	}
	return 0;
}

int
store_os_put(struct store_txn *t, const char *key, size_t keylen,
    int64_t seen, const char *os)
{
	uint8_t buf[8 + STORE_OSMAX];
	size_t n = strlen(os);
	MDB_val k = { keylen, (void *)(uintptr_t)key }, v = { 0, buf };
	int rc;

	if (t->rt != NULL)
		return rtxn_os_put(t->rt, key, keylen, seen, os);
	if (!t->st->have_os || t->st->readonly) {
		snprintf(t->err, sizeof(t->err), "%s: no os database "
		    "(read-only)", t->st->dir);
		return -1;
	}
	if (keylen == 0 || keylen > STORE_KEYMAX) {
		snprintf(t->err, sizeof(t->err), "%s: os key of %zu bytes",
		    t->st->dir, keylen);
		return -1;
	}
	if (n > STORE_OSMAX)
		n = STORE_OSMAX;
	util_put64le(buf, seen);
	memcpy(buf + 8, os, n);
	v.mv_size = 8 + n;
	if ((rc = mdb_put(t->txn, t->st->os, &k, &v, 0)) != 0) {
		t->mdberr = rc;
		snprintf(t->err, sizeof(t->err), "%s: writing os: %s",
		    t->st->dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_os_expire(struct store_txn *t, int64_t before, long *deleted)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*deleted = 0;
	if (t->rt != NULL || !t->st->have_os || t->st->readonly)
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->st->os, &cur)) != 0)
		goto fail;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size >= 8 && v.mv_size <= 8 + STORE_OSMAX &&
		    util_get64le(v.mv_data) >= before)
			continue;
		/* Old, or not ours to read: either way of no use. */
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*deleted)++;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
fail:
	t->mdberr = rc;
	snprintf(t->err, sizeof(t->err), "%s: expiring os: %s", t->st->dir,
	    mdb_strerror(rc));
	return -1;
}
