/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * Unit tests for src/lib/spf.c: the record parser, the rdata decoders,
 * the domains file, and the walk against a fake resolver (a table of
 * names, types and answers; a name not in it is NXDOMAIN).
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "spf.h"

/* --- the parser --- */

static void
parse_ok(const char *text, struct spf_record *r)
{
	char	err[512];

	if (spf_parse("example.org", text, strlen(text), r, err,
	    sizeof(err)) == -1)
		fail_msg("%s: %s", text, err);
}

static void
parse_bad(const char *text, const char *want)
{
	struct spf_record	r;
	char			err[512];

	err[0] = '\0';
	assert_int_equal(spf_parse("example.org", text, strlen(text), &r,
	    err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", text, err, want);
	assert_non_null(strstr(err, "example.org: term "));
	assert_int_equal(r.n, 0);
	spf_record_free(&r);
}

static void
test_parse_terms(void **state)
{
	struct spf_record	r;
	char			a[ADDR_STRLEN];

	(void)state;
	parse_ok("v=spf1 ip4:192.0.2.1 -ip4:198.51.100.7/24 ~a ?mx:Mail."
	    "Example.COM./28 +include:_spf.example.net ptr exists:%{i}.x.test "
	    "ip6:2001:DB8::1/48 a//64 mx/24//56 a:h.test//120 "
	    "foo=bar exp=explain.test redirect=other.test -all", &r);
	assert_int_equal(r.n, 14);
	assert_int_equal(r.t[0].kind, SPF_IP4);
	assert_int_equal(r.t[0].qual, '+');
	prefix_format(&r.t[0].pfx, a, sizeof(a));
	assert_string_equal(a, "192.0.2.1/32");
	prefix_format(&r.t[1].pfx, a, sizeof(a));
	assert_string_equal(a, "198.51.100.0/24");	/* masked */
	assert_int_equal(r.t[1].qual, '-');
	assert_string_equal(r.t[1].text, "-ip4:198.51.100.7/24");
	assert_int_equal(r.t[2].kind, SPF_A);
	assert_int_equal(r.t[2].qual, '~');
	assert_null(r.t[2].domain);
	assert_int_equal(r.t[3].kind, SPF_MX);
	assert_string_equal(r.t[3].domain, "mail.example.com");
	assert_int_equal(r.t[3].cidr4, 28);
	assert_int_equal(r.t[3].cidr6, 128);
	assert_int_equal(r.t[4].kind, SPF_INCLUDE);
	assert_string_equal(r.t[4].domain, "_spf.example.net");
	assert_int_equal(r.t[5].kind, SPF_PTR);
	assert_int_equal(r.t[6].kind, SPF_EXISTS);
	assert_true(r.t[6].macro);
	assert_int_equal(r.t[7].kind, SPF_IP6);
	prefix_format(&r.t[7].pfx, a, sizeof(a));
	assert_string_equal(a, "2001:db8::/48");
	assert_int_equal(r.t[8].cidr4, 32);
	assert_int_equal(r.t[8].cidr6, 64);
	assert_int_equal(r.t[9].cidr4, 24);
	assert_int_equal(r.t[9].cidr6, 56);
	assert_string_equal(r.t[10].domain, "h.test");
	assert_int_equal(r.t[10].cidr6, 120);
	/* foo=bar is ignored: no term for it. */
	assert_int_equal(r.t[11].kind, SPF_EXP);
	assert_int_equal(r.t[12].kind, SPF_REDIRECT);
	assert_int_equal(r.redirect, 12);
	assert_int_equal(r.t[13].kind, SPF_ALL);
	assert_int_equal(r.all, 13);
	spf_record_free(&r);

	/* Case, extra blanks, nothing after the version. */
	parse_ok("V=SPF1   IP4:10.0.0.0/8   ALL ", &r);
	assert_int_equal(r.n, 2);
	spf_record_free(&r);
	parse_ok("v=spf1", &r);
	assert_int_equal(r.n, 0);
	spf_record_free(&r);
	/* Literal escapes are no macro. */
	parse_ok("v=spf1 include:a%%b.test", &r);
	assert_false(r.t[0].macro);
	assert_string_equal(r.t[0].domain, "a%b.test");
	spf_record_free(&r);
}

static void
test_parse_errors(void **state)
{
	struct spf_record	r;
	char			err[256];

	(void)state;
	parse_bad("v=spf1 ip5:1.2.3.4", "unknown mechanism");
	parse_bad("v=spf1 ip4:300.1.2.3", "not an IPv4 address");
	parse_bad("v=spf1 ip4:2001:db8::1", "not an IPv4 address");
	parse_bad("v=spf1 ip6:192.0.2.1", "not an IPv6 address");
	parse_bad("v=spf1 ip4:192.0.2.0/33", "bad CIDR length");
	parse_bad("v=spf1 ip4:192.0.2.0/024", "bad CIDR length");
	parse_bad("v=spf1 a/33", "bad IPv4 CIDR length");
	parse_bad("v=spf1 mx//129", "bad IPv6 CIDR length");
	parse_bad("v=spf1 include", "needs \":domain\"");
	parse_bad("v=spf1 include:", "no domain");
	parse_bad("v=spf1 include:a..b", "empty label");
	/* Found by fuzz_spf: two final dots are an empty label. */
	parse_bad("v=spf1 ptr:1..", "empty label");
	parse_bad("v=spf1 include:a%xb", "'%' not followed");
	parse_bad("v=spf1 all:x", "takes no argument");
	parse_bad("v=spf1 redirect=a.test redirect=b.test",
	    "a second redirect=");
	parse_bad("v=spf1 exp=a.test exp=b.test", "a second exp=");
	parse_bad("v=spf1 =x", "unknown mechanism");
	/* Not a record at all. */
	assert_int_equal(spf_parse("d.test", "v=spf10", 7, &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "d.test: not an SPF record"));
	assert_false(spf_is_record("v=spf1x", 7));
	assert_true(spf_is_record("v=spf1 a", 8));
	assert_true(spf_is_record("V=Spf1", 6));
}

static void
test_rdata(void **state)
{
	static const uint8_t	txt[] = "\x07v=spf1 \x0cip4:1.2.3.4 \x04-all";
	static const uint8_t	mx[] = "\x00\x0a\x03mx1\x07" "example\x03org";
	char			out[300];
	size_t			len;

	(void)state;
	assert_int_equal(spf_txt_decode(txt, sizeof(txt) - 1, out, &len), 0);
	assert_string_equal(out, "v=spf1 ip4:1.2.3.4 -all");
	assert_int_equal(len, 23);
	assert_int_equal(spf_txt_decode(txt, 5, out, &len), -1);
	assert_int_equal(spf_txt_decode((const uint8_t *)"", 0, out, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(spf_mx_decode(mx, sizeof(mx), out, sizeof(out)), 0);
	assert_string_equal(out, "mx1.example.org");
	assert_int_equal(spf_mx_decode(mx, sizeof(mx) - 1, out, sizeof(out)),
	    -1);
	assert_int_equal(spf_mx_decode((const uint8_t *)"\0\0\0", 3, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "");
	/* A compression pointer. */
	assert_int_equal(spf_mx_decode((const uint8_t *)"\0\0\xc0\x0c", 4,
	    out, sizeof(out)), -1);
}

static void
test_domains(void **state)
{
	static const char	ok[] = "# big senders\n_spf.Google.com.\n"
	    "  amazonses.com   # SES\n\n_spf.google.com\r\n";
	char			**v, err[256];
	size_t			 n;

	(void)state;
	assert_int_equal(spf_domains_parse("f", ok, sizeof(ok) - 1, &v, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "_spf.google.com");
	assert_string_equal(v[1], "amazonses.com");
	spf_domains_free(v, n);
	assert_int_equal(spf_domains_parse("/etc/x", "a.test\nb c\n", 11, &v,
	    &n, err, sizeof(err)), -1);
	assert_string_equal(err, "/etc/x:2: \"b c\": one domain a line");
	assert_int_equal(spf_domains_parse("/etc/x", "a.test\n\nb..c", 12,
	    &v, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "/etc/x:3: \"b..c\": an empty label");
	assert_null(v);
	assert_int_equal(n, 0);
}

/* --- the walk, against a table --- */

struct fake {
	const char	*name;
	int		 type;
	enum spf_astatus status;
	uint32_t	 ttl;
	/*
	 * Records, ';'-separated; TXT strings inside a record are
	 * '|'-separated (several character-strings).
	 */
	const char	*data;
};

#define MAXREC	16

/* The answer of the table for q, built in the buffers given. */
static void
fake_answer(const struct fake *tab, const struct spf_query *q,
    struct spf_answer *a, char txt[MAXREC][1024], const char *tp[MAXREC],
    size_t tl[MAXREC], struct addr ad[MAXREC], const char *mxp[MAXREC])
{
	const struct fake	*f;
	char			 buf[2048], *save = NULL, *rec, *s;
	uint8_t			 rd[1024];
	const char		*why;
	size_t			 k;

	memset(a, 0, sizeof(*a));
	a->status = SPF_ANS_NXDOMAIN;
	for (f = tab; f->name != NULL; f++)
		if (strcmp(f->name, q->name) == 0) {
			a->status = SPF_ANS_OK;	/* the name exists */
			if (f->type == q->type)
				break;
		}
	if (f->name == NULL)
		return;
	a->status = f->status;
	a->ttl = f->ttl;
	if (f->data == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", f->data);
	for (rec = strtok_r(buf, ";", &save); rec != NULL && a->n < MAXREC;
	    rec = strtok_r(NULL, ";", &save)) {
		switch (q->type) {
		case SPF_QTXT:
			/* As on the wire, then decoded as resolver.c does. */
			k = 0;
			for (s = rec; ; ) {
				char *bar = strchr(s, '|');
				size_t l = bar != NULL ? (size_t)(bar - s) :
				    strlen(s);
				rd[k++] = (uint8_t)l;
				memcpy(rd + k, s, l);
				k += l;
				if (bar == NULL)
					break;
				s = bar + 1;
			}
			assert_int_equal(spf_txt_decode(rd, k, txt[a->n],
			    &tl[a->n]), 0);
			tp[a->n] = txt[a->n];
			break;
		case SPF_QMX:
			snprintf(txt[a->n], sizeof(txt[a->n]), "%s", rec);
			mxp[a->n] = txt[a->n];
			break;
		default:
			assert_int_equal(addr_parse(rec, &ad[a->n], &why), 0);
			break;
		}
		a->n++;
	}
	a->text = tp;
	a->textlen = tl;
	a->addr = ad;
	a->name = mxp;
}

struct outcome {
	char	res[4096];	/* "d: p p ttl=N" lines, "FAILED" marked */
	char	prob[8192];	/* "kind: text" lines */
	size_t	queries;
};

/* Walk domains against tab; every lookup answered in turn. */
static void
run_walk(const struct fake *tab, const char *const *domains, size_t n,
    const struct spf_limits *lim, struct outcome *o)
{
	static char		 txt[MAXREC][1024];
	struct spf_walk		*w;
	struct spf_query	 q[8];
	struct spf_answer	 a;
	const char		*tp[MAXREC], *mxp[MAXREC];
	size_t			 tl[MAXREC], i, j, k, nr, np, off;
	struct addr		 ad[MAXREC];
	const struct spf_result	*r;
	const struct spf_problem *p;
	char			 pf[ADDR_STRLEN];
	struct spf_limits	 def;

	if (lim == NULL) {
		spf_limits_default(&def);
		lim = &def;
	}
	memset(o, 0, sizeof(*o));
	assert_int_equal(spf_walk_new(&w, domains, n, lim, 1000), 0);
	while (!spf_walk_done(w)) {
		k = spf_walk_next(w, 1000, q, 8);
		assert_true(k > 0);
		for (i = 0; i < k; i++) {
			o->queries++;
			fake_answer(tab, &q[i], &a, txt, tp, tl, ad, mxp);
			assert_int_equal(spf_walk_answer(w, q[i].id, &a), 0);
		}
	}
	assert_int_equal(spf_walk_results(w, &r, &nr, &p, &np), 0);
	assert_int_equal(nr, n);
	off = 0;
	for (i = 0; i < nr; i++) {
		off += (size_t)snprintf(o->res + off, sizeof(o->res) - off,
		    "%s:", r[i].domain);
		for (j = 0; j < r[i].n; j++) {
			prefix_format(&r[i].pfx[j], pf, sizeof(pf));
			off += (size_t)snprintf(o->res + off,
			    sizeof(o->res) - off, " %s", pf);
		}
		off += (size_t)snprintf(o->res + off, sizeof(o->res) - off,
		    " ttl=%u%s\n", r[i].ttl, r[i].failed ? " FAILED" : "");
	}
	off = 0;
	for (i = 0; i < np; i++)
		off += (size_t)snprintf(o->prob + off, sizeof(o->prob) - off,
		    "%s: %s\n", spf_pkind_name(p[i].kind), p[i].text);
	spf_walk_free(w);
}

#define TXT(n, ttl, d)	{ n, SPF_QTXT, SPF_ANS_OK, ttl, d }
#define A(n, d)		{ n, SPF_QA, SPF_ANS_OK, 600, d }
#define AAAA(n, d)	{ n, SPF_QAAAA, SPF_ANS_OK, 600, d }
#define MX(n, d)	{ n, SPF_QMX, SPF_ANS_OK, 600, d }

static void
test_include_chain(void **state)
{
	static const struct fake	tab[] = {
		TXT("top.test", 3600, "v=spf1 ip4:192.0.2.0/25 "
		    "include:mid.test -all;some other text"),
		TXT("mid.test", 300, "v=spf1 include:leaf.test "
		    "ip4:192.0.2.128/25 ~all"),
		TXT("leaf.test", 900, "v=spf1 ip6:2001:db8:1::/48 ?all"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "top.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 1, NULL, &o);
	/* The two /25 collapse; the least TTL of the chain. */
	assert_string_equal(o.res, "top.test: 192.0.2.0/24 "
	    "2001:db8:1::/48 ttl=300\n");
	assert_string_equal(o.prob, "");
}

static void
test_loop(void **state)
{
	static const struct fake	tab[] = {
		TXT("a.test", 600, "v=spf1 ip4:10.0.0.1 include:b.test -all"),
		TXT("b.test", 600, "v=spf1 ip4:10.0.0.2 include:A.test. -all"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "a.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 1, NULL, &o);
	assert_string_equal(o.res, "a.test: 10.0.0.1/32 10.0.0.2/32 "
	    "ttl=600\n");
	assert_string_equal(o.prob, "loop: a.test > b.test: include:A.test.: "
	    "loop (a.test is already on the path); not followed\n");
}

static void
test_deep(void **state)
{
	static const struct fake	tab[] = {
		TXT("d0.test", 600, "v=spf1 include:d1.test"),
		TXT("d1.test", 600, "v=spf1 include:d2.test ip4:10.1.0.0/16"),
		TXT("d2.test", 600, "v=spf1 redirect=d3.test"),
		TXT("d3.test", 600, "v=spf1 include:d4.test ip4:10.3.0.0/16"),
		TXT("d4.test", 600, "v=spf1 ip4:10.4.0.0/16"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "d0.test" };
	struct spf_limits	lim;
	struct outcome		o;

	(void)state;
	spf_limits_default(&lim);
	lim.depth = 3;
	run_walk(tab, d, 1, &lim, &o);
	assert_string_equal(o.res, "d0.test: 10.1.0.0/16 10.3.0.0/16 "
	    "ttl=600\n");
	assert_string_equal(o.prob, "deep: d0.test > d1.test > d2.test > "
	    "d3.test: include:d4.test: deeper than 3 includes and "
	    "redirects; not followed\n");
	/* With the default depth the whole chain is walked. */
	run_walk(tab, d, 1, NULL, &o);
	assert_string_equal(o.res, "d0.test: 10.1.0.0/16 10.3.0.0/16 "
	    "10.4.0.0/16 ttl=600\n");
}

static void
test_dead_include(void **state)
{
	static const struct fake	tab[] = {
		TXT("top.test", 600, "v=spf1 include:gone.test "
		    "include:nospf.test ip4:10.9.9.9 a:nohost.test -all"),
		TXT("nospf.test", 600, "google-site-verification=abc"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "top.test", "absent.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 2, NULL, &o);
	assert_string_equal(o.res, "top.test: 10.9.9.9/32 ttl=600\n"
	    "absent.test: ttl=0\n");
	/* In the order the answers came: both top domains first. */
	assert_string_equal(o.prob,
	    "dead: absent.test: no such domain (NXDOMAIN)\n"
	    "dead: top.test > gone.test: no such domain (NXDOMAIN)\n"
	    "dead: top.test > nospf.test: no SPF record (1 TXT record)\n"
	    "dead: top.test: a:nohost.test: nohost.test: no such domain "
	    "(NXDOMAIN)\n");
}

static void
test_redirect(void **state)
{
	static const struct fake	tab[] = {
		TXT("r.test", 600, "v=spf1 ip4:10.0.0.0/24 "
		    "redirect=_spf.r.test"),
		TXT("_spf.r.test", 120, "v=spf1 ip4:10.0.1.0/24 -all"),
		/* With all, the redirect is ignored (RFC 7208 6.1). */
		TXT("s.test", 600, "v=spf1 redirect=_spf.r.test "
		    "ip4:10.2.0.0/16 ~all ip4:10.3.0.0/16"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "r.test", "s.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 2, NULL, &o);
	assert_string_equal(o.res, "r.test: 10.0.0.0/23 ttl=120\n"
	    "s.test: 10.2.0.0/16 ttl=600\n");
	assert_string_equal(o.prob, "");
}

static void
test_a_mx_cidr(void **state)
{
	static const struct fake	tab[] = {
		TXT("m.test", 600, "v=spf1 a/24//64 mx:mail.test/28 "
		    "a:v6only.test//120 -a:neg.test"),
		A("m.test", "192.0.2.77"),
		AAAA("m.test", "2001:db8:5:5::77"),
		MX("mail.test", "mx1.mail.test;mx2.mail.test;"),
		A("mx1.mail.test", "198.51.100.17;198.51.100.200"),
		AAAA("mx1.mail.test", "2001:db8:7::1"),
		A("mx2.mail.test", "203.0.113.5"),
		TXT("mx2.mail.test", 600, "irrelevant"),
		AAAA("v6only.test", "2001:db8:9::1234"),
		{ "v6only.test", SPF_QA, SPF_ANS_OK, 600, NULL },
		A("neg.test", "10.6.6.6"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "m.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 1, NULL, &o);
	assert_string_equal(o.res, "m.test: 192.0.2.0/24 198.51.100.16/28 "
	    "198.51.100.192/28 203.0.113.0/28 2001:db8:5:5::/64 "
	    "2001:db8:7::1/128 2001:db8:9::1200/120 ttl=600\n");
	/* mx2 has no AAAA: the name exists, no data, no problem. */
	assert_string_equal(o.prob, "");
}

static void
test_ip6_and_qualifiers(void **state)
{
	static const struct fake	tab[] = {
		TXT("q.test", 600, "v=spf1 ip6:2001:db8::/32 "
		    "-ip6:2001:db9::/32 ~ip4:10.0.0.1 ?ip4:10.0.0.2 "
		    "+ip4:10.0.0.3 ptr exists:%{i}.e.test include:%{d}.m.test "
		    "~include:x.test all ip4:10.0.0.4"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "q.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 1, NULL, &o);
	assert_string_equal(o.res, "q.test: 10.0.0.3/32 2001:db8::/32 "
	    "ttl=600\n");
	assert_string_equal(o.prob,
	    "skipped: q.test: ptr: needs a sender; skipped\n"
	    "skipped: q.test: exists:%{i}.e.test: a macro needs a sender; "
	    "skipped\n"
	    "skipped: q.test: include:%{d}.m.test: a macro needs a sender; "
	    "skipped\n");
	/* Only the one TXT lookup: nothing else passes. */
	assert_int_equal(o.queries, 1);
}

static void
test_multiple_and_split(void **state)
{
	static const struct fake	tab[] = {
		TXT("two.test", 600, "v=spf1 ip4:10.0.0.1 -all;"
		    "v=spf1 ip4:10.0.0.2 -all"),
		/* One record in three character-strings. */
		TXT("split.test", 600, "v=spf1 ip4:192.0.2.1 |ip4:192.0.2.2 "
		    "ip6:2001:db8::1|0 -all"),
		TXT("bad.test", 600, "v=spf1 ip4:10.0.0.1 bogus -all"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "two.test", "split.test", "bad.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 3, NULL, &o);
	assert_string_equal(o.res, "two.test: ttl=600\n"
	    "split.test: 192.0.2.1/32 192.0.2.2/32 2001:db8::10/128 "
	    "ttl=600\n"
	    "bad.test: ttl=600\n");
	assert_string_equal(o.prob,
	    "error: two.test: 2 SPF records, a permanent error (RFC 7208 "
	    "4.5)\n"
	    "error: bad.test: bad.test: term \"bogus\": unknown mechanism\n");
}

static void
test_failures(void **state)
{
	static const struct fake	tab[] = {
		TXT("f.test", 600, "v=spf1 ip4:10.0.0.1 include:sf.test -all"),
		{ "sf.test", SPF_QTXT, SPF_ANS_SERVFAIL, 0, NULL },
		TXT("g.test", 600, "v=spf1 ip4:10.0.0.2 a:slow.test -all"),
		{ "slow.test", SPF_QA, SPF_ANS_TIMEOUT, 0, NULL },
		AAAA("slow.test", "2001:db8::5"),
		TXT("ok.test", 60, "v=spf1 ip4:10.0.0.3 -all"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "f.test", "g.test", "ok.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 3, NULL, &o);
	assert_string_equal(o.res, "f.test: 10.0.0.1/32 ttl=600 FAILED\n"
	    "g.test: 10.0.0.2/32 2001:db8::5/128 ttl=600 FAILED\n"
	    "ok.test: 10.0.0.3/32 ttl=60\n");
	assert_string_equal(o.prob,
	    "temp: f.test > sf.test: sf.test TXT: server failure\n"
	    "timeout: g.test: a:slow.test: slow.test A: no answer in time\n");
}

/* The walk's deadline: what is unanswered then times out. */
static void
test_deadline(void **state)
{
	const char *const	 d[] = { "late.test" };
	struct spf_limits	 lim;
	struct spf_walk		*w;
	struct spf_query	 q[4];
	const struct spf_result	*r;
	const struct spf_problem *p;
	size_t			 nr, np;

	(void)state;
	spf_limits_default(&lim);
	lim.walk_ms = 5000;
	assert_int_equal(spf_walk_new(&w, d, 1, &lim, 100), 0);
	assert_int_equal(spf_walk_next(w, 100, q, 4), 1);
	assert_string_equal(q[0].name, "late.test");
	assert_int_equal(q[0].type, SPF_QTXT);
	assert_int_equal(spf_walk_next(w, 4000, q, 4), 0);
	assert_false(spf_walk_done(w));
	assert_int_equal(spf_walk_next(w, 5100, q, 4), 0);
	assert_true(spf_walk_done(w));
	assert_int_equal(spf_walk_results(w, &r, &nr, &p, &np), 0);
	assert_true(r[0].failed);
	assert_int_equal(np, 1);
	assert_int_equal(p[0].kind, SPF_P_TIMEOUT);
	spf_walk_free(w);
}

static void
test_limits(void **state)
{
	static const struct fake	tab[] = {
		TXT("many.test", 600, "v=spf1 include:i1.test include:i2.test "
		    "include:i3.test ip4:10.0.0.0/32 ip4:10.0.0.2/32 "
		    "ip4:10.0.0.4/32 -all"),
		TXT("i1.test", 600, "v=spf1 ip4:10.1.0.1"),
		TXT("i2.test", 600, "v=spf1 ip4:10.1.0.2"),
		TXT("i3.test", 600, "v=spf1 ip4:10.1.0.3"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "many.test" };
	struct spf_limits	lim;
	struct outcome		o;

	(void)state;
	spf_limits_default(&lim);
	lim.lookups = 2;
	lim.prefixes = 4;
	run_walk(tab, d, 1, &lim, &o);
	/* The record's own prefixes come first, includes' when answered. */
	assert_string_equal(o.res, "many.test: 10.0.0.0/32 10.0.0.2/32 "
	    "10.0.0.4/32 10.1.0.1/32 ttl=600\n");
	assert_string_equal(o.prob,
	    "limit: many.test: include:i3.test: over the limit of 2 "
	    "lookups for many.test; not followed\n"
	    "limit: many.test > i2.test: ip4:10.1.0.2: over the limit of 4 "
	    "prefixes for many.test; the rest left out\n");
}

/* Two top domains sharing an include: asked once. */
static void
test_shared(void **state)
{
	static const struct fake	tab[] = {
		TXT("x.test", 600, "v=spf1 include:common.test"),
		TXT("y.test", 600, "v=spf1 include:common.test "
		    "ip4:10.7.0.0/16"),
		TXT("common.test", 600, "v=spf1 ip4:10.8.0.0/16"),
		{ NULL, 0, 0, 0, NULL }
	};
	const char *const	d[] = { "x.test", "y.test" };
	struct outcome		o;

	(void)state;
	run_walk(tab, d, 2, NULL, &o);
	assert_string_equal(o.res, "x.test: 10.8.0.0/16 ttl=600\n"
	    "y.test: 10.7.0.0/16 10.8.0.0/16 ttl=600\n");
	assert_int_equal(o.queries, 3);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_parse_terms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_rdata),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_include_chain),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_dead_include),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_a_mx_cidr),
		cmocka_unit_test(test_ip6_and_qualifiers),
		cmocka_unit_test(test_multiple_and_split),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
