/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for the spamdb/greydb line parser in
 * src/lib/dbimport.c.
 *
 * Each input line is parsed.  Whatever it holds, parsing never crashes;
 * an error is one printable line and leaves an empty result; an entry
 * has a key the store can keep, in the form nfspamd looks it up by (a
 * canonical address, a lower-cased trap address, a splittable tuple),
 * and printing it the way spamdb does and parsing that again gives the
 * same entry.  A tiny error buffer gives the same answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dbimport.h"
#include "fuzz.h"

#define FUZZ_MAX	(64 * 1024)

static void
check_error(const char *err)
{
	const unsigned char	*u;

	CHECK(*err != '\0');
	for (u = (const unsigned char *)err; *u != '\0'; u++)
		CHECK(*u >= 0x20 && *u < 0x7f);
}

/* The address key (or tuple address) is canonical. */
static void
check_addr(const char *s, size_t len)
{
	char		buf[ADDR_STRLEN], fmt[ADDR_STRLEN];
	struct addr	a;
	const char	*why;

	CHECK(len < sizeof(buf));
	memcpy(buf, s, len);
	buf[len] = '\0';
	CHECK(addr_parse(buf, &a, &why) == 0);
	addr_format(&a, fmt, sizeof(fmt));
	CHECK(strcmp(buf, fmt) == 0);
}

/* spamdb's line for the entry; -1 if it does not fit the line limit. */
static int
format(const struct dbimport_line *l, char *buf, size_t len)
{
	const struct store_rec	*r = &l->rec;
	struct store_tuple	 t;
	int			 n;

	switch (l->type) {
	case STORE_WHITE:
		n = snprintf(buf, len, "WHITE|%s|||%lld|%lld|%lld|%d|%d",
		    l->key, (long long)r->first, (long long)r->pass,
		    (long long)r->expire, (int)r->bcount, (int)r->pcount);
		break;
	case STORE_GREY:
		CHECK(store_tuple_split(l->key, l->keylen, &t) == 0);
		n = snprintf(buf, len, "GREY|%.*s|%.*s|%.*s|%.*s|%lld|%lld|"
		    "%lld|%d|%d", (int)t.iplen, t.ip, (int)t.helolen, t.helo,
		    (int)t.fromlen, t.from, (int)t.tolen, t.to,
		    (long long)r->first, (long long)r->pass,
		    (long long)r->expire, (int)r->bcount, (int)r->pcount);
		break;
	case STORE_TRAPPED:
		n = snprintf(buf, len, "TRAPPED|%s|%lld", l->key,
		    (long long)r->expire);
		break;
	default:
		n = snprintf(buf, len, "SPAMTRAP|%s", l->key);
		break;
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
check_entry(const struct dbimport_line *l)
{
	struct store_tuple	 t;
	struct dbimport_line	 again;
	char			 line[DBIMPORT_LINEMAX + 1], err[512];
	const char		*p;

	CHECK(l->keylen > 0 && l->keylen <= STORE_KEYMAX);
	CHECK(strlen(l->key) == l->keylen);
	CHECK(l->rec.first >= 0 && l->rec.pass >= 0 && l->rec.expire >= 0);
	switch (l->type) {
	case STORE_WHITE:
		check_addr(l->key, l->keylen);
		CHECK(l->rec.pcount >= 0);
		break;
	case STORE_TRAPPED:
		check_addr(l->key, l->keylen);
		CHECK(l->rec.pcount == -1 && l->rec.first == 0 &&
		    l->rec.pass == 0 && l->rec.bcount == 0);
		break;
	case STORE_GREY:
		CHECK(store_tuple_split(l->key, l->keylen, &t) == 0);
		check_addr(t.ip, t.iplen);
		break;
	case STORE_SPAMTRAP:
		CHECK(memchr(l->key, '@', l->keylen) != NULL);
		for (p = l->key; *p != '\0'; p++)
			CHECK(*p < 'A' || *p > 'Z');
		CHECK(l->rec.pcount == -2 && l->rec.expire == 0);
		break;
	default:
		CHECK(0);
	}

	if (format(l, line, sizeof(line)) == -1)
		return;
	CHECK(dbimport_parse(line, strlen(line), &again, err,
	    sizeof(err)) == 0);
	CHECK(again.kind == DBIMPORT_ENTRY && again.type == l->type);
	CHECK(again.keylen == l->keylen);
	CHECK(memcmp(again.key, l->key, l->keylen) == 0);
	CHECK(memcmp(&again.rec, &l->rec, sizeof(l->rec)) == 0);
}

static void
check_line(const char *p, size_t len)
{
	struct dbimport_line	l, small;
	char			err[512], tiny[8];
	size_t			i;
	int			r;

	r = dbimport_parse(p, len, &l, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	CHECK(dbimport_parse(p, len, &small, tiny, sizeof(tiny)) == r);
	if (r == -1) {
		check_error(err);
		CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
		CHECK(l.kind == DBIMPORT_NONE && l.keylen == 0);
		return;
	}
	CHECK(memcmp(&l, &small, sizeof(l)) == 0);
	switch (l.kind) {
	case DBIMPORT_NONE:
		for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
			continue;
		CHECK(i == len || p[i] == '#' || (p[i] == '\r' &&
		    i + 1 == len));
		break;
	case DBIMPORT_DOMAIN:
		CHECK(l.keylen > 0 && l.keylen <= DBIMPORT_DOMAINMAX);
		CHECK(strlen(l.key) == l.keylen);
		CHECK(strpbrk(l.key, " \t\r") == NULL);
		break;
	case DBIMPORT_ENTRY:
		check_entry(&l);
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data, *p, *nl, *end;

	if (size > FUZZ_MAX)
		return 0;
	end = text + size;
	for (p = text; p <= end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line(p, (size_t)(nl - p));
	}
	return 0;
}
