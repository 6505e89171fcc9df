/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * cidr: list lines to ranges, and black minus white to prefixes.
 *
 * A list line is, after leading blanks: a comment (`#'), nothing, or one
 * of `addr/len' (host bits cleared, as nfspamd does and spamd does not),
 * `addr SEP addr' where SEP is a run of spaces, tabs and dashes, or a
 * single address.  Text after the address or range is ignored, as in
 * spamd-setup.  When SEP holds a dash the second address must be valid:
 * spamd would quietly keep only the first address of "a - typo", which
 * hides a broken list.
 *
 * Collapse follows spamd-setup's collapse_blacklist: +1 at each start and
 * -1 at each end + 1, counted apart for black and white; a sweep over the
 * sorted points yields the runs where black > 0 and white == 0, and each
 * run is cut greedily into the largest aligned prefix at its start.  An
 * end at the top of the space has no end + 1 and gets no -1 point; the
 * run is closed at the top when the sweep ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define CIDR_V4_MAX	((cidr_u128)UINT32_MAX)
#define CIDR_V6_MAX	(~(cidr_u128)0)

/* Kinds of sweep point, in the low two bits of an IPv4 key. */
enum {
	EV_BLACK_START,
	EV_BLACK_END,
	EV_WHITE_START,
	EV_WHITE_END
};

/* Shown text of a bad line, at most this many bytes. */
#define SHOW_MAX	64

/*
 * Conversions.
 */

uint32_t
cidr_addr_to4(const struct addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	    (uint32_t)a->bytes[2] << 8 | (uint32_t)a->bytes[3];
}

cidr_u128
cidr_addr_to6(const struct addr *a)
{
	cidr_u128	v = 0;
	int		i;

	for (i = 0; i < 16; i++)
		v = v << 8 | a->bytes[i];
	return v;
}

void
cidr_addr_from4(struct addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

void
cidr_addr_from6(struct addr *a, cidr_u128 v)
{
	int	i;

	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	for (i = 15; i >= 0; i--) {
		a->bytes[i] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * Lists.
 */

void
cidr_list_init(struct cidr_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
cidr_list_free(struct cidr_list *l)
{
	free(l->v4);
	free(l->v6);
	cidr_list_init(l);
}

void
cidr_list_clear(struct cidr_list *l)
{
	l->n4 = 0;
	l->n6 = 0;
}

/*
 * Make room for one more element of size sz; doubles, starting at 64.
 * Callers pass a void * copy of their pointer and store it back.
 */
static int
grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t	 ncap;
	void	*nv;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	if (ncap < *cap || (nv = reallocarray(*v, ncap, sz)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*v = nv;
	*cap = ncap;
	return 0;
}

int
cidr_add4(struct cidr_list *l, uint32_t lo, uint32_t hi)
{
	void	*v;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	v = l->v4;
	if (grow(&v, &l->cap4, l->n4, sizeof(*l->v4)) == -1)
		return -1;
	l->v4 = v;
	l->v4[l->n4].lo = lo;
	l->v4[l->n4].hi = hi;
	l->n4++;
	return 0;
}

int
cidr_add6(struct cidr_list *l, cidr_u128 lo, cidr_u128 hi)
{
	void	*v;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	v = l->v6;
	if (grow(&v, &l->cap6, l->n6, sizeof(*l->v6)) == -1)
		return -1;
	l->v6 = v;
	l->v6[l->n6].lo = lo;
	l->v6[l->n6].hi = hi;
	l->n6++;
	return 0;
}

int
cidr_add_range(struct cidr_list *l, const struct addr *lo,
    const struct addr *hi)
{
	if (lo->family != hi->family) {
		errno = EINVAL;
		return -1;
	}
	switch (lo->family) {
	case AF_INET:
		return cidr_add4(l, cidr_addr_to4(lo), cidr_addr_to4(hi));
	case AF_INET6:
		return cidr_add6(l, cidr_addr_to6(lo), cidr_addr_to6(hi));
	default:
		errno = EINVAL;
		return -1;
	}
}

/* The last address of a prefix: its host bits all set. */
static void
prefix_last(const struct prefix *p, struct addr *last)
{
	unsigned	bits, i;

	*last = p->addr;
	bits = addr_bits(last);
	for (i = p->len; i < bits; i++)
		last->bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

int
cidr_add_prefix(struct cidr_list *l, const struct prefix *p)
{
	struct prefix	m = *p;
	struct addr	last;

	prefix_mask(&m);
	prefix_last(&m, &last);
	return cidr_add_range(l, &m.addr, &last);
}

/*
 * Line parsing.
 */

static bool
is_addr_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == '.' || c == ':' || c == '/';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Length of the run of address characters at s (at most len), or 0 when
 * a letter, digit or `_' follows it: "bogus" or "1.2.3.4x" is one word
 * that is not an address, not an address followed by text.
 */
static size_t
token_len(const char *s, size_t len)
{
	size_t	i;
	char	c;

	for (i = 0; i < len && is_addr_char(s[i]); i++)
		;
	if (i < len) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_')
			return 0;
	}
	return i;
}

/* Copy a token into buf (ADDR_STRLEN bytes) as a C string. */
static int
token_copy(const char *s, size_t n, char *buf, const char **why)
{
	if (n == 0) {
		*why = "not an address";
		return -1;
	}
	if (n >= ADDR_STRLEN) {
		*why = "address too long";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static int
bad(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -1;
}

int
cidr_parse_line(const char *line, size_t len, struct addr *lo,
    struct addr *hi, const char **why)
{
	char		 buf[ADDR_STRLEN];
	struct prefix	 p;
	struct addr	 a, b;
	const char	*w = NULL;
	size_t		 i = 0, n, k;
	bool		 dash = false;

	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#' ||
	    (line[i] == '\r' && i + 1 == len))
		return 0;

	n = token_len(line + i, len - i);
	if (token_copy(line + i, n, buf, &w) == -1)
		return bad(why, w);

	if (memchr(buf, '/', n) != NULL) {
		if (prefix_parse(buf, &p, true, &w) == -1)
			return bad(why, w);
		*lo = p.addr;
		prefix_last(&p, hi);
		return 1;
	}
	if (addr_parse(buf, &a, &w) == -1)
		return bad(why, w);
	i += n;

	/* A separator: any run of spaces, tabs and dashes. */
	for (k = i; k < len && (is_blank(line[k]) || line[k] == '-'); k++)
		if (line[k] == '-')
			dash = true;
	n = k > i ? token_len(line + k, len - k) : 0;
	if (n == 0) {
		if (dash)
			return bad(why, "missing range end");
		*lo = *hi = a;
		return 1;
	}
	if (token_copy(line + k, n, buf, &w) == -1 ||
	    addr_parse(buf, &b, &w) == -1) {
		if (dash)
			return bad(why, w);
		/* Not a range: trailing text after a single address. */
		*lo = *hi = a;
		return 1;
	}
	if (a.family != b.family)
		return bad(why, "range ends are of different families");
	if (addr_cmp(&a, &b) > 0)
		return bad(why, "range start after end");
	*lo = a;
	*hi = b;
	return 1;
}

static void
report_bad(struct cidr_report *r, const char *name, size_t lineno,
    const char *why, const char *line, size_t len)
{
	char	show[SHOW_MAX + 4];
	size_t	i, n;

	r->bad++;
	if (r->nkept >= CIDR_REPORT_KEEP)
		return;
	while (len > 0 && (line[len - 1] == '\r' || is_blank(line[len - 1])))
		len--;
	n = len < SHOW_MAX ? len : SHOW_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		show[i] = c < 0x20 || c >= 0x7f || c == '"' ? '?' : (char)c;
	}
	if (len > SHOW_MAX) {
		memcpy(show + n, "...", 3);
		n += 3;
	}
	show[n] = '\0';
	snprintf(r->kept[r->nkept++], CIDR_REPORT_TEXT, "%s:%zu: %s \"%s\"",
	    name != NULL ? name : "-", lineno, why, show);
}

int
cidr_parse(const char *name, const char *text, size_t len,
    struct cidr_list *l, struct cidr_report *r)
{
	struct cidr_report	 dummy;
	struct addr		 lo, hi;
	const char		*p, *nl, *end = text + len, *why;
	size_t			 lineno = 0, n;

	if (r == NULL) {
		memset(&dummy, 0, sizeof(dummy));
		r = &dummy;
	}
	for (p = text; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		lineno++;
		r->lines++;
		why = NULL;
		switch (cidr_parse_line(p, n, &lo, &hi, &why)) {
		case 1:
			if (cidr_add_range(l, &lo, &hi) == -1)
				return -1;
			r->ranges++;
			break;
		case 0:
			break;
		default:
			report_bad(r, name, lineno, why != NULL ? why :
			    "bad line", p, n);
			break;
		}
	}
	return 0;
}

/*
 * Collapse.
 */

struct pvec {
	struct prefix	*v;
	size_t		 n, cap;
};

struct sweep {
	long long	 black, white;
	bool		 on;
	cidr_u128	 start;
	unsigned	 width;		/* 32 or 128 */
	struct pvec	*out;
};

static cidr_u128
low_mask(unsigned bits)
{
	return bits >= 128 ? CIDR_V6_MAX : ((cidr_u128)1 << bits) - 1;
}

static unsigned
ctz128(cidr_u128 v)
{
	uint64_t	lo = (uint64_t)v, hi = (uint64_t)(v >> 64);

	if (lo != 0)
		return (unsigned)__builtin_ctzll(lo);
	if (hi != 0)
		return 64 + (unsigned)__builtin_ctzll(hi);
	return 128;
}

static int
pvec_push(struct pvec *pv, unsigned width, cidr_u128 a, unsigned len)
{
	struct prefix	*p;
	void		*v;

	v = pv->v;
	if (grow(&v, &pv->cap, pv->n, sizeof(*pv->v)) == -1)
		return -1;
	pv->v = v;
	p = &pv->v[pv->n++];
	if (width == 32)
		cidr_addr_from4(&p->addr, (uint32_t)a);
	else
		cidr_addr_from6(&p->addr, a);
	p->len = (uint8_t)len;
	return 0;
}

/* Cut [lo, hi] into the largest aligned prefixes, left to right. */
static int
emit_run(struct pvec *pv, unsigned width, cidr_u128 lo, cidr_u128 hi)
{
	cidr_u128	span;
	unsigned	bits;

	for (;;) {
		bits = ctz128(lo);
		if (bits > width)
			bits = width;
		span = hi - lo;
		while (bits > 0 && low_mask(bits) > span)
			bits--;
		if (pvec_push(pv, width, lo, width - bits) == -1)
			return -1;
		if (low_mask(bits) == span)
			return 0;
		lo += low_mask(bits) + 1;
	}
}

/* All the points at pt have been counted: open or close a run. */
static int
sweep_point(struct sweep *s, cidr_u128 pt)
{
	bool	on = s->black > 0 && s->white == 0;

	if (on && !s->on)
		s->start = pt;
	else if (!on && s->on &&
	    emit_run(s->out, s->width, s->start, pt - 1) == -1)
		return -1;
	s->on = on;
	return 0;
}

static void
sweep_count(struct sweep *s, unsigned kind)
{
	switch (kind) {
	case EV_BLACK_START:
		s->black++;
		break;
	case EV_BLACK_END:
		s->black--;
		break;
	case EV_WHITE_START:
		s->white++;
		break;
	default:
		s->white--;
		break;
	}
}

static int
sweep_finish(struct sweep *s)
{
	cidr_u128	max = s->width == 32 ? CIDR_V4_MAX : CIDR_V6_MAX;

	if (s->on)
		return emit_run(s->out, s->width, s->start, max);
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * LSD radix sort, 16 bits a pass, of keys below 2^bits: a million-line
 * list sorts in a few linear passes.  Short lists use qsort, which needs
 * no 512 kB count table.
 */
static int
radix_sort64(uint64_t *v, size_t n, unsigned bits)
{
	uint64_t	*tmp, *src = v, *dst, *t;
	size_t		*cnt, i, sum, c;
	unsigned	 shift;

	if (n < 2)
		return 0;
	if (n < 65536) {
		qsort(v, n, sizeof(*v), u64_cmp);
		return 0;
	}
	if ((tmp = reallocarray(NULL, n, sizeof(*tmp))) == NULL)
		return -1;
	if ((cnt = calloc(65536, sizeof(*cnt))) == NULL) {
		free(tmp);
		return -1;
	}
	dst = tmp;
	for (shift = 0; shift < bits; shift += 16) {
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> shift) & 0xffff]++;
		for (i = 0, sum = 0; i < 65536; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & 0xffff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(cnt);
	free(tmp);
	return 0;
}

/* Key: point << 2 | kind; the top end + 1 never makes a point. */
static size_t
keys4(uint64_t *k, size_t n, const struct cidr_list *l, unsigned start)
{
	size_t	i;

	for (i = 0; l != NULL && i < l->n4; i++) {
		k[n++] = (uint64_t)l->v4[i].lo << 2 | start;
		if (l->v4[i].hi != UINT32_MAX)
			k[n++] = ((uint64_t)l->v4[i].hi + 1) << 2 |
			    (start + 1);
	}
	return n;
}

static int
collapse4(const struct cidr_list *black, const struct cidr_list *white,
    struct pvec *pv)
{
	struct sweep	 s;
	uint64_t	*k;
	size_t		 n, i, nw;
	cidr_u128	 pt;
	int		 rv = -1;

	nw = white != NULL ? white->n4 : 0;
	if (black->n4 == 0)
		return 0;
	if ((k = reallocarray(NULL, 2 * (black->n4 + nw), sizeof(*k))) ==
	    NULL)
		return -1;
	n = keys4(k, 0, black, EV_BLACK_START);
	n = keys4(k, n, white, EV_WHITE_START);
	/* Points fit in 32 bits, so keys fit in 34. */
	if (radix_sort64(k, n, 34) == -1)
		goto out;
	memset(&s, 0, sizeof(s));
	s.width = 32;
	s.out = pv;
	for (i = 0; i < n;) {
		pt = k[i] >> 2;
		for (; i < n && (k[i] >> 2) == pt; i++)
			sweep_count(&s, (unsigned)(k[i] & 3));
		if (sweep_point(&s, pt) == -1)
			goto out;
	}
	rv = sweep_finish(&s);
out:
	free(k);
	return rv;
}

struct ev6 {
	cidr_u128	pt;
	unsigned	kind;
};

static int
ev6_cmp(const void *a, const void *b)
{
	const struct ev6	*x = a, *y = b;

	if (x->pt != y->pt)
		return x->pt < y->pt ? -1 : 1;
	return 0;
}

static size_t
events6(struct ev6 *e, size_t n, const struct cidr_list *l, unsigned start)
{
	size_t	i;

	for (i = 0; l != NULL && i < l->n6; i++) {
		e[n].pt = l->v6[i].lo;
		e[n++].kind = start;
		if (l->v6[i].hi != CIDR_V6_MAX) {
			e[n].pt = l->v6[i].hi + 1;
			e[n++].kind = start + 1;
		}
	}
	return n;
}

static int
collapse6(const struct cidr_list *black, const struct cidr_list *white,
    struct pvec *pv)
{
	struct sweep	 s;
	struct ev6	*e;
	size_t		 n, i, nw;
	cidr_u128	 pt;
	int		 rv = -1;

	nw = white != NULL ? white->n6 : 0;
	if (black->n6 == 0)
		return 0;
	if ((e = reallocarray(NULL, 2 * (black->n6 + nw), sizeof(*e))) ==
	    NULL)
		return -1;
	n = events6(e, 0, black, EV_BLACK_START);
	n = events6(e, n, white, EV_WHITE_START);
	qsort(e, n, sizeof(*e), ev6_cmp);
	memset(&s, 0, sizeof(s));
	s.width = 128;
	s.out = pv;
	for (i = 0; i < n;) {
		pt = e[i].pt;
		for (; i < n && e[i].pt == pt; i++)
			sweep_count(&s, e[i].kind);
		if (sweep_point(&s, pt) == -1)
			goto out;
	}
	rv = sweep_finish(&s);
out:
	free(e);
	return rv;
}

int
cidr_collapse(const struct cidr_list *black, const struct cidr_list *white,
    struct prefix **out, size_t *np)
{
	struct pvec	pv;

	memset(&pv, 0, sizeof(pv));
	if (collapse4(black, white, &pv) == -1 ||
	    collapse6(black, white, &pv) == -1) {
		free(pv.v);
		errno = ENOMEM;
		return -1;
	}
	*out = pv.v;
	*np = pv.n;
	return 0;
}

void
cidr_acc_init(struct cidr_acc *acc)
{
	cidr_list_init(&acc->black);
	cidr_list_init(&acc->white);
}

void
cidr_acc_free(struct cidr_acc *acc)
{
	cidr_list_free(&acc->black);
	cidr_list_free(&acc->white);
}

int
cidr_acc_collapse(const struct cidr_acc *acc, struct prefix **out,
    size_t *n)
{
	return cidr_collapse(&acc->black, &acc->white, out, n);
}
