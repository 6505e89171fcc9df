/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * reconcile: what must change in a kernel timeout set so that it holds
 * exactly the addresses the store says, each with the right expiry.
 * Pure: the kernel's listing and the clock are parameters.
 */
#ifndef NFS_RECONCILE_H
#define NFS_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* An address and when it should leave the set (epoch seconds). */
struct rc_want {
	struct addr	addr;
	int64_t		expire;
};

/* An address in the kernel set and the milliseconds it has left. */
struct rc_have {
	struct addr	addr;
	uint64_t	left_ms;
};

/* One change: add (or re-add) with timeout_ms, or delete (timeout 0). */
struct rc_change {
	struct addr	addr;
	uint64_t	timeout_ms;
};

struct rc_result {
	struct rc_change	*add;	/* missing, or expiry off by > slack */
	size_t			 nadd;
	struct rc_change	*del;	/* in the kernel, not wanted (also
					   re-added ones, deleted first) */
	size_t			 ndel;
};

/*
 * want and have may be in any order and hold duplicates (the latest
 * expiry of a wanted address counts).  Wanted entries already expired
 * are ignored.  An element whose kernel expiry differs from the wanted
 * one by more than slack_s seconds is deleted and added again, which is
 * how a timeout is changed in one transaction.  Only addresses of the
 * given family are considered.  -1 when memory runs out.
 */
int	reconcile(const struct rc_want *want, size_t nwant,
	    const struct rc_have *have, size_t nhave, int family, int64_t now,
	    int64_t slack_s, struct rc_result *);
void	reconcile_free(struct rc_result *);

#endif
