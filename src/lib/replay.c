/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * replay: see replay.h.  A ring of (digest, until) in the order added,
 * and an open-addressed index into it (linear probing, deletion by
 * shifting back, so no tombstones).  Both double when full, up to max.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define REPLAY_MIN	256

struct replay_ent {
	uint64_t	 digest;
	int64_t		 until;
};

struct replay {
	struct replay_ent	*ring;
	size_t			 cap;		/* ring size, a power of 2 */
	size_t			 head;		/* oldest */
	size_t			 n;
	size_t			 max;
	uint32_t		*index;		/* ring position + 1; 0: empty */
	size_t			 isize;		/* 2 * cap */
	uint64_t		 early;
};

static size_t
slot_of(const struct replay *r, uint64_t d)
{
	/* The digests are HMAC bytes: already uniform. */
	return (size_t)(d ^ d >> 29) & (r->isize - 1);
}

static size_t
find(const struct replay *r, uint64_t d, bool *found)
{
	size_t i = slot_of(r, d);

	while (r->index[i] != 0) {
		if (r->ring[r->index[i] - 1].digest == d) {
			*found = true;
			return i;
		}
		i = (i + 1) & (r->isize - 1);
	}
	*found = false;
	return i;
}

/* Empty slot i, moving later entries of the same run back into it. */
static void
unindex(struct replay *r, size_t i)
{
	size_t j = i, home;

	for (;;) {
		r->index[i] = 0;
		for (;;) {
			j = (j + 1) & (r->isize - 1);
			if (r->index[j] == 0)
				return;
			home = slot_of(r, r->ring[r->index[j] - 1].digest);
			/* j may move to i only if its home is not in (i, j]. */
			if (i <= j ? (home <= i || home > j) :
			    (home <= i && home > j))
				break;
		}
		r->index[i] = r->index[j];
		i = j;
	}
}

static void
drop_oldest(struct replay *r)
{
	bool found;
	size_t i = find(r, r->ring[r->head].digest, &found);

	if (found)
		unindex(r, i);
	r->head = (r->head + 1) & (r->cap - 1);
	r->n--;
}

/* Twice the room, the ring unrolled from its head. */
static int
grow(struct replay *r)
{
	size_t cap = r->cap * 2, isize = cap * 2;
	struct replay_ent *ring;
	uint32_t *index;
	bool found;

	if ((ring = malloc(cap * sizeof(*ring))) == NULL)
		return -1;
	if ((index = calloc(isize, sizeof(*index))) == NULL) {
		free(ring);
		return -1;
	}
	for (size_t k = 0; k < r->n; k++)
		ring[k] = r->ring[(r->head + k) & (r->cap - 1)];
	free(r->ring);
	free(r->index);
	r->ring = ring;
	r->index = index;
	r->cap = cap;
	r->isize = isize;
	r->head = 0;
	for (size_t k = 0; k < r->n; k++)
		r->index[find(r, ring[k].digest, &found)] = (uint32_t)k + 1;
	return 0;
}

struct replay *
replay_new(size_t max)
{
	struct replay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->max = max > 0 ? max : 1;
	if (r->max > UINT32_MAX / 2)
		r->max = UINT32_MAX / 2;
	r->cap = REPLAY_MIN;
	r->isize = 2 * r->cap;
	r->ring = malloc(r->cap * sizeof(*r->ring));
	r->index = calloc(r->isize, sizeof(*r->index));
	if (r->ring == NULL || r->index == NULL) {
		replay_free(r);
		return NULL;
	}
	return r;
}

void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	free(r->ring);
	free(r->index);
	free(r);
}

bool
replay_seen(struct replay *r, uint64_t d, int64_t until, int64_t now)
{
	size_t pos;
	bool found;

	while (r->n > 0 && r->ring[r->head].until < now)
		drop_oldest(r);
	(void)find(r, d, &found);
	if (found)
		return true;
	if (r->n == r->max || (r->n == r->cap && grow(r) == -1)) {
		drop_oldest(r);
		r->early++;
	}
	pos = (r->head + r->n) & (r->cap - 1);
	r->ring[pos].digest = d;
	r->ring[pos].until = until;
	r->n++;
	r->index[find(r, d, &found)] = (uint32_t)pos + 1;
	return false;
}

size_t
replay_count(const struct replay *r)
{
	return r->n;
}

uint64_t
replay_forgotten_early(const struct replay *r)
{
	return r->early;
}
