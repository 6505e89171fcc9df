/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for rlayout, the shared store's layout, without a server:
 * --store URLs good and bad (every refusal with its message), their
 * form in messages, where each type's entries live, the values of the
 * address and os keys, the RESP bytes of a command, the commands that
 * put and delete entries (read back by a small RESP parser below), the
 * events of nfspamd:events and the stream ids.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "rlayout.h"

#define MAXCMD	8
#define MAXARG	16

/* --- reading RESP back --- */

struct cmd {
	int		 argc;
	const char	*argv[MAXARG];
	size_t		 lens[MAXARG];
};

/* A decimal number ended by CRLF at *p; -1 if none. */
static long
resp_num(const char **p, const char *end)
{
	long v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	if (end - s < 2 || s[0] != '\r' || s[1] != '\n')
		return -1;
	*p = s + 2;
	return v;
}

/* The commands in b, as arrays of bulk strings: how many, or -1. */
static int
resp_parse(const struct buf *b, size_t from, struct cmd *cmds, int max)
{
	const char *p = b->data + from, *end = b->data + b->len;
	int n = 0;

	while (p < end) {
		struct cmd *c;
		long argc;

		if (n == max || *p++ != '*' || (argc = resp_num(&p, end)) < 0 ||
		    argc > MAXARG)
			return -1;
		c = &cmds[n++];
		c->argc = (int)argc;
		for (int i = 0; i < c->argc; i++) {
			long len;

			if (p == end || *p++ != '$' ||
			    (len = resp_num(&p, end)) < 0 || end - p < len + 2 ||
			    p[len] != '\r' || p[len + 1] != '\n')
				return -1;
			c->argv[i] = p;
			c->lens[i] = (size_t)len;
			p += len + 2;
		}
	}
	return n;
}

static void
assert_arg(const struct cmd *c, int i, const char *want)
{
	assert_true(i < c->argc);
	assert_int_equal(c->lens[i], strlen(want));
	assert_memory_equal(c->argv[i], want, strlen(want));
}

static void
assert_argv(const struct cmd *c, int argc, ...)
{
	va_list ap;

	assert_int_equal(c->argc, argc);
	va_start(ap, argc);
	for (int i = 0; i < argc; i++) {
		const char *want = va_arg(ap, const char *);

		if (want != NULL)	/* NULL: a binary value, checked apart */
			assert_arg(c, i, want);
	}
	va_end(ap);
}

static const struct store_rec rec1 = {
	.first = 1796400000, .pass = 1796401500, .expire = 1796500000,
	.bcount = 3, .pcount = 1
};

/* --- URLs --- */

static void
url_ok(const char *s, struct rl_url *u)
{
	char err[256] = "untouched";

	if (rl_url_parse(s, u, err, sizeof(err)) != 0)
		fail_msg("%s: %s", s, err);
}

static void
test_url_good(void **state)
{
	struct rl_url u;

	(void)state;
	url_ok("redis://host", &u);
	assert_false(u.unix_sock);
	assert_string_equal(u.host, "host");
	assert_int_equal(u.port, RL_PORT);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.user, "");

	url_ok("redis://host:6380/2", &u);
	assert_string_equal(u.host, "host");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);

	url_ok("redis://[2001:db8::1]:6379/1", &u);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 1);

	url_ok("redis://[::1]", &u);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, RL_PORT);

	url_ok("redis://user@host", &u);
	assert_string_equal(u.user, "user");
	assert_string_equal(u.host, "host");
	assert_int_equal(u.port, RL_PORT);

	url_ok("redis://10.0.0.5:65535/65535", &u);
	assert_string_equal(u.host, "10.0.0.5");
	assert_int_equal(u.port, 65535);
	assert_int_equal(u.db, 65535);

	url_ok("redis://host/", &u);
	assert_int_equal(u.db, 0);
	url_ok("redis://host:1/0", &u);
	assert_int_equal(u.port, 1);

	url_ok("unix:/run/redis.sock", &u);
	assert_true(u.unix_sock);
	assert_string_equal(u.path, "/run/redis.sock");
	assert_int_equal(u.db, 0);
	assert_string_equal(u.host, "");

	url_ok("unix:/x?db=3", &u);
	assert_true(u.unix_sock);
	assert_string_equal(u.path, "/x");
	assert_int_equal(u.db, 3);

	assert_true(rl_url_is_shared("redis://host"));
	assert_true(rl_url_is_shared("unix:/run/redis.sock"));
	/* A directory, or nothing this parses: not a shared store. */
	assert_false(rl_url_is_shared("/var/lib/nfspamd"));
	assert_false(rl_url_is_shared("redis"));
	assert_false(rl_url_is_shared("rediss://host"));
	assert_false(rl_url_is_shared("unix"));
	assert_false(rl_url_is_shared(""));
}

/* Refused, with a message holding want (and the URL, when named). */
static void
url_bad(const char *s, const char *want, bool named)
{
	struct rl_url u;
	char err[512];

	memset(err, 'x', sizeof(err));
	if (rl_url_parse(s, &u, err, sizeof(err)) != -1)
		fail_msg("%s: taken", s);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", s, err, want);
	if (named && strstr(err, s) == NULL)
		fail_msg("%s: \"%s\" does not name it", s, err);
}

static void
test_url_bad(void **state)
{
	char longpath[200], err[512];
	struct rl_url u;

	(void)state;
	/* A password would show in ps: refused, and not repeated. */
	url_bad("redis://user:secret@host", "--store-password-file", false);
	assert_int_equal(rl_url_parse("redis://user:secret@host", &u, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "secret"));
	url_bad("redis://:secret@host:6379/0", "password", false);
	assert_int_equal(rl_url_parse("redis://:secret@host:6379/0", &u, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "secret"));

	url_bad("redis://host:0", "port \"0\" is not from 1 to 65535", true);
	url_bad("redis://host:65536", "port \"65536\"", true);
	url_bad("redis://host:06379", "port \"06379\"", true);
	url_bad("redis://host:", "port \"\"", true);
	url_bad("redis://host:63x", "port", true);
	url_bad("redis://host:-1", "port", true);
	url_bad("redis://host:1234567890", "port", true);

	url_bad("redis://host/65536", "database \"65536\" is not a number "
	    "from 0 to 65535", true);
	url_bad("redis://host/01", "database", true);
	url_bad("redis://host/1x", "database", true);
	url_bad("redis://host/1/2", "database", true);
	url_bad("unix:/x?db=99999", "database", true);
	url_bad("unix:/x?db=", "database", true);

	url_bad("redis://", "no host", true);
	url_bad("redis://:6379", "no host", true);
	url_bad("redis:///2", "no host", true);
	url_bad("redis://user@", "no host", true);
	url_bad("redis://[]:6379", "no host", true);
	url_bad("redis://@host", "bad user name", true);
	url_bad("redis://ho st", "bad character", true);
	url_bad("redis://ho\x7fst", "bad character", true);

	url_bad("unix:run/redis.sock", "absolute socket path", true);
	url_bad("unix:", "absolute socket path", true);
	url_bad("unix:?db=1", "absolute socket path", true);
	url_bad("unix:/x?database=1", "is not ?db=N", true);
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	url_bad(longpath, "longer than 107 bytes", false);

	url_bad("http://host", "want redis://host[:port][/db] or "
	    "unix:/path[?db=N]", true);
	url_bad("rediss://host", "want redis://", true);
	url_bad("/var/lib/nfspamd", "want redis://", true);
	url_bad("", "want redis://", false);

	url_bad("redis://[2001:db8::1", "no ] after [", true);
	url_bad("redis://[2001:db8::1:6379/0", "no ] after [", true);
	url_bad("redis://[::1]6379", "want : after ]", true);
	/* Without brackets the first colon starts the port. */
	url_bad("redis://2001:db8::1", "port \"db8::1\"", true);

	/* A short buffer: cut, still a string. */
	assert_int_equal(rl_url_parse("redis://host:0", &u, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

static void
format_is(const char *s, const char *want)
{
	struct rl_url u, back;
	char buf[400];

	url_ok(s, &u);
	rl_url_format(&u, buf, sizeof(buf));
	assert_string_equal(buf, want);
	/* What a message shows parses back to the same store. */
	url_ok(buf, &back);
	assert_memory_equal(&u, &back, sizeof(u));
}

static void
test_url_format(void **state)
{
	struct rl_url u;
	char buf[12];

	(void)state;
	format_is("redis://host", "redis://host:6379/0");
	format_is("redis://host:6380/2", "redis://host:6380/2");
	format_is("redis://user@[2001:db8::1]:6380/2",
	    "redis://user@[2001:db8::1]:6380/2");
	format_is("redis://[::1]", "redis://[::1]:6379/0");
	format_is("unix:/run/redis.sock", "unix:/run/redis.sock?db=0");
	format_is("unix:/x?db=3", "unix:/x?db=3");

	url_ok("redis://a-long-host-name", &u);
	rl_url_format(&u, buf, sizeof(buf));
	assert_string_equal(buf, "redis://a-l");
}

/* --- where entries live --- */

static void
test_locate(void **state)
{
	static const char tuple[] = "192.0.2.1\nmx.example\n<a@example.com>\n"
	    "<b@example.org>";
	static const char old[] = "192.0.2.2\n<a@example.com>\n<b@example.org>";
	char big[STORE_KEYMAX + 2], out[32];
	struct rl_loc l;

	(void)state;
	assert_int_equal(rl_locate(STORE_GREY, tuple, strlen(tuple), &l), 0);
	assert_int_equal(l.keylen, strlen("nfspamd:g:192.0.2.1"));
	assert_memory_equal(l.key, "nfspamd:g:192.0.2.1", l.keylen);
	/* The field points into the caller's key, after the network. */
	assert_ptr_equal(l.field, tuple + strlen("192.0.2.1\n"));
	assert_int_equal(l.fieldlen, strlen(tuple) - strlen("192.0.2.1\n"));

	assert_int_equal(rl_locate(STORE_GREY, old, strlen(old), &l), 0);
	assert_memory_equal(l.key, "nfspamd:g:192.0.2.2", l.keylen);
	assert_int_equal(l.fieldlen, strlen("<a@example.com>\n<b@example.org>"));

	/* A tuple needs its network and its fields. */
	assert_int_equal(rl_locate(STORE_GREY, "192.0.2.1", 9, &l), -1);
	assert_int_equal(rl_locate(STORE_GREY, "\nh\nf\nt", 6, &l), -1);
	assert_int_equal(rl_locate(STORE_GREY, "192.0.2.1\n", 10, &l), -1);

	assert_int_equal(rl_locate(STORE_WHITE, "192.0.2.1", 9, &l), 0);
	assert_int_equal(l.keylen, strlen("nfspamd:a:192.0.2.1"));
	assert_memory_equal(l.key, "nfspamd:a:192.0.2.1", l.keylen);
	assert_null(l.field);
	/* WHITE and TRAPPED share one key, as in spamd. */
	assert_int_equal(rl_locate(STORE_TRAPPED, "2001:db8::/64", 13, &l), 0);
	assert_memory_equal(l.key, "nfspamd:a:2001:db8::/64", l.keylen);
	assert_null(l.field);

	assert_int_equal(rl_locate(STORE_SPAMTRAP, "trap@example.com", 16,
	    &l), 0);
	assert_int_equal(l.keylen, strlen(RL_SPAMTRAP));
	assert_memory_equal(l.key, RL_SPAMTRAP, l.keylen);
	assert_int_equal(l.fieldlen, 16);
	assert_memory_equal(l.field, "trap@example.com", 16);

	/* Empty, longer than any store key, or no type. */
	assert_int_equal(rl_locate(STORE_WHITE, "", 0, &l), -1);
	assert_int_equal(rl_locate(STORE_SPAMTRAP, "", 0, &l), -1);
	memset(big, 'a', sizeof(big));
	assert_int_equal(rl_locate(STORE_WHITE, big, STORE_KEYMAX, &l), 0);
	assert_int_equal(l.keylen, strlen(RL_ADDRS) + STORE_KEYMAX);
	assert_int_equal(rl_locate(STORE_WHITE, big, STORE_KEYMAX + 1, &l),
	    -1);
	big[STORE_KEYMAX - 1] = '\n';
	assert_int_equal(rl_locate(STORE_GREY, big, STORE_KEYMAX, &l), -1);
	big[100] = '\n';
	assert_int_equal(rl_locate(STORE_GREY, big, STORE_KEYMAX, &l), 0);
	assert_int_equal(rl_locate(STORE_NTYPES, "x", 1, &l), -1);

	assert_int_equal(rl_addr_key("192.0.2.1", 9, out, sizeof(out)),
	    strlen("nfspamd:a:192.0.2.1"));
	assert_memory_equal(out, "nfspamd:a:192.0.2.1", 19);
	assert_int_equal(rl_os_key("192.0.2.1", 9, out, sizeof(out)),
	    strlen("nfspamd:os:192.0.2.1"));
	assert_memory_equal(out, "nfspamd:os:192.0.2.1", 20);
	assert_int_equal(rl_os_key("192.0.2.1", 9, out, 19), 0);
	assert_int_equal(rl_addr_key("192.0.2.1", 9, out, 19), 19);
	assert_int_equal(rl_addr_key("192.0.2.1", 9, out, 18), 0);
	assert_int_equal(rl_addr_key("", 0, out, sizeof(out)), 0);
}

/* --- values --- */

static void
test_addr_codec(void **state)
{
	struct store_rec r, trapped = { 0, 0, 1796500000, 4, -1 };
	uint8_t v[RL_ADDRSIZE + 1];
	enum store_type type;

	(void)state;
	rl_addr_encode(STORE_WHITE, &rec1, v);
	assert_int_equal(v[0], 'W');
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE, &type, &r), 0);
	assert_int_equal(type, STORE_WHITE);
	assert_memory_equal(&r, &rec1, sizeof(r));

	rl_addr_encode(STORE_TRAPPED, &trapped, v);
	assert_int_equal(v[0], 'T');
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE, &type, &r), 0);
	assert_int_equal(type, STORE_TRAPPED);
	assert_int_equal(r.pcount, -1);
	assert_int_equal(r.expire, 1796500000);
	assert_int_equal(r.bcount, 4);

	/* Not a value of nfspamd:a:<addr>. */
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE - 1, &type, &r), -1);
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE + 1, &type, &r), -1);
	assert_int_equal(rl_addr_decode(v, 0, &type, &r), -1);
	assert_int_equal(rl_addr_decode(v + 1, STORE_RECSIZE, &type, &r), -1);
	v[0] = 'w';
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE, &type, &r), -1);
	v[0] = 'G';
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE, &type, &r), -1);
	v[0] = '\0';
	assert_int_equal(rl_addr_decode(v, RL_ADDRSIZE, &type, &r), -1);
}

static void
test_os_codec(void **state)
{
	uint8_t v[RL_OSSIZE + 8];
	char os[RL_OSSIZE + 1], name[200], small[6];
	int64_t seen;
	size_t n;

	(void)state;
	n = rl_os_encode(1796479336, "Linux 4.19-6.x", v);
	assert_int_equal(n, 8 + strlen("Linux 4.19-6.x"));
	assert_int_equal(rl_os_decode(v, n, &seen, os, sizeof(os)), 0);
	assert_int_equal(seen, 1796479336);
	assert_string_equal(os, "Linux 4.19-6.x");

	/* Any 64-bit time, an empty name. */
	n = rl_os_encode(-1, "", v);
	assert_int_equal(n, 8);
	assert_int_equal(rl_os_decode(v, n, &seen, os, sizeof(os)), 0);
	assert_int_equal(seen, -1);
	assert_string_equal(os, "");

	/* A long name is cut to what the value holds. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	n = rl_os_encode(5, name, v);
	assert_int_equal(n, RL_OSSIZE);
	assert_int_equal(rl_os_decode(v, n, &seen, os, sizeof(os)), 0);
	assert_int_equal(strlen(os), RL_OSSIZE - 8);
	/* And to the caller's buffer. */
	assert_int_equal(rl_os_decode(v, n, &seen, small, sizeof(small)), 0);
	assert_string_equal(small, "nnnnn");

	/* Bogus: short, long, nowhere to write, a NUL in the name. */
	assert_int_equal(rl_os_decode(v, 7, &seen, os, sizeof(os)), -1);
	assert_int_equal(rl_os_decode(v, RL_OSSIZE + 1, &seen, os,
	    sizeof(os)), -1);
	assert_int_equal(rl_os_decode(v, n, &seen, os, 0), -1);
	n = rl_os_encode(5, "Linux", v);
	v[10] = '\0';
	assert_int_equal(rl_os_decode(v, n, &seen, os, sizeof(os)), -1);
}

/* --- commands --- */

static void
test_cmd(void **state)
{
	static const char want[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
	static const char bin[] = "*2\r\n$4\r\nECHO\r\n$3\r\n\0\r\n\r\n";
	const char *argv[] = { "SET", "k", "v" };
	const char *echo[] = { "ECHO", "\0\r\n" };
	size_t lens[] = { 4, 3 };
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(rl_cmd(&b, 3, argv, NULL), 1);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	/* Binary-safe with lengths, and appended. */
	assert_int_equal(rl_cmd(&b, 2, echo, lens), 1);
	assert_int_equal(b.len, sizeof(want) - 1 + sizeof(bin) - 1);
	assert_memory_equal(b.data + sizeof(want) - 1, bin, sizeof(bin) - 1);
	buf_reset(&b);
	assert_int_equal(rl_cmd(&b, 0, argv, NULL), 1);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "*0\r\n", 4);
	buf_free(&b);
}

static void
test_put_tuple(void **state)
{
	static const char tuple[] = "192.0.2.1\nh\n<a@example.com>\n"
	    "<b@example.org>";
	struct cmd c[MAXCMD];
	struct buf b = { 0 };
	struct rl_loc l;
	struct store_rec r;
	size_t before;

	(void)state;
	assert_int_equal(rl_locate(STORE_GREY, tuple, strlen(tuple), &l), 0);
	assert_int_equal(buf_puts(&b, "junk"), 0);
	before = b.len;
	assert_int_equal(rl_put_tuple(&b, &l, &rec1, rec1.expire - 1), 3);
	assert_memory_equal(b.data, "junk", 4);
	assert_int_equal(resp_parse(&b, before, c, MAXCMD), 3);
	assert_argv(&c[0], 4, "HSET", "nfspamd:g:192.0.2.1",
	    "h\n<a@example.com>\n<b@example.org>", NULL);
	assert_int_equal(store_rec_decode(c[0].argv[3], c[0].lens[3], &r), 0);
	assert_memory_equal(&r, &rec1, sizeof(r));
	/* NX makes the new hash's TTL, GT only ever raises it. */
	assert_argv(&c[1], 4, "EXPIREAT", "nfspamd:g:192.0.2.1",
	    "1796500000", "NX");
	assert_argv(&c[2], 4, "EXPIREAT", "nfspamd:g:192.0.2.1",
	    "1796500000", "GT");

	/* Expired already: the field goes. */
	buf_reset(&b);
	assert_int_equal(rl_put_tuple(&b, &l, &rec1, rec1.expire), 1);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 1);
	assert_argv(&c[0], 3, "HDEL", "nfspamd:g:192.0.2.1",
	    "h\n<a@example.com>\n<b@example.org>");

	buf_reset(&b);
	assert_int_equal(rl_del_field(&b, &l), 1);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 1);
	assert_argv(&c[0], 3, "HDEL", "nfspamd:g:192.0.2.1",
	    "h\n<a@example.com>\n<b@example.org>");

	/* A spamtrap never expires: a plain HSET. */
	buf_reset(&b);
	assert_int_equal(rl_locate(STORE_SPAMTRAP, "t@example.com", 13, &l), 0);
	assert_int_equal(rl_put_spamtrap(&b, &l, &rec1), 1);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 1);
	assert_argv(&c[0], 4, "HSET", RL_SPAMTRAP, "t@example.com", NULL);
	assert_int_equal(c[0].lens[3], STORE_RECSIZE);
	buf_free(&b);
}

static void
test_put_addr(void **state)
{
	struct cmd c[MAXCMD];
	struct buf b = { 0 };
	struct store_rec r;
	enum store_type type;

	(void)state;
	assert_int_equal(rl_put_addr(&b, STORE_WHITE, "192.0.2.1", 9, &rec1,
	    rec1.expire - 1), 4);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 4);
	assert_argv(&c[0], 5, "SET", "nfspamd:a:192.0.2.1", NULL, "EXAT",
	    "1796500000");
	assert_int_equal(rl_addr_decode(c[0].argv[2], c[0].lens[2], &type,
	    &r), 0);
	assert_int_equal(type, STORE_WHITE);
	assert_memory_equal(&r, &rec1, sizeof(r));
	assert_argv(&c[1], 4, "ZADD", RL_WHITE, "1796500000", "192.0.2.1");
	assert_argv(&c[2], 3, "ZREM", RL_TRAPPED, "192.0.2.1");
	assert_argv(&c[3], 12, "XADD", RL_EVENTS, "MAXLEN", "~", "100000",
	    "*", "t", "W", "a", "192.0.2.1", "e", "1796500000");

	buf_reset(&b);
	assert_int_equal(rl_put_addr(&b, STORE_TRAPPED, "2001:db8::1", 11,
	    &rec1, 0), 4);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 4);
	assert_argv(&c[0], 5, "SET", "nfspamd:a:2001:db8::1", NULL, "EXAT",
	    "1796500000");
	assert_int_equal(((const uint8_t *)c[0].argv[2])[0], 'T');
	assert_argv(&c[1], 4, "ZADD", RL_TRAPPED, "1796500000",
	    "2001:db8::1");
	assert_argv(&c[2], 3, "ZREM", RL_WHITE, "2001:db8::1");
	assert_argv(&c[3], 12, "XADD", RL_EVENTS, "MAXLEN", "~", "100000",
	    "*", "t", "T", "a", "2001:db8::1", "e", "1796500000");

	/* Expired: deleted instead. */
	buf_reset(&b);
	assert_int_equal(rl_put_addr(&b, STORE_WHITE, "192.0.2.1", 9, &rec1,
	    rec1.expire), 4);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 4);
	assert_argv(&c[0], 2, "DEL", "nfspamd:a:192.0.2.1");

	/* Neither an address type nor an address: nothing appended. */
	buf_reset(&b);
	assert_int_equal(rl_put_addr(&b, STORE_GREY, "192.0.2.1", 9, &rec1,
	    0), -1);
	assert_int_equal(rl_put_addr(&b, STORE_SPAMTRAP, "a@b", 3, &rec1, 0),
	    -1);
	assert_int_equal(rl_put_addr(&b, STORE_WHITE, "", 0, &rec1, 0), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_del_addr(void **state)
{
	struct cmd c[MAXCMD];
	struct buf b = { 0 };

	(void)state;
	assert_int_equal(rl_del_addr(&b, "192.0.2.1", 9), 4);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 4);
	assert_argv(&c[0], 2, "DEL", "nfspamd:a:192.0.2.1");
	assert_argv(&c[1], 3, "ZREM", RL_WHITE, "192.0.2.1");
	assert_argv(&c[2], 3, "ZREM", RL_TRAPPED, "192.0.2.1");
	assert_argv(&c[3], 12, "XADD", RL_EVENTS, "MAXLEN", "~", "100000",
	    "*", "t", "D", "a", "192.0.2.1", "e", "0");
	buf_reset(&b);
	assert_int_equal(rl_del_addr(&b, "", 0), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_os_meta(void **state)
{
	struct cmd c[MAXCMD];
	struct buf b = { 0 };
	int64_t seen;
	char os[RL_OSSIZE];

	(void)state;
	assert_int_equal(rl_put_os(&b, "192.0.2.1", 9, 1796479336, "Linux",
	    86400), 1);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 1);
	assert_argv(&c[0], 5, "SET", "nfspamd:os:192.0.2.1", NULL, "EX",
	    "86400");
	assert_int_equal(rl_os_decode(c[0].argv[2], c[0].lens[2], &seen, os,
	    sizeof(os)), 0);
	assert_int_equal(seen, 1796479336);
	assert_string_equal(os, "Linux");
	buf_reset(&b);
	assert_int_equal(rl_put_os(&b, "192.0.2.1", 9, 1, "Linux", 0), -1);
	assert_int_equal(rl_put_os(&b, "", 0, 1, "Linux", 60), -1);
	assert_int_equal(b.len, 0);

	assert_int_equal(rl_meta_put(&b, "prefix-lengths", "\x18\x40", 2), 1);
	assert_int_equal(resp_parse(&b, 0, c, MAXCMD), 1);
	assert_argv(&c[0], 4, "HSET", RL_META, "prefix-lengths", "\x18\x40");
	buf_free(&b);
}

/* --- events --- */

static int
event(struct rl_event *ev, size_t n, ...)
{
	const char *f[MAXARG];
	size_t lens[MAXARG];
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		f[i] = va_arg(ap, const char *);
		lens[i] = strlen(f[i]);
	}
	va_end(ap);
	return rl_event_parse(n, f, lens, ev);
}

static void
test_event_parse(void **state)
{
	struct rl_event ev;
	const char *f[] = { "t", "W", "a", "192.0.2.1\0x", "e", "5" };
	size_t lens[] = { 1, 1, 1, 11, 1, 1 };
	char addr[70];

	(void)state;
	assert_int_equal(event(&ev, 6, "t", "W", "a", "192.0.2.1", "e",
	    "1796500000"), 0);
	assert_int_equal(ev.type, 'W');
	assert_string_equal(ev.addr, "192.0.2.1");
	assert_int_equal(ev.expire, 1796500000);
	/* Any order; a delete's expiry is 0. */
	assert_int_equal(event(&ev, 6, "e", "0", "a", "2001:db8::/64", "t",
	    "D"), 0);
	assert_int_equal(ev.type, 'D');
	assert_string_equal(ev.addr, "2001:db8::/64");
	assert_int_equal(ev.expire, 0);
	assert_int_equal(event(&ev, 6, "t", "T", "a", "x", "e",
	    "999999999999999999"), 0);
	assert_int_equal(ev.expire, 999999999999999999LL);

	/* A later version's fields are passed over. */
	assert_int_equal(event(&ev, 10, "node", "mx1", "t", "T", "a",
	    "192.0.2.9", "tt", "X", "e", "7"), 0);
	assert_int_equal(ev.type, 'T');
	assert_string_equal(ev.addr, "192.0.2.9");
	assert_int_equal(ev.expire, 7);
	assert_int_equal(event(&ev, 8, "t", "W", "x", "?", "a", "h", "e",
	    "1"), 0);

	/* Missing fields; an odd count. */
	assert_int_equal(event(&ev, 4, "t", "W", "a", "192.0.2.1"), -1);
	assert_int_equal(event(&ev, 4, "t", "W", "e", "5"), -1);
	assert_int_equal(event(&ev, 4, "a", "192.0.2.1", "e", "5"), -1);
	assert_int_equal(event(&ev, 0), -1);
	assert_int_equal(event(&ev, 5, "t", "W", "a", "192.0.2.1", "e"), -1);

	/* A bad type. */
	assert_int_equal(event(&ev, 6, "t", "X", "a", "h", "e", "1"), -1);
	assert_int_equal(event(&ev, 6, "t", "w", "a", "h", "e", "1"), -1);
	assert_int_equal(event(&ev, 6, "t", "WW", "a", "h", "e", "1"), -1);
	assert_int_equal(event(&ev, 6, "t", "", "a", "h", "e", "1"), -1);

	/* A bad expiry. */
	assert_int_equal(event(&ev, 6, "t", "W", "a", "h", "e", ""), -1);
	assert_int_equal(event(&ev, 6, "t", "W", "a", "h", "e", "-1"), -1);
	assert_int_equal(event(&ev, 6, "t", "W", "a", "h", "e", "12a"), -1);
	assert_int_equal(event(&ev, 6, "t", "W", "a", "h", "e", " 1"), -1);
	assert_int_equal(event(&ev, 6, "t", "W", "a", "h", "e",
	    "1000000000000000000"), -1);

	/* A bad address: empty, too long, a NUL in it. */
	assert_int_equal(event(&ev, 6, "t", "W", "a", "", "e", "1"), -1);
	memset(addr, 'a', sizeof(addr));
	addr[sizeof(ev.addr)] = '\0';
	assert_int_equal(event(&ev, 6, "t", "W", "a", addr, "e", "1"), -1);
	addr[sizeof(ev.addr) - 1] = '\0';
	assert_int_equal(event(&ev, 6, "t", "W", "a", addr, "e", "1"), 0);
	assert_int_equal(strlen(ev.addr), sizeof(ev.addr) - 1);
	assert_int_equal(rl_event_parse(6, f, lens, &ev), -1);
}

/* --- stream ids --- */

static void
test_id(void **state)
{
	struct rl_id a, b;
	char buf[48];

	(void)state;
	assert_int_equal(rl_id_parse("1526919030474-55", 16, &a), 0);
	assert_true(a.ms == 1526919030474ULL && a.seq == 55);
	rl_id_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "1526919030474-55");
	assert_int_equal(rl_id_parse("0-0", 3, &a), 0);
	assert_true(a.ms == 0 && a.seq == 0);
	assert_int_equal(rl_id_parse("9999999999999999999-1", 21, &a), 0);
	assert_true(a.ms == 9999999999999999999ULL && a.seq == 1);
	/* Only n bytes are read. */
	assert_int_equal(rl_id_parse("12-34junk", 5, &a), 0);
	assert_true(a.ms == 12 && a.seq == 34);

	assert_int_equal(rl_id_parse("", 0, &a), -1);
	assert_int_equal(rl_id_parse("123", 3, &a), -1);
	assert_int_equal(rl_id_parse("-1", 2, &a), -1);
	assert_int_equal(rl_id_parse("1-", 2, &a), -1);
	assert_int_equal(rl_id_parse("a-1", 3, &a), -1);
	assert_int_equal(rl_id_parse("1-2-3", 5, &a), -1);
	assert_int_equal(rl_id_parse("1 -2", 4, &a), -1);
	assert_int_equal(rl_id_parse("+1-2", 4, &a), -1);
	assert_int_equal(rl_id_parse("18446744073709551615-0", 22, &a), -1);
	assert_int_equal(rl_id_parse("1-18446744073709551616", 22, &a), -1);

	a = (struct rl_id){ 5, 0 };
	b = (struct rl_id){ 4, 9 };
	assert_int_equal(rl_id_cmp(&a, &b), 1);
	assert_int_equal(rl_id_cmp(&b, &a), -1);
	assert_int_equal(rl_id_cmp(&a, &a), 0);
	b = (struct rl_id){ 5, 1 };
	assert_int_equal(rl_id_cmp(&a, &b), -1);
	assert_int_equal(rl_id_cmp(&b, &a), 1);

	/* A gap: the trimming deleted something after what was read. */
	assert_false(rl_id_gap(&a, &(struct rl_id){ 4, 9 }));
	assert_false(rl_id_gap(&a, &(struct rl_id){ 5, 0 }));
	assert_false(rl_id_gap(&a, &(struct rl_id){ 0, 0 }));
	assert_true(rl_id_gap(&a, &(struct rl_id){ 5, 1 }));
	assert_true(rl_id_gap(&a, &(struct rl_id){ 6, 0 }));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_url_format),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_addr_codec),
		cmocka_unit_test(test_os_codec),
		cmocka_unit_test(test_cmd),
		cmocka_unit_test(test_put_tuple),
		cmocka_unit_test(test_put_addr),
		cmocka_unit_test(test_del_addr),
		cmocka_unit_test(test_os_meta),
		cmocka_unit_test(test_event_parse),
		cmocka_unit_test(test_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
