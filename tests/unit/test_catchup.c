/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for catchup: the catch-up channel's bytes and merge rules.
 * The expected MACs were computed apart from the code under test, with
 * Python's hmac module: HMAC-SHA256 keyed with KEYTEXT (the sha1sum of
 * a key file holding "nfspamd test key\n"), and again here with
 * OpenSSL's one-shot HMAC().  The other expected bytes were laid out by
 * hand from the layout in catchup.h and record.h.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "addr.h"
#include "catchup.h"
#include "grey.h"
#include "record.h"
#include "sync.h"

#define KEYTEXT	"f69e3678fb1945a8b95f90d362235d394a6bd3dd"
#define NOW	1700000000	/* 2023-11-14T22:13:20Z */
#define HOUR	3600
#define DAY	86400

#define TUPLE \
	"192.0.2.1\nmx.example.org\n<a@example.org>\n<b@example.net>"
#define TRAP	"<trap@example.org>"

/* HMAC-SHA256(KEYTEXT, "C" 00..0f 10..1f), by Python. */
static const uint8_t proof_vec[CATCHUP_MACLEN] =
    "\x19\x00\xb1\x28\x77\x96\xbd\x76\xb9\x79\x6d\xc6\x80\xd7\xea\x81"
    "\xf5\x3a\xf9\xf7\xf4\x0f\x50\x6e\x8b\x8d\xe2\x9c\xbb\xb3\x82\x8b";
/* HMAC-SHA256(KEYTEXT, "S" 00..0f 10..1f hdr_vec "hello"), by Python. */
static const uint8_t frame_vec[CATCHUP_MACLEN] =
    "\x2f\xeb\x37\x65\xd4\x73\xa4\xad\xd9\xe0\x45\xac\xf5\x3b\xb9\x71"
    "\xab\x18\xcc\x6b\x3c\xec\x47\x21\x3b\xb9\x30\x8d\xaf\x33\x30\xcf";
/* DATA, seq 7, raw 42, body 5. */
static const uint8_t hdr_vec[CATCHUP_HDRLEN] =
    "\x01\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x2a\x00\x00\x00\x05";

static struct catchup_session
session(void)
{
	struct catchup_session s;

	memset(&s, 0, sizeof(s));
	sync_key_from_bytes("nfspamd test key\n", 17, &s.key);
	for (int i = 0; i < CATCHUP_NONCELEN; i++) {
		s.cnonce[i] = (uint8_t)i;
		s.snonce[i] = (uint8_t)(0x10 + i);
	}
	return s;
}

static struct store_rec
R(int64_t first, int64_t pass, int64_t expire, int32_t bcount,
    int32_t pcount)
{
	struct store_rec r = { .first = first, .pass = pass,
	    .expire = expire, .bcount = bcount, .pcount = pcount };

	return r;
}

static void
assert_rec_equal(const struct store_rec *a, const struct store_rec *b)
{
	assert_int_equal(a->first, b->first);
	assert_int_equal(a->pass, b->pass);
	assert_int_equal(a->expire, b->expire);
	assert_int_equal(a->bcount, b->bcount);
	assert_int_equal(a->pcount, b->pcount);
}

static struct addr
A(const char *s)
{
	struct addr a;
	const char *why;

	assert_int_equal(addr_parse(s, &a, &why), 0);
	return a;
}

/* A deterministic stream of bytes that zlib cannot shrink. */
static void
noise(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* --- handshake --- */

static void
test_hello(void **state)
{
	uint8_t nonce[CATCHUP_NONCELEN], got[CATCHUP_NONCELEN];
	uint8_t h[CATCHUP_HELLOLEN], bad[CATCHUP_HELLOLEN];

	(void)state;
	noise(nonce, sizeof(nonce), 7);
	catchup_hello(nonce, h);
	assert_memory_equal(h, "nfspamd-catchup1", 16);
	assert_memory_equal(h + 16, nonce, CATCHUP_NONCELEN);
	memset(got, 0, sizeof(got));
	assert_int_equal(catchup_hello_parse(h, got), 0);
	assert_memory_equal(got, nonce, CATCHUP_NONCELEN);

	/* Anything else in the first 16 bytes: refused, nonce untouched. */
	for (int i = 0; i < CATCHUP_MAGICLEN; i++) {
		memcpy(bad, h, sizeof(bad));
		bad[i] ^= 0x20;
		memset(got, 0xaa, sizeof(got));
		assert_int_equal(catchup_hello_parse(bad, got), -1);
		for (int j = 0; j < CATCHUP_NONCELEN; j++)
			assert_int_equal(got[j], 0xaa);
	}
	memcpy(bad, "nfspamd-catchup2", 16);
	assert_int_equal(catchup_hello_parse(bad, got), -1);
	memset(bad, 0, sizeof(bad));
	assert_int_equal(catchup_hello_parse(bad, got), -1);
	/* A sync packet's first bytes (version 2) are not a hello. */
	memcpy(bad, "\x02\x02\x00\x34", 4);
	assert_int_equal(catchup_hello_parse(bad, got), -1);
}

static void
test_proof(void **state)
{
	struct catchup_session s = session(), t;
	uint8_t p[CATCHUP_MACLEN], q[CATCHUP_MACLEN], msg[33];
	unsigned int len;

	(void)state;
	assert_string_equal(s.key.text, KEYTEXT);
	assert_int_equal(s.key.len, 40);
	catchup_proof(&s, p);
	assert_memory_equal(p, proof_vec, CATCHUP_MACLEN);
	/* The same with OpenSSL's one-shot HMAC. */
	msg[0] = 'C';
	memcpy(msg + 1, s.cnonce, 16);
	memcpy(msg + 17, s.snonce, 16);
	assert_non_null(HMAC(EVP_sha256(), KEYTEXT, 40, msg, sizeof(msg), q,
	    &len));
	assert_int_equal(len, CATCHUP_MACLEN);
	assert_memory_equal(p, q, CATCHUP_MACLEN);
	assert_true(catchup_proof_ok(&s, p));

	/* Any bit of it wrong. */
	for (int i = 0; i < CATCHUP_MACLEN; i++) {
		memcpy(q, p, sizeof(q));
		q[i] ^= 1;
		assert_false(catchup_proof_ok(&s, q));
	}

	/* Another key. */
	t = s;
	sync_key_from_bytes("another key\n", 12, &t.key);
	assert_int_equal(t.key.len, 40);
	assert_false(catchup_proof_ok(&t, p));
	catchup_proof(&t, q);
	assert_memory_not_equal(p, q, CATCHUP_MACLEN);

	/* The nonces swapped: a proof is for one direction only. */
	t = s;
	memcpy(t.cnonce, s.snonce, CATCHUP_NONCELEN);
	memcpy(t.snonce, s.cnonce, CATCHUP_NONCELEN);
	assert_false(catchup_proof_ok(&t, p));

	/* Another session's nonces: a recorded proof does not replay. */
	t = s;
	t.snonce[15] ^= 0x80;
	assert_false(catchup_proof_ok(&t, p));
	t = s;
	t.cnonce[0] ^= 0x01;
	assert_false(catchup_proof_ok(&t, p));
}

/* spamd's empty key (no key file): still a MAC, no abort. */
static void
test_proof_empty_key(void **state)
{
	struct catchup_session s = session(), e = session();
	uint8_t p[CATCHUP_MACLEN], q[CATCHUP_MACLEN], m[CATCHUP_MACLEN];
	uint8_t msg[33];
	unsigned int len;

	(void)state;
	memset(&e.key, 0, sizeof(e.key));
	catchup_proof(&e, p);
	assert_true(catchup_proof_ok(&e, p));
	catchup_proof(&s, q);
	assert_memory_not_equal(p, q, CATCHUP_MACLEN);
	assert_false(catchup_proof_ok(&s, p));
	msg[0] = 'C';
	memcpy(msg + 1, e.cnonce, 16);
	memcpy(msg + 17, e.snonce, 16);
	assert_non_null(HMAC(EVP_sha256(), "", 0, msg, sizeof(msg), q, &len));
	assert_memory_equal(p, q, CATCHUP_MACLEN);
	catchup_frame_mac(&e, hdr_vec, (const uint8_t *)"hello", 5, m);
	assert_true(catchup_frame_mac_ok(&e, hdr_vec,
	    (const uint8_t *)"hello", 5, m));
	assert_false(catchup_frame_mac_ok(&s, hdr_vec,
	    (const uint8_t *)"hello", 5, m));
}

/* A server's frame MAC is never a client's proof, nor the reverse. */
static void
test_proof_not_frame(void **state)
{
	struct catchup_session s = session();
	struct catchup_frame f = { .kind = CATCHUP_FAIL, .seq = 0,
	    .rawlen = 0, .bodylen = 0 };
	uint8_t hdr[CATCHUP_HDRLEN], m[CATCHUP_MACLEN], p[CATCHUP_MACLEN];

	(void)state;
	/* The shortest frame there is: an empty FAIL. */
	catchup_frame_hdr(&f, hdr);
	catchup_frame_mac(&s, hdr, NULL, 0, m);
	assert_false(catchup_proof_ok(&s, m));
	catchup_frame_mac(&s, hdr_vec, (const uint8_t *)"hello", 5, m);
	assert_false(catchup_proof_ok(&s, m));
	/* The proof as the MAC of a frame. */
	catchup_proof(&s, p);
	assert_false(catchup_frame_mac_ok(&s, hdr, NULL, 0, p));
	assert_false(catchup_frame_mac_ok(&s, hdr_vec,
	    (const uint8_t *)"hello", 5, p));
}

/* --- frames --- */

static void
test_frame_hdr(void **state)
{
	static const struct catchup_frame ok[] = {
		{ CATCHUP_DATA, 7, 42, 5 },
		{ CATCHUP_DATA, 0, 1, 1 },
		{ CATCHUP_DATA, 0xffffffff, CATCHUP_RAWMAX, CATCHUP_BODYMAX },
		{ CATCHUP_END, 3, CATCHUP_ENDLEN, CATCHUP_ENDLEN },
		{ CATCHUP_FAIL, 0, 0, 0 },
		{ CATCHUP_FAIL, 1, 9, 9 },
		{ CATCHUP_FAIL, 2, CATCHUP_FAILMAX, CATCHUP_FAILMAX },
	};
	struct catchup_frame f, g;
	uint8_t h[CATCHUP_HDRLEN];
	const char *why;

	(void)state;
	f = ok[0];
	catchup_frame_hdr(&f, h);
	assert_memory_equal(h, hdr_vec, CATCHUP_HDRLEN);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(h, 0xee, sizeof(h));
		catchup_frame_hdr(&ok[i], h);
		assert_int_equal(h[0], ok[i].kind);
		assert_int_equal(h[1] | h[2] | h[3], 0);
		memset(&g, 0xee, sizeof(g));
		why = NULL;
		assert_int_equal(catchup_frame_parse(h, &g, &why), 0);
		assert_null(why);
		assert_int_equal(g.kind, ok[i].kind);
		assert_int_equal(g.seq, ok[i].seq);
		assert_int_equal(g.rawlen, ok[i].rawlen);
		assert_int_equal(g.bodylen, ok[i].bodylen);
	}
	/* Big-endian on the wire. */
	f = (struct catchup_frame){ CATCHUP_END, 0x01020304, CATCHUP_ENDLEN,
	    CATCHUP_ENDLEN };
	catchup_frame_hdr(&f, h);
	assert_memory_equal(h, "\x02\x00\x00\x00\x01\x02\x03\x04"
	    "\x00\x00\x00\x22\x00\x00\x00\x22", CATCHUP_HDRLEN);
}

static void
bad_hdr(const struct catchup_frame *f)
{
	struct catchup_frame g;
	uint8_t h[CATCHUP_HDRLEN];
	const char *why = NULL;

	catchup_frame_hdr(f, h);
	assert_int_equal(catchup_frame_parse(h, &g, &why), -1);
	assert_non_null(why);
}

static void
test_frame_refused(void **state)
{
	static const struct catchup_frame bad[] = {
		/* Unknown kinds. */
		{ 0, 0, 0, 0 },
		{ 4, 0, 10, 10 },
		{ 0xff, 0, 10, 10 },
		/* DATA: nothing inflated, too much, an empty or huge body. */
		{ CATCHUP_DATA, 0, 0, 10 },
		{ CATCHUP_DATA, 0, CATCHUP_RAWMAX + 1, 10 },
		{ CATCHUP_DATA, 0, 0xffffffff, 10 },
		{ CATCHUP_DATA, 0, 10, 0 },
		{ CATCHUP_DATA, 0, 10, CATCHUP_BODYMAX + 1 },
		{ CATCHUP_DATA, 0, 10, 0xffffffff },
		/* END of any other size. */
		{ CATCHUP_END, 0, CATCHUP_ENDLEN - 1, CATCHUP_ENDLEN - 1 },
		{ CATCHUP_END, 0, CATCHUP_ENDLEN + 1, CATCHUP_ENDLEN + 1 },
		{ CATCHUP_END, 0, CATCHUP_ENDLEN, CATCHUP_ENDLEN + 1 },
		{ CATCHUP_END, 0, CATCHUP_ENDLEN + 1, CATCHUP_ENDLEN },
		{ CATCHUP_END, 0, 0, 0 },
		/* FAIL: too long, or compressed. */
		{ CATCHUP_FAIL, 0, CATCHUP_FAILMAX + 1, CATCHUP_FAILMAX + 1 },
		{ CATCHUP_FAIL, 0, 0xffffffff, 0xffffffff },
		{ CATCHUP_FAIL, 0, 20, 10 },
		{ CATCHUP_FAIL, 0, 10, 20 },
	};
	struct catchup_frame g;
	uint8_t h[CATCHUP_HDRLEN];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad_hdr(&bad[i]);

	/* Reserved bytes, one at a time, whatever the rest. */
	for (int i = 1; i <= 3; i++) {
		memcpy(h, hdr_vec, sizeof(h));
		h[i] = 1;
		why = NULL;
		assert_int_equal(catchup_frame_parse(h, &g, &why), -1);
		assert_string_equal(why, "reserved header bytes not zero");
		h[i] = 0x80;
		assert_int_equal(catchup_frame_parse(h, &g, &why), -1);
	}
	memcpy(h, hdr_vec, sizeof(h));
	h[0] = 9;
	why = NULL;
	assert_int_equal(catchup_frame_parse(h, &g, &why), -1);
	assert_string_equal(why, "unknown frame kind");
}

static void
test_frame_mac(void **state)
{
	struct catchup_session s = session(), t;
	uint8_t body[5] = "hello", h[CATCHUP_HDRLEN], m[CATCHUP_MACLEN];
	uint8_t b2[5], q[CATCHUP_MACLEN], msg[1 + 32 + 16 + 5];
	unsigned int len;

	(void)state;
	catchup_frame_mac(&s, hdr_vec, body, sizeof(body), m);
	assert_memory_equal(m, frame_vec, CATCHUP_MACLEN);
	msg[0] = 'S';
	memcpy(msg + 1, s.cnonce, 16);
	memcpy(msg + 17, s.snonce, 16);
	memcpy(msg + 33, hdr_vec, 16);
	memcpy(msg + 49, body, 5);
	assert_non_null(HMAC(EVP_sha256(), KEYTEXT, 40, msg, sizeof(msg), q,
	    &len));
	assert_memory_equal(m, q, CATCHUP_MACLEN);
	assert_true(catchup_frame_mac_ok(&s, hdr_vec, body, sizeof(body), m));

	/* The header tampered with: each byte (kind, seq, lengths). */
	for (int i = 0; i < CATCHUP_HDRLEN; i++) {
		memcpy(h, hdr_vec, sizeof(h));
		h[i] ^= 0x01;
		assert_false(catchup_frame_mac_ok(&s, h, body, sizeof(body),
		    m));
	}
	/* The body: a bit, a byte short, a byte more. */
	for (size_t i = 0; i < sizeof(body); i++) {
		memcpy(b2, body, sizeof(b2));
		b2[i] ^= 0x40;
		assert_false(catchup_frame_mac_ok(&s, hdr_vec, b2,
		    sizeof(b2), m));
	}
	assert_false(catchup_frame_mac_ok(&s, hdr_vec, body, 4, m));
	assert_false(catchup_frame_mac_ok(&s, hdr_vec,
	    (const uint8_t *)"hello!", 6, m));
	/* The MAC itself. */
	memcpy(q, m, sizeof(q));
	q[31] ^= 0x80;
	assert_false(catchup_frame_mac_ok(&s, hdr_vec, body, sizeof(body),
	    q));

	/* Replayed into another session: either nonce, or both swapped. */
	t = s;
	t.snonce[3] ^= 0x10;
	assert_false(catchup_frame_mac_ok(&t, hdr_vec, body, sizeof(body),
	    m));
	t = s;
	t.cnonce[15] ^= 0x01;
	assert_false(catchup_frame_mac_ok(&t, hdr_vec, body, sizeof(body),
	    m));
	t = s;
	memcpy(t.cnonce, s.snonce, CATCHUP_NONCELEN);
	memcpy(t.snonce, s.cnonce, CATCHUP_NONCELEN);
	assert_false(catchup_frame_mac_ok(&t, hdr_vec, body, sizeof(body),
	    m));
	/* Another key. */
	t = s;
	sync_key_from_bytes("another key\n", 12, &t.key);
	assert_false(catchup_frame_mac_ok(&t, hdr_vec, body, sizeof(body),
	    m));
	/* The same frame, out of order: the sequence number is covered. */
	{
		struct catchup_frame f = { CATCHUP_DATA, 8, 42, 5 };

		catchup_frame_hdr(&f, h);
		assert_false(catchup_frame_mac_ok(&s, h, body, sizeof(body),
		    m));
	}
	/* The header and body boundary is fixed: moving a byte changes it. */
	{
		uint8_t all[CATCHUP_HDRLEN + 5];

		memcpy(all, hdr_vec, CATCHUP_HDRLEN);
		memcpy(all + CATCHUP_HDRLEN, body, 5);
		catchup_frame_mac(&s, all, all + CATCHUP_HDRLEN, 5, q);
		assert_memory_equal(q, m, CATCHUP_MACLEN);
	}
}

/* --- bodies --- */

static void
test_deflate_inflate(void **state)
{
	uint8_t *raw, *body, *out;
	size_t n;
	const char *why;

	(void)state;
	raw = malloc(CATCHUP_RAWMAX);
	body = malloc(CATCHUP_BODYMAX);
	out = malloc(CATCHUP_RAWMAX);
	assert_non_null(raw);
	assert_non_null(body);
	assert_non_null(out);

	/* Records repeat: they shrink. */
	for (size_t i = 0; i < 1000; i++)
		memcpy(raw + 64 * i, "\x01\x00\x1d" "192.0.2.1\nhelo\nfrom\nto"
		    "0123456789abcdef0123456789abcdef0123456789abcdef", 64);
	n = catchup_deflate(raw, 64000, body, CATCHUP_BODYMAX);
	assert_true(n > 0 && n < 64000 / 4);
	why = NULL;
	memset(out, 0, CATCHUP_RAWMAX);
	assert_int_equal(catchup_inflate(body, n, 64000, out, &why), 0);
	assert_null(why);
	assert_memory_equal(out, raw, 64000);

	/* The worst case: RAWMAX of noise still fits BODYMAX. */
	noise(raw, CATCHUP_RAWMAX, 12345);
	n = catchup_deflate(raw, CATCHUP_RAWMAX, body, CATCHUP_BODYMAX);
	assert_true(n > CATCHUP_RAWMAX && n <= CATCHUP_BODYMAX);
	assert_int_equal(catchup_inflate(body, n, CATCHUP_RAWMAX, out, &why),
	    0);
	assert_memory_equal(out, raw, CATCHUP_RAWMAX);

	/* One byte. */
	n = catchup_deflate((const uint8_t *)"x", 1, body, CATCHUP_BODYMAX);
	assert_true(n > 0);
	assert_int_equal(catchup_inflate(body, n, 1, out, &why), 0);
	assert_int_equal(out[0], 'x');

	/* Refused: more than RAWMAX, or room for less than the bound. */
	assert_int_equal(catchup_deflate(raw, CATCHUP_RAWMAX + 1, body,
	    CATCHUP_BODYMAX), 0);
	assert_int_equal(catchup_deflate(raw, 1000, body, 1000), 0);

	free(raw);
	free(body);
	free(out);
}

static void
bad_inflate(const uint8_t *body, size_t n, uint32_t rawlen, uint8_t *out)
{
	const char *why = NULL;

	assert_int_equal(catchup_inflate(body, n, rawlen, out, &why), -1);
	assert_non_null(why);
}

static void
test_inflate_refused(void **state)
{
	uint8_t raw[4000], body[4000 + 64], *out, *big;
	size_t n;
	const char *why;

	(void)state;
	out = malloc(CATCHUP_RAWMAX);
	big = malloc(CATCHUP_BODYMAX + 16);
	assert_non_null(out);
	assert_non_null(big);
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)("spamtrap"[i % 8] + i / 512);
	n = catchup_deflate(raw, sizeof(raw), body, sizeof(body));
	assert_true(n > 8);
	assert_int_equal(catchup_inflate(body, n, sizeof(raw), out, &why), 0);

	/* Not zlib at all. */
	bad_inflate((const uint8_t *)"not a zlib stream", 17, 17, out);
	/* A gzip member is not a zlib stream. */
	bad_inflate((const uint8_t *)"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00"
	    "\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20, 1, out);
	/* A bad adler32 trailer. */
	memcpy(big, body, n);
	big[n - 1] ^= 0xff;
	bad_inflate(big, n, sizeof(raw), out);
	/* Cut short: without its trailer, or in the middle. */
	bad_inflate(body, n - 4, sizeof(raw), out);
	bad_inflate(body, n - 1, sizeof(raw), out);
	bad_inflate(body, n / 2, sizeof(raw), out);
	bad_inflate(body, 2, sizeof(raw), out);
	/* Inflates to more, or less, than the header says. */
	bad_inflate(body, n, sizeof(raw) - 1, out);
	bad_inflate(body, n, 1, out);
	bad_inflate(body, n, sizeof(raw) + 1, out);
	bad_inflate(body, n, CATCHUP_RAWMAX, out);
	/* More than the most a frame may say, even if it inflates to it. */
	bad_inflate(body, n, CATCHUP_RAWMAX + 1, out);
	/* Bytes after the end of the stream. */
	memcpy(big, body, n);
	big[n] = 0;
	bad_inflate(big, n + 1, sizeof(raw), out);
	memcpy(big + n, body, n);
	bad_inflate(big, 2 * n, sizeof(raw), out);
	/* Messages: the ones that say what happened. */
	why = NULL;
	assert_int_equal(catchup_inflate(body, n, sizeof(raw) - 1, out, &why),
	    -1);
	assert_string_equal(why, "data frame longer than it says");
	why = NULL;
	assert_int_equal(catchup_inflate(body, n / 2, sizeof(raw), out, &why),
	    -1);
	assert_string_equal(why,
	    "data frame is not a zlib stream of its length");

	/* A zip bomb: RAWMAX + 1 zero bytes stop at RAWMAX. */
	memset(big, 0, CATCHUP_RAWMAX + 16);
	{
		uint8_t *zeros = calloc(1, CATCHUP_RAWMAX + 1024);
		uLongf zn = CATCHUP_BODYMAX;

		assert_non_null(zeros);
		assert_int_equal(compress2(big, &zn, zeros, CATCHUP_RAWMAX +
		    1024, 9), Z_OK);
		bad_inflate(big, zn, CATCHUP_RAWMAX, out);
		free(zeros);
	}
	free(out);
	free(big);
}

/*
 * A stream that inflates to fewer bytes than rawlen is refused, as it
 * must be, but with the message for the opposite case.
 */
static void
test_inflate_short_message(void **state)
{
	uint8_t body[64], out[64];
	size_t n;
	const char *why = NULL;

	(void)state;
	n = catchup_deflate((const uint8_t *)"0123456789", 10, body,
	    sizeof(body));
	assert_true(n > 0);
	assert_int_equal(catchup_inflate(body, n, 11, out, &why), -1);
	/* Said "longer" before 05f67dc. */
	assert_string_not_equal(why, "data frame longer than it says");
}

/* --- records --- */

struct recvec {
	enum store_type	 type;
	const char	*key;
	struct store_rec rec;
};

static const struct recvec recs[] = {
	{ STORE_GREY, TUPLE,
	    { NOW, NOW + 25 * 60, NOW + 4 * HOUR, 1, 0 } },
	{ STORE_GREY, "2001:db8::25\n\n<a@example.org>\n<b@example.net>",
	    { NOW, NOW + 25 * 60, NOW + 4 * HOUR, 3, GREY_PCOUNT_TRAPPED } },
	{ STORE_GREY, "198.51.100.1\n<a@example.org>\n<b@example.net>",
	    { NOW - 10, NOW + 1490, NOW + 4 * HOUR, 0, 0 } },
	{ STORE_WHITE, "192.0.2.1",
	    { NOW - DAY, NOW - 3 * HOUR, NOW + 36 * DAY, 2, 1 } },
	{ STORE_WHITE, "2001:db8::/64",
	    { NOW - DAY, NOW - HOUR, NOW + 36 * DAY, 0, 7 } },
	{ STORE_WHITE, "192.0.2.0/24",
	    { NOW - DAY, NOW - HOUR, NOW + 36 * DAY, 0, 0 } },
	{ STORE_TRAPPED, "198.51.100.7",
	    { NOW, NOW, NOW + DAY, 9, GREY_PCOUNT_TRAPPED } },
	{ STORE_TRAPPED, "2001:db8::dead",
	    { NOW, NOW, NOW + DAY, 1, GREY_PCOUNT_TRAPPED } },
	{ STORE_SPAMTRAP, TRAP, { 0, 0, 0, 0, GREY_PCOUNT_SPAMTRAP } },
	{ STORE_SPAMTRAP, "trap@example.org",
	    { NOW, 0, 0, 0, GREY_PCOUNT_SPAMTRAP } },
};
#define NRECS	(sizeof(recs) / sizeof(recs[0]))

static struct catchup_rec
crec(const struct recvec *v)
{
	struct catchup_rec r = { .type = v->type, .key = v->key,
	    .keylen = strlen(v->key), .rec = v->rec };

	return r;
}

static void
test_rec_roundtrip(void **state)
{
	uint8_t buf[4096];
	struct catchup_rec r, got;
	size_t len = 0, off = 0, n;
	const char *why;

	(void)state;
	for (size_t i = 0; i < NRECS; i++) {
		r = crec(&recs[i]);
		n = catchup_rec_put(buf, sizeof(buf), len, &r);
		assert_int_equal(n, len + 3 + r.keylen + STORE_RECSIZE);
		len = n;
	}
	for (size_t i = 0; i < NRECS; i++) {
		why = NULL;
		memset(&got, 0, sizeof(got));
		assert_int_equal(catchup_rec_next(buf, len, &off, &got, &why),
		    1);
		assert_null(why);
		assert_int_equal(got.type, recs[i].type);
		assert_int_equal(got.keylen, strlen(recs[i].key));
		assert_memory_equal(got.key, recs[i].key, got.keylen);
		/* The key points into the buffer. */
		assert_true((const uint8_t *)got.key > buf &&
		    (const uint8_t *)got.key < buf + len);
		assert_rec_equal(&got.rec, &recs[i].rec);
		assert_true(catchup_key_ok(got.type, got.key, got.keylen));
	}
	assert_int_equal(off, len);
	assert_int_equal(catchup_rec_next(buf, len, &off, &got, &why), 0);
	assert_int_equal(off, len);
	/* An empty buffer is the end at once. */
	off = 0;
	assert_int_equal(catchup_rec_next(buf, 0, &off, &got, &why), 0);
}

/* One record's bytes, laid out by hand. */
static void
test_rec_bytes(void **state)
{
	static const uint8_t want[3 + 9 + 32] =
	    "\x00\x00\x09" "192.0.2.1"
	    "\x00\xf1\x53\x65\x00\x00\x00\x00"		/* first NOW */
	    "\x30\x1b\x54\x65\x00\x00\x00\x00"		/* pass +3 h */
	    "\xff\xff\xff\xff\xff\xff\xff\xff"		/* expire -1 */
	    "\x02\x01\x00\x00"				/* bcount 258 */
	    "\x07\x00\x00\x00";				/* pcount 7 */
	struct catchup_rec r = { .type = STORE_WHITE, .key = "192.0.2.1",
	    .keylen = 9, .rec = { NOW, NOW + 3 * HOUR, -1, 258, 7 } };
	uint8_t buf[64];
	size_t off = 0;
	const char *why;

	(void)state;
	assert_int_equal(catchup_rec_put(buf, sizeof(buf), 0, &r),
	    sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(catchup_rec_next(want, sizeof(want), &off, &r, &why),
	    1);
	assert_int_equal(r.rec.expire, -1);
	assert_int_equal(r.rec.bcount, 258);

	/* A key of 256 bytes or more: the length's high byte. */
	{
		uint8_t big[3 + STORE_KEYMAX + STORE_RECSIZE];
		char key[STORE_KEYMAX];
		struct catchup_rec t = { .type = STORE_SPAMTRAP, .key = key,
		    .keylen = STORE_KEYMAX,
		    .rec = { 0, 0, 0, 0, GREY_PCOUNT_SPAMTRAP } };

		memset(key, 'a', sizeof(key));
		key[STORE_KEYMAX - 1] = '>';
		assert_int_equal(catchup_rec_put(big, sizeof(big), 0, &t),
		    sizeof(big));
		assert_int_equal(big[0], STORE_SPAMTRAP);
		assert_int_equal(big[1], 0x01);
		assert_int_equal(big[2], 0xff);
		off = 0;
		assert_int_equal(catchup_rec_next(big, sizeof(big), &off, &t,
		    &why), 1);
		assert_int_equal(t.keylen, STORE_KEYMAX);
		assert_int_equal(off, sizeof(big));
	}
}

/* Bytes that must not pass as a record; *off stays where it was. */
static void
bad_rec(const void *p, size_t n)
{
	struct catchup_rec r;
	const char *why = NULL;
	size_t off = 0;

	assert_int_equal(catchup_rec_next(p, n, &off, &r, &why), -1);
	assert_non_null(why);
	assert_int_equal(off, 0);
}

/* A record of type t and key k (its length given), value v. */
static size_t
raw_rec(uint8_t *buf, int t, const char *k, size_t klen,
    const struct store_rec *v)
{
	buf[0] = (uint8_t)t;
	buf[1] = (uint8_t)(klen >> 8);
	buf[2] = (uint8_t)klen;
	memcpy(buf + 3, k, klen);
	store_rec_encode(v, buf + 3 + klen);
	return 3 + klen + STORE_RECSIZE;
}

#define K(s)	(s), sizeof(s) - 1

static void
test_rec_refused(void **state)
{
	static const struct {
		int		 type;
		const char	*key;
		size_t		 len;
	} bad[] = {
		/* Type. */
		{ STORE_NTYPES, K("192.0.2.1") },
		{ 0xff, K("192.0.2.1") },
		/* NUL in the key. */
		{ STORE_SPAMTRAP, K("<trap\0@example.org>") },
		{ STORE_WHITE, K("192.0.2.1\0") },
		{ STORE_GREY, K("192.0.2.1\nhelo\0\nfrom\nto") },
		/* Tuples that do not split. */
		{ STORE_GREY, K("192.0.2.1") },
		{ STORE_GREY, K("192.0.2.1\n<a@example.org>") },
		{ STORE_GREY, K("192.0.2.1\nh\nf\nt\nx") },
		{ STORE_GREY, K("\nhelo\nfrom\nto") },
		/* Tuples whose address does not parse. */
		{ STORE_GREY, K("mx.example.org\nhelo\nfrom\nto") },
		{ STORE_GREY, K("192.0.2.256\nhelo\nfrom\nto") },
		{ STORE_GREY, K("192.0.2.0/24\nhelo\nfrom\nto") },
		{ STORE_GREY, K("192.0.2.1 \nhelo\nfrom\nto") },
		/* Addresses that do not parse, or networks with host bits. */
		{ STORE_WHITE, K("192.0.2.300") },
		{ STORE_WHITE, K("example.org") },
		{ STORE_WHITE, K("192.0.2.1/24") },
		{ STORE_WHITE, K("2001:db8::1/64") },
		{ STORE_WHITE, K("192.0.2.1/33") },
		{ STORE_WHITE, K(TUPLE) },
		{ STORE_TRAPPED, K("fe80::1%eth0") },
		{ STORE_TRAPPED, K(" 192.0.2.1") },
		{ STORE_TRAPPED, K(TRAP) },
		/* Spamtraps with blanks or control characters. */
		{ STORE_SPAMTRAP, K("<trap @example.org>") },
		{ STORE_SPAMTRAP, K("<trap@example.org>\n") },
		{ STORE_SPAMTRAP, K("\t<trap@example.org>") },
		{ STORE_SPAMTRAP, K("<trap@example.org>\x7f") },
		{ STORE_SPAMTRAP, K("<trap@\x01" "example.org>") },
	};
	struct store_rec v = { NOW, NOW, NOW + DAY, 0, 0 };
	uint8_t buf[3 + 600 + STORE_RECSIZE];
	char key[600];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = raw_rec(buf, bad[i].type, bad[i].key, bad[i].len, &v);
		bad_rec(buf, n);
		if (bad[i].type < STORE_NTYPES)
			assert_false(catchup_key_ok(bad[i].type, bad[i].key,
			    bad[i].len));
	}

	/* Key length 0, and more than STORE_KEYMAX. */
	n = raw_rec(buf, STORE_SPAMTRAP, "", 0, &v);
	bad_rec(buf, n);
	memset(key, 'a', sizeof(key));
	n = raw_rec(buf, STORE_SPAMTRAP, key, STORE_KEYMAX + 1, &v);
	bad_rec(buf, n);
	n = raw_rec(buf, STORE_SPAMTRAP, key, STORE_KEYMAX, &v);
	{
		struct catchup_rec r;
		const char *why;
		size_t off = 0;

		assert_int_equal(catchup_rec_next(buf, n, &off, &r, &why), 1);
	}
	buf[1] = 0xff;
	buf[2] = 0xff;
	bad_rec(buf, n);

	/* Truncated anywhere: in the header, the key or the value. */
	n = raw_rec(buf, STORE_WHITE, "192.0.2.1", 9, &v);
	for (size_t cut = 1; cut < n; cut++)
		bad_rec(buf, cut);

	/* A good record then a bad one: the first comes, then -1. */
	{
		uint8_t two[2 * (3 + 9 + STORE_RECSIZE)];
		struct catchup_rec r;
		const char *why = NULL;
		size_t off = 0, m;

		m = raw_rec(two, STORE_WHITE, "192.0.2.1", 9, &v);
		m += raw_rec(two + m, STORE_WHITE, "192.0.2.x", 9, &v);
		assert_int_equal(catchup_rec_next(two, m, &off, &r, &why), 1);
		assert_int_equal(off, m / 2);
		assert_int_equal(catchup_rec_next(two, m, &off, &r, &why), -1);
		assert_string_equal(why, "record key does not fit its type");
		assert_int_equal(off, m / 2);
		/* Cut after the first: the first, then cut short. */
		off = 0;
		assert_int_equal(catchup_rec_next(two, m - 1, &off, &r, &why),
		    1);
		assert_int_equal(catchup_rec_next(two, m - 1, &off, &r, &why),
		    -1);
		assert_string_equal(why, "record cut short");
	}
}

static void
test_key_ok(void **state)
{
	char key[STORE_KEYMAX + 1];

	(void)state;
	assert_true(catchup_key_ok(STORE_GREY, TUPLE, sizeof(TUPLE) - 1));
	/* spamdb's three-field tuple. */
	assert_true(catchup_key_ok(STORE_GREY, "192.0.2.1\nfrom\nto", 17));
	assert_true(catchup_key_ok(STORE_GREY, "2001:db8::1\n\n\n", 14));
	assert_true(catchup_key_ok(STORE_WHITE, "192.0.2.1", 9));
	assert_true(catchup_key_ok(STORE_WHITE, "2001:db8::/64", 13));
	assert_true(catchup_key_ok(STORE_WHITE, "192.0.2.1/32", 12));
	assert_true(catchup_key_ok(STORE_TRAPPED, "2001:db8::25", 12));
	assert_true(catchup_key_ok(STORE_SPAMTRAP, TRAP, sizeof(TRAP) - 1));
	assert_true(catchup_key_ok(STORE_SPAMTRAP, "x", 1));
	/* The length is what counts, not a terminator. */
	assert_true(catchup_key_ok(STORE_WHITE, "192.0.2.1XYZ", 9));
	assert_false(catchup_key_ok(STORE_WHITE, "192.0.2.1XYZ", 12));

	assert_false(catchup_key_ok(STORE_NTYPES, TRAP, sizeof(TRAP) - 1));
	assert_false(catchup_key_ok((enum store_type)-1, TRAP,
	    sizeof(TRAP) - 1));
	assert_false(catchup_key_ok(STORE_SPAMTRAP, TRAP, 0));
	assert_false(catchup_key_ok(STORE_WHITE, "", 0));
	memset(key, 'a', sizeof(key));
	assert_true(catchup_key_ok(STORE_SPAMTRAP, key, STORE_KEYMAX));
	assert_false(catchup_key_ok(STORE_SPAMTRAP, key, STORE_KEYMAX + 1));
	/* An address field longer than any address. */
	memset(key, '1', 60);
	memcpy(key + 60, "\nh\nf\nt", 6);
	assert_false(catchup_key_ok(STORE_GREY, key, 66));
	assert_false(catchup_key_ok(STORE_WHITE, key, 60));
}

static void
test_rec_put_full(void **state)
{
	struct catchup_rec r = crec(&recs[3]);	/* WHITE 192.0.2.1 */
	size_t need = 3 + 9 + STORE_RECSIZE;
	uint8_t buf[256];

	(void)state;
	memset(buf, 0xcc, sizeof(buf));
	/* Exactly enough room, at the start and after something. */
	assert_int_equal(catchup_rec_put(buf, need, 0, &r), need);
	assert_int_equal(catchup_rec_put(buf, 10 + need, 10, &r), 10 + need);
	/* One byte short: nothing written. */
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(catchup_rec_put(buf, need - 1, 0, &r), 0);
	assert_int_equal(catchup_rec_put(buf, 10 + need - 1, 10, &r), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xcc);
	/* Full, or already past the end. */
	assert_int_equal(catchup_rec_put(buf, 100, 100, &r), 0);
	assert_int_equal(catchup_rec_put(buf, 100, 101, &r), 0);
	assert_int_equal(catchup_rec_put(buf, 0, 0, &r), 0);
	/* Filling a buffer record by record stops at the first misfit. */
	{
		size_t len = 0, n, k = 0;

		while ((n = catchup_rec_put(buf, sizeof(buf), len, &r)) != 0) {
			len = n;
			k++;
		}
		assert_int_equal(k, sizeof(buf) / need);
		assert_int_equal(len, k * need);
	}
	/* Not records at all. */
	r.keylen = 0;
	assert_int_equal(catchup_rec_put(buf, sizeof(buf), 0, &r), 0);
	r = crec(&recs[3]);
	r.type = STORE_NTYPES;
	assert_int_equal(catchup_rec_put(buf, sizeof(buf), 0, &r), 0);
	{
		uint8_t big[3 + STORE_KEYMAX + 1 + STORE_RECSIZE + 8];
		char key[STORE_KEYMAX + 1];

		memset(key, 'a', sizeof(key));
		r.type = STORE_SPAMTRAP;
		r.key = key;
		r.keylen = STORE_KEYMAX + 1;
		assert_int_equal(catchup_rec_put(big, sizeof(big), 0, &r), 0);
		r.keylen = STORE_KEYMAX;
		assert_int_equal(catchup_rec_put(big, sizeof(big), 0, &r),
		    CATCHUP_RECMAX);
	}
}

/* --- END --- */

static void
test_end(void **state)
{
	struct catchup_end e = { .sent = { 1, 0x0102030405060708ULL, 0,
	    UINT64_MAX }, .net4 = 24, .net6 = 64 }, g;
	uint8_t b[CATCHUP_ENDLEN];

	(void)state;
	catchup_end_encode(&e, b);
	assert_memory_equal(b,
	    "\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x01\x02\x03\x04\x05\x06\x07\x08"
	    "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\x18\x40", CATCHUP_ENDLEN);
	memset(&g, 0xee, sizeof(g));
	catchup_end_parse(b, &g);
	for (int t = 0; t < STORE_NTYPES; t++)
		assert_int_equal(g.sent[t], e.sent[t]);
	assert_int_equal(g.net4, 24);
	assert_int_equal(g.net6, 64);
	/* sent[] is indexed by store_type. */
	assert_int_equal(g.sent[STORE_WHITE], 1);
	assert_int_equal(g.sent[STORE_GREY], 0x0102030405060708ULL);
}

/* --- merging --- */

static int
merge(enum store_type rt, struct store_rec r, enum store_type lt,
    const struct store_rec *l, struct store_rec *out, enum store_type *ot)
{
	*ot = STORE_NTYPES;
	memset(out, 0xee, sizeof(*out));
	return catchup_merge(rt, &r, lt, l, NOW, out, ot);
}

static void
test_merge_ignored(void **state)
{
	struct store_rec out, l = R(NOW - DAY, NOW - DAY, NOW + DAY, 0, 1);
	enum store_type ot;

	(void)state;
	/* Expired on the peer: now or earlier. */
	assert_int_equal(merge(STORE_WHITE, R(NOW - DAY, NOW - DAY, NOW, 0, 1),
	    STORE_WHITE, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_WHITE, R(1, 1, NOW - 1, 0, 1),
	    STORE_WHITE, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_GREY, R(NOW - HOUR, NOW, NOW - 1, 0, 0),
	    STORE_GREY, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_TRAPPED, R(1, 1, NOW, 0, -1),
	    STORE_WHITE, &l, &out, &ot), 0);
	/* Not left unchanged, ours is: no output written. */
	assert_int_equal(ot, STORE_NTYPES);

	/* Counts that do not fit the type. */
	assert_int_equal(merge(STORE_WHITE, R(NOW, NOW, NOW + DAY, 0, -1),
	    STORE_WHITE, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_WHITE, R(NOW, NOW, NOW + DAY, 0, -2),
	    STORE_WHITE, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_TRAPPED, R(NOW, NOW, NOW + DAY, 0, 0),
	    STORE_TRAPPED, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_TRAPPED, R(NOW, NOW, NOW + DAY, 0, 3),
	    STORE_WHITE, &l, &out, &ot), 0);
	assert_int_equal(merge(STORE_TRAPPED, R(NOW, NOW, NOW + DAY, 0, -2),
	    STORE_TRAPPED, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_GREY, R(NOW, NOW, NOW + DAY, 0, -2),
	    STORE_GREY, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_SPAMTRAP, R(0, 0, 0, 0, 0),
	    STORE_SPAMTRAP, NULL, &out, &ot), 0);
	assert_int_equal(merge(STORE_SPAMTRAP, R(0, 0, NOW + DAY, 0, -1),
	    STORE_SPAMTRAP, NULL, &out, &ot), 0);
	/* Not a type. */
	assert_int_equal(merge(STORE_NTYPES, R(NOW, NOW, NOW + DAY, 0, 0),
	    STORE_WHITE, NULL, &out, &ot), 0);
	/* A trapped tuple is a tuple: fits GREY. */
	assert_int_equal(merge(STORE_GREY, R(NOW, NOW, NOW + DAY, 0, -1),
	    STORE_GREY, NULL, &out, &ot), 1);
}

static void
test_merge_replace(void **state)
{
	struct store_rec out, rem, l;
	enum store_type ot;
	static const enum store_type types[] = { STORE_WHITE, STORE_GREY,
	    STORE_TRAPPED, STORE_SPAMTRAP };
	static const int32_t pc[] = { 2, 0, -1, -2 };

	(void)state;
	/* Ours missing: the peer's, as it is. */
	for (int i = 0; i < 4; i++) {
		rem = R(NOW - HOUR, NOW + 60, NOW + DAY, 3, pc[i]);
		assert_int_equal(merge(types[i], rem, types[i], NULL, &out,
		    &ot), 1);
		assert_int_equal(ot, types[i]);
		assert_rec_equal(&out, &rem);
	}
	/* Ours expired: the peer's, not a mix of the two. */
	l = R(NOW - 30 * DAY, NOW - 20 * DAY, NOW - 1, 50, 40);
	rem = R(NOW - HOUR, NOW - 60, NOW + DAY, 1, 1);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_int_equal(ot, STORE_WHITE);
	assert_rec_equal(&out, &rem);
	l.expire = NOW;
	assert_int_equal(merge(STORE_WHITE, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_rec_equal(&out, &rem);
	/* An expired trap of ours gives way to the peer's pass. */
	l = R(NOW - 2 * DAY, NOW - 2 * DAY, NOW - 1, 9, -1);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_TRAPPED, &l, &out,
	    &ot), 1);
	assert_int_equal(ot, STORE_WHITE);
	assert_rec_equal(&out, &rem);
	/* An expired tuple of ours, trapped or not. */
	l = R(NOW - 5 * HOUR, NOW - 4 * HOUR, NOW - 1, 0, -1);
	rem = R(NOW - 60, NOW + 1440, NOW + 4 * HOUR, 0, 0);
	assert_int_equal(merge(STORE_GREY, rem, STORE_GREY, &l, &out, &ot), 1);
	assert_int_equal(ot, STORE_GREY);
	assert_rec_equal(&out, &rem);
}

static void
test_merge_trap_outranks(void **state)
{
	struct store_rec out, l, rem, again;
	enum store_type ot;

	(void)state;
	/* TRAPPED replaces WHITE: the earliest first, the most blocks. */
	l = R(NOW - 10 * DAY, NOW - 9 * DAY, NOW + 20 * DAY, 5, 3);
	rem = R(NOW - HOUR, NOW - HOUR, NOW + DAY, 2, -1);
	assert_int_equal(merge(STORE_TRAPPED, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_int_equal(ot, STORE_TRAPPED);
	assert_int_equal(out.first, NOW - 10 * DAY);
	assert_int_equal(out.bcount, 5);
	assert_int_equal(out.pass, NOW - HOUR);
	assert_int_equal(out.expire, NOW + DAY);
	assert_int_equal(out.pcount, -1);
	/* Again: nothing more to do. */
	again = out;
	assert_int_equal(merge(STORE_TRAPPED, rem, STORE_TRAPPED, &again,
	    &out, &ot), 0);
	/* The peer's first and count when they are the larger. */
	l = R(NOW - HOUR, NOW - HOUR, NOW + 20 * DAY, 1, 1);
	rem = R(NOW - 2 * DAY, NOW - 2 * DAY, NOW + DAY, 8, -1);
	assert_int_equal(merge(STORE_TRAPPED, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_int_equal(ot, STORE_TRAPPED);
	assert_int_equal(out.first, NOW - 2 * DAY);
	assert_int_equal(out.bcount, 8);

	/* WHITE never replaces a live TRAPPED, whatever its fields. */
	l = R(NOW - HOUR, NOW - HOUR, NOW + 1, 0, -1);
	rem = R(NOW - 30 * DAY, NOW, NOW + 36 * DAY, 99, 99);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_TRAPPED, &l, &out, &ot),
	    0);
	assert_int_equal(ot, STORE_NTYPES);

	/* TRAPPED and TRAPPED: combined, still trapped. */
	l = R(NOW - HOUR, NOW - HOUR, NOW + HOUR, 2, -1);
	rem = R(NOW - 2 * HOUR, NOW - 30, NOW + DAY, 1, -1);
	assert_int_equal(merge(STORE_TRAPPED, rem, STORE_TRAPPED, &l, &out,
	    &ot), 1);
	assert_int_equal(ot, STORE_TRAPPED);
	assert_rec_equal(&out, &(struct store_rec){ NOW - 2 * HOUR, NOW - 30,
	    NOW + DAY, 2, -1 });
}

static void
test_merge_combine(void **state)
{
	struct store_rec out, l, rem, again;
	enum store_type ot;

	(void)state;
	/* GREY: the earliest first and pass (the greylist clock). */
	l = R(NOW - 600, NOW + 900, NOW + 4 * HOUR - 600, 1, 0);
	rem = R(NOW - 1200, NOW + 300, NOW + 4 * HOUR - 1200, 3, 0);
	assert_int_equal(merge(STORE_GREY, rem, STORE_GREY, &l, &out, &ot), 1);
	assert_int_equal(ot, STORE_GREY);
	assert_rec_equal(&out, &(struct store_rec){ NOW - 1200, NOW + 300,
	    NOW + 4 * HOUR - 600, 3, 0 });
	/* The other way round: the same result. */
	assert_int_equal(merge(STORE_GREY, l, STORE_GREY, &rem, &again, &ot),
	    1);
	assert_rec_equal(&again, &out);

	/* WHITE: the earliest first, the latest pass and expiry. */
	l = R(NOW - 3 * DAY, NOW - 3 * DAY, NOW + 33 * DAY, 0, 4);
	rem = R(NOW - 5 * DAY, NOW - HOUR, NOW + 36 * DAY - HOUR, 2, 2);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_int_equal(ot, STORE_WHITE);
	assert_rec_equal(&out, &(struct store_rec){ NOW - 5 * DAY, NOW - HOUR,
	    NOW + 36 * DAY - HOUR, 2, 4 });

	/* Counts: the larger of each, never the sum. */
	l = R(NOW - DAY, NOW - DAY, NOW + DAY, 4, 2);
	rem = R(NOW - DAY, NOW - DAY, NOW + DAY, 3, 5);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_WHITE, &l, &out, &ot),
	    1);
	assert_int_equal(out.bcount, 4);
	assert_int_equal(out.pcount, 5);

	/* The same entry on both sides: nothing to write. */
	assert_int_equal(merge(STORE_WHITE, l, STORE_WHITE, &l, &out, &ot), 0);
	/* Ours already covers the peer's on every field. */
	rem = R(NOW - HOUR, NOW - 2 * DAY, NOW + HOUR, 1, 1);
	assert_int_equal(merge(STORE_WHITE, rem, STORE_WHITE, &l, &out, &ot),
	    0);
}

/* A second catch-up from the same peer changes nothing. */
static void
test_merge_idempotent(void **state)
{
	static const struct {
		enum store_type	 rt, lt;
		struct store_rec rem, loc;
	} c[] = {
		{ STORE_GREY, STORE_GREY,
		    { NOW - 100, NOW + 1400, NOW + 14300, 2, 0 },
		    { NOW - 50, NOW + 1450, NOW + 14350, 1, 1 } },
		{ STORE_GREY, STORE_GREY,
		    { NOW - 100, NOW + 1400, NOW + 14300, 2, 3 },
		    { NOW - 50, NOW + 1450, NOW + 14350, 1, -1 } },
		{ STORE_WHITE, STORE_WHITE,
		    { NOW - DAY, NOW - 60, NOW + 36 * DAY, 0, 3 },
		    { NOW - 2 * DAY, NOW - HOUR, NOW + 30 * DAY, 1, 1 } },
		{ STORE_TRAPPED, STORE_WHITE,
		    { NOW - 60, NOW - 60, NOW + DAY, 1, -1 },
		    { NOW - 2 * DAY, NOW - HOUR, NOW + 30 * DAY, 4, 1 } },
		{ STORE_TRAPPED, STORE_TRAPPED,
		    { NOW - 60, NOW - 10, NOW + DAY, 1, -1 },
		    { NOW - 90, NOW - 90, NOW + HOUR, 4, -1 } },
		{ STORE_SPAMTRAP, STORE_SPAMTRAP,
		    { 0, 0, 0, 0, -2 }, { 0, 0, 0, 0, -2 } },
	};
	struct store_rec out, once;
	enum store_type ot, ot1;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		once = c[i].loc;
		ot1 = c[i].lt;
		if (merge(c[i].rt, c[i].rem, c[i].lt, &c[i].loc, &out,
		    &ot) == 1) {
			once = out;
			ot1 = ot;
		}
		assert_int_equal(merge(c[i].rt, c[i].rem, ot1, &once, &out,
		    &ot), 0);
		/* And a third time, starting from nothing. */
		assert_int_equal(merge(c[i].rt, c[i].rem, c[i].rt, NULL, &out,
		    &ot), 1);
		once = out;
		assert_int_equal(merge(c[i].rt, c[i].rem, ot, &once, &out,
		    &ot), 0);
	}
}

static void
test_merge_spamtrap(void **state)
{
	struct store_rec out, rem = R(0, 0, 0, 0, GREY_PCOUNT_SPAMTRAP);
	struct store_rec l = R(NOW - DAY, 0, 0, 0, GREY_PCOUNT_SPAMTRAP);
	enum store_type ot;

	(void)state;
	/* Added when missing; an expiry of 0 is not expired for a trap. */
	assert_int_equal(merge(STORE_SPAMTRAP, rem, STORE_SPAMTRAP, NULL, &out,
	    &ot), 1);
	assert_int_equal(ot, STORE_SPAMTRAP);
	assert_rec_equal(&out, &rem);
	/* Left alone when we have it, even if the fields differ. */
	assert_int_equal(merge(STORE_SPAMTRAP, rem, STORE_SPAMTRAP, &l, &out,
	    &ot), 0);
	assert_int_equal(merge(STORE_SPAMTRAP, R(NOW - 9 * DAY, 5, 5, 5, -2),
	    STORE_SPAMTRAP, &l, &out, &ot), 0);
}

static void
test_merge_trapped_tuple(void **state)
{
	struct store_rec out, l, rem;
	enum store_type ot;

	(void)state;
	/* Ours trapped, the peer's not: stays -1. */
	l = R(NOW - 600, NOW + 900, NOW + HOUR, 1, GREY_PCOUNT_TRAPPED);
	rem = R(NOW - 1200, NOW + 300, NOW + 2 * HOUR, 2, 4);
	assert_int_equal(merge(STORE_GREY, rem, STORE_GREY, &l, &out, &ot), 1);
	assert_int_equal(ot, STORE_GREY);
	assert_int_equal(out.pcount, GREY_PCOUNT_TRAPPED);
	assert_int_equal(out.bcount, 2);
	/* The peer's trapped, ours not: becomes -1. */
	l = R(NOW - 600, NOW + 900, NOW + HOUR, 1, 6);
	rem = R(NOW - 600, NOW + 900, NOW + HOUR, 1, GREY_PCOUNT_TRAPPED);
	assert_int_equal(merge(STORE_GREY, rem, STORE_GREY, &l, &out, &ot), 1);
	assert_int_equal(out.pcount, GREY_PCOUNT_TRAPPED);
	assert_rec_equal(&out, &(struct store_rec){ NOW - 600, NOW + 900,
	    NOW + HOUR, 1, -1 });
	/* Both: unchanged. */
	assert_int_equal(merge(STORE_GREY, rem, STORE_GREY, &rem, &out, &ot),
	    0);
}

static void
test_merge_type_mismatch(void **state)
{
	struct store_rec out, l = R(NOW - DAY, NOW - DAY, NOW + DAY, 0, 1);
	enum store_type ot;

	(void)state;
	/* Types that cannot share a key: ours stays. */
	assert_int_equal(merge(STORE_GREY, R(NOW, NOW, NOW + DAY, 0, 0),
	    STORE_WHITE, &l, &out, &ot), 0);
	assert_int_equal(merge(STORE_SPAMTRAP, R(0, 0, 0, 0, -2),
	    STORE_WHITE, &l, &out, &ot), 0);
	assert_int_equal(merge(STORE_WHITE, R(NOW, NOW, NOW + DAY, 0, 0),
	    STORE_GREY, &l, &out, &ot), 0);
}

/* --- superseded --- */

static void
test_superseded(void **state)
{
	struct store_rec tuple = R(NOW - HOUR, NOW - 35 * 60,
	    NOW + 3 * HOUR, 0, 1);
	struct store_rec white = R(NOW - HOUR, NOW - 30 * 60,
	    NOW + 36 * DAY, 0, 1);
	struct store_rec w, t;

	(void)state;
	/* Live and passed since the tuple was first seen. */
	assert_true(catchup_superseded(&tuple, &white, NOW));
	w = white;
	w.pass = tuple.first;
	assert_true(catchup_superseded(&tuple, &w, NOW));
	w.pcount = 0;
	assert_true(catchup_superseded(&tuple, &w, NOW));
	/* Expired: now or earlier. */
	w = white;
	w.expire = NOW;
	assert_false(catchup_superseded(&tuple, &w, NOW));
	w.expire = NOW - DAY;
	assert_false(catchup_superseded(&tuple, &w, NOW));
	/* Passed before the tuple was first seen: another sender. */
	w = white;
	w.pass = tuple.first - 1;
	assert_false(catchup_superseded(&tuple, &w, NOW));
	/* A trapped tuple stays for the trap. */
	t = tuple;
	t.pcount = GREY_PCOUNT_TRAPPED;
	assert_false(catchup_superseded(&t, &white, NOW));
	/* A trapped address is not a pass. */
	w = white;
	w.pcount = GREY_PCOUNT_TRAPPED;
	assert_false(catchup_superseded(&tuple, &w, NOW));
}

/* --- gaps --- */

/* Where the table keeps (a, port); NULL when it does not. */
static struct catchup_source *
slot(struct catchup_source *tab, size_t n, const struct addr *a,
    uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].used && tab[i].port == port &&
		    addr_eq(&tab[i].addr, a))
			return &tab[i];
	return NULL;
}

static size_t
used(const struct catchup_source *tab, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += tab[i].used;
	return k;
}

static void
test_gap_order(void **state)
{
	struct catchup_source tab[4], *s;
	struct addr a = A("192.0.2.10");

	(void)state;
	memset(tab, 0, sizeof(tab));
	/* The first heard from a source: nothing known, nothing missed. */
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 100, NOW), 0);
	/* The next one. */
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 101, NOW + 1), 0);
	/* Four missing: 102 to 105. */
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 106, NOW + 2), 4);
	/* A repeat. */
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 106, NOW + 3), 0);
	/* Late, lower than the last: nothing, and the last stays. */
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 104, NOW + 4), 0);
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 105, NOW + 4), 0);
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 107, NOW + 5), 0);
	assert_int_equal(catchup_gap(tab, 4, &a, 8025, 109, NOW + 6), 1);
	/* One slot used, with the last counter and when it came. */
	assert_int_equal(used(tab, 4), 1);
	assert_non_null(s = slot(tab, 4, &a, 8025));
	assert_int_equal(s->counter, 109);
	assert_int_equal(s->seen, NOW + 6);
	/* No table: nothing tracked. */
	assert_int_equal(catchup_gap(tab, 0, &a, 8025, 500, NOW), 0);
}

static void
test_gap_wrap(void **state)
{
	struct catchup_source tab[2];
	struct addr a = A("2001:db8::7");

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 0xfffffffe, NOW), 0);
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 0xffffffff, NOW), 0);
	/* 0 went missing. */
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 1, NOW), 1);
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 2, NOW), 0);
	/* Straight across. */
	memset(tab, 0, sizeof(tab));
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 0xffffffff, NOW), 0);
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 0, NOW), 0);
	/* Late across the wrap: 0xffffffff after 0. */
	assert_int_equal(catchup_gap(tab, 2, &a, 40000, 0xffffffff, NOW), 0);
	assert_int_equal(tab[0].counter, 0);
}

static void
test_gap_max(void **state)
{
	struct catchup_source tab[2];
	struct addr a = A("192.0.2.10");
	uint32_t c = 1000;

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c, NOW), 0);
	/* Just under the limit: counted. */
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c + CATCHUP_GAPMAX - 1,
	    NOW), CATCHUP_GAPMAX - 2);
	c += CATCHUP_GAPMAX - 1;
	/* At it and beyond: a restart, but the counter is taken. */
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c + CATCHUP_GAPMAX,
	    NOW), 0);
	c += CATCHUP_GAPMAX;
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c + 3, NOW), 2);
	c += 3;
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c + 0x7fffffff, NOW),
	    0);
	c += 0x7fffffff;
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, c + 2, NOW), 1);
}

static void
test_gap_sources(void **state)
{
	struct catchup_source tab[8];
	struct addr a = A("192.0.2.10"), b = A("192.0.2.11");
	struct addr v6 = A("2001:db8::a"), mapped = A("::ffff:192.0.2.10");

	(void)state;
	memset(tab, 0, sizeof(tab));
	/* spamd on 8025 and spamlogd on another port, the same host. */
	assert_int_equal(catchup_gap(tab, 8, &a, 8025, 10, NOW), 0);
	assert_int_equal(catchup_gap(tab, 8, &a, 51000, 500, NOW), 0);
	assert_int_equal(catchup_gap(tab, 8, &a, 8025, 11, NOW), 0);
	assert_int_equal(catchup_gap(tab, 8, &a, 51000, 503, NOW), 2);
	assert_int_equal(catchup_gap(tab, 8, &a, 8025, 14, NOW), 2);
	/* Another address, the same port and counters. */
	assert_int_equal(catchup_gap(tab, 8, &b, 8025, 14, NOW), 0);
	assert_int_equal(catchup_gap(tab, 8, &b, 8025, 20, NOW), 5);
	assert_int_equal(catchup_gap(tab, 8, &a, 8025, 15, NOW), 0);
	/* IPv6. */
	assert_int_equal(catchup_gap(tab, 8, &v6, 8025, 1, NOW), 0);
	assert_int_equal(catchup_gap(tab, 8, &v6, 8025, 3, NOW), 1);
	/* A v4-mapped address is the IPv4 one (addr_parse unmaps). */
	assert_int_equal(catchup_gap(tab, 8, &mapped, 8025, 17, NOW), 1);
	assert_int_equal(catchup_gap(tab, 8, &a, 8025, 18, NOW), 0);
}

static void
test_gap_evict(void **state)
{
	struct catchup_source tab[3], *s;
	struct addr a = A("192.0.2.1"), b = A("192.0.2.2");
	struct addr c = A("192.0.2.3"), d = A("192.0.2.4");

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(catchup_gap(tab, 3, &a, 8025, 100, NOW + 10), 0);
	assert_int_equal(catchup_gap(tab, 3, &b, 8025, 200, NOW + 20), 0);
	assert_int_equal(catchup_gap(tab, 3, &c, 8025, 300, NOW + 30), 0);
	assert_int_equal(used(tab, 3), 3);
	/* a heard again: b is now the longest unheard. */
	assert_int_equal(catchup_gap(tab, 3, &a, 8025, 101, NOW + 40), 0);
	/* d takes b's slot. */
	assert_int_equal(catchup_gap(tab, 3, &d, 8025, 400, NOW + 50), 0);
	assert_int_equal(used(tab, 3), 3);
	assert_null(slot(tab, 3, &b, 8025));
	assert_non_null(s = slot(tab, 3, &d, 8025));
	assert_int_equal(s->counter, 400);
	assert_int_equal(s->seen, NOW + 50);
	/* a, c and d kept: their jumps count. */
	assert_int_equal(catchup_gap(tab, 3, &a, 8025, 103, NOW + 60), 1);
	assert_int_equal(catchup_gap(tab, 3, &c, 8025, 302, NOW + 61), 1);
	assert_int_equal(catchup_gap(tab, 3, &d, 8025, 402, NOW + 62), 1);
	/* b forgotten: heard as new, in place of a (heard at NOW + 60). */
	assert_int_equal(catchup_gap(tab, 3, &b, 8025, 210, NOW + 70), 0);
	assert_null(slot(tab, 3, &a, 8025));
	assert_int_equal(catchup_gap(tab, 3, &b, 8025, 212, NOW + 71), 1);
	/* Another port of a known address: another source, in place of
	   c's 8025 (NOW + 61). */
	assert_int_equal(catchup_gap(tab, 3, &c, 9999, 1, NOW + 80), 0);
	assert_null(slot(tab, 3, &c, 8025));
	assert_non_null(slot(tab, 3, &c, 9999));
	/* So c on 8025 is new again, and d (NOW + 62) goes. */
	assert_int_equal(catchup_gap(tab, 3, &c, 8025, 310, NOW + 81), 0);
	assert_null(slot(tab, 3, &d, 8025));
	assert_non_null(slot(tab, 3, &b, 8025));
	assert_non_null(slot(tab, 3, &c, 9999));
}

/*
 * A sender that restarts on the same address and port.  spamd binds its
 * sync socket to port 8025 when it multicasts or is given a bind address
 * (-y), and its counter starts again from 0; nfspamd's starts from 0 as
 * well.  After such a restart its counter is far below the last one
 * heard, and every packet it sends reads as late until the counter
 * passes the old value: packets lost meanwhile are not noticed.
 */
static void
test_gap_restart(void **state)
{
	struct catchup_source tab[2];
	struct addr a = A("192.0.2.10");

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 5000000, NOW), 0);
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 5000001, NOW + 1), 0);
	/* Restarted: 0, 1, 2, then 5 (3 and 4 lost). */
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 0, NOW + 60), 0);
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 1, NOW + 61), 0);
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 2, NOW + 62), 0);
	/* Taken for late packets before 05f67dc, so 0. */
	assert_int_equal(catchup_gap(tab, 2, &a, 8025, 5, NOW + 63), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_proof),
		cmocka_unit_test(test_proof_empty_key),
		cmocka_unit_test(test_proof_not_frame),
		cmocka_unit_test(test_frame_hdr),
		cmocka_unit_test(test_frame_refused),
		cmocka_unit_test(test_frame_mac),
		cmocka_unit_test(test_deflate_inflate),
		cmocka_unit_test(test_inflate_refused),
		cmocka_unit_test(test_inflate_short_message),
		cmocka_unit_test(test_rec_roundtrip),
		cmocka_unit_test(test_rec_bytes),
		cmocka_unit_test(test_rec_refused),
		cmocka_unit_test(test_key_ok),
		cmocka_unit_test(test_rec_put_full),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_merge_ignored),
		cmocka_unit_test(test_merge_replace),
		cmocka_unit_test(test_merge_trap_outranks),
		cmocka_unit_test(test_merge_combine),
		cmocka_unit_test(test_merge_idempotent),
		cmocka_unit_test(test_merge_spamtrap),
		cmocka_unit_test(test_merge_trapped_tuple),
		cmocka_unit_test(test_merge_type_mismatch),
		cmocka_unit_test(test_superseded),
		cmocka_unit_test(test_gap_order),
		cmocka_unit_test(test_gap_wrap),
		cmocka_unit_test(test_gap_max),
		cmocka_unit_test(test_gap_sources),
		cmocka_unit_test(test_gap_evict),
		cmocka_unit_test(test_gap_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
