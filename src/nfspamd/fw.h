/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fw: the firewall side of nfspamd, behind one interface so the kernel
 * backend (nftables sets) and the test backend ("none") are swappable.
 * The supervisor owns it; workers report to the supervisor.
 */
#ifndef NFSPAMD_FW_H
#define NFSPAMD_FW_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "greylist.h"
#include "log.h"

struct fw;

/*
 * "none": changes are logged (op=white, op=trap, op=sync), nothing else.
 * "nft": requests go to the netlink helper on helper_fd (fwproto), which
 * is checked to see all eight sets before fw_open returns.
 */
struct fw	*fw_open(const char *backend, int helper_fd,
		    const struct grey_conf *, struct logger *, char *err,
		    size_t errlen);
void		 fw_close(struct fw *);

/*
 * An address became WHITE or TRAPPED: into the set now, until expire.
 * For WHITE, the element is the address's -N network (grey_net).
 */
int		 fw_white(struct fw *, const struct addr *, int64_t expire,
		    int64_t now);
int		 fw_trap(struct fw *, const struct addr *, int64_t expire,
		    int64_t now);
/* After a scan: make the sets equal to what the store says. */
int		 fw_sync(struct fw *, const struct greylist_scan *,
		    int64_t now);
/*
 * Its counters in Prometheus' format (none for "none"), and the
 * ruleset's counters of its verdicts, read through the helper at most
 * once a second (those the ruleset lacks are left out).  -1: memory.
 */
int		 fw_metrics(struct fw *, struct buf *);

#endif
