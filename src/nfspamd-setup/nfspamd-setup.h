/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd-setup: what its files share.  nfspamd-setup.c reads the
 * command line and spamd.conf, takes the privileges it needs, fetches
 * and collapses the lists and runs the rest in order; control.c feeds
 * nfspamd's control socket; kernel.c loads the nft sets and keeps the
 * state of the last run.
 */
#ifndef NFS_SETUP_MAIN_H
#define NFS_SETUP_MAIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "fetch.h"
#include "log.h"
#include "prog.h"
#include "setup.h"
#include "spamdconf.h"

#define STATE_FILE	"setup.state"
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
	struct fetch_opts fo;
};

/* One name in `all', fetched once however often it appears. */
struct item {
	const struct sdc_list	*l;
	bool			 done;		/* fetched (or failed) */
	bool			 ok;
	struct cidr_list	 ranges;
	char			*why;		/* when !ok */
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
void	black_fail(struct ctx *x, struct black *b, const char *why);

/* Is tag a black list of this run? */
bool	in_config(const struct ctx *x, const char *tag);

#endif /* NFS_SETUP_MAIN_H */
