/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for dnsrep: the file, query names, filters, scores and
 * verdicts, and the cache.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dnsrep.h"

static struct dnsrep_conf *
parse_ok(const char *text)
{
	struct dnsrep_conf *c = malloc(sizeof(*c));
	char err[512] = "";

	assert_non_null(c);
	if (dnsrep_parse("f", text, strlen(text), c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return c;
}

static void
parse_err(const char *text, const char *want)
{
	struct dnsrep_conf c;
	char err[512] = "";

	assert_int_equal(dnsrep_parse("f", text, strlen(text), &c, err,
	    sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, want);
}

static const uint8_t *
ip4(const char *s)
{
	static uint8_t b[4];
	unsigned x[4];

	assert_int_equal(sscanf(s, "%u.%u.%u.%u", &x[0], &x[1], &x[2],
	    &x[3]), 4);
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)x[i];
	return b;
}

static void
test_parse(void **state)
{
	struct dnsrep_conf *c;

	(void)state;
	c = parse_ok("# sites\n"
	    "zen.spamhaus.org=127.0.0.[2..11]*3\n"
	    "  b.barracudacentral.org=127.0.0.2*2  # trailing comment\r\n"
	    "list.dnswl.org=127.0.[0..255].[1;2;3]*-5, bl.example.lan.\n"
	    "Zen.Spamhaus.ORG=127.0.0.[10;11]*2\n"
	    "threshold 3\ntrust -2\ntimeout 800ms\ncache 30 600\n"
	    "cache-size 100\n");
	assert_int_equal(c->nzones, 4);
	assert_int_equal(c->nsites, 5);
	assert_string_equal(c->zones[0].name, "zen.spamhaus.org");
	assert_string_equal(c->zones[3].name, "bl.example.lan");
	assert_int_equal(c->sites[0].weight, 3);
	assert_int_equal(c->sites[2].weight, -5);
	assert_int_equal(c->sites[3].weight, 1);
	assert_false(c->sites[3].filtered);
	/* Same zone twice: one zone, two sites. */
	assert_int_equal(c->sites[4].zone, 0);
	assert_int_equal(c->threshold, 3);
	assert_true(c->trust_set);
	assert_int_equal(c->trust, -2);
	assert_int_equal(c->timeout_ms, 800);
	assert_int_equal(c->ttl_min, 30);
	assert_int_equal(c->ttl_max, 600);
	assert_int_equal(c->cache_size, 100);
	free(c);

	c = parse_ok("zen.spamhaus.org\ntimeout 2\n");
	assert_int_equal(c->threshold, 1);
	assert_false(c->trust_set);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->ttl_min, DNSREP_TTL_MIN);
	assert_int_equal(c->ttl_max, DNSREP_TTL_MAX);
	assert_int_equal(c->cache_size, DNSREP_CACHE_SIZE);
	free(c);

	c = parse_ok("x.example\ntimeout 3s");
	assert_int_equal(c->timeout_ms, 3000);
	free(c);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	parse_err("", "f: no sites");
	parse_err("# only\n\nthreshold 2\n", "no sites");
	parse_err("a.b\nzen.spamhaus.org=127.0.0.[2..]\n", "f:2: filter "
	    "\"127.0.0.[2..]\": a range");
	parse_err("a.b=127.0.0\n", "f:1: filter \"127.0.0\": four octets");
	parse_err("a.b=127.0.0.1.5\n", "more than four octets");
	parse_err("a.b=127.0.0.256\n", "an octet is a number");
	parse_err("a.b=127.0.0.[9..2]\n", "backwards");
	parse_err("a.b=127.0.0.[1;2\n", "ends with ']'");
	parse_err("a.b=127.0.0.[]\n", "bracketed list holds");
	parse_err("a.b=127.0.0.0001\n", "an octet is a number");
	parse_err("a.b=\n", "filter \"\": an octet");
	parse_err("a.b*x\n", "f:1: weight \"x\"");
	parse_err("a.b*10001\n", "weight");
	parse_err("a.b*\n", "weight \"\"");
	parse_err("localhost\n", "zone \"localhost\": a zone has at least "
	    "two labels");
	parse_err("a..b\n", "empty label");
	parse_err(".a.b\n", "empty label");
	parse_err("a.b..\n", "empty label");
	parse_err("=127.0.0.2\n", "no zone");
	parse_err("a/b.c\n", "letters, digits");
	parse_err("a.b\nthreshold 0\n", "f:2: threshold \"0\"");
	parse_err("a.b\nthreshold\n", "f:2: threshold takes one value");
	parse_err("a.b\ntrust 0\n", "f:2: trust \"0\": a whole number from "
	    "-100000 to -1");
	parse_err("a.b\ntimeout 5ms\n", "timeout \"5ms\": from 10ms");
	parse_err("a.b\ntimeout 11s\n", "timeout \"11s\"");
	parse_err("a.b\ntimeout 1m\n", "timeout \"1m\"");
	parse_err("a.b\ntimeout 00000000000000000001s\n", "timeout");
	parse_err("a.b\ncache 10\n", "f:2: cache takes two numbers");
	parse_err("a.b\ncache 10 5\n", "shorter than the shortest");
	parse_err("a.b\ncache-size -1\n", "cache-size \"-1\"");
	parse_err("a.b\nthreshold 2\nthreshold 3\n", "f:3: threshold given "
	    "again (first on line 2)");
	parse_err("a.b\n\"x\\y\x01.z\n", "zone \"\\\"x\\\\y\\x01.z\"");
	{
		char big[DNSREP_LINEMAX + 20];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		parse_err(big, "f:1: line longer than 4096 bytes");
	}
	{
		char z[300];

		memset(z, 'a', sizeof(z));
		for (int i = 50; i < 299; i += 50)
			z[i] = '.';
		z[299] = '\0';
		parse_err(z, "longer than 189");
		memset(z, 'a', 70);
		strcpy(z + 70, ".example");
		parse_err(z, "longer than 63");
	}
	{
		char text[65 * 16];
		size_t o = 0;

		for (int i = 0; i < 65; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
			    "z%d.example\n", i);
		parse_err(text, "more than 64");
	}
}

static void
test_dqs_shown(void **state)
{
	struct dnsrep_conf *c;
	char out[256];

	(void)state;
	c = parse_ok("abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net=127.0.0."
	    "[2..11]*3\nzen.dq.spamhaus.net\nkey.dbl.dq.spamhaus.com\n"
	    "zen.spamhaus.org\n");
	assert_string_equal(dnsrep_zone_shown(c, 0), "zen.dq.spamhaus.net");
	assert_string_equal(dnsrep_zone_shown(c, 1), "zen.dq.spamhaus.net");
	assert_string_equal(dnsrep_zone_shown(c, 2), "dbl.dq.spamhaus.com");
	assert_string_equal(dnsrep_zone_shown(c, 3), "zen.spamhaus.org");
	dnsrep_zones_matched(c, 0xf, " ", out, sizeof(out));
	assert_null(strstr(out, "abcdefghij"));
	assert_string_equal(out, "zen.dq.spamhaus.net zen.dq.spamhaus.net "
	    "dbl.dq.spamhaus.com zen.spamhaus.org");
	free(c);
}

static void
test_qname(void **state)
{
	struct addr a;
	char out[DNSREP_QNAMEMAX];

	(void)state;
	assert_int_equal(addr_parse("192.0.2.99", &a, NULL), 0);
	assert_int_equal(dnsrep_qname(&a, "zen.spamhaus.org", out,
	    sizeof(out)), strlen("99.2.0.192.zen.spamhaus.org"));
	assert_string_equal(out, "99.2.0.192.zen.spamhaus.org");
	assert_int_equal(addr_parse("2001:db8::567:89ab", &a, NULL), 0);
	assert_int_equal(dnsrep_qname(&a, "list.dnswl.org", out,
	    sizeof(out)), 64 + 14);
	assert_string_equal(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.list.dnswl.org");
	/* Too small: 0, never a cut name. */
	assert_int_equal(dnsrep_qname(&a, "list.dnswl.org", out, 70), 0);
	assert_int_equal(addr_parse("192.0.2.99", &a, NULL), 0);
	assert_int_equal(dnsrep_qname(&a, "zen.spamhaus.org", out, 12), 0);
}

static void
test_match(void **state)
{
	struct dnsrep_conf *c;

	(void)state;
	c = parse_ok("a.example=127.0.0.[2..11]\n"
	    "b.example=127.0.[0..255].[1;2;3]\n"
	    "c.example=127.0.0.[1;4..6;255]\n"
	    "d.example\n");
	assert_true(dnsrep_site_match(&c->sites[0], ip4("127.0.0.2")));
	assert_true(dnsrep_site_match(&c->sites[0], ip4("127.0.0.11")));
	assert_false(dnsrep_site_match(&c->sites[0], ip4("127.0.0.1")));
	assert_false(dnsrep_site_match(&c->sites[0], ip4("127.0.0.12")));
	assert_false(dnsrep_site_match(&c->sites[0], ip4("127.0.1.2")));
	assert_true(dnsrep_site_match(&c->sites[1], ip4("127.0.200.3")));
	assert_false(dnsrep_site_match(&c->sites[1], ip4("127.0.200.4")));
	assert_false(dnsrep_site_match(&c->sites[1], ip4("126.0.0.1")));
	assert_true(dnsrep_site_match(&c->sites[2], ip4("127.0.0.1")));
	assert_true(dnsrep_site_match(&c->sites[2], ip4("127.0.0.5")));
	assert_true(dnsrep_site_match(&c->sites[2], ip4("127.0.0.255")));
	assert_false(dnsrep_site_match(&c->sites[2], ip4("127.0.0.3")));
	assert_true(dnsrep_site_match(&c->sites[3], ip4("10.1.2.3")));
	free(c);
}

/* Spamhaus, SpamCop, dnswl: the scores postscreen would give. */
static void
test_score(void **state)
{
	struct dnsrep_conf *c;
	struct dnsrep_lookup l;
	uint8_t rr[12];
	char out[128];

	(void)state;
	c = parse_ok("zen.spamhaus.org=127.0.0.[2..11]*3\n"
	    "zen.spamhaus.org=127.0.0.[10;11]*1\n"
	    "bl.spamcop.net*2\n"
	    "list.dnswl.org=127.0.[0..255].[2;3]*-6\n"
	    "threshold 3\ntrust -4\n");

	/* Two records matching one site: its weight once. */
	dnsrep_lookup_init(c, &l);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	memcpy(rr, ip4("127.0.0.2"), 4);
	memcpy(rr + 4, ip4("127.0.0.4"), 4);
	memcpy(rr + 8, ip4("127.0.0.10"), 4);
	dnsrep_lookup_answer(c, &l, 0, 0, 300, rr, 3);
	assert_int_equal(l.score, 4);
	assert_int_equal(l.matched, 3);
	/* The DNSWL could still take 6 off: not decided yet. */
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	/* A repeated answer is ignored. */
	dnsrep_lookup_answer(c, &l, 0, 0, 300, rr, 3);
	assert_int_equal(l.score, 4);
	dnsrep_lookup_answer(c, &l, 1, 3, 100, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	dnsrep_lookup_answer(c, &l, 2, 3, 900, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_LISTED);
	assert_int_equal(l.ttl, 100);
	dnsrep_zones_matched(c, l.matched, ", ", out, sizeof(out));
	assert_string_equal(out, "zen.spamhaus.org");

	/* On the DNSWL and on SpamCop: 2 - 6, trusted. */
	dnsrep_lookup_init(c, &l);
	dnsrep_lookup_answer(c, &l, 2, 0, 300, ip4("127.0.15.2"), 1);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	dnsrep_lookup_answer(c, &l, 1, 0, 300, ip4("127.0.0.2"), 1);
	assert_int_equal(l.score, -4);
	/* zen could add 4 at most: -4 + 4 is not listed, not trusted. */
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	dnsrep_lookup_answer(c, &l, 0, 3, 60, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_TRUSTED);
	dnsrep_zones_matched(c, l.matched, " ", out, sizeof(out));
	assert_string_equal(out, "bl.spamcop.net list.dnswl.org");

	/* Nobody lists it: neutral once every zone is heard. */
	dnsrep_lookup_init(c, &l);
	for (size_t z = 0; z < 3; z++)
		dnsrep_lookup_answer(c, &l, z, 3, 3600, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_NEUTRAL);
	assert_int_equal(l.score, 0);
	assert_int_equal(l.pending, 0);
	assert_int_equal(l.failed, 0);
	free(c);
}

static void
test_early_and_timeout(void **state)
{
	struct dnsrep_conf *c;
	struct dnsrep_lookup l;

	(void)state;
	c = parse_ok("a.example*5\nb.example*1\nw.example*-2\n"
	    "threshold 3\n");
	/* a alone is enough whatever the others say. */
	dnsrep_lookup_init(c, &l);
	dnsrep_lookup_answer(c, &l, 0, 0, 10, ip4("127.0.0.2"), 1);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_LISTED);

	/* Unlisted at a and w; b cannot reach 3 alone: neutral early. */
	dnsrep_lookup_init(c, &l);
	dnsrep_lookup_answer(c, &l, 0, 3, 10, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_NEUTRAL);

	/* Timeout with a still able to list it: unknown. */
	dnsrep_lookup_init(c, &l);
	dnsrep_lookup_answer(c, &l, 1, 0, 10, ip4("127.0.0.2"), 1);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNDECIDED);
	dnsrep_lookup_expire(&l);
	assert_int_equal(l.pending, 0);
	assert_int_equal(l.failed, 5);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNKNOWN);

	/* SERVFAIL is a failure, not an answer. */
	dnsrep_lookup_init(c, &l);
	dnsrep_lookup_answer(c, &l, 0, 2, 10, ip4("127.0.0.2"), 1);
	assert_int_equal(l.failed, 1);
	assert_int_equal(l.score, 0);
	dnsrep_lookup_answer(c, &l, 1, -1, 0, NULL, 0);
	dnsrep_lookup_answer(c, &l, 2, 3, 10, NULL, 0);
	assert_int_equal(dnsrep_decide(c, &l), DNSREP_UNKNOWN);
	/* Out of range zones are ignored. */
	dnsrep_lookup_answer(c, &l, 7, 0, 10, ip4("127.0.0.2"), 1);
	assert_int_equal(l.score, 0);
	free(c);
}

static void
test_ttl(void **state)
{
	struct dnsrep_conf *c = parse_ok("a.example\ncache 60 600\n");

	(void)state;
	assert_int_equal(dnsrep_ttl(c, 0), 60);
	assert_int_equal(dnsrep_ttl(c, 300), 300);
	assert_int_equal(dnsrep_ttl(c, UINT32_MAX), 600);
	free(c);
}

static void
test_cache(void **state)
{
	struct dnsrep_cache k;
	struct dnsrep_result r = { DNSREP_LISTED, 5, 1 }, got;
	struct addr a, b, a6;
	char ip[64];

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a, NULL), 0);
	assert_int_equal(addr_parse("192.0.2.2", &b, NULL), 0);
	assert_int_equal(addr_parse("2001:db8::1", &a6, NULL), 0);

	/* No cache: nothing kept, nothing found. */
	assert_int_equal(dnsrep_cache_init(&k, 0), 0);
	dnsrep_cache_put(&k, &a, &r, 100, 200);
	assert_false(dnsrep_cache_get(&k, &a, 100, &got));
	dnsrep_cache_free(&k);

	assert_int_equal(dnsrep_cache_init(&k, 10), 0);
	assert_false(dnsrep_cache_get(&k, &a, 100, &got));
	dnsrep_cache_put(&k, &a, &r, 100, 200);
	assert_true(dnsrep_cache_get(&k, &a, 199, &got));
	assert_int_equal(got.verdict, DNSREP_LISTED);
	assert_int_equal(got.score, 5);
	assert_int_equal(got.matched, 1);
	assert_false(dnsrep_cache_get(&k, &a, 200, &got));
	assert_false(dnsrep_cache_get(&k, &b, 150, &got));
	assert_false(dnsrep_cache_get(&k, &a6, 150, &got));
	/* A newer answer replaces the old one. */
	r.verdict = DNSREP_NEUTRAL;
	dnsrep_cache_put(&k, &a, &r, 150, 300);
	assert_true(dnsrep_cache_get(&k, &a, 250, &got));
	assert_int_equal(got.verdict, DNSREP_NEUTRAL);
	/* Already expired: not kept. */
	dnsrep_cache_put(&k, &b, &r, 150, 150);
	assert_false(dnsrep_cache_get(&k, &b, 150, &got));
	dnsrep_cache_free(&k);

	/* Bounded: many more addresses than slots, the latest stays. */
	assert_int_equal(dnsrep_cache_init(&k, 8), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(addr_parse(ip, &b, NULL), 0);
		r.score = i;
		dnsrep_cache_put(&k, &b, &r, 1000, 2000 + i);
		assert_true(dnsrep_cache_get(&k, &b, 1000, &got));
		assert_int_equal(got.score, i);
	}
	{
		int live = 0;

		for (int i = 0; i < 5000; i++) {
			snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256,
			    i % 256);
			addr_parse(ip, &b, NULL);
			live += dnsrep_cache_get(&k, &b, 1000, &got);
		}
		assert_true(live <= 8 && live > 0);
	}
	dnsrep_cache_free(&k);
}

static void
test_load(void **state)
{
	char path[64], err[512];
	struct dnsrep_conf *c = malloc(sizeof(*c));
	int fd;

	(void)state;
	assert_non_null(c);
	snprintf(path, sizeof(path), "/tmp/test_dnsrep.%ld", (long)getpid());
	unlink(path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	assert_int_equal(write(fd, "a.example*2\nthreshold 2\n", 24), 24);
	close(fd);
	assert_int_equal(dnsrep_load(path, c, err, sizeof(err)), 0);
	assert_int_equal(c->threshold, 2);
	unlink(path);
	assert_int_equal(dnsrep_load(path, c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_dqs_shown),
		cmocka_unit_test(test_qname),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_early_and_timeout),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
