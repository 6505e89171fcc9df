/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * sync: spamd's sync packets.  See sync.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "replay.h"
#include "sync.h"
#include "util.h"

#define KEYFILE_MAX	(1 << 20)
#define TLV_HDR		4
#define ALIGN16(n)	(((n) + 15) & ~(size_t)15)

static const char *const err_names[SYNC_NERR] = {
	[SYNC_OK] = "ok",
	[SYNC_ESHORT] = "short",
	[SYNC_EVERSION] = "version",
	[SYNC_EAF] = "af",
	[SYNC_EHMAC] = "hmac",
	[SYNC_ETLV] = "tlv",
	[SYNC_EUNKNOWN] = "unknown-tlv",
	[SYNC_ESTALE] = "stale",
	[SYNC_EREPLAY] = "replay",
};

const char *
sync_err_name(enum sync_err e)
{
	return (unsigned)e < SYNC_NERR ? err_names[e] : "?";
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* --- the key --- */

void
sync_key_from_bytes(const void *p, size_t n, struct sync_key *k)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memset(k, 0, sizeof(*k));
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != SYNC_HMACLEN)
		abort();	/* SHA-1 of bytes in memory cannot fail */
	for (unsigned i = 0; i < mdlen; i++) {
		k->text[2 * i] = hex[md[i] >> 4];
		k->text[2 * i + 1] = hex[md[i] & 15];
	}
	k->len = 2 * mdlen;
}

int
sync_key_load(const char *path, struct sync_key *k, bool *missing,
    char *err, size_t errlen)
{
	FILE *f;
	uint8_t *b;
	size_t n;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	*missing = false;
	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT) {
			/* spamd: no file, the empty key. */
			*missing = true;
			return 0;
		}
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	}
	if ((b = malloc(KEYFILE_MAX + 1)) == NULL) {
		fclose(f);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	n = fread(b, 1, KEYFILE_MAX + 1, f);
	if (ferror(f))
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
	else if (n > KEYFILE_MAX)
		util_seterr(err, errlen, "%s: larger than %d bytes; a key "
		    "of 2048 random bytes is plenty", path, KEYFILE_MAX);
	else {
		sync_key_from_bytes(b, n, k);
		rc = 0;
	}
	free(b);
	fclose(f);
	return rc;
}

static void
hmac(const struct sync_key *k, const uint8_t *p, size_t n,
    uint8_t out[SYNC_HMACLEN])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha1(), k->text, (int)k->len, p, n, out, &len) == NULL ||
	    len != SYNC_HMACLEN)
		abort();	/* HMAC-SHA1 in memory cannot fail */
}

/* --- encoding --- */

static size_t
alen(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* A TLV's bytes for one message at p (room checked by the caller). */
static size_t
tlv_size(const struct sync_msg *m)
{
	size_t al = alen(&m->addr);

	if (m->type == SYNC_GREY)
		return ALIGN16(TLV_HDR + 4 + al + 6 + strlen(m->from) + 1 +
		    strlen(m->to) + 1 + strlen(m->helo) + 1);
	return TLV_HDR + 8 + al;
}

static void
tlv_put(const struct sync_msg *m, size_t size, uint8_t *p)
{
	size_t al = alen(&m->addr);

	memset(p, 0, size);
	put16(p, (uint16_t)m->type);
	put16(p + 2, (uint16_t)size);
	util_put32be(p + 4, m->timestamp);
	if (m->type == SYNC_GREY) {
		size_t fl = strlen(m->from) + 1, tl = strlen(m->to) + 1,
		    hl = strlen(m->helo) + 1;
		uint8_t *s = p + 8 + al + 6;

		memcpy(p + 8, m->addr.bytes, al);
		put16(p + 8 + al, (uint16_t)fl);
		put16(p + 10 + al, (uint16_t)tl);
		put16(p + 12 + al, (uint16_t)hl);
		memcpy(s, m->from, fl);
		memcpy(s + fl, m->to, tl);
		memcpy(s + fl + tl, m->helo, hl);
	} else {
		util_put32be(p + 8, m->expire);
		memcpy(p + 12, m->addr.bytes, al);
	}
}

size_t
sync_encode(const struct sync_key *k, uint32_t counter,
    const struct sync_msg *m, uint8_t *buf, size_t len)
{
	uint8_t mac[SYNC_HMACLEN];
	size_t tlv, total;

	if ((m->type != SYNC_GREY && m->type != SYNC_WHITE &&
	    m->type != SYNC_TRAPPED) || (m->addr.family != AF_INET &&
	    m->addr.family != AF_INET6) || (m->type == SYNC_GREY &&
	    (m->from == NULL || m->to == NULL || m->helo == NULL)))
		return 0;
	tlv = tlv_size(m);
	total = SYNC_HDRSIZE + tlv + TLV_HDR;
	if (total > len || total > SYNC_MAXSIZE)
		return 0;
	memset(buf, 0, SYNC_HDRSIZE);
	buf[0] = SYNC_VERSION;
	buf[1] = m->addr.family == AF_INET ? SYNC_AF_INET : SYNC_AF_INET6;
	put16(buf + 2, (uint16_t)total);
	util_put32be(buf + 4, counter);
	tlv_put(m, tlv, buf + SYNC_HDRSIZE);
	/* END */
	put16(buf + SYNC_HDRSIZE + tlv, SYNC_END);
	put16(buf + SYNC_HDRSIZE + tlv + 2, TLV_HDR);
	hmac(k, buf, total, mac);
	memcpy(buf + 8, mac, SYNC_HMACLEN);
	return total;
}

/* --- decoding --- */

/* One TLV at p, n bytes of it: the message, or why not. */
static enum sync_err
tlv_get(const uint8_t *p, size_t n, int family, struct sync_msg *m)
{
	size_t al = family == AF_INET ? 4 : 16;
	uint16_t type = get16(p);

	memset(m, 0, sizeof(*m));
	m->type = (enum sync_type)type;
	m->addr.family = (uint8_t)family;
	switch (type) {
	case SYNC_GREY: {
		size_t fixed = TLV_HDR + 4 + al + 6, fl, tl, hl;
		const char *s;

		if (n < fixed)
			return SYNC_ETLV;
		m->timestamp = util_get32be(p + 4);
		memcpy(m->addr.bytes, p + 8, al);
		fl = get16(p + 8 + al);
		tl = get16(p + 10 + al);
		hl = get16(p + 12 + al);
		s = (const char *)p + fixed;
		/* spamd does not check the NULs; a string must end in one. */
		if (fl == 0 || tl == 0 || hl == 0 || fixed + fl + tl + hl > n ||
		    s[fl - 1] != '\0' || s[fl + tl - 1] != '\0' ||
		    s[fl + tl + hl - 1] != '\0')
			return SYNC_ETLV;
		m->from = s;
		m->to = s + fl;
		m->helo = s + fl + tl;
		return SYNC_OK;
	}
	case SYNC_WHITE:
	case SYNC_TRAPPED:
		if (n != TLV_HDR + 8 + al)
			return SYNC_ETLV;
		m->timestamp = util_get32be(p + 4);
		m->expire = util_get32be(p + 8);
		memcpy(m->addr.bytes, p + 12, al);
		return SYNC_OK;
	}
	return SYNC_EUNKNOWN;
}

/* Walk the TLVs; with fn NULL only check them. */
static enum sync_err
walk(const uint8_t *p, size_t len, int family, sync_msg_fn fn, void *arg)
{
	size_t off = SYNC_HDRSIZE;

	while (off < len) {
		struct sync_msg m;
		size_t n;
		enum sync_err e;

		if (len - off < TLV_HDR)
			return SYNC_ETLV;
		n = get16(p + off + 2);
		if (n < TLV_HDR || n > len - off)
			return SYNC_ETLV;
		if (get16(p + off) == SYNC_END)
			return SYNC_OK;
		if ((e = tlv_get(p + off, n, family, &m)) != SYNC_OK)
			return e;
		if (fn != NULL)
			fn(arg, &m);
		off += n;
	}
	return SYNC_OK;
}

enum sync_err
sync_decode(const struct sync_key *k, const uint8_t *pkt, size_t len,
    struct sync_hdr *h, sync_msg_fn fn, void *arg)
{
	uint8_t copy[SYNC_MAXSIZE], mac[SYNC_HMACLEN];
	int family;
	enum sync_err e;

	memset(h, 0, sizeof(*h));
	if (len < SYNC_HDRSIZE)
		return SYNC_ESHORT;
	h->version = pkt[0];
	h->af = pkt[1];
	h->length = get16(pkt + 2);
	h->counter = util_get32be(pkt + 4);
	memcpy(h->hmac, pkt + 8, SYNC_HMACLEN);
	if (h->version != SYNC_VERSION)
		return SYNC_EVERSION;
	if (h->af == SYNC_AF_INET)
		family = AF_INET;
	else if (h->af == SYNC_AF_INET6)
		family = AF_INET6;
	else
		return SYNC_EAF;
	if (h->length < SYNC_HDRSIZE || h->length > len ||
	    h->length > SYNC_MAXSIZE)
		return SYNC_ESHORT;
	memcpy(copy, pkt, h->length);
	memset(copy + 8, 0, SYNC_HMACLEN);
	hmac(k, copy, h->length, mac);
	if (CRYPTO_memcmp(mac, pkt + 8, SYNC_HMACLEN) != 0)
		return SYNC_EHMAC;
	if ((e = walk(pkt, h->length, family, NULL, NULL)) != SYNC_OK)
		return e;
	if (fn != NULL)
		walk(pkt, h->length, family, fn, arg);
	return SYNC_OK;
}

/* --- what a message may be about --- */

const char *
sync_ignore_addr(const struct addr *from, const struct addr *a)
{
	const char *why = addr_not_client(a), *fw;

	if (why != NULL && strcmp(why, "loopback") == 0 &&
	    (fw = addr_not_client(from)) != NULL &&
	    strcmp(fw, "loopback") == 0)
		return NULL;
	return why;
}

/* --- replay protection --- */

struct sync_replay {
	uint32_t	 window;
	struct replay	*seen;
};

struct sync_replay *
sync_replay_new(uint32_t window)
{
	struct sync_replay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->window = window > 0 ? window : 1;
	if ((r->seen = replay_new(SYNC_REPLAY_MAX)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
sync_replay_free(struct sync_replay *r)
{
	if (r == NULL)
		return;
	replay_free(r->seen);
	free(r);
}

enum sync_err
sync_replay_check(struct sync_replay *r, const struct sync_hdr *h,
    uint32_t ts_min, uint32_t ts_max, int64_t now)
{
	uint64_t d = 0;

	if ((int64_t)ts_min < now - r->window ||
	    (int64_t)ts_max > now + r->window)
		return SYNC_ESTALE;
	for (int i = 0; i < 8; i++)
		d = d << 8 | h->hmac[i];
	/* Past ts_min + window the timestamp check refuses it anyway. */
	if (replay_seen(r->seen, d, (int64_t)ts_min + r->window, now))
		return SYNC_EREPLAY;
	return SYNC_OK;
}

uint64_t
sync_replay_forgotten(const struct sync_replay *r)
{
	return replay_forgotten_early(r->seen);
}

/* --- -Y and -y arguments --- */

static int
target_num(const char *s, struct sync_target *t, const char **why)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') {
		*why = "not a number after the colon";
		return -1;
	}
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535) {
		*why = "the number after the colon must be from 1 to 65535";
		return -1;
	}
	t->has_num = true;
	t->num = (unsigned)v;
	return 0;
}

int
sync_target_parse(const char *s, struct sync_target *t, const char **why)
{
	const char *colon, *host = s, *rest = NULL;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close == s + 1) {
			*why = "an opening [ without an address and ]";
			return -1;
		}
		host = s + 1;
		n = (size_t)(close - host);
		if (close[1] == ':')
			rest = close + 2;
		else if (close[1] != '\0') {
			*why = "text after ]";
			return -1;
		}
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		n = strlen(s);		/* an IPv6 address, no number */
	} else if (colon != NULL) {
		n = (size_t)(colon - s);
		rest = colon + 1;
	} else
		n = strlen(s);
	if (n == 0) {
		*why = "nothing before the colon";
		return -1;
	}
	if (n >= sizeof(t->host)) {
		*why = "too long";
		return -1;
	}
	memcpy(t->host, host, n);
	t->host[n] = '\0';
	if (strpbrk(t->host, " \t\r\n[]/") != NULL) {
		*why = "blanks, brackets or slashes in the name";
		return -1;
	}
	return rest != NULL ? target_num(rest, t, why) : 0;
}
