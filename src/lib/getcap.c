/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * getcap: spamd.conf's records, fields and escapes.  See getcap.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "getcap.h"
#include "spamdconf.h"
#include "util.h"

static int
nomem(const char *name, char *err, size_t errlen)
{
	return util_seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
}

void
getcap_free(struct getcap_recs *rs)
{
	size_t	i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].text);
		free(rs->v[i].cont);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

bool
getcap_blank(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Where the field from start ends: the first ':' outside quotes. */
static size_t
field_end(const char *t, size_t len, size_t start)
{
	size_t	i = start;
	int	inq = 0;

	while (i < len) {
		if (t[i] == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (t[i] == '"')
			inq = !inq;
		else if (t[i] == ':' && !inq)
			return i;
		i++;
	}
	return len;
}

static int
fields_add(struct getcap_fields *fs, const char *t, size_t off, size_t len)
{
	struct getcap_field	*nv;
	size_t			 ncap;

	if (fs->n == fs->cap) {
		ncap = fs->cap ? fs->cap * 2 : 16;
		nv = reallocarray(fs->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		fs->v = nv;
		fs->cap = ncap;
	}
	fs->v[fs->n].p = t + off;
	fs->v[fs->n].len = len;
	fs->v[fs->n].off = off;
	fs->n++;
	return 0;
}

int
getcap_split(const struct getcap_rec *r, struct getcap_fields *fs)
{
	size_t	start = 0, end;

	memset(fs, 0, sizeof(*fs));
	for (;;) {
		end = field_end(r->text, r->len, start);
		if (fields_add(fs, r->text, start, end - start) == -1)
			return -1;
		if (end == r->len)
			return 0;
		start = end + 1;
	}
}

/*
 * The physical line at pos: its length without the line break, a CR
 * before the LF included, and where the next line starts.
 */
static size_t
phys_line(const char *text, size_t len, size_t pos, size_t *next)
{
	const char	*p = text + pos, *nl = memchr(p, '\n', len - pos);
	size_t		 ll = nl != NULL ? (size_t)(nl - p) : len - pos;

	*next = nl != NULL ? pos + ll + 1 : len;
	if (ll > 0 && p[ll - 1] == '\r')
		ll--;
	return ll;
}

/* phys_line, for line number lineno, refusing a NUL byte. */
static int
line_at(const char *name, const char *text, size_t len, size_t pos,
    size_t lineno, size_t *ll, size_t *next, char *err, size_t errlen)
{
	*ll = phys_line(text, len, pos, next);
	if (memchr(text + pos, '\0', *ll) != NULL)
		return util_seterr(err, errlen, "%s:%zu: NUL byte", name,
		    lineno);
	return 0;
}

size_t
getcap_line(const struct getcap_rec *r, size_t off)
{
	size_t	i, line = r->line;

	for (i = 0; i < r->ncont && r->cont[i] <= off; i++)
		line++;
	return line;
}

/*
 * The record starting on line *lineno at *pos, its continuation lines
 * joined; *pos and *lineno move past it.  On -1, err is set and *r
 * holds nothing.
 */
static int
read_record(const char *name, const char *text, size_t len, size_t *pos,
    size_t *lineno, struct getcap_rec *r, char *err, size_t errlen)
{
	const char	*p = text + *pos;
	size_t		 ll, next, take, *nc;
	char		*nt;
	bool		 cont;

	memset(r, 0, sizeof(*r));
	r->line = *lineno;
	ll = phys_line(text, len, *pos, &next);
	for (;;) {
		cont = ll > 0 && p[ll - 1] == '\\';
		take = cont ? ll - 1 : ll;
		if (r->len + take > SDC_RECMAX) {
			util_seterr(err, errlen, "%s:%zu: record longer than "
			    "%d bytes", name, r->line, SDC_RECMAX);
			goto bad;
		}
		if ((nt = realloc(r->text, r->len + take + 1)) == NULL)
			goto nomem;
		r->text = nt;
		memcpy(r->text + r->len, p, take);
		r->len += take;
		*pos = next;
		if (!cont || *pos >= len)
			break;

		/* The continuation line. */
		if (line_at(name, text, len, *pos, ++*lineno, &ll, &next, err,
		    errlen) == -1)
			goto bad;
		p = text + *pos;
		while (ll > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			ll--;
		}
		if ((nc = reallocarray(r->cont, r->ncont + 1,
		    sizeof(*nc))) == NULL)
			goto nomem;
		r->cont = nc;
		r->cont[r->ncont++] = r->len;
	}
	r->text[r->len] = '\0';
	r->namelen = field_end(r->text, r->len, 0);
	return 0;

 nomem:
	nomem(name, err, errlen);
 bad:
	free(r->text);
	free(r->cont);
	memset(r, 0, sizeof(*r));
	return -1;
}

/* Room for one more record in rs. */
static int
recs_grow(struct getcap_recs *rs)
{
	struct getcap_rec	*nv;
	size_t			 ncap;

	if (rs->n < rs->cap)
		return 0;
	ncap = rs->cap ? rs->cap * 2 : 16;
	if ((nv = reallocarray(rs->v, ncap, sizeof(*nv))) == NULL)
		return -1;
	rs->v = nv;
	rs->cap = ncap;
	return 0;
}

int
getcap_read(const char *name, const char *text, size_t len,
    struct getcap_recs *rs, char *err, size_t errlen)
{
	size_t	pos = 0, lineno = 0, ll, next;

	memset(rs, 0, sizeof(*rs));
	while (pos < len) {
		if (line_at(name, text, len, pos, ++lineno, &ll, &next, err,
		    errlen) == -1)
			goto bad;
		if (getcap_blank(text + pos, ll) || text[pos] == '#') {
			pos = next;
			continue;
		}
		if (recs_grow(rs) == -1) {
			nomem(name, err, errlen);
			goto bad;
		}
		if (read_record(name, text, len, &pos, &lineno,
		    &rs->v[rs->n], err, errlen) == -1)
			goto bad;
		rs->n++;
	}
	return 0;

 bad:
	getcap_free(rs);
	return -1;
}

struct getcap_rec *
getcap_find(const struct getcap_recs *rs, const char *nm, size_t len)
{
	struct getcap_rec	*r;
	const char		*a, *bar, *end;
	size_t			 i;

	for (i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		a = r->text;
		end = r->text + r->namelen;
		for (;;) {
			bar = memchr(a, '|', (size_t)(end - a));
			if (bar == NULL)
				bar = end;
			if ((size_t)(bar - a) == len && memcmp(a, nm, len) == 0)
				return r;
			if (bar == end)
				break;
			a = bar + 1;
		}
	}
	return NULL;
}

const struct getcap_field *
getcap_cap(const struct getcap_fields *fs, const char *cap, int type)
{
	const struct getcap_field	*f;
	size_t				 i, cl = strlen(cap);

	for (i = 1; i < fs->n; i++) {
		f = &fs->v[i];
		if (f->len < cl || memcmp(f->p, cap, cl) != 0)
			continue;
		if (f->len > cl && f->p[cl] == '@')
			return NULL;
		if (type == ':') {
			if (f->len == cl)
				return f;
			continue;
		}
		if (f->len > cl && f->p[cl] == type)
			return f;
	}
	return NULL;
}

/* The character a backslash escape stands for; c is the one after it. */
static int
unescape(int c)
{
	static const char	 from[] = "btnfrec", to[] = "\b\t\n\f\r\033:";
	const char		*p;

	if (c != '\0' && (p = strchr(from, tolower(c))) != NULL)
		return to[p - from];
	return c;
}

char *
getcap_decode(const char *p, size_t len, size_t *olen, const char **why)
{
	char	*out;
	size_t	 i = 0, o = 0;
	int	 c, v, n;

	*why = NULL;
	if (len > SDC_VALMAX) {
		*why = "value longer than 65536 bytes";
		return NULL;
	}
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	while (i < len) {
		c = (unsigned char)p[i++];
		if (c == '^') {
			if (i >= len) {
				*why = "value ends in a lone ^";
				goto bad;
			}
			c = (unsigned char)p[i++] & 037;
		} else if (c == '\\') {
			if (i >= len) {
				*why = "value ends in a lone \\";
				goto bad;
			}
			c = (unsigned char)p[i++];
			if (c >= '0' && c <= '7') {
				v = c - '0';
				for (n = 1; n < 3 && i < len &&
				    p[i] >= '0' && p[i] <= '7'; n++)
					v = v * 8 + (p[i++] - '0');
				c = v & 0xff;
			} else
				c = unescape(c);
		}
		if (c == 0) {
			*why = "escape makes a NUL byte";
			goto bad;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*olen = o;
	return out;

 bad:
	free(out);
	return NULL;
}
