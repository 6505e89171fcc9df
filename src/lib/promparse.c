/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Reading Prometheus' text exposition format; see promparse.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "promparse.h"
#include "util.h"

#define EXCERPT		24	/* bytes of a bad line quoted in err */

/* The rest of one line: [p, e). */
struct cur {
	const char	*p;
	const char	*e;
	size_t		 line;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or a label name (no ':'). */
static size_t
name_len(const struct cur *c, bool colon)
{
	return metrics_name_span(c->p, (size_t)(c->e - c->p), colon);
}

static void
skip_blanks(struct cur *c)
{
	while (c->p < c->e && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static bool
at(const struct cur *c, char ch)
{
	return c->p < c->e && *c->p == ch;
}

/* "line N: what at "excerpt"", and -1. */
static int
bad(const struct cur *c, const char *what, char *err, size_t errlen)
{
	char	ex[EXCERPT * 4 + 8];

	if (c->p == c->e)
		return util_seterr(err, errlen, "line %zu: %s at the end of "
		    "the line", c->line, what);
	util_quote(ex, sizeof(ex), c->p, (size_t)(c->e - c->p), EXCERPT);
	return util_seterr(err, errlen, "line %zu: %s at %s", c->line, what,
	    ex);
}

/* A quoted label value, left escaped: \\, \" and \n only. */
static int
label_value(struct cur *c, struct prom_label *l, char *err, size_t errlen)
{
	if (!at(c, '"'))
		return bad(c, "label value not quoted", err, errlen);
	l->value = ++c->p;
	while (c->p < c->e && *c->p != '"') {
		if (*c->p == '\\') {
			if (c->p + 1 == c->e || (c->p[1] != '\\' &&
			    c->p[1] != '"' && c->p[1] != 'n'))
				return bad(c, "bad escape in a label value",
				    err, errlen);
			c->p++;
		}
		c->p++;
	}
	if (c->p == c->e) {
		c->p = l->value - 1;
		return bad(c, "label value not closed", err, errlen);
	}
	l->valuelen = (size_t)(c->p - l->value);
	c->p++;
	return 0;
}

static int
one_label(struct cur *c, struct prom_sample *s, char *err, size_t errlen)
{
	struct prom_label	*l = &s->label[s->nlabels];
	size_t			 i;

	if (s->nlabels == PROM_LABELMAX)
		return bad(c, "more than 8 labels", err, errlen);
	if ((l->namelen = name_len(c, false)) == 0)
		return bad(c, "not a label name", err, errlen);
	l->name = c->p;
	for (i = 0; i < s->nlabels; i++)
		if (s->label[i].namelen == l->namelen &&
		    memcmp(s->label[i].name, l->name, l->namelen) == 0)
			return bad(c, "label given twice", err, errlen);
	c->p += l->namelen;
	skip_blanks(c);
	if (!at(c, '='))
		return bad(c, "no '=' after a label name", err, errlen);
	c->p++;
	skip_blanks(c);
	if (label_value(c, l, err, errlen) == -1)
		return -1;
	s->nlabels++;
	return 0;
}

/* After '{': labels separated by commas (one may trail), then '}'. */
static int
labels(struct cur *c, struct prom_sample *s, char *err, size_t errlen)
{
	for (;;) {
		skip_blanks(c);
		if (at(c, '}'))
			break;
		if (one_label(c, s, err, errlen) == -1)
			return -1;
		skip_blanks(c);
		if (at(c, ','))
			c->p++;
		else if (!at(c, '}'))
			return bad(c, "no ',' or '}' after a label", err,
			    errlen);
	}
	c->p++;
	return 0;
}

/* A Go float as the format has it: digits, signs, '.', e, Inf, NaN. */
static bool
value_char(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '+' || ch == '-';
}

static int
value(struct cur *c, struct prom_sample *s, char *err, size_t errlen)
{
	char		 tok[PROM_VALUEMAX + 1], *end;
	const char	*b = c->p;
	size_t		 n;

	while (c->p < c->e && *c->p != ' ' && *c->p != '\t')
		c->p++;
	n = (size_t)(c->p - b);
	c->p = b;
	if (n == 0)
		return bad(c, "no value", err, errlen);
	if (n > PROM_VALUEMAX)
		return bad(c, "value longer than 63 bytes", err, errlen);
	memcpy(tok, b, n);
	tok[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!value_char(tok[i]))
			return bad(c, "not a number", err, errlen);
	s->value = strtod(tok, &end);
	if (end != tok + n)
		return bad(c, "not a number", err, errlen);
	c->p += n;
	return 0;
}

/* An optional timestamp: milliseconds, an integer. */
static int
timestamp(struct cur *c, char *err, size_t errlen)
{
	const char	*b = c->p;

	if (at(c, '-'))
		c->p++;
	while (c->p < c->e && is_digit(*c->p) && c->p - b < 20)
		c->p++;
	if (c->p == b || (c->p == b + 1 && *b == '-') ||
	    (c->p < c->e && *c->p != ' ' && *c->p != '\t')) {
		c->p = b;
		return bad(c, "text after the value", err, errlen);
	}
	return 0;
}

/* 0: a sample in s; 1: a blank or comment line; -1: a bad line. */
static int
parse_line(struct cur *c, struct prom_sample *s, char *err, size_t errlen)
{
	skip_blanks(c);
	if (c->p == c->e || *c->p == '#')
		return 1;
	memset(s, 0, sizeof(*s));
	s->line = c->line;
	if ((s->namelen = name_len(c, true)) == 0)
		return bad(c, "not a metric name", err, errlen);
	s->name = c->p;
	c->p += s->namelen;
	if (at(c, '{')) {
		c->p++;
		if (labels(c, s, err, errlen) == -1)
			return -1;
	}
	if (!at(c, ' ') && !at(c, '\t'))
		return bad(c, "no blank before the value", err, errlen);
	skip_blanks(c);
	if (value(c, s, err, errlen) == -1)
		return -1;
	skip_blanks(c);
	if (c->p < c->e && timestamp(c, err, errlen) == -1)
		return -1;
	skip_blanks(c);
	if (c->p != c->e)
		return bad(c, "text after the value", err, errlen);
	return 0;
}

int
prom_parse(const char *text, size_t len, prom_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct prom_sample	 s;
	struct cur		 c;
	const char		*p = text, *end = text + len, *nl;
	size_t			 line = 0;
	int			 r;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return util_seterr(err, errlen, "line %zu: cut short "
			    "(no newline at the end)", line);
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL)
			return util_seterr(err, errlen, "line %zu: holds a NUL "
			    "byte", line);
		c = (struct cur){ p, nl, line };
		if ((r = parse_line(&c, &s, err, errlen)) == -1)
			return -1;
		if (r == 0 && (r = fn(arg, &s, err, errlen)) != 0)
			return r;
	}
	return 0;
}

bool
prom_is(const struct prom_sample *s, const char *name)
{
	return strlen(name) == s->namelen &&
	    memcmp(s->name, name, s->namelen) == 0;
}

int
prom_label(const struct prom_sample *s, const char *name, char *buf,
    size_t len)
{
	const struct prom_label	*l;
	size_t			 i, o = 0;

	if (len > 0)
		buf[0] = '\0';
	for (l = s->label; l < s->label + s->nlabels; l++)
		if (strlen(name) == l->namelen &&
		    memcmp(l->name, name, l->namelen) == 0)
			break;
	if (l == s->label + s->nlabels)
		return 1;
	for (i = 0; i < l->valuelen; i++, o++) {
		if (o + 1 >= len) {
			if (len > 0)
				buf[0] = '\0';
			return -1;
		}
		buf[o] = l->value[i];
		if (l->value[i] == '\\')
			buf[o] = l->value[++i] == 'n' ? '\n' : l->value[i];
	}
	if (len == 0)
		return -1;
	buf[o] = '\0';
	return 0;
}
