/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * setup: nfspamd-setup's decisions.  See setup.h.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bl.h"
#include "cidr.h"
#include "setup.h"
#include "util.h"

int
setup_tag_ok(const char *tag, char *why, size_t whylen)
{
	size_t	i, n = strlen(tag);

	if (n == 0) {
		util_seterr(why, whylen, "empty list name");
		return 0;
	}
	if (n > BL_TAGMAX) {
		util_seterr(why, whylen, "list name longer than %d bytes",
		    BL_TAGMAX);
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)tag[i] <= ' ' || tag[i] == 0x7f ||
		    tag[i] == ';') {
			util_seterr(why, whylen, "list name contains a blank, "
			    "a ';' or a control character");
			return 0;
		}
	return 1;
}

/* Canonical order. */
int
setup_pfx_cmp(const struct prefix *a, const struct prefix *b)
{
	int	r;

	if ((r = addr_cmp(&a->addr, &b->addr)) != 0)
		return r;
	return (int)a->len - (int)b->len;
}

/* The first and last address of a prefix, as integers of its family. */
static void
span(const struct prefix *p, cidr_u128 *lo, cidr_u128 *hi)
{
	unsigned	bits = p->addr.family == AF_INET ? 32 : 128;
	unsigned	host = bits - p->len;
	cidr_u128	m;

	*lo = p->addr.family == AF_INET ? cidr_addr_to4(&p->addr) :
	    cidr_addr_to6(&p->addr);
	m = host >= 128 ? ~(cidr_u128)0 : ((cidr_u128)1 << host) - 1;
	*hi = *lo | m;
}

static bool
pfx_valid(const struct prefix *p)
{
	struct addr	m;

	if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
		return false;
	if (p->len > addr_bits(&p->addr))
		return false;
	m = p->addr;
	addr_mask(&m, p->len);
	return memcmp(&m, &p->addr, sizeof(m)) == 0;
}

bool
setup_canonical(const struct prefix *v, size_t n, size_t *at)
{
	cidr_u128	lo, hi, phi = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (!pfx_valid(&v[i]))
			goto bad;
		span(&v[i], &lo, &hi);
		if (i > 0 && v[i - 1].addr.family == v[i].addr.family &&
		    lo <= phi)
			goto bad;
		if (i > 0 && v[i - 1].addr.family == AF_INET6 &&
		    v[i].addr.family == AF_INET)
			goto bad;
		phi = hi;
	}
	return true;
bad:
	if (at != NULL)
		*at = i;
	return false;
}

/* The message between the quotes, escaped as spamd-setup does. */
static int
put_msg(const char *msg, struct buf *out)
{
	const char	*p;
	size_t		 start = out->len;

	for (p = msg; *p != '\0'; p++) {
		unsigned char	c = (unsigned char)*p;
		int		r;

		if (c == '\r')
			continue;
		if (c == '\n')
			r = buf_append(out, "\\n", 2);
		else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			r = buf_append(out, e, 2);
		} else if ((c < ' ' && c != '\t') || c == 0x7f)
			r = buf_append(out, " ", 1);
		else
			r = buf_append(out, p, 1);
		if (r == -1)
			return -1;
		if (out->len - start > BL_MSGMAX) {
			errno = E2BIG;
			return -1;
		}
	}
	return 0;
}

static int
put_family(const struct prefix *v, size_t n, int family, struct buf *out)
{
	char	a[ADDR_STRLEN];
	size_t	i, cnt = 0, len;

	for (i = 0; i < n; i++)
		cnt += v[i].addr.family == family;
	if (cnt == 0)
		return 0;
	if (buf_printf(out, ";%s;%zu", family == AF_INET ? "inet" : "inet6",
	    cnt) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i].addr.family != family)
			continue;
		a[0] = ';';
		len = prefix_format(&v[i], a + 1, sizeof(a) - 1);
		if (buf_append(out, a, len + 1) == -1)
			return -1;
	}
	return 0;
}

int
setup_line(const char *tag, const char *msg, const struct prefix *v,
    size_t n, struct buf *out, char *err, size_t errlen)
{
	char	why[128], a[ADDR_STRLEN];
	size_t	old = out->len, at, i;

	if (!setup_tag_ok(tag, why, sizeof(why)))
		return util_seterr(err, errlen, "list %s: %s", tag, why);
	if (!setup_canonical(v, n, &at)) {
		prefix_format(&v[at], a, sizeof(a));
		return util_seterr(err, errlen, "list %s: prefix %zu (%s) is "
		    "not in canonical order", tag, at + 1, a);
	}
	for (i = 0; i < n; i++)
		if (v[i].len == 0) {
			prefix_format(&v[i], a, sizeof(a));
			return util_seterr(err, errlen, "list %s: covers every "
			    "address (%s); nfspamd refuses that", tag, a);
		}
	if (buf_printf(out, "%s;", tag) == -1)
		goto nomem;
	if (n > 0) {
		if (buf_append(out, "\"", 1) == -1)
			goto nomem;
		if (put_msg(msg != NULL ? msg : "", out) == -1) {
			if (errno == E2BIG) {
				out->len = old;
				return util_seterr(err, errlen, "list %s: message "
				    "longer than %d bytes once escaped", tag,
				    BL_MSGMAX);
			}
			goto nomem;
		}
		if (buf_append(out, "\"", 1) == -1 ||
		    put_family(v, n, AF_INET, out) == -1 ||
		    put_family(v, n, AF_INET6, out) == -1)
			goto nomem;
	}
	if (buf_append(out, "\n", 1) == -1)
		goto nomem;
	return 0;
nomem:
	out->len = old;
	return util_seterr(err, errlen, "list %s: out of memory", tag);
}

/* State. */

void
setup_state_free(struct setup_state *st)
{
	size_t	i;

	for (i = 0; i < st->nlists; i++) {
		free(st->lists[i].tag);
		free(st->lists[i].pfx);
	}
	free(st->lists);
	free(st->loaded);
	memset(st, 0, sizeof(*st));
}

long
setup_state_find(const struct setup_state *st, const char *tag)
{
	size_t	i;

	for (i = 0; i < st->nlists; i++)
		if (strcmp(st->lists[i].tag, tag) == 0)
			return (long)i;
	return -1;
}

static int
put_u32(struct buf *out, uint32_t v)
{
	uint8_t	b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
		    (uint8_t)(v >> 24) };

	return buf_append(out, b, 4);
}

static int
put_pfxs(struct buf *out, const struct prefix *v, size_t n)
{
	uint8_t	rec[18];
	size_t	i, alen;

	if (n > UINT32_MAX || put_u32(out, (uint32_t)n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		alen = v[i].addr.family == AF_INET ? 4 : 16;
		rec[0] = v[i].addr.family == AF_INET ? 4 : 6;
		rec[1] = v[i].len;
		memcpy(rec + 2, v[i].addr.bytes, alen);
		if (buf_append(out, rec, 2 + alen) == -1)
			return -1;
	}
	return 0;
}

int
setup_state_encode(const struct setup_state *st, struct buf *out)
{
	size_t	i, old = out->len, tl;

	if (buf_puts(out, SETUP_MAGIC) == -1 ||
	    put_u32(out, (uint32_t)st->nlists) == -1 ||
	    buf_append(out, st->kernel ? "\1" : "\0", 1) == -1)
		goto fail;
	for (i = 0; i < st->nlists; i++) {
		tl = strlen(st->lists[i].tag);
		if (put_u32(out, (uint32_t)tl) == -1 ||
		    buf_append(out, st->lists[i].tag, tl) == -1 ||
		    put_pfxs(out, st->lists[i].pfx, st->lists[i].n) == -1)
			goto fail;
	}
	if (put_pfxs(out, st->loaded, st->nloaded) == -1)
		goto fail;
	return 0;
fail:
	out->len = old;
	return -1;
}

struct rd {
	const uint8_t	*p, *end, *start;
	char		*err;
	size_t		 errlen;
};

static int	rd_err(struct rd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
rd_err(struct rd *r, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return util_seterr(r->err, r->errlen, "byte %zu: %s",
	    (size_t)(r->p - r->start), msg);
}

static int
get_u32(struct rd *r, uint32_t *v, const char *what)
{
	if (r->end - r->p < 4)
		return rd_err(r, "file ends in %s", what);
	*v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
	    (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return 0;
}

static int
get_pfxs(struct rd *r, const char *what, struct prefix **out, size_t *np)
{
	struct prefix	*v;
	uint32_t	 n, i;
	size_t		 alen, at;
	char		 a[ADDR_STRLEN];

	*out = NULL;
	*np = 0;
	if (get_u32(r, &n, what) == -1)
		return -1;
	/* Each record takes at least 6 bytes: no allocation past the data. */
	if ((size_t)(r->end - r->p) / 6 < n)
		return rd_err(r, "%s: %u prefixes cannot fit in what is left",
		    what, n);
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return rd_err(r, "%s: out of memory", what);
	for (i = 0; i < n; i++) {
		if (r->end - r->p < 2)
			goto cut;
		if (r->p[0] != 4 && r->p[0] != 6) {
			free(v);
			return rd_err(r, "%s: prefix %u: family %u", what,
			    i + 1, r->p[0]);
		}
		v[i].addr.family = r->p[0] == 4 ? AF_INET : AF_INET6;
		v[i].len = r->p[1];
		alen = r->p[0] == 4 ? 4 : 16;
		if ((size_t)(r->end - r->p) < 2 + alen)
			goto cut;
		memcpy(v[i].addr.bytes, r->p + 2, alen);
		r->p += 2 + alen;
	}
	if (!setup_canonical(v, n, &at)) {
		if (pfx_valid(&v[at]))
			prefix_format(&v[at], a, sizeof(a));
		else
			strcpy(a, "invalid");
		free(v);
		return rd_err(r, "%s: prefix %zu (%s) out of order, "
		    "overlapping or malformed", what, at + 1, a);
	}
	*out = v;
	*np = n;
	return 0;
cut:
	free(v);
	return rd_err(r, "%s: file ends inside prefix %u", what, i + 1);
}

int
setup_state_decode(const char *data, size_t len, struct setup_state *st,
    char *err, size_t errlen)
{
	struct rd	 r;
	struct setup_state s;
	uint32_t	 n, tl, i, j;
	char		 what[BL_TAGMAX + 32], why[128];
	size_t		 ml = strlen(SETUP_MAGIC);

	memset(&s, 0, sizeof(s));
	memset(st, 0, sizeof(*st));
	r.start = r.p = (const uint8_t *)data;
	r.end = r.p + len;
	r.err = err;
	r.errlen = errlen;
	if (len < ml || memcmp(data, SETUP_MAGIC, ml) != 0)
		return util_seterr(err, errlen, "not an nfspamd-setup state "
		    "file (version 1)");
	r.p += ml;
	if (get_u32(&r, &n, "the list count") == -1)
		return -1;
	if (n > SETUP_LISTMAX)
		return rd_err(&r, "%u lists, more than %d", n, SETUP_LISTMAX);
	if (r.p == r.end || *r.p > 1)
		return rd_err(&r, "bad kernel flag");
	s.kernel = *r.p++ == 1;
	if (n > 0 && (s.lists = calloc(n, sizeof(*s.lists))) == NULL)
		return rd_err(&r, "out of memory");
	for (i = 0; i < n; i++) {
		if (get_u32(&r, &tl, "a list name length") == -1)
			goto fail;
		if (tl == 0 || tl > BL_TAGMAX || (size_t)(r.end - r.p) < tl) {
			rd_err(&r, "list %u: name length %u", i + 1, tl);
			goto fail;
		}
		if ((s.lists[i].tag = strndup((const char *)r.p, tl)) == NULL) {
			rd_err(&r, "out of memory");
			goto fail;
		}
		s.nlists = i + 1;
		if (strlen(s.lists[i].tag) != tl ||
		    !setup_tag_ok(s.lists[i].tag, why, sizeof(why))) {
			rd_err(&r, "list %u: bad name", i + 1);
			goto fail;
		}
		for (j = 0; j < i; j++)
			if (strcmp(s.lists[j].tag, s.lists[i].tag) == 0) {
				rd_err(&r, "list \"%s\" twice", s.lists[i].tag);
				goto fail;
			}
		r.p += tl;
		snprintf(what, sizeof(what), "list \"%s\"", s.lists[i].tag);
		if (get_pfxs(&r, what, &s.lists[i].pfx, &s.lists[i].n) == -1)
			goto fail;
	}
	if (get_pfxs(&r, "the kernel load", &s.loaded, &s.nloaded) == -1)
		goto fail;
	if (r.p != r.end) {
		rd_err(&r, "%zu bytes of junk at the end",
		    (size_t)(r.end - r.p));
		goto fail;
	}
	*st = s;
	return 0;
fail:
	setup_state_free(&s);
	return -1;
}

/* Differences. */

int
setup_diff(const struct prefix *old, size_t nold, const struct prefix *new,
    size_t nnew, struct setup_diff *d)
{
	size_t	i = 0, j = 0;
	int	c;

	memset(d, 0, sizeof(*d));
	if ((nnew > 0 && (d->add = calloc(nnew, sizeof(*d->add))) == NULL) ||
	    (nold > 0 && (d->del = calloc(nold, sizeof(*d->del))) == NULL)) {
		setup_diff_free(d);
		return -1;
	}
	while (i < nold || j < nnew) {
		if (i == nold)
			c = 1;
		else if (j == nnew)
			c = -1;
		else
			c = setup_pfx_cmp(&old[i], &new[j]);
		if (c < 0)
			d->del[d->ndel++] = old[i++];
		else if (c > 0)
			d->add[d->nadd++] = new[j++];
		else {
			if (new[j].addr.family == AF_INET && d->keep4 == NULL)
				d->keep4 = &new[j];
			if (new[j].addr.family == AF_INET6 && d->keep6 == NULL)
				d->keep6 = &new[j];
			i++;
			j++;
		}
	}
	return 0;
}

void
setup_diff_free(struct setup_diff *d)
{
	free(d->add);
	free(d->del);
	memset(d, 0, sizeof(*d));
}
