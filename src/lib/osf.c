/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * osf: passive operating system fingerprints.  See osf.h; the file
 * format is the one described at the top of OpenBSD's pf.os.
 *
 * Decisions:
 * - Fields are split at the first eight colons; the description is the
 *   rest of the line, colons and all.  Blanks around a field are not
 *   part of it (pf.os puts tabs before the genre).
 * - Options are separated by commas or blanks; a run of them counts as
 *   one.  Only what pf.os can say is accepted: N, E, S, T, T0, M and W
 *   with a value, '*' or '%n'; "?12" and the like are errors.
 * - An EOL in a SYN ends the options; the bytes after it are padding.
 *   Each zero byte of it is one more E, so macOS's "...,S,E,E" is
 *   written as it is seen.  A byte that is not zero past an EOL is
 *   garbage no fingerprint describes: it is kept as "?nnn", and the
 *   SYN matches nothing.
 * - Any other option kind, and a known kind with the wrong length, is
 *   kept as "?kind" (OSF_OPT_OTHER) and the SYN matches nothing; a
 *   length below 2 or past the header is an error.
 * - osf_kernel_finger refuses what the kernel would read otherwise: a
 *   '*' size (it compares sizes exactly) and a window of exactly 0 (to
 *   the kernel a plain window of 0 means any window).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nfnetlink_osf.h>

#include "osf.h"

#define OSF_FILEMAX	(1024 * 1024)	/* bytes of one fingerprint file */
#define OSF_MAXFP	65536		/* fingerprints in a db */
#define OSF_NFIELD	8		/* fields before the description */
#define SHOWMAX		64		/* bytes of a value shown in errors */

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WS	3
#define TCPOPT_SACKOK	4
#define TCPOPT_TS	8

/* A piece of a line: not NUL-terminated. */
struct span {
	const char	*s;
	size_t		 n;
};

/* Where a parse is, for its error messages. */
struct where {
	const char	*name;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
};

static int
show(size_t n)
{
	return n > SHOWMAX ? SHOWMAX : (int)n;
}

static int
bad(const struct where *w, const char *what, struct span v)
{
	snprintf(w->err, w->errlen, "%s:%u: %s (%.*s)", w->name, w->line,
	    what, show(v.n), v.s);
	return -1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct span
trim(struct span v)
{
	while (v.n > 0 && blank(v.s[0])) {
		v.s++;
		v.n--;
	}
	while (v.n > 0 && blank(v.s[v.n - 1]))
		v.n--;
	return v;
}

/* Decimal digits only, at most max: 0, or -1. */
static int
number(struct span v, uint32_t max, uint32_t *out)
{
	uint32_t x = 0;

	if (v.n == 0)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return -1;
		x = x * 10 + (uint32_t)(v.s[i] - '0');
		if (x > max)
			return -1;
	}
	*out = x;
	return 0;
}

/* "*", "%n" (n > 0) or a number up to max. */
static int
value(struct span v, uint32_t max, uint8_t *cmp, uint32_t *val)
{
	struct span rest = { v.s + 1, v.n - 1 };

	if (v.n == 1 && v.s[0] == '*') {
		*cmp = OSF_ANY;
		*val = 0;
		return 0;
	}
	if (v.n > 0 && v.s[0] == '%') {
		*cmp = OSF_MOD;
		return number(rest, max, val) == -1 || *val == 0 ? -1 : 0;
	}
	*cmp = OSF_EQ;
	return number(v, max, val);
}

static int
parse_window(const struct where *w, struct span v, struct osf_fp *fp)
{
	struct span rest = { v.s + 1, v.n - 1 };

	if (v.n > 0 && (v.s[0] == 'S' || v.s[0] == 'T')) {
		fp->wcmp = v.s[0] == 'S' ? OSF_MSS : OSF_MTU;
		if (number(rest, UINT16_MAX, &fp->wval) == 0 && fp->wval > 0)
			return 0;
	} else if (value(v, UINT16_MAX, &fp->wcmp, &fp->wval) == 0)
		return 0;
	return bad(w, "bad window", v);
}

static int
add_opt(const struct where *w, struct osf_fp *fp, uint8_t kind, uint8_t cmp,
    uint32_t val, struct span tok)
{
	if (fp->nopt >= OSF_MAXOPT)
		return bad(w, "more than 40 options", tok);
	fp->opt[fp->nopt].kind = kind;
	fp->opt[fp->nopt].cmp = cmp;
	fp->opt[fp->nopt].val = val;
	fp->nopt++;
	return 0;
}

static int
parse_opt(const struct where *w, struct span tok, struct osf_fp *fp)
{
	struct span rest = { tok.s + 1, tok.n - 1 };
	uint8_t cmp;
	uint32_t val;

	if (tok.n == 1)
		switch (tok.s[0]) {
		case 'N':
			return add_opt(w, fp, OSF_OPT_NOP, OSF_EQ, 0, tok);
		case 'E':
			return add_opt(w, fp, OSF_OPT_EOL, OSF_EQ, 0, tok);
		case 'S':
			return add_opt(w, fp, OSF_OPT_SACKOK, OSF_EQ, 0, tok);
		case 'T':
			return add_opt(w, fp, OSF_OPT_TS, OSF_EQ, 0, tok);
		}
	if (tok.n == 2 && tok.s[0] == 'T' && tok.s[1] == '0')
		return add_opt(w, fp, OSF_OPT_TS0, OSF_EQ, 0, tok);
	if (tok.s[0] == 'M') {
		if (value(rest, UINT16_MAX, &cmp, &val) == -1)
			return bad(w, "bad MSS option", tok);
		return add_opt(w, fp, OSF_OPT_MSS, cmp, val, tok);
	}
	if (tok.s[0] == 'W') {
		if (value(rest, UINT8_MAX, &cmp, &val) == -1)
			return bad(w, "bad window scale option", tok);
		return add_opt(w, fp, OSF_OPT_WS, cmp, val, tok);
	}
	return bad(w, "unknown option", tok);
}

static int
isoptsep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

static int
parse_opts(const struct where *w, struct span v, struct osf_fp *fp)
{
	struct span tok;
	size_t i = 0;

	fp->nopt = 0;
	if (v.n == 1 && v.s[0] == '.')
		return 0;
	if (v.n == 0)
		return bad(w, "no options (\".\" says none)", v);
	while (i < v.n) {
		while (i < v.n && isoptsep(v.s[i]))
			i++;
		if (i == v.n)
			break;
		tok.s = v.s + i;
		while (i < v.n && !isoptsep(v.s[i]))
			i++;
		tok.n = (size_t)(v.s + i - tok.s);
		if (parse_opt(w, tok, fp) == -1)
			return -1;
	}
	return 0;
}

static int
copy_name(const struct where *w, const char *what, struct span v, char *dst)
{
	char msg[32];

	if (v.n >= OSF_NAMELEN) {
		snprintf(msg, sizeof(msg), "%s too long", what);
		return bad(w, msg, v);
	}
	memcpy(dst, v.s, v.n);
	dst[v.n] = '\0';
	return 0;
}

static int
parse_genre(const struct where *w, struct span v, struct osf_fp *fp)
{
	if (v.n > 0 && (v.s[0] == '@' || v.s[0] == '*')) {
		fp->approx = v.s[0] == '@';
		fp->scanner = v.s[0] == '*';
		v.s++;
		v.n--;
	}
	if (v.n == 0)
		return bad(w, "empty genre", v);
	return copy_name(w, "genre", v, fp->genre);
}

/* Split at the first OSF_NFIELD colons: f[OSF_NFIELD] is the rest. */
static int
split(struct span line, struct span f[OSF_NFIELD + 1])
{
	const char *p = line.s, *end = line.s + line.n, *c;

	for (int i = 0; i < OSF_NFIELD; i++) {
		if ((c = memchr(p, ':', (size_t)(end - p))) == NULL)
			return -1;
		f[i].s = p;
		f[i].n = (size_t)(c - p);
		f[i] = trim(f[i]);
		p = c + 1;
	}
	f[OSF_NFIELD].s = p;
	f[OSF_NFIELD].n = (size_t)(end - p);
	f[OSF_NFIELD] = trim(f[OSF_NFIELD]);
	return 0;
}

static int
parse_line(const struct where *w, struct span line, struct osf_fp *fp)
{
	struct span f[OSF_NFIELD + 1];
	uint32_t x;

	memset(fp, 0, sizeof(*fp));
	fp->line = w->line;
	if (split(line, f) == -1)
		return bad(w, "want window:ttl:df:size:options:genre:version:"
		    "subtype:description", line);
	if (parse_window(w, f[0], fp) == -1)
		return -1;
	if (number(f[1], UINT8_MAX, &x) == -1 || x == 0)
		return bad(w, "bad ttl", f[1]);
	fp->ttl = (uint8_t)x;
	if (number(f[2], 1, &x) == -1 || f[2].n != 1)
		return bad(w, "bad df", f[2]);
	fp->df = x == 1;
	if (f[3].n == 1 && f[3].s[0] == '*')
		fp->anysize = true;
	else if (number(f[3], UINT16_MAX, &x) == 0)
		fp->size = (uint16_t)x;
	else
		return bad(w, "bad size", f[3]);
	if (parse_opts(w, f[4], fp) == -1 ||
	    parse_genre(w, f[5], fp) == -1 ||
	    copy_name(w, "version", f[6], fp->version) == -1 ||
	    copy_name(w, "subtype", f[7], fp->subtype) == -1)
		return -1;
	/* A long description is only cut: it is for people. */
	x = f[8].n < OSF_DESCLEN ? (uint32_t)f[8].n : OSF_DESCLEN - 1;
	memcpy(fp->desc, f[8].s, x);
	fp->desc[x] = '\0';
	return 0;
}

static struct osf_fp *
db_slot(struct osf_db *db)
{
	struct osf_fp *p;
	size_t cap;

	if (db->n == db->cap) {
		cap = db->cap ? db->cap * 2 : 64;
		if ((p = reallocarray(db->fp, cap, sizeof(*p))) == NULL)
			return NULL;
		db->fp = p;
		db->cap = cap;
	}
	return &db->fp[db->n];
}

static int
skipped(struct span line)
{
	line = trim(line);
	return line.n == 0 || line.s[0] == '#';
}

int
osf_db_load_buf(struct osf_db *db, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	struct where w = { name, 0, err, errlen };
	const char *p = buf, *end = buf + len, *nl;
	struct span line;
	struct osf_fp *fp;

	if (len > OSF_FILEMAX) {
		snprintf(err, errlen, "%s: larger than 1 MiB (%zu bytes)",
		    name, len);
		return -1;
	}
	for (; p < end; p = nl + 1) {
		w.line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line.s = p;
		line.n = (size_t)(nl - p);
		if (memchr(line.s, '\0', line.n) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in the text",
			    name, w.line);
			return -1;
		}
		if (skipped(line))
			continue;
		if (db->n >= OSF_MAXFP) {
			snprintf(err, errlen, "%s:%u: more than %d "
			    "fingerprints", name, w.line, OSF_MAXFP);
			return -1;
		}
		if ((fp = db_slot(db)) == NULL) {
			snprintf(err, errlen, "%s:%u: out of memory", name,
			    w.line);
			return -1;
		}
		if (parse_line(&w, line, fp) == -1)
			return -1;
		db->n++;
	}
	return 0;
}

int
osf_db_load(struct osf_db *db, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t len;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* One byte more than allowed tells a file that is too large. */
	if ((text = malloc(OSF_FILEMAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return -1;
	}
	len = fread(text, 1, OSF_FILEMAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	} else if (len > OSF_FILEMAX) {
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		rc = -1;
	} else
		rc = osf_db_load_buf(db, path, text, len, err, errlen);
	fclose(f);
	free(text);
	return rc;
}

void
osf_db_free(struct osf_db *db)
{
	free(db->fp);
	db->fp = NULL;
	db->n = db->cap = 0;
}

static int
syn_err(char *err, size_t errlen, const char *what, unsigned long v)
{
	snprintf(err, errlen, "%s (%lu)", what, v);
	return -1;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The IPv4 header: where TCP starts, or -1. */
static int
parse_ip4(const uint8_t *p, size_t len, struct osf_syn *syn, size_t *off,
    char *err, size_t errlen)
{
	size_t hl;
	uint16_t tot, frag;

	if (len < 20)
		return syn_err(err, errlen, "too short for IPv4", len);
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < 20)
		return syn_err(err, errlen, "bad IPv4 header length", hl);
	if (len < hl)
		return syn_err(err, errlen, "IPv4 header truncated", len);
	/* TCP_SAVED_SYN keeps the headers only: the size is the header's
	   word, not what we were given. */
	tot = be16(p + 2);
	if (tot < hl + 20)
		return syn_err(err, errlen, "bad IPv4 total length", tot);
	if (p[9] != 6)
		return syn_err(err, errlen, "not TCP: protocol", p[9]);
	frag = be16(p + 6);
	if ((frag & 0x1fff) != 0)
		return syn_err(err, errlen, "a fragment: offset",
		    (frag & 0x1fffu) * 8);
	syn->family = 4;
	syn->ttl = p[8];
	syn->df = (frag & 0x4000) != 0;
	syn->size = tot;
	*off = hl;
	return 0;
}

/* The IPv6 header and the extension headers before TCP. */
static int
parse_ip6(const uint8_t *p, size_t len, struct osf_syn *syn, size_t *off,
    char *err, size_t errlen)
{
	size_t o = 40;
	uint8_t nh;

	if (len < 40)
		return syn_err(err, errlen, "too short for IPv6", len);
	nh = p[6];
	while (nh != 6) {
		if (nh == 44)
			return syn_err(err, errlen, "a fragment: next header",
			    nh);
		if (nh != 0 && nh != 43 && nh != 60)
			return syn_err(err, errlen, "not TCP: next header",
			    nh);
		if (len - o < 8)
			return syn_err(err, errlen,
			    "IPv6 extension header truncated", nh);
		nh = p[o];
		o += ((size_t)p[o + 1] + 1) * 8;
		if (o > len)
			return syn_err(err, errlen,
			    "IPv6 extension header truncated", o);
	}
	syn->family = 6;
	syn->ttl = p[7];
	syn->df = true;		/* pf's rule: IPv6 never fragments en route */
	*off = o;
	return 0;
}

static int
syn_opt(struct osf_syn *syn, uint8_t kind, uint32_t val, char *err,
    size_t errlen)
{
	if (syn->nopt >= OSF_MAXOPT)
		return syn_err(err, errlen, "too many TCP options",
		    syn->nopt + 1u);
	syn->opt[syn->nopt].kind = kind;
	syn->opt[syn->nopt].cmp = OSF_EQ;
	syn->opt[syn->nopt].val = val;
	syn->nopt++;
	if (kind == OSF_OPT_OTHER)
		syn->unknown_opt = true;
	return 0;
}

/* One option of kind k, length l, data d: what it is in pf.os. */
static uint8_t
opt_kind(uint8_t k, uint8_t l, const uint8_t *d, uint32_t *val)
{
	*val = k;
	switch (k) {
	case TCPOPT_MSS:
		if (l != 4)
			return OSF_OPT_OTHER;
		*val = be16(d);
		return OSF_OPT_MSS;
	case TCPOPT_WS:
		if (l != 3)
			return OSF_OPT_OTHER;
		*val = d[0];
		return OSF_OPT_WS;
	case TCPOPT_SACKOK:
		if (l != 2)
			return OSF_OPT_OTHER;
		*val = 0;
		return OSF_OPT_SACKOK;
	case TCPOPT_TS:
		if (l != 10)
			return OSF_OPT_OTHER;
		*val = be32(d);
		return *val == 0 ? OSF_OPT_TS0 : OSF_OPT_TS;
	}
	return OSF_OPT_OTHER;
}

static int
parse_opts_syn(const uint8_t *p, size_t n, struct osf_syn *syn, char *err,
    size_t errlen)
{
	size_t i = 0;
	uint8_t kind, l;
	uint32_t val;

	while (i < n) {
		if (p[i] == TCPOPT_EOL) {
			/* The rest is padding: see the top. */
			for (; i < n; i++)
				if (syn_opt(syn, p[i] == 0 ? OSF_OPT_EOL :
				    OSF_OPT_OTHER, p[i], err, errlen) == -1)
					return -1;
			break;
		}
		if (p[i] == TCPOPT_NOP) {
			if (syn_opt(syn, OSF_OPT_NOP, 0, err, errlen) == -1)
				return -1;
			i++;
			continue;
		}
		if (n - i < 2)
			return syn_err(err, errlen,
			    "TCP option past the header: kind", p[i]);
		l = p[i + 1];
		if (l < 2)
			return syn_err(err, errlen, "bad TCP option length", l);
		if (l > n - i)
			return syn_err(err, errlen,
			    "TCP option past the header: length", l);
		kind = opt_kind(p[i], l, p + i + 2, &val);
		if (syn_opt(syn, kind, val, err, errlen) == -1)
			return -1;
		if (kind == OSF_OPT_MSS && !syn->has_mss) {
			syn->has_mss = true;
			syn->mss = (uint16_t)val;
		}
		i += l;
	}
	return 0;
}

int
osf_syn_parse(const void *pkt, size_t len, struct osf_syn *syn, char *err,
    size_t errlen)
{
	const uint8_t *p = pkt, *t;
	size_t off, hl;
	int rc;

	memset(syn, 0, sizeof(*syn));
	if (len < 1)
		return syn_err(err, errlen, "empty packet", len);
	if (p[0] >> 4 == 4)
		rc = parse_ip4(p, len, syn, &off, err, errlen);
	else if (p[0] >> 4 == 6)
		rc = parse_ip6(p, len, syn, &off, err, errlen);
	else
		rc = syn_err(err, errlen, "not IPv4 or IPv6: version",
		    p[0] >> 4);
	if (rc == -1)
		return -1;
	if (len - off < 20)
		return syn_err(err, errlen, "TCP header truncated", len - off);
	t = p + off;
	hl = (size_t)(t[12] >> 4) * 4;
	if (hl < 20)
		return syn_err(err, errlen, "bad TCP data offset", hl);
	if (len - off < hl)
		return syn_err(err, errlen, "TCP options truncated",
		    len - off);
	/* SYN set, ACK clear: a SYN-ACK says less about the sender. */
	if ((t[13] & 0x12) != 0x02)
		return syn_err(err, errlen, "not a SYN: flags", t[13]);
	syn->window = be16(t + 14);
	if (syn->family == 6)
		syn->size = (uint16_t)(hl + 20);
	return parse_opts_syn(t + 20, hl - 20, syn, err, errlen);
}

static bool
cmp_val(uint8_t cmp, uint32_t want, uint32_t got)
{
	switch (cmp) {
	case OSF_ANY:
		return true;
	case OSF_EQ:
		return got == want;
	case OSF_MOD:
		return want != 0 && got % want == 0;
	}
	return false;
}

static bool
window_match(const struct osf_fp *fp, const struct osf_syn *syn)
{
	uint32_t w = syn->window;

	switch (fp->wcmp) {
	case OSF_MSS:
		return syn->has_mss && w == (uint64_t)fp->wval * syn->mss;
	case OSF_MTU:
		return syn->has_mss &&
		    w == (uint64_t)fp->wval * (syn->mss + 40u);
	}
	return cmp_val(fp->wcmp, fp->wval, w);
}

bool
osf_fp_match(const struct osf_fp *fp, const struct osf_syn *syn)
{
	const struct osf_opt *a, *b;

	if (syn->unknown_opt)
		return false;
	if (!fp->anysize && fp->size != syn->size)
		return false;
	if (fp->df != syn->df)
		return false;
	if (syn->ttl > fp->ttl || fp->ttl - syn->ttl > OSF_MAXTTLDIST)
		return false;
	if (fp->nopt != syn->nopt)
		return false;
	for (size_t i = 0; i < fp->nopt; i++) {
		a = &fp->opt[i];
		b = &syn->opt[i];
		if (a->kind != b->kind)
			return false;
		if ((a->kind == OSF_OPT_MSS || a->kind == OSF_OPT_WS) &&
		    !cmp_val(a->cmp, a->val, b->val))
			return false;
	}
	return window_match(fp, syn);
}

const struct osf_fp *
osf_match(const struct osf_db *db, const struct osf_syn *syn)
{
	const struct osf_fp *approx = NULL;

	for (size_t i = 0; i < db->n; i++) {
		if (!osf_fp_match(&db->fp[i], syn))
			continue;
		if (!db->fp[i].approx)
			return &db->fp[i];
		if (approx == NULL)
			approx = &db->fp[i];
	}
	return approx;
}

/* Append s to buf (size len) at *at; always NUL-terminated. */
static void
put(char *buf, size_t len, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + 1 >= len)
		return;
	if (n > len - 1 - *at)
		n = len - 1 - *at;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
}

size_t
osf_name(const struct osf_fp *fp, char *buf, size_t len)
{
	const char *part[3] = { fp->genre, fp->version, fp->subtype };
	size_t at = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (part[i][0] == '\0')
			continue;
		if (at > 0)
			put(buf, len, &at, " ");
		put(buf, len, &at, part[i]);
	}
	return at;
}

static void
opt_text(const struct osf_opt *o, char *buf, size_t len)
{
	switch (o->kind) {
	case OSF_OPT_EOL:
		snprintf(buf, len, "E");
		break;
	case OSF_OPT_NOP:
		snprintf(buf, len, "N");
		break;
	case OSF_OPT_MSS:
		snprintf(buf, len, "M%u", (unsigned)o->val);
		break;
	case OSF_OPT_WS:
		snprintf(buf, len, "W%u", (unsigned)o->val);
		break;
	case OSF_OPT_SACKOK:
		snprintf(buf, len, "S");
		break;
	case OSF_OPT_TS:
		snprintf(buf, len, "T");
		break;
	case OSF_OPT_TS0:
		snprintf(buf, len, "T0");
		break;
	default:
		snprintf(buf, len, "?%u", (unsigned)o->val);
		break;
	}
}

size_t
osf_syn_format(const struct osf_syn *syn, char *buf, size_t len)
{
	char tmp[32];
	size_t at = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	snprintf(tmp, sizeof(tmp), "%u:%u:%d:%u:", (unsigned)syn->window,
	    (unsigned)syn->ttl, syn->df ? 1 : 0, (unsigned)syn->size);
	put(buf, len, &at, tmp);
	if (syn->nopt == 0)
		put(buf, len, &at, ".");
	for (size_t i = 0; i < syn->nopt && i < OSF_MAXOPT; i++) {
		if (i > 0)
			put(buf, len, &at, ",");
		opt_text(&syn->opt[i], tmp, sizeof(tmp));
		put(buf, len, &at, tmp);
	}
	return at;
}

static const struct {
	uint8_t		kind, length;
} iana[] = {
	[OSF_OPT_EOL] = { TCPOPT_EOL, 1 },
	[OSF_OPT_NOP] = { TCPOPT_NOP, 1 },
	[OSF_OPT_MSS] = { TCPOPT_MSS, 4 },
	[OSF_OPT_WS] = { TCPOPT_WS, 3 },
	[OSF_OPT_SACKOK] = { TCPOPT_SACKOK, 2 },
	[OSF_OPT_TS] = { TCPOPT_TS, 10 },
	[OSF_OPT_TS0] = { TCPOPT_TS, 10 },
};

static int
kernel_wss(const struct osf_fp *fp, struct nf_osf_wc *wss)
{
	wss->val = fp->wval;
	switch (fp->wcmp) {
	case OSF_ANY:
		wss->wc = OSF_WSS_PLAIN;	/* 0: any window */
		wss->val = 0;
		return 0;
	case OSF_EQ:
		wss->wc = OSF_WSS_PLAIN;
		return fp->wval == 0 ? -1 : 0;
	case OSF_MSS:
		wss->wc = OSF_WSS_MSS;
		return 0;
	case OSF_MTU:
		wss->wc = OSF_WSS_MTU;
		return 0;
	case OSF_MOD:
		wss->wc = OSF_WSS_MODULO;
		return fp->wval == 0 ? -1 : 0;
	}
	return -1;
}

/*
 * The kernel (net/netfilter/nfnetlink_osf.c) compares the options'
 * kinds and the sum of their lengths, and reads the MSS from the packet
 * for S and T windows; option values it does not look at (Linux 6.x).
 * Should it ever compare them, wc.val says "any" by being 0, so only
 * an exact window scale, one byte, goes there.
 */
int
osf_kernel_finger(const struct osf_fp *fp, void *out, size_t outlen)
{
	struct nf_osf_user_finger *f = out;
	const struct osf_opt *o;

	if (outlen < sizeof(*f) || fp->anysize || fp->nopt > MAX_IPOPTLEN)
		return -1;
	memset(f, 0, sizeof(*f));
	if (kernel_wss(fp, &f->wss) == -1)
		return -1;
	f->ttl = fp->ttl;
	f->df = fp->df ? 1 : 0;
	f->ss = fp->size;
	for (size_t i = 0; i < fp->nopt; i++) {
		o = &fp->opt[i];
		if (o->kind >= sizeof(iana) / sizeof(iana[0]))
			return -1;
		f->opt[i].kind = iana[o->kind].kind;
		f->opt[i].length = iana[o->kind].length;
		f->opt[i].wc.wc = OSF_WSS_PLAIN;
		if (o->kind == OSF_OPT_WS && o->cmp == OSF_EQ)
			f->opt[i].wc.val = o->val;
		if (o->kind == OSF_OPT_MSS && o->cmp == OSF_EQ &&
		    f->mss == 0)
			f->mss = (uint16_t)o->val;
	}
	f->opt_num = fp->nopt;
	snprintf(f->genre, sizeof(f->genre), "%s", fp->genre);
	snprintf(f->version, sizeof(f->version), "%s", fp->version);
	snprintf(f->subtype, sizeof(f->subtype), "%s", fp->subtype);
	return 0;
}
