/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spamdconf: the spamd.conf parser.  See spamdconf.h.
 *
 * Two passes.  The first cuts the text into records: comment and blank
 * lines are dropped, continuation lines are joined (backslash and
 * newline removed, leading blanks of the next line skipped), and the
 * offset where each continuation line starts is kept so that an error
 * can name the physical line of a capability.  The second pass looks up
 * "all" and, for each name it lists, the first record carrying that name
 * or alias (getcap's rule: the first record wins).
 *
 * Capabilities are found as cgetcap(3) finds them: the first field
 * "cap" (boolean), "cap=" (string) or "cap@" decides; "cap@" means
 * absent, whatever follows.  Values get cgetstr(3) escapes.
 *
 * Decisions:
 * - Fields are split at ':' outside double quotes (spamd-setup's
 *   fix_quoted_colons).  A backslash always takes the next character
 *   with it, so "\:" is a colon in the value and "\"" does not toggle
 *   the quote; getcap would end the value at "\:".
 * - Both :black: and :white: is an error (spamd-setup takes black).
 * - :msg= of a white list is ignored, as spamd-setup ignores it.
 * - An escape giving a NUL byte, a trailing lone '\' or '^', and a NUL
 *   byte in the text are errors rather than silent truncation.
 * - Fields of "all" that are empty or only blanks are skipped.
 * - tc= is not expanded; records not named in "all" are not checked.
 * - A CR before a line's LF is dropped with it (files saved with CRLF).
 * - Capabilities getcap would skip are skipped, with a warning: an
 *   OpenBSD file must keep working, a typo must not pass unseen.
 * - The strings of all lists together may not pass SDC_OUTMAX, so
 *   10,000 repeats of one big entry cannot eat memory.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spamdconf.h"

#define SDC_OUTMAX	(16 * 1024 * 1024)
#define SHOWMAX		64	/* bytes of a name or value shown in errors */
#define NEARMAX		16	/* longest name compared for misspellings */

struct rec {
	char	*text;		/* joined, NUL-terminated */
	size_t	 len;
	size_t	 line;		/* first physical line */
	size_t	*cont;		/* offsets where continuation lines start */
	size_t	 ncont;
	size_t	 namelen;	/* the "name|alias" field */
	bool	 checked;	/* its capabilities were warned about */
};

struct recs {
	struct rec	*v;
	size_t		 n;
	size_t		 cap;
};

struct field {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

struct fields {
	struct field	*v;
	size_t		 n;
	size_t		 cap;
};

struct warns {
	char		**v;
	size_t		  n;
	bool		  full;		/* SDC_WARNMAX reached and said */
};

/* The capabilities spamd-setup asks for, and their types. */
static const struct known {
	const char	*name;
	int		 type;		/* ':' boolean, '=' string */
} known[] = {
	{ "black", ':' }, { "white", ':' }, { "msg", '=' },
	{ "method", '=' }, { "file", '=' },
};

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
show(size_t len)
{
	return len > SHOWMAX ? SHOWMAX : (int)len;
}

static void
recs_free(struct recs *rs)
{
	size_t	i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].text);
		free(rs->v[i].cont);
	}
	free(rs->v);
}

static int
isblank_line(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* Length of the first field: up to the first ':' outside quotes. */
static size_t
first_field(const char *t, size_t len)
{
	size_t	i = 0;
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
fields_add(struct fields *fs, const char *t, size_t off, size_t len)
{
	struct field	*nv;
	size_t		 ncap;

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

static int
split(const struct rec *r, struct fields *fs)
{
	const char	*t = r->text;
	size_t		 i = 0, start = 0;
	int		 inq = 0;

	memset(fs, 0, sizeof(*fs));
	while (i < r->len) {
		if (t[i] == '\\' && i + 1 < r->len) {
			i += 2;
			continue;
		}
		if (t[i] == '"')
			inq = !inq;
		else if (t[i] == ':' && !inq) {
			if (fields_add(fs, t, start, i - start) == -1)
				return -1;
			start = i + 1;
		}
		i++;
	}
	return fields_add(fs, t, start, r->len - start);
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

static size_t
line_of(const struct rec *r, size_t off)
{
	size_t	i, line = r->line;

	for (i = 0; i < r->ncont && r->cont[i] <= off; i++)
		line++;
	return line;
}

/*
 * Cut text into records.  Returns 0, or -1 with err set.
 */
static int
read_records(const char *name, const char *text, size_t len,
    struct recs *rs, char *err, size_t errlen)
{
	const char	*p;
	size_t		 pos = 0, lineno = 0, ll, next, ncap;
	struct rec	 r, *nv;
	size_t		*nc;

	memset(rs, 0, sizeof(*rs));
	while (pos < len) {
		lineno++;
		p = text + pos;
		ll = phys_line(text, len, pos, &next);
		if (memchr(p, '\0', ll) != NULL) {
			seterr(err, errlen, "%s:%zu: NUL byte", name, lineno);
			return -1;
		}
		if (isblank_line(p, ll) || p[0] == '#') {
			pos = next;
			continue;
		}

		memset(&r, 0, sizeof(r));
		r.line = lineno;
		if ((r.text = malloc(1)) == NULL)
			goto nomem;
		for (;;) {
			int	cont = ll > 0 && p[ll - 1] == '\\';
			size_t	take = cont ? ll - 1 : ll;
			char	*nt;

			if (r.len + take > SDC_RECMAX) {
				seterr(err, errlen,
				    "%s:%zu: record longer than %d bytes",
				    name, r.line, SDC_RECMAX);
				free(r.text);
				free(r.cont);
				return -1;
			}
			if ((nt = realloc(r.text, r.len + take + 1)) == NULL)
				goto nomem;
			r.text = nt;
			memcpy(r.text + r.len, p, take);
			r.len += take;
			pos = next;
			if (!cont || pos >= len)
				break;

			/* The continuation line. */
			lineno++;
			p = text + pos;
			ll = phys_line(text, len, pos, &next);
			if (memchr(p, '\0', ll) != NULL) {
				seterr(err, errlen, "%s:%zu: NUL byte", name,
				    lineno);
				free(r.text);
				free(r.cont);
				return -1;
			}
			while (ll > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				ll--;
			}
			nc = reallocarray(r.cont, r.ncont + 1, sizeof(*nc));
			if (nc == NULL)
				goto nomem;
			r.cont = nc;
			r.cont[r.ncont++] = r.len;
		}
		r.text[r.len] = '\0';
		r.namelen = first_field(r.text, r.len);

		if (rs->n == rs->cap) {
			ncap = rs->cap ? rs->cap * 2 : 16;
			nv = reallocarray(rs->v, ncap, sizeof(*nv));
			if (nv == NULL)
				goto nomem;
			rs->v = nv;
			rs->cap = ncap;
		}
		rs->v[rs->n++] = r;
	}
	return 0;

 nomem:
	free(r.text);
	free(r.cont);
	seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
	return -1;
}

/* The first record with name (len bytes) among its '|' names. */
static struct rec *
find_rec(const struct recs *rs, const char *nm, size_t len)
{
	struct rec		*r;
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

/*
 * cgetcap: the field holding cap, type ':' (boolean) or '=' (string),
 * or NULL when there is none or "cap@" comes first.
 */
static const struct field *
find_cap(const struct fields *fs, const char *cap, int type)
{
	const struct field	*f;
	size_t			 i, cl = strlen(cap);

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

/* --- capabilities getcap would skip --- */

/* A field's capability name (up to '=', '#' or '@') and its type. */
static size_t
cap_name(const struct field *f, int *type)
{
	size_t	i;

	for (i = 0; i < f->len; i++)
		if (f->p[i] == '=' || f->p[i] == '#' || f->p[i] == '@') {
			*type = f->p[i];
			return i;
		}
	*type = ':';
	return f->len;
}

/* ":flie=", ":blak:", ":n#": the capability as a field writes it. */
static void
cap_form(const struct field *f, char *buf, size_t len)
{
	int	type;
	size_t	nl = cap_name(f, &type);

	snprintf(buf, len, ":%.*s%c", show(nl), f->p, type);
}

static const struct known *
known_cap(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len &&
		    memcmp(known[i].name, p, len) == 0)
			return &known[i];
	return NULL;
}

static int
same(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

static size_t
min2(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Edits from a to b, each an insertion, a deletion, a change or a swap
 * of two neighbours, case ignored (the optimal string alignment
 * distance); SIZE_MAX for names too long to be typos of ours.
 */
static size_t
edits(const char *a, size_t la, const char *b, size_t lb)
{
	size_t	d[NEARMAX + 1][NEARMAX + 1], i, j, v;

	if (la > NEARMAX || lb > NEARMAX)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + !same(a[i - 1], b[j - 1]);
			v = min2(v, d[i - 1][j] + 1);
			v = min2(v, d[i][j - 1] + 1);
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) &&
			    same(a[i - 2], b[j - 1]))
				v = min2(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	return d[la][lb];
}

/*
 * The capability an unknown name was probably meant to be: one edit
 * away from a short name, two from a longer one.  NULL when none is.
 */
static const struct known *
meant(const char *p, size_t len)
{
	const struct known	*best = NULL;
	size_t			 i, d, kl, bd = SIZE_MAX;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		kl = strlen(known[i].name);
		d = edits(p, len, known[i].name, kl);
		if (d <= (kl <= 4 ? 1u : 2u) && d < bd) {
			best = &known[i];
			bd = d;
		}
	}
	return best;
}

static int	warn_add(struct warns *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* -1 only when memory runs out. */
static int
warn_add(struct warns *w, const char *fmt, ...)
{
	va_list	  ap;
	char	 *s, **nv;
	int	  r;

	if (w->full)
		return 0;
	if ((nv = reallocarray(w->v, w->n + 1, sizeof(*nv))) == NULL)
		return -1;
	w->v = nv;
	if (w->n == SDC_WARNMAX) {
		w->full = true;
		r = asprintf(&s, "more than %d warnings: the rest are not "
		    "shown", SDC_WARNMAX);
	} else {
		va_start(ap, fmt);
		r = vasprintf(&s, fmt, ap);
		va_end(ap);
	}
	if (r == -1)
		return -1;
	w->v[w->n++] = s;
	return 0;
}

static void
warns_free(struct warns *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/*
 * Warn about every field of r that getcap would skip, once per record:
 * an unknown capability, tc= (not followed), or a known one in the
 * wrong form (":black=yes", ":file").  -1 when memory runs out.
 */
static int
check_caps(const char *name, struct rec *r, const struct fields *fs,
    const char *ent, int en, struct warns *w)
{
	const struct field	*f;
	const struct known	*k;
	char			 form[SHOWMAX + 4];
	size_t			 i, nl, line;
	int			 type, rc = 0;

	if (r->checked)
		return 0;
	r->checked = true;
	for (i = 1; i < fs->n && rc == 0; i++) {
		f = &fs->v[i];
		if (isblank_line(f->p, f->len))
			continue;
		nl = cap_name(f, &type);
		cap_form(f, form, sizeof(form));
		line = line_of(r, f->off);
		if ((k = known_cap(f->p, nl)) != NULL) {
			if (type != k->type && type != '@')
				rc = warn_add(w, "%s:%zu: entry \"%.*s\": %s "
				    "is not :%s%c, which %s: ignored", name,
				    line, en, ent, form, k->name, k->type,
				    k->type == ':' ? "takes no value" :
				    "needs a value");
		} else if (nl == 2 && memcmp(f->p, "tc", 2) == 0)
			rc = warn_add(w, "%s:%zu: entry \"%.*s\": %s is not "
			    "followed (write the capabilities it would bring "
			    "into this entry): ignored", name, line, en, ent,
			    form);
		else if ((k = meant(f->p, nl)) != NULL)
			rc = warn_add(w, "%s:%zu: entry \"%.*s\": unknown "
			    "capability %s: ignored (a misspelling of :%s%c?)",
			    name, line, en, ent, form, k->name, k->type);
		else
			rc = warn_add(w, "%s:%zu: entry \"%.*s\": unknown "
			    "capability %s: ignored", name, line, en, ent,
			    form);
	}
	return rc;
}

/*
 * For an error about a missing capability: " (is :flie= on line 4
 * meant to be :file=?)" when a field of r looks like it, else "".
 */
static const char *
near_miss(const struct rec *r, const struct fields *fs, const char *cap,
    char *buf, size_t len)
{
	const struct known	*k = known_cap(cap, strlen(cap)), *m;
	const struct field	*f;
	char			 form[SHOWMAX + 4];
	size_t			 i, nl;
	int			 type;

	buf[0] = '\0';
	for (i = 1; k != NULL && i < fs->n; i++) {
		f = &fs->v[i];
		nl = cap_name(f, &type);
		if (type == '@')
			continue;
		m = known_cap(f->p, nl);
		if (m == k ? type != k->type :
		    m == NULL && meant(f->p, nl) == k) {
			cap_form(f, form, sizeof(form));
			snprintf(buf, len, " (is %s on line %zu meant to be "
			    ":%s%c?)", form, line_of(r, f->off), k->name,
			    k->type);
			break;
		}
	}
	return buf;
}

/*
 * cgetstr escapes on p[0..len).  Returns a new string (its length in
 * *olen), or NULL with *why set (or ENOMEM in errno, *why NULL).
 */
static char *
decode(const char *p, size_t len, size_t *olen, const char **why)
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
			switch (c) {
			case 'b': case 'B':
				c = '\b';
				break;
			case 't': case 'T':
				c = '\t';
				break;
			case 'n': case 'N':
				c = '\n';
				break;
			case 'f': case 'F':
				c = '\f';
				break;
			case 'r': case 'R':
				c = '\r';
				break;
			case 'e': case 'E':
				c = '\033';
				break;
			case 'c': case 'C':
				c = ':';
				break;
			default:
				if (c >= '0' && c <= '7') {
					v = c - '0';
					for (n = 1; n < 3 && i < len &&
					    p[i] >= '0' && p[i] <= '7'; n++)
						v = v * 8 + (p[i++] - '0');
					c = v & 0xff;
				}
				break;
			}
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

/* Decode cap's value from field f, or set err naming the line. */
static char *
cap_value(const char *name, const struct rec *r, const char *ent,
    size_t entlen, const char *cap, const struct field *f, size_t *olen,
    char *err, size_t errlen)
{
	size_t		 cl = strlen(cap) + 1;
	const char	*why;
	char		*v;

	v = decode(f->p + cl, f->len - cl, olen, &why);
	if (v == NULL)
		seterr(err, errlen, "%s:%zu: entry \"%.*s\": :%s=: %s", name,
		    line_of(r, f->off), show(entlen), ent, cap,
		    why != NULL ? why : strerror(ENOMEM));
	return v;
}

static void
list_free(struct sdc_list *l)
{
	free(l->name);
	free(l->msg);
	free(l->msgfile);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

static char *
dupn(const char *p, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/*
 * One list: ent (entlen bytes) as named in "all", r its record.  Adds
 * the bytes it keeps to *used, and warnings about r to w.
 */
static int
get_list(const char *name, struct rec *r, const char *ent, size_t entlen,
    struct sdc_list *l, size_t *used, struct warns *w, char *err,
    size_t errlen)
{
	struct fields		 fs;
	const struct field	*f;
	bool			 black, white;
	char			*v = NULL, hint[SHOWMAX + 96];
	size_t			 vlen;
	int			 en = show(entlen);

	memset(l, 0, sizeof(*l));
	if (split(r, &fs) == -1)
		goto nomem;
	black = find_cap(&fs, "black", ':') != NULL;
	white = find_cap(&fs, "white", ':') != NULL;
	if (!black && !white) {
		if (near_miss(r, &fs, "black", hint, sizeof(hint))[0] == '\0')
			near_miss(r, &fs, "white", hint, sizeof(hint));
		seterr(err, errlen,
		    "%s:%zu: entry \"%.*s\": must have :black: or :white:%s",
		    name, r->line, en, ent, hint);
		goto bad;
	}
	if (black && white) {
		seterr(err, errlen,
		    "%s:%zu: entry \"%.*s\": has both :black: and :white:",
		    name, r->line, en, ent);
		goto bad;
	}
	l->black = black;
	if ((l->name = dupn(ent, entlen)) == NULL)
		goto nomem;
	*used += entlen + 1;

	if (black) {
		if ((f = find_cap(&fs, "msg", '=')) == NULL) {
			seterr(err, errlen,
			    "%s:%zu: entry \"%.*s\": black list has no :msg=%s",
			    name, r->line, en, ent,
			    near_miss(r, &fs, "msg", hint, sizeof(hint)));
			goto bad;
		}
		v = cap_value(name, r, ent, entlen, "msg", f, &vlen, err,
		    errlen);
		if (v == NULL)
			goto bad;
		if (v[0] == '"') {
			if (vlen < 2 || v[vlen - 1] != '"') {
				seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
				    ":msg= has an unclosed quote", name,
				    line_of(r, f->off), en, ent);
				goto bad;
			}
			memmove(v, v + 1, vlen - 2);
			v[vlen - 2] = '\0';
			l->msg = v;
		} else if (vlen == 0) {
			seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
			    "empty :msg=", name, line_of(r, f->off), en, ent);
			goto bad;
		} else
			l->msgfile = v;
		v = NULL;
		*used += vlen + 1;
	}

	l->method = SDC_FILE;
	if ((f = find_cap(&fs, "method", '=')) != NULL) {
		v = cap_value(name, r, ent, entlen, "method", f, &vlen, err,
		    errlen);
		if (v == NULL)
			goto bad;
		if (strcmp(v, "file") == 0)
			l->method = SDC_FILE;
		else if (strcmp(v, "exec") == 0)
			l->method = SDC_EXEC;
		else if (strcmp(v, "http") == 0)
			l->method = SDC_HTTP;
		else if (strcmp(v, "https") == 0)
			l->method = SDC_HTTPS;
		else if (strcmp(v, "ftp") == 0)
			l->method = SDC_FTP;
		else {
			seterr(err, errlen, "%s:%zu: entry \"%.*s\": unknown "
			    ":method=%.*s: (file, exec, http, https or ftp)",
			    name, line_of(r, f->off), en, ent, show(vlen), v);
			goto bad;
		}
		free(v);
		v = NULL;
	}

	if ((f = find_cap(&fs, "file", '=')) == NULL) {
		seterr(err, errlen, "%s:%zu: entry \"%.*s\": no :file=%s",
		    name, r->line, en, ent,
		    near_miss(r, &fs, "file", hint, sizeof(hint)));
		goto bad;
	}
	if ((l->file = cap_value(name, r, ent, entlen, "file", f, &vlen, err,
	    errlen)) == NULL)
		goto bad;
	if (vlen == 0) {
		seterr(err, errlen, "%s:%zu: entry \"%.*s\": empty :file=",
		    name, line_of(r, f->off), en, ent);
		goto bad;
	}
	*used += vlen + 1;
	if (check_caps(name, r, &fs, ent, en, w) == -1)
		goto nomem;
	free(fs.v);
	return 0;

 nomem:
	seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
 bad:
	free(v);
	free(fs.v);
	list_free(l);
	return -1;
}

int
sdc_parse(const char *name, const char *text, size_t len, struct sdc *c,
    char *err, size_t errlen)
{
	struct recs		 rs;
	struct fields		 fs;
	struct warns		 w;
	const struct rec	*all;
	struct rec		*r;
	const struct field	*f;
	struct sdc_list		*lists = NULL;
	size_t			 i, n = 0, used = 0;

	memset(&fs, 0, sizeof(fs));
	memset(&w, 0, sizeof(w));
	if (read_records(name, text, len, &rs, err, errlen) == -1) {
		recs_free(&rs);
		return -1;
	}
	if ((all = find_rec(&rs, "all", 3)) == NULL) {
		seterr(err, errlen, "%s: no entry \"all\"", name);
		goto bad;
	}
	if (split(all, &fs) == -1)
		goto nomem;
	/* At most one list per field. */
	if (fs.n > 1 && (lists = calloc(fs.n - 1, sizeof(*lists))) == NULL)
		goto nomem;
	for (i = 1; i < fs.n; i++) {
		f = &fs.v[i];
		if (isblank_line(f->p, f->len))
			continue;
		if (n == SDC_LISTMAX) {
			seterr(err, errlen, "%s:%zu: entry \"all\": more than "
			    "%d lists", name, line_of(all, f->off),
			    SDC_LISTMAX);
			goto bad;
		}
		if ((r = find_rec(&rs, f->p, f->len)) == NULL) {
			seterr(err, errlen, "%s:%zu: entry \"all\": list "
			    "\"%.*s\" has no entry", name, line_of(all, f->off),
			    show(f->len), f->p);
			goto bad;
		}
		if (get_list(name, r, f->p, f->len, &lists[n], &used, &w,
		    err, errlen) == -1)
			goto bad;
		n++;
		if (used > SDC_OUTMAX) {
			seterr(err, errlen, "%s:%zu: entry \"all\": lists "
			    "take more than %d bytes", name,
			    line_of(all, f->off), SDC_OUTMAX);
			goto bad;
		}
	}
	free(fs.v);
	recs_free(&rs);
	c->lists = lists;
	c->n = n;
	c->warn = w.v;
	c->nwarn = w.n;
	return 0;

 nomem:
	seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
 bad:
	for (i = 0; i < n; i++)
		list_free(&lists[i]);
	free(lists);
	free(fs.v);
	warns_free(&w);
	recs_free(&rs);
	return -1;
}

int
sdc_load(const char *path, struct sdc *c, char *err, size_t errlen)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 got;
	int	 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap > SDC_FILEMAX) {
				seterr(err, errlen, "%s: larger than %d bytes",
				    path, SDC_FILEMAX);
				goto bad;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				seterr(err, errlen, "%s: %s", path,
				    strerror(ENOMEM));
				goto bad;
			}
			buf = nb;
		}
		got = read(fd, buf + len, cap - len);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto bad;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > SDC_FILEMAX) {
			seterr(err, errlen, "%s: larger than %d bytes", path,
			    SDC_FILEMAX);
			goto bad;
		}
	}
	close(fd);
	rv = sdc_parse(path, buf != NULL ? buf : "", len, c, err, errlen);
	free(buf);
	return rv;

 bad:
	close(fd);
	free(buf);
	return -1;
}

void
sdc_free(struct sdc *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		list_free(&c->lists[i]);
	free(c->lists);
	c->lists = NULL;
	c->n = 0;
	for (i = 0; i < c->nwarn; i++)
		free(c->warn[i]);
	free(c->warn);
	c->warn = NULL;
	c->nwarn = 0;
}

const char *
sdc_method_name(enum sdc_method m)
{
	switch (m) {
	case SDC_FILE:
		return "file";
	case SDC_EXEC:
		return "exec";
	case SDC_HTTP:
		return "http";
	case SDC_HTTPS:
		return "https";
	case SDC_FTP:
		return "ftp";
	}
	return "?";
}
