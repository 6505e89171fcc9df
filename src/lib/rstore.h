/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * rstore: the store's second engine, Valkey/Redis over hiredis's
 * blocking API, behind store.h (store.c hands every call on a shared
 * store to the rtxn_* below).  The layout is rlayout.h's.
 *
 * A transaction is optimistic: each key an update reads is WATCHed as it
 * is read, the writes wait in a buffer, and the commit sends them as one
 * MULTI/EXEC.  When another node changed a watched key meanwhile, EXEC
 * does nothing and rtxn_commit says so: store.c runs the body again,
 * as it does for LMDB's map growth.  Reads are cached in the
 * transaction, so it sees its own writes and reads a key once.
 *
 * One connection per rstore, used by one transaction at a time (a
 * mutex).  A lost connection is dropped; the next transaction connects
 * again, no sooner than a backoff that doubles from RSTORE_BACKOFF_MIN
 * to RSTORE_BACKOFF_MAX while it keeps failing.
 */
#ifndef NFS_RSTORE_H
#define NFS_RSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define RSTORE_CONNECT_MS	1000
#define RSTORE_COMMAND_MS	2000
#define RSTORE_BACKOFF_MIN	100	/* ms */
#define RSTORE_BACKOFF_MAX	5000	/* ms */

struct rstore;
struct rtxn;

/*
 * url: rlayout.h's --store; passfile: NULL or its first line.  SIGPIPE
 * is ignored from then on if it was not handled (hiredis writes with
 * write(2), and a server gone must be an error, not the end).
 */
int	rstore_open(struct rstore **, const char *url, const char *passfile,
	    int64_t os_ttl, char *err, size_t errlen);
void	rstore_close(struct rstore *);
/* The first line of file, malloc'd into *out (the caller frees it). */
int	rstore_password(const char *file, char **out, char *err,
	    size_t errlen);
const char	*rstore_name(const struct rstore *);
/* Is the connection up now (false after a failure, until it is back)? */
bool	rstore_up(const struct rstore *);
/* Is there a connection now (false once one failed)? */
bool	rstore_connected(const struct rstore *);

/* begin: 0 or -1 (unreachable, with err).  commit: 0, 1 conflict, -1. */
int	rtxn_begin(struct rstore *, bool write, struct rtxn **, char *err,
	    size_t errlen);
int	rtxn_commit(struct rtxn *, char *err, size_t errlen);
void	rtxn_abort(struct rtxn *);
const char	*rtxn_error(const struct rtxn *);

int	rtxn_get(struct rtxn *, enum store_type, const void *key,
	    size_t keylen, struct store_rec *);
int	rtxn_put(struct rtxn *, enum store_type, const void *key,
	    size_t keylen, const struct store_rec *);
int	rtxn_del(struct rtxn *, enum store_type, const void *key,
	    size_t keylen);
int	rtxn_get_addr(struct rtxn *, const char *key, size_t keylen,
	    enum store_type *, struct store_rec *);
int	rtxn_put_addr(struct rtxn *, const char *key, size_t keylen,
	    enum store_type, const struct store_rec *);
int	rtxn_meta_get(struct rtxn *, const char *name, void *buf,
	    size_t len, size_t *got);
int	rtxn_meta_put(struct rtxn *, const char *name, const void *buf,
	    size_t len);
/* prefix NULL: all; scan_from is not offered (key order is LMDB's). */
int	rtxn_scan(struct rtxn *, enum store_type, const void *prefix,
	    size_t plen, store_scan_fn, void *arg);
long	rtxn_count(struct rtxn *, enum store_type);
int	rtxn_os_get(struct rtxn *, const char *key, size_t keylen,
	    int64_t *seen, char *os, size_t oslen);
int	rtxn_os_put(struct rtxn *, const char *key, size_t keylen,
	    int64_t seen, const char *os);
int	rtxn_prefetch(struct rtxn *, const struct store_want *, size_t n);
int	rtxn_tuples_live(struct rtxn *, const char *net, size_t netlen,
	    size_t limit, int64_t now, size_t *n);
/* store_live and store_trim's work. */
int	rtxn_live(struct rtxn *, enum store_type, int64_t now,
	    store_live_fn, void *arg);
int	rtxn_trim(struct rtxn *, int64_t now, long *removed);

#endif
