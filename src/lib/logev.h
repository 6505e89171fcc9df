/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * logev: what nfspamlogd makes of the packets nftables logs to it, and
 * how a burst of them is merged into one update per address.
 *
 * The ruleset (nft/nfspamd.nft) logs the opening SYN of SMTP
 * connections with prefix "nfspamd-in" (a whitelisted sender reaching
 * our MTA: its source is refreshed) or "nfspamd-out" (our MTA mailing a
 * peer: its destination is whitelisted, as spamlogd does without -I).
 * An inbound SYN also tells the sender's operating system (osf.h).
 * Pure: bytes in, a decision out; no sockets, no clock.
 */
#ifndef NFS_LOGEV_H
#define NFS_LOGEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "osf.h"

#define LOGEV_PREFIX_IN		"nfspamd-in"
#define LOGEV_PREFIX_OUT	"nfspamd-out"

/*
 * Bytes of each packet the kernel needs to copy: the whole SYN, for its
 * fingerprint.  An IPv4 header with options (60) or an IPv6 one with a
 * few extension headers, then a TCP header with options (60).
 */
#define LOGEV_COPY_RANGE	160

enum logev_kind {
	LOGEV_IN,		/* refresh the source */
	LOGEV_OUT,		/* whitelist the destination */
	LOGEV_NOPREFIX,		/* not one of our prefixes: someone else's */
	LOGEV_BADPACKET,	/* too short, not IPv4/IPv6, family mismatch */
	LOGEV_BADADDR,		/* unspecified, loopback, multicast, mapped */
	LOGEV_INONLY,		/* outbound, and -I says inbound only */
	LOGEV_NKINDS
};

/* "in", "out", "prefix", "packet", "address", "inbound-only" */
const char	*logev_kind_name(enum logev_kind);

/*
 * Decide for one logged packet.  prefix is the log prefix (NULL when the
 * rule set none), payload the start of its network header as copied by
 * the kernel, family the NFLOG header's protocol family (2 for IPv4, 10
 * for IPv6, 0 when unknown); it must agree with the header's version.
 * The address to whitelist goes to *out for LOGEV_IN and LOGEV_OUT.
 */
enum logev_kind	logev_parse(const char *prefix, const uint8_t *payload,
		    size_t len, int family, bool inbound_only,
		    struct addr *out);

/*
 * The operating system of the sender of a LOGEV_IN event, from its SYN
 * (payload as for logev_parse): NULL when db is empty, the packet is no
 * SYN or is cut short, or no fingerprint matches.  Always NULL for
 * other kinds: an outbound SYN is our own MTA's.
 */
const struct osf_fp *logev_os(const struct osf_db *db, enum logev_kind,
		    const uint8_t *payload, size_t len);

/*
 * A burst: the distinct addresses of the events read in one go, each with
 * how many events named it.  Fixed capacity, allocated once; adding and
 * resetting never allocate.
 */
struct logev_ent {
	struct addr	addr;
	uint32_t	count;
	uint8_t		dirs;	/* 1 << LOGEV_IN | 1 << LOGEV_OUT */
	uint32_t	slot;	/* where the hash has it */
	const struct osf_fp *os;	/* the last one known, or NULL */
};

struct logev_burst {
	struct logev_ent	*ent;
	size_t			 n, cap;
	uint32_t		*slot;	/* hash: index + 1, 0 empty */
	size_t			 nslot;	/* power of two, >= 2 * cap */
};

/* -1 when memory runs out or cap is 0 or absurd. */
int	logev_burst_init(struct logev_burst *, size_t cap);
void	logev_burst_free(struct logev_burst *);
/* Forget the entries (keeps the memory). */
void	logev_burst_reset(struct logev_burst *);
/*
 * Count one event (LOGEV_IN or LOGEV_OUT) for addr, with the sender's
 * fingerprint when logev_os found one (NULL leaves an earlier one): 1 a
 * new address, 0 merged with an earlier one, -1 full (nothing changed;
 * apply the burst, reset, add again).
 */
int	logev_burst_add(struct logev_burst *, const struct addr *,
	    enum logev_kind dir, const struct osf_fp *os);

#endif
