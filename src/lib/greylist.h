/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * greylist: the greylist operations on the store, each one transaction
 * body: a greylisted RCPT, and the periodic scan.  The decisions are
 * grey.c's; this module looks records up, applies the decisions and
 * reports what the firewall and the logs need to hear.
 */
#ifndef NFS_GREYLIST_H
#define NFS_GREYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "grey.h"
#include "store.h"

/* One greylisted RCPT as the SMTP engine saw it. */
struct greylist_rcpt {
	struct addr	 addr;		/* the client */
	const char	*helo;		/* "" if none */
	const char	*from;		/* MAIL argument, as sent */
	const char	*to;		/* RCPT argument, as sent */
	bool		 lowprio_mx;	/* reached our -M address (new tuples
					   are trapped) */
	bool		 loose;		/* from a peer that strips and folds
					   MAIL FROM and RCPT TO (greyd) */
};

enum greylist_outcome {
	GREYLIST_GREY,		/* tuple recorded, not passed */
	GREYLIST_PASSED,	/* tuple passed: address now WHITE */
	GREYLIST_TRAPPED,	/* address trapped */
	GREYLIST_SKIPPED,	/* fields unusable as a key (too long) */
	GREYLIST_CAPPED,	/* a new tuple of an address that has
				   grey_conf.maxtuples live ones: not kept */
};

struct greylist_result {
	enum greylist_outcome	outcome;
	const char		*why;	/* TRAPPED: "spamtrap", "alloweddomains",
					   "lowprio-mx" */
	struct store_rec	rec;	/* the tuple's (or trap's) record */
	struct store_rec	white;	/* PASSED: the address's WHITE record */
	bool			new_tuple;
};

/* The alloweddomains list, as loaded by the program. */
struct greylist_domains {
	const char *const	*names;
	size_t			 n;
};

/*
 * Apply one RCPT, as spamd's greyupdate: trap check first
 * (alloweddomains, then spamtrap addresses), otherwise update the
 * tuple; a tuple that passes makes its address WHITE at once.  Runs
 * inside store_update.  -1 on a store error (text in store_txn_error).
 *
 * Where spamd differs: when the exact tuple is not there, the one with
 * MAIL FROM and RCPT TO in lower case (greyd's tuples, kept in spamd's
 * brackets) is the tuple; with loose (a GREY from greyd), any live tuple
 * of the same address and HELO naming the same mailboxes
 * (grey_mailbox_eq).  So a first attempt at a greyd peer and the retry
 * here match, either way round.  An address with grey_conf.maxtuples
 * live tuples gets no new one (GREYLIST_CAPPED).
 */
int	greylist_rcpt(struct store_txn *, const struct grey_conf *,
	    const struct greylist_domains *, const struct greylist_rcpt *,
	    int64_t now, struct greylist_result *);

/*
 * What greylist_rcpt is about to read for in, for store_prefetch: the
 * spamtrap address, the client's and its network's address entries,
 * the tuple, greyd's lower-case form of it, and the network's count of
 * tuples (from a greyd peer, loose: every tuple of the network).  The
 * wants point into the struct's own buffers.
 */
#define GREYLIST_WANTS	6
struct greylist_wants {
	struct store_want	 w[GREYLIST_WANTS];
	size_t			 n;
	char			 norm[STORE_KEYMAX + 1];
	char			 addr[ADDR_STRLEN];
	char			 net[ADDR_STRLEN];
	char			 tuple[STORE_KEYMAX + 1];
	char			 folded[STORE_KEYMAX + 1];
};
void	greylist_rcpt_wants(const struct grey_conf *,
	    const struct greylist_rcpt *, struct greylist_wants *);

/*
 * The -N setting in the database: nfspamd records what it keys by
 * (greylist_nets_save), nfspamlogd and nfspamdb key the same way
 * (greylist_nets_load: 0 found, 1 none recorded or not valid, gc left
 * as it was; -1 error).
 */
#define GREYLIST_META_NETS	"prefix-lengths"
int	greylist_nets_load(struct store_txn *, struct grey_conf *);
int	greylist_nets_save(struct store_txn *, const struct grey_conf *);

/* Is the address trapped (a live TRAPPED entry)?  0 no, 1 yes, -1 error. */
int	greylist_is_trapped(struct store_txn *, const struct addr *,
	    int64_t now);

/*
 * What a scan found: the addresses for the firewall's sets (for WHITE,
 * the network address of the entry's -N network).
 */
struct greylist_entry {
	struct addr	addr;
	int64_t		expire;
};

struct greylist_scan {
	struct greylist_entry	*white;
	size_t			 nwhite, capwhite;
	struct greylist_entry	*trapped;
	size_t			 ntrapped, captrapped;
	size_t			 deleted;	/* entries removed */
	size_t			 promoted;	/* WHITE entries made from tuples */
	size_t			 demoted;	/* removed as blacklisted */
	size_t			 bogus;		/* undecodable, removed */
	size_t			 rekeyed;	/* WHITE entries moved to the
						   key of their network (-N) */
	size_t			 scanned;
};

typedef bool	(*greylist_black_fn)(void *arg, const struct addr *);

/*
 * The scan, as spamd's greyscan, without holding the write lock for
 * long: entries are read in a snapshot, and the changes applied in
 * write transactions of at most `batch` changes each, so SMTP workers
 * committing tuples are never blocked for more than one batch.  black (may be NULL) says if an
 * address is blacklisted.  The result lists every address that belongs in
 * the white and trap sets, with its expiry (for a tuple-only address the
 * expiry of the WHITE entry the scan made).  Free with greylist_scan_free.
 */
int	greylist_scan_run(struct store *, const struct grey_conf *,
	    int64_t now, greylist_black_fn black, void *arg, size_t batch,
	    struct greylist_scan *, char *err, size_t errlen);
void	greylist_scan_free(struct greylist_scan *);

/*
 * A shared store's scan: the server expires entries by their TTLs and
 * every tuple that passes makes its WHITE entry at once, so what is
 * left is to read the addresses that belong in the sets (the sorted
 * sets, not the keyspace) and to trim those sets (deleted counts what
 * was trimmed).  Free with greylist_scan_free.
 */
int	greylist_live_run(struct store *, int64_t now,
	    struct greylist_scan *, char *err, size_t errlen);

/*
 * Whether a scan is news: it changed an entry, or the number of WHITE or
 * TRAPPED addresses moved since prev (the last scan's result; NULL for
 * the first scan, which always is).  A scan every minute that is not
 * news is logged at debug only.
 */
bool	greylist_scan_news(const struct greylist_scan *,
	    const struct greylist_scan *prev);

#endif
