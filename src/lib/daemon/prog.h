/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * prog: what the programs share around their main loops and command
 * lines.
 */
#ifndef NFSPAMD_PROG_H
#define NFSPAMD_PROG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

/*
 * Flags that mean the same in every program: --db and --user, and the
 * store's --db-sync-ms, --db-max-size, --store and
 * --store-password-file.  A program puts the groups it
 * takes in its getopt_long table and gives what getopt returns to
 * prog_common_opt before its own switch.
 */
enum {
	PROG_OPT_DB = 0x1000, PROG_OPT_USER, PROG_OPT_DBSYNC, PROG_OPT_DBMAX,
	PROG_OPT_STORE, PROG_OPT_STOREPASS
};

#define PROG_LONGOPTS_DB						\
	{ "db", required_argument, NULL, PROG_OPT_DB },			\
	{ "user", required_argument, NULL, PROG_OPT_USER }
#define PROG_LONGOPTS_STORE						\
	{ "db-sync-ms", required_argument, NULL, PROG_OPT_DBSYNC },	\
	{ "db-max-size", required_argument, NULL, PROG_OPT_DBMAX },	\
	{ "store", required_argument, NULL, PROG_OPT_STORE },		\
	{ "store-password-file", required_argument, NULL,		\
	    PROG_OPT_STOREPASS }
#define PROG_LONGOPTS_END						\
	{ "version", no_argument, NULL, 'V' },				\
	{ NULL, 0, NULL, 0 }

struct prog_common {
	const char	*db;		/* --db */
	const char	*user;		/* --user */
	unsigned	 sync_ms;	/* --db-sync-ms */
	size_t		 db_max;	/* --db-max-size, bytes; 0: default */
	const char	*store;		/* --store URL: shared; NULL: LMDB */
	const char	*store_passfile; /* --store-password-file */
};

/* The defaults: the store's directory, user nfspamd, its sync interval. */
void	prog_common_init(struct prog_common *);

/*
 * true if ch is one of the flags above, with its value stored (a bad
 * one exits 1, as prog_number does); false if it is the caller's.
 */
bool	prog_common_opt(struct prog_common *, int ch, const char *arg);

/*
 * The usage text: on standard output with status 0 when it was asked
 * for (-h, --help), otherwise on standard error; then exit status.
 */
__attribute__((noreturn)) void prog_usage(const char *text, int status);

/* -V: "name version" on standard output, then exit 0. */
__attribute__((noreturn)) void prog_version(const char *name);

/*
 * The value of a numeric flag, from min to max; otherwise the program
 * exits 1 naming the flag, the value and the range.
 */
long	prog_number(const char *flag, const char *s, long min, long max);
/*
 * --metrics ADDR:PORT and --metrics-file PATH (an absolute path): s,
 * once checked, or exit 1 naming the flag, the value and the trouble.
 */
const char	*prog_metrics_listen(const char *s);
const char	*prog_metrics_file(const char *s);

/*
 * One instance per path: take a write lock on path (made 0640 if
 * missing) and write our PID into it.  The descriptor, to keep open for
 * the process's life (the lock goes with the process), or -1 with err
 * naming the process that holds it, or why the file could not be used.
 */
int	prog_lock(const char *path, char *err, size_t errlen);

/*
 * What a daemon does on the signals it handles, each called with the
 * data given to prog_signals_start.  reap NULL: SIGCHLD is not watched
 * (a process without children).
 */
struct prog_signal_ops {
	void	(*stop)(void *);	/* SIGTERM, SIGINT */
	void	(*reload)(void *);	/* SIGHUP */
	void	(*reap)(void *);	/* SIGCHLD */
};

struct prog_signals {
	uv_signal_t			 term, intr, hup, chld;
	const struct prog_signal_ops	*ops;
	void				*data;
};

void	prog_signals_start(uv_loop_t *, struct prog_signals *,
	    const struct prog_signal_ops *, void *data);

/* Close every handle still open, let their callbacks run, close loop. */
void	prog_loop_close(uv_loop_t *loop);

/*
 * --os-fingerprints, as nfspamd and nfspamlogd take it: up to
 * PROG_OS_FILES files in osf.h's format, read in order; by default the
 * shipped ones (os-fingerprints, then pf.os), which the first flag
 * replaces; "none": no fingerprinting.
 */
#define PROG_OS_FILES	8
struct prog_osfiles {
	const char	*files[PROG_OS_FILES];
	size_t		 n;		/* 0: fingerprinting off */
	bool		 shipped;	/* the defaults: missing is no error */
};

struct logger;
struct osf_db;

void	prog_osfiles_init(struct prog_osfiles *);
/* One --os-fingerprints; a bad value exits 1. */
void	prog_osfiles_add(struct prog_osfiles *, const char *arg);
/*
 * Read them into db, as the user we run as.  A missing shipped file (a
 * build tree) turns fingerprinting off (f->n = 0), said once; anything
 * else wrong is logged with the file and line, and is -1.
 */
int	prog_osfiles_load(struct prog_osfiles *, struct osf_db *,
	    struct logger *);

#endif
