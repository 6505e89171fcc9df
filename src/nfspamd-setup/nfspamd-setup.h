/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamd-setup: what its files share.  nfspamd-setup.c reads the
 * command line and spamd.conf, takes the privileges it needs, fetches
 * and collapses the lists and runs the rest in order; control.c feeds
 * nfspamd's control socket; kernel.c loads the nft sets and keeps the
 * state of the last run; expose.c writes --metrics-file; spfwalk.c
 * walks the SPF records of :method=spf: lists over DNS.
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
#include "resolver.h"
#include "setup.h"
#include "spamdconf.h"
#include "spf.h"

#define STATE_FILE	"setup.state"
#define HISTORY_FILE	"setup.history"	/* with --metrics-file */
#define NOSPAMD_STATE	"setup.nospamd"	/* with :nospamd: lists */
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
	const char	*resolvers[RESOLVER_FWDMAX];	/* --resolver */
	size_t		 nresolvers;
	unsigned	 dns_timeout;	/* --dns-timeout, seconds a lookup */
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
	FAIL_DNS,	/* an SPF walk's lookup failed or timed out */
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
	/* :method=spf: only */
	unsigned		 spf_problems[SPF_P_N];
	uint32_t		 spf_ttl;	/* least TTL of the walk */
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
	struct resolver	*res;		/* made at the first SPF list */
	struct setup_state nprev;	/* NOSPAMD_STATE as the last run left
					   it: per :nospamd: list, and what
					   @nospamd/@nospamd6 got */
	bool		 nprev_ok;
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
