/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * buf: a growable byte buffer for replies and control data.
 * The owner frees it; a zeroed struct is an empty buffer.
 */
#ifndef NFS_BUF_H
#define NFS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* -1 (buffer unchanged) when memory runs out. */
int	buf_append(struct buf *, const void *, size_t);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drop n bytes from the front. */
void	buf_consume(struct buf *, size_t n);
void	buf_reset(struct buf *);	/* len 0, memory kept */
void	buf_free(struct buf *);		/* memory released, back to empty */

#endif
