/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/* Unit tests for json: JSON strings from bytes off the network. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"

/* s (len bytes) as json_str writes it, compared with want. */
static void
check(const char *s, size_t len, const char *want)
{
	struct buf	b = { 0 };

	assert_int_equal(json_str(&b, s, len), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void
test_plain(void **state)
{
	(void)state;
	check("", 0, "\"\"");
	check("192.0.2.1", 9, "\"192.0.2.1\"");
	check("<a@b.example>", 13, "\"<a@b.example>\"");
}

static void
test_quotes_and_backslashes(void **state)
{
	(void)state;
	check("a\"b", 3, "\"a\\\"b\"");
	check("a\\b", 3, "\"a\\\\b\"");
	check("\"\\\"", 3, "\"\\\"\\\\\\\"\"");
}

static void
test_control(void **state)
{
	(void)state;
	check("\n\r\t", 3, "\"\\u000a\\u000d\\u0009\"");
	check("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	check("a\0b", 3, "\"a\\u0000b\"");	/* a NUL is a byte too */
}

static void
test_utf8_kept(void **state)
{
	(void)state;
	check("\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\"");		/* été */
	check("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");			/* € */
	check("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");		/* U+1F600 */
	check("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");		/* U+10FFFF */
}

/* What is not UTF-8: each byte as the code point of its value. */
static void
test_not_utf8(void **state)
{
	(void)state;
	check("\xff", 1, "\"\\u00ff\"");
	check("\x80", 1, "\"\\u0080\"");
	check("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");		/* overlong '/' */
	check("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"");	/* overlong */
	check("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");	/* surrogate */
	check("\xf4\x90\x80\x80", 4,
	    "\"\\u00f4\\u0090\\u0080\\u0080\"");		/* > U+10FFFF */
	check("\xc3", 1, "\"\\u00c3\"");			/* cut short */
	check("\xe2\x82", 2, "\"\\u00e2\\u0082\"");
	check("a\xc3(b", 4, "\"a\\u00c3(b\"");
	check("\xc3\xa9\xff\xc3\xa9", 5, "\"\xc3\xa9\\u00ff\xc3\xa9\"");
}

static void
test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(json_utf8_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xc3\xa9", 2),
	    2);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xc3\xa9", 1),
	    0);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xf0\x9f\x98"
	    "\x80", 4), 4);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xf5\x80\x80"
	    "\x80", 4), 0);
	assert_int_equal(json_utf8_len((const unsigned char *)"", 0), 0);
}

/* Appends: what is in the buffer stays. */
static void
test_appends(void **state)
{
	struct buf	b = { 0 };

	(void)state;
	assert_int_equal(buf_puts(&b, "{\"ip\":"), 0);
	assert_int_equal(json_str(&b, "::1", 3), 0);
	assert_string_equal(b.data, "{\"ip\":\"::1\"");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes_and_backslashes),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
