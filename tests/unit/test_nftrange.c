/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * Unit tests for src/lib/nftrange.c: keys, prefixes as ranges, the
 * start/end elements of interval sets, dumps back into ranges, and
 * ranges back into prefixes, for IPv4 and IPv6 up to the edges of the
 * address space.
 */
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netfilter/nf_tables.h>

#include "addr.h"
#include "nftrange.h"

#define END	NFT_SET_ELEM_INTERVAL_END
#define V6(hi, lo)	(((u128)(hi) << 64) | (u128)(lo))

static struct nftset_elem
elem(const char *text, uint64_t timeout)
{
	struct nftset_elem	e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(prefix_parse(text, &e.pfx, false, NULL), 0);
	e.timeout_ms = timeout;
	return e;
}

static int
family_of(const char *text)
{
	return strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
}

static void
assert_key(u128 got, u128 want)
{
	assert_true(got == want);
}

static void
assert_nel(const struct nel *e, u128 key, uint32_t flags)
{
	assert_key(e->key, key);
	assert_int_equal(e->flags, flags);
}

/* The range of a prefix given as text. */
static void
range_of(const char *text, u128 *lo, u128 *hi)
{
	struct nftset_elem	e = elem(text, 0);

	key_range(family_of(text), &e.pfx, lo, hi);
}

static void
test_keys(void **state)
{
	uint8_t	b[16], want[16];
	struct addr	a;

	(void)state;
	assert_int_equal(key_bits(AF_INET), 32);
	assert_int_equal(key_bits(AF_INET6), 128);
	assert_key(key_top(AF_INET), 0xffffffffu);
	assert_key(key_top(AF_INET6), ~(u128)0);
	assert_key(key_mask(0), 0);
	assert_key(key_mask(1), 1);
	assert_key(key_mask(32), 0xffffffffu);
	assert_key(key_mask(127), ~(u128)0 >> 1);
	assert_key(key_mask(128), ~(u128)0);

	memcpy(want, "\x0a\x01\x02\x03", 4);
	assert_key(key_get(want, 4), 0x0a010203);
	key_put(0x0a010203, b, 4);
	assert_memory_equal(b, want, 4);

	memcpy(want, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_key(key_get(want, 16), V6(0x20010db800000000ULL, 1));
	key_put(V6(0x20010db800000000ULL, 1), b, 16);
	assert_memory_equal(b, want, 16);
	key_put(~(u128)0, b, 16);
	memset(want, 0xff, 16);
	assert_memory_equal(b, want, 16);

	key_to_addr(0xc0000201, AF_INET, &a);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, "\xc0\x00\x02\x01", 4);
	key_to_addr(1, AF_INET6, &a);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.bytes[15], 1);
}

static void
test_key_range(void **state)
{
	u128	lo, hi;

	(void)state;
	range_of("0.0.0.0/0", &lo, &hi);
	assert_key(lo, 0);
	assert_key(hi, 0xffffffffu);
	range_of("::/0", &lo, &hi);
	assert_key(lo, 0);
	assert_key(hi, ~(u128)0);
	range_of("10.1.2.0/24", &lo, &hi);
	assert_key(lo, 0x0a010200);
	assert_key(hi, 0x0a0102ff);
	range_of("10.1.2.3", &lo, &hi);
	assert_key(lo, 0x0a010203);
	assert_key(hi, 0x0a010203);
	range_of("255.255.255.255/32", &lo, &hi);
	assert_key(lo, 0xffffffffu);
	assert_key(hi, 0xffffffffu);
	range_of("128.0.0.0/1", &lo, &hi);
	assert_key(lo, 0x80000000u);
	assert_key(hi, 0xffffffffu);
	range_of("2001:db8::/32", &lo, &hi);
	assert_key(lo, V6(0x20010db800000000ULL, 0));
	assert_key(hi, V6(0x20010db8ffffffffULL, ~0ULL));
	range_of("::1/128", &lo, &hi);
	assert_key(lo, 1);
	assert_key(hi, 1);
	range_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &lo, &hi);
	assert_key(lo, ~(u128)0);
	assert_key(hi, ~(u128)0);
	range_of("8000::/1", &lo, &hi);
	assert_key(lo, (u128)1 << 127);
	assert_key(hi, ~(u128)0);
}

static void
test_nels_interval(void **state)
{
	struct nels	l;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(nels_interval(&l, AF_INET, 0x0a000000, 0x0a0000ff,
	    5000, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_nel(&l.v[0], 0x0a000000, 0);
	assert_nel(&l.v[1], 0x0a000100, END);
	assert_true(l.v[0].timeout == 5000 && l.v[1].timeout == 5000);
	/* Up to the top: no end element. */
	assert_int_equal(nels_interval(&l, AF_INET, 0xffffff00u,
	    0xffffffffu, 0, NULL), 0);
	assert_int_equal(l.n, 3);
	assert_nel(&l.v[2], 0xffffff00u, 0);
	/* The IPv4 top is not the IPv6 top. */
	assert_int_equal(nels_interval(&l, AF_INET6, 0, 0xffffffffu, 0,
	    NULL), 0);
	assert_int_equal(l.n, 5);
	assert_nel(&l.v[4], (u128)0x100000000ULL, END);
	assert_int_equal(nels_interval(&l, AF_INET6, 0, ~(u128)0, 0, NULL),
	    0);
	assert_int_equal(l.n, 6);
	assert_nel(&l.v[5], 0, 0);
	free(l.v);
}

static void
test_intervals_sorted(void **state)
{
	struct nftset_elem		 v[5];
	const struct nftset_elem	*a = NULL, *b = NULL;
	struct nels			 l;

	(void)state;
	memset(&l, 0, sizeof(l));
	v[0] = elem("10.0.1.0/24", 0);
	v[1] = elem("10.0.0.0/24", 7);
	v[2] = elem("10.0.1.0/24", 0);		/* a duplicate */
	v[3] = elem("255.255.255.0/24", 0);	/* up to the top */
	v[4] = elem("10.0.2.1", 0);		/* a single address */
	assert_int_equal(nels_intervals(&l, AF_INET, v, 5, &a, &b), 0);
	assert_int_equal(l.n, 7);
	/* Adjacent prefixes: an end and a start at the same key. */
	assert_nel(&l.v[0], 0x0a000000, 0);
	assert_true(l.v[0].timeout == 7 && l.v[0].src == &v[1]);
	assert_nel(&l.v[1], 0x0a000100, END);
	assert_true(l.v[1].timeout == 7 && l.v[1].src == &v[1]);
	assert_nel(&l.v[2], 0x0a000100, 0);
	assert_nel(&l.v[3], 0x0a000200, END);
	assert_nel(&l.v[4], 0x0a000201, 0);
	assert_nel(&l.v[5], 0x0a000202, END);
	assert_nel(&l.v[6], 0xffffff00u, 0);
	free(l.v);

	/* Nothing to do. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(nels_intervals(&l, AF_INET, v, 0, &a, &b), 0);
	assert_int_equal(l.n, 0);
}

static void
test_intervals_whole(void **state)
{
	struct nftset_elem		 v[2];
	const struct nftset_elem	*a = NULL, *b = NULL;
	struct nels			 l;

	(void)state;
	memset(&l, 0, sizeof(l));
	v[0] = elem("0.0.0.0/0", 0);
	assert_int_equal(nels_intervals(&l, AF_INET, v, 1, &a, &b), 0);
	assert_int_equal(l.n, 1);
	assert_nel(&l.v[0], 0, 0);
	l.n = 0;
	v[0] = elem("::/0", 0);
	assert_int_equal(nels_intervals(&l, AF_INET6, v, 1, &a, &b), 0);
	assert_int_equal(l.n, 1);
	assert_nel(&l.v[0], 0, 0);
	l.n = 0;
	v[0] = elem("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0);
	v[1] = elem("2001:db8::/32", 0);
	assert_int_equal(nels_intervals(&l, AF_INET6, v, 2, &a, &b), 0);
	assert_int_equal(l.n, 3);
	assert_nel(&l.v[0], V6(0x20010db800000000ULL, 0), 0);
	assert_nel(&l.v[1], V6(0x20010db900000000ULL, 0), END);
	assert_nel(&l.v[2], ~(u128)0, 0);
	free(l.v);
}

static void
test_intervals_overlap(void **state)
{
	struct nftset_elem		 v[3];
	const struct nftset_elem	*a = NULL, *b = NULL;
	struct nels			 l;

	(void)state;
	memset(&l, 0, sizeof(l));
	v[0] = elem("10.0.0.0/24", 0);
	v[1] = elem("192.0.2.0/24", 0);
	v[2] = elem("10.0.0.0/8", 0);
	errno = 0;
	assert_int_equal(nels_intervals(&l, AF_INET, v, 3, &a, &b), -1);
	assert_int_equal(errno, EEXIST);
	/* Same start: the shorter range sorts first. */
	assert_ptr_equal(a, &v[0]);
	assert_ptr_equal(b, &v[2]);
	assert_int_equal(l.n, 0);

	v[0] = elem("2001:db8::/48", 0);
	v[1] = elem("2001:db8:0:ff::/64", 0);
	a = b = NULL;
	assert_int_equal(nels_intervals(&l, AF_INET6, v, 2, &a, &b), -1);
	assert_int_equal(errno, EEXIST);
	assert_ptr_equal(a, &v[0]);
	assert_ptr_equal(b, &v[1]);

	v[0] = elem("::/0", 0);
	v[1] = elem("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0);
	assert_int_equal(nels_intervals(&l, AF_INET6, v, 2, &a, &b), -1);
	assert_ptr_equal(a, &v[0]);
	assert_ptr_equal(b, &v[1]);
	assert_int_equal(l.n, 0);
	free(l.v);
}

static void
test_dump_interval(void **state)
{
	/* As a kernel may return them: unordered, nft's end at 0. */
	struct rawel	v[] = {
		{ 0x0a000100, END, 0, 0 },
		{ 0xffffff00u, 0, 0, 0 },
		{ 0, END, 0, 0 },
		{ 0x0a000100, 0, 30, 20 },
		{ 0x0a000000, 0, 0, 0 },
		{ 0x0a000200, END, 0, 0 },
	};
	struct range	out[6];
	size_t		n;
	u128		bad;

	(void)state;
	assert_int_equal(ranges_from_dump(AF_INET, true, v, 6, out, &n,
	    &bad), 0);
	assert_int_equal(n, 3);
	assert_key(out[0].lo, 0x0a000000);
	assert_key(out[0].hi, 0x0a0000ff);
	assert_key(out[1].lo, 0x0a000100);
	assert_key(out[1].hi, 0x0a0001ff);
	assert_true(out[1].timeout == 30 && out[1].expires == 20);
	assert_false(out[1].used);
	/* The last start is open to the top. */
	assert_key(out[2].lo, 0xffffff00u);
	assert_key(out[2].hi, 0xffffffffu);

	assert_int_equal(ranges_from_dump(AF_INET, true, v, 0, out, &n,
	    &bad), 0);
	assert_int_equal(n, 0);
}

static void
test_dump_interval6(void **state)
{
	struct rawel	v[] = {
		{ 0, 0, 0, 0 },
	};
	struct range	out[1];
	size_t		n;
	u128		bad;

	(void)state;
	assert_int_equal(ranges_from_dump(AF_INET6, true, v, 1, out, &n,
	    &bad), 0);
	assert_int_equal(n, 1);
	assert_key(out[0].lo, 0);
	assert_key(out[0].hi, ~(u128)0);
}

static void
test_dump_no_end(void **state)
{
	struct rawel	v[] = {
		{ 0x0a000200, 0, 0, 0 },
		{ 0x0a000000, 0, 0, 0 },
		{ 0x0a000300, END, 0, 0 },
	};
	struct range	out[3];
	size_t		n = 99;
	u128		bad = 0;

	(void)state;
	errno = 0;
	assert_int_equal(ranges_from_dump(AF_INET, true, v, 3, out, &n,
	    &bad), -1);
	assert_int_equal(errno, EPROTO);
	assert_key(bad, 0x0a000000);
	assert_int_equal(n, 0);
}

static void
test_dump_addresses(void **state)
{
	struct rawel	v[] = {
		{ 2, 0, 0, 0 },
		{ ~(u128)0, 0, 60000, 1000 },
		{ 1, END, 0, 0 },
		{ 1, 0, 0, 0 },
	};
	struct range	out[4];
	size_t		n;
	u128		bad;

	(void)state;
	assert_int_equal(ranges_from_dump(AF_INET6, false, v, 4, out, &n,
	    &bad), 0);
	assert_int_equal(n, 3);
	assert_key(out[0].lo, 1);
	assert_key(out[0].hi, 1);
	assert_key(out[1].lo, 2);
	assert_key(out[2].lo, ~(u128)0);
	assert_key(out[2].hi, ~(u128)0);
	assert_true(out[2].timeout == 60000 && out[2].expires == 1000);
}

static void
test_range_find(void **state)
{
	struct range	v[4];
	size_t		i;

	(void)state;
	memset(v, 0, sizeof(v));
	for (i = 0; i < 4; i++)
		v[i].lo = v[i].hi = (u128)i * 10;
	assert_ptr_equal(range_find(v, 4, 0), &v[0]);
	assert_ptr_equal(range_find(v, 4, 20), &v[2]);
	assert_ptr_equal(range_find(v, 4, 30), &v[3]);
	assert_null(range_find(v, 4, 5));
	assert_null(range_find(v, 4, 31));
	assert_null(range_find(v, 0, 0));
}

/* The prefixes range_prefixes gives for [lo, hi], as "p p p". */
static void
assert_prefixes(int family, u128 lo, u128 hi, const char *want)
{
	struct range	r;
	struct elems	l;
	char		got[1024], buf[ADDR_STRLEN];
	size_t		i, off = 0;

	memset(&r, 0, sizeof(r));
	memset(&l, 0, sizeof(l));
	r.lo = lo;
	r.hi = hi;
	r.timeout = 9;
	assert_int_equal(range_prefixes(family, &r, &l), 0);
	got[0] = '\0';
	for (i = 0; i < l.n; i++) {
		assert_true(l.v[i].timeout_ms == 9);
		prefix_format(&l.v[i].pfx, buf, sizeof(buf));
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
		    i > 0 ? " " : "", buf);
	}
	assert_string_equal(got, want);
	free(l.v);
}

static void
test_range_prefixes(void **state)
{
	(void)state;
	assert_prefixes(AF_INET, 0x0a010000, 0x0a0100ff, "10.1.0.0/24");
	/* A range nft added by hand. */
	assert_prefixes(AF_INET, 0x0a010000, 0x0a010005,
	    "10.1.0.0/30 10.1.0.4/31");
	assert_prefixes(AF_INET, 0x0a010001, 0x0a010006,
	    "10.1.0.1/32 10.1.0.2/31 10.1.0.4/31 10.1.0.6/32");
	assert_prefixes(AF_INET, 0, 0xffffffffu, "0.0.0.0/0");
	assert_prefixes(AF_INET, 1, 0xffffffffu,
	    "0.0.0.1/32 0.0.0.2/31 0.0.0.4/30 0.0.0.8/29 0.0.0.16/28 "
	    "0.0.0.32/27 0.0.0.64/26 0.0.0.128/25 0.0.1.0/24 0.0.2.0/23 "
	    "0.0.4.0/22 0.0.8.0/21 0.0.16.0/20 0.0.32.0/19 0.0.64.0/18 "
	    "0.0.128.0/17 0.1.0.0/16 0.2.0.0/15 0.4.0.0/14 0.8.0.0/13 "
	    "0.16.0.0/12 0.32.0.0/11 0.64.0.0/10 0.128.0.0/9 1.0.0.0/8 "
	    "2.0.0.0/7 4.0.0.0/6 8.0.0.0/5 16.0.0.0/4 32.0.0.0/3 "
	    "64.0.0.0/2 128.0.0.0/1");
	assert_prefixes(AF_INET, 0xffffffffu, 0xffffffffu,
	    "255.255.255.255/32");
	assert_prefixes(AF_INET, 0xfffffffeu, 0xffffffffu,
	    "255.255.255.254/31");
	assert_prefixes(AF_INET6, 0, ~(u128)0, "::/0");
	assert_prefixes(AF_INET6, ~(u128)0, ~(u128)0,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_prefixes(AF_INET6, (u128)1 << 127, ~(u128)0, "8000::/1");
	assert_prefixes(AF_INET6, 0, ~(u128)0 >> 1, "::/1");
	assert_prefixes(AF_INET6, V6(0x20010db800000000ULL, 0),
	    V6(0x20010db800000000ULL, 2), "2001:db8::/127 2001:db8::2/128");
}

/* Every prefix length comes back as itself, at the low and top ends. */
static void
test_round_trip(void **state)
{
	const char	*base[] = { "0.0.0.0", "255.255.255.255", "::",
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	struct nftset_elem	e;
	struct range		r;
	struct elems		l;
	char			text[ADDR_STRLEN + 8];
	size_t			i;
	unsigned		len, bits;
	int			family;

	(void)state;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		family = family_of(base[i]);
		bits = key_bits(family);
		for (len = 0; len <= bits; len++) {
			snprintf(text, sizeof(text), "%s/%u", base[i], len);
			memset(&e, 0, sizeof(e));
			assert_int_equal(prefix_parse(text, &e.pfx, true,
			    NULL), 0);
			memset(&r, 0, sizeof(r));
			memset(&l, 0, sizeof(l));
			key_range(family, &e.pfx, &r.lo, &r.hi);
			assert_int_equal(range_prefixes(family, &r, &l), 0);
			assert_int_equal(l.n, 1);
			assert_int_equal(l.v[0].pfx.len, len);
			assert_true(addr_eq(&l.v[0].pfx.addr, &e.pfx.addr));
			free(l.v);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_range),
		cmocka_unit_test(test_nels_interval),
		cmocka_unit_test(test_intervals_sorted),
		cmocka_unit_test(test_intervals_whole),
		cmocka_unit_test(test_intervals_overlap),
		cmocka_unit_test(test_dump_interval),
		cmocka_unit_test(test_dump_interval6),
		cmocka_unit_test(test_dump_no_end),
		cmocka_unit_test(test_dump_addresses),
		cmocka_unit_test(test_range_find),
		cmocka_unit_test(test_range_prefixes),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
