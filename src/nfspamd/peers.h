/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * peers: nfspamd's sync with other MX hosts, in spamd's protocol
 * (src/lib/sync).  The supervisor sends what its workers report (GREY for
 * each local tuple update, TRAPPED for each trap) to the -Y targets, and
 * applies what arrives on -y: GREY as a tuple update that is not sent on
 * and is not subject to the low-priority-MX rule, WHITE and TRAPPED as
 * spamd's twupdate.  Changes reach the kernel sets as local ones do.
 * The catch-up channel (catchupd.h) fills in what UDP lost.
 */
#ifndef NFSPAMD_PEERS_H
#define NFSPAMD_PEERS_H

#include <stdint.h>
#include <uv.h>

#include "addr.h"
#include "buf.h"
#include "fw.h"
#include "log.h"
#include "nfspamd.h"
#include "store.h"

struct peers;

/*
 * Nothing to do (NULL) without -Y, -y and --catchup-peer.  rescan: a
 * scan now, after a catch-up (catchupd.h).  -1 with err.
 */
int	peers_open(struct peers **, uv_loop_t *, const struct conf *,
	    struct store *, struct fw *, struct logger *,
	    void (*rescan)(void *), void *rescan_arg, char *err,
	    size_t errlen);
void	peers_close(struct peers *);
void	peers_grey(struct peers *, const struct addr *, const char *helo,
	    const char *from, const char *to, int64_t now);
void	peers_trapped(struct peers *, const struct addr *, int64_t expire,
	    int64_t now);
/* Re-read alloweddomains (SIGHUP), which received GREY obeys. */
void	peers_reload(struct peers *);
void	peers_log_stats(struct peers *);
/* Its counters in Prometheus' format (nothing for NULL).  -1: memory. */
int	peers_metrics(const struct peers *, struct buf *);

#endif
