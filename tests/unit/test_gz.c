/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * Unit tests for src/lib/gz.c: plain passthrough, gzip members fed in
 * any chunk sizes, trailing garbage, truncated and corrupt streams, and
 * the max bound.  Gzip data is made here with zlib's deflate.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "gz.h"

#define BIG	(1024 * 1024)

static const char	list1[] = "# a list\n192.0.2.0/24\n198.51.100.7\n";
static const char	list2[] = "2001:db8::/32\n203.0.113.1-203.0.113.9\n";

/* Gzip n bytes of p into a malloc'd buffer. */
static unsigned char *
gzip_make(const void *p, size_t n, size_t *outlen)
{
	z_stream	 zs;
	unsigned char	*out;
	size_t		 cap;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED,
	    15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, n) + 64;
	out = malloc(cap);
	assert_non_null(out);
	zs.next_in = (unsigned char *)(uintptr_t)p;
	zs.avail_in = n;
	zs.next_out = out;
	zs.avail_out = cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* Gzip a string. */
static unsigned char *
gzip_str(const char *s, size_t *outlen)
{
	return gzip_make(s, strlen(s), outlen);
}

/* a then b, malloc'd. */
static unsigned char *
cat2(const void *a, size_t na, const void *b, size_t nb, size_t *outlen)
{
	unsigned char	*s;

	s = malloc(na + nb + 1);
	assert_non_null(s);
	if (na > 0)
		memcpy(s, a, na);
	if (nb > 0)
		memcpy(s + na, b, nb);
	*outlen = na + nb;
	return s;
}

/*
 * Decode p[0..n) fed in chunks of chunk bytes (0: all at once) with the
 * given max.  Returns 0 or -1 as feed/finish did; the gz is left in *gp.
 */
static int
decode(const void *p, size_t n, size_t chunk, size_t max, struct gz **gp,
    char *err, size_t errlen)
{
	const unsigned char	*s = p;
	struct gz		*g;
	size_t			 off, k;

	g = gz_new(max);
	assert_non_null(g);
	*gp = g;
	err[0] = '\0';
	if (chunk == 0)
		chunk = n > 0 ? n : 1;
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		if (gz_feed(g, s + off, k, err, errlen) == -1) {
			assert_true(err[0] != '\0');
			return -1;
		}
	}
	assert_int_equal(gz_in_bytes(g), n);
	if (gz_finish(g, err, errlen) == -1) {
		assert_true(err[0] != '\0');
		return -1;
	}
	return 0;
}

/* Decoding gives want exactly, with every chunk size given. */
static void
check_decode(const void *p, size_t n, const void *want, size_t wantlen,
    bool gzip)
{
	static const size_t	 chunks[] = { 0, 1, 2, 3, 7, 64, 4096 };
	struct gz		*g;
	const char		*d;
	char			 err[256];
	size_t			 i, len;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		if (decode(p, n, chunks[i], BIG, &g, err, sizeof(err)) == -1)
			fail_msg("chunk %zu: %s", chunks[i], err);
		d = gz_data(g, &len);
		assert_int_equal(len, wantlen);
		assert_memory_equal(d, want, wantlen);
		assert_int_equal(d[len], '\0');
		assert_int_equal(gz_compressed(g), gzip);
		gz_free(g);
	}
}

/* Decoding fails, with a reason containing what. */
static void
check_fails(const void *p, size_t n, size_t chunk, size_t max,
    const char *what)
{
	struct gz	*g;
	char		 err[256];

	if (decode(p, n, chunk, max, &g, err, sizeof(err)) == 0)
		fail_msg("chunk %zu max %zu: no error, want \"%s\"", chunk,
		    max, what);
	if (strstr(err, what) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err, what);
	gz_free(g);
}

static void
test_plain(void **state)
{
	static const char	bin[] = { 0x00, 0x1f, 0x1f, 0x8b, 0x8b, 0x1f };

	(void)state;
	check_decode(list1, strlen(list1), list1, strlen(list1), false);
	check_decode("x", 1, "x", 1, false);
	check_decode("\x1f\x1f\x8b", 3, "\x1f\x1f\x8b", 3, false);
	check_decode("\x8b\x1f", 2, "\x8b\x1f", 2, false);
	check_decode(bin, sizeof(bin), bin, sizeof(bin), false);
}

static void
test_gzip_one(void **state)
{
	unsigned char	*z;
	size_t		 zn;

	(void)state;
	z = gzip_str(list1, &zn);
	check_decode(z, zn, list1, strlen(list1), true);
	free(z);
	/* An empty member decodes to nothing. */
	z = gzip_str("", &zn);
	check_decode(z, zn, "", 0, true);
	free(z);
}

/* Feeding one byte at a time, checking what is known when. */
static void
test_byte_at_a_time(void **state)
{
	struct gz	*g;
	unsigned char	*z;
	size_t		 zn, i, len;
	char		 err[256];

	(void)state;
	z = gzip_str(list2, &zn);
	g = gz_new(BIG);
	assert_non_null(g);
	assert_int_equal(gz_feed(g, z, 1, err, sizeof(err)), 0);
	assert_false(gz_compressed(g));
	assert_int_equal(gz_in_bytes(g), 1);
	for (i = 1; i < zn; i++) {
		assert_int_equal(gz_feed(g, z + i, 1, err, sizeof(err)), 0);
		assert_true(gz_compressed(g));
	}
	assert_int_equal(gz_finish(g, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, &len), list2);
	assert_int_equal(len, strlen(list2));
	assert_int_equal(gz_in_bytes(g), zn);
	gz_free(g);
	free(z);

	g = gz_new(BIG);
	assert_non_null(g);
	for (i = 0; list2[i] != '\0'; i++)
		assert_int_equal(gz_feed(g, list2 + i, 1, err, sizeof(err)),
		    0);
	assert_int_equal(gz_finish(g, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, NULL), list2);
	assert_false(gz_compressed(g));
	gz_free(g);
}

static void
test_concat(void **state)
{
	unsigned char	*a, *b, *e, *ab, *ae, *x;
	size_t		 na, nb, ne, nab, nae, nx;
	char		 want[sizeof(list1) + sizeof(list2)];

	(void)state;
	a = gzip_str(list1, &na);
	b = gzip_str(list2, &nb);
	e = gzip_str("", &ne);
	snprintf(want, sizeof(want), "%s%s", list1, list2);
	ab = cat2(a, na, b, nb, &nab);
	check_decode(ab, nab, want, strlen(want), true);
	/* Empty members between and after change nothing. */
	x = cat2(ab, nab, e, ne, &nx);
	check_decode(x, nx, want, strlen(want), true);
	free(x);
	ae = cat2(a, na, e, ne, &nae);
	x = cat2(ae, nae, b, nb, &nx);
	check_decode(x, nx, want, strlen(want), true);
	free(x);
	/* The same member twice. */
	x = cat2(a, na, a, na, &nx);
	snprintf(want, sizeof(want), "%s%s", list1, list1);
	check_decode(x, nx, want, strlen(want), true);
	free(x);
	free(a);
	free(b);
	free(e);
	free(ab);
	free(ae);
}

/* After a complete member, bytes that are not a member are ignored. */
static void
test_trailing_garbage(void **state)
{
	static const struct {
		const char	*tail;
		size_t		 n;
	} tails[] = {
		{ "garbage\n", 8 },
		{ "\x1f", 1 },
		{ "\x1f\x41more", 6 },
		{ "\x1f\x1f\x8b", 3 },
		{ "\0\0\0\0\0\0\0\0", 8 },
	};
	unsigned char	*z, *zt;
	size_t		 zn, ztn, i;

	(void)state;
	z = gzip_str(list1, &zn);
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		zt = cat2(z, zn, tails[i].tail, tails[i].n, &ztn);
		check_decode(zt, ztn, list1, strlen(list1), true);
		free(zt);
	}
	/* The magic after a member starts one, so it must be whole. */
	zt = cat2(z, zn, "\x1f\x8b", 2, &ztn);
	check_fails(zt, ztn, 0, BIG, "gzip data truncated");
	check_fails(zt, ztn, 1, BIG, "gzip data truncated");
	free(zt);
	zt = cat2(z, zn, "\x1f\x8bgarbage!", 10, &ztn);
	check_fails(zt, ztn, 0, BIG, "gzip data corrupt at input byte");
	free(zt);
	free(z);
}

static void
test_truncated(void **state)
{
	unsigned char	*z;
	size_t		 zn, n;

	(void)state;
	z = gzip_str(list1, &zn);
	for (n = 2; n < zn; n++) {
		check_fails(z, n, 0, BIG, "gzip data truncated");
		check_fails(z, n, 1, BIG, "gzip data truncated");
	}
	free(z);
}

/* Corrupt input fails on feed or on finish, whatever the chunking. */
static void
check_corrupt(const unsigned char *p, size_t n)
{
	struct gz	*g;
	char		 err[256];
	size_t		 chunk;

	for (chunk = 0; chunk <= 3; chunk++) {
		if (decode(p, n, chunk, BIG, &g, err, sizeof(err)) == 0)
			fail_msg("chunk %zu: corrupt data accepted", chunk);
		if (strstr(err, "gzip data corrupt at input byte") == NULL &&
		    strcmp(err, "gzip data truncated") != 0)
			fail_msg("chunk %zu: odd reason \"%s\"", chunk, err);
		gz_free(g);
	}
}

static void
test_corrupt(void **state)
{
	unsigned char	*z;
	size_t		 zn, i;
	char		 want[64];

	(void)state;
	z = gzip_str(list1, &zn);
	/* Every flipped byte of the deflate body and trailer is caught. */
	for (i = 10; i < zn; i++) {
		z[i] ^= 0x55;
		check_corrupt(z, zn);
		z[i] ^= 0x55;
	}
	/* A bad CRC is found once its 4 bytes are in. */
	z[zn - 8] ^= 1;
	snprintf(want, sizeof(want), "gzip data corrupt at input byte %zu: ",
	    zn - 4);
	check_fails(z, zn, 0, BIG, want);
	check_fails(z, zn, 0, BIG, "incorrect data check");
	check_fails(z, zn, 1, BIG, "incorrect data check");
	z[zn - 8] ^= 1;
	z[zn - 1] ^= 1;
	check_fails(z, zn, 0, BIG, "incorrect length check");
	z[zn - 1] ^= 1;
	/* A bad method in the header. */
	z[2] = 7;
	check_fails(z, zn, 0, BIG, "unknown compression method");
	free(z);
}

static void
test_max_plain(void **state)
{
	struct gz	*g;
	char		 err[256];
	size_t		 n = strlen(list1), len;

	(void)state;
	assert_int_equal(decode(list1, n, 0, n, &g, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, &len), list1);
	gz_free(g);
	assert_int_equal(decode(list1, n, 1, n, &g, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, &len), list1);
	gz_free(g);
	snprintf(err, sizeof(err), "more than %zu bytes", n - 1);
	check_fails(list1, n, 0, n - 1, err);
	check_fails(list1, n, 1, n - 1, err);
	check_fails(list1, n, 5, n - 1, err);
	/* max 0: only empty input. */
	assert_int_equal(decode("", 0, 0, 0, &g, err, sizeof(err)), 0);
	gz_free(g);
	check_fails("x", 1, 0, 0, "more than 0 bytes");
	check_fails("\x1f", 1, 0, 0, "more than 0 bytes");
}

static void
test_max_gzip(void **state)
{
	struct gz	*g;
	unsigned char	*z;
	char		 err[256], want[64];
	size_t		 zn, n = strlen(list1), chunk, len;

	(void)state;
	z = gzip_str(list1, &zn);
	snprintf(want, sizeof(want), "more than %zu bytes after decompression",
	    n - 1);
	for (chunk = 0; chunk <= 3; chunk++) {
		assert_int_equal(decode(z, zn, chunk, n, &g, err, sizeof(err)),
		    0);
		assert_string_equal(gz_data(g, &len), list1);
		gz_free(g);
		check_fails(z, zn, chunk, n - 1, want);
	}
	check_fails(z, zn, 0, 0, "more than 0 bytes after decompression");
	free(z);
}

/* 10 MB of zeros in a few KB stops at max, and so does the memory. */
static void
test_bomb(void **state)
{
	struct gz	*g;
	unsigned char	*zeros, *z;
	const char	*d;
	char		 err[256];
	size_t		 zn, len, chunk;

	(void)state;
	zeros = calloc(1, 10 * BIG);
	assert_non_null(zeros);
	z = gzip_make(zeros, 10 * BIG, &zn);
	free(zeros);
	assert_true(zn < 64 * 1024);
	for (chunk = 0; chunk <= 1; chunk++) {
		assert_int_equal(decode(z, zn, chunk, BIG, &g, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "more than 1048576 bytes after "
		    "decompression");
		d = gz_data(g, &len);
		assert_int_equal(len, BIG);
		assert_true(malloc_usable_size((void *)(uintptr_t)d) <=
		    BIG + 1 + 4096);
		gz_free(g);
	}
	/* The same with max exactly the size is fine. */
	assert_int_equal(decode(z, zn, 0, 10 * BIG, &g, err, sizeof(err)), 0);
	gz_data(g, &len);
	assert_int_equal(len, 10 * BIG);
	gz_free(g);
	free(z);
}

static void
test_lone_magic(void **state)
{
	struct gz	*g;
	char		 err[256];
	size_t		 len;

	(void)state;
	check_decode("\x1f", 1, "\x1f", 1, false);
	g = gz_new(BIG);
	assert_non_null(g);
	assert_int_equal(gz_feed(g, "\x1f", 1, err, sizeof(err)), 0);
	gz_data(g, &len);
	assert_int_equal(len, 0);	/* still held */
	assert_int_equal(gz_finish(g, err, sizeof(err)), 0);
	assert_memory_equal(gz_data(g, &len), "\x1f", 2);
	assert_int_equal(len, 1);
	assert_false(gz_compressed(g));
	gz_free(g);
}

static void
test_empty(void **state)
{
	struct gz	*g;
	char		 err[256];
	size_t		 len = 99;

	(void)state;
	g = gz_new(BIG);
	assert_non_null(g);
	assert_int_equal(gz_feed(g, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(gz_finish(g, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, &len), "");
	assert_int_equal(len, 0);
	assert_false(gz_compressed(g));
	assert_int_equal(gz_in_bytes(g), 0);
	/* Finishing twice is harmless; feeding after is not accepted. */
	assert_int_equal(gz_finish(g, err, sizeof(err)), 0);
	assert_int_equal(gz_feed(g, "x", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "input after the end");
	gz_free(g);
	gz_free(NULL);
}

static void
test_take(void **state)
{
	struct gz	*g;
	unsigned char	*z;
	char		 err[256], *s;
	size_t		 zn, len;

	(void)state;
	z = gzip_str(list1, &zn);
	assert_int_equal(decode(z, zn, 0, BIG, &g, err, sizeof(err)), 0);
	s = gz_take(g, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(list1));
	assert_string_equal(s, list1);
	free(s);
	assert_string_equal(gz_data(g, &len), "");
	assert_int_equal(len, 0);
	s = gz_take(g, &len);
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	assert_true(gz_compressed(g));
	gz_free(g);
	free(z);

	/* Taking part way: later bytes land in a new buffer; max counts all. */
	g = gz_new(10);
	assert_non_null(g);
	assert_int_equal(gz_feed(g, "abcdef", 6, err, sizeof(err)), 0);
	s = gz_take(g, &len);
	assert_string_equal(s, "abcdef");
	free(s);
	assert_int_equal(gz_feed(g, "ghij", 4, err, sizeof(err)), 0);
	assert_string_equal(gz_data(g, &len), "ghij");
	assert_int_equal(gz_feed(g, "k", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 10 bytes");
	gz_free(g);
}

/* After an error, every call fails the same way; the data stays. */
static void
test_sticky(void **state)
{
	struct gz	*g;
	unsigned char	*z;
	char		 err[256], first[256];
	size_t		 zn, len;

	(void)state;
	z = gzip_str(list1, &zn);
	z[zn - 8] ^= 1;
	assert_int_equal(decode(z, zn, 0, BIG, &g, first, sizeof(first)),
	    -1);
	assert_int_equal(gz_feed(g, "x", 1, err, sizeof(err)), -1);
	assert_string_equal(err, first);
	assert_int_equal(gz_feed(g, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(err, first);
	assert_int_equal(gz_finish(g, err, sizeof(err)), -1);
	assert_string_equal(err, first);
	assert_int_equal(gz_finish(g, NULL, 0), -1);
	assert_string_equal(gz_data(g, &len), list1);
	gz_free(g);
	free(z);

	/* The truncation error sticks too; a short err is cut, not overrun. */
	z = gzip_str(list1, &zn);
	assert_int_equal(decode(z, zn - 1, 0, BIG, &g, first, sizeof(first)),
	    -1);
	assert_string_equal(first, "gzip data truncated");
	assert_int_equal(gz_feed(g, z + zn - 1, 1, err, 5), -1);
	assert_string_equal(err, "gzip");
	assert_int_equal(gz_finish(g, err, sizeof(err)), -1);
	assert_string_equal(err, first);
	gz_free(g);
	free(z);
}

/* Random members, garbage and chunk sizes against a simple model. */
static void
test_random(void **state)
{
	struct gz	*g;
	unsigned char	*in, *z, *t;
	char		*want, err[256], text[200];
	size_t		 inlen, wantlen, zn, off, k, len, round, m, i, tn;

	(void)state;
	srandom(7);
	for (round = 0; round < 300; round++) {
		in = NULL;
		inlen = 0;
		want = calloc(1, 1);
		wantlen = 0;
		for (m = 0; m < (size_t)(random() % 5) + 1; m++) {
			tn = (size_t)(random() % sizeof(text));
			for (i = 0; i < tn; i++)
				text[i] = (char)(random() % 4 == 0 ? '\n' :
				    'a' + random() % 26);
			z = gzip_make(text, tn, &zn);
			t = cat2(in, inlen, z, zn, &inlen);
			free(in);
			free(z);
			in = t;
			want = realloc(want, wantlen + tn + 1);
			assert_non_null(want);
			memcpy(want + wantlen, text, tn);
			wantlen += tn;
		}
		if (random() % 2) {
			t = cat2(in, inlen, "junk\x1f\x8b", 6, &inlen);
			free(in);
			in = t;
		}
		g = gz_new(BIG);
		assert_non_null(g);
		for (off = 0; off < inlen; off += k) {
			k = (size_t)(random() % 50);
			if (k > inlen - off)
				k = inlen - off;
			if (gz_feed(g, in + off, k, err, sizeof(err)) == -1)
				fail_msg("round %zu: %s", round, err);
		}
		if (gz_finish(g, err, sizeof(err)) == -1)
			fail_msg("round %zu: %s", round, err);
		gz_data(g, &len);
		assert_int_equal(len, wantlen);
		assert_memory_equal(gz_data(g, NULL), want, wantlen);
		gz_free(g);
		free(in);
		free(want);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_gzip_one),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_max_plain),
		cmocka_unit_test(test_max_gzip),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_lone_magic),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
