/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * resolver: asynchronous DNS lookups over libunbound, for any event
 * loop or none.
 *
 * The caller owns the loop.  It watches resolver_fd for readability
 * (poll(2), or uv_poll_start with UV_READABLE from a libuv loop) and
 * calls resolver_process when it is readable; that runs the callbacks of
 * the answers that arrived, in the caller's thread.  libunbound resolves
 * on a thread of its own, started at the first query.
 *
 * libunbound has no timeout per query (it gives up by itself only after
 * its own retries, which can take minutes), so the caller keeps each
 * query's deadline and calls resolver_cancel when it passes: the
 * callback of a cancelled query never runs.  resolver_free cancels
 * whatever is still pending, without callbacks.
 *
 * Servers: the forwarders given ("ADDR" or "ADDR@PORT", IPv4 or IPv6,
 * port 53 by default), all asked with recursion desired; with none,
 * the nameservers of /etc/resolv.conf, and the names of /etc/hosts
 * answered from there.  No DNSSEC validation: the answers carry no
 * trust that the servers' do not.
 *
 * Nothing here is global: two resolvers in one process are independent.
 */
#ifndef NFS_RESOLVER_H
#define NFS_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#define RESOLVER_FWDMAX		16	/* forwarders one resolver takes */

/* Query types (RFC 1035, RFC 3596). */
#define RESOLVER_A		1
#define RESOLVER_MX		15
#define RESOLVER_TXT		16
#define RESOLVER_AAAA		28

enum resolver_status {
	RESOLVER_OK,		/* an answer: records, or none (NODATA) */
	RESOLVER_NXDOMAIN,	/* the name does not exist */
	RESOLVER_SERVFAIL,	/* the servers failed, or refused */
	RESOLVER_ERROR		/* libunbound failed; why says how */
};

/* One record of the answer's RRset. */
struct resolver_rr {
	const uint8_t	*rdata;		/* as on the wire, names uncompressed */
	size_t		 len;
	/*
	 * TXT only: the character-strings joined, as RFC 7208 3.3 reads
	 * them (no separator), NUL-terminated; may hold NUL bytes, so
	 * textlen counts.  NULL for other types or when the rdata is
	 * malformed.
	 */
	const char	*text;
	size_t		 textlen;
};

struct resolver_answer {
	const char		*name;	/* as queried */
	int			 type;
	enum resolver_status	 status;
	int			 rcode;	/* the DNS RCODE (0 NOERROR, 2, 3, 5) */
	uint32_t		 ttl;	/* of the RRset, or of the negative
					   answer; 0 when unknown */
	const struct resolver_rr *rr;
	size_t			 n;
	const char		*why;	/* RESOLVER_ERROR, else NULL */
};

/*
 * Called from resolver_process once per query that was neither
 * cancelled nor freed.  The answer and everything it points at live
 * only during the call.
 */
typedef void	(*resolver_cb)(void *arg, const struct resolver_answer *);

struct resolver;

/*
 * Check one --resolver value: "ADDR" or "ADDR@PORT".  0, or -1 with err
 * naming the value ("--resolver 192.0.2.1@x: bad port").
 */
int	resolver_check_fwd(const char *spec, char *err, size_t errlen);

/*
 * A resolver asking the nfwd forwarders (each checked as above), or
 * with nfwd 0 the system's configuration.  -1 with err on failure.
 */
int	resolver_new(struct resolver **, const char *const *fwd, size_t nfwd,
	    char *err, size_t errlen);
/* Cancels every pending query; their callbacks never run. */
void	resolver_free(struct resolver *);

/* Readable when resolver_process has answers to deliver. */
int	resolver_fd(const struct resolver *);

/*
 * Start a lookup of name (class IN, type as above).  *id names it for
 * resolver_cancel.  0, or -1 with err (then cb never runs).
 */
int	resolver_query(struct resolver *, const char *name, int type,
	    resolver_cb cb, void *arg, int *id, char *err, size_t errlen);

/* Forget a pending query: its callback will not run. */
void	resolver_cancel(struct resolver *, int id);

/*
 * Deliver the answers that have arrived (never blocks).  0, or -1 with
 * err when libunbound failed; the pending queries then stay pending.
 */
int	resolver_process(struct resolver *, char *err, size_t errlen);

/* Queries started and neither answered nor cancelled. */
size_t	resolver_pending(const struct resolver *);

#endif /* NFS_RESOLVER_H */
