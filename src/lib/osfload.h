/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * osfload: the fingerprints of an osf_db into the kernel's
 * nfnetlink_osf, as iptables' nfnl_osf does, so that nft's "osf"
 * expression knows them.  Needs CAP_NET_ADMIN.  The kernel's list is one
 * for the whole machine, not per network namespace, and skips a
 * fingerprint it holds already: loading again at every start is safe.
 */
#ifndef NFS_OSFLOAD_H
#define NFS_OSFLOAD_H

#include <stddef.h>

#include "osf.h"

/*
 * 0, with *sent the fingerprints handed over (those the kernel cannot
 * take, a '*' size, are skipped and counted in *skipped); -1 with the
 * reason in err, e.g. no permission or no nfnetlink_osf in the kernel.
 */
int	osf_kernel_load(const struct osf_db *, size_t *sent, size_t *skipped,
	    char *err, size_t errlen);

#endif
