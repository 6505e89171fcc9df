/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * expose: --metrics-file, a run of nfspamd-setup for node_exporter's
 * textfile collector, and setup.history in --db, which keeps what the
 * file must remember from one run to the next: when each list last
 * succeeded and last failed, and its entries.
 */
#ifndef NFS_SETUP_EXPOSE_H
#define NFS_SETUP_EXPOSE_H

#include <stdbool.h>

#include "nfspamd-setup.h"

/*
 * At the end of a run, under the lock: update the history and write the
 * file.  conf_ok false: spamd.conf could not be used, and the lists are
 * the history's.  A history or a file that cannot be written is logged
 * and counted in x->failed.
 */
void	expose_write(struct ctx *x, bool conf_ok);

#endif /* NFS_SETUP_EXPOSE_H */
