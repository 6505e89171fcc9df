/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * smtp: the fake SMTP dialogue, reply byte by reply byte.  Each test
 * drives one connection (or a few, one after another) the way the daemon
 * does: feed input, take the reply, feed the rest.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "smtp.h"

#define HOST	"mx.example.org"
#define BLACK	"450-You are on a list.\r\n450 Go away.\r\n"
#define GREY	SMTP_GREY_REPLY

#define R_HELO	"250 Hello, spam sender. Pleased to be wasting your time.\r\n"
#define R_NOHELO "501 helo requires domain name.\r\n"
#define R_MAIL	"250 You are about to try to deliver spam. " \
		"Your time will be spent, for nothing.\r\n"
#define R_RCPT	"250 This is hurting you more than it is hurting me.\r\n"
#define R_RSET	"250 Ok to start over.\r\n"
#define R_NOOP	"250 2.0.0 OK I did nothing\r\n"
#define R_DATA	"354 Enter spam, end with \".\" on a line by itself\r\n"
#define R_BAD	"500 5.5.1 Command unrecognized\r\n"
#define R_LONG	"500 5.5.1 Line too long\r\n"
#define R_QUIT	"221 " HOST "\r\n"
#define R_EHLO_TLS "250-" HOST "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" \
		"250 STARTTLS\r\n"
#define R_TLS	"220 glad you want to burn more CPU cycles on your spam\r\n"

#define MAXEV	64

struct ev {
	enum smtp_event_type	type;
	char			helo[SMTP_FIELDMAX + 1];
	char			from[SMTP_FIELDMAX + 1];
	char			to[SMTP_FIELDMAX + 1];
	char			line[2 * SMTP_LINEMAX];
	size_t			linelen;
};

struct conn {
	struct smtp		s;
	struct smtp_conf	conf;
	struct buf		reply;
	struct smtp_out		out;
	struct ev		ev[MAXEV];
	size_t			nev;
};

static void
record(void *arg, const struct smtp_event *e)
{
	struct conn	*c = arg;
	struct ev	*r;

	assert_true(c->nev < MAXEV);
	assert_non_null(e->helo);
	assert_non_null(e->from);
	assert_non_null(e->to);
	r = &c->ev[c->nev++];
	r->type = e->type;
	snprintf(r->helo, sizeof(r->helo), "%s", e->helo);
	snprintf(r->from, sizeof(r->from), "%s", e->from);
	snprintf(r->to, sizeof(r->to), "%s", e->to);
	r->linelen = e->linelen;
	if (e->line != NULL) {
		assert_true(e->linelen < sizeof(r->line));
		memcpy(r->line, e->line, e->linelen);
	}
	r->line[e->linelen] = '\0';
}

/* A fresh connection: grey or black, default limits. */
static void
reset(struct conn *c, bool black)
{
	smtp_free(&c->s);
	smtp_init(&c->s, black);
	c->conf.hostname = HOST;
	c->conf.name = "spamd-test";
	c->conf.linemax = 0;
	c->conf.maxbad = 0;
	c->conf.tls = false;
	buf_reset(&c->reply);
	c->out.reply = &c->reply;
	c->out.event = record;
	c->out.arg = c;
	c->out.blackreply = BLACK;
	c->out.blackreplylen = strlen(BLACK);
	c->nev = 0;
}

static int
setup(void **state)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	reset(c, false);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct conn	*c = *state;

	smtp_free(&c->s);
	buf_free(&c->reply);
	free(c);
	return 0;
}

/*
 * Feed in[0..len); the call must consume want_used bytes, return st and
 * reply exactly want.
 */
static void
feed_at(struct conn *c, const char *in, size_t len, size_t want_used,
    const char *want, enum smtp_status st, const char *file, int line)
{
	size_t			used = SIZE_MAX;
	enum smtp_status	r;

	r = smtp_input(&c->s, &c->conf, in, len, &used, &c->out);
	_assert_int_equal(r, st, file, line);
	_assert_int_equal(used, want_used, file, line);
	_assert_int_equal(c->reply.len, strlen(want), file, line);
	_assert_string_equal(c->reply.len ? c->reply.data : "", want, file,
	    line);
	buf_reset(&c->reply);
}

#define feed(c, in, len, used, want, st) \
	feed_at((c), (in), (len), (used), (want), (st), __FILE__, __LINE__)

/* One whole line (or several) consumed in full. */
#define say(c, in, want) \
	feed_at((c), (in), strlen(in), strlen(in), (want), SMTP_MORE, \
	    __FILE__, __LINE__)
#define bye(c, in, want) \
	feed_at((c), (in), strlen(in), strlen(in), (want), SMTP_CLOSE, \
	    __FILE__, __LINE__)

static void
assert_ev_at(const struct conn *c, size_t i, enum smtp_event_type type,
    const char *helo, const char *from, const char *to, const char *file,
    int line)
{
	_assert_true(i < c->nev, "event index", file, line);
	_assert_int_equal(c->ev[i].type, type, file, line);
	_assert_string_equal(c->ev[i].helo, helo, file, line);
	_assert_string_equal(c->ev[i].from, from, file, line);
	_assert_string_equal(c->ev[i].to, to, file, line);
}

#define assert_ev(c, i, type, helo, from, to) \
	assert_ev_at((c), (i), (type), (helo), (from), (to), __FILE__, \
	    __LINE__)

static void
assert_line_at(const struct conn *c, size_t i, enum smtp_event_type type,
    const char *text, size_t len, const char *file, int line)
{
	_assert_true(i < c->nev, "event index", file, line);
	_assert_int_equal(c->ev[i].type, type, file, line);
	_assert_int_equal(c->ev[i].linelen, len, file, line);
	_assert_true(memcmp(c->ev[i].line, text, len) == 0, text, file,
	    line);
}

#define assert_line(c, i, type, text) \
	assert_line_at((c), (i), (type), (text), strlen(text), __FILE__, \
	    __LINE__)

static void
test_banner(void **state)
{
	struct buf	b = { 0 };
	struct conn	*c = *state;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(smtp_banner(&c->conf, 1700000000, &b), 0);
	assert_string_equal(b.data, "220 mx.example.org ESMTP spamd-test; "
	    "Tue Nov 14 22:13:20 2023\r\n");
	buf_reset(&b);
	/* ctime pads a one-digit day with a blank. */
	assert_int_equal(smtp_banner(&c->conf, 0, &b), 0);
	assert_string_equal(b.data, "220 mx.example.org ESMTP spamd-test; "
	    "Thu Jan  1 00:00:00 1970\r\n");
	buf_free(&b);
}

static void
test_quit(void **state)
{
	struct conn	*c = *state;

	bye(c, "QUIT\r\n", R_QUIT);

	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	bye(c, "quit\r\n", R_QUIT);

	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	bye(c, "QUIT\r\n", R_QUIT);

	reset(c, true);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	bye(c, "Quit now\r\n", R_QUIT);
}

static void
test_after_close(void **state)
{
	struct conn	*c = *state;

	bye(c, "QUIT\r\n", R_QUIT);
	bye(c, "NOOP\r\n", "");
	bye(c, "HEL", "");
	feed(c, "", 0, 0, "", SMTP_CLOSE);
}

static void
test_rset(void **state)
{
	struct conn	*c = *state;

	/* Not before HELO: unrecognized, and counted. */
	say(c, "RSET\r\n", R_BAD);
	assert_int_equal(c->s.bad, 1);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "RSET\r\n", R_RSET);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RSET\r\n", R_RSET);
	/* MAIL is wanted again, and the old sender is forgotten. */
	say(c, "MAIL FROM:\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "rset\r\n", R_RSET);
	assert_int_equal(c->nev, 1);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "", "<c@d>");
	/* HELO is kept. */
	say(c, "MAIL FROM:<e@f>\r\n", R_MAIL);
	say(c, "RCPT TO:<g@h>\r\n", R_RCPT);
	assert_int_equal(c->nev, 3);
	assert_ev(c, 2, SMTP_EV_TUPLE, "a.example", "<e@f>", "<g@h>");
	assert_int_equal(c->s.bad, 1);

	/* As spamd: MAIL before HELO is past the HELO state. */
	reset(c, false);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RSET\r\n", R_RSET);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);

	/* Not in DATA: just a body line there. */
	reset(c, true);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "DATA\r\n", R_DATA);
	say(c, "RSET\r\n", "");
	bye(c, ".\r\n", BLACK);
}

static void
test_helo(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO\r\n", R_NOHELO);
	say(c, "HELO \t \r\n", R_NOHELO);
	assert_null(c->s.helo);
	assert_int_equal(c->s.bad, 0);
	say(c, "HELO a.example\r\n", R_HELO);
	assert_string_equal(c->s.helo, "a.example");
	/* A second HELO falls through to "unrecognized". */
	say(c, "HELO b.example\r\n", R_BAD);
	say(c, "EHLO b.example\r\n", R_BAD);
	assert_string_equal(c->s.helo, "a.example");

	reset(c, false);
	say(c, "EHLO\r\n", R_NOHELO);
	say(c, "EHLO  b.example   extra\r\n", R_HELO);
	assert_string_equal(c->s.helo, "b.example");
}

static void
test_mail_rcpt(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "MAIL FROM:<x@y>\r\n", R_BAD);
	assert_string_equal(c->s.from, "<a@b>");
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "RCPT TO:<e@f>\r\n", R_RCPT);
	say(c, "MAIL FROM:<x@y>\r\n", R_BAD);
	say(c, "HELO b.example\r\n", R_BAD);
	assert_int_equal(c->s.bad, 3);
}

static void
test_before_helo(void **state)
{
	struct conn	*c = *state;

	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	/* Past the HELO state now. */
	say(c, "HELO a.example\r\n", R_BAD);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	assert_int_equal(c->nev, 2);
	assert_ev(c, 0, SMTP_EV_RCPT, "", "<a@b>", "<c@d>");
	assert_ev(c, 1, SMTP_EV_TUPLE, "", "<a@b>", "<c@d>");

	/* RCPT first: no sender, no tuple, and MAIL is too late. */
	reset(c, false);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "MAIL FROM:<a@b>\r\n", R_BAD);
	assert_int_equal(c->nev, 1);
	assert_ev(c, 0, SMTP_EV_RCPT, "", "", "<c@d>");

	/* RCPT right after HELO is accepted too. */
	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
}

static void
test_noop(void **state)
{
	struct conn	*c = *state;
	int		 i;

	say(c, "NOOP\r\n", R_NOOP);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "noop\r\n", R_NOOP);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "NOOP\r\n", R_NOOP);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	for (i = 0; i < 50; i++)
		say(c, "NOOP\r\n", R_NOOP);
	assert_int_equal(c->s.bad, 0);
	/* The state survives: RCPT still accepted. */
	say(c, "RCPT TO:<e@f>\r\n", R_RCPT);
}

static void
test_unknown(void **state)
{
	struct conn	*c = *state;

	say(c, "FOO\r\n", R_BAD);
	say(c, "\r\n", R_BAD);
	say(c, "HEL\r\n", R_BAD);
	/* Still waiting for HELO. */
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "VRFY root\r\n", R_BAD);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "STARTTLS\r\n", R_BAD);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	assert_int_equal(c->s.bad, 5);
}

static void
test_maxbad_grey(void **state)
{
	struct conn	*c = *state;
	int		 i;

	for (i = 0; i < 10; i++)
		say(c, "FOO\r\n", R_BAD);
	say(c, "HELO a.example\r\n", R_HELO);
	for (; i < SMTP_MAXBAD; i++)
		say(c, "BAR\r\n", R_BAD);
	bye(c, "BAZ\r\n", GREY);
	bye(c, "NOOP\r\n", "");
}

static void
test_maxbad_black(void **state)
{
	struct conn	*c = *state;
	int		 i;

	reset(c, true);
	for (i = 0; i < SMTP_MAXBAD; i++)
		say(c, "FOO\r\n", R_BAD);
	bye(c, "FOO\r\n", BLACK);
}

static void
test_maxbad_conf(void **state)
{
	struct conn	*c = *state;

	c->conf.maxbad = 2;
	say(c, "FOO\r\n", R_BAD);
	say(c, "FOO\r\n", R_BAD);
	bye(c, "FOO\r\n", GREY);

	/* A black client without a message still gets a reply. */
	reset(c, true);
	c->conf.maxbad = 1;
	c->out.blackreply = NULL;
	c->out.blackreplylen = 0;
	say(c, "FOO\r\n", R_BAD);
	bye(c, "FOO\r\n", GREY);
}

static void
test_data_grey(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	bye(c, "DATA\r\n", GREY);
	bye(c, "Subject: x\r\n", "");

	/* DATA works in any state. */
	reset(c, false);
	bye(c, "data\r\n", GREY);
	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	bye(c, "DATA\r\n", GREY);
}

static void
test_data_black_dot(void **state)
{
	static const char	msg[] =
	    "From: Spammer <a@b>\r\n"
	    "to: you\r\n"
	    "SUBJECT: buy\r\n"
	    "X-Mailer: junk\r\n"
	    "Fromage: no\r\n"
	    "\r\n"
	    "body one\r\n"
	    "\r\n"
	    "From: in the body\r\n"
	    ".\r\n";
	static const char	more[] = "QUIT\r\n";
	char			 in[sizeof(msg) + sizeof(more)];
	struct conn		*c = *state;

	reset(c, true);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	assert_int_equal(c->nev, 1);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "<a@b>", "<c@d>");
	say(c, "DATA\r\n", R_DATA);

	/* The whole message in one read: consumed up to the dot. */
	memcpy(in, msg, strlen(msg));
	memcpy(in + strlen(msg), more, strlen(more));
	feed(c, in, strlen(msg) + strlen(more), strlen(msg), BLACK,
	    SMTP_CLOSE);
	assert_int_equal(c->nev, 6);
	assert_line(c, 1, SMTP_EV_HEADER, "From: Spammer <a@b>");
	assert_line(c, 2, SMTP_EV_HEADER, "to: you");
	assert_line(c, 3, SMTP_EV_HEADER, "SUBJECT: buy");
	assert_line(c, 4, SMTP_EV_BODY, "body one");
	assert_line(c, 5, SMTP_EV_BODY, "From: in the body");
}

static void
test_data_black_lines(void **state)
{
	struct conn	*c = *state;
	char		 l[32];
	int		 i;

	reset(c, true);
	say(c, "DATA\r\n", R_DATA);
	/* Header lines are not counted, however many. */
	for (i = 0; i < 30; i++)
		say(c, "X-Header: x\r\n", "");
	say(c, "\r\n", "");
	for (i = 1; i < SMTP_DATALINES; i++) {
		snprintf(l, sizeof(l), "line %d\n", i);
		say(c, l, "");
	}
	/* Empty body lines count but make no event. */
	bye(c, "\r\n", BLACK);
	assert_int_equal(c->nev, SMTP_DATALINES - 1);
	assert_line(c, 0, SMTP_EV_BODY, "line 1");
	assert_line(c, 8, SMTP_EV_BODY, "line 9");

	/* The dot ends the message in the headers too. */
	reset(c, true);
	say(c, "DATA\r\n", R_DATA);
	say(c, "Subject: x\r\n", "");
	say(c, "..\r\n", "");
	say(c, ". \r\n", "");
	bye(c, ".\n", BLACK);

	/* QUIT is a body line in DATA. */
	reset(c, true);
	say(c, "DATA\r\n", R_DATA);
	say(c, "QUIT\r\n", "");
	bye(c, ".\r\n", BLACK);
}

static void
test_case_prefix(void **state)
{
	struct conn	*c = *state;

	say(c, "hElO a.example\r\n", R_HELO);
	say(c, "mail from:<a@b>\r\n", R_MAIL);
	say(c, "rcpt to:<c@d>\r\n", R_RCPT);
	say(c, "NoOp\r\n", R_NOOP);
	assert_ev(c, 1, SMTP_EV_TUPLE, "a.example", "<a@b>", "<c@d>");

	/* Verbs are prefixes; HELO's argument starts after 4 bytes. */
	reset(c, false);
	say(c, "HELOX foo\r\n", R_HELO);
	assert_string_equal(c->s.helo, "X");
	say(c, "MAILBOX FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPTS TO:<c@d>\r\n", R_RCPT);
	say(c, "NOOPING\r\n", R_NOOP);
	assert_ev(c, 1, SMTP_EV_TUPLE, "X", "<a@b>", "<c@d>");
	say(c, "RSETTLE\r\n", R_RSET);
	bye(c, "QUITE\r\n", R_QUIT);

	reset(c, true);
	say(c, "DATAGRAM\r\n", R_DATA);
}

static void
test_args(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b> SIZE=100\r\n", R_MAIL);
	assert_string_equal(c->s.from, "<a@b>");
	say(c, "RCPT TO: <x@y>\r\n", R_RCPT);
	say(c, "RCPT TO:\t \t<z@y> NOTIFY=NEVER\r\n", R_RCPT);
	assert_int_equal(c->nev, 4);
	assert_ev(c, 1, SMTP_EV_TUPLE, "a.example", "<a@b>", "<x@y>");
	assert_ev(c, 3, SMTP_EV_TUPLE, "a.example", "<a@b>", "<z@y>");

	/* No colon: no argument, and no tuple. */
	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM <a@b>\r\n", R_MAIL);
	assert_null(c->s.from);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "RCPT TO <e@f>\r\n", R_RCPT);
	assert_int_equal(c->nev, 1);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "", "<c@d>");

	/* The first colon counts; <> is a sender like any other. */
	reset(c, false);
	say(c, "MAIL FROM:<>\r\n", R_MAIL);
	say(c, "RCPT TO:<a:b@c>\r\n", R_RCPT);
	assert_int_equal(c->nev, 2);
	assert_ev(c, 1, SMTP_EV_TUPLE, "", "<>", "<a:b@c>");
}

static void
test_tuples(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "RCPT TO:<e@f>\r\n", R_RCPT);
	say(c, "RCPT TO:\r\n", R_RCPT);
	say(c, "RCPT TO:<g@h>\r\n", R_RCPT);
	assert_int_equal(c->nev, 6);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "<a@b>", "<c@d>");
	assert_ev(c, 1, SMTP_EV_TUPLE, "a.example", "<a@b>", "<c@d>");
	assert_ev(c, 2, SMTP_EV_RCPT, "a.example", "<a@b>", "<e@f>");
	assert_ev(c, 3, SMTP_EV_TUPLE, "a.example", "<a@b>", "<e@f>");
	assert_ev(c, 4, SMTP_EV_RCPT, "a.example", "<a@b>", "<g@h>");
	assert_ev(c, 5, SMTP_EV_TUPLE, "a.example", "<a@b>", "<g@h>");

	/* Black: logged, never greylisted. */
	reset(c, true);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	say(c, "RCPT TO:<e@f>\r\n", R_RCPT);
	assert_int_equal(c->nev, 2);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "<a@b>", "<c@d>");
	assert_ev(c, 1, SMTP_EV_RCPT, "a.example", "<a@b>", "<e@f>");

	/* Empty sender. */
	reset(c, false);
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "MAIL FROM: \r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	assert_int_equal(c->nev, 1);
	assert_ev(c, 0, SMTP_EV_RCPT, "a.example", "", "<c@d>");

	/* No callback: nothing breaks. */
	reset(c, false);
	c->out.event = NULL;
	say(c, "MAIL FROM:<a@b>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\r\n", R_RCPT);
	assert_int_equal(c->nev, 0);
}

static void
test_truncate(void **state)
{
	struct conn	*c = *state;
	char		 in[SMTP_LINEMAX], want[SMTP_FIELDMAX + 1];

	memset(want, 'h', SMTP_FIELDMAX);
	want[SMTP_FIELDMAX] = '\0';
	snprintf(in, sizeof(in), "HELO %s%s\r\n", want, "hhhhhhhh");
	say(c, in, R_HELO);
	assert_string_equal(c->s.helo, want);

	memset(want, 'f', SMTP_FIELDMAX);
	snprintf(in, sizeof(in), "MAIL FROM:%s%0500d\r\n", want, 0);
	say(c, in, R_MAIL);
	assert_string_equal(c->s.from, want);

	memset(want, 't', SMTP_FIELDMAX);
	snprintf(in, sizeof(in), "RCPT TO:%s%0700d\r\n", want, 0);
	say(c, in, R_RCPT);
	assert_int_equal(c->nev, 2);
	assert_int_equal(strlen(c->ev[1].to), SMTP_FIELDMAX);
	assert_string_equal(c->ev[1].to, want);

	/* Exactly SMTP_FIELDMAX is kept whole. */
	reset(c, false);
	snprintf(in, sizeof(in), "HELO %s\r\n", want);
	say(c, in, R_HELO);
	assert_string_equal(c->s.helo, want);
}

static void
test_bare_lf(void **state)
{
	struct conn	*c = *state;

	say(c, "HELO a.example\n", R_HELO);
	assert_string_equal(c->s.helo, "a.example");
	say(c, "MAIL FROM:<a@b>\n", R_MAIL);
	say(c, "RCPT TO:<c@d>\n", R_RCPT);
	assert_ev(c, 1, SMTP_EV_TUPLE, "a.example", "<a@b>", "<c@d>");
	say(c, "\n", R_BAD);
	bye(c, "QUIT\n", R_QUIT);
}

static void
test_split(void **state)
{
	struct conn	*c = *state;
	const char	*in = "HELO x\r\n";

	/* The caller keeps what was not used and appends to it. */
	feed(c, in, 3, 0, "", SMTP_MORE);
	feed(c, in, 7, 0, "", SMTP_MORE);
	feed(c, in, 8, 8, R_HELO, SMTP_MORE);
	assert_string_equal(c->s.helo, "x");
	feed(c, "", 0, 0, "", SMTP_MORE);
	feed(c, NULL, 0, 0, "", SMTP_MORE);
}

static void
test_pipelined(void **state)
{
	static const char	in[] =
	    "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nNOO";
	struct conn		*c = *state;
	size_t			 len = strlen(in), off;

	feed(c, in, len, 8, R_HELO, SMTP_MORE);
	assert_int_equal(c->nev, 0);
	off = 8;
	feed(c, in + off, len - off, 17, R_MAIL, SMTP_MORE);
	off += 17;
	feed(c, in + off, len - off, 15, R_RCPT, SMTP_MORE);
	off += 15;
	assert_int_equal(c->nev, 2);
	assert_ev(c, 1, SMTP_EV_TUPLE, "a", "<a@b>", "<c@d>");
	feed(c, in + off, len - off, 0, "", SMTP_MORE);
}

static void
test_nul(void **state)
{
	static const char	helo[] = "HELO a\0b\r\n";
	static const char	nul[] = "\0\r\n";
	static const char	body[] = "x\0y\r\n";
	struct conn		*c = *state;

	c->conf.maxbad = 2;
	feed(c, helo, sizeof(helo) - 1, sizeof(helo) - 1, R_BAD, SMTP_MORE);
	assert_null(c->s.helo);
	feed(c, nul, sizeof(nul) - 1, sizeof(nul) - 1, R_BAD, SMTP_MORE);
	say(c, "HELO a\r\n", R_HELO);
	feed(c, helo, sizeof(helo) - 1, sizeof(helo) - 1, GREY, SMTP_CLOSE);

	/* In DATA a NUL is just a byte of the body. */
	reset(c, true);
	say(c, "DATA\r\n", R_DATA);
	say(c, "\r\n", "");
	feed(c, body, sizeof(body) - 1, sizeof(body) - 1, "", SMTP_MORE);
	assert_int_equal(c->nev, 1);
	assert_line_at(c, 0, SMTP_EV_BODY, "x\0y", 3, __FILE__, __LINE__);
}

static void
test_overlong(void **state)
{
	struct conn	*c = *state;
	char		 in[SMTP_LINEMAX + 2];

	/* LF included, SMTP_LINEMAX bytes fit. */
	memset(in, 'A', sizeof(in));
	in[SMTP_LINEMAX - 1] = '\n';
	feed(c, in, SMTP_LINEMAX, SMTP_LINEMAX, R_BAD, SMTP_MORE);
	/* One byte short of the limit, no LF yet: wait. */
	feed(c, in, SMTP_LINEMAX - 1, 0, "", SMTP_MORE);
	/* At the limit without LF: no need to wait for more. */
	in[SMTP_LINEMAX - 1] = '\r';
	in[SMTP_LINEMAX] = '\n';
	feed(c, in, SMTP_LINEMAX, SMTP_LINEMAX, R_LONG, SMTP_CLOSE);
	bye(c, "\n", "");

	reset(c, false);
	c->conf.linemax = 8;
	say(c, "HELO a\r\n", R_HELO);
	feed(c, "MAIL FROM:<a@b>\r\n", 17, 8, R_LONG, SMTP_CLOSE);

	/* A lone CR is not an end of line. */
	reset(c, false);
	c->conf.linemax = 8;
	feed(c, "NOOP\rNOOP\r\n", 12, 8, R_LONG, SMTP_CLOSE);
}

static void
test_overlong_data(void **state)
{
	struct conn	*c = *state;
	char		 in[64];
	int		 i;

	reset(c, true);
	c->conf.linemax = 16;
	say(c, "DATA\r\n", R_DATA);
	/* An overlong header is reported by its first piece. */
	say(c, "Subject: 0123456789abcdefghijklmnopqrstuvwxyz\r\n", "");
	assert_int_equal(c->nev, 1);
	assert_line(c, 0, SMTP_EV_HEADER, "Subject: 0123456");
	/* Its last piece is neither a blank line nor a dot. */
	say(c, "Subject: 012345\r\n", "");
	say(c, "Subject: 0123456.\r\n", "");
	say(c, "Subject: 0123456\r\n", "");
	assert_int_equal(c->nev, 4);
	say(c, "\r\n", "");

	/* An overlong body line counts once, whole or fed in pieces. */
	memset(in, 'b', sizeof(in));
	in[sizeof(in) - 1] = '\n';
	say(c, "x\r\n", "");
	feed(c, in, 40, 32, "", SMTP_MORE);
	feed(c, in + 32, sizeof(in) - 32, sizeof(in) - 32, "", SMTP_MORE);
	for (i = 3; i < SMTP_DATALINES; i++)
		say(c, "y\r\n", "");
	assert_int_equal(c->nev, 4 + SMTP_DATALINES - 1);
	assert_line(c, 5, SMTP_EV_BODY, "bbbbbbbbbbbbbbbb");
	/* The tenth line, itself overlong, ends it. */
	feed(c, in, sizeof(in), 16, BLACK, SMTP_CLOSE);
}

/* A flood of commands never piles up replies. */
static void
test_memory_bound(void **state)
{
	struct conn		*c = *state;
	enum smtp_status	 r;
	size_t			 len = 1024 * 1024, off = 0, used, most = 0;
	char			*in;

	if ((in = malloc(len)) == NULL)
		fail();
	for (off = 0; off + 6 <= len; off += 6)
		memcpy(in + off, "NOOP\r\n", 6);
	len = off;
	off = 0;
	while (off < len) {
		r = smtp_input(&c->s, &c->conf, in + off, len - off, &used,
		    &c->out);
		assert_int_equal(r, SMTP_MORE);
		assert_int_equal(used, 6);
		if (c->reply.len > most)
			most = c->reply.len;
		assert_string_equal(c->reply.data, R_NOOP);
		buf_reset(&c->reply);
		off += used;
	}
	assert_true(most <= 100);
	assert_true(c->reply.cap <= 128);
	free(in);
}

/* STARTTLS (as in spamd): offered to greylisted EHLO clients only. */
static void
test_starttls(void **state)
{
	struct conn	*c = *state;
	const char	*in = "STARTTLS\r\nEHLO sneaky\r\n";

	c->conf.tls = true;
	say(c, "EHLO a.example\r\n", R_EHLO_TLS);
	/* The 220; what was pipelined after it is not consumed. */
	feed(c, in, strlen(in), 10, R_TLS, SMTP_STARTTLS);
	/* Until the handshake, nothing more is read. */
	feed(c, "QUIT\r\n", 6, 0, "", SMTP_STARTTLS);
	smtp_tls_started(&c->s);
	assert_true(c->s.tls);
	/* Over TLS: again from HELO, nothing kept, no second offer. */
	say(c, "EHLO b.example\r\n", R_HELO);
	say(c, "STARTTLS\r\n", R_BAD);
	say(c, "MAIL FROM:<a@b.example>\r\n", R_MAIL);
	say(c, "RCPT TO:<c@d.example>\r\n", R_RCPT);
	assert_ev(c, c->nev - 1, SMTP_EV_TUPLE, "b.example", "<a@b.example>",
	    "<c@d.example>");
	bye(c, "DATA\r\n", GREY);
}

static void
test_starttls_not_offered(void **state)
{
	struct conn	*c = *state;

	/* Not configured. */
	say(c, "EHLO a.example\r\n", R_HELO);
	say(c, "STARTTLS\r\n", R_BAD);
	/* Configured: HELO, a blacklisted client, the caller's limit. */
	reset(c, false);
	c->conf.tls = true;
	say(c, "HELO a.example\r\n", R_HELO);
	say(c, "STARTTLS\r\n", R_BAD);
	reset(c, true);
	c->conf.tls = true;
	say(c, "EHLO a.example\r\n", R_HELO);
	say(c, "STARTTLS\r\n", R_BAD);
	reset(c, false);
	c->conf.tls = true;
	c->s.notls = true;
	say(c, "EHLO a.example\r\n", R_HELO);
	say(c, "STARTTLS\r\n", R_BAD);
	/* Only right after the offering EHLO, and only the bare verb. */
	reset(c, false);
	c->conf.tls = true;
	say(c, "EHLO a.example\r\n", R_EHLO_TLS);
	say(c, "NOOP\r\n", R_NOOP);
	say(c, "STARTTLS\r\n", R_BAD);
	reset(c, false);
	c->conf.tls = true;
	say(c, "EHLO a.example\r\n", R_EHLO_TLS);
	say(c, "STARTTLS now\r\n", R_BAD);
	reset(c, false);
	c->conf.tls = true;
	say(c, "EHLO a.example\r\n", R_EHLO_TLS);
	feed(c, "starttls\r\n", 10, 10, R_TLS, SMTP_STARTTLS);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_banner),
		T(test_quit),
		T(test_after_close),
		T(test_rset),
		T(test_helo),
		T(test_mail_rcpt),
		T(test_before_helo),
		T(test_noop),
		T(test_unknown),
		T(test_maxbad_grey),
		T(test_maxbad_black),
		T(test_maxbad_conf),
		T(test_data_grey),
		T(test_data_black_dot),
		T(test_data_black_lines),
		T(test_case_prefix),
		T(test_args),
		T(test_tuples),
		T(test_truncate),
		T(test_bare_lf),
		T(test_split),
		T(test_pipelined),
		T(test_nul),
		T(test_overlong),
		T(test_overlong_data),
		T(test_memory_bound),
		T(test_starttls),
		T(test_starttls_not_offered),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
