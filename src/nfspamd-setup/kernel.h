/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * kernel: the nft sets nfspamd-setup owns and the state of its last
 * run.  -b loads the union of the black lists into spamd/spamd6, as a
 * difference against the last load when the state file says what that
 * was; the nospamd file goes into nospamd/nospamd6, whole, or, with
 * :nospamd: white lists in spamd.conf, together with their prefixes and
 * as a difference against the last load (NOSPAMD_STATE keeps it and
 * each list's prefixes, which a list that fails keeps).  Each commit
 * is recorded in nft.gen as nfspamd's own, so that nfspamd keeps
 * applying differences.  With -n the sets' contents go to stdout and
 * nothing is written.
 */
#ifndef NFS_SETUP_KERNEL_H
#define NFS_SETUP_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "nfspamd-setup.h"

/*
 * Replace dir/name with data: a temporary file, fsync, rename, fsync of
 * the directory, so a crash leaves the old file or the new.  -1 with err.
 */
int	write_atomic(const char *dir, const char *name, const void *data,
	    size_t len, char *err, size_t errlen);

/* Read the state file into x->prev; x->prev_ok says whether it could be. */
void	state_load(struct ctx *x);

/*
 * What nfspamd and the sets hold of our lists after this run: a list
 * fetched now has its new prefixes; one that failed keeps its record; a
 * list gone from spamd.conf is dropped once nfspamd took the clear
 * (sent: the control text was delivered).  The prefixes are kept only
 * for -b.  Returns 0, or -1 when memory runs out.
 */
int	next_state(struct ctx *x, struct setup_state *next, bool sent);

/* Write next to the state file: 0, or -1 logged. */
int	state_save(struct ctx *x, const struct setup_state *next);

/* -b: load the union into spamd/spamd6; next->kernel says if it took. */
void	kernel_load(struct ctx *x, struct setup_state *next);

/*
 * The nospamd file into nospamd/nospamd6, when there is one; with
 * :nospamd: lists, the file (missing: empty) and the lists' prefixes.
 */
void	nospamd_load(struct ctx *x);

/* Close what kernel_load and nospamd_load opened. */
void	kernel_close(struct ctx *x);

#endif /* NFS_SETUP_KERNEL_H */
