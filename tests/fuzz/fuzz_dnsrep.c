/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/dnsrep.c: the --dnsrep file as an
 * admin could get it wrong, and the filters and scores of its sites.
 * A refused file comes with a message naming the file; an accepted one
 * printed back in canonical form parses to the same configuration; the
 * query names fit; a lookup fed answers made from the input scores the
 * weights of exactly the sites its filters match, and its verdict
 * agrees with the score and the bounds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dnsrep.h"
#include "fuzz.h"

/* One octet's bitmap as [a..b;c], or a plain number. */
static void
print_octet(struct buf *b, const uint8_t *map)
{
	int v = 0, n = 0, first = 1;

	for (int i = 0; i < 256; i++)
		n += (map[i / 8] >> (i % 8)) & 1;
	if (n == 1) {
		while (!((map[v / 8] >> (v % 8)) & 1))
			v++;
		CHECK(buf_printf(b, "%d", v) == 0);
		return;
	}
	CHECK(buf_printf(b, "[") == 0);
	for (v = 0; v < 256; v++) {
		int lo = v;

		if (!((map[v / 8] >> (v % 8)) & 1))
			continue;
		while (v + 1 < 256 && ((map[(v + 1) / 8] >> ((v + 1) % 8)) & 1))
			v++;
		CHECK(buf_printf(b, "%s%d", first ? "" : ";", lo) == 0);
		if (v > lo)
			CHECK(buf_printf(b, "..%d", v) == 0);
		first = 0;
	}
	CHECK(buf_printf(b, "]") == 0);
}

static void
print_conf(struct buf *b, const struct dnsrep_conf *c)
{
	for (size_t i = 0; i < c->nsites; i++) {
		const struct dnsrep_site *s = &c->sites[i];

		CHECK(buf_printf(b, "%s", c->zones[s->zone].name) == 0);
		if (s->filtered)
			for (int o = 0; o < 4; o++) {
				CHECK(buf_printf(b, o ? "." : "=") == 0);
				print_octet(b, s->octet[o]);
			}
		CHECK(buf_printf(b, "*%d\n", s->weight) == 0);
	}
	CHECK(buf_printf(b, "threshold %d\n", c->threshold) == 0);
	if (c->trust_set)
		CHECK(buf_printf(b, "trust %d\n", c->trust) == 0);
	CHECK(buf_printf(b, "timeout %ums\ncache %u %u\ncache-size %u\n",
	    c->timeout_ms, c->ttl_min, c->ttl_max, c->cache_size) == 0);
}

static bool
same_conf(const struct dnsrep_conf *a, const struct dnsrep_conf *b)
{
	if (a->nzones != b->nzones || a->nsites != b->nsites ||
	    a->threshold != b->threshold || a->trust_set != b->trust_set ||
	    (a->trust_set && a->trust != b->trust) ||
	    a->timeout_ms != b->timeout_ms || a->ttl_min != b->ttl_min ||
	    a->ttl_max != b->ttl_max || a->cache_size != b->cache_size)
		return false;
	for (size_t i = 0; i < a->nzones; i++)
		if (strcmp(a->zones[i].name, b->zones[i].name) != 0 ||
		    a->zones[i].shown != b->zones[i].shown)
			return false;
	for (size_t i = 0; i < a->nsites; i++) {
		const struct dnsrep_site *x = &a->sites[i], *y = &b->sites[i];

		/* A filter of every value matches as no filter does. */
		if (x->zone != y->zone || x->weight != y->weight ||
		    x->filtered != y->filtered ||
		    (x->filtered && memcmp(x->octet, y->octet,
		    sizeof(x->octet)) != 0))
			return false;
	}
	return true;
}

static void
check_zones(const struct dnsrep_conf *c)
{
	struct addr a4 = { .family = AF_INET, .bytes = { 255, 255, 255, 255 } };
	struct addr a6 = { .family = AF_INET6 };
	char q[DNSREP_QNAMEMAX];

	memset(a6.bytes, 0xff, 16);
	CHECK(c->nsites >= 1 && c->nsites <= DNSREP_MAXSITES);
	CHECK(c->nzones >= 1 && c->nzones <= c->nsites);
	CHECK(c->threshold >= 1);
	CHECK(!c->trust_set || c->trust < 0);
	CHECK(c->ttl_min <= c->ttl_max);
	CHECK(c->timeout_ms >= 10 && c->timeout_ms <= 10000);
	for (size_t i = 0; i < c->nzones; i++) {
		const char *z = c->zones[i].name;
		size_t n = strlen(z);

		CHECK(n >= 3 && n <= DNSREP_ZONEMAX);
		CHECK(c->zones[i].shown < n);
		CHECK(strchr(z, '.') != NULL && z[0] != '.' && z[n - 1] != '.');
		CHECK(strstr(z, "..") == NULL);
		for (size_t k = 0; k < n; k++)
			CHECK(!(z[k] >= 'A' && z[k] <= 'Z'));
		CHECK(dnsrep_qname(&a4, z, q, sizeof(q)) == 16 + n);
		CHECK(dnsrep_qname(&a6, z, q, sizeof(q)) == 64 + n);
		CHECK(strlen(q) <= 253);
	}
	for (size_t i = 0; i < c->nsites; i++)
		CHECK(c->sites[i].zone < c->nzones);
}

/* Answers from the input's bytes, each zone in turn. */
static void
check_lookup(const struct dnsrep_conf *c, const uint8_t *data, size_t size)
{
	struct dnsrep_lookup l;
	enum dnsrep_verdict v;
	int64_t want = 0;
	size_t p = 0;
	uint8_t rr[4 * 4];
	char out[512];

	dnsrep_lookup_init(c, &l);
	for (size_t z = 0; z < c->nzones; z++) {
		uint8_t sel = size ? data[p++ % size] : 0;
		size_t na = sel % 5;
		int rcode = sel & 0x80 ? 3 : sel & 0x40 ? 2 : 0;

		for (size_t k = 0; k < 4 * na; k++)
			rr[k] = size ? data[p++ % size] : 0;
		if (sel & 0x20)
			continue;	/* left pending */
		dnsrep_lookup_answer(c, &l, z, rcode, sel, rr, na);
		if (rcode != 0)
			continue;
		for (size_t i = 0; i < c->nsites; i++) {
			bool m = false;

			if (c->sites[i].zone != z)
				continue;
			for (size_t k = 0; k < na; k++)
				m |= dnsrep_site_match(&c->sites[i],
				    rr + 4 * k);
			CHECK(m == !!(l.matched & ((uint64_t)1 << i)));
			if (m)
				want += c->sites[i].weight;
		}
	}
	CHECK(l.score == want);
	v = dnsrep_decide(c, &l);
	if (l.pending == 0 && l.failed == 0) {
		CHECK(v != DNSREP_UNDECIDED && v != DNSREP_UNKNOWN);
		CHECK((v == DNSREP_LISTED) == (l.score >= c->threshold));
		CHECK((v == DNSREP_TRUSTED) == (c->trust_set &&
		    l.score <= c->trust));
	}
	/* Decided early only when the score already says so. */
	CHECK(v != DNSREP_LISTED || l.score >= c->threshold);
	CHECK(v != DNSREP_TRUSTED || (c->trust_set && l.score <= c->trust));
	CHECK(v != DNSREP_NEUTRAL || (l.score < c->threshold &&
	    (!c->trust_set || l.score > c->trust)));
	CHECK(v != DNSREP_UNDECIDED || l.pending != 0);
	dnsrep_lookup_expire(&l);
	CHECK(dnsrep_decide(c, &l) != DNSREP_UNDECIDED);
	if (v != DNSREP_UNDECIDED)
		CHECK(dnsrep_decide(c, &l) == v);
	dnsrep_zones_matched(c, l.matched, " ", out, sizeof(out));
	CHECK(strlen(out) < sizeof(out));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsrep_conf c, again;
	struct buf b = { 0 };
	char err[512];

	err[0] = '\0';
	if (dnsrep_parse("fuzz", (const char *)data, size, &c, err,
	    sizeof(err)) == -1) {
		CHECK(strncmp(err, "fuzz", 4) == 0);
		return 0;
	}
	check_zones(&c);
	print_conf(&b, &c);
	if (dnsrep_parse("again", (const char *)b.data, b.len, &again, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n%.*s", err, (int)b.len, (char *)b.data);
		CHECK(!"canonical form refused");
	}
	CHECK(same_conf(&c, &again));
	buf_free(&b);
	check_lookup(&c, data, size);
	return 0;
}
