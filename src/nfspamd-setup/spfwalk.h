/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spfwalk: a :method=spf: list's ranges.  Reads its :file= of domains,
 * walks their SPF records (src/lib/spf.c) over DNS (resolver.c, driven
 * by poll(2), many lookups at once, each cancelled at --dns-timeout),
 * and logs what the walk found wrong.  A lookup that failed or timed
 * out fails the list, so that nfspamd and the sets keep what the last
 * run gave them, as for a failed download.
 */
#ifndef NFS_SETUP_SPFWALK_H
#define NFS_SETUP_SPFWALK_H

#include "nfspamd-setup.h"

#define SPFWALK_INFLIGHT	32	/* lookups at once */
#define SPFWALK_FILEMAX		((size_t)1 << 20)	/* the domains file */

/* it's ranges (it->ok), or it->fail and it->why. */
void	spfwalk_item(struct ctx *x, struct item *it);

#endif /* NFS_SETUP_SPFWALK_H */
