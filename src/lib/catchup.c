/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * catchup: the catch-up channel's bytes and merge rules.  See catchup.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include "addr.h"
#include "catchup.h"
#include "grey.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* --- handshake --- */

void
catchup_hello(const uint8_t nonce[CATCHUP_NONCELEN],
    uint8_t out[CATCHUP_HELLOLEN])
{
	memcpy(out, CATCHUP_MAGIC, CATCHUP_MAGICLEN);
	memcpy(out + CATCHUP_MAGICLEN, nonce, CATCHUP_NONCELEN);
}

int
catchup_hello_parse(const uint8_t in[CATCHUP_HELLOLEN],
    uint8_t nonce[CATCHUP_NONCELEN])
{
	if (memcmp(in, CATCHUP_MAGIC, CATCHUP_MAGICLEN) != 0)
		return -1;
	memcpy(nonce, in + CATCHUP_MAGICLEN, CATCHUP_NONCELEN);
	return 0;
}

/*
 * HMAC-SHA256 over role, both nonces and up to two more pieces: the
 * role keeps a client's proof from passing for a server's frame.
 */
static void
mac(const struct catchup_session *s, char role, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen, uint8_t out[CATCHUP_MACLEN])
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end() };
	EVP_MAC *m;
	EVP_MAC_CTX *h = NULL;
	size_t len = 0;
	uint8_t r = (uint8_t)role;

	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (h = EVP_MAC_CTX_new(m)) == NULL ||
	    EVP_MAC_init(h, (const unsigned char *)s->key.text, s->key.len,
	    params) != 1 ||
	    EVP_MAC_update(h, &r, 1) != 1 ||
	    EVP_MAC_update(h, s->cnonce, CATCHUP_NONCELEN) != 1 ||
	    EVP_MAC_update(h, s->snonce, CATCHUP_NONCELEN) != 1 ||
	    (alen > 0 && EVP_MAC_update(h, a, alen) != 1) ||
	    (blen > 0 && EVP_MAC_update(h, b, blen) != 1) ||
	    EVP_MAC_final(h, out, &len, CATCHUP_MACLEN) != 1 ||
	    len != CATCHUP_MACLEN)
		abort();	/* in memory, only exhaustion can fail it */
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(m);
}

void
catchup_proof(const struct catchup_session *s, uint8_t out[CATCHUP_MACLEN])
{
	mac(s, 'C', NULL, 0, NULL, 0, out);
}

bool
catchup_proof_ok(const struct catchup_session *s,
    const uint8_t in[CATCHUP_MACLEN])
{
	uint8_t want[CATCHUP_MACLEN];

	catchup_proof(s, want);
	return CRYPTO_memcmp(want, in, CATCHUP_MACLEN) == 0;
}

/* --- frames --- */

void
catchup_frame_hdr(const struct catchup_frame *f, uint8_t out[CATCHUP_HDRLEN])
{
	memset(out, 0, CATCHUP_HDRLEN);
	out[0] = (uint8_t)f->kind;
	put32(out + 4, f->seq);
	put32(out + 8, f->rawlen);
	put32(out + 12, f->bodylen);
}

int
catchup_frame_parse(const uint8_t in[CATCHUP_HDRLEN], struct catchup_frame *f,
    const char **why)
{
	f->kind = in[0];
	f->seq = get32(in + 4);
	f->rawlen = get32(in + 8);
	f->bodylen = get32(in + 12);
	if (in[1] != 0 || in[2] != 0 || in[3] != 0) {
		*why = "reserved header bytes not zero";
		return -1;
	}
	switch (f->kind) {
	case CATCHUP_DATA:
		if (f->rawlen == 0 || f->rawlen > CATCHUP_RAWMAX ||
		    f->bodylen == 0 || f->bodylen > CATCHUP_BODYMAX) {
			*why = "data frame of an impossible size";
			return -1;
		}
		return 0;
	case CATCHUP_END:
		if (f->rawlen != CATCHUP_ENDLEN ||
		    f->bodylen != CATCHUP_ENDLEN) {
			*why = "end frame of the wrong size";
			return -1;
		}
		return 0;
	case CATCHUP_FAIL:
		if (f->rawlen != f->bodylen || f->bodylen > CATCHUP_FAILMAX) {
			*why = "failure frame of an impossible size";
			return -1;
		}
		return 0;
	}
	*why = "unknown frame kind";
	return -1;
}

void
catchup_frame_mac(const struct catchup_session *s,
    const uint8_t hdr[CATCHUP_HDRLEN], const uint8_t *body, size_t bodylen,
    uint8_t out[CATCHUP_MACLEN])
{
	mac(s, 'S', hdr, CATCHUP_HDRLEN, body, bodylen, out);
}

bool
catchup_frame_mac_ok(const struct catchup_session *s,
    const uint8_t hdr[CATCHUP_HDRLEN], const uint8_t *body, size_t bodylen,
    const uint8_t in[CATCHUP_MACLEN])
{
	uint8_t want[CATCHUP_MACLEN];

	catchup_frame_mac(s, hdr, body, bodylen, want);
	return CRYPTO_memcmp(want, in, CATCHUP_MACLEN) == 0;
}

/* --- bodies --- */

size_t
catchup_deflate(const uint8_t *raw, size_t rawlen, uint8_t *out,
    size_t outlen)
{
	uLongf n = (uLongf)outlen;

	/* Level 1: the keys repeat enough that more effort buys little. */
	if (rawlen > CATCHUP_RAWMAX || outlen < compressBound(rawlen) ||
	    compress2(out, &n, raw, (uLong)rawlen, 1) != Z_OK)
		return 0;
	return (size_t)n;
}

int
catchup_inflate(const uint8_t *body, size_t bodylen, uint32_t rawlen,
    uint8_t *out, const char **why)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (rawlen > CATCHUP_RAWMAX || inflateInit(&z) != Z_OK) {
		*why = "cannot inflate";
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)bodylen;
	z.next_out = out;
	z.avail_out = rawlen;
	rc = inflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END || z.total_out != rawlen || z.avail_in != 0) {
		if (rc == Z_STREAM_END && z.total_out < rawlen)
			*why = "data frame shorter than it says";
		else if (rc == Z_STREAM_END ||
		    (rc == Z_BUF_ERROR && z.avail_out == 0))
			*why = "data frame longer than it says";
		else
			*why = "data frame is not a zlib stream of its length";
		inflateEnd(&z);
		return -1;
	}
	inflateEnd(&z);
	return 0;
}

/* --- records --- */

size_t
catchup_rec_put(uint8_t *buf, size_t size, size_t len,
    const struct catchup_rec *r)
{
	size_t need = 3 + r->keylen + STORE_RECSIZE;

	if (r->keylen == 0 || r->keylen > STORE_KEYMAX ||
	    (unsigned)r->type >= STORE_NTYPES || len > size ||
	    size - len < need)
		return 0;
	buf[len] = (uint8_t)r->type;
	buf[len + 1] = (uint8_t)(r->keylen >> 8);
	buf[len + 2] = (uint8_t)r->keylen;
	memcpy(buf + len + 3, r->key, r->keylen);
	store_rec_encode(&r->rec, buf + len + 3 + r->keylen);
	return len + need;
}

/* An address, or a network in the store's key form. */
static bool
addr_key_ok(const char *key, size_t len)
{
	char text[ADDR_STRLEN + 8];
	struct prefix p;
	const char *why;

	if (len >= sizeof(text))
		return false;
	memcpy(text, key, len);
	text[len] = '\0';
	return prefix_parse(text, &p, false, &why) == 0;
}

/* A mail address as spamdb -T stores it: printable, no spaces. */
static bool
spamtrap_key_ok(const char *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)key[i] <= ' ' ||
		    (unsigned char)key[i] == 0x7f)
			return false;
	return true;
}

bool
catchup_key_ok(enum store_type type, const char *key, size_t len)
{
	struct store_tuple tp;
	struct addr a;
	char ip[ADDR_STRLEN];
	const char *why;

	if (len == 0 || len > STORE_KEYMAX || memchr(key, '\0', len) != NULL)
		return false;
	switch (type) {
	case STORE_GREY:
		if (store_tuple_split(key, len, &tp) != 0 ||
		    tp.iplen >= sizeof(ip))
			return false;
		memcpy(ip, tp.ip, tp.iplen);
		ip[tp.iplen] = '\0';
		return addr_parse(ip, &a, &why) == 0;
	case STORE_WHITE:
	case STORE_TRAPPED:
		return addr_key_ok(key, len);
	case STORE_SPAMTRAP:
		return spamtrap_key_ok(key, len);
	default:
		return false;
	}
}

int
catchup_rec_next(const uint8_t *buf, size_t len, size_t *off,
    struct catchup_rec *r, const char **why)
{
	size_t o = *off, klen;

	if (o >= len)
		return 0;
	if (len - o < 3) {
		*why = "record cut short";
		return -1;
	}
	klen = (size_t)buf[o + 1] << 8 | buf[o + 2];
	if (buf[o] >= STORE_NTYPES) {
		*why = "record of an unknown type";
		return -1;
	}
	if (klen == 0 || klen > STORE_KEYMAX) {
		*why = "record key of an impossible length";
		return -1;
	}
	if (len - o - 3 < klen + STORE_RECSIZE) {
		*why = "record cut short";
		return -1;
	}
	r->type = buf[o];
	r->key = (const char *)buf + o + 3;
	r->keylen = klen;
	if (!catchup_key_ok(r->type, r->key, klen)) {
		*why = "record key does not fit its type";
		return -1;
	}
	if (store_rec_decode(buf + o + 3 + klen, STORE_RECSIZE,
	    &r->rec) != 0) {
		*why = "record value unreadable";
		return -1;
	}
	*off = o + 3 + klen + STORE_RECSIZE;
	return 1;
}

void
catchup_end_encode(const struct catchup_end *e, uint8_t out[CATCHUP_ENDLEN])
{
	for (int t = 0; t < STORE_NTYPES; t++)
		put64(out + 8 * t, e->sent[t]);
	out[32] = e->net4;
	out[33] = e->net6;
}

void
catchup_end_parse(const uint8_t in[CATCHUP_ENDLEN], struct catchup_end *e)
{
	for (int t = 0; t < STORE_NTYPES; t++)
		e->sent[t] = get64(in + 8 * t);
	e->net4 = in[32];
	e->net6 = in[33];
}

/* --- merging --- */

static bool
expired(const struct store_rec *r, int64_t now)
{
	return r->pcount != GREY_PCOUNT_SPAMTRAP && r->expire <= now;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int32_t
max32(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

/* Both the same kind of entry: field by field. */
static void
combine(enum store_type type, const struct store_rec *l,
    const struct store_rec *r, struct store_rec *out)
{
	out->first = min64(l->first, r->first);
	out->pass = type == STORE_GREY ? min64(l->pass, r->pass) :
	    max64(l->pass, r->pass);
	out->expire = max64(l->expire, r->expire);
	out->bcount = max32(l->bcount, r->bcount);
	/* A tuple that hit a trap on either side stays trapped. */
	if (l->pcount < 0 || r->pcount < 0)
		out->pcount = l->pcount < r->pcount ? l->pcount : r->pcount;
	else
		out->pcount = max32(l->pcount, r->pcount);
}

bool
catchup_rec_consistent(enum store_type type, const struct store_rec *r)
{
	switch (type) {
	case STORE_GREY:
		return r->pcount >= GREY_PCOUNT_TRAPPED;
	case STORE_WHITE:
		return r->pcount >= 0;
	case STORE_TRAPPED:
		return r->pcount == GREY_PCOUNT_TRAPPED;
	case STORE_SPAMTRAP:
		return r->pcount == GREY_PCOUNT_SPAMTRAP;
	default:
		return false;
	}
}

int
catchup_merge(enum store_type rtype, const struct store_rec *remote,
    enum store_type ltype, const struct store_rec *local, int64_t now,
    struct store_rec *out, enum store_type *otype)
{
	struct store_rec c;

	if (!catchup_rec_consistent(rtype, remote) || expired(remote, now))
		return 0;
	if (local == NULL || expired(local, now)) {
		*out = *remote;
		*otype = rtype;
		return 1;
	}
	if (rtype == STORE_SPAMTRAP)
		return 0;
	if (ltype == STORE_TRAPPED && rtype == STORE_WHITE)
		return 0;
	if (ltype == STORE_WHITE && rtype == STORE_TRAPPED) {
		*out = *remote;
		out->first = min64(local->first, remote->first);
		out->bcount = max32(local->bcount, remote->bcount);
		*otype = STORE_TRAPPED;
		return 1;
	}
	if (ltype != rtype)
		return 0;
	combine(rtype, local, remote, &c);
	if (memcmp(&c, local, sizeof(c)) == 0)
		return 0;
	*out = c;
	*otype = rtype;
	return 1;
}

bool
catchup_superseded(const struct store_rec *tuple,
    const struct store_rec *white, int64_t now)
{
	return tuple->pcount >= 0 && white->pcount >= 0 &&
	    white->expire > now && white->pass >= tuple->first;
}

/* --- gaps --- */

#define CATCHUP_LATEMAX	1024	/* further back: a restart */

uint32_t
catchup_gap(struct catchup_source *tab, size_t n, const struct addr *a,
    uint16_t port, uint32_t counter, int64_t now)
{
	struct catchup_source *s = NULL, *old = NULL;
	uint32_t d;

	for (size_t i = 0; i < n; i++) {
		if (tab[i].used && tab[i].port == port &&
		    addr_eq(&tab[i].addr, a)) {
			s = &tab[i];
			break;
		}
		if (old == NULL || !tab[i].used ||
		    (old->used && tab[i].seen < old->seen))
			old = &tab[i];
	}
	if (s == NULL) {
		if (old == NULL)
			return 0;
		*old = (struct catchup_source){ .addr = *a, .port = port,
		    .used = true, .counter = counter, .seen = now };
		return 0;
	}
	s->seen = now;
	d = counter - s->counter;
	if (d == 0)
		return 0;	/* a repeat */
	if (d >= 1U << 31 && s->counter - counter < CATCHUP_LATEMAX)
		return 0;	/* late */
	/* Further back: the sender restarted; d >= CATCHUP_GAPMAX. */
	s->counter = counter;
	return d < CATCHUP_GAPMAX ? d - 1 : 0;
}
