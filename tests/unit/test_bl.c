/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for src/lib/bl*.c (bl.h): the control-line parser and formatter,
 * the set of lists, the lookup index (checked against a linear scan on
 * random data), the SMTP reply and the saved file.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bl.h"

static struct bl_list
parse_ok(const char *line)
{
	struct bl_list	l;
	char		err[512];

	if (bl_parse(line, strlen(line), &l, err, sizeof(err)) != 0)
		fail_msg("bl_parse(\"%s\") failed: %s", line, err);
	return l;
}

static void
check_err(const char *line, size_t len, const char *want)
{
	struct bl_list	l;
	char		err[512];

	memset(&l, 0xa5, sizeof(l));
	strcpy(err, "(none)");
	if (bl_parse(line, len, &l, err, sizeof(err)) != -1 ||
	    strcmp(err, want) != 0)
		fail_msg("bl_parse(\"%s\"): error \"%s\", want \"%s\"", line,
		    err, want);
	/* A refused line leaves the result alone. */
	assert_int_equal(((unsigned char *)&l)[0], 0xa5);
	assert_int_equal(l.npfx, (size_t)0xa5a5a5a5a5a5a5a5ULL);
	/* err may be NULL. */
	assert_int_equal(bl_parse(line, len, &l, NULL, 0), -1);
}

static void
parse_err(const char *line, const char *want)
{
	check_err(line, strlen(line), want);
}

static const char *
pfx(const struct bl_list *l, size_t i, char *buf)
{
	assert_true(i < l->npfx);
	prefix_format(&l->pfx[i], buf, ADDR_STRLEN);
	return buf;
}

static void
check_list(const struct bl_list *l, const char *tag, const char *msg,
    const char *const *want, size_t n)
{
	char	buf[ADDR_STRLEN];
	size_t	i;

	assert_string_equal(l->tag, tag);
	if (msg == NULL)
		assert_null(l->msg);
	else
		assert_string_equal(l->msg, msg);
	assert_int_equal(l->npfx, n);
	for (i = 0; i < n; i++)
		assert_string_equal(pfx(l, i, buf), want[i]);
}

static char *
format(const struct bl_list *l)
{
	struct buf	b = { NULL, 0, 0 };
	char		*s;

	assert_int_equal(bl_format(l, &b), 0);
	assert_non_null(b.data);
	assert_int_equal(strlen(b.data), b.len);
	s = strdup(b.data);
	buf_free(&b);
	return s;
}

static struct addr
addr(const char *s)
{
	struct addr	 a;
	const char	*why;

	if (addr_parse(s, &a, &why) != 0)
		fail_msg("addr_parse(\"%s\"): %s", s, why);
	return a;
}

static void
set_line(struct bl *b, const char *line)
{
	struct bl_list	l = parse_ok(line);

	assert_int_equal(bl_set(b, &l), 0);
	assert_null(l.tag);
	assert_null(l.msg);
	assert_null(l.pfx);
	assert_int_equal(l.npfx, 0);
}

/* The lists holding s, as "0,2", "" for none. */
static const char *
hits(const struct bl *b, const char *s)
{
	static char	out[64];
	struct addr	a = addr(s);
	uint32_t	ids[8];
	size_t		n, i, o = 0;

	n = bl_lookup(b, &a, ids, 8);
	assert_true(n <= 8);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u",
		    i ? "," : "", ids[i]);
	return out;
}

#define assert_hits(b, a, want)	assert_string_equal(hits((b), (a)), (want))

/*
 * Parsing.
 */

static void
test_parse_forms(void **state)
{
	static const char *const	v4[] = { "192.0.2.0/24", "10.0.0.0/8" };
	static const char *const	v6[] = { "2001:db8::/32", "::1/128" };
	static const char *const	both[] = {
		"192.0.2.0/24", "198.51.100.7/32", "2001:db8::/32"
	};
	static const char *const	one[] = { "192.0.2.1/32" };
	struct bl_list			l;

	(void)state;
	/* spamd-setup's form. */
	l = parse_ok("nixspam;\"Your address %A is in nixspam\\n\";"
	    "inet;2;192.0.2.0/24;10.0.0.0/8");
	check_list(&l, "nixspam", "Your address %A is in nixspam\\n", v4, 2);
	bl_list_free(&l);
	assert_null(l.tag);

	l = parse_ok("six;\"m\";inet6;2;2001:db8::/32;::1");
	check_list(&l, "six", "m", v6, 2);
	bl_list_free(&l);

	l = parse_ok("both;\"m\";inet;2;192.0.2.0/24;198.51.100.7;"
	    "inet6;1;2001:db8::/32");
	check_list(&l, "both", "m", both, 3);
	bl_list_free(&l);

	/* Either order; IPv4 is stored first. */
	l = parse_ok("both;\"m\";inet6;1;2001:db8::/32;"
	    "inet;2;192.0.2.0/24;198.51.100.7/32");
	check_list(&l, "both", "m", both, 3);
	bl_list_free(&l);

	/* An empty family is fine when the other has addresses. */
	l = parse_ok("z;\"m\";inet;0;inet6;2;2001:db8::/32;::1/128");
	check_list(&l, "z", "m", v6, 2);
	bl_list_free(&l);
	l = parse_ok("z;\"m\";inet6;2;2001:db8::/32;::1/128;inet;0");
	check_list(&l, "z", "m", v6, 2);
	bl_list_free(&l);

	/* Clear. */
	l = parse_ok("nixspam;");
	check_list(&l, "nixspam", NULL, NULL, 0);
	assert_null(l.pfx);
	bl_list_free(&l);
	l = parse_ok("nixspam;\r\n");
	check_list(&l, "nixspam", NULL, NULL, 0);
	bl_list_free(&l);

	/* Quotes, ';' and ':' inside the message. */
	l = parse_ok("q;\"say \\\"no\\\"; now: go\";inet;1;192.0.2.1");
	check_list(&l, "q", "say \\\"no\\\"; now: go", one, 1);
	bl_list_free(&l);
	/* An escaped backslash does not escape the quote after it. */
	l = parse_ok("q;\"a\\\\\";inet;1;192.0.2.1");
	check_list(&l, "q", "a\\\\", one, 1);
	bl_list_free(&l);
	l = parse_ok("q;\"\";inet;1;192.0.2.1");
	check_list(&l, "q", "", one, 1);
	bl_list_free(&l);

	/* A trailing ';', "\n", "\r\n". */
	l = parse_ok("t;\"m\";inet;1;192.0.2.1;");
	check_list(&l, "t", "m", one, 1);
	bl_list_free(&l);
	l = parse_ok("t;\"m\";inet;1;192.0.2.1\n");
	check_list(&l, "t", "m", one, 1);
	bl_list_free(&l);
	l = parse_ok("t;\"m\";inet;1;192.0.2.1;\r\n");
	check_list(&l, "t", "m", one, 1);
	bl_list_free(&l);

	/* Host bits are masked; v4-mapped is IPv4; leading zeros count. */
	l = parse_ok("h;\"m\";inet;2;192.0.2.77/24;::ffff:10.1.2.3/104");
	assert_string_equal(pfx(&l, 0, (char[ADDR_STRLEN]){ 0 }),
	    "192.0.2.0/24");
	assert_string_equal(pfx(&l, 1, (char[ADDR_STRLEN]){ 0 }),
	    "10.0.0.0/8");
	bl_list_free(&l);
	l = parse_ok("h;\"m\";inet;001;192.0.2.1");
	check_list(&l, "h", "m", one, 1);
	bl_list_free(&l);

	/* Only the given length is read: no NUL needed. */
	assert_int_equal(bl_parse("t;\"m\";inet;1;192.0.2.1xyz", 22, &l,
	    NULL, 0), 0);
	check_list(&l, "t", "m", one, 1);
	bl_list_free(&l);
}

static void
test_parse_errors(void **state)
{
	char	tag[BL_TAGMAX + 2], msg[BL_MSGMAX + 64], line[BL_MSGMAX + 256];

	(void)state;
	parse_err("nixspam", "no ';' after the list name");
	parse_err("", "no ';' after the list name");
	parse_err(";\"m\";inet;1;192.0.2.1", "empty list name");
	parse_err("a b;\"m\";inet;1;192.0.2.1",
	    "list name \"a b\" contains a blank or control character");
	parse_err("a\tb;", "list name \"a\\x09b\" contains a blank or control "
	    "character");

	parse_err("x;m;inet;1;192.0.2.1",
	    "list \"x\": message not in double quotes");
	parse_err("x;\"m;inet;1;192.0.2.1",
	    "list \"x\": message has no closing quote");
	parse_err("x;\"m\\\";inet;1;192.0.2.1",
	    "list \"x\": message has no closing quote");
	parse_err("x;\"m\"inet;1;192.0.2.1",
	    "list \"x\": no ';' after the message");
	parse_err("x;\"m\"", "list \"x\": no ';' after the message");
	parse_err("x;\"m\";", "list \"x\": no addresses");
	parse_err("x;\"m\";inet;0", "list \"x\": no addresses");
	parse_err("x;\"m\";inet;0;inet6;0;", "list \"x\": no addresses");
	parse_err("x;\"a\rb\";inet;1;192.0.2.1",
	    "list \"x\": message contains a control character at byte 2");
	parse_err("x;\"a\\\nb\";inet;1;192.0.2.1",
	    "list \"x\": message contains a control character at byte 3");

	/* Counts. */
	parse_err("x;\"m\";inet;2;192.0.2.1",
	    "list \"x\": inet count 2 but 1 addresses");
	parse_err("x;\"m\";inet;2;192.0.2.1;",
	    "list \"x\": inet count 2 but 1 addresses");
	parse_err("x;\"m\";inet6;3;::1;::2;inet;1;192.0.2.1",
	    "list \"x\": inet6 count 3 but 2 addresses");
	parse_err("x;\"m\";inet;1;192.0.2.1;192.0.2.2",
	    "list \"x\": inet count 1 but more addresses follow");
	parse_err("x;\"m\";inet;1;192.0.2.1;inet6;1;::1;::2",
	    "list \"x\": inet6 count 1 but more addresses follow");
	parse_err("x;\"m\";inet;one;192.0.2.1",
	    "list \"x\": inet count \"one\" is not a number");
	parse_err("x;\"m\";inet;-1;192.0.2.1",
	    "list \"x\": inet count \"-1\" is not a number");
	parse_err("x;\"m\";inet;;192.0.2.1",
	    "list \"x\": inet count \"\" is not a number");
	parse_err("x;\"m\";inet", "list \"x\": inet: no count");
	parse_err("x;\"m\";inet;", "list \"x\": inet: no count");
	parse_err("x;\"m\";inet;99999999999999999999999999;192.0.2.1",
	    "list \"x\": inet count 99999999999999999999999999 is more than "
	    "the line holds");
	parse_err("x;\"m\";inet;12;192.0.2.1",
	    "list \"x\": inet count 12 is more than the line holds");

	/* Families. */
	parse_err("x;\"m\";inet;1;192.0.2.1;inet;1;192.0.2.2",
	    "list \"x\": inet section appears twice");
	parse_err("x;\"m\";inet6;0;inet;1;192.0.2.2;inet6;1;::1",
	    "list \"x\": inet6 section appears twice");
	parse_err("x;\"m\";inet4;1;192.0.2.1",
	    "list \"x\": unknown address family \"inet4\"");
	parse_err("x;\"m\";inet;1;192.0.2.1;;",
	    "list \"x\": unknown address family \"\"");
	/* spamd.8's old form, without "inet;N". */
	parse_err("x;\"m\";192.0.2.1/32",
	    "list \"x\": address \"192.0.2.1/32\" without \"inet;count;\" "
	    "before it");

	/* Entries. */
	parse_err("nixspam;\"m\";inet;3;192.0.2.0/24;10.0.0.0/8;1.2.3.999/24",
	    "list \"nixspam\": inet entry 3 \"1.2.3.999/24\": not an IPv4 or "
	    "IPv6 address");
	parse_err("x;\"m\";inet;1;0.0.0.0/0",
	    "list \"x\": inet entry 1 \"0.0.0.0/0\": would blacklist the "
	    "entire net");
	parse_err("x;\"m\";inet6;1;::/0",
	    "list \"x\": inet6 entry 1 \"::/0\": would blacklist the entire "
	    "net");
	parse_err("x;\"m\";inet;1;2001:db8::/32",
	    "list \"x\": inet entry 1 \"2001:db8::/32\": not an IPv4 prefix");
	parse_err("x;\"m\";inet6;2;::1;192.0.2.1",
	    "list \"x\": inet6 entry 2 \"192.0.2.1\": not an IPv6 prefix");
	parse_err("x;\"m\";inet;1;192.0.2.1/33",
	    "list \"x\": inet entry 1 \"192.0.2.1/33\": prefix length out of "
	    "range");
	parse_err("x;\"m\";inet;1;mx.example.org",
	    "list \"x\": inet entry 1 \"mx.example.org\": host names are not "
	    "allowed");
	parse_err("x;\"m\";inet;2;192.0.2.1;;",
	    "list \"x\": inet entry 2 \"\": empty address");
	parse_err("x;\"m\";inet;1;1111:2222:3333:4444:5555:6666:7777:8888:"
	    "1111:2222:3333/128",
	    "list \"x\": inet entry 1 \"1111:2222:3333:4444:5555:6666:7777:"
	    "8888:1111:2222:3333/128\": address too long");
	check_err("x;\"m\";inet;1;192.0.2.1\0/8", 25,
	    "list \"x\": inet entry 1 \"192.0.2.1\\x00/8\": contains a NUL "
	    "byte");
	check_err("x\0;\"m\";inet;1;192.0.2.1", 23,
	    "list name \"x\\x00\" contains a blank or control character");

	/* Lengths. */
	memset(tag, 'a', BL_TAGMAX);
	tag[BL_TAGMAX] = '\0';
	snprintf(line, sizeof(line), "%s;\"m\";inet;1;192.0.2.1", tag);
	{
		struct bl_list l = parse_ok(line);
		assert_int_equal(strlen(l.tag), BL_TAGMAX);
		bl_list_free(&l);
	}
	strcat(tag, "a");
	snprintf(line, sizeof(line), "%s;\"m\";inet;1;192.0.2.1", tag);
	parse_err(line, "list name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaa...\" longer than 128 bytes");

	memset(msg, 'm', BL_MSGMAX);
	msg[BL_MSGMAX] = '\0';
	snprintf(line, sizeof(line), "x;\"%s\";inet;1;192.0.2.1", msg);
	{
		struct bl_list l = parse_ok(line);
		assert_int_equal(strlen(l.msg), BL_MSGMAX);
		bl_list_free(&l);
	}
	strcat(msg, "m");
	snprintf(line, sizeof(line), "x;\"%s\";inet;1;192.0.2.1", msg);
	parse_err(line, "list \"x\": message longer than 4096 bytes");

	/* Hostile text is escaped and cut in the error. */
	parse_err("x;\"m\";inet;1;\"\x1b[31m\"",
	    "list \"x\": inet entry 1 \"\\\"\\x1b[31m\\\"\": address contains "
	    "a control or non-ASCII character");
	parse_err("\xc3\xa9t\xc3\xa9;\"m\";inet;1;10.0.0.0/33",
	    "list \"\\xc3\\xa9t\\xc3\\xa9\": inet entry 1 \"10.0.0.0/33\": "
	    "prefix length out of range");
}

/* Lists longer than the parser's first allocation. */
static void
test_parse_long(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct bl_list	 l;
	char		*s, err[512];
	size_t		 i;

	(void)state;
	assert_int_equal(buf_printf(&b, "big;\"m\";inet6;3000"), 0);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf_printf(&b, ";2001:db8:%zx::/48", i), 0);
	assert_int_equal(buf_printf(&b, ";inet;5000"), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_printf(&b, ";10.%zu.%zu.0/24", i / 256,
		    i % 256), 0);
	l = parse_ok(b.data);
	assert_int_equal(l.npfx, 8000);
	assert_string_equal(pfx(&l, 0, (char[ADDR_STRLEN]){ 0 }),
	    "10.0.0.0/24");
	assert_string_equal(pfx(&l, 4999, (char[ADDR_STRLEN]){ 0 }),
	    "10.19.135.0/24");
	assert_string_equal(pfx(&l, 5000, (char[ADDR_STRLEN]){ 0 }),
	    "2001:db8::/48");
	assert_string_equal(pfx(&l, 7999, (char[ADDR_STRLEN]){ 0 }),
	    "2001:db8:bb7::/48");
	s = format(&l);
	bl_list_free(&l);
	l = parse_ok(s);
	assert_int_equal(l.npfx, 8000);
	bl_list_free(&l);
	free(s);

	/* A count that lies is caught however far it reaches. */
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "big;\"m\";inet;3000"), 0);
	for (i = 0; i < 2000; i++)
		assert_int_equal(buf_printf(&b, ";10.%zu.%zu.1", i / 256,
		    i % 256), 0);
	assert_int_equal(bl_parse(b.data, b.len, &l, err, sizeof(err)), -1);
	assert_string_equal(err, "list \"big\": inet count 3000 but 2000 "
	    "addresses");
	buf_free(&b);
}

static void
roundtrip(const char *line, const char *want)
{
	struct bl_list	 l, m;
	char		*s, *t;
	size_t		 i;

	l = parse_ok(line);
	s = format(&l);
	assert_string_equal(s, want);
	m = parse_ok(s);
	assert_string_equal(m.tag, l.tag);
	if (l.msg == NULL)
		assert_null(m.msg);
	else
		assert_string_equal(m.msg, l.msg);
	assert_int_equal(m.npfx, l.npfx);
	for (i = 0; i < l.npfx; i++)
		assert_memory_equal(&m.pfx[i], &l.pfx[i], sizeof(l.pfx[i]));
	t = format(&m);
	assert_string_equal(t, s);
	free(s);
	free(t);
	bl_list_free(&l);
	bl_list_free(&m);
}

static void
test_format(void **state)
{
	struct bl_list	l = { NULL, NULL, NULL, 0 };
	struct buf	b = { NULL, 0, 0 };

	(void)state;
	roundtrip("nixspam;\"Your address %A is in nixspam\\n\";"
	    "inet;2;192.0.2.0/24;198.51.100.7",
	    "nixspam;\"Your address %A is in nixspam\\n\";"
	    "inet;2;192.0.2.0/24;198.51.100.7/32");
	roundtrip("b;\"m\";inet6;1;2001:DB8:0::/32;inet;1;192.0.2.9/24;",
	    "b;\"m\";inet;1;192.0.2.0/24;inet6;1;2001:db8::/32");
	roundtrip("b;\"m\";inet;0;inet6;1;::1",
	    "b;\"m\";inet6;1;::1/128");
	roundtrip("q;\"\\\"a\\\\\\\\\\\";: x\";inet;1;10.0.0.0/8",
	    "q;\"\\\"a\\\\\\\\\\\";: x\";inet;1;10.0.0.0/8");
	roundtrip("c;", "c;");
	roundtrip("c;\r\n", "c;");

	/* Appends; refuses a list it could not parse back. */
	assert_int_equal(buf_puts(&b, "x"), 0);
	assert_int_equal(bl_format(&l, &b), -1);
	l.tag = "t";
	l.npfx = 1;
	l.pfx = &(struct prefix){ .addr = { .family = AF_UNIX }, .len = 8 };
	assert_int_equal(bl_format(&l, &b), -1);
	assert_string_equal(b.data, "x");
	buf_free(&b);
}

/*
 * The set.
 */

/*
 * Parse line, spoil it one way (1: unknown family, 2: /0, 3: host bits;
 * or a message), and see bl_set and bl_format refuse it.
 */
static void
refuse_set(struct bl *b, const char *line, int how, const char *msg)
{
	struct bl_list	l = parse_ok(line);
	struct buf	out = { NULL, 0, 0 };

	switch (how) {
	case 1:
		l.pfx[0].addr.family = AF_UNIX;
		break;
	case 2:
		l.pfx[0].len = 0;
		memset(l.pfx[0].addr.bytes, 0, sizeof(l.pfx[0].addr.bytes));
		break;
	case 3:
		l.pfx[0].addr.bytes[3] = 1;
		break;
	}
	if (msg != NULL) {
		free(l.msg);
		l.msg = strdup(msg);
	}
	assert_int_equal(bl_set(b, &l), -1);
	assert_non_null(l.tag);
	assert_int_equal(bl_format(&l, &out), -1);
	assert_int_equal(out.len, 0);
	bl_list_free(&l);
}

static void
test_set_replace(void **state)
{
	struct bl	*b;
	struct bl_list	 l;

	(void)state;
	assert_non_null(b = bl_new());
	assert_int_equal(bl_count(b), 0);
	assert_null(bl_get(b, 0));
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "192.0.2.1", "");
	assert_hits(b, "2001:db8::1", "");

	set_line(b, "a;\"A\";inet;1;10.0.0.0/8");
	set_line(b, "b;\"B\";inet;2;192.0.2.0/24;198.51.100.0/24");
	set_line(b, "c;\"C\";inet6;1;2001:db8::/32");
	assert_int_equal(bl_count(b), 3);
	assert_int_equal(bl_prefixes(b), 4);
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "192.0.2.1", "1");

	/* Replaced in place. */
	set_line(b, "b;\"B2\";inet;1;203.0.113.0/24");
	assert_int_equal(bl_count(b), 3);
	assert_int_equal(bl_prefixes(b), 3);
	assert_string_equal(bl_get(b, 0)->tag, "a");
	assert_string_equal(bl_get(b, 1)->tag, "b");
	assert_string_equal(bl_get(b, 1)->msg, "B2");
	assert_string_equal(bl_get(b, 2)->tag, "c");
	/* Before the build, lookup scans the lists as they are now. */
	assert_hits(b, "192.0.2.1", "");
	assert_hits(b, "203.0.113.5", "1");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "192.0.2.1", "");
	assert_hits(b, "203.0.113.5", "1");
	assert_hits(b, "10.9.9.9", "0");
	assert_hits(b, "2001:db8::1", "2");

	/*
	 * Refused, anything bl_parse would not have made (so a saved file
	 * always loads): the caller keeps its list.
	 */
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 1, NULL);
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 2, NULL);
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 3, NULL);
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 0, "a\"b");
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 0, "ends in \\");
	refuse_set(b, "d;\"D\";inet;1;10.0.0.0/8", 0, "line\nbreak");
	l = parse_ok("d;\"D\";inet;1;10.0.0.0/8");
	free(l.tag);
	l.tag = strdup("d;e");
	assert_int_equal(bl_set(b, &l), -1);
	free(l.tag);
	l.tag = NULL;
	assert_int_equal(bl_set(b, &l), -1);
	bl_list_free(&l);
	assert_int_equal(bl_count(b), 3);
	assert_int_equal(bl_prefixes(b), 3);

	bl_free(b);
	bl_free(NULL);
}

static void
test_set_clear(void **state)
{
	struct bl	*b;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "a;\"A\";inet;1;10.0.0.0/8");
	set_line(b, "b;\"B\";inet;1;10.1.0.0/16;inet6;1;2001:db8::/32");
	set_line(b, "c;\"C\";inet;1;10.1.2.0/24");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "0,1,2");

	/* The slot stays, empty, and never matches. */
	set_line(b, "b;");
	assert_int_equal(bl_count(b), 3);
	assert_int_equal(bl_prefixes(b), 2);
	assert_string_equal(bl_get(b, 1)->tag, "b");
	assert_int_equal(bl_get(b, 1)->npfx, 0);
	assert_null(bl_get(b, 1)->msg);
	assert_hits(b, "10.1.2.3", "0,2");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "0,2");
	assert_hits(b, "2001:db8::1", "");

	/* Filled again, it is back in its place. */
	set_line(b, "b;\"B\";inet;1;10.1.0.0/16");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "0,1,2");

	/* Clearing an unknown list adds nothing. */
	set_line(b, "nosuch;");
	assert_int_equal(bl_count(b), 3);
	assert_null(bl_get(b, 3));
	bl_free(b);
}

static void
test_set_retain(void **state)
{
	static const char *const	keep[] = { "c", NULL, "a", "zz" };
	struct bl			*b;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "a;\"A\";inet;1;10.0.0.0/8");
	set_line(b, "b;\"B\";inet;1;10.1.0.0/16");
	set_line(b, "c;\"C\";inet;1;10.1.2.0/24");
	assert_int_equal(bl_build(b), 0);
	bl_retain(b, keep, 4);
	assert_int_equal(bl_count(b), 2);
	assert_int_equal(bl_prefixes(b), 2);
	assert_string_equal(bl_get(b, 0)->tag, "a");
	assert_string_equal(bl_get(b, 1)->tag, "c");
	/* The old index named b as 1: never used after the change. */
	assert_hits(b, "10.1.2.3", "0,1");
	assert_hits(b, "10.1.3.3", "0");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "0,1");
	assert_hits(b, "10.1.3.3", "0");

	bl_retain(b, NULL, 0);
	assert_int_equal(bl_count(b), 0);
	assert_int_equal(bl_prefixes(b), 0);
	assert_hits(b, "10.1.2.3", "");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "");
	bl_free(b);
}

/*
 * Lookup.
 */

static void
test_lookup_nested(void **state)
{
	struct bl	*b;
	struct addr	 a;
	uint32_t	 ids[2] = { 7, 7 };

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "a;\"A\";inet;3;10.0.0.0/8;192.0.2.0/24;10.1.2.0/24;"
	    "inet6;1;2001:db8::/32");
	set_line(b, "b;\"B\";inet;3;10.1.0.0/16;192.0.3.0/24;10.1.2.3;"
	    "inet6;1;2001:db8:1::/48");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "10.1.2.3", "0,1");
	assert_hits(b, "10.1.2.4", "0,1");
	assert_hits(b, "10.1.3.0", "0,1");
	assert_hits(b, "10.2.0.0", "0");
	assert_hits(b, "10.255.255.255", "0");
	assert_hits(b, "11.0.0.0", "");
	assert_hits(b, "9.255.255.255", "");
	assert_hits(b, "192.0.2.255", "0");
	assert_hits(b, "192.0.3.0", "1");
	assert_hits(b, "192.0.1.255", "");
	assert_hits(b, "192.0.4.0", "");
	assert_hits(b, "2001:db8:1::5", "0,1");
	assert_hits(b, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", "0,1");
	assert_hits(b, "2001:db8:2::", "0");
	assert_hits(b, "2001:db9::", "");
	assert_hits(b, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "");

	/* Fewer ids than matches: the count is still whole. */
	a = addr("10.1.2.3");
	assert_int_equal(bl_lookup(b, &a, ids, 1), 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 7);
	assert_int_equal(bl_lookup(b, &a, NULL, 0), 2);
	a.family = AF_UNIX;
	assert_int_equal(bl_lookup(b, &a, ids, 2), 0);
	bl_free(b);
}

static void
test_lookup_adjacent(void **state)
{
	struct bl	*b;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "a;\"A\";inet;4;192.0.2.0/25;10.0.0.0/24;10.0.1.0/24;"
	    "10.0.0.0/24");
	set_line(b, "b;\"B\";inet;1;192.0.2.128/25;"
	    "inet6;2;2001:db8::/33;2001:db8:8000::/33");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "192.0.1.255", "");
	assert_hits(b, "192.0.2.0", "0");
	assert_hits(b, "192.0.2.127", "0");
	assert_hits(b, "192.0.2.128", "1");
	assert_hits(b, "192.0.2.255", "1");
	assert_hits(b, "192.0.3.0", "");
	assert_hits(b, "10.0.0.0", "0");
	assert_hits(b, "10.0.0.255", "0");
	assert_hits(b, "10.0.1.0", "0");
	assert_hits(b, "10.0.1.255", "0");
	assert_hits(b, "10.0.2.0", "");
	assert_hits(b, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "1");
	assert_hits(b, "2001:db8:8000::", "1");
	assert_hits(b, "2001:db9::", "");
	bl_free(b);
}

static void
test_lookup_edges(void **state)
{
	struct bl	*b;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "lo;\"L\";inet;1;0.0.0.0/1;inet6;1;::/1");
	set_line(b, "hi;\"H\";inet;2;255.255.255.255/32;255.0.0.0/8;"
	    "inet6;2;ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128;ff00::/8");
	set_line(b, "all;\"A\";inet;2;128.0.0.0/1;0.0.0.0/1;"
	    "inet6;2;8000::/1;::/1");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "0.0.0.0", "0,2");
	assert_hits(b, "127.255.255.255", "0,2");
	assert_hits(b, "128.0.0.0", "2");
	assert_hits(b, "254.255.255.255", "2");
	assert_hits(b, "255.0.0.0", "1,2");
	assert_hits(b, "255.255.255.254", "1,2");
	assert_hits(b, "255.255.255.255", "1,2");
	assert_hits(b, "::", "0,2");
	assert_hits(b, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0,2");
	assert_hits(b, "8000::", "2");
	assert_hits(b, "ff00::", "1,2");
	assert_hits(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "1,2");
	assert_hits(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1,2");

	/* Only the single top address. */
	set_line(b, "all;");
	set_line(b, "hi;\"H\";inet;1;255.255.255.255;"
	    "inet6;1;ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(bl_build(b), 0);
	assert_hits(b, "255.255.255.254", "");
	assert_hits(b, "255.255.255.255", "1");
	assert_hits(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "");
	assert_hits(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1");
	assert_hits(b, "128.0.0.0", "");
	bl_free(b);
}

static void
test_lookup_families(void **state)
{
	struct bl	*b;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "v4;\"4\";inet;2;0.0.0.0/1;10.0.0.0/8");
	set_line(b, "v6;\"6\";inet6;1;::/8");
	assert_int_equal(bl_build(b), 0);
	/* Same bytes, other family: never a match. */
	assert_hits(b, "10.1.2.3", "0");
	assert_hits(b, "::a01:203", "1");
	assert_hits(b, "::", "1");
	assert_hits(b, "100::", "");
	/* addr_parse maps, so a v4-mapped client is IPv4. */
	assert_hits(b, "::ffff:10.1.2.3", "0");
	assert_hits(b, "::ffff:200.1.2.3", "");
	bl_free(b);
}

/*
 * Random lists against a linear scan.  Prefixes come from a few base
 * addresses so that they nest and touch; probes sit on prefix edges and
 * just outside them as well as anywhere.
 */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
rnd_bytes(uint64_t *s, uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(s);
}

/* bases[0..2] are IPv4, bases[3..5] IPv6. */
static void
random_prefix(uint64_t *s, int af, const struct addr *bases,
    struct prefix *p)
{
	unsigned	bits = af == AF_INET ? 32 : 128, n = bits / 8, i;

	memset(p, 0, sizeof(*p));
	p->addr = bases[(af == AF_INET6 ? 3 : 0) + rnd(s) % 3];
	/* Keep a random number of the base's leading bytes. */
	for (i = (unsigned)(rnd(s) % (n + 1)); i < n; i++)
		p->addr.bytes[i] = (uint8_t)rnd(s);
	p->len = (uint8_t)(1 + rnd(s) % bits);
	if (rnd(s) % 4 == 0)
		p->len = (uint8_t)(bits - rnd(s) % 4);
	prefix_mask(p);
}

/* Add d (+1 or -1) to an address, wrapping. */
static void
step(struct addr *a, int d)
{
	int	i = (int)addr_bits(a) / 8 - 1;

	for (; i >= 0; i--) {
		a->bytes[i] = (uint8_t)(a->bytes[i] + d);
		if (a->bytes[i] != (d > 0 ? 0 : 0xff))
			break;
	}
}

static void
probe(uint64_t *s, int af, const struct bl_list *ls, size_t nl,
    struct addr *a)
{
	const struct bl_list	*l;
	const struct prefix	*p = NULL;
	unsigned		 bits = af == AF_INET ? 32 : 128, i, tries;

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)af;
	rnd_bytes(s, a->bytes, bits / 8);
	if (rnd(s) % 4 == 0)
		return;
	for (tries = 0; tries < 1000 && p == NULL; tries++) {
		l = &ls[rnd(s) % nl];
		if (l->npfx > 0 && l->pfx[rnd(s) % l->npfx].addr.family == af)
			p = &l->pfx[rnd(s) % l->npfx];
	}
	if (p == NULL || p->addr.family != af)
		return;
	*a = p->addr;
	switch (rnd(s) % 4) {
	case 0:
		break;
	case 1:
		step(a, -1);
		break;
	case 2:
	case 3:
		for (i = p->len; i < bits; i++)
			a->bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		if (rnd(s) % 2)
			step(a, 1);
		break;
	}
}

/*
 * The model: the lists as the test set them, and the slot each has in the
 * set (a list first set empty takes none; a cleared one keeps its own).
 */
struct model {
	struct bl_list	ls[8];
	int		slot[8];
	size_t		nl;
	struct addr	bases[6];
	uint64_t	s;
};

static size_t
linear(const struct model *md, const struct addr *a, uint32_t *ids)
{
	size_t	i, k, n = 0;

	for (i = 0; i < md->nl; i++)
		for (k = 0; k < md->ls[i].npfx; k++)
			if (prefix_contains(&md->ls[i].pfx[k], a)) {
				ids[n++] = (uint32_t)md->slot[i];
				break;
			}
	return n;
}

/* Fill list i with n random prefixes, in the model and in the set. */
static void
model_set(struct model *md, struct bl *b, size_t i, size_t n)
{
	struct bl_list	*l = &md->ls[i], copy;
	char		 tag[32];
	size_t		 k;
	int		 af;

	bl_list_free(l);
	snprintf(tag, sizeof(tag), "r%zu", i);
	l->tag = strdup(tag);
	l->msg = strdup("m");
	l->npfx = n;
	l->pfx = n ? calloc(n, sizeof(struct prefix)) : NULL;
	for (k = 0; k < n; k++) {
		af = rnd(&md->s) % 3 ? AF_INET : AF_INET6;
		random_prefix(&md->s, af, md->bases, &l->pfx[k]);
	}
	copy = *l;
	copy.tag = strdup(l->tag);
	copy.msg = strdup(l->msg);
	if (n > 0) {
		copy.pfx = calloc(n, sizeof(struct prefix));
		memcpy(copy.pfx, l->pfx, n * sizeof(struct prefix));
	}
	assert_int_equal(bl_set(b, &copy), 0);
	if (md->slot[i] == -1 && n > 0)
		md->slot[i] = (int)bl_count(b) - 1;
}

static void
model_check(struct model *md, const struct bl *b, uint64_t seed,
    size_t nprobe, size_t *nhit)
{
	struct addr	a;
	uint32_t	got[8], want[8];
	size_t		i, n, m;
	char		abuf[ADDR_STRLEN];

	for (i = 0; i < nprobe; i++) {
		probe(&md->s, i % 2 ? AF_INET6 : AF_INET, md->ls, md->nl, &a);
		n = bl_lookup(b, &a, got, 8);
		m = linear(md, &a, want);
		if (n != m || memcmp(got, want, n * sizeof(got[0])) != 0) {
			addr_format(&a, abuf, sizeof(abuf));
			fail_msg("seed %llu: %s: %zu lists (first %u), want "
			    "%zu (first %u)", (unsigned long long)seed, abuf,
			    n, n ? got[0] : 99, m, m ? want[0] : 99);
		}
		nhit[m > 2 ? 2 : m]++;
	}
}

/*
 * Random lists (list 1 set empty), checked; then list 0 cleared and
 * list 2 refilled, checked before and after the rebuild.
 */
static void
random_check(uint64_t seed, size_t nlists, size_t maxpfx, size_t nprobe,
    size_t *nhit)
{
	struct model	 md;
	struct bl	*b;
	size_t		 i;

	assert_true(nlists >= 3 && nlists <= 8);
	memset(&md, 0, sizeof(md));
	md.s = seed;
	md.nl = nlists;
	for (i = 0; i < 6; i++) {
		md.bases[i].family = i < 3 ? AF_INET : AF_INET6;
		rnd_bytes(&md.s, md.bases[i].bytes, i < 3 ? 4 : 16);
	}
	for (i = 0; i < nlists; i++)
		md.slot[i] = -1;
	assert_non_null(b = bl_new());
	for (i = 0; i < nlists; i++)
		model_set(&md, b, i,
		    i == 1 ? 0 : 1 + (size_t)(rnd(&md.s) % maxpfx));
	assert_int_equal(bl_build(b), 0);
	model_check(&md, b, seed, nprobe, nhit);

	model_set(&md, b, 0, 0);
	model_set(&md, b, 2, 1 + (size_t)(rnd(&md.s) % maxpfx));
	model_check(&md, b, seed, nprobe / 10, nhit);
	assert_int_equal(bl_build(b), 0);
	model_check(&md, b, seed, nprobe, nhit);

	for (i = 0; i < nlists; i++)
		bl_list_free(&md.ls[i]);
	bl_free(b);
}

static void
test_lookup_random(void **state)
{
	uint64_t	seed;
	size_t		nhit[3] = { 0, 0, 0 };

	(void)state;
	for (seed = 1; seed <= 40; seed++)
		random_check(seed * 0x9e3779b97f4a7c15ULL, 3 + seed % 6, 60,
		    1000, nhit);
	random_check(12345, 5, 5000, 20000, nhit);
	random_check(777, 8, 20000, 20000, nhit);
	/* The probes must exercise misses, hits and overlaps alike. */
	print_message("probes: %zu miss, %zu in one list, %zu in more\n",
	    nhit[0], nhit[1], nhit[2]);
	assert_true(nhit[0] > 1000 && nhit[1] > 1000 && nhit[2] > 1000);
}

/*
 * Replies.
 */

static void
reply_is(const char *msg, const char *a, int code, bool last,
    const char *want)
{
	struct buf	b = { NULL, 0, 0 };
	struct addr	x = addr(a);

	assert_int_equal(buf_puts(&b, "<"), 0);
	assert_int_equal(bl_reply_msg(msg, &x, code, last, &b), 0);
	assert_string_equal(b.data + 1, want);
	assert_int_equal(b.len, 1 + strlen(want));
	buf_free(&b);
}

static void
test_reply_msg(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct addr	x = addr("192.0.2.1");

	(void)state;
	reply_is("Your address %A is listed", "192.0.2.1", 450, true,
	    "450 Your address 192.0.2.1 is listed\r\n");
	reply_is("Your address %A is listed\\n", "192.0.2.1", 450, true,
	    "450 Your address 192.0.2.1 is listed\r\n");
	reply_is("Your address %A is listed", "2001:db8::1", 550, true,
	    "550 Your address 2001:db8::1 is listed\r\n");
	reply_is("Your address %A is listed", "::ffff:192.0.2.1", 450, true,
	    "450 Your address 192.0.2.1 is listed\r\n");
	reply_is("one\\ntwo\\nthree", "192.0.2.1", 450, true,
	    "450-one\r\n450-two\r\n450 three\r\n");
	reply_is("one\\ntwo\\n", "192.0.2.1", 550, false,
	    "550-one\r\n550-two\r\n");
	reply_is("a\\n\\nb\\n\\n", "192.0.2.1", 450, true,
	    "450-a\r\n450-\r\n450-b\r\n450 \r\n");
	reply_is(BL_GREYTRAP_MSG, "192.0.2.1", 450, true,
	    "450 Your address 192.0.2.1 has mailed to spamtraps here\r\n");

	/* Every escape, and what is not one. */
	reply_is("q\\\"x\\\" b\\\\s %%A=%A 100%% \\t %d % \\", "192.0.2.1",
	    450, true,
	    "450 q\"x\" b\\s %A=192.0.2.1 100% \\t %d % \\\r\n");
	reply_is("%%%A%%%%A\\\\n", "192.0.2.1", 450, true,
	    "450 %192.0.2.1%%A\\n\r\n");
	reply_is("%", "192.0.2.1", 450, true, "450 %\r\n");

	/* Empty: one line, no text. */
	reply_is("", "192.0.2.1", 450, true, "450 \r\n");
	reply_is("\\n", "192.0.2.1", 450, true, "450 \r\n");
	reply_is("", "192.0.2.1", 450, false, "450-\r\n");
	/* A raw line break splits too; a raw CR never reaches the wire. */
	reply_is("a\nb\r", "192.0.2.1", 450, true, "450-a\r\n450 b\r\n");

	assert_int_equal(buf_puts(&b, "keep"), 0);
	assert_int_equal(bl_reply_msg("m", &x, 45, true, &b), -1);
	assert_int_equal(bl_reply_msg("m", &x, 1000, true, &b), -1);
	assert_int_equal(bl_reply_msg(NULL, &x, 450, true, &b), -1);
	assert_string_equal(b.data, "keep");
	buf_free(&b);
}

static void
test_reply(void **state)
{
	struct bl	*b;
	struct buf	 out = { NULL, 0, 0 };
	struct addr	 a = addr("10.1.2.3");
	uint32_t	 ids[4];
	size_t		 n;

	(void)state;
	assert_non_null(b = bl_new());
	set_line(b, "one;\"Your address %A is in list one\";inet;1;10.0.0.0/8");
	set_line(b, "two;\"In list two\\nsee http://example.org/?q=%A\\n\";"
	    "inet;1;10.1.0.0/16");
	set_line(b, "three;\"3\";inet;1;10.1.0.0/16");
	assert_int_equal(bl_build(b), 0);

	n = bl_lookup(b, &a, ids, 4);
	assert_int_equal(n, 3);
	assert_int_equal(bl_reply(b, ids, 2, &a, 450, &out), 0);
	assert_string_equal(out.data,
	    "450-Your address 10.1.2.3 is in list one\r\n"
	    "450-In list two\r\n"
	    "450 see http://example.org/?q=10.1.2.3\r\n");
	buf_reset(&out);
	assert_int_equal(bl_reply(b, ids, n, &a, 550, &out), 0);
	assert_string_equal(out.data,
	    "550-Your address 10.1.2.3 is in list one\r\n"
	    "550-In list two\r\n"
	    "550-see http://example.org/?q=10.1.2.3\r\n"
	    "550 3\r\n");
	buf_reset(&out);
	assert_int_equal(bl_reply(b, ids, 1, &a, 450, &out), 0);
	assert_string_equal(out.data,
	    "450 Your address 10.1.2.3 is in list one\r\n");

	/* A message after the lists': theirs is no longer the last line. */
	bl_reply_more(&out);
	assert_int_equal(bl_reply_msg("And more", &a, 450, true, &out), 0);
	assert_string_equal(out.data,
	    "450-Your address 10.1.2.3 is in list one\r\n"
	    "450 And more\r\n");
	buf_reset(&out);
	assert_int_equal(bl_reply(b, ids, 2, &a, 450, &out), 0);
	bl_reply_more(&out);
	bl_reply_more(&out);
	assert_int_equal(bl_reply_msg("Last", &a, 450, true, &out), 0);
	assert_string_equal(out.data,
	    "450-Your address 10.1.2.3 is in list one\r\n"
	    "450-In list two\r\n"
	    "450-see http://example.org/?q=10.1.2.3\r\n"
	    "450 Last\r\n");
	/* Nothing to continue: nothing changes. */
	buf_reset(&out);
	bl_reply_more(&out);
	assert_int_equal((int)out.len, 0);

	/* Nothing to say, or a list that is not there: no reply. */
	buf_reset(&out);
	assert_int_equal(buf_puts(&out, "keep"), 0);
	assert_int_equal(bl_reply(b, ids, 0, &a, 450, &out), -1);
	ids[1] = 3;
	assert_int_equal(bl_reply(b, ids, 2, &a, 450, &out), -1);
	assert_string_equal(out.data, "keep");
	buf_free(&out);
	bl_free(b);
}

/*
 * Saving and loading.
 */

static int
setup_dir(void **state)
{
	char	tmpl[] = "/tmp/test_bl.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	*state = strdup(tmpl);
	return *state != NULL ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	char	*dir = *state, path[256];
	int	 rc;

	snprintf(path, sizeof(path), "%s/blacklists", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/blacklists.tmp", dir);
	unlink(path);
	rc = rmdir(dir);
	free(dir);
	return rc;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *path)
{
	static char	buf[4096];
	FILE		*fp;
	size_t		 n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_save_load(void **state)
{
	const char	*dir = *state;
	struct bl	*b, *c;
	char		 path[256], tmp[300], err[512];
	struct stat	 st;
	size_t		 i;

	snprintf(path, sizeof(path), "%s/blacklists", dir);
	assert_non_null(b = bl_new());
	set_line(b, "a;\"A %A\\n\";inet;1;10.0.0.0/8");
	set_line(b, "gone;\"G\";inet;1;10.0.0.0/8");
	set_line(b, "b;\"B \\\"q\\\"; x:y\";inet6;1;2001:db8::/32;"
	    "inet;1;192.0.2.1");
	set_line(b, "gone;");
	assert_int_equal(bl_save(b, path, err, sizeof(err)), 0);
	assert_string_equal(read_file(path),
	    "a;\"A %A\\n\";inet;1;10.0.0.0/8\n"
	    "b;\"B \\\"q\\\"; x:y\";inet;1;192.0.2.1/32;"
	    "inet6;1;2001:db8::/32\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(stat(tmp, &st), -1);

	assert_non_null(c = bl_new());
	assert_int_equal(bl_load(c, path, err, sizeof(err)), 0);
	assert_int_equal(bl_count(c), 2);
	assert_int_equal(bl_prefixes(c), 3);
	for (i = 0; i < 2; i++) {
		char *x = format(bl_get(c, i));
		char *y = format(bl_get(b, i == 0 ? 0 : 2));

		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	/* Loaded and built. */
	assert_hits(c, "10.9.9.9", "0");
	assert_hits(c, "2001:db8::1", "1");
	assert_hits(c, "192.0.2.1", "1");

	/* Saving again replaces the file. */
	set_line(b, "b;");
	assert_int_equal(bl_save(b, path, err, sizeof(err)), 0);
	assert_string_equal(read_file(path),
	    "a;\"A %A\\n\";inet;1;10.0.0.0/8\n");
	bl_free(b);

	/* An empty set saves an empty file, which loads as no lists. */
	assert_non_null(b = bl_new());
	assert_int_equal(bl_save(b, path, err, sizeof(err)), 0);
	assert_string_equal(read_file(path), "");
	assert_int_equal(bl_load(b, path, err, sizeof(err)), 0);
	assert_int_equal(bl_count(b), 0);

	/* Blank lines and CRLF are fine. */
	write_file(path, "\nx;\"X\";inet;1;10.0.0.0/8\r\n\n");
	assert_int_equal(bl_load(b, path, err, sizeof(err)), 0);
	assert_int_equal(bl_count(b), 1);
	assert_hits(b, "10.0.0.1", "0");
	bl_free(b);
	bl_free(c);
}

static void
test_load_bad(void **state)
{
	const char	*dir = *state;
	struct bl	*b;
	char		 path[256], want[512], err[512];

	snprintf(path, sizeof(path), "%s/blacklists", dir);
	assert_non_null(b = bl_new());
	set_line(b, "old;\"O\";inet;1;10.0.0.0/8");
	assert_int_equal(bl_build(b), 0);

	/* Missing: nothing loaded, not an error. */
	assert_int_equal(bl_load(b, path, err, sizeof(err)), 0);
	assert_int_equal(bl_count(b), 1);

	/* One bad line: nothing loaded, the old set kept. */
	write_file(path, "a;\"A\";inet;1;192.0.2.0/24\n"
	    "nixspam;\"N\";inet;2;192.0.2.0/24;1.2.3.999/24\n"
	    "c;\"C\";inet;1;198.51.100.0/24\n");
	assert_int_equal(bl_load(b, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: list \"nixspam\": inet entry 2 "
	    "\"1.2.3.999/24\": not an IPv4 or IPv6 address", path);
	assert_string_equal(err, want);
	assert_int_equal(bl_count(b), 1);
	assert_string_equal(bl_get(b, 0)->tag, "old");
	assert_hits(b, "10.0.0.1", "0");
	assert_hits(b, "192.0.2.1", "");

	/* A good file replaces the set. */
	write_file(path, "a;\"A\";inet;1;192.0.2.0/24\n");
	assert_int_equal(bl_load(b, path, err, sizeof(err)), 0);
	assert_int_equal(bl_count(b), 1);
	assert_hits(b, "10.0.0.1", "");
	assert_hits(b, "192.0.2.1", "0");

	/* A directory cannot be read as a file. */
	assert_int_equal(bl_load(b, dir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: read: %s", dir, strerror(EISDIR));
	assert_string_equal(err, want);

	/* Nowhere to write: the error names the temp file. */
	snprintf(path, sizeof(path), "%s/nosuch/blacklists", dir);
	assert_int_equal(bl_save(b, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s.tmp: open: %s", path,
	    strerror(ENOENT));
	assert_string_equal(err, want);
	bl_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_set_replace),
		cmocka_unit_test(test_set_clear),
		cmocka_unit_test(test_set_retain),
		cmocka_unit_test(test_lookup_nested),
		cmocka_unit_test(test_lookup_adjacent),
		cmocka_unit_test(test_lookup_edges),
		cmocka_unit_test(test_lookup_families),
		cmocka_unit_test(test_lookup_random),
		cmocka_unit_test(test_reply_msg),
		cmocka_unit_test(test_reply),
		cmocka_unit_test_setup_teardown(test_save_load, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_load_bad, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
