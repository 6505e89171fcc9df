/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * reconcile: store vs kernel set.  See reconcile.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

static int
want_cmp(const void *a, const void *b)
{
	const struct rc_want *x = a, *y = b;
	int c = addr_cmp(&x->addr, &y->addr);

	if (c != 0)
		return c;
	/* Latest expiry first, so the first of a run of equals wins. */
	return (x->expire < y->expire) - (x->expire > y->expire);
}

static int
have_cmp(const void *a, const void *b)
{
	const struct rc_have *x = a, *y = b;

	return addr_cmp(&x->addr, &y->addr);
}

static int
push(struct rc_change **arr, size_t *n, size_t *cap, const struct addr *a,
    uint64_t timeout_ms)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct rc_change *p = reallocarray(*arr, ncap, sizeof(*p));

		if (p == NULL)
			return -1;
		*arr = p;
		*cap = ncap;
	}
	(*arr)[*n].addr = *a;
	(*arr)[*n].timeout_ms = timeout_ms;
	(*n)++;
	return 0;
}

/* Copy the entries of one family, sorted. */
static void *
sorted_copy(const void *src, size_t n, size_t size, int family,
    size_t *out, int (*cmp)(const void *, const void *))
{
	const char *p = src;
	char *dst;
	size_t k = 0;

	if ((dst = reallocarray(NULL, n ? n : 1, size)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct addr *a = (const struct addr *)(p + i * size);

		if (a->family == family)
			memcpy(dst + k++ * size, p + i * size, size);
	}
	qsort(dst, k, size, cmp);
	*out = k;
	return dst;
}

int
reconcile(const struct rc_want *want0, size_t nwant0,
    const struct rc_have *have0, size_t nhave0, int family, int64_t now,
    int64_t slack_s, struct rc_result *r)
{
	struct rc_want *want;
	struct rc_have *have;
	size_t nwant, nhave, i = 0, j = 0, capa = 0, capd = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	want = sorted_copy(want0, nwant0, sizeof(*want), family, &nwant,
	    want_cmp);
	have = sorted_copy(have0, nhave0, sizeof(*have), family, &nhave,
	    have_cmp);
	if (want == NULL || have == NULL)
		goto out;
	while (i < nwant || j < nhave) {
		int c;

		/* Skip expired wants and duplicate wants of one address. */
		if (i < nwant && (want[i].expire <= now || (i > 0 &&
		    addr_eq(&want[i].addr, &want[i - 1].addr)))) {
			i++;
			continue;
		}
		if (j > 0 && j < nhave && addr_eq(&have[j].addr,
		    &have[j - 1].addr)) {
			j++;
			continue;
		}
		if (i == nwant)
			c = 1;
		else if (j == nhave)
			c = -1;
		else
			c = addr_cmp(&want[i].addr, &have[j].addr);
		if (c < 0) {
			if (push(&r->add, &r->nadd, &capa, &want[i].addr,
			    (uint64_t)(want[i].expire - now) * 1000) == -1)
				goto out;
			i++;
		} else if (c > 0) {
			if (push(&r->del, &r->ndel, &capd, &have[j].addr,
			    0) == -1)
				goto out;
			j++;
		} else {
			int64_t left = (int64_t)(have[j].left_ms / 1000);
			int64_t diff = (want[i].expire - now) - left;

			if (diff > slack_s || diff < -slack_s) {
				if (push(&r->del, &r->ndel, &capd,
				    &have[j].addr, 0) == -1 ||
				    push(&r->add, &r->nadd, &capa,
				    &want[i].addr, (uint64_t)(want[i].expire -
				    now) * 1000) == -1)
					goto out;
			}
			i++;
			j++;
		}
	}
	rc = 0;
out:
	free(want);
	free(have);
	if (rc == -1)
		reconcile_free(r);
	return rc;
}

void
reconcile_free(struct rc_result *r)
{
	free(r->add);
	free(r->del);
	memset(r, 0, sizeof(*r));
}
