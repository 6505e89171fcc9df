/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The nfspamd authors */
/*
 * fetch: one spamd.conf list's bytes, whatever the method, gunzipped
 * when they arrive compressed.
 *
 * file: read by this process.  exec and http/https/ftp: a child process,
 * in a process group of its own, does the work and writes the bytes to a
 * pipe; when nfspamd-setup runs as root the child first becomes the
 * unprivileged user (spamd-setup runs ftp(1) as _spamd).  The parent
 * bounds the bytes (compressed and decompressed) and the time, and kills
 * the child's group when either runs out.
 */
#ifndef NFS_SETUP_FETCH_H
#define NFS_SETUP_FETCH_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "spamdconf.h"

struct fetch_opts {
	bool		 drop;		/* become uid/gid in the child */
	uid_t		 uid;
	gid_t		 gid;
	const char	*user;		/* for messages */
	long		 timeout;	/* seconds for a whole fetch */
	long		 connect_timeout; /* seconds, http/https/ftp */
	size_t		 max;		/* bytes, before and after gunzip */
	const char	*cacert;	/* CA bundle for https, or NULL */
};

struct fetch_result {
	char		*data;		/* NUL-terminated; the caller frees */
	size_t		 len;
	size_t		 raw;		/* bytes as fetched */
	bool		 gzip;
	char		*where;		/* "https://host/path", the path, or
					   the command: for messages */
};

/* -1 with err set ("exited with status 3", "HTTP 404 ..."). */
int	fetch_list(const struct sdc_list *, const struct fetch_opts *,
	    struct fetch_result *, char *err, size_t errlen);
void	fetch_result_free(struct fetch_result *);

/* The URL or command line a list names (malloc'd). */
char	*fetch_where(const struct sdc_list *);

#endif
