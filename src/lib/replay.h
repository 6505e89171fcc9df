/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * replay: a bounded set of 64-bit digests, each remembered until a time
 * of the caller's clock.  For refusing a packet seen before.  Pure: no
 * clock, no I/O; memory grows with what is remembered, up to max.
 *
 * Entries are kept in the order they were added and forgotten from the
 * oldest: one whose time has passed, or, when max are held, the oldest
 * even though its time has not come (counted in forgotten_early).
 */
#ifndef NFS_REPLAY_H
#define NFS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct replay;

/* NULL when out of memory.  max: at least 1. */
struct replay	*replay_new(size_t max);
void		 replay_free(struct replay *);

/*
 * Forget what expired by now, then: true if d is held (a replay);
 * otherwise add d until the time until, and false.
 */
bool		 replay_seen(struct replay *, uint64_t d, int64_t until,
		    int64_t now);

size_t		 replay_count(const struct replay *);
uint64_t	 replay_forgotten_early(const struct replay *);

#endif
