/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/addr.c.
 *
 * Whatever the parsers accept must print as text they accept again, to
 * the same value; whatever they refuse must come with a reason and leave
 * the result untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

static void
check_refused(const char *why, const void *res, size_t len)
{
	const uint8_t	*b = res;
	size_t		 i;

	CHECK(why != NULL && *why != '\0');
	for (i = 0; i < len; i++)
		CHECK(b[i] == 0xa5);
}

/* Invariants of any address the parsers hand out. */
static void
check_valid(const struct addr *a)
{
	static const uint8_t	zero[16];
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->family == AF_INET) {
		CHECK(memcmp(a->bytes + 4, zero, 12) == 0);
	} else {
		CHECK(a->family == AF_INET6);
		CHECK(memcmp(a->bytes, mapped, 12) != 0);
	}
}

static bool
bit(const struct addr *a, unsigned i)
{
	return (a->bytes[i / 8] >> (7 - i % 8)) & 1;
}

/* Checked bit by bit, not with addr_mask(), so the two can disagree. */
static void
check_prefix_bits(const struct prefix *p)
{
	struct addr	x;
	unsigned	i, bits;

	bits = addr_bits(&p->addr);
	CHECK(p->len <= bits);
	for (i = p->len; i < bits; i++)
		CHECK(!bit(&p->addr, i));

	/* Flipping a host bit stays inside; flipping a net bit leaves. */
	x = p->addr;
	if (p->len < bits) {
		x.bytes[(bits - 1) / 8] ^= 1;
		CHECK(prefix_contains(p, &x));
		x = p->addr;
	}
	if (p->len > 0) {
		i = p->len - 1;
		x.bytes[i / 8] ^= (uint8_t)(1 << (7 - i % 8));
		CHECK(!prefix_contains(p, &x));
	}
}

static void
fuzz_addr(const char *s)
{
	struct addr	 a, b;
	struct prefix	 p;
	const char	*why = NULL;
	char		 buf[ADDR_STRLEN];
	size_t		 n;
	int		 r;

	memset(&a, 0xa5, sizeof(a));
	if ((r = addr_parse(s, &a, &why)) == -1) {
		check_refused(why, &a, sizeof(a));
		return;
	}
	CHECK(r == 0 && why == NULL);
	check_valid(&a);
	n = addr_format(&a, buf, sizeof(buf));
	CHECK(n > 0 && n == strlen(buf));
	CHECK(addr_parse(buf, &b, &why) == 0);
	CHECK(addr_eq(&a, &b));
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);

	/* A bare address is also a full-length prefix. */
	CHECK(prefix_parse(s, &p, false, &why) == 0);
	CHECK(addr_eq(&p.addr, &a));
	CHECK(p.len == addr_bits(&a));
}

static void
fuzz_prefix(const char *s, bool mask)
{
	struct prefix	 p, q;
	struct addr	 m;
	const char	*why = NULL;
	char		 buf[ADDR_STRLEN];
	size_t		 n;
	int		 r;

	memset(&p, 0xa5, sizeof(p));
	if ((r = prefix_parse(s, &p, mask, &why)) == -1) {
		check_refused(why, &p, sizeof(p));
		return;
	}
	CHECK(r == 0 && why == NULL);
	check_valid(&p.addr);
	check_prefix_bits(&p);
	m = p.addr;
	addr_mask(&m, p.len);
	CHECK(addr_eq(&m, &p.addr));
	CHECK(prefix_contains(&p, &p.addr));

	/* The printed form has no host bits, so it parses without mask. */
	n = prefix_format(&p, buf, sizeof(buf));
	CHECK(n > 0 && n == strlen(buf));
	CHECK(prefix_parse(buf, &q, false, &why) == 0);
	CHECK(addr_eq(&p.addr, &q.addr) && p.len == q.len);
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);

	/* Masking only ever widens what is accepted. */
	if (!mask) {
		CHECK(prefix_parse(s, &q, true, &why) == 0);
		CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_addr(s);
	fuzz_prefix(s, false);
	fuzz_prefix(s, true);
	free(s);
	return 0;
}
