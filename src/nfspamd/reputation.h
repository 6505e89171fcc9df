/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * reputation: --dnsrep in a worker.  At accept a grey client's address
 * is looked up in the configured DNSBL and DNSWL zones (src/lib/dnsrep
 * decides, src/lib/daemon/resolver asks); its banner waits for the
 * verdict, the file's timeout at most.  Listed: served as blacklisted
 * under the list "dnsrep".  Trusted: WHITE in the database, reported to
 * the supervisor as a pass is, and served as a white client.  Neutral,
 * or no verdict in time: greylisted as usual.
 */
#ifndef NFS_REPUTATION_H
#define NFS_REPUTATION_H

#include <stdbool.h>

#include "log.h"
#include "nfspamd.h"

#define REP_LIST	"dnsrep"	/* the list name of a listed client */

struct worker;
struct conn;
struct rep;

/* The supervisor, once, as the user workers run as: the file loads. */
int	rep_check(const struct conf *, struct logger *);

/* A worker's: the file, the cache, the resolver.  -1: logged. */
int	rep_open(struct worker *, struct rep **);
/* After the loop closed its handles. */
void	rep_free(struct rep *);

/*
 * A classified connection: true when its banner waits for a lookup
 * (worker_greet follows the verdict); false when it may be greeted now
 * (no lookup wanted, or a cached verdict, applied already).
 */
bool	rep_start(struct conn *);
/* c closes while its lookup runs: the lookup is dropped, now. */
void	rep_abandon(struct conn *);

#endif
