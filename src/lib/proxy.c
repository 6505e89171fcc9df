/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * proxy: the PROXY protocol's header, versions 1 and 2.  See proxy.h.
 *
 * The header comes from a trusted proxy, yet it is parsed as strictly
 * as anything else off the network: a proxy that sends something else
 * is misconfigured, and the connection is better refused than given
 * the wrong client.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <string.h>

#include "proxy.h"

#define V1_PREFIX	"PROXY "
#define V1_PREFIXLEN	(sizeof(V1_PREFIX) - 1)
#define V1_FIELDS	5	/* protocol, addresses, ports */

/* Version 2's signature: \r\n\r\n\0\r\nQUIT\n. */
static const uint8_t sig2[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_status
fail(struct proxy_hdr *h, const char *why)
{
	h->why = why;
	return PROXY_ERROR;
}

/* fail() for the helpers that return an int. */
static int
bad(struct proxy_hdr *h, const char *why)
{
	h->why = why;
	return -1;
}

static enum proxy_status
more(struct proxy_hdr *h, size_t n)
{
	h->len = n;
	return PROXY_NEED_MORE;
}

const char *
proxy_kind_name(enum proxy_kind k)
{
	switch (k) {
	case PROXY_ADDRS:
		return "addresses";
	case PROXY_LOCAL:
		return "local";
	case PROXY_UNKNOWN:
		return "unknown";
	}
	return "?";
}

/* --- version 1 --- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * An address of the family fam.  Not whole: the field may go on, so
 * only its characters and length are checked.
 */
static int
v1_addr(const char *s, size_t n, int fam, bool whole, struct addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	size_t max = fam == AF_INET ? INET_ADDRSTRLEN - 1 :
	    INET6_ADDRSTRLEN - 1;

	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.' && (fam == AF_INET ||
		    (!is_hex(s[i]) && s[i] != ':')))
			return -1;
	if (!whole)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* inet_pton of the family named; addr_parse unmaps ::ffff:0:0/96. */
	if (n == 0 || inet_pton(fam, buf, raw) != 1 ||
	    addr_parse(buf, a, NULL) != 0)
		return -1;
	return 0;
}

/* 0 to 65535, "0" the only number that begins with a zero. */
static int
v1_port(const char *s, size_t n, bool whole, uint16_t *port)
{
	uint32_t v = 0;

	if (n == 0)
		return whole ? -1 : 0;
	if (n > 5 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* The protocol: *fam AF_INET, AF_INET6, or 0 for UNKNOWN. */
static int
v1_proto(const char *s, size_t n, bool whole, int *fam)
{
	static const struct {
		const char	*name;
		int		 fam;
	} protos[] = { { "TCP4", AF_INET }, { "TCP6", AF_INET6 },
	    { "UNKNOWN", 0 } };

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		size_t len = strlen(protos[i].name);

		if (whole ? n == len && memcmp(s, protos[i].name, n) == 0 :
		    n <= len && memcmp(s, protos[i].name, n) == 0) {
			*fam = protos[i].fam;
			return 0;
		}
	}
	return -1;
}

/* Field i (0: the protocol) of a line whose protocol is *fam. */
static int
v1_field(int i, const char *s, size_t n, bool whole, int *fam,
    struct proxy_hdr *h)
{
	static const char *const badaddr[2][2] = {
		{ "v1: bad source address for TCP4",
		  "v1: bad destination address for TCP4" },
		{ "v1: bad source address for TCP6",
		  "v1: bad destination address for TCP6" }
	};
	static const char *const badport[] = {
		"v1: source port is not 0 to 65535 without leading zeros",
		"v1: destination port is not 0 to 65535 without leading zeros"
	};

	switch (i) {
	case 0:
		if (v1_proto(s, n, whole, fam) == -1)
			return bad(h, "v1: protocol is not TCP4, TCP6 or "
			    "UNKNOWN");
		return 0;
	case 1:
	case 2:
		if (v1_addr(s, n, *fam, whole, i == 1 ? &h->src :
		    &h->dst) == -1)
			return bad(h, badaddr[*fam == AF_INET6][i - 1]);
		return 0;
	case 3:
	case 4:
		if (v1_port(s, n, whole, i == 3 ? &h->sport :
		    &h->dport) == -1)
			return bad(h, badport[i - 3]);
		return 0;
	}
	return bad(h, "v1: more than 5 fields after PROXY");
}

/*
 * The fields of the line p[0..n), "PROXY " on, its CRLF left out.
 * partial: the line goes on after n, so the last field may be
 * unfinished.  0: good so far (not partial: a whole good line, in h);
 * -1: refused, h->why says why.
 */
static int
v1_line(const uint8_t *p, size_t n, bool partial, struct proxy_hdr *h)
{
	const char *s = (const char *)p;
	size_t off = V1_PREFIXLEN, start;
	int i, fam = -1;
	bool whole;

	for (i = 0;; i++) {
		start = off;
		while (off < n && s[off] != ' ')
			off++;
		/* A field is whole once a space or the line's end follows. */
		whole = off < n || !partial;
		if (whole && off == start)
			return bad(h, "v1: an empty field (one space "
			    "between fields)");
		if (v1_field(i, s + start, off - start, whole, &fam, h) == -1)
			return -1;
		if (i == 0 && whole && fam == 0) {
			/* UNKNOWN: whatever follows is ignored. */
			h->kind = PROXY_UNKNOWN;
			return 0;
		}
		if (off == n)
			break;
		off++;
	}
	if (partial)
		return 0;
	if (i + 1 < V1_FIELDS)
		return bad(h, "v1: fewer than 5 fields after PROXY");
	h->kind = PROXY_ADDRS;
	return 0;
}

static enum proxy_status
v1(const uint8_t *p, size_t len, struct proxy_hdr *h)
{
	/* The CR comes before the last byte allowed, the LF's. */
	size_t max = len < PROXY_V1_MAX - 1 ? len : PROXY_V1_MAX - 1, i;

	for (i = 0; i < max && p[i] != '\r'; i++)
		if (p[i] == '\n')
			return fail(h, "v1: a line feed without a carriage "
			    "return");
	if (i == max) {
		if (max == PROXY_V1_MAX - 1)
			return fail(h, "v1: no CRLF in the first 107 bytes");
		if (v1_line(p, len, true, h) == -1)
			return PROXY_ERROR;
		return more(h, len + 2 < PROXY_V1_MIN ? PROXY_V1_MIN - len :
		    2);
	}
	if (i + 1 < len && p[i + 1] != '\n')
		return fail(h, "v1: a carriage return without a line feed");
	if (v1_line(p, i, false, h) == -1)
		return PROXY_ERROR;
	if (i + 1 == len)
		return more(h, 1);
	h->len = i + 2;
	return PROXY_DONE;
}

/* --- version 2 --- */

#define V2_LOCAL	0x0
#define V2_PROXY	0x1
#define V2_UNSPEC	0x00
#define V2_TCP4		0x11
#define V2_TCP6		0x21

/* Why PROXY with this family and protocol is refused; NULL: it is not. */
static const char *
v2_family(uint8_t fam)
{
	switch (fam) {
	case V2_UNSPEC:
	case V2_TCP4:
	case V2_TCP6:
		return NULL;
	case 0x12:
		return "v2: UDP over IPv4 is not supported";
	case 0x22:
		return "v2: UDP over IPv6 is not supported";
	case 0x31:
		return "v2: unix stream sockets are not supported";
	case 0x32:
		return "v2: unix datagram sockets are not supported";
	}
	return "v2: unknown address family and protocol";
}

/* Bytes of addresses and ports in the block of a PROXY of this family. */
static size_t
v2_addrlen(uint8_t fam)
{
	return fam == V2_TCP4 ? 12 : fam == V2_TCP6 ? 36 : 0;
}

static void
v2_addr(uint8_t fam, const uint8_t *b, struct addr *a)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	/* addr_from_sockaddr turns ::ffff:a.b.c.d into IPv4. */
	if (fam == V2_TCP4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, b, 4);
		addr_from_sockaddr((struct sockaddr *)&sin, a);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, b, 16);
		addr_from_sockaddr((struct sockaddr *)&sin6, a);
	}
}

static uint16_t
be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The TLVs in b[0..n): each one whole, the last one ending at n. */
static int
v2_tlvs(const uint8_t *b, size_t n, struct proxy_hdr *h)
{
	size_t off = 0, vlen;

	while (off < n) {
		if (n - off < 3)
			return bad(h, "v2: a TLV cut short");
		vlen = be16(b + off + 1);
		if (vlen > n - off - 3)
			return bad(h, "v2: a TLV longer than the header");
		off += 3 + vlen;
	}
	return 0;
}

static enum proxy_status
v2(const uint8_t *p, size_t len, struct proxy_hdr *h)
{
	const char *why;
	uint8_t cmd, fam;
	size_t blen, alen, room, asize;

	if (len < 13)
		return more(h, PROXY_V2_HDR - len);
	if (p[12] >> 4 != 2)
		return fail(h, "v2: version is not 2");
	cmd = p[12] & 0x0f;
	if (cmd != V2_LOCAL && cmd != V2_PROXY)
		return fail(h, "v2: command is neither LOCAL nor PROXY");
	if (len < 14)
		return more(h, PROXY_V2_HDR - len);
	/* LOCAL ignores the family, and the block with it. */
	fam = p[13];
	if (cmd == V2_PROXY && (why = v2_family(fam)) != NULL)
		return fail(h, why);
	if (len < PROXY_V2_HDR)
		return more(h, PROXY_V2_HDR - len);
	blen = be16(p + 14);
	alen = cmd == V2_PROXY ? v2_addrlen(fam) : 0;
	if (blen < alen)
		return fail(h, fam == V2_TCP4 ? "v2: address block too short "
		    "for TCP over IPv4" : "v2: address block too short for "
		    "TCP over IPv6");
	room = (alen > 0 ? alen : PROXY_V2_ADDRMAX) + PROXY_TLVMAX;
	if (blen > room)
		return fail(h, "v2: more than 1024 bytes of TLVs");
	if (len < PROXY_V2_HDR + blen)
		return more(h, PROXY_V2_HDR + blen - len);
	h->len = PROXY_V2_HDR + blen;
	if (cmd == V2_LOCAL) {
		h->kind = PROXY_LOCAL;
		return PROXY_DONE;
	}
	if (alen == 0) {
		h->kind = PROXY_UNKNOWN;
		return PROXY_DONE;
	}
	if (v2_tlvs(p + PROXY_V2_HDR + alen, blen - alen, h) == -1)
		return PROXY_ERROR;
	/* Source address, destination address, source port, its port. */
	asize = fam == V2_TCP4 ? 4 : 16;
	v2_addr(fam, p + PROXY_V2_HDR, &h->src);
	v2_addr(fam, p + PROXY_V2_HDR + asize, &h->dst);
	h->sport = be16(p + PROXY_V2_HDR + 2 * asize);
	h->dport = be16(p + PROXY_V2_HDR + 2 * asize + 2);
	h->kind = PROXY_ADDRS;
	return PROXY_DONE;
}

/* --- either --- */

enum proxy_status
proxy_parse(const void *buf, size_t len, struct proxy_hdr *h)
{
	const uint8_t *p = buf;
	size_t n;

	memset(h, 0, sizeof(*h));
	if (len == 0)
		return more(h, PROXY_V1_MIN);
	n = len < V1_PREFIXLEN ? len : V1_PREFIXLEN;
	if (memcmp(p, V1_PREFIX, n) == 0) {
		if (len < V1_PREFIXLEN)
			return more(h, PROXY_V1_MIN - len);
		h->version = 1;
		return v1(p, len, h);
	}
	n = len < sizeof(sig2) ? len : sizeof(sig2);
	if (memcmp(p, sig2, n) == 0) {
		if (len < sizeof(sig2))
			return more(h, PROXY_V2_HDR - len);
		h->version = 2;
		return v2(p, len, h);
	}
	return fail(h, "not a PROXY protocol header");
}
