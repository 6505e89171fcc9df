/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftset: nfspamd's nftables sets over netlink (libnftnl + libmnl), with
 * no nft subprocess.  Every change is one netlink batch, i.e. one kernel
 * transaction, however many messages it takes (at most NFTSET_CHUNK
 * elements per message: a nest over 64 KiB aborts the batch).
 *
 * Sets of "table inet nfspamd" (nft/nfspamd.nft): spamd-white/
 * spamd-white6 and spamd-greytrap/spamd-greytrap6 (addresses, flags timeout), nospamd/
 * nospamd6 and spamd/spamd6 (prefixes, flags interval).  An element's
 * family must match the set's type.
 */
#ifndef NFS_NFTSET_H
#define NFS_NFTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NFTSET_TABLE		"nfspamd"
#define NFTSET_CHUNK		2000

#define NFTSET_WHITE		"spamd-white"
#define NFTSET_WHITE6		"spamd-white6"
#define NFTSET_TRAP		"spamd-greytrap"
#define NFTSET_TRAP6		"spamd-greytrap6"
#define NFTSET_NOSPAMD		"nospamd"
#define NFTSET_NOSPAMD6		"nospamd6"
#define NFTSET_BLACK		"spamd"
#define NFTSET_BLACK6		"spamd6"

struct nftset_elem {
	struct prefix	pfx;		/* full length for address sets */
	uint64_t	timeout_ms;	/* 0: none (or the set's default) */
	uint64_t	expires_ms;	/* nftset_list: time left; else unused */
};

struct nftset;

/* Opens a netlink socket (needs CAP_NET_ADMIN in the netns). */
int	nftset_open(struct nftset **, const char *table, char *err,
	    size_t errlen);
void	nftset_close(struct nftset *);

/*
 * Check that the table and each named set exist.  A missing one is an
 * error naming it and saying how to load the ruleset
 * ("nft -f /etc/nfspamd/nfspamd.nft").
 */
int	nftset_check(struct nftset *, const char *const *sets, size_t n,
	    char *err, size_t errlen);

/* Add elements (an existing element gets its timeout refreshed). */
int	nftset_add(struct nftset *, const char *set,
	    const struct nftset_elem *, size_t n, char *err, size_t errlen);
/* Delete elements (a missing one is not an error). */
int	nftset_del(struct nftset *, const char *set,
	    const struct nftset_elem *, size_t n, char *err, size_t errlen);
/* Adds and deletes in one transaction. */
int	nftset_apply(struct nftset *, const char *set,
	    const struct nftset_elem *add, size_t nadd,
	    const struct nftset_elem *del, size_t ndel, char *err,
	    size_t errlen);
/* Flush the set and add these, in one transaction. */
int	nftset_replace(struct nftset *, const char *set,
	    const struct nftset_elem *, size_t n, char *err, size_t errlen);
/*
 * Changes to several sets in one transaction: for each, [flush,]
 * deletes, adds.  Deletes are strict and nothing is dumped to check
 * them (a dump of a big interval set is quadratic): an element that is
 * not in its set exactly fails the whole transaction, nothing changes,
 * and errno is ENOENT.  On a kernel that does not check interval
 * deletes (before 6.18.y), a change that deletes from an interval set
 * is refused with ENOTSUP before anything is sent.  The caller that
 * keeps its own record of a set uses this to apply a difference, and
 * falls back to a replace when its record turns out wrong.
 */
struct nftset_change {
	const char			*set;
	bool				 flush;
	const struct nftset_elem	*add;
	size_t				 nadd;
	const struct nftset_elem	*del;
	size_t				 ndel;
};

int	nftset_commit(struct nftset *, const struct nftset_change *,
	    size_t n, char *err, size_t errlen);

/* The set's elements now (caller frees *out). */
int	nftset_list(struct nftset *, const char *set,
	    struct nftset_elem **out, size_t *n, char *err, size_t errlen);

/*
 * Named counters of the table ("counter NAME { }" in the ruleset): for
 * each of c[0..n-1], found, packets and bytes by its name; a counter the
 * table lacks (a ruleset older than it) is not found, and no error.  One
 * dump of the table's counter objects, nothing else.
 */
struct nftset_counter {
	const char	*name;
	bool		 found;
	uint64_t	 packets, bytes;
};

int	nftset_counters(struct nftset *, struct nftset_counter *c, size_t n,
	    char *err, size_t errlen);

#endif
