/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * seed_tuples: plant entries in an nfspamd database for the nfspamdb
 * integration test.  nfspamdb cannot add GREY tuples (nor can spamdb),
 * and the test also needs keys that only old or foreign writers make:
 * three-field tuples, non-canonical addresses, upper-case traps.
 *
 *	seed_tuples [-r first:pass:expire:bcount:pcount] [-t type] dir key ...
 *
 * Every key is stored exactly as given (a tuple is "ip\nhelo\nfrom\nto"),
 * in one transaction.  type is white, grey (the default), trapped or
 * spamtrap.  Without -r a key gets a new tuple's record for now.
 */
#include "config.h"

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "grey.h"
#include "store.h"

struct seed {
	enum store_type	  type;
	struct store_rec  rec;
	char		**keys;
	int		  nkeys;
};

static void	usage(void) __attribute__((noreturn));
static int	parse_rec(const char *, struct store_rec *);
static int	parse_type(const char *, enum store_type *);
static int	seed_txn(struct store_txn *, void *);

static void
usage(void)
{
	fprintf(stderr, "usage: seed_tuples [-r first:pass:expire:bcount:"
	    "pcount] [-t type] dir key ...\n");
	exit(1);
}

static int
parse_rec(const char *s, struct store_rec *r)
{
	long long	first, pass, expire;
	int		bcount, pcount, n = 0;

	if (sscanf(s, "%lld:%lld:%lld:%d:%d%n", &first, &pass, &expire,
	    &bcount, &pcount, &n) != 5 || s[n] != '\0')
		return -1;
	r->first = first;
	r->pass = pass;
	r->expire = expire;
	r->bcount = bcount;
	r->pcount = pcount;
	return 0;
}

static int
parse_type(const char *s, enum store_type *type)
{
	int	t;

	for (t = 0; t < STORE_NTYPES; t++)
		if (strcasecmp(s, store_type_name(t)) == 0) {
			*type = t;
			return 0;
		}
	return -1;
}

static int
seed_txn(struct store_txn *txn, void *arg)
{
	struct seed	*sd = arg;
	int		 i;

	for (i = 0; i < sd->nkeys; i++)
		if (store_put(txn, sd->type, sd->keys[i], strlen(sd->keys[i]),
		    &sd->rec) == -1)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct seed		 sd;
	struct store_opts	 opts;
	struct grey_conf	 conf;
	struct store		*st;
	char			 errbuf[512];
	int			 ch, r;

	memset(&sd, 0, sizeof(sd));
	sd.type = STORE_GREY;
	grey_conf_default(&conf);
	grey_tuple(&conf, NULL, time(NULL), &sd.rec);

	while ((ch = getopt(argc, argv, "r:t:")) != -1) {
		switch (ch) {
		case 'r':
			if (parse_rec(optarg, &sd.rec) == -1)
				errx(1, "-r %s: want first:pass:expire:"
				    "bcount:pcount", optarg);
			break;
		case 't':
			if (parse_type(optarg, &sd.type) == -1)
				errx(1, "-t %s: want white, grey, trapped or "
				    "spamtrap", optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	sd.keys = argv + 1;
	sd.nkeys = argc - 1;

	memset(&opts, 0, sizeof(opts));
	opts.create = true;
	if (store_open(&st, argv[0], &opts, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	r = store_update(st, seed_txn, &sd, errbuf, sizeof(errbuf));
	store_close(st);
	if (r != 0)
		errx(1, "%s", errbuf);
	return 0;
}
