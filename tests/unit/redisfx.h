/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * A real redis-server for the store's tests: one per test program, on a
 * Unix socket in a directory of its own, without persistence.
 */
#ifndef NFS_REDISFX_H
#define NFS_REDISFX_H

#include <stdbool.h>
#include <sys/types.h>

struct redisfx {
	char	dir[64];
	char	url[160];	/* unix:<dir>/redis.sock */
	pid_t	pid;
};

/* false: no redis-server here (the caller skips), or it did not start. */
bool	redisfx_start(struct redisfx *);
/* Empty its database (between tests).  -1 on failure. */
int	redisfx_flush(const struct redisfx *);
void	redisfx_stop(struct redisfx *);

#endif
