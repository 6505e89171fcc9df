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
 *
 * FWP_COUNTERS asks for the ruleset's named counters (nft/nfspamd.nft):
 * its request names no set (0) and carries nothing; its reply's count is
 * the number of counters found, each a record of FWP_CTRSIZE: counter
 * number (1), packets (8), bytes (8).  The counters are named by number,
 * like the sets, so a request can reach no other object, no name needs
 * a length check, and a reply has at most FWP_NCTRS records.
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
#define FWP_CTRSIZE	17

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
	FWP_COUNTERS,	/* the named counters of the table (fwp_counters;
			   records follow, not elements) */
};

enum fwp_set {
	FWP_WHITE, FWP_WHITE6, FWP_TRAP, FWP_TRAP6,
	FWP_NOSPAMD, FWP_NOSPAMD6, FWP_BLACK, FWP_BLACK6,
	FWP_NSETS
};

/*
 * The named counters of table inet nfspamd, one per verdict of the
 * ruleset on a new SMTP connection (counting its first packet): diverted
 * to nfspamd, passed as white (@spamd-white(6)), passed as nospamd
 * (@nospamd(6)); and, for nfspamd-setup -b, one per blacklist set,
 * counting the diverted connections from an address in @spamd or
 * @spamd6.  A ruleset older than the counters has none of them.
 */
enum fwp_ctr {
	FWP_CTR_DIVERTED, FWP_CTR_WHITE, FWP_CTR_NOSPAMD,
	FWP_CTR_BLACK, FWP_CTR_BLACK6,
	FWP_NCTRS
};

struct fwp_counter {
	bool		found;		/* the ruleset has it */
	uint64_t	packets, bytes;
};

/*
 * What each operation carries, by field: ADD, REPLACE add; DEL del;
 * APPLY add and del (dels first); ADD46 add (to set) and add6 (to its
 * IPv6 twin); CHECK, LIST, GEN, COUNTERS nothing.  On the wire the first
 * group is add, the second del, or add6 for ADD46.
 */
struct fwp_req {
	uint8_t			 op;
	uint8_t			 set;
	uint32_t		 nadd, ndel, nadd6;
	struct nftset_elem	*add, *del, *add6;	/* decode: caller
							   frees */
};

const char	*fwp_set_name(unsigned set);	/* NULL if unknown */
/* The counter's name in the ruleset ("diverted"); NULL if unknown. */
const char	*fwp_ctr_name(unsigned ctr);
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

/* FWP_COUNTERS' reply: a record for each counter found. */
int	fwp_counters_encode(const struct fwp_counter c[FWP_NCTRS],
	    struct buf *);
/*
 * n records of a reply into c (those not among them: found false); -1
 * with *why for a wrong size, an unknown counter or one given twice.
 */
int	fwp_counters_decode(const uint8_t *, size_t, size_t n,
	    struct fwp_counter c[FWP_NCTRS], const char **why);

/*
 * The client side: send one request on fd and read its reply, blocking.
 * A LIST reply's elements go to *list (caller frees).  -1 with err when
 * the helper refused the request (its own words) or is gone.
 */
int	fwp_call(int fd, const struct fwp_req *, struct nftset_elem **list,
	    size_t *nlist, char *err, size_t errlen);
/* FWP_GEN: *changed is whether anyone else committed since we did. */
int	fwp_gen(int fd, bool *changed, char *err, size_t errlen);
/* FWP_COUNTERS: c[i].found says which the ruleset has. */
int	fwp_counters(int fd, struct fwp_counter c[FWP_NCTRS], char *err,
	    size_t errlen);

#endif
