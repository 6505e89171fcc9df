/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
#include "config.h"
/*
 * Unit tests for src/lib/setup.c: control lines, the state file and the
 * difference -b applies to the kernel sets.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "bl.h"
#include "buf.h"
#include "setup.h"

static struct prefix
P(const char *text)
{
	struct prefix	p;
	const char	*why;

	if (prefix_parse(text, &p, false, &why) == -1)
		fail_msg("bad test prefix %s: %s", text, why);
	return p;
}

/* Parse "a b c" into a malloc'd array. */
static struct prefix *
plist(const char *text, size_t *n)
{
	struct prefix	*v = calloc(64, sizeof(*v));
	char		 buf[1024], *tok, *save = NULL;

	assert_non_null(v);
	*n = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		v[(*n)++] = P(tok);
	return v;
}

static char *
ptext(const struct prefix *v, size_t n)
{
	char	*s = malloc(n * ADDR_STRLEN + 1);
	size_t	 i, off = 0;

	assert_non_null(s);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			s[off++] = ' ';
		off += prefix_format(&v[i], s + off, ADDR_STRLEN);
	}
	s[off] = '\0';
	return s;
}

static void
test_line(void **state)
{
	struct buf	 out = { 0 };
	struct prefix	*v;
	size_t		 n;
	char		 err[256];

	(void)state;
	v = plist("10.0.0.0/8 192.0.2.1/32 2001:db8::/32", &n);
	assert_int_equal(setup_line("uatraps", "Your address %A is in \"x\"\n"
	    "see \\here\r\n", v, n, &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "uatraps;\"Your address %A is in "
	    "\\\"x\\\"\\nsee \\\\here\\n\";inet;2;10.0.0.0/8;192.0.2.1/32;"
	    "inet6;1;2001:db8::/32\n");
	buf_reset(&out);

	/* Only IPv6: no inet section. */
	assert_int_equal(setup_line("v6", "m", v + 2, 1, &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out.data, "v6;\"m\";inet6;1;2001:db8::/32\n");
	buf_reset(&out);

	/* Nothing: the clear line. */
	assert_int_equal(setup_line("gone", "m", NULL, 0, &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out.data, "gone;\n");
	buf_reset(&out);

	/* Control characters other than tab become blanks. */
	assert_int_equal(setup_line("c", "a\tb\001c", v, 1, &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out.data, "c;\"a\tb c\";inet;1;10.0.0.0/8\n");
	buf_free(&out);
	free(v);
}

static void
test_line_refused(void **state)
{
	struct buf	 out = { 0 };
	struct prefix	*v;
	size_t		 n;
	char		 err[256], *msg;

	(void)state;
	v = plist("192.0.2.0/24 10.0.0.0/8", &n);
	assert_int_equal(setup_line("t", "m", v, n, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "list t: prefix 2 (10.0.0.0/8) is not in "
	    "canonical order");
	free(v);
	v = plist("10.0.0.0/8 10.1.0.0/16", &n);
	assert_int_equal(setup_line("t", "m", v, n, &out, err, sizeof(err)),
	    -1);
	free(v);
	v = plist("0.0.0.0/0", &n);
	assert_int_equal(setup_line("t", "m", v, n, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "list t: covers every address (0.0.0.0/0); "
	    "nfspamd refuses that");
	free(v);
	v = plist("10.0.0.0/8", &n);
	assert_int_equal(setup_line("a b", "m", v, n, &out, err,
	    sizeof(err)), -1);
	assert_int_equal(setup_line("a;b", "m", v, n, &out, err,
	    sizeof(err)), -1);
	assert_int_equal(setup_line("", "m", v, n, &out, err, sizeof(err)),
	    -1);

	/* 4096 bytes escaped is the most; quotes count twice. */
	msg = malloc(BL_MSGMAX + 2);
	memset(msg, 'x', BL_MSGMAX);
	msg[BL_MSGMAX] = '\0';
	assert_int_equal(setup_line("t", msg, v, n, &out, err, sizeof(err)),
	    0);
	buf_reset(&out);
	msg[0] = '"';
	assert_int_equal(setup_line("t", msg, v, n, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "list t: message longer than 4096 bytes once "
	    "escaped");
	assert_int_equal(out.len, 0);
	free(msg);
	free(v);
	buf_free(&out);
}

/* What setup_line writes, nfspamd's parser reads back as meant. */
static void
test_line_roundtrip(void **state)
{
	struct buf	 out = { 0 }, reply = { 0 };
	struct bl_list	 l;
	struct prefix	*v;
	struct addr	 a;
	size_t		 n;
	char		 err[256];
	const char	*why;

	(void)state;
	v = plist("0.0.0.0/8 10.0.0.0/8 255.255.255.255/32 ::/8 "
	    "ffff:ffff::/32", &n);
	assert_int_equal(setup_line("edge", "Blocked: \"%A\"\nsee \\x\n", v, n,
	    &out, err, sizeof(err)), 0);
	assert_int_equal(bl_parse(out.data, out.len, &l, err, sizeof(err)), 0);
	assert_string_equal(l.tag, "edge");
	assert_int_equal(l.npfx, 5);
	assert_int_equal(addr_parse("10.1.2.3", &a, &why), 0);
	assert_int_equal(bl_reply_msg(l.msg, &a, 450, true, &reply), 0);
	assert_string_equal(reply.data, "450-Blocked: \"10.1.2.3\"\r\n"
	    "450 see \\x\r\n");
	bl_list_free(&l);
	buf_free(&reply);
	buf_free(&out);
	free(v);
}

static void
fill_state(struct setup_state *st)
{
	memset(st, 0, sizeof(*st));
	st->nlists = 2;
	st->lists = calloc(2, sizeof(*st->lists));
	st->lists[0].tag = strdup("nixspam");
	st->lists[0].pfx = plist("10.0.0.0/8 2001:db8::/32",
	    &st->lists[0].n);
	st->lists[1].tag = strdup("uatraps");
	st->kernel = true;
	st->loaded = plist("10.0.0.0/8 192.0.2.0/24 2001:db8::/32",
	    &st->nloaded);
}

static void
test_state_roundtrip(void **state)
{
	struct setup_state	 st, back;
	struct buf		 out = { 0 };
	char			 err[256], *t;

	(void)state;
	fill_state(&st);
	assert_int_equal(setup_state_encode(&st, &out), 0);
	assert_int_equal(setup_state_decode(out.data, out.len, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.nlists, 2);
	assert_true(back.kernel);
	assert_string_equal(back.lists[0].tag, "nixspam");
	t = ptext(back.lists[0].pfx, back.lists[0].n);
	assert_string_equal(t, "10.0.0.0/8 2001:db8::/32");
	free(t);
	assert_string_equal(back.lists[1].tag, "uatraps");
	assert_int_equal(back.lists[1].n, 0);
	t = ptext(back.loaded, back.nloaded);
	assert_string_equal(t, "10.0.0.0/8 192.0.2.0/24 2001:db8::/32");
	free(t);
	assert_int_equal(setup_state_find(&back, "uatraps"), 1);
	assert_int_equal(setup_state_find(&back, "nope"), -1);
	setup_state_free(&back);

	/* An empty state. */
	setup_state_free(&st);
	buf_reset(&out);
	assert_int_equal(setup_state_encode(&st, &out), 0);
	assert_int_equal(setup_state_decode(out.data, out.len, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.nlists, 0);
	assert_false(back.kernel);
	setup_state_free(&back);
	buf_free(&out);
}

static void
expect_bad(const char *data, size_t len, const char *want)
{
	struct setup_state	st;
	char			err[256];

	assert_int_equal(setup_state_decode(data, len, &st, err, sizeof(err)),
	    -1);
	assert_int_equal(st.nlists, 0);
	assert_null(st.lists);
	if (want != NULL && strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_state_bad(void **state)
{
	struct setup_state	 st;
	struct buf		 out = { 0 };
	size_t			 i, off;
	char			*copy;

	(void)state;
	fill_state(&st);
	assert_int_equal(setup_state_encode(&st, &out), 0);
	setup_state_free(&st);

	expect_bad("", 0, "not an nfspamd-setup state file");
	expect_bad("nfspamd-setup state 2\n", 22, "not an nfspamd-setup");
	/* Every truncation fails cleanly. */
	for (i = 0; i < out.len; i++)
		expect_bad(out.data, i, NULL);
	copy = malloc(out.len + 1);
	memcpy(copy, out.data, out.len);
	copy[out.len] = 'x';
	expect_bad(copy, out.len + 1, "1 bytes of junk at the end");

	/* A family byte of 5. */
	off = strlen(SETUP_MAGIC) + 4 + 1 + 4 + strlen("nixspam") + 4;
	memcpy(copy, out.data, out.len);
	copy[off] = 5;
	expect_bad(copy, out.len, "family 5");
	/* Host bits set: 10.0.0.0/8 becomes 10.0.0.1/8. */
	memcpy(copy, out.data, out.len);
	copy[off + 5] = 1;
	expect_bad(copy, out.len, "malformed");
	/* Out of order: the list's v4 prefix rewritten as IPv6-sized is
	 * caught as a cut record or disorder, never read past the end. */
	memcpy(copy, out.data, out.len);
	copy[off] = 6;
	expect_bad(copy, out.len, NULL);
	/* The second tag renamed to the first. */
	memcpy(copy, out.data, out.len);
	off = (size_t)((char *)memmem(copy, out.len, "uatraps", 7) - copy);
	memcpy(copy + off, "nixspam", 7);
	expect_bad(copy, out.len, "list \"nixspam\" twice");
	/* A huge prefix count allocates nothing. */
	memcpy(copy, out.data, out.len);
	off = strlen(SETUP_MAGIC) + 4 + 1 + 4 + strlen("nixspam");
	memcpy(copy + off, "\xff\xff\xff\x7f", 4);
	expect_bad(copy, out.len, "cannot fit");
	/* A bad kernel flag. */
	memcpy(copy, out.data, out.len);
	copy[strlen(SETUP_MAGIC) + 4] = 2;
	expect_bad(copy, out.len, "bad kernel flag");
	free(copy);
	buf_free(&out);
}

static void
test_diff(void **state)
{
	struct setup_diff	 d;
	struct prefix		*o, *n;
	size_t			 no, nn;
	char			*t;

	(void)state;
	o = plist("10.0.0.0/8 192.0.2.0/24 198.51.100.0/24 2001:db8::/32", &no);
	n = plist("10.0.0.0/9 10.128.0.0/9 192.0.2.0/24 203.0.113.0/24 "
	    "2001:db9::/32", &nn);
	assert_int_equal(setup_diff(o, no, n, nn, &d), 0);
	t = ptext(d.add, d.nadd);
	assert_string_equal(t, "10.0.0.0/9 10.128.0.0/9 203.0.113.0/24 "
	    "2001:db9::/32");
	free(t);
	t = ptext(d.del, d.ndel);
	assert_string_equal(t, "10.0.0.0/8 198.51.100.0/24 2001:db8::/32");
	free(t);
	assert_non_null(d.keep4);
	assert_int_equal(setup_pfx_cmp(d.keep4, &n[2]), 0);
	assert_null(d.keep6);
	assert_true(setup_canonical(d.add, d.nadd, NULL));
	assert_true(setup_canonical(d.del, d.ndel, NULL));
	setup_diff_free(&d);

	/* Nothing before: everything is an add. */
	assert_int_equal(setup_diff(NULL, 0, n, nn, &d), 0);
	assert_int_equal(d.nadd, nn);
	assert_int_equal(d.ndel, 0);
	setup_diff_free(&d);
	/* Same: nothing to do, both keeps found. */
	assert_int_equal(setup_diff(o, no, o, no, &d), 0);
	assert_int_equal(d.nadd + d.ndel, 0);
	assert_non_null(d.keep4);
	assert_non_null(d.keep6);
	setup_diff_free(&d);
	free(o);
	free(n);
}

/* Random canonical lists from a small universe against a bitmap. */
static void
test_diff_random(void **state)
{
	enum { U = 64 };
	struct prefix	 o[U], n[U];
	struct setup_diff d;
	size_t		 no, nn, i, k, round;
	unsigned	 seed = 12345;
	bool		 in_o[U], in_n[U], seen[U];

	(void)state;
	for (round = 0; round < 2000; round++) {
		no = nn = 0;
		for (i = 0; i < U; i++) {
			in_o[i] = (rand_r(&seed) & 3) == 0;
			in_n[i] = (rand_r(&seed) & 3) == 0;
			memset(&o[no], 0, sizeof(o[0]));
			o[no].addr.family = i < U / 2 ? AF_INET : AF_INET6;
			o[no].addr.bytes[0] = (uint8_t)(i * 4);
			o[no].len = o[no].addr.family == AF_INET ? 32 : 128;
			if (in_o[i])
				no++;
			memset(&n[nn], 0, sizeof(n[0]));
			n[nn].addr.family = i < U / 2 ? AF_INET : AF_INET6;
			n[nn].addr.bytes[0] = (uint8_t)(i * 4);
			n[nn].len = n[nn].addr.family == AF_INET ? 32 : 128;
			if (in_n[i])
				nn++;
		}
		assert_true(setup_canonical(o, no, NULL));
		assert_true(setup_canonical(n, nn, NULL));
		assert_int_equal(setup_diff(o, no, n, nn, &d), 0);
		memset(seen, 0, sizeof(seen));
		for (k = 0; k < d.nadd; k++) {
			i = d.add[k].addr.bytes[0] / 4;
			assert_true(in_n[i] && !in_o[i]);
			seen[i] = true;
		}
		for (k = 0; k < d.ndel; k++) {
			i = d.del[k].addr.bytes[0] / 4;
			assert_true(in_o[i] && !in_n[i]);
			seen[i] = true;
		}
		for (i = 0; i < U; i++)
			assert_int_equal(seen[i], in_o[i] != in_n[i]);
		if (d.keep4 != NULL)
			assert_true(in_o[d.keep4->addr.bytes[0] / 4] &&
			    in_n[d.keep4->addr.bytes[0] / 4]);
		setup_diff_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_refused),
		cmocka_unit_test(test_line_roundtrip),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_bad),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
