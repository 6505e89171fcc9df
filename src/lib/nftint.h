/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftint: what the files of nftset share and its callers do not see:
 * the handle behind struct nftset, what GETSET said about a set, and how
 * an error is reported.  nftquery talks to the kernel outside batches,
 * nftbatch builds and sends batches, nftprobe asks the kernel what it
 * checks, nftset.c holds the operations of nftset.h.
 */
#ifndef NFS_NFTINT_H
#define NFS_NFTINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netfilter/nf_tables.h>

#include "nftset.h"

#define NFT_HINT	"load the ruleset: systemctl start nfspamd-nft, or " \
			    "nft -f /etc/nfspamd/nfspamd.nft"

/* Receive buffer for dumps and acknowledgements. */
#define RBUF_SIZE	(128 * 1024)

/* What GETSET said about a set; cached by name. */
struct setinfo {
	struct setinfo	*next;
	char		 name[NFT_SET_MAXNAMELEN];
	int		 family;	/* AF_INET or AF_INET6 */
	uint32_t	 keylen;	/* 4 or 16 */
	uint32_t	 flags;		/* NFT_SET_* */
};

struct nftset {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	char			 table[NFT_TABLE_MAXNAMELEN];
	struct setinfo		*cache;
	char			 req[1024];	/* GET requests */
	char			*rbuf;		/* RBUF_SIZE bytes */
	int			 sndbuf;	/* what the socket has now */
	int			 rcvbuf;
	bool			 nodestroy;	/* kernel refused DESTROY */
	int			 ivalid;	/* validates interval deletes:
						   -1 not known yet, 0, 1 */
};

/*
 * Formats the message into err (when there is room), sets errno to e (or
 * EINVAL for 0) and returns -1.
 */
int	nft_fail(char *err, size_t errlen, int e, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
