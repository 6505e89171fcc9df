/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * bl: the set of blacklists.  See bl.h.  Control lines are parsed and
 * formatted in blparse.c, the lookup index is blindex.c, reply text
 * blreply.c and the saved file blfile.c.
 *
 * "tag;" clears a list but keeps its slot, so the list keeps its place
 * when it is filled again (spamd does the same).  bl_count counts such
 * slots, bl_get returns them (npfx 0, msg NULL), lookup never matches
 * them and bl_save does not write them.  Clearing an unknown tag adds
 * nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "blint.h"

struct bl *
bl_new(void)
{
	return calloc(1, sizeof(struct bl));
}

static void
bl_clear(struct bl *b)
{
	size_t	i;

	for (i = 0; i < b->nlists; i++)
		bl_list_free(&b->lists[i]);
	free(b->lists);
	bl_index_free(&b->idx);
	memset(b, 0, sizeof(*b));
}

void
bl_free(struct bl *b)
{
	if (b == NULL)
		return;
	bl_clear(b);
	free(b);
}

void
bl_replace(struct bl *b, struct bl *nb)
{
	bl_clear(b);
	*b = *nb;
	free(nb);
}

static struct bl_list *
find(const struct bl *b, const char *tag)
{
	size_t	i;

	for (i = 0; i < b->nlists; i++)
		if (strcmp(b->lists[i].tag, tag) == 0)
			return &b->lists[i];
	return NULL;
}

int
bl_set(struct bl *b, struct bl_list *l)
{
	struct bl_list	*old, *p;
	size_t		 cap;

	if (!bl_list_valid(l)) {
		errno = EINVAL;
		return -1;
	}
	if ((old = find(b, l->tag)) != NULL) {
		b->npfx -= old->npfx;
		bl_list_free(old);
		*old = *l;
	} else if (l->npfx == 0) {
		/* Clearing what we do not hold: nothing to keep. */
		bl_list_free(l);
		return 0;
	} else {
		if (b->nlists >= BL_LISTMAX) {
			errno = E2BIG;
			return -1;
		}
		if (b->nlists == b->caplists) {
			cap = b->caplists ? b->caplists * 2 : 8;
			p = reallocarray(b->lists, cap, sizeof(*p));
			if (p == NULL)
				return -1;
			b->lists = p;
			b->caplists = cap;
		}
		b->lists[b->nlists++] = *l;
	}
	b->npfx += l->npfx;
	b->stale = true;
	memset(l, 0, sizeof(*l));
	return 0;
}

static bool
named(const char *tag, const char *const *tags, size_t ntags)
{
	size_t	i;

	for (i = 0; i < ntags; i++)
		if (tags[i] != NULL && strcmp(tags[i], tag) == 0)
			return true;
	return false;
}

void
bl_retain(struct bl *b, const char *const *tags, size_t ntags)
{
	size_t	i, j = 0;

	for (i = 0; i < b->nlists; i++) {
		if (named(b->lists[i].tag, tags, ntags)) {
			b->lists[j++] = b->lists[i];
			continue;
		}
		b->npfx -= b->lists[i].npfx;
		bl_list_free(&b->lists[i]);
		b->stale = true;
	}
	b->nlists = j;
}

size_t
bl_count(const struct bl *b)
{
	return b->nlists;
}

size_t
bl_prefixes(const struct bl *b)
{
	return b->npfx;
}

const struct bl_list *
bl_get(const struct bl *b, size_t i)
{
	return i < b->nlists ? &b->lists[i] : NULL;
}
