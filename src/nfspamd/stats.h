/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * stats: the workers' counters, on the page the supervisor shares with
 * them (struct share, after the fsync clocks).  Each worker writes only
 * its own slot, with relaxed atomic loads and stores (one writer: an
 * increment is a load, an add and a store, no locked instruction); the
 * supervisor reads every slot when it renders the metrics and adds them
 * up.  A restarted worker goes on counting in the slot of its id, so
 * counters only ever grow while the daemon runs.
 */
#ifndef NFSPAMD_STATS_H
#define NFSPAMD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "nfspamd.h"

#define NFSPAMD_MAXWORKERS	64
#define WS_LISTS		32	/* blacklists counted by name */
#define WS_LISTNAME		48
#define WS_OSES			32	/* OS genres counted by name */

/* What a connection was when it was accepted. */
enum ws_class {
	WS_GREY,		/* neither listed nor known */
	WS_BLACK,		/* on a blacklist */
	WS_TRAPPED,		/* TRAPPED in the database */
	WS_WHITE,		/* WHITE in the database, yet diverted here */
	WS_NCLASS
};

enum ws_counter {
	WS_ACCEPTED,				/* + enum ws_class */
	WS_CLOSED = WS_ACCEPTED + WS_NCLASS,	/* + enum ws_class */
	WS_REFUSED_MAXCON = WS_CLOSED + WS_NCLASS,
	WS_GREY_NEW,		/* a new tuple greylisted */
	WS_GREY_AGAIN,		/* a known tuple retried too early */
	WS_PASSED,
	WS_TRAP_SPAMTRAP,
	WS_TRAP_DOMAINS,	/* alloweddomains */
	WS_TRAP_LOWPRIO,	/* -M */
	WS_SKIPPED,		/* key too long */
	WS_CAPPED,		/* --max-tuples-per-ip */
	WS_LOST,		/* store errors, map full */
	WS_BLACK_OTHER,		/* blacklisted, list beyond WS_LISTS */
	WS_STUTTER_BYTES,
	WS_STUTTER_MS,
	WS_TLS_OK,
	WS_TLS_FAILED,
	WS_COMMITS,
	WS_COMMIT_US,		/* sum of the commits' latencies */
	WS_FSYNCS,
	WS_FSYNCS_SPARED,
	WS_WAITED_S,		/* sum of passed senders' waits */
	WS_REP_NEUTRAL,		/* --dnsrep verdicts, cached ones too */
	WS_REP_TRUSTED,
	WS_REP_LISTED,
	WS_REP_UNKNOWN,		/* timeout or failure, greylisted */
	WS_REP_CACHED,		/* verdicts from the cache */
	WS_REP_TIMEOUTS,	/* lookups cut short by the deadline */
	WS_REP_QUERIES,		/* DNS queries sent */
	WS_REP_WAIT_MS,		/* banners held for a verdict */
	WS_OS_UNKNOWN,		/* fingerprinting found no match */
	WS_OS_OTHER,		/* a genre beyond WS_OSES */
	WS_PROXY_OK,		/* --proxy-from: a header named the client */
	WS_PROXY_LOCAL,		/* LOCAL or UNKNOWN: the proxy's kept */
	WS_PROXY_ERROR,		/* refused, or cut short by the proxy */
	WS_PROXY_TIMEOUT,	/* no whole header in time */
	WS_N
};

/* Histogram buckets (upper bounds): commit latency, in seconds. */
#define WS_COMMIT_BOUNDS \
	{ 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, \
	  0.05, 0.1, 0.25, 1 }
#define WS_NCOMMIT	12
/* How long a passed sender waited since its first attempt, seconds. */
#define WS_WAITED_BOUNDS \
	{ 300, 900, 1500, 1800, 2400, 3600, 7200, 14400, 28800, \
	  86400 }
#define WS_NWAITED	10

struct ws_list {
	char			 name[WS_LISTNAME];
	_Atomic uint64_t	 n;
};

struct wstats {
	_Atomic uint64_t	 c[WS_N];
	_Atomic uint64_t	 commit[WS_NCOMMIT + 1];
	_Atomic uint64_t	 waited[WS_NWAITED + 1];
	_Atomic uint32_t	 nlists;	/* names published */
	struct ws_list		 lists[WS_LISTS];
	_Atomic uint32_t	 noses;		/* the same for OS genres */
	struct ws_list		 oses[WS_OSES];
} __attribute__((aligned(64)));

/* The memfd the supervisor makes: fsync clocks, then the counters. */
struct share {
	struct syncshare	 sync;
	struct wstats		 w[NFSPAMD_MAXWORKERS];
};

static inline void
ws_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_store_explicit(v, atomic_load_explicit(v,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t
ws_get(const _Atomic uint64_t *v)
{
	return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)v,
	    memory_order_relaxed);
}

#endif
