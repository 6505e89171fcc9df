/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/proxy.c: the input is the start of a
 * connection, given to proxy_parse whole and in prefixes, as the bytes
 * would arrive.
 *
 * Invariants: a refusal has a reason; a header is at most PROXY_MAX
 * bytes (a v1 line at most PROXY_V1_MAX, ending in CRLF), within the
 * input, of a known kind, with addresses of either family and never
 * v4-mapped; a prefix shorter than the header gets NEED_MORE with a
 * bound it does not pass, a longer one the same header (what follows
 * is never looked at); once refused, a longer prefix is refused too;
 * and the addresses of a header, written again as a v1 line and as a
 * v2 header, parse back to themselves.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "proxy.h"

#define ALLPREFIXES	256	/* inputs up to this long: every prefix */
#define SAMPLES		64	/* longer: this many prefixes besides */

static const uint8_t sig2[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static void
check_addr(const struct addr *a)
{
	static const uint8_t zero[12];
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->family == AF_INET)
		CHECK(memcmp(a->bytes + 4, zero, 12) == 0);
	else {
		CHECK(a->family == AF_INET6);
		CHECK(memcmp(a->bytes, mapped, 12) != 0);
	}
}

static bool
same(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return a->len == b->len && a->version == b->version &&
	    a->kind == b->kind && addr_eq(&a->src, &b->src) &&
	    addr_eq(&a->dst, &b->dst) && a->sport == b->sport &&
	    a->dport == b->dport;
}

static void
check_done(const uint8_t *data, size_t size, const struct proxy_hdr *h)
{
	CHECK(h->len >= 1 && h->len <= size && h->len <= PROXY_MAX);
	CHECK(h->kind == PROXY_ADDRS || h->kind == PROXY_LOCAL ||
	    h->kind == PROXY_UNKNOWN);
	CHECK(strcmp(proxy_kind_name(h->kind), "?") != 0);
	if (h->version == 1) {
		CHECK(h->len >= PROXY_V1_MIN && h->len <= PROXY_V1_MAX);
		CHECK(memcmp(data, "PROXY ", 6) == 0);
		CHECK(data[h->len - 2] == '\r' && data[h->len - 1] == '\n');
		CHECK(memchr(data, '\n', h->len - 1) == NULL);
		CHECK(h->kind != PROXY_LOCAL);
	} else {
		CHECK(h->version == 2);
		CHECK(h->len >= 16 && memcmp(data, sig2, 12) == 0);
		CHECK(h->len == 16 + ((size_t)data[14] << 8 | data[15]));
	}
	if (h->kind == PROXY_ADDRS) {
		check_addr(&h->src);
		check_addr(&h->dst);
	}
}

/* The header's addresses, written again, parse back to themselves. */
static void
roundtrip(const struct proxy_hdr *h)
{
	char line[PROXY_V1_MAX + 1], s[ADDR_STRLEN], d[ADDR_STRLEN];
	uint8_t b[64];
	struct proxy_hdr back;
	size_t alen, n;
	int k;
	bool v4 = h->src.family == AF_INET;

	if (h->kind != PROXY_ADDRS || h->src.family != h->dst.family)
		return;
	addr_format(&h->src, s, sizeof(s));
	addr_format(&h->dst, d, sizeof(d));
	k = snprintf(line, sizeof(line), "PROXY TCP%c %s %s %u %u\r\n",
	    v4 ? '4' : '6', s, d, h->sport, h->dport);
	CHECK(k > 0 && (size_t)k < sizeof(line));
	CHECK(proxy_parse(line, (size_t)k, &back) == PROXY_DONE);
	CHECK(back.len == (size_t)k && back.kind == PROXY_ADDRS);
	CHECK(addr_eq(&back.src, &h->src) && addr_eq(&back.dst, &h->dst));
	CHECK(back.sport == h->sport && back.dport == h->dport);

	alen = v4 ? 4 : 16;
	memcpy(b, sig2, 12);
	b[12] = 0x21;
	b[13] = v4 ? 0x11 : 0x21;
	b[14] = 0;
	b[15] = (uint8_t)(2 * alen + 4);
	memcpy(b + 16, h->src.bytes, alen);
	memcpy(b + 16 + alen, h->dst.bytes, alen);
	b[16 + 2 * alen] = (uint8_t)(h->sport >> 8);
	b[17 + 2 * alen] = (uint8_t)h->sport;
	b[18 + 2 * alen] = (uint8_t)(h->dport >> 8);
	b[19 + 2 * alen] = (uint8_t)h->dport;
	n = 20 + 2 * alen;
	CHECK(proxy_parse(b, n, &back) == PROXY_DONE);
	CHECK(back.len == n && back.kind == PROXY_ADDRS);
	CHECK(addr_eq(&back.src, &h->src) && addr_eq(&back.dst, &h->dst));
	CHECK(back.sport == h->sport && back.dport == h->dport);
}

/* The first k bytes, against the verdict st, h on the whole input. */
static void
check_prefix(const uint8_t *data, size_t k, enum proxy_status st,
    const struct proxy_hdr *h, size_t *refused_at)
{
	struct proxy_hdr p;
	enum proxy_status ps = proxy_parse(data, k, &p);

	switch (ps) {
	case PROXY_NEED_MORE:
		CHECK(p.len >= 1 && k + p.len <= PROXY_MAX);
		CHECK(k < *refused_at);
		if (st == PROXY_DONE)
			CHECK(k < h->len && k + p.len <= h->len);
		break;
	case PROXY_DONE:
		CHECK(st == PROXY_DONE && same(&p, h));
		break;
	case PROXY_ERROR:
		CHECK(st == PROXY_ERROR && p.why != NULL);
		if (k < *refused_at)
			*refused_at = k;
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h;
	enum proxy_status st = proxy_parse(data, size, &h);
	size_t refused_at = SIZE_MAX, k;

	switch (st) {
	case PROXY_NEED_MORE:
		CHECK(h.len >= 1 && size + h.len <= PROXY_MAX);
		break;
	case PROXY_DONE:
		check_done(data, size, &h);
		roundtrip(&h);
		break;
	case PROXY_ERROR:
		CHECK(h.why != NULL && h.why[0] != '\0');
		break;
	default:
		CHECK(0);
	}
	/* In order, so that refused_at is the first prefix refused. */
	for (k = 0; k < size && k < ALLPREFIXES; k++)
		check_prefix(data, k, st, &h, &refused_at);
	if (size > ALLPREFIXES)
		for (int i = 0; i < SAMPLES; i++)
			check_prefix(data, ALLPREFIXES + (size - ALLPREFIXES) *
			    (size_t)i / SAMPLES, st, &h, &refused_at);
	if (st == PROXY_DONE) {
		check_prefix(data, h.len - 1, st, &h, &refused_at);
		check_prefix(data, h.len, st, &h, &refused_at);
	}
	return 0;
}
