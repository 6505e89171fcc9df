/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * dnsrep: weighted DNS reputation of an SMTP client, after postscreen's
 * postscreen_dnsbl_sites.  The configuration file, the names to query,
 * an answer matched against the sites' filters and scored, the verdict,
 * and a bounded cache of verdicts keyed by address.  No DNS here and no
 * clock of its own: the caller resolves and says what time it is.
 *
 * The file, one item a line, '#' starts a comment:
 *
 *   zone[=filter][*weight]   a site (several on a line, separated by
 *                            blanks or commas, as postscreen takes them)
 *   threshold N              score >= N: listed (default 1)
 *   trust N                  score <= N: trusted (N < 0; default off)
 *   timeout T                for the whole lookup: 1s, 800ms (default 1s)
 *   cache MIN MAX            answer TTLs bounded to MIN..MAX seconds
 *   cache-size N             addresses kept (0: none)
 *
 * A filter is four octets, each a number or a bracketed list of numbers
 * and ranges: 127.0.0.[2..11], 127.0.[0..255].[1;2;3], 127.0.0.[2;4..7].
 */
#ifndef NFS_DNSREP_H
#define NFS_DNSREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNSREP_MAXSITES		64	/* bits of a uint64_t */
#define DNSREP_MAXZONES		64
/* A query name is at most 253: 64 for an IPv6 address's nibbles. */
#define DNSREP_ZONEMAX		189
#define DNSREP_QNAMEMAX		254	/* 253 and the NUL */
#define DNSREP_LINEMAX		4096
#define DNSREP_FILEMAX		(1 << 20)
#define DNSREP_WEIGHTMAX	10000
#define DNSREP_SCOREMAX		100000

#define DNSREP_TIMEOUT_MS	1000
#define DNSREP_TTL_MIN		60	/* postscreen_dnsbl_min_ttl */
#define DNSREP_TTL_MAX		3600	/* postscreen_dnsbl_max_ttl */
#define DNSREP_CACHE_SIZE	16384

struct dnsrep_zone {
	char		 name[DNSREP_ZONEMAX + 1];	/* lower case */
	/* Where the name shown in logs and replies starts: past a
	   Spamhaus DQS key, which is a secret. */
	uint8_t		 shown;
};

struct dnsrep_site {
	uint8_t		 zone;		/* index in dnsrep_conf.zones */
	bool		 filtered;	/* else any A record matches */
	int32_t		 weight;
	uint8_t		 octet[4][32];	/* a bitmap of values each */
};

struct dnsrep_conf {
	struct dnsrep_zone	 zones[DNSREP_MAXZONES];
	size_t			 nzones;
	struct dnsrep_site	 sites[DNSREP_MAXSITES];
	size_t			 nsites;
	int32_t			 threshold;
	int32_t			 trust;		/* when trust_set */
	bool			 trust_set;
	uint32_t		 timeout_ms;
	uint32_t		 ttl_min, ttl_max;
	uint32_t		 cache_size;
};

/*
 * Parse a file's text; name is used in errors, which say "name:line:"
 * and the value.  -1: *c is left in an unspecified state.  A file with
 * no site is an error: nothing would ever be asked.
 */
int	dnsrep_parse(const char *name, const char *text, size_t len,
	    struct dnsrep_conf *c, char *err, size_t errlen);
/* The same from a file. */
int	dnsrep_load(const char *path, struct dnsrep_conf *c, char *err,
	    size_t errlen);

/* The name shown for a zone (a DQS key left out). */
static inline const char *
dnsrep_zone_shown(const struct dnsrep_conf *c, size_t zone)
{
	return c->zones[zone].name + c->zones[zone].shown;
}

/*
 * The name to look up: the address's octets (IPv4) or nibbles (IPv6)
 * reversed, then the zone.  The length, or 0 if out is too small.
 */
size_t	dnsrep_qname(const struct addr *, const char *zone, char *out,
	    size_t outlen);

/* Does an A record (4 bytes, network order) match the site's filter? */
bool	dnsrep_site_match(const struct dnsrep_site *, const uint8_t a[4]);

/* The verdict on a client. */
enum dnsrep_verdict {
	DNSREP_UNDECIDED,	/* answers still to come could change it */
	DNSREP_NEUTRAL,		/* greylisted as usual */
	DNSREP_TRUSTED,		/* whitelisted */
	DNSREP_LISTED,		/* treated as blacklisted */
	DNSREP_UNKNOWN,		/* no more answers, and those missing
				   (timeout, failure) could have changed
				   it: greylisted, not cached */
};

const char	*dnsrep_verdict_name(enum dnsrep_verdict);

/*
 * One client's lookup: a query a zone, answers as they come.  Each
 * site adds its weight once at most, however many records match it.
 */
struct dnsrep_lookup {
	uint64_t	 pending;	/* zones not answered yet */
	uint64_t	 failed;	/* zones with no usable answer */
	uint64_t	 matched;	/* sites */
	int32_t		 score;		/* of the sites matched */
	uint32_t	 ttl;		/* the lowest answer TTL */
};

void	dnsrep_lookup_init(const struct dnsrep_conf *,
	    struct dnsrep_lookup *);

/*
 * A zone's answer: the DNS rcode (NOERROR and NXDOMAIN are answers; any
 * other, or a negative one for a query that failed, is a failure), its
 * TTL and its A records, na of them, 4 bytes each.  An answer for a zone
 * not pending is ignored.
 */
void	dnsrep_lookup_answer(const struct dnsrep_conf *,
	    struct dnsrep_lookup *, size_t zone, int rcode, uint32_t ttl,
	    const uint8_t *a, size_t na);

/* The deadline: every zone still pending has failed. */
void	dnsrep_lookup_expire(struct dnsrep_lookup *);

/*
 * The verdict so far.  It is decided early when the sites not yet heard
 * from (or failed) cannot move the score across a bound whatever they
 * answer: DNSREP_UNDECIDED only while zones are pending.
 */
enum dnsrep_verdict dnsrep_decide(const struct dnsrep_conf *,
	    const struct dnsrep_lookup *);

/* An answer's TTL within the configured bounds. */
uint32_t	dnsrep_ttl(const struct dnsrep_conf *, uint32_t ttl);

/*
 * The zones of the matched sites, each once, in the file's order,
 * separated by sep: "zen.spamhaus.org list.dnswl.org".  Cut short (and
 * always terminated) when out is too small; "" when none.
 */
void	dnsrep_zones_matched(const struct dnsrep_conf *, uint64_t matched,
	    const char *sep, char *out, size_t outlen);

/* A verdict with what it came from, as cached. */
struct dnsrep_result {
	uint8_t		 verdict;	/* enum dnsrep_verdict */
	int32_t		 score;
	uint64_t	 matched;	/* sites */
};

/*
 * The cache: a fixed number of slots, set-associative, so a flood of
 * new addresses evicts old ones and never costs more than a set's look.
 * An entry lives until its expiry; the one evicted from a full set is
 * the one expiring first.
 */
struct dnsrep_slot {
	struct addr		 addr;
	struct dnsrep_result	 r;
	int64_t			 expire;	/* 0: empty */
};

struct dnsrep_cache {
	struct dnsrep_slot	*slot;
	size_t			 nsets;		/* 0: no cache */
};

/* Room for at least n addresses (0: none).  -1: out of memory. */
int	dnsrep_cache_init(struct dnsrep_cache *, size_t n);
void	dnsrep_cache_free(struct dnsrep_cache *);
/* A live entry for the address: true, and *r. */
bool	dnsrep_cache_get(const struct dnsrep_cache *, const struct addr *,
	    int64_t now, struct dnsrep_result *r);
/* Keep r for the address until expire (replaces an older entry). */
void	dnsrep_cache_put(struct dnsrep_cache *, const struct addr *,
	    const struct dnsrep_result *r, int64_t now, int64_t expire);

#endif
