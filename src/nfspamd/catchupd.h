/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * catchupd: the catch-up channel (src/lib/catchup) in the supervisor.
 *
 * Serving: with -y, a thread of its own at the lowest CPU priority
 * accepts one peer at a time on TCP --catchup-port and streams the
 * database to it from read-only snapshots, --catchup-rate entries a
 * second at most (in bursts of 0.2 s worth).  LMDB readers never
 * wait for writers nor stop them, and the SMTP workers are other
 * processes: a node that answers keeps its pace.
 *
 * Fetching: from each unicast -Y peer and --catchup-peer, at start
 * (retried, 10 s doubling to 5 min, until one fetch worked) and when a
 * peer's sync packets show a gap in their counter (--catchup-interval
 * apart at least).  A thread reads and checks the frames; the merges
 * run on the supervisor's loop, the only writer of this process, one
 * frame (512 entries at most) per transaction; at the end the tuples a
 * merged pass made pointless go, and a scan brings the kernel sets up
 * to date.
 */
#ifndef NFSPAMD_CATCHUPD_H
#define NFSPAMD_CATCHUPD_H

#include <uv.h>

#include "addr.h"
#include "buf.h"
#include "log.h"
#include "nfspamd.h"
#include "store.h"
#include "sync.h"

struct catchupd;

/* Asks the supervisor for a scan now (the kernel sets follow it). */
typedef void	(*catchupd_rescan_fn)(void *arg);

/*
 * Nothing to do (NULL, 0) with --catchup-port 0, without a key file
 * (logged), or with neither -y nor a unicast peer.  -1 with err.
 */
int	catchupd_open(struct catchupd **, uv_loop_t *, const struct conf *,
	    const struct sync_key *, bool keyfile, struct store *,
	    struct logger *, catchupd_rescan_fn, void *rescan_arg, char *err,
	    size_t errlen);
/* Stops both threads; an unfinished fetch is abandoned. */
void	catchupd_close(struct catchupd *);
/*
 * Sync packets from this address went missing (a jump of the counter):
 * fetch from it again, if it is one of the peers, at most once every
 * --catchup-interval seconds.
 */
void	catchupd_missed(struct catchupd *, const struct addr *from);
void	catchupd_log_stats(struct catchupd *);
int	catchupd_metrics(struct catchupd *, struct buf *);

#endif
