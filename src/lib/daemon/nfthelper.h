/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * nfthelper: the only nfspamd process with CAP_NET_ADMIN.  It serves
 * fwproto requests for the nfspamd sets, and reads the named counters of
 * the nfspamd table, on one socket and nothing else.
 */
#ifndef NFSPAMD_NFTHELPER_H
#define NFSPAMD_NFTHELPER_H

#include <sys/types.h>

#include <stdbool.h>

#include "log.h"
#include "priv.h"

/*
 * Runs until the socket closes; returns the exit status.  genpath: the
 * shared record of nfspamd's commits (nftgen.h), NULL for none.
 */
int	nfthelper_main(int fd, const struct priv_user *, struct logger *,
	    const char *genpath);

/*
 * Fork the helper for the database in db (its commit record lives
 * there), before the caller drops its own privileges.  The caller's end
 * of the socket goes in *fd; the helper's pid, or -1 (logged).
 */
pid_t	nfthelper_spawn(const struct priv_user *, struct logger *,
	    const char *db, int *fd);

/*
 * A daemon's privilege split, run as root once u is looked up: an
 * unknown user is an error (priv_check_user); the helper is forked when
 * want_helper, before anything else is open (*pid, *fd; otherwise they
 * are left alone); as_root(arg), when not NULL, does what still needs
 * root; then every privilege is dropped.  0, or -1 with the reason
 * logged.
 */
int	nfthelper_split(const struct priv_user *u, struct logger *,
	    const char *db, bool want_helper, pid_t *pid, int *fd,
	    int (*as_root)(void *), void *arg);

#endif
