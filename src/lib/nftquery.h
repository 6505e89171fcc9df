/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftquery: nftset's requests that are not batches: GETTABLE, GETSET
 * (with a cache of what it said, per set name), a dump of a set's
 * elements and one of the table's counters.  Each takes the socket of
 * struct nftset; errors are written to err with nft_fail, naming the set
 * and the caller's operation (op).
 */
#ifndef NFS_NFTQUERY_H
#define NFS_NFTQUERY_H

#include <stddef.h>

#include <linux/netlink.h>

#include "nftint.h"
#include "nftrange.h"

/* Drop what an earlier, failed exchange may have left on the socket. */
void	nft_drain(struct nftset *);
/* The table's name attribute and, unless set is NULL, the set's. */
void	nft_put_names(struct nlmsghdr *, const char *table, int tattr,
	    const char *set, int sattr);

/* Whether the table exists. */
int	query_table(struct nftset *, char *err, size_t errlen);

/*
 * The set's key and flags, from the cache or asked once with GETSET; a
 * map, a concatenation or a key that is not an address is an error.
 * The cache owns the answer: it stays valid until setinfo_forget.
 */
struct setinfo *setinfo_get(struct nftset *, const char *name,
	    const char *op, char *err, size_t errlen);
/* Drop the set from the cache (the ruleset may have changed). */
void	setinfo_forget(struct nftset *, const char *name);

/*
 * The table's counter objects named in c (nftset_counters): a dump of
 * the table's counters, restarted when a commit interrupts it.
 */
int	dump_counters(struct nftset *, struct nftset_counter *c, size_t n,
	    char *err, size_t errlen);

/*
 * The set's content as sorted, disjoint ranges (*out is the caller's to
 * free).  A failed dump forgets si, which is then freed.
 */
int	dump_ranges(struct nftset *, struct setinfo *si, const char *op,
	    struct range **out, size_t *nout, char *err, size_t errlen);

#endif
