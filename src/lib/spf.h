/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * spf: the addresses a domain's SPF records (RFC 7208) let send mail,
 * found without a sender: a walk of the records' terms, not an
 * evaluation.
 *
 * Three parts, all pure (no sockets, no clock of their own):
 *
 *  - spf_parse: one record's text into terms.  Qualifiers + - ~ ?;
 *    mechanisms all, include, a, mx, ptr, ip4, ip6, exists; modifiers
 *    redirect= and exp= (at most one each); other modifiers ignored, as
 *    RFC 7208 6 says.  a and mx take the dual CIDR length ("/24",
 *    "//64", "/24//64").  A domain-spec with a macro ("%{i}") is kept
 *    and marked: it names a different domain for every sender, so the
 *    walk skips it and says why.
 *
 *  - the walk, a state machine the caller feeds: spf_walk_next says
 *    which lookups are wanted (name, TXT/A/AAAA/MX), spf_walk_answer
 *    gives it each answer (records and TTL, or NXDOMAIN, SERVFAIL, a
 *    timeout).  Only mechanisms that pass (qualifier + or none) give
 *    prefixes: ip4, ip6, a and mx, and what an include or a redirect
 *    leads to; include and redirect are followed, a, mx and the MX
 *    hosts' A/AAAA looked up; ptr and exists need a sender and are
 *    skipped; terms after "all" never match and are not walked, and a
 *    record with "all" ignores its redirect= (RFC 7208 6.1).  This
 *    over-approximates a record that fails an address before passing
 *    its prefix ("-ip4:192.0.2.1 +ip4:192.0.2.0/24" gives the /24).
 *
 *  - spf_domains_parse: a file of domains, one a line, '#' comments.
 *
 * Limits (struct spf_limits; RFC 7208 4.6.4's 10 lookups are per
 * evaluation of one sender, and a big provider's whole tree takes more,
 * so here they are per top domain): include/redirect depth, lookups
 * (terms that query: include, a, mx, redirect; plus one per MX host),
 * MX hosts per mx term (10, as the RFC), prefixes per top domain, the
 * size of one record, and a deadline for the whole walk.
 *
 * A top domain's result is good unless a lookup in its tree failed for
 * a reason that may pass (SERVFAIL, timeout, resolver error, the
 * deadline): a partial tree would drop senders, so such a domain is
 * marked failed and the caller keeps what it had.  Permanent faults
 * (NXDOMAIN, no SPF record, several SPF records, a syntax error, a
 * loop, too deep, over a limit) are reported as problems naming the
 * chain, and the rest of the tree is used.
 */
#ifndef NFS_SPF_H
#define NFS_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SPF_NAMEMAX	253		/* a domain name's text */
#define SPF_DOMAINSMAX	10000		/* domains in one file */

/* DNS query types the walk asks for. */
#define SPF_QA		1
#define SPF_QMX		15
#define SPF_QTXT	16
#define SPF_QAAAA	28

/* --- DNS rdata --- */

/*
 * TXT rdata (character-strings, each a length byte and its bytes) into
 * out, joined without separator (RFC 7208 3.3), NUL-terminated; out
 * holds len + 1 bytes at least.  -1 when a string runs past len.
 */
int	spf_txt_decode(const uint8_t *rdata, size_t len, char *out,
	    size_t *outlen);

/*
 * MX rdata (preference, then the exchange as uncompressed labels) into
 * the exchange's text ("mx1.example.org", no final dot; "" for the root)
 * in out (at least SPF_NAMEMAX + 2 bytes).  -1 when malformed.
 */
int	spf_mx_decode(const uint8_t *rdata, size_t len, char *out,
	    size_t outlen);

/* --- records --- */

enum spf_kind {
	SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6,
	SPF_EXISTS, SPF_REDIRECT, SPF_EXP
};

struct spf_term {
	enum spf_kind	 kind;
	char		 qual;		/* '+', '-', '~' or '?' (mechanisms) */
	char		*domain;	/* lower case, no final dot; NULL: the
					   record's own (a, mx, ptr) */
	bool		 macro;		/* domain needs a sender */
	struct prefix	 pfx;		/* ip4, ip6 (masked) */
	int		 cidr4, cidr6;	/* a, mx: 32 and 128 when not given */
	char		*text;		/* the term as written */
};

struct spf_record {
	struct spf_term	*t;
	size_t		 n;
	long		 redirect;	/* index in t, or -1 */
	long		 all;		/* index of the first "all", or -1 */
};

/* Does text (len bytes) start an SPF record: "v=spf1" then SP or end? */
bool	spf_is_record(const char *text, size_t len);

/*
 * Parse one SPF record of domain.  0, or -1 with err naming the domain
 * and the term ("example.org: term \"ip4:300.1.2.3\": not an IPv4
 * address"); r is then empty.  spf_record_free frees r either way.
 */
int	spf_parse(const char *domain, const char *text, size_t len,
	    struct spf_record *r, char *err, size_t errlen);
void	spf_record_free(struct spf_record *);

/*
 * A domain's text into its lookup form: lower case, the final dot
 * removed, labels of 1-63 bytes, at most SPF_NAMEMAX, printable ASCII
 * other than blanks.  0, or -1 with *why.
 */
int	spf_name(const char *in, size_t len, char *out, size_t outlen,
	    const char **why);

/*
 * A file of domains (name labels errors): one domain a line, blanks
 * around it and anything after '#' ignored.  -1 with err naming the
 * file, the line and the value, and *out empty; else *out (n names,
 * lower case, repeats dropped; spf_domains_free).
 */
int	spf_domains_parse(const char *name, const char *text, size_t len,
	    char ***out, size_t *n, char *err, size_t errlen);
void	spf_domains_free(char **, size_t n);

/* --- the walk --- */

struct spf_limits {
	unsigned	depth;		/* includes and redirects nested */
	unsigned	lookups;	/* per top domain */
	unsigned	mxhosts;	/* per mx term */
	size_t		prefixes;	/* per top domain */
	size_t		recordmax;	/* bytes of one record */
	uint64_t	walk_ms;	/* the whole walk */
};

/* depth 10, lookups 200, mxhosts 10, prefixes 10000, 4096 bytes, 120 s. */
void	spf_limits_default(struct spf_limits *);

enum spf_astatus {
	SPF_ANS_OK,		/* records, or none */
	SPF_ANS_NXDOMAIN,
	SPF_ANS_SERVFAIL,	/* the server failed, or refused */
	SPF_ANS_TIMEOUT,	/* no answer in time */
	SPF_ANS_ERROR		/* the resolver failed */
};

/* One answer, as the caller got it (records of the type asked). */
struct spf_answer {
	enum spf_astatus	 status;
	uint32_t		 ttl;
	size_t			 n;
	const char *const	*text;	/* TXT: each record's text */
	const size_t		*textlen;
	const struct addr	*addr;	/* A, AAAA */
	const char *const	*name;	/* MX: the exchanges */
};

struct spf_query {
	unsigned	 id;		/* for spf_walk_answer */
	const char	*name;		/* lives as long as the walk */
	int		 type;		/* SPF_QTXT, SPF_QA, ... */
};

enum spf_pkind {
	SPF_P_DEAD,	/* NXDOMAIN, or no SPF record */
	SPF_P_LOOP,	/* a domain already on the path */
	SPF_P_DEEP,	/* past the depth limit */
	SPF_P_LIMIT,	/* past the lookup, MX or prefix limit */
	SPF_P_ERROR,	/* a syntax error, several SPF records, too big */
	SPF_P_SKIPPED,	/* ptr, exists, a macro: needs a sender */
	SPF_P_TEMP,	/* SERVFAIL or resolver error: the domain failed */
	SPF_P_TIMEOUT,	/* no answer in time: the domain failed */
	SPF_P_N
};

struct spf_problem {
	enum spf_pkind	 kind;
	size_t		 top;		/* index of the top domain */
	char		*text;		/* "a.test > b.test: include:c.test:
					   loop (c.test is on the path)" */
};

/* What the walk found for one top domain. */
struct spf_result {
	const char	*domain;
	bool		 failed;	/* SPF_P_TEMP or SPF_P_TIMEOUT */
	struct prefix	*pfx;		/* collapsed, canonical */
	size_t		 n;
	uint32_t	 ttl;		/* the least TTL of every answer used */
	unsigned	 lookups;
};

struct spf_walk;

/*
 * A walk of the n domains (spf_name form), starting at now_ms (any
 * monotonic clock in milliseconds).  -1 when out of memory.
 */
int	spf_walk_new(struct spf_walk **, const char *const *domains, size_t n,
	    const struct spf_limits *, uint64_t now_ms);
void	spf_walk_free(struct spf_walk *);

/*
 * The lookups to start now, at most max of them into out; each is asked
 * for once.  Past the walk's deadline every lookup still unanswered
 * counts as timed out (the caller cancels its own) and none is asked.
 */
size_t	spf_walk_next(struct spf_walk *, uint64_t now_ms,
	    struct spf_query *out, size_t max);

/* The answer to lookup id.  -1 when out of memory (the walk fails). */
int	spf_walk_answer(struct spf_walk *, unsigned id,
	    const struct spf_answer *);

/* No lookup wanted or unanswered: the results are final. */
bool	spf_walk_done(const struct spf_walk *);

/*
 * The results, one per top domain in the order given, and the
 * problems in the order found; valid until spf_walk_free.  -1 when
 * memory ran out during the walk.
 */
int	spf_walk_results(struct spf_walk *, const struct spf_result **r,
	    size_t *nr, const struct spf_problem **p, size_t *np);

/* "dead", "loop", "deep", "limit", "error", "skipped", "temp", "timeout" */
const char	*spf_pkind_name(enum spf_pkind);

#endif /* NFS_SPF_H */
