/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd-setup: what its files share.  nfspamd-setup.c reads the
 * command line and spamd.conf, takes the privileges it needs, fetches
 * and collapses the lists and runs the rest in order; control.c feeds
 * nfspamd's control socket; kernel.c loads the nft sets and keeps the
 * state of the last run; expose.c writes --metrics-file.
 */
#ifndef NFS_SETUP_MAIN_H
#define NFS_SETUP_MAIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cidr.h"
#include "fetch.h"
#include "log.h"
#include "prog.h"
#include "setup.h"
#include "spamdconf.h"

#define STATE_FILE	"setup.state"
#define HISTORY_FILE	"setup.history"	/* with --metrics-file */
#define ERRLEN		1024

struct nftgen;
struct nftset;

struct conf {
	const char	*conf;
	const char	*control;
	struct prog_common common;	/* --db, --user */
	const char	*nospamd;
	bool		 kernel;	/* -b */
	bool		 debug;		/* -d */
	bool		 dryrun;	/* -n */
	bool		 daemon;	/* -D */
	const char	*metrics_file;	/* --metrics-file */
	struct fetch_opts fo;
};

/*
 * Why a list failed, in the few classes an alert can tell apart (the
 * reason label of --metrics-file; the log has the whole message).
 */
enum fail {
	FAIL_NONE,
	FAIL_FETCH,	/* the file, the command or the download */
	FAIL_USER,	/* no --user to run the command or download as */
	FAIL_EMPTY,	/* no addresses in it */
	FAIL_WHITE,	/* a white list after the black list failed */
	FAIL_NAME,	/* a name nfspamd does not take */
	FAIL_LINE,	/* its line for nfspamd: the message, a /0 */
	FAIL_REFUSED,	/* nfspamd refused the line */
	FAIL_CONTROL,	/* nfspamd not reached, or it did not confirm */
	FAIL_MEMORY,
	FAIL_N
};

/* One name in `all', fetched once however often it appears. */
struct item {
	const struct sdc_list	*l;
	bool			 done;		/* fetched (or failed) */
	bool			 ok;
	struct cidr_list	 ranges;
	char			*why;		/* when !ok */
	enum fail		 fail;		/* when !ok */
	double			 secs;		/* the fetch took */
};

/* One black list of this run, with the white lists after it. */
struct black {
	const struct sdc_list	*l;
	struct item		*it;
	bool			 ok;		/* fetched, collapsed, formatted */
	bool			 refused;	/* by nfspamd */
	struct prefix		*pfx;
	size_t			 n;
	size_t			 line;		/* in the control text */
	char			*why;
	enum fail		 fail;		/* when !ok */
};

/* What -b did to spamd/spamd6 in this run, for --metrics-file. */
struct kstat {
	bool		 loaded;	/* the commit went through */
	bool		 diff;		/* as a difference, not whole */
	size_t		 n4, n6;	/* prefixes the sets hold now */
	size_t		 nadd, ndel;	/* the difference's */
	double		 secs;
};

struct ctx {
	struct conf	 c;
	struct logger	 log;
	struct sdc	 sdc;
	struct item	*items;
	size_t		 nitems;
	struct black	*blacks;
	size_t		 nblacks;
	struct setup_state prev;	/* what the last run left */
	bool		 prev_ok;	/* prev could be read */
	bool		 nouser;	/* --user cannot be used */
	size_t		 clear_line;	/* first clear line in the text */
	const char	**clears;	/* their tags (prev's), NULL once
					   refused; the array is ours */
	size_t		 nclears;
	int		 failed;	/* things that went wrong */
	struct nftset	*ns;		/* opened on first use */
	struct nftgen	*gen;		/* nfspamd's record of our commits */
	char		 genpath[PATH_MAX];
	bool		 delivered;	/* nfspamd confirmed the text */
	struct kstat	 k;
	struct timespec	 t0, m0;	/* start: wall clock, monotonic */
};

/*
 * " (as user U; D is owned by ...: what to do)" for error e on path, or
 * "", in buf.  For a missing file the hint is about its directory.
 */
const char	*why_not(int e, const char *path, char *buf, size_t len);

/*
 * A regular file of at most max bytes into *data (malloc'd and
 * NUL-terminated, *len bytes).  -1 with err set; errno is ENOENT when
 * the file is missing, which is often fine (nospamd, the state).
 */
int	read_file(const char *path, size_t max, char **data, size_t *len,
	    char *err, size_t errlen);

/* Black list b fails this run: logged, counted, why kept. */
void	black_fail(struct ctx *x, struct black *b, enum fail,
	    const char *why);

/* Is tag a black list of this run? */
bool	in_config(const struct ctx *x, const char *tag);

#endif /* NFS_SETUP_MAIN_H */
