/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#ifndef NFSPAMD_SYNCPACE_H
#define NFSPAMD_SYNCPACE_H

#include <stdint.h>

/*
 * syncpace: when a worker's fsync thread should sync the store.  All the
 * workers of a daemon write one LMDB file, and an fdatasync of it puts
 * on disk every page any of them wrote before it began: so one fsync can
 * cover every worker's commits, and a worker whose commit is covered by
 * another's fsync need not make its own.  Starts are spaced at least a
 * gap apart, for the whole daemon: an fsync costs CPU and device time
 * whatever it carries, and back-to-back fsyncs of a commit or two each
 * spend far more than they save.
 *
 * Times are CLOCK_MONOTONIC nanoseconds.  The view is what all workers
 * share: the start of the latest fsync begun (running or not) and the
 * start of the latest one completed (everything committed before that
 * instant is on disk).
 */
struct syncpace_view {
	uint64_t	started;	/* latest fsync begun; 0: none */
	uint64_t	covered;	/* start of the latest one completed */
};

enum syncpace_act {
	SYNCPACE_COVERED,	/* an fsync begun after the commit completed */
	SYNCPACE_WAIT,		/* look again at *until */
	SYNCPACE_START,		/* begin an fsync now */
};

struct syncpace_conf {
	uint64_t	gap;	/* least time between two fsyncs' starts */
	uint64_t	poll;	/* how often to look at another's fsync */
	uint64_t	stale;	/* an fsync running longer was abandoned */
};

/*
 * What to do for a commit that completed at `commit`, at `now`.  WAIT
 * sets *until: the next start the gap allows, or the next look at an
 * fsync another worker began after the commit.  An fsync begun more than
 * stale ago and not completed is taken as abandoned (its worker killed
 * during it), and a new one may start.
 */
enum syncpace_act syncpace_next(const struct syncpace_view *,
	    const struct syncpace_conf *, uint64_t commit, uint64_t now,
	    uint64_t *until);

#endif
