/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"

/*
 * nftset_check: drives src/lib/nftset against the real kernel.  Run as
 * root inside a network namespace that has nft/nfspamd.nft loaded
 * (tests/system/nftset.sh does both).
 *
 * Prints unnumbered TAP lines ("ok - ...", "not ok - ...", "# ...");
 * the script numbers them.  Exit status 1 when a check failed.
 *
 *	nftset_check all		the functional checks
 *	nftset_check timing		figures (single add, 100k add/list/replace)
 *	nftset_check notable		checks that expect no table
 *	nftset_check vanish		deletes set nospamd behind nftset's back
 *	nftset_check list SET		print "prefix timeout_ms expires_ms" lines
 *	nftset_check add SET T PFX...	add prefixes with timeout T ms
 *	nftset_check replace SET PFX...	make the set exactly these
 *	nftset_check counters NAME...	print "name packets bytes" lines, or
 *					"name missing"
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "nftset.h"

#define ERRLEN	512

struct ctx {
	struct nftset	*s;
	int		 failed;
	char		 err[ERRLEN];
};

static void	ok(struct ctx *, bool, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	diag(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
ok(struct ctx *c, bool cond, const char *fmt, ...)
{
	va_list	ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		c->failed++;
	fflush(stdout);
}

static void
diag(const char *fmt, ...)
{
	va_list	ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static struct nftset_elem
E(const char *text, uint64_t timeout)
{
	struct nftset_elem	e;
	const char		*why;

	memset(&e, 0, sizeof(e));
	if (prefix_parse(text, &e.pfx, false, &why) == -1) {
		fprintf(stderr, "bad test prefix %s: %s\n", text, why);
		exit(2);
	}
	e.timeout_ms = timeout;
	return e;
}

/* A v4 (or v6) address from a counter, inside base/len. */
static struct nftset_elem
nth(int family, uint32_t base, uint32_t i, uint64_t timeout)
{
	struct nftset_elem	e;
	uint32_t		v = base + i;

	memset(&e, 0, sizeof(e));
	e.pfx.addr.family = (uint8_t)family;
	if (family == AF_INET) {
		e.pfx.addr.bytes[0] = (uint8_t)(v >> 24);
		e.pfx.addr.bytes[1] = (uint8_t)(v >> 16);
		e.pfx.addr.bytes[2] = (uint8_t)(v >> 8);
		e.pfx.addr.bytes[3] = (uint8_t)v;
		e.pfx.len = 32;
	} else {
		/* 2001:db8::/32 plus the counter in the low bits. */
		e.pfx.addr.bytes[0] = 0x20;
		e.pfx.addr.bytes[1] = 0x01;
		e.pfx.addr.bytes[2] = 0x0d;
		e.pfx.addr.bytes[3] = 0xb8;
		e.pfx.addr.bytes[12] = (uint8_t)(v >> 24);
		e.pfx.addr.bytes[13] = (uint8_t)(v >> 16);
		e.pfx.addr.bytes[14] = (uint8_t)(v >> 8);
		e.pfx.addr.bytes[15] = (uint8_t)v;
		e.pfx.len = 128;
	}
	e.timeout_ms = timeout;
	return e;
}

static int
list(struct ctx *c, const char *set, struct nftset_elem **v, size_t *n)
{
	if (nftset_list(c->s, set, v, n, c->err, sizeof(c->err)) == -1) {
		diag("list %s: %s", set, c->err);
		*v = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* The set's prefixes as one sorted, space-separated string. */
static int
pfx_cmp(const void *a, const void *b)
{
	const struct nftset_elem	*x = a, *y = b;
	int				 r;

	if ((r = addr_cmp(&x->pfx.addr, &y->pfx.addr)) != 0)
		return r;
	return (int)x->pfx.len - (int)y->pfx.len;
}

static void
content(struct ctx *c, const char *set, char *buf, size_t len)
{
	struct nftset_elem	*v;
	char			 p[ADDR_STRLEN];
	size_t			 n, i, off = 0;

	buf[0] = '\0';
	if (list(c, set, &v, &n) == -1) {
		snprintf(buf, len, "(error)");
		return;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), pfx_cmp);
	for (i = 0; i < n && off < len; i++) {
		prefix_format(&v[i].pfx, p, sizeof(p));
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i > 0 ? " " : "", p);
	}
	free(v);
}

static void
is_content(struct ctx *c, const char *set, const char *want,
    const char *what)
{
	char	got[4096];

	content(c, set, got, sizeof(got));
	ok(c, strcmp(got, want) == 0, "%s: %s is {%s}", what, set, want);
	if (strcmp(got, want) != 0)
		diag("  got {%s}", got);
}

static const struct nftset_elem *
find(const struct nftset_elem *v, size_t n, const char *text)
{
	struct nftset_elem	want = E(text, 0);
	size_t			i;

	for (i = 0; i < n; i++)
		if (addr_eq(&v[i].pfx.addr, &want.pfx.addr) &&
		    v[i].pfx.len == want.pfx.len)
			return &v[i];
	return NULL;
}

static size_t
count(struct ctx *c, const char *set)
{
	struct nftset_elem	*v;
	size_t			 n;

	if (list(c, set, &v, &n) == -1)
		return (size_t)-1;
	free(v);
	return n;
}

#define ADD(c, set, ...) do {						\
	struct nftset_elem _v[] = { __VA_ARGS__ };			\
	int _r = nftset_add((c)->s, set, _v, sizeof(_v) / sizeof(_v[0]), \
	    (c)->err, sizeof((c)->err));				\
	ok(c, _r == 0, "add to %s", set);				\
	if (_r != 0)							\
		diag("  %s", (c)->err);					\
} while (0)

#define DEL(c, set, ...) do {						\
	struct nftset_elem _v[] = { __VA_ARGS__ };			\
	int _r = nftset_del((c)->s, set, _v, sizeof(_v) / sizeof(_v[0]), \
	    (c)->err, sizeof((c)->err));				\
	ok(c, _r == 0, "del from %s", set);				\
	if (_r != 0)							\
		diag("  %s", (c)->err);					\
} while (0)

/* Expect failure, with all the needles in the message. */
static void
expect_err(struct ctx *c, int r, const char *what, const char *n1,
    const char *n2)
{
	ok(c, r == -1 && strstr(c->err, n1) != NULL &&
	    (n2 == NULL || strstr(c->err, n2) != NULL),
	    "%s fails naming \"%s\"%s%s%s", what, n1, n2 ? " and \"" : "",
	    n2 ? n2 : "", n2 ? "\"" : "");
	diag("  error: %s", r == -1 ? c->err : "(none: it succeeded)");
}

static void
test_check(struct ctx *c)
{
	static const char *const all[] = {
		NFTSET_WHITE, NFTSET_WHITE6, NFTSET_TRAP, NFTSET_TRAP6,
		NFTSET_NOSPAMD, NFTSET_NOSPAMD6, NFTSET_BLACK, NFTSET_BLACK6,
	};
	static const char *const missing[] = { NFTSET_WHITE, "no-such-set" };
	int	r;

	r = nftset_check(c->s, all, 8, c->err, sizeof(c->err));
	ok(c, r == 0, "check: the table and its 8 sets are there");
	if (r != 0)
		diag("  %s", c->err);
	r = nftset_check(c->s, missing, 2, c->err, sizeof(c->err));
	expect_err(c, r, "check of a missing set", "set no-such-set",
	    "nft -f");
}

static void
test_address_sets(struct ctx *c)
{
	struct nftset_elem		*v;
	const struct nftset_elem	*e;
	size_t				 n;
	int				 r;

	r = nftset_replace(c->s, NFTSET_WHITE, NULL, 0, c->err,
	    sizeof(c->err));
	ok(c, r == 0 && count(c, NFTSET_WHITE) == 0,
	    "replace with nothing empties %s", NFTSET_WHITE);
	nftset_replace(c->s, NFTSET_WHITE6, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_TRAP, NULL, 0, c->err, sizeof(c->err));

	ADD(c, NFTSET_WHITE, E("192.0.2.1", 60000), E("192.0.2.2", 30000),
	    E("192.0.2.3", 0));
	ADD(c, NFTSET_TRAP, E("192.0.2.8", 1000));
	ADD(c, NFTSET_WHITE6, E("2001:db8::1", 120000),
	    E("2001:db8::ffff:1", 90000));
	list(c, NFTSET_WHITE, &v, &n);
	ok(c, n == 3, "list %s: 3 elements (got %zu)", NFTSET_WHITE, n);
	e = find(v, n, "192.0.2.1");
	ok(c, e != NULL && e->timeout_ms == 60000 && e->expires_ms <= 60000 &&
	    e->expires_ms > 55000, "192.0.2.1: timeout 60000, expires %llu",
	    e ? (unsigned long long)e->expires_ms : 0ULL);
	e = find(v, n, "192.0.2.2");
	ok(c, e != NULL && e->timeout_ms == 30000 && e->expires_ms <= 30000 &&
	    e->expires_ms > 25000, "192.0.2.2: timeout 30000, expires %llu",
	    e ? (unsigned long long)e->expires_ms : 0ULL);
	e = find(v, n, "192.0.2.3");
	ok(c, e != NULL && e->timeout_ms == 0 && e->expires_ms == 0,
	    "192.0.2.3: no timeout");
	free(v);
	list(c, NFTSET_WHITE6, &v, &n);
	e = find(v, n, "2001:db8::1");
	ok(c, n == 2 && e != NULL && e->timeout_ms == 120000 &&
	    e->expires_ms <= 120000 && e->expires_ms > 115000,
	    "list %s: 2001:db8::1 timeout 120000, expires %llu",
	    NFTSET_WHITE6, e ? (unsigned long long)e->expires_ms : 0ULL);
	free(v);

	/* Same timeout again: the clock restarts. */
	sleep_ms(1500);
	list(c, NFTSET_WHITE, &v, &n);
	e = find(v, n, "192.0.2.1");
	ok(c, e != NULL && e->expires_ms < 59000,
	    "after 1.5 s 192.0.2.1 expires in %llu ms",
	    e ? (unsigned long long)e->expires_ms : 0ULL);
	free(v);
	ok(c, count(c, NFTSET_TRAP) == 0, "after 1.5 s an element with "
	    "timeout 1000 ms is gone from %s", NFTSET_TRAP);
	ADD(c, NFTSET_WHITE, E("192.0.2.1", 60000));
	list(c, NFTSET_WHITE, &v, &n);
	e = find(v, n, "192.0.2.1");
	ok(c, e != NULL && e->expires_ms > 59000 && e->timeout_ms == 60000,
	    "re-adding with the same timeout refreshes it: expires %llu",
	    e ? (unsigned long long)e->expires_ms : 0ULL);
	free(v);
	/* A new timeout replaces the old one. */
	ADD(c, NFTSET_WHITE, E("192.0.2.2", 300000));
	list(c, NFTSET_WHITE, &v, &n);
	e = find(v, n, "192.0.2.2");
	ok(c, e != NULL && e->timeout_ms == 300000 &&
	    e->expires_ms > 295000, "re-adding with a longer timeout: "
	    "timeout %llu expires %llu",
	    e ? (unsigned long long)e->timeout_ms : 0ULL,
	    e ? (unsigned long long)e->expires_ms : 0ULL);
	free(v);
	/* Twice in one call: one element, the kernel does not mind. */
	ADD(c, NFTSET_WHITE, E("192.0.2.9", 1000), E("192.0.2.9", 50000));
	list(c, NFTSET_WHITE, &v, &n);
	e = find(v, n, "192.0.2.9");
	ok(c, n == 4 && e != NULL, "the same address twice in one add: "
	    "one element (timeout %llu)",
	    e ? (unsigned long long)e->timeout_ms : 0ULL);
	free(v);

	DEL(c, NFTSET_WHITE, E("192.0.2.2", 0), E("192.0.2.9", 0));
	is_content(c, NFTSET_WHITE, "192.0.2.1/32 192.0.2.3/32", "del");
	DEL(c, NFTSET_WHITE, E("192.0.2.99", 0));
	is_content(c, NFTSET_WHITE, "192.0.2.1/32 192.0.2.3/32",
	    "deleting a missing element is no error");
	DEL(c, NFTSET_WHITE6, E("2001:db8::ffff:1", 0));
	is_content(c, NFTSET_WHITE6, "2001:db8::1/128", "del v6");

	{
		struct nftset_elem add[] = { E("192.0.2.4", 10000),
		    E("192.0.2.5", 10000), E("192.0.2.3", 20000) };
		struct nftset_elem del[] = { E("192.0.2.1", 0),
		    E("192.0.2.3", 0), E("192.0.2.200", 0) };

		r = nftset_apply(c->s, NFTSET_WHITE, add, 3, del, 3, c->err,
		    sizeof(c->err));
		ok(c, r == 0, "apply: 3 adds, 3 deletes (one missing, one "
		    "also added)");
		if (r != 0)
			diag("  %s", c->err);
		is_content(c, NFTSET_WHITE,
		    "192.0.2.3/32 192.0.2.4/32 192.0.2.5/32", "apply");
	}
	{
		struct nftset_elem v2[] = { E("198.51.100.1", 5000),
		    E("198.51.100.2", 0) };

		r = nftset_replace(c->s, NFTSET_WHITE, v2, 2, c->err,
		    sizeof(c->err));
		ok(c, r == 0, "replace %s", NFTSET_WHITE);
		is_content(c, NFTSET_WHITE, "198.51.100.1/32 198.51.100.2/32",
		    "replace");
		/* Flush and re-add the same element in one transaction. */
		r = nftset_replace(c->s, NFTSET_WHITE, v2, 2, c->err,
		    sizeof(c->err));
		ok(c, r == 0, "replace with the same content");
		is_content(c, NFTSET_WHITE, "198.51.100.1/32 198.51.100.2/32",
		    "replace again");
	}
}

static void
test_interval_sets(struct ctx *c)
{
	struct nftset_elem	 v1[] = { E("0.0.0.0/1", 0),
	    E("255.255.255.0/24", 0), E("192.168.0.0/16", 0) };
	int			 r;

	r = nftset_replace(c->s, NFTSET_NOSPAMD, v1, 3, c->err,
	    sizeof(c->err));
	ok(c, r == 0, "replace %s with 0.0.0.0/1, 192.168.0.0/16, "
	    "255.255.255.0/24", NFTSET_NOSPAMD);
	if (r != 0)
		diag("  %s", c->err);
	is_content(c, NFTSET_NOSPAMD,
	    "0.0.0.0/1 192.168.0.0/16 255.255.255.0/24", "interval list");
	ADD(c, NFTSET_NOSPAMD, E("192.168.0.0/16", 0));
	is_content(c, NFTSET_NOSPAMD,
	    "0.0.0.0/1 192.168.0.0/16 255.255.255.0/24",
	    "re-adding a prefix changes nothing");

	r = nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err,
	    sizeof(c->err));
	ADD(c, NFTSET_BLACK, E("255.255.255.255/32", 0), E("200.0.0.0/8", 0),
	    E("128.0.0.0/32", 0), E("0.0.0.0/32", 0));
	is_content(c, NFTSET_BLACK,
	    "0.0.0.0/32 128.0.0.0/32 200.0.0.0/8 255.255.255.255/32",
	    "/32 at the bottom, the middle and the top");

	r = nftset_replace(c->s, NFTSET_NOSPAMD6, NULL, 0, c->err,
	    sizeof(c->err));
	ADD(c, NFTSET_NOSPAMD6, E("::/1", 0), E("ffff::/16", 0),
	    E("fe80::/10", 0));
	is_content(c, NFTSET_NOSPAMD6, "::/1 fe80::/10 ffff::/16",
	    "v6 interval list");
	r = nftset_replace(c->s, NFTSET_BLACK6, NULL, 0, c->err,
	    sizeof(c->err));
	ADD(c, NFTSET_BLACK6,
	    E("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 0),
	    E("2001:db8::/32", 0), E("::/128", 0));
	is_content(c, NFTSET_BLACK6,
	    "::/128 2001:db8::/32 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "v6 /128 at both ends");
	{
		struct nftset_elem all[] = { E("::/0", 0) };
		struct nftset_elem all4[] = { E("0.0.0.0/0", 0) };

		r = nftset_replace(c->s, NFTSET_BLACK6, all, 1, c->err,
		    sizeof(c->err));
		ok(c, r == 0, "replace %s with ::/0", NFTSET_BLACK6);
		is_content(c, NFTSET_BLACK6, "::/0", "::/0");
		r = nftset_replace(c->s, NFTSET_BLACK, all4, 1, c->err,
		    sizeof(c->err));
		ok(c, r == 0, "replace %s with 0.0.0.0/0", NFTSET_BLACK);
		is_content(c, NFTSET_BLACK, "0.0.0.0/0", "0.0.0.0/0");
		r = nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err,
		    sizeof(c->err));
		r |= nftset_replace(c->s, NFTSET_BLACK6, NULL, 0, c->err,
		    sizeof(c->err));
		ok(c, r == 0 && count(c, NFTSET_BLACK) == 0 &&
		    count(c, NFTSET_BLACK6) == 0, "flush both blacklists");
	}

	/* Deletes: exact prefixes only, so no interval is ever cut. */
	DEL(c, NFTSET_NOSPAMD, E("192.168.0.0/16", 0));
	is_content(c, NFTSET_NOSPAMD, "0.0.0.0/1 255.255.255.0/24",
	    "del a prefix");
	DEL(c, NFTSET_NOSPAMD, E("0.0.0.0/2", 0), E("0.0.0.0/0", 0),
	    E("255.255.255.0/25", 0), E("10.0.0.0/8", 0));
	is_content(c, NFTSET_NOSPAMD, "0.0.0.0/1 255.255.255.0/24",
	    "deleting parts, supersets or absent prefixes changes nothing");
	DEL(c, NFTSET_NOSPAMD, E("255.255.255.0/24", 0));
	is_content(c, NFTSET_NOSPAMD, "0.0.0.0/1",
	    "del a prefix that ends at the top");
	DEL(c, NFTSET_NOSPAMD6, E("ffff::/16", 0));
	is_content(c, NFTSET_NOSPAMD6, "::/1 fe80::/10", "del v6 prefix");
	/*
	 * Two adjacent prefixes: 10.0.0.0/23 has a start and an end element
	 * in the set, but of two intervals; deleting it would leave a
	 * dangling end and an open start.
	 */
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	ADD(c, NFTSET_BLACK, E("10.0.0.0/24", 0), E("10.0.1.0/24", 0),
	    E("10.0.3.0/24", 0));
	DEL(c, NFTSET_BLACK, E("10.0.0.0/23", 0));
	is_content(c, NFTSET_BLACK, "10.0.0.0/24 10.0.1.0/24 10.0.3.0/24",
	    "deleting a prefix spanning two adjacent ones changes nothing");
	DEL(c, NFTSET_BLACK, E("10.0.1.0/24", 0), E("10.0.0.0/23", 0),
	    E("10.0.3.0/24", 0));
	is_content(c, NFTSET_BLACK, "10.0.0.0/24",
	    "in a delete with others, only the exact ones go");
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	{
		struct nftset_elem add[] = { E("0.0.0.0/2", 0),
		    E("64.0.0.0/2", 0), E("255.0.0.0/8", 0) };
		struct nftset_elem del[] = { E("0.0.0.0/1", 0) };

		r = nftset_apply(c->s, NFTSET_NOSPAMD, add, 3, del, 1,
		    c->err, sizeof(c->err));
		ok(c, r == 0, "apply: split 0.0.0.0/1 in two in one "
		    "transaction");
		if (r != 0)
			diag("  %s", c->err);
		is_content(c, NFTSET_NOSPAMD,
		    "0.0.0.0/2 64.0.0.0/2 255.0.0.0/8", "apply interval");
	}

	/* Overlaps. */
	{
		struct nftset_elem v[] = { E("10.0.0.0/8", 0),
		    E("10.1.0.0/16", 0) };
		struct nftset_elem w[] = { E("255.255.0.0/16", 0) };

		r = nftset_add(c->s, NFTSET_BLACK, v, 2, c->err,
		    sizeof(c->err));
		expect_err(c, r, "overlapping prefixes in one add",
		    "10.1.0.0/16", "10.0.0.0/8");
		r = nftset_add(c->s, NFTSET_NOSPAMD, w, 1, c->err,
		    sizeof(c->err));
		expect_err(c, r, "a prefix overlapping one in the set",
		    "set nospamd: add: File exists", "255.255.0.0/16");
		is_content(c, NFTSET_NOSPAMD,
		    "0.0.0.0/2 64.0.0.0/2 255.0.0.0/8",
		    "the failed add left the set alone");
	}
}

static void
test_errors(struct ctx *c)
{
	struct nftset_elem	v6[] = { E("2001:db8::1", 1000) };
	struct nftset_elem	v4[] = { E("10.0.0.0/8", 0) };
	struct nftset_elem	a4[] = { E("192.0.2.1", 0) };
	struct nftset_elem	hb[] = { E("10.0.0.0/8", 0) };
	struct nftset_elem	*v;
	size_t			 n;
	int			 r;

	r = nftset_add(c->s, NFTSET_WHITE, v6, 1, c->err, sizeof(c->err));
	expect_err(c, r, "IPv6 into spamd-white", "set spamd-white: add:",
	    "2001:db8::1/128 is IPv6");
	r = nftset_add(c->s, NFTSET_NOSPAMD6, v4, 1, c->err, sizeof(c->err));
	expect_err(c, r, "IPv4 into nospamd6", "set nospamd6: add:",
	    "is IPv4");
	r = nftset_del(c->s, NFTSET_WHITE6, a4, 1, c->err, sizeof(c->err));
	expect_err(c, r, "IPv4 delete from spamd-white6",
	    "set spamd-white6: del:", "is IPv4");
	r = nftset_add(c->s, NFTSET_WHITE, v4, 1, c->err, sizeof(c->err));
	expect_err(c, r, "a prefix into an address set", "set spamd-white",
	    "is a prefix");
	hb[0].pfx.addr.bytes[3] = 1;
	r = nftset_add(c->s, NFTSET_NOSPAMD, hb, 1, c->err, sizeof(c->err));
	expect_err(c, r, "host bits set", "set nospamd", "host bits");
	a4[0].timeout_ms = 1000;
	r = nftset_add(c->s, NFTSET_NOSPAMD, a4, 1, c->err, sizeof(c->err));
	expect_err(c, r, "a timeout on a set without timeouts",
	    "set nospamd: add:", "no flags timeout");
	a4[0].timeout_ms = 0;
	r = nftset_add(c->s, "no-such-set", a4, 1, c->err, sizeof(c->err));
	expect_err(c, r, "add to a missing set",
	    "set no-such-set: add: No such file or directory", NULL);
	r = nftset_list(c->s, "no-such-set", &v, &n, c->err,
	    sizeof(c->err));
	expect_err(c, r, "list of a missing set",
	    "set no-such-set: list: No such file or directory", NULL);
}

/*
 * 10,000 elements in one call: several messages, one transaction.  The
 * last message carries an element the kernel refuses; nothing of the
 * earlier messages may stay.
 */
static void
test_atomic(struct ctx *c)
{
	enum { N = 10000 };
	struct nftset_elem	*v, *l, sentinel[] = { E("192.0.2.77", 0) };
	struct nftset_elem	 pre[] = { E("100.0.0.0/24", 0) };
	size_t			 i, n;
	int			 r;

	v = calloc(N + 1, sizeof(*v));
	/* A hash set: an absurd timeout (ERANGE) as the very last one. */
	nftset_replace(c->s, NFTSET_WHITE, sentinel, 1, c->err,
	    sizeof(c->err));
	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x0a000000, (uint32_t)i, 3600000);
	v[N - 1].timeout_ms = UINT64_MAX / 2;
	r = nftset_add(c->s, NFTSET_WHITE, v, N, c->err, sizeof(c->err));
	expect_err(c, r, "10,000 adds whose last has a timeout out of range",
	    "set spamd-white: add: Numerical result out of range",
	    "10.0.39.15/32");
	list(c, NFTSET_WHITE, &l, &n);
	ok(c, n == 1 && find(l, n, "192.0.2.77") != NULL,
	    "none of the 9,999 good ones was added (set holds %zu)", n);
	free(l);
	v[N - 1].timeout_ms = 3600000;
	r = nftset_add(c->s, NFTSET_WHITE, v, N, c->err, sizeof(c->err));
	ok(c, r == 0 && count(c, NFTSET_WHITE) == N + 1,
	    "the same 10,000 with a sane last timeout: all added (%zu)",
	    count(c, NFTSET_WHITE));
	if (r != 0)
		diag("  %s", c->err);

	/* v6 elements are bigger: fewer per message. */
	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET6, 0, (uint32_t)i, 3600000);
	v[N - 1].timeout_ms = UINT64_MAX / 2;
	nftset_replace(c->s, NFTSET_WHITE6, NULL, 0, c->err,
	    sizeof(c->err));
	r = nftset_add(c->s, NFTSET_WHITE6, v, N, c->err, sizeof(c->err));
	expect_err(c, r, "10,000 v6 adds, the last out of range",
	    "set spamd-white6: add:", "2001:db8::270f/128");
	ok(c, count(c, NFTSET_WHITE6) == 0, "spamd-white6 still empty");
	v[N - 1].timeout_ms = 0;
	r = nftset_add(c->s, NFTSET_WHITE6, v, N, c->err, sizeof(c->err));
	ok(c, r == 0 && count(c, NFTSET_WHITE6) == N,
	    "10,000 v6 added in one call");

	/*
	 * An interval set: 10,000 /32s and, sorted last, a /25 inside a
	 * /24 already in the set (the kernel says EEXIST).
	 */
	nftset_replace(c->s, NFTSET_BLACK, pre, 1, c->err, sizeof(c->err));
	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x14000000, (uint32_t)i * 2, 0);
	v[N] = E("100.0.0.128/25", 0);
	r = nftset_add(c->s, NFTSET_BLACK, v, N + 1, c->err, sizeof(c->err));
	expect_err(c, r, "10,001 interval adds, the last overlapping",
	    "set spamd: add: File exists", "100.0.0.128/25");
	is_content(c, NFTSET_BLACK, "100.0.0.0/24",
	    "none of the 10,000 good prefixes was added");
	r = nftset_add(c->s, NFTSET_BLACK, v, N, c->err, sizeof(c->err));
	ok(c, r == 0 && count(c, NFTSET_BLACK) == N + 1,
	    "the 10,000 alone: all added");
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_WHITE, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_WHITE6, NULL, 0, c->err, sizeof(c->err));
	free(v);
}

static void
report(const char *what, double ms, size_t n)
{
	if (n > 1)
		diag("timing: %-44s %9.1f ms (%.2f us/element)", what, ms,
		    ms * 1e3 / (double)n);
	else
		diag("timing: %-44s %9.2f ms", what, ms);
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
test_timing(struct ctx *c)
{
	enum { N = 100000, SINGLE = 200 };
	struct nftset_elem	*v, *l;
	double			 t, lat[SINGLE];
	size_t			 i, n;
	int			 r;

	v = calloc(N, sizeof(*v));
	nftset_replace(c->s, NFTSET_WHITE, NULL, 0, c->err, sizeof(c->err));

	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x0a000000, (uint32_t)i, 86400000);
	t = now_ms();
	r = nftset_add(c->s, NFTSET_WHITE, v, N, c->err, sizeof(c->err));
	t = now_ms() - t;
	ok(c, r == 0, "add 100,000 to spamd-white in one call");
	if (r != 0)
		diag("  %s", c->err);
	report("add 100,000 (hash, timeouts)", t, N);

	t = now_ms();
	r = list(c, NFTSET_WHITE, &l, &n);
	t = now_ms() - t;
	ok(c, r == 0 && n == N, "list 100,000 (got %zu)", n);
	free(l);
	report("list 100,000 (hash)", t, N);

	for (i = 0; i < SINGLE; i++) {
		struct nftset_elem one = nth(AF_INET, 0x0b000000,
		    (uint32_t)i, 86400000);

		t = now_ms();
		r = nftset_add(c->s, NFTSET_WHITE, &one, 1, c->err,
		    sizeof(c->err));
		lat[i] = now_ms() - t;
		if (r != 0)
			break;
	}
	ok(c, i == SINGLE, "%d single-element adds next to 100,000",
	    SINGLE);
	if (i > 0)
		qsort(lat, i, sizeof(lat[0]), dcmp);
	if (i == SINGLE) {
		diag("timing: single add: median %.2f ms, p90 %.2f ms, max "
		    "%.2f ms", lat[SINGLE / 2], lat[SINGLE * 9 / 10],
		    lat[SINGLE - 1]);
	}
	{
		struct nftset_elem one = nth(AF_INET, 0x0b000000, 0, 0);

		t = now_ms();
		r = nftset_del(c->s, NFTSET_WHITE, &one, 1, c->err,
		    sizeof(c->err));
		report("single del", now_ms() - t, 1);
	}

	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x0c000000, (uint32_t)i, 86400000);
	t = now_ms();
	r = nftset_replace(c->s, NFTSET_WHITE, v, N, c->err, sizeof(c->err));
	t = now_ms() - t;
	ok(c, r == 0 && count(c, NFTSET_WHITE) == N,
	    "replace 100,000 with 100,000 others");
	report("replace 100,000 by 100,000 (hash)", t, N);

	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET6, 0, (uint32_t)i, 86400000);
	nftset_replace(c->s, NFTSET_WHITE6, NULL, 0, c->err, sizeof(c->err));
	t = now_ms();
	r = nftset_add(c->s, NFTSET_WHITE6, v, N, c->err, sizeof(c->err));
	t = now_ms() - t;
	ok(c, r == 0 && count(c, NFTSET_WHITE6) == N, "add 100,000 v6");
	report("add 100,000 v6 (hash, timeouts)", t, N);

	/* Interval sets: /32s spaced by 2 so that none touch. */
	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x14000000, (uint32_t)i * 2, 0);
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	t = now_ms();
	r = nftset_add(c->s, NFTSET_BLACK, v, N, c->err, sizeof(c->err));
	t = now_ms() - t;
	ok(c, r == 0, "add 100,000 prefixes to spamd");
	if (r != 0)
		diag("  %s", c->err);
	report("add 100,000 (interval)", t, N);
	t = now_ms();
	r = list(c, NFTSET_BLACK, &l, &n);
	t = now_ms() - t;
	ok(c, r == 0 && n == N, "list 100,000 prefixes (got %zu)", n);
	free(l);
	report("list 100,000 (interval)", t, N);
	{
		struct nftset_elem one = E("30.0.0.0/24", 0);

		t = now_ms();
		r = nftset_add(c->s, NFTSET_BLACK, &one, 1, c->err,
		    sizeof(c->err));
		report("single add next to 100,000 (interval)",
		    now_ms() - t, 1);
		t = now_ms();
		r = nftset_del(c->s, NFTSET_BLACK, &one, 1, c->err,
		    sizeof(c->err));
		report("single del next to 100,000 (interval)",
		    now_ms() - t, 1);
		ok(c, r == 0 && count(c, NFTSET_BLACK) == N,
		    "single add and del next to 100,000 prefixes");
	}
	for (i = 0; i < N; i++)
		v[i] = nth(AF_INET, 0x28000000, (uint32_t)i * 4, 0);
	t = now_ms();
	r = nftset_replace(c->s, NFTSET_BLACK, v, N, c->err, sizeof(c->err));
	t = now_ms() - t;
	ok(c, r == 0 && count(c, NFTSET_BLACK) == N,
	    "replace 100,000 prefixes with 100,000 others");
	report("replace 100,000 by 100,000 (interval)", t, N);

	nftset_replace(c->s, NFTSET_WHITE, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_WHITE6, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	free(v);
}

static void
test_notable(struct ctx *c)
{
	static const char *const sets[] = { NFTSET_WHITE };
	int	r;

	r = nftset_check(c->s, sets, 1, c->err, sizeof(c->err));
	expect_err(c, r, "check without the table", "table inet nfspamd",
	    "nft -f /etc/nfspamd/nfspamd.nft");
}

/*
 * A set deleted behind our back (the ruleset reloaded without it): the
 * cached type must not hide that, and the next call asks again.
 */
static void
test_vanish(struct ctx *c)
{
	struct nftset_elem	*v, a[] = { E("192.0.2.1/32", 0) };
	size_t			 n;
	int			 r;

	r = nftset_list(c->s, NFTSET_NOSPAMD, &v, &n, c->err,
	    sizeof(c->err));
	ok(c, r == 0, "list %s (its type is cached now)", NFTSET_NOSPAMD);
	free(v);
	r = system("nft 'flush chain inet " NFTSET_TABLE " smtp-in; "
	    "delete set inet " NFTSET_TABLE " " NFTSET_NOSPAMD "'");
	ok(c, r == 0, "nft deletes the set (and the rules using it)");
	r = nftset_list(c->s, NFTSET_NOSPAMD, &v, &n, c->err,
	    sizeof(c->err));
	expect_err(c, r, "list of a set deleted since",
	    "set nospamd: list: No such file or directory", NULL);
	r = nftset_add(c->s, NFTSET_NOSPAMD, a, 1, c->err, sizeof(c->err));
	expect_err(c, r, "add to it", "set nospamd: add: No such file or "
	    "directory", "nft -f");
	r = nftset_del(c->s, NFTSET_NOSPAMD, a, 1, c->err, sizeof(c->err));
	expect_err(c, r, "del from it", "set nospamd: del: No such file or "
	    "directory", NULL);
}

static int
cmd_list(struct ctx *c, const char *set)
{
	struct nftset_elem	*v;
	char			 p[ADDR_STRLEN];
	size_t			 n, i;

	if (nftset_list(c->s, set, &v, &n, c->err, sizeof(c->err)) == -1) {
		fprintf(stderr, "%s\n", c->err);
		return 1;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), pfx_cmp);
	for (i = 0; i < n; i++) {
		prefix_format(&v[i].pfx, p, sizeof(p));
		printf("%s %llu %llu\n", p, (unsigned long long)v[i].timeout_ms,
		    (unsigned long long)v[i].expires_ms);
	}
	free(v);
	return 0;
}

/* The named counters, a line each: NAME PACKETS BYTES, or NAME missing. */
static int
cmd_counters(struct ctx *c, char **names, int n)
{
	struct nftset_counter	*v;
	int			 i;

	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		v[i].name = names[i];
	if (nftset_counters(c->s, v, (size_t)n, c->err, sizeof(c->err)) ==
	    -1) {
		fprintf(stderr, "%s\n", c->err);
		free(v);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (v[i].found)
			printf("%s %llu %llu\n", v[i].name,
			    (unsigned long long)v[i].packets,
			    (unsigned long long)v[i].bytes);
		else
			printf("%s missing\n", v[i].name);
	free(v);
	return 0;
}

static int
cmd_change(struct ctx *c, bool replace, const char *set, uint64_t timeout,
    char **argv, int argc)
{
	struct nftset_elem	*v;
	int			 i, r;

	v = calloc((size_t)argc + 1, sizeof(*v));
	for (i = 0; i < argc; i++)
		v[i] = E(argv[i], timeout);
	r = replace ? nftset_replace(c->s, set, v, (size_t)argc, c->err,
	    sizeof(c->err)) : nftset_add(c->s, set, v, (size_t)argc, c->err,
	    sizeof(c->err));
	free(v);
	if (r == -1) {
		fprintf(stderr, "%s\n", c->err);
		return 1;
	}
	return 0;
}

/* nftset_commit: two sets, one transaction, strict deletes. */
static void
test_commit(struct ctx *c)
{
	struct nftset_elem	 base4[] = { E("10.0.0.0/8", 0),
				    E("192.0.2.0/24", 0), E("198.51.100.0/24", 0) };
	struct nftset_elem	 base6[] = { E("2001:db8::/32", 0) };
	struct nftset_elem	 del4[] = { E("10.0.0.0/8", 0),
				    E("192.0.2.0/24", 0) };
	struct nftset_elem	 add4[] = { E("10.0.0.0/9", 0),
				    E("10.128.0.0/9", 0), E("192.0.2.0/24", 0),
				    E("203.0.113.0/24", 0) };
	struct nftset_elem	 add6[] = { E("2001:db9::/32", 0) };
	struct nftset_elem	 gone[] = { E("172.16.0.0/12", 0) };
	struct nftset_elem	 half[] = { E("10.0.0.0/10", 0) };
	struct nftset_elem	 top[] = { E("255.255.255.0/24", 0),
				    E("0.0.0.0/8", 0) };
	struct nftset_elem	 white[] = { E("192.0.2.10", 0) };
	struct nftset_change	 ch[2];
	int			 r;

	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_BLACK6, NULL, 0, c->err, sizeof(c->err));
	memset(ch, 0, sizeof(ch));
	ch[0] = (struct nftset_change){ NFTSET_BLACK, true, base4, 3, NULL, 0 };
	ch[1] = (struct nftset_change){ NFTSET_BLACK6, true, base6, 1, NULL,
	    0 };
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == 0, "commit: flush and load spamd and spamd6 together");
	if (r != 0)
		diag("  %s", c->err);
	is_content(c, NFTSET_BLACK, "10.0.0.0/8 192.0.2.0/24 198.51.100.0/24",
	    "commit load");
	is_content(c, NFTSET_BLACK6, "2001:db8::/32", "commit load");

	/*
	 * A difference: split 10/8 into its halves, delete and re-add
	 * 192.0.2.0/24 (the check that the set still holds what we think),
	 * one new prefix; v6 gains one.
	 */
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, add4, 4, del4,
	    2 };
	ch[1] = (struct nftset_change){ NFTSET_BLACK6, false, add6, 1, NULL,
	    0 };
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == 0, "commit: deletes and adds that touch the same range");
	if (r != 0)
		diag("  %s", c->err);
	is_content(c, NFTSET_BLACK, "10.0.0.0/9 10.128.0.0/9 192.0.2.0/24 "
	    "198.51.100.0/24 203.0.113.0/24", "commit diff");
	is_content(c, NFTSET_BLACK6, "2001:db8::/32 2001:db9::/32",
	    "commit diff");

	/* A delete of what is not there fails everything, changes nothing. */
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, top, 2, gone, 1 };
	ch[1] = (struct nftset_change){ NFTSET_BLACK6, true, NULL, 0, NULL,
	    0 };
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == -1 && errno == ENOENT, "commit: deleting an absent prefix "
	    "fails with ENOENT (r %d, %s)", r, r == 0 ? "" : c->err);
	is_content(c, NFTSET_BLACK, "10.0.0.0/9 10.128.0.0/9 192.0.2.0/24 "
	    "198.51.100.0/24 203.0.113.0/24", "failed commit");
	is_content(c, NFTSET_BLACK6, "2001:db8::/32 2001:db9::/32",
	    "failed commit (the flush of spamd6 did not happen)");

	/* Part of an interval is not the interval. */
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, NULL, 0, half,
	    1 };
	r = nftset_commit(c->s, ch, 1, c->err, sizeof(c->err));
	ok(c, r == -1 && errno == ENOENT, "commit: deleting 10.0.0.0/10 out "
	    "of 10.0.0.0/9 fails with ENOENT");

	/* The edges of the address space. */
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, top, 2, NULL, 0 };
	r = nftset_commit(c->s, ch, 1, c->err, sizeof(c->err));
	ok(c, r == 0, "commit: 0.0.0.0/8 and 255.255.255.0/24 added");
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, NULL, 0, top, 2 };
	r = nftset_commit(c->s, ch, 1, c->err, sizeof(c->err));
	ok(c, r == 0, "commit: and deleted again (%s)", r == 0 ? "" : c->err);
	is_content(c, NFTSET_BLACK, "10.0.0.0/9 10.128.0.0/9 192.0.2.0/24 "
	    "198.51.100.0/24 203.0.113.0/24", "edges gone again");

	/* An interval set and an address set in one transaction. */
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, top, 2, NULL, 0 };
	ch[1] = (struct nftset_change){ NFTSET_WHITE, false, white, 1, NULL,
	    0 };
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == 0, "commit: an interval set and an address set together");
	is_content(c, NFTSET_WHITE, "192.0.2.10/32", "mixed commit");
	ch[0] = (struct nftset_change){ NFTSET_BLACK, false, NULL, 0, NULL,
	    0 };
	ch[1] = (struct nftset_change){ NFTSET_WHITE, false, NULL, 0, white,
	    1 };
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == 0 && count(c, NFTSET_WHITE) == 0, "commit: strict delete "
	    "from an address set");
	r = nftset_commit(c->s, ch, 2, c->err, sizeof(c->err));
	ok(c, r == -1 && errno == ENOENT, "commit: strict delete of an absent "
	    "address fails with ENOENT");
	nftset_replace(c->s, NFTSET_BLACK, NULL, 0, c->err, sizeof(c->err));
	nftset_replace(c->s, NFTSET_BLACK6, NULL, 0, c->err, sizeof(c->err));
}

int
main(int argc, char **argv)
{
	struct ctx	 c;
	const char	*cmd = argc > 1 ? argv[1] : "all";
	int		 ret;

	memset(&c, 0, sizeof(c));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (nftset_open(&c.s, NULL, c.err, sizeof(c.err)) == -1) {
		printf("not ok - nftset_open: %s\n", c.err);
		return 1;
	}
	if (strcmp(cmd, "list") == 0 && argc == 3)
		ret = cmd_list(&c, argv[2]);
	else if (strcmp(cmd, "add") == 0 && argc >= 4)
		ret = cmd_change(&c, false, argv[2], strtoull(argv[3], NULL,
		    10), argv + 4, argc - 4);
	else if (strcmp(cmd, "replace") == 0 && argc >= 3)
		ret = cmd_change(&c, true, argv[2], 0, argv + 3, argc - 3);
	else if (strcmp(cmd, "counters") == 0 && argc >= 3)
		ret = cmd_counters(&c, argv + 2, argc - 2);
	else {
		if (strcmp(cmd, "all") == 0) {
			test_check(&c);
			test_address_sets(&c);
			test_interval_sets(&c);
			test_errors(&c);
			test_atomic(&c);
			test_commit(&c);
		} else if (strcmp(cmd, "timing") == 0)
			test_timing(&c);
		else if (strcmp(cmd, "notable") == 0)
			test_notable(&c);
		else if (strcmp(cmd, "vanish") == 0)
			test_vanish(&c);
		else {
			fprintf(stderr, "usage: nftset_check [all | timing | "
			    "notable | vanish | list SET | add SET TIMEOUT "
			    "PFX... | replace SET PFX... | counters "
			    "NAME...]\n");
			nftset_close(c.s);
			return 2;
		}
		ret = c.failed > 0;
	}
	nftset_close(c.s);
	return ret;
}
