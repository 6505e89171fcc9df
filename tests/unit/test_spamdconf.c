/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for src/lib/spamdconf.c: OpenBSD's example spamd.conf,
 * continuation lines, comments, quoted colons, every getcap escape,
 * "cap@", repeated names in "all", CRLF line ends, the warnings for
 * capabilities getcap would skip, sdc_load, and every error with its
 * exact message.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spamdconf.h"

/* OpenBSD's shipped /etc/mail/spamd.conf, written from its format. */
static const char openbsd_conf[] =
    "# spamd.conf: the lists spamd-setup(8) loads.\n"
    "#\n"
    "# \"all\" names the lists to use, in order.\n"
    "\n"
    "all:\\\n"
    "\t:nixspam:\n"
    "\n"
    "# Addresses seen sending spam in the last 12 hours (ix.de)\n"
    "nixspam:\\\n"
    "\t:black:\\\n"
    "\t:msg=\"Your address %A is in the nixspam list\\n\\\n"
    "\tSee http://www.heise.de/ix/nixspam/dnsbl_en/ for details\\n\":\\\n"
    "\t:method=http:\\\n"
    "\t:file=www.openbsd.org/spamd/nixspam.gz\n"
    "\n"
    "#override:\\\n"
    "#\t:white:\\\n"
    "#\t:method=file:\\\n"
    "#\t:file=/etc/mail/override.txt:\n";

static struct sdc
parse_ok(const char *text)
{
	struct sdc	c;
	char		err[512];

	if (sdc_parse("spamd.conf", text, strlen(text), &c, err,
	    sizeof(err)) != 0)
		fail_msg("sdc_parse failed: %s\n%s", err, text);
	return c;
}

/* The warnings of c, one a line, for comparing in one go. */
static char *
warnings(const struct sdc *c)
{
	static char	out[8192];
	size_t		i, n = 0;

	out[0] = '\0';
	for (i = 0; i < c->nwarn; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\n",
		    c->warn[i]);
	assert_true(n < sizeof(out));
	return out;
}

/* text with every LF turned into CRLF (malloc'd). */
static char *
crlf(const char *text)
{
	char	*out = malloc(2 * strlen(text) + 1), *o = out;

	assert_non_null(out);
	for (; *text != '\0'; text++) {
		if (*text == '\n')
			*o++ = '\r';
		*o++ = *text;
	}
	*o = '\0';
	return out;
}

static void
lists_equal(const struct sdc *a, const struct sdc *b)
{
	size_t	i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->lists[i].name, b->lists[i].name);
		assert_int_equal(a->lists[i].black, b->lists[i].black);
		assert_int_equal(a->lists[i].method, b->lists[i].method);
		assert_string_equal(a->lists[i].file, b->lists[i].file);
		assert_true((a->lists[i].msg == NULL) ==
		    (b->lists[i].msg == NULL));
		if (a->lists[i].msg != NULL)
			assert_string_equal(a->lists[i].msg, b->lists[i].msg);
		assert_true((a->lists[i].msgfile == NULL) ==
		    (b->lists[i].msgfile == NULL));
		if (a->lists[i].msgfile != NULL)
			assert_string_equal(a->lists[i].msgfile,
			    b->lists[i].msgfile);
	}
}

static void
parse_err(const char *text, size_t len, const char *want)
{
	struct sdc	c;
	char		err[512];

	memset(&c, 0xa5, sizeof(c));
	strcpy(err, "(none)");
	if (sdc_parse("spamd.conf", text, len, &c, err, sizeof(err)) != -1 ||
	    strcmp(err, want) != 0)
		fail_msg("error \"%s\", want \"%s\"\n%s", err, want, text);
	/* A refused file leaves the result alone. */
	assert_int_equal(c.n, (size_t)0xa5a5a5a5a5a5a5a5ULL);
	/* err may be NULL. */
	assert_int_equal(sdc_parse("spamd.conf", text, len, &c, NULL, 0), -1);
}

static void
err_is(const char *text, const char *want)
{
	parse_err(text, strlen(text), want);
}

static void
test_openbsd_example(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(openbsd_conf);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.lists[0].name, "nixspam");
	assert_true(c.lists[0].black);
	assert_string_equal(c.lists[0].msg,
	    "Your address %A is in the nixspam list\n"
	    "See http://www.heise.de/ix/nixspam/dnsbl_en/ for details\n");
	assert_null(c.lists[0].msgfile);
	assert_int_equal(c.lists[0].method, SDC_HTTP);
	assert_string_equal(sdc_method_name(c.lists[0].method), "http");
	assert_string_equal(c.lists[0].file,
	    "www.openbsd.org/spamd/nixspam.gz");
	/* Nothing in it is unknown. */
	assert_int_equal(c.nwarn, 0);
	assert_null(c.warn);
	sdc_free(&c);
	assert_null(c.lists);
	assert_int_equal(c.n, 0);
}

static void
test_repeats_and_kinds(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(
	    "all:\\\n"
	    "  :nixspam:override:myblack:override:\n"
	    "nixspam:black:msg=\"nix\":method=https:file=a.example/n.gz\n"
	    "override|ovr:white:method=exec:file=/bin/cat /etc/ovr\n"
	    "myblack:black:msg=/etc/mail/myblack.msg:method=ftp:\\\n"
	    "    file=ftp.example/b\n");
	assert_int_equal(c.n, 4);
	assert_string_equal(c.lists[0].name, "nixspam");
	assert_int_equal(c.lists[0].method, SDC_HTTPS);
	assert_string_equal(c.lists[1].name, "override");
	assert_false(c.lists[1].black);
	assert_null(c.lists[1].msg);
	assert_null(c.lists[1].msgfile);
	assert_int_equal(c.lists[1].method, SDC_EXEC);
	assert_string_equal(c.lists[1].file, "/bin/cat /etc/ovr");
	assert_string_equal(c.lists[2].name, "myblack");
	assert_null(c.lists[2].msg);
	assert_string_equal(c.lists[2].msgfile, "/etc/mail/myblack.msg");
	assert_int_equal(c.lists[2].method, SDC_FTP);
	assert_string_equal(c.lists[2].file, "ftp.example/b");
	assert_string_equal(c.lists[3].name, "override");
	assert_string_equal(c.lists[3].file, "/bin/cat /etc/ovr");
	sdc_free(&c);

	/* An alias, method=file, default method, and the first record wins. */
	c = parse_ok(
	    "all:ovr:w:\n"
	    "override|ovr:white:method=file:file=/x\n"
	    "w:white:file=/w\n"
	    "w:black:msg=\"m\":file=/other\n");
	assert_int_equal(c.n, 2);
	assert_string_equal(c.lists[0].name, "ovr");
	assert_int_equal(c.lists[0].method, SDC_FILE);
	assert_string_equal(c.lists[1].file, "/w");
	assert_false(c.lists[1].black);
	assert_int_equal(c.lists[1].method, SDC_FILE);
	sdc_free(&c);

	/* An empty "all" is allowed: nothing to load. */
	c = parse_ok("all:\n");
	assert_int_equal(c.n, 0);
	sdc_free(&c);
	c = parse_ok("all::: \t::\n");
	assert_int_equal(c.n, 0);
	sdc_free(&c);
}

static void
test_continuation_comments(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(
	    "# comment\n"
	    "   \t\n"
	    "\n"
	    "all:\\\n"
	    "\t\t:a:\\\n"
	    "   \\\n"
	    "\t:b:\n"
	    "#a:black:msg=\"wrong\":file=/wrong\n"
	    "a:black:msg=\"one \\\n"
	    "     two\":file=/a\n"
	    "b:white:\\\n"
	    "# not a comment inside a record\\\n"
	    ":file=/b");		/* no newline at the end */
	assert_int_equal(c.n, 2);
	assert_string_equal(c.lists[0].msg, "one two");
	assert_string_equal(c.lists[0].file, "/a");
	assert_string_equal(c.lists[1].file, "/b");
	sdc_free(&c);

	/* A backslash on the last line. */
	c = parse_ok("all:a\na:white:file=/a:\\\n");
	assert_int_equal(c.n, 1);
	sdc_free(&c);
	c = parse_ok("all:a\na:white:file=/a:\\");
	assert_int_equal(c.n, 1);
	sdc_free(&c);
}

static void
test_quoted_colons(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(
	    "all:a:b:\n"
	    "a:black:msg=\"a: b:: c\":file=/a\n"
	    "b:black:msg=\"say \\\"x:y\\\" now: ok\":file=http://h:80/p\n");
	assert_string_equal(c.lists[0].msg, "a: b:: c");
	assert_string_equal(c.lists[1].msg, "say \"x:y\" now: ok");
	/* Outside quotes a colon ends the value. */
	assert_string_equal(c.lists[1].file, "http");
	sdc_free(&c);

	/* A quote in an earlier field carries on, as fix_quoted_colons does. */
	c = parse_ok(
	    "all:a\n"
	    "a:white:x=\"q:file=/not:\":file=/yes\n");
	assert_string_equal(c.lists[0].file, "/yes");
	sdc_free(&c);
}

static void
test_escapes(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(
	    "all:a:b\n"
	    "a:black:msg=\"n\\n r\\r t\\t b\\b f\\f E\\E e\\e bs\\\\ "
	    "ca\\^ C\\C c\\c col\\: ^A^a^[ o\\101\\0101\\7x\\377 "
	    "N\\N T\\T R\\R B\\B F\\F q\\\"\":file=/a\n"
	    "b:white:file=/with\\:colon\\072and\\Ctwo\n");
	assert_string_equal(c.lists[0].msg,
	    "n\n r\r t\t b\b f\f E\033 e\033 bs\\ ca^ C: c: col: "
	    "\001\001\033 oA\0101\007x\377 N\n T\t R\r B\b F\f q\"");
	assert_string_equal(c.lists[1].file, "/with:colon:and:two");
	sdc_free(&c);

	/* Escapes apply to method= too, and to an unquoted msg. */
	c = parse_ok("all:a\na:black:msg=/m\\tx:method=\\150ttp:file=f\n");
	assert_string_equal(c.lists[0].msgfile, "/m\tx");
	assert_int_equal(c.lists[0].method, SDC_HTTP);
	sdc_free(&c);
}

static void
test_absent(void **state)
{
	struct sdc	c;

	(void)state;
	/* cap@ before cap: absent; after: the earlier one counts. */
	c = parse_ok(
	    "all:a:b:c\n"
	    "a:black@:white:file=/a\n"
	    "b:method@:method=exec:white:file=/b\n"
	    "c:white:file=/c:file@\n");
	assert_false(c.lists[0].black);
	assert_int_equal(c.lists[1].method, SDC_FILE);
	assert_string_equal(c.lists[2].file, "/c");
	sdc_free(&c);

	/* A boolean lookup passes over "black=x"; a string over "file". */
	c = parse_ok("all:a\na:black=x:white:file:file=/a\n");
	assert_false(c.lists[0].black);
	assert_string_equal(c.lists[0].file, "/a");
	sdc_free(&c);

	err_is("all:a\na:white:file@:file=/a\n",
	    "spamd.conf:2: entry \"a\": no :file=");
	err_is("all:a\na:black:msg@:msg=\"x\":file=/a\n",
	    "spamd.conf:2: entry \"a\": black list has no :msg=");
}

static void
test_errors(void **state)
{
	char	big[200];

	(void)state;
	err_is("", "spamd.conf: no entry \"all\"");
	err_is("# only a comment\nxall:a\n", "spamd.conf: no entry \"all\"");
	err_is("all:a:\\\n  foo\na:white:file=/a\n",
	    "spamd.conf:2: entry \"all\": list \"foo\" has no entry");
	err_is("all:a\n\na:method=file:\\\n file=/a\n",
	    "spamd.conf:3: entry \"a\": must have :black: or :white:");
	err_is("all:a\na:black:white:msg=\"m\":file=/a\n",
	    "spamd.conf:2: entry \"a\": has both :black: and :white:");
	err_is("all:a\na:black:file=/a\n",
	    "spamd.conf:2: entry \"a\": black list has no :msg=");
	err_is("all:a\na:black:\\\n:msg=\"open:file=/a\n",
	    "spamd.conf:3: entry \"a\": :msg= has an unclosed quote");
	err_is("all:a\na:black:msg=\":file=/a\n",
	    "spamd.conf:2: entry \"a\": :msg= has an unclosed quote");
	err_is("all:a\na:black:msg=:file=/a\n",
	    "spamd.conf:2: entry \"a\": empty :msg=");
	err_is("all:uatraps\nuatraps:black:msg=\"m\":\\\n\t:method=gopher:\n",
	    "spamd.conf:3: entry \"uatraps\": unknown :method=gopher: "
	    "(file, exec, http, https, ftp or spf)");
	err_is("all:uatraps\nuatraps:black:msg=\"m\":method=http\n",
	    "spamd.conf:2: entry \"uatraps\": no :file=");
	err_is("all:a\na:white:file=\n",
	    "spamd.conf:2: entry \"a\": empty :file=");
	/* A trailing backslash continues the record, so a value never
	 * ends in one; a lone ^ can. */
	err_is("all:a\na:white:file=/a^\n",
	    "spamd.conf:2: entry \"a\": :file=: value ends in a lone ^");
	err_is("all:a\na:white:file=/a\\000\n",
	    "spamd.conf:2: entry \"a\": :file=: escape makes a NUL byte");
	err_is("all:a\na:white:file=/a^@\n",
	    "spamd.conf:2: entry \"a\": :file=: escape makes a NUL byte");
	err_is("all:a\na:black:msg=\"\\0\":file=/a\n",
	    "spamd.conf:2: entry \"a\": :msg=: escape makes a NUL byte");
	parse_err("all:a\n\na\0:white:file=/a\n", 20,
	    "spamd.conf:3: NUL byte");
	parse_err("all:a\\\n\0", 8, "spamd.conf:2: NUL byte");

	/* Long names are cut in messages. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "all:", 4);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	err_is(big, "spamd.conf:1: entry \"all\": list \"xxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" has no entry");
}

static void
test_limits(void **state)
{
	char	*t;
	size_t	 i, n;

	(void)state;
	/* A record over 1 MiB, built from continuation lines. */
	n = SDC_RECMAX / 1000 + 2;
	t = malloc(n * 1003 + 64);
	assert_non_null(t);
	strcpy(t, "all:a\na:white:");
	for (i = 0, t += strlen(t); i < n; i++) {
		memset(t, 'y', 1000);
		memcpy(t + 1000, "\\\n", 2);
		t += 1002;
	}
	strcpy(t, "\n");
	t -= n * 1002 + strlen("all:a\na:white:");
	err_is(t, "spamd.conf:2: record longer than 1048576 bytes");
	free(t);

	/* A value over 64 KiB. */
	t = malloc(SDC_VALMAX + 64);
	assert_non_null(t);
	strcpy(t, "all:a\na:white:file=");
	memset(t + strlen(t), 'z', SDC_VALMAX + 1);
	t[19 + SDC_VALMAX + 1] = '\0';
	strcat(t, "\n");
	err_is(t, "spamd.conf:2: entry \"a\": :file=: value longer than "
	    "65536 bytes");
	/* Exactly 64 KiB is fine. */
	strcpy(t, "all:a\na:white:file=");
	memset(t + 19, 'z', SDC_VALMAX);
	t[19 + SDC_VALMAX] = '\0';
	{
		struct sdc	c = parse_ok(t);

		assert_int_equal(strlen(c.lists[0].file), SDC_VALMAX);
		sdc_free(&c);
	}
	free(t);

	/* 10,000 lists are fine, 10,001 are not. */
	t = malloc(4 * (SDC_LISTMAX + 1) + 64);
	assert_non_null(t);
	strcpy(t, "all:");
	n = strlen(t);
	for (i = 0; i < SDC_LISTMAX; i++) {
		memcpy(t + n, "a:", 2);
		n += 2;
	}
	strcpy(t + n, "\na:white:file=/a\n");
	{
		struct sdc	c = parse_ok(t);

		assert_int_equal(c.n, SDC_LISTMAX);
		sdc_free(&c);
	}
	strcpy(t + n, "b\na:white:file=/a\n");
	err_is(t, "spamd.conf:1: entry \"all\": more than 10000 lists");
	free(t);

	/* Repeats of a big entry may not take more than 16 MiB together. */
	t = malloc(4 * SDC_LISTMAX + 3000);
	assert_non_null(t);
	strcpy(t, "all:");
	n = strlen(t);
	for (i = 0; i < SDC_LISTMAX; i++) {
		memcpy(t + n, "a:", 2);
		n += 2;
	}
	strcpy(t + n, "\na:white:file=");
	n += strlen(t + n);
	memset(t + n, 'f', 2000);
	strcpy(t + n + 2000, "\n");
	err_is(t, "spamd.conf:1: entry \"all\": lists take more than "
	    "16777216 bytes");
	free(t);
}

static void
test_crlf(void **state)
{
	static const char more[] =
	    "all:\\\n"
	    "\t:a:b:\n"
	    "\n"
	    "   \t\n"
	    "a:black:msg=\"one \\\n"
	    "\ttwo\\n\":file=/a\n"
	    "# comment\n"
	    "b:white:\\\n"
	    ":method=exec:file=/bin/cat /b";	/* no line end at all */
	struct sdc	lf, cr;
	char		*t;

	(void)state;
	/* A file saved with CRLF reads exactly like the LF one. */
	lf = parse_ok(openbsd_conf);
	t = crlf(openbsd_conf);
	cr = parse_ok(t);
	lists_equal(&lf, &cr);
	assert_int_equal(cr.nwarn, 0);
	sdc_free(&lf);
	sdc_free(&cr);
	free(t);

	lf = parse_ok(more);
	t = crlf(more);
	cr = parse_ok(t);
	lists_equal(&lf, &cr);
	assert_string_equal(cr.lists[0].msg, "one two\n");
	assert_string_equal(cr.lists[1].file, "/bin/cat /b");
	sdc_free(&lf);
	sdc_free(&cr);
	free(t);

	/* The last line may end in a lone CR; a CR inside a line stays. */
	cr = parse_ok("all:a\r\na:white:file=/a\rb:\r");
	assert_string_equal(cr.lists[0].file, "/a\rb");
	sdc_free(&cr);

	/* Errors name the same lines as in the LF file. */
	t = crlf("all:a\n\na:black:\\\n\t:file=/a\n");
	err_is(t, "spamd.conf:3: entry \"a\": black list has no :msg=");
	free(t);
	t = crlf("all:a\na:black:msg=\"m\":\\\n\t:method=gopher:\n");
	err_is(t, "spamd.conf:3: entry \"a\": unknown :method=gopher: "
	    "(file, exec, http, https, ftp or spf)");
	free(t);
}

static void
test_unknown_caps(void **state)
{
	struct sdc	c;

	(void)state;
	/* Skipped as getcap skips them, each with a warning. */
	c = parse_ok(
	    "all:a:b:a\n"
	    "a:\\\n"
	    "\t:black:\\\n"
	    "\t:msg=\"m\":\\\n"
	    "\t:metod=http:\\\n"
	    "\t:comment=kept by hand:\\\n"
	    "\t:file=/a:\n"
	    "b|bee:white:file=/b:black=yes:Method=ftp:tc=a:flie#2:msg:x@\n");
	assert_int_equal(c.n, 3);
	assert_true(c.lists[0].black);
	/* The misspelt method does not count: the default applies. */
	assert_int_equal(c.lists[0].method, SDC_FILE);
	assert_false(c.lists[1].black);
	assert_int_equal(c.lists[1].method, SDC_FILE);
	/* Once per record, though "all" names a twice. */
	assert_string_equal(warnings(&c),
	    "spamd.conf:5: entry \"a\": unknown capability :metod=: ignored "
	    "(a misspelling of :method=?)\n"
	    "spamd.conf:6: entry \"a\": unknown capability :comment=: "
	    "ignored\n"
	    "spamd.conf:8: entry \"b\": :black= is not :black:, which takes "
	    "no value: ignored\n"
	    "spamd.conf:8: entry \"b\": unknown capability :Method=: "
	    "ignored (a misspelling of :method=?)\n"
	    "spamd.conf:8: entry \"b\": :tc= is not followed (write the "
	    "capabilities it would bring into this entry): ignored\n"
	    "spamd.conf:8: entry \"b\": unknown capability :flie#: ignored "
	    "(a misspelling of :file=?)\n"
	    "spamd.conf:8: entry \"b\": :msg: is not :msg=, which needs a "
	    "value: ignored\n"
	    "spamd.conf:8: entry \"b\": unknown capability :x@: ignored\n");
	sdc_free(&c);
	assert_null(c.warn);
	assert_int_equal(c.nwarn, 0);

	/* "cap@" of a known capability and empty fields are no news. */
	c = parse_ok("all:a\na:white:black@:msg@::  :file=/a:\n");
	assert_int_equal(c.nwarn, 0);
	sdc_free(&c);
	/* Records "all" does not name are not looked at. */
	c = parse_ok("all:a\na:white:file=/a\nb:bogus:flie=/b\n");
	assert_int_equal(c.nwarn, 0);
	sdc_free(&c);

	/* A missing capability's error names the field meant to be it. */
	err_is("all:a\na:white:\\\n\t:flie=/etc/a:\n",
	    "spamd.conf:2: entry \"a\": no :file= (is :flie= on line 3 "
	    "meant to be :file=?)");
	err_is("all:a\na:white:fiel=/etc/a:\n",
	    "spamd.conf:2: entry \"a\": no :file= (is :fiel= on line 2 "
	    "meant to be :file=?)");
	err_is("all:a\na:white:file:\n",
	    "spamd.conf:2: entry \"a\": no :file= (is :file: on line 2 "
	    "meant to be :file=?)");
	err_is("all:a\na:black:mgs=\"m\":file=/a\n",
	    "spamd.conf:2: entry \"a\": black list has no :msg= (is :mgs= on "
	    "line 2 meant to be :msg=?)");
	err_is("all:a\na:blakc:msg=\"m\":file=/a\n",
	    "spamd.conf:2: entry \"a\": must have :black: or :white: (is "
	    ":blakc: on line 2 meant to be :black:?)");
	err_is("all:a\na:\\\n :white=yes:file=/a\n",
	    "spamd.conf:2: entry \"a\": must have :black: or :white: (is "
	    ":white= on line 3 meant to be :white:?)");
	/* Nothing close: the plain message. */
	err_is("all:a\na:white:source=/a\n",
	    "spamd.conf:2: entry \"a\": no :file=");
}

static void
test_warn_limit(void **state)
{
	struct sdc	 c;
	char		*t;
	size_t		 i, n;

	(void)state;
	t = malloc(32 + 8 * (SDC_WARNMAX + 10));
	assert_non_null(t);
	n = (size_t)sprintf(t, "all:a\na:white:file=/a");
	for (i = 0; i < SDC_WARNMAX + 10; i++)
		n += (size_t)sprintf(t + n, ":u%zu", i);
	strcpy(t + n, "\n");
	c = parse_ok(t);
	assert_int_equal(c.nwarn, SDC_WARNMAX + 1);
	assert_string_equal(c.warn[0],
	    "spamd.conf:2: entry \"a\": unknown capability :u0:: ignored");
	assert_string_equal(c.warn[SDC_WARNMAX],
	    "more than 64 warnings: the rest are not shown");
	sdc_free(&c);
	free(t);
}

static void
test_load(void **state)
{
	char		 path[] = "/tmp/test_spamdconf.XXXXXX";
	char		 err[512];
	struct sdc	 c;
	FILE		*fp;
	int		 fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(openbsd_conf, fp);
	fclose(fp);
	assert_int_equal(sdc_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.lists[0].file,
	    "www.openbsd.org/spamd/nixspam.gz");
	sdc_free(&c);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("all:a\n\n\na:black\n", fp);
	fclose(fp);
	assert_int_equal(sdc_load(path, &c, err, sizeof(err)), -1);
	{
		char	want[600];

		snprintf(want, sizeof(want),
		    "%s:4: entry \"a\": black list has no :msg=", path);
		assert_string_equal(err, want);
	}
	unlink(path);
	assert_int_equal(sdc_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);

	sdc_free(NULL);
}

/* nfspamd's :method=spf: and :nospamd:, white lists only. */
static void
test_spf_nospamd(void **state)
{
	struct sdc	c;

	(void)state;
	c = parse_ok(
	    "all:nixspam:senders:\n"
	    "nixspam:black:msg=\"m\":file=/n\n"
	    "senders:white:method=spf:nospamd:\\\n"
	    "\t:file=/etc/nfspamd/spf-senders:\n");
	assert_int_equal(c.n, 2);
	assert_false(c.lists[0].nospamd);
	assert_int_equal(c.lists[1].method, SDC_SPF);
	assert_true(c.lists[1].nospamd);
	assert_string_equal(c.lists[1].file, "/etc/nfspamd/spf-senders");
	assert_string_equal(sdc_method_name(SDC_SPF), "spf");
	assert_int_equal(c.nwarn, 0);
	sdc_free(&c);
	err_is("all:a\na:black:msg=\"m\":method=spf:file=/d\n",
	    "spamd.conf:2: entry \"a\": :method=spf: is for white lists (an "
	    "SPF record names the hosts a domain sends mail from)");
	err_is("all:a\na:black:msg=\"m\":\\\n\t:nospamd:file=/d\n",
	    "spamd.conf:3: entry \"a\": :nospamd: is for white lists (it "
	    "lets their addresses past nfspamd)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openbsd_example),
		cmocka_unit_test(test_repeats_and_kinds),
		cmocka_unit_test(test_continuation_comments),
		cmocka_unit_test(test_quoted_colons),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_unknown_caps),
		cmocka_unit_test(test_warn_limit),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_spf_nospamd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
