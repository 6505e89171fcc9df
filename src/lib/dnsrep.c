/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * dnsrep: weighted DNS reputation.  See dnsrep.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsrep.h"
#include "util.h"

#define WAYS	4	/* cache slots a set */

/* --- the file --- */

struct parse {
	const char	*name;
	size_t		 line;
	char		*err;
	size_t		 errlen;
	size_t		 seen_threshold, seen_trust, seen_timeout,
			 seen_cache, seen_size;	/* lines, 0: not yet */
};

/* "name:line: what "value": why", and -1. */
static int
fail(struct parse *p, const char *what, const char *value, const char *why)
{
	char q[4 * 80 + 6];

	util_quote(q, sizeof(q), value, strlen(value), 80);
	return util_seterr(p->err, p->errlen, "%s:%zu: %s %s: %s", p->name,
	    p->line, what, q, why);
}

/* The labels of a zone: letters, digits, '-' and '_', 1 to 63 each. */
static int
parse_zone(struct parse *p, const char *s, struct dnsrep_zone *z)
{
	static const char *const dqs[] = { ".dq.spamhaus.net",
	    ".dq.spamhaus.com" };
	size_t n = strlen(s), label = 0, labels = 1, i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return fail(p, "site", s, "no zone");
	if (n > DNSREP_ZONEMAX)
		return fail(p, "zone", s, "longer than 189 characters, too "
		    "long to put an IPv6 address in front of");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return fail(p, "zone", s, "an empty label");
			label = 0;
			labels++;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			if (++label > 63)
				return fail(p, "zone", s, "a label longer than "
				    "63 characters");
		} else
			return fail(p, "zone", s, "a zone is letters, digits, "
			    "'-' and '_' in labels separated by dots");
		z->name[i] = (char)tolower(ch);
	}
	if (label == 0)
		return fail(p, "zone", s, "an empty label");
	if (labels < 2)
		return fail(p, "zone", s, "a zone has at least two labels");
	z->name[n] = '\0';
	z->shown = 0;
	/* KEY.zen.dq.spamhaus.net is shown as zen.dq.spamhaus.net. */
	for (i = 0; i < sizeof(dqs) / sizeof(dqs[0]); i++) {
		size_t m = strlen(dqs[i]);
		const char *dot;

		if (n > m && strcmp(z->name + n - m, dqs[i]) == 0 &&
		    (dot = strchr(z->name, '.')) < z->name + n - m)
			z->shown = (uint8_t)(dot - z->name + 1);
	}
	return 0;
}

/* A decimal octet: 0 to 255, at most three digits. */
static const char *
octet_num(const char *s, unsigned *v)
{
	unsigned n = 0;
	int d = 0;

	while (isdigit((unsigned char)*s) && d < 4) {
		n = n * 10 + (unsigned)(*s++ - '0');
		d++;
	}
	if (d == 0 || d > 3 || n > 255)
		return NULL;
	*v = n;
	return s;
}

static void
set_bits(uint8_t *map, unsigned lo, unsigned hi)
{
	for (unsigned v = lo; v <= hi; v++)
		map[v / 8] |= (uint8_t)(1u << (v % 8));
}

/* d.d.d.d, each d a number or [a;b..c;...]. */
static int
parse_filter(struct parse *p, const char *f, struct dnsrep_site *st)
{
	const char *s = f;
	unsigned lo, hi;

	memset(st->octet, 0, sizeof(st->octet));
	for (int o = 0; o < 4; o++) {
		if (o > 0 && *s++ != '.')
			return fail(p, "filter", f, "four octets separated by "
			    "dots, like 127.0.0.[2..11]");
		if (*s != '[') {
			if ((s = octet_num(s, &lo)) == NULL)
				return fail(p, "filter", f, "an octet is a "
				    "number from 0 to 255 or a bracketed "
				    "list like [1;3..5]");
			set_bits(st->octet[o], lo, lo);
			continue;
		}
		s++;
		for (;;) {
			if ((s = octet_num(s, &lo)) == NULL)
				return fail(p, "filter", f, "a bracketed list "
				    "holds numbers from 0 to 255 and ranges "
				    "like 2..11, separated by ';'");
			hi = lo;
			if (s[0] == '.' && s[1] == '.' &&
			    (s = octet_num(s + 2, &hi)) == NULL)
				return fail(p, "filter", f, "a range is two "
				    "numbers from 0 to 255, like 2..11");
			if (hi < lo)
				return fail(p, "filter", f, "a range runs "
				    "backwards");
			set_bits(st->octet[o], lo, hi);
			if (*s == ';') {
				s++;
				continue;
			}
			if (*s++ != ']')
				return fail(p, "filter", f, "a bracketed list "
				    "ends with ']'");
			break;
		}
	}
	if (*s != '\0')
		return fail(p, "filter", f, "more than four octets");
	st->filtered = true;
	return 0;
}

/* zone[=filter][*weight]; s is modified. */
static int
parse_site(struct parse *p, char *s, struct dnsrep_conf *c)
{
	struct dnsrep_site st = { .weight = 1 };
	struct dnsrep_zone z;
	char *star, *eq;
	long v;
	size_t i;

	if (c->nsites == DNSREP_MAXSITES)
		return fail(p, "site", s, "more than 64 sites");
	if ((star = strrchr(s, '*')) != NULL) {
		if (util_parse_long(star + 1, -DNSREP_WEIGHTMAX,
		    DNSREP_WEIGHTMAX, &v) == -1)
			return fail(p, "weight", star + 1, "a whole number "
			    "from -10000 to 10000 (negative for a DNSWL)");
		st.weight = (int32_t)v;
		*star = '\0';
	}
	if ((eq = strchr(s, '=')) != NULL) {
		*eq = '\0';
		if (parse_filter(p, eq + 1, &st) == -1)
			return -1;
	}
	if (parse_zone(p, s, &z) == -1)
		return -1;
	for (i = 0; i < c->nzones; i++)
		if (strcmp(c->zones[i].name, z.name) == 0)
			break;
	if (i == c->nzones) {
		if (c->nzones == DNSREP_MAXZONES)
			return fail(p, "zone", s, "more than 64 zones");
		c->zones[c->nzones++] = z;
	}
	st.zone = (uint8_t)i;
	c->sites[c->nsites++] = st;
	return 0;
}

/* "1s", "800ms", "2": milliseconds. */
static int
parse_timeout(struct parse *p, const char *s, uint32_t *ms)
{
	char num[16];
	size_t n = strlen(s), digits = n;
	long v, unit = 1000;

	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		unit = 1;
		digits = n - 2;
	} else if (n > 1 && s[n - 1] == 's')
		digits = n - 1;
	if (digits < sizeof(num)) {
		memcpy(num, s, digits);
		num[digits] = '\0';
	} else
		num[0] = '\0';
	if (util_parse_long(num, 1, 10000, &v) == -1 || v * unit < 10 ||
	    v * unit > 10000)
		return fail(p, "timeout", s, "from 10ms to 10s (a number of "
		    "seconds, or of milliseconds followed by ms)");
	*ms = (uint32_t)(v * unit);
	return 0;
}

static int
number(struct parse *p, const char *what, const char *s, long min, long max,
    const char *why, long *v)
{
	if (util_parse_long(s, min, max, v) == -1)
		return fail(p, what, s, why);
	return 0;
}

/* A keyword given twice is a mistake, not an override. */
static int
once(struct parse *p, const char *what, size_t *seen)
{
	if (*seen != 0)
		return util_seterr(p->err, p->errlen, "%s:%zu: %s given again "
		    "(first on line %zu)", p->name, p->line, what, *seen);
	*seen = p->line;
	return 0;
}

static int
keyword(struct parse *p, char **tok, size_t ntok, struct dnsrep_conf *c)
{
	const char *k = tok[0];
	size_t want = strcmp(k, "cache") == 0 ? 3 : 2;
	long v, w;

	if (ntok != want)
		return util_seterr(p->err, p->errlen, "%s:%zu: %s takes %s",
		    p->name, p->line, k, want == 3 ? "two numbers: the "
		    "shortest and the longest time an answer is kept, in "
		    "seconds" : "one value");
	if (strcmp(k, "threshold") == 0) {
		if (once(p, k, &p->seen_threshold) == -1 ||
		    number(p, k, tok[1], 1, DNSREP_SCOREMAX, "a whole number "
		    "from 1 to 100000", &v) == -1)
			return -1;
		c->threshold = (int32_t)v;
	} else if (strcmp(k, "trust") == 0) {
		if (once(p, k, &p->seen_trust) == -1 ||
		    number(p, k, tok[1], -DNSREP_SCOREMAX, -1, "a whole "
		    "number from -100000 to -1 (a score of 0 is a client "
		    "nobody listed)", &v) == -1)
			return -1;
		c->trust = (int32_t)v;
		c->trust_set = true;
	} else if (strcmp(k, "timeout") == 0) {
		if (once(p, k, &p->seen_timeout) == -1 ||
		    parse_timeout(p, tok[1], &c->timeout_ms) == -1)
			return -1;
	} else if (strcmp(k, "cache") == 0) {
		if (once(p, k, &p->seen_cache) == -1 ||
		    number(p, "cache", tok[1], 0, 7 * 86400, "seconds, from "
		    "0 to 604800", &v) == -1 ||
		    number(p, "cache", tok[2], 0, 7 * 86400, "seconds, from "
		    "0 to 604800", &w) == -1)
			return -1;
		if (w < v)
			return fail(p, "cache", tok[2], "the longest time is "
			    "shorter than the shortest");
		c->ttl_min = (uint32_t)v;
		c->ttl_max = (uint32_t)w;
	} else {
		if (once(p, k, &p->seen_size) == -1 ||
		    number(p, k, tok[1], 0, 1 << 22, "a number of addresses, "
		    "from 0 to 4194304", &v) == -1)
			return -1;
		c->cache_size = (uint32_t)v;
	}
	return 0;
}

static bool
is_keyword(const char *s)
{
	return strcmp(s, "threshold") == 0 || strcmp(s, "trust") == 0 ||
	    strcmp(s, "timeout") == 0 || strcmp(s, "cache") == 0 ||
	    strcmp(s, "cache-size") == 0;
}

/* One line, comment cut; buf is modified. */
static int
parse_line(struct parse *p, char *buf, struct dnsrep_conf *c)
{
	char *tok[DNSREP_LINEMAX / 2 + 1], *s = buf;
	size_t ntok = 0;

	/* Separators: blanks; between sites also commas. */
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		tok[ntok++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != ',')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	if (ntok == 0)
		return 0;
	if (is_keyword(tok[0]))
		return keyword(p, tok, ntok, c);
	for (size_t i = 0; i < ntok; i++)
		if (parse_site(p, tok[i], c) == -1)
			return -1;
	return 0;
}

int
dnsrep_parse(const char *name, const char *text, size_t len,
    struct dnsrep_conf *c, char *err, size_t errlen)
{
	struct parse p = { .name = name, .err = err, .errlen = errlen };
	const char *s = text, *end = text + len, *nl, *hash;
	char buf[DNSREP_LINEMAX + 1];
	size_t n;

	memset(c, 0, sizeof(*c));
	c->threshold = 1;
	c->timeout_ms = DNSREP_TIMEOUT_MS;
	c->ttl_min = DNSREP_TTL_MIN;
	c->ttl_max = DNSREP_TTL_MAX;
	c->cache_size = DNSREP_CACHE_SIZE;
	for (; s < end; s = nl + 1) {
		p.line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		/* Nothing in the syntax is '#': a comment from there on. */
		if ((hash = memchr(s, '#', (size_t)(nl - s))) == NULL)
			hash = nl;
		n = (size_t)(hash - s);
		if (n > DNSREP_LINEMAX)
			return util_seterr(err, errlen, "%s:%zu: line longer "
			    "than %d bytes", name, p.line, DNSREP_LINEMAX);
		if (memchr(s, '\0', n) != NULL)
			return util_seterr(err, errlen, "%s:%zu: a NUL byte",
			    name, p.line);
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (parse_line(&p, buf, c) == -1)
			return -1;
		if (nl == end)
			break;
	}
	if (c->nsites == 0)
		return util_seterr(err, errlen, "%s: no sites: name at least "
		    "one zone, like zen.spamhaus.org=127.0.0.[2..11]", name);
	return 0;
}

int
dnsrep_load(const char *path, struct dnsrep_conf *c, char *err,
    size_t errlen)
{
	FILE *f;
	char *text;
	size_t len;
	int rc;

	if ((f = fopen(path, "r")) == NULL)
		return util_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	if ((text = malloc(DNSREP_FILEMAX + 1)) == NULL) {
		fclose(f);
		return util_seterr(err, errlen, "%s: out of memory", path);
	}
	len = fread(text, 1, DNSREP_FILEMAX + 1, f);
	if (ferror(f))
		rc = util_seterr(err, errlen, "%s: read error", path);
	else if (len > DNSREP_FILEMAX)
		rc = util_seterr(err, errlen, "%s: larger than %d bytes",
		    path, DNSREP_FILEMAX);
	else
		rc = dnsrep_parse(path, text, len, c, err, errlen);
	fclose(f);
	free(text);
	return rc;
}

/* --- names and answers --- */

size_t
dnsrep_qname(const struct addr *a, const char *zone, char *out,
    size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, zl = strlen(zone);
	int k;

	if (a->family == AF_INET) {
		for (int i = 3; i >= 0; i--) {
			k = snprintf(out + o, outlen - o, "%u.", a->bytes[i]);
			if (k < 0 || (size_t)k >= outlen - o)
				return 0;
			o += (size_t)k;
		}
	} else {
		if (outlen < 64)
			return 0;
		for (int i = 15; i >= 0; i--) {
			out[o++] = hex[a->bytes[i] & 15];
			out[o++] = '.';
			out[o++] = hex[a->bytes[i] >> 4];
			out[o++] = '.';
		}
	}
	if (zl + 1 > outlen - o)
		return 0;
	memcpy(out + o, zone, zl + 1);
	return o + zl;
}

bool
dnsrep_site_match(const struct dnsrep_site *st, const uint8_t a[4])
{
	if (!st->filtered)
		return true;
	for (int o = 0; o < 4; o++)
		if (!(st->octet[o][a[o] / 8] & (1u << (a[o] % 8))))
			return false;
	return true;
}

const char *
dnsrep_verdict_name(enum dnsrep_verdict v)
{
	switch (v) {
	case DNSREP_UNDECIDED:	return "undecided";
	case DNSREP_NEUTRAL:	return "neutral";
	case DNSREP_TRUSTED:	return "trusted";
	case DNSREP_LISTED:	return "listed";
	case DNSREP_UNKNOWN:	return "unknown";
	}
	return "?";
}

static uint64_t
bit(size_t i)
{
	return (uint64_t)1 << i;
}

void
dnsrep_lookup_init(const struct dnsrep_conf *c, struct dnsrep_lookup *l)
{
	memset(l, 0, sizeof(*l));
	l->pending = c->nzones >= 64 ? ~(uint64_t)0 : bit(c->nzones) - 1;
	l->ttl = UINT32_MAX;
}

void
dnsrep_lookup_answer(const struct dnsrep_conf *c, struct dnsrep_lookup *l,
    size_t zone, int rcode, uint32_t ttl, const uint8_t *a, size_t na)
{
	if (zone >= c->nzones || !(l->pending & bit(zone)))
		return;
	l->pending &= ~bit(zone);
	/* NOERROR and NXDOMAIN say something; SERVFAIL and the rest not. */
	if (rcode != 0 && rcode != 3) {
		l->failed |= bit(zone);
		return;
	}
	if (ttl < l->ttl)
		l->ttl = ttl;
	if (rcode != 0)
		return;
	for (size_t i = 0; i < c->nsites; i++) {
		const struct dnsrep_site *st = &c->sites[i];

		if (st->zone != zone || (l->matched & bit(i)))
			continue;
		for (size_t k = 0; k < na; k++)
			if (dnsrep_site_match(st, a + 4 * k)) {
				l->matched |= bit(i);
				l->score += st->weight;
				break;
			}
	}
}

void
dnsrep_lookup_expire(struct dnsrep_lookup *l)
{
	l->failed |= l->pending;
	l->pending = 0;
}

enum dnsrep_verdict
dnsrep_decide(const struct dnsrep_conf *c, const struct dnsrep_lookup *l)
{
	uint64_t open = l->pending | l->failed;
	int64_t lo = l->score, hi = l->score;

	/* What the sites not heard from could still add, either way. */
	for (size_t i = 0; i < c->nsites; i++) {
		const struct dnsrep_site *st = &c->sites[i];

		if (!(open & bit(st->zone)) || (l->matched & bit(i)))
			continue;
		if (st->weight < 0)
			lo += st->weight;
		else
			hi += st->weight;
	}
	if (lo >= c->threshold)
		return DNSREP_LISTED;
	if (c->trust_set && hi <= c->trust)
		return DNSREP_TRUSTED;
	if (hi < c->threshold && (!c->trust_set || lo > c->trust))
		return DNSREP_NEUTRAL;
	return l->pending != 0 ? DNSREP_UNDECIDED : DNSREP_UNKNOWN;
}

uint32_t
dnsrep_ttl(const struct dnsrep_conf *c, uint32_t ttl)
{
	if (ttl < c->ttl_min)
		return c->ttl_min;
	if (ttl > c->ttl_max)
		return c->ttl_max;
	return ttl;
}

void
dnsrep_zones_matched(const struct dnsrep_conf *c, uint64_t matched,
    const char *sep, char *out, size_t outlen)
{
	size_t o = 0;
	int k;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t z = 0; z < c->nzones; z++) {
		bool hit = false;

		for (size_t i = 0; i < c->nsites && !hit; i++)
			hit = (matched & bit(i)) && c->sites[i].zone == z;
		if (!hit)
			continue;
		k = snprintf(out + o, outlen - o, "%s%s", o > 0 ? sep : "",
		    dnsrep_zone_shown(c, z));
		if (k < 0 || (size_t)k >= outlen - o) {
			out[o] = '\0';	/* no half name */
			return;
		}
		o += (size_t)k;
	}
}

/* --- the cache --- */

int
dnsrep_cache_init(struct dnsrep_cache *k, size_t n)
{
	size_t sets = 1;

	k->slot = NULL;
	k->nsets = 0;
	if (n == 0)
		return 0;
	while (sets * WAYS < n)
		sets *= 2;
	if ((k->slot = calloc(sets * WAYS, sizeof(*k->slot))) == NULL)
		return -1;
	k->nsets = sets;
	return 0;
}

void
dnsrep_cache_free(struct dnsrep_cache *k)
{
	free(k->slot);
	k->slot = NULL;
	k->nsets = 0;
}

/* FNV-1a over the family and the bytes that count. */
static struct dnsrep_slot *
set_of(const struct dnsrep_cache *k, const struct addr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n = a->family == AF_INET ? 4 : 16;

	h = (h ^ a->family) * 0x100000001b3ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return k->slot + (size_t)(h & (k->nsets - 1)) * WAYS;
}

static bool
same(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes,
	    a->family == AF_INET ? 4 : 16) == 0;
}

bool
dnsrep_cache_get(const struct dnsrep_cache *k, const struct addr *a,
    int64_t now, struct dnsrep_result *r)
{
	const struct dnsrep_slot *s;

	if (k->nsets == 0)
		return false;
	s = set_of(k, a);
	for (int i = 0; i < WAYS; i++)
		if (s[i].expire > now && same(&s[i].addr, a)) {
			*r = s[i].r;
			return true;
		}
	return false;
}

void
dnsrep_cache_put(struct dnsrep_cache *k, const struct addr *a,
    const struct dnsrep_result *r, int64_t now, int64_t expire)
{
	struct dnsrep_slot *s, *victim = NULL;

	if (k->nsets == 0 || expire <= now)
		return;
	s = set_of(k, a);
	for (int i = 0; i < WAYS; i++) {
		if (s[i].expire > now && same(&s[i].addr, a)) {
			victim = &s[i];
			break;
		}
		if (victim == NULL || s[i].expire < victim->expire)
			victim = &s[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->addr = *a;
	victim->r = *r;
	victim->expire = expire;
}
