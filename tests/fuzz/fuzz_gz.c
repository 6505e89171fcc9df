/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for the gzip-or-plain decoder in src/lib/gz.c.
 *
 * The first input byte picks the chunk sizes; the rest is the input.
 * Whatever it is, decoding never crashes or passes max; an error sticks;
 * plain input comes out unchanged; and feeding it all at once gives the
 * same outcome as feeding it in chunks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gz.h"
#include "fuzz.h"

#define FUZZ_MAX	(1024 * 1024)

struct outcome {
	int	 rv;
	char	 err[256];
	char	*data;
	size_t	 len;
	bool	 gzip;
};

/* Errors of one kind start alike: "gzip data corrupt", "more than". */
static bool
same_kind(const char *a, const char *b)
{
	return strncmp(a, b, 9) == 0;
}

/*
 * Decode p[0..n) in chunks: 0 means all at once, else sizes come from a
 * small generator seeded with pick.
 */
static void
decode(const uint8_t *p, size_t n, unsigned pick, struct outcome *o)
{
	struct gz	*g;
	char		 again[256];
	const char	*d;
	size_t		 off = 0, k, len;
	unsigned	 seed = pick, span = (pick & 0x3f) + 1;

	CHECK((g = gz_new(FUZZ_MAX)) != NULL);
	o->rv = 0;
	o->err[0] = '\0';
	while (off < n && o->rv == 0) {
		if (pick == 0)
			k = n;
		else {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 16) % span;
		}
		if (k > n - off)
			k = n - off;
		o->rv = gz_feed(g, p + off, k, o->err, sizeof(o->err));
		off += k;
		CHECK(gz_in_bytes(g) == off);
		d = gz_data(g, &len);
		CHECK(len <= FUZZ_MAX && d[len] == '\0');
	}
	if (o->rv == 0)
		o->rv = gz_finish(g, o->err, sizeof(o->err));
	if (o->rv == -1) {
		CHECK(o->err[0] != '\0');
		CHECK(gz_feed(g, p, n, again, sizeof(again)) == -1);
		CHECK(strcmp(again, o->err) == 0);
		CHECK(gz_finish(g, again, sizeof(again)) == -1);
		CHECK(strcmp(again, o->err) == 0);
	}
	o->gzip = gz_compressed(g);
	CHECK((o->data = gz_take(g, &o->len)) != NULL);
	CHECK(o->len <= FUZZ_MAX && o->data[o->len] == '\0');
	d = gz_data(g, &len);
	CHECK(len == 0 && *d == '\0');
	gz_free(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome	 chunked, whole;
	const uint8_t	*p;
	size_t		 n;
	bool		 magic;

	if (size == 0)
		return 0;
	p = data + 1;
	n = size - 1;
	magic = n >= 2 && p[0] == 0x1f && p[1] == 0x8b;

	decode(p, n, data[0], &chunked);
	CHECK(chunked.gzip == magic);
	if (!magic && n <= FUZZ_MAX) {
		CHECK(chunked.rv == 0);
		CHECK(chunked.len == n);
		CHECK(n == 0 || memcmp(chunked.data, p, n) == 0);
	}

	decode(p, n, 0, &whole);
	CHECK(whole.rv == chunked.rv && whole.gzip == chunked.gzip);
	if (whole.rv == 0) {
		CHECK(whole.len == chunked.len);
		CHECK(memcmp(whole.data, chunked.data, whole.len) == 0);
	} else
		CHECK(same_kind(whole.err, chunked.err));
	free(chunked.data);
	free(whole.data);
	return 0;
}
