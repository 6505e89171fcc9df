/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * libFuzzer harness for src/lib/smtp.c.
 *
 * Plays the daemon: the input arrives in chunks, unused bytes are kept
 * and fed again with the next chunk, every reply is taken before the next
 * call.  Every reply must be whole CRLF lines with an SMTP code, a
 * step's reply must stay small, and a call must always make progress
 * when it can.
 *
 * Input layout: byte 0 picks grey or black and the line limit; bytes 1-4
 * are the chunk lengths, used in turn (0: all the rest); then the data.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"
#include "fuzz.h"

#define HEAD		5
#define STEPMAX		4096	/* most reply bytes one call may add */
#define BLACKREPLY	"450-You are on a list.\r\n450 Go away.\r\n"

static const size_t	linemaxes[4] = { 0, 1, 16, 300 };

struct fuzz {
	bool	black;
	size_t	linemax;
};

static void
event(void *arg, const struct smtp_event *e)
{
	const struct fuzz	*f = arg;

	CHECK(e->helo != NULL && e->from != NULL && e->to != NULL);
	CHECK(strlen(e->helo) <= SMTP_FIELDMAX);
	CHECK(strlen(e->from) <= SMTP_FIELDMAX);
	CHECK(strlen(e->to) <= SMTP_FIELDMAX);
	switch (e->type) {
	case SMTP_EV_TUPLE:
		CHECK(!f->black && *e->from != '\0' && *e->to != '\0');
		break;
	case SMTP_EV_RCPT:
		CHECK(*e->to != '\0');
		break;
	case SMTP_EV_HEADER:
	case SMTP_EV_BODY:
		CHECK(f->black && e->line != NULL && e->linelen > 0);
		CHECK(e->linelen <= f->linemax);
		break;
	default:
		CHECK(!"unknown event");
	}
}

/* Whole lines, each "ddd " or "ddd-" then text, CRLF; returns lines. */
static size_t
check_reply(const struct buf *r)
{
	const char	*p = r->data, *end = r->data + r->len, *nl;
	size_t		 n = 0;

	CHECK(r->len < STEPMAX);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl != NULL && nl - p >= 5 && nl[-1] == '\r');
		CHECK(p[0] >= '2' && p[0] <= '5');
		CHECK(p[1] >= '0' && p[1] <= '9');
		CHECK(p[2] >= '0' && p[2] <= '9');
		CHECK(p[3] == ' ' || p[3] == '-');
		CHECK(memchr(p, '\r', (size_t)(nl - p)) == nl - 1);
		p = nl + 1;
		n++;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp		 s;
	struct smtp_conf	 conf = { "mx.example.org", "spamd", 0, 0, false };
	struct smtp_out		 out;
	struct buf		 pend = { 0 }, reply = { 0 };
	struct fuzz		 f;
	enum smtp_status	 st = SMTP_MORE;
	const uint8_t		*chunks;
	size_t			 off, n, used, max, lines, step = 0;

	if (size < HEAD)
		return 0;
	f.black = data[0] & 1;
	conf.linemax = linemaxes[(data[0] >> 1) & 3];
	conf.maxbad = (data[0] >> 3) & 7;	/* 0: the default */
	conf.tls = (data[0] >> 6) & 1;
	max = f.linemax = conf.linemax != 0 ? conf.linemax : SMTP_LINEMAX;
	chunks = data + 1;
	data += HEAD;
	size -= HEAD;

	memset(&out, 0, sizeof(out));
	out.reply = &reply;
	out.event = event;
	out.arg = &f;
	out.blackreply = BLACKREPLY;
	out.blackreplylen = strlen(BLACKREPLY);
	smtp_init(&s, f.black);

	CHECK(smtp_banner(&conf, (time_t)size * 86400, &reply) == 0);
	CHECK(check_reply(&reply) == 1);
	buf_reset(&reply);

	for (off = 0; off < size && st == SMTP_MORE; off += n, step++) {
		n = chunks[step % 4] != 0 ? chunks[step % 4] : size - off;
		if (n > size - off)
			n = size - off;
		CHECK(buf_append(&pend, data + off, n) == 0);

		/* Drain what the pending bytes allow, one reply at a time. */
		do {
			used = SIZE_MAX;
			st = smtp_input(&s, &conf, pend.data, pend.len, &used,
			    &out);
			CHECK(used <= pend.len);
			lines = check_reply(&reply);
			/* One reply a line; the EHLO offering STARTTLS has 4. */
			if (st == SMTP_MORE)
				CHECK(lines <= 1 || (lines == 4 && conf.tls &&
				    !f.black && memcmp(reply.data, "250-", 4) ==
				    0));
			if (st == SMTP_STARTTLS) {
				/* The handshake "succeeds"; RFC 3207 drops
				   what was pipelined before it. */
				CHECK(conf.tls && !f.black && !s.tls);
				CHECK(lines == 1 && memcmp(reply.data,
				    SMTP_STARTTLS_REPLY, reply.len) == 0);
				buf_reset(&reply);
				buf_reset(&pend);
				smtp_tls_started(&s);
				st = SMTP_MORE;
				used = 1;
				continue;
			}
			if (lines > 0)
				CHECK(used > 0);
			buf_reset(&reply);
			buf_consume(&pend, used);
		} while (st == SMTP_MORE && used > 0);
		CHECK(st != SMTP_ERROR);

		/* Stuck only on a partial line that may still fit. */
		if (st == SMTP_MORE) {
			CHECK(pend.len < max);
			CHECK(memchr(pend.data, '\n', pend.len) == NULL);
		}
	}

	/* Once closed, it stays closed and silent. */
	if (st == SMTP_CLOSE) {
		st = smtp_input(&s, &conf, "QUIT\r\n", 6, &used, &out);
		CHECK(st == SMTP_CLOSE && used == 6 && reply.len == 0);
	}

	smtp_free(&s);
	buf_free(&pend);
	buf_free(&reply);
	return 0;
}
