/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * blindex: the lookup index of a set of blacklists.  See bl.h.
 *
 * Every prefix of every list gives a start and an end event.  Sorted and
 * swept, the events cut each address space into disjoint segments, each
 * naming the set of lists that covers it; identical sets are stored
 * once.  A lookup is one binary search over segment starts.
 *
 * Until bl_build succeeds after a change, bl_lookup scans every prefix
 * linearly: slow but right, so a missed or failed build never lets a
 * listed host through or names a list that has gone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "blint.h"
#include "util.h"

#define NOSET		UINT32_MAX
#define SET_EMPTY	0

void
bl_index_free(struct bl_index *x)
{
	free(x->start4);
	free(x->set4);
	free(x->start6);
	free(x->set6);
	free(x->setoff);
	free(x->setids);
	memset(x, 0, sizeof(*x));
}

/*
 * The sweep's state: which lists cover the current point, and the sets
 * seen so far.  A set is hashed as the xor of its members' hashes, so
 * adding or removing a member updates the hash in O(1).
 */
struct sweep {
	size_t		*cnt;		/* per list: prefixes covering it */
	uint32_t	*pos;		/* per list: index in mem, or NOSET */
	uint32_t	*mem;		/* lists covering it, unordered */
	size_t		 nmem;
	uint64_t	 hash;
	uint32_t	*setoff;	/* nsets + 1 entries */
	size_t		 capoff;
	uint32_t	*setids;
	size_t		 nids;
	size_t		 capids;
	uint64_t	*sethash;
	size_t		 nsets;
	uint32_t	*table;		/* set + 1, or 0 for a free slot */
	size_t		 tcap;
};

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
sweep_free(struct sweep *sw)
{
	free(sw->cnt);
	free(sw->pos);
	free(sw->mem);
	free(sw->setoff);
	free(sw->setids);
	free(sw->sethash);
	free(sw->table);
	memset(sw, 0, sizeof(*sw));
}

/* Set 0 is the empty set, hash 0. */
static int
sweep_init(struct sweep *sw, size_t nlists)
{
	size_t	i, n = nlists > 0 ? nlists : 1;

	memset(sw, 0, sizeof(*sw));
	sw->cnt = calloc(n, sizeof(*sw->cnt));
	sw->pos = calloc(n, sizeof(*sw->pos));
	sw->mem = calloc(n, sizeof(*sw->mem));
	sw->capoff = 64;
	sw->setoff = calloc(sw->capoff, sizeof(*sw->setoff));
	sw->sethash = calloc(sw->capoff, sizeof(*sw->sethash));
	sw->tcap = 64;
	sw->table = calloc(sw->tcap, sizeof(*sw->table));
	if (sw->cnt == NULL || sw->pos == NULL || sw->mem == NULL ||
	    sw->setoff == NULL || sw->sethash == NULL || sw->table == NULL) {
		sweep_free(sw);
		return -1;
	}
	for (i = 0; i < n; i++)
		sw->pos[i] = NOSET;
	sw->nsets = 1;
	sw->table[0] = SET_EMPTY + 1;
	return 0;
}

/* Nothing covers the point: the start of each family's sweep. */
static void
sweep_reset(struct sweep *sw)
{
	size_t	i;

	for (i = 0; i < sw->nmem; i++) {
		sw->cnt[sw->mem[i]] = 0;
		sw->pos[sw->mem[i]] = NOSET;
	}
	sw->nmem = 0;
	sw->hash = 0;
}

static void
sweep_apply(struct sweep *sw, uint32_t list, bool end)
{
	uint32_t	i;

	if (!end) {
		if (sw->cnt[list]++ == 0) {
			sw->pos[list] = (uint32_t)sw->nmem;
			sw->mem[sw->nmem++] = list;
			sw->hash ^= mix(list);
		}
		return;
	}
	if (--sw->cnt[list] == 0) {
		i = sw->pos[list];
		sw->mem[i] = sw->mem[--sw->nmem];
		sw->pos[sw->mem[i]] = i;
		sw->pos[list] = NOSET;
		sw->hash ^= mix(list);
	}
}

static bool
same_set(const struct sweep *sw, uint32_t s)
{
	uint32_t	i;

	if (sw->sethash[s] != sw->hash ||
	    sw->setoff[s + 1] - sw->setoff[s] != sw->nmem)
		return false;
	for (i = sw->setoff[s]; i < sw->setoff[s + 1]; i++)
		if (sw->pos[sw->setids[i]] == NOSET)
			return false;
	return true;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
grow_table(struct sweep *sw)
{
	uint32_t	*t;
	size_t		 cap = sw->tcap * 2, i, s;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return -1;
	for (s = 0; s < sw->nsets; s++) {
		for (i = sw->sethash[s] & (cap - 1); t[i] != 0;
		    i = (i + 1) & (cap - 1))
			;
		t[i] = (uint32_t)s + 1;
	}
	free(sw->table);
	sw->table = t;
	sw->tcap = cap;
	return 0;
}

static int
grow_sets(struct sweep *sw)
{
	uint32_t	*off;
	uint64_t	*h;
	uint32_t	*ids;
	size_t		 cap;

	if (sw->nsets + 2 > sw->capoff) {
		cap = sw->capoff * 2;
		if ((off = reallocarray(sw->setoff, cap, sizeof(*off))) == NULL)
			return -1;
		sw->setoff = off;
		if ((h = reallocarray(sw->sethash, cap, sizeof(*h))) == NULL)
			return -1;
		sw->sethash = h;
		sw->capoff = cap;
	}
	if (sw->nids + sw->nmem > sw->capids) {
		cap = sw->capids ? sw->capids : 64;
		while (cap < sw->nids + sw->nmem)
			cap *= 2;
		if ((ids = reallocarray(sw->setids, cap, sizeof(*ids))) == NULL)
			return -1;
		sw->setids = ids;
		sw->capids = cap;
	}
	return 0;
}

/* The set of lists covering the current point, added if new. */
static uint32_t
intern(struct sweep *sw)
{
	uint32_t	*ids;
	size_t		 i, mask = sw->tcap - 1;

	for (i = sw->hash & mask; sw->table[i] != 0; i = (i + 1) & mask)
		if (same_set(sw, sw->table[i] - 1))
			return sw->table[i] - 1;
	if (sw->nsets >= UINT32_MAX - 1 || sw->nids + sw->nmem >= UINT32_MAX ||
	    grow_sets(sw) == -1)
		return NOSET;
	ids = sw->setids + sw->nids;
	memcpy(ids, sw->mem, sw->nmem * sizeof(*ids));
	qsort(ids, sw->nmem, sizeof(*ids), cmp_u32);
	sw->nids += sw->nmem;
	sw->setoff[sw->nsets + 1] = (uint32_t)sw->nids;
	sw->sethash[sw->nsets] = sw->hash;
	sw->table[i] = (uint32_t)sw->nsets + 1;
	sw->nsets++;
	if (sw->nsets * 2 > sw->tcap && grow_table(sw) == -1)
		return NOSET;
	return (uint32_t)sw->nsets - 1;
}

/* Trim an array grown to its worst case; keep it if realloc balks. */
static void *
shrink(void *p, size_t n, size_t size)
{
	void	*q;

	if (n == 0)
		n = 1;
	q = reallocarray(p, n, size);
	return q != NULL ? q : p;
}

static u128
get128(const uint8_t *b)
{
	u128	v = 0;
	int	i;

	for (i = 0; i < 16; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * IPv4 events as one sortable word: the address (32 bits), then 0 for a
 * start or 1 for an end, then the list.  A start takes effect at its
 * address, an end just past its address; so a boundary is addr + end,
 * which is 2^32 only past the top of the space.
 */
#define EV4_END		(UINT64_C(1) << 31)
#define EV4_LIST	(EV4_END - 1)

static uint64_t
ev4_boundary(uint64_t ev)
{
	return (ev >> 32) + ((ev & EV4_END) != 0);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every IPv4 prefix's two events, sorted. */
static uint64_t *
events4(const struct bl *b, size_t n, size_t *nevp)
{
	const struct prefix	*p;
	uint64_t		*ev;
	uint32_t		 lo, mask;
	size_t			 nev = 0, i, k;

	if (n > (SIZE_MAX - 1) / 2 / sizeof(*ev))
		return NULL;
	if ((ev = malloc((2 * n + 1) * sizeof(*ev))) == NULL)
		return NULL;
	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			p = &b->lists[i].pfx[k];
			if (p->addr.family != AF_INET)
				continue;
			mask = p->len == 0 ? 0 : UINT32_MAX << (32 - p->len);
			lo = util_get32be(p->addr.bytes) & mask;
			ev[nev++] = (uint64_t)lo << 32 | i;
			ev[nev++] = (uint64_t)(lo | ~mask) << 32 | EV4_END | i;
		}
	}
	qsort(ev, nev, sizeof(*ev), cmp_u64);
	*nevp = nev;
	return ev;
}

/*
 * Sweep the events: at each boundary, apply all its events, then start
 * a segment if the set of covering lists changed.
 */
static int
sweep4(struct sweep *sw, const uint64_t *ev, size_t nev, struct bl_index *x)
{
	uint64_t	bnd;
	uint32_t	s;
	size_t		i, j, ns = 1;

	x->start4 = malloc((nev + 1) * sizeof(*x->start4));
	x->set4 = malloc((nev + 1) * sizeof(*x->set4));
	if (x->start4 == NULL || x->set4 == NULL)
		return -1;
	x->start4[0] = 0;
	x->set4[0] = SET_EMPTY;
	sweep_reset(sw);
	for (i = 0; i < nev; i = j) {
		if ((bnd = ev4_boundary(ev[i])) > UINT32_MAX)
			break;
		for (j = i; j < nev && ev4_boundary(ev[j]) == bnd; j++)
			sweep_apply(sw, (uint32_t)(ev[j] & EV4_LIST),
			    (ev[j] & EV4_END) != 0);
		if ((s = intern(sw)) == NOSET)
			return -1;
		if (x->start4[ns - 1] == bnd)	/* only at address 0 */
			x->set4[ns - 1] = s;
		else if (x->set4[ns - 1] != s) {
			x->start4[ns] = (uint32_t)bnd;
			x->set4[ns++] = s;
		}
	}
	x->start4 = shrink(x->start4, ns, sizeof(*x->start4));
	x->set4 = shrink(x->set4, ns, sizeof(*x->set4));
	x->nseg4 = ns;
	return 0;
}

static int
build4(const struct bl *b, struct sweep *sw, size_t n, struct bl_index *x)
{
	uint64_t	*ev;
	size_t		 nev;
	int		 rc;

	if ((ev = events4(b, n, &nev)) == NULL)
		return -1;
	rc = sweep4(sw, ev, nev, x);
	free(ev);
	return rc;
}

/* IPv6 events: same scheme, the address too wide to share a word. */
struct ev6 {
	u128		addr;
	uint32_t	list;
	uint32_t	end;
};

static int
cmp_ev6(const void *a, const void *b)
{
	const struct ev6	*x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* False past the top of the space. */
static bool
ev6_boundary(const struct ev6 *e, u128 *bnd)
{
	if (e->end && e->addr == ~(u128)0)
		return false;
	*bnd = e->addr + (e->end ? 1 : 0);
	return true;
}

static struct ev6 *
events6(const struct bl *b, size_t n, size_t *nevp)
{
	const struct prefix	*p;
	struct ev6		*ev;
	u128			 lo, mask;
	size_t			 nev = 0, i, k;

	if (n > (SIZE_MAX - 1) / 2 / sizeof(*ev))
		return NULL;
	if ((ev = malloc((2 * n + 1) * sizeof(*ev))) == NULL)
		return NULL;
	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			p = &b->lists[i].pfx[k];
			if (p->addr.family != AF_INET6)
				continue;
			mask = p->len == 0 ? 0 : ~(u128)0 << (128 - p->len);
			lo = get128(p->addr.bytes) & mask;
			ev[nev].addr = lo;
			ev[nev].list = (uint32_t)i;
			ev[nev++].end = 0;
			ev[nev].addr = lo | ~mask;
			ev[nev].list = (uint32_t)i;
			ev[nev++].end = 1;
		}
	}
	qsort(ev, nev, sizeof(*ev), cmp_ev6);
	*nevp = nev;
	return ev;
}

static int
sweep6(struct sweep *sw, const struct ev6 *ev, size_t nev,
    struct bl_index *x)
{
	u128		bnd, bj;
	uint32_t	s;
	size_t		i, j, ns = 1;

	x->start6 = malloc((nev + 1) * sizeof(*x->start6));
	x->set6 = malloc((nev + 1) * sizeof(*x->set6));
	if (x->start6 == NULL || x->set6 == NULL)
		return -1;
	x->start6[0] = 0;
	x->set6[0] = SET_EMPTY;
	sweep_reset(sw);
	for (i = 0; i < nev; i = j) {
		if (!ev6_boundary(&ev[i], &bnd))
			break;
		for (j = i; j < nev && ev6_boundary(&ev[j], &bj) && bj == bnd;
		    j++)
			sweep_apply(sw, ev[j].list, ev[j].end != 0);
		if ((s = intern(sw)) == NOSET)
			return -1;
		if (x->start6[ns - 1] == bnd)	/* only at address 0 */
			x->set6[ns - 1] = s;
		else if (x->set6[ns - 1] != s) {
			x->start6[ns] = bnd;
			x->set6[ns++] = s;
		}
	}
	x->start6 = shrink(x->start6, ns, sizeof(*x->start6));
	x->set6 = shrink(x->set6, ns, sizeof(*x->set6));
	x->nseg6 = ns;
	return 0;
}

static int
build6(const struct bl *b, struct sweep *sw, size_t n, struct bl_index *x)
{
	struct ev6	*ev;
	size_t		 nev;
	int		 rc;

	if ((ev = events6(b, n, &nev)) == NULL)
		return -1;
	rc = sweep6(sw, ev, nev, x);
	free(ev);
	return rc;
}

int
bl_build(struct bl *b)
{
	struct sweep	sw;
	struct bl_index	x;
	size_t		n[2] = { 0, 0 }, i, k;

	/* The old index names lists by position: useless once they move. */
	bl_index_free(&b->idx);
	b->stale = true;
	memset(&x, 0, sizeof(x));
	for (i = 0; i < b->nlists; i++)
		for (k = 0; k < b->lists[i].npfx; k++)
			n[b->lists[i].pfx[k].addr.family == AF_INET6]++;
	if (sweep_init(&sw, b->nlists) == -1)
		return -1;
	if (build4(b, &sw, n[0], &x) == -1 || build6(b, &sw, n[1], &x) == -1) {
		sweep_free(&sw);
		bl_index_free(&x);
		return -1;
	}
	x.nsets = sw.nsets;
	x.setoff = shrink(sw.setoff, sw.nsets + 1, sizeof(*x.setoff));
	x.setids = shrink(sw.setids, sw.nids, sizeof(*x.setids));
	sw.setoff = NULL;
	sw.setids = NULL;
	sweep_free(&sw);
	b->idx = x;
	b->stale = false;
	return 0;
}

/*
 * Lookup.
 */

static size_t
put_set(const struct bl_index *x, uint32_t s, uint32_t *ids, size_t max)
{
	size_t	n = x->setoff[s + 1] - x->setoff[s];

	if (ids != NULL && n > 0 && max > 0)
		memcpy(ids, x->setids + x->setoff[s],
		    (n < max ? n : max) * sizeof(*ids));
	return n;
}

static size_t
lookup4(const struct bl_index *x, uint32_t a, uint32_t *ids, size_t max)
{
	size_t	lo = 0, hi = x->nseg4, mid;

	if (x->nseg4 == 0)
		return 0;
	/* The last segment starting at or below a; start4[0] is 0. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (x->start4[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return put_set(x, x->set4[lo], ids, max);
}

static size_t
lookup6(const struct bl_index *x, u128 a, uint32_t *ids, size_t max)
{
	size_t	lo = 0, hi = x->nseg6, mid;

	if (x->nseg6 == 0)
		return 0;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (x->start6[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return put_set(x, x->set6[lo], ids, max);
}

/* Before a build: every prefix of every list, in list order. */
static size_t
lookup_linear(const struct bl *b, const struct addr *a, uint32_t *ids,
    size_t max)
{
	size_t	i, k, n = 0;

	for (i = 0; i < b->nlists; i++) {
		for (k = 0; k < b->lists[i].npfx; k++) {
			if (!prefix_contains(&b->lists[i].pfx[k], a))
				continue;
			if (ids != NULL && n < max)
				ids[n] = (uint32_t)i;
			n++;
			break;
		}
	}
	return n;
}

size_t
bl_lookup(const struct bl *b, const struct addr *a, uint32_t *ids,
    size_t max)
{
	if (b->stale)
		return lookup_linear(b, a, ids, max);
	switch (a->family) {
	case AF_INET:
		return lookup4(&b->idx, util_get32be(a->bytes), ids, max);
	case AF_INET6:
		return lookup6(&b->idx, get128(a->bytes), ids, max);
	default:
		return 0;
	}
}
