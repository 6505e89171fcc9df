/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * Unit tests for src/lib/cidr.c: list lines, collapse, and a randomized
 * comparison of collapse against a bitmap on small address spaces.
 */
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "addr.h"
#include "cidr.h"

#define V6_MAX	(~(cidr_u128)0)

/* Parse text as list "t" into a fresh list; no bad lines expected. */
static void
parse_ok(const char *text, struct cidr_list *l)
{
	struct cidr_report	r;

	memset(&r, 0, sizeof(r));
	cidr_list_init(l);
	assert_int_equal(cidr_parse("t", text, strlen(text), l, &r), 0);
	if (r.bad != 0)
		fail_msg("unexpected bad line: %s", r.kept[0]);
}

/* The collapse of black minus white, as "p p p" text (malloc'd). */
static char *
collapse_text(const char *black, const char *white)
{
	struct cidr_list	 b, w;
	struct prefix		*out = NULL;
	size_t			 n = 0, i, off = 0;
	char			*s;

	parse_ok(black, &b);
	parse_ok(white != NULL ? white : "", &w);
	assert_int_equal(cidr_collapse(&b, &w, &out, &n), 0);
	if (n == 0)
		assert_null(out);
	s = malloc(n * ADDR_STRLEN + 1);
	assert_non_null(s);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			s[off++] = ' ';
		off += prefix_format(&out[i], s + off, ADDR_STRLEN);
	}
	s[off] = '\0';
	free(out);
	cidr_list_free(&b);
	cidr_list_free(&w);
	return s;
}

static void
check_collapse(const char *black, const char *white, const char *want)
{
	char	*got = collapse_text(black, white);

	if (strcmp(got, want) != 0)
		fail_msg("black \"%s\" white \"%s\": got \"%s\" want \"%s\"",
		    black, white != NULL ? white : "", got, want);
	free(got);
}

static uint32_t
v4(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	assert_int_equal(a.family, AF_INET);
	return cidr_addr_to4(&a);
}

static cidr_u128
v6(const char *s)
{
	struct addr	a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	assert_int_equal(a.family, AF_INET6);
	return cidr_addr_to6(&a);
}

/* One line must give exactly [lo, hi]. */
static void
check_line(const char *line, const char *lo, const char *hi)
{
	struct addr	 a, b, wa, wb;
	const char	*why = NULL;
	int		 rv;

	rv = cidr_parse_line(line, strlen(line), &a, &b, &why);
	if (rv != 1)
		fail_msg("\"%s\": rv %d (%s)", line, rv, why ? why : "-");
	assert_int_equal(addr_parse(lo, &wa, NULL), 0);
	assert_int_equal(addr_parse(hi, &wb, NULL), 0);
	if (!addr_eq(&a, &wa) || !addr_eq(&b, &wb)) {
		char	x[ADDR_STRLEN], y[ADDR_STRLEN];

		addr_format(&a, x, sizeof(x));
		addr_format(&b, y, sizeof(y));
		fail_msg("\"%s\": got %s - %s want %s - %s", line, x, y, lo,
		    hi);
	}
}

static void
check_bad(const char *line, const char *reason)
{
	struct addr	 a, b;
	const char	*why = NULL;

	if (cidr_parse_line(line, strlen(line), &a, &b, &why) != -1)
		fail_msg("\"%s\" accepted", line);
	assert_non_null(why);
	if (reason != NULL && strcmp(why, reason) != 0)
		fail_msg("\"%s\": reason \"%s\" want \"%s\"", line, why,
		    reason);
}

static void
check_skip(const char *line)
{
	struct addr	 a, b;
	const char	*why = NULL;

	if (cidr_parse_line(line, strlen(line), &a, &b, &why) != 0)
		fail_msg("\"%s\" not skipped", line);
}

static void
test_line_forms(void **state)
{
	(void)state;
	check_line("10.0.0.0/8", "10.0.0.0", "10.255.255.255");
	check_line("1.2.3.4", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4 - 1.2.3.10", "1.2.3.4", "1.2.3.10");
	check_line("0.0.0.0/0", "0.0.0.0", "255.255.255.255");
	check_line("255.255.255.255", "255.255.255.255", "255.255.255.255");
	check_line("2001:db8::/32", "2001:db8::",
	    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	check_line("2001:db8::1 - 2001:db8::ff", "2001:db8::1",
	    "2001:db8::ff");
	check_line("2001:db8::1", "2001:db8::1", "2001:db8::1");
	check_line("::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_line("   \t 1.2.3.4", "1.2.3.4", "1.2.3.4");
	/* v4-mapped becomes IPv4, as everywhere else. */
	check_line("::ffff:1.2.3.4", "1.2.3.4", "1.2.3.4");
}

static void
test_masking(void **state)
{
	(void)state;
	check_line("10.1.2.3/8", "10.0.0.0", "10.255.255.255");
	check_line("192.168.1.77/30", "192.168.1.76", "192.168.1.79");
	check_line("1.2.3.4/32", "1.2.3.4", "1.2.3.4");
	check_line("255.255.255.255/1", "128.0.0.0", "255.255.255.255");
	check_line("2001:db8::1/32", "2001:db8::",
	    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	check_line("2001:db8::1:2/127", "2001:db8::1:2", "2001:db8::1:3");
}

static void
test_dash_runs(void **state)
{
	(void)state;
	check_line("1.2.3.4-1.2.3.5", "1.2.3.4", "1.2.3.5");
	check_line("1.2.3.4---1.2.3.5", "1.2.3.4", "1.2.3.5");
	check_line("1.2.3.4 - - 1.2.3.5", "1.2.3.4", "1.2.3.5");
	check_line("1.2.3.4\t-\t1.2.3.5", "1.2.3.4", "1.2.3.5");
	/* spamd's %*[ -] needs no dash at all. */
	check_line("1.2.3.4 1.2.3.5", "1.2.3.4", "1.2.3.5");
	check_line("1.2.3.4 - 1.2.3.4", "1.2.3.4", "1.2.3.4");
	check_line("0.0.0.0 - 255.255.255.255", "0.0.0.0", "255.255.255.255");
	check_line("2001:db8::1--2001:db8::2", "2001:db8::1", "2001:db8::2");
}

static void
test_bad_forms(void **state)
{
	(void)state;
	check_bad("1.2.3.5 - 1.2.3.4", "range start after end");
	check_bad("2001:db8::2 - 2001:db8::1", "range start after end");
	check_bad("1.2.3.4 - 2001:db8::1",
	    "range ends are of different families");
	check_bad("1.2.3.4 -", "missing range end");
	check_bad("1.2.3.4 - nothing", "missing range end");
	check_bad("1.2.3.4 - 1.2.3.999", NULL);
	check_bad("1.2.3.4 - 1.2.3.0/24", NULL);
	check_bad("hello", "not an address");
	check_bad("bogus", "not an address");
	check_bad("1.2.3.4x", "not an address");
	check_bad("1.2.3.0/24x", "not an address");
	check_bad("1.2.3.4 - 1.2.3.5x", "missing range end");
	check_bad("- 1.2.3.4", "not an address");
	check_bad("1.2.3.4/33", NULL);
	check_bad("1.2.3.4/", NULL);
	check_bad("1.2.3.256", NULL);
	check_bad("1.2.3", NULL);
	check_bad("2001:db8::/129", NULL);
	check_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb",
	    "address too long");
}

static void
test_comments(void **state)
{
	(void)state;
	check_skip("");
	check_skip("# comment");
	check_skip("   # indented comment");
	check_skip("#1.2.3.4");
	check_skip("   ");
	check_skip("\t");
	check_skip("\r");
	check_skip("  \r");
}

static void
test_trailing_text(void **state)
{
	(void)state;
	check_line("1.2.3.4 spammer", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4\tspammer", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4 abc", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4 abcxyz", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4 spam 1.2.3.9", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4,x", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.4\r", "1.2.3.4", "1.2.3.4");
	check_line("1.2.3.0/24 # listed 2024", "1.2.3.0", "1.2.3.255");
	check_line("1.2.3.0/24;SBL123", "1.2.3.0", "1.2.3.255");
	check_line("1.2.3.4 - 1.2.3.5 trailing", "1.2.3.4", "1.2.3.5");
	check_line("1.2.3.4 - 1.2.3.5 1.2.3.9", "1.2.3.4", "1.2.3.5");
	check_line("2001:db8::1 zz", "2001:db8::1", "2001:db8::1");
	check_line("2001:db8::/48 ; comment", "2001:db8::",
	    "2001:db8:0:ffff:ffff:ffff:ffff:ffff");
}

static void
test_parse_buffer(void **state)
{
	static const char	 text[] =
	    "# header\n"
	    "10.1.2.3/8\n"
	    "bogus\n"
	    "\n"
	    "1.2.3.4 - 1.2.3.10\r\n"
	    "5.6.7.8 - 5.6.7.1\n"
	    "2001:db8::/32\n"
	    "2001:db8::1 - 2001:db8::ff\n"
	    "2001:db8::1";		/* no final newline */
	struct cidr_list	 l;
	struct cidr_report	 r;

	(void)state;
	cidr_list_init(&l);
	memset(&r, 0, sizeof(r));
	assert_int_equal(cidr_parse("nix", text, strlen(text), &l, &r), 0);
	assert_int_equal(r.lines, 9);
	assert_int_equal(r.ranges, 5);
	assert_int_equal(r.bad, 2);
	assert_int_equal(r.nkept, 2);
	assert_string_equal(r.kept[0], "nix:3: not an address \"bogus\"");
	assert_string_equal(r.kept[1],
	    "nix:6: range start after end \"5.6.7.8 - 5.6.7.1\"");
	assert_int_equal(l.n4, 2);
	assert_int_equal(l.n6, 3);
	assert_true(l.v4[0].lo == v4("10.0.0.0") &&
	    l.v4[0].hi == v4("10.255.255.255"));
	assert_true(l.v4[1].lo == v4("1.2.3.4") &&
	    l.v4[1].hi == v4("1.2.3.10"));
	assert_true(l.v6[1].lo == v6("2001:db8::1") &&
	    l.v6[1].hi == v6("2001:db8::ff"));
	assert_true(l.v6[2].lo == v6("2001:db8::1") &&
	    l.v6[2].hi == v6("2001:db8::1"));
	/* An empty buffer and a NULL report are fine. */
	assert_int_equal(cidr_parse("nix", "", 0, &l, NULL), 0);
	assert_int_equal(l.n4, 2);
	cidr_list_free(&l);
}

static void
test_bad_lines_kept(void **state)
{
	struct cidr_list	 l;
	struct cidr_report	 r;
	char			 text[4096], want[CIDR_REPORT_TEXT];
	size_t			 off = 0;
	int			 i;

	(void)state;
	for (i = 1; i <= 30; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    i % 2 ? "10.0.0.%d\n" : "x%d \"q\"\001\n", i);
	/* A long bad line is shown cut short. */
	memset(text + off, 'z', 100);
	off += 100;
	text[off] = '\0';
	cidr_list_init(&l);
	memset(&r, 0, sizeof(r));
	assert_int_equal(cidr_parse("big", text, off, &l, &r), 0);
	assert_int_equal(r.lines, 31);
	assert_int_equal(r.ranges, 15);
	assert_int_equal(r.bad, 16);
	assert_int_equal(r.nkept, CIDR_REPORT_KEEP);
	for (i = 0; i < CIDR_REPORT_KEEP; i++) {
		snprintf(want, sizeof(want),
		    "big:%d: not an address \"x%d ?q??\"", 2 * (i + 1),
		    2 * (i + 1));
		assert_string_equal(r.kept[i], want);
	}
	/* The counters add up over calls. */
	assert_int_equal(cidr_parse("big", text, off, &l, &r), 0);
	assert_int_equal(r.bad, 32);
	assert_int_equal(l.n4, 30);
	cidr_list_free(&l);

	cidr_list_init(&l);
	memset(&r, 0, sizeof(r));
	memset(text, 'z', 100);
	assert_int_equal(cidr_parse("long", text, 100, &l, &r), 0);
	assert_int_equal(r.bad, 1);
	assert_non_null(strstr(r.kept[0], "zzz...\""));
	cidr_list_free(&l);
}

static void
test_add(void **state)
{
	struct cidr_list	l;
	struct prefix		p;
	uint32_t		i;

	(void)state;
	cidr_list_init(&l);
	errno = 0;
	assert_int_equal(cidr_add4(&l, 2, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cidr_add6(&l, 2, 1), -1);
	assert_int_equal(prefix_parse("10.9.8.7/16", &p, true, NULL), 0);
	assert_int_equal(cidr_add_prefix(&l, &p), 0);
	assert_int_equal(prefix_parse("2001:db8::/64", &p, true, NULL), 0);
	assert_int_equal(cidr_add_prefix(&l, &p), 0);
	assert_int_equal(l.n4, 1);
	assert_true(l.v4[0].lo == v4("10.9.0.0") &&
	    l.v4[0].hi == v4("10.9.255.255"));
	assert_true(l.v6[0].hi == v6("2001:db8::ffff:ffff:ffff:ffff"));
	/* Growth past the first allocation. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(cidr_add4(&l, i, i), 0);
	assert_int_equal(l.n4, 1001);
	cidr_list_clear(&l);
	assert_int_equal(l.n4, 0);
	assert_int_equal(l.n6, 0);
	cidr_list_free(&l);
}

static void
test_collapse_merge(void **state)
{
	(void)state;
	check_collapse("", NULL, "");
	check_collapse("10.0.0.0 - 10.0.0.127\n10.0.0.128 - 10.0.0.255\n",
	    NULL, "10.0.0.0/24");
	check_collapse("10.0.0.0 - 10.0.0.200\n10.0.0.100 - 10.0.0.255\n",
	    NULL, "10.0.0.0/24");
	check_collapse("10.0.0.0/8\n10.1.0.0/16\n10.0.0.0/8\n", NULL,
	    "10.0.0.0/8");
	check_collapse("10.0.0.1 - 10.0.0.6\n", NULL,
	    "10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32");
	check_collapse("10.0.0.3\n10.0.0.1\n10.0.0.2\n10.0.0.0\n", NULL,
	    "10.0.0.0/30");
	/* Unsorted input comes out sorted. */
	check_collapse("192.168.0.0/16\n10.0.0.0/8\n172.16.0.0/12\n", NULL,
	    "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16");
	/* A gap keeps two equal-sized blocks apart. */
	check_collapse("10.0.0.0/25\n10.0.1.0/25\n", NULL,
	    "10.0.0.0/25 10.0.1.0/25");
	/* Adjacent but unaligned: no /23 from 10.0.1.0/24 + 10.0.2.0/24. */
	check_collapse("10.0.1.0/24\n10.0.2.0/24\n", NULL,
	    "10.0.1.0/24 10.0.2.0/24");
	check_collapse("2001:db8::/33\n2001:db8:8000::/33\n", NULL,
	    "2001:db8::/32");
	/* IPv4 first, then IPv6. */
	check_collapse("2001:db8::1\n10.0.0.1\n", NULL,
	    "10.0.0.1/32 2001:db8::1/128");
}

static void
test_collapse_white(void **state)
{
	(void)state;
	check_collapse("10.0.0.0/24\n", "10.0.0.128/25\n", "10.0.0.0/25");
	check_collapse("10.0.0.0/24\n", "10.0.0.5\n",
	    "10.0.0.0/30 10.0.0.4/32 10.0.0.6/31 10.0.0.8/29 10.0.0.16/28 "
	    "10.0.0.32/27 10.0.0.64/26 10.0.0.128/25");
	check_collapse("10.0.0.0/24\n", "10.0.0.0/8\n", "");
	check_collapse("10.0.0.0/24\n", "10.0.0.0/24\n", "");
	check_collapse("10.0.0.0/24\n2001:db8::/127\n",
	    "10.0.0.0/24\n2001:db8::1\n", "2001:db8::/128");
	/* White outside black does nothing; white alone gives nothing. */
	check_collapse("10.0.0.0/24\n", "11.0.0.0/8\n", "10.0.0.0/24");
	check_collapse("", "11.0.0.0/8\n", "");
	/* Overlapping whites, and black listed twice. */
	check_collapse("10.0.0.0/24\n10.0.0.0/24\n",
	    "10.0.0.0 - 10.0.0.100\n10.0.0.50 - 10.0.0.127\n",
	    "10.0.0.128/25");
	/* A white family does not touch the other family. */
	check_collapse("10.0.0.0/24\n", "::/0\n", "10.0.0.0/24");
}

static void
test_collapse_edges(void **state)
{
	char	*s;

	(void)state;
	check_collapse("0.0.0.0 - 255.255.255.255\n", NULL, "0.0.0.0/0");
	check_collapse("0.0.0.0/0\n", NULL, "0.0.0.0/0");
	check_collapse("0.0.0.0/1\n128.0.0.0/1\n", NULL, "0.0.0.0/0");
	check_collapse("0.0.0.0/0\n", "128.0.0.0/1\n", "0.0.0.0/1");
	check_collapse("0.0.0.0/0\n", "0.0.0.0/1\n", "128.0.0.0/1");
	/* spamd's trailing 0 entry would have cut this list short. */
	check_collapse("0.0.0.0\n10.0.0.0/8\n", NULL,
	    "0.0.0.0/32 10.0.0.0/8");
	check_collapse("255.255.255.255\n", NULL, "255.255.255.255/32");
	check_collapse("255.255.255.0 - 255.255.255.255\n", NULL,
	    "255.255.255.0/24");
	check_collapse("255.255.255.254 - 255.255.255.255\n",
	    "255.255.255.255\n", "255.255.255.254/32");
	check_collapse("255.255.255.254 - 255.255.255.255\n",
	    "255.255.255.254\n", "255.255.255.255/32");
	check_collapse("255.255.255.255\n", "255.255.255.255\n", "");
	check_collapse("0.0.0.0/0\n", "0.0.0.1 - 255.255.255.254\n",
	    "0.0.0.0/32 255.255.255.255/32");
	check_collapse("0.0.0.1 - 255.255.255.255\n", NULL,
	    "0.0.0.1/32 0.0.0.2/31 0.0.0.4/30 0.0.0.8/29 0.0.0.16/28 "
	    "0.0.0.32/27 0.0.0.64/26 0.0.0.128/25 0.0.1.0/24 0.0.2.0/23 "
	    "0.0.4.0/22 0.0.8.0/21 0.0.16.0/20 0.0.32.0/19 0.0.64.0/18 "
	    "0.0.128.0/17 0.1.0.0/16 0.2.0.0/15 0.4.0.0/14 0.8.0.0/13 "
	    "0.16.0.0/12 0.32.0.0/11 0.64.0.0/10 0.128.0.0/9 1.0.0.0/8 "
	    "2.0.0.0/7 4.0.0.0/6 8.0.0.0/5 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 "
	    "128.0.0.0/1");

	check_collapse("::/0\n", NULL, "::/0");
	check_collapse(":: - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n", NULL,
	    "::/0");
	check_collapse("::/1\n8000::/1\n", NULL, "::/0");
	check_collapse("::/0\n", "8000::/1\n", "::/1");
	check_collapse("::\n", NULL, "::/128");
	check_collapse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n", NULL,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	check_collapse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/121 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff80/122 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffc0/123 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffe0/124 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/125 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff8/126 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/127 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
	/* The whole space less ::1 takes 128 prefixes. */
	s = collapse_text("::/0\n0.0.0.0/0\n", "::1\n");
	assert_non_null(strstr(s, "0.0.0.0/0 ::/128 ::2/127 ::4/126 "));
	assert_non_null(strstr(s, " 4000::/2 8000::/1"));
	free(s);
}

static void
test_acc(void **state)
{
	struct cidr_acc	 acc;
	struct prefix	*out;
	size_t		 n;
	char		 buf[ADDR_STRLEN];

	(void)state;
	cidr_acc_init(&acc);
	assert_int_equal(cidr_parse("black", "10.0.0.0/31\n", 12, &acc.black,
	    NULL), 0);
	assert_int_equal(cidr_parse("white", "10.0.0.1\n", 9, &acc.white,
	    NULL), 0);
	assert_int_equal(cidr_acc_collapse(&acc, &out, &n), 0);
	assert_int_equal(n, 1);
	prefix_format(&out[0], buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/32");
	free(out);
	/* NULL white is allowed. */
	assert_int_equal(cidr_collapse(&acc.black, NULL, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, 31);
	free(out);
	cidr_acc_free(&acc);
}

/*
 * Randomized: ranges inside a 1024-address space (10.0.0.0/22, the
 * bottom and top /22 of IPv4, 2001:db8::/118, the bottom and top /118
 * of IPv6), collapse, and compare with a bitmap.
 */
#define SPACE	1024

static uint64_t
rnd(uint64_t *s)
{
	uint64_t	x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void
rnd_range(uint64_t *s, unsigned *lo, unsigned *hi)
{
	unsigned	a, b, t, len;

	switch (rnd(s) % 4) {
	case 0:		/* an aligned block */
		len = (unsigned)(rnd(s) % 11);
		a = (unsigned)(rnd(s) % SPACE) & ~((1u << len) - 1);
		b = a + (1u << len) - 1;
		break;
	case 1:		/* short */
		a = (unsigned)(rnd(s) % SPACE);
		b = a + (unsigned)(rnd(s) % 8);
		if (b >= SPACE)
			b = SPACE - 1;
		break;
	default:
		a = (unsigned)(rnd(s) % SPACE);
		b = (unsigned)(rnd(s) % SPACE);
		break;
	}
	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	*lo = a;
	*hi = b;
}

static void
check_family(const struct prefix *p, size_t n, int family, cidr_u128 base,
    const uint8_t *want)
{
	uint8_t		 got[SPACE];
	cidr_u128	 a, last, prev_last = 0, bits, size, off, i;
	size_t		 k;
	bool		 first = true;
	unsigned	 width = family == AF_INET ? 32 : 128;
	struct prefix	 m;

	memset(got, 0, sizeof(got));
	for (k = 0; k < n; k++) {
		assert_int_equal(p[k].addr.family, family);
		assert_true(p[k].len <= width);
		m = p[k];
		prefix_mask(&m);
		assert_true(addr_eq(&m.addr, &p[k].addr));	/* aligned */
		a = family == AF_INET ? cidr_addr_to4(&p[k].addr) :
		    cidr_addr_to6(&p[k].addr);
		bits = width - p[k].len;
		assert_true(bits <= 10);	/* inside the small space */
		size = (cidr_u128)1 << bits;
		last = a + size - 1;
		assert_true(a >= base && last <= base + SPACE - 1);
		if (!first) {
			assert_true(a > prev_last);	/* sorted, disjoint */
			/* minimal: p[k-1] and p[k] never make one prefix */
			if (p[k - 1].len == p[k].len && prev_last + 1 == a &&
			    p[k].len > 0) {
				m = p[k - 1];
				m.len--;
				prefix_mask(&m);
				assert_false(addr_eq(&m.addr,
				    &p[k - 1].addr));
			}
		}
		off = a - base;
		for (i = 0; i < size; i++) {
			assert_int_equal(got[off + i], 0);
			got[off + i] = 1;
		}
		prev_last = last;
		first = false;
	}
	for (k = 0; k < SPACE; k++)
		if (got[k] != want[k])
			fail_msg("family %d offset %zu: got %u want %u",
			    family, k, got[k], want[k]);
}

static void
test_collapse_random(void **state)
{
	static const cidr_u128	 base6[] = {
		(cidr_u128)0x20010db800000000ULL << 64,
		0,
		~(cidr_u128)0 - (SPACE - 1),
	};
	static const uint32_t	 base4[] = {
		0x0a000000, 0, 0xfffffc00
	};
	struct cidr_list	 b, w;
	struct prefix		*out;
	uint8_t			 want4[SPACE], want6[SPACE];
	uint8_t			 black4[SPACE], white4[SPACE];
	uint8_t			 black6[SPACE], white6[SPACE];
	uint64_t		 s = 0x9e3779b97f4a7c15ULL;
	size_t			 n, n4, i;
	unsigned		 iter, j, nb, nw, lo, hi, k;
	uint32_t		 bs4;
	cidr_u128		 bs6;

	(void)state;
	for (iter = 0; iter < 4000; iter++) {
		bs4 = base4[iter % 3];
		bs6 = base6[(iter / 3) % 3];
		cidr_list_init(&b);
		cidr_list_init(&w);
		memset(black4, 0, sizeof(black4));
		memset(white4, 0, sizeof(white4));
		memset(black6, 0, sizeof(black6));
		memset(white6, 0, sizeof(white6));
		nb = (unsigned)(rnd(&s) % 7);
		nw = (unsigned)(rnd(&s) % 5);
		for (j = 0; j < nb + nw; j++) {
			rnd_range(&s, &lo, &hi);
			assert_int_equal(cidr_add4(j < nb ? &b : &w,
			    bs4 + lo, bs4 + hi), 0);
			for (k = lo; k <= hi; k++)
				(j < nb ? black4 : white4)[k] = 1;
			rnd_range(&s, &lo, &hi);
			assert_int_equal(cidr_add6(j < nb ? &b : &w,
			    bs6 + lo, bs6 + hi), 0);
			for (k = lo; k <= hi; k++)
				(j < nb ? black6 : white6)[k] = 1;
		}
		for (k = 0; k < SPACE; k++) {
			want4[k] = black4[k] && !white4[k];
			want6[k] = black6[k] && !white6[k];
		}
		assert_int_equal(cidr_collapse(&b, &w, &out, &n), 0);
		for (n4 = 0; n4 < n && out[n4].addr.family == AF_INET; n4++)
			;
		for (i = n4; i < n; i++)
			assert_int_equal(out[i].addr.family, AF_INET6);
		check_family(out, n4, AF_INET, bs4, want4);
		check_family(out + n4, n - n4, AF_INET6, bs6, want6);
		free(out);
		cidr_list_free(&b);
		cidr_list_free(&w);
	}
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not an assertion on speed: prints what a big list costs. */
static void
test_timing(void **state)
{
	struct cidr_list	 l;
	struct cidr_report	 r;
	struct prefix		*out;
	char			*text;
	size_t			 off = 0, cap, n;
	uint64_t		 s = 12345;
	uint64_t		 x;
	double			 t0, t1, t2;
	int			 i;

	(void)state;
	cap = 1000000 * 20 + 200000 * 48;
	text = malloc(cap);
	assert_non_null(text);
	for (i = 0; i < 1000000; i++) {
		x = rnd(&s);
		off += (size_t)snprintf(text + off, cap - off,
		    "%u.%u.%u.%u/%u\n", (unsigned)(x & 0xff),
		    (unsigned)(x >> 8 & 0xff), (unsigned)(x >> 16 & 0xff),
		    (unsigned)(x >> 24 & 0xff),
		    16 + (unsigned)(x >> 32) % 17);
	}
	for (i = 0; i < 200000; i++) {
		x = rnd(&s);
		off += (size_t)snprintf(text + off, cap - off,
		    "2001:db8:%x:%x::%x/%u\n", (unsigned)(x & 0xffff),
		    (unsigned)(x >> 16 & 0xffff), (unsigned)(x >> 32 & 0xff),
		    48 + (unsigned)(x >> 40) % 81);
	}
	cidr_list_init(&l);
	memset(&r, 0, sizeof(r));
	t0 = now();
	assert_int_equal(cidr_parse("big", text, off, &l, &r), 0);
	t1 = now();
	assert_int_equal(cidr_collapse(&l, NULL, &out, &n), 0);
	t2 = now();
	assert_int_equal(r.bad, 0);
	assert_int_equal(l.n4, 1000000);
	assert_int_equal(l.n6, 200000);
	print_message("timing: %zu bytes, parse %.3f s, collapse %.3f s, "
	    "%zu prefixes\n", off, t1 - t0, t2 - t1, n);
	free(out);
	cidr_list_free(&l);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_line_forms),
		cmocka_unit_test(test_masking),
		cmocka_unit_test(test_dash_runs),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_trailing_text),
		cmocka_unit_test(test_parse_buffer),
		cmocka_unit_test(test_bad_lines_kept),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_collapse_merge),
		cmocka_unit_test(test_collapse_white),
		cmocka_unit_test(test_collapse_edges),
		cmocka_unit_test(test_acc),
		cmocka_unit_test(test_collapse_random),
		cmocka_unit_test(test_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
