/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * grey: the greylisting policy, after spamd's grey.c, spamdb.c and
 * spamlogd.c.  Pure functions: the caller supplies the record and the
 * time, and stores whatever comes back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grey.h"

enum dur_err {
	DUR_OK,
	DUR_MISSING,
	DUR_UNIT,
	DUR_ZERO,
	DUR_BIG,
	DUR_NERR
};

static const char *const dur_why[DUR_NERR] = {
	[DUR_OK] = "ok",
	[DUR_MISSING] = "missing number",
	[DUR_UNIT] = "unknown unit (use s, m, h or d)",
	[DUR_ZERO] = "must be positive",
	[DUR_BIG] = "too large",
};

/* The same, prefixed with the -G field at fault. */
static const char *const times_why[3][DUR_NERR] = {
	{ "ok", "passtime: missing number",
	    "passtime: unknown unit (use s, m, h or d)",
	    "passtime: must be positive", "passtime: too large" },
	{ "ok", "greyexp: missing number",
	    "greyexp: unknown unit (use s, m, h or d)",
	    "greyexp: must be positive", "greyexp: too large" },
	{ "ok", "whiteexp: missing number",
	    "whiteexp: unknown unit (use s, m, h or d)",
	    "whiteexp: must be positive", "whiteexp: too large" },
};

/* Times come from a flag; never let now + interval wrap. */
static int64_t
tadd(int64_t t, int64_t d)
{
	int64_t	r;

	if (__builtin_add_overflow(t, d, &r))
		return d > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Counters only ever grow; stop at the top rather than wrap. */
static int32_t
cincr(int32_t c)
{
	return c < INT32_MAX ? c + 1 : c;
}

static bool
live(const struct store_rec *old, int64_t now)
{
	return old != NULL && old->expire > now;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

void
grey_conf_default(struct grey_conf *conf)
{
	conf->passtime = GREY_PASSTIME;
	conf->greyexp = GREY_GREYEXP;
	conf->whiteexp = GREY_WHITEEXP;
	conf->trapexp = GREY_TRAPEXP;
	conf->maxtuples = GREY_MAXTUPLES;
	conf->net4 = GREY_NET4;
	conf->net6 = GREY_NET6;
}

void
grey_net(const struct grey_conf *gc, const struct addr *a, struct prefix *p)
{
	unsigned len = a->family == AF_INET ? gc->net4 : gc->net6;

	/* 0 (a conf not from grey_conf_default): the whole address. */
	p->addr = *a;
	p->len = (uint8_t)(len == 0 || len > addr_bits(a) ? addr_bits(a) :
	    len);
	prefix_mask(p);
}

size_t
grey_net_key(const struct grey_conf *gc, const struct addr *a, char *buf,
    size_t len)
{
	struct prefix p;

	grey_net(gc, a, &p);
	return prefix_key(&p, buf, len);
}

static int
parse_net(const char *s, size_t n, unsigned min, unsigned max, uint8_t *out,
    const char **why)
{
	unsigned v = 0;

	if (n == 0)
		return 0;
	if (s[0] == '/') {
		s++;
		n--;
	}
	if (n == 0 || n > 3) {
		*why = n == 0 ? "empty prefix length" : "prefix length too long";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "prefix length is not a number";
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > max) {
		*why = max == 32 ? "IPv4 prefix length not in 8..32" :
		    "IPv6 prefix length not in 32..128";
		return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

int
grey_parse_nets(const char *s, struct grey_conf *gc, const char **why)
{
	const char *colon = strchr(s, ':');
	uint8_t n4 = gc->net4, n6 = gc->net6;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (colon == NULL) {
		*why = "expected len4:len6, such as 24:64";
		return -1;
	}
	if (colon == s && colon[1] == '\0') {
		*why = "both prefix lengths empty";
		return -1;
	}
	if (parse_net(s, (size_t)(colon - s), GREY_NET4_MIN, 32, &n4,
	    why) == -1 || parse_net(colon + 1, strlen(colon + 1),
	    GREY_NET6_MIN, 128, &n6, why) == -1)
		return -1;
	gc->net4 = n4;
	gc->net6 = n6;
	return 0;
}

int
grey_parse_awl(const char *s, struct grey_awl *awl, const char **why)
{
	const char *colon = strchr(s, ':');
	const char *dummy;
	unsigned count = 0;
	int64_t exp;

	if (why == NULL)
		why = &dummy;
	if (colon == NULL || colon == s) {
		*why = "expected count:expiry, such as 5:90d";
		return -1;
	}
	for (const char *p = s; p < colon; p++) {
		if (*p < '0' || *p > '9' || count > 1000000) {
			*why = "count is not a number of 1 to 1000000";
			return -1;
		}
		count = count * 10 + (unsigned)(*p - '0');
	}
	if (count == 0 || count > 1000000) {
		*why = "count is not a number of 1 to 1000000";
		return -1;
	}
	if (grey_parse_duration(colon + 1, 86400, &exp, why) == -1)
		return -1;
	if (exp < 3600 || exp > 10 * 366 * 86400) {
		*why = "expiry not between 1 hour and 10 years";
		return -1;
	}
	awl->count = count;
	awl->exp = exp;
	return 0;
}

bool
grey_awl_apply(const struct grey_awl *awl, struct store_rec *r, int64_t now)
{
	if (awl->count == 0 || r->pcount < 0 ||
	    (uint32_t)r->pcount < awl->count)
		return false;
	if (r->expire < now + awl->exp)
		r->expire = now + awl->exp;
	return true;
}

void
grey_nets_encode(const struct grey_conf *gc, uint8_t out[GREY_NETS_SIZE])
{
	out[0] = gc->net4;
	out[1] = gc->net6;
}

int
grey_nets_decode(const void *buf, size_t len, struct grey_conf *gc)
{
	const uint8_t *b = buf;

	if (len != GREY_NETS_SIZE || b[0] < GREY_NET4_MIN || b[0] > 32 ||
	    b[1] < GREY_NET6_MIN || b[1] > 128)
		return -1;
	gc->net4 = b[0];
	gc->net6 = b[1];
	return 0;
}

/* s without one pair of enclosing angle brackets: start and length. */
static const char *
unbracket(const char *s, size_t *len)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		*len = n - 2;
		return s + 1;
	}
	*len = n;
	return s;
}

const char *
grey_spamd_form(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return s;
	snprintf(buf, len, "<%s>", s);
	return buf;
}

bool
grey_mailbox_eq(const char *a, const char *b)
{
	size_t la, lb;
	const char *pa = unbracket(a, &la), *pb = unbracket(b, &lb);

	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++) {
		unsigned char ca = (unsigned char)pa[i], cb = (unsigned char)pb[i];

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
	}
	return true;
}

/* Parse len bytes of s; unit multiplies a bare number. */
static enum dur_err
parse_dur(const char *s, size_t len, int64_t unit, int64_t *secs)
{
	int64_t	n = 0, mul;
	size_t	i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (INT64_MAX - (s[i] - '0')) / 10)
			return DUR_BIG;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0)
		return DUR_MISSING;
	if (i == len)
		mul = unit;
	else if (i + 1 < len)
		return DUR_UNIT;
	else {
		switch (lower(s[i])) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		default:
			return DUR_UNIT;
		}
	}
	if (n == 0)
		return DUR_ZERO;
	if (mul <= 0 || n > INT64_MAX / mul)
		return DUR_BIG;
	*secs = n * mul;
	return DUR_OK;
}

int
grey_parse_duration(const char *s, int64_t unit, int64_t *secs,
    const char **why)
{
	enum dur_err	e;

	e = parse_dur(s, strlen(s), unit, secs);
	if (e != DUR_OK) {
		*why = dur_why[e];
		return -1;
	}
	return 0;
}

int
grey_parse_times(const char *s, struct grey_conf *conf, const char **why)
{
	static const int64_t	units[3] = { 60, 3600, 3600 };
	int64_t			v[3];
	const char		*p = s, *colon;
	enum dur_err		e;
	size_t			len;
	int			i;

	for (i = 0; i < 3; i++) {
		colon = strchr(p, ':');
		if ((i < 2) != (colon != NULL)) {
			*why = "expected passtime:greyexp:whiteexp";
			return -1;
		}
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if ((e = parse_dur(p, len, units[i], &v[i])) != DUR_OK) {
			*why = times_why[i][e];
			return -1;
		}
		if (colon != NULL)
			p = colon + 1;
	}
	if (v[0] >= v[1]) {
		*why = "passtime must be shorter than greyexp";
		return -1;
	}
	conf->passtime = v[0];
	conf->greyexp = v[1];
	conf->whiteexp = v[2];
	return 0;
}

void
grey_tuple(const struct grey_conf *conf, const struct store_rec *old,
    int64_t now, struct store_rec *out)
{
	if (!live(old, now)) {
		out->first = now;
		out->pass = out->expire = tadd(now, conf->greyexp);
		out->bcount = 1;
		out->pcount = 0;
		return;
	}
	*out = *old;
	out->bcount = cincr(old->bcount);
	out->pcount = 0;
	/* Strictly after passtime, as spamd. */
	if (tadd(old->first, conf->passtime) < now)
		out->pass = now;
}

bool
grey_passed(const struct store_rec *rec, int64_t now)
{
	return rec->pcount >= 0 && rec->pass <= now && rec->expire > now;
}

void
grey_white_from_tuple(const struct grey_conf *conf,
    const struct store_rec *tuple, int64_t now, struct store_rec *out)
{
	*out = *tuple;
	out->expire = tadd(now, conf->whiteexp);
}

void
grey_trap(const struct grey_conf *conf, const struct store_rec *old,
    int64_t now, struct store_rec *out)
{
	if (!live(old, now)) {
		out->first = now;
		out->pass = out->expire = tadd(now, conf->trapexp);
		out->bcount = 1;
		out->pcount = GREY_PCOUNT_TRAPPED;
		return;
	}
	*out = *old;
	out->bcount = cincr(old->bcount);
	out->pcount = GREY_PCOUNT_TRAPPED;
	if (tadd(old->first, conf->passtime) < now)
		out->pass = now;
}

void
grey_logd(int64_t whiteexp, const struct store_rec *old, uint32_t n,
    int64_t now, struct store_rec *out)
{
	int64_t pc;

	if (old == NULL) {
		out->first = out->pass = now;
		out->bcount = 1;
		/* The first event makes the entry, the others count. */
		pc = n > 0 ? (int64_t)n - 1 : 0;
	} else {
		*out = *old;
		/* spamlogd's pcount++: a trapped host (-1) turns white. */
		pc = (int64_t)old->pcount + n;
	}
	out->pcount = pc > INT32_MAX ? INT32_MAX : (int32_t)pc;
	out->expire = tadd(now, whiteexp);
}

int
grey_sync(enum grey_sync_kind kind, int64_t expire,
    const struct store_rec *old, int64_t now, struct store_rec *out,
    enum store_type *type)
{
	bool	trap = kind == GREY_SYNC_TRAP;

	if (expire < now)
		return -1;
	if (old == NULL) {
		out->first = now;
		out->pass = 0;
		out->expire = expire;
		out->bcount = 0;
		out->pcount = trap ? GREY_PCOUNT_TRAPPED : 0;
	} else {
		/* twupdate never touches expire on an existing entry. */
		*out = *old;
		if (trap) {
			out->pcount = GREY_PCOUNT_TRAPPED;
			out->bcount = cincr(old->bcount);
		} else
			out->pcount = cincr(old->pcount);
	}
	*type = (trap || out->pcount < 0) ? STORE_TRAPPED : STORE_WHITE;
	return 0;
}

int
grey_dbadd(enum store_type type, const struct store_rec *old, int64_t now,
    struct store_rec *out)
{
	struct store_rec	r;

	if (old != NULL)
		r = *old;
	else {
		memset(&r, 0, sizeof(r));
		r.first = now;
		r.bcount = 1;
	}
	switch (type) {
	case STORE_WHITE:
		r.pass = now;
		r.expire = tadd(now, GREY_WHITEEXP);
		if (old != NULL)
			r.pcount = cincr(old->pcount);
		break;
	case STORE_TRAPPED:
		r.pcount = GREY_PCOUNT_TRAPPED;
		r.expire = tadd(now, GREY_TRAPEXP);
		break;
	case STORE_SPAMTRAP:
		r.pcount = GREY_PCOUNT_SPAMTRAP;
		r.expire = 0;
		break;
	default:
		return -1;
	}
	*out = r;
	return 0;
}

enum grey_scan_action
grey_scan(const struct grey_conf *conf, const struct grey_scan_in *in,
    const struct store_rec *rec, int64_t now, bool *make_white,
    struct store_rec *white)
{
	*make_white = false;
	if (rec->expire <= now && rec->pcount != GREY_PCOUNT_SPAMTRAP)
		return GREY_SCAN_DELETE;
	if (rec->pcount == GREY_PCOUNT_TRAPPED)
		return in->addr_ok ? GREY_SCAN_TRAP : GREY_SCAN_DELETE;
	if (rec->pcount < 0 || rec->pass > now)
		return GREY_SCAN_KEEP;
	/* A trap outranks a pass: leave the entry for later. */
	if (in->trapped)
		return GREY_SCAN_KEEP;
	if (in->blacklisted || !in->addr_ok)
		return GREY_SCAN_DELETE;
	if (in->type == STORE_GREY && !in->have_white) {
		*make_white = true;
		grey_white_from_tuple(conf, rec, now, white);
	}
	return GREY_SCAN_WHITE;
}

size_t
grey_rcpt_normalize(const char *to, char *buf, size_t len)
{
	size_t	n, i;

	if (*to == '<')
		to++;
	n = strlen(to);
	if (n > 0 && to[n - 1] == '>')
		n--;
	if (n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	for (i = 0; i < n; i++)
		buf[i] = lower(to[i]);
	buf[n] = '\0';
	return n;
}

static bool
has_suffix(const char *s, size_t slen, const char *suf, size_t suflen)
{
	size_t	i;

	if (suflen > slen)
		return false;
	s += slen - suflen;
	for (i = 0; i < suflen; i++)
		if (lower(s[i]) != lower(suf[i]))
			return false;
	return true;
}

bool
grey_domain_allowed(const char *addr, const char *const *domains,
    size_t ndomains)
{
	size_t	alen = strlen(addr), i, dlen;
	bool	any = false;

	for (i = 0; i < ndomains; i++) {
		/* Blank entries are skipped, as spamd skips blank lines. */
		if (domains[i] == NULL || (dlen = strlen(domains[i])) == 0)
			continue;
		any = true;
		if (has_suffix(addr, alen, domains[i], dlen))
			return true;
	}
	return !any;
}
