/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * store: the greylist database, an LMDB environment shared by every
 * nfspamd program.
 *
 * Named databases: "grey" (tuple keys "ip\nhelo\nfrom\nto"), "white" and
 * "trapped" (address keys in canonical text), "spamtrap" (lower-cased
 * mail addresses) and "meta" (schema version).  An address key lives in
 * at most one of white and trapped, as in spamd where both share one key.
 * Every value is the 32-byte record below, little-endian.
 *
 * LMDB's own locking is the only locking: any number of processes may
 * open the environment at once; writers are serialised by LMDB.
 *
 * The same interface reaches a shared store on Valkey/Redis instead
 * (store_opts.shared; rstore.h, rlayout.h): many hosts, one greylist.
 * Its transactions are optimistic, entries expire by the server's TTLs,
 * and what only LMDB has (map size, fsync, the journal, key order for
 * store_scan_from) is refused or is a no-op there, as each says below.
 */
#ifndef NFS_STORE_H
#define NFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define STORE_DEFAULT_DIR	"/var/lib/nfspamd"
#define STORE_SCHEMA		1
struct store_opts {
	size_t		mapsize;	/* initial map size, bytes; 0: default */
	size_t		maxsize;	/* growth stops here; 0: default */
	unsigned	sync_ms;	/* 0: fsync every commit; else at most
					   this long between syncs */
	bool		readonly;	/* no writes; fails if there is no db */
	bool		create;		/* make DIR if missing (not readonly) */
	bool		defer_sync;	/* commits never fsync, sync_ms aside:
					   the caller calls store_sync */
	const char	*shared;	/* --store URL: Valkey/Redis instead
					   of the directory; NULL: LMDB */
	const char	*passfile;	/* --store-password-file; NULL */
	int64_t		os_ttl;		/* shared: the os entries' TTL, s;
					   0: GREY_WHITEEXP's 36 days */
};

#define STORE_MAPSIZE_DEFAULT	(64UL << 20)
#define STORE_MAXSIZE_DEFAULT	(16UL << 30)
#define STORE_SYNC_MS_DEFAULT	1000

struct store;
struct store_txn;

/* Error text goes to err (always NUL-terminated), naming the directory. */
int		store_open(struct store **, const char *dir,
		    const struct store_opts *, char *err, size_t errlen);
/* Syncs to disk if anything is unsynced, then closes. */
void		store_close(struct store *);
/* The directory, or the shared store's URL: for messages. */
const char	*store_dir(const struct store *);
size_t		store_mapsize(const struct store *);	/* shared: 0 */
/* A shared store?  And is its connection up (LMDB: always)? */
bool		store_shared(const struct store *);
bool		store_up(const struct store *);

/*
 * Writes.  fn runs inside one write transaction; if it returns 0 the
 * transaction commits, otherwise it is aborted and fn's value returned.
 * When the map is full it is grown (up to maxsize) and fn runs again
 * from the start, so fn must not have side effects outside the txn other
 * than ones it can repeat.  Returns 0, fn's non-zero value, or -1 with
 * the reason in err.
 */
typedef int	(*store_fn)(struct store_txn *, void *arg);
int		store_update(struct store *, store_fn, void *arg,
		    char *err, size_t errlen);
/*
 * Same, and every put and delete that commits is also written into jb
 * (journal.h) as one record, with the transaction's id in *txnid: what
 * the durable mode appends to its journal.
 */
struct journal_buf;
struct journal_op;
int		store_update_logged(struct store *, store_fn, void *arg,
		    struct journal_buf *jb, uint64_t *txnid, char *err,
		    size_t errlen);
/* Same, in a read-only transaction (a snapshot). */
int		store_view(struct store *, store_fn, void *arg,
		    char *err, size_t errlen);

/*
 * Read ahead, in one round trip on a shared store, what a body is about
 * to read (greylist_rcpt_wants says it for a RCPT); LMDB: nothing to do.
 * TUPLES: every tuple of the network key; TUPLE: one tuple (its whole
 * key); COUNT: how many tuples the network key has (store_tuples_live);
 * ADDR: the WHITE or TRAPPED entry; SPAMTRAP: the mail address; OS: the
 * os entry.  0 or -1.
 */
enum store_want_kind {
	STORE_WANT_TUPLES, STORE_WANT_ADDR, STORE_WANT_SPAMTRAP, STORE_WANT_OS,
	STORE_WANT_TUPLE, STORE_WANT_COUNT
};
struct store_want {
	enum store_want_kind	 kind;
	const char		*key;
	size_t			 keylen;
};
int		store_prefetch(struct store_txn *, const struct store_want *,
		    size_t n);

/*
 * A shared store only (-1 on LMDB): every WHITE or TRAPPED address that
 * lives past now, with its expiry, from the sorted sets kept beside the
 * entries (a read of those, not of the keyspace), in batches; fn returns
 * non-zero to stop.  store_trim drops what expired from the sets (the
 * entries themselves go by their TTL).
 */
typedef int	(*store_live_fn)(void *arg, const char *key, size_t keylen,
		    int64_t expire);
int		store_live(struct store *, enum store_type, int64_t now,
		    store_live_fn, void *arg, char *err, size_t errlen);
int		store_trim(struct store *, int64_t now, long *removed,
		    char *err, size_t errlen);

/* Sync now if a commit is waiting for its sync.  For a periodic timer. */
int		store_flush(struct store *, char *err, size_t errlen);

/*
 * fsync what was committed before the call (with defer_sync).  Safe to
 * call from another thread while store_update runs.
 */
int		store_sync(struct store *, char *err, size_t errlen);

/*
 * Threads: one store may be used from two threads at once, one writing
 * (store_update) and others reading (store_view) or syncing; every
 * transaction holds a shared lock, and growing the map takes it alone,
 * as LMDB wants no transaction of this process open then.
 */

/*
 * Inside a transaction.  Keys are byte strings (no NUL terminator stored).
 * get: 0 found, 1 not found, -1 error (bogus value counts as error).
 * put/del: 0 ok, 1 (del) not found, -1 error.  The error text is kept in
 * the txn; store_txn_error() returns it.
 */
int		store_get(struct store_txn *, enum store_type,
		    const void *key, size_t keylen, struct store_rec *);
int		store_put(struct store_txn *, enum store_type,
		    const void *key, size_t keylen, const struct store_rec *);
int		store_del(struct store_txn *, enum store_type,
		    const void *key, size_t keylen);
const char	*store_txn_error(const struct store_txn *);

/*
 * A small record of the "meta" database by name (not journalled: for
 * settings written at start).  get: 0 found (*got its size; at most len
 * bytes copied), 1 not found, -1 error; put: 0 or -1.
 */
int		store_meta_get(struct store_txn *, const char *name, void *buf,
		    size_t len, size_t *got);
int		store_meta_put(struct store_txn *, const char *name,
		    const void *buf, size_t len);

/*
 * An address key (white or trapped): finds it in either database.
 * 0 found (*type set), 1 not found, -1 error.
 */
int		store_get_addr(struct store_txn *, const char *key, size_t keylen,
		    enum store_type *, struct store_rec *);
/* Put as type (WHITE or TRAPPED), removing the key from the other one. */
int		store_put_addr(struct store_txn *, const char *key, size_t keylen,
		    enum store_type, const struct store_rec *);

/*
 * Walk one database in key order.  rec is NULL for a value that does not
 * decode (a bogus entry).  fn returns 0 to go on, non-zero to stop; that
 * value is returned.  Changing the walked database from fn is not allowed
 * (collect, then change).
 */
typedef int	(*store_scan_fn)(void *arg, enum store_type,
		    const char *key, size_t keylen, const struct store_rec *rec);
int		store_scan(struct store_txn *, enum store_type,
		    store_scan_fn, void *arg);
/* The same, over the keys that start with prefix only. */
int		store_scan_prefix(struct store_txn *, enum store_type,
		    const void *prefix, size_t plen, store_scan_fn, void *arg);
/*
 * The same, from the first key at or after from (from: NULL, all).  A
 * shared store has no key order: -1 there.  Its scans walk SCAN's
 * batches, in no order, and may see an entry twice.
 */
int		store_scan_from(struct store_txn *, enum store_type,
		    const void *from, size_t flen, store_scan_fn, void *arg);
/*
 * The database's journal epoch (journal.h), made on first use: a random
 * number that tells its journals from another database's.
 */
int		store_epoch(struct store *, uint64_t *, char *err,
		    size_t errlen);
/* The id of the last transaction committed; 0 if unknown (shared). */
uint64_t	store_last_txnid(struct store *);
/* Inside a transaction: one journal operation, done again. */
int		store_apply(struct store_txn *, const struct journal_op *);
/* Entries in one database, -1 on error. */
long		store_count(struct store_txn *, enum store_type);
/*
 * Do the live tuples (expire > now) of one network key reach limit?
 * Then *n is limit; otherwise *n is below limit: LMDB's count of them,
 * or a shared store's hash length, expired tuples included, which is
 * all it reads unless that length reaches limit.  0 or -1.
 */
int		store_tuples_live(struct store_txn *, const char *net,
		    size_t netlen, size_t limit, int64_t now, size_t *n);
/* Is this a shared store's transaction? */
bool		store_txn_shared(const struct store_txn *);

/*
 * The "os" database: what fingerprinting (osf.h) last said of an address
 * (the key, canonical text as in white), and when.  An annotation: not
 * journalled, not synced to peers, dropped at will.  get: 0 found (os
 * NUL-terminated, cut to oslen), 1 not found (also in an older database
 * opened read-only, which has no "os"), -1 error.  put: 0 or -1; the
 * name is cut to STORE_OSMAX bytes.  expire: deletes entries last seen
 * before the time given (and bogus ones), counting them; on a shared
 * store the server's TTL (os_ttl) does it, and expire deletes nothing.
 */
#define STORE_OSMAX	96
int		store_os_get(struct store_txn *, const char *key, size_t keylen,
		    int64_t *seen, char *os, size_t oslen);
int		store_os_put(struct store_txn *, const char *key, size_t keylen,
		    int64_t seen, const char *os);
int		store_os_expire(struct store_txn *, int64_t before,
		    long *deleted);

#endif
