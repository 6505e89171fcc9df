/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * rlayout: the shared store's layout.  See rlayout.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlayout.h"
#include "util.h"

#define URL_REDIS	"redis://"
#define URL_UNIX	"unix:"

bool
rl_url_is_shared(const char *s)
{
	return strncmp(s, URL_REDIS, strlen(URL_REDIS)) == 0 ||
	    strncmp(s, URL_UNIX, strlen(URL_UNIX)) == 0;
}

/* A decimal number from min to max, all of s[0..n). */
static int
number(const char *s, size_t n, long min, long max, long *out)
{
	long v = 0;

	if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
url_db(const char *s, size_t n, struct rl_url *u, const char *url, char *err,
    size_t errlen)
{
	long db;

	if (number(s, n, 0, 65535, &db) == -1)
		return util_seterr(err, errlen, "--store %s: database \"%.*s\" "
		    "is not a number from 0 to 65535", url, (int)n, s);
	u->db = (int)db;
	return 0;
}

static int
url_unix(const char *s, struct rl_url *u, char *err, size_t errlen)
{
	const char *p = s + strlen(URL_UNIX), *q;
	size_t n;

	q = strchr(p, '?');
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	if (n == 0 || p[0] != '/')
		return util_seterr(err, errlen, "--store %s: want an absolute "
		    "socket path after unix:", s);
	if (n >= sizeof(u->path))
		return util_seterr(err, errlen, "--store %s: socket path longer "
		    "than %zu bytes", s, sizeof(u->path) - 1);
	memcpy(u->path, p, n);
	u->path[n] = '\0';
	u->unix_sock = true;
	if (q == NULL)
		return 0;
	if (strncmp(q, "?db=", 4) != 0)
		return util_seterr(err, errlen, "--store %s: \"%s\" is not "
		    "?db=N", s, q);
	return url_db(q + 4, strlen(q + 4), u, s, err, errlen);
}

/* host[:port] or [v6][:port], n bytes of p. */
static int
url_host(const char *p, size_t n, struct rl_url *u, const char *s, char *err,
    size_t errlen)
{
	const char *h = p, *port = NULL;
	size_t hl = n;
	long v;

	if (n > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', n);

		if (close == NULL)
			return util_seterr(err, errlen, "--store %s: no ] after "
			    "[", s);
		h = p + 1;
		hl = (size_t)(close - h);
		if (close + 1 < p + n) {
			if (close[1] != ':')
				return util_seterr(err, errlen, "--store %s: "
				    "want : after ]", s);
			port = close + 2;
		}
	} else {
		const char *c = memchr(p, ':', n);

		if (c != NULL) {
			hl = (size_t)(c - p);
			port = c + 1;
		}
	}
	if (hl == 0)
		return util_seterr(err, errlen, "--store %s: no host", s);
	if (hl >= sizeof(u->host))
		return util_seterr(err, errlen, "--store %s: host name too "
		    "long", s);
	for (size_t i = 0; i < hl; i++)
		if (h[i] <= ' ' || strchr("/@[]", h[i]) != NULL ||
		    (unsigned char)h[i] >= 0x7f)
			return util_seterr(err, errlen, "--store %s: bad "
			    "character in the host", s);
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	u->port = RL_PORT;
	if (port != NULL) {
		if (number(port, (size_t)(p + n - port), 1, 65535, &v) == -1)
			return util_seterr(err, errlen, "--store %s: port "
			    "\"%.*s\" is not from 1 to 65535", s,
			    (int)(p + n - port), port);
		u->port = (uint16_t)v;
	}
	return 0;
}

int
rl_url_parse(const char *s, struct rl_url *u, char *err, size_t errlen)
{
	const char *p, *at, *slash, *end;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, URL_UNIX, strlen(URL_UNIX)) == 0)
		return url_unix(s, u, err, errlen);
	if (strncmp(s, URL_REDIS, strlen(URL_REDIS)) != 0)
		return util_seterr(err, errlen, "--store %s: want redis://host"
		    "[:port][/db] or unix:/path[?db=N]", s);
	p = s + strlen(URL_REDIS);
	end = p + strlen(p);
	if ((slash = strchr(p, '/')) == NULL)
		slash = end;
	if ((at = memchr(p, '@', (size_t)(slash - p))) != NULL) {
		if (memchr(p, ':', (size_t)(at - p)) != NULL)
			return util_seterr(err, errlen, "--store: a password "
			    "in the URL is not taken (it would show in ps); "
			    "use --store-password-file");
		if (at == p || (size_t)(at - p) >= sizeof(u->user))
			return util_seterr(err, errlen, "--store %s: bad user "
			    "name", s);
		memcpy(u->user, p, (size_t)(at - p));
		u->user[at - p] = '\0';
		p = at + 1;
	}
	if (url_host(p, (size_t)(slash - p), u, s, err, errlen) == -1)
		return -1;
	if (slash == end || slash + 1 == end)
		return 0;
	return url_db(slash + 1, (size_t)(end - slash - 1), u, s, err, errlen);
}

void
rl_url_format(const struct rl_url *u, char *buf, size_t len)
{
	if (u->unix_sock)
		snprintf(buf, len, "unix:%s?db=%d", u->path, u->db);
	else
		snprintf(buf, len, "redis://%s%s%s%s%s:%u/%d", u->user,
		    u->user[0] != '\0' ? "@" : "",
		    strchr(u->host, ':') != NULL ? "[" : "", u->host,
		    strchr(u->host, ':') != NULL ? "]" : "", u->port, u->db);
}

static size_t
prefixed(const char *pfx, const char *s, size_t n, char *out, size_t outlen)
{
	size_t pl = strlen(pfx);

	if (n == 0 || pl + n > outlen)
		return 0;
	memcpy(out, pfx, pl);
	memcpy(out + pl, s, n);
	return pl + n;
}

size_t
rl_addr_key(const char *addr, size_t len, char *out, size_t outlen)
{
	return prefixed(RL_ADDRS, addr, len, out, outlen);
}

size_t
rl_os_key(const char *addr, size_t len, char *out, size_t outlen)
{
	return prefixed(RL_OS, addr, len, out, outlen);
}

int
rl_locate(enum store_type type, const char *key, size_t keylen,
    struct rl_loc *l)
{
	const char *nl;

	memset(l, 0, sizeof(*l));
	if (keylen == 0 || keylen > STORE_KEYMAX)
		return -1;
	switch (type) {
	case STORE_GREY:
		/* The network's hash, the rest a field of it. */
		if ((nl = memchr(key, '\n', keylen)) == NULL || nl == key)
			return -1;
		l->keylen = prefixed(RL_TUPLES, key, (size_t)(nl - key),
		    l->key, sizeof(l->key));
		l->field = nl + 1;
		l->fieldlen = keylen - (size_t)(nl + 1 - key);
		return l->keylen == 0 || l->fieldlen == 0 ? -1 : 0;
	case STORE_WHITE:
	case STORE_TRAPPED:
		l->keylen = rl_addr_key(key, keylen, l->key, sizeof(l->key));
		return l->keylen == 0 ? -1 : 0;
	case STORE_SPAMTRAP:
		l->keylen = strlen(RL_SPAMTRAP);
		memcpy(l->key, RL_SPAMTRAP, l->keylen);
		l->field = key;
		l->fieldlen = keylen;
		return 0;
	default:
		return -1;
	}
}

void
rl_addr_encode(enum store_type type, const struct store_rec *r,
    uint8_t out[RL_ADDRSIZE])
{
	out[0] = type == STORE_TRAPPED ? 'T' : 'W';
	store_rec_encode(r, out + 1);
}

int
rl_addr_decode(const void *v, size_t len, enum store_type *type,
    struct store_rec *r)
{
	const uint8_t *p = v;

	if (len != RL_ADDRSIZE || (p[0] != 'W' && p[0] != 'T'))
		return -1;
	*type = p[0] == 'T' ? STORE_TRAPPED : STORE_WHITE;
	return store_rec_decode(p + 1, STORE_RECSIZE, r);
}

size_t
rl_os_encode(int64_t seen, const char *os, uint8_t out[RL_OSSIZE])
{
	size_t n = strnlen(os, RL_OSSIZE - 8);
	uint64_t u = (uint64_t)seen;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(u >> (8 * i));
	memcpy(out + 8, os, n);
	return 8 + n;
}

int
rl_os_decode(const void *v, size_t len, int64_t *seen, char *os,
    size_t oslen)
{
	const uint8_t *p = v;
	uint64_t u = 0;
	size_t n;

	if (len < 8 || len > RL_OSSIZE || oslen == 0)
		return -1;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[i] << (8 * i);
	*seen = (int64_t)u;
	n = len - 8;
	if (n >= oslen)
		n = oslen - 1;
	memcpy(os, p + 8, n);
	os[n] = '\0';
	return memchr(os, '\0', n) != NULL ? -1 : 0;
}

int
rl_cmd(struct buf *b, int argc, const char *const *argv, const size_t *lens)
{
	size_t before = b->len;

	if (buf_printf(b, "*%d\r\n", argc) == -1)
		return -1;
	for (int i = 0; i < argc; i++) {
		size_t n = lens != NULL ? lens[i] : strlen(argv[i]);

		if (buf_printf(b, "$%zu\r\n", n) == -1 ||
		    buf_append(b, argv[i], n) == -1 ||
		    buf_append(b, "\r\n", 2) == -1) {
			b->len = before;
			return -1;
		}
	}
	return 1;
}

/* Commands in sequence; -1 undoes what the sequence appended. */
struct seq {
	struct buf	*b;
	size_t		 before;
	int		 n;
	bool		 failed;
};

static void
seq_cmd(struct seq *s, int argc, const char *const *argv, const size_t *lens)
{
	if (s->failed)
		return;
	if (rl_cmd(s->b, argc, argv, lens) == -1)
		s->failed = true;
	else
		s->n++;
}

static int
seq_end(struct seq *s)
{
	if (!s->failed)
		return s->n;
	s->b->len = s->before;
	return -1;
}

int
rl_put_tuple(struct buf *b, const struct rl_loc *l, const struct store_rec *r,
    int64_t now)
{
	struct seq s = { b, b->len, 0, false };
	uint8_t v[STORE_RECSIZE];
	char exp[24];
	const char *hset[] = { "HSET", l->key, l->field, (const char *)v };
	size_t hsetl[] = { 4, l->keylen, l->fieldlen, sizeof(v) };
	const char *ex[] = { "EXPIREAT", l->key, exp, "NX" };
	size_t exl[] = { 8, l->keylen, 0, 2 };

	if (r->expire <= now)
		return rl_del_field(b, l);
	store_rec_encode(r, v);
	exl[2] = (size_t)snprintf(exp, sizeof(exp), "%" PRId64, r->expire);
	seq_cmd(&s, 4, hset, hsetl);
	/* NX for a new hash, GT to cover a later tuple: never shortened. */
	seq_cmd(&s, 4, ex, exl);
	ex[3] = "GT";
	seq_cmd(&s, 4, ex, exl);
	return seq_end(&s);
}

int
rl_del_field(struct buf *b, const struct rl_loc *l)
{
	const char *argv[] = { "HDEL", l->key, l->field };
	size_t lens[] = { 4, l->keylen, l->fieldlen };

	return rl_cmd(b, 3, argv, lens);
}

int
rl_put_spamtrap(struct buf *b, const struct rl_loc *l,
    const struct store_rec *r)
{
	uint8_t v[STORE_RECSIZE];
	const char *argv[] = { "HSET", l->key, l->field, (const char *)v };
	size_t lens[] = { 4, l->keylen, l->fieldlen, sizeof(v) };

	store_rec_encode(r, v);
	return rl_cmd(b, 4, argv, lens);
}

static void
event(struct seq *s, char type, const char *addr, size_t len, int64_t expire)
{
	char keep[24], exp[24], t[2] = { type, '\0' };
	const char *argv[] = { "XADD", RL_EVENTS, "MAXLEN", "~", keep, "*",
	    "t", t, "a", addr, "e", exp };
	size_t lens[] = { 4, strlen(RL_EVENTS), 6, 1, 0, 1, 1, 1, 1, len, 1,
	    0 };

	lens[4] = (size_t)snprintf(keep, sizeof(keep), "%d", RL_EVENTS_KEEP);
	lens[11] = (size_t)snprintf(exp, sizeof(exp), "%" PRId64, expire);
	seq_cmd(s, 12, argv, lens);
}

int
rl_put_addr(struct buf *b, enum store_type type, const char *addr,
    size_t len, const struct store_rec *r, int64_t now)
{
	struct seq s = { b, b->len, 0, false };
	char key[RL_KEYMAX], exp[24];
	uint8_t v[RL_ADDRSIZE];
	size_t kl;
	const char *set[] = { "SET", key, (const char *)v, "EXAT", exp };
	size_t setl[] = { 3, 0, sizeof(v), 4, 0 };
	const char *zadd[] = { "ZADD", type == STORE_TRAPPED ? RL_TRAPPED :
	    RL_WHITE, exp, addr };
	size_t zaddl[] = { 4, strlen(zadd[1]), 0, len };
	const char *zrem[] = { "ZREM", type == STORE_TRAPPED ? RL_WHITE :
	    RL_TRAPPED, addr };
	size_t zreml[] = { 4, strlen(zrem[1]), len };

	if ((type != STORE_WHITE && type != STORE_TRAPPED) ||
	    (kl = rl_addr_key(addr, len, key, sizeof(key))) == 0)
		return -1;
	if (r->expire <= now)
		return rl_del_addr(b, addr, len);
	setl[1] = kl;
	setl[4] = zaddl[2] = (size_t)snprintf(exp, sizeof(exp), "%" PRId64,
	    r->expire);
	rl_addr_encode(type, r, v);
	seq_cmd(&s, 5, set, setl);
	seq_cmd(&s, 4, zadd, zaddl);
	seq_cmd(&s, 3, zrem, zreml);
	event(&s, type == STORE_TRAPPED ? 'T' : 'W', addr, len, r->expire);
	return seq_end(&s);
}

int
rl_del_addr(struct buf *b, const char *addr, size_t len)
{
	struct seq s = { b, b->len, 0, false };
	char key[RL_KEYMAX];
	size_t kl;
	const char *del[] = { "DEL", key };
	size_t dell[] = { 3, 0 };
	const char *zrem[] = { "ZREM", RL_WHITE, addr };
	size_t zreml[] = { 4, strlen(RL_WHITE), len };

	if ((kl = rl_addr_key(addr, len, key, sizeof(key))) == 0)
		return -1;
	dell[1] = kl;
	seq_cmd(&s, 2, del, dell);
	seq_cmd(&s, 3, zrem, zreml);
	zrem[1] = RL_TRAPPED;
	zreml[1] = strlen(RL_TRAPPED);
	seq_cmd(&s, 3, zrem, zreml);
	event(&s, 'D', addr, len, 0);
	return seq_end(&s);
}

int
rl_put_os(struct buf *b, const char *addr, size_t len, int64_t seen,
    const char *os, int64_t ttl)
{
	char key[RL_KEYMAX], ex[24];
	uint8_t v[RL_OSSIZE];
	size_t kl;
	const char *argv[] = { "SET", key, (const char *)v, "EX", ex };
	size_t lens[] = { 3, 0, 0, 2, 0 };

	if ((kl = rl_os_key(addr, len, key, sizeof(key))) == 0 || ttl <= 0)
		return -1;
	lens[1] = kl;
	lens[2] = rl_os_encode(seen, os, v);
	lens[4] = (size_t)snprintf(ex, sizeof(ex), "%" PRId64, ttl);
	return rl_cmd(b, 5, argv, lens);
}

int
rl_meta_put(struct buf *b, const char *name, const void *v, size_t len)
{
	const char *argv[] = { "HSET", RL_META, name, v };
	size_t lens[] = { 4, strlen(RL_META), strlen(name), len };

	return rl_cmd(b, 4, argv, lens);
}

static int
event_int(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
rl_event_parse(size_t n, const char *const *f, const size_t *lens,
    struct rl_event *ev)
{
	bool t = false, a = false, e = false;

	memset(ev, 0, sizeof(*ev));
	if (n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		const char *v = f[i + 1];
		size_t vl = lens[i + 1];

		if (lens[i] != 1)
			continue;	/* a later version's field */
		switch (f[i][0]) {
		case 't':
			if (vl != 1 || (v[0] != 'W' && v[0] != 'T' &&
			    v[0] != 'D'))
				return -1;
			ev->type = v[0];
			t = true;
			break;
		case 'a':
			if (vl == 0 || vl >= sizeof(ev->addr) ||
			    memchr(v, '\0', vl) != NULL)
				return -1;
			memcpy(ev->addr, v, vl);
			ev->addr[vl] = '\0';
			a = true;
			break;
		case 'e':
			if (event_int(v, vl, &ev->expire) == -1)
				return -1;
			e = true;
			break;
		default:
			break;
		}
	}
	return t && a && e ? 0 : -1;
}

static int
id_num(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
rl_id_parse(const char *s, size_t n, struct rl_id *id)
{
	const char *dash = memchr(s, '-', n);

	if (dash == NULL)
		return -1;
	if (id_num(s, (size_t)(dash - s), &id->ms) == -1 ||
	    id_num(dash + 1, (size_t)(s + n - dash - 1), &id->seq) == -1)
		return -1;
	return 0;
}

int
rl_id_cmp(const struct rl_id *a, const struct rl_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

void
rl_id_format(const struct rl_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

bool
rl_id_gap(const struct rl_id *last, const struct rl_id *deleted)
{
	return rl_id_cmp(deleted, last) > 0;
}
