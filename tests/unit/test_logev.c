/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for logev: logged packets to addresses and fingerprints,
 * bursts merged.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "logev.h"

/* An IPv4 header (rest zero) from src to dst. */
static void
ip4(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[9] = 6;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
}

static void
ip6(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = 6;
	assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
}

static void
assert_addr(const struct addr *a, const char *want)
{
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_directions(void **state)
{
	uint8_t p[64];
	struct addr a;

	(void)state;
	ip4(p, "192.0.2.7", "198.51.100.1");
	assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET, false, &a),
	    LOGEV_IN);
	assert_addr(&a, "192.0.2.7");
	assert_int_equal(logev_parse("nfspamd-out", p, 40, AF_INET, false,
	    &a), LOGEV_OUT);
	assert_addr(&a, "198.51.100.1");
	/* -I: outbound is not whitelisted, inbound still is. */
	assert_int_equal(logev_parse("nfspamd-out", p, 20, AF_INET, true, &a),
	    LOGEV_INONLY);
	assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET, true, &a),
	    LOGEV_IN);
	/* Family unknown: the header's version decides. */
	assert_int_equal(logev_parse("nfspamd-in", p, 20, 0, false, &a),
	    LOGEV_IN);

	ip6(p, "2001:db8::25", "2001:db8:1::1");
	assert_int_equal(logev_parse("nfspamd-in", p, 40, AF_INET6, false,
	    &a), LOGEV_IN);
	assert_addr(&a, "2001:db8::25");
	assert_int_equal(logev_parse("nfspamd-out", p, 40, AF_INET6, false,
	    &a), LOGEV_OUT);
	assert_addr(&a, "2001:db8:1::1");
}

static void
test_prefixes(void **state)
{
	uint8_t p[20];
	struct addr a;

	(void)state;
	ip4(p, "192.0.2.7", "198.51.100.1");
	assert_int_equal(logev_parse(NULL, p, 20, AF_INET, false, &a),
	    LOGEV_NOPREFIX);
	assert_int_equal(logev_parse("", p, 20, AF_INET, false, &a),
	    LOGEV_NOPREFIX);
	/* Exact names only: not a prefix match, not case-blind. */
	assert_int_equal(logev_parse("nfspamd-in ", p, 20, AF_INET, false,
	    &a), LOGEV_NOPREFIX);
	assert_int_equal(logev_parse("nfspamd-i", p, 20, AF_INET, false, &a),
	    LOGEV_NOPREFIX);
	assert_int_equal(logev_parse("NFSPAMD-IN", p, 20, AF_INET, false,
	    &a), LOGEV_NOPREFIX);
	assert_int_equal(logev_parse("ssh-drop", p, 20, AF_INET, false, &a),
	    LOGEV_NOPREFIX);
	assert_string_equal(logev_kind_name(LOGEV_NOPREFIX), "prefix");
	assert_string_equal(logev_kind_name(LOGEV_INONLY), "inbound-only");
	assert_string_equal(logev_kind_name(LOGEV_NKINDS), "?");
}

static void
test_bad_packets(void **state)
{
	uint8_t p[64];
	struct addr a;

	(void)state;
	ip4(p, "192.0.2.7", "198.51.100.1");
	assert_int_equal(logev_parse("nfspamd-in", p, 19, AF_INET, false, &a),
	    LOGEV_BADPACKET);
	assert_int_equal(logev_parse("nfspamd-in", p, 0, AF_INET, false, &a),
	    LOGEV_BADPACKET);
	assert_int_equal(logev_parse("nfspamd-in", NULL, 20, AF_INET, false,
	    &a), LOGEV_BADPACKET);
	/* The NFLOG family and the header must agree. */
	assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET6, false,
	    &a), LOGEV_BADPACKET);
	p[0] = 0x44;		/* IHL 4 */
	assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET, false, &a),
	    LOGEV_BADPACKET);
	p[0] = 0x55;		/* version 5 */
	assert_int_equal(logev_parse("nfspamd-in", p, 20, 0, false, &a),
	    LOGEV_BADPACKET);

	ip6(p, "2001:db8::25", "2001:db8:1::1");
	assert_int_equal(logev_parse("nfspamd-in", p, 39, AF_INET6, false,
	    &a), LOGEV_BADPACKET);
	assert_int_equal(logev_parse("nfspamd-in", p, 40, AF_INET, false, &a),
	    LOGEV_BADPACKET);
}

static void
test_bad_addresses(void **state)
{
	static const char *const bad4[] = { "0.0.0.0", "0.1.2.3",
	    "127.0.0.1", "224.0.0.25", "239.1.1.1", "255.255.255.255",
	    "240.0.0.1" };
	static const char *const bad6[] = { "::", "::1", "ff02::1",
	    "ff05::25", "::ffff:192.0.2.7" };
	uint8_t p[64];
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++) {
		ip4(p, bad4[i], "198.51.100.1");
		assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET,
		    false, &a), LOGEV_BADADDR);
		ip4(p, "198.51.100.1", bad4[i]);
		assert_int_equal(logev_parse("nfspamd-out", p, 20, AF_INET,
		    false, &a), LOGEV_BADADDR);
		/* Only the address that would be whitelisted counts. */
		assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET,
		    false, &a), LOGEV_IN);
	}
	for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++) {
		ip6(p, bad6[i], "2001:db8::1");
		assert_int_equal(logev_parse("nfspamd-in", p, 40, AF_INET6,
		    false, &a), LOGEV_BADADDR);
	}
	/* Neighbours of the refused ones are fine. */
	ip4(p, "1.0.0.0", "223.255.255.255");
	assert_int_equal(logev_parse("nfspamd-in", p, 20, AF_INET, false, &a),
	    LOGEV_IN);
	assert_int_equal(logev_parse("nfspamd-out", p, 20, AF_INET, false,
	    &a), LOGEV_OUT);
	ip6(p, "::2", "fe80::1");
	assert_int_equal(logev_parse("nfspamd-in", p, 40, AF_INET6, false,
	    &a), LOGEV_IN);
	assert_int_equal(logev_parse("nfspamd-out", p, 40, AF_INET6, false,
	    &a), LOGEV_OUT);
}

static struct addr
A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	return a;
}

static void
test_burst_merge(void **state)
{
	struct logev_burst b;
	struct addr a;

	(void)state;
	assert_int_equal(logev_burst_init(&b, 3), 0);
	a = A("192.0.2.1");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 1);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 0);
	a = A("2001:db8::1");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 1);
	/* Same bytes, other family: another address. */
	a = A("192.0.2.1");
	a.family = AF_INET6;
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 1);
	a = A("192.0.2.2");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), -1);
	assert_int_equal(b.n, 3);
	/* Full, but known addresses still merge. */
	a = A("192.0.2.1");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 0);
	assert_int_equal(b.ent[0].count, 3);
	assert_int_equal(b.ent[1].count, 1);
	assert_int_equal(b.ent[0].dirs, 1 << LOGEV_IN);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_OUT, NULL), 0);
	assert_int_equal(b.ent[0].dirs, 1 << LOGEV_IN | 1 << LOGEV_OUT);
	assert_int_equal(b.ent[0].count, 4);

	logev_burst_reset(&b);
	assert_int_equal(b.n, 0);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 1);
	assert_int_equal(b.ent[0].count, 1);
	logev_burst_free(&b);
	assert_null(b.ent);

	assert_int_equal(logev_burst_init(&b, 0), -1);
}

/* The last fingerprint known for an address stays with it. */
static void
test_burst_os(void **state)
{
	struct osf_fp x = { .genre = "X" }, y = { .genre = "Y" };
	struct logev_burst b;
	struct addr a = A("192.0.2.1"), c = A("192.0.2.2");

	(void)state;
	assert_int_equal(logev_burst_init(&b, 4), 0);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, &x), 1);
	assert_int_equal(logev_burst_add(&b, &c, LOGEV_OUT, NULL), 1);
	assert_ptr_equal(b.ent[0].os, &x);
	assert_null(b.ent[1].os);
	/* An event without one keeps it; a later one replaces it. */
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_OUT, NULL), 0);
	assert_ptr_equal(b.ent[0].os, &x);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, &y), 0);
	assert_ptr_equal(b.ent[0].os, &y);
	assert_int_equal(logev_burst_add(&b, &c, LOGEV_IN, &x), 0);
	assert_ptr_equal(b.ent[1].os, &x);
	/* A reset forgets them. */
	logev_burst_reset(&b);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN, NULL), 1);
	assert_null(b.ent[0].os);
	logev_burst_free(&b);
}

/*
 * A Linux SYN as NFLOG copies it: IPv4 (TTL 64, DF) or IPv6 (hop limit
 * 64), TCP with MSS, SACK permitted, a timestamp, NOP and window scale
 * 7, and the window 44 (IPv4) or 45 (IPv6) times the MSS.  Its length.
 */
static size_t
linux_syn(uint8_t *p, int family, const char *src, const char *dst)
{
	static const uint8_t opts[20] = { 2, 4, 0, 0, 4, 2, 8, 10,
	    0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	uint16_t mss = family == AF_INET ? 1460 : 1440;
	uint16_t win = (uint16_t)(mss * (family == AF_INET ? 44 : 45));
	size_t off;
	uint8_t *t;

	if (family == AF_INET) {
		ip4(p, src, dst);
		p[2] = 0;
		p[3] = 60;		/* total length */
		p[6] = 0x40;		/* DF */
		p[8] = 64;
		off = 20;
	} else {
		ip6(p, src, dst);
		p[5] = 40;		/* payload length */
		p[7] = 64;
		off = 40;
	}
	t = p + off;
	memset(t, 0, 40);
	t[0] = 0xa3;			/* source port 41728 */
	t[3] = 25;			/* to SMTP */
	t[12] = 10 << 4;		/* 40 bytes of header */
	t[13] = 0x02;			/* SYN */
	t[14] = (uint8_t)(win >> 8);
	t[15] = (uint8_t)win;
	memcpy(t + 20, opts, sizeof(opts));
	t[22] = (uint8_t)(mss >> 8);
	t[23] = (uint8_t)mss;
	return off + 40;
}

static const char linux_fp[] =
    "# window:ttl:df:size:options:genre:version:subtype:description\n"
    "S44:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux 4.19-6.x\n"
    "S45:64:1:60:M*,S,T,N,W7:\tLinux:4.19-6.x::Linux 4.19-6.x (IPv6)\n";

static void
assert_os(const struct osf_fp *fp, const char *want)
{
	char name[OSF_OSLEN];

	assert_non_null(fp);
	osf_name(fp, name, sizeof(name));
	assert_string_equal(name, want);
}

static void
test_os(void **state)
{
	struct osf_db db = { 0 }, empty = { 0 };
	uint8_t p[LOGEV_COPY_RANGE];
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(osf_db_load_buf(&db, "fp", linux_fp,
	    sizeof(linux_fp) - 1, err, sizeof(err)), 0);
	n = linux_syn(p, AF_INET, "192.0.2.7", "198.51.100.1");
	assert_true(n <= LOGEV_COPY_RANGE);
	assert_os(logev_os(&db, LOGEV_IN, p, n), "Linux 4.19-6.x");
	/* Outbound: our own MTA's SYN, never recorded. */
	assert_null(logev_os(&db, LOGEV_OUT, p, n));
	assert_null(logev_os(&db, LOGEV_BADADDR, p, n));
	assert_null(logev_os(&empty, LOGEV_IN, p, n));
	assert_null(logev_os(NULL, LOGEV_IN, p, n));
	/* Cut short (the old 40-byte copy range), or no SYN. */
	assert_null(logev_os(&db, LOGEV_IN, p, 40));
	assert_null(logev_os(&db, LOGEV_IN, p, n - 1));
	assert_null(logev_os(&db, LOGEV_IN, NULL, n));
	p[20 + 13] = 0x12;		/* SYN-ACK */
	assert_null(logev_os(&db, LOGEV_IN, p, n));
	p[20 + 13] = 0x02;
	p[8] = 255;			/* a TTL no Linux starts with */
	assert_null(logev_os(&db, LOGEV_IN, p, n));

	n = linux_syn(p, AF_INET6, "2001:db8::25", "2001:db8:1::1");
	assert_true(n <= LOGEV_COPY_RANGE);
	assert_os(logev_os(&db, LOGEV_IN, p, n), "Linux 4.19-6.x");
	assert_int_equal(logev_os(&db, LOGEV_IN, p, n)->line, 3);
	osf_db_free(&db);
}

/* Many addresses through several bursts: counts always add up. */
static void
test_burst_many(void **state)
{
	enum { CAP = 1000, ROUNDS = 7 };
	struct logev_burst b;
	uint32_t want[CAP / 2];

	(void)state;
	assert_int_equal(logev_burst_init(&b, CAP), 0);
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t total = 0;

		memset(want, 0, sizeof(want));
		for (uint32_t i = 0; i < 5000; i++) {
			struct addr a = { .family = AF_INET6 };
			uint32_t k = (i * 2654435761u + (uint32_t)r) % (CAP / 2);

			a.bytes[0] = 0x20;
			memcpy(a.bytes + 12, &k, sizeof(k));
			assert_int_not_equal(logev_burst_add(&b, &a, LOGEV_IN,
			    NULL), -1);
			want[k]++;
		}
		for (size_t i = 0; i < b.n; i++) {
			uint32_t k;

			memcpy(&k, b.ent[i].addr.bytes + 12, sizeof(k));
			assert_int_equal(b.ent[i].count, want[k]);
			total += b.ent[i].count;
		}
		assert_int_equal(total, 5000);
		logev_burst_reset(&b);
	}
	logev_burst_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_bad_packets),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_burst_merge),
		cmocka_unit_test(test_burst_many),
		cmocka_unit_test(test_burst_os),
		cmocka_unit_test(test_os),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
