/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for src/lib/addr.c.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

/* Printable form of a test input for failure messages. */
static const char *
show(const char *s, char *buf, size_t len)
{
	size_t	i = 0;

	if (s == NULL)
		return "(null)";
	for (; *s != '\0' && i + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			i += (size_t)snprintf(buf + i, len - i, "\\x%02x", c);
		else
			buf[i++] = (char)c;
	}
	buf[i] = '\0';
	return buf;
}

/* Parse s, which must be valid, and check its canonical text. */
static struct addr
parse_ok(const char *s, int family, const char *text)
{
	struct addr	 a;
	const char	*why = NULL;
	char		 buf[ADDR_STRLEN], sb[256];

	if (addr_parse(s, &a, &why) != 0)
		fail_msg("addr_parse(\"%s\") failed: %s",
		    show(s, sb, sizeof(sb)), why);
	assert_int_equal(a.family, family);
	assert_int_equal(addr_format(&a, buf, sizeof(buf)), strlen(text));
	assert_string_equal(buf, text);
	return a;
}

static void
assert_bytes(const struct addr *a, const uint8_t *want, size_t n)
{
	assert_memory_equal(a->bytes, want, n);
}

static void
check_reject(const char *s, const char *want)
{
	struct addr	 a;
	const char	*why = NULL;
	char		 sb[256];
	int		 r;

	memset(&a, 0xa5, sizeof(a));
	r = addr_parse(s, &a, &why);
	if (r != -1 || why == NULL || strcmp(why, want) != 0)
		fail_msg("addr_parse(\"%s\") = %d, why \"%s\", want -1, \"%s\"",
		    show(s, sb, sizeof(sb)), r, why ? why : "(null)", want);
	/* A failed parse leaves the result alone. */
	assert_int_equal(a.family, 0xa5);
	assert_int_equal(a.bytes[0], 0xa5);
}

static void
check_prefix(const char *s, bool mask, const char *text)
{
	struct prefix	 p;
	const char	*why = NULL;
	char		 buf[ADDR_STRLEN], sb[256];

	if (prefix_parse(s, &p, mask, &why) != 0)
		fail_msg("prefix_parse(\"%s\", %d) failed: %s",
		    show(s, sb, sizeof(sb)), mask, why);
	assert_int_equal(prefix_format(&p, buf, sizeof(buf)), strlen(text));
	assert_string_equal(buf, text);
}

static void
check_prefix_reject(const char *s, bool mask, const char *want)
{
	struct prefix	 p;
	const char	*why = NULL;
	char		 sb[256];
	int		 r;

	memset(&p, 0xa5, sizeof(p));
	r = prefix_parse(s, &p, mask, &why);
	if (r != -1 || why == NULL || strcmp(why, want) != 0)
		fail_msg("prefix_parse(\"%s\", %d) = %d, why \"%s\", "
		    "want -1, \"%s\"", show(s, sb, sizeof(sb)), mask, r,
		    why ? why : "(null)", want);
	assert_int_equal(p.len, 0xa5);
	assert_int_equal(p.addr.family, 0xa5);
}

static struct prefix
prefix(const char *s)
{
	struct prefix	 p;
	const char	*why = NULL;

	if (prefix_parse(s, &p, false, &why) != 0)
		fail_msg("prefix_parse(\"%s\") failed: %s", s, why);
	return p;
}

static struct addr
addr(const char *s)
{
	struct addr	 a;
	const char	*why = NULL;

	if (addr_parse(s, &a, &why) != 0)
		fail_msg("addr_parse(\"%s\") failed: %s", s, why);
	return a;
}

static void
test_bits(void **state)
{
	struct addr	a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	assert_int_equal(addr_bits(&a), 32);
	a.family = AF_INET6;
	assert_int_equal(addr_bits(&a), 128);
	a.family = AF_UNIX;
	assert_int_equal(addr_bits(&a), 0);
}

static void
test_parse_v4(void **state)
{
	static const uint8_t	 zero[16];
	static const uint8_t	 b1[] = { 192, 0, 2, 1 };
	static const uint8_t	 b2[] = { 0, 0, 0, 0 };
	static const uint8_t	 b3[] = { 255, 255, 255, 255 };
	struct addr		 a;

	(void)state;
	a = parse_ok("192.0.2.1", AF_INET, "192.0.2.1");
	assert_bytes(&a, b1, 4);
	/* The unused bytes are zero so whole structs compare cleanly. */
	assert_memory_equal(a.bytes + 4, zero, 12);
	a = parse_ok("0.0.0.0", AF_INET, "0.0.0.0");
	assert_bytes(&a, b2, 4);
	a = parse_ok("255.255.255.255", AF_INET, "255.255.255.255");
	assert_bytes(&a, b3, 4);

	/* why may be NULL when the caller does not care. */
	assert_int_equal(addr_parse("10.0.0.1", &a, NULL), 0);
	assert_int_equal(addr_parse("10.0.0", &a, NULL), -1);
}

static void
test_parse_v6(void **state)
{
	static const uint8_t	 db8[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t	 one[16] = { [15] = 1 };
	static const uint8_t	 zero[16];
	static const uint8_t	 ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	struct addr		 a;

	(void)state;
	a = parse_ok("2001:DB8:0:0::1", AF_INET6, "2001:db8::1");
	assert_bytes(&a, db8, 16);
	a = parse_ok("2001:0db8:0000:0000:0000:0000:0000:0001", AF_INET6,
	    "2001:db8::1");
	assert_bytes(&a, db8, 16);
	a = parse_ok("::1", AF_INET6, "::1");
	assert_bytes(&a, one, 16);
	a = parse_ok("0:0:0:0:0:0:0:0", AF_INET6, "::");
	assert_bytes(&a, zero, 16);
	a = parse_ok("FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_bytes(&a, ones, 16);
	/* A single zero group is not shortened to "::". */
	parse_ok("1::2:3:4:5:6:7", AF_INET6, "1:0:2:3:4:5:6:7");
	/* Embedded dotted quad in a non-mapped address. */
	parse_ok("1:2:3:4:5:6:1.2.3.4", AF_INET6, "1:2:3:4:5:6:102:304");
}

static void
test_parse_mapped(void **state)
{
	static const uint8_t	 b[16] = { 1, 2, 3, 4 };
	struct addr		 a;

	(void)state;
	a = parse_ok("::ffff:1.2.3.4", AF_INET, "1.2.3.4");
	/* The spare bytes are cleared, not left holding the v6 form. */
	assert_memory_equal(a.bytes, b, 16);
	a = parse_ok("::FFFF:102:304", AF_INET, "1.2.3.4");
	assert_memory_equal(a.bytes, b, 16);
	parse_ok("0:0:0:0:0:ffff:0.0.0.0", AF_INET, "0.0.0.0");
	/* The longest numeric text there is: 45 characters. */
	parse_ok("0000:0000:0000:0000:0000:ffff:255.255.255.255", AF_INET,
	    "255.255.255.255");
	assert_true(addr_eq(&a, &(struct addr){ AF_INET, { 1, 2, 3, 4 } }));

	/* Neither SIIT (::ffff:0:0/96) nor v4-compatible is mapped. */
	parse_ok("::ffff:0:1.2.3.4", AF_INET6, "::ffff:0:102:304");
	parse_ok("::1.2.3.4", AF_INET6, "::1.2.3.4");
	parse_ok("::fffe:1.2.3.4", AF_INET6, "::fffe:102:304");
}

static void
test_parse_reject(void **state)
{
	char	long46[] = "0000:0000:0000:0000:0000:ffff:255.255.255.2555";
	char	huge[4096];

	(void)state;
	check_reject(NULL, "empty address");
	check_reject("", "empty address");

	check_reject(" 1.2.3.4", "address has leading or trailing blanks");
	check_reject("1.2.3.4 ", "address has leading or trailing blanks");
	check_reject("\t::1", "address has leading or trailing blanks");
	check_reject("::1\t", "address has leading or trailing blanks");
	check_reject("1.2. 3.4", "address contains a blank");

	check_reject("1.2.3.4\n", "address contains a newline");
	check_reject("\n1.2.3.4", "address contains a newline");
	check_reject("1.2\n.3.4", "address contains a newline");
	check_reject("1.2.3.4\r", "address contains a newline");

	check_reject("1.2.3.4\x01",
	    "address contains a control or non-ASCII character");
	check_reject("1.2.3.4\x7f",
	    "address contains a control or non-ASCII character");
	check_reject("1.2.3.4\xc3\xa9",
	    "address contains a control or non-ASCII character");
	check_reject("::1\v", "address contains a control or non-ASCII character");

	check_reject("fe80::1%eth0", "zone ids are not allowed");
	check_reject("fe80::1%1", "zone ids are not allowed");
	check_reject("1.2.3.4%", "zone ids are not allowed");

	check_reject("1.2.3.4/32", "address has a prefix length");
	check_reject("::/0", "address has a prefix length");

	check_reject("mail.example.com", "host names are not allowed");
	check_reject("localhost", "host names are not allowed");
	check_reject("1.2.3.4x", "host names are not allowed");
	check_reject("deadbeef", "host names are not allowed");

	check_reject("1.2.3", "not an IPv4 or IPv6 address");
	check_reject("1.2.3.4.", "not an IPv4 or IPv6 address");
	check_reject("1.2.3.4.5", "not an IPv4 or IPv6 address");
	check_reject("256.1.1.1", "not an IPv4 or IPv6 address");
	check_reject("01.2.3.4", "not an IPv4 or IPv6 address");
	check_reject("1", "not an IPv4 or IPv6 address");
	check_reject("::1:", "not an IPv4 or IPv6 address");
	check_reject(":::", "not an IPv4 or IPv6 address");
	check_reject("1::2::3", "not an IPv4 or IPv6 address");
	check_reject("1:2:3:4:5:6:7:8:9", "not an IPv4 or IPv6 address");
	check_reject("12345::1", "not an IPv4 or IPv6 address");
	check_reject("::ffff:01.2.3.4", "not an IPv4 or IPv6 address");
	check_reject("[::1]", "not an IPv4 or IPv6 address");
	check_reject("1.2.3.4:25", "not an IPv4 or IPv6 address");

	/* One past the longest valid text, then something far longer. */
	assert_int_equal(strlen(long46), 46);
	check_reject(long46, "address too long");
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	huge[100] = '\n';	/* length is judged before content */
	check_reject(huge, "address too long");
}

/*
 * An unterminated buffer: the parsers stop reading once the text is too
 * long, so ASan sees no read past the end.
 */
static void
test_bounded_read(void **state)
{
	struct addr	 a;
	struct prefix	 p;
	const char	*why = NULL;
	char		*s;

	(void)state;
	s = malloc(ADDR_STRLEN);
	assert_non_null(s);
	memset(s, '1', ADDR_STRLEN);
	assert_int_equal(addr_parse(s, &a, &why), -1);
	assert_string_equal(why, "address too long");
	why = NULL;
	assert_int_equal(prefix_parse(s, &p, true, &why), -1);
	assert_string_equal(why, "address too long");
	free(s);
}

static void
test_format(void **state)
{
	struct addr	a;
	char		buf[ADDR_STRLEN];

	(void)state;
	a = addr("2001:db8::1");
	/* Truncated output is still terminated; the return is what fit. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(addr_format(&a, buf, 5), 4);
	assert_string_equal(buf, "2001");
	assert_int_equal(addr_format(&a, buf, 1), 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	assert_int_equal(addr_format(&a, buf, 0), 0);
	assert_int_equal(buf[0], 'x');
	/* One short of room for the terminator, then just enough. */
	assert_int_equal(addr_format(&a, buf, 11), 10);
	assert_string_equal(buf, "2001:db8::");
	assert_int_equal(addr_format(&a, buf, 12), 11);
	assert_string_equal(buf, "2001:db8::1");

	a = addr("1:2:3:4:5:6:7:8");
	assert_int_equal(addr_format(&a, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "1:2:3:4:5:6:7:8");

	/* Unknown family: empty, still terminated. */
	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
	buf[0] = 'x';
	assert_int_equal(addr_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
test_prefix_parse(void **state)
{
	struct prefix	p;

	(void)state;
	check_prefix("10.0.0.0/8", false, "10.0.0.0/8");
	check_prefix("0.0.0.0/0", false, "0.0.0.0/0");
	check_prefix("1.2.3.4/32", false, "1.2.3.4/32");
	check_prefix("1.2.3.4", false, "1.2.3.4/32");
	check_prefix("128.0.0.0/1", false, "128.0.0.0/1");
	check_prefix("2001:DB8::/32", false, "2001:db8::/32");
	check_prefix("::/0", false, "::/0");
	check_prefix("::1/128", false, "::1/128");
	check_prefix("2001:db8::1", false, "2001:db8::1/128");
	check_prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", false,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");

	/* v4-mapped prefixes become IPv4 with len - 96. */
	check_prefix("::ffff:1.2.3.0/120", false, "1.2.3.0/24");
	check_prefix("::ffff:0.0.0.0/96", false, "0.0.0.0/0");
	check_prefix("::ffff:1.2.3.4/128", false, "1.2.3.4/32");
	check_prefix("::ffff:1.2.3.4", false, "1.2.3.4/32");

	/* The longest accepted text: 45 characters plus "/128". */
	check_prefix("0000:0000:0000:0000:0000:0000:0000:0000/128", false,
	    "::/128");
	check_prefix("0000:0000:0000:0000:0000:ffff:255.255.255.255/128",
	    false, "255.255.255.255/32");

	p = prefix("10.0.0.0/8");
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 8);
	p = prefix("::ffff:10.0.0.0/104");
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 8);
	assert_int_equal(p.addr.bytes[0], 10);
	assert_int_equal(p.addr.bytes[12], 0);
}

static void
test_prefix_reject(void **state)
{
	char	huge[4096];
	int	m;

	(void)state;
	/* Syntax errors are errors whether or not masking is asked for. */
	for (m = 0; m <= 1; m++) {
		check_prefix_reject(NULL, m, "empty address");
		check_prefix_reject("", m, "empty address");
		check_prefix_reject("/8", m, "empty address");
		check_prefix_reject("1.2.3.4/", m, "missing prefix length");
		check_prefix_reject("1.2.3.4/33", m,
		    "prefix length out of range");
		check_prefix_reject("1.2.3.4/128", m,
		    "prefix length out of range");
		check_prefix_reject("::/129", m, "prefix length out of range");
		check_prefix_reject("::/1000", m, "prefix length out of range");
		check_prefix_reject("::/99999999999999999999999", m,
		    "prefix length out of range");
		/* 2^32 + 8: must not wrap around to /8. */
		check_prefix_reject("1.2.3.0/4294967304", m,
		    "prefix length out of range");
		check_prefix_reject("1.2.3.4/-1", m,
		    "prefix length is not a decimal number");
		check_prefix_reject("1.2.3.4/+8", m,
		    "prefix length is not a decimal number");
		check_prefix_reject("1.2.3.4/0x8", m,
		    "prefix length is not a decimal number");
		check_prefix_reject("1.2.3.4/8/8", m,
		    "prefix length is not a decimal number");
		check_prefix_reject("1.2.3.4//8", m,
		    "prefix length is not a decimal number");
		check_prefix_reject("1.2.3.4/8a", m,
		    "prefix length is not a decimal number");
		/* "/08" may mean octal elsewhere; refuse rather than guess. */
		check_prefix_reject("1.2.3.4/08", m,
		    "prefix length has a leading zero");
		check_prefix_reject("1.2.3.0/024", m,
		    "prefix length has a leading zero");
		check_prefix_reject("0.0.0.0/00", m,
		    "prefix length has a leading zero");
		check_prefix_reject("1.2.3.4/ 8", m, "address contains a blank");
		check_prefix_reject("1.2.3.4 /8", m, "address contains a blank");
		check_prefix_reject("1.2.3.4/8 ", m,
		    "address has leading or trailing blanks");
		check_prefix_reject(" 1.2.3.4/8", m,
		    "address has leading or trailing blanks");
		check_prefix_reject("1.2.3.4/8\n", m,
		    "address contains a newline");
		check_prefix_reject("1.2.3.4/8\x1b", m,
		    "address contains a control or non-ASCII character");
		check_prefix_reject("fe80::%eth0/64", m,
		    "zone ids are not allowed");
		check_prefix_reject("example.com/24", m,
		    "host names are not allowed");
		check_prefix_reject("1.2.3/24", m,
		    "not an IPv4 or IPv6 address");
		check_prefix_reject("::ffff:1.2.3.0/95", m,
		    "v4-mapped prefix shorter than /96");
		check_prefix_reject("::ffff:0.0.0.0/0", m,
		    "v4-mapped prefix shorter than /96");
		/* 46-character address part, and a huge input. */
		check_prefix_reject(
		    "0000:0000:0000:0000:0000:ffff:255.255.255.2555/8", m,
		    "address too long");
		memset(huge, '1', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = '\0';
		check_prefix_reject(huge, m, "address too long");
	}

	/* Host bits below len are only an error without mask. */
	check_prefix_reject("10.1.2.3/8", false, "host bits set");
	check_prefix_reject("1.2.3.255/31", false, "host bits set");
	check_prefix_reject("1.2.3.4/0", false, "host bits set");
	check_prefix_reject("2001:db8::1/32", false, "host bits set");
	check_prefix_reject("2001:db8::1/127", false, "host bits set");
	check_prefix_reject("::ffff:1.2.3.4/120", false, "host bits set");
}

static void
test_prefix_masking(void **state)
{
	struct prefix	 p;
	const char	*why;

	(void)state;
	check_prefix("10.1.2.3/8", true, "10.0.0.0/8");
	check_prefix("1.2.3.255/31", true, "1.2.3.254/31");
	check_prefix("1.2.3.4/0", true, "0.0.0.0/0");
	check_prefix("255.255.255.255/1", true, "128.0.0.0/1");
	check_prefix("2001:db8::1/32", true, "2001:db8::/32");
	check_prefix("2001:db8:ffff::1/33", true, "2001:db8:8000::/33");
	check_prefix("::ffff:1.2.3.4/120", true, "1.2.3.0/24");
	/* Nothing to clear: mask changes nothing. */
	check_prefix("10.0.0.0/8", true, "10.0.0.0/8");
	check_prefix("1.2.3.4", true, "1.2.3.4/32");

	/* The cleared bytes really are zero, including the spare ones. */
	assert_int_equal(prefix_parse("10.255.255.255/9", &p, true, &why), 0);
	assert_int_equal(p.addr.bytes[0], 10);
	assert_int_equal(p.addr.bytes[1], 0x80);
	assert_int_equal(p.addr.bytes[2], 0);
	assert_int_equal(p.addr.bytes[3], 0);
	assert_int_equal(p.len, 9);
}

/* The store's keys: the address alone at full length. */
static void
test_prefix_key(void **state)
{
	struct prefix	p;
	char		buf[ADDR_STRLEN];

	(void)state;
	p = prefix("2001:db8:1:2::/64");
	assert_int_equal(prefix_key(&p, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "2001:db8:1:2::/64");
	p = prefix("2001:db8::7/128");
	assert_int_equal(prefix_key(&p, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "2001:db8::7");
	p = prefix("192.0.2.7/32");
	prefix_key(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7");
	p = prefix("192.0.2.0/24");
	prefix_key(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.0/24");
}

static void
test_prefix_format(void **state)
{
	struct prefix	p;
	char		buf[ADDR_STRLEN];

	(void)state;
	p = prefix("2001:db8::/32");
	assert_int_equal(prefix_format(&p, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "2001:db8::/32");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(prefix_format(&p, buf, 11), 10);
	assert_string_equal(buf, "2001:db8::");
	assert_int_equal(prefix_format(&p, buf, 13), 12);
	assert_string_equal(buf, "2001:db8::/3");
	buf[0] = 'x';
	assert_int_equal(prefix_format(&p, buf, 0), 0);
	assert_int_equal(buf[0], 'x');

	p = prefix("::ffff:255.255.255.255/128");
	assert_int_equal(prefix_format(&p, buf, sizeof(buf)), 18);
	assert_string_equal(buf, "255.255.255.255/32");
	p = prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(prefix_format(&p, buf, sizeof(buf)), 43);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

/* Mask a copy of s to len and compare with the expected text. */
static void
check_mask(const char *s, unsigned len, const char *want)
{
	struct addr	a;
	char		buf[ADDR_STRLEN];

	a = addr(s);
	addr_mask(&a, len);
	addr_format(&a, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("addr_mask(%s, %u) = %s, want %s", s, len, buf, want);
}

static void
test_addr_mask(void **state)
{
	static const char	*ones =
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	static const uint8_t	 zero[12];
	struct addr		 a;
	struct prefix		 p;

	(void)state;
	check_mask("255.255.255.255", 0, "0.0.0.0");
	check_mask("255.255.255.255", 1, "128.0.0.0");
	check_mask("255.255.255.255", 7, "254.0.0.0");
	check_mask("255.255.255.255", 8, "255.0.0.0");
	check_mask("255.255.255.255", 9, "255.128.0.0");
	check_mask("255.255.255.255", 13, "255.248.0.0");
	check_mask("255.255.255.255", 31, "255.255.255.254");
	check_mask("255.255.255.255", 32, "255.255.255.255");
	check_mask("255.255.255.255", 33, "255.255.255.255");
	check_mask("255.255.255.255", 1000, "255.255.255.255");
	check_mask("10.170.85.1", 12, "10.160.0.0");

	check_mask(ones, 0, "::");
	check_mask(ones, 1, "8000::");
	check_mask(ones, 15, "fffe::");
	check_mask(ones, 63, "ffff:ffff:ffff:fffe::");
	check_mask(ones, 64, "ffff:ffff:ffff:ffff::");
	check_mask(ones, 65, "ffff:ffff:ffff:ffff:8000::");
	check_mask(ones, 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	check_mask(ones, 128, ones);
	check_mask(ones, 129, ones);

	/* IPv4 masking never touches the spare bytes. */
	a = addr("255.255.255.255");
	addr_mask(&a, 3);
	assert_int_equal(a.bytes[0], 0xe0);
	assert_memory_equal(a.bytes + 4, zero, 12);

	p.addr = addr("192.168.77.77");
	p.len = 20;
	prefix_mask(&p);
	assert_true(addr_eq(&p.addr, &(struct addr){ AF_INET,
	    { 192, 168, 64, 0 } }));
	assert_int_equal(p.len, 20);
}

static void
test_cmp(void **state)
{
	/* Ascending order. */
	static const char	*order[] = {
		"0.0.0.0", "0.0.0.1", "1.2.3.4", "1.2.3.5", "1.2.4.0",
		"128.0.0.0", "255.255.255.255",
		"::", "::1", "::1.2.3.4", "::1:0:0:0", "1::", "2001:db8::1",
		"2001:db8::2", "fe80::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	const size_t		 n = sizeof(order) / sizeof(order[0]);
	struct addr		 a, b;
	size_t			 i, j;
	int			 c;

	(void)state;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			a = addr(order[i]);
			b = addr(order[j]);
			c = addr_cmp(&a, &b);
			if ((i < j && c >= 0) || (i > j && c <= 0) ||
			    (i == j && c != 0))
				fail_msg("addr_cmp(%s, %s) = %d", order[i],
				    order[j], c);
			assert_int_equal(addr_eq(&a, &b), i == j);
		}
	}

	/* Different texts, same address. */
	a = addr("::ffff:10.0.0.1");
	b = addr("10.0.0.1");
	assert_int_equal(addr_cmp(&a, &b), 0);
	assert_true(addr_eq(&a, &b));
	a = addr("2001:DB8:0::1");
	b = addr("2001:db8::0:1");
	assert_true(addr_eq(&a, &b));

	/* Only the family's bytes count. */
	a = addr("10.0.0.1");
	b = a;
	b.bytes[4] = 1;
	b.bytes[15] = 0xff;
	assert_int_equal(addr_cmp(&a, &b), 0);
	/* IPv4 sorts first even against an all-zero IPv6 address. */
	a = addr("255.255.255.255");
	b = addr("::");
	assert_true(addr_cmp(&a, &b) < 0);
	assert_true(addr_cmp(&b, &a) > 0);
	assert_false(addr_eq(&a, &b));
	/* Same bytes, different family. */
	a = addr("0.0.0.0");
	assert_false(addr_eq(&a, &b));
}

static void
check_contains(const char *pfx, const char *a, bool want)
{
	struct prefix	p;
	struct addr	x;

	p = prefix(pfx);
	x = addr(a);
	if (prefix_contains(&p, &x) != want)
		fail_msg("prefix_contains(%s, %s) != %d", pfx, a, want);
}

static void
test_contains(void **state)
{
	static const char	*top =
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	struct prefix		 p;
	struct addr		 a;

	(void)state;
	check_contains("0.0.0.0/0", "0.0.0.0", true);
	check_contains("0.0.0.0/0", "255.255.255.255", true);
	check_contains("0.0.0.0/0", "::", false);
	check_contains("0.0.0.0/0", "::1.2.3.4", false);
	check_contains("255.255.255.255/32", "255.255.255.255", true);
	check_contains("255.255.255.255/32", "255.255.255.254", false);
	check_contains("0.0.0.0/32", "0.0.0.0", true);
	check_contains("0.0.0.0/32", "0.0.0.1", false);
	check_contains("10.0.0.0/8", "10.0.0.0", true);
	check_contains("10.0.0.0/8", "10.255.255.255", true);
	check_contains("10.0.0.0/8", "9.255.255.255", false);
	check_contains("10.0.0.0/8", "11.0.0.0", false);
	check_contains("192.168.0.0/13", "192.175.255.255", true);
	check_contains("192.168.0.0/13", "192.176.0.0", false);
	check_contains("192.168.0.0/13", "192.167.255.255", false);
	check_contains("128.0.0.0/1", "127.255.255.255", false);
	check_contains("128.0.0.0/1", "128.0.0.0", true);
	check_contains("10.0.0.0/8", "::ffff:10.1.1.1", true);

	check_contains("::/0", "::", true);
	check_contains("::/0", top, true);
	check_contains("::/0", "0.0.0.0", false);
	check_contains("::/0", "::ffff:1.2.3.4", false);
	check_contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", top,
	    true);
	check_contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false);
	check_contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", top,
	    true);
	check_contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd", false);
	check_contains("ffff::/16", top, true);
	check_contains("ffff::/17", top, false);
	check_contains("2001:db8::/33", "2001:db8:7fff:ffff::1", true);
	check_contains("2001:db8::/33", "2001:db8:8000::", false);
	check_contains("2001:db8::/32", "2001:db9::", false);
	check_contains("::ffff:0.0.0.0/96", "1.2.3.4", true);

	/* A hand-made prefix with len too long acts as full length. */
	p.addr = addr("1.2.3.4");
	p.len = 200;
	a = addr("1.2.3.4");
	assert_true(prefix_contains(&p, &a));
	a = addr("1.2.3.5");
	assert_false(prefix_contains(&p, &a));
}

static void
test_from_sockaddr(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	static const uint8_t	 v4[16] = { 192, 0, 2, 7 };
	static const uint8_t	 v6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25
	};
	struct addr		 a;
	char			 buf[ADDR_STRLEN];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(25);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr), 1);
	memset(&a, 0xa5, sizeof(a));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, v4, 16);

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(25);
	sin6->sin6_scope_id = 3;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::25",
	    &sin6->sin6_addr), 1);
	memset(&a, 0xa5, sizeof(a));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.bytes, v6, 16);
	addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::25");

	/* A v4 client on a dual-stack socket is the same host as on v4. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.7",
	    &sin6->sin6_addr), 1);
	memset(&a, 0xa5, sizeof(a));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, v4, 16);
	assert_true(addr_eq(&a, &(struct addr){ AF_INET, { 192, 0, 2, 7 } }));

	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, "/tmp/sock");
	memset(&a, 0xa5, sizeof(a));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a), -1);
	assert_int_equal(a.family, 0xa5);

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &a), -1);
	assert_int_equal(addr_from_sockaddr(NULL, &a), -1);
	assert_int_equal(a.family, 0xa5);
}

static void
test_to_sockaddr(void **state)
{
	struct sockaddr_storage	 ss;
	struct addr		 a, back;
	const char		*why;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.7", &a, &why), 0);
	assert_int_equal(addr_to_sockaddr(&a, 8026, &ss),
	    sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8026);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back), 0);
	assert_true(addr_eq(&a, &back));

	assert_int_equal(addr_parse("2001:db8::25", &a, &why), 0);
	memset(&ss, 0xa5, sizeof(ss));
	assert_int_equal(addr_to_sockaddr(&a, 25, &ss),
	    sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 25);
	/* Nothing left over from before: flow and scope are zero. */
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 0);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_flowinfo, 0);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, &back), 0);
	assert_true(addr_eq(&a, &back));

	a.family = AF_UNIX;
	assert_int_equal(addr_to_sockaddr(&a, 25, &ss), 0);
}

static void
test_not_client(void **state)
{
	static const struct {
		const char	*ip, *why;
	} cases[] = {
		{ "0.0.0.0", "unspecified" },
		{ "0.1.2.3", "reserved" },
		{ "127.0.0.1", "loopback" },
		{ "127.255.0.9", "loopback" },
		{ "224.0.1.240", "multicast" },
		{ "239.255.255.255", "multicast" },
		{ "255.255.255.255", "broadcast" },
		{ "240.0.0.1", "reserved" },
		{ "255.255.255.254", "reserved" },
		{ "::", "unspecified" },
		{ "::1", "loopback" },
		{ "ff02::1", "multicast" },
		{ "::192.0.2.1", "reserved" },
		{ "1.0.0.1", NULL },
		{ "192.0.2.7", NULL },
		{ "10.1.2.3", NULL },
		{ "223.255.255.255", NULL },
		{ "169.254.1.1", NULL },
		{ "2001:db8::1", NULL },
		{ "fe80::1", NULL },
		{ "::2:0:0:1", NULL },
	};
	struct addr a;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].ip, &a, &why), 0);
		if (cases[i].why == NULL)
			assert_null(addr_not_client(&a));
		else
			assert_string_equal(addr_not_client(&a), cases[i].why);
	}
	/* As a sync packet may carry it: 16 bytes of ::ffff:192.0.2.1. */
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	a.bytes[10] = a.bytes[11] = 0xff;
	a.bytes[12] = 192;
	a.bytes[15] = 1;
	assert_string_equal(addr_not_client(&a), "v4-mapped");
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_mapped),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_bounded_read),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_reject),
		cmocka_unit_test(test_prefix_masking),
		cmocka_unit_test(test_prefix_format),
		cmocka_unit_test(test_addr_mask),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_from_sockaddr),
		cmocka_unit_test(test_to_sockaddr),
		cmocka_unit_test(test_not_client),
		cmocka_unit_test(test_prefix_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
