/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftrange: keys, prefixes and ranges for nftset, and the start/end
 * element encoding of interval sets.  See nftrange.h.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "nftrange.h"

unsigned
key_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

u128
key_top(int family)
{
	return family == AF_INET ? (u128)0xffffffffu : ~(u128)0;
}

u128
key_mask(unsigned k)
{
	if (k == 0)
		return 0;
	if (k >= 128)
		return ~(u128)0;
	return ((u128)1 << k) - 1;
}

u128
key_get(const uint8_t *b, size_t len)
{
	u128	v = 0;
	size_t	i;

	for (i = 0; i < len; i++)
		v = (v << 8) | b[i];
	return v;
}

void
key_put(u128 v, uint8_t *b, size_t len)
{
	size_t	i;

	for (i = len; i > 0; i--) {
		b[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

void
key_to_addr(u128 v, int family, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	key_put(v, a->bytes, key_bits(family) / 8);
}

void
key_range(int family, const struct prefix *p, u128 *lo, u128 *hi)
{
	unsigned	bits = key_bits(family);

	*lo = key_get(p->addr.bytes, bits / 8);
	*hi = *lo | key_mask(bits - p->len);
}

/* Lists. */

void *
nft_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t	c;

	if (n < *cap)
		return v;
	c = *cap == 0 ? first : *cap * 2;
	if ((v = reallocarray(v, c, size)) == NULL)
		return NULL;
	*cap = c;
	return v;
}

int
nels_push(struct nels *l, u128 key, uint32_t flags, uint64_t timeout,
    const struct nftset_elem *src)
{
	struct nel	*v;

	if ((v = nft_grow(l->v, l->n, &l->cap, sizeof(*v), 64)) == NULL)
		return -1;
	l->v = v;
	l->v[l->n].key = key;
	l->v[l->n].flags = flags;
	l->v[l->n].timeout = timeout;
	l->v[l->n].src = src;
	l->n++;
	return 0;
}

int
nels_interval(struct nels *l, int family, u128 lo, u128 hi,
    uint64_t timeout, const struct nftset_elem *src)
{
	if (nels_push(l, lo, 0, timeout, src) == -1)
		return -1;
	if (hi != key_top(family) && nels_push(l, hi + 1,
	    NFT_SET_ELEM_INTERVAL_END, timeout, src) == -1)
		return -1;
	return 0;
}

/* A prefix as a range, to sort. */
struct ival {
	u128				 lo, hi;
	const struct nftset_elem	*src;
};

static int
ival_cmp(const void *a, const void *b)
{
	const struct ival	*x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sorted, duplicates dropped in place; -1 at the first overlap. */
static int
ivals_disjoint(struct ival *iv, size_t n, size_t *kept,
    const struct nftset_elem **earlier, const struct nftset_elem **later)
{
	size_t	i, k;

	qsort(iv, n, sizeof(*iv), ival_cmp);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && iv[i].lo == iv[k - 1].lo &&
		    iv[i].hi == iv[k - 1].hi)
			continue;
		if (k > 0 && iv[i].lo <= iv[k - 1].hi) {
			*earlier = iv[k - 1].src;
			*later = iv[i].src;
			return -1;
		}
		iv[k++] = iv[i];
	}
	*kept = k;
	return 0;
}

int
nels_intervals(struct nels *out, int family, const struct nftset_elem *v,
    size_t n, const struct nftset_elem **earlier,
    const struct nftset_elem **later)
{
	struct ival	*iv;
	size_t		 i, k;
	int		 ret = -1;

	if (n == 0)
		return 0;
	if ((iv = reallocarray(NULL, n, sizeof(*iv))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		key_range(family, &v[i].pfx, &iv[i].lo, &iv[i].hi);
		iv[i].src = &v[i];
	}
	if (ivals_disjoint(iv, n, &k, earlier, later) == -1) {
		errno = EEXIST;
		goto out;
	}
	for (i = 0; i < k; i++)
		if (nels_interval(out, family, iv[i].lo, iv[i].hi,
		    iv[i].src->timeout_ms, iv[i].src) == -1)
			goto out;
	ret = 0;
out:
	free(iv);
	return ret;
}

/* Dumps. */

static int
rawel_cmp(const void *a, const void *b)
{
	const struct rawel	*x = a, *y = b;
	int			 xe, ye;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	/* The end of one interval before the start of the next. */
	xe = (x->flags & NFT_SET_ELEM_INTERVAL_END) != 0;
	ye = (y->flags & NFT_SET_ELEM_INTERVAL_END) != 0;
	return ye - xe;
}

int
ranges_from_dump(int family, bool interval, struct rawel *v, size_t n,
    struct range *out, size_t *nout, u128 *bad)
{
	size_t	i, k = 0;

	*nout = 0;
	if (n > 0)
		qsort(v, n, sizeof(*v), rawel_cmp);
	for (i = 0; i < n; i++) {
		/* In an interval set, an end with no start bounds nothing. */
		if (v[i].flags & NFT_SET_ELEM_INTERVAL_END)
			continue;
		out[k].lo = v[i].key;
		if (!interval)
			out[k].hi = v[i].key;
		else if (i + 1 == n)
			out[k].hi = key_top(family);
		else if ((v[i + 1].flags & NFT_SET_ELEM_INTERVAL_END) &&
		    v[i + 1].key > v[i].key)
			out[k].hi = v[i + 1].key - 1;
		else {
			*bad = v[i].key;
			errno = EPROTO;
			return -1;
		}
		out[k].timeout = v[i].timeout;
		out[k].expires = v[i].expires;
		out[k].used = false;
		k++;
		/* Past the end element just read. */
		if (interval && i + 1 < n)
			i++;
	}
	*nout = k;
	return 0;
}

struct range *
range_find(struct range *v, size_t n, u128 lo)
{
	size_t	l = 0, h = n, m;

	while (l < h) {
		m = l + (h - l) / 2;
		if (v[m].lo == lo)
			return &v[m];
		if (v[m].lo < lo)
			l = m + 1;
		else
			h = m;
	}
	return NULL;
}

/* Prefixes. */

static int
elems_push(struct elems *l, const struct prefix *p, uint64_t timeout,
    uint64_t expires)
{
	struct nftset_elem	*v;

	if ((v = nft_grow(l->v, l->n, &l->cap, sizeof(*v), 64)) == NULL)
		return -1;
	l->v = v;
	l->v[l->n].pfx = *p;
	l->v[l->n].timeout_ms = timeout;
	l->v[l->n].expires_ms = expires;
	l->n++;
	return 0;
}

int
range_prefixes(int family, const struct range *r, struct elems *out)
{
	struct prefix	p;
	unsigned	bits = key_bits(family), k;
	u128		lo = r->lo, last;

	for (;;) {
		/* The largest aligned block at lo that stays in range. */
		for (k = 0; k < bits; k++)
			if ((lo & key_mask(k + 1)) != 0 ||
			    r->hi - lo < key_mask(k + 1))
				break;
		memset(&p, 0, sizeof(p));
		key_to_addr(lo, family, &p.addr);
		p.len = (uint8_t)(bits - k);
		if (elems_push(out, &p, r->timeout, r->expires) == -1)
			return -1;
		last = lo | key_mask(k);
		if (last >= r->hi)
			return 0;
		lo = last + 1;
	}
}
