/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for the sync decoder: what arrives on UDP port 8025
 * from anyone.  Each input is decoded as it is (header and HMAC checks),
 * then again signed with the key, so the TLV walk sees everything the
 * fuzzer can make; every message delivered must lie inside the packet,
 * and a packet of one message must encode again, no longer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "sync.h"

struct seen {
	const uint8_t	*lo, *hi;
	struct sync_msg	 m;
	int		 n;
};

static void
inside(const struct seen *s, const char *str)
{
	size_t n = strnlen(str, (size_t)(s->hi - (const uint8_t *)str));

	CHECK((const uint8_t *)str >= s->lo &&
	    (const uint8_t *)str + n < s->hi);
}

static void
on_msg(void *arg, const struct sync_msg *m)
{
	struct seen *s = arg;

	CHECK(m->type == SYNC_GREY || m->type == SYNC_WHITE ||
	    m->type == SYNC_TRAPPED);
	CHECK(m->addr.family == AF_INET || m->addr.family == AF_INET6);
	if (m->type == SYNC_GREY) {
		inside(s, m->from);
		inside(s, m->to);
		inside(s, m->helo);
	}
	s->m = *m;
	s->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sync_key k;
	uint8_t p[SYNC_MAXSIZE], back[SYNC_MAXSIZE];
	struct sync_hdr h;
	struct seen s = { 0 };
	unsigned int len;
	size_t n = size < sizeof(p) ? size : sizeof(p);

	if (k.len == 0)
		sync_key_from_bytes("fuzz", 4, &k);
	s.lo = data;
	s.hi = data + size;
	(void)sync_decode(&k, data, size, &h, on_msg, &s);

	/* Signed: a valid header, the fuzzer's TLVs. */
	if (n < SYNC_HDRSIZE)
		return 0;
	memcpy(p, data, n);
	p[0] = SYNC_VERSION;
	p[1] = (p[1] & 1) ? SYNC_AF_INET6 : SYNC_AF_INET;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	memset(p + 8, 0, SYNC_HMACLEN);
	if (HMAC(EVP_sha1(), k.text, (int)k.len, p, n, p + 8, &len) == NULL)
		return 0;
	memset(&s, 0, sizeof(s));
	s.lo = p;
	s.hi = p + n;
	if (sync_decode(&k, p, n, &h, on_msg, &s) != SYNC_OK || s.n != 1)
		return 0;
	/* One message: the canonical packet for it is at most as long,
	   give or take the END a packet may leave out. */
	{
		size_t m = sync_encode(&k, h.counter, &s.m, back,
		    sizeof(back));

		CHECK(m > 0 && m <= n + 4);
	}
	return 0;
}
