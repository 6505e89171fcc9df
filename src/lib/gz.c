/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * gz: gzip-or-plain streaming decoder.  See gz.h.
 *
 * Input goes through a small state machine: LOOK holds up to two bytes
 * to tell gzip from plain, PLAIN copies through, MEMBER inflates one
 * gzip member, and after a member LOOK again decides between another
 * member and trailing garbage.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "gz.h"

#define GZ_MAGIC0	0x1f
#define GZ_MAGIC1	0x8b
#define GZ_WBITS	(15 + 16)	/* 32K window, gzip wrapper only */
#define GZ_FIRSTCAP	4096
#define GZ_ERRLEN	200

enum gz_state {
	GZ_LOOK,	/* holding bytes until gzip magic or not is known */
	GZ_PLAIN,	/* not gzip: copy through */
	GZ_MEMBER,	/* inside a gzip member */
	GZ_TRAIL,	/* garbage after the last member: ignored */
	GZ_DONE,	/* gz_finish succeeded */
	GZ_FAILED	/* err says why; sticky */
};

struct gz {
	z_stream	 zs;
	bool		 zinit;		/* zs set up by inflateInit2 */
	enum gz_state	 state;
	bool		 gzip;		/* a member has started */
	unsigned char	 hold[2];
	size_t		 nhold;
	size_t		 in;		/* input bytes fed */
	size_t		 max;
	size_t		 total;		/* decoded bytes, taken ones too */
	char		*out;
	size_t		 len, cap;
	char		 err[GZ_ERRLEN];
};

static int
fail(struct gz *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct gz *g, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
	g->state = GZ_FAILED;
	return -1;
}

/* Copy the reason out, when the caller gave room for it. */
static int
report(const char *why, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -1;
}

/*
 * Make room for need more bytes and the NUL.  The caller has checked
 * need <= max - total, so the cap stays within len + (max - total) + 1,
 * which is at most max + 1.
 */
static int
grow(struct gz *g, size_t need)
{
	size_t	 lim, cap;
	char	*p;

	if (g->len + need + 1 <= g->cap)
		return 0;
	lim = g->len + (g->max - g->total) + 1;
	cap = g->cap > 0 ? g->cap : GZ_FIRSTCAP;
	while (cap < g->len + need + 1 && cap < lim)
		cap = cap > lim / 2 ? lim : cap * 2;
	if (cap > lim)
		cap = lim;
	if ((p = realloc(g->out, cap)) == NULL)
		return fail(g, "out of memory");
	p[g->len] = '\0';	/* zlib may add nothing */
	g->out = p;
	g->cap = cap;
	return 0;
}

static int
put_plain(struct gz *g, const unsigned char *p, size_t n)
{
	if (n > g->max - g->total)
		return fail(g, "more than %zu bytes", g->max);
	if (n == 0)
		return 0;
	if (grow(g, n) == -1)
		return -1;
	memcpy(g->out + g->len, p, n);
	g->len += n;
	g->total += n;
	g->out[g->len] = '\0';
	return 0;
}

/*
 * Point zlib's output at the free part of the buffer, or, once max is
 * reached, at a one-byte spare: any byte landing there is one too many.
 */
static int
set_out(struct gz *g, unsigned char *spare)
{
	size_t	room;

	if (g->total == g->max) {
		g->zs.next_out = spare;
		g->zs.avail_out = 1;
		return 0;
	}
	if (grow(g, 1) == -1)
		return -1;
	room = g->cap - 1 - g->len;
	if (room > g->max - g->total)
		room = g->max - g->total;
	if (room > UINT_MAX)
		room = UINT_MAX;
	g->zs.next_out = (unsigned char *)g->out + g->len;
	g->zs.avail_out = (uInt)room;
	return 0;
}

/*
 * Inflate p[0..n) as part of the current member; at is the input offset
 * of p[0], for messages.  *used is n, or less when the member ends.
 */
static int
inflate_some(struct gz *g, const unsigned char *p, size_t n, size_t at,
    size_t *used)
{
	unsigned char	spare;
	size_t		given = 0, made;
	uInt		before;
	bool		full;
	int		rv;

	g->zs.avail_in = 0;
	for (;;) {
		if (g->zs.avail_in == 0 && given < n) {
			g->zs.next_in = p + given;
			g->zs.avail_in = n - given > UINT_MAX ? UINT_MAX :
			    (uInt)(n - given);
			given += g->zs.avail_in;
		}
		full = g->total == g->max;
		if (set_out(g, &spare) == -1)
			return -1;
		before = g->zs.avail_out;
		rv = inflate(&g->zs, Z_NO_FLUSH);
		made = before - g->zs.avail_out;
		*used = given - g->zs.avail_in;
		if (made > 0 && full)
			return fail(g, "more than %zu bytes after decompression",
			    g->max);
		if (made > 0) {
			g->len += made;
			g->total += made;
			g->out[g->len] = '\0';
		}
		if (rv == Z_STREAM_END) {
			g->state = GZ_LOOK;
			return 0;
		}
		if (rv == Z_MEM_ERROR)
			return fail(g, "out of memory");
		/* Z_BUF_ERROR: no progress possible, so no input left. */
		if (rv != Z_OK && rv != Z_BUF_ERROR)
			return fail(g, "gzip data corrupt at input byte %zu: %s",
			    at + *used, g->zs.msg != NULL ? g->zs.msg :
			    zError(rv));
		if (g->zs.avail_in == 0 && given == n && g->zs.avail_out > 0)
			return 0;
	}
}

/* The magic was seen (its 0x8b at offset at): start a member with it. */
static int
start_member(struct gz *g, size_t at)
{
	size_t	used;
	int	rv;

	if (!g->zinit) {
		memset(&g->zs, 0, sizeof(g->zs));
		if ((rv = inflateInit2(&g->zs, GZ_WBITS)) != Z_OK)
			return fail(g, "%s", rv == Z_MEM_ERROR ?
			    "out of memory" : "cannot start zlib");
		g->zinit = true;
	} else if (inflateReset(&g->zs) != Z_OK)
		return fail(g, "cannot reset zlib");
	g->gzip = true;
	g->state = GZ_MEMBER;
	g->nhold = 0;
	/* Two bytes never end a member, so both are used. */
	return inflate_some(g, g->hold, 2, at - 1, &used);
}

/*
 * One byte while looking for the magic, at input offset at.  At the
 * start, anything but the magic means plain data.  After a complete
 * member, anything but the magic is trailing garbage and is ignored
 * from there to the end, as gzread does.
 */
static int
look(struct gz *g, unsigned char c, size_t at)
{
	size_t	n;

	g->hold[g->nhold++] = c;
	if (c == (g->nhold == 1 ? GZ_MAGIC0 : GZ_MAGIC1))
		return g->nhold == 2 ? start_member(g, at) : 0;
	if (g->gzip) {
		g->state = GZ_TRAIL;
		g->nhold = 0;
		return 0;
	}
	g->state = GZ_PLAIN;
	n = g->nhold;
	g->nhold = 0;
	return put_plain(g, g->hold, n);
}

/* Run p[0..n) through the state machine. */
static int
run(struct gz *g, const unsigned char *p, size_t n)
{
	size_t	used;

	while (n > 0) {
		switch (g->state) {
		case GZ_LOOK:
			if (look(g, *p, g->in - n) == -1)
				return -1;
			used = 1;
			break;
		case GZ_PLAIN:
			if (put_plain(g, p, n) == -1)
				return -1;
			used = n;
			break;
		case GZ_MEMBER:
			if (inflate_some(g, p, n, g->in - n, &used) == -1)
				return -1;
			break;
		case GZ_TRAIL:
			used = n;
			break;
		default:
			return -1;
		}
		p += used;
		n -= used;
	}
	return 0;
}

struct gz *
gz_new(size_t max)
{
	struct gz	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	/* Keeps max + 1 from wrapping; nothing that size fits anyway. */
	g->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
	g->state = GZ_LOOK;
	return g;
}

int
gz_feed(struct gz *g, const void *p, size_t n, char *err, size_t errlen)
{
	if (g->state == GZ_FAILED)
		return report(g->err, err, errlen);
	if (g->state == GZ_DONE)
		return report("input after the end", err, errlen);
	g->in += n;
	if (run(g, p, n) == -1)
		return report(g->err, err, errlen);
	return 0;
}

int
gz_finish(struct gz *g, char *err, size_t errlen)
{
	switch (g->state) {
	case GZ_FAILED:
		return report(g->err, err, errlen);
	case GZ_DONE:
		return 0;
	case GZ_MEMBER:
		fail(g, "gzip data truncated");
		return report(g->err, err, errlen);
	case GZ_LOOK:
		/* A lone 0x1f: plain data if first, garbage after a member. */
		if (!g->gzip && put_plain(g, g->hold, g->nhold) == -1)
			return report(g->err, err, errlen);
		g->nhold = 0;
		break;
	default:
		break;
	}
	if (g->zinit) {
		inflateEnd(&g->zs);
		g->zinit = false;
	}
	g->state = GZ_DONE;
	return 0;
}

const char *
gz_data(const struct gz *g, size_t *len)
{
	if (len != NULL)
		*len = g->len;
	return g->out != NULL ? g->out : "";
}

char *
gz_take(struct gz *g, size_t *len)
{
	char	*s, *p;

	if ((s = g->out) == NULL) {
		if ((s = malloc(1)) == NULL)
			return NULL;
		s[0] = '\0';
	} else if (g->len + 1 < g->cap &&
	    (p = realloc(s, g->len + 1)) != NULL)
		s = p;		/* give back the slack */
	if (len != NULL)
		*len = g->len;
	g->out = NULL;
	g->len = g->cap = 0;
	return s;
}

bool
gz_compressed(const struct gz *g)
{
	return g->gzip;
}

size_t
gz_in_bytes(const struct gz *g)
{
	return g->in;
}

void
gz_free(struct gz *g)
{
	if (g == NULL)
		return;
	if (g->zinit)
		inflateEnd(&g->zs);
	free(g->out);
	free(g);
}
