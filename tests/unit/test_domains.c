/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for the alloweddomains parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "domains.h"

static void
test_parse(void **state)
{
	const char text[] = "# our domains\n\nexample.org\n  @Mail.Example.COM  "
	    "\r\n\t# indented comment\nlast.example";
	struct domains d;
	char err[256];

	(void)state;
	assert_int_equal(domains_parse("t", text, sizeof(text) - 1, &d, err,
	    sizeof(err)), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.names[0], "example.org");
	assert_string_equal(d.names[1], "@mail.example.com");
	assert_string_equal(d.names[2], "last.example");
	domains_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.names);

	/* Nothing but comments: an empty list, not an error. */
	assert_int_equal(domains_parse("t", "#x\n\n", 4, &d, err,
	    sizeof(err)), 0);
	assert_int_equal(d.n, 0);
	domains_free(&d);
}

static void
test_errors(void **state)
{
	struct domains d = { (char **)0x1, 99 };
	char err[256], big[400];

	(void)state;
	assert_int_equal(domains_parse("f", "ok.example\nbad domain\n", 22, &d,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "f:2: blank or control character inside "
	    "\"bad domain\"");
	/* The caller's list is untouched on error. */
	assert_int_equal(d.n, 99);
	memset(big, 'a', sizeof(big));
	assert_int_equal(domains_parse("f", big, sizeof(big), &d, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "f:1: line longer than 255 bytes");
	assert_int_equal(domains_parse("f", "a\0b\n", 4, &d, err,
	    sizeof(err)), -1);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/nfs-domains-XXXXXX", err[256];
	struct domains d;
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	f = fdopen(fd, "w");
	fputs("example.net\n", f);
	fclose(f);
	assert_int_equal(domains_load(path, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.names[0], "example.net");
	domains_free(&d);
	unlink(path);
	assert_int_equal(domains_load(path, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
