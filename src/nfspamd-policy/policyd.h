/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * policyd: what nfspamd-policy's files share (nfspamd-policy.c: the
 * flags, one client on standard input, the answers; lookup.c: the
 * database; listen.c: many clients on sockets of its own).
 */
#ifndef NFSPAMD_POLICYD_H
#define NFSPAMD_POLICYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "log.h"
#include "policy.h"
#include "store.h"

#define PD_TIMEOUT	330	/* idle seconds: Postfix hangs up at 300 */
#define PD_MAXLISTEN	8	/* -l flags */
#define PD_MAXCLIENTS	512	/* at once, with -l */
#define PD_REOPEN_MS	300000	/* then the database is opened afresh */
#define PD_ERRLEN	512
#define PD_PEERLEN	(ADDR_STRLEN + 16)

/* The database, opened read-only on first need and again after trouble. */
struct lookup {
	const char	*dir;
	const char	*shared;	/* --store URL; NULL: dir's LMDB */
	const char	*passfile;	/* --store-password-file */
	struct store	*store;
	uint64_t	 opened_ms;	/* monotonic */
	bool		 failing;	/* the last open failed (logged) */
	char		 lasterr[PD_ERRLEN];
};

struct pd {
	struct logger	 log;
	const char	*header;		/* --header */
	const char	*listen[PD_MAXLISTEN];	/* -l */
	size_t		 nlisten;
	unsigned	 timeout;		/* --timeout, seconds */
	bool		 debug;			/* -d */
	bool		 verbose;		/* -v */
	struct lookup	 lk;
};

/* One client's connection. */
struct session {
	struct policy_reader	 rd;
	char			 peer[PD_PEERLEN];
};

/* nfspamd-policy.c */
/*
 * Bytes from a client: an answer for each request they complete is
 * appended to out.  -1 when the client broke the protocol or memory ran
 * out (logged: hang up, after sending what out holds).
 */
int	session_input(struct pd *, struct session *, const void *, size_t,
	    struct buf *out);
/* The client hung up: says so when it was inside a request. */
void	session_eof(struct pd *, struct session *);
uint64_t	pd_now_ms(void);

/* lookup.c */
/* Open now if not open, saying so once when it cannot be. */
void	lookup_open(struct pd *);
/* Close, to be opened afresh on next need (SIGHUP). */
void	lookup_close(struct pd *);
/*
 * What the database says of address key (canonical text): 0 and the
 * name in os, or 1 for nothing known (no entry, no database, an error:
 * logged).
 */
int	lookup_os(struct pd *, const char *key, char *os, size_t oslen);

/* listen.c */
/* Serve on every -l until SIGTERM or SIGINT: the exit status. */
int	listen_main(struct pd *);

#endif
