/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * blint: what the bl modules (bl.c, blparse.c, blindex.c, blreply.c,
 * blfile.c) share behind bl.h: the set's layout, its lookup index, and
 * the few functions one of them lends the others.  Everything else uses
 * bl.h alone.
 */
#ifndef NFS_BLINT_H
#define NFS_BLINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl.h"

typedef unsigned __int128	u128;

/*
 * Lists a set may hold.  Indexes must fit the 31 bits a sort key gives
 * them, and every build keeps a few words per list.
 */
#define BL_LISTMAX	65536

/*
 * The lookup index, valid while the set is not stale.  Segment starts
 * ascend from 0, so every address falls in exactly one segment.
 */
struct bl_index {
	uint32_t	*start4;
	uint32_t	*set4;		/* the set of lists for each segment */
	size_t		 nseg4;
	u128		*start6;
	uint32_t	*set6;
	size_t		 nseg6;
	/* Set s holds setids[setoff[s]] up to setids[setoff[s + 1]]. */
	uint32_t	*setoff;
	uint32_t	*setids;	/* list indexes, ascending per set */
	size_t		 nsets;
};

struct bl {
	struct bl_list	*lists;
	size_t		 nlists;
	size_t		 caplists;
	size_t		 npfx;
	bool		 stale;		/* lists changed since bl_build */
	struct bl_index	 idx;
};

/*
 * blparse.c: whether a list is only what bl_parse could have made, so
 * that it formats to a line that parses back to it (and a saved file
 * always loads).
 */
bool	bl_list_valid(const struct bl_list *);

/* blindex.c: free an index's arrays and leave it empty. */
void	bl_index_free(struct bl_index *);

/*
 * Undo a failed append: out back to its first len bytes, still a
 * string.  Returns -1, for the caller to return.
 */
static inline int
bl_buf_cut(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
	return -1;
}

/*
 * bl.c: free the lists and index of b, then move those of nb into it
 * and free nb itself.
 */
void	bl_replace(struct bl *b, struct bl *nb);

#endif
