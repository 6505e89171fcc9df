/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftprobe: kernel features nftset depends on.  See nftprobe.h.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "nftbatch.h"
#include "nftprobe.h"

#define PROBE_SET	"nfspamd-nftset-probe"

/*
 * Does the kernel refuse to delete a start and an end element that do not
 * bound one interval?  Asked once, in a batch that can only abort: create
 * a scratch interval set, add [10.0.0.0, 10.0.1.0) and [10.0.1.0,
 * 10.0.2.0), delete the start 10.0.0.0 with the end 10.0.2.0, then delete
 * an element that is not there.  A kernel that checks fails the third
 * message with ENOENT, one that does not only the fourth.  Any other
 * outcome leaves the question open (the dump is the safe way meanwhile).
 */
bool
probe_interval_deletes(struct nftset *s)
{
	struct setinfo	 si;
	struct nels	 add, del, bad;
	struct batch	 b;
	struct ackerr	 ae;
	uint32_t	 delseq, badseq;

	if (s->ivalid >= 0)
		return s->ivalid == 1;
	memset(&si, 0, sizeof(si));
	memset(&add, 0, sizeof(add));
	memset(&del, 0, sizeof(del));
	memset(&bad, 0, sizeof(bad));
	memset(&b, 0, sizeof(b));
	strcpy(si.name, PROBE_SET);
	si.family = AF_INET;
	si.keylen = 4;
	si.flags = NFT_SET_INTERVAL;
	if (nels_push(&add, 0x0a000000, 0, 0, NULL) == -1 ||
	    nels_push(&add, 0x0a000100, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&add, 0x0a000100, 0, 0, NULL) == -1 ||
	    nels_push(&add, 0x0a000200, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&del, 0x0a000000, 0, 0, NULL) == -1 ||
	    nels_push(&del, 0x0a000200, NFT_SET_ELEM_INTERVAL_END, 0,
	    NULL) == -1 ||
	    nels_push(&bad, 0xc0000201, 0, 0, NULL) == -1)
		goto out;
	if (batch_begin(s, &b) == -1 || batch_newset(s, &b, &si) == -1 ||
	    batch_msg(s, &b, &si, NFT_MSG_NEWSETELEM, NLM_F_CREATE, &add, 0,
	    add.n) == -1)
		goto out;
	delseq = s->seq;
	if (batch_msg(s, &b, &si, NFT_MSG_DELSETELEM, 0, &del, 0,
	    del.n) == -1)
		goto out;
	badseq = s->seq;
	if (batch_msg(s, &b, &si, NFT_MSG_DELSETELEM, 0, &bad, 0,
	    bad.n) == -1 || batch_end(s, &b) == -1)
		goto out;
	if (batch_send(s, &b, &ae) == 0 || ae.err != ENOENT)
		goto out;
	if (ae.seq == delseq)
		s->ivalid = 1;
	else if (ae.seq == badseq)
		s->ivalid = 0;
out:
	batch_free(&b);
	free(add.v);
	free(del.v);
	free(bad.v);
	return s->ivalid == 1;
}
