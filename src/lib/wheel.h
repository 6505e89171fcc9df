/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * wheel: a hashed timer wheel for many short, coarse timers (the SMTP
 * worker's stutter).  Pure: the caller owns the clock and passes times
 * in; nothing is allocated.  Nodes are embedded in the caller's objects.
 *
 * Slot i holds what is due at the wheel's time plus i ticks; a delay is
 * rounded up to whole ticks, at least one, at most WHEEL_SLOTS - 1.
 * Nodes due in the same slot come out newest first.
 */
#ifndef NFS_WHEEL_H
#define NFS_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define WHEEL_SLOTS	1024

/* A zeroed node is not on any wheel. */
struct wheel_node {
	struct wheel_node	 *next;
	struct wheel_node	**pprev;	/* NULL: not queued */
};

struct wheel {
	struct wheel_node	*slots[WHEEL_SLOTS];
	uint64_t		 tick;		/* length of a slot, > 0 */
	uint64_t		 time;		/* when slot cur came due */
	uint16_t		 cur;
};

/* An empty wheel whose current slot came due at now. */
void	wheel_init(struct wheel *, uint64_t now, uint64_t tick);

/* Queue n delay from the current slot; a queued n moves. */
void	wheel_add(struct wheel *, struct wheel_node *, uint64_t delay);

/* Take n off the wheel; nothing happens when it is not queued. */
void	wheel_remove(struct wheel_node *);

static inline bool
wheel_queued(const struct wheel_node *n)
{
	return n->pprev != NULL;
}

/*
 * One node whose time has come by now, taken off the wheel, or NULL
 * when there is none.  Call until NULL; nodes may be added (they land
 * in later slots) or removed between calls.
 */
struct wheel_node *wheel_expire(struct wheel *, uint64_t now);

#endif
