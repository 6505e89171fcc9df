/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * addr: IPv4 and IPv6 addresses and prefixes.
 *
 * Text comes from config files, lists fetched over the network and log
 * lines, so parsing is strict: anything inet_pton(3) would accept only
 * after trimming, or that a resolver would treat as a name, is refused
 * with a reason rather than guessed at.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

/* Longest text inet_ntop(3) produces, without the NUL. */
#define ADDR_MAXTEXT	(INET6_ADDRSTRLEN - 1)
/* Longest "addr/len" text, without the NUL. */
#define PREFIX_MAXTEXT	(ADDR_STRLEN - 1)

static int
fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return -1;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Checks shared by addresses and prefixes.  The length is taken first with
 * a bound so that a huge string is never scanned or copied.
 */
static int
check_text(const char *s, size_t max, size_t *lenp, const char **why)
{
	size_t		 i, n;
	unsigned char	 c;

	if (s == NULL || *s == '\0')
		return fail(why, "empty address");
	n = strnlen(s, max + 1);
	if (n > max)
		return fail(why, "address too long");
	/* A line break would split a log line in two. */
	if (strpbrk(s, "\r\n") != NULL)
		return fail(why, "address contains a newline");
	if (is_blank(s[0]) || is_blank(s[n - 1]))
		return fail(why, "address has leading or trailing blanks");
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (is_blank(s[i]))
			return fail(why, "address contains a blank");
		if (c < 0x20 || c >= 0x7f)
			return fail(why,
			    "address contains a control or non-ASCII character");
	}
	if (strchr(s, '%') != NULL)
		return fail(why, "zone ids are not allowed");
	*lenp = n;
	return 0;
}

/*
 * Only to word the error: no colon (so not IPv6), only name characters
 * and at least one letter (so not IPv4).
 */
static bool
looks_like_name(const char *s)
{
	bool	letter = false;

	for (; *s != '\0'; s++) {
		if (is_alpha(*s))
			letter = true;
		else if (!is_digit(*s) && *s != '.' && *s != '-')
			return false;
	}
	return letter;
}

/* inet_pton(3) either family; v4-mapped addresses are left as IPv6. */
static int
parse_numeric(const char *s, struct addr *a, const char **why)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (looks_like_name(s))
		return fail(why, "host names are not allowed");
	return fail(why, "not an IPv4 or IPv6 address");
}

static bool
is_mapped(const struct addr *a)
{
	static const uint8_t	pfx[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return a->family == AF_INET6 && memcmp(a->bytes, pfx, 12) == 0;
}

/* ::ffff:a.b.c.d becomes a.b.c.d; the spare bytes stay zero. */
static void
unmap(struct addr *a)
{
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, sizeof(a->bytes) - 4);
	a->family = AF_INET;
}

unsigned
addr_bits(const struct addr *a)
{
	switch (a->family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

int
addr_parse(const char *s, struct addr *a, const char **why)
{
	struct addr	tmp;
	size_t		n;

	if (check_text(s, ADDR_MAXTEXT, &n, why) == -1)
		return -1;
	if (strchr(s, '/') != NULL)
		return fail(why, "address has a prefix length");
	if (parse_numeric(s, &tmp, why) == -1)
		return -1;
	if (is_mapped(&tmp))
		unmap(&tmp);
	*a = tmp;
	return 0;
}

/*
 * Decimal digits only.  A leading zero is refused: some parsers read
 * "/010" as octal, so such a list entry is ambiguous.
 */
static int
parse_len(const char *s, unsigned max, unsigned *lenp, const char **why)
{
	const char	*p;
	unsigned	 v = 0;

	if (*s == '\0')
		return fail(why, "missing prefix length");
	for (p = s; *p != '\0'; p++)
		if (!is_digit(*p))
			return fail(why, "prefix length is not a decimal number");
	if (s[0] == '0' && s[1] != '\0')
		return fail(why, "prefix length has a leading zero");
	/* Three digits cover /128; more cannot overflow below. */
	if (p - s > 3)
		return fail(why, "prefix length out of range");
	for (p = s; *p != '\0'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (v > max)
		return fail(why, "prefix length out of range");
	*lenp = v;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *p, bool mask, const char **why)
{
	char		 buf[ADDR_MAXTEXT + 1];
	struct prefix	 tmp;
	struct addr	 masked;
	const char	*slash;
	size_t		 n, alen;
	unsigned	 len;

	if (check_text(s, PREFIX_MAXTEXT, &n, why) == -1)
		return -1;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : n;
	if (alen == 0)
		return fail(why, "empty address");
	if (alen > ADDR_MAXTEXT)
		return fail(why, "address too long");
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	memset(&tmp, 0, sizeof(tmp));
	if (parse_numeric(buf, &tmp.addr, why) == -1)
		return -1;
	len = addr_bits(&tmp.addr);
	if (slash != NULL && parse_len(slash + 1, len, &len, why) == -1)
		return -1;
	if (is_mapped(&tmp.addr)) {
		/* Shorter would cover IPv6 space outside ::ffff:0:0/96. */
		if (len < 96)
			return fail(why, "v4-mapped prefix shorter than /96");
		unmap(&tmp.addr);
		len -= 96;
	}
	tmp.len = (uint8_t)len;

	masked = tmp.addr;
	addr_mask(&masked, len);
	if (!addr_eq(&masked, &tmp.addr)) {
		if (!mask)
			return fail(why, "host bits set");
		tmp.addr = masked;
	}
	*p = tmp;
	return 0;
}

/* An unknown family prints as the empty string. */
size_t
addr_format(const struct addr *a, char *buf, size_t len)
{
	char	tmp[INET6_ADDRSTRLEN];
	size_t	n;

	if (len == 0)
		return 0;
	if (inet_ntop(a->family, a->bytes, tmp, sizeof(tmp)) == NULL)
		tmp[0] = '\0';
	n = strlen(tmp);
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return n;
}

size_t
prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];
	int	r;

	if (len == 0)
		return 0;
	addr_format(&p->addr, a, sizeof(a));
	r = snprintf(buf, len, "%s/%u", a, (unsigned)p->len);
	if (r < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)r >= len ? len - 1 : (size_t)r;
}

size_t
prefix_key(const struct prefix *p, char *buf, size_t len)
{
	if (p->len < addr_bits(&p->addr))
		return prefix_format(p, buf, len);
	return addr_format(&p->addr, buf, len);
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *a)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	struct addr			 tmp;

	if (sa == NULL)
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		tmp.family = AF_INET;
		memcpy(tmp.bytes, &sin->sin_addr, 4);
		break;
	case AF_INET6:
		/* The scope id is dropped: hosts are keyed by address. */
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		tmp.family = AF_INET6;
		memcpy(tmp.bytes, &sin6->sin6_addr, 16);
		if (is_mapped(&tmp))
			unmap(&tmp);
		break;
	default:
		return -1;
	}
	*a = tmp;
	return 0;
}

socklen_t
addr_to_sockaddr(const struct addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

void
addr_mask(struct addr *a, unsigned len)
{
	unsigned	bits, i;

	bits = addr_bits(a);
	if (len >= bits)
		return;
	i = len / 8;
	if (len % 8 != 0) {
		a->bytes[i] &= (uint8_t)(0xff << (8 - len % 8));
		i++;
	}
	memset(a->bytes + i, 0, bits / 8 - i);
}

void
prefix_mask(struct prefix *p)
{
	addr_mask(&p->addr, p->len);
}

static int
family_rank(unsigned family)
{
	switch (family) {
	case AF_INET:
		return 0;
	case AF_INET6:
		return 1;
	default:
		return 2;
	}
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	int	ra, rb;

	ra = family_rank(a->family);
	rb = family_rank(b->family);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, addr_bits(a) / 8);
}

bool
addr_eq(const struct addr *a, const struct addr *b)
{
	return addr_cmp(a, b) == 0;
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	unsigned	bits, len, n;
	uint8_t		m;

	if (p->addr.family != a->family)
		return false;
	if ((bits = addr_bits(a)) == 0)
		return false;
	len = p->len < bits ? p->len : bits;
	n = len / 8;
	if (memcmp(p->addr.bytes, a->bytes, n) != 0)
		return false;
	if (len % 8 == 0)
		return true;
	m = (uint8_t)(0xff << (8 - len % 8));
	return (p->addr.bytes[n] & m) == (a->bytes[n] & m);
}

const char *
addr_not_client(const struct addr *a)
{
	static const uint8_t zero[16];
	const uint8_t *b = a->bytes;

	if (a->family == AF_INET) {
		if (memcmp(b, zero, 4) == 0)
			return "unspecified";
		if (b[0] == 0)
			return "reserved";
		if (b[0] == 127)
			return "loopback";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "broadcast";
		if ((b[0] & 0xf0) == 0xe0)
			return "multicast";
		if ((b[0] & 0xf0) == 0xf0)
			return "reserved";
		return NULL;
	}
	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	if (b[0] == 0xff)
		return "multicast";
	if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
		return "v4-mapped";
	if (memcmp(b, zero, 12) == 0)
		return "reserved";
	return NULL;
}
