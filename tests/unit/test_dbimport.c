/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for the spamdb/greydb listing line parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dbimport.h"

static char	errbuf[1024];

static int
parse(const char *line, struct dbimport_line *out)
{
	errbuf[0] = '\0';
	return dbimport_parse(line, strlen(line), out, errbuf, sizeof(errbuf));
}

/* The error text for line, which must not parse. */
static const char *
error_of(const char *line)
{
	struct dbimport_line	l;

	assert_int_equal(parse(line, &l), -1);
	assert_int_equal(l.kind, DBIMPORT_NONE);
	return errbuf;
}

static int
prefixed(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
assert_rec(const struct store_rec *r, int64_t first, int64_t pass,
    int64_t expire, int32_t bcount, int32_t pcount)
{
	assert_true(r->first == first);
	assert_true(r->pass == pass);
	assert_true(r->expire == expire);
	assert_int_equal(r->bcount, bcount);
	assert_int_equal(r->pcount, pcount);
}

/* spamdb's line for a parsed entry, to check that nothing is lost. */
static void
format(const struct dbimport_line *l, char *buf, size_t len)
{
	const struct store_rec	*r = &l->rec;
	struct store_tuple	 t;

	switch (l->type) {
	case STORE_WHITE:
		snprintf(buf, len, "WHITE|%s|||%lld|%lld|%lld|%d|%d", l->key,
		    (long long)r->first, (long long)r->pass,
		    (long long)r->expire, (int)r->bcount, (int)r->pcount);
		break;
	case STORE_GREY:
		assert_int_equal(store_tuple_split(l->key, l->keylen, &t), 0);
		snprintf(buf, len, "GREY|%.*s|%.*s|%.*s|%.*s|%lld|%lld|%lld|"
		    "%d|%d", (int)t.iplen, t.ip, (int)t.helolen, t.helo,
		    (int)t.fromlen, t.from, (int)t.tolen, t.to,
		    (long long)r->first, (long long)r->pass,
		    (long long)r->expire, (int)r->bcount, (int)r->pcount);
		break;
	case STORE_TRAPPED:
		snprintf(buf, len, "TRAPPED|%s|%lld", l->key,
		    (long long)r->expire);
		break;
	default:
		snprintf(buf, len, "SPAMTRAP|%s", l->key);
		break;
	}
}

static void
test_white(void **state)
{
	struct dbimport_line	l;

	(void)state;
	assert_int_equal(parse("WHITE|192.0.2.1|||1700000000|1700001500|"
	    "1703110400|3|12", &l), 0);
	assert_int_equal(l.kind, DBIMPORT_ENTRY);
	assert_int_equal(l.type, STORE_WHITE);
	assert_string_equal(l.key, "192.0.2.1");
	assert_int_equal(l.keylen, 9);
	assert_rec(&l.rec, 1700000000, 1700001500, 1703110400, 3, 12);

	/* Addresses come out canonical, as the store keys them. */
	assert_int_equal(parse("WHITE|2001:DB8:0::1|||1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "2001:db8::1");
	assert_int_equal(parse("WHITE|::ffff:192.0.2.7|||1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "192.0.2.7");

	/* Networks, as nfspamd -N keys WHITE entries and tuples. */
	assert_int_equal(parse("WHITE|2001:DB8:1:0::/64|||1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "2001:db8:1::/64");
	assert_int_equal(parse("WHITE|192.0.2.0/24|||1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "192.0.2.0/24");
	assert_int_equal(parse("WHITE|192.0.2.1/32|||1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "192.0.2.1");
	assert_int_equal(parse("GREY|2001:db8::/64|h|<a@b>|<c@d>|1|2|3|4|0",
	    &l), 0);
	assert_string_equal(l.key, "2001:db8::/64\nh\n<a@b>\n<c@d>");
	assert_true(prefixed(error_of("WHITE|192.0.2.1/24|||1|2|3|4|5"),
	    "bad IP address ("));
	assert_true(prefixed(error_of("TRAPPED|192.0.2.0/24|3"),
	    "a network where an address is wanted"));
}

static void
test_grey(void **state)
{
	struct dbimport_line	l;
	const char		key[] = "198.51.100.7\nmail.example.net\n"
	    "<bounce@example.net>\n<info@example.org>";

	(void)state;
	assert_int_equal(parse("GREY|198.51.100.7|mail.example.net|"
	    "<bounce@example.net>|<info@example.org>|1700000000|1700001500|"
	    "1700014400|2|0", &l), 0);
	assert_int_equal(l.kind, DBIMPORT_ENTRY);
	assert_int_equal(l.type, STORE_GREY);
	assert_int_equal(l.keylen, sizeof(key) - 1);
	assert_memory_equal(l.key, key, sizeof(key));
	assert_rec(&l.rec, 1700000000, 1700001500, 1700014400, 2, 0);

	/* IPv6, canonical; a trapped tuple's pcount of -1 is kept. */
	assert_int_equal(parse("GREY|2001:DB8::25|h|<a@b>|<c@d>|1|2|3|4|-1",
	    &l), 0);
	assert_string_equal(l.key, "2001:db8::25\nh\n<a@b>\n<c@d>");
	assert_int_equal(l.rec.pcount, -1);

	/* spamdb's nine-field form, from before tuples held the HELO. */
	assert_int_equal(parse("GREY|192.0.2.9|<a@b>|<c@d>|10|20|30|1|0", &l),
	    0);
	assert_string_equal(l.key, "192.0.2.9\n\n<a@b>\n<c@d>");
	assert_rec(&l.rec, 10, 20, 30, 1, 0);

	/* Empty fields and odd bytes are the client's business. */
	assert_int_equal(parse("GREY|192.0.2.9|||<c@d>|1|2|3|4|5", &l), 0);
	assert_string_equal(l.key, "192.0.2.9\n\n\n<c@d>");
	assert_int_equal(parse("GREY|192.0.2.9|\x01\xff h|<>|<c@d>|1|2|3|4|5",
	    &l), 0);
	assert_string_equal(l.key, "192.0.2.9\n\x01\xff h\n<>\n<c@d>");
}

static void
test_trapped_spamtrap_domain(void **state)
{
	struct dbimport_line	l;

	(void)state;
	assert_int_equal(parse("TRAPPED|203.0.113.5|1700086400", &l), 0);
	assert_int_equal(l.type, STORE_TRAPPED);
	assert_string_equal(l.key, "203.0.113.5");
	assert_rec(&l.rec, 0, 0, 1700086400, 0, -1);

	assert_int_equal(parse("SPAMTRAP|Trap.Me@Example.ORG", &l), 0);
	assert_int_equal(l.kind, DBIMPORT_ENTRY);
	assert_int_equal(l.type, STORE_SPAMTRAP);
	assert_string_equal(l.key, "trap.me@example.org");
	assert_int_equal(l.keylen, 19);
	assert_rec(&l.rec, 0, 0, 0, 0, -2);

	assert_int_equal(parse("DOMAIN|@example.com", &l), 0);
	assert_int_equal(l.kind, DBIMPORT_DOMAIN);
	assert_string_equal(l.key, "@example.com");
	assert_int_equal(l.keylen, 12);
}

static void
test_skipped_and_crlf(void **state)
{
	static const char *const none[] = {
		"", "\r", "   ", "\t \r", "# spamdb listing", "  # indented",
		"#WHITE|192.0.2.1|||1|2|3|4|5",
	};
	struct dbimport_line	l;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(parse(none[i], &l), 0);
		assert_int_equal(l.kind, DBIMPORT_NONE);
	}
	assert_int_equal(parse("TRAPPED|192.0.2.3|99\r", &l), 0);
	assert_true(l.rec.expire == 99);
	assert_int_equal(parse("SPAMTRAP|a@b\r", &l), 0);
	assert_string_equal(l.key, "a@b");
	/* Only one CR, at the very end, is a line ending. */
	assert_string_equal(error_of("TRAPPED|192.0.2.3|99\r\r"),
	    "expire is not a number: \"99\\x0d\"");
}

static void
test_numbers(void **state)
{
	struct dbimport_line	l;

	(void)state;
	assert_int_equal(parse("WHITE|192.0.2.1|||9223372036854775807|0|"
	    "007|-2147483648|2147483647", &l), 0);
	assert_true(l.rec.first == INT64_MAX);
	assert_true(l.rec.pass == 0);
	assert_true(l.rec.expire == 7);
	assert_int_equal(l.rec.bcount, INT32_MIN);
	assert_int_equal(l.rec.pcount, INT32_MAX);
	assert_int_equal(parse("WHITE|192.0.2.1|||1|2|3|-0|0", &l), 0);
	assert_int_equal(l.rec.bcount, 0);

	assert_string_equal(error_of("WHITE|192.0.2.1|||9223372036854775808|"
	    "2|3|4|5"), "first is out of range (0 to 9223372036854775807): "
	    "\"9223372036854775808\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|x2|3|4|5"),
	    "pass is not a number: \"x2\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2||4|5"),
	    "expire is not a number: \"\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||-1|2|3|4|5"),
	    "first is out of range (0 to 9223372036854775807): "
	    "\"-1\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||+1|2|3|4|5"),
	    "first is not a number: \"+1\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1 |2|3|4|5"),
	    "first is not a number: \"1 \"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2|3|2147483648|5"),
	    "bcount is out of range (-2147483648 to 2147483647): "
	    "\"2147483648\"");
	assert_string_equal(error_of("GREY|192.0.2.1|h|f|t|1|2|3|4|"
	    "-2147483649"), "pcount is out of range (-2147483648 to "
	    "2147483647): \"-2147483649\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2|3|4|-1"),
	    "WHITE pcount is out of range (0 to 2147483647): \"-1\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2|3|4|--1"),
	    "WHITE pcount is not a number: \"--1\"");
	assert_string_equal(error_of("TRAPPED|192.0.2.1|1e9"),
	    "expire is not a number: \"1e9\"");
}

static void
test_errors(void **state)
{
	char	line[DBIMPORT_LINEMAX + 10], want[256];

	(void)state;
	assert_string_equal(error_of("BLACK|192.0.2.1"),
	    "unknown entry type: \"BLACK\"");
	assert_string_equal(error_of("white|192.0.2.1|||1|2|3|4|5"),
	    "unknown entry type: \"white\"");
	assert_string_equal(error_of("192.0.2.1"),
	    "unknown entry type: \"192.0.2.1\"");
	assert_string_equal(error_of(" WHITE|192.0.2.1|||1|2|3|4|5"),
	    "unknown entry type: \" WHITE\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2|3|4"),
	    "WHITE line with 8 fields, not 9: "
	    "\"WHITE|192.0.2.1|||1|2|3|4\"");
	assert_string_equal(error_of("GREY|192.0.2.1|h|f|t|1|2|3|4|5|6"),
	    "GREY line with 11 fields, not 10 (or 9 without HELO): "
	    "\"GREY|192.0.2.1|h|f|t|1|2|3|4|5|6\"");
	assert_string_equal(error_of("GREY|1|2|3|4|5|6|7|8|9|10|11|12|13"),
	    "GREY line with 14 fields, not 10 (or 9 without HELO): "
	    "\"GREY|1|2|3|4|5|6|7|8|9|10|11|12|13\"");
	assert_string_equal(error_of("TRAPPED|192.0.2.1"),
	    "TRAPPED line with 2 fields, not 3: \"TRAPPED|192.0.2.1\"");
	assert_string_equal(error_of("SPAMTRAP|a@b|"),
	    "SPAMTRAP line with 3 fields, not 2: \"SPAMTRAP|a@b|\"");
	assert_string_equal(error_of("DOMAIN"),
	    "DOMAIN line with 1 fields, not 2: \"DOMAIN\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|x||1|2|3|4|5"),
	    "WHITE line with text in its empty third or fourth field: "
	    "\"WHITE|192.0.2.1|x||1|2|3|4|5\"");
	assert_string_equal(error_of("WHITE|192.0.2.1|||1|2|3|4|5"
	    "\n"), "WHITE pcount is not a number: \"5\\x0a\"");
	assert_non_null(strstr(error_of("WHITE|192.0.2.300|||1|2|3|4|5"),
	    ": \"192.0.2.300\""));
	assert_true(prefixed(errbuf, "bad IP address ("));
	assert_true(prefixed(error_of("TRAPPED|fe80::1%eth0|5"),
	    "bad IP address ("));
	assert_true(prefixed(error_of("GREY|mx.example|h|f|t|1|2|3|4|5"),
	    "bad IP address ("));
	assert_string_equal(error_of("SPAMTRAP|"),
	    "empty spam trap address: \"SPAMTRAP|\"");
	assert_string_equal(error_of("SPAMTRAP|nobody"),
	    "spam trap address without '@': \"nobody\"");
	assert_string_equal(error_of("SPAMTRAP|trap@example.org\r\r"),
	    "control character in spam trap address: "
	    "\"trap@example.org\\x0d\"");
	assert_string_equal(error_of("SPAMTRAP|a\tb@c"),
	    "control character in spam trap address: \"a\\x09b@c\"");
	assert_string_equal(error_of("DOMAIN|"), "empty domain: \"DOMAIN|\"");
	assert_string_equal(error_of("DOMAIN|a b"),
	    "blank or control character in domain: \"a b\"");

	/* NUL bytes, control bytes and quotes are shown escaped. */
	assert_int_equal(dbimport_parse("SPAMTRAP|a\0b@c", 14,
	    &(struct dbimport_line){ 0 }, errbuf, sizeof(errbuf)), -1);
	assert_string_equal(errbuf,
	    "NUL byte in line: \"SPAMTRAP|a\\x00b@c\"");
	assert_string_equal(error_of("X\"\\\x1b"),
	    "unknown entry type: \"X\\\"\\\\\\x1b\"");

	/* Long values are cut after 80 bytes. */
	memset(line, 'a', 200);
	memcpy(line, "SPAMTRAP|", 9);
	line[200] = '\0';
	error_of(line);
	assert_int_equal(strlen(errbuf),
	    strlen("spam trap address without '@': ") + 1 + 80 + 3 + 1);
	assert_non_null(strstr(errbuf, "aaa...\""));

	/* The longest line, and one byte more (a final CR is not counted). */
	memset(line, 'a', sizeof(line));
	memcpy(line, "DOMAIN|", 7);
	line[DBIMPORT_LINEMAX] = '\0';
	snprintf(want, sizeof(want), "domain longer than 255 bytes: "
	    "\"%.80s...\"", line + 7);
	assert_string_equal(error_of(line), want);
	line[DBIMPORT_LINEMAX] = '\r';
	line[DBIMPORT_LINEMAX + 1] = '\0';
	assert_string_equal(error_of(line), want);
	line[DBIMPORT_LINEMAX] = 'a';
	assert_string_equal(error_of(line), "line longer than 4096 bytes");
}

static void
test_store_limits(void **state)
{
	struct dbimport_line	l;
	char			line[1024], addr[600];

	(void)state;
	/* ip\nhelo\nfrom\nto of exactly 511 bytes fits; one more does not. */
	memset(addr, 'a', sizeof(addr));
	snprintf(line, sizeof(line), "GREY|192.0.2.1|h|<%.*s>|<t>|1|2|3|4|5",
	    511 - 18, addr);
	assert_int_equal(parse(line, &l), 0);
	assert_int_equal(l.keylen, 511);
	snprintf(line, sizeof(line), "GREY|192.0.2.1|h|<%.*s>|<t>|1|2|3|4|5",
	    511 - 18 + 1, addr);
	assert_true(prefixed(error_of(line), "GREY tuple of 512 bytes, more "
	    "than the database keeps (511): \"GREY|192.0.2.1|h|<aaa"));

	snprintf(line, sizeof(line), "SPAMTRAP|%.*s@x", 509, addr);
	assert_int_equal(parse(line, &l), 0);
	assert_int_equal(l.keylen, 511);
	snprintf(line, sizeof(line), "SPAMTRAP|%.*s@x", 510, addr);
	assert_true(prefixed(error_of(line), "spam trap address longer than "
	    "511 bytes: \"aaa"));
}

/* What spamdb and greydb print comes out of the parser unchanged. */
static void
test_round_trip(void **state)
{
	static const char *const lines[] = {
		"WHITE|192.0.2.10|||1699990000|1699991500|1703101900|1|7",
		"WHITE|2001:db8:1::25|||1699990000|1699991500|1703101900|4|0",
		"GREY|198.51.100.23|mx1.example.net|<list@example.net>|"
		    "<alice@example.org>|1700000100|1700001600|1700014500|1|0",
		"GREY|2001:db8:2::7|[2001:db8:2::7]|<>|<bob@example.org>|"
		    "1700000200|1700001700|1700014600|3|0",
		"GREY|192.0.2.77||<old@example.com>|<carol@example.org>|5|6|7|"
		    "1|0",
		"TRAPPED|203.0.113.66|1700086500",
		"TRAPPED|2001:db8:bad::1|1700086600",
		"SPAMTRAP|trap@example.org",
	};
	struct dbimport_line	l;
	char			out[1024];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(parse(lines[i], &l), 0);
		format(&l, out, sizeof(out));
		assert_string_equal(out, lines[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_white),
		cmocka_unit_test(test_grey),
		cmocka_unit_test(test_trapped_spamtrap_domain),
		cmocka_unit_test(test_skipped_and_crlf),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_store_limits),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
