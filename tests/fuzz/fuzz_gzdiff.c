/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Differential libFuzzer harness for src/lib/gz.c against zlib itself.
 *
 * gz.h promises zlib's gzread(3) behaviour: gzip told from plain by its
 * two magic bytes, members one after another, trailing garbage after a
 * member ignored.  So zlib is the reference twice over:
 *
 *  - the data is compressed with zlib's deflate into one to four gzip
 *    members (level, strategy, window, memory level, and header name,
 *    comment, extra field and header CRC all chosen by the input, and
 *    trailing garbage after the last member); gz.c, fed the result in
 *    chunks of random sizes, must give back exactly the data, or refuse
 *    with "more than N bytes" when the data is longer than max;
 *  - the same stream, damaged (a byte changed, or cut short), or the raw
 *    input itself, goes through gz.c and through gzread() on a memory
 *    file: both must accept or both refuse, with the same bytes when they
 *    accept, and a refusal of the same kind (corrupt: zlib's own message;
 *    truncated: gzread's "unexpected end of file").
 *
 * Input: byte 0: bits 0-1 the mode (0 compressed, 1 compressed and a
 * byte changed, 2 raw, 3 compressed and cut), bits 2-4 the limit max,
 * bits 5-7 the chunk sizes; byte 1: level and strategy; byte 2: members
 * (bits 0-1), header name, comment, extra and CRC (bits 2-5), trailing
 * garbage (bit 6), small window (bit 7); byte 3: the chunk size seed and
 * the place of the damage; byte 4: the changed byte.  The rest is data.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "fuzz.h"
#include "gz.h"

#define HEAD		5
#define FUZZ_MAX	(1024 * 1024)

enum { M_CLEAN, M_CHANGED, M_RAW, M_CUT };

/* What a decoder made of the input. */
struct result {
	bool	 ok;
	bool	 over;		/* more than max bytes */
	int	 kind;		/* refused: Z_DATA_ERROR or Z_BUF_ERROR */
	char	 msg[256];	/* zlib's message, for Z_DATA_ERROR */
	char	*data;
	size_t	 len;
};

static uint32_t
next(uint32_t *s)
{
	/* xorshift32; the seed is never 0 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * A deflate stream for each window and memory level, made once: making
 * one per input (hundreds of kilobytes, mapped and unmapped under the
 * sanitizer) was most of the harness's time.  deflateReset puts one
 * back to its start; the level and strategy are set again after it.
 */
static z_stream *
deflater(int wbits, int memlevel)
{
	static z_stream	*cache[2][10];
	z_stream	**zs = &cache[wbits == 9 ? 0 : 1][memlevel];

	if (*zs == NULL) {
		CHECK((*zs = calloc(1, sizeof(**zs))) != NULL);
		CHECK(deflateInit2(*zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
		    wbits + 16, memlevel, Z_DEFAULT_STRATEGY) == Z_OK);
	} else
		CHECK(deflateReset(*zs) == Z_OK);
	return *zs;
}

/* Deflate d[0..n) as one gzip member onto out. */
static void
member(const uint8_t *d, size_t n, const uint8_t *h, struct buf *out)
{
	static const int	 strategies[5] = { Z_DEFAULT_STRATEGY,
	    Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED };
	static char		 name[] = "list.txt", comment[] = "fuzz";
	static uint8_t		 extra[] = { 'N', 'f', 4, 0, 1, 2, 3, 4 };
	static gz_header	 hdr;	/* the stream keeps a pointer to it */
	z_stream		*zs;
	uint8_t			 tmp[4096];
	int			 rv;

	zs = deflater((h[2] & 0x80) ? 9 : 15, 1 + h[1] % 9);
	CHECK(deflateParams(zs, h[1] % 10, strategies[(h[1] / 10) % 5]) ==
	    Z_OK);
	memset(&hdr, 0, sizeof(hdr));
	hdr.os = 3;
	hdr.time = 1700000000;
	if (h[2] & 0x04)
		hdr.name = (Bytef *)name;
	if (h[2] & 0x08)
		hdr.comment = (Bytef *)comment;
	if (h[2] & 0x10) {
		hdr.extra = extra;
		hdr.extra_len = sizeof(extra);
	}
	hdr.hcrc = (h[2] & 0x20) != 0;
	CHECK(deflateSetHeader(zs, &hdr) == Z_OK);
	zs->next_in = (Bytef *)(uintptr_t)d;
	zs->avail_in = (uInt)n;
	do {
		zs->next_out = tmp;
		zs->avail_out = sizeof(tmp);
		rv = deflate(zs, Z_FINISH);
		CHECK(rv == Z_OK || rv == Z_STREAM_END || rv == Z_BUF_ERROR);
		CHECK(buf_append(out, tmp, sizeof(tmp) - zs->avail_out) == 0);
	} while (rv != Z_STREAM_END);
}

static size_t
pick_max(unsigned k, size_t n)
{
	static const size_t	fixed[5] = { FUZZ_MAX, 0, 1, 64, 4096 };

	if (k < 5)
		return fixed[k];
	if (k == 5)
		return n;
	if (k == 6)
		return n > 0 ? n - 1 : 0;
	return n + 1;
}

/* gz.c, fed in chunks: 1 to span bytes, or all at once (span 0). */
static void
run_gz(const uint8_t *p, size_t n, size_t max, unsigned span, uint32_t seed,
    struct result *r)
{
	struct gz	*g;
	char		 err[256];
	const char	*m;
	size_t		 off = 0, k;
	int		 rv = 0;

	CHECK((g = gz_new(max)) != NULL);
	while (off < n && rv == 0) {
		k = span == 0 ? n - off : 1 + next(&seed) % span;
		if (k > n - off)
			k = n - off;
		rv = gz_feed(g, p + off, k, err, sizeof(err));
		off += k;
	}
	if (rv == 0)
		rv = gz_finish(g, err, sizeof(err));
	memset(r, 0, sizeof(*r));
	r->ok = rv == 0;
	if (!r->ok) {
		if (strncmp(err, "more than ", 10) == 0)
			r->over = true;
		else if (strncmp(err, "gzip data corrupt at input byte ",
		    32) == 0) {
			r->kind = Z_DATA_ERROR;
			CHECK((m = strstr(err, ": ")) != NULL);
			snprintf(r->msg, sizeof(r->msg), "%s", m + 2);
		} else if (strcmp(err, "gzip data truncated") == 0)
			r->kind = Z_BUF_ERROR;
		else {
			fprintf(stderr, "gz: unexpected error \"%s\"\n", err);
			abort();
		}
	}
	CHECK((r->data = gz_take(g, &r->len)) != NULL);
	CHECK(r->len <= max);
	gz_free(g);
}

/* zlib's gzread on a memory file, read until max is passed. */
static void
run_zlib(const uint8_t *p, size_t n, size_t max, struct result *r)
{
	static int	 fd = -1;
	gzFile		 z;
	const char	*m;
	size_t		 cap = 4096;
	int		 got, errnum;

	if (fd == -1)
		CHECK((fd = memfd_create("fuzz_gzdiff", 0)) != -1);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, p, n, 0) == (ssize_t)n);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK((z = gzdopen(dup(fd), "rb")) != NULL);
	memset(r, 0, sizeof(*r));
	CHECK((r->data = malloc(cap)) != NULL);
	for (;;) {
		if (r->len == cap) {
			cap *= 2;
			CHECK((r->data = realloc(r->data, cap)) != NULL);
		}
		got = gzread(z, r->data + r->len, (unsigned)(cap - r->len));
		if (got <= 0)
			break;
		r->len += (size_t)got;
		if (r->len > max) {
			r->over = true;
			break;
		}
	}
	m = gzerror(z, &errnum);
	if (!r->over && errnum != Z_OK) {
		CHECK(errnum == Z_DATA_ERROR || errnum == Z_BUF_ERROR);
		r->kind = errnum;
		if ((m = strstr(m, ": ")) != NULL)
			snprintf(r->msg, sizeof(r->msg), "%s", m + 2);
	}
	r->ok = !r->over && errnum == Z_OK;
	gzclose_r(z);
}

/* Both accept with the same bytes, or both refuse for the same reason. */
static void
compare(const struct result *gz, const struct result *ref)
{
	if (gz->ok != ref->ok) {
		fprintf(stderr, "gz.c %s, gzread %s (kind %d \"%s\")\n",
		    gz->ok ? "accepts" : "refuses",
		    ref->ok ? "accepts" : "refuses", ref->kind, ref->msg);
		abort();
	}
	if (gz->ok) {
		CHECK(gz->len == ref->len);
		CHECK(gz->len == 0 || memcmp(gz->data, ref->data, gz->len) ==
		    0);
		return;
	}
	/* Past max before any error, in stream order: gz.c says so. */
	if (ref->over)
		CHECK(gz->over);
	/* gzread may stop at an error in the read that would pass max. */
	if (gz->over) {
		CHECK(ref->over || ref->kind != 0);
		return;
	}
	CHECK(gz->kind == ref->kind);
	if (gz->kind == Z_DATA_ERROR && strcmp(gz->msg, ref->msg) != 0) {
		fprintf(stderr, "gz.c \"%s\", gzread \"%s\"\n", gz->msg,
		    ref->msg);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 z = { 0 };
	struct result	 a, b;
	const uint8_t	*h = data, *d, *in;
	size_t		 n, nin, max, cut[3], i, k, nm;
	unsigned	 mode, span;
	uint32_t	 seed;

	if (size < HEAD)
		return 0;
	d = data + HEAD;
	n = size - HEAD;
	mode = h[0] & 3;
	max = pick_max((h[0] >> 2) & 7, n);
	span = (h[0] >> 5) == 7 ? 0 : 1u << (h[0] >> 5);
	seed = 0x9e3779b9u ^ h[3] ^ (uint32_t)h[4] << 8;

	if (mode == M_RAW) {
		in = d;
		nin = n;
	} else {
		/* Members over d cut at points of a walk seeded by byte 3. */
		nm = 1 + (h[2] & 3);
		for (i = 0, k = 0; i + 1 < nm; i++) {
			k += n > 0 ? next(&seed) % (n + 1 - k) : 0;
			cut[i] = k;
		}
		for (i = 0, k = 0; i < nm; i++) {
			size_t end = i + 1 < nm ? cut[i] : n;

			member(d + k, end - k, h, &z);
			k = end;
		}
		if (h[2] & 0x40)
			CHECK(buf_append(&z, h[3] & 1 ? "\x1f" "\x00junk" :
			    "\n\n", h[3] & 1 ? 6 : 2) == 0);
		in = (const uint8_t *)z.data;
		nin = z.len;
		if (mode == M_CHANGED)
			z.data[(h[3] * 131u + h[4]) % z.len] ^= h[4] | 1;
		else if (mode == M_CUT)
			nin = (h[3] * 257u + h[4]) % z.len;
	}

	run_gz(in, nin, max, span, seed | 1, &a);
	if (mode == M_CLEAN) {
		if (n > max)
			CHECK(!a.ok && a.over);
		else {
			CHECK(a.ok);
			CHECK(a.len == n && (n == 0 || memcmp(a.data, d, n) ==
			    0));
		}
	}
	run_zlib(in, nin, max, &b);
	compare(&a, &b);
	free(a.data);
	free(b.data);
	buf_free(&z);
	return 0;
}
