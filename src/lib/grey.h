/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * grey: the greylisting policy as pure functions of (record, event, now).
 *
 * Nothing here touches the store, a socket or the clock: callers look a
 * record up, ask what it becomes, and write the answer back.  The rules
 * are spamd's (grey.c greyupdate, greyscan, twupdate; spamdb; spamlogd).
 *
 * One deliberate refinement: a record whose expire time has passed is
 * treated as absent by the update functions.  spamd deletes such records
 * at its next scan (at most 60 s later) and then treats the host as new;
 * we do the same without depending on when the scan runs.
 */
#ifndef NFS_GREY_H
#define NFS_GREY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "record.h"

/* spamd's defaults (grey.h). */
#define GREY_PASSTIME	(25 * 60)
#define GREY_GREYEXP	(4 * 3600)
#define GREY_WHITEEXP	(864 * 3600)
#define GREY_TRAPEXP	(24 * 3600)
#define GREY_MAXTUPLES	1000	/* live tuples of one address */
#define GREY_NET4	32	/* -N: a tuple's and a WHITE entry's */
#define GREY_NET6	64	/* network, by family */
#define GREY_NET4_MIN	8
#define GREY_NET6_MIN	32

#define GREY_PCOUNT_TRAPPED	(-1)
#define GREY_PCOUNT_SPAMTRAP	(-2)

/* All times in seconds. */
struct grey_conf {
	int64_t		passtime;	/* -G first field */
	int64_t		greyexp;	/* -G second field */
	int64_t		whiteexp;	/* -G third field */
	int64_t		trapexp;	/* spamd's TRAPEXP; no flag in spamd */
	unsigned	maxtuples;	/* per address; 0: no limit */
	uint8_t		net4, net6;	/* -N prefix lengths */
};

void	grey_conf_default(struct grey_conf *);

/*
 * Greylisting by network.  A tuple and a WHITE entry are keyed by the
 * client's network, net4 bits for IPv4 and net6 for IPv6, so that a
 * retry from another address of the network matches and a pass
 * whitelists the network.  The key is the address alone at full length
 * (spamd's key, unchanged for IPv4 by default) and "network/len"
 * otherwise ("2001:db8:1:2::/64").  TRAPPED entries and blacklists stay
 * per address.
 */
void	grey_net(const struct grey_conf *, const struct addr *,
	    struct prefix *);
/* The key of a's network, written to buf (>= ADDR_STRLEN); its length. */
size_t	grey_net_key(const struct grey_conf *, const struct addr *,
	    char *buf, size_t len);
/*
 * -N len4:len6 ("24:64"; either may be empty to keep its default, as in
 * ":56").  IPv4 GREY_NET4_MIN..32, IPv6 GREY_NET6_MIN..128: anything
 * wider would let one pass whitelist a whole provider.  -1 with *why.
 */
int	grey_parse_nets(const char *, struct grey_conf *, const char **why);

/*
 * The stored form of the -N setting (the database remembers what nfspamd
 * keys by, for nfspamlogd and nfspamdb): two bytes.  -1 when buf does
 * not hold a valid setting.
 */
#define GREY_NETS_SIZE	2
void	grey_nets_encode(const struct grey_conf *, uint8_t out[GREY_NETS_SIZE]);
int	grey_nets_decode(const void *, size_t, struct grey_conf *);

/*
 * Are two MAIL FROM or RCPT TO arguments the same mailbox for tuple
 * matching: equal once one pair of angle brackets is taken off each and
 * ASCII letters are folded?  greyd keeps them stripped and lower-cased,
 * spamd as sent.
 */
bool	grey_mailbox_eq(const char *a, const char *b);

/*
 * A MAIL FROM or RCPT TO argument in spamd's form: s itself when it is
 * in angle brackets, otherwise "<s>" written to buf (cut to fit len).
 */
const char *grey_spamd_form(const char *s, char *buf, size_t len);

/*
 * -G passtime:greyexp:whiteexp.  Plain numbers are spamd's units
 * (minutes:hours:hours); a number may carry a unit suffix s, m, h or d
 * (e.g. "5s:1h:36d").  Each value must be positive and fit; passtime
 * must be shorter than greyexp.  -1 with *why on error.
 */
int	grey_parse_times(const char *, struct grey_conf *, const char **why);

/*
 * A duration with an optional s/m/h/d suffix; unit is the multiplier for
 * a bare number (60 for minutes, 3600 for hours).  -1 with *why on error.
 */
int	grey_parse_duration(const char *, int64_t unit, int64_t *secs,
	    const char **why);

/*
 * A greylisted RCPT (host not blacklisted, not a trap): the tuple's
 * record.  old is NULL (or expired) for a new tuple: first = now,
 * bcount 1, pcount 0, pass = expire = now + greyexp.  Otherwise bcount++,
 * pcount = 0, and pass = now once first + passtime < now; expire stays.
 */
void	grey_tuple(const struct grey_conf *, const struct store_rec *old,
	    int64_t now, struct store_rec *out);

/* True when a tuple (or white entry) with this record lets its address pass. */
bool	grey_passed(const struct store_rec *, int64_t now);

/*
 * The address-keyed WHITE record made from a tuple that passed: a copy of
 * the tuple's record with expire = now + whiteexp.
 */
void	grey_white_from_tuple(const struct grey_conf *,
	    const struct store_rec *tuple, int64_t now, struct store_rec *out);

/*
 * A trap hit (spamtrap recipient, a recipient outside alloweddomains, or
 * the low-priority MX rule) for the address key.  old is the address's
 * existing white or trapped record, or NULL.  New: first = now, bcount 1,
 * pcount -1, pass = expire = now + trapexp.  Existing: bcount++,
 * pcount -1, pass = now once first + passtime < now; expire stays.
 */
void	grey_trap(const struct grey_conf *, const struct store_rec *old,
	    int64_t now, struct store_rec *out);

/*
 * spamlogd saw n connections (inbound from, or outbound to, this
 * address; nfspamlogd merges a burst's events into one update).  Each
 * does what spamlogd does for one: the first for a new address makes
 * first = pass = now, bcount 1, pcount 0; each later one (and each one
 * for an existing white or trapped entry) pcount++, so trapped becomes
 * white, as in spamd.  expire = now + whiteexp.  pcount stops at
 * INT32_MAX.  The result is always a WHITE record.
 */
void	grey_logd(int64_t whiteexp, const struct store_rec *old, uint32_t n,
	    int64_t now, struct store_rec *out);

/*
 * Known-good senders (postgrey's auto-whitelist, nfspamlogd
 * --auto-white): a WHITE entry whose passes (pcount) reached count is
 * kept for exp instead of whiteexp.  count 0: off.
 */
struct grey_awl {
	unsigned	count;
	int64_t		exp;		/* seconds */
};

/*
 * --auto-white count:exp ("5:90d"; exp as grey_parse_duration, in days
 * when bare).  count 1..1000000, exp 1 hour to 10 years.  -1 with why.
 */
int	grey_parse_awl(const char *, struct grey_awl *, const char **why);

/*
 * Apply the auto-whitelist to a WHITE record just renewed at now: with
 * pcount at count or more, expire = now + exp unless it is later
 * already.  True when it did (the entry is a known-good sender's).
 */
bool	grey_awl_apply(const struct grey_awl *, struct store_rec *,
	    int64_t now);

enum grey_sync_kind { GREY_SYNC_WHITE, GREY_SYNC_TRAP };

/*
 * A WHITE or TRAP update from a sync peer (twupdate).  Returns -1 and
 * leaves out untouched when expire < now.  New: first = now, pass 0,
 * bcount 0, pcount 0 (white) or -1 (trap), expire as given.  Existing:
 * trap sets pcount -1 and bcount++; white does pcount++; expire unchanged.
 * *type gets the resulting type: TRAPPED for a trap update, and for a
 * white update whatever the existing entry's pcount says.
 */
int	grey_sync(enum grey_sync_kind, int64_t expire,
	    const struct store_rec *old, int64_t now, struct store_rec *out,
	    enum store_type *type);

/*
 * spamdb -a.  A new entry gets first = now, bcount 1 and otherwise zeros,
 * then per type: WHITE pass = now, expire = now + GREY_WHITEEXP;
 * TRAPPED (-t) pcount -1, expire = now + GREY_TRAPEXP; SPAMTRAP (-T)
 * pcount -2, expire 0.  An existing entry keeps first and bcount; WHITE:
 * pass = now, pcount++, expire renewed; TRAPPED: pcount -1, expire
 * renewed; SPAMTRAP: pcount -2, expire 0.  spamdb always uses these
 * constants, never -G.  -1 for GREY (spamdb cannot add tuples).
 */
int	grey_dbadd(enum store_type, const struct store_rec *old, int64_t now,
	    struct store_rec *out);

/* What the scan does with one entry (spamd's greyscan). */
enum grey_scan_action {
	GREY_SCAN_KEEP,		/* nothing to do */
	GREY_SCAN_DELETE,	/* expired, blacklisted or unusable address */
	GREY_SCAN_TRAP,		/* address belongs on the trap list */
	GREY_SCAN_WHITE,	/* address belongs on the white list */
};

struct grey_scan_in {
	enum store_type	type;		/* of the entry */
	bool		addr_ok;	/* key's address parsed */
	bool		trapped;	/* a TRAPPED entry exists for the address */
	bool		blacklisted;	/* the address is on a blacklist */
	bool		have_white;	/* a WHITE entry exists for the address */
};

/*
 * Decide for one entry.  For a GREY tuple that passes and has no WHITE
 * entry yet, *make_white is set and *white holds the record to add
 * (grey_white_from_tuple).  SPAMTRAP entries never expire.
 */
enum grey_scan_action
	grey_scan(const struct grey_conf *, const struct grey_scan_in *,
	    const struct store_rec *, int64_t now, bool *make_white,
	    struct store_rec *white);

/*
 * A recipient as spamd's trap check sees it: a leading '<' and trailing
 * '>' removed, lower-cased.  Returns the length, or 0 if it does not fit.
 */
size_t	grey_rcpt_normalize(const char *to, char *buf, size_t len);

/*
 * alloweddomains: true when the list is empty or some entry is a
 * case-insensitive suffix of the normalized address (spamd's rule:
 * plain suffix, so "example.com" also allows "notexample.com").
 */
bool	grey_domain_allowed(const char *addr, const char *const *domains,
	    size_t ndomains);

#endif
