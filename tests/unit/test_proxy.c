/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for src/lib/proxy.c: the PROXY protocol's header.
 */
#include <sys/socket.h>
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

#include "proxy.h"

#define SIG2	"\r\n\r\n\0\r\nQUIT\n"

/* A v2 header: signature, command byte, family byte, block. */
static size_t
v2(uint8_t *out, uint8_t cmd, uint8_t fam, const void *block, size_t blen)
{
	memcpy(out, SIG2, 12);
	out[12] = cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 16, block, blen);
	return 16 + blen;
}

/* The 12 bytes of TCP over IPv4: 192.0.2.10:56324 -> 198.51.100.1:25. */
static const uint8_t block4[12] = {
	192, 0, 2, 10, 198, 51, 100, 1, 0xdc, 0x04, 0x00, 0x19
};

/* 36 bytes of TCP over IPv6: [2001:db8::10]:443 -> [2001:db8::1]:25. */
static void
block6(uint8_t *b, const char *src, const char *dst)
{
	assert_int_equal(inet_pton(AF_INET6, src, b), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, b + 16), 1);
	b[32] = 0x01;
	b[33] = 0xbb;
	b[34] = 0x00;
	b[35] = 0x19;
}

static void
assert_addr(const struct addr *a, const char *want)
{
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static enum proxy_status
parse_str(const char *s, struct proxy_hdr *h)
{
	return proxy_parse(s, strlen(s), h);
}

/* s is refused, with a reason that contains want. */
static void
refused(const void *s, size_t len, const char *want)
{
	struct proxy_hdr h;

	if (proxy_parse(s, len, &h) != PROXY_ERROR)
		fail_msg("accepted: %.*s", (int)len, (const char *)s);
	assert_non_null(h.why);
	if (strstr(h.why, want) == NULL)
		fail_msg("reason \"%s\", wanted \"%s\"", h.why, want);
}

static void
refused_str(const char *s, const char *want)
{
	refused(s, strlen(s), want);
}

/*
 * Byte at a time: NEED_MORE, with a lower bound that holds, up to the
 * last byte, then the verdict of the whole.
 */
static enum proxy_status
fed(const void *buf, size_t len, size_t upto, struct proxy_hdr *h)
{
	enum proxy_status st;

	for (size_t k = 0; k < upto; k++) {
		st = proxy_parse(buf, k, h);
		if (st != PROXY_NEED_MORE)
			fail_msg("%zu bytes: status %d, not NEED_MORE", k, st);
		assert_true(h->len >= 1);
		assert_true(k + h->len <= upto);
	}
	return proxy_parse(buf, len, h);
}

static void
test_v1_tcp4(void **state)
{
	const char *s = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n";
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(parse_str(s, &h), PROXY_DONE);
	assert_int_equal(h.len, strlen(s));
	assert_int_equal(h.version, 1);
	assert_int_equal(h.kind, PROXY_ADDRS);
	assert_int_equal(h.src.family, AF_INET);
	assert_addr(&h.src, "192.0.2.10");
	assert_addr(&h.dst, "198.51.100.1");
	assert_int_equal(h.sport, 56324);
	assert_int_equal(h.dport, 25);
	assert_string_equal(proxy_kind_name(h.kind), "addresses");
}

static void
test_v1_tcp6(void **state)
{
	const char *s = "PROXY TCP6 2001:db8::10 2001:DB8::1 65535 0\r\n";
	const char *mapped = "PROXY TCP6 ::ffff:192.0.2.7 2001:db8::1 1 2\r\n";
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(parse_str(s, &h), PROXY_DONE);
	assert_int_equal(h.kind, PROXY_ADDRS);
	assert_int_equal(h.src.family, AF_INET6);
	assert_addr(&h.src, "2001:db8::10");
	assert_addr(&h.dst, "2001:db8::1");
	assert_int_equal(h.sport, 65535);
	assert_int_equal(h.dport, 0);
	/* A v4-mapped client is the IPv4 host, as everywhere else. */
	assert_int_equal(parse_str(mapped, &h), PROXY_DONE);
	assert_int_equal(h.src.family, AF_INET);
	assert_addr(&h.src, "192.0.2.7");
	assert_int_equal(h.dst.family, AF_INET6);
}

static void
test_v1_unknown(void **state)
{
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(parse_str("PROXY UNKNOWN\r\n", &h), PROXY_DONE);
	assert_int_equal(h.len, 15);
	assert_int_equal(h.kind, PROXY_UNKNOWN);
	assert_string_equal(proxy_kind_name(h.kind), "unknown");
	/* Whatever follows UNKNOWN is ignored, up to the CRLF. */
	assert_int_equal(parse_str("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
	    &h), PROXY_DONE);
	assert_int_equal(h.kind, PROXY_UNKNOWN);
	assert_int_equal(h.len, 35);
	assert_int_equal(parse_str("PROXY UNKNOWN junk \t here\r\nEHLO",
	    &h), PROXY_DONE);
	assert_int_equal(h.len, 27);
	refused_str("PROXY UNKNOWNX\r\n", "protocol");
}

/* Bytes after the header are the connection's: never looked at. */
static void
test_v1_surplus(void **state)
{
	const char *s = "PROXY TCP4 192.0.2.10 198.51.100.1 1 25\r\n"
	    "EHLO x\r\n\xff\xff";
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(parse_str(s, &h), PROXY_DONE);
	assert_int_equal(h.len, 41);
	assert_addr(&h.src, "192.0.2.10");
}

static void
test_v1_bytewise(void **state)
{
	const char *s = "PROXY TCP6 2001:db8::10 2001:db8::1 56324 25\r\n";
	const char *u = "PROXY UNKNOWN\r\n";
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(fed(s, strlen(s), strlen(s), &h), PROXY_DONE);
	assert_int_equal(h.len, strlen(s));
	assert_addr(&h.src, "2001:db8::10");
	/* The shortest header: the first lower bound is exact. */
	assert_int_equal(proxy_parse(u, 0, &h), PROXY_NEED_MORE);
	assert_int_equal(h.len, 15);
	assert_int_equal(fed(u, strlen(u), strlen(u), &h), PROXY_DONE);
	assert_int_equal(proxy_parse(s, strlen(s) - 1, &h), PROXY_NEED_MORE);
	assert_int_equal(h.len, 1);
}

static void
test_v1_longest(void **state)
{
	char s[PROXY_V1_MAX + 8];
	struct proxy_hdr h;
	int n;

	(void)state;
	/* The spec's longest line: 104 bytes. */
	n = snprintf(s, sizeof(s), "PROXY TCP6 %s %s 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(n, 104);
	assert_int_equal(parse_str(s, &h), PROXY_DONE);
	assert_int_equal(h.len, 104);
	/* UNKNOWN filled to exactly 107 bytes, and to 108. */
	memset(s, 'x', sizeof(s));
	memcpy(s, "PROXY UNKNOWN ", 14);
	memcpy(s + 105, "\r\n", 2);
	assert_int_equal(proxy_parse(s, 107, &h), PROXY_DONE);
	assert_int_equal(h.len, 107);
	s[105] = 'x';
	memcpy(s + 106, "\r\n", 2);
	assert_int_equal(proxy_parse(s, 108, &h), PROXY_ERROR);
	assert_string_equal(h.why, "v1: no CRLF in the first 107 bytes");
	/* Decided at 106 bytes: the CR can no longer come in time. */
	assert_int_equal(proxy_parse(s, 106, &h), PROXY_ERROR);
	assert_int_equal(proxy_parse(s, 105, &h), PROXY_NEED_MORE);
}

static void
test_v1_malformed(void **state)
{
	(void)state;
	refused_str("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "protocol");
	refused_str("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol");
	refused_str("PROXY \r\n", "empty field");
	refused_str("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "empty field");
	refused_str("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "empty field");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "empty field");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "more than 5");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "fewer than 5");
	refused_str("PROXY TCP4\r\n", "fewer than 5");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "line feed");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "carriage return");
	refused_str("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "source address");
	/* Addresses of the family named, inet_pton's strict forms. */
	refused_str("PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",
	    "bad source address for TCP4");
	refused_str("PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
	    "bad destination address for TCP4");
	refused_str("PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
	    "bad source address for TCP6");
	refused_str("PROXY TCP6 ::1 ::1%eth0 1 2\r\n",
	    "bad destination address for TCP6");
	refused_str("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "source address");
	refused_str("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "source address");
	refused_str("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "source address");
	refused_str("PROXY TCP4 host 5.6.7.8 1 2\r\n", "source address");
	refused_str("PROXY TCP6 2001:db8::1::2 ::1 1 2\r\n", "source address");
	/* Ports: 0 to 65535, "0" the only one to start with a zero. */
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
	    "destination port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n",
	    "destination port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 0x19\r\n",
	    "destination port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "empty field");
	/* Too long without its CRLF. */
	refused_str("PROXY TCP4 1111111111111111111111111111111111111111",
	    "source address");
	refused(("PROXY UNKNOWN "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 116, "107 bytes");
}

/* The verdict as soon as the bytes in decide it. */
static void
test_v1_early(void **state)
{
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(parse_str("PROX", &h), PROXY_NEED_MORE);
	assert_int_equal(h.version, 0);
	assert_int_equal(parse_str("PROXY ", &h), PROXY_NEED_MORE);
	assert_int_equal(h.version, 1);
	assert_int_equal(parse_str("PROXY TC", &h), PROXY_NEED_MORE);
	assert_int_equal(parse_str("PROXY UNKNOWN", &h), PROXY_NEED_MORE);
	assert_int_equal(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2", &h),
	    PROXY_NEED_MORE);
	assert_int_equal(h.len, 2);
	assert_int_equal(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", &h),
	    PROXY_NEED_MORE);
	assert_int_equal(h.len, 1);
	refused_str("PROXY X", "protocol");
	refused_str("PROXY TCP4 1.2.3.4 x", "destination address");
	assert_int_equal(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 0", &h),
	    PROXY_NEED_MORE);
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 00", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 655360", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536", "source port");
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", "more than 5");
	refused_str("PROXY TCP4 1.2.3.4.5.6.7.8.9", "source address");
	refused_str("PROXY TCP4  ", "empty field");
	refused_str("PROXY  ", "empty field");
	/* The whole line is refused at its CR, before the LF. */
	refused_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r", "fewer than 5");
}

static void
test_neither(void **state)
{
	struct proxy_hdr h;

	(void)state;
	refused_str("EHLO mx.example\r\n", "not a PROXY protocol header");
	refused_str("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY");
	refused_str("PROXY\r\n", "not a PROXY");
	refused_str("PROXYTCP4", "not a PROXY");
	refused_str("\r\n\r\nQUIT\n", "not a PROXY");
	refused("\r\n\r\n\0\r\nQUIT\r", 12, "not a PROXY");
	refused("\0", 1, "not a PROXY");
	/* Decided by the first byte that differs from both. */
	refused("E", 1, "not a PROXY");
	assert_int_equal(parse_str("P", &h), PROXY_NEED_MORE);
	assert_int_equal(proxy_parse("\r", 1, &h), PROXY_NEED_MORE);
	assert_int_equal(proxy_parse(SIG2, 11, &h), PROXY_NEED_MORE);
	assert_int_equal(h.len, 5);
	assert_int_equal(h.version, 0);
	assert_int_equal(proxy_parse(SIG2, 12, &h), PROXY_NEED_MORE);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.len, 4);
}

static void
test_v2_proxy4(void **state)
{
	uint8_t b[64];
	size_t n = v2(b, 0x21, 0x11, block4, sizeof(block4));
	struct proxy_hdr h;

	(void)state;
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.len, 28);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.kind, PROXY_ADDRS);
	assert_addr(&h.src, "192.0.2.10");
	assert_addr(&h.dst, "198.51.100.1");
	assert_int_equal(h.sport, 56324);
	assert_int_equal(h.dport, 25);
	/* Followed by SMTP: the header's length only. */
	memcpy(b + n, "QUIT\r\n", 6);
	assert_int_equal(proxy_parse(b, n + 6, &h), PROXY_DONE);
	assert_int_equal(h.len, 28);
}

static void
test_v2_proxy6(void **state)
{
	uint8_t blk[36], b[64];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	block6(blk, "2001:db8::10", "2001:db8::1");
	n = v2(b, 0x21, 0x21, blk, sizeof(blk));
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.len, 52);
	assert_int_equal(h.src.family, AF_INET6);
	assert_addr(&h.src, "2001:db8::10");
	assert_addr(&h.dst, "2001:db8::1");
	assert_int_equal(h.sport, 443);
	assert_int_equal(h.dport, 25);
	/* A v4-mapped source is the IPv4 host. */
	block6(blk, "::ffff:192.0.2.9", "2001:db8::1");
	n = v2(b, 0x21, 0x21, blk, sizeof(blk));
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.src.family, AF_INET);
	assert_addr(&h.src, "192.0.2.9");
	assert_int_equal(memcmp(h.src.bytes + 4, "\0\0\0\0\0\0\0\0\0\0\0\0",
	    12), 0);
}

static void
test_v2_local(void **state)
{
	uint8_t b[64];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	/* A health check: LOCAL, UNSPEC, nothing else. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.len, 16);
	assert_int_equal(h.kind, PROXY_LOCAL);
	assert_string_equal(proxy_kind_name(h.kind), "local");
	/* LOCAL ignores the family and the block, whatever they are. */
	n = v2(b, 0x20, 0x11, block4, sizeof(block4));
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.kind, PROXY_LOCAL);
	assert_int_equal(h.len, 28);
	n = v2(b, 0x20, 0x99, "\xff", 1);
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.kind, PROXY_LOCAL);
	/* PROXY with UNSPEC: nothing said of the client. */
	n = v2(b, 0x21, 0x00, "ab", 2);
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.kind, PROXY_UNKNOWN);
	assert_int_equal(h.len, 18);
}

static void
test_v2_tlvs(void **state)
{
	uint8_t blk[64], b[128];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	/* ALPN "smtp", then a NOOP with an empty value. */
	memcpy(blk, block4, 12);
	memcpy(blk + 12, "\x01\x00\x04smtp\x04\x00\x00", 10);
	n = v2(b, 0x21, 0x11, blk, 22);
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	assert_int_equal(h.len, 38);
	assert_addr(&h.src, "192.0.2.10");
	/* The last TLV one byte longer than the block. */
	memcpy(blk + 12, "\x01\x00\x05smtp", 7);
	n = v2(b, 0x21, 0x11, blk, 19);
	refused(b, n, "TLV longer than the header");
	/* Two bytes left over: not even a TLV's head. */
	memcpy(blk + 12, "\x04\x00", 2);
	n = v2(b, 0x21, 0x11, blk, 14);
	refused(b, n, "TLV cut short");
	/* Bytes of addresses beyond TCP over IPv4's, as TLVs: refused. */
	memset(blk + 12, 0, 24);
	n = v2(b, 0x21, 0x11, blk, 36);
	assert_int_equal(proxy_parse(b, n, &h), PROXY_DONE);
	blk[12] = 0x04;
	blk[14] = 0x30;
	n = v2(b, 0x21, 0x11, blk, 36);
	refused(b, n, "TLV longer");
}

static void
test_v2_cap(void **state)
{
	uint8_t *b = calloc(1, 16 + 65535);
	uint8_t tlv[3];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	assert_non_null(b);
	/* TCP over IPv4, then one TLV filling 1024 bytes: the most. */
	n = v2(b, 0x21, 0x11, block4, sizeof(block4));
	tlv[0] = 0x04;
	tlv[1] = (1024 - 3) >> 8;
	tlv[2] = (1024 - 3) & 0xff;
	memcpy(b + n, tlv, 3);
	b[14] = (12 + 1024) >> 8;
	b[15] = (12 + 1024) & 0xff;
	assert_int_equal(proxy_parse(b, 16 + 12 + 1024, &h), PROXY_DONE);
	assert_int_equal(h.len, 16 + 12 + 1024);
	/* One byte more is refused at the 16th byte, before the rest. */
	b[15] = (12 + 1025) & 0xff;
	refused(b, 16, "more than 1024 bytes of TLVs");
	/* The protocol's own maximum. */
	b[14] = b[15] = 0xff;
	refused(b, 16, "more than 1024 bytes of TLVs");
	/* LOCAL and UNSPEC: room for the largest address block. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	b[14] = (PROXY_V2_ADDRMAX + PROXY_TLVMAX) >> 8;
	b[15] = (PROXY_V2_ADDRMAX + PROXY_TLVMAX) & 0xff;
	assert_int_equal(proxy_parse(b, PROXY_MAX, &h), PROXY_DONE);
	assert_int_equal(h.len, PROXY_MAX);
	b[15]++;
	refused(b, 16, "more than 1024");
	free(b);
}

static void
test_v2_bytewise(void **state)
{
	uint8_t blk[64], b[128];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	block6(blk, "2001:db8::10", "2001:db8::1");
	memcpy(blk + 36, "\x02\x00\x03mx1", 6);
	n = v2(b, 0x21, 0x21, blk, 42);
	assert_int_equal(fed(b, n, n, &h), PROXY_DONE);
	assert_int_equal(h.len, n);
	assert_addr(&h.src, "2001:db8::10");
	/* From the 16th byte on, the lower bound is the exact rest. */
	for (size_t k = 16; k < n; k++) {
		assert_int_equal(proxy_parse(b, k, &h), PROXY_NEED_MORE);
		assert_int_equal(h.len, n - k);
	}
}

static void
test_v2_malformed(void **state)
{
	uint8_t blk[36], b[128];
	size_t n;
	struct proxy_hdr h;

	(void)state;
	/* A signature wrong in its last byte. */
	n = v2(b, 0x21, 0x11, block4, sizeof(block4));
	b[11] = 'X';
	refused(b, n, "not a PROXY protocol header");
	refused(b, 12, "not a PROXY protocol header");
	/* Version 1 in a v2 header, and others: refused at byte 13. */
	n = v2(b, 0x11, 0x11, block4, sizeof(block4));
	refused(b, n, "version is not 2");
	refused(b, 13, "version is not 2");
	b[12] = 0x31;
	refused(b, 13, "version is not 2");
	b[12] = 0x01;
	refused(b, 13, "version is not 2");
	/* Commands other than LOCAL and PROXY. */
	b[12] = 0x22;
	refused(b, 13, "command");
	b[12] = 0x2f;
	refused(b, 13, "command");
	/* Families PROXY cannot carry, refused at byte 14. */
	n = v2(b, 0x21, 0x12, block4, sizeof(block4));
	refused(b, 14, "UDP over IPv4");
	n = v2(b, 0x21, 0x22, block4, sizeof(block4));
	refused(b, n, "UDP over IPv6");
	n = v2(b, 0x21, 0x31, block4, sizeof(block4));
	refused(b, n, "unix stream");
	n = v2(b, 0x21, 0x32, block4, sizeof(block4));
	refused(b, n, "unix datagram");
	n = v2(b, 0x21, 0x13, block4, sizeof(block4));
	refused(b, n, "unknown address family");
	n = v2(b, 0x21, 0x01, block4, sizeof(block4));
	refused(b, n, "unknown address family");
	n = v2(b, 0x21, 0x41, block4, sizeof(block4));
	refused(b, n, "unknown address family");
	/* An address block too short for the family, at byte 16. */
	n = v2(b, 0x21, 0x11, block4, 11);
	refused(b, 16, "too short for TCP over IPv4");
	refused(b, n, "too short for TCP over IPv4");
	block6(blk, "2001:db8::10", "2001:db8::1");
	n = v2(b, 0x21, 0x21, blk, 35);
	refused(b, n, "too short for TCP over IPv6");
	n = v2(b, 0x21, 0x21, block4, 12);
	refused(b, n, "too short for TCP over IPv6");
	n = v2(b, 0x21, 0x11, NULL, 0);
	refused(b, n, "too short");
	/* Truncated: the block promised is not all in yet. */
	n = v2(b, 0x21, 0x11, block4, sizeof(block4));
	assert_int_equal(proxy_parse(b, n - 1, &h), PROXY_NEED_MORE);
	assert_int_equal(h.len, 1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6),
		cmocka_unit_test(test_v1_unknown),
		cmocka_unit_test(test_v1_surplus),
		cmocka_unit_test(test_v1_bytewise),
		cmocka_unit_test(test_v1_longest),
		cmocka_unit_test(test_v1_malformed),
		cmocka_unit_test(test_v1_early),
		cmocka_unit_test(test_neither),
		cmocka_unit_test(test_v2_proxy4),
		cmocka_unit_test(test_v2_proxy6),
		cmocka_unit_test(test_v2_local),
		cmocka_unit_test(test_v2_tlvs),
		cmocka_unit_test(test_v2_cap),
		cmocka_unit_test(test_v2_bytewise),
		cmocka_unit_test(test_v2_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
