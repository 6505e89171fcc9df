/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * Differential libFuzzer harness for the SMTP engine (src/lib/smtp.c)
 * against a model of the dialogue written from its description in
 * man/nfspamd.8 (DESCRIPTION and STARTTLS) and src/lib/smtp.h, not from
 * smtp.c:
 *
 *  - a command is recognised when the line starts with its name, in any
 *    case; HELO/EHLO (which needs an argument: 501 without one, as
 *    spamd), MAIL and RCPT are steps answered 250, a step may be left
 *    out, but a step earlier than the one reached is not recognised;
 *  - RSET, once a step was accepted, goes back to the point after HELO;
 *    NOOP is 250; QUIT is "221 hostname" and the end;
 *  - anything else (a line holding a NUL too) is "500 5.5.1 Command
 *    unrecognized", and the one past the limit (20 by default) gets the
 *    client's final reply and the end;
 *  - a command line longer than the line limit, its end included, gets
 *    "500 5.5.1 Line too long" and the end, as soon as that many bytes
 *    are in;
 *  - DATA: a greylisted client gets the 451 and the end; a blacklisted
 *    one gets 354, then its message is read up to a line holding a
 *    single dot or the tenth line after the header block (a line longer
 *    than the limit counts once, by its first part), and then gets its
 *    lists' reply and the end;
 *  - EHLO to a client that is not black, with TLS on, not refused by the
 *    caller and not over TLS yet, gets the four-line offer; the line
 *    right after it, if it is STARTTLS, gets the 220 and the handshake,
 *    and what was sent after it is dropped; then the dialogue starts
 *    again at HELO/EHLO with nothing kept;
 *  - each RCPT with an argument is an event, and a tuple event too when
 *    the client is not black and MAIL had an argument; From:, To: and
 *    Subject: header lines and non-empty body lines of a black client's
 *    message are events.
 *
 * The input is fed in chunks, as the daemon does; after each chunk the
 * replies (codes and separators always, the text where the manual gives
 * it) and the events must be exactly the model's.
 *
 * Input: byte 0: bit 0 black, bits 1-2 the line limit, bits 3-5 the
 * unrecognised-command limit (0: the default), bit 6 TLS on, bit 7 the
 * caller refuses STARTTLS; bytes 1-4 the chunk lengths, used in turn
 * (0: all the rest); then the client's bytes.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "smtp.h"

#define HEAD		5
#define HOST		"mx.example.org"
#define BLACKREPLY	"450-Your address is listed.\r\n450 Go away.\r\n"
#define ANY		'\001'	/* in an expected line: any text */

static const size_t	linemaxes[4] = { 0, 1, 16, 300 };

struct model {
	/* The setting. */
	bool		 black, tlsconf, notls;
	size_t		 linemax;
	unsigned	 maxbad;
	/* The dialogue. */
	unsigned	 reached;	/* 1 HELO, 2 MAIL, 3 RCPT: the step
					   wanted next */
	unsigned	 bad;
	bool		 offered, tls, closed, handshake;
	bool		 data, body, skip;
	unsigned	 bodylines;
	char		 helo[SMTP_FIELDMAX + 1], from[SMTP_FIELDMAX + 1];
	/* Bytes not yet used, replies and events expected. */
	struct buf	 in, reply, ev;
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char
upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Does the line start with word, in any case? */
static bool
starts(const char *line, size_t len, const char *word)
{
	size_t	i;

	for (i = 0; word[i] != '\0'; i++)
		if (i >= len || upper(line[i]) != word[i])
			return false;
	return true;
}

/* The first word of p[0..len) after blanks, at most SMTP_FIELDMAX. */
static void
word(const char *p, size_t len, char *out)
{
	size_t	i = 0, n = 0;

	while (i < len && is_blank(p[i]))
		i++;
	while (i < len && !is_blank(p[i]) && n < SMTP_FIELDMAX)
		out[n++] = p[i++];
	out[n] = '\0';
}

/* A path argument: the word after the line's first colon. */
static void
path(const char *line, size_t len, char *out)
{
	const char	*c = memchr(line, ':', len);

	if (c == NULL)
		out[0] = '\0';
	else
		word(c + 1, len - (size_t)(c + 1 - line), out);
}

static void
event(struct buf *ev, char type, const char *helo, const char *from,
    const char *to, const char *line, size_t linelen)
{
	CHECK(buf_printf(ev, "%c|%s|%s|%s|%zu|", type, helo, from, to,
	    linelen) == 0);
	CHECK(buf_append(ev, line, linelen) == 0);
	CHECK(buf_puts(ev, "\n") == 0);
}

static void
expect(struct model *m, const char *line)
{
	CHECK(buf_puts(&m->reply, line) == 0);
	CHECK(buf_puts(&m->reply, "\r\n") == 0);
}

/* The reply that ends the dialogue. */
static void
final(struct model *m)
{
	m->closed = true;
	if (m->black)
		CHECK(buf_puts(&m->reply, BLACKREPLY) == 0);
	else
		expect(m, "451 Temporary failure, please try again later.");
}

static void
unrecognised(struct model *m)
{
	if (++m->bad > m->maxbad)
		final(m);
	else
		expect(m, "500 5.5.1 Command unrecognized");
}

static void
command(struct model *m, const char *line, size_t len)
{
	bool	offered = m->offered;
	char	arg[SMTP_FIELDMAX + 1];

	m->offered = false;
	if (memchr(line, '\0', len) != NULL) {
		unrecognised(m);
		return;
	}
	if (offered && len == 8 && starts(line, len, "STARTTLS")) {
		expect(m, "220 glad you want to burn more CPU cycles on your "
		    "spam");
		m->handshake = true;
		return;
	}
	if (starts(line, len, "QUIT")) {
		expect(m, "221 " HOST);
		m->closed = true;
	} else if (starts(line, len, "RSET") && m->reached >= 2) {
		expect(m, "250 \001");
		m->from[0] = '\0';
		m->reached = 2;
	} else if ((starts(line, len, "HELO") || starts(line, len, "EHLO")) &&
	    m->reached <= 1) {
		word(line + 4, len - 4, arg);
		if (arg[0] == '\0') {
			expect(m, "501 \001");
			return;
		}
		memcpy(m->helo, arg, sizeof(arg));
		m->reached = 2;
		if (starts(line, len, "EHLO") && m->tlsconf && !m->black &&
		    !m->notls && !m->tls) {
			expect(m, "250-" HOST);
			expect(m, "250-8BITMIME");
			expect(m, "250-SMTPUTF8");
			expect(m, "250 STARTTLS");
			m->offered = true;
		} else
			expect(m, "250 \001");
	} else if (starts(line, len, "MAIL") && m->reached <= 2) {
		path(line, len, m->from);
		m->reached = 3;
		expect(m, "250 \001");
	} else if (starts(line, len, "RCPT") && m->reached <= 3) {
		path(line, len, arg);
		if (arg[0] != '\0') {
			event(&m->ev, 'R', m->helo, m->from, arg, "", 0);
			if (!m->black && m->from[0] != '\0')
				event(&m->ev, 'T', m->helo, m->from, arg, "",
				    0);
		}
		m->reached = 3;
		expect(m, "250 \001");
	} else if (starts(line, len, "DATA")) {
		if (!m->black) {
			final(m);
			return;
		}
		expect(m, "354 \001");
		m->data = true;
		m->body = false;
		m->bodylines = 0;
	} else if (starts(line, len, "NOOP"))
		expect(m, "250 \001");
	else
		unrecognised(m);
}

/* A line of the message; whole is false for the start of a long one. */
static void
message(struct model *m, const char *line, size_t len, bool whole)
{
	if (whole && len == 1 && line[0] == '.') {
		final(m);
		return;
	}
	if (m->body) {
		if (++m->bodylines >= 10)
			final(m);
		else if (len > 0)
			event(&m->ev, 'B', m->helo, m->from, "", line, len);
	} else if (len == 0)
		m->body = true;
	else if (starts(line, len, "FROM:") || starts(line, len, "TO:") ||
	    starts(line, len, "SUBJECT:"))
		event(&m->ev, 'H', m->helo, m->from, "", line, len);
}

static void
model_feed(struct model *m, const uint8_t *p, size_t n)
{
	const char	*s, *lf;
	size_t		 len;

	CHECK(buf_append(&m->in, p, n) == 0);
	while (!m->closed && !m->handshake && m->in.len > 0) {
		s = m->in.data;
		lf = memchr(s, '\n', m->in.len);
		if (m->skip) {
			/* The rest of a long message line. */
			if (lf == NULL) {
				buf_reset(&m->in);
				break;
			}
			m->skip = false;
			buf_consume(&m->in, (size_t)(lf - s) + 1);
			continue;
		}
		if (lf != NULL && (size_t)(lf - s) < m->linemax) {
			len = (size_t)(lf - s);
			if (len > 0 && s[len - 1] == '\r')
				len--;
			if (m->data)
				message(m, s, len, true);
			else
				command(m, s, len);
			buf_consume(&m->in, (size_t)(lf - s) + 1);
		} else if (m->in.len >= m->linemax) {
			if (m->data) {
				message(m, s, m->linemax, false);
				m->skip = true;
			} else {
				expect(m, "500 5.5.1 Line too long");
				m->closed = true;
			}
			buf_consume(&m->in, m->linemax);
		} else
			break;
	}
	if (m->handshake) {
		/* RFC 3207: what came after STARTTLS is dropped. */
		buf_reset(&m->in);
		m->handshake = false;
		m->tls = true;
		m->reached = 1;
		m->bad = 0;
		m->helo[0] = m->from[0] = '\0';
	}
}

/* The engine's events, in the model's notation. */
static void
on_event(void *arg, const struct smtp_event *e)
{
	struct buf	*ev = arg;
	static const char types[] = { 'T', 'R', 'H', 'B' };

	CHECK((unsigned)e->type < sizeof(types));
	event(ev, types[e->type], e->helo, e->from, e->to,
	    e->line != NULL ? e->line : "", e->line != NULL ? e->linelen : 0);
}

static void
show(const char *what, const struct buf *b)
{
	fprintf(stderr, "%s: \"%.*s\"\n", what, (int)b->len,
	    b->data != NULL ? b->data : "");
}

/* got holds whole reply lines; want the same, with ANY for any text. */
static void
compare(const struct buf *got, const struct buf *want, const struct buf *gotev,
    const struct buf *wantev)
{
	const char	*g = got->len > 0 ? got->data : "";
	const char	*w = want->len > 0 ? want->data : "";
	const char	*gend = g + got->len, *wend = w + want->len, *ge, *we;
	bool		 same = true;

	while (same && g < gend && w < wend) {
		ge = memchr(g, '\n', (size_t)(gend - g));
		we = memchr(w, '\n', (size_t)(wend - w));
		CHECK(ge != NULL && we != NULL);
		if (we - w >= 5 && w[4] == ANY)
			same = ge - g >= 5 && memcmp(g, w, 4) == 0;
		else
			same = ge - g == we - w && memcmp(g, w,
			    (size_t)(ge - g)) == 0;
		g = ge + 1;
		w = we + 1;
	}
	if (!same || g != gend || w != wend) {
		show("smtp.c replies", got);
		show("model replies", want);
		abort();
	}
	if (gotev->len != wantev->len || (gotev->len > 0 &&
	    memcmp(gotev->data, wantev->data, gotev->len) != 0)) {
		show("smtp.c events", gotev);
		show("model events", wantev);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp		 s;
	struct smtp_conf	 conf = { HOST, "nfspamd", 0, 0, false };
	struct smtp_out		 out;
	struct model		 m;
	struct buf		 pend = { 0 }, reply = { 0 }, got = { 0 },
				 gotev = { 0 };
	enum smtp_status	 st = SMTP_MORE;
	const uint8_t		*chunks;
	size_t			 off, n, used, step = 0;

	if (size < HEAD)
		return 0;
	memset(&m, 0, sizeof(m));
	m.black = data[0] & 1;
	conf.linemax = linemaxes[(data[0] >> 1) & 3];
	conf.maxbad = (data[0] >> 3) & 7;
	conf.tls = m.tlsconf = (data[0] >> 6) & 1;
	m.notls = (data[0] >> 7) & 1;
	m.linemax = conf.linemax != 0 ? conf.linemax : 1024;
	m.maxbad = conf.maxbad != 0 ? conf.maxbad : 20;
	m.reached = 1;
	chunks = data + 1;
	data += HEAD;
	size -= HEAD;

	memset(&out, 0, sizeof(out));
	out.reply = &reply;
	out.event = on_event;
	out.arg = &gotev;
	out.blackreply = BLACKREPLY;
	out.blackreplylen = strlen(BLACKREPLY);
	smtp_init(&s, m.black);
	s.notls = m.notls;

	CHECK(smtp_banner(&conf, 0, &reply) == 0);
	CHECK(reply.len > 4 && memcmp(reply.data, "220 " HOST " ESMTP nfspamd; ",
	    strlen("220 " HOST " ESMTP nfspamd; ")) == 0);
	buf_reset(&reply);

	for (off = 0; off < size && st == SMTP_MORE; off += n, step++) {
		n = chunks[step % 4] != 0 ? chunks[step % 4] : size - off;
		if (n > size - off)
			n = size - off;
		CHECK(buf_append(&pend, data + off, n) == 0);
		do {
			st = smtp_input(&s, &conf, pend.data, pend.len, &used,
			    &out);
			CHECK(st != SMTP_ERROR && used <= pend.len);
			CHECK(buf_append(&got, reply.data, reply.len) == 0);
			buf_reset(&reply);
			if (st == SMTP_STARTTLS) {
				buf_reset(&pend);
				smtp_tls_started(&s);
				st = SMTP_MORE;
				break;
			}
			buf_consume(&pend, used);
		} while (st == SMTP_MORE && used > 0);

		model_feed(&m, data + off, n);
		compare(&got, &m.reply, &gotev, &m.ev);
		CHECK((st == SMTP_CLOSE) == m.closed);
		buf_reset(&got);
		buf_reset(&gotev);
		buf_reset(&m.reply);
		buf_reset(&m.ev);
	}

	smtp_free(&s);
	buf_free(&pend);
	buf_free(&reply);
	buf_free(&got);
	buf_free(&gotev);
	buf_free(&m.in);
	buf_free(&m.reply);
	buf_free(&m.ev);
	return 0;
}
