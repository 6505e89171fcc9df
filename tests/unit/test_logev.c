/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for logev: logged packets to addresses, bursts merged.
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
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 1);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 0);
	a = A("2001:db8::1");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 1);
	/* Same bytes, other family: another address. */
	a = A("192.0.2.1");
	a.family = AF_INET6;
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 1);
	a = A("192.0.2.2");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), -1);
	assert_int_equal(b.n, 3);
	/* Full, but known addresses still merge. */
	a = A("192.0.2.1");
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 0);
	assert_int_equal(b.ent[0].count, 3);
	assert_int_equal(b.ent[1].count, 1);
	assert_int_equal(b.ent[0].dirs, 1 << LOGEV_IN);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_OUT), 0);
	assert_int_equal(b.ent[0].dirs, 1 << LOGEV_IN | 1 << LOGEV_OUT);
	assert_int_equal(b.ent[0].count, 4);

	logev_burst_reset(&b);
	assert_int_equal(b.n, 0);
	assert_int_equal(logev_burst_add(&b, &a, LOGEV_IN), 1);
	assert_int_equal(b.ent[0].count, 1);
	logev_burst_free(&b);
	assert_null(b.ent);

	assert_int_equal(logev_burst_init(&b, 0), -1);
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
			assert_int_not_equal(logev_burst_add(&b, &a, LOGEV_IN), -1);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
