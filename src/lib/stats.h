/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * stats: what nfspamdb --stats works out.  Pure: the database's entries
 * are handed in one by one, nfspamd's metrics as text, and the time is
 * a parameter.
 *
 * The database part: entries by type, how many have expired (a scan
 * removes them), the oldest and the newest entry of each type, the
 * addresses trapped most often and the addresses greylisted most often.
 * Attempts are a record's bcount: a TRAPPED entry's own, and for an
 * address with GREY tuples the sum over its tuples.  Only the top lists
 * take memory, a fixed amount chosen at the start.
 *
 * The daemon part: the totals since nfspamd started, read from the
 * Prometheus text it answers "metrics" with on its control socket
 * (promparse.h reads the lines; this picks the samples wanted).
 */
#ifndef NFS_STATS_H
#define NFS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define STATS_TOP_DEFAULT	10
#define STATS_TOP_MAX		1000

/* An entry worth naming: a type's oldest or newest, or a top list's. */
struct stats_ent {
	char		key[STORE_KEYMAX + 1];	/* NUL-terminated */
	size_t		keylen;
	int64_t		time;		/* oldest, newest: stats_since;
					   top trapped: when it expires */
	uint64_t	attempts;	/* top lists */
	uint64_t	tuples;		/* top greylisted: its GREY tuples */
};

struct stats_type {
	uint64_t		count;		/* unreadable ones included */
	uint64_t		expired;	/* expire <= now */
	uint64_t		unreadable;	/* the record does not decode */
	uint64_t		undated;	/* stats_since is 0 */
	bool			dated;		/* oldest, newest are set */
	struct stats_ent	oldest, newest;	/* the first met on a tie */
};

/* The best cap entries, a heap until dbstats_finish sorts it. */
struct stats_top {
	struct stats_ent	*ent;
	size_t			 n, cap;
};

struct dbstats {
	int64_t			now;
	struct stats_type	type[STORE_NTYPES];
	uint64_t		greyaddrs;	/* addresses with GREY tuples */
	struct stats_top	trapped;	/* by attempts */
	struct stats_top	grey;		/* by attempts, summed */
	struct stats_ent	run;		/* the address being summed */
	bool			inrun;
};

/*
 * top: the length of each top list, 0 to STATS_TOP_MAX.  -1 when memory
 * runs out.
 */
int	dbstats_init(struct dbstats *, size_t top, int64_t now);
/*
 * One entry; rec NULL: its value does not decode.  The GREY tuples must
 * come in key order, as store_scan walks them, so that an address's
 * tuples come together: they are added up as one run.  A GREY key that
 * is not a tuple counts as unreadable.
 */
void	dbstats_add(struct dbstats *, enum store_type, const char *key,
	    size_t keylen, const struct store_rec *rec);
/* After the last entry: the top lists sorted, best first. */
void	dbstats_finish(struct dbstats *);
void	dbstats_free(struct dbstats *);

/*
 * When an entry came to be, for oldest and newest: a GREY tuple's or a
 * TRAPPED entry's first attempt, a WHITE entry's pass (its first attempt
 * when it has none: made by sync).  0 when unknown: SPAMTRAP entries,
 * and TRAPPED entries added with nfspamdb or imported.
 */
int64_t	stats_since(enum store_type, const struct store_rec *);

/* The totals read from nfspamd, in the order they are printed. */
enum stats_total {
	ST_CONN_GREY,
	ST_CONN_BLACK,
	ST_CONN_TRAPPED,
	ST_CONN_WHITE,
	ST_CONN_REFUSED,
	ST_GREY_NEW,
	ST_GREY_AGAIN,
	ST_PASSED,
	ST_TRAP_SPAMTRAP,
	ST_TRAP_DOMAINS,
	ST_TRAP_LOWPRIO,
	ST_SKIPPED,
	ST_CAPPED,
	ST_LOST,
	ST_START,
	ST_NTOTALS
};

/* Where a total comes from and what the output calls it. */
struct stats_total_def {
	const char	*metric;
	const char	*label;		/* NULL: the family's only sample */
	const char	*value;
	const char	*group;		/* "connections", "tuples" or NULL */
	const char	*name;		/* in the group, or on its own */
};

const struct stats_total_def *stats_total_def(enum stats_total);

#define STATS_VERSIONMAX	64

struct stats_totals {
	uint64_t	v[ST_NTOTALS];
	char		version[STATS_VERSIONMAX];	/* "" if not given */
};

/*
 * nfspamd's answer to "metrics": every total must be there once, as a
 * whole number from 0 to 2^53.  -1 with the reason in err: an empty
 * answer, nfspamd's "error: ..." line, a bad line (promparse.h), a
 * total given twice, not a count, or missing.
 */
int	stats_totals_parse(const char *text, size_t len,
	    struct stats_totals *, char *err, size_t errlen);

/* Tuples that passed; trapped by any of the three ways. */
uint64_t stats_passed(const struct stats_totals *);
uint64_t stats_trapped(const struct stats_totals *);
/* Seconds since nfspamd started, 0 if its clock is ahead of ours. */
int64_t	stats_uptime(const struct stats_totals *, int64_t now);

/*
 * A span of seconds as its two largest units, the second left out when
 * it is 0: "42s", "5m 3s", "3h 4m", "12d 1h", "1d".  A negative span is
 * written as 0s.  Returns buf.
 */
const char *stats_duration(char *buf, size_t len, int64_t secs);

#endif
