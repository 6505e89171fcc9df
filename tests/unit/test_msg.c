/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Unit tests for msg: the supervisor <-> worker messages.
 */
#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"

static struct addr
A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a, NULL), 0);
	return a;
}

static void
test_settings(void **state)
{
	struct msg_settings s = { .id = 3, .maxcon = 16000, .maxblack = 15900,
	    .started = 1767225600, .syncfd = 4, .nfds = 2, .fds = { 5, 6 } };
	uint8_t buf[MSG_MAXSIZE];
	struct msg m;
	const char *why = NULL;
	size_t len;

	(void)state;
	len = msg_settings_encode(&s, buf);
	assert_int_equal(len, MSG_HDRSIZE + 4 + 8 * 3 + 4 + 4 + 2 * 4);
	assert_int_equal(buf[0], MSG_VERSION);
	assert_int_equal(buf[1], MSG_SETTINGS);
	assert_int_equal(msg_decode(buf, len, &m, &why), 0);
	assert_int_equal(m.type, MSG_SETTINGS);
	assert_int_equal(m.u.settings.id, 3);
	assert_int_equal(m.u.settings.maxcon, 16000);
	assert_int_equal(m.u.settings.maxblack, 15900);
	assert_int_equal(m.u.settings.started, 1767225600);
	assert_int_equal(m.u.settings.syncfd, 4);
	assert_int_equal(m.u.settings.nfds, 2);
	assert_int_equal(m.u.settings.fds[1], 6);
	s.nfds = MSG_MAXFDS + 1;
	assert_int_equal(msg_settings_encode(&s, buf), 0);
}

static void
test_addr(void **state)
{
	struct addr v4 = A("192.0.2.7"), v6 = A("2001:db8::25");
	uint8_t buf[MSG_MAXSIZE];
	struct msg m;
	const char *why = NULL;
	size_t len;

	(void)state;
	len = msg_addr_encode(MSG_WHITE, &v4, 1767225600, buf);
	assert_int_equal(len, MSG_HDRSIZE + 17 + 8);
	assert_int_equal(msg_decode(buf, len, &m, &why), 0);
	assert_int_equal(m.type, MSG_WHITE);
	assert_true(addr_eq(&m.u.addr.addr, &v4));
	assert_int_equal(m.u.addr.expire, 1767225600);
	len = msg_addr_encode(MSG_TRAPPED, &v6, -1, buf);
	assert_int_equal(msg_decode(buf, len, &m, &why), 0);
	assert_int_equal(m.type, MSG_TRAPPED);
	assert_true(addr_eq(&m.u.addr.addr, &v6));
	assert_int_equal(m.u.addr.expire, -1);
	/* Only the two address messages carry an address. */
	assert_int_equal(msg_addr_encode(MSG_GREY, &v4, 0, buf), 0);
}

static void
test_grey(void **state)
{
	struct addr a = A("2001:db8::1");
	uint8_t buf[MSG_MAXSIZE];
	char big[MSG_STRMAX + 2];
	struct msg m;
	const char *why = NULL;
	size_t len;

	(void)state;
	len = msg_grey_encode(&a, "mx.example.org", "<a@example.org>",
	    "<b@example.net>", buf);
	assert_true(len > 0);
	assert_int_equal(msg_decode(buf, len, &m, &why), 0);
	assert_int_equal(m.type, MSG_GREY);
	assert_true(addr_eq(&m.u.grey.addr, &a));
	assert_string_equal(m.u.grey.helo, "mx.example.org");
	assert_string_equal(m.u.grey.from, "<a@example.org>");
	assert_string_equal(m.u.grey.to, "<b@example.net>");
	/* Empty strings are fine (no HELO). */
	len = msg_grey_encode(&a, "", "<>", "<b@example.net>", buf);
	assert_int_equal(msg_decode(buf, len, &m, &why), 0);
	assert_string_equal(m.u.grey.helo, "");
	/* Too long, or with a newline: not encoded at all. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(msg_grey_encode(&a, big, "", "", buf), 0);
	assert_int_equal(msg_grey_encode(&a, "a\nb", "", "", buf), 0);
}

static void
test_empty(void **state)
{
	uint8_t buf[MSG_MAXSIZE];
	struct msg m;
	const char *why = NULL;

	(void)state;
	assert_int_equal(msg_empty_encode(MSG_RELOAD_LISTS, buf), MSG_HDRSIZE);
	assert_int_equal(msg_decode(buf, MSG_HDRSIZE, &m, &why), 0);
	assert_int_equal(m.type, MSG_RELOAD_LISTS);
	assert_int_equal(msg_empty_encode(MSG_RELOAD_CONF, buf), MSG_HDRSIZE);
	assert_int_equal(msg_decode(buf, MSG_HDRSIZE, &m, &why), 0);
	assert_int_equal(m.type, MSG_RELOAD_CONF);
	assert_int_equal(msg_empty_encode(MSG_WHITE, buf), 0);
	assert_string_equal(msg_type_name(MSG_RELOAD_CONF), "reload-conf");
	assert_string_equal(msg_type_name(0), "?");
	assert_string_equal(msg_type_name(MSG_NTYPES), "?");
}

/* Every way a datagram can be wrong is refused, with a reason. */
static void
test_refused(void **state)
{
	struct addr a = A("192.0.2.7");
	uint8_t buf[MSG_MAXSIZE], bad[MSG_MAXSIZE];
	struct msg m;
	const char *why;
	size_t len;

	(void)state;
	len = msg_addr_encode(MSG_WHITE, &a, 5, buf);
	why = NULL;
	assert_int_equal(msg_decode(buf, 3, &m, &why), -1);
	assert_string_equal(why, "not a message (size)");
	memcpy(bad, buf, len);
	bad[0] = 2;
	assert_int_equal(msg_decode(bad, len, &m, &why), -1);
	assert_string_equal(why, "unknown message version");
	memcpy(bad, buf, len);
	bad[1] = MSG_NTYPES;
	assert_int_equal(msg_decode(bad, len, &m, &why), -1);
	assert_string_equal(why, "unknown message type");
	/* One byte short, or one too many, against the header's length. */
	assert_int_equal(msg_decode(buf, len - 1, &m, &why), -1);
	assert_string_equal(why, "length does not match the datagram");
	/* The header agrees, the type's fields do not fit. */
	memcpy(bad, buf, len);
	bad[3] = (uint8_t)(bad[3] - 1);
	assert_int_equal(msg_decode(bad, len - 1, &m, &why), -1);
	assert_string_equal(why, "message too short for its type");
	memcpy(bad, buf, len);
	bad[len] = 0;
	bad[3] = (uint8_t)(bad[3] + 1);
	assert_int_equal(msg_decode(bad, len + 1, &m, &why), -1);
	assert_string_equal(why, "trailing bytes after the message");
	/* An IPv4 address with bytes past its four, an unknown family. */
	memcpy(bad, buf, len);
	bad[MSG_HDRSIZE + 10] = 1;
	assert_int_equal(msg_decode(bad, len, &m, &why), -1);
	assert_string_equal(why, "not an address");
	memcpy(bad, buf, len);
	bad[MSG_HDRSIZE] = 5;
	assert_int_equal(msg_decode(bad, len, &m, &why), -1);
	/* A string hiding a NUL. */
	len = msg_grey_encode(&a, "ab", "", "", buf);
	buf[MSG_HDRSIZE + 17 + 2 + 1] = '\0';
	assert_int_equal(msg_decode(buf, len, &m, &why), -1);
	assert_string_equal(why, "string with a NUL or a newline");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_grey),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
