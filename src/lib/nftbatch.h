/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftbatch: nfnetlink batches for nftset.  A batch (BEGIN, messages,
 * END) is written into one buffer and sent with one sendmsg(2), and the
 * kernel runs it as one transaction.  Each message asks for an
 * acknowledgement; an error is mapped back to its message and, when the
 * kernel says where, to the caller's element.
 *
 * The builders return -1 only when out of memory; the batch is then
 * still the caller's to free with batch_free.
 */
#ifndef NFS_NFTBATCH_H
#define NFS_NFTBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nftint.h"
#include "nftrange.h"

/* One message of a batch, to map an acknowledgement back. */
struct msgrec {
	uint32_t	 seq;
	size_t		 off;		/* in the batch buffer */
	size_t		 first, n;	/* its elements in the nel list */
	const struct nels *list;
	const struct setinfo *si;
	uint16_t	 type;
};

struct batch {
	char		*buf;
	size_t		 len, cap;
	struct msgrec	*msgs;
	size_t		 nmsgs, msgcap;
	uint32_t	 first_seq, last_seq;
};

/* The first error the kernel reported for a batch. */
struct ackerr {
	int		 err;		/* positive errno, 0: none */
	uint32_t	 seq;
	uint32_t	 offs;		/* NLMSGERR_ATTR_OFFS, 0: none */
	char		 msg[128];	/* NLMSGERR_ATTR_MSG */
};

/* Starts b (which need not be initialised) with BEGIN. */
int	batch_begin(struct nftset *, struct batch *b);
int	batch_end(struct nftset *, struct batch *);
void	batch_free(struct batch *);

/*
 * One message of type with elements l->v[first..first+cnt), or with no
 * element list at all (a flush) when l is NULL.  l must outlive b.
 */
int	batch_msg(struct nftset *, struct batch *, const struct setinfo *,
	    uint16_t type, uint16_t flags, const struct nels *l, size_t first,
	    size_t cnt);
/*
 * All of l, in as many messages as the limits need: at most NFTSET_CHUNK
 * elements, and a nest of elements under 64 KiB (nla_len is 16 bits).
 */
int	batch_elems(struct nftset *, struct batch *, const struct setinfo *,
	    uint16_t type, uint16_t flags, const struct nels *l);
/* NEWSET of si's name, key length and flags (a scratch set). */
int	batch_newset(struct nftset *, struct batch *, const struct setinfo *);

/*
 * Send the batch and read every acknowledgement.  0: committed.  -1:
 * not committed (or, with errno EPROTO/ENOBUFS, unknown), *ae says why.
 */
int	batch_send(struct nftset *, struct batch *, struct ackerr *ae);
/* The message with this sequence number, or NULL. */
const struct msgrec *batch_find(const struct batch *, uint32_t seq);
/* The error of *ae as a message in err, naming the element it blames;
   returns -1. */
int	batch_fail(const struct batch *, const struct ackerr *ae,
	    const struct setinfo *si, const char *op, char *err,
	    size_t errlen);

#endif
