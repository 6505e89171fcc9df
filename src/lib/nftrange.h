/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftrange: the arithmetic behind nftset, with no netlink.  A key is an
 * address read as a big-endian number (4 bytes for AF_INET, 16 for
 * AF_INET6), so that prefixes are ranges and "+ 1" is plain arithmetic.
 *
 * An interval set holds a range [lo, hi] as nft writes it: a start
 * element at lo and an end element, flagged NFT_SET_ELEM_INTERVAL_END,
 * at hi + 1; a range that ends at the top of the address space has no
 * end element (there is no + 1), the kernel reads a trailing start as
 * open to the top.
 *
 * Errors: -1 with errno set; nothing here formats a message.
 */
#ifndef NFS_NFTRANGE_H
#define NFS_NFTRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "nftset.h"

typedef unsigned __int128 u128;

unsigned	key_bits(int family);		/* 32 or 128 */
u128		key_top(int family);		/* the last address */
u128		key_mask(unsigned k);		/* the low k bits set */
u128		key_get(const uint8_t *, size_t len);
void		key_put(u128, uint8_t *, size_t len);
void		key_to_addr(u128, int family, struct addr *);
/* The addresses of a prefix with no host bits, inclusive at both ends. */
void		key_range(int family, const struct prefix *, u128 *lo,
		    u128 *hi);

/*
 * Room for one more item of size bytes in v, which holds n of *cap: v
 * itself, or v moved to twice the room (first items at first).  NULL
 * when out of memory, and v is left as it was.
 */
void	*nft_grow(void *v, size_t n, size_t *cap, size_t size, size_t first);

/* One netlink element. */
struct nel {
	u128				 key;
	uint32_t			 flags;		/* INTERVAL_END */
	uint64_t			 timeout;	/* ms; 0: none */
	const struct nftset_elem	*src;		/* for messages */
};

/* An element list to send with one message type; zeroed when empty. */
struct nels {
	struct nel	*v;
	size_t		 n, cap;
};

int	nels_push(struct nels *, u128 key, uint32_t flags, uint64_t timeout,
	    const struct nftset_elem *src);
/* [lo, hi] of an interval set: its start and, unless hi is the top, its
   end. */
int	nels_interval(struct nels *, int family, u128 lo, u128 hi,
	    uint64_t timeout, const struct nftset_elem *src);
/*
 * The prefixes v[0..n) of family (checked: no host bits) as an interval
 * set takes them: sorted by start, exact duplicates dropped, each start
 * followed by its end.  Overlapping prefixes: -1 with errno EEXIST,
 * *later overlapping *earlier (earlier sorts first), and out holds
 * nothing of v.
 */
int	nels_intervals(struct nels *out, int family,
	    const struct nftset_elem *v, size_t n,
	    const struct nftset_elem **earlier,
	    const struct nftset_elem **later);

/* An element as a dump gives it. */
struct rawel {
	u128		 key;
	uint32_t	 flags;
	uint64_t	 timeout, expires;
};

/* A range of a dumped set, inclusive at both ends. */
struct range {
	u128		 lo, hi;
	uint64_t	 timeout, expires;
	bool		 used;
};

/*
 * A dump's elements v[0..n) (sorted here) as sorted, disjoint ranges in
 * out, which has room for n.  In an address set every start element is
 * a range of one address and end elements are ignored.  In an interval
 * set a start ends at the end element after it, or at the top when it is
 * the last element; an end with no start before it bounds nothing (nft
 * adds one at 0).  A start followed by anything else: -1 with errno
 * EPROTO and *bad its key.
 */
int	ranges_from_dump(int family, bool interval, struct rawel *v, size_t n,
	    struct range *out, size_t *nout, u128 *bad);
/* The range of sorted v[0..n) that starts at lo, or NULL. */
struct range *range_find(struct range *v, size_t n, u128 lo);

/* A growing list of the caller's elements (nftset_list's answer). */
struct elems {
	struct nftset_elem	*v;
	size_t			 n, cap;
};

/* Appends the fewest prefixes that cover exactly [r->lo, r->hi], each
   with r's timeout and expiry. */
int	range_prefixes(int family, const struct range *r, struct elems *out);

#endif
