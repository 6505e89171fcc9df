/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * log: one logging module for every program.
 *
 * The state lives in a struct owned by the program's main context, not in
 * globals.  Event lines are "event key=value ..."; values that come from
 * the network go through log_quote() so one event is always one line.
 */
#ifndef NFS_LOG_H
#define NFS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

struct logger {
	const char	*prog;
	int		 tostderr;	/* foreground: stderr, else syslog */
	int		 level;		/* highest LOG_* priority shown */
};

/* level: LOG_INFO normally, LOG_DEBUG with -v. */
void	log_init(struct logger *, const char *prog, int tostderr, int level);
void	log_close(struct logger *);

void	log_msg(const struct logger *, int prio, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vmsg(const struct logger *, int prio, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));
/* Appends ": strerror(errno)". */
void	log_warn(const struct logger *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_warnx(const struct logger *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_info(const struct logger *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_debug(const struct logger *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Make a value safe for a key=value line.  Plain values are copied as
 * they are; a value that is empty or holds blanks, quotes, '=' or bytes
 * outside printable ASCII is wrapped in double quotes with '"' and '\'
 * backslash-escaped and other such bytes written as \xNN.  Always
 * NUL-terminates; output that does not fit is cut and ends in "...".
 * Returns buf.
 */
char	*log_quote(char *buf, size_t len, const char *val, size_t vlen);

#endif
