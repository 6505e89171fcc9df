/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfspamdb: what its files share: nfspamdb.c (the flags, the keys, the
 * run), print.c (spamdb's lines and --json), list.c (finding and listing
 * entries), change.c (-a and -d), stats.c (--stats) and copy.c
 * (--copy-from).
 */
#ifndef NFSPAMDB_H
#define NFSPAMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "grey.h"
#include "store.h"

#define ERRLEN		512
#define SHOWLEN		96	/* a key quoted in a message */
#define TXN_FAILED	2	/* our transaction function gave up */
#define NO_TYPE		STORE_NTYPES	/* none of -G, -t, -T */
#define CONTROL_DEFAULT	"/run/nfspamd/control.sock"	/* nfspamd's */
#define TOP_UNSET	SIZE_MAX	/* no --top given */

enum action { ACT_LIST, ACT_ADD, ACT_DEL, ACT_IMPORT, ACT_STATS, ACT_COPY };

/* How one command line key is looked up. */
enum kind {
	K_BAD,		/* rejected before the database was opened */
	K_ADDR,		/* an address: WHITE or TRAPPED, canonical */
	K_MAIL,		/* SPAMTRAP, lower-cased */
	K_RAW,		/* anything else (a tuple, junk): any type, as given */
	K_GREYIP,	/* -d -G: every GREY tuple of one address */
};

/* Items whose address's GREY tuples are wanted: -d -G, and listing. */
#define WANTS_TUPLES(db, it)	((it)->kind == K_GREYIP || \
	((db)->act == ACT_LIST && (it)->kind == K_ADDR))

enum result {
	R_OK,
	R_BAD,		/* rejected and reported before the transaction */
	R_NOTMAIL,	/* -T without '@': spamdb exits 255 for it */
	R_NOTFOUND,
	R_ERROR,	/* this key's entry is unreadable; see why */
	R_ABORTED,	/* the whole transaction failed, already reported */
};

struct item {
	const char	*arg;		/* as given */
	char		*key;		/* as looked up */
	size_t		 keylen;
	enum kind	 kind;
	struct addr	 addr;		/* K_ADDR, K_GREYIP */
	uint8_t		 plen;		/* addr's prefix length (-N
					   networks are "addr/len") */
	char		 net[ADDR_STRLEN];	/* an address's network key,
						   when -N makes one */
	enum result	 res;
	long		 ndel;		/* K_GREYIP: tuples deleted */
	char		 why[ERRLEN];	/* R_ERROR */
};

/* One place an item's entry may be. */
struct cand {
	enum store_type	 type;
	const char	*key;
	size_t		 keylen;
};
#define MAXCAND		8

/*
 * A GREY tuple of an address asked for: deleted after the walk (-d -G)
 * or printed with the address's entry (listing).
 */
struct match {
	char			*key;
	size_t			 keylen;
	struct prefix		 pfx;		/* the tuple's address or network */
	struct store_rec	 rec;
	bool			 bogus;		/* the record does not decode */
	size_t			 item;		/* the first item it matched */
};

struct nfspamdb {
	const char	*dir;		/* --db; once open, the store's name */
	const char	*shared;	/* --store URL; NULL: --db */
	const char	*passfile;	/* --store-password-file */
	const char	*copyfrom;	/* --copy-from SOURCE */
	const char	*copypass;	/* --copy-password-file */
	const char	*import;	/* --import FILE */
	const char	*control;	/* --control PATH, for --stats */
	size_t		 top;		/* --top N, for --stats */
	enum action	 act;
	enum store_type	 type;		/* -G, -t, -T, or NO_TYPE */
	bool		 json;
	bool		 os;		/* --os: the OS field on each line */
	struct store_txn *txn;		/* the listing's, for the os lookup */
	FILE		*out;
	int64_t		 now;
	struct item	*items;
	size_t		 nitems;
	struct match	*match;
	size_t		 nmatch, matchcap;
	int		 bogus;		/* listing met an unreadable entry */
	struct store	*store;
	struct grey_conf nets;		/* -N, as the database records it */
	char		 err[ERRLEN];	/* from store_open, _update, _view */
	char		 txnerr[ERRLEN]; /* why our txn function gave up */
};

/*
 * nfspamdb.c: does item it (an address, or a network) ask for the
 * tuples of p?  An address asks for its own and its network's.
 */
bool		 item_covers(const struct item *, const struct prefix *);
/* nfspamdb.c: a key made safe for a one-line message, in buf. */
const char	*show(char *buf, size_t len, const char *s);
/* nfspamdb.c: keep the store's error for run(); returns TXN_FAILED. */
int		 txn_failed(struct nfspamdb *, struct store_txn *);
/* nfspamdb.c: the item failed with the store's error. */
void		 item_error(struct item *, struct store_txn *);

/*
 * print.c: one entry on db->out, as spamdb prints it or as one JSON
 * object a line (--json).  -1 for a GREY key that does not split into a
 * tuple.
 */
int		 print_entry(struct nfspamdb *, enum store_type, const char *,
		    size_t, const struct store_rec *);
/* print.c: s as a JSON string (json.h), quotes included; exits 1
   without memory. */
void		 put_json_str(FILE *, const char *, size_t);

/* list.c: store_view functions: every entry, or the keys asked for. */
int		 list_txn(struct store_txn *, void *);
int		 find_txn(struct store_txn *, void *);
/* list.c: where an item's entry may be: up to MAXCAND in c, how many. */
size_t		 candidates(struct nfspamdb *, struct item *, struct cand *);
/*
 * list.c: db->match set to the GREY tuples of the items that want them
 * (WANTS_TUPLES); 0, or TXN_FAILED with db->txnerr set.
 */
int		 collect_tuples(struct nfspamdb *, struct store_txn *);
void		 clear_matches(struct nfspamdb *);

/* change.c: store_update functions for -a, -d, and -d -G. */
int		 add_txn(struct store_txn *, void *);
int		 del_txn(struct store_txn *, void *);
int		 delgrey_txn(struct store_txn *, void *);

/*
 * stats.c: --stats over the open store: the report on db->out and the
 * exit status (1 when the database could not be read, or held
 * unreadable entries).
 */
int		 stats_run(struct nfspamdb *);

/*
 * copy.c: --copy-from: every live entry of the source, and its -N
 * setting, into the store of --db or --store; the summary on db->out.
 * The exit status: 0, or 1 after a message.
 */
int		 copy_run(struct nfspamdb *);

#endif
