/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * follow: with a shared store, the supervisor follows the stream of
 * WHITE and TRAPPED changes (rlayout.h's nfspamd:events) into its
 * kernel sets, so that a pass on any node reaches every node's
 * @spamd-white within a round trip.  hiredis's async API on the
 * supervisor's libuv loop: nothing here blocks it.
 *
 * The stream is the fast path; the full reconcile (greylist_live_run,
 * then fw_sync) is the safety net, asked for through follow_want_full:
 * at start, after a gap (the server trimmed events this node had not
 * read: XINFO STREAM's max-deleted-entry-id), after a deletion (the
 * sets have no per-element delete here) and after FOLLOW_FULL_EVERY.
 */
#ifndef NFSPAMD_FOLLOW_H
#define NFSPAMD_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "fw.h"
#include "log.h"

#define FOLLOW_BLOCK_MS		5000	/* XREAD BLOCK */
#define FOLLOW_STALL_MS		15000	/* no reply: the link is dead */
#define FOLLOW_BACKOFF_MIN	100
#define FOLLOW_BACKOFF_MAX	5000
#define FOLLOW_FULL_EVERY	3600	/* s between full reconciles */
#define FOLLOW_ROLE_MS		60000	/* still the primary? */
#define FOLLOW_COUNT		"1000"	/* events a read */

struct follow;

/* url and passfile as --store takes them; -1 with err if they are bad. */
int	follow_open(struct follow **, uv_loop_t *, const char *url,
	    const char *passfile, struct fw *, struct logger *, char *err,
	    size_t errlen);
void	follow_close(struct follow *);

/* Is a full reconcile due at now?  follow_full_done once it was made. */
bool	follow_want_full(const struct follow *, int64_t now);
void	follow_full_done(struct follow *, int64_t now);

int	follow_metrics(const struct follow *, struct buf *);

#endif
