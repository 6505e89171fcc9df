/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for the reading of Prometheus' text format in
 * src/lib/promparse.c, and for what nfspamdb --stats makes of nfspamd's
 * answer with it (stats_totals_parse in src/lib/stats.c).
 *
 * Whatever the input, nothing crashes and nothing is read outside it.
 * A sample's name and labels lie inside the input and are well-formed;
 * lines come in order; a parse that succeeds took text that ends in a
 * newline.  Every sample metrics.c can write (at most 3 labels, no "__"
 * label names) is written with it and read back: the same name, label
 * values and value.  An error is one printable line, and a tiny error
 * buffer gives the same answer.  Totals that parse are whole counts.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "metrics.h"
#include "promparse.h"
#include "stats.h"

#define NAMEMAX		256
#define VALUEMAX	1024

struct ctx {
	const char	*text;
	size_t		 len;
	size_t		 lastline;
	size_t		 n;
};

/* The sample read back from what metrics.c wrote. */
struct again {
	char	name[NAMEMAX];
	char	label[METRICS_LABELMAX][2][VALUEMAX];
	size_t	nlabels;
	double	value;
	int	n;
};

static void
check_error(const char *err)
{
	const unsigned char	*u;

	CHECK(*err != '\0');
	for (u = (const unsigned char *)err; *u != '\0'; u++)
		CHECK(*u >= 0x20 && *u < 0x7f);
}

static int
inside(const struct ctx *x, const char *p, size_t n)
{
	return p >= x->text && n <= x->len &&
	    (size_t)(p - x->text) <= x->len - n;
}

static int
name_char(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '_' || (c >= '0' && c <= '9') || (colon && c == ':');
}

static void
check_name(const char *p, size_t n, int colon)
{
	size_t	i;

	CHECK(n > 0);
	CHECK(!(p[0] >= '0' && p[0] <= '9'));
	for (i = 0; i < n; i++)
		CHECK(name_char(p[i], colon));
}

static int
take_again(void *arg, const struct prom_sample *s, char *err, size_t errlen)
{
	struct again	*a = arg;
	size_t		 i;

	(void)err;
	(void)errlen;
	CHECK(a->n++ == 0);
	CHECK(s->namelen < sizeof(a->name));
	memcpy(a->name, s->name, s->namelen);
	a->name[s->namelen] = '\0';
	a->nlabels = s->nlabels;
	a->value = s->value;
	for (i = 0; i < s->nlabels && i < METRICS_LABELMAX; i++) {
		CHECK(s->label[i].namelen < VALUEMAX);
		memcpy(a->label[i][0], s->label[i].name, s->label[i].namelen);
		a->label[i][0][s->label[i].namelen] = '\0';
		CHECK(prom_label(s, a->label[i][0], a->label[i][1],
		    VALUEMAX) == 0);
	}
	return 0;
}

/* Written by metrics.c, read back: the same sample. */
static void
round_trip(const char *name, struct mlabel *l, size_t nl, double value)
{
	struct buf	b = { 0 };
	struct again	a;
	char		err[256];
	size_t		i;

	if (metrics_sample(&b, name, l, nl, value) == -1) {
		buf_free(&b);
		return;
	}
	memset(&a, 0, sizeof(a));
	CHECK(prom_parse(b.data, b.len, take_again, &a, err, sizeof(err)) == 0);
	CHECK(a.n == 1);
	CHECK(strcmp(a.name, name) == 0);
	CHECK(a.nlabels == nl);
	for (i = 0; i < nl; i++) {
		CHECK(strcmp(a.label[i][0], l[i].name) == 0);
		CHECK(strcmp(a.label[i][1], l[i].value) == 0);
	}
	CHECK(a.value == value || (isnan(a.value) && isnan(value)));
	buf_free(&b);
}

static int
take(void *arg, const struct prom_sample *s, char *err, size_t errlen)
{
	char		 lname[METRICS_LABELMAX][NAMEMAX];
	char		 lvalue[METRICS_LABELMAX][VALUEMAX];
	struct ctx	*x = arg;
	struct mlabel	 l[METRICS_LABELMAX];
	char		 name[NAMEMAX], small[4];
	size_t		 i;
	int		 ok = 1;

	(void)err;
	(void)errlen;
	CHECK(s->line > x->lastline);
	x->lastline = s->line;
	x->n++;
	CHECK(inside(x, s->name, s->namelen));
	check_name(s->name, s->namelen, 1);
	CHECK(s->nlabels <= PROM_LABELMAX);
	for (i = 0; i < s->nlabels; i++) {
		CHECK(inside(x, s->label[i].name, s->label[i].namelen));
		CHECK(inside(x, s->label[i].value, s->label[i].valuelen));
		check_name(s->label[i].name, s->label[i].namelen, 0);
	}
	if (s->namelen >= sizeof(name) || s->nlabels > METRICS_LABELMAX)
		return 0;
	memcpy(name, s->name, s->namelen);
	name[s->namelen] = '\0';
	CHECK(prom_is(s, name));
	for (i = 0; i < s->nlabels; i++) {
		if (s->label[i].namelen >= NAMEMAX)
			return 0;
		memcpy(lname[i], s->label[i].name, s->label[i].namelen);
		lname[i][s->label[i].namelen] = '\0';
		if (prom_label(s, lname[i], lvalue[i], VALUEMAX) != 0)
			ok = 0;
		else
			CHECK(strlen(lvalue[i]) <= s->label[i].valuelen);
		if (prom_label(s, lname[i], small, sizeof(small)) == 0)
			CHECK(strlen(small) < sizeof(small));
		if (!metrics_label_ok(lname[i]))
			ok = 0;
		l[i] = (struct mlabel){ lname[i], lvalue[i] };
	}
	if (ok)
		round_trip(name, l, s->nlabels, s->value);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats_totals	 tot;
	struct ctx		 x = { (const char *)data, size, 0, 0 };
	char			 err[256], tiny[8];
	int			 r, k;

	r = prom_parse(x.text, size, take, &x, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r == 0)
		CHECK(size == 0 || data[size - 1] == '\n');
	else
		check_error(err);
	x.lastline = 0;
	CHECK(prom_parse(x.text, size, take, &x, tiny, sizeof(tiny)) == r);

	r = stats_totals_parse(x.text, size, &tot, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r == -1) {
		check_error(err);
		CHECK(stats_totals_parse(x.text, size, &tot, tiny,
		    sizeof(tiny)) == -1);
		return 0;
	}
	CHECK(memchr(tot.version, '\0', sizeof(tot.version)) != NULL);
	for (k = 0; k < ST_NTOTALS; k++)
		CHECK(tot.v[k] <= 9007199254740992ULL);
	CHECK(stats_trapped(&tot) >= tot.v[ST_TRAP_SPAMTRAP]);
	return 0;
}
