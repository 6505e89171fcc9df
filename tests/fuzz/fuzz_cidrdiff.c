/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Differential libFuzzer harness for cidr_collapse (src/lib/cidr.c):
 * black minus white, collapsed, against a bitmap.
 *
 * Every range lies inside one window of 4096 addresses per family, so a
 * bit per address is an exact model of the set black minus white.  The
 * windows sit at the bottom and the top of each space, across the middle
 * (not aligned to their own size) and at an odd offset, so runs meet the
 * ends of the space and blocks larger than the window.  The model's
 * answer is found without any sweep: walk the binary tree of aligned
 * blocks from the whole space down, keep a block when every address in
 * it is in the set, go into its halves when only some are.  That list of
 * maximal aligned blocks is the one minimal cover, in order; cidr_collapse
 * must give exactly it (IPv4 first, ascending, so sorted, disjoint and
 * minimal), and collapsing its own output again must change nothing.
 *
 * Ranges reach the lists four ways: cidr_add4/cidr_add6, cidr_add_prefix
 * (host bits set), and text lines ("a - b", "a/len" with host bits) read
 * by cidr_parse, which must count every line as a range.
 *
 * Input: byte 0 picks the windows (bits 0-1 IPv4, bits 2-3 IPv6) and
 * whether an empty white list is passed as NULL (bit 4); then records of
 * 5 bytes: flags (bit 0 white, bit 1 IPv6, bits 2-3 the way in, bits 4-5
 * the text separator, bit 6 CRLF), then two 16-bit values: the offsets of
 * a range's ends, or a prefix's address and its length.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "cidr.h"
#include "fuzz.h"

#define WBITS		12
#define WSIZE		(1u << WBITS)
#define RECSIZE		5
#define RECMAX		64

typedef cidr_u128	u128;

#define WWORDS		(WSIZE / 64)

struct fam {
	unsigned	 width;		/* 32 or 128 */
	int		 af;
	u128		 base;		/* the window's first address */
	bool		 used;		/* a record named this family */
	uint64_t	 black[WWORDS], white[WWORDS], set[WWORDS];
	uint32_t	 sum[WWORDS + 1];	/* members in words below i */
};

struct want {
	struct prefix	*v;
	size_t		 n, cap;
};

/* The model's own conversions, not cidr.c's. */
static void
to_addr(int af, u128 v, struct addr *a)
{
	int	i, nb = af == AF_INET ? 4 : 16;

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)af;
	for (i = nb - 1; i >= 0; i--) {
		a->bytes[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The last offset a block of 2^(width - len) addresses adds to its start. */
static u128
span(unsigned width, unsigned len)
{
	return width - len >= 128 ? ~(u128)0 :
	    ((u128)1 << (width - len)) - 1;
}

static u128
window_base(unsigned width, unsigned pick)
{
	u128	top = width == 32 ? (u128)UINT32_MAX : ~(u128)0;

	switch (pick & 3) {
	case 0:
		return 0;
	case 1:
		return top - (WSIZE - 1);
	case 2:		/* across the middle, 2048-aligned only */
		return (top >> 1) + 1 - WSIZE / 2;
	default:	/* 192.168.0.128 or 2001:db8::80: 128-aligned */
		return width == 32 ? (u128)0xc0a80080u :
		    ((u128)0x20010db8u << 96) + 0x80;
	}
}

static void
push(struct want *w, int af, u128 start, unsigned len)
{
	struct prefix	*p;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		CHECK((p = realloc(w->v, w->cap * sizeof(*p))) != NULL);
		w->v = p;
	}
	p = &w->v[w->n++];
	to_addr(af, start, &p->addr);
	p->len = (uint8_t)len;
}

/* Set bits lo..hi of a window bitmap. */
static void
mark(uint64_t *bits, unsigned lo, unsigned hi)
{
	unsigned	i;

	for (i = lo; i <= hi; i++)
		if (i % 64 == 0 && i + 63 <= hi) {
			bits[i / 64] = ~(uint64_t)0;
			i += 63;
		} else
			bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Members at window offsets below x. */
static uint32_t
rank(const struct fam *f, unsigned x)
{
	uint32_t	n = f->sum[x / 64];

	if (x % 64 != 0)
		n += (uint32_t)__builtin_popcountll(f->set[x / 64] &
		    (((uint64_t)1 << (x % 64)) - 1));
	return n;
}

/* Members of the set in [lo, hi], clipped to the window. */
static u128
members(const struct fam *f, u128 lo, u128 hi)
{
	u128	wlo = f->base, whi = f->base + (WSIZE - 1);

	if (hi < wlo || lo > whi)
		return 0;
	if (lo < wlo)
		lo = wlo;
	if (hi > whi)
		hi = whi;
	return rank(f, (unsigned)(hi - f->base) + 1) -
	    rank(f, (unsigned)(lo - f->base));
}

/* The block start/len: keep it whole, drop it, or look at its halves. */
static void
cover(const struct fam *f, u128 start, unsigned len, struct want *w)
{
	u128	last = span(f->width, len), in;

	in = members(f, start, start + last);
	if (in == 0)
		return;
	/* A block larger than the window always has non-members. */
	if (last < WSIZE && in == last + 1) {
		push(w, f->af, start, len);
		return;
	}
	cover(f, start, len + 1, w);
	cover(f, start + span(f->width, len + 1) + 1, len + 1, w);
}

static void
model(struct fam *f, struct want *w)
{
	size_t	i;

	if (!f->used)
		return;
	f->sum[0] = 0;
	for (i = 0; i < WWORDS; i++) {
		f->set[i] = f->black[i] & ~f->white[i];
		f->sum[i + 1] = f->sum[i] +
		    (uint32_t)__builtin_popcountll(f->set[i]);
	}
	cover(f, 0, 0, w);
}

static void
text_addr(const struct fam *f, u128 v, struct buf *t)
{
	if (f->width == 32)
		CHECK(buf_printf(t, "%u.%u.%u.%u", (unsigned)(v >> 24) & 255,
		    (unsigned)(v >> 16) & 255, (unsigned)(v >> 8) & 255,
		    (unsigned)v & 255) == 0);
	else
		CHECK(buf_printf(t, "%x:%x:%x:%x:%x:%x:%x:%x",
		    (unsigned)(v >> 112) & 0xffff, (unsigned)(v >> 96) & 0xffff,
		    (unsigned)(v >> 80) & 0xffff, (unsigned)(v >> 64) & 0xffff,
		    (unsigned)(v >> 48) & 0xffff, (unsigned)(v >> 32) & 0xffff,
		    (unsigned)(v >> 16) & 0xffff, (unsigned)v & 0xffff) == 0);
}

static void
show(const char *what, const struct prefix *p, size_t n)
{
	char	s[ADDR_STRLEN];
	size_t	i;

	fprintf(stderr, "%s (%zu):", what, n);
	for (i = 0; i < n && i < 32; i++) {
		prefix_format(&p[i], s, sizeof(s));
		fprintf(stderr, " %s", s);
	}
	fprintf(stderr, "%s\n", n > 32 ? " ..." : "");
}

static void
check_same(const struct prefix *got, size_t ngot, const struct want *w)
{
	size_t	i;

	for (i = 0; i < ngot && i < w->n; i++)
		if (got[i].len != w->v[i].len ||
		    got[i].addr.family != w->v[i].addr.family ||
		    memcmp(got[i].addr.bytes, w->v[i].addr.bytes, 16) != 0)
			break;
	if (i == ngot && i == w->n)
		return;
	fprintf(stderr, "first difference at %zu\n", i);
	show("cidr_collapse", got, ngot);
	show("bitmap model", w->v, w->n);
	abort();
}

static const char *const seps[4] = { " - ", "-", "\t", " -- " };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fam	 fams[2];
	struct cidr_list	 black, white, again;
	struct cidr_report	 rep;
	struct buf		 text[2] = { { 0 }, { 0 } };
	struct want		 w = { 0 };
	struct prefix		 p, *out, *out2;
	size_t			 nout, nout2, i, nrec, ntext[2] = { 0, 0 };
	unsigned		 a, b, lo, hi, len, way;
	struct fam		*f;
	bool			 iswhite, nullwhite, nowhite = true;
	u128			 mask;

	if (size < 1)
		return 0;
	fams[0].width = 32;
	fams[0].af = AF_INET;
	fams[0].base = window_base(32, data[0]);
	fams[1].width = 128;
	fams[1].af = AF_INET6;
	fams[1].base = window_base(128, data[0] >> 2);
	nullwhite = data[0] & 0x10;
	for (i = 0; i < 2; i++) {
		memset(fams[i].black, 0, sizeof(fams[i].black));
		memset(fams[i].white, 0, sizeof(fams[i].white));
		fams[i].used = false;
	}
	cidr_list_init(&black);
	cidr_list_init(&white);
	cidr_list_init(&again);

	nrec = (size - 1) / RECSIZE;
	if (nrec > RECMAX)
		nrec = RECMAX;
	for (i = 0; i < nrec; i++) {
		const uint8_t	*r = data + 1 + i * RECSIZE;
		struct buf	*t;
		uint64_t	*set;

		iswhite = r[0] & 1;
		f = &fams[(r[0] >> 1) & 1];
		way = (r[0] >> 2) & 3;
		a = ((unsigned)r[1] << 8 | r[2]) & (WSIZE - 1);
		b = (unsigned)r[3] << 8 | r[4];
		set = iswhite ? f->white : f->black;
		f->used = true;
		t = &text[iswhite];
		if (iswhite)
			nowhite = false;

		if (way == 0 || way == 2) {
			/* A range [lo, hi] of window offsets. */
			b &= WSIZE - 1;
			lo = a < b ? a : b;
			hi = a < b ? b : a;
			mark(set, lo, hi);
			if (way == 0 && f->width == 32)
				CHECK(cidr_add4(iswhite ? &white : &black,
				    (uint32_t)(f->base + lo),
				    (uint32_t)(f->base + hi)) == 0);
			else if (way == 0)
				CHECK(cidr_add6(iswhite ? &white : &black,
				    f->base + lo, f->base + hi) == 0);
			else {
				text_addr(f, f->base + lo, t);
				CHECK(buf_puts(t, seps[(r[0] >> 4) & 3]) == 0);
				text_addr(f, f->base + hi, t);
				CHECK(buf_puts(t, r[0] & 0x40 ? "\r\n" : "\n") ==
				    0);
				ntext[iswhite]++;
			}
			continue;
		}

		/* A prefix around base + a, narrowed until it fits. */
		len = f->width - b % (WBITS + 1);
		for (;; len++) {
			mask = span(f->width, len);
			if (((f->base + a) & ~mask) >= f->base &&
			    ((f->base + a) | mask) <= f->base + (WSIZE - 1))
				break;
		}
		lo = (unsigned)(((f->base + a) & ~mask) - f->base);
		mark(set, lo, lo + (unsigned)mask);
		if (way == 1) {
			to_addr(f->af, f->base + a, &p.addr);
			p.len = (uint8_t)len;
			CHECK(cidr_add_prefix(iswhite ? &white : &black, &p) ==
			    0);
		} else {
			text_addr(f, f->base + a, t);
			CHECK(buf_printf(t, "/%u%s", len, r[0] & 0x40 ? "\r\n" :
			    "\n") == 0);
			ntext[iswhite]++;
		}
	}

	/* The text lines, each one range. */
	for (i = 0; i < 2; i++) {
		memset(&rep, 0, sizeof(rep));
		CHECK(cidr_parse("fuzz", text[i].data != NULL ? text[i].data :
		    "", text[i].len, i ? &white : &black, &rep) == 0);
		if (rep.bad != 0)
			fprintf(stderr, "%s\n", rep.kept[0]);
		CHECK(rep.bad == 0 && rep.ranges == ntext[i] &&
		    rep.lines == ntext[i]);
		buf_free(&text[i]);
	}

	CHECK(cidr_collapse(&black, nowhite && nullwhite ? NULL : &white,
	    &out, &nout) == 0);
	CHECK((nout == 0) == (out == NULL));
	model(&fams[0], &w);
	model(&fams[1], &w);
	check_same(out, nout, &w);

	/* Collapsed output is its own collapse. */
	for (i = 0; i < nout; i++)
		CHECK(cidr_add_prefix(&again, &out[i]) == 0);
	CHECK(cidr_collapse(&again, NULL, &out2, &nout2) == 0);
	check_same(out2, nout2, &w);

	free(out);
	free(out2);
	free(w.v);
	cidr_list_free(&black);
	cidr_list_free(&white);
	cidr_list_free(&again);
	return 0;
}
