/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * syncsend: spamd sync messages out to -Y targets (UDP, unicast or the
 * multicast group 224.0.1.240 on an interface), for nfspamd and
 * nfspamlogd.
 */
#ifndef NFSPAMD_SYNCSEND_H
#define NFSPAMD_SYNCSEND_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"
#include "sync.h"

#define SYNCSEND_MAXTARGETS	16

struct syncsend;

/*
 * Resolve the targets ("host[:port]", "[v6][:port]", "interface[:ttl]");
 * messages are signed with key (sync_key_load).  -1 with err naming the
 * target.
 */
int	syncsend_open(struct syncsend **, const char *const *targets,
	    size_t n, const struct sync_key *key, struct logger *, char *err,
	    size_t errlen);
void	syncsend_close(struct syncsend *);
/* One message to every target; failures are counted. */
void	syncsend_msg(struct syncsend *, const struct sync_msg *);
void	syncsend_counts(const struct syncsend *, uint64_t *sent,
	    uint64_t *errors);

#endif
