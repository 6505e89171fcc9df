/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * log: stderr in the foreground, syslog (the journal under systemd)
 * otherwise.  See log.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

void
log_init(struct logger *lg, const char *prog, int tostderr, int level)
{
	lg->prog = prog;
	lg->tostderr = tostderr;
	lg->level = level;
	if (!tostderr)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_close(struct logger *lg)
{
	if (!lg->tostderr)
		closelog();
}

void
log_vmsg(const struct logger *lg, int prio, const char *fmt, va_list ap)
{
	if (prio > lg->level)
		return;
	if (lg->tostderr) {
		char line[2048];

		/* One write per line keeps lines whole between processes. */
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s: %s\n", lg->prog, line);
	} else
		vsyslog(prio, fmt, ap);
}

void
log_msg(const struct logger *lg, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, prio, fmt, ap);
	va_end(ap);
}

void
log_warn(const struct logger *lg, const char *fmt, ...)
{
	char buf[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(lg, LOG_WARNING, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warnx(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static int
needs_quotes(const char *v, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '=' ||
		    c == '\\')
			return 1;
	}
	return 0;
}

char *
log_quote(char *buf, size_t len, const char *val, size_t vlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int quote;

	if (len == 0)
		return buf;
	quote = needs_quotes(val, vlen);
	/* Keep room for the closing quote, "..." and the NUL. */
	if (len < 8) {
		buf[0] = '\0';
		return buf;
	}
	if (quote)
		buf[o++] = '"';
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)val[i];
		char tmp[4];
		size_t tl = 0;

		if (!quote || (c > ' ' && c < 0x7f && c != '"' && c != '\\'))
			tmp[tl++] = (char)c;
		else if (c == ' ')
			tmp[tl++] = ' ';
		else if (c == '"' || c == '\\') {
			tmp[tl++] = '\\';
			tmp[tl++] = (char)c;
		} else {
			tmp[tl++] = '\\';
			tmp[tl++] = 'x';
			tmp[tl++] = hex[c >> 4];
			tmp[tl++] = hex[c & 0xf];
		}
		if (o + tl + (quote ? 1 : 0) + 4 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	if (quote)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
