/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * setup: nfspamd-setup's decisions, without files, sockets or a kernel.
 *
 *  - the control line for one black list (spamd's format, the message
 *    escaped as spamd-setup escapes it);
 *  - which lists to keep, send or clear in nfspamd, given what the last
 *    run left there;
 *  - the difference between two sorted prefix lists (what -b applies to
 *    the kernel sets);
 *  - the state file that remembers the last run, encoded and decoded
 *    with every field checked (it is read back from disk).
 *
 * Prefix lists here are canonical: masked, sorted (IPv4 first, then by
 * address), disjoint; cidr_collapse makes them so.
 */
#ifndef NFS_SETUP_H
#define NFS_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "buf.h"

#define SETUP_MAGIC	"nfspamd-setup state 1\n"
#define SETUP_LISTMAX	65536		/* lists nfspamd holds */

/*
 * Append the control line "tag;\"msg\";inet;N;...;inet6;M;...\n" (a
 * family with no prefix is left out; no prefix at all gives "tag;\n",
 * which clears the list).  msg is the message as spamd.conf means it:
 * '"', '\' and newlines are escaped, a CR is dropped, any other control
 * character but tab becomes a blank.  -1 with err set when the tag is
 * not one nfspamd takes, the escaped message is longer than BL_MSGMAX,
 * a prefix is not canonical, or memory runs out (out is unchanged).
 */
int	setup_line(const char *tag, const char *msg, const struct prefix *,
	    size_t n, struct buf *out, char *err, size_t errlen);

/* 1 when tag can name a list in nfspamd (see bl.h), else 0 with why. */
int	setup_tag_ok(const char *tag, char *why, size_t whylen);

/* One list as the last run left it. */
struct setup_rec {
	char		*tag;
	struct prefix	*pfx;		/* what -b loaded of it (kernel) */
	size_t		 n;
};

struct setup_state {
	struct setup_rec *lists;	/* lists this program set in nfspamd */
	size_t		  nlists;
	bool		  kernel;	/* spamd/spamd6 hold `loaded' */
	struct prefix	 *loaded;	/* union of the lists' prefixes */
	size_t		  nloaded;
};

void	setup_state_free(struct setup_state *);
/* Index of tag in the state, or -1. */
long	setup_state_find(const struct setup_state *, const char *tag);

/*
 * The state as bytes: SETUP_MAGIC, then little-endian counts, tags and
 * prefixes (1 byte family 4 or 6, 1 byte length, 4 or 16 address bytes).
 */
int	setup_state_encode(const struct setup_state *, struct buf *out);
/*
 * Decode and check everything: the magic, counts against the bytes
 * there, tags, canonical prefix lists.  -1 with err naming what is
 * wrong and where ("byte 1234: list \"x\": prefixes out of order");
 * *st is then empty.
 */
int	setup_state_decode(const char *data, size_t len,
	    struct setup_state *st, char *err, size_t errlen);

/*
 * What changes from old to new (both canonical): add holds what is only
 * in new, del what is only in old; both come out canonical.  keep4 and
 * keep6 point at one prefix of each family that both hold (NULL when
 * there is none): deleting and re-adding it in the same transaction
 * proves the kernel set still holds what old says, as a strict delete
 * of a missing prefix fails the transaction.
 */
struct setup_diff {
	struct prefix		*add, *del;
	size_t			 nadd, ndel;
	const struct prefix	*keep4, *keep6;
};

int	setup_diff(const struct prefix *old, size_t nold,
	    const struct prefix *new, size_t nnew, struct setup_diff *);
void	setup_diff_free(struct setup_diff *);

/* Canonical order: family (IPv4 first), address, length. */
int	setup_pfx_cmp(const struct prefix *, const struct prefix *);
/* Is the list canonical?  On false, *at is the first bad index. */
bool	setup_canonical(const struct prefix *, size_t n, size_t *at);

#endif
