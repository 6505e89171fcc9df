/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * dbimport: spamdb and greydb listing lines as database entries.  See
 * dbimport.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dbimport.h"
#include "grey.h"
#include "util.h"

#define MAXFIELDS	11	/* one more than the longest line has */
#define SHOWMAX		80	/* bytes of a value quoted in a message */
#define QUOTELEN	(2 + 4 * SHOWMAX + 3 + 1)

struct fields {
	char	*f[MAXFIELDS];
	size_t	 n;		/* all of them, also those not kept in f */
};

static int
bad(char *err, size_t errlen, const char *what, const char *val,
    size_t vlen)
{
	char	q[QUOTELEN];

	snprintf(err, errlen, "%s: %s", what,
	    util_quote(q, sizeof(q), val, vlen, SHOWMAX));
	return -1;
}

/* Splits buf at every '|'; fields past MAXFIELDS are counted, not kept. */
static void
split(char *buf, struct fields *fl)
{
	char	*p = buf, *bar;

	fl->n = 0;
	for (;;) {
		if (fl->n < MAXFIELDS)
			fl->f[fl->n] = p;
		fl->n++;
		if ((bar = strchr(p, '|')) == NULL)
			break;
		*bar = '\0';
		p = bar + 1;
	}
}

/*
 * A decimal number from min to max (min <= 0 <= max): digits, perhaps
 * after a '-'.  0 ok, -1 not a number, -2 out of range.
 */
static int
number(const char *s, int64_t min, int64_t max, int64_t *v)
{
	const char	*p = s;
	uint64_t	 n = 0, lim, d;
	bool		 neg = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p == '\0')
		return -1;
	lim = !neg ? (uint64_t)max : min < 0 ? (uint64_t)-(min + 1) + 1 : 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		d = (uint64_t)(*p - '0');
		if (d > lim || n > (lim - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	if (!neg)
		*v = (int64_t)n;
	else
		*v = n == 0 ? 0 : -(int64_t)(n - 1) - 1;
	return 0;
}

static int
field_number(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *v, char *err, size_t errlen)
{
	char	what[96];
	int	r;

	if ((r = number(s, min, max, v)) == 0)
		return 0;
	if (r == -1)
		snprintf(what, sizeof(what), "%s is not a number", name);
	else
		snprintf(what, sizeof(what), "%s is out of range (%lld to "
		    "%lld)", name, (long long)min, (long long)max);
	return bad(err, errlen, what, s, strlen(s));
}

/*
 * The five numbers that end WHITE and GREY lines, from f[0].  A WHITE
 * pcount is never negative: spamdb prints those as TRAPPED or SPAMTRAP.
 */
static int
record(char *const *f, bool white, struct store_rec *rec, char *err,
    size_t errlen)
{
	int64_t	v[5];

	if (field_number("first", f[0], 0, INT64_MAX, &v[0], err,
	    errlen) == -1 ||
	    field_number("pass", f[1], 0, INT64_MAX, &v[1], err,
	    errlen) == -1 ||
	    field_number("expire", f[2], 0, INT64_MAX, &v[2], err,
	    errlen) == -1 ||
	    field_number("bcount", f[3], INT32_MIN, INT32_MAX, &v[3], err,
	    errlen) == -1 ||
	    field_number(white ? "WHITE pcount" : "pcount", f[4],
	    white ? 0 : INT32_MIN, INT32_MAX, &v[4], err, errlen) == -1)
		return -1;
	rec->first = v[0];
	rec->pass = v[1];
	rec->expire = v[2];
	rec->bcount = (int32_t)v[3];
	rec->pcount = (int32_t)v[4];
	return 0;
}

/*
 * An IP address in the canonical form the store keys it by; with net, a
 * network "addr/len" too (nfspamd -N keys tuples and WHITE entries so).
 */
static int
address(const char *s, bool net, char *buf, size_t len, struct addr *a,
    char *err, size_t errlen)
{
	const char	*why;
	char		 what[96];
	struct prefix	 p;

	if (prefix_parse(s, &p, false, &why) == -1) {
		snprintf(what, sizeof(what), "bad IP address (%s)", why);
		return bad(err, errlen, what, s, strlen(s));
	}
	if (!net && p.len < addr_bits(&p.addr))
		return bad(err, errlen, "a network where an address is wanted",
		    s, strlen(s));
	*a = p.addr;
	/* Loopback is this host's own: a dump of it may hold local tests. */
	if ((why = addr_not_client(a)) != NULL &&
	    strcmp(why, "loopback") != 0) {
		snprintf(what, sizeof(what), "not a client address (%s)", why);
		return bad(err, errlen, what, s, strlen(s));
	}
	prefix_key(&p, buf, len);
	return 0;
}

static int
wrong_count(const char *type, const char *want, const struct fields *fl,
    const char *line, size_t len, char *err, size_t errlen)
{
	char	what[128];

	snprintf(what, sizeof(what), "%s line with %zu fields, not %s",
	    type, fl->n, want);
	return bad(err, errlen, what, line, len);
}

static int
parse_white(const struct fields *fl, const char *line, size_t len,
    struct dbimport_line *out, char *err, size_t errlen)
{
	struct addr	a;

	if (fl->n != 9)
		return wrong_count("WHITE", "9", fl, line, len, err, errlen);
	if (*fl->f[2] != '\0' || *fl->f[3] != '\0')
		return bad(err, errlen, "WHITE line with text in its empty "
		    "third or fourth field", line, len);
	if (address(fl->f[1], true, out->key, sizeof(out->key), &a, err,
	    errlen) == -1 ||
	    record(fl->f + 4, true, &out->rec, err, errlen) == -1)
		return -1;
	out->type = STORE_WHITE;
	return 0;
}

/* Ten fields, or nine in the form of spamdb before HELO was kept. */
static int
parse_grey(const struct fields *fl, const char *line, size_t len,
    struct dbimport_line *out, char *err, size_t errlen)
{
	char		 ip[ADDR_STRLEN];
	const char	*helo, *from, *to;
	struct addr	 a;
	size_t		 n, i;

	if (fl->n != 10 && fl->n != 9)
		return wrong_count("GREY", "10 (or 9 without HELO)", fl, line,
		    len, err, errlen);
	i = fl->n == 10 ? 3 : 2;
	helo = fl->n == 10 ? fl->f[2] : "";
	from = fl->f[i];
	to = fl->f[i + 1];
	if (address(fl->f[1], true, ip, sizeof(ip), &a, err, errlen) == -1 ||
	    record(fl->f + i + 2, false, &out->rec, err,
	    errlen) == -1)
		return -1;
	n = store_tuple_key(out->key, sizeof(out->key), ip, helo, from, to);
	if (n == 0) {
		char	what[128];

		snprintf(what, sizeof(what), "GREY tuple of %zu bytes, more "
		    "than the database keeps (%d)", strlen(ip) + strlen(helo) +
		    strlen(from) + strlen(to) + 3, STORE_KEYMAX);
		return bad(err, errlen, what, line, len);
	}
	out->type = STORE_GREY;
	return 0;
}

static int
parse_trapped(const struct fields *fl, const char *line, size_t len,
    struct dbimport_line *out, char *err, size_t errlen)
{
	struct addr	a;
	int64_t		expire;

	if (fl->n != 3)
		return wrong_count("TRAPPED", "3", fl, line, len, err, errlen);
	if (address(fl->f[1], false, out->key, sizeof(out->key), &a, err,
	    errlen) == -1 ||
	    field_number("expire", fl->f[2], 0, INT64_MAX, &expire, err,
	    errlen) == -1)
		return -1;
	out->type = STORE_TRAPPED;
	out->rec.expire = expire;
	out->rec.pcount = GREY_PCOUNT_TRAPPED;
	return 0;
}

/*
 * Lower-cased, as nfspamd compares recipients and as spamdb -a -T stores.
 * No recipient holds a control character (a stray CR, say).
 */
static int
parse_spamtrap(const struct fields *fl, const char *line, size_t len,
    struct dbimport_line *out, char *err, size_t errlen)
{
	const char	*s;
	size_t		 i, n;

	if (fl->n != 2)
		return wrong_count("SPAMTRAP", "2", fl, line, len, err, errlen);
	s = fl->f[1];
	n = strlen(s);
	if (n == 0)
		return bad(err, errlen, "empty spam trap address", line, len);
	if (strchr(s, '@') == NULL)
		return bad(err, errlen, "spam trap address without '@'", s, n);
	if (n > STORE_KEYMAX)
		return bad(err, errlen, "spam trap address longer than 511 "
		    "bytes", s, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(err, errlen, "control character in spam "
			    "trap address", s, n);
	for (i = 0; i <= n; i++)
		out->key[i] = s[i] >= 'A' && s[i] <= 'Z' ?
		    (char)(s[i] + 'a' - 'A') : s[i];
	out->type = STORE_SPAMTRAP;
	out->rec.pcount = GREY_PCOUNT_SPAMTRAP;
	return 0;
}

/* Checked as the alloweddomains file would, where these belong. */
static int
parse_domain(const struct fields *fl, const char *line, size_t len,
    struct dbimport_line *out, char *err, size_t errlen)
{
	const unsigned char	*u;
	size_t			 n;

	if (fl->n != 2)
		return wrong_count("DOMAIN", "2", fl, line, len, err, errlen);
	n = strlen(fl->f[1]);
	if (n == 0)
		return bad(err, errlen, "empty domain", line, len);
	if (n > DBIMPORT_DOMAINMAX)
		return bad(err, errlen, "domain longer than 255 bytes",
		    fl->f[1], n);
	for (u = (const unsigned char *)fl->f[1]; *u != '\0'; u++)
		if (*u <= ' ' || *u == 0x7f)
			return bad(err, errlen, "blank or control character "
			    "in domain", fl->f[1], n);
	memcpy(out->key, fl->f[1], n + 1);
	out->kind = DBIMPORT_DOMAIN;
	return 0;
}

static bool
skipped(const char *line, size_t len)
{
	size_t	i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		continue;
	return i == len || line[i] == '#';
}

int
dbimport_parse(const char *line, size_t len, struct dbimport_line *out,
    char *err, size_t errlen)
{
	char		 buf[DBIMPORT_LINEMAX + 1];
	struct fields	 fl;
	const char	*type;
	int		 r;

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > DBIMPORT_LINEMAX) {
		snprintf(err, errlen, "line longer than %d bytes",
		    DBIMPORT_LINEMAX);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL)
		return bad(err, errlen, "NUL byte in line", line, len);
	if (skipped(line, len)) {
		out->kind = DBIMPORT_NONE;
		return 0;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	split(buf, &fl);
	type = fl.f[0];
	out->kind = DBIMPORT_ENTRY;
	if (strcmp(type, "WHITE") == 0)
		r = parse_white(&fl, line, len, out, err, errlen);
	else if (strcmp(type, "GREY") == 0)
		r = parse_grey(&fl, line, len, out, err, errlen);
	else if (strcmp(type, "TRAPPED") == 0)
		r = parse_trapped(&fl, line, len, out, err, errlen);
	else if (strcmp(type, "SPAMTRAP") == 0)
		r = parse_spamtrap(&fl, line, len, out, err, errlen);
	else if (strcmp(type, "DOMAIN") == 0)
		r = parse_domain(&fl, line, len, out, err, errlen);
	else
		r = bad(err, errlen, "unknown entry type", type, strlen(type));
	if (r == -1) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->keylen = strlen(out->key);
	return 0;
}
