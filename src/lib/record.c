/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * record: the stored record and key formats.  See record.h.
 */
#include "config.h"

#include <string.h>

#include "record.h"
#include "util.h"

static const char *const typenames[STORE_NTYPES] = {
	[STORE_WHITE] = "WHITE",
	[STORE_GREY] = "GREY",
	[STORE_TRAPPED] = "TRAPPED",
	[STORE_SPAMTRAP] = "SPAMTRAP",
};

const char *
store_type_name(enum store_type t)
{
	if ((unsigned)t >= STORE_NTYPES)
		return "?";
	return typenames[t];
}

void
store_rec_encode(const struct store_rec *r, uint8_t out[STORE_RECSIZE])
{
	util_put64le(out, r->first);
	util_put64le(out + 8, r->pass);
	util_put64le(out + 16, r->expire);
	util_put32le(out + 24, r->bcount);
	util_put32le(out + 28, r->pcount);
}

int
store_rec_decode(const void *buf, size_t len, struct store_rec *r)
{
	const uint8_t *p = buf;

	if (len != STORE_RECSIZE)
		return -1;
	r->first = util_get64le(p);
	r->pass = util_get64le(p + 8);
	r->expire = util_get64le(p + 16);
	r->bcount = util_get32le(p + 24);
	r->pcount = util_get32le(p + 28);
	return 0;
}

size_t
store_tuple_key(char *buf, size_t len, const char *ip, const char *helo,
    const char *from, const char *to)
{
	const char *f[4] = { ip, helo, from, to };
	size_t n = 0, l;

	for (int i = 0; i < 4; i++) {
		if (strchr(f[i], '\n') != NULL)
			return 0;
		n += strlen(f[i]) + (i > 0);
	}
	if (n > STORE_KEYMAX || n + 1 > len)
		return 0;
	n = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			buf[n++] = '\n';
		l = strlen(f[i]);
		memcpy(buf + n, f[i], l);
		n += l;
	}
	buf[n] = '\0';
	return n;
}

int
store_tuple_split(const char *key, size_t keylen, struct store_tuple *tp)
{
	const char *start[5], *end = key + keylen, *nl;
	size_t n = 0;

	start[n++] = key;
	while ((nl = memchr(start[n - 1], '\n', (size_t)(end -
	    start[n - 1]))) != NULL) {
		if (n == 4)
			return -1;	/* five or more fields */
		start[n++] = nl + 1;
	}
	if (n < 3)
		return -1;
	start[n] = end + 1;	/* as if a separator followed the last */
#define FLEN(i)	((size_t)(start[(i) + 1] - start[(i)] - 1))
	tp->ip = start[0];
	tp->iplen = FLEN(0);
	if (n == 3) {
		tp->helo = "";
		tp->helolen = 0;
		tp->from = start[1];
		tp->fromlen = FLEN(1);
		tp->to = start[2];
		tp->tolen = FLEN(2);
	} else {
		tp->helo = start[1];
		tp->helolen = FLEN(1);
		tp->from = start[2];
		tp->fromlen = FLEN(2);
		tp->to = start[3];
		tp->tolen = FLEN(3);
	}
#undef FLEN
	return tp->iplen == 0 ? -1 : 0;
}
