/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * libFuzzer harness for the list-line parser in src/lib/cidr.c.
 *
 * Whatever the input, parsing never crashes; every range it keeps has
 * start <= end in the right family; the buffer parser agrees with the
 * line parser; collapsing gives sorted, aligned, disjoint prefixes, and
 * a list minus itself is empty.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cidr.h"
#include "fuzz.h"

/* Big enough for many lines, small enough to stay fast. */
#define FUZZ_MAX	(64 * 1024)

static cidr_u128
first_of(const struct prefix *p)
{
	return p->addr.family == AF_INET ? cidr_addr_to4(&p->addr) :
	    cidr_addr_to6(&p->addr);
}

static void
check_prefixes(const struct prefix *p, size_t n)
{
	struct prefix	m;
	cidr_u128	a, last, prev_last = 0;
	unsigned	width, prev_family = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		CHECK(p[i].addr.family == AF_INET ||
		    p[i].addr.family == AF_INET6);
		width = addr_bits(&p[i].addr);
		CHECK(p[i].len <= width);
		m = p[i];
		prefix_mask(&m);
		CHECK(addr_eq(&m.addr, &p[i].addr));
		a = first_of(&p[i]);
		last = width - p[i].len >= 128 ? ~(cidr_u128)0 :
		    a + (((cidr_u128)1 << (width - p[i].len)) - 1);
		if (p[i].addr.family == AF_INET)
			CHECK(last <= UINT32_MAX);
		if (i > 0 && p[i].addr.family == prev_family)
			CHECK(a > prev_last);
		if (i > 0 && p[i].addr.family != prev_family)
			CHECK(prev_family == AF_INET &&
			    p[i].addr.family == AF_INET6);
		prev_family = p[i].addr.family;
		prev_last = last;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*text = (const char *)data, *p, *nl, *end, *why;
	struct cidr_list	 l;
	struct cidr_report	 r;
	struct addr		 lo, hi;
	struct prefix		*out;
	size_t			 i, n, ranges = 0, bad = 0, lines = 0;
	int			 rv;

	if (size > FUZZ_MAX)
		return 0;
	cidr_list_init(&l);
	memset(&r, 0, sizeof(r));
	CHECK(cidr_parse("fuzz", text, size, &l, &r) == 0);
	for (i = 0; i < l.n4; i++)
		CHECK(l.v4[i].lo <= l.v4[i].hi);
	for (i = 0; i < l.n6; i++)
		CHECK(l.v6[i].lo <= l.v6[i].hi);
	CHECK(r.ranges == l.n4 + l.n6);
	CHECK(r.ranges + r.bad <= r.lines);
	CHECK(r.nkept <= CIDR_REPORT_KEEP && r.nkept <= r.bad);
	for (i = 0; i < r.nkept; i++)
		CHECK(memchr(r.kept[i], '\0', CIDR_REPORT_TEXT) != NULL);

	/* Line by line, the same answer. */
	end = text + size;
	for (p = text; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		lines++;
		why = NULL;
		rv = cidr_parse_line(p, (size_t)(nl - p), &lo, &hi, &why);
		if (rv == 1) {
			CHECK(lo.family == AF_INET || lo.family == AF_INET6);
			CHECK(lo.family == hi.family);
			CHECK(addr_cmp(&lo, &hi) <= 0);
			ranges++;
		} else if (rv == -1) {
			CHECK(why != NULL && *why != '\0');
			bad++;
		} else
			CHECK(rv == 0);
	}
	CHECK(lines == r.lines && ranges == r.ranges && bad == r.bad);

	CHECK(cidr_collapse(&l, NULL, &out, &n) == 0);
	CHECK(n <= 256 * (l.n4 + l.n6));
	check_prefixes(out, n);
	free(out);
	CHECK(cidr_collapse(&l, &l, &out, &n) == 0);
	CHECK(n == 0 && out == NULL);
	cidr_list_free(&l);
	return 0;
}
