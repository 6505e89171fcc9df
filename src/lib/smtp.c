/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * smtp: spamd's fake SMTP dialogue, after spamd.c nextstate().  See smtp.h.
 *
 * spamd matches each command as a case-insensitive prefix and lets a
 * command that does not fit the current state fall through to the checks
 * of the later states, so MAIL and RCPT work before HELO and DATA works
 * anywhere.  Unlike spamd we split the input into lines ourselves and
 * answer one line at a time.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "smtp.h"

enum {
	S_HELO,		/* banner sent, want HELO (or anything) */
	S_MAIL,		/* HELO accepted, want MAIL */
	S_RCPT,		/* MAIL or RCPT accepted, want RCPT or DATA */
	S_DATA,		/* black client's message, at a line start */
	S_DATALONG,	/* DATA, inside a line longer than linemax */
	S_CLOSED,
	S_TLS,		/* STARTTLS answered: the caller's handshake next */
};

/* What a line did: no reply yet (go on with the next one), or stop. */
enum {
	L_ERROR = -1,
	L_NEXT,
	L_STOP,
};

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

static const char	*const wday[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char	*const month[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static void
newstate(struct smtp *s, uint8_t state)
{
	s->laststate = s->state;
	s->state = state;
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

static size_t
linemax(const struct smtp_conf *conf)
{
	return conf->linemax != 0 ? conf->linemax : SMTP_LINEMAX;
}

/* bad is 16 bits wide; a larger limit could never be passed. */
static unsigned
maxbad(const struct smtp_conf *conf)
{
	unsigned	n = conf->maxbad != 0 ? conf->maxbad : SMTP_MAXBAD;

	return n < UINT16_MAX ? n : UINT16_MAX - 1;
}

static int
reply(const struct smtp_out *out, const char *s)
{
	return buf_puts(out->reply, s);
}

/* The reply that ends the dialogue; then nothing more is read. */
static int
final(struct smtp *s, const struct smtp_out *out)
{
	newstate(s, S_CLOSED);
	/* A black client without a message still gets a sane reply. */
	if (s->black && out->blackreply != NULL && out->blackreplylen > 0)
		return buf_append(out->reply, out->blackreply,
		    out->blackreplylen);
	return reply(out, SMTP_GREY_REPLY);
}

static bool
match(const char *line, size_t len, const char *verb)
{
	size_t	n = strlen(verb);

	return len >= n && strncasecmp(line, verb, n) == 0;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The first blank-delimited token in p[0..len); returns its length. */
static size_t
token(const char *p, size_t len, const char **start)
{
	size_t	i = 0, n;

	while (i < len && blank(p[i]))
		i++;
	*start = p + i;
	for (n = 0; i + n < len && !blank(p[i + n]); n++)
		;
	return n;
}

/* MAIL/RCPT argument: the token after the first ':', or nothing. */
static size_t
pathtoken(const char *line, size_t len, const char **start)
{
	const char	*colon;

	if ((colon = memchr(line, ':', len)) == NULL) {
		*start = line;
		return 0;
	}
	colon++;
	return token(colon, len - (size_t)(colon - line), start);
}

/* Replace *dst by a copy of p[0..n), truncated; NULL when n is 0. */
static int
setfield(char **dst, const char *p, size_t n)
{
	char	*s = NULL;

	if (n > SMTP_FIELDMAX)
		n = SMTP_FIELDMAX;
	if (n > 0) {
		if ((s = malloc(n + 1)) == NULL)
			return -1;
		memcpy(s, p, n);
		s[n] = '\0';
	}
	free(*dst);
	*dst = s;
	return 0;
}

static void
emit(const struct smtp *s, const struct smtp_out *out,
    enum smtp_event_type type, const char *to, const char *line,
    size_t linelen)
{
	struct smtp_event	ev;

	if (out->event == NULL)
		return;
	ev.type = type;
	ev.helo = str(s->helo);
	ev.from = str(s->from);
	ev.to = str(to);
	ev.line = line;
	ev.linelen = linelen;
	out->event(out->arg, &ev);
}

static int
helo(struct smtp *s, const struct smtp_conf *conf, const char *line,
    size_t len, const struct smtp_out *out)
{
	const char	*p;
	size_t		 n;

	/* The verb is 4 bytes; "HELOX y" has the argument "X". */
	n = token(line + 4, len - 4, &p);
	if (n == 0)
		return reply(out, R_NOHELO);
	if (setfield(&s->helo, p, n) == -1)
		return -1;
	newstate(s, S_MAIL);
	/* Only greylisted clients: TLS-insisting senders still leave a
	   tuple; the blacklisted never get the handshake's CPU. */
	if (match(line, len, "EHLO") && conf->tls && !s->black && !s->notls &&
	    !s->tls) {
		s->offered = true;
		return buf_printf(out->reply, "250-%s\r\n250-8BITMIME\r\n"
		    "250-SMTPUTF8\r\n250 STARTTLS\r\n", str(conf->hostname));
	}
	return reply(out, R_HELO);
}

void
smtp_tls_started(struct smtp *s)
{
	free(s->helo);
	free(s->from);
	s->helo = s->from = NULL;
	s->offered = false;
	s->tls = true;
	s->bad = 0;
	s->state = s->laststate = S_HELO;
}

static int
mail(struct smtp *s, const char *line, size_t len, const struct smtp_out *out)
{
	const char	*p;
	size_t		 n;

	n = pathtoken(line, len, &p);
	if (setfield(&s->from, p, n) == -1)
		return -1;
	newstate(s, S_RCPT);
	return reply(out, R_MAIL);
}

static int
rcpt(struct smtp *s, const char *line, size_t len, const struct smtp_out *out)
{
	const char	*p;
	char		 to[SMTP_FIELDMAX + 1];
	size_t		 n;

	n = pathtoken(line, len, &p);
	if (n > SMTP_FIELDMAX)
		n = SMTP_FIELDMAX;
	memcpy(to, p, n);
	to[n] = '\0';
	if (n > 0) {
		emit(s, out, SMTP_EV_RCPT, to, NULL, 0);
		if (!s->black && s->from != NULL)
			emit(s, out, SMTP_EV_TUPLE, to, NULL, 0);
	}
	newstate(s, S_RCPT);
	return reply(out, R_RCPT);
}

/* What every state accepts last: DATA, NOOP, or nothing we know. */
static int
other(struct smtp *s, const struct smtp_conf *conf, const char *line,
    size_t len, const struct smtp_out *out)
{
	if (match(line, len, "DATA")) {
		/* Greylisted clients learn their fate before any 354. */
		if (!s->black)
			return final(s, out);
		s->body = false;
		s->datalines = 0;
		newstate(s, S_DATA);
		return reply(out, R_DATA);
	}
	if (match(line, len, "NOOP"))
		return reply(out, R_NOOP);
	if (s->bad < UINT16_MAX)
		s->bad++;
	if (s->bad > maxbad(conf))
		return final(s, out);
	return reply(out, R_BAD);
}

/* A command line (no EOL); every one gets a reply. */
static int
command(struct smtp *s, const struct smtp_conf *conf, const char *line,
    size_t len, const struct smtp_out *out)
{
	bool offered = s->offered;

	s->offered = false;
	/* Keep NULs out of the verb matching and the stored fields. */
	if (memchr(line, '\0', len) != NULL)
		return other(s, conf, "", 0, out);
	if (offered && len == 8 && match(line, len, "STARTTLS")) {
		newstate(s, S_TLS);
		return reply(out, SMTP_STARTTLS_REPLY);
	}

	if (match(line, len, "QUIT")) {
		newstate(s, S_CLOSED);
		return buf_printf(out->reply, "221 %s\r\n",
		    str(conf->hostname));
	}
	if (match(line, len, "RSET") &&
	    (s->state == S_MAIL || s->state == S_RCPT)) {
		free(s->from);
		s->from = NULL;
		newstate(s, S_MAIL);
		return reply(out, R_RSET);
	}

	switch (s->state) {
	case S_HELO:
		if (match(line, len, "HELO") || match(line, len, "EHLO"))
			return helo(s, conf, line, len, out);
		/* FALLTHROUGH */
	case S_MAIL:
		if (match(line, len, "MAIL"))
			return mail(s, line, len, out);
		/* FALLTHROUGH */
	case S_RCPT:
		if (match(line, len, "RCPT"))
			return rcpt(s, line, len, out);
		break;
	}
	return other(s, conf, line, len, out);
}

static bool
isheader(const char *line, size_t len)
{
	return match(line, len, "From:") || match(line, len, "To:") ||
	    match(line, len, "Subject:");
}

/*
 * A line of the message, or the first piece of an overlong one (whole is
 * false).  Ends at "." or at the 10th line past the headers, as spamd.
 */
static int
dataline(struct smtp *s, const char *line, size_t len, bool whole,
    const struct smtp_out *out)
{
	if (s->state == S_DATALONG) {
		/* The rest of a line already counted. */
		if (whole)
			newstate(s, S_DATA);
		return L_NEXT;
	}
	if (!whole)
		newstate(s, S_DATALONG);

	if (whole && len == 1 && line[0] == '.')
		return final(s, out) == -1 ? L_ERROR : L_STOP;
	if (s->body && ++s->datalines >= SMTP_DATALINES)
		return final(s, out) == -1 ? L_ERROR : L_STOP;

	if (s->body) {
		if (len > 0)
			emit(s, out, SMTP_EV_BODY, NULL, line, len);
	} else if (len == 0)
		s->body = true;
	else if (isheader(line, len))
		emit(s, out, SMTP_EV_HEADER, NULL, line, len);
	return L_NEXT;
}

/* One line, EOL stripped (whole), or a linemax piece without EOL. */
static int
doline(struct smtp *s, const struct smtp_conf *conf, const char *p,
    size_t len, bool whole, const struct smtp_out *out)
{
	if (s->state == S_DATA || s->state == S_DATALONG)
		return dataline(s, p, len, whole, out);
	if (!whole) {
		newstate(s, S_CLOSED);
		return reply(out, R_LONG) == -1 ? L_ERROR : L_STOP;
	}
	return command(s, conf, p, len, out) == -1 ? L_ERROR : L_STOP;
}

void
smtp_init(struct smtp *s, bool black)
{
	memset(s, 0, sizeof(*s));
	s->state = s->laststate = S_HELO;
	s->black = black;
}

void
smtp_free(struct smtp *s)
{
	free(s->helo);
	free(s->from);
	s->helo = s->from = NULL;
}

int
smtp_banner(const struct smtp_conf *conf, time_t now, struct buf *out)
{
	struct tm	tm;

	if (localtime_r(&now, &tm) == NULL)
		return -1;
	/* ctime()'s layout, with its English names whatever the locale. */
	return buf_printf(out,
	    "220 %s ESMTP %s; %s %s %2d %02d:%02d:%02d %lld\r\n",
	    str(conf->hostname), str(conf->name),
	    wday[(unsigned)tm.tm_wday % 7], month[(unsigned)tm.tm_mon % 12],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long long)tm.tm_year + 1900);
}

enum smtp_status
smtp_input(struct smtp *s, const struct smtp_conf *conf, const char *in,
    size_t len, size_t *used, const struct smtp_out *out)
{
	const char	*p, *lf;
	size_t		 pos = 0, avail, max = linemax(conf), n;
	int		 r = L_NEXT;

	if (s->state == S_CLOSED) {
		*used = len;
		return SMTP_CLOSE;
	}
	if (s->state == S_TLS) {
		*used = 0;
		return SMTP_STARTTLS;
	}
	while (r == L_NEXT && pos < len) {
		p = in + pos;
		avail = len - pos;
		lf = memchr(p, '\n', avail < max ? avail : max);
		if (lf == NULL) {
			/* Wait for the rest unless it cannot fit anyway. */
			if (avail < max)
				break;
			pos += max;
			r = doline(s, conf, p, max, false, out);
			continue;
		}
		n = (size_t)(lf - p);
		pos += n + 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		r = doline(s, conf, p, n, true, out);
	}
	*used = pos;
	if (r == L_ERROR) {
		newstate(s, S_CLOSED);
		return SMTP_ERROR;
	}
	if (s->state == S_TLS)
		return SMTP_STARTTLS;
	return s->state == S_CLOSED ? SMTP_CLOSE : SMTP_MORE;
}
