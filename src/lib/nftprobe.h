/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nftprobe: what the running kernel checks, asked once per socket with a
 * batch that can only abort, so that the ruleset is never changed.
 */
#ifndef NFS_NFTPROBE_H
#define NFS_NFTPROBE_H

#include <stdbool.h>

#include "nftint.h"

/*
 * Does the kernel refuse, with ENOENT, to delete a start and an end
 * element that do not bound one interval (Linux 6.19, 6.18.y)?  An
 * answer that is not clear counts as no, and is asked again next time.
 */
bool	probe_interval_deletes(struct nftset *);

#endif
