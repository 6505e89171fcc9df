/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for log: quoting of untrusted values and stderr output.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static const char *
q(const char *v)
{
	static char buf[64];

	return log_quote(buf, sizeof(buf), v, strlen(v));
}

static void
test_quote_plain(void **state)
{
	(void)state;
	assert_string_equal(q("192.0.2.1"), "192.0.2.1");
	assert_string_equal(q("<a@example.org>"), "<a@example.org>");
	assert_string_equal(q("2001:db8::1"), "2001:db8::1");
}

static void
test_quote_special(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(q(""), "\"\"");
	assert_string_equal(q("a b"), "\"a b\"");
	assert_string_equal(q("k=v"), "\"k=v\"");
	assert_string_equal(q("say \"hi\""), "\"say \\\"hi\\\"\"");
	assert_string_equal(q("back\\slash"), "\"back\\\\slash\"");
	assert_string_equal(q("line\nbreak"), "\"line\\x0abreak\"");
	assert_string_equal(q("tab\there"), "\"tab\\x09here\"");
	assert_string_equal(q("\x7f\xff"), "\"\\x7f\\xff\"");
	/* A NUL inside the value is escaped, not a terminator. */
	log_quote(buf, sizeof(buf), "a\0b", 3);
	assert_string_equal(buf, "\"a\\x00b\"");
}

static void
test_quote_truncates(void **state)
{
	char big[200], buf[16];

	(void)state;
	memset(big, 'x', sizeof(big));
	log_quote(buf, sizeof(buf), big, sizeof(big));
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf + strlen(buf) - 3, "...");
	memset(big, ' ', sizeof(big));
	log_quote(buf, sizeof(buf), big, sizeof(big));
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(buf[0], '"');
	assert_string_equal(buf + strlen(buf) - 4, "...\"");
	/* Escapes are never cut in half. */
	memset(big, '\n', sizeof(big));
	log_quote(buf, sizeof(buf), big, sizeof(big));
	assert_string_equal(buf, "\"\\x0a\\x0a...\"");
	/* Too small to say anything: empty, still terminated. */
	log_quote(buf, 4, "hello", 5);
	assert_string_equal(buf, "");
}

/* Run fn with stderr sent to a file, return what it wrote. */
static char *
capture(void (*fn)(void))
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
emit_levels(void)
{
	struct logger lg;

	log_init(&lg, "prog", 1, LOG_INFO);
	log_info(&lg, "connected ip=%s", "192.0.2.1");
	log_debug(&lg, "not shown at LOG_INFO");
	log_warnx(&lg, "warned %d", 3);
	errno = ENOENT;
	log_warn(&lg, "open %s", "/x");
	log_close(&lg);
}

static void
emit_debug(void)
{
	struct logger lg;

	log_init(&lg, "prog", 1, LOG_DEBUG);
	log_debug(&lg, "shown at LOG_DEBUG");
	log_close(&lg);
}

static void
test_stderr_output(void **state)
{
	(void)state;
	assert_string_equal(capture(emit_levels),
	    "prog: connected ip=192.0.2.1\n"
	    "prog: warned 3\n"
	    "prog: open /x: No such file or directory\n");
	assert_string_equal(capture(emit_debug), "prog: shown at LOG_DEBUG\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_plain),
		cmocka_unit_test(test_quote_special),
		cmocka_unit_test(test_quote_truncates),
		cmocka_unit_test(test_stderr_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
