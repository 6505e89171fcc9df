/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * ctl: asking the running nfspamd for its totals since start, on its
 * control socket.  See ctl.c.
 */
#ifndef NFSPAMDB_CTL_H
#define NFSPAMDB_CTL_H

#include <stdbool.h>

#include "stats.h"

#define CTL_WHYLEN	512

/* What nfspamd said, or why it said nothing. */
struct ctl_answer {
	bool			ok;
	struct stats_totals	tot;
	char			why[CTL_WHYLEN];	/* when not ok */
};

void	ctl_totals(const char *path, struct ctl_answer *);

#endif
