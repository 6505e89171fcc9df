/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fwproto: requests from the unprivileged supervisor to the netlink
 * helper, which alone holds CAP_NET_ADMIN.  The helper trusts nothing:
 * only the eight nfspamd sets can be named (by number), only known
 * operations, bounded counts, and each element's family must match its
 * set.
 *
 * Request: op (1), set (1), 0 (2), n1 (4), n2 (4), then n1 + n2 elements
 * (the request's two groups, below) of FWP_ELEMSIZE: family 4 or 6 (1), prefix length (1),
 * address (16), timeout ms (8).  Reply: status 0/1 (4), error length (4),
 * element count (4), error text, elements.  Integers big-endian.
 */
#ifndef NFS_FWPROTO_H
#define NFS_FWPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "nftset.h"

#define FWP_HDRSIZE	12
#define FWP_ELEMSIZE	26
#define FWP_MAXELEMS	(8u << 20)	/* per request or reply */
#define FWP_ERRMAX	1024

enum fwp_op {
	FWP_CHECK = 1,	/* do all eight sets exist? */
	FWP_ADD,
	FWP_DEL,
	FWP_APPLY,	/* dels then adds, one transaction */
	FWP_REPLACE,
	FWP_LIST,
	FWP_GEN,	/* has someone else changed the ruleset since our
			   last transaction?  (fwp_gen; the reply's count
			   field is the answer, no elements follow) */
	FWP_ADD46,	/* adds to an IPv4 address set (set) and its IPv6
			   twin in one transaction */
};

enum fwp_set {
	FWP_WHITE, FWP_WHITE6, FWP_TRAP, FWP_TRAP6,
	FWP_NOSPAMD, FWP_NOSPAMD6, FWP_BLACK, FWP_BLACK6,
	FWP_NSETS
};

/*
 * What each operation carries, by field: ADD, REPLACE add; DEL del;
 * APPLY add and del (dels first); ADD46 add (to set) and add6 (to its
 * IPv6 twin); CHECK, LIST, GEN nothing.  On the wire the first group is
 * add, the second del, or add6 for ADD46.
 */
struct fwp_req {
	uint8_t			 op;
	uint8_t			 set;
	uint32_t		 nadd, ndel, nadd6;
	struct nftset_elem	*add, *del, *add6;	/* decode: caller
							   frees */
};

const char	*fwp_set_name(unsigned set);	/* NULL if unknown */
int		 fwp_set_family(unsigned set);	/* AF_INET or AF_INET6 */
bool		 fwp_set_interval(unsigned set);
/* The address set for a family: FWP_WHITE or FWP_WHITE6, and so on. */
unsigned	 fwp_set_for(unsigned v4set, int family);

/* The set of add6: set's IPv6 twin. */
unsigned	 fwp_add6_set(const struct fwp_req *);

int	fwp_req_encode(const struct fwp_req *, struct buf *);
/* Validate a header; -1 with *why.  Sets op, set and the counts. */
int	fwp_hdr_decode(const uint8_t *, size_t, struct fwp_req *,
	    const char **why);
/* Decode n elements for set; -1 with *why (family, length, host bits). */
int	fwp_elems_decode(const uint8_t *, size_t, size_t n, unsigned set,
	    struct nftset_elem *, const char **why);
void	fwp_elem_encode(const struct nftset_elem *, uint8_t *out);

int	fwp_reply_encode(int status, const char *err,
	    const struct nftset_elem *, size_t n, struct buf *);
/* Reply header: -1 with *why when malformed. */
int	fwp_reply_hdr(const uint8_t *, size_t, int *status,
	    uint32_t *errlen, uint32_t *n, const char **why);

/*
 * The client side: send one request on fd and read its reply, blocking.
 * A LIST reply's elements go to *list (caller frees).  -1 with err when
 * the helper refused the request (its own words) or is gone.
 */
int	fwp_call(int fd, const struct fwp_req *, struct nftset_elem **list,
	    size_t *nlist, char *err, size_t errlen);
/* FWP_GEN: *changed is whether anyone else committed since we did. */
int	fwp_gen(int fd, bool *changed, char *err, size_t errlen);

#endif
