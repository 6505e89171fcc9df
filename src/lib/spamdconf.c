/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spamdconf: what spamd.conf's records mean.  See spamdconf.h; the
 * records, fields and escapes are getcap.c's.
 *
 * "all" is looked up and, for each name it lists, the first record
 * carrying that name or alias (getcap's rule: the first record wins).
 *
 * Decisions:
 * - Both :black: and :white: is an error (spamd-setup takes black).
 * - :method=spf: and :nospamd: (nfspamd's) on a black list are errors:
 *   they name senders to let through.
 * - :msg= of a white list is ignored, as spamd-setup ignores it.
 * - Fields of "all" that are empty or only blanks are skipped.
 * - tc= is not expanded; records not named in "all" are not checked.
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

#include "getcap.h"
#include "spamdconf.h"
#include "util.h"

#define SDC_OUTMAX	(16 * 1024 * 1024)
#define SHOWMAX		64	/* bytes of a name or value shown in errors */
#define NEARMAX		16	/* longest name compared for misspellings */

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
	{ "nospamd", ':' },		/* nfspamd's */
};

static int
show(size_t len)
{
	return len > SHOWMAX ? SHOWMAX : (int)len;
}

/* --- capabilities getcap would skip --- */

/* A field's capability name (up to '=', '#' or '@') and its type. */
static size_t
cap_name(const struct getcap_field *f, int *type)
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
cap_form(const struct getcap_field *f, char *buf, size_t len)
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
check_caps(const char *name, struct getcap_rec *r,
    const struct getcap_fields *fs, const char *ent, int en, struct warns *w)
{
	const struct getcap_field	*f;
	const struct known		*k;
	char				 form[SHOWMAX + 4];
	size_t				 i, nl, line;
	int				 type, rc = 0;

	if (r->checked)
		return 0;
	r->checked = true;
	for (i = 1; i < fs->n && rc == 0; i++) {
		f = &fs->v[i];
		if (getcap_blank(f->p, f->len))
			continue;
		nl = cap_name(f, &type);
		cap_form(f, form, sizeof(form));
		line = getcap_line(r, f->off);
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
near_miss(const struct getcap_rec *r, const struct getcap_fields *fs,
    const char *cap, char *buf, size_t len)
{
	const struct known		*k = known_cap(cap, strlen(cap)), *m;
	const struct getcap_field	*f;
	char				 form[SHOWMAX + 4];
	size_t				 i, nl;
	int				 type;

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
			    ":%s%c?)", form, getcap_line(r, f->off), k->name,
			    k->type);
			break;
		}
	}
	return buf;
}

/* Decode cap's value from field f, or set err naming the line. */
static char *
cap_value(const char *name, const struct getcap_rec *r, const char *ent,
    size_t entlen, const char *cap, const struct getcap_field *f,
    size_t *olen, char *err, size_t errlen)
{
	size_t		 cl = strlen(cap) + 1;
	const char	*why;
	char		*v;

	v = getcap_decode(f->p + cl, f->len - cl, olen, &why);
	if (v == NULL)
		util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": :%s=: %s",
		    name, getcap_line(r, f->off), show(entlen), ent, cap,
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

/* The method :method= names, or -1. */
static int
method_of(const char *v, enum sdc_method *m)
{
	enum sdc_method	i;

	for (i = SDC_FILE; i <= SDC_SPF; i++)
		if (strcmp(v, sdc_method_name(i)) == 0) {
			*m = i;
			return 0;
		}
	return -1;
}

/*
 * One list: ent (entlen bytes) as named in "all", r its record.  Adds
 * the bytes it keeps to *used, and warnings about r to w.
 */
static int
get_list(const char *name, struct getcap_rec *r, const char *ent,
    size_t entlen, struct sdc_list *l, size_t *used, struct warns *w,
    char *err, size_t errlen)
{
	struct getcap_fields		 fs;
	const struct getcap_field	*f;
	bool				 black, white;
	char				*v = NULL, hint[SHOWMAX + 96];
	size_t				 vlen;
	int				 en = show(entlen);

	memset(l, 0, sizeof(*l));
	if (getcap_split(r, &fs) == -1)
		goto nomem;
	black = getcap_cap(&fs, "black", ':') != NULL;
	white = getcap_cap(&fs, "white", ':') != NULL;
	if (!black && !white) {
		if (near_miss(r, &fs, "black", hint, sizeof(hint))[0] == '\0')
			near_miss(r, &fs, "white", hint, sizeof(hint));
		util_seterr(err, errlen,
		    "%s:%zu: entry \"%.*s\": must have :black: or :white:%s",
		    name, r->line, en, ent, hint);
		goto bad;
	}
	if (black && white) {
		util_seterr(err, errlen,
		    "%s:%zu: entry \"%.*s\": has both :black: and :white:",
		    name, r->line, en, ent);
		goto bad;
	}
	l->black = black;
	if ((f = getcap_cap(&fs, "nospamd", ':')) != NULL && black) {
		util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": :nospamd: "
		    "is for white lists (it lets their addresses past "
		    "nfspamd)", name, getcap_line(r, f->off), en, ent);
		goto bad;
	}
	l->nospamd = f != NULL;
	if ((l->name = dupn(ent, entlen)) == NULL)
		goto nomem;
	*used += entlen + 1;

	if (black) {
		if ((f = getcap_cap(&fs, "msg", '=')) == NULL) {
			util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
			    "black list has no :msg=%s", name, r->line, en,
			    ent, near_miss(r, &fs, "msg", hint, sizeof(hint)));
			goto bad;
		}
		v = cap_value(name, r, ent, entlen, "msg", f, &vlen, err,
		    errlen);
		if (v == NULL)
			goto bad;
		if (v[0] == '"') {
			if (vlen < 2 || v[vlen - 1] != '"') {
				util_seterr(err, errlen, "%s:%zu: entry "
				    "\"%.*s\": :msg= has an unclosed quote",
				    name, getcap_line(r, f->off), en, ent);
				goto bad;
			}
			memmove(v, v + 1, vlen - 2);
			v[vlen - 2] = '\0';
			l->msg = v;
		} else if (vlen == 0) {
			util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
			    "empty :msg=", name, getcap_line(r, f->off), en,
			    ent);
			goto bad;
		} else
			l->msgfile = v;
		v = NULL;
		*used += vlen + 1;
	}

	l->method = SDC_FILE;
	if ((f = getcap_cap(&fs, "method", '=')) != NULL) {
		v = cap_value(name, r, ent, entlen, "method", f, &vlen, err,
		    errlen);
		if (v == NULL)
			goto bad;
		if (method_of(v, &l->method) == -1) {
			util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
			    "unknown :method=%.*s: (file, exec, http, https, "
			    "ftp or spf)", name, getcap_line(r, f->off), en,
			    ent, show(vlen), v);
			goto bad;
		}
		/* An SPF record names senders to let through, not spam. */
		if (l->method == SDC_SPF && black) {
			util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
			    ":method=spf: is for white lists (an SPF record "
			    "names the hosts a domain sends mail from)", name,
			    getcap_line(r, f->off), en, ent);
			goto bad;
		}
		free(v);
		v = NULL;
	}

	if ((f = getcap_cap(&fs, "file", '=')) == NULL) {
		util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": no :file=%s",
		    name, r->line, en, ent,
		    near_miss(r, &fs, "file", hint, sizeof(hint)));
		goto bad;
	}
	if ((l->file = cap_value(name, r, ent, entlen, "file", f, &vlen, err,
	    errlen)) == NULL)
		goto bad;
	if (vlen == 0) {
		util_seterr(err, errlen, "%s:%zu: entry \"%.*s\": "
		    "empty :file=", name, getcap_line(r, f->off), en, ent);
		goto bad;
	}
	*used += vlen + 1;
	if (check_caps(name, r, &fs, ent, en, w) == -1)
		goto nomem;
	free(fs.v);
	return 0;

 nomem:
	util_seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
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
	struct getcap_recs		 rs;
	struct getcap_fields		 fs;
	struct warns			 w;
	const struct getcap_rec		*all;
	struct getcap_rec		*r;
	const struct getcap_field	*f;
	struct sdc_list			*lists = NULL;
	size_t				 i, n = 0, used = 0;

	memset(&fs, 0, sizeof(fs));
	memset(&w, 0, sizeof(w));
	if (getcap_read(name, text, len, &rs, err, errlen) == -1)
		return -1;
	if ((all = getcap_find(&rs, "all", 3)) == NULL) {
		util_seterr(err, errlen, "%s: no entry \"all\"", name);
		goto bad;
	}
	if (getcap_split(all, &fs) == -1)
		goto nomem;
	/* At most one list per field. */
	if (fs.n > 1 && (lists = calloc(fs.n - 1, sizeof(*lists))) == NULL)
		goto nomem;
	for (i = 1; i < fs.n; i++) {
		f = &fs.v[i];
		if (getcap_blank(f->p, f->len))
			continue;
		if (n == SDC_LISTMAX) {
			util_seterr(err, errlen, "%s:%zu: entry \"all\": more "
			    "than %d lists", name, getcap_line(all, f->off),
			    SDC_LISTMAX);
			goto bad;
		}
		if ((r = getcap_find(&rs, f->p, f->len)) == NULL) {
			util_seterr(err, errlen, "%s:%zu: entry \"all\": list "
			    "\"%.*s\" has no entry", name,
			    getcap_line(all, f->off), show(f->len), f->p);
			goto bad;
		}
		if (get_list(name, r, f->p, f->len, &lists[n], &used, &w,
		    err, errlen) == -1)
			goto bad;
		n++;
		if (used > SDC_OUTMAX) {
			util_seterr(err, errlen, "%s:%zu: entry \"all\": "
			    "lists take more than %d bytes", name,
			    getcap_line(all, f->off), SDC_OUTMAX);
			goto bad;
		}
	}
	free(fs.v);
	getcap_free(&rs);
	c->lists = lists;
	c->n = n;
	c->warn = w.v;
	c->nwarn = w.n;
	return 0;

 nomem:
	util_seterr(err, errlen, "%s: %s", name, strerror(ENOMEM));
 bad:
	for (i = 0; i < n; i++)
		list_free(&lists[i]);
	free(lists);
	free(fs.v);
	warns_free(&w);
	getcap_free(&rs);
	return -1;
}

/* All of fd into *buf (malloc'd, *len bytes): at most SDC_FILEMAX. */
static int
read_all(int fd, const char *path, char **buf, size_t *len, char *err,
    size_t errlen)
{
	char	*nb;
	size_t	 cap = 0;
	ssize_t	 got;

	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(*buf, cap)) == NULL)
				return util_seterr(err, errlen, "%s: %s",
				    path, strerror(ENOMEM));
			*buf = nb;
		}
		got = read(fd, *buf + *len, cap - *len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return util_seterr(err, errlen, "%s: %s", path,
			    strerror(errno));
		if (got == 0)
			return 0;
		*len += (size_t)got;
		if (*len > SDC_FILEMAX)
			return util_seterr(err, errlen, "%s: larger than %d "
			    "bytes", path, SDC_FILEMAX);
	}
}

int
sdc_load(const char *path, struct sdc *c, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	rv = read_all(fd, path, &buf, &len, err, errlen);
	close(fd);
	if (rv == 0)
		rv = sdc_parse(path, buf != NULL ? buf : "", len, c, err,
		    errlen);
	free(buf);
	return rv;
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
	case SDC_SPF:
		return "spf";
	}
	return "?";
}
