/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for src/lib/spf.c.  The first byte picks what the
 * rest feeds:
 *
 *  'p' (and any byte not below): the record parser.  A record that
 *      parses has terms whose text lies in the input, whose domains are
 *      lookup names (or carry a macro), whose ip4/ip6 prefixes are masked
 *      and of the right family; an error names the domain and is one
 *      printable line.
 *  'w': the walk, fed answers made of the input: each lookup takes a
 *      status byte, a TTL byte and records cut at '\n' (TXT texts, MX
 *      names, A/AAAA as 4/16 bytes); when the input runs out the
 *      deadline passes.  The walk always ends, its prefixes are
 *      canonical and its problems name a chain.
 *  'd': the domains file, and the TXT and MX rdata decoders.
 */
#include <string.h>

#include "fuzz.h"
#include "setup.h"
#include "spf.h"

static void
check_line(const char *s)
{
	CHECK(strchr(s, '\n') == NULL);
	CHECK(s[0] != '\0');
}

static void
fuzz_parse(const char *p, size_t len)
{
	struct spf_record	r;
	char			err[512], name[SPF_NAMEMAX + 2];
	const char		*why;
	size_t			i;

	if (spf_parse("fuzz.example", p, len, &r, err, sizeof(err)) == -1) {
		CHECK(strncmp(err, "fuzz.example: ", 14) == 0);
		CHECK(r.n == 0);
		spf_record_free(&r);
		return;
	}
	CHECK(spf_is_record(p, len));
	for (i = 0; i < r.n; i++) {
		const struct spf_term *t = &r.t[i];
		CHECK(t->text != NULL && memmem(p, len, t->text,
		    strlen(t->text)) != NULL);
		if (t->domain != NULL && !t->macro) {
			CHECK(spf_name(t->domain, strlen(t->domain), name,
			    sizeof(name), &why) == 0);
			CHECK(strcmp(name, t->domain) == 0);
		}
		if (t->kind == SPF_IP4 || t->kind == SPF_IP6) {
			struct prefix m = t->pfx;
			prefix_mask(&m);
			CHECK(memcmp(&m, &t->pfx, sizeof(m)) == 0);
			CHECK(t->pfx.addr.family == (t->kind == SPF_IP4 ?
			    AF_INET : AF_INET6));
		}
		if (t->kind == SPF_A || t->kind == SPF_MX)
			CHECK(t->cidr4 >= 0 && t->cidr4 <= 32 &&
			    t->cidr6 >= 0 && t->cidr6 <= 128);
	}
	CHECK(r.redirect < (long)r.n && r.all < (long)r.n);
	spf_record_free(&r);
}

#define RECMAX	8

/* One answer for q out of the input at *p. */
static void
make_answer(const uint8_t **p, const uint8_t *end, int type,
    struct spf_answer *a, char txt[RECMAX][512], const char *tp[RECMAX],
    size_t tl[RECMAX], struct addr ad[RECMAX], const char *np[RECMAX])
{
	size_t	k, l;

	memset(a, 0, sizeof(*a));
	if (*p >= end) {
		a->status = SPF_ANS_TIMEOUT;
		return;
	}
	a->status = (enum spf_astatus)(**p % 5);
	(*p)++;
	if (*p < end)
		a->ttl = *(*p)++;
	a->text = tp;
	a->textlen = tl;
	a->addr = ad;
	a->name = np;
	for (k = 0; k < RECMAX && *p < end && **p != 0xff; k++) {
		const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
		l = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
		if (l > 511)
			l = 511;
		if (type == SPF_QA || type == SPF_QAAAA) {
			size_t want = type == SPF_QA ? 4 : 16;
			memset(&ad[k], 0, sizeof(ad[k]));
			ad[k].family = type == SPF_QA ? AF_INET : AF_INET6;
			memcpy(ad[k].bytes, *p, l < want ? l : want);
		} else {
			memcpy(txt[k], *p, l);
			txt[k][l] = '\0';
			tp[k] = np[k] = txt[k];
			tl[k] = l;
		}
		*p += l + (nl != NULL);
	}
	if (*p < end && **p == 0xff)
		(*p)++;
	a->n = k;
}

static void
fuzz_walk(const uint8_t *p, size_t len)
{
	static char		 txt[RECMAX][512];
	const char *const	 tops[] = { "a.example", "b.example" };
	const uint8_t		*end = p + len;
	struct spf_limits	 lim;
	struct spf_walk		*w;
	struct spf_query	 q[4];
	struct spf_answer	 a;
	const char		*tp[RECMAX], *np[RECMAX];
	size_t			 tl[RECMAX], i, k, nr, npb, at;
	struct addr		 ad[RECMAX];
	const struct spf_result	*r;
	const struct spf_problem *pb;
	uint64_t		 now = 0;
	unsigned		 rounds = 0;

	spf_limits_default(&lim);
	lim.walk_ms = 1000;
	lim.prefixes = 500;
	if (spf_walk_new(&w, tops, 2, &lim, now) == -1)
		return;
	while (!spf_walk_done(w)) {
		/* Out of input: the deadline. */
		if (p >= end)
			now = 2000;
		k = spf_walk_next(w, now, q, 4);
		for (i = 0; i < k; i++) {
			CHECK(q[i].type == SPF_QTXT || q[i].type == SPF_QA ||
			    q[i].type == SPF_QAAAA || q[i].type == SPF_QMX);
			make_answer(&p, end, q[i].type, &a, txt, tp, tl, ad,
			    np);
			if (spf_walk_answer(w, q[i].id, &a) == -1)
				goto out;
		}
		CHECK(++rounds < 100000);
	}
	if (spf_walk_results(w, &r, &nr, &pb, &npb) == 0) {
		CHECK(nr == 2);
		for (i = 0; i < nr; i++)
			CHECK(setup_canonical(r[i].pfx, r[i].n, &at));
		for (i = 0; i < npb; i++) {
			CHECK(pb[i].top < 2);
			CHECK(strncmp(pb[i].text, tops[pb[i].top],
			    strlen(tops[pb[i].top])) == 0);
			CHECK(*spf_pkind_name(pb[i].kind) != '?');
		}
	}
 out:
	spf_walk_free(w);
}

static void
fuzz_decode(const uint8_t *p, size_t len)
{
	char		**v, err[512], *out;
	size_t		 n, i, ol;

	if (spf_domains_parse("fuzz", (const char *)p, len, &v, &n, err,
	    sizeof(err)) == 0) {
		for (i = 0; i < n; i++)
			CHECK(strlen(v[i]) <= SPF_NAMEMAX);
		spf_domains_free(v, n);
	} else {
		CHECK(strncmp(err, "fuzz:", 5) == 0);
		check_line(err);
	}
	if ((out = malloc(len + SPF_NAMEMAX + 2)) == NULL)
		return;
	if (spf_txt_decode(p, len, out, &ol) == 0)
		CHECK(ol < len || len == 0);
	if (spf_mx_decode(p, len, out, SPF_NAMEMAX + 2) == 0)
		CHECK(strlen(out) <= SPF_NAMEMAX);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'w':
		fuzz_walk(data + 1, size - 1);
		break;
	case 'd':
		fuzz_decode(data + 1, size - 1);
		break;
	default:
		fuzz_parse((const char *)data + 1, size - 1);
		break;
	}
	return 0;
}
